"""The provider lifecycle: entry, the yearly reset, running costs and income, and exit.

Objects:
    add_providers: draw new providers of one kind, place them and register their agents.
    new_year: yearly reset of bid counts and smoothing of turnover.
    money_and_lifecycle: grants, broker support, fundraising, overheads, forgetting, exits
        (below zero reserves, on a short runway, or by background closure), and entry (step part 9).
    running_money_reference: the fundraising, overheads, surplus spending and forgetting of
        a step, the readable rule that ``money_and_lifecycle`` runs compiled.
    runway_years: how many years each provider's reserves cover the running cost that its
        fundraising and live contracts do not.
    exit_hazard_per_step: each provider's chance of closing this step (runway and background);
        the rule is exit_hazard_per_step_reference, compiled.
    exit_providers: providers leave the field: contracts end, agents are removed.
    entry: new providers arrive at a rate that scales with the money in the field.

See docs/ODD.md, "Submodels: lifecycle".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from safsim.agents import Provider
from safsim.config import PROVIDER_KINDS, ProviderKind, draw
from safsim.delivery import end_contracts, pay, spend
from safsim.kernels import running_money, yearly_exit_hazard
from safsim.population import KIND_OF_CODE, LEDGER_COLUMNS, PROVIDER_DRAWN, PROVIDER_KIND_CONSTANTS, VSO

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = [
    "add_providers",
    "entry",
    "exit_hazard_per_step",
    "exit_hazard_per_step_reference",
    "exit_providers",
    "money_and_lifecycle",
    "new_year",
    "running_money_reference",
    "runway_years",
]


def _served(home: int, served: int, n_auth: int) -> list[int]:
    """The home authority and its nearest neighbours on the ring, ``served`` in all."""
    offsets = [0]
    k = 1
    while len(offsets) < served:
        offsets += [k, -k]
        k += 1
    return sorted({(home + o) % n_auth for o in offsets[:served]})


def add_providers(model: FieldModel, kind: ProviderKind, n: int, initial: bool) -> np.ndarray:
    """Draw ``n`` providers of ``kind`` from the scenario, place them and create their agents.

    Each covers a random set of service areas and serves a random home authority and its
    nearest neighbours on the ring (``authorities_served``).

    Returns:
        Their rows in the provider table.
    """
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    streams = model.streams
    b = model.behaviour
    cfg = model.scenario.providers.of(kind)
    # Every attribute of every kind has a stream of its own (paired arms; safsim.streams).
    drawn = {name: draw(getattr(cfg, name), streams.attribute(kind.value, name), n) for name in PROVIDER_DRAWN}
    cols = {name: v for name, v in drawn.items() if name not in ("service_areas", "authorities_served")}
    cols["bid_capacity"] = np.maximum(1.0, np.round(cols["bid_capacity"]))
    # Constant columns are given as scalars (ProviderTable.append broadcasts them to the new rows).
    for name in PROVIDER_KIND_CONSTANTS:
        cols[name] = float(getattr(cfg, name))
    cols["turnover_gbp"] = (
        b.initial_turnover_capacity_share * cols["capacity_gbp"] + model.steps_per_year * cols["fundraising_gbp"]
    )
    cols["belief"] = float(b.belief_prior)
    cols["belief_prior"] = float(b.belief_prior)
    cols["track_record"] = float(b.initial_track_record)
    cols["initial_reserves_gbp"] = cols["reserves_gbp"].copy()
    cols["claim_framing"] = cols["claim_inflation"].copy()
    for name in (
        "credibility",
        "contracted_annual_gbp",
        "bids_this_year",
        "year_income_gbp",
        *LEDGER_COLUMNS,
        "wins",
        "bids",
    ):
        cols[name] = 1.0 if name == "credibility" else 0.0
    n_areas = model.scenario.field.service_areas
    k = np.clip(np.round(drawn["service_areas"]), 1, n_areas).astype(np.int64)
    # k areas without replacement per provider: the first k of a random order of the areas.
    order = np.argsort(streams.attribute(kind.value, "areas_order").random((n, n_areas)), axis=1)
    covered = np.arange(n_areas)[None, :] < k[:, None]
    bits = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(bits, np.repeat(np.arange(n), n_areas)[covered.ravel()], 1 << order[covered])
    n_auth = len(model.commissioners)
    served = np.clip(np.round(drawn["authorities_served"]), 1, n_auth).astype(np.int64)
    homes = streams.attribute(kind.value, "home_authority").integers(n_auth, size=n)
    authorities = [_served(int(h), int(s), n_auth) for h, s in zip(homes, served, strict=True)]
    rows = model.pop.append(kind, cols, bits, authorities, initial)
    model.providers.extend(Provider(model, model.pop, int(r)) for r in rows)
    return rows


def new_year(model: FieldModel, step: int) -> None:
    """Bid capacity is per year; turnover follows the year's income, smoothed (``step``: steps run
    so far, warm-up included; no smoothing before the first year has run)."""
    T = model.pop
    n = T.n
    T.bids_this_year[:n] = 0.0
    if step > 0:
        s = model.behaviour.turnover_smoothing
        T.turnover_gbp[:n] = (1 - s) * T.turnover_gbp[:n] + s * T.year_income_gbp[:n]
    T.year_income_gbp[:n] = 0.0


def money_and_lifecycle(model: FieldModel) -> int:
    """Grants, broker support, fundraising, overheads; exits (below zero reserves, or by the
    runway and background hazards of ``exit_hazard_per_step``); entry.

    Returns:
        How many small VSOs exited this step.
    """
    T = model.pop
    b = model.behaviour
    pol = model.policies
    # Grants go to small VSOs in proportion to local knowledge (Th §1.1, §6.1).
    for c in model.commissioners:
        pot = c.budget_gbp * c.grant_share_now / model.steps_per_year
        if pot <= 0:
            continue
        rows = T.serves(c.index)
        vsos = rows[T.kind[rows] == VSO]
        if vsos.size == 0:
            continue
        lk = T.local_knowledge[vsos]
        total = lk.sum()
        s = lk / total if total > 0 else np.full(vsos.size, 1.0 / vsos.size)
        pay(model, vsos, pot * s, "grants")
        model.step_acc.grants_sme_vso += pot
    active = np.flatnonzero(T.active[: T.n])
    if model.infrastructure is not None:
        model.infrastructure.support(
            T, active[T.kind[active] == VSO], pol.infrastructure_awareness_gain, pol.infrastructure_articulation_gain
        )
    if pol.publish_sv_criteria:  # published criteria diffuse (Th §4.4, K210)
        T.criteria_awareness[active] += b.publish_awareness_gain * (1.0 - T.criteria_awareness[active])
    _running_money(model, active)
    broke = T.reserves_gbp[active] < 0.0
    hazard = exit_hazard_per_step(model, active)
    closing = model.streams.stream("exit").random(active.size) < hazard
    leaving = active[broke | closing]
    vso_exits = int((T.kind[leaving] == VSO).sum())
    if leaving.size:
        exit_providers(model, leaving)
    entry(model)
    return vso_exits


def running_money_reference(model: FieldModel, active: np.ndarray) -> None:
    """A step's fundraising, overheads, surplus spending and belief forgetting of the active
    providers ``active`` (each once): the readable rule that ``money_and_lifecycle`` runs
    compiled (``kernels.running_money``; tests/test_kernels.py checks they agree)."""
    T = model.pop
    b = model.behaviour
    fund = T.fundraising_gbp[active]
    T.reserves_gbp[active] += fund
    T.income_fundraising_gbp[active] += fund
    T.year_income_gbp[active] += fund
    spend(T, active, T.overhead_gbp[active], "overhead")
    spend(T, active, surplus_spending_per_step(model, active), "mission")
    # Beliefs drift back towards the prior when not refreshed by new outcomes.
    T.belief[active] += b.belief_forgetting * (T.belief_prior[active] - T.belief[active])


def _running_money(model: FieldModel, active: np.ndarray) -> None:
    """``running_money_reference`` compiled (``kernels.running_money``)."""
    T = model.pop
    b = model.behaviour
    running_money(
        active,
        T.fundraising_gbp,
        T.overhead_gbp,
        T.contracted_annual_gbp,
        T.unit_cost,
        T.belief_prior,
        T.reserves_gbp,
        T.income_fundraising_gbp,
        T.year_income_gbp,
        T.spent_overhead_gbp,
        T.spent_mission_gbp,
        T.belief,
        float(model.steps_per_year),
        float(b.reserves_target_years),
        b.surplus_spending_per_year / model.steps_per_year,
        float(b.belief_forgetting),
    )


def _contract_margin_per_step(model: FieldModel) -> np.ndarray:
    """Payment minus delivery cost per step of every provider's live contracts (by table row)."""
    book = model.contracts
    T = model.pop
    if book.live().size == 0:
        return np.zeros(T.n)
    mc = book.mem_contract[: book.m]
    live = book.active[mc]
    mc = mc[live]
    margin = book.mem_share[: book.m][live] * (book.payment_per_step[mc] - book.cost_per_step[mc])
    return np.bincount(book.mem_row[: book.m][live], weights=margin, minlength=T.n)[: T.n]


def runway_years(model: FieldModel, rows: np.ndarray) -> np.ndarray:
    """Years the reserves of ``rows`` cover the running cost not met by fundraising and contracts.

    The net burn per step is overhead - fundraising - (payment - delivery cost) of the live
    contracts; a provider with no net burn has an unlimited runway (``inf``); one with negative
    reserves has none (0).
    """
    T = model.pop
    burn = T.overhead_gbp[rows] - T.fundraising_gbp[rows] - _contract_margin_per_step(model)[rows]
    reserves = np.maximum(T.reserves_gbp[rows], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        years = np.where(burn > 0, reserves / (np.where(burn > 0, burn, 1.0) * model.steps_per_year), np.inf)
    return years


def exit_hazard_per_step(model: FieldModel, rows: np.ndarray) -> np.ndarray:
    """Chance that each provider in ``rows`` closes this step (its reserves still positive).

    The compiled twin (``kernels.yearly_exit_hazard``, then NumPy's power) of
    ``exit_hazard_per_step_reference``, which gives the rule (tests/test_kernels.py checks they
    agree).
    """
    T = model.pop
    b = model.behaviour
    spy = model.steps_per_year
    rates = np.array([float(model.scenario.providers.of(kind).exit_rate_per_year) for kind in PROVIDER_KINDS])
    use_runway = b.exit_runway_years > 0 and b.exit_runway_hazard_per_year > 0
    yearly = yearly_exit_hazard(
        rows,
        T.kind,
        rates,
        T.overhead_gbp,
        T.fundraising_gbp,
        T.reserves_gbp,
        _contract_margin_per_step(model) if use_runway else rates,
        float(spy),
        float(b.exit_runway_years),
        float(b.exit_runway_hazard_per_year),
        use_runway,
    )
    return 1.0 - (1.0 - yearly) ** (1.0 / spy)


def exit_hazard_per_step_reference(model: FieldModel, rows: np.ndarray) -> np.ndarray:
    """Chance that each provider in ``rows`` closes this step (its reserves still positive).

    Two hazards, combined as independent risks: a background closure rate of its kind
    (``providers.<kind>.exit_rate_per_year``: trustees step down, founders leave, mergers), and a
    runway hazard that rises linearly from 0, at ``behaviour.exit_runway_years`` of runway, to
    ``behaviour.exit_runway_hazard_per_year`` at none: an organisation that sees its reserves
    run out closes, or stops providing, before they are spent (Th §1.1, §6.1).  Yearly rates are
    turned into per-step chances, 1 - (1 - p)^(1/steps_per_year).
    """
    T = model.pop
    b = model.behaviour
    spy = model.steps_per_year
    # Each row's background rate, looked up by its kind code (codes are positions in PROVIDER_KINDS).
    rates = np.array([float(model.scenario.providers.of(kind).exit_rate_per_year) for kind in PROVIDER_KINDS])
    background = rates[T.kind[rows]]
    if b.exit_runway_years > 0 and b.exit_runway_hazard_per_year > 0:
        short = np.clip(1.0 - runway_years(model, rows) / b.exit_runway_years, 0.0, 1.0)
        runway = b.exit_runway_hazard_per_year * short
    else:
        runway = np.zeros(rows.size)
    yearly = 1.0 - (1.0 - background) * (1.0 - runway)
    return 1.0 - (1.0 - yearly) ** (1.0 / spy)


def running_cost_per_year(model: FieldModel, rows: np.ndarray) -> np.ndarray:
    """A year of running cost: overheads plus the delivery cost of the contracts held."""
    T = model.pop
    return model.steps_per_year * T.overhead_gbp[rows] + T.contracted_annual_gbp[rows] * T.unit_cost[rows]


def surplus_spending_per_step(model: FieldModel, rows: np.ndarray) -> np.ndarray:
    """What each provider spends this step out of reserves above its reserves policy.

    A provider keeps ``behaviour.reserves_target_years`` of running cost as reserves; of what it
    holds above that, it spends ``behaviour.surplus_spending_per_year`` a year (a share, spread
    over the quarters) on its mission (charities, social enterprises) or pays it out
    (corporates).  Charities are expected to hold a reserves policy and to spend income on
    their purposes rather than accumulate it (Charity Commission guidance CC19); without this,
    donations above overheads pile up for ever.
    """
    b = model.behaviour
    excess = model.pop.reserves_gbp[rows] - b.reserves_target_years * running_cost_per_year(model, rows)
    return np.where(excess > 0.0, excess * (b.surplus_spending_per_year / model.steps_per_year), 0.0)


def exit_providers(model: FieldModel, rows: np.ndarray) -> None:
    """Providers leave: their contracts end unfinished, their agents are removed from the
    model (their rows stay, for the run's outcomes)."""
    T = model.pop
    book = model.contracts
    model.totals.exits += int(rows.size)
    counts = np.bincount(T.kind[rows], minlength=len(KIND_OF_CODE))
    for code in np.flatnonzero(counts).tolist():  # the kinds that leave, in code order
        model.step_acc.exits_by_kind[KIND_OF_CODE[code].value] += int(counts[code])
    live = book.live()
    if live.size:
        mc = book.mem_contract[: book.m]
        leaving = np.zeros(T.n, dtype=bool)
        leaving[rows] = True
        held = mc[leaving[book.mem_row[: book.m]] & book.active[mc]]
        lost = np.flatnonzero(np.bincount(held, minlength=book.n))  # the contracts held, each once, in id order
        if lost.size:
            end_contracts(model, lost, completed=False)
    T.deactivate(rows)
    T.track_record[rows] = 0.0
    for r in rows:
        model.providers[int(r)].remove()


def entry(model: FieldModel) -> None:
    """New providers arrive at a rate that scales with the money in the field."""
    base = sum(c.base_budget_gbp for c in model.commissioners)
    now = sum(c.budget_gbp for c in model.commissioners)
    opportunity = now / base if base > 0 else 0.0
    n_auth = len(model.commissioners)
    for kind in PROVIDER_KINDS:
        rate = model.scenario.providers.of(kind).entry_rate_per_year * n_auth / model.steps_per_year
        n = int(model.streams.entry.poisson(rate * opportunity)) if rate > 0 else 0
        if n:
            add_providers(model, kind, n, initial=False)
            model.totals.entries += n
            model.step_acc.entries_by_kind[kind.value] += n
            model.providers_ever += n
