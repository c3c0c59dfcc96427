"""Benchmark: N baseline runs after one warm-up, for instruction counts under callgrind.

Usage:
    valgrind --tool=callgrind --callgrind-out-file=cg.N python benchmarks/bench_instructions.py N
    valgrind --tool=callgrind --callgrind-out-file=cg.0 python benchmarks/bench_instructions.py 0

The instructions per run are (total of N - total of 0) / N: start-up, imports and the
warm-up run cancel out.  Instruction counts do not depend on what else the machine is doing,
so they compare revisions on a shared machine where wall-clock times are noisy.  Extra
arguments are ``--set``-style overrides (``commissioners.max_lot_gbp=10000``).
"""

from __future__ import annotations

import sys

from safsim import load_scenario, run_scenario
from safsim.runner import child_seeds


def main() -> None:
    n = int(sys.argv[1])
    scenario = load_scenario("baseline", sys.argv[2:])
    seeds = child_seeds(scenario.seed, n + 1)
    run_scenario(scenario, seeds[0])  # warm-up: imports, first calls, compiled kernels
    for seed in seeds[1:]:
        run_scenario(scenario, seed)


if __name__ == "__main__":
    main()
