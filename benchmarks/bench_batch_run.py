"""Benchmark: the baseline sweep through ``mesa.batch_run`` against ``safsim sweep``, whole-process.

Usage:
    python benchmarks/bench_batch_run.py [--runs 1000] [--workers 2] [--quick] [--check 4] [--release] [--save]

Runs the same N baseline runs (the same scenario, the same N seeds) two ways, each as its own
command measured from outside (``benchmarks/measure.py``: wall time, CPU time and peak resident
memory summed over the process tree, load average before and after):

1. ``mesa.batch_run(BatchFieldModel, {"scenario": "baseline", "seed": SEEDS}, iterations=1,
   number_processes=W, data_collection_period=-1, max_steps=...)`` through this script's
   ``--child`` mode, results gathered in memory as batch_run returns them;
2. ``safsim sweep benchmarks/baseline_sweep.yaml --workers W --set replicates=N --out DIR``
   (processes backend), results streamed to Parquet.

Objects:
    BatchFieldModel: a thin FieldModel subclass shaped for batch_run (keyword parameters, a
        DataCollector of safsim's end-of-run outcomes, ``running = False`` at the horizon).
    sweep_seeds(n): the seeds ``safsim sweep`` gives the N replicates of benchmarks/baseline_sweep.yaml.
    run_batch(n, workers): the batch_run side, returning its outcomes as a DataFrame.

Mesa 3.3.1 notes (mesa/batchrunner.py): batch_run is a full factorial over ``parameters`` times
``iterations``; it does not seed runs itself, so ``iterations=N`` with a fixed seed gives N
identical replicates. The per-run seeds are therefore passed as a list parameter (iterations=1),
the same seeds safsim's planner gives (``SeedSequence(root, spawn_key=(0, r))``, first 63 bits:
``SeedSequence(root).spawn(1)[0].spawn(N)``). With ``data_collection_period=-1`` batch_run reads
``datacollector.model_vars[name][model.steps - 1]``, so the collector must hold one record per
step: the model collects after every step, and the outcome reporters are NaN until the horizon
(computing the 54 outcomes once per run, as safsim does, not once per step). ``import mesa``
makes ``spawn`` the global start method, so batch_run's Pool re-imports this script in every
worker (hence the main guard). Mesa 3.3.1's ``Agent._ids`` holds every model a process has built;
by default the comparator does not release them (as a user's model would not); ``--release``
drops each model from it at the horizon, as ``safsim.run_scenario`` does.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from safsim import load_scenario
from safsim.config import Scenario
from safsim.experiments.design import run_seed
from safsim.metrics import ALL_OUTCOMES, run_outcomes
from safsim.model import FieldModel

HERE = Path(__file__).resolve().parent
EXPERIMENT = HERE / "baseline_sweep.yaml"
ROOT_SEED = 20261201  # the seed: of benchmarks/baseline_sweep.yaml
SCENARIO = "baseline"


@functools.lru_cache(maxsize=8)
def _scenario(name: str, overrides: tuple[str, ...]) -> Scenario:
    """The scenario, loaded once per process (batch_run builds a model per run)."""
    return load_scenario(name, list(overrides))


def _outcome(model: BatchFieldModel, name: str) -> float:
    """A DataCollector reporter: the named final outcome, NaN before the horizon."""
    return model.final_outcomes.get(name, math.nan)


class BatchFieldModel(FieldModel):
    """FieldModel as ``mesa.batch_run`` wants it: keyword parameters in, a DataCollector out.

    Args:
        scenario: a bundled scenario name or a path (loaded once per process).
        seed: the run's integer seed (passed on to FieldModel, which seeds Mesa's ``rng`` with it).
        overrides: ``PATH=VALUE`` scenario overrides, as ``safsim run --set`` takes them.
        release: drop this model from Mesa 3.3.1's ``Agent._ids`` at the horizon.
    """

    def __init__(
        self, scenario: str = SCENARIO, seed: int = 0, overrides: tuple[str, ...] = (), release: bool = False
    ) -> None:
        # Set before FieldModel.__init__, which may run warm-up steps.
        self.release_at_end = bool(release)
        self.final_outcomes: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: functools.partial(_outcome, name=name) for name in ALL_OUTCOMES}
        )
        super().__init__(_scenario(scenario, tuple(overrides)), seed=int(seed))

    def step(self) -> None:
        """One quarter; at the horizon compute the outcomes and stop."""
        super().step()
        if getattr(self, "in_warmup", False):  # warm-up steps are not counted (nor collected)
            return
        if self.steps >= self.scenario.horizon_steps:
            self.final_outcomes = run_outcomes(self)
            self.running = False
        self.datacollector.collect(self)
        if not self.running and self.release_at_end:
            self.release()


def sweep_seeds(n: int, root: int = ROOT_SEED) -> list[int]:
    """The seeds of replicates 0..n-1 of benchmarks/baseline_sweep.yaml's one design point."""
    return [run_seed(root, 0, r) for r in range(n)]


def run_batch(n: int, workers: int, *, release: bool = False, progress: bool = False) -> pd.DataFrame:
    """The N baseline runs through ``mesa.batch_run``: one row per run, sorted by seed."""
    horizon = _scenario(SCENARIO, ()).horizon_steps
    rows = mesa.batch_run(
        BatchFieldModel,
        parameters={"scenario": SCENARIO, "seed": sweep_seeds(n), "release": release},
        iterations=1,
        number_processes=workers,
        data_collection_period=-1,
        max_steps=horizon + 1,
        display_progress=progress,
    )
    return pd.DataFrame(rows).sort_values("seed", kind="stable").reset_index(drop=True)


def run_safsim(n: int, workers: int, out: Path | None = None) -> pd.DataFrame:
    """The same N runs through ``safsim.run_sweep`` (processes backend): one row per run, by seed."""
    from safsim import run_sweep

    backend = "serial" if workers == 1 else "processes"
    res = run_sweep(
        {**_experiment_mapping(), "replicates": n}, backend=backend, workers=workers, out=out, progress=False
    )
    return res.runs.sort_values("seed", kind="stable").reset_index(drop=True)


def _experiment_mapping() -> dict:
    import yaml

    data = yaml.safe_load(EXPERIMENT.read_text())
    data["base"] = SCENARIO
    return data


def check_same(n: int) -> int:
    """Run ``n`` seeds both ways in this process; print and return the number of differing values."""
    a = run_batch(n, 1)
    b = run_safsim(n, 1)
    assert list(a["seed"]) == list(b["seed"]), "the two sides ran different seeds"
    names = list(ALL_OUTCOMES)
    x, y = a[names].to_numpy(float), b[names].to_numpy(float)
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    bad = int((~same).sum())
    print(f"check: {n} seeds x {len(names)} outcomes, batch_run vs safsim sweep: {bad} values differ")
    return bad


def _safsim_command() -> list[str]:
    exe = Path(sys.executable).with_name("safsim")
    return [str(exe)] if exe.exists() else [shutil.which("safsim") or "safsim"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="20 runs, a check of 2 seeds")
    ap.add_argument("--check", type=int, default=4, help="seeds compared value by value first (0: none)")
    ap.add_argument("--release", action="store_true", help="the comparator releases each model from Agent._ids")
    ap.add_argument("--also-release", action="store_true", help="measure batch_run with and without --release")
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/batch_run_vs_sweep_N.{json,csv}")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.check = 20, min(args.check, 2)

    if args.child:  # the measured batch_run command
        t0 = time.perf_counter()
        df = run_batch(args.runs, args.workers, release=args.release)
        print(f"batch_run: {len(df)} runs in {time.perf_counter() - t0:.1f} s")
        return 0

    sys.path.insert(0, str(HERE))
    from measure import measure, print_table, write_results

    if args.check:
        if check_same(args.check):
            print("the two sides differ: the comparison would not be like for like")
            return 1
    print(
        f"runs={args.runs} workers={args.workers} cpus={os.cpu_count()} python={platform.python_version()} "
        f"numpy={np.__version__} mesa={mesa.__version__}"
    )
    me = [sys.executable, str(Path(__file__).resolve()), "--child", "--runs", str(args.runs)]
    me += ["--workers", str(args.workers)]
    variants = [args.release] if not args.also_release else [False, True]
    rows = []
    for rel in variants:
        label = f"mesa.batch_run, {args.workers} proc" + (", released" if rel else "")
        rows.append(measure([*me, *(["--release"] if rel else [])], label=label, runs=args.runs))
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        cmd = [*_safsim_command(), "sweep", str(EXPERIMENT), "--workers", str(args.workers)]
        cmd += ["--set", f"replicates={args.runs}", "--out", str(Path(tmp) / "out"), "--quiet"]
        rows.append(measure(cmd, label=f"safsim sweep, {args.workers} workers", runs=args.runs))
    print_table(rows)
    s = rows[-1]
    for b in rows[:-1]:
        print(
            f"safsim sweep vs {b.label}: {b.wall_s / s.wall_s:.2f}x wall, {b.cpu_s / s.cpu_s:.2f}x CPU, "
            f"{b.peak_rss_mb / s.peak_rss_mb:.2f}x peak memory (target: at least 5x faster end to end)"
        )
    if args.save:
        path = HERE / "results" / f"batch_run_vs_sweep_{args.runs}.json"
        write_results(rows, path, {"runs": args.runs, "workers": args.workers, "date": time.strftime("%Y-%m-%d")})
        print(f"wrote {path.with_suffix('.json')} and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
