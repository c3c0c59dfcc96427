"""The field's actors as Mesa agents: Commissioner (incumbent) and Provider (challenger).

Objects:
    Commissioner: a local authority's commissioning team; sets budget and practice, runs
        engagement, awards contracts, monitors, learns and imitates peers.
    Provider: a small/medium VSO, large charity, corporate or social enterprise; decides
        whether to bid, forms its bid, delivers, learns, exits.
    InfrastructureBody: a CVS-like broker for small VSOs (switchable): information, capacity
        building and bringing VSOs into consortia.
    sigmoid, logit: the link functions used by the decision rules.

    CommissionerParams: the typed parameters a commissioner is built from (one table, derived
        from the scenario's commissioner keys).

Decision rules are documented in docs/ODD.md (submodels) with their sources.  Agents borrow
the run's random streams (``self.model.streams``, ``safsim.streams``); no other randomness is used.  A Provider's
attributes live in one row of the model's ``ProviderTable`` (``safsim.population``), so that a
tender reads every candidate at once; the agent reads and writes its own row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, get_type_hints

import mesa
import numpy as np

from safsim.config import (
    AuthorityOverride,
    BehaviourConfig,
    CommissionerConfig,
    Engagement,
    ProviderKind,
    SvDefinition,
    draw,
    is_param_field,
)
from safsim.population import KIND_OF_CODE, PROVIDER_COLUMNS, ProviderTable

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel
    from safsim.shocks import Government
    from safsim.tendering import Tender

__all__ = ["Commissioner", "CommissionerParams", "InfrastructureBody", "Provider", "logit", "sigmoid"]

# Engagement levels at co-design or above (``rung >= 2``), looked up without ``Engagement.rung``.
_CODESIGN_LEVELS = frozenset(e for e in Engagement if e.rung >= 2)


def sigmoid(x: float) -> float:
    """The logistic function."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def logit(p: float) -> float:
    """The inverse of ``sigmoid`` (``p`` is clipped away from 0 and 1)."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class CommissionerParams:
    """What a commissioner is built from: drawn numbers and chosen options.

    The numeric fields are exactly the scenario's ``commissioners`` keys that take a number or
    a distribution (a test checks this against the config), drawn once per authority; a
    per-authority override replaces the shared value.
    """

    annual_budget_gbp: float
    grant_share: float
    price_weight: float
    quality_weight: float
    sv_weight: float
    sv_understanding: float
    social_skill: float
    risk_aversion: float
    political_commitment: float
    monitoring_rate: float
    sv_policy_floor: float
    name: str
    service_lines: int
    engagement: Engagement
    sv_definition: SvDefinition
    max_lot_gbp: float | None
    has_sv_policy: bool

    @staticmethod
    def drawn_names() -> tuple[str, ...]:
        """The numeric (drawn) parameters, in field order."""
        hints = get_type_hints(CommissionerParams)
        return tuple(f.name for f in fields(CommissionerParams) if hints[f.name] is float)

    @classmethod
    def draw(
        cls,
        cfg: CommissionerConfig,
        override: AuthorityOverride,
        index: int,
        rng_for: Callable[[str], np.random.Generator],
    ) -> CommissionerParams:
        """Draw one authority's parameters (``override`` wins where it sets a value); each
        parameter is drawn from its own stream ``rng_for(name)``."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "name":
                continue
            own = getattr(override, f.name)
            p = own if own is not None else getattr(cfg, f.name)
            values[f.name] = float(draw(p, rng_for(f.name), 1)[0]) if is_param_field(CommissionerConfig, f.name) else p
        values["service_lines"] = int(values["service_lines"])
        values["has_sv_policy"] = bool(values["has_sv_policy"])
        return cls(name=override.name or f"authority_{index}", **values)


class Commissioner(mesa.Agent):
    """A local-authority commissioner: the field's incumbent (Th §1.4, §2.6).

    Static attributes are drawn at set-up from the scenario (numbers or distributions);
    ``trust``, ``legitimacy``, ``sv_understanding``, practice and the policy flag change.
    """

    model: FieldModel

    def __init__(
        self,
        model: FieldModel,
        index: int,
        params: CommissionerParams,
        initial_trust: float,
        line_weights: np.ndarray,
        line_areas: np.ndarray,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.params = params
        self.name = params.name
        self.base_budget_gbp = params.annual_budget_gbp
        self.budget_gbp = self.base_budget_gbp
        self.budget_multiplier = 1.0  # cumulative austerity
        self.service_lines = params.service_lines
        self.grant_share = params.grant_share
        self.grant_multiplier = 1.0  # share of the grant pot left by grants_to_contracts shifts
        w = np.array([params.price_weight, params.quality_weight, params.sv_weight], dtype=float)
        # Weights drawn from distributions are renormalised to sum to 1 (scenario reference).
        w = w / w.sum() if w.sum() > 0 else np.array([1.0, 0.0, 0.0])
        self.base_price_weight, self.base_quality_weight, self.base_sv_weight = map(float, w)
        self.price_weight, self.quality_weight, self.sv_weight = map(float, w)
        self.sv_understanding = params.sv_understanding
        self.social_skill = params.social_skill
        self.risk_aversion = params.risk_aversion
        self.political_commitment = params.political_commitment
        self.engagement_intent: Engagement = params.engagement
        self.engagement: Engagement = self.engagement_intent
        self.sv_definition_pref: SvDefinition = params.sv_definition
        self.sv_definition: SvDefinition = self.sv_definition_pref
        self.monitoring_rate = params.monitoring_rate
        self.max_lot_gbp: float | None = params.max_lot_gbp
        self.has_sv_policy = params.has_sv_policy
        self.sv_policy_floor = params.sv_policy_floor
        self.codesign_institutionalised = False
        self.price_led_shift = 0.0  # added after a crisis restored price-led rules
        self.trust = float(initial_trust)
        self.legitimacy = 1.0
        self.collaborative = False  # framing this year
        # Service lines: standard-cost volume per line (share of the base budget) and the
        # fraction of each line not covered by a live contract.
        self.line_weights = line_weights
        self.line_areas = line_areas
        self._area_bits: tuple[np.ndarray, list[int]] | None = None
        self.line_free = np.ones(self.service_lines)
        self.line_failures = np.zeros(self.service_lines)
        # Practice record (for the per-authority table).
        self.tenders_n = 0
        self.sv_weight_sum = 0.0
        self.supplier_defined_n = 0
        self.codesign_n = 0
        self.initial_understanding = self.sv_understanding
        # Performance memory for imitation (reset each year).
        self.year_sv = 0.0
        self.year_paid = 0.0
        self.performance = 0.0

    def record_tender(self, tender: Tender) -> None:
        """Keep the practice record of a tender this commissioner issued."""
        self.tenders_n += 1
        self.sv_weight_sum += tender.sv_weight
        self.supplier_defined_n += tender.sv_definition is SvDefinition.supplier_open
        self.codesign_n += tender.engagement in _CODESIGN_LEVELS

    # -- budget and practice (step part 2) ----------------------------------------------

    @property
    def budget_pressure(self) -> float:
        """Share of the original budget lost to cuts (0 = none)."""
        return max(0.0, 1.0 - self.budget_multiplier)

    @property
    def grant_share_now(self) -> float:
        """The share of the budget given as grants under the cuts and shifts so far.

        Grants are cut faster than the budget (``commissioners.grant_budget_elasticity`` e):
        the share is ``grant_share x grant_multiplier x budget_multiplier ** e`` (e = 0: in
        proportion), the money taken from grants staying with contracts (grants "largely
        replaced" by contracts, Th §1.1, §6.1); ``grant_multiplier`` is what a
        ``grants_to_contracts`` shift has left of the grant pot (1 without one).
        """
        e = self.model.scenario.commissioners.grant_budget_elasticity
        g = self.grant_share * self.grant_multiplier
        if e == 0.0 or self.budget_multiplier == 1.0:
            return g
        return min(1.0, g * max(self.budget_multiplier, 0.0) ** e)

    def contract_budget_gbp(self) -> float:
        """Annual money for contracts (the rest is grants)."""
        return self.budget_gbp * (1.0 - self.grant_share_now)

    def line_volume_gbp(self, squeeze: float) -> np.ndarray:
        """Standard-cost service volume of each line per year.

        Need fixes the volume at the base budget; under cuts the commissioner buys less, but
        asks for more per pound than the cut alone allows (``squeeze``: "low-cost contracts",
        Th §3.4, §5.2).  A ``grants_to_contracts`` shift puts the grant money it moves out to
        contract, so the volume grows by that money.  A lot that drew no bids is re-specified
        10% smaller.
        """
        kept = self.budget_multiplier
        g_now = self.grant_share_now
        g_shifted = self.grant_share * self.grant_multiplier  # the grant share after shifts, before cuts
        if g_now != g_shifted and g_shifted < 1.0:  # money moved from grants to contracts by cuts
            kept *= (1.0 - g_now) / (1.0 - g_shifted)
        m = min(1.0, kept * (1.0 + squeeze * self.budget_pressure))
        # The contract share of the base budget: 1 - grant_share, more once a shift has moved grants.
        base = self.line_weights * self.base_budget_gbp * (1.0 - g_shifted) * m
        return base * (1.0 - self.model.behaviour.failed_tender_volume_cut) ** self.line_failures

    def line_area_bits(self) -> list[int]:
        """Each line's service area as a bit (``1 << area``), kept while ``line_areas`` is the same array."""
        cached = self._area_bits
        if cached is None or cached[0] is not self.line_areas:
            cached = (self.line_areas, [1 << int(a) for a in self.line_areas.tolist()])
            self._area_bits = cached
        return cached[1]

    def line_ceiling_gbp(self) -> np.ndarray:
        """What the commissioner can pay per year for each line under the current budget."""
        return self.line_weights * self.contract_budget_gbp()

    def set_practice(self, crisis: bool, behaviour: BehaviourConfig, government: Government) -> None:
        """Yearly: budget, award weights, definition mode, engagement level and framing."""
        rng = self.model.streams.practice
        self.budget_gbp = self.base_budget_gbp * self.budget_multiplier
        pressure = self.budget_pressure
        # Social-value weight: discretion shaped by understanding and political commitment
        # (F9, F11; Th §4.3, §6.1), squeezed by budget pressure (Th §2.5);
        # a policy sets a floor (F10, Th §6.1); a strengthened Act sets a minimum.
        factor = (
            1.0
            + behaviour.sv_weight_understanding_slope * (self.sv_understanding - 0.5)
            + behaviour.sv_weight_commitment_slope * (self.political_commitment - 0.5)
        )
        ws = self.base_sv_weight * max(0.0, factor) * max(0.0, 1.0 - behaviour.sv_weight_pressure_cut * pressure)
        if not government.sva_in_force and not self.has_sv_policy:
            ws = 0.0  # without the Act only a local policy brings social value in
        if self.has_sv_policy:
            ws = max(ws, self.sv_policy_floor)
        if government.mandatory:
            ws = max(ws, government.min_sv_weight)
        ws = min(ws, behaviour.max_sv_weight)
        pq = self.base_price_weight + self.base_quality_weight
        r = self.base_price_weight / pq if pq > 0 else 1.0
        r = r + (behaviour.price_weight_pressure_shift * pressure + self.price_led_shift) * (1.0 - r)
        r = min(r, 1.0)
        self.sv_weight = ws
        self.price_weight = (1.0 - ws) * r
        self.quality_weight = (1.0 - ws) * (1.0 - r)
        # Definition mode: a list needs some understanding, otherwise suppliers define it (F11).
        if self.sv_understanding < behaviour.list_definition_min_understanding:
            self.sv_definition = SvDefinition.supplier_open
        else:
            self.sv_definition = self.sv_definition_pref
        # Engagement: co-design adopted with a probability that rises with social skill,
        # political commitment and crisis and falls with risk aversion and budget pressure
        # (F8; Th §4.4, §5.4, §6.1).
        # A local SV policy (charter) is adopted where politics and understanding carry it.
        if not self.has_sv_policy and government.sva_in_force:
            xp = (
                behaviour.policy_adoption_logit
                + behaviour.policy_commitment_slope * (self.political_commitment - 0.5)
                + behaviour.policy_understanding_slope * (self.sv_understanding - 0.5)
                - behaviour.policy_pressure_slope * pressure
            )
            self.has_sv_policy = bool(rng.random() < sigmoid(xp))
        x = self.codesign_adoption_logit(crisis, behaviour)
        p_adopt = sigmoid(x)
        # The ladder itself moves slowly: strong drivers raise the intended level a rung,
        # strong resistance lowers it (Th §4.3 observed levels; Th §6.1 path dependence).
        rung = self.engagement_intent.rung
        u = rng.random()
        if u < behaviour.engagement_ladder_rate * sigmoid(x - behaviour.engagement_ladder_threshold):
            rung = min(rung + 1, Engagement.co_design.rung)
        elif u > 1.0 - behaviour.engagement_ladder_rate * sigmoid(-x - behaviour.engagement_ladder_threshold):
            rung = max(rung - 1, Engagement.none.rung)
        if rung != self.engagement_intent.rung and self.engagement_intent is not Engagement.co_production:
            self.engagement_intent = Engagement.from_rung(rung)
        intent = self.engagement_intent
        if self.codesign_institutionalised and intent.rung < 2:
            intent = Engagement.co_design
        if intent.rung >= 2:
            self.engagement = intent if rng.random() < p_adopt else Engagement.consultation
        else:
            self.engagement = intent
        # Framing: collaborative rather than contentious when social skill carries it
        # (Th §1.3, §1.4).
        p_collab = sigmoid(behaviour.framing_sharpness * (self.social_skill - behaviour.framing_skill_threshold))
        self.collaborative = bool(rng.random() < p_collab)

    def codesign_adoption_logit(self, crisis: bool, behaviour: BehaviourConfig) -> float:
        """Log-odds of co-design adoption: skill, commitment and crisis for; risk and cuts against."""
        x = (
            behaviour.engagement_base_logit
            + behaviour.engagement_skill_slope * (self.social_skill - 0.5)
            + behaviour.engagement_commitment_slope * (self.political_commitment - 0.5)
            + behaviour.engagement_crisis_bonus * float(crisis)
            - behaviour.engagement_risk_slope * (self.risk_aversion - 0.5)
            - behaviour.engagement_pressure_slope * self.budget_pressure
        )
        if self.codesign_institutionalised:
            x += behaviour.engagement_institutionalised_bonus
        return x

    def package_lots(self, behaviour: BehaviourConfig) -> list[tuple[tuple[tuple[int, float], ...], float, float]]:
        """Group the uncovered parts of service lines into lots.

        Budget pressure aggregates lines into fewer, larger contracts (F1; Th §5.2, §6.1);
        ``max_lot_gbp`` splits lots above a cap (small lots, S66).  A socially
        skilled commissioner framing collaboratively shapes the market: with probability equal
        to its skill it splits lots above ``market_shaping_lot_gbp`` so that small providers
        can bid (brokering and bridging, Th §5.1; "the broadest range of suppliers",
        Th §2.3).

        Returns:
            A list of (portions, volume per year, ceiling per year).
        """
        free = np.flatnonzero(self.line_free > 1e-9)
        if free.size == 0:
            return []
        # Plain Python floats from here on: the same IEEE arithmetic as on NumPy scalars,
        # without a NumPy call per line.
        volume = self.line_volume_gbp(behaviour.austerity_volume_squeeze).tolist()
        ceiling = self.line_ceiling_gbp().tolist()
        line_free = self.line_free.tolist()
        group = 1 + int(round(behaviour.aggregation_sensitivity * self.budget_pressure))
        # Lines of the same service area are bundled together first.
        rng = self.model.streams.tendering
        shuffled = free[rng.permutation(free.size)]
        order = shuffled[np.argsort(self.line_areas[shuffled], kind="stable")].tolist()
        cap = self.max_lot_gbp
        if self.collaborative and rng.random() < self.social_skill:
            shaping = behaviour.market_shaping_lot_gbp
            cap = shaping if cap is None else min(cap, shaping)
        lots: list[tuple[tuple[tuple[int, float], ...], float, float]] = []
        for start in range(0, len(order), group):
            if group == 1:  # one line a lot: the sums below, of one term
                i = order[start]
                f = line_free[i]
                portions: tuple[tuple[int, float], ...] = ((i, f),)
                vol = 0.0 + volume[i] * f
                ceil = 0.0 + ceiling[i] * f
            else:
                portions = tuple([(i, line_free[i]) for i in order[start : start + group]])
                vol = ceil = 0.0  # summed left to right, as the lines are listed
                for i, f in portions:
                    vol += volume[i] * f
                    ceil += ceiling[i] * f
            if cap is None or not ceil > cap:
                lots.append((portions, vol, ceil))  # x / 1 is x: the record of a lot not split
                continue
            n_split = int(math.ceil(ceil / cap))
            # A split lot is n_split equal lots (one shared, immutable record).
            lot = (tuple([(i, f / n_split) for i, f in portions]), vol / n_split, ceil / n_split)
            lots.extend([lot] * n_split)
        return lots


def _row_column(name: str) -> property:
    def get(self: Provider) -> Any:
        return getattr(self.table, name)[self.row].item()

    def set_(self: Provider, value: Any) -> None:
        getattr(self.table, name)[self.row] = value

    return property(get, set_, doc=f"This provider's ``{name}`` (its row of the ProviderTable).")


class Provider(mesa.Agent):
    """A challenger organisation of one ``ProviderKind``: a view on one row of the table.

    Money, delivery and bidding attributes are drawn from the kind's distributions; beliefs,
    markup, credibility, track record and reserves change as it bids, wins, delivers and is
    monitored.  Every attribute in ``safsim.population.PROVIDER_COLUMNS`` reads and writes
    the provider's row; the decision rules themselves work on whole columns
    (``safsim.bidding``, ``safsim.delivery``, ``safsim.lifecycle``).  An exited provider is
    removed from the model's agent set (``agent.remove()``) but keeps its row.
    """

    model: FieldModel

    def __init__(self, model: FieldModel, table: ProviderTable, row: int) -> None:
        super().__init__(model)
        self.table = table
        self.row = int(row)
        table.unique_id[self.row] = self.unique_id

    @property
    def kind(self) -> ProviderKind:
        return KIND_OF_CODE[int(self.table.kind[self.row])]

    @property
    def kind_value(self) -> str:
        return self.kind.value

    @property
    def active(self) -> bool:
        return bool(self.table.active[self.row])

    @property
    def initial(self) -> bool:
        return bool(self.table.initial[self.row])

    @property
    def codesign_participant(self) -> bool:
        return bool(self.table.codesign_participant[self.row])

    @property
    def areas_mask(self) -> int:
        return int(self.table.areas_mask[self.row])

    @property
    def authorities(self) -> list[int]:
        """Indices of the authorities it serves."""
        return self.table.authorities[self.row]

    def spare_capacity_gbp(self) -> float:
        return float(self.table.spare_capacity_gbp(self.row))

    def ledger_balance_gbp(self) -> float:
        """Reserves implied by the ledger: initial + income - spending (equals reserves)."""
        return float(self.table.ledger_balance_gbp(self.row))


for _name in PROVIDER_COLUMNS:
    setattr(Provider, _name, _row_column(_name))
del _name


class InfrastructureBody(mesa.Agent):
    """A local infrastructure body (CVS, Compact group) acting as broker for small VSOs.

    Its social skill brokers: it passes on commissioners' criteria (information), builds
    small VSOs' capacity to evidence social value, and brings VSOs with little skill of their
    own into consortia (K262, K562-580, Th §5.5, §6.1; the broker agent is a design
    inference, digest section 1.9).
    """

    model: FieldModel

    def __init__(self, model: FieldModel, social_skill: float) -> None:
        super().__init__(model)
        self.social_skill = social_skill

    def support(self, table: ProviderTable, rows: np.ndarray, awareness_gain: float, articulation_gain: float) -> None:
        """One step of information and capacity building for the small VSOs in ``rows``."""
        a = self.social_skill * awareness_gain
        b = self.social_skill * articulation_gain
        table.criteria_awareness[rows] += a * (1.0 - table.criteria_awareness[rows])
        table.sv_articulation[rows] += b * (1.0 - table.sv_articulation[rows])

    def consortium_min_skill(self, base: float, bonus: float) -> float:
        """The social skill a VSO needs to join a consortium when this body brokers it."""
        return max(0.0, base - self.social_skill * bonus)
