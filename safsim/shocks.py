"""Scheduled and random events, and the governance unit that issues some of them.

Objects:
    Government: central government as a separate actor (the field's governance unit): holds
        the state of the law (Act in force, mandatory, minimum weight, threshold) and acts on
        its schedule: enactment, guidance, reviews, training, threshold changes and a
        strengthened Act.  "Law" and "capability" can be varied independently.
    ShockEffects: what the events of one step did (for contention and crisis triggers).
    apply_shocks: apply this step's scheduled events and random political crises.

Environment kinds: ``austerity`` (a budget cut phased over ``over_steps``; Th §2.2, §3.4),
``political_crisis`` (legitimacy falls; Th §3.5, §5.4, §5.5), ``regulation_change`` (new procurement
rules: a contention shock and possibly a new threshold; Th §2.5, §5.2), ``grants_to_contracts``
(the shift from grants to contracts: an authority's grant pot phased out over ``over_steps``
and its money put out to contract, the budget unchanged; Th §1.1, §4.4, §6.1).  Government kinds:
``sva_enacted`` (Th §2.5), ``guidance`` (Th §1.1, §2.5), ``review`` (the 2015 Lord Young review; Th
§2.5, §5.3), ``training`` (Commissioning Academy; K199-202, K443), ``threshold_change`` (K50-54, Th
§5.3), ``sva_strengthened`` (social value mandatory with a minimum weight; Th §4.2, §5.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa

from safsim.config import GOVERNMENT_EVENTS, Shock, ShockKind

if TYPE_CHECKING:  # pragma: no cover
    from safsim.agents import Commissioner
    from safsim.model import FieldModel

__all__ = ["Government", "ShockEffects", "apply_shocks"]

# Defaults of shock fields left out of a scenario (assumptions; shown in the reference).
DEFAULT_LEGITIMACY_DROP = 0.4
DEFAULT_UNDERSTANDING_GAIN = 0.1
DEFAULT_SKILL_GAIN = 0.1
DEFAULT_MIN_SV_WEIGHT = 0.1
DEFAULT_AUSTERITY_STEPS = 4
DEFAULT_REGULATION_INTENSITY = 0.5
DEFAULT_GRANT_CUT = 1.0


@dataclass(slots=True)
class ShockEffects:
    """What this step's events did, for contention and crisis triggers."""

    budget_cut: float = 0.0  # share of the budget cut this step
    legitimacy_drop: float = 0.0
    regulation: float = 0.0  # intensity of a regulation change
    political_crisis: list[int] = field(default_factory=list)  # authority indices hit


class Government(mesa.Agent):
    """Central government: the governance unit of the field (Fligstein & McAdam).

    Attributes:
        sva_in_force: the Act applies ("have regard to", Th §4.2).
        mandatory: social value must be scored with at least ``min_sv_weight``.
        min_sv_weight: the mandatory minimum weight.
        threshold_gbp: lots below this whole-term value are outside the Act's scope.
    """

    model: FieldModel

    def __init__(self, model: FieldModel) -> None:
        super().__init__(model)
        pol = model.scenario.policies
        self.sva_in_force = pol.sva_in_force
        self.mandatory = pol.sva_mandatory
        self.min_sv_weight = pol.mandatory_min_sv_weight if pol.sva_mandatory else 0.0
        self.threshold_gbp = pol.sv_threshold_gbp
        self.actions: list[tuple[int, str]] = []  # (step, kind) history

    def act(self, shock: Shock, targets: list[Commissioner], step: int) -> None:
        """Carry out one scheduled government action on the targeted commissioners."""
        kind = shock.kind
        self.actions.append((step, kind.value))
        if kind is ShockKind.sva_enacted:
            self.sva_in_force = True
        elif kind in (ShockKind.guidance, ShockKind.review, ShockKind.training):
            gain = shock.value("understanding_gain", DEFAULT_UNDERSTANDING_GAIN)
            for c in targets:
                c.sv_understanding = min(1.0, c.sv_understanding + gain)
            if kind is ShockKind.training:
                skill = shock.value("skill_gain", DEFAULT_SKILL_GAIN)
                for c in targets:
                    c.social_skill = min(1.0, c.social_skill + skill)
            if shock.threshold_gbp is not None:
                self.threshold_gbp = float(shock.threshold_gbp)
        elif kind is ShockKind.threshold_change:
            self.threshold_gbp = float(shock.threshold_gbp or 0.0)
        elif kind is ShockKind.sva_strengthened:
            self.sva_in_force = True
            self.mandatory = True
            self.min_sv_weight = max(self.min_sv_weight, shock.value("min_sv_weight", DEFAULT_MIN_SV_WEIGHT))

    def in_scope(self, lot_value_gbp: float) -> bool:
        """Whether a lot of this whole-term value falls under the Act."""
        return self.sva_in_force and lot_value_gbp >= self.threshold_gbp


def apply_shocks(model: FieldModel, step: int) -> ShockEffects:
    """Apply scheduled events whose window covers ``step``, then random political crises."""
    fx = ShockEffects()
    comms = model.commissioners
    for shock in model.scenario.shocks:
        targets = [comms[i] for i in shock.authorities] if shock.authorities is not None else comms
        if shock.kind is ShockKind.austerity:
            over = int(shock.value("over_steps", DEFAULT_AUSTERITY_STEPS))
            if shock.at_step <= step < shock.at_step + over:
                # A total cut c phased linearly: the multiplier falls by c/over each step.
                # The budget never falls below field.min_budget_share of the original.
                per_step = float(shock.budget_cut or 0.0) / over
                floor = model.scenario.field.min_budget_share
                for c in targets:
                    c.budget_multiplier = max(floor, c.budget_multiplier - per_step)
                fx.budget_cut += per_step
            continue
        if shock.kind is ShockKind.grants_to_contracts:
            over = int(shock.value("over_steps", DEFAULT_AUSTERITY_STEPS))
            if shock.at_step <= step < shock.at_step + over:
                # The grant pot falls linearly by grant_cut / over a step, its money put out to
                # contract (Commissioner.line_volume_gbp); the budget stays as it is.
                per_step = shock.value("grant_cut", DEFAULT_GRANT_CUT) / over
                for c in targets:
                    c.grant_multiplier = max(0.0, c.grant_multiplier - per_step)
            continue
        if step != shock.at_step:
            continue
        if shock.kind in GOVERNMENT_EVENTS:
            model.government.act(shock, targets, step)
        elif shock.kind is ShockKind.political_crisis:
            drop = shock.value("legitimacy_drop", DEFAULT_LEGITIMACY_DROP)
            for c in targets:
                c.legitimacy = max(0.0, c.legitimacy - drop)
                fx.political_crisis.append(c.index)
            fx.legitimacy_drop = max(fx.legitimacy_drop, drop)
        elif shock.kind is ShockKind.regulation_change:
            fx.regulation = max(fx.regulation, shock.value("intensity", DEFAULT_REGULATION_INTENSITY))
            if shock.threshold_gbp is not None:
                model.government.threshold_gbp = float(shock.threshold_gbp)
    cfg = model.scenario.field
    rate = cfg.political_crisis_rate_per_year / model.steps_per_year
    if rate > 0:
        hits = model.streams.shocks.random(len(comms)) < rate
        for c, hit in zip(comms, hits, strict=True):
            if hit:
                c.legitimacy = max(0.0, c.legitimacy - cfg.random_crisis_legitimacy_drop)
                fx.political_crisis.append(c.index)
                fx.legitimacy_drop = max(fx.legitimacy_drop, cfg.random_crisis_legitimacy_drop)
    return fx
