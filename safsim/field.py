"""Contention, trust and the field's states (step part 11; docs/ODD.md).

Objects:
    FieldState: ``settled``, ``crisis``, ``resettlement`` (Fligstein & McAdam; Th §2.6).
    ContentionInputs: the signals combined into the contention index.
    contention_raw: the instantaneous contention index (0-1) from its inputs.
    next_state: the state machine's transition, given the smoothed index and the triggers.

The state machine is a design inference from Th §5.1, §5.4 and Th §6.3
(digest section 3.5): a settled field enters crisis when contention stays high or a budget
shock meets a legitimacy shock; in crisis a socially skilled and politically committed
incumbent may broker a new settlement (resettlement, Case B), otherwise the field returns to
settled under price-led rules after ``crisis_max_steps`` (Cases A and C).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safsim.config import FieldConfig

__all__ = ["ContentionInputs", "FieldState", "contention_raw", "next_state"]


class FieldState(StrEnum):
    settled = "settled"
    crisis = "crisis"
    resettlement = "resettlement"


@dataclass(frozen=True, slots=True)
class ContentionInputs:
    """Signals of contention in one step, each in [0, 1].

    Attributes:
        challenger_losses: share of small-VSO bids that lost (smoothed by the caller).
        exits: exit pressure among small VSOs (share exiting this step, scaled).
        trust_deficit: 1 - mean trust.
        shock: intensity of recent exogenous shocks (decays over time).
    """

    challenger_losses: float
    exits: float
    trust_deficit: float
    shock: float


def contention_raw(x: ContentionInputs, cfg: FieldConfig) -> float:
    """Weighted mean of the contention signals (weights ``contention_w_*``), in [0, 1]."""
    w = (
        cfg.contention_w_losses,
        cfg.contention_w_exits,
        cfg.contention_w_trust_deficit,
        cfg.contention_w_shocks,
    )
    total = sum(w)
    if total <= 0:
        return 0.0
    v = (x.challenger_losses, x.exits, x.trust_deficit, x.shock)
    return float(min(1.0, max(0.0, sum(a * b for a, b in zip(w, v, strict=True)) / total)))


def next_state(
    state: FieldState,
    contention: float,
    steps_above: int,
    steps_in_state: int,
    shock_trigger: bool,
    brokered: bool,
    cfg: FieldConfig,
) -> FieldState:
    """One transition of the field-state machine.

    Args:
        state: current state.
        contention: smoothed contention index.
        steps_above: consecutive steps with contention above ``crisis_threshold``.
        steps_in_state: steps spent in the current state so far.
        shock_trigger: a budget shock coincided with a legitimacy shock.
        brokered: a commissioner brokered a new settlement this step (only used in crisis).
        cfg: thresholds.
    """
    if state is FieldState.settled:
        if shock_trigger or steps_above >= cfg.crisis_persistence_steps:
            return FieldState.crisis
        return state
    if state is FieldState.crisis:
        if brokered:
            return FieldState.resettlement
        if steps_in_state >= cfg.crisis_max_steps:
            return FieldState.settled
        return state
    # resettlement
    if contention < cfg.resettlement_exit_threshold:
        return FieldState.settled
    return state
