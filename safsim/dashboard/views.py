"""The dashboard's live charts as plain matplotlib figures (no UI imports).

Objects:
    income_share_figure(model): contract income share by provider kind over time.
    active_figure(model): active providers by kind over time.
    field_figure(model): trust and contention with the field state shaded behind them.
    bidding_figure(model): bids per tender and the small-VSO bid rate over time.
    arena_figure(model): the field now: commissioners, providers and live contracts as links.
    arena_layout(model): positions of commissioners and providers in the arena.
    render_all(model): every figure once (used by the timing benchmark).
    FIGURES: name -> figure function, in display order.

Each function takes a ``DashboardModel`` (or any FieldModel) and returns a new
``matplotlib.figure.Figure`` built without pyplot, so the figures can be drawn from the
server's worker threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from safsim.config import PROVIDER_KINDS
from safsim.plotting import KIND_COLOURS, KIND_LABELS, STATE_COLOURS

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = [
    "FIGURES",
    "active_figure",
    "arena_figure",
    "arena_layout",
    "bidding_figure",
    "field_figure",
    "income_share_figure",
    "render_all",
]

_SIZE = (5.6, 3.3)
_DPI = 80
_GREY = "#BBBBBB"
_INCOME_KINDS = (*(k.value for k in PROVIDER_KINDS), "consortium")


def _figure(title: str, size: tuple[float, float] = _SIZE) -> tuple[Figure, object]:
    fig = Figure(figsize=size, dpi=_DPI)
    fig.subplots_adjust(left=0.12, right=0.88, bottom=0.15, top=0.9)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    return fig, ax


def _steps(model: FieldModel) -> np.ndarray:
    return np.array([int(r["step"]) for r in model.timeseries_rows])


def _horizon(ax: object, model: FieldModel) -> None:
    ax.set_xlim(0, max(1, model.scenario.horizon_steps - 1))
    ax.set_xlabel("quarter", fontsize=8)


def income_share_figure(model: FieldModel) -> Figure:
    """Stacked shares of each step's contract income by provider kind (consortia apart)."""
    fig, ax = _figure("Contract income share by provider kind")
    rows = model.timeseries_rows
    if rows:
        x = _steps(model)
        income = np.array([[float(r[f"income_{k}_gbp"]) for r in rows] for k in _INCOME_KINDS])
        total = income.sum(axis=0)
        share = np.divide(income, total, out=np.zeros_like(income), where=total > 0)
        ax.stackplot(
            x,
            share,
            colors=[KIND_COLOURS[k] for k in _INCOME_KINDS],
            labels=[KIND_LABELS[k] for k in _INCOME_KINDS],
            alpha=0.9,
        )
        ax.legend(fontsize=7, loc="upper left", framealpha=0.8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of income", fontsize=8)
    _horizon(ax, model)
    return fig


def active_figure(model: FieldModel) -> Figure:
    """Active providers of each kind over time."""
    fig, ax = _figure("Active providers by kind")
    rows = model.timeseries_rows
    if rows:
        x = _steps(model)
        for k in PROVIDER_KINDS:
            ax.plot(
                x, [r[f"active_{k.value}"] for r in rows], color=KIND_COLOURS[k.value], lw=2, label=KIND_LABELS[k.value]
            )
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("providers", fontsize=8)
    _horizon(ax, model)
    return fig


def field_figure(model: FieldModel) -> Figure:
    """Mean trust and the contention index, with the field state shaded behind them."""
    fig, ax = _figure("Trust and contention (shading: field state)")
    rows = model.timeseries_rows
    if rows:
        x = _steps(model)
        for step, row in zip(x, rows, strict=True):
            ax.axvspan(
                step - 0.5, step + 0.5, color=STATE_COLOURS.get(str(row["field_state"]), _GREY), alpha=0.25, lw=0
            )
        ax.plot(x, [r["trust"] for r in rows], color="#000000", lw=2, label="trust")
        ax.plot(x, [r["contention"] for r in rows], color="#D55E00", lw=2, ls="--", label="contention")
        threshold = model.scenario.field.crisis_threshold
        ax.axhline(threshold, color="#D55E00", lw=0.8, ls=":", label="crisis threshold")
    handles = [
        Line2D([], [], color="#000000", lw=2, label="trust"),
        Line2D([], [], color="#D55E00", lw=2, ls="--", label="contention"),
        *(Patch(color=c, alpha=0.35, label=s) for s, c in STATE_COLOURS.items()),
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", ncol=2, framealpha=0.8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("index 0-1", fontsize=8)
    _horizon(ax, model)
    return fig


def bidding_figure(model: FieldModel) -> Figure:
    """Bids received per tender (left axis) and the small-VSO bid rate (right axis)."""
    fig, ax = _figure("Bids per tender and small-VSO bid rate")
    ax2 = ax.twinx()
    ax2.tick_params(labelsize=8)
    rows = model.timeseries_rows
    bpt = np.array(getattr(model, "bids_per_tender", []), dtype=float)
    if rows:
        x = _steps(model)
        # Tenders fall in some quarters only: plot the quarters that had tenders (or bids).
        if len(bpt) == len(rows):
            ok = ~np.isnan(bpt)
            ax.plot(x[ok], bpt[ok], color="#0072B2", lw=1.5, marker="o", ms=4, label="bids per tender")
        rate = np.array([float(r["bid_rate_sme_vso"]) for r in rows])
        ok = ~np.isnan(rate)
        ax2.plot(x[ok], rate[ok], color=KIND_COLOURS["sme_vso"], lw=1.5, ls="--", marker="s", ms=4)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("bids per tender", fontsize=8, color="#0072B2")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("small-VSO bid rate", fontsize=8, color=KIND_COLOURS["sme_vso"])
    handles = [
        Line2D([], [], color="#0072B2", lw=1.5, marker="o", ms=4, label="bids per tender"),
        Line2D([], [], color=KIND_COLOURS["sme_vso"], lw=1.5, ls="--", marker="s", ms=4, label="small-VSO bid rate"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.8)
    _horizon(ax, model)
    return fig


def arena_layout(model: FieldModel) -> tuple[np.ndarray, np.ndarray]:
    """Arena positions: commissioners on an inner circle, providers on an outer ring by kind.

    Returns:
        ``(commissioner_xy, provider_xy)``: arrays of shape (n_commissioners, 2) and
        (provider table rows, 2).  Each kind has a sector of the ring proportional to the
        number of its providers that ever entered.
    """
    n_comm = len(model.commissioners)
    a = 2 * math.pi * np.arange(n_comm) / max(1, n_comm) + math.pi / 2
    r_inner = 0.0 if n_comm == 1 else 0.35
    comm_xy = np.column_stack([r_inner * np.cos(a), r_inner * np.sin(a)])
    table = model.pop
    n = table.n
    kinds = table.kind[:n]
    prov_xy = np.zeros((n, 2))
    start = 0.0
    for code in np.unique(kinds):
        rows = np.flatnonzero(kinds == code)
        width = 2 * math.pi * len(rows) / max(1, n)
        angles = start + width * (np.arange(len(rows)) + 0.5) / len(rows)
        radius = 1.0 + 0.08 * (np.arange(len(rows)) % 2)  # stagger neighbours so dots do not touch
        prov_xy[rows] = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
        start += width
    return comm_xy, prov_xy


def arena_figure(model: FieldModel) -> Figure:
    """Who holds the field now: live contracts as links from commissioner to holder.

    Link width grows with the contract's payment per step and its colour is the winning
    bid's kind (consortia in their own colour); a provider's dot grows with the contract
    value it holds; exited providers are grey rings.
    """
    fig, ax = _figure("Arena: who holds the field now", size=(5.6, 5.0))
    comm_xy, prov_xy = arena_layout(model)
    book = model.contracts
    table = model.pop
    n = table.n
    held = np.zeros(n)
    links = model.live_contracts
    pay_max = max((float(book.payment_per_step[k.contract_id]) for k in links), default=0.0)
    for k in links:
        pay = float(book.payment_per_step[k.contract_id])
        width = 0.4 + 4.0 * math.sqrt(pay / pay_max) if pay_max > 0 else 0.4
        c = comm_xy[k.commissioner]
        colour = KIND_COLOURS.get(k.bid.kind, _GREY)
        for row, share in zip(k.rows, k.shares, strict=True):
            p = prov_xy[int(row)]
            ax.plot([c[0], p[0]], [c[1], p[1]], color=colour, lw=width * math.sqrt(float(share)), alpha=0.55, zorder=1)
            held[int(row)] += pay * float(share)
    active = table.active[:n]
    kinds = table.kind[:n]
    gone = ~active
    if gone.any():
        ax.scatter(prov_xy[gone, 0], prov_xy[gone, 1], s=14, facecolors="none", edgecolors=_GREY, lw=0.8, zorder=2)
    size = 14 + 160 * np.sqrt(held / held.max()) if held.max() > 0 else np.full(n, 14.0)
    for code, k in enumerate(PROVIDER_KINDS):
        sel = active & (kinds == code)
        if sel.any():
            ax.scatter(
                prov_xy[sel, 0],
                prov_xy[sel, 1],
                s=size[sel],
                color=KIND_COLOURS[k.value],
                edgecolors="white",
                lw=0.5,
                zorder=3,
            )
    ax.scatter(comm_xy[:, 0], comm_xy[:, 1], s=420, marker="s", color="#333333", zorder=4)
    for i, c in enumerate(model.commissioners):
        ax.annotate(
            f"{c.name}\nSV {c.sv_weight:.0%}",
            comm_xy[i],
            color="white",
            fontsize=6,
            ha="center",
            va="center",
            zorder=5,
        )
    handles = [
        *(Patch(color=KIND_COLOURS[k], label=KIND_LABELS[k]) for k in _INCOME_KINDS),
        Line2D([], [], marker="o", ls="", mfc="none", mec=_GREY, label="exited"),
        Line2D([], [], marker="s", ls="", color="#333333", label="commissioner"),
    ]
    ax.legend(handles=handles, fontsize=6, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.16), frameon=False)
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.text(-1.2, 1.18, f"quarter {model.steps}   live contracts {len(links)}", fontsize=7)
    return fig


FIGURES: dict[str, Callable[[FieldModel], Figure]] = {
    "income": income_share_figure,
    "active": active_figure,
    "field": field_figure,
    "bidding": bidding_figure,
    "arena": arena_figure,
}


def render_all(model: FieldModel, fmt: str = "png") -> int:
    """Build every figure and encode it as the browser receives it; returns the total bytes."""
    import io

    total = 0
    for make in FIGURES.values():
        buf = io.BytesIO()
        make(model).savefig(buf, format=fmt)
        total += buf.tell()
    return total
