"""FieldModel: the commissioning field as a ``mesa.Model``: wiring and step order.

Objects:
    FieldModel: builds commissioners and providers from a Scenario and a seed and runs the
        twelve-part step of spec section 3.
    StepAccumulator, Totals: per-step and whole-run counters behind the outcomes.
    Consortium bids, engagement rounds, delivery, money and lifecycle live here as short
    methods; the award rule is in ``tendering``, field states in ``field``, events in
    ``shocks``, agent decisions in ``agents``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

import mesa
import numpy as np

from safsim.agents import Commissioner, InfrastructureBody, Provider
from safsim.config import (
    PROVIDER_KINDS,
    AuthorityOverride,
    Engagement,
    ProviderKind,
    Scenario,
    SvDefinition,
    draw,
)
from safsim.field import ContentionInputs, FieldState, contention_raw, next_state
from safsim.metrics import step_record
from safsim.shocks import Government, ShockEffects, apply_shocks
from safsim.tendering import Award, Bid, Contract, Tender, award, soft_legibility

__all__ = ["FieldModel"]

# A lot re-specified after this many rounds without bids is not cut further (a numerical
# floor on the re-specification rule, not a behavioural parameter).
MAX_FAILED_ROUNDS = 10

_COMMISSIONER_PARAMS = (
    "annual_budget_gbp",
    "grant_share",
    "price_weight",
    "quality_weight",
    "sv_weight",
    "sv_understanding",
    "social_skill",
    "risk_aversion",
    "political_commitment",
    "monitoring_rate",
    "sv_policy_floor",
)
_PROVIDER_PARAMS = (
    "reserves_gbp",
    "overhead_gbp",
    "fundraising_gbp",
    "capacity_gbp",
    "unit_cost",
    "quality",
    "sv_intrinsic",
    "hard_sv_delivered",
    "sv_shading",
    "local_knowledge",
    "sv_articulation",
    "criteria_awareness",
    "claim_inflation",
    "hard_sv_bias",
    "bid_capacity",
    "service_areas",
    "authorities_served",
    "social_skill",
    "markup",
    "mission_weight",
    "min_sv_weight_to_bid",
    "min_win_probability",
)


@dataclass(slots=True)
class StepAccumulator:
    """Counters for the current step (the time-series table)."""

    income_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    vso_bids: int = 0
    vso_opportunities: int = 0
    vso_wins: int = 0
    tenders: int = 0


@dataclass(slots=True)
class Totals:
    """Whole-run counters (the runs table)."""

    value_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    value_by_provider: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    awards: int = 0
    tenders: int = 0
    bids: int = 0
    vso_bids: int = 0
    vso_opportunities: int = 0
    vso_wins: int = 0
    exits: int = 0
    entries: int = 0
    sv_claimed: float = 0.0
    sv_claimed_hard: float = 0.0
    sv_delivered: float = 0.0
    contract_payments: float = 0.0
    delivery_cost: float = 0.0
    winner_changed: int = 0
    sv_weight_sum: float = 0.0
    codesign_tenders: int = 0
    monitored_contracts: int = 0
    contention_sum: float = 0.0
    state_steps: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    commissioner_paid: float = 0.0
    provider_received: float = 0.0
    engagement_cost_unpaid: float = 0.0
    engaged_tenders: int = 0  # tenders preceded by consultation or more
    supplier_defined_tenders: int = 0
    codefined_tenders: int = 0
    engagement_rounds: int = 0  # engagement rounds with at least one participant
    engagement_invited: int = 0
    engagement_participants: int = 0
    participant_bids: int = 0  # bids by small VSOs that once took part in co-design
    participant_opportunities: int = 0
    vso_sv_score_sum: float = 0.0
    vso_sv_score_n: int = 0
    awareness_bidders_sum: float = 0.0
    awareness_bidders_n: int = 0
    sv_delivered_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    paid_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cost_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    subsidy_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    sv_claimed_monitored: float = 0.0
    sv_delivered_monitored: float = 0.0
    crisis_episodes: int = 0
    resettlements: int = 0


class FieldModel(mesa.Model):
    """The strategic action field of commissioning for social value.

    Args:
        scenario: a validated Scenario.
        seed: the run's integer seed; the model's single ``numpy.random.Generator``.
        record_awards: keep a per-tender award log in ``award_rows``.
    """

    def __init__(self, scenario: Scenario, seed: int, record_awards: bool = False) -> None:
        super().__init__(rng=int(seed))
        self.scenario = scenario
        self.seed = int(seed)
        self.record_awards = record_awards
        self.behaviour = scenario.behaviour
        self.policies = scenario.policies
        self.steps_per_year = scenario.field.steps_per_year
        self.field_state = FieldState.settled
        self.contention = 0.0
        self._steps_above = 0
        self._steps_in_state = 0
        self._shock_signal = 0.0
        self._recent_budget_cut = 0
        self._vso_loss_ema = 0.5
        self.totals = Totals()
        self.step_acc = StepAccumulator()
        self.timeseries_rows: list[dict[str, object]] = []
        self.award_rows: list[dict[str, object]] = []
        self.contracts: list[Contract] = []  # live contracts
        self._next_tender_id = 0
        self._next_contract_id = 0
        self.commissioners: list[Commissioner] = self._make_commissioners()
        self.government = Government(self)
        self.infrastructure: InfrastructureBody | None = (
            InfrastructureBody(self, scenario.policies.infrastructure_skill)
            if scenario.policies.infrastructure_body
            else None
        )
        self.providers: list[Provider] = []
        # Providers serving each authority (geography keeps each tender's field local, so run
        # time grows with the number of authorities, not with its square).
        self.local_providers: list[list[Provider]] = [[] for _ in self.commissioners]
        self.by_id: dict[int, Provider] = {}
        for kind in PROVIDER_KINDS:
            self._add_providers(kind, scenario.providers.of(kind).count, initial=True)
        self.initial_vso_count = sum(1 for p in self.providers if p.kind is ProviderKind.sme_vso)
        self.providers_ever = len(self.providers)
        self._peers = self._peer_lists()

    # ------------------------------------------------------------------ set-up

    def _make_commissioners(self) -> list[Commissioner]:
        cfg = self.scenario.commissioners
        n = self.scenario.field.n_authorities
        overrides = list(self.scenario.authorities) + [AuthorityOverride()] * (n - len(self.scenario.authorities))
        comms = []
        for i, ov in enumerate(overrides):
            attrs: dict[str, object] = {}
            for name in _COMMISSIONER_PARAMS:
                p = getattr(ov, name) if getattr(ov, name) is not None else getattr(cfg, name)
                attrs[name] = float(draw(p, self.rng, 1)[0])
            for name in (
                "engagement",
                "sv_definition",
                "max_lot_gbp",
                "has_sv_policy",
                "service_lines",
            ):
                v = getattr(ov, name)
                attrs[name] = v if v is not None else getattr(cfg, name)
            attrs["name"] = ov.name or f"authority_{i}"
            attrs["initial_trust"] = self.scenario.field.initial_trust
            lines = int(attrs["service_lines"])  # type: ignore[call-overload]
            sizes = np.exp(self.rng.normal(0.0, cfg.line_value_sigma, lines))
            attrs["line_weights"] = sizes / sizes.sum()
            attrs["line_areas"] = self.rng.integers(self.scenario.field.service_areas, size=lines)
            comms.append(Commissioner(self, i, attrs))
        return comms

    def _add_providers(self, kind: ProviderKind, n: int, initial: bool) -> list[Provider]:
        if n <= 0:
            return []
        cfg = self.scenario.providers.of(kind)
        cols = {name: draw(getattr(cfg, name), self.rng, n) for name in _PROVIDER_PARAMS}
        new = []
        for j in range(n):
            attrs = {name: float(cols[name][j]) for name in _PROVIDER_PARAMS}
            attrs["min_markup"] = cfg.min_markup
            attrs["sv_weight_sensitivity"] = cfg.sv_weight_sensitivity
            attrs["tender_prep_weeks"] = cfg.tender_prep_weeks
            attrs["belief_prior"] = self.behaviour.belief_prior
            attrs["initial_turnover_capacity_share"] = self.behaviour.initial_turnover_capacity_share
            attrs["steps_per_year"] = float(self.steps_per_year)
            attrs["bid_capacity"] = max(1.0, round(attrs["bid_capacity"]))
            n_areas = self.scenario.field.service_areas
            k = int(min(n_areas, max(1, round(attrs["service_areas"]))))
            covered = self.rng.choice(n_areas, size=k, replace=False)
            attrs["areas_mask"] = int(sum(1 << int(a) for a in covered))
            p = Provider(self, kind, attrs, initial=initial)
            # Home authority at random; it also serves its nearest neighbours on the ring.
            n_auth = len(self.commissioners)
            served = int(min(n_auth, max(1, round(attrs["authorities_served"]))))
            home = int(self.rng.integers(n_auth))
            offsets = [0] + [o for k in range(1, n_auth) for o in (k, -k)]
            p.authorities = sorted({(home + o) % n_auth for o in offsets[:served]})
            for a in p.authorities:
                self.local_providers[a].append(p)
            self.providers.append(p)
            self.by_id[p.unique_id] = p
            new.append(p)
        return new

    def _peer_lists(self) -> list[list[int]]:
        """Who each commissioner observes (spec step 10); ``random`` is redrawn yearly."""
        n = len(self.commissioners)
        net = self.scenario.field.peer_network.value
        if n == 1:
            return [[] for _ in range(n)]
        if net == "ring":
            return [sorted({(i - 1) % n, (i + 1) % n} - {i}) for i in range(n)]
        return [[j for j in range(n) if j != i] for i in range(n)]

    # ------------------------------------------------------------------ queries

    def active_count(self, kind: ProviderKind) -> int:
        return sum(1 for p in self.providers if p.active and p.kind is kind)

    def initial_vsos_active(self) -> int:
        return sum(1 for p in self.providers if p.initial and p.active and p.kind is ProviderKind.sme_vso)

    def active_providers(self) -> list[Provider]:
        return [p for p in self.providers if p.active]

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        """Run ``scenario.horizon_steps`` steps."""
        for _ in range(self.scenario.horizon_steps):
            self.step()

    def release(self) -> None:
        """Drop references that keep this model alive (Mesa 3.3.1's ``Agent._ids`` registry)."""
        mesa.Agent._ids.pop(self, None)  # type: ignore[attr-defined]

    def step(self) -> None:
        """One quarter: the twelve parts of spec section 3, in order."""
        self.step_acc = StepAccumulator()
        self._engaged_this_step: dict[int, int] = {}  # commissioner -> highest engagement rung
        self._coproduced_this_step: set[int] = set()
        step = self.steps - 1  # Mesa increments `steps` before calling step(); steps count from 0
        # 1. events
        fx = apply_shocks(self, step)
        year_start = step % self.steps_per_year == 0
        # 2 and 10. yearly practice, monitoring reviews and imitation
        if year_start:
            self._year_start(step)
        # 3-7. tenders, engagement, bids, awards
        self._tender_round(step)
        # 8. delivery and monitoring
        self._deliver(step)
        # 9. money and lifecycle
        vso_exits = self._money_and_lifecycle(step)
        # 11. field state and trust
        self._update_field(fx, vso_exits)
        # 12. record
        self.totals.state_steps[self.field_state.value] += 1
        self.totals.contention_sum += self.contention
        self.timeseries_rows.append(step_record(self))

    # -- step 2 and 10 ---------------------------------------------------------------

    def _year_start(self, step: int) -> None:
        crisis = self.field_state is FieldState.crisis
        if step > 0:
            self._imitate()
            self._review_monitored_contracts()
        for c in self.commissioners:
            c.set_practice(crisis, self.behaviour, self.government)
            c.year_sv = 0.0
            c.year_paid = 0.0
        for p in self.providers:
            p.bids_this_year = 0
            if step > 0:
                s = self.behaviour.turnover_smoothing
                p.turnover_gbp = (1 - s) * p.turnover_gbp + s * p.year_income_gbp
            p.year_income_gbp = 0.0

    def _imitate(self) -> None:
        """Copy practice from a better-performing peer (isomorphism; T6179-6184, T9455-9457).

        Performance is delivered social value per pound spent plus trust.  The chance of
        copying grows with the peer's advantage and falls with inertia.
        """
        fcfg = self.scenario.field
        for c in self.commissioners:
            sv_per_gbp = c.year_sv / c.year_paid if c.year_paid > 0 else 0.0
            c.performance = sv_per_gbp + c.trust
        for c in self.commissioners:
            peers = self._peers[c.index]
            if not peers:
                continue
            if fcfg.peer_network.value == "random":
                k = min(fcfg.peer_degree, len(peers))
                peers = list(self.rng.choice(peers, size=k, replace=False))
            best = max(peers, key=lambda j: self.commissioners[j].performance)
            peer = self.commissioners[best]
            gap = peer.performance - c.performance
            if gap <= 0:
                continue
            p_copy = fcfg.imitation_rate * (1.0 - fcfg.imitation_inertia) * min(1.0, gap / max(c.performance, 1e-9))
            if self.rng.random() < p_copy:
                c.base_sv_weight = peer.base_sv_weight
                c.engagement_intent = peer.engagement_intent
                c.sv_definition_pref = peer.sv_definition_pref
                c.has_sv_policy = c.has_sv_policy or peer.has_sv_policy
                # Templates copied without their local context drift towards generic economic
                # indicators (T6179-6184, T7056-7060, T5907-5911).
                if self.rng.random() < fcfg.imitation_drift:
                    c.sv_definition_pref = SvDefinition.commissioner_list

    def _review_monitored_contracts(self) -> None:
        """Monitored contracts: delivered vs promised social value (spec step 8; F5).

        Monitoring sees outputs: hard value fully, soft value as legibly as it is scored
        (T11970-11974).  A shortfall beyond tolerance lowers the holder's credibility and
        track record; any check raises the commissioner's understanding.
        """
        b = self.behaviour
        checked: set[int] = set()
        for k in self.contracts:
            if k.active and not k.monitored:
                for pid in k.bid.members:
                    p = self.by_id[pid]
                    p.claim_inflation = min(
                        b.max_claim_inflation,
                        p.claim_inflation * (1.0 + b.inflation_drift_unmonitored),
                    )
            if not (k.active and k.monitored and k.claimed_to_date > 0):
                continue
            leg = soft_legibility(k.tender.sv_definition, b)
            promised = k.claimed_hard_to_date + leg * (k.claimed_to_date - k.claimed_hard_to_date)
            seen = k.delivered_hard + leg * (k.delivered - k.delivered_hard)
            shortfall = max(0.0, 1.0 - seen / promised) if promised > 0 else 0.0
            k.checks.append(shortfall)
            checked.add(k.commissioner)
            for pid in k.bid.members:
                p = self.by_id[pid]
                if shortfall > b.shortfall_tolerance:
                    p.credibility = max(b.min_credibility, p.credibility * (1.0 - b.credibility_penalty * shortfall))
                    p.track_record = max(0.0, p.track_record - b.track_record_penalty * shortfall)
                    p.claim_inflation = max(1.0, p.claim_inflation * (1.0 - b.inflation_correction * shortfall))
        # Following contracts up teaches the commissioner what is really delivered (yearly).
        for i in checked:
            comm = self.commissioners[i]
            comm.sv_understanding += b.monitoring_understanding_gain * (1.0 - comm.sv_understanding)

    # -- steps 3-7 -------------------------------------------------------------------

    def _tender_round(self, step: int) -> None:
        tenders: list[Tender] = []
        for c in self.commissioners:
            for portions, volume, ceiling in c.package_lots(self.behaviour):
                tenders.append(self._make_tender(c, step, portions, volume, ceiling))
        if not tenders:
            return
        order = self.rng.permutation(len(tenders))
        for i in order:
            tender = self._engage(tenders[i])
            self._run_tender(tender)

    def _make_tender(
        self,
        c: Commissioner,
        step: int,
        portions: tuple[tuple[int, float], ...],
        volume: float,
        ceiling: float,
    ) -> Tender:
        tid = self._next_tender_id
        self._next_tender_id += 1
        duration = self.scenario.commissioners.contract_years * self.steps_per_year
        weights = (c.price_weight, c.quality_weight, c.sv_weight)
        # Lots outside the Act's scope carry no social-value criterion unless a local policy
        # brings it in (K50-54, T11837-11843).
        if (
            c.sv_weight > 0
            and not c.has_sv_policy
            and not self.government.in_scope(ceiling * duration / self.steps_per_year)
        ):
            pq = c.price_weight + c.quality_weight
            weights = (c.price_weight / pq, c.quality_weight / pq, 0.0) if pq > 0 else (1.0, 0.0, 0.0)
        return Tender(
            tender_id=tid,
            commissioner=c.index,
            step=step,
            volume_gbp=volume,
            ceiling_gbp=ceiling,
            duration_steps=duration,
            portions=portions,
            price_weight=weights[0],
            quality_weight=weights[1],
            sv_weight=weights[2],
            engagement=c.engagement,
            sv_definition=c.sv_definition,
            eligibility_turnover_gbp=self.behaviour.eligibility_turnover_multiple * c.risk_aversion * ceiling,
            areas_mask=int(sum(1 << int(c.line_areas[i]) for i, _ in portions)),
            years=duration / self.steps_per_year,
        )

    def _engage(self, tender: Tender) -> Tender:
        """Pre-procurement engagement (spec step 4; T7185-7284, T7647-7930).

        Local VSOs and social enterprises are invited first; unpaid participation costs them
        (F15, T7490-7498) and low-reserve ones decline; co-design may produce a co-defined
        specification (chance = commissioner social skill); participants learn what is wanted
        and gain confidence (F7); feedback builds trust and its absence erodes it
        (T12087-12092); an optional rule excludes participants from bidding (T10444-10448).
        """
        level = tender.engagement
        if level is Engagement.none:
            return tender
        b = self.behaviour
        pol = self.policies
        comm = self.commissioners[tender.commissioner]
        cost = b.engagement_cost_share * tender.ceiling_gbp
        if level is Engagement.consultation:
            cost *= b.consultation_cost_factor
        local = [
            p
            for p in self.local_providers[comm.index]
            if p.active and p.kind in (ProviderKind.sme_vso, ProviderKind.social_enterprise)
        ]
        if local:
            knowledge = np.array([p.local_knowledge for p in local]) + 1e-6 * self.rng.random(len(local))
            invited = [local[i] for i in np.argsort(-knowledge)[: b.codesign_invitees]]
        else:
            invited = []
        participants = []
        for p in invited:
            can_afford = pol.reimburse_engagement or p.reserves_gbp > b.engagement_reserve_multiple * cost
            slope = b.participation_trust_slope
            if can_afford and self.rng.random() < 1.0 - slope + slope * comm.trust:
                participants.append(p)
        t = self.totals
        t.engaged_tenders += 1
        t.engagement_invited += len(invited)
        t.engagement_participants += len(participants)
        if participants:
            t.engagement_rounds += 1
        for p in participants:
            if pol.reimburse_engagement:
                self._pay(comm, p, cost, "engagement")
            else:
                t.engagement_cost_unpaid += cost
            p.spend(cost, "engagement")  # the time spent is a real cost either way
            # Taking part teaches what the commissioner wants (T7926-7930).
            p.criteria_awareness += b.participant_awareness_gain * (1.0 - p.criteria_awareness)
        if participants:
            rung = max(self._engaged_this_step.get(comm.index, 0), level.rung)
            self._engaged_this_step[comm.index] = rung
        definition = tender.sv_definition
        excluded: set[int] = set()
        if level.rung >= 2 and participants:
            if self.rng.random() < comm.social_skill:
                definition = SvDefinition.co_defined_local
            for p in participants:
                p.belief = min(b.max_belief, p.belief + b.codesign_belief_boost)
                p.codesign_participant = True
            if level is Engagement.co_production:
                self._coproduced_this_step.add(comm.index)
            if pol.exclude_codesign_participants:
                # Insiders barred from bidding (T10444-10448, T7553-7558) are discouraged.
                excluded = {p.unique_id for p in participants}
                for p in participants:
                    p.belief = max(0.0, p.belief - b.exclusion_belief_penalty)
        if definition is tender.sv_definition and not excluded:
            return tender
        return _replace_tender(tender, sv_definition=definition, excluded=frozenset(excluded))

    def _run_tender(self, tender: Tender) -> None:
        b = self.behaviour
        pol = self.policies
        comm = self.commissioners[tender.commissioner]
        self.totals.tenders += 1
        self.step_acc.tenders += 1
        self.totals.sv_weight_sum += tender.sv_weight
        if tender.engagement.rung >= 2:
            self.totals.codesign_tenders += 1
        self.totals.supplier_defined_tenders += tender.sv_definition is SvDefinition.supplier_open
        self.totals.codefined_tenders += tender.sv_definition is SvDefinition.co_defined_local
        comm.record_tender(tender)
        window = pol.tender_window_weeks
        bids: list[Bid] = []
        bidders: list[list[Provider]] = []
        n_vso_active = 0
        blocked_vsos: list[Provider] = []
        for p in self.local_providers[comm.index]:
            if not p.active:
                continue
            is_vso = p.kind is ProviderKind.sme_vso
            n_vso_active += is_vso
            if is_vso and p.codesign_participant and p.unique_id not in tender.excluded:
                # A tender it is barred from is no opportunity to bid (F8: the later bid rate).
                self.totals.participant_opportunities += 1
            if tender.areas_mask & ~p.areas_mask:
                continue  # the lot needs a service area it does not cover
            if p.unique_id in tender.excluded or p.bids_this_year >= p.bid_capacity:
                continue
            if tender.sv_weight < p.min_sv_weight_to_bid:
                continue
            if p.spare_capacity_gbp() < tender.volume_gbp or p.turnover_gbp < tender.eligibility_turnover_gbp:
                if is_vso:
                    blocked_vsos.append(p)
                continue
            # A window shorter than the preparation time makes bidding infeasible for some.
            if window < p.tender_prep_weeks and self.rng.random() > window / p.tender_prep_weeks:
                continue
            if self._wants_to_bid(tender, [p], comm.collaborative):
                bids.append(self._form_bid(tender, [p]))
                bidders.append([p])
        if pol.consortia and blocked_vsos:
            cons = self._consortium(tender, blocked_vsos, comm.collaborative, window)
            if cons is not None:
                bids.append(cons[0])
                bidders.append(cons[1])
        # Bid costs and counters
        for bid, group in zip(bids, bidders, strict=True):
            cost = self._bid_cost(tender, group, window)
            for p, share in zip(group, bid.shares, strict=True):
                p.spend(cost * share, "bids")
                p.bids_this_year += 1
                p.bids += 1
                if p.kind is ProviderKind.sme_vso:
                    self.totals.vso_bids += 1
                    self.step_acc.vso_bids += 1
                    self.totals.participant_bids += p.codesign_participant
                # What the commissioner sees of bidders' grasp of its criteria (F16).
                self.totals.awareness_bidders_sum += p.criteria_awareness
                self.totals.awareness_bidders_n += 1
        self.totals.bids += len(bids)
        self.totals.vso_opportunities += n_vso_active
        self.step_acc.vso_opportunities += n_vso_active
        if not bids:
            # The lot stays uncovered and is tendered again next step, re-specified smaller.
            for line, _ in tender.portions:
                comm.line_failures[line] = min(comm.line_failures[line] + 1, MAX_FAILED_ROUNDS)
            return
        result = award(tender, bids, comm.sv_understanding, comm.risk_aversion, b, self.rng)
        self._apply_award(result, bidders)

    def _form_bid(self, tender: Tender, group: list[Provider]) -> Bid:
        """Price, quality and social-value claim of one provider or consortium (spec step 6).

        Price = own cost x (1 + markup), capped at the ceiling; mission-driven providers may
        go below cost (F13).  Claim = true value x articulation x inflation (spec step 6),
        where articulation is scaled by the bidder's awareness of the commissioner's criteria
        (F16).  A consortium pools its best writer and blends the rest by share.
        """
        b = self.behaviour
        shares = self._shares(group)

        def blend(attr: str) -> float:
            return sum(s * getattr(p, attr) for s, p in zip(shares, group, strict=True))

        price, cost_total, sv_true = self._bid_terms(tender, group)
        articulation = max(
            p.sv_articulation * (b.awareness_articulation_base + b.awareness_articulation_slope * p.criteria_awareness)
            for p in group
        )
        claim = sv_true * articulation * blend("claim_inflation")
        hard_bias = blend("hard_sv_bias")
        if tender.sv_definition is SvDefinition.commissioner_list:
            hard_bias += b.list_hard_shift * (1.0 - hard_bias)
        elif tender.sv_definition is SvDefinition.co_defined_local:
            hard_bias *= 1.0 - b.codefined_soft_shift
        quality = min(1.0, max(0.0, blend("quality") + b.quality_noise_sd * self.rng.normal()))
        return Bid(
            members=tuple(p.unique_id for p in group),
            shares=shares,
            kind="consortium" if len(group) > 1 else group[0].kind_value,
            price_gbp=price,
            cost_gbp=cost_total,
            quality=quality,
            sv_true=sv_true,
            sv_claim_hard=claim * hard_bias,
            sv_claim_soft=claim * (1.0 - hard_bias),
            credibility=blend("credibility"),
            track_record=blend("track_record"),
            hard_delivered=blend("hard_sv_delivered"),
            sv_shading=blend("sv_shading"),
        )

    def _bid_cost(self, tender: Tender, group: list[Provider], window: float) -> float:
        return max(p.bid_cost_gbp(tender, self.behaviour, window) for p in group)

    def _wants_to_bid(self, tender: Tender, group: list[Provider], collaborative: bool) -> bool:
        """Expected gain = P(win) x (margin + mission value) - bid cost > 0 (spec step 5).

        Mission-driven providers value the social value they would deliver
        (``mission_weight``), so they may bid at a loss (F13); repeated losses lower P(win)
        until small VSOs stop bidding (F3; T10175-10179).
        """
        price, cost_total, sv_true = self._bid_terms(tender, group)
        reserves = sum(max(p.reserves_gbp, 0.0) for p in group)
        if cost_total - price > self.behaviour.max_loss_share_of_reserves * reserves:
            return False  # cannot afford to carry the loss
        lead = group[0]
        p_win = lead.win_probability(tender, collaborative, self.behaviour)
        if p_win < lead.min_win_probability:
            return False  # not worth the effort: it expects to lose (F3)
        mission = sum(p.mission_weight for p in group) / len(group)
        gain = price - cost_total + mission * sv_true
        return p_win * gain - self._bid_cost(tender, group, self.policies.tender_window_weeks) > 0.0

    def _bid_terms(self, tender: Tender, group: list[Provider]) -> tuple[float, float, float]:
        """(price, own cost, true social value) over the term for a provider or consortium."""
        volume_total = tender.volume_gbp * tender.years
        if len(group) == 1:
            p = group[0]
            unit_cost, sv_rate, markup = p.unit_cost, p.sv_intrinsic, p.markup
        else:
            shares = self._shares(group)
            unit_cost = sum(s * p.unit_cost for s, p in zip(shares, group, strict=True))
            overhead = self.policies.consortium_overhead
            if self.infrastructure is not None:  # the broker coordinates the partners
                overhead *= 1.0 - self.infrastructure.social_skill
            unit_cost *= 1.0 + overhead
            sv_rate = sum(s * p.sv_intrinsic for s, p in zip(shares, group, strict=True))
            markup = group[0].markup
        cost_total = unit_cost * volume_total
        price = min(cost_total * (1.0 + markup), tender.ceiling_gbp * tender.years)
        return price, cost_total, sv_rate * volume_total

    @staticmethod
    def _shares(group: list[Provider]) -> tuple[float, ...]:
        if len(group) == 1:
            return (1.0,)
        caps = [max(p.spare_capacity_gbp(), 0.0) for p in group]
        total = sum(caps)
        if total <= 0:
            return tuple(1.0 / len(group) for _ in group)
        return tuple(c / total for c in caps)

    def _consortium(
        self,
        tender: Tender,
        candidates: list[Provider],
        collaborative: bool,
        window: float,
    ) -> tuple[Bid, list[Provider]] | None:
        """Small VSOs with social skill pool capacity for a lot none can take alone
        (T1930-1934, T9078-9084); the most skilled leads.  An infrastructure body, when present,
        brokers: VSOs with less skill of their own can join."""
        pol = self.policies
        min_skill = pol.consortium_min_skill
        if self.infrastructure is not None:
            min_skill = self.infrastructure.consortium_min_skill(min_skill, pol.infrastructure_consortium_bonus)
        pool = [
            p
            for p in candidates
            if p.social_skill >= min_skill
            and not (window < p.tender_prep_weeks and self.rng.random() > window / p.tender_prep_weeks)
        ]
        if len(pool) < 2:
            return None
        skill = np.array([p.social_skill for p in pool]) + 1e-9 * self.rng.random(len(pool))
        pool = [pool[i] for i in np.argsort(-skill)]
        group: list[Provider] = []
        for p in pool:
            group.append(p)
            spare = sum(q.spare_capacity_gbp() for q in group)
            turnover = sum(q.turnover_gbp for q in group)
            if len(group) >= 2 and spare >= tender.volume_gbp and turnover >= tender.eligibility_turnover_gbp:
                if self._wants_to_bid(tender, group, collaborative):
                    return self._form_bid(tender, group), group
                return None
            if len(group) >= pol.consortium_max_members:
                return None
        return None

    def _apply_award(self, result: Award, bidders: list[list[Provider]]) -> None:
        b = self.behaviour
        tender = result.tender
        comm = self.commissioners[tender.commissioner]
        win_bid = result.winning_bid
        winners = bidders[result.winner]
        t = self.totals
        t.awards += 1
        t.winner_changed += int(result.changed_by_sv)
        # How the commissioner marked small VSOs' social-value answers (F16: bid quality), on the
        # tenders that scored social value at all.
        if tender.sv_weight > 0:
            for bid, score in zip(result.bids, result.sv_scores, strict=True):
                if bid.kind == ProviderKind.sme_vso.value:
                    t.vso_sv_score_sum += float(score)
                    t.vso_sv_score_n += 1
        t.value_by_kind[win_bid.kind] += win_bid.price_gbp
        for p, share in zip(winners, win_bid.shares, strict=True):
            t.value_by_provider[p.unique_id] += share * win_bid.price_gbp
        monitored = bool(self.rng.random() < comm.monitoring_rate)
        t.monitored_contracts += int(monitored)
        unit_cost = win_bid.cost_gbp / (tender.volume_gbp * tender.years)
        contract = Contract(
            contract_id=self._next_contract_id,
            tender=tender,
            bid=win_bid,
            start_step=tender.step,
            end_step=tender.step + tender.duration_steps,
            monitored=monitored,
            unit_cost=unit_cost,
            sv_rate=win_bid.sv_true / (tender.volume_gbp * tender.years),
            payment_per_step=win_bid.price_gbp / tender.duration_steps,
            cost_per_step=win_bid.cost_gbp / tender.duration_steps,
            funding_factor=min(1.0, win_bid.price_gbp / win_bid.cost_gbp) ** b.underfunding_sv_elasticity
            * (1.0 if monitored else 1.0 - win_bid.sv_shading),
        )
        self._next_contract_id += 1
        self.contracts.append(contract)
        for line, frac in tender.portions:
            comm.line_free[line] = max(0.0, comm.line_free[line] - frac)
            comm.line_failures[line] = 0
        for p, share in zip(winners, win_bid.shares, strict=True):
            p.contracted_annual_gbp += share * tender.volume_gbp
        # Learning of every bidder (spec step 10); a debrief teaches losers the criteria.
        win_price = win_bid.price_gbp
        debrief = self.policies.feedback_to_participants
        for i, group in enumerate(bidders):
            won = i == result.winner
            lost_on_price = (not won) and result.bids[i].price_gbp > win_price
            for p in group:
                p.learn(won, lost_on_price, b)
                if debrief and not won:
                    p.criteria_awareness += b.feedback_awareness_gain * (1.0 - p.criteria_awareness)
                if won:
                    p.wins += 1
                    if p.kind is ProviderKind.sme_vso:
                        t.vso_wins += 1
                        self.step_acc.vso_wins += 1
        if self.record_awards:
            self.award_rows.append(
                {
                    "tender_id": tender.tender_id,
                    "step": tender.step,
                    "commissioner": tender.commissioner,
                    "volume_gbp": tender.volume_gbp,
                    "ceiling_gbp": tender.ceiling_gbp,
                    "sv_weight": tender.sv_weight,
                    "price_weight": tender.price_weight,
                    "engagement": tender.engagement.value,
                    "sv_definition": tender.sv_definition.value,
                    "n_bids": len(result.bids),
                    "winner_kind": win_bid.kind,
                    "winner_members": ",".join(str(m) for m in win_bid.members),
                    "price_gbp": win_bid.price_gbp,
                    "winner_changed_by_sv": result.changed_by_sv,
                    "counterfactual_kind": result.bids[result.counterfactual_winner].kind,
                    "monitored": monitored,
                    "bid_kinds": ",".join(x.kind for x in result.bids),
                    "scores": ",".join(f"{s:.4f}" for s in result.scores),
                }
            )

    # -- step 8 ----------------------------------------------------------------------

    def _deliver(self, step: int) -> None:
        t = self.totals
        for k in self.contracts:
            if not k.active:
                continue
            comm = self.commissioners[k.commissioner]
            sv = k.sv_rate * k.tender.volume_gbp / self.steps_per_year * k.funding_factor
            claim = k.bid.sv_claim / k.tender.duration_steps
            claim_hard = k.bid.sv_claim_hard / k.tender.duration_steps
            k.delivered += sv
            k.delivered_hard += sv * k.bid.hard_delivered
            k.claimed_to_date += claim
            k.claimed_hard_to_date += claim_hard
            t.sv_delivered += sv
            t.sv_claimed += claim
            t.sv_claimed_hard += claim_hard
            t.contract_payments += k.payment_per_step
            t.delivery_cost += k.cost_per_step
            shortfall_gbp = max(0.0, k.cost_per_step - k.payment_per_step)
            kind = k.bid.kind
            t.sv_delivered_by_kind[kind] += sv
            t.paid_by_kind[kind] += k.payment_per_step
            t.cost_by_kind[kind] += k.cost_per_step
            t.subsidy_by_kind[kind] += shortfall_gbp
            if k.monitored:
                t.sv_claimed_monitored += claim
                t.sv_delivered_monitored += sv
            comm.year_sv += sv
            comm.year_paid += k.payment_per_step
            self.step_acc.income_by_kind[k.bid.kind] += k.payment_per_step
            for pid, share in zip(k.bid.members, k.bid.shares, strict=True):
                p = self.by_id[pid]
                self._pay(comm, p, share * k.payment_per_step, "contract")
                p.spend(share * k.cost_per_step, "delivery")
            if step + 1 >= k.end_step:
                self._end_contract(k, completed=True)
        # Only live contracts are kept: ended ones have been counted in the totals.
        self.contracts = [k for k in self.contracts if k.active]

    def _end_contract(self, k: Contract, completed: bool) -> None:
        k.active = False
        comm = self.commissioners[k.commissioner]
        for line, frac in k.tender.portions:
            comm.line_free[line] = min(1.0, comm.line_free[line] + frac)
        for pid, share in zip(k.bid.members, k.bid.shares, strict=True):
            p = self.by_id[pid]
            p.contracted_annual_gbp = max(0.0, p.contracted_annual_gbp - share * k.tender.volume_gbp)
            if completed and not any(c > self.behaviour.shortfall_tolerance for c in k.checks):
                p.track_record += self.behaviour.track_record_gain * (1.0 - p.track_record)

    def _pay(self, comm: Commissioner, p: Provider, amount: float, what: str) -> None:
        """Every pound a commissioner pays goes to a provider (money conservation)."""
        p.reserves_gbp += amount
        p.year_income_gbp += amount
        if what == "contract":
            p.income_contracts_gbp += amount
        elif what == "grant":
            p.income_grants_gbp += amount
        else:
            p.income_reimbursed_gbp += amount
        self.totals.commissioner_paid += amount
        self.totals.provider_received += amount

    # -- step 9 ----------------------------------------------------------------------

    def _money_and_lifecycle(self, step: int) -> int:
        """Overheads, fundraising, grants; exits below zero reserves; entry (spec step 9)."""
        active = self.active_providers()
        # Grants go to small VSOs in proportion to local knowledge (T437-451, T12022-12026).
        for c in self.commissioners:
            pot = c.budget_gbp * c.grant_share / self.steps_per_year
            vsos = [p for p in self.local_providers[c.index] if p.active and p.kind is ProviderKind.sme_vso]
            if pot <= 0 or not vsos:
                continue
            lk = np.array([p.local_knowledge for p in vsos])
            lk = lk / lk.sum() if lk.sum() > 0 else np.full(len(vsos), 1.0 / len(vsos))
            for p, s in zip(vsos, lk, strict=True):
                self._pay(c, p, pot * s, "grant")
        if self.infrastructure is not None:
            pol = self.policies
            self.infrastructure.support(
                [p for p in active if p.kind is ProviderKind.sme_vso],
                pol.infrastructure_awareness_gain,
                pol.infrastructure_articulation_gain,
            )
        publish = self.policies.publish_sv_criteria
        for p in active:
            if publish:  # published criteria diffuse (T7916-7924, K210)
                p.criteria_awareness += self.behaviour.publish_awareness_gain * (1.0 - p.criteria_awareness)
            p.reserves_gbp += p.fundraising_gbp
            p.income_fundraising_gbp += p.fundraising_gbp
            p.spend(p.overhead_gbp, "overhead")
            p.year_income_gbp += p.fundraising_gbp
            p.forget(self.behaviour)
        vso_exits = 0
        for p in active:
            if p.reserves_gbp < 0.0:
                vso_exits += p.kind is ProviderKind.sme_vso
                self._exit(p)
        self._entry()
        return vso_exits

    def _exit(self, p: Provider) -> None:
        p.active = False
        self.totals.exits += 1
        for k in self.contracts:
            if k.active and p.unique_id in k.bid.members:
                self._end_contract(k, completed=False)
        p.track_record = 0.0

    def _entry(self) -> None:
        """New providers arrive at a rate that scales with the money in the field."""
        base = sum(c.base_budget_gbp for c in self.commissioners)
        now = sum(c.budget_gbp for c in self.commissioners)
        opportunity = now / base if base > 0 else 0.0
        for kind in PROVIDER_KINDS:
            rate = self.scenario.providers.of(kind).entry_rate_per_year * len(self.commissioners) / self.steps_per_year
            n = int(self.rng.poisson(rate * opportunity)) if rate > 0 else 0
            if n:
                self._add_providers(kind, n, initial=False)
                self.totals.entries += n
                self.providers_ever += n

    # -- step 11 ---------------------------------------------------------------------

    def _update_field(self, fx: ShockEffects, vso_exits: int) -> None:
        """Trust, legitimacy, contention and the field-state transition."""
        b = self.behaviour
        cfg = self.scenario.field
        n_vso = max(1, self.active_count(ProviderKind.sme_vso) + vso_exits)
        exit_share = vso_exits / n_vso
        pol = self.policies
        for c in self.commissioners:
            if c.collaborative:
                c.trust += b.trust_collaborative_gain
            else:
                c.trust -= b.trust_contentious_loss
            # Engagement rounds move trust once per step, whatever their number: feedback
            # builds it, its absence and unpaid time erode it (T12087-12092, T7490-7498).
            if c.index in self._engaged_this_step:
                # Engagement teaches the commissioner what social value means locally, with
                # diminishing returns, once per step however many rounds it ran.
                gain = (
                    b.consultation_understanding_gain
                    if self._engaged_this_step[c.index] < Engagement.co_design.rung
                    else b.codesign_understanding_gain
                )
                c.sv_understanding += gain * (1.0 - c.sv_understanding)
                c.trust += b.trust_feedback_gain if pol.feedback_to_participants else -b.trust_no_feedback_loss
                if not pol.reimburse_engagement:
                    c.trust -= b.trust_unpaid_loss
            if c.index in self._coproduced_this_step:
                c.trust += 0.5 * b.trust_feedback_gain
            c.trust -= b.trust_exit_loss * exit_share
            c.trust += b.trust_reversion * (cfg.initial_trust - c.trust)
            c.trust = min(1.0, max(0.0, c.trust))
            c.legitimacy = min(
                1.0,
                c.legitimacy
                + b.legitimacy_recovery * (1.0 - c.legitimacy)
                + b.legitimacy_trust_slope * (c.trust - 0.5),
            )
            c.legitimacy = max(0.0, c.legitimacy)
        acc = self.step_acc
        if acc.vso_bids > 0:
            loss_share = 1.0 - acc.vso_wins / acc.vso_bids
            self._vso_loss_ema += cfg.loss_smoothing * (loss_share - self._vso_loss_ema)
        self._shock_signal = cfg.shock_signal_decay * self._shock_signal + min(
            1.0, cfg.shock_signal_budget_scale * fx.budget_cut + fx.legitimacy_drop + fx.regulation
        )
        self._shock_signal = min(1.0, self._shock_signal)
        raw = contention_raw(
            ContentionInputs(
                challenger_losses=self._vso_loss_ema,
                exits=min(1.0, cfg.exit_signal_scale * exit_share),
                trust_deficit=1.0 - float(np.mean([c.trust for c in self.commissioners])),
                shock=self._shock_signal,
            ),
            cfg,
        )
        s = cfg.contention_smoothing
        self.contention = (1 - s) * self.contention + s * raw if self.steps > 1 else raw
        self._steps_above = self._steps_above + 1 if self.contention > cfg.crisis_threshold else 0
        if fx.budget_cut > 0:
            self._recent_budget_cut = self.steps_per_year
        else:
            self._recent_budget_cut = max(0, self._recent_budget_cut - 1)
        pressure = max(c.budget_pressure for c in self.commissioners)
        # Crisis triggers: a political crisis meeting budget cuts, or hitting an authority whose
        # legitimacy is already low (T10153-10161, T10409-10413, T7855-7861).
        shock_trigger = bool(fx.political_crisis) and (
            self._recent_budget_cut > 0
            or pressure > cfg.budget_pressure_trigger
            or any(self.commissioners[i].legitimacy < cfg.legitimacy_crisis_threshold for i in fx.political_crisis)
        )
        # A sweeping change of procurement rules opens a crisis too (T8542-8546).
        shock_trigger = shock_trigger or fx.regulation >= cfg.regulation_crisis_intensity
        brokered = False
        if self.field_state is FieldState.crisis:
            brokered = self._broker_settlement()
        new = next_state(
            self.field_state,
            self.contention,
            self._steps_above,
            self._steps_in_state,
            shock_trigger,
            brokered,
            cfg,
        )
        if new is not self.field_state:
            if self.field_state is FieldState.crisis and new is FieldState.settled:
                self._restore_price_led()
            if new is FieldState.crisis:
                self.totals.crisis_episodes += 1
            if new is FieldState.resettlement:
                self.totals.resettlements += 1
            self.field_state = new
            self._steps_in_state = 0
        else:
            self._steps_in_state += 1

    def _broker_settlement(self) -> bool:
        """In crisis, a skilled and committed incumbent may broker a new settlement (F14).

        The settlement changes the rules for the broker: an SV policy with a weight floor,
        co-design institutionalised, hybrid grant/contract funding (Case B; T10187-10214,
        T10575-10590, T4538-4542).
        """
        cfg = self.scenario.field
        brokered = False
        for c in self.commissioners:
            able = (
                c.social_skill >= cfg.broker_skill_threshold
                and c.political_commitment >= cfg.broker_commitment_threshold
            )
            if able and self.rng.random() < cfg.broker_rate_per_step:
                c.has_sv_policy = True
                c.codesign_institutionalised = True
                c.engagement_intent = (
                    Engagement.co_production
                    if c.engagement_intent is Engagement.co_production
                    else Engagement.co_design
                )
                c.grant_share = max(c.grant_share, cfg.settlement_grant_share)
                c.price_led_shift = 0.0
                c.trust = min(1.0, c.trust + cfg.settlement_trust_gain)
                brokered = True
        return brokered

    def _restore_price_led(self) -> None:
        """A crisis without a broker ends with price-led rules restored (Cases A and C)."""
        cfg = self.scenario.field
        for c in self.commissioners:
            c.price_led_shift = min(cfg.max_price_led_shift, c.price_led_shift + cfg.price_led_restoration_shift)
            if not c.codesign_institutionalised and c.engagement_intent.rung >= 2:
                c.engagement_intent = Engagement.consultation


def _replace_tender(t: Tender, **changes: object) -> Tender:
    return replace(t, **changes)  # type: ignore[arg-type]
