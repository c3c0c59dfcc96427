"""Writing the results of a set of replicates to a directory, all or nothing.

Objects:
    write_results(results, out_dir, ...): runs.csv, timeseries.csv, authorities.csv, summary.csv,
        manifest.json
        and plots/*.png for one ``Results``.
    build_manifest(results, ...): the provenance record written as manifest.json.
    scenario_sha256(scenario): hash of a scenario's canonical JSON.
    OUTPUT_FILES, SUMMARY_FILE_COLUMNS: the file names and summary.csv columns written.

Atomicity: everything is first written into a fresh temporary directory beside ``out_dir``
(same parent, so moves are renames on one file system).  If ``out_dir`` does not exist, or is
an empty directory, the temporary directory is renamed onto it in one step.  If ``out_dir``
already holds files, our files are moved into it one by one (each move is an atomic rename,
files of the same names are overwritten, other files are left alone) with ``manifest.json``
moved last, so a directory whose manifest is present holds a complete set.  On any failure,
including KeyboardInterrupt, the temporary directory is removed and the exception re-raised;
nothing half-written is left behind.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from safsim.analysis.summary import SUMMARY_COLUMNS, summarise
from safsim.config import Scenario
from safsim.experiments.replicates import Results
from safsim.metrics import ALL_OUTCOMES

__all__ = [
    "DEPENDENCIES",
    "OUTPUT_FILES",
    "SUMMARY_FILE_COLUMNS",
    "build_manifest",
    "scenario_sha256",
    "write_results",
]

OUTPUT_FILES: tuple[str, ...] = (
    "runs.csv",
    "timeseries.csv",
    "authorities.csv",
    "summary.csv",
    "manifest.json",
)
SUMMARY_FILE_COLUMNS: tuple[str, ...] = tuple(c for c in SUMMARY_COLUMNS if c != "n")
DEPENDENCIES: tuple[str, ...] = (
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "pydantic",
    "pyyaml",
)
MANIFEST_FORMAT = 1


def write_results(
    results: Results,
    out_dir: Path,
    *,
    argv: list[str] | None,
    scenario_source: str | None,
    plots: bool = True,
    wall_time_s: float | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``results`` into ``out_dir`` atomically (see the module docstring).

    Files: ``runs.csv`` (one row per run), ``timeseries.csv`` (one row per run and step),
    ``authorities.csv`` (one row per run and authority),
    ``summary.csv`` (columns ``SUMMARY_FILE_COLUMNS``, one row per outcome),
    ``manifest.json`` (see ``build_manifest``) and, unless ``plots`` is false, the standard
    plots under ``plots/``.  An existing non-empty ``out_dir`` is written into: files with
    these names are overwritten, other files are kept.

    Args:
        results: the replicate tables to write.
        out_dir: target directory; created (with parents) if missing.
        argv: the command line that produced the results, recorded in the manifest.
        scenario_source: where the scenario came from (path or bundled name), recorded.
        plots: also write ``plots/*.png``.
        wall_time_s: wall-clock seconds of the whole set of runs, recorded if given.
        extra: further JSON-serialisable entries for the manifest (e.g. ``run_seed``).

    Returns:
        Final paths keyed by their name relative to ``out_dir`` (e.g. ``"runs.csv"``,
        ``"plots/income_fan.png"``).

    Raises:
        NotADirectoryError: ``out_dir`` (or one of its parents) exists and is not a directory.
        OSError: the files could not be written; nothing is left behind.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir} exists and is not a directory")
    parent = out_dir.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    try:
        relative = _write_all(
            results,
            tmp,
            argv=argv,
            scenario_source=scenario_source,
            plots=plots,
            wall_time_s=wall_time_s,
            extra=extra,
        )
        _move_into_place(tmp, out_dir, relative)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # empty leftovers when files were moved one by one
    return {rel: out_dir / rel for rel in relative}


def _write_all(
    results: Results,
    tmp: Path,
    *,
    argv: list[str] | None,
    scenario_source: str | None,
    plots: bool,
    wall_time_s: float | None,
    extra: dict[str, Any] | None,
) -> list[str]:
    """Write every file into ``tmp``; return their relative names, manifest last."""
    written: list[str] = []
    results.runs.to_csv(tmp / "runs.csv", index=False)
    written.append("runs.csv")
    results.timeseries.to_csv(tmp / "timeseries.csv", index=False)
    written.append("timeseries.csv")
    results.authorities.to_csv(tmp / "authorities.csv", index=False)
    written.append("authorities.csv")
    summary = summarise(results.runs, [o for o in ALL_OUTCOMES if o in results.runs.columns])
    summary.loc[:, list(SUMMARY_FILE_COLUMNS)].to_csv(tmp / "summary.csv", index=False)
    written.append("summary.csv")
    if plots:
        from safsim.plotting import save_standard_plots  # matplotlib only when plotting

        for p in save_standard_plots(results, tmp / "plots"):
            written.append(p.relative_to(tmp).as_posix())
    manifest = build_manifest(
        results,
        argv=argv,
        scenario_source=scenario_source,
        wall_time_s=wall_time_s,
        files=[*written, "manifest.json"],
        extra=extra,
    )
    text = json.dumps(manifest, indent=2, sort_keys=False, allow_nan=False)
    (tmp / "manifest.json").write_text(text + "\n", encoding="utf-8")
    written.append("manifest.json")
    return written


def _move_into_place(tmp: Path, out_dir: Path, relative: Sequence[str]) -> None:
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    for rel in relative:  # manifest.json is last: its presence marks a complete set
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, target)


def scenario_sha256(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's canonical JSON.

    Canonical JSON: ``scenario.model_dump(mode="json")`` serialised with sorted keys, no
    whitespace and ASCII escapes, encoded as UTF-8.
    """
    canonical = json.dumps(
        scenario.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_manifest(
    results: Results,
    *,
    argv: list[str] | None,
    scenario_source: str | None,
    wall_time_s: float | None = None,
    files: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance record of ``results`` (the content of manifest.json).

    Keys: ``manifest_format``, ``safsim_version``, ``python_version``, ``platform``,
    ``dependencies`` (name -> version or null), ``git_revision`` and ``git_dirty`` (null when
    the package is not in a git checkout), ``created_utc``, ``argv``, ``scenario_source``,
    ``scenario_name``, ``scenario_sha256``, ``scenario`` (the full scenario as JSON),
    ``root_seed``, ``n_runs``, ``seeds`` (every run's seed in run_id order), ``runs``
    (``run_id``, ``seed``, ``elapsed_s`` per run), ``total_run_time_s`` (sum of per-run times),
    ``wall_time_s``, ``workers``, ``files``, then any ``extra`` entries.
    """
    seeds = [int(s) for s in results.runs["seed"]] if "seed" in results.runs else []
    run_ids = [int(r) for r in results.runs["run_id"]] if "run_id" in results.runs else list(range(len(seeds)))
    elapsed = [float(t) for t in results.elapsed_s]
    per_run = [
        {"run_id": rid, "seed": seed, "elapsed_s": elapsed[i] if i < len(elapsed) else None}
        for i, (rid, seed) in enumerate(zip(run_ids, seeds, strict=True))
    ]
    revision, dirty = git_revision()
    manifest: dict[str, Any] = {
        "manifest_format": MANIFEST_FORMAT,
        "safsim_version": _safsim_version(),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "git_revision": revision,
        "git_dirty": dirty,
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "argv": list(argv) if argv is not None else None,
        "scenario_source": scenario_source,
        "scenario_name": results.scenario.name,
        "scenario_sha256": scenario_sha256(results.scenario),
        "scenario": results.scenario.model_dump(mode="json"),
        "root_seed": None if results.root_seed is None else int(results.root_seed),
        "n_runs": len(results.runs),
        "seeds": seeds,
        "runs": per_run,
        "total_run_time_s": float(sum(elapsed)),
        "wall_time_s": None if wall_time_s is None else float(wall_time_s),
        "workers": int(results.workers),
        "files": list(files),
    }
    if extra:
        manifest.update(extra)
    return manifest


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _safsim_version() -> str:
    v = _version("safsim")
    if v is not None:
        return v
    import safsim

    return str(getattr(safsim, "__version__", "unknown"))


def git_revision() -> tuple[str | None, bool | None]:
    """(commit hash, has uncommitted changes) of the checkout holding the package, if any.

    Best effort: any failure (no git, not a checkout, timeout) gives ``(None, None)``.
    """
    pkg_dir = Path(__file__).resolve().parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        head = subprocess.run(
            ["git", "-C", str(pkg_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=False,
        )
        if head.returncode != 0:
            return None, None
        revision = head.stdout.strip() or None
        status = subprocess.run(
            ["git", "-C", str(pkg_dir), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=False,
        )
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return revision, dirty
    except (OSError, subprocess.SubprocessError, ValueError):
        return None, None
