"""Delivery and money (safsim.delivery): contracts opened, delivered, paid, closed and reviewed."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from model_fixtures import bid_of, rows_of, tender_for, tiny

from safsim.config import ProviderKind
from safsim.delivery import (
    _review_holders,
    deliver,
    deliver_reference,
    end_contracts,
    end_contracts_reference,
    open_contract,
    pay,
    review_holders_reference,
    review_monitored,
    spend,
)
from safsim.population import PROVIDER_COLUMNS

VSO_KIND = ProviderKind.sme_vso


def contract_model(overrides: dict | None = None, seed: int = 1):
    """A tiny model with no contracts yet, and two small VSOs to hold them."""
    m = tiny(overrides, seed=seed)
    assert len(m.contracts) == 0
    return m, rows_of(m, VSO_KIND)[:2]


def open_one(m, rows, shares=None, monitored=False, portion=1.0, **bid_changes):
    """Open a one-year contract (4 steps) on line 0 of authority 0 for ``rows``."""
    rows = np.asarray(rows, dtype=np.int64)
    shares = np.full(rows.size, 1.0 / rows.size) if shares is None else np.asarray(shares, dtype=float)
    tender = tender_for(m, portions=((0, portion),))
    bid = bid_of(m, rows, shares, **bid_changes)
    return open_contract(m, m.commissioners[0], tender, bid, rows, shares, monitored)


def test_open_contract_takes_lines_off_the_market_and_fills_capacity():
    """Opening a contract lowers line_free by the lot's portion and adds share x volume to contracted_annual_gbp."""
    m, pair = contract_model()
    comm = m.commissioners[0]
    comm.line_failures[0] = 3
    before = m.pop.contracted_annual_gbp[pair].copy()
    k = open_one(m, pair, shares=[0.75, 0.25], portion=0.6)
    assert k.active and m.contracts.live().tolist() == [k.contract_id]
    assert np.isclose(comm.line_free[0], 0.4)
    assert np.all(comm.line_free[1:] == 1.0)
    assert comm.line_failures[0] == 0
    np.testing.assert_allclose(m.pop.contracted_annual_gbp[pair] - before, [75_000.0, 25_000.0])


def test_deliver_pays_holders_and_charges_their_costs_by_share():
    """Each step, every holder's reserves change by its share of payment_per_step - cost_per_step."""
    m, pair = contract_model()
    open_one(m, pair, shares=[0.6, 0.4], price_gbp=120_000.0, cost_gbp=100_000.0)
    T = m.pop
    before = T.reserves_gbp[pair].copy()
    deliver(m, 0)
    # one year = 4 steps: 30k paid and 25k spent per step
    np.testing.assert_allclose(T.reserves_gbp[pair] - before, [0.6 * 5_000.0, 0.4 * 5_000.0])
    np.testing.assert_allclose(T.income_contracts_gbp[pair], [0.6 * 30_000.0, 0.4 * 30_000.0])
    np.testing.assert_allclose(T.spent_delivery_gbp[pair], [0.6 * 25_000.0, 0.4 * 25_000.0])
    assert np.isclose(m.totals.contract_payments, 30_000.0)


def test_deliver_accumulates_social_value_and_closes_the_contract_at_its_end():
    """Delivery adds the contract's social value each step; at the end step the contract closes, the line is
    free again and the holders' capacity is released."""
    m, pair = contract_model()
    comm = m.commissioners[0]
    k = open_one(m, pair[:1], sv_true=10_000.0)  # price = cost: fully funded
    per_step = m.contracts.sv_per_step[k.contract_id]
    assert np.isclose(per_step, 10_000.0 / 4)
    for step in range(3):
        deliver(m, step)
        assert k.active
        assert np.isclose(k.delivered, per_step * (step + 1))
    assert comm.line_free[0] == 0.0
    deliver(m, 3)
    assert not k.active
    assert np.isclose(k.delivered, 10_000.0) and np.isclose(m.totals.sv_delivered, 10_000.0)
    assert comm.line_free[0] == 1.0
    assert m.pop.contracted_annual_gbp[pair[0]] == 0.0
    assert m.contracts.live().size == 0


def test_underfunding_and_unmonitored_shading_shed_social_value():
    """Social value per step falls with price/cost below 1 (underfunding) and by sv_shading when unmonitored."""
    m, pair = contract_model({"behaviour.underfunding_sv_elasticity": 1.0})
    full = open_one(m, pair[:1], monitored=True, sv_shading=0.2)
    under = open_one(m, pair[:1], monitored=True, sv_shading=0.2, price_gbp=80_000.0)
    shaded = open_one(m, pair[:1], monitored=False, sv_shading=0.2)
    rate = m.contracts.sv_per_step
    assert np.isclose(rate[under.contract_id], 0.8 * rate[full.contract_id])
    assert np.isclose(rate[shaded.contract_id], 0.8 * rate[full.contract_id])


def test_completed_contracts_raise_track_record_unless_a_check_failed():
    """end_contracts(completed=True) raises holders' track record, except after a failed monitoring check;
    a contract lost unfinished does not raise it."""
    m, pair = contract_model()
    b = m.behaviour
    T = m.pop
    T.track_record[pair] = 0.5
    good = open_one(m, pair[:1])
    failed = open_one(m, pair[1:])
    m.contracts.failed_check[failed.contract_id] = True
    end_contracts(m, np.array([good.contract_id, failed.contract_id]), completed=True)
    assert np.isclose(T.track_record[pair[0]], 0.5 + b.track_record_gain * 0.5)
    assert T.track_record[pair[1]] == 0.5
    lost = open_one(m, pair[:1])
    before = T.track_record[pair[0]]
    end_contracts(m, np.array([lost.contract_id]), completed=False)
    assert T.track_record[pair[0]] == before
    assert not lost.active and m.commissioners[0].line_free[0] == 1.0


def test_review_lowers_credibility_of_a_monitored_holder_that_falls_short():
    """A monitored holder whose visible delivered value falls short of its claim beyond tolerance loses
    credibility and track record; the same contract unmonitored leaves credibility alone."""
    for monitored in (True, False):
        m, pair = contract_model()
        b = m.behaviour
        T = m.pop
        r = pair[0]
        T.credibility[r] = 1.0
        T.track_record[r] = 0.5
        # claims of four times the true value (10k, half of it hard, as delivered)
        k = open_one(m, [r], monitored=monitored, sv_claim_hard=20_000.0, sv_claim_soft=20_000.0)
        deliver(m, 0)
        review_monitored(m)
        if monitored:
            assert m.contracts.failed_check[k.contract_id]
            assert np.isclose(T.credibility[r], 1.0 - b.credibility_penalty * 0.75)
            assert T.track_record[r] < 0.5
        else:
            assert not m.contracts.failed_check[k.contract_id]
            assert T.credibility[r] == 1.0 and T.track_record[r] == 0.5


def test_review_passes_a_holder_within_tolerance_and_teaches_the_commissioner():
    """A monitored holder that delivers what it claims keeps its credibility; the check raises the
    commissioner's understanding."""
    m, pair = contract_model()
    comm = m.commissioners[0]
    comm.sv_understanding = 0.4
    r = pair[0]
    m.pop.credibility[r] = 1.0
    k = open_one(m, [r], monitored=True, sv_claim_hard=5_000.0, sv_claim_soft=5_000.0)
    deliver(m, 0)
    review_monitored(m)
    assert not m.contracts.failed_check[k.contract_id]
    assert m.pop.credibility[r] == 1.0
    assert np.isclose(comm.sv_understanding, 0.4 + m.behaviour.monitoring_understanding_gain * 0.6)


def test_credibility_settles_at_the_share_of_the_promise_that_checks_see():
    """A holder that keeps over-claiming four-fold (checks see a quarter of the promise) converges on
    credibility 0.25 over repeated failed checks and stays there, instead of sinking to min_credibility;
    a later clean check raises it again (credibility is what the commissioners have learned to believe)."""
    m, pair = contract_model({"behaviour.min_credibility": 0.0, "behaviour.inflation_correction": 0.0})
    T = m.pop
    r = pair[0]
    T.credibility[r] = 1.0
    k = open_one(m, [r], monitored=True, sv_claim_hard=20_000.0, sv_claim_soft=20_000.0)
    deliver(m, 0)
    path = []
    for _ in range(12):
        review_monitored(m)
        path.append(float(T.credibility[r]))
    assert m.contracts.failed_check[k.contract_id]
    assert all(a >= b for a, b in zip(path, path[1:], strict=False)), path
    assert np.isclose(path[-1], 0.25, atol=1e-3), path
    assert path[-1] > 0.2  # not sinking towards the floor (0 here)
    # a clean check afterwards: a new contract delivering what it claims
    m2, pair2 = contract_model()
    m2.pop.credibility[pair2[0]] = 0.3
    open_one(m2, pair2[:1], monitored=True, sv_claim_hard=5_000.0, sv_claim_soft=5_000.0)
    deliver(m2, 0)
    review_monitored(m2)
    assert np.isclose(m2.pop.credibility[pair2[0]], 0.3 + m2.behaviour.credibility_penalty * 0.7)


def test_unmonitored_holders_claim_inflation_drifts_up():
    """Holding an unmonitored contract raises claim inflation by inflation_drift_unmonitored at the review."""
    m, pair = contract_model({"behaviour.inflation_drift_unmonitored": 0.1})
    T = m.pop
    T.claim_inflation[pair] = 1.2
    open_one(m, pair[:1], monitored=False)
    review_monitored(m)
    assert np.isclose(T.claim_inflation[pair[0]], 1.2 * 1.1)
    assert T.claim_inflation[pair[1]] == 1.2


def test_a_failed_check_cuts_claim_inflation_towards_the_providers_own_framing_not_below_it():
    """A detected shortfall cuts claim inflation by inflation_correction x shortfall, but never below the
    provider's drawn framing (claim_framing): a holder whose inflation drifted to 2.5 over a framing of 2.0
    falls to 2.0, not to the 1.25 the cut alone would give; one with framing 1.0 falls to the cut."""
    for framing, expected_floor in ((2.0, 2.0), (1.0, None)):
        m, pair = contract_model({"behaviour.inflation_correction": 1.0})
        T = m.pop
        r = pair[0]
        T.claim_framing[r] = framing
        T.claim_inflation[r] = 2.5
        k = open_one(m, [r], monitored=True, sv_claim_hard=20_000.0, sv_claim_soft=20_000.0)
        deliver(m, 0)
        review_monitored(m)
        assert m.contracts.failed_check[k.contract_id]
        cut = 2.5 * (1.0 - 0.75)  # shortfall 0.75, correction 1.0
        assert np.isclose(T.claim_inflation[r], expected_floor if expected_floor else max(1.0, cut))


def test_csr_framing_survives_the_warmup():
    """After a 36-quarter warm-up every provider's claim inflation is still at least its drawn framing, and
    corporates drawn with CSR framing (claim_inflation U(1.6, 2.4)) inflate their claims more than
    corporates drawn without it (1.0): drift and checks do not wash the lever out (F5d)."""
    from safsim.population import CORPORATE

    means = {}
    for label, ci in (("framed", None), ("plain", 1.0)):
        vals = []
        for seed in range(3):
            ov: dict[str, object] = {"warmup_steps": 36, "horizon_steps": 4}
            if ci is not None:
                ov["providers.corporate.claim_inflation"] = ci
            m = tiny(ov, seed=seed)
            T = m.pop
            live = T.active[: T.n]
            assert np.all(T.claim_inflation[: T.n][live] >= T.claim_framing[: T.n][live] - 1e-12)
            vals += list(T.claim_inflation[: T.n][live & (T.kind[: T.n] == CORPORATE)])
        means[label] = float(np.mean(vals))
    assert means["framed"] - means["plain"] > 0.4


def test_no_monitoring_leaves_every_credibility_at_one_after_a_run():
    """With monitoring_rate 0 no contract is checked, so no provider's credibility falls during a run."""
    for seed in (1, 2):
        m = tiny({"commissioners.monitoring_rate": 0.0, "horizon_steps": 12}, seed=seed)
        m.run()
        assert m.totals.awards > 0 and m.totals.monitored_contracts == 0
        assert np.all(m.pop.credibility[: m.pop.n] == 1.0)


def test_pay_and_spend_book_money_by_purpose_and_conserve_it():
    """pay adds to reserves, year income and the purpose's income (rows may repeat) and to both money totals;
    spend takes reserves out and books the purpose's spending."""
    m, pair = contract_model()
    T = m.pop
    r = int(pair[0])
    before = T.reserves_gbp[r]
    pay(m, np.array([r, r]), np.array([10.0, 20.0]), "grants")
    assert T.reserves_gbp[r] == before + 30.0
    assert T.income_grants_gbp[r] == 30.0 and T.year_income_gbp[r] == 30.0
    assert m.totals.commissioner_paid == 30.0 and m.totals.provider_received == 30.0
    spend(T, np.array([r]), np.array([12.0]), "overhead")
    assert T.reserves_gbp[r] == before + 18.0 and T.spent_overhead_gbp[r] == 12.0


def test_money_is_conserved_over_a_run():
    """Over a run, what commissioners paid equals what providers received equals the sum of their
    contract, grant and reimbursement income."""
    m = tiny({"horizon_steps": 12, "policies.reimburse_engagement": True})
    m.run()
    T = m.pop
    n = T.n
    income = T.income_contracts_gbp[:n].sum() + T.income_grants_gbp[:n].sum() + T.income_reimbursed_gbp[:n].sum()
    assert T.income_contracts_gbp[:n].sum() > 0 and T.income_grants_gbp[:n].sum() > 0
    assert np.isclose(m.totals.commissioner_paid, m.totals.provider_received)
    assert np.isclose(m.totals.commissioner_paid, income)


def _state(m):
    """Everything delivery touches: the contract book, the provider table, the counters."""
    book, T = m.contracts, m.pop
    arrays = {name: getattr(book, name)[: book.n].copy() for name in (*_BOOK_FLOATS, "active", "failed_check")}
    arrays |= {name: getattr(T, name)[: T.n].copy() for name in PROVIDER_COLUMNS}
    counters = (
        _fields(m.totals),
        _fields(m.step_acc),
        [(c.year_sv, c.year_paid, c.line_free.tolist()) for c in m.commissioners],
    )
    return arrays, counters


def _fields(record) -> dict:
    """A counters dataclass as a dict (its defaultdicts as plain dicts, in insertion order)."""
    out = {}
    for f in dataclasses.fields(record):
        v = getattr(record, f.name)
        out[f.name] = list(v.items()) if isinstance(v, dict) else v
    return out


_BOOK_FLOATS = (
    "sv_per_step",
    "delivered",
    "delivered_hard",
    "claimed_to_date",
    "claimed_hard_to_date",
    "payment_per_step",
    "cost_per_step",
)


def _random_contracts(m, g: np.random.Generator, n_contracts: int) -> None:
    """Open ``n_contracts`` random contracts: single holders and consortia, some providers
    holding several, monitored or not, some under cost, of different lengths."""
    pool = np.flatnonzero(m.pop.active[: m.pop.n])
    for _ in range(n_contracts):
        k = int(g.integers(1, 4))
        rows = g.choice(pool, size=k, replace=False).astype(np.int64)
        shares = g.dirichlet(np.ones(k))
        tender = tender_for(
            m,
            commissioner=int(g.integers(0, 3)),
            portions=((int(g.integers(0, 3)), float(g.uniform(0.1, 0.5))),),
            duration_steps=int(g.integers(1, 6)),
            volume_gbp=float(g.uniform(1e4, 3e5)),
        )
        bid = bid_of(
            m,
            rows,
            shares,
            price_gbp=float(g.uniform(5e4, 2e5)),
            cost_gbp=float(g.uniform(5e4, 2e5)),
            sv_true=float(g.uniform(0, 3e4)),
            sv_claim_hard=float(g.uniform(0, 2e4)),
            sv_claim_soft=float(g.uniform(0, 2e4)),
            hard_delivered=float(g.uniform(0, 1)),
        )
        open_contract(m, m.commissioners[tender.commissioner], tender, bid, rows, shares, bool(g.random() < 0.5))


def _assert_same(a, b) -> None:
    (a_arrays, a_counters), (b_arrays, b_counters) = a, b
    assert a_arrays.keys() == b_arrays.keys()
    for name in a_arrays:
        np.testing.assert_array_equal(a_arrays[name], b_arrays[name], err_msg=name, strict=True)
    assert a_counters == b_counters


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 14), st.integers(1, 6))
def test_compiled_deliver_equals_the_reference(seed, n_contracts, steps):
    """``deliver`` (compiled kernels) leaves the book, the table and every counter bit for bit as
    ``deliver_reference`` does, over several steps of random contracts (contracts end at
    different steps)."""
    out = []
    for fn in (deliver, deliver_reference):
        m = tiny({"field.n_authorities": 3}, seed=1)
        _random_contracts(m, np.random.default_rng(seed), n_contracts)
        for step in range(steps):
            fn(m, step)
        out.append(_state(m))
    _assert_same(*out)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 14), st.booleans())
def test_compiled_end_contracts_equals_the_reference(seed, n_contracts, completed):
    """``end_contracts`` (compiled) frees lines and capacity and raises track records bit for bit as
    ``end_contracts_reference`` does, for a random set of contracts (some after a failed check,
    holders shared between contracts, capacity running below zero)."""
    out = []
    for fn in (end_contracts, end_contracts_reference):
        m = tiny({"field.n_authorities": 3}, seed=1)
        g = np.random.default_rng(seed)
        _random_contracts(m, g, n_contracts)
        book, T = m.contracts, m.pop
        book.failed_check[: book.n] = g.random(book.n) < 0.3
        T.contracted_annual_gbp[: T.n] *= g.uniform(0.0, 1.2, T.n)
        T.track_record[: T.n] = g.uniform(0, 1, T.n)
        ids = np.flatnonzero(g.random(book.n) < 0.6)
        fn(m, ids, completed)
        out.append(_state(m))
    _assert_same(*out)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 14))
def test_compiled_review_of_holders_equals_the_reference(seed, n_contracts):
    """What review_monitored does to the holders of checked contracts (compiled,
    ``delivery._review_holders``) is bit for bit what ``review_holders_reference`` does: random
    shortfalls, passed and failed checks, consortia, holders of several checked contracts,
    credibility and claim inflation on both sides of their floors."""
    out = []
    for fn in (_review_holders, review_holders_reference):
        m = tiny({"field.n_authorities": 3}, seed=1)
        g = np.random.default_rng(seed)
        _random_contracts(m, g, n_contracts)
        T, book = m.pop, m.contracts
        T.credibility[: T.n] = g.uniform(0, 1, T.n)
        T.track_record[: T.n] = g.uniform(0, 1, T.n)
        T.claim_inflation[: T.n] = g.uniform(0.8, 1.6, T.n)
        T.claim_framing[: T.n] = g.uniform(0.8, 1.6, T.n)
        checked = np.flatnonzero(g.random(book.n) < 0.7)
        shortfall = g.choice([0.0, 0.05, 0.5, 1.0], checked.size) * g.uniform(0, 1, checked.size) ** g.integers(0, 2)
        failed = shortfall > 0.1
        fn(m, checked, shortfall, failed)
        out.append(_state(m))
    _assert_same(*out)
