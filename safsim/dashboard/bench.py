"""Time per dashboard step, model and drawing, without a browser (docs/performance.md, "Dashboard").

Objects:
    time_steps(scenario, seed, steps): per-step seconds of ``model.step()`` and of drawing and
        PNG-encoding the five figures, as the server does for each redraw.
    main(argv): ``python -m safsim.dashboard.bench [SCENARIO ...]`` prints a table.
"""

from __future__ import annotations

import statistics
import sys
import time

from safsim.dashboard.levers import DEFAULT_SEED, DashboardModel, levers_for
from safsim.dashboard.views import render_all

__all__ = ["main", "time_steps"]


def time_steps(
    scenario: str = "baseline", seed: int = DEFAULT_SEED, steps: int = 40
) -> tuple[list[float], list[float]]:
    """Seconds per step of the model and of drawing all figures, over ``steps`` quarters."""
    model = DashboardModel(levers_for(scenario), seed=seed)
    render_all(model)  # warm-up: fonts and caches
    model_s, draw_s = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        render_all(model)
        t2 = time.perf_counter()
        model_s.append(t1 - t0)
        draw_s.append(t2 - t1)
    return model_s, draw_s


def main(argv: list[str] | None = None) -> int:
    """Print the median and 90th percentile of model and drawing time per step."""
    names = list(sys.argv[1:] if argv is None else argv) or ["baseline", "case_a", "case_b", "case_c"]
    print(f"{'scenario':<10} {'model ms (median)':>18} {'draw ms (median)':>17} {'draw ms (p90)':>14}")
    for name in names:
        model_s, draw_s = time_steps(name)
        p90 = statistics.quantiles(draw_s, n=10)[-1]
        print(
            f"{name:<10} {1000 * statistics.median(model_s):>18.1f} {1000 * statistics.median(draw_s):>17.0f} {1000 * p90:>14.0f}"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
