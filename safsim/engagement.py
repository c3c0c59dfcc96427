"""Pre-procurement engagement: consultation, co-design and co-production (spec step 4).

Objects:
    engagement_cost_gbp: what taking part in one round costs a participant.
    engage: run the engagement round that precedes a tender and return the tender as it is
        then specified.

Local VSOs and social enterprises are invited first; unpaid participation costs them (F15,
T7490-7498) and low-reserve ones decline; co-design may produce a co-defined specification
(chance = commissioner social skill); participants learn what is wanted and gain confidence
(F7); an optional rule excludes participants from bidding (T10444-10448).  Trust and
understanding move once per step in ``safsim.field_dynamics``.  See docs/ODD.md,
"Submodels: engagement".
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from safsim.config import BehaviourConfig, Engagement, SvDefinition
from safsim.delivery import pay, spend
from safsim.population import SE, VSO
from safsim.tendering import Tender

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = ["engage", "engagement_cost_gbp"]


def engagement_cost_gbp(tender: Tender, b: BehaviourConfig) -> float:
    """Cost of one engagement round to a participant: a share of the lot's annual ceiling."""
    cost = b.engagement_cost_share * tender.ceiling_gbp
    if tender.engagement is Engagement.consultation:
        cost *= b.consultation_cost_factor
    return cost


def engage(model: FieldModel, tender: Tender) -> Tender:
    """The engagement round before ``tender`` (T7185-7284, T7647-7930).

    Returns:
        The tender, with a co-defined social-value definition and barred participants where
        the round produced them.
    """
    level = tender.engagement
    if level is Engagement.none:
        return tender
    b = model.behaviour
    pol = model.policies
    T = model.pop
    rng = model.rng
    comm = model.commissioners[tender.commissioner]
    cost = engagement_cost_gbp(tender, b)
    rows = T.serves(comm.index)
    local = rows[(T.kind[rows] == VSO) | (T.kind[rows] == SE)]
    if local.size:
        knowledge = T.local_knowledge[local] + 1e-6 * rng.random(local.size)
        invited = local[np.argsort(-knowledge)[: b.codesign_invitees]]
    else:
        invited = local
    can_afford = pol.reimburse_engagement | (T.reserves_gbp[invited] > b.engagement_reserve_multiple * cost)
    slope = b.participation_trust_slope
    willing = rng.random(invited.size) < 1.0 - slope + slope * comm.trust
    participants = invited[can_afford & willing]
    t = model.totals
    t.engaged_tenders += 1
    t.engagement_invited += int(invited.size)
    t.engagement_participants += int(participants.size)
    if participants.size == 0:
        return tender
    t.engagement_rounds += 1
    costs = np.full(participants.size, cost)
    if pol.reimburse_engagement:
        pay(model, participants, costs, "reimbursed")
    else:
        t.engagement_cost_unpaid += cost * participants.size
    spend(T, participants, costs, "engagement")  # the time spent is a real cost either way
    # Taking part teaches what the commissioner wants (T7926-7930).
    T.criteria_awareness[participants] += b.participant_awareness_gain * (1.0 - T.criteria_awareness[participants])
    engaged = model.engaged_this_step
    engaged[comm.index] = max(engaged.get(comm.index, 0), level.rung)
    if level.rung < 2:
        return tender
    definition = tender.sv_definition
    if rng.random() < comm.social_skill:
        definition = SvDefinition.co_defined_local
    T.belief[participants] = np.minimum(b.max_belief, T.belief[participants] + b.codesign_belief_boost)
    T.codesign_participant[participants] = True
    if level is Engagement.co_production:
        model.coproduced_this_step.add(comm.index)
    excluded: frozenset[int] = frozenset()
    if pol.exclude_codesign_participants:
        # Insiders barred from bidding (T10444-10448, T7553-7558) are discouraged.
        excluded = frozenset(int(r) for r in participants)
        T.belief[participants] = np.maximum(0.0, T.belief[participants] - b.exclusion_belief_penalty)
    if definition is tender.sv_definition and not excluded:
        return tender
    return replace(tender, sv_definition=definition, excluded=excluded)
