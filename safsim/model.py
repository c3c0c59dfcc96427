"""FieldModel: the commissioning field as a ``mesa.Model``: set-up and the step order.

Objects:
    FieldModel: builds commissioners and providers from a Scenario and a seed and runs the
        twelve-part step, each part one call into the module that implements it:

        ==========================================  ==================================
        step part                                   module
        ==========================================  ==================================
        1. events, government actions               ``safsim.shocks``
        2. yearly practice of commissioners         ``safsim.agents`` (Commissioner)
        3-7. lots, engagement, bids, award          ``safsim.procurement``,
                                                    ``safsim.engagement``,
                                                    ``safsim.bidding``, ``safsim.tendering``
        8. delivery, payment, monitoring            ``safsim.delivery``
        9. money, exit and entry                    ``safsim.lifecycle``
        10. learning and imitation                  ``safsim.bidding``, ``safsim.imitation``
        11. trust, contention, field state          ``safsim.field_dynamics``, ``safsim.field``
        12. record                                  ``safsim.metrics``
        ==========================================  ==================================

Provider attributes live in arrays (``safsim.population.ProviderTable``, ``model.pop``), one
row per provider, so that a tender evaluates every candidate at once; the Provider agents in
``model.providers`` (and ``model.agents``) are views on those rows.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import mesa
import numpy as np

from safsim.accounting import StepAccumulator, Totals
from safsim.agents import Commissioner, CommissionerParams, InfrastructureBody, Provider
from safsim.config import PROVIDER_KINDS, AuthorityOverride, ProviderKind, Scenario
from safsim.delivery import Contract, ContractBook, deliver, review_monitored
from safsim.field import FieldState
from safsim.field_dynamics import update_field
from safsim.imitation import imitate, peer_lists
from safsim.lifecycle import add_providers, money_and_lifecycle, new_year
from safsim.metrics import step_record
from safsim.population import LEDGER_COLUMNS, VSO, ProviderTable
from safsim.procurement import tender_round
from safsim.shocks import Government, apply_shocks
from safsim.streams import RunStreams
from safsim.warmup import Institutions

__all__ = ["FieldModel"]


# Fields of at least this many initial providers run their steps with the cyclic garbage
# collector paused (``collection_paused``; speed only).
PAUSE_COLLECTOR_PROVIDERS = 1000


@contextmanager
def collection_paused(pause: bool = True) -> Iterator[None]:
    """Python's cyclic garbage collector held off for a run's steps if ``pause`` (speed only).

    A large field makes many long-lived records (contracts, tenders, bids, agents), and the
    collector's full passes over every live object, several a run in the national field, find
    next to nothing to free; the objects made meanwhile are examined once, at the first
    collection after the steps.  In a small field those passes are rare and the one deferred
    pass costs more than it saves, so only fields of ``PAUSE_COLLECTOR_PROVIDERS`` or more pause
    it.  Nothing the model computes depends on when the collector runs.
    """
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class FieldModel(mesa.Model):
    """The strategic action field of commissioning for social value.

    Args:
        scenario: a validated Scenario.
        seed: the run's integer seed; every random stream of the run is spawned from it
            (``safsim.streams``).
        record_awards: keep a per-tender award log in ``award_rows``.
    """

    def __init__(self, scenario: Scenario, seed: int, record_awards: bool = False) -> None:
        super().__init__(rng=int(seed))
        self.scenario = scenario
        self.seed = int(seed)
        # The run's random streams, one per purpose (safsim.streams); Mesa's own ``self.rng``
        # is not used by the model's rules.
        self.streams = RunStreams(self.seed)
        self.record_awards = record_awards
        self.behaviour = scenario.behaviour
        self.policies = scenario.policies
        self.steps_per_year = scenario.field.steps_per_year
        # Field state (safsim.field_dynamics).
        self.field_state = FieldState.settled
        self.contention = 0.0
        self.steps_above = 0
        self.steps_in_state = 0
        self.shock_signal = 0.0
        self.recent_budget_cut = 0
        self.vso_loss_ema = scenario.field.initial_loss_share
        # Counters and logs (safsim.accounting, safsim.metrics).
        self.totals = Totals()
        self.step_acc = StepAccumulator()
        self.engaged_this_step: dict[int, int] = {}  # commissioner -> highest engagement rung
        self.coproduced_this_step: set[int] = set()
        self.codesign_happened = False  # any provider has taken part in co-design
        self.timeseries_rows: list[dict[str, object]] = []
        self.award_rows: list[dict[str, object]] = []
        self.next_tender_id = 0
        self.invite_scratch = np.zeros(0, np.int64)  # engagement's participants (engagement.engage)
        # The actors.
        self.commissioners: list[Commissioner] = self._make_commissioners()
        self.government = Government(self)
        self.infrastructure: InfrastructureBody | None = (
            InfrastructureBody(self, scenario.policies.infrastructure_skill)
            if scenario.policies.infrastructure_body
            else None
        )
        self.contracts = ContractBook()
        n_initial = sum(scenario.providers.of(k).count for k in PROVIDER_KINDS)
        self.pop = ProviderTable(len(self.commissioners), capacity=2 * n_initial + 16)
        self.providers: list[Provider] = []  # every provider that ever entered, by table row
        for kind in PROVIDER_KINDS:
            add_providers(self, kind, scenario.providers.of(kind).count, initial=True)
        self.initial_vso_count = self.pop.count(ProviderKind.sme_vso)
        self.pause_collector = self.pop.n >= PAUSE_COLLECTOR_PROVIDERS  # speed only
        self.providers_ever = len(self.providers)
        self.peers = peer_lists(len(self.commissioners), scenario.field.peer_network)
        # Warm-up (docs/ODD.md, "Initialisation"): steps numbered -warmup_steps..-1 run here, so the
        # counted horizon starts from the settled field; Mesa's step counter restarts at 0.
        self.warmup_steps = scenario.warmup_steps
        self.in_warmup = self.warmup_steps > 0
        self.steps_run = 0  # every step run so far, warm-up included
        self.current_step = 0  # number of the step being run (negative during warm-up)
        # Institutions held (safsim.warmup): through the warm-up by default, or the whole run.
        hold = scenario.hold_institutions
        self.held_institutions: Institutions | None = (
            Institutions.of(self) if hold == "always" or (hold == "warmup" and self.in_warmup) else None
        )
        if self.in_warmup:
            # FieldModel's own step, not a subclass's (the dashboard's wrapper is not built yet);
            # the counter moves as Mesa's wrapper would move it.
            with collection_paused(self.pause_collector):
                for i in range(self.warmup_steps):
                    self.steps = i + 1
                    self._advance(i - self.warmup_steps)
            self._end_warmup()

    def _end_warmup(self) -> None:
        """Start counting: outcomes, totals and logs cover the horizon from here on."""
        self.in_warmup = False
        self.steps = 0
        if self.held_institutions is not None:
            self.held_institutions.restore(self)
            if self.scenario.hold_institutions == "warmup":
                self.held_institutions = None
        if not self.scenario.record_warmup:
            self.timeseries_rows = []
            self.award_rows = []
        self.totals = Totals()
        for c in self.commissioners:
            c.tenders_n = 0
            c.sv_weight_sum = 0.0
            c.supplier_defined_n = 0
            c.codesign_n = 0
            c.initial_understanding = c.sv_understanding
        # The providers present now are the cohort that survival and reserve changes follow;
        # their ledgers restart from today's reserves (money conservation holds from here).
        T = self.pop
        n = T.n
        T.initial[:n] = T.active[:n]
        T.initial_reserves_gbp[:n] = T.reserves_gbp[:n]
        for name in LEDGER_COLUMNS:
            getattr(T, name)[:n] = 0.0
        self.initial_vso_count = self.pop.count(ProviderKind.sme_vso)
        self.pause_collector = self.pop.n >= PAUSE_COLLECTOR_PROVIDERS  # speed only
        self.providers_ever = int(np.count_nonzero(T.active[:n]))

    def _make_commissioners(self) -> list[Commissioner]:
        cfg = self.scenario.commissioners
        n = self.scenario.field.n_authorities
        overrides = list(self.scenario.authorities) + [AuthorityOverride()] * (n - len(self.scenario.authorities))
        comms = []
        for i, ov in enumerate(overrides):
            params = CommissionerParams.draw(cfg, ov, i, lambda name: self.streams.attribute("commissioner", name))
            sizes = np.exp(
                self.streams.attribute("commissioner", "line_sizes").normal(
                    0.0, cfg.line_value_sigma, params.service_lines
                )
            )
            areas = self.streams.attribute("commissioner", "line_areas").integers(
                self.scenario.field.service_areas, size=params.service_lines
            )
            comms.append(Commissioner(self, i, params, self.scenario.field.initial_trust, sizes / sizes.sum(), areas))
        return comms

    # ------------------------------------------------------------------ queries

    @property
    def live_contracts(self) -> list[Contract]:
        """The contracts being delivered now."""
        return self.contracts.live_records()

    def active_count(self, kind: ProviderKind) -> int:
        """Active providers of ``kind``."""
        return self.pop.count(kind)

    def initial_vsos_active(self) -> int:
        """Small VSOs present at the start that are still active."""
        T = self.pop
        n = T.n
        return int(np.count_nonzero((T.kind[:n] == VSO) & T.initial[:n] & T.active[:n]))

    def active_providers(self) -> list[Provider]:
        """The active providers' agents."""
        return [self.providers[int(r)] for r in np.flatnonzero(self.pop.active[: self.pop.n])]

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        """Run ``scenario.horizon_steps`` counted steps (the warm-up ran when the model was built)."""
        with collection_paused(self.pause_collector):
            for _ in range(self.scenario.horizon_steps):
                self.step()

    def release(self) -> None:
        """Drop references that keep this model alive (Mesa 3.3.1's ``Agent._ids`` registry)."""
        mesa.Agent._ids.pop(self, None)  # type: ignore[attr-defined]

    def step(self) -> None:
        """One quarter: the twelve parts of the step, in order."""
        self._advance(self.steps - 1)  # Mesa increments `steps` before calling step(); steps count from 0

    def _advance(self, step: int) -> None:
        """Run step number ``step`` (counted steps from 0, warm-up steps from -warmup_steps)."""
        self.step_acc = StepAccumulator()
        self.engaged_this_step = {}
        self.coproduced_this_step = set()
        self.current_step = step
        if self.held_institutions is not None:  # the warm-up settles the market, not the institutions
            self.held_institutions.restore(self)
        fx = apply_shocks(self, step)  # 1. events
        if step % self.steps_per_year == 0:  # 2 and 10. yearly practice, reviews, imitation
            self._year_start(step)
        tender_round(self, step)  # 3-7. lots, engagement, bids, awards, learning
        deliver(self, step)  # 8. delivery and payment
        vso_exits = money_and_lifecycle(self)  # 9. money, exit and entry
        update_field(self, fx, vso_exits)  # 11. trust, contention, field state
        self.totals.state_steps[self.field_state.value] += 1  # 12. record
        self.totals.contention_sum += self.contention
        self.timeseries_rows.append(step_record(self))
        self.steps_run += 1

    def _year_start(self, step: int) -> None:
        if self.steps_run > 0:
            imitate(self)
            review_monitored(self)
        crisis = self.field_state is FieldState.crisis
        for c in self.commissioners:
            c.set_practice(crisis, self.behaviour, self.government)
            c.year_sv = 0.0
            c.year_paid = 0.0
        new_year(self, self.steps_run)
