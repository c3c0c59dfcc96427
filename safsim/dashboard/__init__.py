"""The teaching dashboard (``safsim dashboard``): the field live in the browser.

Objects (in submodules, so that importing this package needs neither Solara nor Mesa's
visualization):
    safsim.dashboard.levers: Levers, PRESETS, rebalance_weights, scenario_for, caption,
        DashboardModel (no UI imports).
    safsim.dashboard.views: the live charts and the arena as matplotlib figures.
    safsim.dashboard.app: the Solara page (Page) built on Mesa's SolaraViz; needs the
        ``viz`` extra (``pip install safsim[viz]``).
    safsim.dashboard.server: viz_missing(), command(), serve(): start the app server.
"""
