"""Writing the results of a set of replicates to a directory, all or nothing.

Objects:
    write_results(results, out_dir, ...): runs.csv, timeseries.csv, authorities.csv, summary.csv,
        manifest.json and plots/*.png for one ``Results``.
    build_manifest(results, ...): the provenance record written as manifest.json.
    scenario_sha256(scenario): hash of a scenario's canonical JSON.
    git_revision(): re-exported from ``safsim.util``.
    OUTPUT_FILES, OWN_FILES, SUMMARY_FILE_COLUMNS: the file names written, the name patterns of
        every file safsim writes into a results directory, and the summary.csv columns.

Atomicity (``safsim.util.write_directory``): everything is first written into a temporary
directory beside ``out_dir`` and then renamed into place, manifest.json last; on any failure,
including KeyboardInterrupt, nothing half-written is left behind.  A results directory that
already holds files is refused unless ``existing`` says otherwise, so runs are never mixed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from safsim.analysis.summary import SUMMARY_COLUMNS, summarise
from safsim.config import Scenario
from safsim.experiments.replicates import Results
from safsim.metrics import ALL_OUTCOMES
from safsim.plotting import STANDARD_PLOTS  # file names only: matplotlib loads when plotting
from safsim.util import Existing, git_revision, write_directory

__all__ = [
    "DEPENDENCIES",
    "OUTPUT_FILES",
    "OWN_FILES",
    "SUMMARY_FILE_COLUMNS",
    "build_manifest",
    "git_revision",
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
OWN_FILES: tuple[str, ...] = (*OUTPUT_FILES, *(f"plots/{name}" for name in STANDARD_PLOTS))
"""Every file safsim writes into a results directory (what ``existing="replace"`` deletes)."""
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
    existing: Existing = "refuse",
) -> dict[str, Path]:
    """Write ``results`` into ``out_dir`` atomically (see the module docstring).

    Files: ``runs.csv`` (one row per run), ``timeseries.csv`` (one row per run and step),
    ``authorities.csv`` (one row per run and authority),
    ``summary.csv`` (columns ``SUMMARY_FILE_COLUMNS``, one row per outcome),
    ``manifest.json`` (see ``build_manifest``) and, unless ``plots`` is false, the standard
    plots under ``plots/``.

    Args:
        results: the replicate tables to write.
        out_dir: target directory; created (with parents) if missing.
        argv: the command line that produced the results, recorded in the manifest.
        scenario_source: where the scenario came from (path or bundled name), recorded.
        plots: also write ``plots/*.png``.
        wall_time_s: wall-clock seconds of the whole set of runs, recorded if given.
        extra: further JSON-serialisable entries for the manifest (e.g. ``run_seed``).
        existing: when ``out_dir`` already holds files: ``"refuse"`` (the default) raises
            ``safsim.util.DirectoryNotEmptyError`` before anything is written; ``"replace"``
            deletes the files of an earlier run (``OWN_FILES``) and keeps any others;
            ``"merge"`` overwrites files of the same names and keeps the rest.

    Returns:
        Final paths keyed by their name relative to ``out_dir`` (e.g. ``"runs.csv"``,
        ``"plots/income_fan.png"``).

    Raises:
        NotADirectoryError: ``out_dir`` (or one of its parents) exists and is not a directory.
        DirectoryNotEmptyError: ``out_dir`` holds files and ``existing`` is ``"refuse"``.
        OSError: the files could not be written; nothing is left behind.
    """
    out_dir = Path(out_dir)

    def write(tmp: Path) -> list[str]:
        return _write_all(
            results,
            tmp,
            argv=argv,
            scenario_source=scenario_source,
            plots=plots,
            wall_time_s=wall_time_s,
            extra=extra,
        )

    relative = write_directory(out_dir, write, own=OWN_FILES, existing=existing)
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
