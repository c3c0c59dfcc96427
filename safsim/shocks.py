"""Scheduled and random exogenous events: the governance unit and the wider environment.

Objects:
    ShockEffects: what the events of one step did (for contention and crisis triggers).
    apply_shocks: apply this step's scheduled shocks and random political crises.

Kinds (spec section 5): ``austerity`` (a budget cut phased over ``over_steps``; T4483-4489,
T1469-1473), ``political_crisis`` (legitimacy falls; T4863-4866, T10153-10161, T10409-10413),
``guidance`` (central guidance raises understanding; T2826-2830, K199-202) and
``sva_strengthened`` (social value becomes mandatory with a minimum weight; T5840-5848).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from safsim.config import ShockKind

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = ["ShockEffects", "apply_shocks"]

DEFAULT_LEGITIMACY_DROP = 0.4  # assumption
DEFAULT_UNDERSTANDING_GAIN = 0.1  # assumption
DEFAULT_MIN_SV_WEIGHT = 0.1  # assumption
DEFAULT_AUSTERITY_STEPS = 4  # assumption


@dataclass(slots=True)
class ShockEffects:
    """What this step's events did, for contention and crisis triggers."""

    budget_cut: float = 0.0  # share of the budget cut this step (mean over targets)
    legitimacy_drop: float = 0.0
    political_crisis: list[int] = field(default_factory=list)  # authority indices hit


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
                per_step = float(shock.budget_cut or 0.0) / over
                for c in targets:
                    c.budget_multiplier = max(0.05, c.budget_multiplier - per_step)
                fx.budget_cut += per_step
        elif step == shock.at_step:
            if shock.kind is ShockKind.political_crisis:
                drop = shock.value("legitimacy_drop", DEFAULT_LEGITIMACY_DROP)
                for c in targets:
                    c.legitimacy = max(0.0, c.legitimacy - drop)
                    fx.political_crisis.append(c.index)
                fx.legitimacy_drop = max(fx.legitimacy_drop, drop)
            elif shock.kind is ShockKind.guidance:
                gain = shock.value("understanding_gain", DEFAULT_UNDERSTANDING_GAIN)
                for c in targets:
                    c.sv_understanding = min(1.0, c.sv_understanding + gain)
            elif shock.kind is ShockKind.sva_strengthened:
                floor = shock.value("min_sv_weight", DEFAULT_MIN_SV_WEIGHT)
                for c in targets:
                    c.min_sv_weight = max(c.min_sv_weight, floor)
    rate = model.scenario.field.political_crisis_rate_per_year / model.steps_per_year
    if rate > 0:
        hits = model.rng.random(len(comms)) < rate
        for c, hit in zip(comms, hits, strict=True):
            if hit:
                c.legitimacy = max(0.0, c.legitimacy - DEFAULT_LEGITIMACY_DROP)
                fx.political_crisis.append(c.index)
                fx.legitimacy_drop = max(fx.legitimacy_drop, DEFAULT_LEGITIMACY_DROP)
    return fx
