"""Counters behind the outcomes: per step (the time-series table) and per run (the runs table).

Objects:
    StepAccumulator: counters of the current step.
    Totals: whole-run counters.

The outcomes computed from them are defined in ``safsim.metrics``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["StepAccumulator", "Totals"]


@dataclass(slots=True)
class StepAccumulator:
    """Counters for the current step (the time-series table)."""

    income_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    vso_bids: int = 0
    vso_opportunities: int = 0
    vso_wins: int = 0
    tenders: int = 0
    grants_sme_vso: float = 0.0  # grants paid to small VSOs
    exits_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    entries_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(slots=True)
class Totals:
    """Whole-run counters (the runs table)."""

    value_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    value_by_provider: dict[int, float] = field(default_factory=lambda: defaultdict(float))  # by table row
    awards: int = 0
    tenders: int = 0
    bids: int = 0
    vso_bids: int = 0
    vso_opportunities: int = 0
    vso_wins: int = 0
    exits: int = 0
    entries: int = 0
    sv_claimed: float = 0.0
    sv_claimed_hard: float = 0.0
    sv_delivered: float = 0.0
    contract_payments: float = 0.0
    delivery_cost: float = 0.0
    winner_changed: int = 0
    sv_weight_sum: float = 0.0
    codesign_tenders: int = 0
    monitored_contracts: int = 0
    contention_sum: float = 0.0
    state_steps: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    commissioner_paid: float = 0.0
    provider_received: float = 0.0
    engagement_cost_unpaid: float = 0.0
    engaged_tenders: int = 0  # tenders preceded by consultation or more
    supplier_defined_tenders: int = 0
    codefined_tenders: int = 0
    engagement_rounds: int = 0  # engagement rounds with at least one participant
    engagement_invited: int = 0
    engagement_participants: int = 0
    participant_bids: int = 0  # bids by small VSOs that once took part in co-design
    participant_opportunities: int = 0
    vso_sv_score_sum: float = 0.0
    vso_sv_score_n: int = 0
    awareness_bidders_sum: float = 0.0
    awareness_bidders_n: int = 0
    sv_delivered_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    paid_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cost_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    subsidy_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    sv_claimed_monitored: float = 0.0
    sv_delivered_monitored: float = 0.0
    crisis_episodes: int = 0
    resettlements: int = 0
