"""Benchmark: ``safsim sweep`` at scale: 1 against 2 workers, and peak memory over 1,000 and 10,000 runs.

Usage:
    python benchmarks/bench_sweep_scale.py workers [--runs 1000] [--workers 1 2] [--quick] [--save]
    python benchmarks/bench_sweep_scale.py memory [--runs 1000 10000] [--workers 2] [--timeseries] [--small] [--stub] [--quick] [--save]

Each measurement is the command a user types,
``safsim sweep benchmarks/baseline_sweep.yaml --workers W --set replicates=N --out DIR --quiet``
(processes backend; baseline replicates, end-of-run outcomes only), measured from outside by
``benchmarks/measure.py`` (wall time, CPU time and peak resident memory summed over the process
tree, load average before and after). ``workers`` prints the speed-up of the last worker count
over the first (target: 2 workers at least 1.85x as fast as 1); ``memory`` prints the peak
memory of each run count against the first (target: 10,000 runs within 20% of 1,000) and the
wall time of the largest (target: 10,000 runs in under 3 minutes on 2 cores). ``--quick`` runs
20 and 200 runs. ``--timeseries`` records the per-step time series of every run as well
(``--set record.timeseries=true``), the table that grows with the number of runs. ``--small``
runs a small field instead of the baseline's (one authority, no warm-up:
``--set set.field.n_authorities=1 --set set.warmup_steps=0``), about 5x less CPU a run for the
same time series (40 rows of 30 columns a run), so that the sweep machinery's memory can be
measured over thousands of runs on a loaded machine. ``--stub`` (with ``--small``) measures the
sweep machinery alone: the workers' ``run_scenario`` is replaced (through a ``sitecustomize``
put first on the command's ``PYTHONPATH``) by one recorded small run returned with its time
series and outcomes multiplied by seeded noise (1 + N(0, 0.01)), so every chunk's tables have
the real shape and a realistic compressed size while a run costs milliseconds; the parent's
code is ``safsim sweep``'s own. The tables are not the model's.

The parent's own peak (``parent MB``, the sweep's main process alone, not its workers) is
exact, not sampled: the command is run through this script's ``_sweep`` entry
(``python bench_sweep_scale.py _sweep FILE SWEEP-ARGS...``), which calls ``safsim.cli.main``
and then writes the process's ``getrusage(RUSAGE_SELF).ru_maxrss`` (its high-water mark) to
FILE; apart from that it is ``safsim sweep`` itself. Nothing here is asserted in the test
suite; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

if TYPE_CHECKING:
    from measure import Measurement

EXPERIMENT = HERE / "baseline_sweep.yaml"


def _sweep_entry(argv: list[str]) -> int:
    """``_sweep FILE ARGS...``: ``safsim ARGS...``, then this process's peak RSS (MB) written to FILE."""
    import resource

    from safsim.cli import main as safsim_main

    status = safsim_main(argv[1:])
    Path(argv[0]).write_text(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6:.1f}\n")
    return int(status or 0)


_STUB_SITE = """\
import os
if os.environ.get("SAFSIM_BENCH_STUB"):
    import dataclasses, pickle
    import numpy as _np
    import safsim.runner as _runner
    with open(os.environ["SAFSIM_BENCH_STUB"], "rb") as _f:
        _BASE = pickle.load(_f)
    def _stub(scenario, seed, *, record_awards=False):
        rng = _np.random.default_rng(int(seed))
        ts = _BASE.timeseries.copy()
        for c in ts.columns:
            if ts[c].dtype.kind == "f":
                ts[c] = ts[c] * (1 + rng.normal(0, 0.01, len(ts)))
        out = {k: float(v) * (1 + rng.normal(0, 0.01)) for k, v in _BASE.outcomes.items()}
        return dataclasses.replace(_BASE, seed=int(seed), outcomes=out, timeseries=ts)
    _runner.run_scenario = _stub
    import safsim.experiments.sweep as _sweep
    _sweep.run_scenario = _stub
"""


def _stub_dir(tmp: Path, overrides: list[str]) -> Path:
    """A folder with the stub's sitecustomize.py and one recorded run (``run.pkl``) of the sweep's scenario.

    The run is recorded in a child process: the sweep command is started from this process, and
    a process's ``ru_maxrss`` starts from its parent's resident set at the fork and survives the
    exec, so running the model here (about 370 MB) would hide the parent's own peak.
    """
    import subprocess

    site = tmp / "stub"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_STUB_SITE)
    code = (
        "import pickle, sys\n"
        "from safsim.experiments.design import point_scenarios\n"
        "from safsim.experiments.experiment import load_experiment\n"
        "from safsim.runner import run_scenario\n"
        "exp = load_experiment(sys.argv[1], sys.argv[3:])\n"
        "open(sys.argv[2], 'wb').write(pickle.dumps(run_scenario(point_scenarios(exp)[0], 1)))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(EXPERIMENT), str(site / "run.pkl"), *overrides], check=True)
    return site


def sweep(
    runs: int, workers: int, *, timeseries: bool = False, small: bool = False, stub: bool = False
) -> tuple[Measurement, float]:
    """Measure one ``safsim sweep`` of ``runs`` baseline replicates on ``workers`` processes.

    Returns:
        The tree's measurement and the parent process's own peak RSS in MB.
    """
    from measure import measure  # a sibling script

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        peak_file = Path(tmp) / "parent_peak_mb"
        cmd = [sys.executable, str(Path(__file__).resolve()), "_sweep", str(peak_file)]
        cmd += ["sweep", str(EXPERIMENT), "--workers", str(workers)]
        cmd += ["--set", f"replicates={runs}", "--out", str(Path(tmp) / "out"), "--quiet"]
        if timeseries:
            cmd += ["--set", "record.timeseries=true"]
        if small:
            cmd += ["--set", "set.field.n_authorities=1", "--set", "set.warmup_steps=0"]
        label = f"safsim sweep, {workers} worker{'s' if workers > 1 else ''}"
        label += (", ts" if timeseries else "") + (", small" if small else "") + (", stub" if stub else "")
        saved = dict(os.environ)
        if stub:
            overrides = [c for prev, c in zip(cmd, cmd[1:], strict=False) if prev == "--set"]
            site = _stub_dir(Path(tmp), overrides)
            os.environ["SAFSIM_BENCH_STUB"] = str(site / "run.pkl")
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        try:
            m = measure(cmd, label=label, runs=runs)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return m, float(peak_file.read_text())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_sweep"]:
        return _sweep_entry(argv[1:])
    from measure import print_table, write_results  # a sibling script

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["workers", "memory"])
    ap.add_argument("--runs", type=int, nargs="+", help="workers: one count (1000); memory: counts (1000 10000)")
    ap.add_argument("--workers", type=int, nargs="+", help="workers: counts (1 2); memory: one count (2)")
    ap.add_argument("--timeseries", action="store_true", help="record every run's time series too")
    ap.add_argument("--small", action="store_true", help="a small field (1 authority, no warm-up) for cheaper runs")
    ap.add_argument(
        "--stub", action="store_true", help="workers return a recorded run with noise (the machinery alone)"
    )
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
    measured = [
        sweep(n, w, timeseries=args.timeseries, small=args.small, stub=args.stub) for n in runs for w in workers
    ]
    rows = [m for m, _ in measured]
    parents = [p for _, p in measured]
    print_table(rows)
    print("parent process peak RSS (MB, exact): " + ", ".join(f"{m.runs} runs {p:.1f}" for m, p in measured))
    first, last = rows[0], rows[-1]
    if args.what == "workers":
        print(
            f"{last.label} vs {first.label}: {first.wall_s / last.wall_s:.2f}x as fast (wall; target at least "
            f"1.85x); CPU {first.cpu_s:.1f} s vs {last.cpu_s:.1f} s"
        )
    else:
        for m, p in zip(rows[1:], parents[1:], strict=True):
            print(
                f"peak memory, {m.runs} runs vs {first.runs}: RSS {m.peak_rss_mb / first.peak_rss_mb - 1:+.1%}, "
                f"PSS {m.peak_pss_mb / first.peak_pss_mb - 1:+.1%}, parent {p / parents[0] - 1:+.1%} "
                "(target within 20%)"
            )
        print(f"{last.runs} runs: {last.wall_s:.1f} s wall ({last.wall_s / 60:.2f} min; target under 3 min)")
    if args.save:
        tag = f"sweep_{args.what}{'_ts' if args.timeseries else ''}{'_small' if args.small else ''}"
        tag += "_stub" if args.stub else ""
        tag += f"_{'_'.join(map(str, runs))}"
        path = HERE / "results" / f"{tag}.json"
        extra = {
            "what": args.what,
            "runs": runs,
            "workers": workers,
            "timeseries": args.timeseries,
            "small": args.small,
            "stub": args.stub,
        }
        extra |= {"date": time.strftime("%Y-%m-%d"), "parent_peak_rss_mb": parents}
        write_results(rows, path, extra)
        print(f"wrote {path.with_suffix('.json')} and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
