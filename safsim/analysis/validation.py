"""Pattern-oriented validation: run the stylized-fact experiments and judge each criterion.

Objects:
    Mode: ``full`` (the verdicts that count) or ``quick`` (fewer replicates, direction only).
    MODE_REPLICATES: replicates per arm of each mode; VALIDATION_SEED: the default root seed.
    N_BOOT: bootstrap resamples; N_PERM: permutations for p-values.
    bootstrap_mean_ci(values, rng): percentile bootstrap interval of a mean.
    sign_flip_pvalue(values, rng): two-sided sign-flip permutation p-value of a mean against 0.
    paired_differences(arm, reference, seeds): per-seed differences of two arms run on common
        seeds (pairs with a missing value dropped); also used by ``safsim.analysis.compare``.
    zero_width(lo, hi): whether an interval is a single point.
    spearman(x, y): Spearman rank correlation (average ranks for ties).
    trend_statistics(levels, values, rng): Spearman over a sweep with a seed-cluster bootstrap
        interval and a within-seed permutation p-value.
    association_statistics(table, ...): Spearman or R-squared over a pooled per-authority
        table with a run-cluster bootstrap interval and a within-run permutation p-value.
    verdict(effect, ci_low, ci_high, expect, threshold, rule): pass or fail.
    CriterionResult: the judged outcome of one criterion (one row of facts.csv).
    ValidationResult: every criterion result, per-fact verdicts, raw tables and provenance.
    run_validation(facts, n_replicates, ...): simulate the arms (common seeds) and judge.
    evaluate_fact(fact, arm_results, rule, rng): judge one fact from simulated arms.
    format_table(result): the table ``safsim validate`` prints.
    convergence_table(runs, outcomes): running mean, cv and interval width against replicates.
    power_table(result): per criterion, standard error, detectable effect and the reliability
        of the quick check.
    write_validation(result, out_dir, plots=True): facts.csv, report.md, power.csv,
        convergence.csv, plots/, raw/ and manifest.json, all or nothing.
    read_verdicts(path): per-fact verdicts of a written facts.csv.
    render_docs_block(report_dir), update_docs(doc_path, report_dir): the generated report
        block of docs/validation.md, rendered from a written report directory.

Verdicts.  ``full`` mode (``rule="ci"``): a criterion passes when its 95% interval lies on the
expected side of its threshold (strictly for ``greater``/``less``; touching allowed for
``at_least``/``at_most``).  ``quick`` mode (``rule="direction"``): when the point estimate lies
on the expected side; it is a cheap regression check of the direction of facts that pass in
full mode, not a substitute for it.  A fact passes when all its counted criteria pass.

Randomness.  The simulations use seeds ``child_seeds(root, n)``, the same list for every arm
(common random numbers; the quick seeds are the first ones of the full list).  Bootstrap and
permutation draws come from a ``numpy.random.Generator`` seeded from the root seed and the
criterion id, so a report is reproducible from its root seed.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from safsim.analysis.facts import (
    Arm,
    AuthorityAssociation,
    AuthorityStat,
    Contrast,
    Criterion,
    Expect,
    Fact,
    Trend,
    fact_class,
)
from safsim.metrics import HEADLINE_OUTCOMES
from safsim.util import Existing, git_revision, write_directory

if TYPE_CHECKING:  # pragma: no cover
    from safsim.experiments.replicates import Results

__all__ = [
    "MODE_REPLICATES",
    "N_BOOT",
    "N_PERM",
    "REPORT_COLUMNS",
    "REPORT_FILES",
    "VALIDATION_SEED",
    "CriterionResult",
    "Mode",
    "ValidationResult",
    "ZERO_WIDTH_FLAG",
    "association_statistics",
    "bootstrap_mean_ci",
    "convergence_table",
    "evaluate_fact",
    "format_table",
    "headline",
    "paired_differences",
    "power_table",
    "read_verdicts",
    "render_docs_block",
    "run_validation",
    "sign_flip_pvalue",
    "spearman",
    "trend_statistics",
    "update_docs",
    "verdict",
    "write_validation",
    "zero_width",
]


class Mode(StrEnum):
    """``full``: the verdicts that count (CI rule); ``quick``: a fast direction check."""

    full = "full"
    quick = "quick"

    @property
    def rule(self) -> str:
        return "ci" if self is Mode.full else "direction"


MODE_REPLICATES: dict[Mode, int] = {Mode.full: 60, Mode.quick: 15}
"""Replicates per arm; docs/validation.md gives the convergence and power argument."""
VALIDATION_SEED = 20260404
"""Default root seed of the validation experiments."""
N_BOOT = 2000
N_PERM = 2000
CI_LEVEL = 0.95
_EPS = 1e-9
_EXACT_SIGN_FLIP_MAX_N = 16

REPORT_COLUMNS: tuple[str, ...] = (
    "fact",
    "criterion",
    "claim",
    "expected",
    "metric",
    "test",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "n_replicates",
    "verdict",
    "fact_verdict",
    "counted",
    "n_used",
    "expect",
    "threshold",
    "rule",
    "arms",
    "title",
    "strength",
    "evidence",
    "experiment",
    "theoretical",
    "note",
    "origin",
    "origin_reason",
    "fact_class",
    "zero_width",
)
"""Columns of facts.csv: the issue's eleven first, then context; ``origin`` (emergent,
constrained or input) and its reason, the fact's class (emergent or input check) and whether
the criterion's interval has zero width."""

ZERO_WIDTH_FLAG = "zero-width interval: the arms give the same value in every replicate"
"""What the report says of a criterion whose interval has zero width (lower == upper)."""

ProgressCallback = Callable[[int, int], None]
RunSeeds = Callable[..., "Results"]


# --------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------


def bootstrap_mean_ci(
    values: Sequence[float] | np.ndarray,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    level: float = CI_LEVEL,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaNs dropped).

    Returns (nan, nan) for fewer than two finite values.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan"), float("nan")
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def sign_flip_pvalue(values: Sequence[float] | np.ndarray, rng: np.random.Generator, n_perm: int = N_PERM) -> float:
    """Two-sided p-value of ``mean(values) = 0`` by flipping the signs of the values.

    Under the null of a distribution symmetric about 0 (paired differences over common seeds)
    every sign pattern is equally likely.  Exact enumeration for up to 16 values, otherwise
    ``n_perm`` random patterns (p = (1 + hits) / (1 + n_perm)).  All-zero values give 1.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return float("nan")
    observed = abs(float(x.mean()))
    if np.all(x == 0.0):
        return 1.0
    tol = 1e-12 * max(1.0, float(np.abs(x).max()))
    if n <= _EXACT_SIGN_FLIP_MAX_N:
        patterns = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2 - 1
        stats = np.abs(patterns @ x) / n
        return float(np.mean(stats >= observed - tol))
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_perm, n))
    stats = np.abs(signs @ x) / n
    return float((1 + np.sum(stats >= observed - tol)) / (1 + n_perm))


def paired_differences(arm: pd.Series, reference: pd.Series, seeds: Sequence[int]) -> np.ndarray:
    """Per-seed differences ``arm - reference`` of two per-seed series, in ``seeds`` order.

    Both series are indexed by seed (common random numbers: the same seed in both arms); the
    pairs where either value is missing or not finite are dropped.
    """
    values = _aligned([arm, reference], seeds)
    ok = np.all(np.isfinite(values), axis=1)
    return values[ok, 0] - values[ok, 1]


def _rank_rows(a: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank)."""
    from scipy.stats import rankdata

    return rankdata(a, axis=-1)


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis; NaN where either side is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    num = (xc * yc).sum(axis=-1)
    den = np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return r


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation of two equal-length samples (NaN pairs dropped).

    Returns NaN when fewer than three pairs remain or either sample is constant.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    if ok.sum() < 3:
        return float("nan")
    return float(_pearson_rows(_rank_rows(xa[ok]), _rank_rows(ya[ok])))


def _quantiles(samples: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float]:
    s = samples[np.isfinite(samples)]
    if s.size < 2:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(s, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def trend_statistics(
    levels: Sequence[float] | np.ndarray,
    values: np.ndarray,
    rng: np.random.Generator,
    n_boot: int = N_BOOT,
    n_perm: int = N_PERM,
) -> tuple[float, float, float, float, int]:
    """Spearman correlation between lever levels and an outcome over common seeds.

    Args:
        levels: the lever value of each arm (length L).
        values: outcomes, shape (seeds, L); a seed with any NaN is dropped.
        rng: generator for the bootstrap and the permutations.

    Returns:
        (rho, ci_low, ci_high, p_value, seeds_used).  The interval resamples whole seeds (each
        brings all its levels); the p-value permutes the levels within each seed.
    """
    lv = np.asarray(levels, dtype=float)
    v = np.asarray(values, dtype=float)
    v = v[np.all(np.isfinite(v), axis=1)]
    n = v.shape[0]
    if n < 2:
        return float("nan"), float("nan"), float("nan"), float("nan"), n
    n_levels = lv.size
    x = np.tile(lv, n)
    rho = spearman(x, v.ravel())
    idx = rng.integers(0, n, size=(n_boot, n))
    boot_y = v[idx].reshape(n_boot, n * n_levels)
    boot_x = np.broadcast_to(x, boot_y.shape)
    boot = _pearson_rows(_rank_rows(boot_x), _rank_rows(boot_y))
    lo, hi = _quantiles(boot)
    # Permutation: shuffle which level each of a seed's values belongs to.
    perm_keys = rng.random((n_perm, n, n_levels))
    order = np.argsort(perm_keys, axis=2)
    perm_x = lv[order].reshape(n_perm, n * n_levels)
    ry = _rank_rows(v.ravel())
    perm = _pearson_rows(_rank_rows(perm_x), np.broadcast_to(ry, perm_x.shape))
    if not math.isfinite(rho):
        p = float("nan")
    else:
        perm = perm[np.isfinite(perm)]
        p = float((1 + np.sum(np.abs(perm) >= abs(rho) - 1e-12)) / (1 + perm.size))
    return rho, lo, hi, p, n


def _r_squared(y: np.ndarray, X: np.ndarray) -> float:
    """R-squared of an OLS fit of ``y`` on ``X`` (an intercept is added)."""
    A = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    tss = float(np.sum((y - y.mean()) ** 2))
    return float(1.0 - np.sum(resid**2) / tss) if tss > 0 else float("nan")


def association_statistics(
    table: pd.DataFrame,
    y: str,
    x: Sequence[str],
    stat: AuthorityStat,
    rng: np.random.Generator,
    group: str = "seed",
    n_boot: int = N_BOOT,
    n_perm: int = N_PERM,
) -> tuple[float, float, float, float, int]:
    """Spearman (``x[0]`` vs ``y``) or OLS R-squared (``y`` on ``x``) over a pooled table.

    Rows with a missing value are dropped.  The interval resamples whole groups (runs); the
    p-value permutes ``y`` within groups (the null: no association inside runs).

    Returns:
        (statistic, ci_low, ci_high, p_value, groups_used).
    """
    cols = [y, *x]
    t = table[[group, *cols]].apply(pd.to_numeric, errors="coerce")
    t[group] = table[group].to_numpy()
    t = t.dropna()
    groups = pd.unique(t[group])
    g = len(groups)
    if g < 2 or len(t) < 3:
        return float("nan"), float("nan"), float("nan"), float("nan"), g
    codes = pd.Categorical(t[group], categories=groups).codes
    members = [np.flatnonzero(codes == i) for i in range(g)]
    yv = t[y].to_numpy(dtype=float)
    X = t[list(x)].to_numpy(dtype=float)

    def statistic(rows: np.ndarray, yy: np.ndarray) -> float:
        if stat is AuthorityStat.spearman:
            return spearman(X[rows, 0], yy)
        return _r_squared(yy, X[rows])

    all_rows = np.arange(len(t))
    observed = statistic(all_rows, yv)
    boot = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, g, size=g)
        rows = np.concatenate([members[i] for i in pick])
        boot[b] = statistic(rows, yv[rows])
    lo, hi = _quantiles(boot)
    perm = np.empty(n_perm)
    for b in range(n_perm):
        yy = yv.copy()
        for m in members:
            yy[m] = yv[rng.permutation(m)]
        perm[b] = statistic(all_rows, yy)
    perm = perm[np.isfinite(perm)]
    if not math.isfinite(observed) or perm.size == 0:
        p = float("nan")
    elif stat is AuthorityStat.spearman:
        p = float((1 + np.sum(np.abs(perm) >= abs(observed) - 1e-12)) / (1 + perm.size))
    else:
        p = float((1 + np.sum(perm >= observed - 1e-12)) / (1 + perm.size))
    return observed, lo, hi, p, g


def verdict(
    effect: float,
    ci_low: float,
    ci_high: float,
    expect: Expect,
    threshold: float,
    rule: str = "ci",
) -> str:
    """``pass`` or ``fail`` of one criterion.

    ``rule="ci"``: the 95% interval is on the expected side of ``threshold`` (strictly for
    greater/less).  ``rule="direction"``: the point estimate is.  Missing numbers fail.
    """
    if rule not in ("ci", "direction"):
        raise ValueError(f"unknown rule {rule!r}")
    if rule == "direction":
        lo = hi = effect
    else:
        lo, hi = ci_low, ci_high
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "fail"
    ok = {
        Expect.greater: lo > threshold,
        Expect.less: hi < threshold,
        Expect.at_least: lo >= threshold - _EPS,
        Expect.at_most: hi <= threshold + _EPS,
    }[expect]
    return "pass" if ok else "fail"


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    """The judged outcome of one criterion (one row of facts.csv).

    ``data`` holds what the plots need (per-seed values, levels, pooled points).
    """

    fact: str
    criterion: str
    expected: str
    metric: str
    test: str
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    n_replicates: int
    n_used: int
    expect: Expect
    threshold: float
    rule: str
    verdict: str
    counted: bool
    arms: tuple[str, ...]
    note: str = ""
    kind: str = "contrast"
    data: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    origin: str = "emergent"
    origin_reason: str = ""

    @property
    def zero_width(self) -> bool:
        """True when the interval is a single point (lower == upper): no replicate varies."""
        return _zero_width(self.ci_low, self.ci_high)


def zero_width(lo: Any, hi: Any) -> bool:
    """True when ``lo`` and ``hi`` are finite and equal (to a relative 1e-12): a single point."""
    return _zero_width(lo, hi)


def _zero_width(lo: Any, hi: Any) -> bool:
    try:
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        return False
    return math.isfinite(lo) and math.isfinite(hi) and abs(hi - lo) <= 1e-12 * max(1.0, abs(lo), abs(hi))


def headline(verdicts: Mapping[str, str], classes: Mapping[str, str]) -> str:
    """``"12/14 emergent facts pass; 3/3 input checks hold"``.

    A fact is emergent when at least one of its counted criteria is emergent or constrained;
    a fact whose counted criteria all restate inputs is an input check (``facts.fact_class``).
    """
    emergent = [f for f in verdicts if classes.get(f, "emergent") != "input"]
    inputs = [f for f in verdicts if classes.get(f, "emergent") == "input"]
    ep = sum(verdicts[f] == "pass" for f in emergent)
    ip = sum(verdicts[f] == "pass" for f in inputs)
    return (
        f"{ep}/{len(emergent)} emergent fact{'' if len(emergent) == 1 else 's'} pass; "
        f"{ip}/{len(inputs)} input check{'' if len(inputs) == 1 else 's'} hold"
    )


@dataclass(frozen=True)
class ValidationResult:
    """Everything one ``safsim validate`` produced.

    Attributes:
        facts: the facts judged, in order.
        criteria: one CriterionResult per criterion, in fact order.
        mode: ``full`` or ``quick``; rule: ``ci`` or ``direction``.
        n_replicates: replicates per arm; root_seed and seeds: the common random numbers.
        raw: per fact, a long table (arm, level, seed, authority, metric, value).
        arms_run: arm key -> (scenario, overrides, wall seconds) of every simulated arm.
        wall_time_s: seconds for simulation and analysis.
        arm_runs: arm key -> the runs table of that arm (for convergence checks).
        base: the scenario whose own settings were layered onto every arm (``--base``), or None.
    """

    facts: tuple[Fact, ...]
    criteria: tuple[CriterionResult, ...]
    mode: Mode
    rule: str
    n_replicates: int
    root_seed: int
    seeds: tuple[int, ...]
    raw: Mapping[str, pd.DataFrame]
    arms_run: Mapping[str, Mapping[str, Any]]
    wall_time_s: float = 0.0
    created_utc: str = ""
    arm_runs: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    base: str | None = None

    def fact_verdicts(self) -> dict[str, str]:
        """Fact id -> ``pass`` when all its counted criteria pass, else ``fail``."""
        out: dict[str, str] = {}
        for f in self.facts:
            rows = [c for c in self.criteria if c.fact == f.id and c.counted]
            out[f.id] = "pass" if rows and all(c.verdict == "pass" for c in rows) else "fail"
        return out

    def fact_classes(self) -> dict[str, str]:
        """Fact id -> ``emergent`` or ``input`` (``facts.fact_class``)."""
        return {f.id: fact_class(f) for f in self.facts}

    def headline(self) -> str:
        """Emergent facts passing, counted apart from input checks (``headline``)."""
        return headline(self.fact_verdicts(), self.fact_classes())

    def table(self) -> pd.DataFrame:
        """The report table: one row per criterion, columns REPORT_COLUMNS."""
        fv = self.fact_verdicts()
        fc = self.fact_classes()
        by_id = {f.id: f for f in self.facts}
        rows = []
        for c in self.criteria:
            f = by_id[c.fact]
            rows.append(
                {
                    "fact": c.fact,
                    "criterion": c.criterion,
                    "claim": f.claim,
                    "expected": c.expected,
                    "metric": c.metric,
                    "test": c.test,
                    "effect": c.effect,
                    "ci_low": c.ci_low,
                    "ci_high": c.ci_high,
                    "p_value": c.p_value,
                    "n_replicates": c.n_replicates,
                    "verdict": c.verdict if c.counted else f"{c.verdict} (not counted)",
                    "fact_verdict": fv[c.fact],
                    "counted": c.counted,
                    "n_used": c.n_used,
                    "expect": f"{c.expect.symbol} {_fmt(c.threshold)}",
                    "threshold": c.threshold,
                    "rule": c.rule,
                    "arms": "; ".join(c.arms),
                    "title": f.title,
                    "strength": f.strength,
                    "evidence": f.evidence,
                    "experiment": f.experiment,
                    "theoretical": f.theoretical,
                    "note": " ".join(x for x in (c.note, f.notes) if x),
                    "origin": c.origin,
                    "origin_reason": c.origin_reason,
                    "fact_class": fc[c.fact],
                    "zero_width": c.zero_width,
                }
            )
        return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


# --------------------------------------------------------------------------------------
# Evaluation of one fact
# --------------------------------------------------------------------------------------


def _criterion_rng(root_seed: int, criterion_id: str) -> np.random.Generator:
    return np.random.default_rng([int(root_seed), zlib.crc32(criterion_id.encode("utf-8"))])


def _aligned(series: Sequence[pd.Series], seeds: Sequence[int]) -> np.ndarray:
    """Values of several per-seed series as an array (seeds x series), in seed order."""
    return np.column_stack([s.reindex(list(seeds)).to_numpy(dtype=float) for s in series]).reshape(
        len(seeds), len(series)
    )


def _criterion_result(
    fact: Fact,
    c: Contrast | Trend | AuthorityAssociation,
    seeds: Sequence[int],
    rule: str,
    *,
    metric: str,
    effect: float,
    ci: tuple[float, float],
    p_value: float,
    n_used: int,
    kind: str,
    data: dict[str, Any],
) -> CriterionResult:
    """The result record of one criterion; fewer than two usable values is a fail."""
    lo, hi = ci
    return CriterionResult(
        fact=fact.id,
        criterion=c.id,
        expected=c.expected,
        metric=metric,
        test=c.describe_test(),
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        n_replicates=len(seeds),
        n_used=int(n_used),
        expect=c.expect,
        threshold=c.threshold,
        rule=rule,
        verdict=verdict(effect, lo, hi, c.expect, c.threshold, rule) if n_used >= 2 else "fail",
        counted=c.counted,
        arms=c.arm_labels,
        note=c.note,
        kind=kind,
        data=data,
        origin=c.origin.value,
        origin_reason=c.origin_reason,
    )


def _evaluate_contrast(
    fact: Fact,
    c: Contrast,
    arms: Mapping[str, Results],
    seeds: Sequence[int],
    rule: str,
    rng: np.random.Generator,
) -> CriterionResult:
    series = [q.metric.compute(arms[q.arm]) for _, q in c.terms]
    coefs = np.array([coef for coef, _ in c.terms], dtype=float)
    values = _aligned(series, seeds)
    contrast = values @ coefs
    ok = np.all(np.isfinite(values), axis=1)
    d = contrast[ok]
    effect = float(d.mean()) if d.size else float("nan")
    lo, hi = bootstrap_mean_ci(d, rng)
    p = sign_flip_pvalue(d - c.threshold, rng)
    metric = " ".join(
        f"{'+' if coef > 0 else '-'}{'' if abs(coef) == 1 else f'{abs(coef):g}*'}{q.metric.name}[{q.arm}]"
        for coef, q in c.terms
    ).lstrip("+")
    return _criterion_result(
        fact,
        c,
        seeds,
        rule,
        metric=metric,
        effect=effect,
        ci=(lo, hi),
        p_value=p,
        n_used=int(d.size),
        kind="contrast",
        data={
            "terms": [(coef, q.arm, q.metric.name) for coef, q in c.terms],
            "values": values,
            "contrast": contrast,
            "seeds": list(seeds),
        },
    )


def _evaluate_trend(
    fact: Fact,
    c: Trend,
    arms: Mapping[str, Results],
    seeds: Sequence[int],
    rule: str,
    rng: np.random.Generator,
) -> CriterionResult:
    levels = [float(fact.arm(label).level) for label in c.arms]  # type: ignore[arg-type]
    values = _aligned([c.metric.compute(arms[label]) for label in c.arms], seeds)
    rho, lo, hi, p, n = trend_statistics(levels, values, rng)
    return _criterion_result(
        fact,
        c,
        seeds,
        rule,
        metric=f"spearman(level, {c.metric.name})",
        effect=rho,
        ci=(lo, hi),
        p_value=p,
        n_used=n,
        kind="trend",
        data={"levels": levels, "values": values, "metric": c.metric.name, "arms": c.arms},
    )


def _evaluate_association(
    fact: Fact,
    c: AuthorityAssociation,
    arms: Mapping[str, Results],
    seeds: Sequence[int],
    rule: str,
    rng: np.random.Generator,
) -> CriterionResult:
    table = arms[c.arm].authorities
    stat, lo, hi, p, g = association_statistics(table, c.y, c.x, c.stat, rng)
    return _criterion_result(
        fact,
        c,
        seeds,
        rule,
        metric=c.metric_names[0],
        effect=stat,
        ci=(lo, hi),
        p_value=p,
        n_used=g,
        kind=f"authority_{c.stat.value}",
        data={"table": table[["seed", "authority", c.y, *c.x]].copy(), "y": c.y, "x": c.x},
    )


def evaluate_fact(
    fact: Fact,
    arm_results: Mapping[str, Results],
    seeds: Sequence[int],
    rule: str,
    root_seed: int,
) -> tuple[CriterionResult, ...]:
    """Judge every criterion of ``fact`` from its simulated arms (by arm label)."""
    return tuple(_evaluate_criterion(fact, c, arm_results, seeds, rule, root_seed) for c in fact.criteria)


def _evaluate_criterion(
    fact: Fact, c: Criterion, arm_results: Mapping[str, Results], seeds: Sequence[int], rule: str, root_seed: int
) -> CriterionResult:
    rng = _criterion_rng(root_seed, c.id)
    if isinstance(c, Contrast):
        return _evaluate_contrast(fact, c, arm_results, seeds, rule, rng)
    if isinstance(c, Trend):
        return _evaluate_trend(fact, c, arm_results, seeds, rule, rng)
    return _evaluate_association(fact, c, arm_results, seeds, rule, rng)


def _raw_table(fact: Fact, arm_results: Mapping[str, Results]) -> pd.DataFrame:
    """The per-run (and per-authority) values behind a fact's criteria, long format."""
    frames = []
    for c in fact.criteria:
        pairs: list[tuple[str, Any]] = []
        if isinstance(c, Contrast):
            pairs = [(q.arm, q.metric) for _, q in c.terms]
        elif isinstance(c, Trend):
            pairs = [(label, c.metric) for label in c.arms]
        for label, metric in pairs:
            s = metric.compute(arm_results[label])
            frames.append(
                pd.DataFrame(
                    {
                        "criterion": c.id,
                        "arm": label,
                        "level": fact.arm(label).level,
                        "seed": s.index.to_numpy(),
                        "authority": pd.NA,
                        "metric": metric.name,
                        "value": s.to_numpy(dtype=float),
                    }
                )
            )
        if isinstance(c, AuthorityAssociation):
            a = arm_results[c.arm].authorities
            for col in (c.y, *c.x):
                frames.append(
                    pd.DataFrame(
                        {
                            "criterion": c.id,
                            "arm": c.arm,
                            "level": fact.arm(c.arm).level,
                            "seed": a["seed"].to_numpy(),
                            "authority": a["authority"].to_numpy(),
                            "metric": col,
                            "value": pd.to_numeric(a[col], errors="coerce").to_numpy(dtype=float),
                        }
                    )
                )
    if not frames:
        return pd.DataFrame(columns=["criterion", "arm", "level", "seed", "authority", "metric", "value"])
    return pd.concat(frames, ignore_index=True).drop_duplicates(
        subset=["arm", "seed", "authority", "metric"], keep="first"
    )


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def _criterion_arms(c: Criterion) -> tuple[str, ...]:
    """The labels of the arms a criterion reads."""
    if isinstance(c, Contrast):
        return c.arm_labels
    if isinstance(c, Trend):
        return tuple(c.arms)
    return (c.arm,)


def _criterion_n(c: Criterion, n: int) -> int:
    """The seeds a criterion reads: the mode's ``n`` times its replicate factor."""
    return n * max(1, int(getattr(c, "replicate_factor", 1)))


def _first_runs(results: Results, seeds: Sequence[int], n_arm: int) -> Results:
    """An arm's results on ``seeds``, the first of its ``n_arm`` seeds (all of them when as many)."""
    if len(seeds) >= n_arm:
        return results
    keep_seeds = {int(s) for s in seeds}
    ran = results.runs["seed"].astype("int64")
    kept = ran.isin(keep_seeds).to_numpy()

    def keep(table: pd.DataFrame) -> pd.DataFrame:
        if table.empty or "seed" not in table.columns:
            return table
        return table[table["seed"].astype("int64").isin(keep_seeds)].reset_index(drop=True)

    return replace(
        results,
        runs=keep(results.runs),
        timeseries=keep(results.timeseries),
        authorities=keep(results.authorities),
        elapsed_s=tuple(e for e, k in zip(results.elapsed_s, kept, strict=False) if k),
    )


def unique_arms(facts: Iterable[Fact]) -> dict[str, Arm]:
    """Arm key -> the first Arm with that key, over ``facts`` (each is simulated once)."""
    out: dict[str, Arm] = {}
    for f in facts:
        for a in f.arms:
            out.setdefault(a.key, a)
    return out


def _base_label(base: str | os.PathLike[str] | Mapping[str, Any]) -> str:
    """How a report names its base: the scenario, or the settings themselves."""
    if isinstance(base, Mapping):
        return "settings " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in base.items())
    return str(base)


def run_validation(
    facts: Sequence[Fact],
    n_replicates: int | None = None,
    *,
    mode: Mode = Mode.full,
    workers: int = 1,
    root_seed: int = VALIDATION_SEED,
    progress: ProgressCallback | None = None,
    run_seeds: RunSeeds | None = None,
    base: str | os.PathLike[str] | Mapping[str, Any] | None = None,
) -> ValidationResult:
    """Simulate every arm of ``facts`` over common seeds and judge every criterion.

    Args:
        facts: the facts to validate (e.g. ``get_facts(["F1", "F3"])``).
        n_replicates: seeds per arm (default ``MODE_REPLICATES[mode]``); at least 2.
        mode: ``full`` judges by the 95% interval, ``quick`` by the direction.
        workers: worker processes (one pool shared by all arms); results do not depend on it.
        root_seed: root of ``child_seeds(root_seed, n_replicates)``.
        progress: called as ``progress(done_runs, total_runs)``.
        run_seeds: a simulation backend called per arm (for tests); by default all arms run
            on one pool through ``safsim.experiments.replicates.run_batches``.
        base: a scenario file (or bundled name) whose own settings are layered onto every arm's
            scenario before the arm's overrides (``safsim.scenario.own_settings``): the facts
            judged on, for example, the calibrated values instead of the package defaults.  A
            mapping is taken as those settings already (dotted paths to values), as the
            calibration's facts screen passes a candidate point.

    Raises:
        ValueError: no facts, or fewer than two replicates.
    """
    from safsim.runner import child_seeds
    from safsim.scenario import load_scenario, own_settings

    mode = Mode(mode)
    n = MODE_REPLICATES[mode] if n_replicates is None else int(n_replicates)
    if n < 2:
        raise ValueError("validation needs at least 2 replicates per arm")
    if not facts:
        raise ValueError("no facts to validate")
    t0 = time.perf_counter()
    seeds = child_seeds(root_seed, n)
    arms = unique_arms(facts)
    # A criterion with a replicate factor reads its arms on a longer seed list whose first n
    # seeds are everyone's (SeedSequence children are spawned in order); an arm runs on the
    # longest list any criterion reading it needs, and each criterion reads its own prefix.
    reads = {(f.id, a.label): n for f in facts for a in f.arms}  # seeds a fact's criteria read per arm
    for f in facts:
        for c in f.criteria:
            for label in _criterion_arms(c):
                reads[f.id, label] = max(reads[f.id, label], _criterion_n(c, n))
    arm_n = dict.fromkeys(arms, n)
    for f in facts:
        for a in f.arms:
            arm_n[a.key] = max(arm_n[a.key], reads[f.id, a.label])
    all_seeds = child_seeds(root_seed, max(arm_n.values())) if max(arm_n.values()) > n else seeds
    # Load every scenario first, so that a bad arm fails before anything runs.
    if base is None:
        layered: dict[str, Any] = {}
    elif isinstance(base, Mapping):
        layered = dict(base)
    else:
        layered = own_settings(base)
    scenarios = {key: load_scenario(a.scenario, {**layered, **a.overrides}) for key, a in arms.items()}
    total = sum(arm_n.values())
    results: dict[str, Results] = {}
    arms_run: dict[str, dict[str, Any]] = {
        key: {"scenario": arms[key].scenario, "overrides": dict(arms[key].overrides), "runs": arm_n[key]}
        for key in arms
    }
    if run_seeds is None:
        # Every arm on one shared pool of workers (no per-arm process start-up).
        from safsim.experiments.replicates import run_batches

        batches = [(scenario, list(all_seeds[: arm_n[key]])) for key, scenario in scenarios.items()]
        for key, res in zip(scenarios, run_batches(batches, workers=workers, progress=progress), strict=True):
            results[key] = res
    else:
        offset = 0
        for key, scenario in scenarios.items():

            def arm_progress(done: int, _total: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + done, total)

            t_arm = time.perf_counter()
            results[key] = run_seeds(scenario, list(all_seeds[: arm_n[key]]), workers=workers, progress=arm_progress)
            arms_run[key]["wall_time_s"] = round(time.perf_counter() - t_arm, 3)
            offset += arm_n[key]
    criteria: list[CriterionResult] = []
    raw: dict[str, pd.DataFrame] = {}
    for f in facts:
        for c in f.criteria:
            c_seeds = all_seeds[: _criterion_n(c, n)]
            by_label = {a.label: _first_runs(results[a.key], c_seeds, arm_n[a.key]) for a in f.arms}
            criteria.append(_evaluate_criterion(f, c, by_label, c_seeds, mode.rule, root_seed))
        # The raw table holds every run a criterion of the fact read, per arm.
        raw[f.id] = _raw_table(
            f,
            {a.label: _first_runs(results[a.key], all_seeds[: reads[f.id, a.label]], arm_n[a.key]) for a in f.arms},
        )
    return ValidationResult(
        facts=tuple(facts),
        criteria=tuple(criteria),
        mode=mode,
        rule=mode.rule,
        n_replicates=n,
        root_seed=int(root_seed),
        seeds=tuple(int(s) for s in seeds),
        raw=raw,
        arms_run=arms_run,
        arm_runs={key: r.runs for key, r in results.items()},
        base=None if base is None else _base_label(base),
        wall_time_s=time.perf_counter() - t0,
        created_utc=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


# --------------------------------------------------------------------------------------
# How many replicates: convergence and power
# --------------------------------------------------------------------------------------

CONVERGENCE_NS: tuple[int, ...] = (5, 10, 20, 30, 40, 60, 80, 100)


def convergence_table(runs: pd.DataFrame, outcomes: Sequence[str], ns: Sequence[int] = CONVERGENCE_NS) -> pd.DataFrame:
    """How the estimate of each outcome's mean settles as replicates are added.

    For each outcome and each ``n`` (up to the rows available): the mean and standard
    deviation of the first ``n`` runs, their coefficient of variation (sd / |mean|), the
    relative half-width of the 95% interval of the mean (1.96 sd / (sqrt(n) |mean|)) and the
    distance of the running mean from the mean of all runs, relative to that mean.
    """
    rows = []
    for name in outcomes:
        x = pd.to_numeric(runs[name], errors="coerce").to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if x.size < 2:
            continue
        final = float(x.mean())
        for n in [k for k in ns if k <= x.size]:
            sub = x[:n]
            m, sd = float(sub.mean()), float(sub.std(ddof=1))
            rel = abs(m) if m != 0 else float("nan")
            rows.append(
                {
                    "outcome": name,
                    "n": n,
                    "mean": m,
                    "sd": sd,
                    "cv": sd / rel,
                    "rel_ci_halfwidth": 1.96 * sd / math.sqrt(n) / rel,
                    "rel_dev_from_all": abs(m - final) / abs(final) if final else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=["outcome", "n", "mean", "sd", "cv", "rel_ci_halfwidth", "rel_dev_from_all"])


def _subsample_statistic(c: CriterionResult, pick: np.ndarray) -> float:
    """The criterion's point estimate on a subset of seeds (indices into its seed list)."""
    if c.kind == "contrast":
        d = np.asarray(c.data["contrast"], dtype=float)[pick]
        d = d[np.isfinite(d)]
        return float(d.mean()) if d.size else float("nan")
    if c.kind == "trend":
        v = np.asarray(c.data["values"], dtype=float)[pick]
        v = v[np.all(np.isfinite(v), axis=1)]
        lv = np.asarray(c.data["levels"], dtype=float)
        return spearman(np.tile(lv, v.shape[0]), v.ravel())
    table: pd.DataFrame = c.data["table"]
    seeds = pd.unique(table["seed"])
    chosen = table[table["seed"].isin(seeds[pick[pick < len(seeds)]])]
    cols = [c.data["y"], *c.data["x"]]
    t = chosen[cols].apply(pd.to_numeric, errors="coerce").dropna()
    if len(t) < 3:
        return float("nan")
    if c.kind == "authority_spearman":
        return spearman(t[c.data["x"][0]], t[c.data["y"]])
    return _r_squared(t[c.data["y"]].to_numpy(dtype=float), t[list(c.data["x"])].to_numpy(dtype=float))


def power_table(result: ValidationResult, n_quick: int | None = None, n_sub: int = 1000) -> pd.DataFrame:
    """Per criterion: precision at the replicates used, and how reliable the quick check is.

    Columns: ``sd_per_seed`` (sd of the per-seed contrast; contrasts only), ``se`` (its
    standard error at the replicates used, or the half-width of the bootstrap interval / 1.96
    for correlations and R-squared), ``mde_80`` (the smallest true effect detected with 80%
    power by a two-sided 5% test at these replicates: 2.80 se), ``margin_se`` (distance of the
    effect from the threshold, in standard errors) and ``quick_reliability`` (share of random
    subsets of ``n_quick`` seeds whose point estimate lies on the expected side: the chance
    that the quick check passes a criterion that behaves like this one).
    """
    n_quick = MODE_REPLICATES[Mode.quick] if n_quick is None else int(n_quick)
    rows = []
    for c in result.criteria:
        rng = _criterion_rng(result.root_seed, c.criterion + "/power")
        sd = float("nan")
        if c.kind == "contrast":
            d = np.asarray(c.data["contrast"], dtype=float)
            d = d[np.isfinite(d)]
            sd = float(d.std(ddof=1)) if d.size > 1 else float("nan")
            se = sd / math.sqrt(d.size) if d.size > 1 else float("nan")
        else:
            se = (c.ci_high - c.ci_low) / (2 * 1.96)
        gap = (c.effect - c.threshold) * c.expect.sign
        if not math.isfinite(gap):
            margin = float("nan")
        elif se > 0:
            margin = gap / se
        else:  # no variation at all: the effect is exactly where it is
            margin = math.copysign(math.inf, gap) if gap != 0 else 0.0
        n_all = c.n_replicates
        # A fact with a replicate factor has as many times the quick mode's seeds too.
        nq = n_quick * max(1, n_all // max(1, result.n_replicates))
        hits = []
        if nq < n_all:
            for _ in range(n_sub):
                pick = rng.choice(n_all, size=nq, replace=False)
                est = _subsample_statistic(c, pick)
                hits.append(verdict(est, est, est, c.expect, c.threshold, "direction") == "pass")
            reliability = float(np.mean(hits))
        else:
            reliability = float("nan")
        rows.append(
            {
                "criterion": c.criterion,
                "verdict": c.verdict,
                "effect": c.effect,
                "threshold": c.threshold,
                "sd_per_seed": sd,
                "se": se,
                "mde_80": 2.80 * se,
                "margin_se": margin,
                "n_quick": nq,
                "quick_reliability": reliability,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# Printing and writing
# --------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    """A number for tables: thousands separators from 1000, else 3 significant digits."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    x = float(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == 0:
        return "0"
    return f"{x:.3g}"


def _fmt_p(p: float) -> str:
    if p is None or not math.isfinite(float(p)):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _effect_text(c: CriterionResult) -> str:
    return f"{_fmt(c.effect)} [{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]"


def format_table(result: ValidationResult) -> str:
    """The plain-text table ``safsim validate`` prints (one line per criterion)."""
    fv = result.fact_verdicts()
    fc = result.fact_classes()
    rows = [("fact", "class", "expected", "observed effect [95% CI]", "p", "verdict")]
    for c in result.criteria:
        v = c.verdict if c.counted else f"({c.verdict})"
        if c.zero_width:
            v += " [zero-width]"
        rows.append(
            (
                c.criterion,
                c.origin,
                f"{c.expect.symbol} {_fmt(c.threshold)}",
                _effect_text(c),
                _fmt_p(c.p_value),
                v,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"Stylized facts: {result.headline()} ({sum(v == 'pass' for v in fv.values())} of {len(fv)} "
        f"facts pass; {result.mode.value} mode, {result.n_replicates} replicates per arm, "
        f"verdict by {'95% interval' if result.rule == 'ci' else 'direction of the estimate'})",
        "  ".join(h.ljust(w) for h, w in zip(rows[0], widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    last = None
    for c, r in zip(result.criteria, rows[1:], strict=True):
        if last is not None and c.fact != last:
            lines.append("")
        last = c.fact
        lines.append("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)).rstrip())
    lines.append("")
    lines.append(
        "Facts: "
        + ", ".join(
            f"{k} {'pass' if v == 'pass' else 'FAIL'}{' (input check)' if fc[k] == 'input' else ''}"
            for k, v in fv.items()
        )
    )
    if any(c.zero_width for c in result.criteria):
        lines.append(f"[zero-width]: {ZERO_WIDTH_FLAG}.")
    return "\n".join(lines)


def _markdown_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_CLASS_DEFINITION = (
    "Classes: *emergent* - no rule or input writes the tested relation; *constrained* - a rule "
    "or input sets its direction or range but other mechanisms shape its size, so it could fail; "
    "*input* - an input or rule restated. A fact counts as emergent when at least one of its "
    "counted criteria is emergent or constrained; a fact whose counted criteria are all inputs "
    "is an input check."
)


def _verdict_cell(verdict_text: str, counted: bool, zero_width: bool) -> str:
    v = verdict_text if counted else f"{verdict_text} (not counted)"
    if counted and verdict_text == "fail":
        v = "**fail**"
    return v + (" [zero-width]" if zero_width else "")


CONVERGENCE_OUTCOMES: tuple[str, ...] = (*HEADLINE_OUTCOMES, "mean_contract_value_gbp", "sv_hard_share")
"""Baseline outcomes whose convergence the report shows (the headline outcomes and more)."""


def _baseline_convergence(result: ValidationResult) -> pd.DataFrame:
    runs = result.arm_runs.get(Arm("baseline").key)
    if runs is None or runs.empty:
        return convergence_table(pd.DataFrame(columns=list(CONVERGENCE_OUTCOMES)), ())
    return convergence_table(runs, [o for o in CONVERGENCE_OUTCOMES if o in runs.columns])


def _replicates_section(
    result: ValidationResult, power: pd.DataFrame | None, convergence: pd.DataFrame | None
) -> list[str]:
    lines = ["## Replicates: convergence and power", ""]
    if convergence is not None and not convergence.empty:
        ns = sorted(set(convergence["n"]))
        lines += [
            "Relative half-width of the 95% interval of the baseline mean (1.96 sd / (sqrt(n) "
            "|mean|)) after the first n runs (convergence.csv):",
            "",
            "| outcome | cv | " + " | ".join(f"n={n}" for n in ns) + " |",
            "|---|---|" + "---|" * len(ns),
        ]
        for name, g in convergence.groupby("outcome", sort=False):
            g = g.set_index("n")
            cv = g["cv"].iloc[-1]
            cells = " | ".join(f"{g.loc[n, 'rel_ci_halfwidth']:.1%}" for n in ns)
            lines.append(f"| {name} | {cv:.2f} | {cells} |")
        lines.append("")
    if power is not None and not power.empty:
        lines += [
            "Per criterion (power.csv): standard error of the effect, the smallest effect "
            "detectable with 80% power at these replicates (mde_80 = 2.8 se), the distance of "
            "the effect from its threshold in standard errors, and the share of random subsets "
            "of the quick mode's size whose estimate points the expected way:",
            "",
            "| criterion | verdict | effect | se | mde_80 | margin (se) | quick reliability |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in power.itertuples():
            rel = "n/a" if not math.isfinite(r.quick_reliability) else f"{r.quick_reliability:.3f}"
            margin = f"{r.margin_se:.1f}" if math.isfinite(r.margin_se) else str(r.margin_se)
            lines.append(
                f"| {r.criterion} | {r.verdict} | {_fmt(r.effect)} | {_fmt(r.se)} | "
                f"{_fmt(r.mde_80)} | {margin} | {rel} |"
            )
        lines.append("")
    return lines


def render_markdown(
    result: ValidationResult,
    plots: bool = True,
    power: pd.DataFrame | None = None,
    convergence: pd.DataFrame | None = None,
) -> str:
    """The Markdown report: summary, the criterion table, one section per fact, replicates."""
    fv = result.fact_verdicts()
    fc = result.fact_classes()
    n_pass = sum(v == "pass" for v in fv.values())
    revision, dirty = git_revision()
    rev = "unknown" if revision is None else revision[:12] + (" (uncommitted changes)" if dirty else "")
    lines = [
        "# Stylized-fact validation report",
        "",
        f"- Mode: **{result.mode.value}** ({result.n_replicates} replicates per arm; verdict by "
        f"{'the 95% interval' if result.rule == 'ci' else 'the direction of the point estimate'})",
        f"- Root seed: {result.root_seed} (seeds `child_seeds({result.root_seed}, "
        f"{result.n_replicates})`, common to every arm)",
        f"- Model revision: {rev}",
        *(
            [
                f"- Base: every arm with the own settings of `{result.base}` layered on its scenario "
                "(`--base`), not the package defaults"
            ]
            if result.base
            else []
        ),
        f"- Created: {result.created_utc}; wall time {result.wall_time_s:.0f} s; "
        f"{len(result.arms_run)} arm{'' if len(result.arms_run) == 1 else 's'}, "
        f"{sum(int(a.get('runs', result.n_replicates)) for a in result.arms_run.values())} runs",
        f"- **{result.headline()}** ({n_pass} of {len(fv)} facts pass): "
        + ", ".join(
            f"{k} {'pass' if v == 'pass' else '**FAIL**'}{' (input check)' if fc[k] == 'input' else ''}"
            for k, v in fv.items()
        ),
        f"- {_CLASS_DEFINITION}",
        "",
        "| Criterion | Class | Expected | Observed effect [95% CI] | p | n | Verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in result.criteria:
        lines.append(
            f"| {c.criterion} | {c.origin} | {_markdown_escape(c.expected)} | {_effect_text(c)} | "
            f"{_fmt_p(c.p_value)} | {c.n_used} | {_verdict_cell(c.verdict, c.counted, c.zero_width)} |"
        )
    lines.append("")
    if any(c.zero_width for c in result.criteria):
        lines += [
            f"[zero-width]: {ZERO_WIDTH_FLAG} ({', '.join(c.criterion for c in result.criteria if c.zero_width)}).",
            "",
        ]
    for f in result.facts:
        kind = "input check" if fc[f.id] == "input" else "emergent"
        lines += [
            f"## {f.id}: {f.title} ({'pass' if fv[f.id] == 'pass' else 'FAIL'}; {kind})",
            "",
            f"*Claim.* {f.claim}",
            "",
            f"*Evidence* ({f.strength}): {f.evidence}.",
            "",
            f"*Experiment.* {f.experiment}",
            "",
        ]
        for c in result.criteria:
            if c.fact != f.id:
                continue
            lines.append(
                f"- {c.criterion} ({c.verdict}{'' if c.counted else ', not counted'}; {c.origin}): "
                f"{c.expected}; observed {_effect_text(c)}, p {_fmt_p(c.p_value)}; "
                f"`{c.metric}`; {c.test}."
                + (f" *{c.origin.capitalize()}:* {c.origin_reason}" if c.origin_reason else "")
                + (f" {ZERO_WIDTH_FLAG[0].upper()}{ZERO_WIDTH_FLAG[1:]}." if c.zero_width else "")
                + (f" {c.note}" if c.note else "")
            )
        if f.theoretical:
            lines += ["", "*Theoretical claim set by parameters, not an emergent pattern.*"]
        if f.notes:
            lines += ["", f"*Note.* {f.notes}"]
        if plots:
            lines += ["", f"![{f.id}](plots/{f.id}.png)"]
        lines.append("")
    lines += _replicates_section(result, power, convergence)
    return "\n".join(lines)


def _manifest(result: ValidationResult, files: Sequence[str]) -> dict[str, Any]:
    revision, dirty = git_revision()
    return {
        "safsim_validation_format": 1,
        "created_utc": result.created_utc,
        "git_revision": revision,
        "git_dirty": dirty,
        "mode": result.mode.value,
        "rule": result.rule,
        "n_replicates": result.n_replicates,
        "root_seed": result.root_seed,
        "seeds": list(result.seeds),
        "facts": [f.id for f in result.facts],
        "fact_verdicts": result.fact_verdicts(),
        "fact_classes": result.fact_classes(),
        "headline": result.headline(),
        "arms": list(result.arms_run.values()),
        "base": result.base,
        "wall_time_s": round(result.wall_time_s, 3),
        "files": list(files),
    }


REPORT_FILES: tuple[str, ...] = (
    "facts.csv",
    "raw/F*.csv",
    "plots/F*.png",
    "power.csv",
    "convergence.csv",
    "report.md",
    "manifest.json",
)
"""Name patterns of every file ``write_validation`` writes (what ``existing="replace"`` deletes)."""


def write_validation(
    result: ValidationResult,
    out_dir: str | Path,
    plots: bool = True,
    existing: Existing = "refuse",
) -> Path:
    """Write facts.csv, report.md, power.csv, convergence.csv, plots/F*.png, raw/F*.csv and
    manifest.json, all or nothing (``safsim.util.write_directory``).

    Files are written into a temporary directory beside ``out_dir`` first and renamed into
    place, manifest.json last.  On any failure nothing is left behind.  ``existing`` says what
    happens when ``out_dir`` already holds files: ``"refuse"`` (default) raises
    ``safsim.util.DirectoryNotEmptyError``; ``"replace"`` deletes the files of an earlier report
    (``REPORT_FILES``) and keeps any others; ``"merge"`` overwrites files of the same names.
    """
    out = Path(out_dir)

    def write(tmp: Path) -> list[str]:
        written: list[str] = []
        result.table().to_csv(tmp / "facts.csv", index=False)
        written.append("facts.csv")
        (tmp / "raw").mkdir()
        for fid, df in result.raw.items():
            df.to_csv(tmp / "raw" / f"{fid}.csv", index=False, float_format="%.6g")
            written.append(f"raw/{fid}.csv")
        if plots:
            from safsim.analysis.validation_plots import plot_fact

            (tmp / "plots").mkdir()
            for f in result.facts:
                rows = tuple(c for c in result.criteria if c.fact == f.id)
                plot_fact(f, rows, tmp / "plots" / f"{f.id}.png")
                written.append(f"plots/{f.id}.png")
        power = power_table(result)
        power.to_csv(tmp / "power.csv", index=False)
        written.append("power.csv")
        convergence = _baseline_convergence(result)
        convergence.to_csv(tmp / "convergence.csv", index=False)
        written.append("convergence.csv")
        (tmp / "report.md").write_text(
            render_markdown(result, plots=plots, power=power, convergence=convergence),
            encoding="utf-8",
        )
        written.append("report.md")
        manifest = _manifest(result, [*written, "manifest.json"])
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        written.append("manifest.json")
        return written

    write_directory(out, write, own=REPORT_FILES, existing=existing)
    return out


def read_verdicts(path: str | Path) -> dict[str, str]:
    """Fact id -> ``pass``/``fail`` from a facts.csv written by ``write_validation``."""
    df = pd.read_csv(path)
    return {str(k): str(v) for k, v in df.groupby("fact", sort=False)["fact_verdict"].first().items()}


# --------------------------------------------------------------------------------------
# The report block of docs/validation.md
# --------------------------------------------------------------------------------------

DOCS_BEGIN = "<!-- BEGIN VALIDATION REPORT (generated by safsim validate --update-docs; do not edit) -->"
DOCS_END = "<!-- END VALIDATION REPORT -->"


def render_docs_block(report_dir: str | Path, link_prefix: str = "../validation") -> str:
    """The generated part of docs/validation.md, from a written report directory.

    Reads facts.csv, manifest.json, power.csv and convergence.csv; links to the plots and the
    full report under ``link_prefix``.
    """
    d = Path(report_dir)
    table = pd.read_csv(d / "facts.csv")
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    power = pd.read_csv(d / "power.csv") if (d / "power.csv").is_file() else None
    convergence = pd.read_csv(d / "convergence.csv") if (d / "convergence.csv").is_file() else None
    verdicts = manifest["fact_verdicts"]
    classes = _docs_fact_classes(table, manifest)
    n_pass = sum(v == "pass" for v in verdicts.values())
    rev = manifest.get("git_revision") or "unknown"
    dirty = " (with uncommitted changes)" if manifest.get("git_dirty") else ""
    lines = [
        DOCS_BEGIN,
        "",
        f"**{headline(verdicts, classes)}** ({n_pass} of {len(verdicts)} facts pass) in "
        f"{manifest['mode']} mode "
        f"({manifest['n_replicates']} replicates per arm, root seed {manifest['root_seed']}, "
        f"{len(manifest['arms'])} arms, wall time {manifest['wall_time_s']:.0f} s), run "
        f"{manifest['created_utc']} on model revision `{rev[:12]}`{dirty}.",
        "",
        _CLASS_DEFINITION,
        "",
        "| fact | class | verdict | plot |",
        "|---|---|---|---|",
    ]
    titles = table.groupby("fact", sort=False)["title"].first()
    for fid, v in verdicts.items():
        lines.append(
            f"| {fid}: {_markdown_escape(str(titles.get(fid, '')))} | "
            f"{'input check' if classes.get(fid) == 'input' else 'emergent'} | "
            f"{'pass' if v == 'pass' else '**FAIL**'} | [{fid}.png]({link_prefix}/plots/{fid}.png) |"
        )
    lines += [
        "",
        "| criterion | class | expected | observed effect [95% CI] | p | verdict |",
        "|---|---|---|---|---|---|",
    ]
    zero = []
    for r in table.to_dict("records"):
        v = str(r["verdict"])
        if v == "fail":
            v = "**fail**"
        if _zero_width(r["ci_low"], r["ci_high"]):
            v += " [zero-width]"
            zero.append(str(r["criterion"]))
        origin = r.get("origin")
        origin = "n/a" if not isinstance(origin, str) else origin
        lines.append(
            f"| {r['criterion']} | {origin} | {_markdown_escape(str(r['expected']))} ({r['expect']}) | "
            f"{_fmt(r['effect'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | {_fmt_p(r['p_value'])} | {v} |"
        )
    lines.append("")
    if zero:
        lines += [f"[zero-width]: {ZERO_WIDTH_FLAG} ({', '.join(zero)}).", ""]
    reasons = [
        (str(r["criterion"]), str(r["origin"]), str(r["origin_reason"]))
        for r in table.to_dict("records")
        if isinstance(r.get("origin_reason"), str) and r["origin_reason"]
    ]
    if reasons:
        lines += ["Why each criterion has its class:", ""]
        lines += [f"- {cid} ({origin}): {_markdown_escape(reason)}" for cid, origin, reason in reasons]
        lines.append("")
    fake = ValidationResult(
        facts=(),
        criteria=(),
        mode=Mode(manifest["mode"]),
        rule=manifest["rule"],
        n_replicates=int(manifest["n_replicates"]),
        root_seed=int(manifest["root_seed"]),
        seeds=(),
        raw={},
        arms_run={},
    )
    section = _replicates_section(fake, power, convergence)
    lines += [ln.replace("## Replicates", "### Replicates", 1) for ln in section]
    lines += [
        f"The full report with one plot per fact: [{link_prefix}/report.md]({link_prefix}/report.md).",
        "",
        DOCS_END,
    ]
    return "\n".join(lines)


def _docs_fact_classes(table: pd.DataFrame, manifest: Mapping[str, Any]) -> dict[str, str]:
    """Fact classes from the manifest, else from facts.csv (``origin`` of counted rows)."""
    if isinstance(manifest.get("fact_classes"), dict):
        return {str(k): str(v) for k, v in manifest["fact_classes"].items()}
    if "origin" not in table.columns:  # a report written before the classes: the registry's
        from safsim.analysis.facts import FACTS

        return {f.id: fact_class(f) for f in FACTS}
    out = {}
    for fid, g in table.groupby("fact", sort=False):
        counted = g[g["counted"].astype(str).str.lower() == "true"]
        out[str(fid)] = "input" if len(counted) and (counted["origin"] == "input").all() else "emergent"
    return out


def update_docs(doc_path: str | Path, report_dir: str | Path) -> bool:
    """Replace the generated block of ``doc_path`` with one rendered from ``report_dir``.

    Returns True when the file changed.  Raises ValueError when the markers are missing.
    """
    path = Path(doc_path)
    text = path.read_text(encoding="utf-8")
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise ValueError(f"{path} lacks the generated-report markers")
    head, rest = text.split(DOCS_BEGIN, 1)
    _old, tail = rest.split(DOCS_END, 1)
    link = os.path.relpath(Path(report_dir).absolute(), path.absolute().parent)
    new = head + render_docs_block(report_dir, Path(link).as_posix()) + tail
    if new != text:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(new, encoding="utf-8")
        os.replace(tmp, path)
    return new != text
