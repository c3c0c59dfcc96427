"""Pre-procurement engagement (safsim.engagement): who takes part, what it costs, what co-design does."""

from __future__ import annotations

import numpy as np
from model_fixtures import rows_of, tender_for, tiny

from safsim.config import Engagement, ProviderKind, SvDefinition
from safsim.engagement import engage, engagement_cost_gbp

LOCAL = (ProviderKind.sme_vso, ProviderKind.social_enterprise)


def setup(overrides: dict | None = None, seed: int = 1):
    """A tiny model whose local VSOs and social enterprises are all invited, willing and can afford it."""
    m = tiny({"behaviour.codesign_invitees": 100} | (overrides or {}), seed=seed)
    m.commissioners[0].trust = 1.0  # everyone invited is willing
    m.pop.reserves_gbp[: m.pop.n] = 1e6
    local = np.sort(np.concatenate([rows_of(m, k) for k in LOCAL]))
    others = np.setdiff1d(np.arange(m.pop.n), local)
    return m, local, others


def participants(m) -> np.ndarray:
    return np.flatnonzero(m.pop.spent_engagement_gbp[: m.pop.n] > 0)


def test_no_engagement_returns_the_tender_unchanged_and_costs_nothing():
    """Engagement level none returns the same tender and nobody spends anything or learns anything."""
    m, _, _ = setup()
    before = m.pop.reserves_gbp[: m.pop.n].copy()
    awareness = m.pop.criteria_awareness[: m.pop.n].copy()
    tender = tender_for(m, engagement=Engagement.none)
    assert engage(m, tender) is tender
    assert np.array_equal(m.pop.reserves_gbp[: m.pop.n], before)
    assert np.array_equal(m.pop.criteria_awareness[: m.pop.n], awareness)
    assert participants(m).size == 0 and m.totals.engaged_tenders == 0


def test_consultation_costs_half_a_codesign_round():
    """engagement_cost_gbp is a share of the annual ceiling; consultation costs consultation_cost_factor of it."""
    m = tiny()
    b = m.behaviour
    codesign = engagement_cost_gbp(tender_for(m, ceiling_gbp=200_000.0, engagement=Engagement.co_design), b)
    consult = engagement_cost_gbp(tender_for(m, ceiling_gbp=200_000.0, engagement=Engagement.consultation), b)
    assert codesign == b.engagement_cost_share * 200_000.0
    assert consult == b.consultation_cost_factor * codesign


def test_unpaid_participation_costs_local_participants_the_round_cost():
    """Unpaid, each local participant loses engagement_cost_gbp from reserves, booked as spent_engagement_gbp,
    and learns the criteria; providers of other kinds are not invited."""
    m, local, others = setup({"policies.reimburse_engagement": False})
    tender = tender_for(m, engagement=Engagement.consultation)
    cost = engagement_cost_gbp(tender, m.behaviour)
    T = m.pop
    T.criteria_awareness[: T.n] = 0.2
    engage(m, tender)
    np.testing.assert_allclose(T.criteria_awareness[local], 0.2 + m.behaviour.participant_awareness_gain * 0.8)
    np.testing.assert_allclose(T.criteria_awareness[others], 0.2)
    assert participants(m).tolist() == local.tolist()
    np.testing.assert_allclose(T.reserves_gbp[local], 1e6 - cost)
    np.testing.assert_allclose(T.spent_engagement_gbp[local], cost)
    assert np.all(T.income_reimbursed_gbp[local] == 0.0)
    assert np.all(T.reserves_gbp[others] == 1e6)
    assert np.isclose(m.totals.engagement_cost_unpaid, cost * local.size)


def test_reimbursed_participation_leaves_reserves_unchanged():
    """With policies.reimburse_engagement participants are paid the round cost as income_reimbursed_gbp."""
    m, local, _ = setup({"policies.reimburse_engagement": True})
    tender = tender_for(m, engagement=Engagement.consultation)
    cost = engagement_cost_gbp(tender, m.behaviour)
    paid_before = m.totals.commissioner_paid
    engage(m, tender)
    T = m.pop
    assert participants(m).tolist() == local.tolist()
    np.testing.assert_allclose(T.income_reimbursed_gbp[local], cost)
    np.testing.assert_allclose(T.spent_engagement_gbp[local], cost)
    np.testing.assert_allclose(T.reserves_gbp[local], 1e6)
    assert np.isclose(m.totals.commissioner_paid - paid_before, cost * local.size)
    assert m.totals.engagement_cost_unpaid == 0.0


def test_low_reserves_keep_providers_out_of_unpaid_rounds_only():
    """A local provider with reserves below engagement_reserve_multiple x cost declines unless reimbursed."""
    for reimburse in (False, True):
        m, local, _ = setup({"policies.reimburse_engagement": reimburse})
        tender = tender_for(m, engagement=Engagement.consultation)
        cost = engagement_cost_gbp(tender, m.behaviour)
        poor = int(local[0])
        m.pop.reserves_gbp[poor] = 0.5 * m.behaviour.engagement_reserve_multiple * cost
        engage(m, tender)
        assert (poor in participants(m)) is reimburse


def test_only_the_most_knowledgeable_locals_are_invited():
    """Invitations go to the behaviour.codesign_invitees local providers with the most local knowledge."""
    m, local, _ = setup({"behaviour.codesign_invitees": 2})
    m.pop.local_knowledge[local] = np.linspace(0.1, 0.9, local.size)
    engage(m, tender_for(m, engagement=Engagement.consultation))
    assert participants(m).tolist() == local[-2:].tolist()


def test_codesign_marks_participants_and_boosts_their_belief_but_consultation_does_not():
    """Co-design marks participants codesign_participant and raises their win belief; consultation does neither."""
    for level in (Engagement.consultation, Engagement.co_design):
        m, local, others = setup()
        b = m.behaviour
        m.pop.belief[: m.pop.n] = 0.3
        engage(m, tender_for(m, engagement=level))
        codesign = level is Engagement.co_design
        assert bool(m.pop.codesign_participant[local].all()) == codesign
        expected = min(b.max_belief, 0.3 + b.codesign_belief_boost) if codesign else 0.3
        np.testing.assert_allclose(m.pop.belief[local], expected)
        assert not m.pop.codesign_participant[others].any()
        np.testing.assert_allclose(m.pop.belief[others], 0.3)


def test_codesign_defines_sv_locally_with_a_skilled_commissioner():
    """Co-design with a commissioner of social skill 1 returns a co-defined tender; with skill 0 the definition stays."""
    for skill, expected in ((1.0, SvDefinition.co_defined_local), (0.0, SvDefinition.commissioner_list)):
        m, _, _ = setup()
        m.commissioners[0].social_skill = skill
        out = engage(m, tender_for(m, engagement=Engagement.co_design, sv_definition=SvDefinition.commissioner_list))
        assert out.sv_definition is expected


def test_excluding_codesign_participants_bars_them_from_the_tender():
    """With policies.exclude_codesign_participants the returned tender excludes exactly the participants."""
    for exclude in (False, True):
        m, local, _ = setup({"policies.exclude_codesign_participants": exclude})
        m.commissioners[0].social_skill = 0.0  # keep the definition: only the exclusion can change the tender
        tender = tender_for(m, engagement=Engagement.co_design)
        out = engage(m, tender)
        assert out.excluded == (frozenset(local.tolist()) if exclude else frozenset())
        assert (out is tender) is not exclude
