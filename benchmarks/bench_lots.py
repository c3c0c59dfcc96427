"""Benchmark: a baseline run with many small lots (the market-shaping lever taken far).

Usage:
    python benchmarks/bench_lots.py [--max-lot 10000] [--runs 3]

``commissioners.max_lot_gbp`` splits every service line into lots of at most that annual
value, so the number of tenders per quarter grows as the cap falls (about 3,450 a quarter at
10,000 against about 10 in the baseline).  Prints the seconds per run and the tenders per
quarter.  Figures go to docs/performance.md by hand; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

from safsim import load_scenario, run_scenario
from safsim.runner import child_seeds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-lot", type=float, default=10_000.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    scenario = load_scenario("baseline", {"commissioners.max_lot_gbp": args.max_lot})
    times, tenders = [], []
    for s in child_seeds(scenario.seed, args.runs):
        t0 = time.perf_counter()
        r = run_scenario(scenario, s)
        times.append(time.perf_counter() - t0)
        tenders.append(float(r.timeseries["tenders"].mean()))
    print(
        f"max_lot_gbp={args.max_lot:,.0f}: median {statistics.median(times):.2f} s per run, "
        f"{statistics.mean(tenders):,.0f} tenders per quarter"
    )


if __name__ == "__main__":
    main()
