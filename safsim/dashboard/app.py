"""The teaching dashboard: a Solara page built on Mesa's SolaraViz.

Objects:
    Page: the Solara page (``solara run safsim.dashboard.app``; ``safsim dashboard`` runs it).
    LeverPanel: sidebar card with the preset buttons, the seed and the levers.
    FieldCaption: the current field state, quarter, seed and a strategic-action-field caption.
    COMPONENTS: the SolaraViz components (four charts and the arena).
    PLAY_INTERVAL_MS, RENDER_INTERVAL: SolaraViz's play pause and steps per redraw defaults.

SolaraViz supplies Play / Step / Reset and re-creates ``DashboardModel`` on Reset; the levers
live in per-session reactive state and every change of a preset, the seed or a lever starts
a new run from quarter 0 at once.  Reset restarts the current levers and seed.
"""

from __future__ import annotations

import os

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from safsim.config import PROVIDER_KINDS
from safsim.dashboard.levers import (
    DEFAULT_SEED,
    ENGAGEMENT_LEVELS,
    PRESETS,
    DashboardModel,
    Levers,
    caption,
    levers_for,
)
from safsim.dashboard.server import RENDER_INTERVAL_ENV, SCENARIO_ENV, SEED_ENV
from safsim.dashboard.views import FIGURES
from safsim.plotting import KIND_LABELS

__all__ = [
    "COMPONENTS",
    "PLAY_INTERVAL_MS",
    "RENDER_INTERVAL",
    "FieldCaption",
    "LeverPanel",
    "Page",
]

# Drawing the five figures takes several times longer than a model step (docs/performance.md,
# "Dashboard"): Play redraws after every quarter (about one a second), and the Render Interval
# slider (1, 3, 5, ...) makes it skip redraws on slow machines.
PLAY_INTERVAL_MS = 50
RENDER_INTERVAL = int(os.environ.get(RENDER_INTERVAL_ENV, "1"))

_STATE_LABELS = {"settled": "Settled", "crisis": "Crisis", "resettlement": "Resettlement"}


def _start() -> tuple[Levers, int]:
    return levers_for(os.environ.get(SCENARIO_ENV, "baseline")), int(os.environ.get(SEED_ENV, DEFAULT_SEED))


@solara.component
def FieldCaption(model: DashboardModel) -> solara.Element:
    """The field state now, with what it means in strategic-action-field terms."""
    update_counter.get()  # redrawn whenever SolaraViz redraws its components
    state = model.field_state.value
    lv = model.levers
    return solara.Markdown(
        f"**Field state: {_STATE_LABELS[state]}** - quarter {model.steps} of {model.scenario.horizon_steps} - "
        f"scenario `{lv.scenario}` - seed {model.seed} - SV weight {lv.sv_weight:.0%} - "
        f"contention {model.contention:.2f}\n\n{caption(state)}",
        style={"padding": "0 16px"},
    )


def _figure_component(make):
    def View(model: DashboardModel) -> solara.Element:
        return solara.FigureMatplotlib(make(model), format="png")

    View.__name__ = f"{make.__name__}_view"
    return View


COMPONENTS = [*(_figure_component(f) for f in FIGURES.values())]


@solara.component
def LeverPanel(levers: solara.Reactive[Levers], seed: solara.Reactive[int], restart) -> solara.Element:
    """Preset buttons, the seed and the levers; any change restarts the run with it."""
    lv = levers.value

    def set_lever(name: str):
        def on_value(value) -> None:
            levers.value = levers.value.replace(**{name: value})
            restart()

        return on_value

    def preset(name: str):
        def on_click() -> None:
            levers.value = levers_for(name)
            restart()

        return on_click

    def set_seed(value: int | None) -> None:
        if value is not None and value >= 0:
            seed.value = int(value)
            restart()

    with solara.Card("Presets and levers") as card:
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            for label, name in PRESETS.items():
                solara.Button(label, on_click=preset(name), outlined=lv.scenario != name, color="primary", small=True)
        solara.InputInt("Seed", value=seed.value, on_value=set_seed, classes=["safsim-seed"])
        solara.SliderFloat(
            "Social value weight",
            value=lv.sv_weight,
            min=0.0,
            max=0.30,
            step=0.01,
            on_value=set_lever("sv_weight"),
        )
        solara.Text("Price and quality share the rest in the preset's proportion.", style={"font-size": "0.8em"})
        solara.Switch(label="Austerity (budget cut)", value=lv.austerity, on_value=set_lever("austerity"))
        solara.SliderFloat(
            "Austerity cut",
            value=lv.austerity_cut,
            min=0.0,
            max=0.5,
            step=0.05,
            on_value=set_lever("austerity_cut"),
            disabled=not lv.austerity,
        )
        solara.SliderInt(
            "Austerity starts (quarter)",
            value=lv.austerity_start,
            min=0,
            max=30,
            on_value=set_lever("austerity_start"),
            disabled=not lv.austerity,
        )
        solara.Select(
            "Engagement", values=list(ENGAGEMENT_LEVELS), value=lv.engagement, on_value=set_lever("engagement")
        )
        for label, name in (
            ("Commissioner social skill", "social_skill"),
            ("Understanding of social value", "sv_understanding"),
            ("Risk aversion", "risk_aversion"),
        ):
            solara.SliderFloat(label, value=getattr(lv, name), min=0.0, max=1.0, step=0.05, on_value=set_lever(name))
        for k in PROVIDER_KINDS:
            top = 100 if k.value == "sme_vso" else 40
            name = f"n_{k.value}"
            solara.SliderInt(KIND_LABELS[k.value], value=getattr(lv, name), min=0, max=top, on_value=set_lever(name))
        solara.Switch(label="Consortia allowed", value=lv.consortia, on_value=set_lever("consortia"))
    return card


@solara.component
def Page() -> solara.Element:
    """The dashboard page: the lever panel plus SolaraViz (controls, caption, charts, arena)."""
    start = solara.use_memo(_start, [])
    levers = solara.use_reactive(start[0])
    seed = solara.use_reactive(start[1])
    first = solara.use_memo(lambda: DashboardModel(start[0], seed=start[1]), [])
    model = solara.use_reactive(first)

    def settings() -> tuple[Levers, int]:
        return levers.value, seed.value

    def restart() -> None:
        old = model.value
        model.value = DashboardModel(settings=settings)
        old.release()

    with solara.Column(style={"width": "100%"}) as main:
        with solara.Sidebar():
            LeverPanel(levers, seed, restart)
        FieldCaption(model.value)
        SolaraViz(
            model,
            components=COMPONENTS,
            model_params={"settings": settings},
            name="safsim: incumbents and challengers in the commissioning field",
            play_interval=PLAY_INTERVAL_MS,
            render_interval=RENDER_INTERVAL,
        )
    return main
