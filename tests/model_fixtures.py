"""Helpers for the submodel unit tests: tiny models, hand-made tenders and bids."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from safsim.config import Engagement, ProviderKind, SvDefinition
from safsim.model import FieldModel
from safsim.population import PROVIDER_COLUMNS, ProviderTable
from safsim.scenario import load_scenario
from safsim.tendering import Bid, Tender

# One authority, a handful of providers of every kind, a short horizon.
TINY: dict[str, Any] = {
    "horizon_steps": 4,
    "warmup_steps": 0,  # submodel tests start from the drawn field
    "field.n_authorities": 1,
    "providers.sme_vso.count": 4,
    "providers.large_charity.count": 2,
    "providers.corporate.count": 2,
    "providers.social_enterprise.count": 2,
}


def tiny(overrides: dict[str, Any] | None = None, seed: int = 1) -> FieldModel:
    """A small model built from the baseline scenario with ``TINY`` and ``overrides`` applied."""
    return FieldModel(load_scenario("baseline", TINY | (overrides or {})), seed=seed)


def rows_of(m: FieldModel, kind: ProviderKind) -> np.ndarray:
    """The active rows of ``kind``."""
    return m.pop.rows_of(kind, active_only=True)


def make_ready(m: FieldModel, rows: np.ndarray) -> None:
    """Make ``rows`` able to bid alone on any tender of ``tender_for``: all areas covered, bids
    left, no SV-weight threshold, room and turnover to spare, quick to write a bid."""
    T = m.pop
    T.areas_mask[rows] = (1 << 62) - 1
    T.bids_this_year[rows] = 0.0
    T.bid_capacity[rows] = 10.0
    T.min_sv_weight_to_bid[rows] = 0.0
    T.capacity_gbp[rows] = 1e9
    T.contracted_annual_gbp[rows] = 0.0
    T.turnover_gbp[rows] = 1e9
    T.tender_prep_weeks[rows] = 1.0


def tender_for(m: FieldModel, commissioner: int = 0, **changes: Any) -> Tender:
    """A tender of ``commissioner`` for its line 0 (area bit 0), one year, 100k per year."""
    spy = m.steps_per_year
    t = Tender(
        tender_id=10_000 + m.next_tender_id,
        commissioner=commissioner,
        step=0,
        volume_gbp=100_000.0,
        ceiling_gbp=120_000.0,
        duration_steps=spy,
        portions=((0, 1.0),),
        price_weight=0.6,
        quality_weight=0.35,
        sv_weight=0.05,
        engagement=Engagement.none,
        sv_definition=SvDefinition.supplier_open,
        eligibility_turnover_gbp=0.0,
        years=1.0,
        areas_mask=1,
    )
    m.next_tender_id += 1
    return replace(t, **changes)


def bid_of(m: FieldModel, rows: np.ndarray, shares: np.ndarray | None = None, **changes: Any) -> Bid:
    """A bid by ``rows`` (a single provider or a consortium) priced at cost, with true SV 10k."""
    rows = np.asarray(rows, dtype=np.int64)
    shares = np.full(rows.size, 1.0 / rows.size) if shares is None else shares
    kind = m.providers[int(rows[0])].kind_value if rows.size == 1 else "consortium"
    b = Bid(
        members=tuple(m.pop.unique_id[rows].tolist()),
        shares=tuple(float(s) for s in shares),
        kind=kind,
        price_gbp=100_000.0,
        cost_gbp=100_000.0,
        quality=0.7,
        sv_true=10_000.0,
        sv_claim_hard=5_000.0,
        sv_claim_soft=5_000.0,
        credibility=1.0,
        track_record=0.5,
        hard_delivered=0.5,
        sv_shading=0.0,
    )
    return replace(b, **changes)


def table_columns(n: int, value: float = 1.0) -> dict[str, np.ndarray]:
    """Every column a ``ProviderTable.append`` of ``n`` rows needs, all set to ``value``."""
    return {name: np.full(n, float(value)) for name in PROVIDER_COLUMNS}


def append_rows(
    table: ProviderTable, kind: ProviderKind, authorities: list[list[int]], value: float = 1.0, initial: bool = True
) -> np.ndarray:
    """Append one row per entry of ``authorities``, every column set to ``value``."""
    n = len(authorities)
    return table.append(kind, table_columns(n, value), np.ones(n, dtype=np.int64), authorities, initial)
