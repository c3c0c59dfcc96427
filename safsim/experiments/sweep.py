"""Sweeps: run every planned run of an experiment, streaming results to disk, resumable.

Objects:
    SweepResult: the runs, design, failures (and time-series, awards) tables of a sweep.
    SweepError: a sweep that cannot start (an unusable output directory); one-line message.
    run_sweep(experiment_or_path, ...) -> SweepResult: run a sweep on a backend.
    BACKENDS: the backend names: ``serial``, ``processes``, ``dask``.

Data flow: ``load_experiment`` -> ``plan`` (RunSpecs) -> chunks of runs of one design point ->
``run_scenario`` on the backend -> each finished chunk written at once as Parquet part files in
``OUT/parts/`` -> merged at the end into ``OUT/runs.parquet``, ``design.parquet``,
``failures.parquet`` (and ``timeseries.parquet``, ``awards.parquet`` when recorded), with
``OUT/manifest.json`` last.

Part files: a chunk writes ``TAG.timeseries.parquet``, ``TAG.awards.parquet`` and
``TAG.failures.parquet`` (as recorded), then ``TAG.runs.parquet``, which commits the chunk: it
holds every run of the chunk with its status and time.  Each file is written under a temporary
name and moved into place with ``os.replace``, so a sweep killed at any moment leaves only whole
files; on resume the files of uncommitted chunks are deleted and only runs without a committed
status are run again.  Tables are sorted by ``run_id`` (and ``step``) and hold nothing that
depends on timing, so a resumed sweep ends with tables identical to an uninterrupted one, and
the backend and number of workers do not change them either.

A run that raises is recorded in ``failures.parquet`` (run_id, design_point, replicate, seed,
error, traceback) and the sweep goes on; it counts as done when resuming.

Backends: ``serial`` runs in this process; ``processes`` uses the worker pool of
``safsim.experiments.replicates`` (its multiprocessing context, which works from scripts
without a main guard, standard input and Jupyter, and its pool initializer that sends each
design point's scenario once per worker); ``dask`` submits chunks to a dask.distributed cluster
(a LocalCluster, or ``scheduler="tcp://..."``), installed with the ``distributed`` extra.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from safsim.config import Scenario
from safsim.experiments import replicates as _replicates
from safsim.experiments.design import RunSpec, design_table, plan, point_scenarios
from safsim.experiments.experiment import Experiment, load_experiment
from safsim.metrics import TIMESERIES_COLUMNS
from safsim.runner import run_scenario

__all__ = ["BACKENDS", "SweepError", "SweepResult", "run_sweep"]

BACKENDS = ("serial", "processes", "dask")
MANIFEST_FORMAT = "safsim-sweep/1"
_ID_COLUMNS = ["run_id", "design_point", "replicate", "seed"]
_FAILURE_COLUMNS = [*_ID_COLUMNS, "error", "traceback"]
_OWN = ("parts/*", "runs.parquet", "design.parquet", "failures.parquet", "timeseries.parquet", "awards.parquet")

# (outcome names, record time series, cadence in steps, record awards)
_RecordSpec = tuple[tuple[str, ...], bool, int, bool]
# (design point, ((run_id, replicate, seed), ...))
_Task = tuple[int, tuple[tuple[int, int, int], ...]]


class SweepError(ValueError):
    """A sweep that cannot start, e.g. ``out`` holds another sweep's results (one-line message)."""


@dataclass(frozen=True)
class SweepResult:
    """The tables of a finished sweep.

    Attributes:
        experiment: the Experiment that was run.
        runs: one row per successful run: run_id, design_point, replicate, seed, the factor
            values (columns named by dotted path), then the recorded outcomes.
        design: factor values per design point (design_point, then one column per factor).
        failures: one row per run that raised: run_id, design_point, replicate, seed, error,
            traceback.
        timeseries: one row per run and recorded step (run_id, design_point, replicate, seed,
            then TIMESERIES_COLUMNS), or None when not recorded.
        awards: the award logs (run ids, then the award columns), or None when not recorded.
        out: the results directory, or None when nothing was written.
        n_ran: runs executed by this call (fewer than ``len(runs)`` when resuming).
        wall_time_s: wall-clock seconds of this call.
    """

    experiment: Experiment
    runs: pd.DataFrame
    design: pd.DataFrame
    failures: pd.DataFrame
    timeseries: pd.DataFrame | None
    awards: pd.DataFrame | None
    out: Path | None
    n_ran: int
    wall_time_s: float

    @property
    def runs_per_second(self) -> float:
        """Runs executed by this call per wall-clock second."""
        return self.n_ran / self.wall_time_s if self.wall_time_s > 0 else float("nan")


# --------------------------------------------------------------------------------------
# Running one chunk (in whichever process the backend chose)
# --------------------------------------------------------------------------------------


def _execute(scenario: Scenario, task: _Task, record: _RecordSpec) -> dict[str, Any]:
    """Run one chunk: outcome rows (with status and time), time series, awards and failures."""
    dp, items = task
    names, want_ts, every, want_awards = record
    rows, ts_frames, award_frames, failures = [], [], [], []
    for run_id, rep, seed in items:
        ids = {"run_id": run_id, "design_point": dp, "replicate": rep, "seed": seed}
        try:
            res = run_scenario(scenario, seed, record_awards=want_awards)
        except Exception as exc:
            failures.append(ids | {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
            rows.append({"run_id": run_id, "status": "failed", "elapsed_s": float("nan")} | dict.fromkeys(names))
            continue
        rows.append(
            {"run_id": run_id, "status": "ok", "elapsed_s": res.elapsed_s} | {n: float(res.outcomes[n]) for n in names}
        )
        if want_ts:
            ts = res.timeseries
            ts = ts[ts["step"] % every == 0].reset_index(drop=True)
            for k, col in enumerate(_ID_COLUMNS):
                ts.insert(k, col, ids[col])
            ts_frames.append(ts)
        if want_awards and res.awards is not None and len(res.awards):
            aw = res.awards.reset_index(drop=True)
            for k, col in enumerate(_ID_COLUMNS):
                aw.insert(k, col, ids[col])
            award_frames.append(aw)
    return {
        "rows": pd.DataFrame(rows, columns=["run_id", "status", "elapsed_s", *names]).astype(
            {"run_id": "int64", **dict.fromkeys(names, "float64")}
        ),
        "timeseries": pd.concat(ts_frames, ignore_index=True) if ts_frames else None,
        "awards": pd.concat(award_frames, ignore_index=True) if award_frames else None,
        "failures": pd.DataFrame(failures, columns=_FAILURE_COLUMNS) if failures else None,
    }


def _pool_task(task: _Task, record: _RecordSpec) -> dict[str, Any]:
    """Worker side of ``processes``: the scenario comes from the pool initializer."""
    return _execute(_replicates._WORKER_SCENARIOS[task[0]], task, record)


# --------------------------------------------------------------------------------------
# Backends: each yields chunk results as they finish
# --------------------------------------------------------------------------------------


def _serial(scenarios: Sequence[Scenario], tasks: list[_Task], record: _RecordSpec, **_: Any) -> Iterator[dict]:
    for task in tasks:
        yield _execute(scenarios[task[0]], task, record)


def _processes(
    scenarios: Sequence[Scenario], tasks: list[_Task], record: _RecordSpec, *, workers: int, **_: Any
) -> Iterator[dict]:
    ctx = _replicates._mp_context()
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)),
        mp_context=ctx,
        initializer=_replicates._init_worker,
        initargs=(tuple(scenarios),),
    )
    try:
        futures: list[Future[dict]] = [pool.submit(_pool_task, task, record) for task in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _dask(
    scenarios: Sequence[Scenario],
    tasks: list[_Task],
    record: _RecordSpec,
    *,
    workers: int,
    scheduler: str | None = None,
    **_: Any,
) -> Iterator[dict]:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise SweepError("the dask backend needs dask.distributed: pip install 'safsim[distributed]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        needed = sorted({t[0] for t in tasks})
        scattered = dict(zip(needed, client.scatter([scenarios[d] for d in needed], broadcast=True), strict=True))
        futures = [client.submit(_execute, scattered[t[0]], t, record, pure=False) for t in tasks]
        try:
            for fut in dask_completed(futures):
                yield fut.result()
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_BACKEND_FUNCS: dict[str, Callable[..., Iterator[dict]]] = {"serial": _serial, "processes": _processes, "dask": _dask}


def _tasks(specs: Sequence[RunSpec], workers: int) -> list[_Task]:
    """Chunks of runs of one design point each, in run_id order."""
    size = _replicates._chunk_size(max(1, len(specs)), max(1, workers))
    out: list[_Task] = []
    current: list[tuple[int, int, int]] = []
    dp = -1
    for s in specs:
        if current and (s.design_point != dp or len(current) >= size):
            out.append((dp, tuple(current)))
            current = []
        dp = s.design_point
        current.append((s.run_id, s.replicate, s.seed))
    if current:
        out.append((dp, tuple(current)))
    return out


# --------------------------------------------------------------------------------------
# The results directory
# --------------------------------------------------------------------------------------


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` atomically (a temporary name in the same folder, then os.replace)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        df.to_parquet(tmp, index=False, engine="pyarrow")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_json(data: Mapping[str, Any], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_chunk(parts: Path, chunk: dict[str, Any]) -> None:
    first = int(chunk["rows"]["run_id"].iloc[0])
    tag = f"{first:010d}-{uuid.uuid4().hex[:8]}"
    for name in ("timeseries", "awards", "failures"):
        if chunk[name] is not None:
            _write_parquet(chunk[name], parts / f"{tag}.{name}.parquet")
    _write_parquet(chunk["rows"], parts / f"{tag}.runs.parquet")  # last: commits the chunk


def _committed(parts: Path) -> tuple[set[str], pd.DataFrame]:
    """Tags of committed chunks (cleaning up the rest) and their status rows."""
    if not parts.is_dir():
        return set(), pd.DataFrame()
    tags = {p.name.split(".")[0] for p in parts.glob("*.runs.parquet")}
    for p in parts.iterdir():
        if p.name.startswith(".") or p.name.split(".")[0] not in tags:
            p.unlink()  # a temporary file, or a part of a chunk that was not committed
    frames = [pd.read_parquet(parts / f"{t}.runs.parquet") for t in sorted(tags)]
    return tags, (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def _read_parts(parts: Path, tags: set[str], name: str) -> list[pd.DataFrame]:
    return [pd.read_parquet(p) for t in sorted(tags) if (p := parts / f"{t}.{name}.parquet").is_file()]


def _identity(exp: Experiment, specs: Sequence[RunSpec], scenarios: Sequence[Scenario]) -> str:
    """sha256 of what determines the sweep's tables: the plan, every point's scenario, what is recorded."""
    h = hashlib.sha256()
    h.update(json.dumps(exp.record.model_dump(mode="json"), sort_keys=True).encode())
    for s in scenarios:
        h.update(json.dumps(s.model_dump(mode="json"), sort_keys=True, default=str).encode())
    for r in specs:
        h.update(json.dumps([r.run_id, r.design_point, r.replicate, r.seed, list(r.overrides)], default=str).encode())
    return h.hexdigest()


def _prepare_out(out: Path, identity: str, *, resume: bool, force: bool) -> None:
    """Refuse an ``out`` holding other results unless resuming this sweep or forced."""
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out} exists and is not a directory")
    manifest = out / "manifest.json"
    old_id: str | None = None
    if manifest.is_file():
        try:
            old_id = json.loads(manifest.read_text(encoding="utf-8")).get("sweep_sha256")
        except (OSError, ValueError):
            old_id = None
    nonempty = out.is_dir() and any(out.iterdir())
    if force:
        for pattern in _OWN:
            for p in out.glob(pattern):
                if p.is_file():
                    p.unlink()
        manifest.unlink(missing_ok=True)
        return
    if not nonempty:
        return
    if resume and old_id == identity:
        return
    if resume and old_id is not None:
        raise SweepError(
            f"--out {out} holds the results of a different sweep (its experiment differs); use --force to replace them"
        )
    if old_id == identity:
        raise SweepError(
            f"--out {out} already holds this sweep's results; use --resume to complete it or --force to start again"
        )
    raise SweepError(f"--out {out} is not empty (it holds other results); choose another --out or use --force")


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
    }


def _safsim_version() -> str:
    import safsim

    return str(getattr(safsim, "__version__", "unknown"))


def _manifest(
    exp: Experiment,
    identity: str,
    specs: Sequence[RunSpec],
    status: Mapping[int, tuple[str, float]],
    *,
    backend: str,
    workers: int,
    started: float,
    wall: float | None,
    tables: Sequence[str],
) -> dict[str, Any]:
    from safsim.util import git_revision

    commit, dirty = git_revision()
    text = exp.text
    n_ok = sum(1 for s, _ in status.values() if s == "ok")
    return {
        "manifest_format": MANIFEST_FORMAT,
        "status": "complete" if len(status) == len(specs) else "incomplete",
        "safsim_version": _safsim_version(),
        "python_version": platform.python_version(),
        "git_revision": commit,
        "git_dirty": dirty,
        "machine": _machine(),
        "experiment": {"name": exp.name, "source": exp.source, "sha256": hashlib.sha256(text.encode()).hexdigest()},
        "experiment_text": text,
        "sweep_sha256": identity,
        "root_seed": exp.seed,
        "backend": backend,
        "workers": workers,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_time_s": wall,
        "n_runs": len(specs),
        "n_ok": n_ok,
        "n_failed": sum(1 for s, _ in status.values() if s == "failed"),
        "tables": list(tables),
        "runs": [
            {
                "run_id": r.run_id,
                "design_point": r.design_point,
                "replicate": r.replicate,
                "seed": r.seed,
                "status": status.get(r.run_id, ("pending", None))[0],
                "elapsed_s": _finite(status.get(r.run_id, ("", None))[1]),
            }
            for r in specs
        ],
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x else float(x)


# --------------------------------------------------------------------------------------
# Assembling the tables
# --------------------------------------------------------------------------------------


def _assemble(
    exp: Experiment,
    specs: Sequence[RunSpec],
    design: pd.DataFrame,
    rows: pd.DataFrame,
    ts: list[pd.DataFrame],
    awards: list[pd.DataFrame],
    failures: list[pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    names = exp.record.outcome_names()
    ids = pd.DataFrame([(r.run_id, r.design_point, r.replicate, r.seed) for r in specs], columns=_ID_COLUMNS).astype(
        "int64"
    )
    ok = rows[rows["status"] == "ok"] if len(rows) else pd.DataFrame(columns=["run_id", *names])
    ok = ok[["run_id", *names]].astype({"run_id": "int64", **dict.fromkeys(names, "float64")})
    runs = ids.merge(design, on="design_point", how="left").merge(ok, on="run_id", how="inner")
    runs = runs.sort_values("run_id", kind="stable").reset_index(drop=True)
    fail = (
        pd.concat(failures, ignore_index=True).sort_values("run_id", kind="stable").reset_index(drop=True)
        if failures
        else pd.DataFrame({c: pd.Series(dtype="int64" if c in _ID_COLUMNS else object) for c in _FAILURE_COLUMNS})
    )
    timeseries = None
    if exp.record.timeseries:
        timeseries = (
            pd.concat(ts, ignore_index=True).sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
            if ts
            else pd.DataFrame(columns=[*_ID_COLUMNS, *TIMESERIES_COLUMNS])
        )
    award_table = None
    if exp.record.awards:
        award_table = (
            pd.concat(awards, ignore_index=True).sort_values("run_id", kind="stable").reset_index(drop=True)
            if awards
            else pd.DataFrame(columns=_ID_COLUMNS)
        )
    return runs, fail, timeseries, award_table


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _show_progress(progress: bool) -> bool:
    return bool(progress) and sys.stderr.isatty() and not os.environ.get("CI")


def run_sweep(
    experiment_or_path: Experiment | str | os.PathLike[str] | Mapping[str, Any],
    *,
    backend: str = "processes",
    workers: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
) -> SweepResult:
    """Run every run of an experiment and return (and, with ``out``, write) its tables.

    Args:
        experiment_or_path: an Experiment, an experiment file or a mapping shaped like one.
        backend: ``serial``, ``processes`` or ``dask`` (see the module docstring).
        workers: worker processes (``processes``, a LocalCluster of ``dask``); default: the
            number of CPUs.  Results do not depend on it.
        out: the results directory; results stream into ``out/parts/`` as chunks finish and
            are merged at the end.  None keeps everything in memory.
        resume: run only the runs ``out`` does not yet hold (the same sweep, by hash).
        force: replace the results of another sweep in ``out``.
        progress: show a progress bar (only on a terminal, and never when ``CI`` is set).
        scheduler: ``dask`` only: the address of a running scheduler (``tcp://host:8786``);
            default: start a LocalCluster.

    Returns:
        The SweepResult (runs, design, failures, time series and awards as recorded).

    Raises:
        ScenarioError: the experiment does not load.
        SweepError: a bad backend or worker count, or an ``out`` holding other results.
    """
    t0 = time.perf_counter()
    started = time.time()
    if backend not in BACKENDS:
        raise SweepError(f"unknown backend {backend!r} (one of {', '.join(BACKENDS)})")
    if workers is not None and int(workers) < 1:
        raise SweepError("workers must be at least 1")
    if scheduler and backend != "dask":
        raise SweepError("--scheduler is for the dask backend only")
    exp = experiment_or_path if isinstance(experiment_or_path, Experiment) else load_experiment(experiment_or_path)
    n_workers = int(workers) if workers is not None else (os.cpu_count() or 1)
    if backend == "serial":
        n_workers = 1
    specs = plan(exp)
    scenarios = point_scenarios(exp)
    design = design_table(exp)
    identity = _identity(exp, specs, scenarios)
    names = exp.record.outcome_names()
    record: _RecordSpec = (tuple(names), exp.record.timeseries, exp.record.every, exp.record.awards)

    out_dir = Path(out) if out is not None else None
    parts: Path | None = None
    prior = pd.DataFrame()
    tags: set[str] = set()
    if out_dir is not None:
        _prepare_out(out_dir, identity, resume=resume, force=force)
        parts = out_dir / "parts"
        parts.mkdir(parents=True, exist_ok=True)
        tags, prior = _committed(parts) if resume else (set(), pd.DataFrame())
    done_ids = set(prior["run_id"].tolist()) if len(prior) else set()
    todo = [s for s in specs if s.run_id not in done_ids]
    status: dict[int, tuple[str, float]] = {
        int(r.run_id): (str(r.status), float(r.elapsed_s)) for r in prior.itertuples(index=False)
    }
    if out_dir is not None:
        _write_json(
            _manifest(
                exp, identity, specs, status, backend=backend, workers=n_workers, started=started, wall=None, tables=[]
            ),
            out_dir / "manifest.json",
        )

    memory: dict[str, list[pd.DataFrame]] = {"rows": [], "timeseries": [], "awards": [], "failures": []}
    bar = None
    if _show_progress(progress):
        from tqdm import tqdm

        bar = tqdm(total=len(specs), initial=len(done_ids), unit="run", desc=exp.name, dynamic_ncols=True)
    try:
        if todo:
            tasks = _tasks(todo, n_workers)
            runner = _BACKEND_FUNCS["serial" if backend == "processes" and n_workers == 1 else backend]
            for chunk in runner(scenarios, tasks, record, workers=n_workers, scheduler=scheduler):
                if parts is not None:
                    _write_chunk(parts, chunk)
                else:
                    for key in memory:
                        if chunk[key] is not None:
                            memory[key].append(chunk[key])
                for r in chunk["rows"].itertuples(index=False):
                    status[int(r.run_id)] = (str(r.status), float(r.elapsed_s))
                if bar is not None:
                    bar.update(len(chunk["rows"]))
    finally:
        if bar is not None:
            bar.close()

    if parts is not None:
        tags, rows = _committed(parts)
        ts, aw, fl = (_read_parts(parts, tags, n) for n in ("timeseries", "awards", "failures"))
    else:
        rows = pd.concat(memory["rows"], ignore_index=True) if memory["rows"] else pd.DataFrame()
        ts, aw, fl = memory["timeseries"], memory["awards"], memory["failures"]
    runs, failures, timeseries, awards = _assemble(exp, specs, design, rows, ts, aw, fl)
    wall = time.perf_counter() - t0
    if out_dir is not None:
        written = {"runs.parquet": runs, "design.parquet": design, "failures.parquet": failures}
        if timeseries is not None:
            written["timeseries.parquet"] = timeseries
        if awards is not None:
            written["awards.parquet"] = awards
        for name, table in written.items():
            _write_parquet(table, out_dir / name)
        _write_json(
            _manifest(
                exp,
                identity,
                specs,
                status,
                backend=backend,
                workers=n_workers,
                started=started,
                wall=wall,
                tables=list(written),
            ),
            out_dir / "manifest.json",
        )
    return SweepResult(
        experiment=exp,
        runs=runs,
        design=design,
        failures=failures,
        timeseries=timeseries,
        awards=awards,
        out=out_dir,
        n_ran=len(todo),
        wall_time_s=wall,
    )
