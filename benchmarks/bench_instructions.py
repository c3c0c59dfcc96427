"""Benchmark: N baseline runs after one warm-up, for instruction counts under callgrind.

Usage:
    valgrind --tool=callgrind --callgrind-out-file=cg.N python benchmarks/bench_instructions.py N
    valgrind --tool=callgrind --callgrind-out-file=cg.0 python benchmarks/bench_instructions.py 0

The instructions per run are (total of N - total of 0) / N: start-up, imports and the
warm-up run cancel out.  Instruction counts do not depend on what else the machine is doing,
so they compare revisions on a shared machine where wall-clock times are noisy.  Extra
arguments are ``--set``-style overrides (``commissioners.max_lot_gbp=10000``).

Under valgrind Numba sees another CPU (``haswell`` with fewer features on the reference
machine) and compiles every kernel again (about 17 billion instructions of start-up).  To
load them from the cache instead, fill it first, natively, for that CPU: print valgrind's
CPU with ``valgrind python -c "import llvmlite.binding as ll; ll.initialize_native_target();
print(ll.get_host_cpu_name(), ll.get_host_cpu_features().flatten())"`` and run
``NUMBA_CPU_NAME=<name> NUMBA_CPU_FEATURES=<features> python benchmarks/bench_instructions.py 0``.
The per-run figure is the same either way (docs/performance.md, "Per-tender glue").
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
