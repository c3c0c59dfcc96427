"""Field dynamics: trust, legitimacy, contention and the field-state transitions (step part 11).

Objects:
    update_trust: each commissioner's trust and legitimacy after this step.
    update_field: contention from challengers' losses, exits, trust and shocks; crisis
        triggers; brokering; the transition between settled, crisis and resettlement.
    broker_probability: a commissioner's chance per crisis step of brokering a settlement.
    broker_settlement: in crisis, skilled and committed incumbents broker a new settlement.
    restore_price_led: a crisis that ends without a broker restores price-led rules.

The pure rules (contention index, state machine) are in ``safsim.field``.  See docs/ODD.md,
"Submodels: field states".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from safsim.agents import sigmoid
from safsim.config import Engagement, FieldConfig
from safsim.field import ContentionInputs, FieldState, contention_raw, next_state
from safsim.population import VSO

if TYPE_CHECKING:  # pragma: no cover
    from safsim.agents import Commissioner
    from safsim.model import FieldModel
    from safsim.shocks import ShockEffects

__all__ = ["broker_probability", "broker_settlement", "restore_price_led", "update_field", "update_trust"]


def update_trust(model: FieldModel, exit_share: float) -> None:
    """Framing, engagement, feedback and exits move trust; trust moves legitimacy.

    Engagement rounds move trust once per step, whatever their number: feedback builds it,
    its absence and unpaid time erode it (Th §4.4, §6.1); engagement teaches the
    commissioner what social value means locally, with diminishing returns.
    """
    b = model.behaviour
    cfg = model.scenario.field
    pol = model.policies
    for c in model.commissioners:
        c.trust += b.trust_collaborative_gain if c.collaborative else -b.trust_contentious_loss
        rung = model.engaged_this_step.get(c.index)
        if rung is not None:
            gain = (
                b.consultation_understanding_gain if rung < Engagement.co_design.rung else b.codesign_understanding_gain
            )
            c.sv_understanding += gain * (1.0 - c.sv_understanding)
            c.trust += b.trust_feedback_gain if pol.feedback_to_participants else -b.trust_no_feedback_loss
            if not pol.reimburse_engagement:
                c.trust -= b.trust_unpaid_loss
        if c.index in model.coproduced_this_step:
            c.trust += b.coproduction_trust_share * b.trust_feedback_gain
        c.trust -= b.trust_exit_loss * exit_share
        c.trust += b.trust_reversion * (cfg.initial_trust - c.trust)
        c.trust = min(1.0, max(0.0, c.trust))
        c.legitimacy = min(
            1.0,
            c.legitimacy + b.legitimacy_recovery * (1.0 - c.legitimacy) + b.legitimacy_trust_slope * (c.trust - 0.5),
        )
        c.legitimacy = max(0.0, c.legitimacy)


def update_field(model: FieldModel, fx: ShockEffects, vso_exits: int) -> None:
    """Trust, legitimacy, contention and the field-state transition of this step."""
    cfg = model.scenario.field
    n_vso = max(1, model.pop.count_code(VSO) + vso_exits)
    exit_share = vso_exits / n_vso
    update_trust(model, exit_share)
    acc = model.step_acc
    if acc.vso_bids > 0:
        loss_share = 1.0 - acc.vso_wins / acc.vso_bids
        model.vso_loss_ema += cfg.loss_smoothing * (loss_share - model.vso_loss_ema)
    model.shock_signal = min(
        1.0,
        cfg.shock_signal_decay * model.shock_signal
        + min(1.0, cfg.shock_signal_budget_scale * fx.budget_cut + fx.legitimacy_drop + fx.regulation),
    )
    raw = contention_raw(
        ContentionInputs(
            challenger_losses=model.vso_loss_ema,
            exits=min(1.0, cfg.exit_signal_scale * exit_share),
            trust_deficit=1.0 - float(np.mean([c.trust for c in model.commissioners])),
            shock=model.shock_signal,
        ),
        cfg,
    )
    s = cfg.contention_smoothing
    model.contention = (1 - s) * model.contention + s * raw if model.steps > 1 else raw
    model.steps_above = model.steps_above + 1 if model.contention > cfg.crisis_threshold else 0
    if fx.budget_cut > 0:
        model.recent_budget_cut = model.steps_per_year
    else:
        model.recent_budget_cut = max(0, model.recent_budget_cut - 1)
    pressure = max(c.budget_pressure for c in model.commissioners)
    # Crisis triggers: a political crisis meeting budget cuts, or hitting an authority whose
    # legitimacy is already low (Th §4.4, §5.4, §5.5).
    shock_trigger = bool(fx.political_crisis) and (
        model.recent_budget_cut > 0
        or pressure > cfg.budget_pressure_trigger
        or any(model.commissioners[i].legitimacy < cfg.legitimacy_crisis_threshold for i in fx.political_crisis)
    )
    # A sweeping change of procurement rules opens a crisis too (Th §5.2).
    shock_trigger = shock_trigger or fx.regulation >= cfg.regulation_crisis_intensity
    brokered = broker_settlement(model) if model.field_state is FieldState.crisis else False
    new = next_state(
        model.field_state, model.contention, model.steps_above, model.steps_in_state, shock_trigger, brokered, cfg
    )
    if new is not model.field_state:
        if model.field_state is FieldState.crisis and new is FieldState.settled:
            restore_price_led(model)
        if new is FieldState.crisis:
            model.totals.crisis_episodes += 1
        if new is FieldState.resettlement:
            model.totals.resettlements += 1
        model.field_state = new
        model.steps_in_state = 0
    else:
        model.steps_in_state += 1


def broker_probability(c: Commissioner, contention: float, cfg: FieldConfig) -> float:
    """Chance per crisis step that commissioner ``c`` brokers a new settlement.

    It rises smoothly with the incumbent's social skill and political commitment (logistic in
    each, centred on ``broker_skill_threshold`` and ``broker_commitment_threshold`` with slope
    ``broker_sharpness``) and with how contested the field is (a crisis is an opening:
    ``min(1, contention / crisis_threshold)``), times ``broker_rate_per_step``.
    """
    k = cfg.broker_sharpness
    skill = sigmoid(k * (c.social_skill - cfg.broker_skill_threshold))
    commitment = sigmoid(k * (c.political_commitment - cfg.broker_commitment_threshold))
    opening = min(1.0, contention / cfg.crisis_threshold) if cfg.crisis_threshold > 0 else 1.0
    return cfg.broker_rate_per_step * skill * commitment * max(0.0, opening)


def broker_settlement(model: FieldModel) -> bool:
    """In crisis, skilled and committed incumbents may broker a new settlement (F14).

    Each commissioner brokers with ``broker_probability``.  The settlement changes the rules
    for the broker: an SV policy with a weight floor, co-design institutionalised, hybrid
    grant/contract funding (Case B; Th §3.4, §5.4, §5.5).
    """
    cfg = model.scenario.field
    brokered = False
    for c in model.commissioners:
        if model.streams.field.random() < broker_probability(c, model.contention, cfg):
            c.has_sv_policy = True
            c.codesign_institutionalised = True
            c.engagement_intent = (
                Engagement.co_production if c.engagement_intent is Engagement.co_production else Engagement.co_design
            )
            c.grant_share = max(c.grant_share, cfg.settlement_grant_share)
            c.price_led_shift = 0.0
            c.trust = min(1.0, c.trust + cfg.settlement_trust_gain)
            brokered = True
    return brokered


def restore_price_led(model: FieldModel) -> None:
    """A crisis without a broker ends with price-led rules restored (Cases A and C)."""
    cfg = model.scenario.field
    for c in model.commissioners:
        c.price_led_shift = min(cfg.max_price_led_shift, c.price_led_shift + cfg.price_led_restoration_shift)
        if not c.codesign_institutionalised and c.engagement_intent.rung >= 2:
            c.engagement_intent = Engagement.consultation
