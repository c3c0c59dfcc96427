"""The model quantities that external targets are compared with, one value per run.

Objects:
    Metric: a named quantity: what it means, whether it needs the time series, how to compute it.
    METRICS: every metric by name; ``metric_names()`` lists them.
    compute(names, runs, timeseries, experiment) -> DataFrame: one column per metric, one row
        per run (indexed by ``run_id``).

Metrics:
    * every run outcome (``safsim.metrics.ALL_OUTCOMES``), as recorded in the runs table;
    * ``income_change_<kind>``: a provider kind's contract income over the experiment's
      ``after`` window relative to its ``before`` window, minus 1 (-0.4 is a 40% fall), both
      windows as quarterly means, so windows of different lengths compare;
    * ``active_change_<kind>``: the same for the number of active providers of the kind;
    * ``budget_change``: the same for the commissioners' combined budget (checks that an
      austerity experiment cuts what its input target says);
    * ``income_share_<kind>``: the kind's share of all contract income over the ``after``
      window.

Windows are counted steps ``[start, end)`` of ``safsim.calibration.spec.CalibrationExperiment``.
A window outside the run's horizon is an error when the experiment is loaded, not a silent NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safsim.config import PROVIDER_KINDS
from safsim.metrics import ALL_OUTCOMES

if TYPE_CHECKING:  # pragma: no cover
    from safsim.calibration.spec import CalibrationExperiment, Target

__all__ = ["METRICS", "Metric", "compute", "compute_targets", "metric_names"]

_Fn = Callable[[pd.DataFrame, "pd.DataFrame | None", "CalibrationExperiment"], pd.Series]


@dataclass(frozen=True)
class Metric:
    """A model quantity with one value per run."""

    name: str
    meaning: str
    needs_timeseries: bool
    fn: _Fn


def _outcome(name: str) -> _Fn:
    def fn(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
        return runs.set_index("run_id")[name].astype(float)

    return fn


def _window_mean(ts: pd.DataFrame, column: str, window: tuple[int, int]) -> pd.Series:
    a, b = window
    sel = ts[(ts["step"] >= a) & (ts["step"] < b)]
    return sel.groupby("run_id")[column].mean()


def _change(column: str) -> _Fn:
    def fn(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
        assert ts is not None
        before = _window_mean(ts, column, exp.before)
        after = _window_mean(ts, column, exp.after)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = after / before.where(before > 0) - 1.0
        return out.reindex(runs["run_id"]).astype(float)

    return fn


def _income_share(kind: str) -> _Fn:
    def fn(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
        assert ts is not None
        cols = [f"income_{k.value}_gbp" for k in PROVIDER_KINDS if f"income_{k.value}_gbp" in ts.columns]
        if "income_consortium_gbp" in ts.columns:
            cols.append("income_consortium_gbp")
        a, b = exp.after
        sel = ts[(ts["step"] >= a) & (ts["step"] < b)]
        sums = sel.groupby("run_id")[cols].sum()
        total = sums.sum(axis=1)
        return (sums[f"income_{kind}_gbp"] / total.where(total > 0)).reindex(runs["run_id"]).astype(float)

    return fn


def _window(ts: pd.DataFrame, window: tuple[int, int]) -> pd.DataFrame:
    a, b = window
    return ts[(ts["step"] >= a) & (ts["step"] < b)]


def _sums(ts: pd.DataFrame, columns: Sequence[str], window: tuple[int, int] | None) -> pd.DataFrame:
    sel = ts if window is None else _window(ts, window)
    return sel.groupby("run_id")[list(columns)].sum()


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den.where(den > 0)


def _public_income_sme(ts: pd.DataFrame, window: tuple[int, int] | None) -> pd.Series:
    """Small VSOs' income from commissioners: contract payments plus grants."""
    s = _sums(ts, ["income_sme_vso_gbp", "grants_sme_vso_gbp"], window)
    return s.sum(axis=1)


def _fall_ratio(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
    assert ts is not None
    f_sme = 1.0 - _ratio(_public_income_sme(ts, exp.after), _public_income_sme(ts, exp.before))
    budget = 1.0 - _ratio(_window_mean(ts, "budget_gbp", exp.after), _window_mean(ts, "budget_gbp", exp.before))
    return _ratio(f_sme, budget.where(budget > 0)).reindex(runs["run_id"]).astype(float)


def _grant_fall(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
    assert ts is not None
    after = _sums(ts, ["grants_sme_vso_gbp"], exp.after)["grants_sme_vso_gbp"]
    before = _sums(ts, ["grants_sme_vso_gbp"], exp.before)["grants_sme_vso_gbp"]
    return (1.0 - _ratio(after, before)).reindex(runs["run_id"]).astype(float)


def _gap_large_minus_sme(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
    assert ts is not None
    col = "income_large_charity_gbp"
    c_large = _ratio(_sums(ts, [col], exp.after)[col], _sums(ts, [col], exp.before)[col]) - 1.0
    c_sme = _ratio(_public_income_sme(ts, exp.after), _public_income_sme(ts, exp.before)) - 1.0
    return (c_large - c_sme).reindex(runs["run_id"]).astype(float)


def _rate(column: str, whole: bool) -> _Fn:
    """Events per provider-year: events in the window / (years in it x mean active small VSOs)."""

    def fn(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
        assert ts is not None
        sel = ts if whole else _window(ts, exp.after)
        g = sel.groupby("run_id")
        years = g["step"].count() / 4.0
        return _ratio(g[column].sum(), years * g["active_sme_vso"].mean()).reindex(runs["run_id"]).astype(float)

    return fn


def _funding_mix(which: str) -> _Fn:
    def fn(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
        assert ts is not None
        cols = ["income_sme_vso_gbp", "income_large_charity_gbp", "income_consortium_gbp", "grants_sme_vso_gbp"]
        s = _sums(ts, cols, None)
        contracts = s[cols[:3]].sum(axis=1)
        total = contracts + s["grants_sme_vso_gbp"]
        if which == "contract_share":
            out = _ratio(contracts, total)
        else:  # the large charities' share of what the voluntary sector receives
            out = _ratio(s["income_large_charity_gbp"], total)
        return out.reindex(runs["run_id"]).astype(float)

    return fn


def _sum_of_outcomes(names: Sequence[str]) -> _Fn:
    def fn(runs: pd.DataFrame, ts: pd.DataFrame | None, exp: CalibrationExperiment) -> pd.Series:
        return runs.set_index("run_id")[list(names)].sum(axis=1).astype(float)

    return fn


def _registry() -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for name, meaning in ALL_OUTCOMES.items():
        out[name] = Metric(name, meaning, False, _outcome(name))
    for k in PROVIDER_KINDS:
        v = k.value
        out[f"income_change_{v}"] = Metric(
            f"income_change_{v}",
            f"Quarterly contract income of {v} over the 'after' window relative to the 'before' window, minus 1.",
            True,
            _change(f"income_{v}_gbp"),
        )
        out[f"active_change_{v}"] = Metric(
            f"active_change_{v}",
            f"Mean number of active {v} over the 'after' window relative to the 'before' window, minus 1.",
            True,
            _change(f"active_{v}"),
        )
        out[f"income_share_{v}"] = Metric(
            f"income_share_{v}",
            f"Share of all contract income received by {v} over the 'after' window.",
            True,
            _income_share(v),
        )
    derived = [
        (
            "budget_change",
            "Combined budget over the 'after' window relative to the 'before' window, minus 1.",
            True,
            _change("budget_gbp"),
        ),
        (
            "sme_vso_la_income_fall_to_budget_fall",
            "The fall of small VSOs' income from commissioners (contracts and grants) from the 'before' to the "
            "'after' window, divided by the fall of the budget over the same windows.",
            True,
            _fall_ratio,
        ),
        (
            "sme_vso_grant_fall",
            "1 - grants paid to small VSOs over the 'after' window / over the 'before' window.",
            True,
            _grant_fall,
        ),
        (
            "la_income_change_gap_large_minus_sme",
            "Change of large charities' contract income minus the change of small VSOs' income from commissioners "
            "(contracts and grants), 'after' window relative to 'before'.",
            True,
            _gap_large_minus_sme,
        ),
        (
            "exit_rate_sme_vso",
            "Small-VSO exits per provider-year over the counted horizon.",
            True,
            _rate("exits_sme_vso", True),
        ),
        (
            "entry_rate_sme_vso",
            "Small-VSO entries per provider-year over the counted horizon.",
            True,
            _rate("entries_sme_vso", True),
        ),
        (
            "exit_rate_sme_vso_after_cut",
            "Small-VSO exits per provider-year over the 'after' window.",
            True,
            _rate("exits_sme_vso", False),
        ),
        (
            "contract_share_of_vso_public_income",
            "Contracts / (contracts + grants) received by small VSOs, large charities and consortia over the horizon.",
            True,
            _funding_mix("contract_share"),
        ),
        (
            "large_charity_share_of_vso_public_income",
            "Large charities' share of the contracts and grants received by the voluntary kinds over the horizon.",
            True,
            _funding_mix("large_share"),
        ),
        (
            "share_value_vcse",
            "Share of awarded value won by small VSOs, large charities, social enterprises and consortia.",
            False,
            _sum_of_outcomes(
                [
                    "share_value_sme_vso",
                    "share_value_large_charity",
                    "share_value_social_enterprise",
                    "share_value_consortium",
                ]
            ),
        ),
    ]
    for name, meaning, needs_ts, fn in derived:
        out[name] = Metric(name, meaning, needs_ts, fn)
    return out


METRICS: dict[str, Metric] = _registry()


def metric_names() -> list[str]:
    """Every metric a target may map to."""
    return list(METRICS)


def compute_targets(
    targets: Sequence[Target], runs: pd.DataFrame, timeseries: pd.DataFrame | None, experiment: CalibrationExperiment
) -> pd.DataFrame:
    """Each target's metric on every run (one column per target id, rows indexed by ``run_id``),
    with the target's own windows where it gives them."""
    out = pd.DataFrame(index=pd.Index(runs["run_id"].to_numpy(), name="run_id"))
    for t in targets:
        assert t.maps_to is not None
        m = METRICS[t.maps_to.metric]
        if m.needs_timeseries and timeseries is None:
            raise ValueError(f"metric {m.name!r} needs the time series")
        exp = experiment
        if t.maps_to.before is not None or t.maps_to.after is not None:
            exp = experiment.model_copy(
                update={k: getattr(t.maps_to, k) for k in ("before", "after") if getattr(t.maps_to, k) is not None}
            )
        out[t.id] = m.fn(runs, timeseries, exp).to_numpy()
    return out


def compute(
    names: Sequence[str], runs: pd.DataFrame, timeseries: pd.DataFrame | None, experiment: CalibrationExperiment
) -> pd.DataFrame:
    """The named metrics of every run (rows indexed by ``run_id``, in the runs table's order).

    Raises:
        KeyError: a name that is not a metric.
        ValueError: a time-series metric without a time series.
    """
    out = pd.DataFrame(index=pd.Index(runs["run_id"].to_numpy(), name="run_id"))
    for name in dict.fromkeys(names):
        m = METRICS[name]
        if m.needs_timeseries and timeseries is None:
            raise ValueError(f"metric {name!r} needs the time series")
        out[name] = m.fn(runs, timeseries, experiment).to_numpy()
    return out
