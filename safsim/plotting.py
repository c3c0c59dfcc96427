"""Standard plots of replicate tables: functions of DataFrames, never of live models.

Objects:
    fan_chart_income(timeseries): contract income per quarter by provider kind, as fan charts
        (median, 25-75% and 5-95% bands across replicates) over years.
    outcome_distributions(runs, outcomes): small multiples of outcome histograms across
        replicates, median marked.
    field_state_chart(timeseries): share of replicates in each field state per step, plus median
        trust and contention.
    save_standard_plots(results_or_tables, plots_dir): the three plots above as PNG files.
    STANDARD_PLOTS: the file names ``save_standard_plots`` writes.

Every function builds a ``matplotlib.figure.Figure`` with an Agg canvas attached explicitly, so
nothing here touches pyplot's global state or switches the process-wide backend, and figures are
freed when they go out of scope (no "too many open figures" warnings in long sweeps).  Each plot
function returns its Figure and, when ``path`` is given, also saves it there (PNG at 100 dpi by
default).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from safsim.metrics import HEADLINE_OUTCOMES, RUN_OUTCOMES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "STANDARD_PLOTS",
    "fan_chart_income",
    "field_state_chart",
    "outcome_distributions",
    "save_standard_plots",
]

DPI = 100

STANDARD_PLOTS: tuple[str, ...] = (
    "income_fan.png",
    "outcome_distributions.png",
    "field_state.png",
)

# One colour per provider kind, consortium included (colour-blind-safe Okabe-Ito palette).
KIND_COLOURS: dict[str, str] = {
    "sme_vso": "#009E73",
    "large_charity": "#0072B2",
    "corporate": "#D55E00",
    "social_enterprise": "#CC79A7",
    "consortium": "#E69F00",
}
KIND_LABELS: dict[str, str] = {
    "sme_vso": "Small/medium VSOs",
    "large_charity": "Large charities",
    "corporate": "Corporates",
    "social_enterprise": "Social enterprises",
    "consortium": "VSO consortia",
}
STATE_COLOURS: dict[str, str] = {
    "settled": "#56B4E9",
    "crisis": "#D55E00",
    "resettlement": "#009E73",
}
_EXTRA_COLOURS = ("#999999", "#F0E442", "#000000", "#0072B2")

_INCOME_RE = re.compile(r"^income_(?P<kind>.+)_gbp$")


class _Tables(Protocol):
    """Anything with a runs table and a time-series table (e.g. ``Results``)."""

    runs: pd.DataFrame
    timeseries: pd.DataFrame


def _new_figure(width: float, height: float) -> Figure:
    """A Figure on its own Agg canvas: no pyplot, no global backend switch."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        path = Path(path)
        fig.savefig(path, dpi=DPI, format=path.suffix.lstrip(".") or "png")
    return fig


def _require(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table} table lacks column(s): {', '.join(missing)}")


def _money_scale(max_abs: float) -> tuple[float, str]:
    """Divisor and unit label so that money axes show short numbers."""
    if max_abs >= 1e6:
        return 1e6, "£m"
    if max_abs >= 1e3:
        return 1e3, "£k"
    return 1.0, "£"


def _quantiles_by_step(ts: pd.DataFrame, column: str) -> pd.DataFrame:
    """Columns p5, p25, p50, p75, p95 of ``column`` across replicates, indexed by step."""
    values = pd.to_numeric(ts[column], errors="coerce")
    grouped = values.groupby(ts["step"])
    qs = {
        name: grouped.quantile(q)
        for name, q in (("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95))
    }
    return pd.DataFrame(qs).sort_index()


def income_kinds(timeseries: pd.DataFrame) -> list[str]:
    """Provider kinds that have an ``income_<kind>_gbp`` column, in table order."""
    return [m["kind"] for c in timeseries.columns if (m := _INCOME_RE.match(str(c)))]


def fan_chart_income(
    timeseries: pd.DataFrame,
    path: str | Path | None = None,
    *,
    steps_per_year: int = 4,
) -> Figure:
    """Fan charts of contract income per step by provider kind, across replicates.

    One panel per kind (shared y axis): the median line, a 25-75% band and a 5-95% band of
    ``income_<kind>_gbp`` across replicates at each step; a last panel overlays the medians of
    all kinds for direct comparison.

    Args:
        timeseries: the time-series table (columns ``step`` and ``income_<kind>_gbp``).
        path: if given, also save the figure there.
        steps_per_year: steps in one year; the x axis shows ``step / steps_per_year``.

    Returns:
        The Figure.
    """
    _require(timeseries, ["step"], "time-series")
    kinds = income_kinds(timeseries)
    if not kinds:
        raise ValueError("time-series table has no income_<kind>_gbp columns")
    quants = {k: _quantiles_by_step(timeseries, f"income_{k}_gbp") for k in kinds}
    peak = max(float(np.nanmax(np.abs(q.to_numpy()), initial=0.0)) for q in quants.values())
    scale, unit = _money_scale(peak)

    n_panels = len(kinds) + 1
    ncols = 3
    nrows = -(-n_panels // ncols)
    fig = _new_figure(4.2 * ncols, 3.0 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for i, kind in enumerate(kinds):
        ax = axes[i]
        q = quants[kind] / scale
        years = q.index.to_numpy(dtype=float) / steps_per_year
        colour = _colour(KIND_COLOURS, kind, i)
        ax.fill_between(years, q["p5"], q["p95"], color=colour, alpha=0.18, lw=0, label="5-95%")
        ax.fill_between(years, q["p25"], q["p75"], color=colour, alpha=0.38, lw=0, label="25-75%")
        ax.plot(years, q["p50"], color=colour, lw=2, label="median")
        ax.set_title(KIND_LABELS.get(kind, kind))
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    overlay = axes[len(kinds)]
    for i, kind in enumerate(kinds):
        q = quants[kind] / scale
        years = q.index.to_numpy(dtype=float) / steps_per_year
        overlay.plot(
            years,
            q["p50"],
            color=_colour(KIND_COLOURS, kind, i),
            lw=2,
            label=KIND_LABELS.get(kind, kind),
        )
    overlay.set_title("Medians compared")
    overlay.legend(loc="best", fontsize="small", frameon=False)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    for idx, ax in enumerate(axes[:n_panels]):
        ax.grid(alpha=0.3)
        if idx % ncols == 0:
            ax.set_ylabel(f"income per quarter ({unit})")
        # x labels on the lowest visible panel of each column
        if idx + ncols >= n_panels:
            ax.set_xlabel("years")
            ax.xaxis.set_tick_params(labelbottom=True)
    n_rep = _n_replicates(timeseries)
    fig.suptitle(f"Contract income by provider kind ({n_rep} replicates)", fontsize="x-large")
    return _finish(fig, path)


def outcome_distributions(
    runs: pd.DataFrame,
    outcomes: Sequence[str] = HEADLINE_OUTCOMES,
    path: str | Path | None = None,
) -> Figure:
    """Small multiples of outcome distributions across replicates, median marked.

    Each panel is a histogram of one outcome's run values, with each run also drawn as a tick
    along the bottom (readable with few replicates) and the median as a dashed line.

    Args:
        runs: the runs table (one row per run).
        outcomes: the outcome columns to show (default: the headline outcomes).
        path: if given, also save the figure there.

    Returns:
        The Figure.
    """
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("no outcomes to plot")
    _require(runs, outcomes, "runs")
    ncols = min(4, len(outcomes))
    nrows = -(-len(outcomes) // ncols)
    fig = _new_figure(3.6 * ncols, 2.9 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, name in zip(axes, outcomes, strict=False):
        x = pd.to_numeric(runs[name], errors="coerce").to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        ax.set_title(name, fontsize="medium")
        desc = RUN_OUTCOMES.get(name, "")
        xlabel = "\n".join(textwrap.wrap(desc, 40)) if desc else name
        if name.endswith("_gbp") and x.size:
            scale, unit = _money_scale(float(np.max(np.abs(x))))
            x = x / scale
            xlabel = f"{xlabel} ({unit})"
        ax.set_xlabel(xlabel, fontsize="small")
        ax.set_ylabel("runs")
        if x.size == 0:
            ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
            continue
        lo, hi = float(x.min()), float(x.max())
        if hi - lo < 1e-12:  # a single value: give the bar a visible width
            pad = max(abs(lo) * 0.05, 0.01)
            lo, hi = lo - pad, hi + pad
        bins = int(np.clip(np.sqrt(x.size) * 2, 5, 30))
        ax.hist(x, bins=bins, range=(lo, hi), color="#0072B2", alpha=0.6, edgecolor="white")
        ax.plot(x, np.zeros_like(x), "|", color="#333333", ms=10, mew=1, clip_on=False)
        med = float(np.median(x))
        ax.axvline(med, color="#D55E00", ls="--", lw=1.8, label=f"median {med:.3g}")
        ax.legend(loc="upper right", fontsize="small", frameon=False)
        ax.grid(alpha=0.3, axis="y")
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    fig.suptitle(f"Outcome distributions across {len(runs)} runs", fontsize="x-large")
    return _finish(fig, path)


def field_state_chart(
    timeseries: pd.DataFrame,
    path: str | Path | None = None,
    *,
    steps_per_year: int = 4,
) -> Figure:
    """Field states over time: share of replicates in each state, and trust and contention.

    The top panel stacks, per step, the share of replicates in each field state (settled,
    crisis, resettlement, then any other state found).  The bottom panel shows the median trust
    and contention across replicates with their 25-75% bands.

    Args:
        timeseries: the time-series table (columns ``step``, ``field_state``, ``trust``,
            ``contention``).
        path: if given, also save the figure there.
        steps_per_year: steps in one year; the x axis shows ``step / steps_per_year``.

    Returns:
        The Figure.
    """
    _require(timeseries, ["step", "field_state", "trust", "contention"], "time-series")
    counts = pd.crosstab(timeseries["step"], timeseries["field_state"].astype(str)).sort_index()
    shares = counts.div(counts.sum(axis=1), axis=0)
    known = [s for s in STATE_COLOURS if s in shares.columns]
    others = sorted(c for c in shares.columns if c not in STATE_COLOURS)
    states = known + others
    years = shares.index.to_numpy(dtype=float) / steps_per_year

    fig = _new_figure(10, 7)
    ax_state, ax_line = fig.subplots(2, 1, sharex=True, height_ratios=[1.2, 1])
    colours = [_colour(STATE_COLOURS, s, i) for i, s in enumerate(states)]
    ax_state.stackplot(years, *(shares[s].to_numpy() for s in states), labels=states, colors=colours, alpha=0.85)
    ax_state.set_ylim(0, 1)
    if years.size > 1:
        ax_state.set_xlim(years.min(), years.max())
    ax_state.set_ylabel("share of replicates")
    ax_state.set_title("Field state")
    ax_state.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)

    for column, colour in (("trust", "#0072B2"), ("contention", "#D55E00")):
        q = _quantiles_by_step(timeseries, column)
        yrs = q.index.to_numpy(dtype=float) / steps_per_year
        ax_line.fill_between(yrs, q["p25"], q["p75"], color=colour, alpha=0.2, lw=0)
        ax_line.plot(yrs, q["p50"], color=colour, lw=2, label=column)
    ax_line.set_ylim(bottom=0)
    ax_line.set_ylabel("index (0-1)")
    ax_line.set_xlabel("years")
    ax_line.set_title("Trust towards the voluntary sector and contention (median, 25-75% band)")
    ax_line.grid(alpha=0.3)
    ax_line.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    n_rep = _n_replicates(timeseries)
    fig.suptitle(f"Field dynamics ({n_rep} replicates)", fontsize="x-large")
    return _finish(fig, path)


def save_standard_plots(
    results_or_tables: _Tables | tuple[pd.DataFrame, pd.DataFrame],
    plots_dir: str | Path,
    *,
    steps_per_year: int | None = None,
) -> list[Path]:
    """Write the standard plots (``STANDARD_PLOTS``) as PNG files into ``plots_dir``.

    Args:
        results_or_tables: a ``Results`` (or anything with ``.runs`` and ``.timeseries``), or a
            ``(runs, timeseries)`` pair of DataFrames.
        plots_dir: directory to write into; created if missing.
        steps_per_year: steps in one year (default: the scenario's ``field.steps_per_year`` when
            a Results is given, else 4).

    Returns:
        The paths written, in ``STANDARD_PLOTS`` order.
    """
    if isinstance(results_or_tables, tuple):
        runs, timeseries = results_or_tables
        spy = 4
    else:
        runs, timeseries = results_or_tables.runs, results_or_tables.timeseries
        scenario = getattr(results_or_tables, "scenario", None)
        spy = int(scenario.field.steps_per_year) if scenario is not None else 4
    if steps_per_year is not None:
        spy = int(steps_per_year)
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    income, dists, states = (plots_dir / name for name in STANDARD_PLOTS)
    fan_chart_income(timeseries, income, steps_per_year=spy)
    outcome_distributions(runs, [o for o in HEADLINE_OUTCOMES if o in runs.columns], dists)
    field_state_chart(timeseries, states, steps_per_year=spy)
    return [income, dists, states]


def _colour(palette: dict[str, str], key: str, i: int) -> str:
    return palette.get(key, _EXTRA_COLOURS[i % len(_EXTRA_COLOURS)])


def _n_replicates(timeseries: pd.DataFrame) -> int:
    for col in ("run_id", "replicate"):
        if col in timeseries.columns:
            return int(timeseries[col].nunique())
    return int(timeseries.groupby("step").size().max()) if len(timeseries) else 0
