"""One small figure per stylized fact: a panel per criterion, drawn from judged results.

Objects:
    plot_fact(fact, results, path=None): the figure of one fact (returns the Figure).

Panels: a level criterion shows the per-seed values with their mean, 95% interval and the
threshold; a two-arm contrast shows each arm's mean with a 95% interval; a longer contrast
(difference of differences) shows the per-seed contrast; a trend shows the mean and 95%
interval of the outcome at each lever level; an authority association shows the pooled
authorities (a scatter, or observed against fitted values for an R-squared).  Intervals of
single means are normal approximations (mean +/- 1.96 standard errors); the verdict's own
interval (bootstrap) is printed in the panel title.  Figures use their own Agg canvas, as in
``safsim.plotting``, so nothing touches pyplot's global state.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from safsim.analysis.facts import Fact

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from safsim.analysis.validation import CriterionResult

__all__ = ["plot_fact"]

DPI = 90
PASS_COLOUR = "#009E73"
FAIL_COLOUR = "#D55E00"
POINT_COLOUR = "#0072B2"
MAX_SCATTER_POINTS = 800


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _mean_ci(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    if x.size == 1:
        return float(x[0]), 0.0
    return float(x.mean()), float(1.96 * x.std(ddof=1) / math.sqrt(x.size))


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _title(ax: Axes, c: CriterionResult) -> None:
    colour = PASS_COLOUR if c.verdict == "pass" else FAIL_COLOUR
    flag = c.verdict if c.counted else f"{c.verdict}, not counted"
    flag += f", {c.origin}"
    if c.zero_width:
        flag += ", zero-width interval"
    ax.set_title(
        f"{c.criterion}: {_num(c.effect)} [{_num(c.ci_low)}, {_num(c.ci_high)}] ({flag})",
        fontsize="small",
        color=colour,
    )


def _short(label: str, width: int = 18) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _jitter(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.12, 0.12, n)


def _panel_level(ax: Axes, c: CriterionResult) -> None:
    values = np.asarray(c.data["values"], dtype=float)[:, 0]
    ok = np.isfinite(values)
    ax.scatter(_jitter(int(ok.sum())), values[ok], s=10, alpha=0.45, color=POINT_COLOUR)
    m, h = _mean_ci(values)
    ax.errorbar([0.35], [m], yerr=[h], fmt="o", color="black", capsize=4)
    ax.axhline(c.threshold, color=FAIL_COLOUR, ls="--", lw=1, label=f"threshold {_num(c.threshold)}")
    _coef, arm, metric = c.data["terms"][0]
    ax.set_xticks([0.0])
    ax.set_xticklabels([_short(arm)], fontsize="x-small")
    ax.set_xlim(-0.5, 0.7)
    ax.set_ylabel(metric, fontsize="x-small")
    ax.legend(fontsize="x-small", frameon=False, loc="best")


def _panel_two_terms(ax: Axes, c: CriterionResult) -> None:
    values = np.asarray(c.data["values"], dtype=float)
    terms = c.data["terms"]
    same_arm = terms[0][1] == terms[1][1]
    labels = []
    # Show the reference (negative coefficient) first, then the tested arm; thin lines join
    # the two runs of one seed (common random numbers).
    order = sorted(range(len(terms)), key=lambda i: terms[i][0])
    xs = [pos + _jitter(values.shape[0], i) for pos, i in enumerate(order)]
    pair_ok = np.all(np.isfinite(values[:, order]), axis=1)
    for k in np.flatnonzero(pair_ok):
        ax.plot(
            [xs[0][k], xs[1][k]],
            [values[k, order[0]], values[k, order[1]]],
            color="grey",
            lw=0.4,
            alpha=0.35,
        )
    for pos, i in enumerate(order):
        _coef, arm, metric = terms[i]
        v = values[:, i]
        ok = np.isfinite(v)
        ax.scatter(xs[pos][ok], v[ok], s=8, alpha=0.3, color=POINT_COLOUR)
        m, h = _mean_ci(v)
        ax.errorbar([pos + 0.3], [m], yerr=[h], fmt="o", color="black", capsize=4)
        labels.append(_short(metric if same_arm else arm))
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(labels, fontsize="x-small")
    ax.set_xlim(-0.5, len(order) - 0.2)
    metrics = {t[2] for t in terms}
    ax.set_ylabel(_short(" / ".join(sorted(metrics)), 40) if not same_arm else "value", fontsize="x-small")


def _panel_contrast(ax: Axes, c: CriterionResult) -> None:
    d = np.asarray(c.data["contrast"], dtype=float)
    ok = np.isfinite(d)
    ax.scatter(_jitter(int(ok.sum())), d[ok], s=10, alpha=0.45, color=POINT_COLOUR)
    m, h = _mean_ci(d)
    ax.errorbar([0.35], [m], yerr=[h], fmt="o", color="black", capsize=4)
    ax.axhline(c.threshold, color=FAIL_COLOUR, ls="--", lw=1)
    ax.set_xticks([0.0])
    ax.set_xticklabels(["per-seed contrast"], fontsize="x-small")
    ax.set_xlim(-0.5, 0.7)
    ax.set_ylabel(_short(c.metric, 45), fontsize="xx-small")


def _panel_trend(ax: Axes, c: CriterionResult) -> None:
    levels = np.asarray(c.data["levels"], dtype=float)
    values = np.asarray(c.data["values"], dtype=float)
    stats = [_mean_ci(values[:, j]) for j in range(levels.size)]
    means = np.array([s[0] for s in stats])
    half = np.array([s[1] for s in stats])
    ax.fill_between(levels, means - half, means + half, color=POINT_COLOUR, alpha=0.25, lw=0)
    ax.plot(levels, means, "o-", color=POINT_COLOUR)
    ax.set_xlabel("lever level", fontsize="x-small")
    ax.set_ylabel(c.data["metric"], fontsize="x-small")


def _panel_authority(ax: Axes, c: CriterionResult) -> None:
    table: pd.DataFrame = c.data["table"]
    y = c.data["y"]
    x = list(c.data["x"])
    t = table[[y, *x]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(t) > MAX_SCATTER_POINTS:
        t = t.sample(MAX_SCATTER_POINTS, random_state=0)
    if c.kind == "authority_spearman":
        ax.scatter(t[x[0]], t[y], s=6, alpha=0.35, color=POINT_COLOUR)
        ax.set_xlabel(x[0], fontsize="x-small")
        ax.set_ylabel(y, fontsize="x-small")
    else:
        A = np.column_stack([np.ones(len(t)), t[x].to_numpy(dtype=float)])
        yv = t[y].to_numpy(dtype=float)
        coef, *_ = np.linalg.lstsq(A, yv, rcond=None)
        fitted = A @ coef
        ax.scatter(fitted, yv, s=6, alpha=0.35, color=POINT_COLOUR)
        lo, hi = float(min(fitted.min(), yv.min())), float(max(fitted.max(), yv.max()))
        ax.plot([lo, hi], [lo, hi], color="black", lw=1)
        ax.set_xlabel(_short("fitted from " + ", ".join(x), 45), fontsize="xx-small")
        ax.set_ylabel(y, fontsize="x-small")


def plot_fact(fact: Fact, results: Sequence[CriterionResult], path: str | Path | None = None) -> Figure:
    """The figure of one fact: one panel per criterion; saved as PNG when ``path`` is given."""
    n = max(1, len(results))
    fig = _new_figure(3.3 * n, 3.0)
    axes = fig.subplots(1, n, squeeze=False).ravel()
    for ax, c in zip(axes, results, strict=False):
        if c.kind == "trend":
            _panel_trend(ax, c)
        elif c.kind.startswith("authority"):
            _panel_authority(ax, c)
        elif len(c.data["terms"]) == 1:
            _panel_level(ax, c)
        elif len(c.data["terms"]) == 2:
            _panel_two_terms(ax, c)
        else:
            _panel_contrast(ax, c)
        _title(ax, c)
        ax.tick_params(labelsize="x-small")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{fact.id}: {textwrap.shorten(fact.title, 110)}", fontsize="medium")
    if path is not None:
        fig.savefig(Path(path), dpi=DPI, format="png")
    return fig
