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

from safsim.config import Scenario
from safsim.experiments.replicates import Results
from safsim.metrics import ALL_OUTCOMES
from safsim.plotting import STANDARD_PLOTS  # file names only: matplotlib loads when plotting
from safsim.summary import SUMMARY_COLUMNS, summarise
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
# report.html is written by `safsim report` / `run --report` (safsim.analysis.report.REPORT_FILE).
OWN_FILES: tuple[str, ...] = (*OUTPUT_FILES, *(f"plots/{name}" for name in STANDARD_PLOTS), "report.html")
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


# --------------------------------------------------------------------------------------
# docs/outputs.md, generated from the outcome glossary (safsim.outcomes)
# --------------------------------------------------------------------------------------

FILE_DESCRIPTIONS: dict[str, str] = {
    "runs.csv": "one row per run: the identifying columns, then every outcome of the run",
    "timeseries.csv": "one row per run and quarter: `run_id`, `replicate`, `seed`, then the state of the field",
    "authorities.csv": "one row per run and authority (commissioner): `run_id`, `replicate`, `seed`, then the "
    "authority's practice at the end of the run",
    "summary.csv": "one row per outcome of runs.csv: its distribution over the runs",
    "manifest.json": "provenance: versions, git revision, the full scenario and its hash, every run's seed, timings",
}
"""What each file of a results directory holds (one line each)."""

PLOT_DESCRIPTIONS: dict[str, str] = {
    "income_fan.png": "contract income per quarter, one panel per provider kind: the median over runs with "
    "25-75% and 5-95% bands, and a last panel overlaying the medians",
    "outcome_distributions.png": "a histogram of each headline outcome over the runs, each run a tick, the median "
    "dashed",
    "field_state.png": "per quarter, the share of runs in each field state (top) and the median trust and "
    "contention with their 25-75% bands (bottom)",
}
"""What each standard plot shows (keys: ``safsim.plotting.STANDARD_PLOTS``)."""

SUMMARY_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "outcome": "the outcome's column name in runs.csv",
    "mean": "mean over the runs where the outcome is defined",
    "sd": "standard deviation over those runs (n - 1 denominator; 0 for a single run)",
    "p5": "5th percentile (linear interpolation)",
    "p25": "25th percentile",
    "median": "median",
    "p75": "75th percentile",
    "p95": "95th percentile",
}
"""The columns of summary.csv (keys: ``SUMMARY_FILE_COLUMNS``)."""

MANIFEST_DESCRIPTIONS: dict[str, str] = {
    "manifest_format": "version of this layout (1)",
    "safsim_version": "installed safsim version",
    "python_version": "Python version",
    "python_implementation": "Python implementation (CPython, ...)",
    "platform": "operating system and machine",
    "dependencies": "name -> installed version of each main dependency (null if missing)",
    "git_revision": "commit of the checkout holding the package (null outside a git checkout)",
    "git_dirty": "whether that checkout had uncommitted changes (null outside a git checkout)",
    "created_utc": "when the files were written (UTC, ISO 8601)",
    "argv": "the command line that produced the results",
    "scenario_source": "the scenario as given: a file path or a bundled name",
    "scenario_name": "the scenario's `name`",
    "scenario_sha256": "SHA-256 of the scenario's canonical JSON (same hash, same scenario)",
    "scenario": "every setting of the scenario as run, defaults included",
    "root_seed": "the root seed the runs' seeds were spawned from (null for --run-seed)",
    "n_runs": "number of runs",
    "seeds": "every run's seed, in run_id order",
    "runs": "per run: `run_id`, `seed` and `elapsed_s` (seconds)",
    "total_run_time_s": "sum of the runs' times in seconds",
    "wall_time_s": "wall-clock seconds of the whole set of runs",
    "workers": "worker processes used (results do not depend on it)",
    "files": "every file written, relative to the directory, manifest.json last",
    "run_seed": "only with `safsim run --run-seed`: the seed of the single run",
}
"""Every key of manifest.json (see ``build_manifest``)."""

EMPTY_WHEN: dict[str, str] = {
    "hhi": "no contract was awarded",
    "top10pct_value_share": "no contract was awarded",
    "mean_contract_value_gbp": "no contract was awarded",
    "bids_per_tender": "no tender was run",
    "bid_rate_sme_vso": "no small VSO had a tender it could bid for",
    "win_rate_sme_vso": "no small VSO bid",
    "sv_gap": "no social value was claimed",
    "sv_hard_share": "no social value was claimed",
    "sv_per_gbp": "nothing was paid on contracts",
    "winner_changed_by_sv": "no contract was awarded",
    "mean_sv_weight": "no tender was run",
    "codesign_rate": "no tender was run",
    "monitoring_rate_realised": "no contract was awarded",
    "price_to_cost_ratio": "no contract was delivered",
    "sv_per_gbp_sme_vso": "small VSOs won no contract",
    "sv_per_gbp_large_charity": "large charities won no contract",
    "sv_per_gbp_corporate": "corporates won no contract",
    "sv_per_gbp_social_enterprise": "social enterprises won no contract",
    "sv_per_gbp_consortium": "no consortium of small VSOs won a contract, which is the usual case: "
    "consortia form only where lotting and trust allow, so this column is mostly empty",
    "sv_gap_monitored": "no contract with claimed social value was monitored",
    "sv_gap_unmonitored": "every contract with claimed social value was monitored",
    "engagement_rate": "no tender was run",
    "supplier_defined_rate": "no tender was run",
    "codefined_rate": "no tender was run",
    "engagement_participation_rate": "no provider was invited to engagement",
    "engagement_cost_unpaid_per_round_gbp": "no engagement round was held",
    "bid_rate_codesign_participants": "no small VSO took part in co-design and then had a tender to bid for, "
    "which is the usual case outside the co-design scenarios, so this column is mostly empty",
    "criteria_awareness_sme_vso": "no small VSO was active at the end",
    "criteria_awareness_perceived": "commissioners saw no bidders",
    "sv_score_sme_vso": "no small-VSO bid was marked on social value",
    "vso_la_income_share": "small VSOs had no income",
    "vso_fundraising_share": "small VSOs had no income",
    "subsidy_share_large_charity": "large charities delivered no contract",
    "reserves_change_large_charity": "the run started without large charities",
    "sv_weight_sd_authorities": "the field has a single authority",
    "share_value_sme_vso": "no contract was awarded",
    "share_value_large_charity": "no contract was awarded",
    "share_value_corporate": "no contract was awarded",
    "share_value_social_enterprise": "no contract was awarded",
    "share_value_consortium": "no contract was awarded",
    "survival_sme_vso": "the run started without small VSOs",
    "contention_mean": "the run has no steps",
    "state_share_settled": "the run has no steps",
    "state_share_crisis": "the run has no steps",
    "state_share_resettlement": "the run has no steps",
}
"""When an outcome is empty (NaN in the CSV): the quantity it divides by was zero in that run."""

OUTPUTS_DOC_COMMAND = "python -m safsim.output > docs/outputs.md"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _column_table(columns: dict[str, Any], empty: dict[str, str] | None = None) -> list[str]:
    from safsim.outcomes import TEXT

    head = "| column | label | unit | meaning |"
    rows = [head, "|---|---|---|---|"]
    for name, o in columns.items():
        meaning = o.meaning
        if empty is not None and name in empty:
            meaning += f" Empty when {empty[name]}."
        unit = "" if o.unit == TEXT else o.unit
        if o.integer and o.unit != "count":
            unit += " (whole number)"
        rows.append(f"| `{name}` | {_md(o.label)} | {_md(unit)} | {_md(meaning)} |")
    return rows


def render_outputs_doc() -> str:
    """The text of docs/outputs.md: every file of a results directory and every column.

    Generated from the outcome glossary (``safsim.outcomes``) and the descriptions in this
    module, so the document cannot drift from the code; tests/test_docs.py checks that the
    committed file equals this text.  Regenerate with ``python -m safsim.output > docs/outputs.md``.
    """
    from safsim import outcomes

    lines = [
        "# Output files",
        "",
        f"<!-- Generated from safsim/outcomes.py and safsim/output.py by `{OUTPUTS_DOC_COMMAND}`; do not edit. -->",
        "",
        "`safsim run` writes one results directory (`results/<scenario>-<YYYYmmdd-HHMMSS>/`, or `--out DIR`). "
        "It is written all or nothing, and a directory that already holds files is refused unless `--force` is "
        "given, which first deletes only the files listed here. `safsim validate` writes its own report "
        "directory, described in [validation.md](validation.md).",
        "",
        "| file | what it holds |",
        "|---|---|",
        *(f"| `{name}` | {_md(text)} |" for name, text in FILE_DESCRIPTIONS.items()),
        *(f"| `plots/{name}` | {_md(PLOT_DESCRIPTIONS[name])} |" for name in STANDARD_PLOTS),
        "",
        "Any row of runs.csv can be reproduced alone: `safsim run SCENARIO --run-seed SEED` with the row's `seed`.",
        "",
        "## Units",
        "",
        "| unit | meaning |",
        "|---|---|",
        *(f"| {_md(u)} | {_md(text)} |" for u, text in outcomes.UNITS.items()),
        "",
        "## Empty cells",
        "",
        "An outcome that is a share, rate or ratio is left empty (NaN) in a run where the quantity it divides "
        "by is zero, for example a win rate when nobody bid; the column says when. Two columns of runs.csv are "
        "empty in most runs of most scenarios: `sv_per_gbp_consortium` (consortia of small VSOs seldom win) and "
        "`bid_rate_codesign_participants` (there is seldom co-design outside the co-design scenarios). "
        "summary.csv summarises only the runs where an outcome is defined; an outcome empty in every run has "
        "empty statistics. In timeseries.csv, `bid_rate_sme_vso` is empty in a quarter with no open tender.",
        "",
        "## runs.csv",
        "",
        "The identifying columns, then the outcomes in this order. The outcomes of the groups other than "
        "*validation* are printed by `safsim run`; the *validation* outcomes serve the stylized facts "
        "([stylized-facts.md](stylized-facts.md)).",
        "",
        *_column_table(outcomes.ID_COLUMNS),
    ]
    for group in outcomes.GROUPS:
        members = {n: o for n, o in outcomes.OUTCOMES.items() if o.group == group}
        if not members:
            continue
        lines += ["", f"### {group.capitalize()}", "", *_column_table(members, EMPTY_WHEN)]
    ids = {n: outcomes.ID_COLUMNS[n] for n in ("run_id", "replicate", "seed")}
    lines += [
        "",
        "## timeseries.csv",
        "",
        "`run_id`, `replicate` and `seed` as in runs.csv, then one row per quarter:",
        "",
        *_column_table({**ids, **outcomes.TIMESERIES}),
        "",
        "## authorities.csv",
        "",
        "`run_id`, `replicate` and `seed` as in runs.csv, then one row per authority at the end of the run:",
        "",
        *_column_table({**ids, **outcomes.AUTHORITY}),
        "",
        "## summary.csv",
        "",
        "| column | meaning |",
        "|---|---|",
        *(f"| `{c}` | {_md(SUMMARY_COLUMN_DESCRIPTIONS[c])} |" for c in SUMMARY_FILE_COLUMNS),
        "",
        "## manifest.json",
        "",
        "| key | meaning |",
        "|---|---|",
        *(f"| `{k}` | {_md(v)} |" for k, v in MANIFEST_DESCRIPTIONS.items()),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_outputs_doc(), end="")
