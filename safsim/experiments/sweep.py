"""Sweeps: run every planned run of an experiment, streaming results to disk, resumable.

Objects:
    SweepResult: the runs, design, failures (and time-series, awards) tables of a sweep.
    SweepError: a sweep that cannot start (an unusable output directory); one-line message.
    run_sweep(experiment_or_path, ...) -> SweepResult: run a sweep on a backend.
    BACKENDS: the backend names: ``serial``, ``processes``, ``dask``.

Data flow: ``load_experiment`` -> ``plan`` (RunSpecs) -> chunks of runs of one design point ->
``run_scenario`` on the backend -> each finished chunk written at once as Parquet part files in
``OUT/parts/`` (and dropped from memory) -> merged at the end into ``OUT/runs.parquet``,
``design.parquet``, ``failures.parquet`` (and ``timeseries.parquet``, ``awards.parquet`` when
recorded), with ``OUT/manifest.json`` last.

Memory with ``out``: the parent keeps no chunk's tables once they are written (the backends
drop each finished future), and the time-series and award tables are merged part by part
with a ``pyarrow.parquet.ParquetWriter``, so the parent's memory does not grow with the
number of runs beyond the one-row-per-run tables (runs, status).  Chunks are contiguous
run_id ranges (``_tasks`` splits at gaps left by a resume), so sorting each part and writing
the parts in run_id order gives the global order; parts whose ranges overlap (written by an
older version) are merged as one group.  The returned result loads ``timeseries`` and
``awards`` from the merged files on first access.

Part files: a chunk writes ``TAG.timeseries.parquet``, ``TAG.awards.parquet`` and
``TAG.failures.parquet`` (as recorded), then ``TAG.runs.parquet``, which commits the chunk: it
holds every run of the chunk with its status and time.  ``manifest.json`` is rewritten (atomically)
after chunk commits too, at most every few seconds, so it shows the progress of a running sweep.  Each file is written under a temporary
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from safsim.config import Scenario
from safsim.experiments import replicates as _replicates
from safsim.experiments.design import RunSpec, design_table, plan, point_scenarios
from safsim.experiments.experiment import Experiment, load_experiment
from safsim.metrics import TIMESERIES_COLUMNS
from safsim.runner import run_scenario

__all__ = ["BACKENDS", "SweepError", "SweepMismatchError", "SweepResult", "run_sweep"]

BACKENDS = ("serial", "processes", "dask")
MANIFEST_FORMAT = "safsim-sweep/1"
_ID_COLUMNS = ["run_id", "design_point", "replicate", "seed"]
_FAILURE_COLUMNS = [*_ID_COLUMNS, "error", "traceback"]
_OWN = ("parts/*", "runs.parquet", "design.parquet", "failures.parquet", "timeseries.parquet", "awards.parquet")

# (outcome names, record time series, cadence in steps, record awards)
_RecordSpec = tuple[tuple[str, ...], bool, int, bool]
# (design point, ((run_id, replicate, seed), ...))
_Task = tuple[int, tuple[tuple[int, int, int], ...]]
# rows buffered per row group of a merged table; the merge holds about this many rows at once
_MERGE_ROWS = 16_384
# runs part files read at the end are concatenated this many at a time (see _committed)
_CONCAT_PARTS = 64
# manifest.json is rewritten after a chunk commit at most this often (seconds)
_MANIFEST_EVERY_S = 5.0
# ... and at least this many times as long after a rewrite as the rewrite took (writing stays
# under 5% of the sweep's time however many runs the manifest lists)
_MANIFEST_GAP_PER_WRITE = 19.0


class SweepError(ValueError):
    """A sweep that cannot start, e.g. ``out`` holds another sweep's results (one-line message)."""


class SweepMismatchError(SweepError):
    """``--resume`` onto an ``out`` whose results are another sweep's (its experiment, a scenario
    setting or the model's parameters differ); ``out`` is that directory."""

    def __init__(self, message: str, out: Path) -> None:
        super().__init__(message)
        self.out = out


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
            then TIMESERIES_COLUMNS), or None when not recorded.  With ``out`` it is read from
            ``out/timeseries.parquet`` on first access (then kept), so a sweep that is not
            asked for it never holds it in memory; read that file with ``pyarrow.dataset`` or
            ``pd.read_parquet(..., columns=...)`` to work on a part of a large one.
        awards: the award logs (run ids, then the award columns), or None when not recorded;
            with ``out`` read from ``out/awards.parquet`` on first access, like ``timeseries``.
        out: the results directory, or None when nothing was written.
        n_ran: runs executed by this call (fewer than ``len(runs)`` when resuming).
        wall_time_s: wall-clock seconds of this call.

    ``timeseries`` and ``awards`` may be given as DataFrames, None, or the Path of a Parquet
    file to be read on first access.
    """

    __slots__ = ("_awards", "_timeseries", "design", "experiment", "failures", "n_ran", "out", "runs", "wall_time_s")

    def __init__(
        self,
        experiment: Experiment,
        runs: pd.DataFrame,
        design: pd.DataFrame,
        failures: pd.DataFrame,
        timeseries: pd.DataFrame | Path | None,
        awards: pd.DataFrame | Path | None,
        out: Path | None,
        n_ran: int,
        wall_time_s: float,
    ) -> None:
        self.experiment = experiment
        self.runs = runs
        self.design = design
        self.failures = failures
        self._timeseries = timeseries
        self._awards = awards
        self.out = out
        self.n_ran = n_ran
        self.wall_time_s = wall_time_s

    @property
    def timeseries(self) -> pd.DataFrame | None:
        """The time-series table (read from ``out/timeseries.parquet`` on first access with ``out``)."""
        if isinstance(self._timeseries, Path):
            self._timeseries = pd.read_parquet(self._timeseries)
        return self._timeseries

    @property
    def awards(self) -> pd.DataFrame | None:
        """The award table (read from ``out/awards.parquet`` on first access with ``out``)."""
        if isinstance(self._awards, Path):
            self._awards = pd.read_parquet(self._awards)
        return self._awards

    def __repr__(self) -> str:
        return (
            f"SweepResult(experiment={self.experiment.name!r}, runs={len(self.runs)}, "
            f"failures={len(self.failures)}, out={self.out!r}, n_ran={self.n_ran}, "
            f"wall_time_s={self.wall_time_s:.1f})"
        )

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
        # A finished Future keeps its result: hold only the pending ones, so a chunk's tables
        # are freed once the caller has written them.
        pending: set[Future[dict]] = {pool.submit(_pool_task, task, record) for task in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            while done:
                result = done.pop().result()
                yield result
                del result
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
        pending = {client.submit(_execute, scattered[t[0]], t, record, pure=False) for t in tasks}
        try:
            # A dask Future keeps its result on the cluster while it is referenced: drop each
            # one once its chunk has been fetched.
            for fut in dask_completed(list(pending)):
                pending.discard(fut)
                result = fut.result()
                del fut
                yield result
                del result
        except BaseException:
            client.cancel(list(pending))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_BACKEND_FUNCS: dict[str, Callable[..., Iterator[dict]]] = {"serial": _serial, "processes": _processes, "dask": _dask}


def _tasks(specs: Sequence[RunSpec], workers: int) -> list[_Task]:
    """Chunks of runs of one design point each, in run_id order, each a contiguous run_id range.

    A chunk never spans a gap in ``specs``' run ids (runs a resumed sweep already holds), so
    the chunks of a sweep, resumed or not, cover disjoint run_id ranges: the merge relies on it.
    """
    size = _replicates._chunk_size(max(1, len(specs)), max(1, workers))
    out: list[_Task] = []
    current: list[tuple[int, int, int]] = []
    dp = -1
    for s in specs:
        if current and (s.design_point != dp or len(current) >= size or s.run_id != current[-1][0] + 1):
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
        # json.dump writes the encoder's pieces as they come: json.dumps would hold the whole
        # text and the list of its pieces (with indent, about 1.3 KB a run of the manifest).
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False, default=str)
            f.write("\n")
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


def _committed(parts: Path) -> tuple[dict[str, tuple[int, int]], pd.DataFrame]:
    """Committed chunks (cleaning up the rest): tag -> (smallest, largest run_id), and their status rows."""
    if not parts.is_dir():
        return {}, pd.DataFrame()
    tags = {p.name.split(".")[0] for p in parts.glob("*.runs.parquet")}
    for p in parts.iterdir():
        if p.name.startswith(".") or p.name.split(".")[0] not in tags:
            p.unlink()  # a temporary file, or a part of a chunk that was not committed
    # Concatenated _CONCAT_PARTS frames at a time: a DataFrame per part holds tens of KB of
    # Python objects for a few KB of data, and holding one per part until the end left the
    # parent's heap about 25 KB a part larger (fragmented), growing with the number of runs.
    ranges: dict[str, tuple[int, int]] = {}
    blocks: list[pd.DataFrame] = []
    batch: list[pd.DataFrame] = []
    for t in sorted(tags):
        frame = pd.read_parquet(parts / f"{t}.runs.parquet")
        if len(frame):
            ranges[t] = (int(frame["run_id"].min()), int(frame["run_id"].max()))
        batch.append(frame)
        if len(batch) >= _CONCAT_PARTS:
            blocks.append(pd.concat(batch, ignore_index=True))
            batch = []
    blocks += batch
    rows = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame()
    return ranges, rows


def _read_parts(parts: Path, tags: Iterable[str], name: str) -> list[pd.DataFrame]:
    return [pd.read_parquet(p) for t in sorted(tags) if (p := parts / f"{t}.{name}.parquet").is_file()]


def _part_groups(ranges: Mapping[str, tuple[int, int]]) -> list[list[str]]:
    """Tags in run_id order, grouped so that the run_id ranges of different groups do not overlap.

    Run ids are unique across chunks, so sorting each group and writing the groups in this
    order gives the table sorted by run_id.  Chunks written by ``_tasks`` are contiguous
    ranges, so every group is one chunk; a group of several holds chunks whose runs interleave.
    """
    groups: list[list[str]] = []
    last = -1
    for tag, (lo, hi) in sorted(ranges.items(), key=lambda kv: (kv[1], kv[0])):
        if groups and lo <= last:
            groups[-1].append(tag)
        else:
            groups.append([tag])
        last = max(last, hi)
    return groups


def _merge_parts(parts: Path, groups: Sequence[Sequence[str]], name: str, keys: Sequence[str], path: Path) -> bool:
    """Merge the ``name`` part files into ``path`` sorted by ``keys``, one group at a time.

    Streams with a ParquetWriter (about ``_MERGE_ROWS`` rows held at once, plus one group), and
    writes atomically like ``_write_parquet``.  The parts' schemas (pandas metadata included)
    must all be equal, as the chunks of one sweep write them; otherwise it falls back to the
    in-memory concatenation (pandas' dtype promotion), so the table is the same either way.

    Returns:
        False when there is no part file (the caller writes the empty table).
    """
    files = [[p for t in g if (p := parts / f"{t}.{name}.parquet").is_file()] for g in groups]
    files = [g for g in files if g]
    if not files:
        return False
    schema = pq.read_schema(files[0][0])
    if any(not pq.read_schema(f).equals(schema, check_metadata=True) for g in files for f in g):
        frames = [pd.read_parquet(f) for g in files for f in g]
        merged = pd.concat(frames, ignore_index=True).sort_values(list(keys), kind="stable")
        _write_parquet(merged.reset_index(drop=True), path)
        return True
    sort_keys = [(k, "ascending") for k in keys]
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            buffered: list[pa.Table] = []
            n = 0
            for group in files:
                table = pa.concat_tables([pq.read_table(f, use_threads=False) for f in group])
                buffered.append(table.sort_by(sort_keys))
                n += len(table)
                if n >= _MERGE_ROWS:
                    writer.write_table(pa.concat_tables(buffered))
                    buffered, n = [], 0
            if buffered:
                writer.write_table(pa.concat_tables(buffered))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


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
        raise SweepMismatchError(
            f"--out {out} holds the results of a different sweep (its experiment differs); use --force to replace them",
            out,
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
    revision: tuple[str | None, bool | None],
) -> dict[str, Any]:
    commit, dirty = revision
    text = exp.text
    n_ok = sum(1 for s, _ in status.values() if s == "ok")
    return {
        "manifest_format": MANIFEST_FORMAT,
        # complete once every run has a status and the tables are merged (the last write)
        "status": "complete" if wall is not None and len(status) == len(specs) else "incomplete",
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
    failures: list[pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs table (ids, factor values, outcomes of the successful runs) and the failures table."""
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
    return runs, fail


# The recorded per-run tables: name -> sort keys, and the columns of the table when empty.
_SORT_KEYS = {"timeseries": ["run_id", "step"], "awards": ["run_id"]}


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[*_ID_COLUMNS, *TIMESERIES_COLUMNS] if name == "timeseries" else _ID_COLUMNS)


def _in_memory(name: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """A recorded table from its chunks' frames, sorted (the sweep without ``out``)."""
    if not frames:
        return _empty(name)
    merged = pd.concat(frames, ignore_index=True).sort_values(_SORT_KEYS[name], kind="stable")
    return merged.reset_index(drop=True)


def _recorded(exp: Experiment) -> list[str]:
    return [n for n, on in (("timeseries", exp.record.timeseries), ("awards", exp.record.awards)) if on]


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
        out: the results directory; results stream into ``out/parts/`` as chunks finish (the
            parent keeps none of a chunk's tables once written) and are merged at the end, the
            time series and awards part by part.  None keeps everything in memory.
        resume: run only the runs ``out`` does not yet hold (the same sweep, by hash).
        force: replace the results of another sweep in ``out``.
        progress: show a progress bar (only on a terminal, and never when ``CI`` is set).
        scheduler: ``dask`` only: the address of a running scheduler (``tcp://host:8786``);
            default: start a LocalCluster.

    Returns:
        The SweepResult (runs, design, failures, time series and awards as recorded).  With
        ``out``, ``runs``, ``design`` and ``failures`` are in memory and ``timeseries`` and
        ``awards`` are read from ``out/timeseries.parquet`` and ``out/awards.parquet`` on first
        access, so the sweep's memory does not grow with its time series unless asked for it.

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
    recorded = _recorded(exp)

    out_dir = Path(out) if out is not None else None
    parts: Path | None = None
    prior = pd.DataFrame()
    revision: tuple[str | None, bool | None] = (None, None)
    if out_dir is not None:
        from safsim.util import git_revision

        _prepare_out(out_dir, identity, resume=resume, force=force)
        parts = out_dir / "parts"
        parts.mkdir(parents=True, exist_ok=True)
        prior = _committed(parts)[1] if resume else pd.DataFrame()
        revision = git_revision()
    done_ids = set(prior["run_id"].tolist()) if len(prior) else set()
    todo = [s for s in specs if s.run_id not in done_ids]
    status: dict[int, tuple[str, float]] = {
        int(r.run_id): (str(r.status), float(r.elapsed_s)) for r in prior.itertuples(index=False)
    }
    del prior

    def write_manifest(wall: float | None, tables: Sequence[str]) -> None:
        assert out_dir is not None
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
                tables=tables,
                revision=revision,
            ),
            out_dir / "manifest.json",
        )

    if out_dir is not None:
        write_manifest(None, [])
    last_manifest = time.monotonic()

    # Only without ``out``: the chunks' tables, merged at the end.  With ``out`` each chunk is
    # written and dropped at once, and nothing is kept here but its runs' status.
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
                chunk_rows = chunk["rows"]
                for run_id, run_status, elapsed in zip(
                    chunk_rows["run_id"].tolist(),
                    chunk_rows["status"].tolist(),
                    chunk_rows["elapsed_s"].tolist(),
                    strict=True,
                ):
                    status[int(run_id)] = (str(run_status), float(elapsed))
                del chunk_rows
                n_chunk = len(chunk["rows"])
                del chunk
                if bar is not None:
                    bar.update(n_chunk)
                # Cheap but not free (every run's status): at most every _MANIFEST_EVERY_S
                # seconds, and at least 20 times as long apart as one write takes.
                if out_dir is not None and time.monotonic() - last_manifest >= _MANIFEST_EVERY_S:
                    t = time.monotonic()
                    write_manifest(None, [])
                    last_manifest = time.monotonic() + _MANIFEST_GAP_PER_WRITE * (time.monotonic() - t)
    finally:
        if bar is not None:
            bar.close()

    tables: dict[str, pd.DataFrame | Path | None] = dict.fromkeys(("timeseries", "awards"))
    if parts is not None and out_dir is not None:
        ranges, rows = _committed(parts)
        runs, failures = _assemble(exp, specs, design, rows, _read_parts(parts, ranges, "failures"))
        del rows
        written = ["runs.parquet", "design.parquet", "failures.parquet"]
        for table, name in ((runs, "runs.parquet"), (design, "design.parquet"), (failures, "failures.parquet")):
            _write_parquet(table, out_dir / name)
        groups = _part_groups(ranges)
        for name in recorded:
            path = out_dir / f"{name}.parquet"
            if not _merge_parts(parts, groups, name, _SORT_KEYS[name], path):
                _write_parquet(_empty(name), path)
            written.append(path.name)
            tables[name] = path
        wall = time.perf_counter() - t0
        write_manifest(wall, written)
    else:
        rows = pd.concat(memory["rows"], ignore_index=True) if memory["rows"] else pd.DataFrame()
        runs, failures = _assemble(exp, specs, design, rows, memory["failures"])
        for name in recorded:
            tables[name] = _in_memory(name, memory[name])
        wall = time.perf_counter() - t0
    return SweepResult(
        experiment=exp,
        runs=runs,
        design=design,
        failures=failures,
        timeseries=tables["timeseries"],
        awards=tables["awards"],
        out=out_dir,
        n_ran=len(todo),
        wall_time_s=wall,
    )
