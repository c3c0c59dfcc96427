"""Field dynamics (safsim.field_dynamics): trust, legitimacy, brokered settlements and restored price-led rules."""

from __future__ import annotations

import numpy as np
from model_fixtures import tiny

from safsim.config import Engagement
from safsim.field import FieldState
from safsim.field_dynamics import broker_probability, broker_settlement, restore_price_led, update_field, update_trust
from safsim.shocks import ShockEffects


def two(overrides: dict | None = None, seed: int = 1):
    """Two collaborative commissioners at trust 0.5 and full legitimacy; trust does not revert unless asked."""
    base = {"field.n_authorities": 2, "field.initial_trust": 0.5, "behaviour.trust_reversion": 0.0}
    m = tiny(base | (overrides or {}), seed=seed)
    for c in m.commissioners:
        c.trust = 0.5
        c.legitimacy = 1.0
        c.collaborative = True
    return m


def test_collaborative_framing_raises_trust_and_contentious_framing_lowers_it():
    """A collaborative commissioner gains trust_collaborative_gain, a contentious one loses trust_contentious_loss."""
    m = two()
    b = m.behaviour
    collab, contentious = m.commissioners
    contentious.collaborative = False
    update_trust(m, exit_share=0.0)
    assert np.isclose(collab.trust, 0.5 + b.trust_collaborative_gain)
    assert np.isclose(contentious.trust, 0.5 - b.trust_contentious_loss)


def test_engagement_with_feedback_and_pay_builds_trust_and_unpaid_silence_erodes_it():
    """An engagement round with feedback and reimbursement adds trust; without feedback and unpaid it costs
    trust_no_feedback_loss + trust_unpaid_loss; both teach the commissioner what social value means."""
    out = {}
    for kind in ("good", "bad"):
        good = kind == "good"
        m = two({"policies.feedback_to_participants": good, "policies.reimburse_engagement": good})
        engaged, idle = m.commissioners
        engaged.sv_understanding = idle.sv_understanding = 0.4
        m.engaged_this_step = {engaged.index: Engagement.co_design.rung}
        update_trust(m, exit_share=0.0)
        out[kind] = engaged.trust - idle.trust
        assert np.isclose(engaged.sv_understanding, 0.4 + m.behaviour.codesign_understanding_gain * 0.6)
        assert idle.sv_understanding == 0.4
    b = m.behaviour
    assert np.isclose(out["good"], b.trust_feedback_gain)
    assert np.isclose(out["bad"], -(b.trust_no_feedback_loss + b.trust_unpaid_loss))


def test_small_vso_exits_lower_trust():
    """Trust falls by trust_exit_loss x the share of small VSOs that exited this step."""
    m = two()
    b = m.behaviour
    update_trust(m, exit_share=0.0)
    calm = m.commissioners[0].trust
    m = two()
    update_trust(m, exit_share=0.1)
    assert np.isclose(m.commissioners[0].trust, calm - b.trust_exit_loss * 0.1)


def test_trust_reverts_towards_the_initial_trust():
    """After this step's changes trust moves a trust_reversion share of the way back to field.initial_trust."""
    m = two({"behaviour.trust_reversion": 0.1, "behaviour.trust_collaborative_gain": 0.0})
    high, low = m.commissioners
    high.trust, low.trust = 0.9, 0.2
    update_trust(m, exit_share=0.0)
    assert np.isclose(high.trust, 0.9 - 0.1 * 0.4)
    assert np.isclose(low.trust, 0.2 + 0.1 * 0.3)


def test_legitimacy_recovers_towards_one_and_follows_trust():
    """Legitimacy recovers a legitimacy_recovery share of its gap to 1, plus legitimacy_trust_slope x (trust - 0.5)."""
    m = two({"behaviour.trust_collaborative_gain": 0.0})
    b = m.behaviour
    high, low = m.commissioners
    high.trust, low.trust = 0.9, 0.1
    high.legitimacy = low.legitimacy = 0.5
    update_trust(m, exit_share=0.0)
    for c in (high, low):
        assert np.isclose(c.legitimacy, 0.5 + b.legitimacy_recovery * 0.5 + b.legitimacy_trust_slope * (c.trust - 0.5))
    assert high.legitimacy > low.legitimacy


def broker_model(rate: float, crisis_threshold: float | None = None):
    extra = {} if crisis_threshold is None else {"field.crisis_threshold": crisis_threshold}
    m = two(
        extra
        | {
            "field.broker_skill_threshold": 0.6,
            "field.broker_commitment_threshold": 0.5,
            "field.broker_rate_per_step": rate,
            "field.broker_sharpness": 1000.0,  # a near-threshold rule, so the test is deterministic
            "field.settlement_grant_share": 0.2,
        }
    )
    m.contention = m.scenario.field.crisis_threshold  # a fully open crisis
    able, unable = m.commissioners
    able.social_skill, able.political_commitment = 0.9, 0.9
    unable.social_skill, unable.political_commitment = 0.9, 0.1  # skilled but not committed
    for c in m.commissioners:
        c.has_sv_policy = False
        c.codesign_institutionalised = False
        c.engagement_intent = Engagement.consultation
        c.grant_share = 0.0
        c.price_led_shift = 0.3
    return m, able, unable


def test_a_skilled_committed_commissioner_brokers_a_settlement():
    """In broker_settlement a commissioner above both thresholds gets an SV policy, institutionalised co-design,
    the settlement grant share, no price-led shift and more trust; one below the commitment threshold does not."""
    m, able, unable = broker_model(rate=1.0)
    assert broker_settlement(m)
    assert able.has_sv_policy and able.codesign_institutionalised
    assert able.engagement_intent is Engagement.co_design
    assert able.grant_share == 0.2 and able.price_led_shift == 0.0
    assert np.isclose(able.trust, 0.5 + m.scenario.field.settlement_trust_gain)
    assert not unable.has_sv_policy and not unable.codesign_institutionalised
    assert unable.engagement_intent is Engagement.consultation
    assert unable.grant_share == 0.0 and unable.price_led_shift == 0.3 and unable.trust == 0.5


def test_no_settlement_when_the_broker_rate_is_zero():
    """With broker_rate_per_step 0 broker_settlement brokers nothing and changes nobody."""
    m, able, _ = broker_model(rate=0.0)
    assert not broker_settlement(m)
    assert not able.has_sv_policy and not able.codesign_institutionalised and able.price_led_shift == 0.3


def test_restore_price_led_raises_the_price_shift_and_drops_uninstitutionalised_codesign():
    """restore_price_led adds price_led_restoration_shift (up to max_price_led_shift) and sends intended
    co-design back to consultation unless it is institutionalised."""
    m = two({"field.price_led_restoration_shift": 0.15, "field.max_price_led_shift": 0.4})
    plain, settled = m.commissioners
    for c in m.commissioners:
        c.engagement_intent = Engagement.co_design
        c.price_led_shift = 0.0
    settled.codesign_institutionalised = True
    restore_price_led(m)
    assert plain.price_led_shift == 0.15 and settled.price_led_shift == 0.15
    assert plain.engagement_intent is Engagement.consultation
    assert settled.engagement_intent is Engagement.co_design
    for _ in range(3):
        restore_price_led(m)
    assert plain.price_led_shift == 0.4


def test_a_crisis_ends_in_resettlement_when_brokered_and_price_led_without_a_broker():
    """update_field in crisis moves to resettlement when a broker settles; without one, a crisis that lasted
    crisis_max_steps returns to settled with the price-led shift raised."""
    m, able, _ = broker_model(rate=1.0, crisis_threshold=1e-6)  # any contention makes the crisis fully open
    m.field_state = FieldState.crisis
    update_field(m, ShockEffects(), vso_exits=0)
    assert m.field_state is FieldState.resettlement and m.totals.resettlements == 1
    assert able.codesign_institutionalised
    m, able, _ = broker_model(rate=0.0)
    m.field_state = FieldState.crisis
    m.steps_in_state = m.scenario.field.crisis_max_steps
    update_field(m, ShockEffects(), vso_exits=0)
    assert m.field_state is FieldState.settled
    assert np.isclose(able.price_led_shift, 0.3 + m.scenario.field.price_led_restoration_shift)


def test_broker_probability_rises_smoothly_with_skill_commitment_and_contention():
    """The chance of brokering rises with social skill, with political commitment and with contention,
    strictly and without jumps at the midpoints, and never exceeds broker_rate_per_step."""
    m = two({"field.broker_rate_per_step": 0.5})
    cfg = m.scenario.field
    c = m.commissioners[0]
    c.political_commitment = 0.7

    def p(skill: float, commitment: float = 0.7, contention: float = cfg.crisis_threshold) -> float:
        c.social_skill, c.political_commitment = skill, commitment
        return broker_probability(c, contention, cfg)

    skills = np.linspace(0.0, 1.0, 101)
    ps = np.array([p(s) for s in skills])
    assert np.all(np.diff(ps) > 0) and ps.max() <= 0.5
    assert np.max(np.diff(ps)) < 0.05  # no jump at the skill midpoint
    assert p(0.8, commitment=0.3) < p(0.8, commitment=0.6) < p(0.8, commitment=0.9)
    assert p(0.8, contention=0.0) == 0.0 < p(0.8, contention=0.5 * cfg.crisis_threshold) < p(0.8)
