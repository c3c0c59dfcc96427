"""Benchmark: wall-clock time of one baseline run (3 authorities, ~80 providers, 40 steps).

Usage:
    python benchmarks/bench_baseline.py [--runs N] [--scenario NAME] [--set PATH=VALUE ...]

Prints the median, mean and spread of per-run seconds over N seeds on one core, plus a
profile of the slowest functions with --profile.  Results are recorded by hand in
docs/performance.md; nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import statistics
import time

import numpy as np

from safsim import load_scenario, run_scenario
from safsim.runner import child_seeds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario, args.overrides)
    seeds = child_seeds(scenario.seed, args.runs)
    run_scenario(scenario, seeds[0])  # warm-up: imports and first-call costs
    times = []
    for s in seeds:
        t0 = time.perf_counter()
        run_scenario(scenario, s)
        times.append(time.perf_counter() - t0)
    print(f"scenario={scenario.name} runs={args.runs} python={platform.python_version()} numpy={np.__version__}")
    print(
        f"per run: median {statistics.median(times):.4f} s, mean {statistics.mean(times):.4f} s, "
        f"min {min(times):.4f} s, max {max(times):.4f} s"
    )
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for s in seeds[:5]:
            run_scenario(scenario, s)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
