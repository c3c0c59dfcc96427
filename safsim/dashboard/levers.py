"""The dashboard's levers, presets, field-state captions and model wrapper (no UI imports).

Objects:
    Levers: the values of the dashboard's sliders and switches (a frozen dataclass).
    PRESETS: preset button label -> bundled scenario name (baseline, case A, case B, case C).
    ENGAGEMENT_LEVELS: the engagement ladder, lowest rung first.
    rebalance_weights(sv_weight, price_weight, quality_weight): award weights summing to 1.
    levers_for(scenario_name): the lever values a bundled scenario starts from.
    scenario_for(levers): the Scenario the levers describe (the preset with the changed levers
        written over it).
    overrides_for(levers): the dotted-path overrides that ``scenario_for`` applies.
    caption(field_state): a short strategic-action-field reading of a field state.
    DashboardModel: a FieldModel built from Levers and a seed that also records bids per tender
        and stops at the scenario horizon.
    DEFAULT_SEED: the seed the dashboard starts from.

This module is imported by the tests and by ``safsim.dashboard.app``; it imports neither
Solara nor ``mesa.visualization``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from safsim.config import PROVIDER_KINDS, Scenario
from safsim.field import FieldState
from safsim.model import FieldModel
from safsim.scenario import load_scenario

__all__ = [
    "DEFAULT_SEED",
    "ENGAGEMENT_LEVELS",
    "PRESETS",
    "DashboardModel",
    "Levers",
    "caption",
    "levers_for",
    "overrides_for",
    "rebalance_weights",
    "scenario_for",
]

DEFAULT_SEED = 20260101

PRESETS: dict[str, str] = {
    "Baseline": "baseline",
    "Case A": "case_a",
    "Case B": "case_b",
    "Case C": "case_c",
}

ENGAGEMENT_LEVELS: tuple[str, ...] = ("none", "consultation", "co_design", "co_production")

# A Beta lever written over a non-Beta preset value uses this concentration (a + b).
_DEFAULT_CONCENTRATION = 5.0
# Length of an austerity cut switched on from the dashboard when the preset has none.
_DEFAULT_AUSTERITY_STEPS = 8


@dataclasses.dataclass(frozen=True, slots=True)
class Levers:
    """The values of the dashboard's sliders and switches.

    Attributes:
        scenario: the bundled scenario the levers start from (a preset).
        sv_weight: social-value award weight; price and quality share the rest in the
            preset's proportion (``rebalance_weights``).
        austerity: whether a budget cut is scheduled.
        austerity_cut: total share of the budget cut (0-0.6).
        austerity_start: step (quarter) at which the cut starts.
        austerity_steps: quarters over which the cut is phased in.
        engagement: intended engagement rung (``ENGAGEMENT_LEVELS``).
        social_skill: mean social skill of the commissioners (0-1).
        sv_understanding: mean understanding of social value (0-1).
        risk_aversion: mean risk aversion (0-1).
        n_sme_vso, n_large_charity, n_corporate, n_social_enterprise: initial providers of
            each kind.
        consortia: whether providers may bid as consortia.
    """

    scenario: str = "baseline"
    sv_weight: float = 0.05
    austerity: bool = False
    austerity_cut: float = 0.25
    austerity_start: int = 4
    austerity_steps: int = _DEFAULT_AUSTERITY_STEPS
    engagement: str = "consultation"
    social_skill: float = 0.5
    sv_understanding: float = 0.4
    risk_aversion: float = 0.6
    n_sme_vso: int = 50
    n_large_charity: int = 8
    n_corporate: int = 12
    n_social_enterprise: int = 10
    consortia: bool = True

    def replace(self, **changes: Any) -> Levers:
        """A copy with ``changes`` applied (field name -> value)."""
        return dataclasses.replace(self, **changes)


def rebalance_weights(sv_weight: float, price_weight: float, quality_weight: float) -> tuple[float, float, float]:
    """Price, quality and social-value weights that sum to 1, keeping price:quality.

    Args:
        sv_weight: the new social-value weight (clipped to [0, 1]).
        price_weight: the old price weight (only its share of price + quality matters).
        quality_weight: the old quality weight.

    Returns:
        ``(price, quality, sv)``; price and quality share ``1 - sv`` in the old proportion
        (half each if both were zero).
    """
    sv = min(1.0, max(0.0, float(sv_weight)))
    rest = 1.0 - sv
    total = float(price_weight) + float(quality_weight)
    price_share = float(price_weight) / total if total > 0 else 0.5
    price = rest * price_share
    quality = rest - price
    return price, quality, sv


def _mean(value: Any) -> float:
    """The mean of a scenario number or distribution (as dumped to JSON)."""
    if isinstance(value, int | float):
        return float(value)
    dist = value["dist"]
    if dist == "beta":
        low, high = value.get("low", 0.0), value.get("high", 1.0)
        return low + (high - low) * value["a"] / (value["a"] + value["b"])
    if dist == "uniform":
        return (value["low"] + value["high"]) / 2
    if dist == "normal":
        return float(value["mean"])
    if dist == "lognormal":
        return float(value["median"])
    if dist == "choice":
        values = value["values"]
        p = value.get("p") or [1.0 / len(values)] * len(values)
        return float(sum(v * w for v, w in zip(values, p, strict=True)))
    raise ValueError(f"unknown distribution {dist!r}")


def _austerity_shock(shocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((s for s in shocks if s["kind"] == "austerity"), None)


def _tree(scenario_name: str) -> dict[str, Any]:
    return load_scenario(scenario_name).model_dump(mode="json")


def levers_for(scenario_name: str) -> Levers:
    """The lever values a bundled scenario (or scenario file) starts from.

    Distribution-valued attributes show their mean; an austerity shock in the scenario
    switches austerity on with its cut, start and length.
    """
    tree = _tree(scenario_name)
    comm = tree["commissioners"]
    shock = _austerity_shock(tree["shocks"])
    counts = {f"n_{k.value}": int(tree["providers"][k.value]["count"]) for k in PROVIDER_KINDS}
    return Levers(
        scenario=scenario_name,
        sv_weight=round(_mean(comm["sv_weight"]), 4),
        austerity=shock is not None,
        austerity_cut=float(shock["budget_cut"]) if shock else 0.25,
        austerity_start=int(shock["at_step"]) if shock else 4,
        austerity_steps=int(shock["over_steps"]) if shock else _DEFAULT_AUSTERITY_STEPS,
        engagement=str(comm["engagement"]),
        social_skill=round(_mean(comm["social_skill"]), 4),
        sv_understanding=round(_mean(comm["sv_understanding"]), 4),
        risk_aversion=round(_mean(comm["risk_aversion"]), 4),
        consortia=bool(tree["policies"]["consortia"]),
        **counts,
    )


def _beta_with_mean(mean: float, old: Any) -> dict[str, Any]:
    """A Beta distribution with ``mean``, of the old value's concentration when it was a Beta."""
    m = min(0.98, max(0.02, float(mean)))
    k = _DEFAULT_CONCENTRATION
    if isinstance(old, Mapping) and old.get("dist") == "beta":
        k = float(old["a"]) + float(old["b"])
    return {"dist": "beta", "a": k * m, "b": k * (1.0 - m)}


def overrides_for(levers: Levers) -> dict[str, Any]:
    """The dotted-path overrides that turn ``levers.scenario`` into the scenario of ``levers``.

    Only levers that differ from the preset's own values are written, so an untouched preset
    runs exactly the bundled scenario (its distributions included).
    """
    base = levers_for(levers.scenario)
    tree = _tree(levers.scenario)
    comm = tree["commissioners"]
    out: dict[str, Any] = {}
    if levers.sv_weight != base.sv_weight:
        price, quality, sv = rebalance_weights(
            levers.sv_weight, _mean(comm["price_weight"]), _mean(comm["quality_weight"])
        )
        out["commissioners.price_weight"] = price
        out["commissioners.quality_weight"] = quality
        out["commissioners.sv_weight"] = sv
        # Per-authority weights would hide the lever; the lever speaks for every authority.
        for i, auth in enumerate(tree["authorities"]):
            for key in ("price_weight", "quality_weight", "sv_weight"):
                if auth.get(key) is not None:
                    out[f"authorities.{i}.{key}"] = {"price_weight": price, "quality_weight": quality}.get(key, sv)
        # A policy floor above the lever would overrule it.
        if comm["has_sv_policy"] and _mean(comm["sv_policy_floor"]) > sv:
            out["commissioners.sv_policy_floor"] = sv
    if levers.engagement != base.engagement:
        out["commissioners.engagement"] = levers.engagement
    for name in ("social_skill", "sv_understanding", "risk_aversion"):
        if getattr(levers, name) != getattr(base, name):
            out[f"commissioners.{name}"] = _beta_with_mean(getattr(levers, name), comm[name])
    for k in PROVIDER_KINDS:
        n = getattr(levers, f"n_{k.value}")
        if n != getattr(base, f"n_{k.value}"):
            out[f"providers.{k.value}.count"] = int(n)
    if levers.consortia != base.consortia:
        out["policies.consortia"] = bool(levers.consortia)
    austerity_keys = ("austerity", "austerity_cut", "austerity_start", "austerity_steps")
    if any(getattr(levers, a) != getattr(base, a) for a in austerity_keys):
        shocks = [s for s in tree["shocks"] if s["kind"] != "austerity"]
        if levers.austerity:
            shocks.append(
                {
                    "kind": "austerity",
                    "at_step": int(levers.austerity_start),
                    "budget_cut": float(levers.austerity_cut),
                    "over_steps": int(levers.austerity_steps),
                }
            )
        out["shocks"] = [{k: v for k, v in s.items() if v is not None} for s in shocks]
    return out


def scenario_for(levers: Levers) -> Scenario:
    """The validated Scenario that ``levers`` describe."""
    return load_scenario(levers.scenario, overrides_for(levers))


_CAPTIONS: dict[str, str] = {
    FieldState.settled.value: (
        "Settled field: the incumbent commissioners' price-led rules are taken for granted. "
        "Challengers compete inside those rules; whoever fits them (large, cheap, good at "
        "tender writing) holds the field."
    ),
    FieldState.crisis.value: (
        "Field in crisis: shocks, losses and exits have broken the shared understanding. The "
        "rules are contested; a socially skilled incumbent may broker a new settlement, or "
        "the old price-led order is restored."
    ),
    FieldState.resettlement.value: (
        "Resettlement: a broker has framed a new settlement (more social value, grants and "
        "trust). New rules are being institutionalised; challengers test whether they hold."
    ),
}


def caption(field_state: str | FieldState) -> str:
    """A short strategic-action-field reading of ``field_state`` (settled, crisis or resettlement).

    Raises:
        ValueError: an unknown field state.
    """
    key = FieldState(field_state).value
    return _CAPTIONS[key]


class DashboardModel(FieldModel):
    """A FieldModel built from dashboard levers; the model class that SolaraViz re-creates.

    Args:
        levers: the lever values (default: ``Levers()``, the baseline's levers).
        seed: the run's integer seed (default ``DEFAULT_SEED``).
        settings: a callable returning the current ``(levers, seed)``; when given it overrides
            ``levers`` and ``seed``.  The dashboard passes one so that SolaraViz's Reset button
            (which re-creates the model from fixed parameters) picks up the current sliders.

    Attributes:
        levers: the levers this run was built from.
        bids_per_tender: bids received per tender in each step (NaN without tenders).
        running: False once the scenario's horizon is reached (stops Play).
    """

    def __init__(
        self,
        levers: Levers | None = None,
        seed: int | None = None,
        settings: Callable[[], tuple[Levers, int]] | None = None,
    ) -> None:
        if settings is not None:
            levers, seed = settings()
        self.levers = levers if levers is not None else Levers()
        super().__init__(scenario_for(self.levers), seed=DEFAULT_SEED if seed is None else int(seed))
        self.bids_per_tender: list[float] = []
        self.running = self.scenario.horizon_steps > 0

    def step(self) -> None:
        """One quarter of the field, plus the bids-per-tender record."""
        bids, tenders = self.totals.bids, self.totals.tenders
        super().step()
        n = self.totals.tenders - tenders
        self.bids_per_tender.append((self.totals.bids - bids) / n if n else float("nan"))
        self.running = self.steps < self.scenario.horizon_steps
