"""Benchmark: memory of one process over many runs (it must stay flat).

Usage:
    python benchmarks/bench_memory.py [--runs 5000] [--every 500] [--scenario NAME] [--set PATH=VALUE ...]

Runs the scenario ``--runs`` times in this process, one seed after another, and prints the
resident set size every ``--every`` runs.  Mesa 3.3.1 keeps every model alive through
``mesa.Agent._ids`` unless the model is released; ``run_scenario`` releases it, so the figures
should not grow.  Figures go to docs/performance.md by hand; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from safsim import load_scenario, run_scenario
from safsim.runner import child_seeds


def rss_mb() -> float:
    """Current resident set size of this process in MB (Linux /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5000)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    scenario = load_scenario(args.scenario, args.overrides)
    seeds = child_seeds(scenario.seed, args.runs)
    t0 = time.perf_counter()
    print(f"scenario={scenario.name} horizon_steps={scenario.horizon_steps}")
    print("runs  rss_mb  seconds")
    for i, s in enumerate(seeds, start=1):
        run_scenario(scenario, s)
        if i == 1 or i % args.every == 0:
            print(f"{i:5d}  {rss_mb():6.1f}  {time.perf_counter() - t0:7.1f}", flush=True)


if __name__ == "__main__":
    main()
