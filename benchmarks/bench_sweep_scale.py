"""Benchmark: ``safsim sweep`` at scale: 1 against 2 workers, and peak memory over 1,000 and 10,000 runs.

Usage:
    python benchmarks/bench_sweep_scale.py workers [--runs 1000] [--workers 1 2] [--quick] [--save]
    python benchmarks/bench_sweep_scale.py memory [--runs 1000 10000] [--workers 2] [--quick] [--save]

Each measurement is the command a user types,
``safsim sweep benchmarks/baseline_sweep.yaml --workers W --set replicates=N --out DIR --quiet``
(processes backend; baseline replicates, end-of-run outcomes only), measured from outside by
``benchmarks/measure.py`` (wall time, CPU time and peak resident memory summed over the process
tree, load average before and after). ``workers`` prints the speed-up of the last worker count
over the first (target: 2 workers at least 1.85x as fast as 1); ``memory`` prints the peak
memory of each run count against the first (target: 10,000 runs within 20% of 1,000) and the
wall time of the largest (target: 10,000 runs in under 3 minutes on 2 cores). ``--quick`` runs
20 and 200 runs. Nothing here is asserted in the test suite; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import Measurement, measure, print_table, write_results  # noqa: E402  (a sibling script)

EXPERIMENT = HERE / "baseline_sweep.yaml"


def _safsim_command() -> list[str]:
    exe = Path(sys.executable).with_name("safsim")
    return [str(exe)] if exe.exists() else [shutil.which("safsim") or "safsim"]


def sweep(runs: int, workers: int) -> Measurement:
    """Measure one ``safsim sweep`` of ``runs`` baseline replicates on ``workers`` processes."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        cmd = [*_safsim_command(), "sweep", str(EXPERIMENT), "--workers", str(workers)]
        cmd += ["--set", f"replicates={runs}", "--out", str(Path(tmp) / "out"), "--quiet"]
        return measure(cmd, label=f"safsim sweep, {workers} worker{'s' if workers > 1 else ''}", runs=runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["workers", "memory"])
    ap.add_argument("--runs", type=int, nargs="+", help="workers: one count (1000); memory: counts (1000 10000)")
    ap.add_argument("--workers", type=int, nargs="+", help="workers: counts (1 2); memory: one count (2)")
    ap.add_argument("--quick", action="store_true", help="20 runs (workers) or 20 and 200 runs (memory)")
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/sweep_<what>_<runs>.{json,csv}")
    args = ap.parse_args(argv)
    if args.what == "workers":
        runs = [20] if args.quick else (args.runs or [1000])[:1]
        workers = args.workers or [1, 2]
    else:
        runs = [20, 200] if args.quick else (args.runs or [1000, 10000])
        workers = (args.workers or [2])[:1]
    print(f"{args.what}: runs={runs} workers={workers} cpus={os.cpu_count()} python={platform.python_version()}")
    rows = [sweep(n, w) for n in runs for w in workers]
    print_table(rows)
    first, last = rows[0], rows[-1]
    if args.what == "workers":
        print(
            f"{last.label} vs {first.label}: {first.wall_s / last.wall_s:.2f}x as fast (wall; target at least "
            f"1.85x); CPU {first.cpu_s:.1f} s vs {last.cpu_s:.1f} s"
        )
    else:
        for m in rows[1:]:
            print(
                f"peak memory, {m.runs} runs vs {first.runs}: RSS {m.peak_rss_mb / first.peak_rss_mb - 1:+.1%}, "
                f"PSS {m.peak_pss_mb / first.peak_pss_mb - 1:+.1%} (target within 20%)"
            )
        print(f"{last.runs} runs: {last.wall_s:.1f} s wall ({last.wall_s / 60:.2f} min; target under 3 min)")
    if args.save:
        path = HERE / "results" / f"sweep_{args.what}_{'_'.join(map(str, runs))}.json"
        write_results(
            rows, path, {"what": args.what, "runs": runs, "workers": workers, "date": time.strftime("%Y-%m-%d")}
        )
        print(f"wrote {path.with_suffix('.json')} and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
