"""Pre-procurement engagement: consultation, co-design and co-production (step part 4).

Objects:
    engagement_cost_gbp: what taking part in one round costs a participant.
    engage: run the engagement round that precedes a tender and return the tender as it is
        then specified (compiled; the readable rule is engage_reference).
    engage_reference: the same round in plain NumPy and Python.

Local VSOs and social enterprises are invited first; unpaid participation costs them (F15,
Th §4.4) and low-reserve ones decline; co-design may produce a co-defined specification
(chance = commissioner social skill); participants learn what is wanted and gain confidence
(F7); an optional rule excludes participants from bidding (Th §5.5).  Trust and
understanding move once per step in ``safsim.field_dynamics``.  See docs/ODD.md,
"Submodels: engagement".
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from safsim.config import BehaviourConfig, Engagement, SvDefinition
from safsim.delivery import pay
from safsim.kernels import codesign_part, invite_take_part, take_part
from safsim.population import SE, VSO
from safsim.tendering import Tender

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = ["engage", "engage_reference", "engagement_cost_gbp"]

_RUNG = {e: e.rung for e in Engagement}  # ``Engagement.rung`` without its list search


def engagement_cost_gbp(tender: Tender, b: BehaviourConfig) -> float:
    """Cost of one engagement round to a participant: a share of the lot's annual ceiling."""
    cost = b.engagement_cost_share * tender.ceiling_gbp
    if tender.engagement is Engagement.consultation:
        cost *= b.consultation_cost_factor
    return cost


def engage(model: FieldModel, tender: Tender, u: np.ndarray | None = None) -> Tender:
    """The engagement round before ``tender`` (Th §4.3, §4.4).

    The compiled twin (``kernels.invite_take_part``, ``take_part``, ``codesign_part``) of
    ``engage_reference``, with the same draws from the same stream in the same order
    (tests/test_kernels.py checks they agree); the pool of local small VSOs and social
    enterprises is the table's cached ``serves_small``.

    ``u``: the round's knowledge and willingness draws if the caller has drawn them from the
    stream already (``procurement``'s fast path).

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
    rng = model.streams.tendering
    comm = model.commissioners[tender.commissioner]
    cost = engagement_cost_gbp(tender, b)
    local = T.serves_small(comm.index)  # the reference's pool, kept while the field is unchanged
    n_invited = min(b.codesign_invitees, local.size)
    # The knowledge noise, then the willingness draws: the reference's two calls in one.
    if u is None:
        u = rng.random(local.size + n_invited)
    slope = b.participation_trust_slope
    p_take_part = 1.0 - slope + slope * comm.trust
    threshold = b.engagement_reserve_multiple * cost
    reimburse = pol.reimburse_engagement
    gain = b.participant_awareness_gain
    out = model.invite_scratch
    if out.size < n_invited:
        out = model.invite_scratch = np.empty(n_invited, np.int64)
    # invite, then take_part where the round is not reimbursed (kernels.invite_take_part).
    n = invite_take_part(
        local,
        T.local_knowledge,
        u,
        n_invited,
        T.reserves_gbp,
        threshold,
        reimburse,
        p_take_part,
        cost,
        gain,
        T.spent_engagement_gbp,
        T.criteria_awareness,
        T.changed,
        out,
    )
    if n >= 0:
        participants = out[:n]  # read below, before the next round writes the scratch again
        taken = not reimburse
    else:  # tied knowledge: NumPy's sort decides the order, as in the reference
        knowledge = T.local_knowledge[local] + 1e-6 * u[: local.size]
        invited = local[np.argsort(-knowledge)[:n_invited]]
        willing = u[local.size :]
        keep = (reimburse | (T.reserves_gbp[invited] > threshold)) & (willing < p_take_part)
        participants = invited[keep]
        n = participants.size
        taken = False
    t = model.totals
    t.engaged_tenders += 1
    t.engagement_invited += n_invited
    t.engagement_participants += n
    if not n:
        return tender
    t.engagement_rounds += 1
    if reimburse:
        pay(model, participants, np.full(n, cost), "reimbursed")
    else:
        t.engagement_cost_unpaid += cost * n
    # The time spent is a real cost either way; taking part teaches what the commissioner
    # wants (Th §4.4); the participants' later decisions are screened again.
    if not taken:
        take_part(participants, cost, gain, T.reserves_gbp, T.spent_engagement_gbp, T.criteria_awareness, T.changed)
    engaged = model.engaged_this_step
    rung = _RUNG[level]
    engaged[comm.index] = max(engaged.get(comm.index, 0), rung)
    if rung < 2:
        return tender
    definition = tender.sv_definition
    if rng.random() < comm.social_skill:
        definition = SvDefinition.co_defined_local
    # Insiders barred from bidding (Th §4.4, §5.5) are discouraged.
    exclude = pol.exclude_codesign_participants
    codesign_part(
        participants,
        b.max_belief,
        b.codesign_belief_boost,
        exclude,
        b.exclusion_belief_penalty,
        T.belief,
        T.codesign_participant,
    )
    model.codesign_happened = True
    if level is Engagement.co_production:
        model.coproduced_this_step.add(comm.index)
    excluded: frozenset[int] = frozenset(participants.tolist()) if exclude else frozenset()
    if definition is tender.sv_definition and not excluded:
        return tender
    return replace(tender, sv_definition=definition, excluded=excluded)


def engage_reference(model: FieldModel, tender: Tender) -> Tender:
    """The engagement round before ``tender`` (Th §4.3, §4.4): the readable rule of ``engage``.

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
    rng = model.streams.tendering
    comm = model.commissioners[tender.commissioner]
    cost = engagement_cost_gbp(tender, b)
    rows = T.serves(comm.index)
    kinds = T.kind[rows]
    local = rows[(kinds == VSO) | (kinds == SE)]
    if local.size:
        knowledge = T.local_knowledge[local] + 1e-6 * rng.random(local.size)
        invited = local[np.argsort(-knowledge)[: b.codesign_invitees]].tolist()
    else:
        invited = []
    slope = b.participation_trust_slope
    p_take_part = 1.0 - slope + slope * comm.trust
    willing = rng.random(len(invited)).tolist()
    threshold = b.engagement_reserve_multiple * cost
    reimburse = pol.reimburse_engagement
    participants = [
        r
        for r, u in zip(invited, willing, strict=True)
        if (reimburse or T.reserves_gbp[r] > threshold) and u < p_take_part
    ]
    t = model.totals
    t.engaged_tenders += 1
    t.engagement_invited += len(invited)
    t.engagement_participants += len(participants)
    if not participants:
        return tender
    t.engagement_rounds += 1
    T.mark_changed(participants)
    if reimburse:
        pay(model, np.asarray(participants), np.full(len(participants), cost), "reimbursed")
    else:
        t.engagement_cost_unpaid += cost * len(participants)
    gain = b.participant_awareness_gain
    for r in participants:
        T.reserves_gbp[r] -= cost  # the time spent is a real cost either way
        T.spent_engagement_gbp[r] += cost
        # Taking part teaches what the commissioner wants (Th §4.4).
        T.criteria_awareness[r] += gain * (1.0 - T.criteria_awareness[r])
    engaged = model.engaged_this_step
    engaged[comm.index] = max(engaged.get(comm.index, 0), level.rung)
    if level.rung < 2:
        return tender
    definition = tender.sv_definition
    if rng.random() < comm.social_skill:
        definition = SvDefinition.co_defined_local
    for r in participants:
        T.belief[r] = min(b.max_belief, T.belief[r] + b.codesign_belief_boost)
        T.codesign_participant[r] = True
    model.codesign_happened = True
    if level is Engagement.co_production:
        model.coproduced_this_step.add(comm.index)
    excluded: frozenset[int] = frozenset()
    if pol.exclude_codesign_participants:
        # Insiders barred from bidding (Th §4.4, §5.5) are discouraged.
        excluded = frozenset(participants)
        for r in participants:
            T.belief[r] = max(0.0, T.belief[r] - b.exclusion_belief_penalty)
    if definition is tender.sv_definition and not excluded:
        return tender
    return replace(tender, sv_definition=definition, excluded=excluded)
