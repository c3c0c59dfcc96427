"""The provider lifecycle (safsim.lifecycle): entry, the yearly reset, money each step, and exit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from model_fixtures import bid_of, rows_of, tender_for, tiny

from safsim.config import PROVIDER_KINDS, ProviderKind
from safsim.delivery import open_contract
from safsim.lifecycle import (
    add_providers,
    entry,
    exit_hazard_per_step,
    money_and_lifecycle,
    new_year,
    running_cost_per_year,
    runway_years,
    surplus_spending_per_step,
)

VSO_KIND = ProviderKind.sme_vso
NO_ENTRY = {f"providers.{k.value}.entry_rate_per_year": 0.0 for k in PROVIDER_KINDS}


def test_a_provider_below_zero_reserves_exits_its_contracts_end_unfinished_and_its_agent_goes():
    """At money_and_lifecycle a provider with negative reserves exits: its contract ends without a track-record
    gain, its line is free again, its row is inactive and its agent leaves m.agents; others stay."""
    m = tiny(NO_ENTRY)
    T = m.pop
    T.reserves_gbp[: T.n] = 1e6
    gone, stays = (int(r) for r in rows_of(m, VSO_KIND)[:2])
    comm = m.commissioners[0]
    tender = tender_for(m)
    k = open_contract(m, comm, tender, bid_of(m, [gone]), np.array([gone]), np.ones(1), False)
    assert comm.line_free[0] == 0.0
    T.reserves_gbp[gone] = -1e7
    vso_exits = money_and_lifecycle(m)
    assert vso_exits == 1 and m.totals.exits == 1
    assert not k.active
    assert comm.line_free[0] == 1.0
    assert T.contracted_annual_gbp[gone] == 0.0 and T.track_record[gone] == 0.0
    assert not T.active[gone] and gone not in T.serves(0)
    assert m.providers[gone] not in m.agents
    assert T.active[stays] and m.providers[stays] in m.agents


def test_no_entrants_when_every_entry_rate_is_zero():
    """With entry_rate_per_year 0 for every kind, entry adds nobody however often it runs."""
    m = tiny(NO_ENTRY)
    n = m.pop.n
    for _ in range(50):
        entry(m)
    assert m.pop.n == n and len(m.providers) == n and m.totals.entries == 0


def test_entry_scales_with_the_budget():
    """Entrants arrive in proportion to the money in the field: half the budget brings about half as many,
    none when the budget is gone; they join the table, m.providers and m.agents as non-initial providers."""
    counts = {}
    for share in (1.0, 0.5, 0.0):
        total = 0
        for seed in (1, 2, 3):
            m = tiny(NO_ENTRY | {"providers.sme_vso.entry_rate_per_year": 40.0}, seed=seed)
            for c in m.commissioners:
                c.budget_gbp = share * c.base_budget_gbp
            n0 = m.pop.n
            for _ in range(10):
                entry(m)
            new = np.arange(n0, m.pop.n)
            assert m.totals.entries == new.size == len(m.providers) - n0
            assert np.all(m.pop.kind[new] == m.pop.kind[rows_of(m, VSO_KIND)[0]])
            assert not m.pop.initial[new].any() and m.pop.active[new].all()
            assert all(m.providers[int(r)] in m.agents for r in new)
            total += new.size
        counts[share] = total
    # expected 300, 150 and 0 (Poisson): far apart in standard errors
    assert counts[0.0] == 0
    assert 0.35 < counts[0.5] / counts[1.0] < 0.65


def test_new_year_resets_bids_and_smooths_turnover_towards_the_years_income():
    """new_year sets bids_this_year to 0 and moves turnover a turnover_smoothing share towards the year's income
    (not at step 0), then starts a new year's income."""
    m = tiny()
    T = m.pop
    n = T.n
    s = m.behaviour.turnover_smoothing
    T.bids_this_year[:n] = 2.0
    T.turnover_gbp[:n] = 100_000.0
    T.year_income_gbp[:n] = 500_000.0
    new_year(m, 0)
    assert np.all(T.bids_this_year[:n] == 0.0)
    assert np.all(T.turnover_gbp[:n] == 100_000.0)
    assert np.all(T.year_income_gbp[:n] == 0.0)
    T.year_income_gbp[:n] = 500_000.0
    new_year(m, 4)
    np.testing.assert_allclose(T.turnover_gbp[:n], (1 - s) * 100_000.0 + s * 500_000.0)
    assert np.all(T.year_income_gbp[:n] == 0.0)


def test_grants_go_to_small_vsos_in_proportion_to_local_knowledge():
    """Each step's grant pot (budget x grant_share / steps per year) is shared among local small VSOs in
    proportion to their local knowledge; no other kind gets a grant."""
    m = tiny(NO_ENTRY | {"commissioners.grant_share": 0.1})
    T = m.pop
    T.reserves_gbp[: T.n] = 1e6
    vsos = rows_of(m, VSO_KIND)
    others = np.setdiff1d(np.arange(T.n), vsos)
    T.local_knowledge[vsos] = np.arange(1, vsos.size + 1) / 10.0
    c = m.commissioners[0]
    pot = c.budget_gbp * 0.1 / m.steps_per_year
    money_and_lifecycle(m)
    grants = T.income_grants_gbp[vsos]
    assert np.isclose(grants.sum(), pot)
    np.testing.assert_allclose(grants, pot * T.local_knowledge[vsos] / T.local_knowledge[vsos].sum())
    assert np.all(T.income_grants_gbp[others] == 0.0)


def test_each_step_adds_fundraising_charges_overheads_and_lets_beliefs_forget():
    """money_and_lifecycle adds each provider's fundraising, takes its overhead, and moves its win belief a
    belief_forgetting share back to the prior."""
    m = tiny(NO_ENTRY | {"commissioners.grant_share": 0.0, "behaviour.surplus_spending_per_year": 0.0})
    T = m.pop
    n = T.n
    T.reserves_gbp[:n] = 1e6
    T.belief[:n] = 0.9
    f = m.behaviour.belief_forgetting
    money_and_lifecycle(m)
    np.testing.assert_allclose(T.reserves_gbp[:n], 1e6 + T.fundraising_gbp[:n] - T.overhead_gbp[:n])
    np.testing.assert_allclose(T.income_fundraising_gbp[:n], T.fundraising_gbp[:n])
    np.testing.assert_allclose(T.spent_overhead_gbp[:n], T.overhead_gbp[:n])
    np.testing.assert_allclose(T.belief[:n], 0.9 + f * (T.belief_prior[:n] - 0.9))


def test_add_providers_places_them_in_their_areas_and_neighbouring_authorities():
    """New providers cover service_areas distinct areas and serve authorities_served neighbouring authorities
    (their home and the next ones on the ring), and are listed as serving each of them."""
    m = tiny(
        {
            "field.n_authorities": 5,
            "field.service_areas": 6,
            "providers.corporate.service_areas": 3.0,
            "providers.corporate.authorities_served": 3.0,
        }
    )
    rows = add_providers(m, ProviderKind.corporate, 20, initial=False)
    T = m.pop
    for r in rows.tolist():
        assert bin(int(T.areas_mask[r])).count("1") == 3
        assert T.areas_mask[r] < 1 << 6
        served = T.authorities[r]
        assert len(served) == 3
        home = next(a for a in served if (a - 1) % 5 in served and (a + 1) % 5 in served)
        assert sorted(served) == sorted({(home - 1) % 5, home, (home + 1) % 5})
        assert all(r in T.serves(a) for a in served)
        assert all(r not in T.serves(a) for a in set(range(5)) - set(served))
    assert np.all(T.initial_reserves_gbp[rows] == T.reserves_gbp[rows])
    assert np.all(T.belief[rows] == m.behaviour.belief_prior)


def test_the_runway_hazard_rises_as_reserves_fall_and_is_zero_without_a_net_burn():
    """With background closure off, a provider burning money closes more likely the shorter its runway
    (none at or above exit_runway_years, exit_runway_hazard_per_year a year at none); one whose
    fundraising covers its overhead faces no runway hazard whatever its reserves."""
    m = tiny(NO_ENTRY | {f"providers.{k.value}.exit_rate_per_year": 0.0 for k in PROVIDER_KINDS})
    T = m.pop
    b = m.behaviour
    rows = rows_of(m, VSO_KIND)[:4]
    T.fundraising_gbp[rows] = 0.0
    T.overhead_gbp[rows] = 10_000.0
    year_burn = 10_000.0 * m.steps_per_year
    T.reserves_gbp[rows] = np.array([0.0, 0.5, 1.0, 2.0]) * b.exit_runway_years * year_burn
    h = exit_hazard_per_step(m, rows)
    assert h[0] > h[1] > h[2] == h[3] == 0.0
    assert np.isclose(1 - (1 - h[0]) ** m.steps_per_year, b.exit_runway_hazard_per_year)
    np.testing.assert_allclose(runway_years(m, rows), T.reserves_gbp[rows] / year_burn)
    T.fundraising_gbp[rows] = 20_000.0
    assert np.all(exit_hazard_per_step(m, rows) == 0.0)
    assert np.all(np.isinf(runway_years(m, rows)))


def test_a_live_contracts_margin_lengthens_the_runway():
    """A contract paying more than it costs counts against the net burn: the holder's runway is longer
    and its hazard lower than without the contract."""
    m = tiny(NO_ENTRY | {f"providers.{k.value}.exit_rate_per_year": 0.0 for k in PROVIDER_KINDS})
    T = m.pop
    row = int(rows_of(m, VSO_KIND)[0])
    T.fundraising_gbp[row] = 0.0
    T.overhead_gbp[row] = 10_000.0
    T.reserves_gbp[row] = 5_000.0
    before = exit_hazard_per_step(m, np.array([row]))[0]
    bid = bid_of(m, [row])
    bid = replace(bid, price_gbp=bid.cost_gbp * 1.2)
    open_contract(m, m.commissioners[0], tender_for(m), bid, np.array([row]), np.ones(1), False)
    assert runway_years(m, np.array([row]))[0] > 5_000.0 / (10_000.0 * m.steps_per_year)
    assert exit_hazard_per_step(m, np.array([row]))[0] < before


def test_background_closure_follows_each_kinds_rate():
    """With no runway hazard, a provider's yearly closure chance is its kind's exit_rate_per_year, and
    over many steps about that share of a large rich population closes each year."""
    kinds = {f"providers.{k.value}.exit_rate_per_year": 0.0 for k in PROVIDER_KINDS}
    m = tiny(
        NO_ENTRY
        | kinds
        | {
            "providers.sme_vso.exit_rate_per_year": 0.2,
            "providers.sme_vso.count": 400,
            "behaviour.exit_runway_hazard_per_year": 0.0,
            "commissioners.grant_share": 0.0,
        }
    )
    T = m.pop
    T.reserves_gbp[: T.n] = 1e9
    vsos = rows_of(m, VSO_KIND)
    others = np.setdiff1d(np.arange(T.n), vsos)
    h = exit_hazard_per_step(m, np.arange(T.n))
    assert np.allclose(1 - (1 - h[vsos]) ** m.steps_per_year, 0.2) and np.all(h[others] == 0.0)
    for _ in range(m.steps_per_year):
        money_and_lifecycle(m)
    gone = 1 - T.active[vsos].mean()
    assert 0.14 < gone < 0.26 and T.active[others].all()


def test_reserves_above_the_reserves_policy_are_spent_and_reserves_below_it_are_kept():
    """A provider holding more than reserves_target_years of running cost spends
    surplus_spending_per_year of the excess a year (a quarter of it per step), booked as
    spent_mission_gbp; one below its policy spends nothing; the ledger still balances."""
    m = tiny(NO_ENTRY | {"commissioners.grant_share": 0.0})
    T = m.pop
    n = T.n
    rows = np.arange(n)
    b = m.behaviour
    policy = b.reserves_target_years * running_cost_per_year(m, rows)
    T.reserves_gbp[:n] = policy
    T.reserves_gbp[0] = policy[0] + 40_000.0
    T.reserves_gbp[1] = policy[1] * 0.5
    out = surplus_spending_per_step(m, rows)
    assert out[0] == np.float64(40_000.0 * b.surplus_spending_per_year / 4)
    assert out[1] == 0.0 and np.all(out[2:] == 0.0)
    T.initial_reserves_gbp[:n] = T.reserves_gbp[:n]
    T.fundraising_gbp[:n] = 0.0  # so that no donation lifts provider 1 over its policy this step
    money_and_lifecycle(m)
    assert T.spent_mission_gbp[0] > 0 and T.spent_mission_gbp[1] == 0.0
    np.testing.assert_allclose(T.ledger_balance_gbp(rows), T.reserves_gbp[:n])


def test_a_longer_reserves_policy_keeps_more_reserves_over_a_run():
    """Direction: over a whole run, small VSOs hold more months of reserves when their reserves
    policy is longer, and more again when surpluses are not spent at all."""
    from safsim.runner import run_scenario
    from safsim.scenario import load_scenario

    def months(**kv: float) -> float:
        over = {"horizon_steps": 12, "warmup_steps": 8} | {f"behaviour.{k}": v for k, v in kv.items()}
        vals = [
            run_scenario(load_scenario("baseline", over), s).outcomes["median_reserves_months_sme_vso"] for s in (1, 2)
        ]
        return float(np.mean(vals))

    short, long_, never = (
        months(reserves_target_years=0.1),
        months(reserves_target_years=1.0),
        months(surplus_spending_per_year=0.0),
    )
    assert short < long_ < never


def test_grants_fall_faster_than_the_budget_with_a_higher_grant_elasticity():
    """Direction: under a 30% cut the grant share falls by the budget multiplier to the power
    grant_budget_elasticity (0: grants cut only with the budget), and what grants lose stays with
    contracts, so the contract budget falls less; with no cut the elasticity changes nothing."""

    def after_cut(e: float) -> tuple[float, float, float]:
        m = tiny(NO_ENTRY | {"commissioners.grant_share": 0.1, "commissioners.grant_budget_elasticity": e})
        c = m.commissioners[0]
        uncut = c.grant_share_now
        c.budget_multiplier = 0.7
        c.budget_gbp = c.base_budget_gbp * 0.7
        return uncut, c.grant_share_now, c.contract_budget_gbp()

    (u0, g0, k0), (u2, g2, k2) = after_cut(0.0), after_cut(2.0)
    assert u0 == u2 == 0.1
    assert g0 == 0.1 and g2 == pytest.approx(0.1 * 0.7**2)
    assert k2 > k0
