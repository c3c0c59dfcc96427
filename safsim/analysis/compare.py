"""Compare scenarios on common random numbers: medians, paired differences and effect sizes.

Objects:
    Comparison: the per-arm runs of a comparison and its table (one row per outcome and arm).
    compare(scenarios, n, seed, outcomes, workers): run every scenario on the same seeds and
        build the table.
    comparison_table(arms, seeds, outcomes, root_seed): the table from per-arm runs tables.
    cliffs_delta(x, y): Cliff's delta of two samples.
    format_comparison(table): the table ``safsim compare`` prints.
    write_comparison(comparison, out_dir, ...): compare.csv, runs.csv, timeseries.csv,
        forest.png and manifest.json, all or nothing.
    COMPARE_COLUMNS, COMPARE_COLUMN_DESCRIPTIONS, COMPARE_FILES: the columns of compare.csv,
        what each means, and the files a comparison folder holds.

Common random numbers.  Every arm runs with the seeds ``child_seeds(root_seed, n)``, the same
list for every arm, so run *i* of every arm starts from the same random streams and the
difference between arms in run *i* is due to the scenarios, not to luck.  The paired
difference of an outcome is the mean over seeds of ``arm - first arm``; its 95% interval is a
percentile bootstrap over seeds (``safsim.analysis.validation.bootstrap_mean_ci``) and its
p-value a sign-flip permutation test (``validation.sign_flip_pvalue``), with draws from a
generator seeded from the root seed, the outcome and the arm, so a table is reproducible.
Cliff's delta (P(arm > first) - P(arm < first) over all pairs of runs, between -1 and 1)
says how often one arm's runs beat the other's, whatever the outcome's unit.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safsim import outcomes as glossary
from safsim.analysis.validation import bootstrap_mean_ci, paired_differences, sign_flip_pvalue
from safsim.config import Scenario
from safsim.experiments.replicates import Results, run_batches
from safsim.metrics import ALL_OUTCOMES, HEADLINE_OUTCOMES
from safsim.runner import child_seeds
from safsim.util import Existing, git_revision, write_directory

__all__ = [
    "COMPARE_COLUMNS",
    "COMPARE_COLUMN_DESCRIPTIONS",
    "COMPARE_FILES",
    "Comparison",
    "cliffs_delta",
    "compare",
    "comparison_table",
    "format_comparison",
    "write_comparison",
]

COMPARE_COLUMN_DESCRIPTIONS: dict[str, str] = {
    "outcome": "the outcome's column name in runs.csv",
    "label": "the outcome's label (docs/outputs.md)",
    "unit": "the outcome's unit",
    "arm": "position of the scenario on the command line (1 is the reference arm)",
    "scenario": "the arm's label: the scenario's name, plus its own --set overrides",
    "n": "runs where the outcome is defined",
    "median": "median over the arm's runs",
    "p5": "5th percentile over the arm's runs (the 90% interval is p5 to p95)",
    "p95": "95th percentile over the arm's runs",
    "mean": "mean over the arm's runs",
    "diff": "mean over seeds of the paired difference, this arm minus arm 1 (empty for arm 1)",
    "diff_ci_low": "lower end of the 95% percentile bootstrap interval of diff",
    "diff_ci_high": "upper end of that interval",
    "p_value": "two-sided sign-flip permutation p-value of diff = 0",
    "cliffs_delta": "Cliff's delta of this arm against arm 1: P(arm > arm 1) - P(arm < arm 1), from -1 to 1",
    "n_pairs": "seeds where the outcome is defined in both arms",
}
"""What each column of compare.csv means (keys: ``COMPARE_COLUMNS``)."""

COMPARE_COLUMNS: tuple[str, ...] = tuple(COMPARE_COLUMN_DESCRIPTIONS)
"""The columns of compare.csv (and of ``Comparison.table``), one row per outcome and arm."""

COMPARE_FILES: tuple[str, ...] = ("compare.csv", "runs.csv", "timeseries.csv", "forest.png", "manifest.json")
"""The files ``write_comparison`` writes (report.html is added by ``safsim report``)."""

CI_LEVEL = 0.95
COMPARISON_FORMAT = 1

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Comparison:
    """Scenarios run on common random numbers, and their comparison.

    Attributes:
        labels: one label per arm (the scenario's name, made unique), the reference first.
        results: the runs of each arm (``Results``), in arm order; every arm has the same seeds.
        table: one row per outcome and arm, columns ``COMPARE_COLUMNS``.
        root_seed: the root seed the common seeds were spawned from.
        seeds: the common per-run seeds.
        outcomes: the outcomes compared, in table order.
        wall_time_s: wall-clock seconds of all the runs.
    """

    labels: tuple[str, ...]
    results: tuple[Results, ...]
    table: pd.DataFrame
    root_seed: int
    seeds: tuple[int, ...]
    outcomes: tuple[str, ...]
    wall_time_s: float = 0.0
    sources: tuple[str | None, ...] = field(default=())

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        """The scenarios of the arms, in arm order."""
        return tuple(r.scenario for r in self.results)

    def runs(self) -> pd.DataFrame:
        """Every arm's runs table stacked, with ``arm`` and ``arm_label`` columns first."""
        return _stack([r.runs for r in self.results], self.labels)

    def timeseries(self) -> pd.DataFrame:
        """Every arm's time-series table stacked, with ``arm`` and ``arm_label`` columns first."""
        return _stack([r.timeseries for r in self.results], self.labels)


def _stack(frames: Sequence[pd.DataFrame], labels: Sequence[str]) -> pd.DataFrame:
    parts = []
    for i, (df, lab) in enumerate(zip(frames, labels, strict=True), start=1):
        d = df.copy()
        d.insert(0, "arm_label", lab)
        d.insert(0, "arm", i)
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def unique_labels(names: Sequence[str]) -> list[str]:
    """``names`` made unique: a repeated name gets `` #k`` (its 1-based arm position)."""
    counts = {n: names.count(n) for n in names}
    return [n if counts[n] == 1 else f"{n} #{i}" for i, n in enumerate(names, start=1)]


def resolve_outcomes(outcomes: Sequence[str] | str | None) -> list[str]:
    """The outcomes to compare: None for the headline outcomes, ``"all"`` for every outcome.

    Raises:
        ValueError: an unknown outcome name (the closest names suggested).
    """
    if outcomes is None:
        return list(HEADLINE_OUTCOMES)
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    if list(outcomes) == ["all"]:
        return list(ALL_OUTCOMES)
    names = list(dict.fromkeys(outcomes))
    for name in names:
        if name not in ALL_OUTCOMES:
            try:
                glossary.outcome(name)
            except KeyError as exc:
                raise ValueError(str(exc.args[0])) from None
            raise ValueError(f"{name!r} is not an outcome of runs.csv")
    if not names:
        raise ValueError("no outcomes to compare")
    return names


def cliffs_delta(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Cliff's delta of ``x`` against ``y``: P(X > Y) - P(X < Y) over all pairs (NaNs dropped).

    Between -1 (every x below every y) and 1 (every x above every y); 0 for identical samples.
    NaN when either sample has no finite value.
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    a = a[np.isfinite(a)]
    b = b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    signs = np.sign(a[:, None] - b[None, :])
    return float(signs.mean())


def _rng(root_seed: int, outcome: str, arm: int) -> np.random.Generator:
    return np.random.default_rng([int(root_seed), zlib.crc32(f"{outcome}|{arm}".encode()), 7])


def _quantiles(x: np.ndarray, integer: bool) -> tuple[float, float, float]:
    if x.size == 0:
        return math.nan, math.nan, math.nan
    method = "inverted_cdf" if integer else "linear"
    p5, med, p95 = np.quantile(x, [0.05, 0.5, 0.95], method=method)
    return float(p5), float(med), float(p95)


def comparison_table(
    arms: Sequence[pd.DataFrame],
    labels: Sequence[str],
    seeds: Sequence[int],
    outcomes: Sequence[str],
    root_seed: int,
) -> pd.DataFrame:
    """The comparison table of per-arm runs tables on common seeds (columns ``COMPARE_COLUMNS``).

    Args:
        arms: one runs table per arm (columns ``seed`` and the outcomes), the reference first.
        labels: one label per arm.
        seeds: the common seeds (pairs are matched on the ``seed`` column).
        outcomes: the outcome columns to compare.
        root_seed: seeds the bootstrap and permutation draws.
    """
    by_seed = [a.set_index("seed") for a in arms]
    rows: list[dict[str, Any]] = []
    for name in outcomes:
        entry = glossary.outcome(name)
        ref = pd.to_numeric(by_seed[0][name], errors="coerce")
        for i, (runs, lab) in enumerate(zip(by_seed, labels, strict=True), start=1):
            col = pd.to_numeric(runs[name], errors="coerce")
            x = col.to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            p5, med, p95 = _quantiles(x, entry.integer)
            row: dict[str, Any] = {
                "outcome": name,
                "label": entry.label,
                "unit": entry.unit,
                "arm": i,
                "scenario": lab,
                "n": int(x.size),
                "median": med,
                "p5": p5,
                "p95": p95,
                "mean": float(x.mean()) if x.size else math.nan,
                "diff": math.nan,
                "diff_ci_low": math.nan,
                "diff_ci_high": math.nan,
                "p_value": math.nan,
                "cliffs_delta": math.nan,
                "n_pairs": 0,
            }
            if i > 1:
                d = paired_differences(col, ref, seeds)
                rng = _rng(root_seed, name, i)
                lo, hi = bootstrap_mean_ci(d, rng, level=CI_LEVEL)
                row |= {
                    "diff": float(d.mean()) if d.size else math.nan,
                    "diff_ci_low": lo,
                    "diff_ci_high": hi,
                    "p_value": sign_flip_pvalue(d, rng),
                    "cliffs_delta": cliffs_delta(col.to_numpy(dtype=float), ref.to_numpy(dtype=float)),
                    "n_pairs": int(d.size),
                }
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def _as_scenario(item: Scenario | str | Path) -> tuple[Scenario, str | None]:
    if isinstance(item, Scenario):
        return item, None
    from safsim.scenario import load_scenario

    return load_scenario(str(item)), str(item)


def compare(
    scenarios: Sequence[Scenario | str],
    n: int | None = None,
    seed: int | None = None,
    outcomes: Sequence[str] | None = None,
    workers: int = 1,
    *,
    labels: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> Comparison:
    """Run every scenario on the same seeds and compare each with the first.

    Args:
        scenarios: two or more Scenarios, bundled scenario names or scenario files; the first
            is the reference arm.
        n: runs per arm (default: the first scenario's ``replicates``).
        seed: root seed of the common seeds (default: the first scenario's ``seed``).
        outcomes: outcome columns to compare (default: the headline outcomes; ``["all"]`` for
            every outcome of runs.csv).
        workers: worker processes; results do not depend on this number.
        labels: one label per arm (default: the scenarios' names, made unique).
        progress: called as ``progress(done, total)`` as runs complete.

    Returns:
        The Comparison: per-arm ``results`` and the ``table`` (``COMPARE_COLUMNS``).

    Raises:
        ValueError: fewer than two scenarios, fewer than two runs, labels of the wrong number,
            or an unknown outcome.
    """
    loaded = [_as_scenario(s) for s in scenarios]
    if len(loaded) < 2:
        raise ValueError("compare needs at least two scenarios")
    first = loaded[0][0]
    n = first.replicates if n is None else int(n)
    if n < 2:
        raise ValueError("compare needs at least two runs per arm")
    root = first.seed if seed is None else int(seed)
    names = resolve_outcomes(outcomes)
    if labels is None:
        labels = unique_labels([s.name for s, _ in loaded])
    labels = list(labels)
    if len(labels) != len(loaded) or len(set(labels)) != len(labels):
        raise ValueError("labels must give one distinct label per scenario")
    seeds = child_seeds(root, n)
    t0 = time.perf_counter()
    results = run_batches(
        [(s, seeds) for s, _ in loaded], workers=workers, progress=progress, root_seeds=[root] * len(loaded)
    )
    wall = time.perf_counter() - t0
    table = comparison_table([r.runs for r in results], labels, seeds, names, root)
    return Comparison(
        labels=tuple(labels),
        results=tuple(results),
        table=table,
        root_seed=root,
        seeds=tuple(seeds),
        outcomes=tuple(names),
        wall_time_s=wall,
        sources=tuple(src for _, src in loaded),
    )


# --------------------------------------------------------------------------------------
# Printing and writing
# --------------------------------------------------------------------------------------


def _fmt(name: str, x: float) -> str:
    from safsim.outcomes import format_value

    return format_value(name, x)


def format_comparison(table: pd.DataFrame) -> str:
    """The comparison table as ``safsim compare`` prints it: one block per outcome.

    Each block is headed by the outcome's label and unit; one line per arm gives the median
    and 90% interval, and for arms after the first the paired difference with its 95%
    bootstrap interval, the p-value and Cliff's delta.
    """
    arms = table.drop_duplicates("arm")[["arm", "scenario"]].itertuples(index=False)
    arm_labels = {int(a): str(s) for a, s in arms}
    ref = arm_labels.get(1, "arm 1")
    n_max = int(table["n"].max()) if len(table) else 0
    lw = max(len(s) for s in [*arm_labels.values(), "scenario"]) + 2
    lines = [
        f"Comparison on common random numbers ({n_max} runs per arm, the same seeds in every arm); "
        f"differences are each arm minus {ref}",
        f"  {'scenario':<{lw}}{'median':>12}  {'90% interval':<26}{'difference [95% CI]':<36}{'p':>7}{'delta':>8}",
    ]
    for name, block in table.groupby("outcome", sort=False):
        lines.append("")
        lines.append(glossary.label_with_unit(str(name)))
        for r in block.itertuples(index=False):
            interval = f"{_fmt(name, r.p5)} to {_fmt(name, r.p95)}" if math.isfinite(r.p5) else "n/a"
            if r.arm == 1:
                diff, p, delta = "(reference)", "", ""
            else:
                diff = f"{_signed(name, r.diff)} [{_signed(name, r.diff_ci_low)}, {_signed(name, r.diff_ci_high)}]"
                p = "n/a" if not math.isfinite(r.p_value) else f"{r.p_value:.3f}"
                delta = "n/a" if not math.isfinite(r.cliffs_delta) else f"{r.cliffs_delta:+.2f}"
            lines.append(f"  {r.scenario:<{lw}}{_fmt(name, r.median):>12}  {interval:<26}{diff:<36}{p:>7}{delta:>8}")
    lines += [
        "",
        "Key: median and 90% interval (p5 to p95) over each arm's runs; difference = mean over seeds of the paired",
        "difference with its 95% bootstrap interval; p = sign-flip permutation p-value; delta = Cliff's delta",
        "(-1 to 1: how often the arm's runs are above the reference's). Units and columns: docs/outputs.md.",
    ]
    return "\n".join(lines)


def _signed(name: str, x: float) -> str:
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    text = _fmt(name, x) if float(x) != 0 else _fmt(name, 0.0)
    return text if text.startswith("-") else f"+{text}"


def _manifest(
    comparison: Comparison, *, argv: list[str] | None, overrides: Sequence[Sequence[str]] | None, files: list[str]
) -> dict[str, Any]:
    from safsim.output import _safsim_version, scenario_sha256

    revision, dirty = git_revision()
    arms = []
    for i, (lab, res) in enumerate(zip(comparison.labels, comparison.results, strict=True)):
        arms.append(
            {
                "arm": i + 1,
                "label": lab,
                "scenario_source": comparison.sources[i] if i < len(comparison.sources) else None,
                "overrides": list(overrides[i]) if overrides is not None else [],
                "scenario_name": res.scenario.name,
                "scenario_sha256": scenario_sha256(res.scenario),
                "scenario": res.scenario.model_dump(mode="json"),
            }
        )
    return {
        "safsim_comparison_format": COMPARISON_FORMAT,
        "kind": "comparison",
        "safsim_version": _safsim_version(),
        "git_revision": revision,
        "git_dirty": dirty,
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "argv": list(argv) if argv is not None else None,
        "root_seed": int(comparison.root_seed),
        "n_runs": len(comparison.seeds),
        "seeds": [int(s) for s in comparison.seeds],
        "outcomes": list(comparison.outcomes),
        "arms": arms,
        "workers": int(comparison.results[0].workers),
        "wall_time_s": round(float(comparison.wall_time_s), 3),
        "files": files,
    }


def write_comparison(
    comparison: Comparison,
    out_dir: str | Path,
    *,
    argv: list[str] | None = None,
    overrides: Sequence[Sequence[str]] | None = None,
    plots: bool = True,
    existing: Existing = "refuse",
) -> Path:
    """Write compare.csv, runs.csv, timeseries.csv, forest.png and manifest.json, all or nothing.

    runs.csv and timeseries.csv stack every arm's tables with ``arm`` and ``arm_label``
    columns first.  The manifest records every arm's full scenario, the common seeds and the
    command line (``safsim.util.write_directory``: a folder holding files is refused unless
    ``existing`` says otherwise).
    """
    out = Path(out_dir)

    def write(tmp: Path) -> list[str]:
        written = []
        comparison.table.to_csv(tmp / "compare.csv", index=False)
        written.append("compare.csv")
        comparison.runs().to_csv(tmp / "runs.csv", index=False)
        written.append("runs.csv")
        comparison.timeseries().to_csv(tmp / "timeseries.csv", index=False)
        written.append("timeseries.csv")
        if plots:
            from safsim.plotting import forest_plot

            forest_plot(comparison.table, tmp / "forest.png")
            written.append("forest.png")
        manifest = _manifest(comparison, argv=argv, overrides=overrides, files=[*written, "manifest.json"])
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        written.append("manifest.json")
        return written

    write_directory(out, write, own=(*COMPARE_FILES, "report.html"), existing=existing)
    return out
