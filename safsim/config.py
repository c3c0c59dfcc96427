"""Typed, frozen scenario configuration: `Scenario` and its parts.

Objects:
    Beta, Uniform, Normal, LogNormal, Choice: per-agent distributions (``{dist: beta, a: 2, b: 5}``).
    Param: a number or a distribution; ``draw(param, rng, n)`` samples it.
    Engagement, SvDefinition, ProviderKind, ShockKind, PeerNetwork: the options, as enums.
    FieldConfig, CommissionerConfig, AuthorityOverride, ProviderKindConfig, ProvidersConfig,
    PoliciesConfig, BehaviourConfig, Shock, Scenario: the scenario tree.

Every value the seeds do not give is a named parameter with a default marked
``# assumption`` here and in docs/ODD.md; values with a thesis source cite it as ``Th §<section>``
(a section of the source thesis, Mititelu 2021; see docs/references.md).  Validation is strict (``extra="forbid"``): unknown
keys, wrong types, out-of-range values, award weights that do not sum to 1, negative money and
NaN/inf all fail at load.  Objects are frozen; overrides build new objects.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args, get_origin

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

__all__ = [
    "AuthorityOverride",
    "BehaviourConfig",
    "Beta",
    "Choice",
    "CommissionerConfig",
    "Dist",
    "Engagement",
    "FieldConfig",
    "LogNormal",
    "Normal",
    "Param",
    "PeerNetwork",
    "PoliciesConfig",
    "ProviderKind",
    "ProviderKindConfig",
    "ProvidersConfig",
    "Scenario",
    "Shock",
    "ShockKind",
    "SvDefinition",
    "Uniform",
    "draw",
    "param_bounds",
]


def _is_numeric(annotation: Any) -> bool:
    """True for number fields (int, float, Param and their optional forms)."""
    if annotation in (int, float):
        return True
    args = get_args(annotation)
    if not args:
        return False
    if get_origin(annotation) is Annotated:
        return _is_numeric(args[0])
    if any(a is str or a is bool or (isinstance(a, type) and issubclass(a, StrEnum)) for a in args):
        return False
    return any(_is_numeric(a) for a in args)


class _Frozen(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        validate_default=True,
        use_enum_values=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_numbers(cls, data: Any) -> Any:
        """Refuse YAML booleans and quoted text where a number is expected.

        Pydantic's lax mode would read ``true`` as 1 and ``"12"`` as 12; a scenario author who
        wrote either almost certainly meant something else.
        """
        if not isinstance(data, dict):
            return data
        out = data
        for name, value in data.items():
            field = cls.model_fields.get(name) if isinstance(name, str) else None
            if field is not None and isinstance(value, bool | str) and _is_numeric(field.annotation):
                what = "a number"
                if "Beta" in str(field.annotation):
                    what = "a number or a distribution ({dist: beta|uniform|normal|lognormal|choice, ...})"
                if out is data:
                    out = dict(data)
                # Not raised here: the marker fails this field alone, so every other problem in
                # the section is still found and reported (safsim check lists them all).
                shown = str(value).lower() if isinstance(value, bool) else repr(value)  # as YAML wrote it
                out[name] = NotANumber(value, f"expected {what}, got {shown}")
        return out


class NotANumber:
    """A YAML boolean or quoted text written where a number belongs.

    ``_Frozen`` puts it in place of the value; validation of that field then fails (the
    scenario loader reports ``message``) while the section's other fields are still checked.
    """

    __slots__ = ("message", "value")

    def __init__(self, value: Any, message: str) -> None:
        self.value = value
        self.message = message

    def __repr__(self) -> str:
        return repr(self.value)


# --------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------


class Engagement(StrEnum):
    """Pre-procurement engagement ladder (Th §4.3, §4.4)."""

    none = "none"
    consultation = "consultation"
    co_design = "co_design"
    co_production = "co_production"

    @property
    def rung(self) -> int:
        return _ENGAGEMENT_ORDER.index(self)

    @staticmethod
    def from_rung(rung: int) -> Engagement:
        return _ENGAGEMENT_ORDER[rung]


_ENGAGEMENT_ORDER = [
    Engagement.none,
    Engagement.consultation,
    Engagement.co_design,
    Engagement.co_production,
]


class SvDefinition(StrEnum):
    """Who defines social value in a tender (Th §4.3; S36-42; K106-113)."""

    supplier_open = "supplier_open"
    commissioner_list = "commissioner_list"
    co_defined_local = "co_defined_local"


class ProviderKind(StrEnum):
    """The four challenger kinds (docs/ODD.md, entities)."""

    sme_vso = "sme_vso"
    large_charity = "large_charity"
    corporate = "corporate"
    social_enterprise = "social_enterprise"


PROVIDER_KINDS: tuple[ProviderKind, ...] = tuple(ProviderKind)


class ShockKind(StrEnum):
    """Scheduled events: the environment's shocks and the governance unit's actions."""

    # Environment (exogenous shocks)
    austerity = "austerity"
    political_crisis = "political_crisis"
    regulation_change = "regulation_change"
    grants_to_contracts = "grants_to_contracts"
    # Governance unit: central government (law and capability)
    sva_enacted = "sva_enacted"
    guidance = "guidance"
    review = "review"
    training = "training"
    threshold_change = "threshold_change"
    sva_strengthened = "sva_strengthened"


GOVERNMENT_EVENTS: frozenset[ShockKind] = frozenset(
    {
        ShockKind.sva_enacted,
        ShockKind.guidance,
        ShockKind.review,
        ShockKind.training,
        ShockKind.threshold_change,
        ShockKind.sva_strengthened,
    }
)


class PeerNetwork(StrEnum):
    """Which peers a commissioner observes when imitating practice (Th §4.3, §5.3)."""

    all = "all"
    ring = "ring"
    random = "random"


# --------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------


class Beta(_Frozen):
    """Beta(a, b) rescaled to [low, high]."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Beta:
        if not self.low < self.high:
            raise ValueError("beta needs low < high")
        return self


class Uniform(_Frozen):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low <= self.high:
            raise ValueError("uniform needs low <= high")
        return self


class Normal(_Frozen):
    """Normal(mean, sd) clipped to [low, high] (clipping, not resampling: bounds hold exactly)."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Normal:
        if self.low is not None and self.high is not None and not self.low <= self.high:
            raise ValueError("normal needs low <= high")
        return self


class LogNormal(_Frozen):
    """Log-normal with the given median and log-scale sigma, clipped to [low, high]."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)
    low: float | None = None
    high: float | None = None


class Choice(_Frozen):
    """A draw from a finite list of values, optionally weighted by ``p``."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    p: list[float] | None = None

    @model_validator(mode="after")
    def _probs(self) -> Choice:
        if self.p is not None:
            if len(self.p) != len(self.values):
                raise ValueError("choice needs as many p as values")
            if any(x < 0 for x in self.p) or not math.isclose(sum(self.p), 1.0, abs_tol=1e-6):
                raise ValueError("choice p must be non-negative and sum to 1")
        return self


Dist = Annotated[Beta | Uniform | Normal | LogNormal | Choice, Field(discriminator="dist")]
Param = float | Dist


def is_param_field(model: type[BaseModel], name: str) -> bool:
    """Whether field ``name`` of config ``model`` is a Param (a number or a distribution)."""
    ann = model.model_fields[name].annotation
    return ann == Param or ann == (Param | None)


def param_bounds(p: Param) -> tuple[float, float]:
    """The smallest interval that holds every value ``p`` can take."""
    if isinstance(p, int | float):
        return float(p), float(p)
    if isinstance(p, Beta | Uniform):
        return p.low, p.high
    if isinstance(p, Normal | LogNormal):
        lo = p.low if p.low is not None else (-math.inf if isinstance(p, Normal) else 0.0)
        hi = p.high if p.high is not None else math.inf
        return lo, hi
    assert isinstance(p, Choice)
    return min(p.values), max(p.values)


def draw(p: Param, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` values of ``p`` (a number gives ``n`` copies) from the run's generator."""
    if isinstance(p, int | float):
        return np.full(n, float(p))
    if isinstance(p, Beta):
        return p.low + (p.high - p.low) * rng.beta(p.a, p.b, n)
    if isinstance(p, Uniform):
        return rng.uniform(p.low, p.high, n)
    if isinstance(p, Normal):
        x = rng.normal(p.mean, p.sd, n)
    elif isinstance(p, LogNormal):
        x = p.median * np.exp(rng.normal(0.0, p.sigma, n))
    else:
        assert isinstance(p, Choice)
        idx = rng.choice(len(p.values), size=n, p=p.p)
        return np.asarray(p.values, dtype=float)[idx]
    lo = -np.inf if p.low is None else p.low
    hi = np.inf if p.high is None else p.high
    return np.clip(x, lo, hi)


def _check_range(name: str, p: Param, lo: float, hi: float) -> None:
    a, b = param_bounds(p)
    if a < lo or b > hi:
        if isinstance(p, int | float):
            if hi == math.inf:
                raise ValueError(f"{name} must be >= {lo:g}, got {p:g}")
            raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {p:g}")
        raise ValueError(
            f"{name}: the distribution can give values in [{a:g}, {b:g}], outside [{lo:g}, {hi:g}]"
            " (set low/high bounds)"
        )


def _check_params(model: BaseModel, ranges: dict[str, tuple[float, float]]) -> None:
    for name, (lo, hi) in ranges.items():
        value = getattr(model, name)
        if value is not None:
            _check_range(name, value, lo, hi)


UNIT = (0.0, 1.0)
MONEY = (0.0, math.inf)


# --------------------------------------------------------------------------------------
# Field, commissioners, providers
# --------------------------------------------------------------------------------------


class FieldConfig(_Frozen):
    """The field as a whole: its size, trust, contention and field-state rules."""

    n_authorities: int = Field(
        3, ge=1, le=5000
    )  # local authorities (commissioners); up to thousands for diffusion studies
    # Service areas (care, youth, housing support, ...): a provider bids only for lots whose
    # areas it covers; bundling lines of several areas narrows the field.  Assumption.
    service_areas: int = Field(6, ge=1, le=60)
    steps_per_year: int = Field(4, ge=1, le=52)  # one step is a quarter: quarterly contract reporting (Th §5.5)
    initial_trust: float = Field(0.5, ge=0, le=1)  # assumption
    # Contention index weights (step part 11, docs/ODD.md); assumptions.
    contention_w_losses: float = Field(0.3, ge=0)
    contention_w_exits: float = Field(0.3, ge=0)  # weight of small-VSO exits
    contention_w_trust_deficit: float = Field(0.3, ge=0)  # weight of 1 - trust
    contention_w_shocks: float = Field(0.4, ge=0)  # weight of recent shocks
    contention_smoothing: float = Field(0.3, gt=0, le=1)  # EMA weight of the newest step; assumption
    crisis_threshold: float = Field(0.55, ge=0, le=1)  # assumption
    crisis_persistence_steps: int = Field(2, ge=1)  # steps above threshold before crisis; assumption
    resettlement_exit_threshold: float = Field(0.4, ge=0, le=1)  # assumption
    crisis_max_steps: int = Field(8, ge=1)  # a crisis unresolved this long restores price-led rules
    # A settlement is brokered with probability rate x s(k(skill - skill mid)) x
    # s(k(commitment - commitment mid)) x min(1, contention / crisis_threshold), s the logistic
    # function: it rises smoothly with the incumbent's skill and commitment and with how open
    # the crisis is (F14, Th §5.4); assumptions.
    broker_skill_threshold: float = Field(0.6, ge=0, le=1)  # skill at which the skill factor is one half
    broker_commitment_threshold: float = Field(0.5, ge=0, le=1)  # commitment at which its factor is one half
    broker_sharpness: float = Field(12.0, ge=0)  # logistic slope of both factors (large: a near-threshold rule)
    broker_rate_per_step: float = Field(0.35, ge=0, le=1)  # chance a fully capable broker acts in an open crisis
    # Contention signal shapes (step part 11, docs/ODD.md); assumptions.
    loss_smoothing: float = Field(0.3, gt=0, le=1)  # EMA weight of the newest small-VSO loss share
    initial_loss_share: float = Field(0.5, ge=0, le=1)  # small-VSO loss share assumed before any award; assumption
    exit_signal_scale: float = Field(20.0, ge=0)  # a 5% exit rate in one step saturates the signal
    shock_signal_decay: float = Field(0.7, ge=0, le=1)  # per-step decay of the shock signal
    shock_signal_budget_scale: float = Field(4.0, ge=0)  # a 25% cut in one step saturates it
    # Settlement and restoration (F14; Th §5.4, §5.5); assumptions.
    settlement_grant_share: float = Field(0.05, ge=0, le=1)  # hybrid funding floor after settlement
    settlement_trust_gain: float = Field(0.1, ge=0, le=1)  # the broker's trust gain on settling
    price_led_restoration_shift: float = Field(0.15, ge=0, le=1)  # price share added after a failed crisis
    max_price_led_shift: float = Field(0.5, ge=0, le=1)  # cap on repeated restorations
    random_crisis_legitimacy_drop: float = Field(0.4, ge=0, le=1)  # random political crises; assumption
    legitimacy_crisis_threshold: float = Field(
        0.4, ge=0, le=1
    )  # a political crisis below this legitimacy opens a crisis
    budget_pressure_trigger: float = Field(0.1, ge=0, le=1)  # cuts beyond this make a political crisis a field crisis
    min_budget_share: float = Field(
        0.05, ge=0, le=1
    )  # an authority's budget never falls below this share of its original budget; assumption
    regulation_crisis_intensity: float = Field(
        0.75, ge=0, le=1
    )  # a regulation change this strong opens a crisis (Th §5.2)
    imitation_drift: float = Field(0.3, ge=0, le=1)  # a copied template drifts to a generic list (Th §4.3)
    political_crisis_rate_per_year: float = Field(0.05, ge=0, le=1)  # Th §3.5; assumption
    peer_network: PeerNetwork = (
        PeerNetwork.all
    )  # whom commissioners imitate: all peers, ring neighbours or random peers
    peer_degree: int = Field(2, ge=1)  # peers observed per year under `random`; assumption
    imitation_rate: float = Field(0.3, ge=0, le=1)  # Th §4.3, §5.3; assumption
    imitation_inertia: float = Field(0.5, ge=0, le=1)  # assumption


class CommissionerConfig(_Frozen):
    """Attributes of the local-authority commissioners (incumbents); numbers or distributions."""

    annual_budget_gbp: Param = 12_000_000.0  # assumption: commissioned community services
    service_lines: int = Field(20, ge=1, le=500)  # assumption
    # Th §6.1 (A/C: 0, B: >0); calibrated (docs/calibration.md), 0.05 assumed before.
    grant_share: Param = 0.035275
    # How much faster grants are cut than the budget: the grant share becomes
    # grant_share x (budget / original budget) ** grant_budget_elasticity, the money kept for
    # contracts (0 = grants cut in proportion).  Grants were cut first in the austerity years
    # (docs/external-data.md); calibrated (docs/calibration.md), 1.0 assumed before.
    grant_budget_elasticity: float = Field(1.396495, ge=0, le=10)
    price_weight: Param = 0.6  # NOT in text; assumption ("top priority", Th §6.1)
    quality_weight: Param = 0.35  # NOT in text; assumption
    sv_weight: Param = 0.05  # Th §3.4, §4.4, §5.5 (5-10%)
    sv_understanding: Param = Field(
        default_factory=lambda: Beta(dist="beta", a=2.0, b=3.0)
    )  # two-thirds limited understanding (Th §5.4)
    social_skill: Param = Field(
        default_factory=lambda: Beta(dist="beta", a=2.0, b=2.0)
    )  # framing, brokering, bridging (Th §1.3, §1.4); assumption on the distribution
    risk_aversion: Param = Field(
        default_factory=lambda: Beta(dist="beta", a=3.0, b=2.0)
    )  # Th §4.4, §5.2; skewed high (assumption)
    political_commitment: Param = Field(
        default_factory=lambda: Beta(dist="beta", a=2.0, b=2.0)
    )  # Th §5.2, §6.1; assumption on the distribution
    engagement: Engagement = Engagement.consultation  # Th §4.3: most stop at consultation
    sv_definition: SvDefinition = SvDefinition.supplier_open  # Th §4.3
    monitoring_rate: Param = 0.3  # assumption; "frequently no follow-up" (Th §6.1)
    max_lot_gbp: float | None = Field(None, gt=0)  # cap on a lot's annual value; None: no cap (S66 small lots)
    has_sv_policy: bool = False  # a charter with a weight floor (Th §6.1)
    # A policy's weight floor: "10% upwards" (Th §6.1), a "constant minimum score" (Th §6.1)
    sv_policy_floor: Param = Field(default_factory=lambda: Uniform(dist="uniform", low=0.10, high=0.15))
    contract_years: int = Field(3, ge=1, le=20)  # assumption
    line_value_sigma: float = Field(1.0, ge=0, le=5)  # log-normal spread of service-line sizes; assumption

    @model_validator(mode="after")
    def _validate(self) -> CommissionerConfig:
        _check_params(
            self,
            {
                "annual_budget_gbp": MONEY,
                "grant_share": UNIT,
                "price_weight": UNIT,
                "quality_weight": UNIT,
                "sv_weight": UNIT,
                "sv_understanding": UNIT,
                "social_skill": UNIT,
                "risk_aversion": UNIT,
                "political_commitment": UNIT,
                "monitoring_rate": UNIT,
                "sv_policy_floor": UNIT,
            },
        )
        _check_weights(self.price_weight, self.quality_weight, self.sv_weight)
        _check_lot_count(self.max_lot_gbp, self.annual_budget_gbp, self.grant_share, self.service_lines)
        return self


# Most lots one authority may put out in a step: a cap on lot size that splits the budget
# into more tenders than this would take hours per run (each tender is screened, and perhaps
# bid on and awarded, one at a time).
MAX_LOTS_PER_STEP = 5_000


def _check_lot_count(max_lot_gbp: float | None, budget: Param, grant_share: Param, lines: int) -> None:
    """Refuse a lot cap that would split an authority's budget into an unreasonable number of lots."""
    if max_lot_gbp is None:
        return
    contract_budget = param_bounds(budget)[1] * (1.0 - param_bounds(grant_share)[0])
    lots = contract_budget / max_lot_gbp + lines
    if lots > MAX_LOTS_PER_STEP:
        least = contract_budget / (MAX_LOTS_PER_STEP - lines) if MAX_LOTS_PER_STEP > lines else contract_budget
        raise ValueError(
            f"a lot cap of {max_lot_gbp:,.0f} splits an annual contract budget of up to {contract_budget:,.0f} "
            f"into about {lots:,.0f} tenders a quarter (at most {MAX_LOTS_PER_STEP:,} are supported); "
            f"use max_lot_gbp of at least {least:,.0f}"
        )


def _check_weights(price: Param, quality: Param, sv: Param) -> None:
    """Award weights must sum to 1 when given as numbers.

    When any weight is a distribution the three are renormalised per authority after drawing
    (documented in the scenario reference), so only numbers are checked here.
    """
    if all(isinstance(w, int | float) for w in (price, quality, sv)):
        total = float(price) + float(quality) + float(sv)  # type: ignore[arg-type]
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(
                f"award weights price_weight + quality_weight + sv_weight must sum to 1, "
                f"got {price:g} + {quality:g} + {sv:g} = {total:g}"
            )


class AuthorityOverride(_Frozen):
    """Per-authority overrides: the i-th entry of ``authorities:`` applies to authority i."""

    name: str | None = None
    annual_budget_gbp: Param | None = None
    service_lines: int | None = Field(None, ge=1, le=500)
    grant_share: Param | None = None
    price_weight: Param | None = None
    quality_weight: Param | None = None
    sv_weight: Param | None = None
    sv_understanding: Param | None = None
    social_skill: Param | None = None
    risk_aversion: Param | None = None
    political_commitment: Param | None = None
    engagement: Engagement | None = None
    sv_definition: SvDefinition | None = None
    monitoring_rate: Param | None = None
    max_lot_gbp: float | None = Field(None, gt=0)
    has_sv_policy: bool | None = None
    sv_policy_floor: Param | None = None

    @model_validator(mode="after")
    def _validate(self) -> AuthorityOverride:
        _check_params(
            self,
            {
                "annual_budget_gbp": MONEY,
                "grant_share": UNIT,
                "price_weight": UNIT,
                "quality_weight": UNIT,
                "sv_weight": UNIT,
                "sv_understanding": UNIT,
                "social_skill": UNIT,
                "risk_aversion": UNIT,
                "political_commitment": UNIT,
                "monitoring_rate": UNIT,
                "sv_policy_floor": UNIT,
            },
        )
        return self


class ProviderKindConfig(_Frozen):
    """Count and attribute distributions of one provider kind."""

    count: int = Field(ge=0, le=100_000)  # initial number of providers of this kind
    reserves_gbp: Param  # initial reserves; exit below zero
    overhead_gbp: Param  # per step
    fundraising_gbp: Param = 0.0  # per step (donations; large charities and VSOs)
    capacity_gbp: Param  # most contract value deliverable per year
    unit_cost: Param  # cost per pound of standard service; economies of scale favour large
    quality: Param  # service quality as scored (0-1)
    sv_intrinsic: Param  # true social value per pound delivered (F17: highest for VSOs)
    hard_sv_delivered: Param  # share of delivered value in hard categories
    # Share of the social value it drops when nobody follows the contract up ("what evidence it
    # has been delivered is not always of importance", Th §5.2; Th §6.1); assumption.
    sv_shading: Param = 0.0
    local_knowledge: Param  # local intelligence; VSOs high (Th §4.4); orders engagement invitations and grants
    sv_articulation: Param  # skill in evidencing SV (Th §1.1, §4.3)
    criteria_awareness: Param = 0.5  # knows the commissioner's SV criteria (F16; Th §4.3, §6.1)
    claim_inflation: Param = 1.0  # claimed / true-as-articulated; CSR framing > 1 (Th §4.3)
    hard_sv_bias: Param  # share of claims in easy-to-measure categories (Th §4.3)
    bid_capacity: Param  # bids it can write per year
    service_areas: Param = 1.0  # how many of field.service_areas it covers (rounded, >= 1)
    authorities_served: Param = 1.0  # neighbouring authorities it serves (rounded, >= 1); local VSOs 1
    social_skill: Param  # coalition building: needed to lead or join a consortium
    markup: Param  # initial markup over cost
    min_markup: float = Field(0.0, ge=-0.9, le=1.0)  # below 0: may bid below cost (F13)
    mission_weight: Param = 0.0  # value placed on delivering its mission per unit of SV
    min_sv_weight_to_bid: Param = 0.0  # Th §5.3, §6.1
    # Least perceived chance of winning worth the effort of a bid: "they do not bid because
    # they think they will never win" (Th §5.4); assumption on the values.
    min_win_probability: Param = 0.02
    sv_weight_sensitivity: float = 0.0  # log-odds of perceived win chance per unit SV weight
    tender_prep_weeks: float = Field(2.0, gt=0)  # weeks needed to write a bid (Th §5.5)
    entry_rate_per_year: float = Field(
        0.0, ge=0
    )  # expected entrants per authority per year at the initial budget; assumption
    # Background closure: yearly chance that a provider with reserves left closes or leaves the
    # field for reasons outside the model (trustees step down, founders leave, mergers).  Default
    # set so that entry_rate_per_year x n_authorities / exit_rate_per_year equals the default
    # count (a stationary population); prior 0.01-0.08 (registers of small charities and firms
    # remove a few per cent a year); assumption, to be calibrated.
    exit_rate_per_year: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _validate(self) -> ProviderKindConfig:
        _check_params(
            self,
            {
                "reserves_gbp": MONEY,
                "overhead_gbp": MONEY,
                "fundraising_gbp": MONEY,
                "capacity_gbp": MONEY,
                "unit_cost": (0.05, 5.0),
                "quality": UNIT,
                "sv_intrinsic": (0.0, 10.0),
                "hard_sv_delivered": UNIT,
                "sv_shading": UNIT,
                "local_knowledge": UNIT,
                "sv_articulation": UNIT,
                "criteria_awareness": UNIT,
                "claim_inflation": (0.0, 10.0),
                "hard_sv_bias": UNIT,
                "bid_capacity": (0.0, 1000.0),
                "service_areas": (1.0, 60.0),
                "authorities_served": (1.0, 100_000.0),
                "social_skill": UNIT,
                "markup": (-0.9, 2.0),
                "mission_weight": (0.0, 100.0),
                "min_sv_weight_to_bid": UNIT,
                "min_win_probability": UNIT,
            },
        )
        return self


def _kind(**kw: Any) -> ProviderKindConfig:
    return ProviderKindConfig.model_validate(kw)


def _u(lo: float, hi: float) -> dict[str, Any]:
    return {"dist": "uniform", "low": lo, "high": hi}


def _b(a: float, b: float) -> dict[str, Any]:
    return {"dist": "beta", "a": a, "b": b}


# Default provider populations.  The seeds give no counts, costs or reserves; every number below
# is an assumption with the direction taken from the cited passages, except those marked
# "calibrated": the point found by `safsim calibrate` against public figures (docs/calibration.md),
# with the value assumed before calibration in the comment.
def _default_sme_vso() -> ProviderKindConfig:
    return _kind(
        count=50,
        reserves_gbp=_u(1_543.347321, 19_291.841513),  # low resources (Th §1.1, §6.1); calibrated, 20k-250k before
        overhead_gbp=_u(4_249.709149, 21_248.545743),  # calibrated, 3k-15k before
        fundraising_gbp=_u(4_051.475061, 24_308.850368),  # calibrated, 2k-12k before
        capacity_gbp=_u(150_000, 900_000),
        unit_cost=_u(0.9, 1.05),  # no economies of scale
        quality=_b(5, 3),
        sv_intrinsic={"dist": "uniform", "low": 0.25, "high": 0.45},  # F17 (Th §2.2)
        hard_sv_delivered=_u(0.2, 0.4),  # soft, relational value
        sv_shading=_u(0.0, 0.1),  # mission: delivered anyway (Th §6.1)
        local_knowledge=_b(6, 2),  # Th §4.4
        sv_articulation=_b(2, 5),  # Th §1.1, §5.2
        criteria_awareness=_b(2, 5),  # "I never saw the policy" (Th §4.3)
        claim_inflation=_u(1.0, 1.3),
        hard_sv_bias=_u(0.3, 0.6),
        bid_capacity=_u(1, 4),
        service_areas=1.0,  # specialists
        authorities_served=1.0,  # local (Th §4.4)
        social_skill=_b(2, 3),
        markup=_u(0.0, 0.08),
        min_markup=-0.018325,  # calibrated, -0.08 before
        mission_weight=0.5,
        # Not worth bidding at 5% (Th §5.3); some stop even at 10% (Th §6.1).
        min_sv_weight_to_bid={
            "dist": "choice",
            "values": [0.0, 0.03, 0.06, 0.1, 0.15],
            "p": [0.3, 0.2, 0.2, 0.2, 0.1],
        },
        sv_weight_sensitivity=6.0,
        min_win_probability=_u(0.05, 0.3),
        tender_prep_weeks=6.0,  # Th §5.5
        entry_rate_per_year=0.372183,  # calibrated, 0.5 before
        exit_rate_per_year=0.011521,  # calibrated, 0.03 before
    )


def _default_large_charity() -> ProviderKindConfig:
    return _kind(
        count=8,
        reserves_gbp=_u(1_000_000, 5_000_000),
        overhead_gbp=_u(40_000, 120_000),
        fundraising_gbp=_u(40_000, 150_000),  # Th §5.2
        capacity_gbp=_u(5_055_266.838111, 16_850_889.460371),  # calibrated, 3m-10m before
        unit_cost=_u(0.85, 0.97),
        quality=_b(6, 3),
        sv_intrinsic=_u(0.18, 0.3),
        hard_sv_delivered=_u(0.4, 0.6),
        sv_shading=_u(0.05, 0.2),
        local_knowledge=_b(3, 3),
        sv_articulation=_b(5, 3),  # Th §5.3, §5.5
        criteria_awareness=_b(5, 3),
        claim_inflation=_u(1.2, 1.6),  # learned measurement tools (Th §5.3)
        hard_sv_bias=_u(0.55, 0.8),
        bid_capacity=_u(6, 12),
        service_areas=_u(1.5, 3.5),
        authorities_served=_u(1.5, 4.5),
        social_skill=_b(3, 2),
        markup=_u(0.0, 0.06),
        min_markup=-0.090473,  # may bid below cost and subsidise (F13, Th §5.2); calibrated, -0.12 before
        mission_weight=0.3,
        min_sv_weight_to_bid=0.0,
        sv_weight_sensitivity=2.0,
        tender_prep_weeks=3.0,
        entry_rate_per_year=0.03,
        exit_rate_per_year=0.01,
    )


def _default_corporate() -> ProviderKindConfig:
    return _kind(
        count=12,
        reserves_gbp=_u(3_000_000, 20_000_000),
        overhead_gbp=_u(60_000, 200_000),
        fundraising_gbp=0.0,
        capacity_gbp=_u(8_000_000, 30_000_000),
        unit_cost=_u(0.78, 0.9),  # economies of scale, price advantage (Th §4.3)
        quality=_b(5, 3),
        sv_intrinsic=_u(0.05, 0.12),
        hard_sv_delivered=_u(0.75, 0.95),
        sv_shading=_u(0.2, 0.5),  # CSR promises (Th §4.3, §5.4)
        local_knowledge=_b(2, 5),
        sv_articulation=_b(6, 2),  # SROI-style stories (Th §4.3)
        criteria_awareness=_b(6, 2),  # bid teams read the frameworks (Th §4.3)
        claim_inflation=_u(1.6, 2.4),  # CSR framing (Th §4.3, §5.4)
        hard_sv_bias=_u(0.75, 0.95),
        bid_capacity=_u(10, 25),
        service_areas=_u(1.5, 4.5),
        authorities_served=_u(2.0, 6.0),  # outsourcing majors work across councils (Th §5.2)
        social_skill=_b(3, 3),
        markup=_u(0.06, 0.14),
        min_markup=0.02,
        mission_weight=0.0,
        min_sv_weight_to_bid=0.0,
        sv_weight_sensitivity=0.0,
        tender_prep_weeks=2.0,
        entry_rate_per_year=0.1,
        exit_rate_per_year=0.025,
    )


def _default_social_enterprise() -> ProviderKindConfig:
    return _kind(
        count=10,
        reserves_gbp=_u(100_000, 800_000),
        overhead_gbp=_u(8_000, 30_000),
        fundraising_gbp=_u(0, 5_000),
        capacity_gbp=_u(500_000, 2_500_000),
        unit_cost=_u(0.9, 1.02),
        quality=_b(5, 3),
        sv_intrinsic=_u(0.18, 0.32),
        hard_sv_delivered=_u(0.4, 0.6),
        sv_shading=_u(0.05, 0.2),
        local_knowledge=_b(4, 3),
        sv_articulation=_b(3, 3),  # design inference: moderate (digest 1.7)
        criteria_awareness=_b(3, 3),
        claim_inflation=_u(1.1, 1.5),
        hard_sv_bias=_u(0.5, 0.7),
        bid_capacity=_u(3, 8),
        service_areas=_u(1.0, 2.5),
        authorities_served=_u(1.0, 2.5),
        social_skill=_b(3, 3),
        markup=_u(0.02, 0.08),
        min_markup=-0.03,
        mission_weight=0.3,
        min_sv_weight_to_bid=_u(0.0, 0.05),
        sv_weight_sensitivity=3.0,
        min_win_probability=_u(0.02, 0.15),
        tender_prep_weeks=4.0,
        entry_rate_per_year=0.2,
        exit_rate_per_year=0.03,
    )


class ProvidersConfig(_Frozen):
    """The four provider kinds; each may be overridden in part in a scenario."""

    sme_vso: ProviderKindConfig = Field(default_factory=_default_sme_vso)
    large_charity: ProviderKindConfig = Field(default_factory=_default_large_charity)
    corporate: ProviderKindConfig = Field(default_factory=_default_corporate)
    social_enterprise: ProviderKindConfig = Field(default_factory=_default_social_enterprise)

    def of(self, kind: ProviderKind) -> ProviderKindConfig:
        return getattr(self, kind.value)


class PoliciesConfig(_Frozen):
    """Commissioning policies that a scenario switches on or off."""

    consortia: bool = True  # Th §2.3, §5.2
    consortium_max_members: int = Field(4, ge=2, le=20)  # assumption
    consortium_min_skill: float = Field(0.35, ge=0, le=1)  # assumption
    consortium_overhead: float = Field(0.05, ge=0, le=1)  # coordination cost on unit cost; assumption
    reimburse_engagement: bool = False  # Th §4.4
    feedback_to_participants: bool = False  # Th §6.1
    exclude_codesign_participants: bool = False  # Th §4.4, §5.5
    publish_sv_criteria: bool = False  # Th §4.4, §6.1
    tender_window_weeks: float = Field(4.0, gt=0, le=52)  # assumption; short windows harm SMEs
    sva_in_force: bool = True  # Act in force at the start (Th §2.5); else from an sva_enacted event
    # SV is considered only for lots whose whole-term value reaches this (the Act's EU-threshold
    # scope, K50-54: GBP 589,148 since 2016); 0 = every lot, as encouraged (K54, K76, Th §6.1).
    sv_threshold_gbp: float = Field(0.0, ge=0)
    # An infrastructure body (CVS) as broker (K262, K562-580, Th §5.5; switchable).
    infrastructure_body: bool = False
    infrastructure_skill: float = Field(0.6, ge=0, le=1)  # its social skill
    infrastructure_awareness_gain: float = Field(0.1, ge=0, le=1)  # per step x skill: information to small VSOs
    infrastructure_articulation_gain: float = Field(0.01, ge=0, le=1)  # per step x skill: capacity building
    infrastructure_consortium_bonus: float = Field(0.3, ge=0, le=1)  # lowers the skill a consortium needs
    sva_mandatory: bool = False  # "consider" not "apply" (Th §4.2)
    mandatory_min_sv_weight: float = Field(0.10, ge=0, le=1)  # assumption


class BehaviourConfig(_Frozen):
    """Functional-form parameters of decisions and learning.  All are assumptions (digest s.4)."""

    # Commissioner practice (step part 2, docs/ODD.md)
    # Discretion: w_SV = base x max(0, 1 + slope_u (u - 0.5) + slope_c (c - 0.5)); slopes of 2 let
    # a 5% base span the observed 0 to 15% ("if they consider it at all", Th §6.1; Th §5.2).
    sv_weight_understanding_slope: float = 2.0  # F11: w_SV rises with understanding (Th §4.3)
    sv_weight_commitment_slope: float = 2.0  # Th §6.1: politics drives adoption
    sv_weight_pressure_cut: float = 0.5  # budget pressure lowers w_SV (Th §2.5)
    price_weight_pressure_shift: float = 0.6  # pressure moves weight to price (Th §5.2)
    max_sv_weight: float = Field(0.3, ge=0, le=1)  # cap on any SV weight ("in some cases reaching 20%", Th §5.2)
    list_definition_min_understanding: float = Field(0.35, ge=0, le=1)  # F11
    engagement_base_logit: float = 0.0  # log-odds of adopting intended co-design at average attributes
    engagement_skill_slope: float = 3.0  # social skill raises co-design adoption
    engagement_commitment_slope: float = 1.5  # political commitment raises it
    engagement_crisis_bonus: float = 1.0  # a field crisis opens the incumbent (Th §5.4)
    engagement_risk_slope: float = 3.0  # F8: risk-averse LAs resist co-design (Th §4.4)
    engagement_pressure_slope: float = 2.0  # budget pressure lowers it (Th §3.5)
    # Lines per lot = 1 + round(aggregation_sensitivity x budget pressure) (F1; Th §5.2, §6.1);
    # assumption.
    aggregation_sensitivity: float = Field(5.0, ge=0)
    failed_tender_volume_cut: float = Field(0.1, ge=0, lt=1)  # re-specification after no bids
    market_shaping_lot_gbp: float = Field(400_000.0, gt=0)  # annual lot size a skilled commissioner splits to
    engagement_institutionalised_bonus: float = 2.0  # log-odds added once co-design is institutionalised
    framing_sharpness: float = Field(10.0, ge=0)  # slope of the collaborative-framing probability
    # Engagement ladder: each year the intended level moves up (down) one rung with probability
    # rate x sigmoid(x - threshold) (rate x sigmoid(-x - threshold)), x the adoption log-odds.
    engagement_ladder_rate: float = Field(0.15, ge=0, le=1)
    engagement_ladder_threshold: float = Field(2.0, ge=0)  # how far drivers must go to move a rung
    # Yearly adoption of a local SV policy: P = sigmoid(base + a_c (commitment - 0.5) +
    # a_u (understanding - 0.5) - a_p pressure) ("significantly depends on the political agenda",
    # Th §6.1; budget cuts halted Case A's policy, Th §3.5); assumptions.
    policy_adoption_logit: float = -4.5
    policy_commitment_slope: float = 3.0  # see policy_adoption_logit
    policy_understanding_slope: float = 2.0  # see policy_adoption_logit
    policy_pressure_slope: float = 3.0  # see policy_adoption_logit
    austerity_volume_squeeze: float = Field(0.5, ge=0)  # more service per pound under cuts
    # Engagement (step 4)
    codesign_invitees: int = Field(5, ge=0)
    engagement_cost_share: float = Field(0.01, ge=0)  # of annual lot value, per participant
    codesign_understanding_gain: float = Field(
        0.04, ge=0, le=1
    )  # share of the understanding gap closed per step with co-design
    consultation_understanding_gain: float = Field(0.005, ge=0, le=1)  # the same, per step with consultation
    codesign_belief_boost: float = Field(0.08, ge=0)  # F7: VSOs more confident (Th §5.4)
    max_belief: float = Field(0.95, gt=0, lt=1)  # cap on a boosted win belief
    exclusion_belief_penalty: float = Field(0.1, ge=0, le=1)  # excluded insiders are discouraged (F8)
    engagement_reserve_multiple: float = Field(10.0, ge=0)  # unpaid engagement needs reserves of this x cost (F15)
    consultation_cost_factor: float = Field(0.5, ge=0)  # consultation costs this share of a co-design round
    participation_trust_slope: float = Field(0.5, ge=0, le=1)  # P(take part) = 1 - slope + slope x trust
    # Bidding (steps 5-6)
    eligibility_turnover_multiple: float = Field(1.0, ge=0)  # x risk_aversion x annual value
    bid_cost_share: float = Field(0.01, ge=0)  # of annual lot value; assumption
    bid_cost_floor_gbp: float = Field(2_000, ge=0)  # least a bid costs to write
    belief_prior: float = Field(0.3, gt=0, lt=1)  # initial perceived win probability
    belief_learning_rate: float = Field(0.25, gt=0, le=1)  # weight of the newest outcome in the win belief
    belief_forgetting: float = Field(0.05, ge=0, le=1)  # per-step drift of the belief back to the prior
    # A provider takes on a loss-making contract only if the loss is at most this share of
    # its reserves (prudence); assumption.
    max_loss_share_of_reserves: float = Field(0.5, ge=0)
    initial_turnover_capacity_share: float = Field(
        0.5, ge=0
    )  # turnover at start = share x capacity + a year of fundraising
    window_cost_exponent: float = Field(0.5, ge=0)  # bid cost x (prep weeks / window weeks)^exponent
    sv_weight_reference: float = Field(0.05, ge=0, le=1)  # SV weight at which the learned belief applies unchanged
    markup_step: float = Field(0.02, ge=0)  # markup change after losing on price (half after a win)
    markup_win_step_share: float = Field(0.5, ge=0)  # a win raises the markup by this share of a step; assumption
    initial_track_record: float = Field(
        0.5, ge=0, le=1
    )  # track record of a provider with no monitored delivery; assumption
    max_markup: float = Field(0.3, ge=0)  # highest markup over cost
    collaborative_framing_logit: float = 0.4  # collaborative framing encourages challengers to bid
    # Awareness of the commissioner's SV criteria scales articulation: factor = base + slope x
    # awareness (F16; Th §4.3, §6.1); assumptions.
    awareness_articulation_base: float = Field(0.4, ge=0)
    awareness_articulation_slope: float = Field(0.8, ge=0)  # see awareness_articulation_base
    publish_awareness_gain: float = Field(0.1, ge=0, le=1)  # per step, share of the gap closed when published
    participant_awareness_gain: float = Field(0.3, ge=0, le=1)  # per engagement round taken part in
    feedback_awareness_gain: float = Field(0.1, ge=0, le=1)  # per lost bid with feedback
    # Evaluation (step 7)
    soft_legibility: float = Field(0.5, ge=0, le=1)  # soft claims count less when scored
    list_soft_legibility_factor: float = Field(0.5, ge=0, le=1)  # a commissioner's list names hard categories
    # Bidders write to the specification: a list pulls claims towards hard categories, a locally
    # co-defined specification towards the soft outcomes it names (F6; Th §4.3, §6.1).
    list_hard_shift: float = Field(0.3, ge=0, le=1)  # share of the soft part moved to hard
    codefined_soft_shift: float = Field(0.4, ge=0, le=1)  # share of the hard part moved to soft
    codefined_understanding_bonus: float = Field(0.3, ge=0, le=1)  # a co-defined specification reveals true value
    list_understanding_bonus: float = Field(0.1, ge=0, le=1)  # a commissioner list helps a little
    track_record_weight: float = Field(0.1, ge=0, le=1)  # x risk_aversion (Th §5.2)
    quality_noise_sd: float = Field(0.05, ge=0)  # evaluation noise on quality
    # Quality and SV answers are marked on a 0..score_levels scale (0 = continuous); UK
    # tender evaluation commonly uses 0-5 marks (assumption, not in the seeds).
    score_levels: int = Field(5, ge=0, le=100)
    sv_score_range_by_understanding: bool = True  # SV marks use only the understood share of the scale (Th §4.3, §6.1)
    # SV answers are marked against a rubric, as UK evaluators mark written answers against
    # published descriptors (Cabinet Office 2020, Guide to using the Social Value Model, s.3): an
    # answer offering this much perceived social value per pound of the contract's volume earns
    # the top mark, less earns proportionally less, whatever the rival bids offer; 0 marks answers
    # relative to the best one (the rule until December 2026).  The value (about the true SV per pound of
    # the average small VSO) is an assumption; F16c holds from 0.2 to 0.4 (docs/validation.md).
    sv_full_marks_rate: float = Field(0.3, ge=0)
    # Delivery and monitoring (step 8)
    shortfall_tolerance: float = Field(0.1, ge=0, le=1)
    credibility_penalty: float = Field(0.5, ge=0, le=1)  # share of the way credibility moves to 1 - shortfall per check
    min_credibility: float = Field(0.1, ge=0, le=1)  # floor of a provider's credibility
    track_record_penalty: float = Field(0.2, ge=0)  # track record lost per unit of detected shortfall
    track_record_gain: float = Field(0.1, ge=0, le=1)  # share of the gap closed by a completed contract
    # Claim inflation cut per unit of detected shortfall, down to the provider's drawn
    # claim_inflation (its own framing) at most; assumption.
    inflation_correction: float = Field(0.5, ge=0, le=1)
    # Unmonitored holders learn that claims carry no consequence (Th §6.1); assumption.
    inflation_drift_unmonitored: float = Field(0.03, ge=0, le=1)
    max_claim_inflation: float = Field(3.0, ge=1, le=10)  # cap on claim inflation
    # Under-funded delivery sheds social value: delivered x min(1, paid/cost)^elasticity
    # ("low-cost contracts with lower quality and social value", Th §5.2); assumption.
    underfunding_sv_elasticity: float = Field(1.0, ge=0, le=10)
    monitoring_understanding_gain: float = Field(
        0.02, ge=0, le=1
    )  # share of the gap closed per year with follow-up checks
    # Lifecycle (step 9)
    turnover_smoothing: float = Field(0.25, gt=0, le=1)
    # Runway exit (step 9): a provider whose reserves cover fewer than exit_runway_years of its
    # net burn (overhead - fundraising - contract margin) closes with a yearly hazard rising
    # linearly to exit_runway_hazard_per_year at no runway, before its reserves are spent.  Charity
    # guidance asks for reserves of 3-6 months of running cost; prior 0.25-1 year (a board acts
    # once cover falls below its reserves policy); calibrated (docs/calibration.md), 0.5 assumed before.
    exit_runway_years: float = Field(0.2842, ge=0)
    # Yearly closure hazard at no runway left; prior 0.2-0.9 (some boards close, others cut
    # costs, merge or find emergency funding); calibrated (docs/calibration.md), 0.5 assumed before.
    exit_runway_hazard_per_year: float = Field(0.779427, ge=0, le=1)
    # Reserves policy (step 9): a provider keeps reserves_target_years of running cost (overheads
    # plus the delivery cost of its contracts) and spends surplus_spending_per_year of what it
    # holds above that a year on its mission (or pays it out).  Charity guidance (Charity
    # Commission CC19) asks for a reserves policy, typically 3-6 months; calibrated against
    # charities' reserves in months (docs/calibration.md), 0.25 year and 0.5 a year assumed before.
    reserves_target_years: float = Field(0.065294, ge=0)
    # Share of the excess spent a year; calibrated (docs/calibration.md), 0.5 assumed before.
    surplus_spending_per_year: float = Field(2.885778, ge=0, le=4)
    # Trust (step 11)
    trust_collaborative_gain: float = 0.006
    trust_contentious_loss: float = 0.006  # per step under contentious framing
    trust_feedback_gain: float = 0.008  # per step with engagement and feedback (Th §6.1)
    coproduction_trust_share: float = Field(
        0.5, ge=0
    )  # co-production adds this share of trust_feedback_gain; assumption
    trust_no_feedback_loss: float = 0.008  # per step with engagement but no feedback (Th §6.1)
    trust_unpaid_loss: float = 0.004  # per step with unpaid engagement (Th §4.4)
    trust_exit_loss: float = 0.2  # per share of small VSOs exiting in a step
    trust_reversion: float = 0.05  # pull towards field.initial_trust per step
    legitimacy_trust_slope: float = 0.01  # trust above 0.5 supports legitimacy (Th §5.5)
    legitimacy_recovery: float = 0.03  # per-step recovery of legitimacy towards 1
    framing_skill_threshold: float = Field(0.5, ge=0, le=1)  # social skill above which framing is mostly collaborative


class Shock(_Frozen):
    """A scheduled exogenous event (governance unit or environment)."""

    kind: ShockKind  # environment: austerity, political_crisis, regulation_change, grants_to_contracts; government: sva_enacted, guidance, review, training, threshold_change, sva_strengthened
    at_step: int = Field(ge=0)  # step (quarter, from 0) the event happens or starts
    budget_cut: float | None = Field(None, ge=0, lt=1)  # austerity: total cut
    over_steps: int | None = Field(None, ge=1)  # austerity, grants_to_contracts: phased in over these steps (default 4)
    # grants_to_contracts: share of the grant pot moved to contracts (default 1: every grant)
    grant_cut: float | None = Field(None, ge=0, le=1)
    legitimacy_drop: float | None = Field(None, ge=0, le=1)  # political_crisis (default 0.4)
    intensity: float | None = Field(None, ge=0, le=1)  # regulation_change: contention shock (default 0.5)
    understanding_gain: float | None = Field(None, ge=0, le=1)  # guidance, review, training (default 0.1)
    skill_gain: float | None = Field(None, ge=0, le=1)  # training: commissioners' social skill (default 0.1)
    threshold_gbp: float | None = Field(None, ge=0)  # threshold_change, review, regulation_change: new SV threshold
    min_sv_weight: float | None = Field(None, ge=0, le=1)  # sva_strengthened: mandatory minimum (default 0.1)
    authorities: list[int] | None = None  # None: every authority

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Shock:
        allowed = {
            ShockKind.austerity: {"budget_cut", "over_steps"},
            ShockKind.political_crisis: {"legitimacy_drop"},
            ShockKind.regulation_change: {"intensity", "threshold_gbp"},
            ShockKind.grants_to_contracts: {"grant_cut", "over_steps"},
            ShockKind.sva_enacted: set(),
            ShockKind.guidance: {"understanding_gain"},
            ShockKind.review: {"understanding_gain", "threshold_gbp"},
            ShockKind.training: {"understanding_gain", "skill_gain"},
            ShockKind.threshold_change: {"threshold_gbp"},
            ShockKind.sva_strengthened: {"min_sv_weight"},
        }[self.kind]
        extras = {
            "budget_cut",
            "over_steps",
            "grant_cut",
            "legitimacy_drop",
            "intensity",
            "understanding_gain",
            "skill_gain",
            "threshold_gbp",
            "min_sv_weight",
        }
        for name in sorted(extras - allowed):
            if getattr(self, name) is not None:
                raise ValueError(f"'{name}' does not apply to a {self.kind.value} shock")
        if self.kind is ShockKind.austerity and self.budget_cut is None:
            raise ValueError("an austerity shock needs budget_cut")
        if self.kind is ShockKind.threshold_change and self.threshold_gbp is None:
            raise ValueError("a threshold_change needs threshold_gbp")
        return self

    def value(self, name: str, default: float) -> float:
        v = getattr(self, name)
        return default if v is None else float(v)


class Scenario(_Frozen):
    """One scenario file: the whole configuration of a run except its seed."""

    name: str = "unnamed"  # shown in tables and plots; defaults to the file name
    description: str = ""  # first line is the summary shown by `safsim list`
    horizon_steps: int = Field(40, ge=1, le=10_000)  # quarters simulated (40 = 10 years)
    seed: int = Field(20260101, ge=0, le=2**63 - 1)  # root seed; per-run seeds are spawned from it
    replicates: int = Field(30, ge=1, le=1_000_000)  # runs per scenario when `-n` is not given
    # Quarters run before the counted horizon and discarded from outcomes, totals, award log and
    # time series, so that the horizon starts from the field's settled state: the initial draws
    # (prior beliefs, every line tendered at once, a population away from entry/exit balance)
    # relax over about three contract terms (docs/ODD.md, "Initialisation").  A whole number of
    # years; shocks' at_step counts from the end of the warm-up; 36 chosen from the baseline's drift.
    warmup_steps: int = Field(36, ge=0, le=10_000)
    # Institutions held (safsim.warmup): "warmup" (default) - every warm-up step starts from the
    # commissioners' and the field's institutional state as drawn (understanding, SV weights,
    # engagement, SV policies, trust, legitimacy, field state), so the warm-up settles the market
    # under the institutions the scenario describes and the horizon starts from them; "never" -
    # they evolve through the warm-up too; "always" - held through the horizon as well, an
    # ablation that leaves only the market's dynamics (no learning, adoption, crisis, imitation or
    # scheduled regulation change carries over from one step to the next; budget cuts still do).
    hold_institutions: Literal["warmup", "always", "never"] = "warmup"
    record_warmup: bool = False  # keep warm-up rows (negative step numbers) in the time series and award log
    field: FieldConfig = Field(default_factory=FieldConfig)
    commissioners: CommissionerConfig = Field(default_factory=CommissionerConfig)
    authorities: list[AuthorityOverride] = Field(default_factory=list)  # per-authority overrides, see below
    providers: ProvidersConfig = Field(default_factory=ProvidersConfig)
    policies: PoliciesConfig = Field(default_factory=PoliciesConfig)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    shocks: list[Shock] = Field(default_factory=list)  # scheduled events, see below

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        if self.warmup_steps % self.field.steps_per_year:
            raise ValueError(
                f"warmup_steps ({self.warmup_steps}) must be a whole number of years "
                f"(a multiple of field.steps_per_year = {self.field.steps_per_year})"
            )
        if len(self.authorities) > self.field.n_authorities:
            raise ValueError(
                f"authorities lists {len(self.authorities)} entries but field.n_authorities is "
                f"{self.field.n_authorities}"
            )
        for i, ov in enumerate(self.authorities):
            merged = {
                k: getattr(ov, k) if getattr(ov, k) is not None else getattr(self.commissioners, k)
                for k in ("price_weight", "quality_weight", "sv_weight")
            }
            try:
                _check_weights(merged["price_weight"], merged["quality_weight"], merged["sv_weight"])
                if ov.max_lot_gbp is not None or ov.annual_budget_gbp is not None:
                    _check_lot_count(
                        ov.max_lot_gbp if ov.max_lot_gbp is not None else self.commissioners.max_lot_gbp,
                        ov.annual_budget_gbp
                        if ov.annual_budget_gbp is not None
                        else self.commissioners.annual_budget_gbp,
                        ov.grant_share if ov.grant_share is not None else self.commissioners.grant_share,
                        ov.service_lines or self.commissioners.service_lines,
                    )
            except ValueError as exc:
                raise ValueError(f"authorities[{i}]: {exc}") from None
        for i, s in enumerate(self.shocks):
            for a in s.authorities or []:
                if not 0 <= a < self.field.n_authorities:
                    raise ValueError(
                        f"shocks[{i}].authorities: {a} is not an authority index (0..{self.field.n_authorities - 1})"
                    )
        return self

    @property
    def total_providers(self) -> int:
        return sum(self.providers.of(k).count for k in PROVIDER_KINDS)
