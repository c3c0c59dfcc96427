"""Standard plots of replicate tables: functions of DataFrames, never of live models.

Objects:
    fan_chart_income(timeseries): contract income per quarter by provider kind, as fan charts
        (median, 25-75% and 5-95% bands across replicates) over years.
    outcome_distributions(runs, outcomes): small multiples of outcome histograms across
        replicates, median marked.
    field_state_chart(timeseries): share of replicates in each field state per step, plus median
        trust and contention.
    save_standard_plots(results_or_tables, plots_dir): the three plots above as PNG files.
    forest_plot(table): paired differences of a comparison (compare.csv) with their intervals,
        one row per outcome, a zero line, labels from the outcome glossary.
    fan_chart(timeseries, columns): fan charts of time-series columns, one fan per arm when
        the table has an ``arm_label`` column.
    mark_shocks(ax, shocks): dotted vertical lines at the scenario's shocks on a time axis.
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
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from safsim.metrics import HEADLINE_OUTCOMES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "STANDARD_PLOTS",
    "fan_chart",
    "fan_chart_income",
    "field_state_chart",
    "forest_plot",
    "mark_shocks",
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


ShockLike = Any
"""A shock: a ``config.Shock``, a mapping with ``at_step`` (and ``kind``), or ``(at_step, kind)``."""


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
    scenario: str | None = None,
    shocks: Sequence[ShockLike] = (),
) -> Figure:
    """Fan charts of contract income per step by provider kind, across replicates.

    One panel per kind (shared y axis): the median line, a 25-75% band and a 5-95% band of
    ``income_<kind>_gbp`` across replicates at each step; a last panel overlays the medians of
    all kinds for direct comparison.

    Args:
        timeseries: the time-series table (columns ``step`` and ``income_<kind>_gbp``).
        path: if given, also save the figure there.
        steps_per_year: steps in one year; the x axis shows ``step / steps_per_year``.
        scenario: the scenario's name, shown in the title.
        shocks: the scenario's shocks, marked on every panel (see ``mark_shocks``).

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
        mark_shocks(ax, shocks, steps_per_year=steps_per_year, text=idx == 0)
        if idx % ncols == 0:
            ax.set_ylabel(f"income per quarter ({unit})")
        # x labels on the lowest visible panel of each column
        if idx + ncols >= n_panels:
            ax.set_xlabel("years")
            ax.xaxis.set_tick_params(labelbottom=True)
    n_rep = _n_replicates(timeseries)
    fig.suptitle(f"Contract income by provider kind{_of(scenario)} ({n_rep} replicates)", fontsize="x-large")
    return _finish(fig, path)


def outcome_distributions(
    runs: pd.DataFrame,
    outcomes: Sequence[str] = HEADLINE_OUTCOMES,
    path: str | Path | None = None,
    *,
    scenario: str | None = None,
) -> Figure:
    """Small multiples of outcome distributions across replicates, median marked.

    Each panel is a histogram of one outcome's run values, with each run also drawn as a tick
    along the bottom (readable with few replicates) and the median as a dashed line.  Panels
    are titled with the outcome's glossary label and the x axis gives its unit.

    Args:
        runs: the runs table (one row per run).
        outcomes: the outcome columns to show (default: the headline outcomes).
        path: if given, also save the figure there.
        scenario: the scenario's name, shown in the title.

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
        title, unit = _label_unit(name)
        ax.set_title("\n".join(textwrap.wrap(title, 34)), fontsize="medium")
        xlabel = unit
        if name.endswith("_gbp") and x.size:
            scale, money = _money_scale(float(np.max(np.abs(x))))
            x = x / scale
            xlabel = money
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
    fig.suptitle(f"Outcome distributions{_of(scenario)} across {len(runs)} runs", fontsize="x-large")
    return _finish(fig, path)


def field_state_chart(
    timeseries: pd.DataFrame,
    path: str | Path | None = None,
    *,
    steps_per_year: int = 4,
    scenario: str | None = None,
    shocks: Sequence[ShockLike] = (),
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
        scenario: the scenario's name, shown in the title.
        shocks: the scenario's shocks, marked on both panels (see ``mark_shocks``).

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
    mark_shocks(ax_state, shocks, steps_per_year=steps_per_year, text=True)
    mark_shocks(ax_line, shocks, steps_per_year=steps_per_year, text=False)
    n_rep = _n_replicates(timeseries)
    fig.suptitle(f"Field dynamics{_of(scenario)} ({n_rep} replicates)", fontsize="x-large")
    return _finish(fig, path)


def save_standard_plots(
    results_or_tables: _Tables | tuple[pd.DataFrame, pd.DataFrame],
    plots_dir: str | Path,
    *,
    steps_per_year: int | None = None,
) -> list[Path]:
    """Write the standard plots (``STANDARD_PLOTS``) as PNG files into ``plots_dir``.

    Titles name the scenario and the time axes mark its shocks when a ``Results`` is given.

    Args:
        results_or_tables: a ``Results`` (or anything with ``.runs`` and ``.timeseries``), or a
            ``(runs, timeseries)`` pair of DataFrames.
        plots_dir: directory to write into; created if missing.
        steps_per_year: steps in one year (default: the scenario's ``field.steps_per_year`` when
            a Results is given, else 4).

    Returns:
        The paths written, in ``STANDARD_PLOTS`` order.
    """
    name: str | None = None
    shocks: Sequence[ShockLike] = ()
    if isinstance(results_or_tables, tuple):
        runs, timeseries = results_or_tables
        spy = 4
    else:
        runs, timeseries = results_or_tables.runs, results_or_tables.timeseries
        scenario = getattr(results_or_tables, "scenario", None)
        spy = int(scenario.field.steps_per_year) if scenario is not None else 4
        if scenario is not None:
            name, shocks = scenario.name, list(scenario.shocks)
    if steps_per_year is not None:
        spy = int(steps_per_year)
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    income, dists, states = (plots_dir / name for name in STANDARD_PLOTS)
    fan_chart_income(timeseries, income, steps_per_year=spy, scenario=name, shocks=shocks)
    outcome_distributions(runs, [o for o in HEADLINE_OUTCOMES if o in runs.columns], dists, scenario=name)
    field_state_chart(timeseries, states, steps_per_year=spy, scenario=name, shocks=shocks)
    return [income, dists, states]


def _colour(palette: dict[str, str], key: str, i: int) -> str:
    return palette.get(key, _EXTRA_COLOURS[i % len(_EXTRA_COLOURS)])


def _n_replicates(timeseries: pd.DataFrame) -> int:
    for col in ("run_id", "replicate"):
        if col in timeseries.columns:
            return int(timeseries[col].nunique())
    return int(timeseries.groupby("step").size().max()) if len(timeseries) else 0


def _of(scenario: str | None) -> str:
    return f": {scenario}" if scenario else ""


def _label_unit(name: str) -> tuple[str, str]:
    """(label, unit) of a column from the outcome glossary; the name itself when unknown."""
    from safsim import outcomes

    try:
        o = outcomes.outcome(name)
    except KeyError:
        return name, ""
    return o.label, ("" if o.unit in (outcomes.TEXT, outcomes.FLAG) else o.unit)


def shock_steps(shocks: Sequence[ShockLike]) -> list[tuple[int, str]]:
    """``(at_step, kind)`` of each shock, sorted by step (any ``ShockLike`` form accepted)."""
    out: list[tuple[int, str]] = []
    for s in shocks:
        if isinstance(s, tuple):
            step, kind = int(s[0]), str(s[1]) if len(s) > 1 else ""
        elif isinstance(s, dict):
            step, kind = int(s["at_step"]), str(s.get("kind", ""))
        else:
            kind_attr = getattr(s, "kind", "")
            step, kind = int(s.at_step), str(getattr(kind_attr, "value", kind_attr))
        out.append((step, kind.replace("_", " ")))
    return sorted(out)


def mark_shocks(ax: Any, shocks: Sequence[ShockLike], *, steps_per_year: int = 4, text: bool = True) -> None:
    """Dotted vertical lines at each shock's ``at_step`` on a time axis in years, kind named.

    Args:
        ax: the matplotlib Axes (x axis in years).
        shocks: the scenario's shocks (see ``ShockLike``).
        steps_per_year: steps in one year.
        text: also write each shock's kind beside its line.
    """
    for i, (step, kind) in enumerate(shock_steps(shocks)):
        x = step / steps_per_year
        ax.axvline(x, color="#444444", ls=":", lw=1.4, zorder=5)
        if text:
            ax.text(
                x,
                0.98 - 0.09 * (i % 4),
                f" {kind}",
                transform=ax.get_xaxis_transform(),
                ha="left",
                va="top",
                fontsize="small",
                color="#444444",
            )


def fan_chart(
    timeseries: pd.DataFrame,
    columns: Sequence[str],
    path: str | Path | None = None,
    *,
    steps_per_year: int = 4,
    scenario: str | None = None,
    shocks: Sequence[ShockLike] = (),
) -> Figure:
    """Fan charts of time-series columns over years: median, 25-75% and 5-95% bands over runs.

    One panel per column, titled with its glossary label and unit; when the table has an
    ``arm_label`` column (a comparison) each arm gets its own colour in every panel.  The
    scenario's shocks are marked on every panel.

    Args:
        timeseries: the time-series table (``step`` and the columns; optionally ``arm_label``).
        columns: the numeric columns to show.
        path: if given, also save the figure there.
        steps_per_year: steps in one year; the x axis shows ``step / steps_per_year``.
        scenario: what was run (a scenario's name, or the compared scenarios), in the title.
        shocks: shocks to mark (see ``mark_shocks``).

    Returns:
        The Figure.
    """
    columns = list(columns)
    if not columns:
        raise ValueError("no columns to plot")
    _require(timeseries, ["step", *columns], "time-series")
    if "arm_label" in timeseries.columns:
        groups = list(dict.fromkeys(timeseries["arm_label"].astype(str)))
        parts = [(g, timeseries[timeseries["arm_label"].astype(str) == g]) for g in groups]
    else:
        parts = [("", timeseries)]
    palette = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
    ncols = min(3, len(columns))
    nrows = -(-len(columns) // ncols)
    fig = _new_figure(4.4 * ncols, 3.1 * nrows + 0.7)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for idx, (ax, column) in enumerate(zip(axes, columns, strict=False)):
        title, unit = _label_unit(column)
        scale, shown = 1.0, unit
        if unit == "£":
            peak = float(np.nanmax(np.abs(pd.to_numeric(timeseries[column], errors="coerce")), initial=0.0))
            scale, shown = _money_scale(peak)
        for i, (group, df) in enumerate(parts):
            q = _quantiles_by_step(df, column) / scale
            years = q.index.to_numpy(dtype=float) / steps_per_year
            colour = palette[i % len(palette)]
            alpha = 0.12 if len(parts) > 1 else 0.18
            ax.fill_between(years, q["p5"], q["p95"], color=colour, alpha=alpha, lw=0)
            ax.fill_between(years, q["p25"], q["p75"], color=colour, alpha=alpha * 2, lw=0)
            ax.plot(years, q["p50"], color=colour, lw=2, label=group or "median")
        mark_shocks(ax, shocks, steps_per_year=steps_per_year, text=idx == 0)
        ax.set_title("\n".join(textwrap.wrap(title, 38)), fontsize="medium")
        ax.set_ylabel(shown)
        ax.grid(alpha=0.3)
        if idx + ncols >= len(columns):
            ax.set_xlabel("years")
            ax.xaxis.set_tick_params(labelbottom=True)
        if idx == 0:
            ax.legend(loc="best", fontsize="small", frameon=False)
    for ax in axes[len(columns) :]:
        ax.set_visible(False)
    n_rep = int(parts[0][1]["run_id"].nunique()) if "run_id" in timeseries.columns else _n_replicates(timeseries)
    fig.suptitle(
        f"Over time{_of(scenario)}: median, 25-75% and 5-95% bands over {n_rep} runs", fontsize="large", wrap=True
    )
    return _finish(fig, path)


def forest_plot(table: pd.DataFrame, path: str | Path | None = None, *, title: str | None = None) -> Figure:
    """Forest plot of a comparison: each arm's paired difference from arm 1, with its 95% interval.

    One row per outcome (its glossary label and unit on the left), each on its own scale
    because the outcomes have different units; a vertical zero line (no difference); one
    marker per compared arm, with the interval as a bar and the value written beside it.

    Args:
        table: a comparison table (compare.csv: ``outcome``, ``arm``, ``scenario``, ``diff``,
            ``diff_ci_low``, ``diff_ci_high``).
        path: if given, also save the figure there.
        title: the figure title (default: names the arms compared with the reference).

    Returns:
        The Figure.
    """
    _require(table, ["outcome", "arm", "scenario", "diff", "diff_ci_low", "diff_ci_high"], "comparison")
    arms = table.drop_duplicates("arm").sort_values("arm")
    labels = {int(a): str(s) for a, s in zip(arms["arm"], arms["scenario"], strict=True)}
    if len(labels) < 2:
        raise ValueError("a comparison table needs at least two arms")
    compared = [a for a in labels if a != 1]
    outcomes_ = list(dict.fromkeys(table["outcome"].astype(str)))
    palette = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
    row_h = 0.42 + 0.22 * len(compared)
    fig = _new_figure(10, 1.2 + row_h * len(outcomes_))
    axes = fig.subplots(len(outcomes_), 1, squeeze=False).ravel()
    for ax, name in zip(axes, outcomes_, strict=True):
        rows = table[(table["outcome"].astype(str) == name) & (table["arm"] != 1)].set_index("arm")
        label, unit = _label_unit(name)
        ax.set_ylabel(
            "\n".join(textwrap.wrap(f"{label} ({unit})" if unit else label, 30)),
            rotation=0,
            ha="right",
            va="center",
            fontsize="small",
        )
        ax.axvline(0.0, color="#333333", lw=1)
        values = []
        for j, arm in enumerate(compared):
            if arm not in rows.index:
                continue
            r = rows.loc[arm]
            y = -j
            d, lo, hi = float(r["diff"]), float(r["diff_ci_low"]), float(r["diff_ci_high"])
            colour = palette[j % len(palette)]
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [y, y], color=colour, lw=2.5, solid_capstyle="butt")
                values += [lo, hi]
            if np.isfinite(d):
                ax.plot([d], [y], "o", color=colour, ms=7, label=labels[arm])
                values.append(d)
                ax.annotate(
                    f"{d:+.3g}", (d, y), xytext=(0, 6), textcoords="offset points", ha="center", fontsize="x-small"
                )
        span = max((abs(v) for v in values), default=0.0)
        span = span if span > 0 else 1.0
        ax.set_xlim(-1.15 * span, 1.15 * span)
        ax.set_ylim(-len(compared) + 0.4, 0.8)
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize="x-small")
        ax.grid(alpha=0.3, axis="x")
    handles, names = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="outside lower center", ncols=min(4, len(names)), frameon=False)
    ref = labels[1]
    default = f"{', '.join(labels[a] for a in compared)} minus {ref}: paired difference and 95% interval"
    fig.suptitle("\n".join(textwrap.wrap(title or default, 90)), fontsize="large")
    return _finish(fig, path)
