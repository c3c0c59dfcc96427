"""Benchmark: wall-clock time of many baseline replicates on 1 and more worker processes.

Usage:
    python benchmarks/bench_workers.py [--runs N] [--workers W [W ...]] [--scenario NAME] [--set PATH=VALUE ...]

Times ``run_replicates(load_scenario("baseline"), n=N, seed=3, workers=W)`` for each W
(default 1 and 2; N defaults to 400) and prints the wall time, runs per second and the
speed-up over the first W listed.  Each timing includes starting the worker processes.
Results are recorded by hand in docs/performance.md; nothing here is asserted in the test
suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from safsim import load_scenario, run_replicates, run_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    scenario = load_scenario(args.scenario, args.overrides)
    run_scenario(scenario, 1)  # warm-up: imports and first-call costs in this process
    print(
        f"scenario={scenario.name} runs={args.runs} cpus={os.cpu_count()} python={platform.python_version()} "
        f"numpy={np.__version__}"
    )
    print(f"{'workers':>7}  {'wall s':>8}  {'runs/s':>7}  {'speed-up':>8}")
    first: float | None = None
    for w in args.workers:
        t0 = time.perf_counter()
        run_replicates(scenario, n=args.runs, seed=3, workers=w)
        wall = time.perf_counter() - t0
        first = wall if first is None else first
        print(f"{w:>7}  {wall:>8.2f}  {args.runs / wall:>7.2f}  {first / wall:>7.2f}x")


if __name__ == "__main__":
    main()
