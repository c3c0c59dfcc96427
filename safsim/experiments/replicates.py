"""Replicates of one scenario, run serially or on worker processes.

Objects:
    Results: the runs table, the time-series table and run metadata of many replicates.
    run_replicates: run a scenario ``n`` times from one root seed.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from safsim.analysis.summary import summarise
from safsim.config import Scenario
from safsim.metrics import ALL_OUTCOMES, RUN_ID_COLUMNS
from safsim.runner import RunResult, child_seeds, run_scenario

__all__ = ["Results", "run_batches", "run_replicates", "run_seeds"]

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Results:
    """Outcome tables of many runs of one scenario.

    Attributes:
        scenario: the Scenario that was run.
        root_seed: the root seed the per-run seeds were spawned from (None when the seeds
            were given directly).
        runs: one row per run: RUN_ID_COLUMNS then every outcome in ALL_OUTCOMES.
        timeseries: one row per run and step: run_id, replicate, seed, then TIMESERIES_COLUMNS.
        authorities: one row per run and authority: run_id, replicate, seed, then
            AUTHORITY_COLUMNS.
        elapsed_s: wall-clock seconds of each run, in run_id order.
        workers: how many worker processes were used.
        wall_time_s: elapsed wall-clock seconds for all runs.
    """

    scenario: Scenario
    root_seed: int | None
    runs: pd.DataFrame
    timeseries: pd.DataFrame
    elapsed_s: tuple[float, ...]
    workers: int
    wall_time_s: float = 0.0
    authorities: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> pd.DataFrame:
        """Mean, sd and quantiles of every outcome across replicates."""
        return summarise(self.runs, ALL_OUTCOMES)


def _run_one(args: tuple[Scenario, int]) -> RunResult:
    scenario, seed = args
    return run_scenario(scenario, seed)


def run_replicates(
    scenario: Scenario,
    n: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> Results:
    """Run ``scenario`` ``n`` times with seeds spawned from one root seed.

    Args:
        scenario: the validated Scenario.
        n: number of replicates (default: ``scenario.replicates``).
        seed: root seed (default: ``scenario.seed``).
        workers: worker processes; results do not depend on this number.
        progress: called as ``progress(done, total)`` after each run.
    """
    n = scenario.replicates if n is None else int(n)
    if n < 1:
        raise ValueError("the number of replicates must be at least 1")
    root = scenario.seed if seed is None else int(seed)
    return run_seeds(scenario, child_seeds(root, n), workers=workers, progress=progress, root_seed=root)


def run_seeds(
    scenario: Scenario,
    seeds: list[int],
    workers: int = 1,
    progress: ProgressCallback | None = None,
    root_seed: int | None = None,
) -> Results:
    """Run ``scenario`` once per given integer seed (rows in the order of ``seeds``).

    ``run_replicates`` spawns the seeds from a root seed and calls this; call it directly to
    reproduce chosen runs (for example the ``seed`` column of some rows of runs.csv).
    """
    return run_batches([(scenario, seeds)], workers=workers, progress=progress, root_seeds=[root_seed])[0]


def run_batches(
    batches: list[tuple[Scenario, list[int]]],
    workers: int = 1,
    progress: ProgressCallback | None = None,
    root_seeds: list[int | None] | None = None,
) -> list[Results]:
    """Run several (scenario, seeds) batches on one pool of worker processes.

    One ``Results`` per batch, in order; results do not depend on ``workers``.  Sharing the
    pool across batches (the arms of an experiment) avoids starting processes per batch.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if any(len(seeds) < 1 for _, seeds in batches):
        raise ValueError("at least one seed is needed")
    roots = root_seeds if root_seeds is not None else [None] * len(batches)
    t0 = time.perf_counter()
    tasks = [(scenario, int(s)) for scenario, seeds in batches for s in seeds]
    n = len(tasks)
    results: list[RunResult] = []
    if workers == 1 or n == 1:
        for i, task in enumerate(tasks):
            results.append(_run_one(task))
            if progress:
                progress(i + 1, n)
    else:
        # An explicit spawn context (Mesa sets spawn on import anyway).  Workers are not recycled:
        # `max_tasks_per_child` deadlocks the pool on Python 3.11 once a worker is replaced
        # while tasks are pending; instead each run removes its model from Mesa 3.3.1's
        # `Agent._ids` registry (FieldModel.release), so a long-lived worker does not grow.
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for i, res in enumerate(pool.map(_run_one, tasks, chunksize=1)):
                results.append(res)
                if progress:
                    progress(i + 1, n)
    wall = time.perf_counter() - t0
    out = []
    start = 0
    for (scenario, seeds), root in zip(batches, roots, strict=True):
        out.append(_collect(scenario, root, results[start : start + len(seeds)], workers, wall))
        start += len(seeds)
    return out


def _collect(
    scenario: Scenario, root: int | None, results: list[RunResult], workers: int, wall_time_s: float
) -> Results:
    rows = []
    frames = []
    authority_frames = []
    for i, r in enumerate(results):
        rows.append({"run_id": i, "scenario": scenario.name, "replicate": i, "seed": r.seed} | r.outcomes)
        ts = r.timeseries.copy()
        ts.insert(0, "seed", r.seed)
        ts.insert(0, "replicate", i)
        ts.insert(0, "run_id", i)
        frames.append(ts)
        au = r.authorities.copy()
        au.insert(0, "seed", r.seed)
        au.insert(0, "replicate", i)
        au.insert(0, "run_id", i)
        authority_frames.append(au)
    runs = pd.DataFrame(rows, columns=[*RUN_ID_COLUMNS, *ALL_OUTCOMES])
    timeseries = pd.concat(frames, ignore_index=True)
    authorities = pd.concat(authority_frames, ignore_index=True)
    return Results(
        scenario=scenario,
        root_seed=root,
        runs=runs,
        timeseries=timeseries,
        authorities=authorities,
        elapsed_s=tuple(r.elapsed_s for r in results),
        workers=workers,
        wall_time_s=wall_time_s,
    )
