"""Benchmark: the per-run speed targets of issue "Fast core", as min-of-N timings.

Usage:
    python benchmarks/bench_targets.py [--runs N] [--only baseline,national,lots]

Runs, after one warm-up run (imports, Numba's compiled kernels loaded or compiled):
    baseline: the bundled baseline (3 authorities, ~80 providers, 40 quarters);
    national: 300 authorities, ~8,000 providers, random peer network, 40 quarters (as
        ``bench_scaling.py --sizes 300``);
    lots: the baseline with ``commissioners.max_lot_gbp=10000`` (as ``bench_lots.py``).
Each is run N times (different seeds) and the minimum and median wall-clock and CPU
(process) seconds are printed with the machine's load average: on a shared machine the
minimum is the figure least disturbed by other work.  Load-independent instruction counts:
``bench_instructions.py`` under callgrind.  Figures go to docs/performance.md by hand;
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from safsim import load_scenario, run_scenario
from safsim.runner import child_seeds

NATIONAL = {
    "field.n_authorities": 300,
    "field.peer_network": "random",
    "providers.sme_vso.count": 5000,
    "providers.large_charity.count": 800,
    "providers.corporate.count": 1200,
    "providers.social_enterprise.count": 1000,
}
CASES = {
    "baseline": {},
    "national": NATIONAL,
    "lots": {"commissioners.max_lot_gbp": 10_000.0},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default=",".join(CASES))
    args = ap.parse_args()
    run_scenario(load_scenario("baseline", {"horizon_steps": 2}), 1)  # warm-up
    for name in args.only.split(","):
        scenario = load_scenario("baseline", CASES[name])
        wall, cpu = [], []
        for seed in child_seeds(scenario.seed, args.runs):
            w0, c0 = time.perf_counter(), time.process_time()
            run_scenario(scenario, seed)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        print(
            f"{name}: {args.runs} runs, wall min {min(wall):.3f} s median {statistics.median(wall):.3f} s, "
            f"CPU min {min(cpu):.3f} s median {statistics.median(cpu):.3f} s, "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
