"""Starting the dashboard's web server (``safsim dashboard``); imports no UI code itself.

Objects:
    SCENARIO_ENV, SEED_ENV, RENDER_INTERVAL_ENV: environment variables the app reads at
        start-up (start scenario, seed, quarters advanced per redraw during Play).
    VIZ_MISSING: the one-line message shown when the ``viz`` extra is not installed.
    viz_missing(): that message if Solara or Mesa's visualization cannot be imported, else None.
    command(host, port): the ``solara run`` command line that serves ``safsim.dashboard.app``.
    environment(scenario, seed): the process environment for the server.
    serve(scenario, host, port, seed): run the server until it stops or Ctrl-C; returns its
        exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys

from safsim.dashboard.levers import DEFAULT_SEED

__all__ = [
    "RENDER_INTERVAL_ENV",
    "SCENARIO_ENV",
    "SEED_ENV",
    "VIZ_MISSING",
    "command",
    "environment",
    "serve",
    "viz_missing",
]

VIZ_MISSING = "the dashboard needs the viz extra: install safsim[viz] (pip install 'safsim[viz]')"
APP_MODULE = "safsim.dashboard.app"
# Read by safsim.dashboard.app at start-up: the scenario and seed to start from, and how many
# quarters Play advances per redraw.
SCENARIO_ENV = "SAFSIM_DASHBOARD_SCENARIO"
SEED_ENV = "SAFSIM_DASHBOARD_SEED"
RENDER_INTERVAL_ENV = "SAFSIM_DASHBOARD_RENDER_INTERVAL"


def viz_missing() -> str | None:
    """``VIZ_MISSING`` (with the missing module) if the viz extra cannot be imported, else None."""
    try:
        import solara  # noqa: F401
        from mesa.visualization import SolaraViz  # noqa: F401
    except ImportError as exc:
        return f"{VIZ_MISSING}; missing module: {exc.name or exc}"
    return None


def command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The server command line: ``python -m solara run safsim.dashboard.app`` in production mode."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--host",
        str(host),
        "--port",
        str(int(port)),
        "--production",
        "--no-open",
    ]


def environment(scenario: str = "baseline", seed: int = DEFAULT_SEED) -> dict[str, str]:
    """The server's environment: the start scenario and seed; Solara's telemetry and hook check off."""
    env = dict(os.environ)
    env[SCENARIO_ENV] = str(scenario)
    env[SEED_ENV] = str(int(seed))
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"  # a classroom server does not phone home
    # Mesa 3.3.1's ComponentsView calls a hook after an early return; Solara would warn at every start.
    env.setdefault("SOLARA_CHECK_HOOKS", "off")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def serve(scenario: str = "baseline", host: str = "127.0.0.1", port: int = 8765, seed: int = DEFAULT_SEED) -> int:
    """Serve the dashboard at ``http://HOST:PORT`` until the server stops or Ctrl-C.

    Returns:
        The server's exit status (0 after Ctrl-C).
    """
    print(f"safsim dashboard: http://{host}:{port} (scenario {scenario}, seed {seed}); Ctrl-C stops it", flush=True)
    proc = subprocess.Popen(command(host, port), env=environment(scenario, seed))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 0
