"""The field's actors as Mesa agents: Commissioner (incumbent) and Provider (challenger).

Objects:
    Commissioner: a local authority's commissioning team; sets budget and practice, runs
        engagement, awards contracts, monitors, learns and imitates peers.
    Provider: a small/medium VSO, large charity, corporate or social enterprise; decides
        whether to bid, forms its bid, delivers, learns, exits.
    InfrastructureBody: a CVS-like broker for small VSOs (switchable): information, capacity
        building and bringing VSOs into consortia.
    sigmoid, logit: the link functions used by the decision rules.

Decision rules are documented in docs/ODD.md (submodels) with their sources.  Agents borrow
the model's single generator (``self.model.rng``); no other randomness is used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from safsim.config import (
    BehaviourConfig,
    Engagement,
    ProviderKind,
    SvDefinition,
)

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel
    from safsim.shocks import Government
    from safsim.tendering import Tender

__all__ = ["Commissioner", "InfrastructureBody", "Provider", "logit", "sigmoid"]


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


class Commissioner(mesa.Agent):
    """A local-authority commissioner: the field's incumbent (T1057-1061, T3464-3472).

    Static attributes are drawn at set-up from the scenario (numbers or distributions);
    ``trust``, ``legitimacy``, ``sv_understanding``, practice and the policy flag change.
    """

    model: FieldModel

    def __init__(self, model: FieldModel, index: int, attrs: dict[str, float | object]) -> None:
        super().__init__(model)
        self.index = index
        self.name = str(attrs["name"])
        self.base_budget_gbp = float(attrs["annual_budget_gbp"])  # type: ignore[arg-type]
        self.budget_gbp = self.base_budget_gbp
        self.budget_multiplier = 1.0  # cumulative austerity
        self.service_lines = int(attrs["service_lines"])  # type: ignore[arg-type]
        self.grant_share = float(attrs["grant_share"])  # type: ignore[arg-type]
        w = np.array([attrs["price_weight"], attrs["quality_weight"], attrs["sv_weight"]], dtype=float)
        # Weights drawn from distributions are renormalised to sum to 1 (scenario reference).
        w = w / w.sum() if w.sum() > 0 else np.array([1.0, 0.0, 0.0])
        self.base_price_weight, self.base_quality_weight, self.base_sv_weight = map(float, w)
        self.price_weight, self.quality_weight, self.sv_weight = map(float, w)
        self.sv_understanding = float(attrs["sv_understanding"])  # type: ignore[arg-type]
        self.social_skill = float(attrs["social_skill"])  # type: ignore[arg-type]
        self.risk_aversion = float(attrs["risk_aversion"])  # type: ignore[arg-type]
        self.political_commitment = float(attrs["political_commitment"])  # type: ignore[arg-type]
        self.engagement_intent: Engagement = attrs["engagement"]  # type: ignore[assignment]
        self.engagement: Engagement = self.engagement_intent
        self.sv_definition_pref: SvDefinition = attrs["sv_definition"]  # type: ignore[assignment]
        self.sv_definition: SvDefinition = self.sv_definition_pref
        self.monitoring_rate = float(attrs["monitoring_rate"])  # type: ignore[arg-type]
        self.max_lot_gbp: float | None = attrs["max_lot_gbp"]  # type: ignore[assignment]
        self.has_sv_policy = bool(attrs["has_sv_policy"])
        self.sv_policy_floor = float(attrs["sv_policy_floor"])  # type: ignore[arg-type]
        self.codesign_institutionalised = False
        self.price_led_shift = 0.0  # added after a crisis restored price-led rules
        self.trust = float(attrs["initial_trust"])  # type: ignore[arg-type]
        self.legitimacy = 1.0
        self.collaborative = False  # framing this year
        # Service lines: standard-cost volume per line (share of the base budget) and the
        # fraction of each line not covered by a live contract.
        self.line_weights: np.ndarray = attrs["line_weights"]  # type: ignore[assignment]
        self.line_areas: np.ndarray = attrs["line_areas"]  # type: ignore[assignment]
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
        self.codesign_n += tender.engagement.rung >= 2

    # -- budget and practice (spec section 3, step 2) -----------------------------------

    @property
    def budget_pressure(self) -> float:
        """Share of the original budget lost to cuts (0 = none)."""
        return max(0.0, 1.0 - self.budget_multiplier)

    def contract_budget_gbp(self) -> float:
        """Annual money for contracts (the rest is grants)."""
        return self.budget_gbp * (1.0 - self.grant_share)

    def line_volume_gbp(self, squeeze: float) -> np.ndarray:
        """Standard-cost service volume of each line per year.

        Need fixes the volume at the base budget; under cuts the commissioner buys less, but
        asks for more per pound than the cut alone allows (``squeeze``: "low-cost contracts",
        T9251-9267, T4490-4492).  A lot that drew no bids is re-specified 10% smaller.
        """
        m = min(1.0, self.budget_multiplier * (1.0 + squeeze * self.budget_pressure))
        base = self.line_weights * self.base_budget_gbp * (1.0 - self.grant_share) * m
        return base * (1.0 - self.model.behaviour.failed_tender_volume_cut) ** self.line_failures

    def line_ceiling_gbp(self) -> np.ndarray:
        """What the commissioner can pay per year for each line under the current budget."""
        return self.line_weights * self.contract_budget_gbp()

    def set_practice(self, crisis: bool, behaviour: BehaviourConfig, government: Government) -> None:
        """Yearly: budget, award weights, definition mode, engagement level and framing."""
        rng = self.model.rng
        self.budget_gbp = self.base_budget_gbp * self.budget_multiplier
        pressure = self.budget_pressure
        # Social-value weight: discretion shaped by understanding and political commitment
        # (F9, F11; T7199-7200, T11917-11921), squeezed by budget pressure (T3226-3229);
        # a policy sets a floor (F10, T11862-11866); a strengthened Act sets a minimum.
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
        # (F8; T7521-7541, T11713-11715, T10153-10161).
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
        # strong resistance lowers it (T7185-7284 observed levels; T11961-11965 path dependence).
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
        # (T851-855, T1063-1081).
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

        Budget pressure aggregates lines into fewer, larger contracts (F1; T8550-8556,
        T11394-11396); ``max_lot_gbp`` splits lots above a cap (small lots, S66).  A socially
        skilled commissioner framing collaboratively shapes the market: with probability equal
        to its skill it splits lots above ``market_shaping_lot_gbp`` so that small providers
        can bid (brokering and bridging, T8421-8423; "the broadest range of suppliers",
        T1930-1934).

        Returns:
            A list of (portions, volume per year, ceiling per year).
        """
        free = np.flatnonzero(self.line_free > 1e-9)
        if free.size == 0:
            return []
        volume = self.line_volume_gbp(behaviour.austerity_volume_squeeze)
        ceiling = self.line_ceiling_gbp()
        group = 1 + int(round(behaviour.aggregation_sensitivity * self.budget_pressure))
        # Lines of the same service area are bundled together first.
        shuffled = free[self.model.rng.permutation(free.size)]
        order = shuffled[np.argsort(self.line_areas[shuffled], kind="stable")]
        cap = self.max_lot_gbp
        if self.collaborative and self.model.rng.random() < self.social_skill:
            shaping = behaviour.market_shaping_lot_gbp
            cap = shaping if cap is None else min(cap, shaping)
        lots = []
        for start in range(0, order.size, group):
            lines = order[start : start + group]
            portions = tuple((int(i), float(self.line_free[i])) for i in lines)
            vol = float(sum(volume[i] * f for i, f in portions))
            ceil = float(sum(ceiling[i] * f for i, f in portions))
            n_split = 1
            if cap is not None and ceil > cap:
                n_split = int(math.ceil(ceil / cap))
            for _ in range(n_split):
                lots.append((tuple((i, f / n_split) for i, f in portions), vol / n_split, ceil / n_split))
        return lots


class Provider(mesa.Agent):
    """A challenger organisation of one ``ProviderKind``.

    Money, delivery and bidding attributes are drawn from the kind's distributions; beliefs,
    markup, credibility, track record and reserves change as it bids, wins, delivers and is
    monitored.
    """

    model: FieldModel

    def __init__(self, model: FieldModel, kind: ProviderKind, attrs: dict[str, float], initial: bool) -> None:
        super().__init__(model)
        self.kind = kind
        self.initial = initial
        self.active = True
        self.reserves_gbp = attrs["reserves_gbp"]
        self.overhead_gbp = attrs["overhead_gbp"]
        self.fundraising_gbp = attrs["fundraising_gbp"]
        self.capacity_gbp = attrs["capacity_gbp"]
        self.unit_cost = attrs["unit_cost"]
        self.quality = attrs["quality"]
        self.sv_intrinsic = attrs["sv_intrinsic"]
        self.hard_sv_delivered = attrs["hard_sv_delivered"]
        self.sv_shading = attrs["sv_shading"]
        self.local_knowledge = attrs["local_knowledge"]
        self.sv_articulation = attrs["sv_articulation"]
        self.criteria_awareness = attrs["criteria_awareness"]
        self.claim_inflation = attrs["claim_inflation"]
        self.hard_sv_bias = attrs["hard_sv_bias"]
        self.bid_capacity = attrs["bid_capacity"]
        self.social_skill = attrs["social_skill"]
        self.markup = attrs["markup"]
        self.min_markup = attrs["min_markup"]
        self.mission_weight = attrs["mission_weight"]
        self.min_sv_weight_to_bid = attrs["min_sv_weight_to_bid"]
        self.min_win_probability = attrs["min_win_probability"]
        self.sv_weight_sensitivity = attrs["sv_weight_sensitivity"]
        self.tender_prep_weeks = attrs["tender_prep_weeks"]
        self.areas_mask = int(attrs["areas_mask"])
        self.authorities: list[int] = []  # indices of the authorities it serves (set by the model)
        # Turnover: annual income; starts as what its capacity suggests it already runs.
        self.turnover_gbp = (
            attrs["initial_turnover_capacity_share"] * self.capacity_gbp
            + attrs["steps_per_year"] * self.fundraising_gbp
        )
        self.belief = attrs["belief_prior"]
        self.belief_prior = attrs["belief_prior"]
        self.credibility = 1.0
        self.track_record = 0.5
        self.contracted_annual_gbp = 0.0
        self.bids_this_year = 0
        self.year_income_gbp = 0.0
        # Ledger (for outcomes and the money-conservation check)
        self.initial_reserves_gbp = self.reserves_gbp
        self.income_contracts_gbp = 0.0
        self.income_grants_gbp = 0.0
        self.income_reimbursed_gbp = 0.0
        self.income_fundraising_gbp = 0.0
        self.spent_delivery_gbp = 0.0
        self.spent_overhead_gbp = 0.0
        self.spent_bids_gbp = 0.0
        self.spent_engagement_gbp = 0.0
        self.wins = 0
        self.bids = 0
        self.codesign_participant = False

    @property
    def kind_value(self) -> str:
        return self.kind.value

    def spend(self, amount: float, what: str) -> None:
        """Pay a cost out of reserves, booked under ``what`` (delivery, overhead, bids, engagement)."""
        self.reserves_gbp -= amount
        setattr(self, f"spent_{what}_gbp", getattr(self, f"spent_{what}_gbp") + amount)

    def ledger_balance_gbp(self) -> float:
        """Reserves implied by the ledger: initial + income - spending (equals reserves)."""
        income = (
            self.income_contracts_gbp
            + self.income_grants_gbp
            + self.income_reimbursed_gbp
            + self.income_fundraising_gbp
        )
        spent = self.spent_delivery_gbp + self.spent_overhead_gbp + self.spent_bids_gbp + self.spent_engagement_gbp
        return self.initial_reserves_gbp + income - spent

    def spare_capacity_gbp(self) -> float:
        return self.capacity_gbp - self.contracted_annual_gbp

    def win_probability(self, tender: Tender, collaborative: bool, behaviour: BehaviourConfig) -> float:
        """Perceived chance of winning, learned from its own record and read off the tender.

        A higher social-value weight raises mission-driven providers' hopes (F3;
        T9689-9695, T11931-11933); collaborative framing encourages challengers.
        """
        x = logit(self.belief) + self.sv_weight_sensitivity * (tender.sv_weight - behaviour.sv_weight_reference)
        if collaborative and self.kind is not ProviderKind.corporate:
            x += behaviour.collaborative_framing_logit
        return sigmoid(x)

    def bid_cost_gbp(self, tender: Tender, behaviour: BehaviourConfig, window_weeks: float) -> float:
        """Cost of writing a bid; a window shorter than its preparation time makes it dearer."""
        base = max(behaviour.bid_cost_floor_gbp, behaviour.bid_cost_share * tender.ceiling_gbp)
        return base * max(1.0, self.tender_prep_weeks / window_weeks) ** behaviour.window_cost_exponent

    def learn(self, won: bool, lost_on_price: bool, behaviour: BehaviourConfig) -> None:
        """Update win belief and markup after an award (T10175-10179: losers stop expecting)."""
        lr = behaviour.belief_learning_rate
        self.belief += lr * ((1.0 if won else 0.0) - self.belief)
        if won:
            self.markup = min(behaviour.max_markup, self.markup + 0.5 * behaviour.markup_step)
        elif lost_on_price:
            self.markup = max(self.min_markup, self.markup - behaviour.markup_step)

    def forget(self, behaviour: BehaviourConfig) -> None:
        """Beliefs drift back towards the prior when not refreshed by new outcomes."""
        self.belief += behaviour.belief_forgetting * (self.belief_prior - self.belief)


class InfrastructureBody(mesa.Agent):
    """A local infrastructure body (CVS, Compact group) acting as broker for small VSOs.

    Its social skill brokers: it passes on commissioners' criteria (information), builds
    small VSOs' capacity to evidence social value, and brings VSOs with little skill of their
    own into consortia (K262, K562-580, T10438-10442, T12106-12116; the broker agent is a design
    inference, digest section 1.9).
    """

    model: FieldModel

    def __init__(self, model: FieldModel, social_skill: float) -> None:
        super().__init__(model)
        self.social_skill = social_skill

    def support(self, vsos: list[Provider], awareness_gain: float, articulation_gain: float) -> None:
        """One step of information and capacity building for the given small VSOs."""
        a = self.social_skill * awareness_gain
        b = self.social_skill * articulation_gain
        for p in vsos:
            p.criteria_awareness += a * (1.0 - p.criteria_awareness)
            p.sv_articulation += b * (1.0 - p.sv_articulation)

    def consortium_min_skill(self, base: float, bonus: float) -> float:
        """The social skill a VSO needs to join a consortium when this body brokers it."""
        return max(0.0, base - self.social_skill * bonus)
