"""Replicates of one scenario, run serially or on worker processes.

Objects:
    Results: the runs table, the time-series table and run metadata of many replicates.
    run_replicates: run a scenario ``n`` times from one root seed.
    run_seeds: run a scenario once per given seed.
    run_batches: run several (scenario, seeds) batches on one pool of worker processes.
    ParallelStartError: ``workers > 1`` cannot start worker processes for this caller.

Worker processes (``workers > 1``) work from any caller: a script with or without an
``if __name__ == "__main__":`` guard, standard input (``python - <<EOF``), ``python -c``, an
interactive session or a Jupyter kernel.  On Linux (and other POSIX systems with a fork
server, except macOS) the workers are forked from a fork server that has imported numpy,
pandas, pydantic and Mesa but neither safsim (so a long-lived session that edits safsim gets
the edited code in new pools) nor the caller's ``__main__`` module, and the workers never
import ``__main__``: the tasks refer only to functions of this module.  Where only ``spawn``
is used (Windows, macOS) every worker re-imports the caller's main script, so a call from the
top level of a script without a main guard, or from standard input, raises
``ParallelStartError`` (one line saying what to do) before any process is started.

Each worker receives the scenarios once (the pool initializer); a task is a batch index and a
chunk of seeds, and returns the chunk's runs, which are put back in seed order, so results do
not depend on the number of workers.
"""

from __future__ import annotations

import ast
import io
import math
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import context as mp_context_module
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util

import pandas as pd

from safsim.config import Scenario
from safsim.metrics import ALL_OUTCOMES, RUN_ID_COLUMNS
from safsim.runner import RunResult, child_seeds, run_scenario
from safsim.summary import summarise

__all__ = ["ParallelStartError", "Results", "run_batches", "run_replicates", "run_seeds"]

ProgressCallback = Callable[[int, int], None]

# Seeds per task: enough to amortise the round trip, few enough to balance the load and to
# report progress often (a baseline run takes about half a second).
_MAX_CHUNK = 8
_CHUNKS_PER_WORKER = 8


class ParallelStartError(RuntimeError):
    """Worker processes cannot be started for this caller (the message says what to do)."""


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


# --- worker side --------------------------------------------------------------------------

_WORKER_SCENARIOS: tuple[Scenario, ...] = ()


def _init_worker(scenarios: tuple[Scenario, ...]) -> None:
    """Pool initializer: keep the batches' scenarios, sent once per worker."""
    global _WORKER_SCENARIOS
    _WORKER_SCENARIOS = scenarios


def _run_chunk(batch: int, seeds: tuple[int, ...]) -> list[RunResult]:
    """Run scenario number ``batch`` (of the initializer's tuple) once per seed, in order."""
    scenario = _WORKER_SCENARIOS[batch]
    return [run_scenario(scenario, s) for s in seeds]


# --- choosing how worker processes start ---------------------------------------------------


class _NoMainForkServerPopen(popen_forkserver.Popen):
    """A fork-server ``Popen`` whose child does not import the caller's ``__main__`` module.

    The standard one sends the child the parent's main script path (or module name) and the
    child runs it as ``__mp_main__`` before it unpickles its task, exactly like ``spawn``: a
    script without a main guard then runs itself again in every worker, and standard input
    (``<stdin>``) cannot be run at all.  The tasks of this module need nothing from
    ``__main__``, so this copy of ``popen_forkserver.Popen._launch`` (identical in CPython
    3.11 to 3.13) drops those two entries of the preparation data and is otherwise unchanged.
    """

    def _launch(self, process_obj: mp.process.BaseProcess) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_name", None)
        prep_data.pop("init_main_from_path", None)
        buf = io.BytesIO()
        mp_context_module.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            mp_context_module.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        # Keep a duplicate of the data pipe's write end as a sentinel of the parent process
        # used by the child process.
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _NoMainForkServerProcess(mp_context_module.ForkServerProcess):
    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj: mp.process.BaseProcess) -> _NoMainForkServerPopen:
        return _NoMainForkServerPopen(process_obj)


class _NoMainForkServerContext(mp_context_module.ForkServerContext):
    """The ``forkserver`` context, with processes that do not import ``__main__``."""

    Process = _NoMainForkServerProcess


_NO_MAIN_FORKSERVER = _NoMainForkServerContext()


# Imported by the fork server when it starts, so that each worker does not import them again
# (about 1 s).  Not safsim itself: the fork server lives as long as the caller, and a Jupyter
# session that edits safsim must get the edited code in its next pool.
_FORK_SERVER_PRELOAD: tuple[str, ...] = ("numpy", "pandas", "pydantic", "mesa", "numba")


def _preload_fork_server() -> None:
    """Have the fork server import the heavy dependencies, and not ``__main__``, when it starts.

    By default the fork server imports the main script on start-up, which runs a script
    without a main guard (its call of ``run_replicates`` included) inside the fork server.
    Other modules already listed are kept; the list has no effect once the server runs.
    """
    current = list(getattr(getattr(forkserver, "_forkserver", None), "_preload_modules", None) or [])
    wanted = [m for m in current if m != "__main__"]
    wanted += [m for m in _FORK_SERVER_PRELOAD if m not in wanted]
    if wanted != current:
        _NO_MAIN_FORKSERVER.set_forkserver_preload(wanted)


def _main_guard_lines(path: str) -> list[tuple[int, int]] | None:
    """Line ranges of the top-level ``if __name__ == "__main__":`` blocks of a script."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    ranges = []
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = [node.test.left, *node.test.comparators]
            texts = {ast.unparse(n) for n in names}
            if texts == {"__name__", "'__main__'"}:
                ranges.append((node.lineno, node.end_lineno or node.lineno))
    return ranges


def _main_reimport_problem() -> str | None:
    """Why spawned workers could not re-import the caller's ``__main__`` (None if they can).

    Spawned workers run the main script again as ``__mp_main__``.  That fails when the
    script is standard input (or any name that is not a file), and it starts the runs again
    in every worker when this call comes from the script's top level outside a main guard.
    No ``__file__`` (an interactive session, ``python -c``, a Jupyter kernel) is fine: the
    workers then import nothing from ``__main__``.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not isinstance(path, str):
        return None
    if not os.path.isfile(path):
        return f"the caller's main module {path!r} is not a file they can import (standard input?)"
    frame = sys._getframe()
    while frame is not None and not (frame.f_code.co_name == "<module>" and frame.f_globals is vars(main)):
        frame = frame.f_back
    if frame is None:  # called after the script body has finished (python -i, a callback)
        return None
    line = frame.f_lineno
    guards = _main_guard_lines(path)
    if guards is None or any(lo <= line <= hi for lo, hi in guards):
        return None
    return f"{path} calls them at line {line}, outside an `if __name__ == '__main__':` block"


def _mp_context(
    platform: str | None = None, start_methods: Sequence[str] | None = None
) -> mp_context_module.BaseContext:
    """The multiprocessing context for worker pools, or ParallelStartError.

    ``forkserver`` (with workers that do not import ``__main__``) where it is available,
    except on macOS; ``spawn`` elsewhere, after checking that the workers can re-import the
    caller's main module.  ``mp.get_context()`` is not used: ``import mesa`` makes ``spawn``
    the global default.

    Args:
        platform: ``sys.platform`` unless given (for tests).
        start_methods: ``multiprocessing.get_all_start_methods()`` unless given (for tests).

    Raises:
        ParallelStartError: only ``spawn`` is used and the caller's main module cannot be
            re-imported by the workers (a one-line message).
    """
    platform = sys.platform if platform is None else platform
    methods = mp.get_all_start_methods() if start_methods is None else list(start_methods)
    if "forkserver" in methods and platform != "darwin" and not platform.startswith("win"):
        _preload_fork_server()
        return _NO_MAIN_FORKSERVER
    problem = _main_reimport_problem()
    if problem is not None:
        raise ParallelStartError(
            f"workers > 1 starts worker processes with 'spawn' on {platform}, and those re-import the "
            f"caller's main script, but {problem}: put the call under an `if __name__ == '__main__':` "
            "guard in a script file, or use workers=1"
        )
    return mp.get_context("spawn")


def _chunk_size(n_runs: int, workers: int) -> int:
    """Seeds per task: about ``_CHUNKS_PER_WORKER`` tasks per worker, at most ``_MAX_CHUNK``."""
    return max(1, min(_MAX_CHUNK, math.ceil(n_runs / (workers * _CHUNKS_PER_WORKER))))


# --- public API ----------------------------------------------------------------------------


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
        progress: called as ``progress(done, total)`` as runs complete.

    Raises:
        ParallelStartError: ``workers > 1`` where workers are spawned (Windows, macOS) and
            the call comes from standard input or from the top level of a script without an
            ``if __name__ == "__main__":`` guard.
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
    ``progress(done, total)`` is called as runs complete (``done`` rises to ``total``, by
    one run serially and by a chunk of seeds with workers).
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if any(len(seeds) < 1 for _, seeds in batches):
        raise ValueError("at least one seed is needed")
    roots = root_seeds if root_seeds is not None else [None] * len(batches)
    t0 = time.perf_counter()
    seed_lists = [[int(s) for s in seeds] for _, seeds in batches]
    n = sum(len(s) for s in seed_lists)
    if workers == 1 or n == 1:
        results: list[list[RunResult]] = []
        done = 0
        for (scenario, _), seeds in zip(batches, seed_lists, strict=True):
            batch_results = []
            for s in seeds:
                batch_results.append(_run_one((scenario, s)))
                done += 1
                if progress:
                    progress(done, n)
            results.append(batch_results)
    else:
        results = _run_on_pool([scenario for scenario, _ in batches], seed_lists, workers, progress)
    wall = time.perf_counter() - t0
    return [
        _collect(scenario, root, batch_results, workers, wall)
        for (scenario, _), root, batch_results in zip(batches, roots, results, strict=True)
    ]


def _run_on_pool(
    scenarios: list[Scenario], seed_lists: list[list[int]], workers: int, progress: ProgressCallback | None
) -> list[list[RunResult]]:
    """Run every seed of every batch on ``workers`` processes; runs per batch, in seed order."""
    ctx = _mp_context()
    # Compile the tender kernels here, once, into Numba's on-disk cache, so that the workers load
    # them instead of each compiling them (safsim.kernels; without a writable cache each worker
    # compiles its own, docs/performance.md "Cold start").
    from safsim.kernels import warm_up

    warm_up()
    n = sum(len(s) for s in seed_lists)
    size = _chunk_size(n, workers)
    tasks = [
        (b, start, tuple(seeds[start : start + size]))
        for b, seeds in enumerate(seed_lists)
        for start in range(0, len(seeds), size)
    ]
    slots: list[list[RunResult | None]] = [[None] * len(seeds) for seeds in seed_lists]
    # Workers are not recycled: `max_tasks_per_child` deadlocks the pool on Python 3.11 once a
    # worker is replaced while tasks are pending; instead each run removes its model from
    # Mesa 3.3.1's `Agent._ids` registry (FieldModel.release), so a long-lived worker does not grow.
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=_init_worker, initargs=(tuple(scenarios),)
    )
    try:
        futures: dict[Future[list[RunResult]], tuple[int, int]] = {
            pool.submit(_run_chunk, b, seeds): (b, start) for b, start, seeds in tasks
        }
        done = 0
        for fut in as_completed(futures):
            b, start = futures[fut]
            chunk = fut.result()
            slots[b][start : start + len(chunk)] = chunk
            done += len(chunk)
            if progress:
                progress(done, n)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [[r for r in batch if r is not None] for batch in slots]


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
