"""Compiled kernels (safsim.kernels) return exactly what the readable NumPy rules return."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from model_fixtures import append_rows, tender_for, tiny

from safsim.bidding import (
    _LOGIT_CLIP,
    BidBook,
    RoundBids,
    _p_win,
    learn,
    learn_reference,
    pay_bid_costs,
    pay_bid_costs_reference,
)
from safsim.config import BehaviourConfig, Engagement, ProviderKind, SvDefinition
from safsim.engagement import engage, engage_reference
from safsim.kernels import (
    invite,
    invite_take_part,
    pay_and_score,
    pay_bids,
    pay_rows,
    score_pick,
    set_win_chance,
    spend_rows,
    take_part,
    warm_up,
    win_half_logit,
    win_odds,
)
from safsim.lifecycle import (
    _running_money,
    exit_hazard_per_step,
    exit_hazard_per_step_reference,
    running_money_reference,
)
from safsim.population import CORPORATE, PROVIDER_COLUMNS, ProviderTable
from safsim.tendering import (
    Tender,
    _argmax_tiebreak,
    effective_understanding,
    perceived_social_value,
    score_and_pick,
    score_bids,
    soft_legibility,
)

seeds = st.integers(0, 2**32 - 1)


def scramble(m, g: np.random.Generator, rows: np.ndarray) -> None:
    """Give ``rows`` random states on both sides of every rule's thresholds (most eligible)."""
    T = m.pop
    k = rows.size
    T.areas_mask[rows] = np.where(g.random(k) < 0.8, 7, g.integers(0, 8, k))
    T.bids_this_year[rows] = np.where(g.random(k) < 0.8, 0, g.integers(0, 4, k))
    T.bid_capacity[rows] = g.integers(0, 4, k)
    T.min_sv_weight_to_bid[rows] = g.choice([0.0, 0.0, 0.0, 0.05, 0.2], k)
    T.capacity_gbp[rows] = g.uniform(0, 1e6, k)
    T.contracted_annual_gbp[rows] = g.uniform(0, 2e5, k)
    T.turnover_gbp[rows] = g.uniform(0, 1e6, k)
    T.unit_cost[rows] = g.uniform(0.6, 1.4, k)
    T.markup[rows] = g.uniform(-0.2, 0.4, k)
    T.sv_intrinsic[rows] = g.uniform(0, 0.3, k)
    T.belief[rows] = g.choice([0.0, 1.0, 0.5, 0.02], k) * g.uniform(0, 1, k) ** g.integers(0, 2, k)
    T.reserves_gbp[rows] = g.uniform(-1e4, 1e5, k)
    T.min_win_probability[rows] = g.uniform(0, 0.6, k)
    T.mission_weight[rows] = g.uniform(0, 1.5, k)
    T.tender_prep_weeks[rows] = g.uniform(1, 8, k)


def random_tenders(m, g: np.random.Generator, n: int) -> list[Tender]:
    """``n`` tenders with random sizes, ceilings, areas and SV weights."""
    return [
        tender_for(
            m,
            volume_gbp=float(g.uniform(1e4, 2e5)),
            ceiling_gbp=float(g.uniform(1e4, 2.5e5)),
            eligibility_turnover_gbp=float(g.uniform(0, 1e5)),
            sv_weight=float(g.choice([0.0, 0.05, 0.1, 0.3])),
            areas_mask=int(g.integers(1, 8)),
            years=float(g.choice([1.0, 2.5])),
        )
        for _ in range(n)
    ]


def assert_screen_matches_reference(screened: RoundBids, lo: int, hi: int) -> None:
    want, blocked, price, cost, sv_true = screened.screen_reference(np.arange(lo, hi))
    np.testing.assert_array_equal(screened.want[lo:hi], want)
    np.testing.assert_array_equal(screened.blocked[lo:hi], blocked)
    np.testing.assert_array_equal(screened.price[lo:hi], price)
    np.testing.assert_array_equal(screened.cost[lo:hi], cost)
    np.testing.assert_array_equal(screened.sv_true[lo:hi], sv_true)


def test_warm_up_compiles_every_kernel():
    """warm_up runs every kernel once without error (and leaves them compiled)."""
    warm_up()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 6), st.booleans())
def test_compiled_screen_equals_the_rule_functions(seed, n_tenders, collaborative):
    """The compiled screen of a round (kernels.screen_pairs/decide_pairs) equals the NumPy rules
    (_eligibility, _terms, _p_win, _wants_to_bid) bit for bit, at the start of the round and
    after providers' states change between tenders."""
    g = np.random.default_rng(seed)
    m = tiny(seed=seed % 1000)
    rows = m.pop.serves(0)
    scramble(m, g, rows)
    tenders = random_tenders(m, g, n_tenders)
    screened = RoundBids(m, tenders, [collaborative] * n_tenders)
    assert_screen_matches_reference(screened, 0, screened.rows.size)
    for i in range(n_tenders):
        moved = rows[g.random(rows.size) < 0.5]
        belief = m.pop.belief[moved]
        scramble(m, g, moved)
        if g.random() < 0.5:  # sometimes the belief stays: the kept chance of winning is reused
            m.pop.belief[moved] = belief
        m.pop.mark_changed(moved)
        lo, hi = int(screened.offsets[i]), int(screened.offsets[i + 1])
        screened._screen(lo, hi, True)
        assert_screen_matches_reference(screened, lo, hi)


def bare_tender() -> Tender:
    """A tender to score bids on (only its weights and SV definition matter here)."""
    return Tender(
        tender_id=1,
        commissioner=0,
        step=0,
        volume_gbp=1e5,
        ceiling_gbp=1.2e5,
        duration_steps=4,
        portions=((0, 1.0),),
        price_weight=0.6,
        quality_weight=0.35,
        sv_weight=0.05,
        engagement=Engagement.none,
        sv_definition=SvDefinition.supplier_open,
        eligibility_turnover_gbp=0.0,
        years=1.0,
    )


def assert_books_equal(a: BidBook, b: BidBook) -> None:
    for name in BidBook.__slots__:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(seeds, st.sampled_from(list(SvDefinition)))
def test_compiled_bid_book_equals_the_claim_and_quality_rules(seed, definition):
    """RoundBids.book (kernels.gather_bids) equals the NumPy rules (_articulation, _claims, the
    clipped noisy quality) bit for bit, for every SV definition mode and any set of bidders."""
    g = np.random.default_rng(seed)
    m = tiny(seed=seed % 1000)
    rows = m.pop.serves(0)
    scramble(m, g, rows)
    T = m.pop
    T.quality[rows] = g.uniform(-0.2, 1.2, rows.size)
    T.criteria_awareness[rows] = g.uniform(0, 1, rows.size)
    T.hard_sv_bias[rows] = g.uniform(0, 1, rows.size)
    tenders = [replace(t, sv_definition=definition) for t in random_tenders(m, g, 2)]
    screened = RoundBids(m, tenders)
    for i, tender in enumerate(tenders):
        want = g.random(rows.size) < 0.6
        assert_books_equal(screened.book(i, tender, want), screened.book_reference(i, tender, want))


def reference_pick(tender, cols, understanding, risk_aversion, b, rng, diag):
    """score_and_pick as it was written before it was compiled: the NumPy rules and tie-breaks."""
    u = effective_understanding(understanding, tender.sv_definition, b)
    perceived = perceived_social_value(cols[2], cols[3], cols[4], cols[5], u, soft_legibility(tender.sv_definition, b))
    tw = b.track_record_weight * risk_aversion
    weights = (tender.price_weight, tender.quality_weight, tender.sv_weight)
    sv_range = u if b.sv_score_range_by_understanding else 1.0
    full = b.sv_full_marks_rate * tender.volume_gbp * tender.years
    scores, ps, qs, ss = score_bids(cols[0], cols[1], perceived, cols[6], weights, tw, b.score_levels, sv_range, full)
    winner = _argmax_tiebreak(scores, rng)
    counterfactual = winner
    if tender.sv_weight > 0.0:
        pq = tender.price_weight + tender.quality_weight
        cf_w = (tender.price_weight / pq, tender.quality_weight / pq) if pq > 0 else (1.0, 0.0)
        cf = cf_w[0] * ps + cf_w[1] * qs + tw * cols[6]
        if winner not in (cf >= cf.max() - 1e-12).nonzero()[0]:
            counterfactual = _argmax_tiebreak(cf, diag)
    return winner, counterfactual, scores, ps, qs, ss


bid_columns = st.integers(1, 8).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([50_000.0, 80_000.0, 100_000.0, 123_456.7]), min_size=n, max_size=n),
        st.lists(st.sampled_from([0.0, 0.4, 0.55, 0.9, 1.0]), min_size=n, max_size=n),
        *(st.lists(st.floats(0.0, 1e5), min_size=n, max_size=n) for _ in range(3)),
        st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n),
        st.lists(st.sampled_from([0.0, 0.5, 0.8]), min_size=n, max_size=n),
    )
)


@settings(max_examples=300, deadline=None)
@given(
    bid_columns,
    st.sampled_from([(0.6, 0.35, 0.05), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.4, 0.3, 0.3), (0.5, 0.5, 0.0)]),
    st.sampled_from(list(SvDefinition)),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.sampled_from([0, 4, 10]),
    st.booleans(),
    st.sampled_from([0.0, 0.1, 0.3, 2.0]),
    seeds,
)
def test_compiled_scoring_equals_score_bids_and_the_tie_rule(
    cols, weights, definition, understanding, risk_aversion, levels, by_understanding, full_rate, seed
):
    """score_and_pick (kernels.score_pick) gives the same scores, winner, counterfactual winner and
    tie-break draws as the NumPy rules (perceived_social_value, score_bids, _argmax_tiebreak),
    ties included, with SV marked relative to the best answer (rate 0) or against a rubric."""
    arrays = [np.asarray(c, dtype=float) for c in cols]
    b = BehaviourConfig(
        score_levels=levels, sv_score_range_by_understanding=by_understanding, sv_full_marks_rate=full_rate
    )
    tender = replace(
        bare_tender(),
        price_weight=weights[0],
        quality_weight=weights[1],
        sv_weight=weights[2],
        sv_definition=definition,
    )
    rngs = [np.random.default_rng(seed) for _ in range(4)]
    got = score_and_pick(tender, *arrays, understanding, risk_aversion, b, rngs[0], rngs[1])
    want = reference_pick(tender, arrays, understanding, risk_aversion, b, rngs[2], rngs[3])
    assert (got.winner, got.counterfactual_winner) == want[:2]
    for x, y in zip((got.scores, got.price_scores, got.quality_scores, got.sv_scores), want[2:], strict=True):
        np.testing.assert_array_equal(x, y)
    assert rngs[0].random() == rngs[2].random() and rngs[1].random() == rngs[3].random()


def test_kernels_compile_without_a_writable_cache_and_warn_nothing():
    """Where Numba finds no writable cache directory (a read-only install), the kernels are
    compiled in the process instead, a run completes, and no warning is raised."""
    code = (
        "import safsim.kernels as k\n"
        "assert type(k.screen_pairs._cache).__name__ == 'NullCache'\n"
        "from safsim import load_scenario, run_scenario\n"
        "run_scenario(load_scenario('baseline', ['horizon_steps=2']), 1)\n"
    )
    # Only the locator for zipped packages, which finds nothing here: as if no place were writable.
    env = os.environ | {"NUMBA_CACHE_LOCATOR_CLASSES": "ZipCacheLocator"}
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


STATE = ("reserves_gbp", "spent_bids_gbp", "bids_this_year", "bids", "belief", "markup", "wins", "criteria_awareness")
TOTALS = ("participant_bids", "awareness_bidders_sum", "vso_bids", "awareness_bidders_n", "bids", "vso_wins")


def random_book(m, g: np.random.Generator) -> BidBook:
    """Bids by random providers: single bids, then at most one consortium of 2-3 members."""
    rows = g.permutation(m.pop.serves(0))
    n_single = int(g.integers(1, 4))
    n_members = int(g.integers(0, 4)) if rows.size > n_single + 1 else 0
    n_members = 0 if n_members == 1 else n_members
    n_bids = n_single + (n_members > 0)
    members = rows[: n_single + n_members]
    which = np.concatenate((np.arange(n_single), np.full(n_members, n_single))).astype(np.int64)
    raw = g.uniform(0.1, 1.0, n_members)
    shares = np.concatenate((np.ones(n_single), raw / raw.sum()))
    f = g.uniform(0, 1, n_bids)
    prices = g.choice([9e4, 1e5, 1.1e5], n_bids)
    return BidBook(members, which, shares, np.zeros(n_bids, np.int64), prices, f, f, f, f, f, f, f, f, f)


@settings(max_examples=100, deadline=None)
@given(seeds, st.booleans())
def test_compiled_bid_costs_and_learning_equal_the_python_rules(seed, debrief):
    """pay_bid_costs and learn (kernels.pay_bids, kernels.learn_bids) change the table and the
    run totals exactly as pay_bid_costs_reference and learn_reference do, consortia included."""
    g = np.random.default_rng(seed)
    m = tiny({"policies.feedback_to_participants": debrief}, seed=seed % 1000)
    T = m.pop
    rows = T.serves(0)
    scramble(m, g, rows)
    T.codesign_participant[rows] = g.random(rows.size) < 0.5
    T.criteria_awareness[rows] = g.uniform(0, 1, rows.size)
    m.totals.awareness_bidders_sum = float(g.uniform(0, 3))
    tender = random_tenders(m, g, 1)[0]
    book = random_book(m, g)
    winner = int(g.integers(len(book)))
    before = {n: getattr(T, n).copy() for n in STATE}, {n: getattr(m.totals, n) for n in TOTALS}
    results = []
    for pay, learn_ in ((pay_bid_costs_reference, learn_reference), (pay_bid_costs, learn)):
        for n, col in before[0].items():
            getattr(T, n)[:] = col
        for n, v in before[1].items():
            setattr(m.totals, n, v)
        pay(m, tender, book)
        learn_(m, book, winner)
        results.append(({n: getattr(T, n).copy() for n in STATE}, {n: getattr(m.totals, n) for n in TOTALS}))
    (ref_cols, ref_tot), (got_cols, got_tot) = results
    for n in STATE:
        np.testing.assert_array_equal(got_cols[n], ref_cols[n], err_msg=n)
    assert got_tot == ref_tot


def engagement_model(seed: int, g: np.random.Generator, overrides: dict):
    """A tiny model with a dozen local VSOs whose knowledge, reserves and beliefs are random
    (some knowledge so large that the invitation noise is lost: tied invitations)."""
    m = tiny({"providers.sme_vso.count": 12} | overrides, seed=seed)
    T = m.pop
    rows = T.serves(0)
    k = rows.size
    T.local_knowledge[rows] = np.where(g.random(k) < 0.2, 1e12, g.uniform(0, 1, k))
    T.reserves_gbp[rows] = g.uniform(-1e3, 2e4, k)
    T.belief[rows] = g.uniform(0, 1, k)
    T.criteria_awareness[rows] = g.uniform(0, 1, k)
    m.commissioners[0].trust = float(g.uniform(0, 1))
    m.commissioners[0].social_skill = float(g.uniform(0, 1))
    return m


@settings(max_examples=100, deadline=None)
@given(
    seeds,
    st.sampled_from([Engagement.consultation, Engagement.co_design, Engagement.co_production]),
    st.booleans(),
    st.booleans(),
    st.integers(0, 15),
)
def test_compiled_engagement_equals_the_reference(seed, level, reimburse, exclude, invitees):
    """engage (ProviderTable.serves_small, kernels.invite, take_part, codesign_part) changes the table, the run
    totals and the stream exactly as engage_reference does and returns the same tender, tied
    invitations (NumPy's sort order) included."""
    overrides = {
        "policies.reimburse_engagement": reimburse,
        "policies.exclude_codesign_participants": exclude,
        "behaviour.codesign_invitees": invitees,
    }
    results = []
    for run in (engage_reference, engage):
        g = np.random.default_rng(seed)
        m = engagement_model(seed % 1000, g, overrides)
        m.pop.changed[:] = False
        tender = tender_for(m, engagement=level, ceiling_gbp=float(g.uniform(1e4, 2e5)))
        out = run(m, tender)
        T = m.pop
        cols = {n: getattr(T, n)[: T.n].copy() for n in (*PROVIDER_COLUMNS, "changed", "codesign_participant")}
        results.append(
            (
                cols,
                {f.name: getattr(m.totals, f.name) for f in dataclasses.fields(m.totals)},
                m.streams.tendering.bit_generator.state,
                replace(out, tender_id=0),
                dict(m.engaged_this_step),
                set(m.coproduced_this_step),
                m.codesign_happened,
            )
        )
    (ref_cols, *ref), (got_cols, *got) = results
    for n in ref_cols:
        np.testing.assert_array_equal(got_cols[n], ref_cols[n], err_msg=n)
    assert got == ref


@settings(max_examples=100, deadline=None)
@given(seeds, st.integers(1, 40))
def test_compiled_chance_of_winning_equals_p_win(seed, n):
    """win_odds, win_half_logit and set_win_chance around NumPy's log and tanh give exactly
    bidding._p_win (clipped beliefs, framing for challengers only), pair by pair."""
    g = np.random.default_rng(seed)
    m = 3 * n
    belief = g.choice([0.0, 1.0, 1e-7, 0.5], m) * g.uniform(0, 1, m) ** g.integers(0, 2, m)
    sensitivity = g.uniform(-2, 4, m)
    kind = g.integers(0, 4, m)
    rows = g.permutation(m)
    pairs = 2 * n
    sv_weight = g.choice([0.0, 0.05, 0.1, 0.3], pairs)
    framing = g.choice([0.0, 0.4, -0.3], pairs)
    fresh = np.sort(g.choice(pairs, n, replace=False)).astype(np.int64)
    p_win = np.zeros(pairs)
    ref = 0.05
    odds = win_odds(fresh, n, rows, belief, _LOGIT_CLIP, 1.0 - _LOGIT_CLIP)
    half = win_half_logit(fresh, n, np.log(odds), rows, sensitivity, sv_weight, framing, kind, CORPORATE, ref)
    set_win_chance(fresh, n, np.tanh(half), p_win)
    r = rows[fresh]
    b = BehaviourConfig(sv_weight_reference=ref)
    expected = _p_win(belief[r], sensitivity[r], sv_weight[fresh], framing[fresh] * (kind[r] != CORPORATE), b)
    np.testing.assert_array_equal(p_win[fresh], expected)


@settings(max_examples=200, deadline=None)
@given(seeds, st.integers(0, 30), st.integers(1, 8))
def test_compiled_money_columns_equal_np_add_at(seed, k, n):
    """pay_rows and spend_rows add, row by row in order, exactly what np.add.at adds (rows
    repeat; amounts of every magnitude, so that the order of additions shows)."""
    g = np.random.default_rng(seed)
    rows = g.integers(0, n, k)
    amounts = g.uniform(-1, 1, k) * 10.0 ** g.integers(-3, 9, k)
    start = [g.uniform(-1e6, 1e6, n) for _ in range(3)]
    got = [a.copy() for a in start]
    pay_rows(rows, amounts, *got)
    want = [a.copy() for a in start]
    for a in want:
        np.add.at(a, rows, amounts)
    for x, y in zip(got, want, strict=True):
        np.testing.assert_array_equal(x, y, strict=True)
    got = [a.copy() for a in start[:2]]
    spend_rows(rows, amounts, *got)
    want = [a.copy() for a in start[:2]]
    np.add.at(want[0], rows, -amounts)
    np.add.at(want[1], rows, amounts)
    for x, y in zip(got, want, strict=True):
        np.testing.assert_array_equal(x, y, strict=True)


@settings(max_examples=200, deadline=None)
@given(seeds, st.integers(1, 40), st.sampled_from([1, 4, 12]))
def test_compiled_running_money_equals_the_reference(seed, n, spy):
    """kernels.running_money (lifecycle._running_money) changes the table exactly as
    lifecycle.running_money_reference does: fundraising, overheads, surplus spending above the
    reserves policy (reserves on both sides of it, below zero too) and belief forgetting."""
    g = np.random.default_rng(seed)
    behaviour = BehaviourConfig(
        reserves_target_years=float(g.choice([0.0, 0.25, 1.5])),
        surplus_spending_per_year=float(g.choice([0.0, 0.5, 3.0])),
        belief_forgetting=float(g.choice([0.0, 0.05, 1.0])),
    )
    tables = []
    for _ in range(2):
        t = ProviderTable(1)
        append_rows(t, ProviderKind.sme_vso, [[0]] * n)
        tables.append(t)
    for name in (
        "fundraising_gbp",
        "overhead_gbp",
        "contracted_annual_gbp",
        "unit_cost",
        "belief_prior",
        "reserves_gbp",
        "income_fundraising_gbp",
        "year_income_gbp",
        "spent_overhead_gbp",
        "spent_mission_gbp",
        "belief",
    ):
        values = g.uniform(-1, 1, n) * 10.0 ** g.integers(-3, 7, n)
        for t in tables:
            getattr(t, name)[:n] = values
    active = np.flatnonzero(g.random(n) < 0.8)
    got, want = (SimpleNamespace(pop=t, behaviour=behaviour, steps_per_year=spy) for t in tables)
    _running_money(got, active)
    running_money_reference(want, active)
    for name in PROVIDER_COLUMNS:
        np.testing.assert_array_equal(getattr(got.pop, name), getattr(want.pop, name), strict=True, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 6))
def test_compiled_participant_count_equals_numpy(seed, n_tenders):
    """RoundBids.local_participants (kernels.count_participants) counts each tender's local small
    VSOs that have taken part in co-design exactly as the NumPy expression does."""
    g = np.random.default_rng(seed)
    m = tiny(seed=seed % 1000)
    rows = m.pop.serves(0)
    scramble(m, g, rows)
    screened = RoundBids(m, random_tenders(m, g, n_tenders))
    for i in range(n_tenders):
        m.pop.codesign_participant[rows] = g.random(rows.size) < g.random()
        assert screened.local_participants(i) == screened.local_participants_reference(i)


@settings(max_examples=60, deadline=None)
@given(seeds, st.booleans())
def test_compiled_exit_hazard_equals_the_reference(seed, runway):
    """lifecycle.exit_hazard_per_step (kernels.yearly_exit_hazard) equals
    exit_hazard_per_step_reference bit for bit: reserves below zero, zero and above, burn
    above and below zero (live contracts' margins), runways beyond the threshold and none."""
    g = np.random.default_rng(seed)
    m = tiny(seed=seed % 1000)
    T = m.pop
    n = T.n
    T.overhead_gbp[:n] = g.uniform(0, 2e4, n) * (g.random(n) < 0.9)
    T.fundraising_gbp[:n] = g.uniform(0, 2e4, n)
    T.reserves_gbp[:n] = g.choice([-1.0, 0.0, 1.0, 1.0], n) * g.uniform(0, 1e5, n)
    if not runway:
        m.behaviour = m.behaviour.model_copy(update={"exit_runway_years": 0.0})
    rows = np.flatnonzero(g.random(n) < 0.8)
    np.testing.assert_array_equal(exit_hazard_per_step(m, rows), exit_hazard_per_step_reference(m, rows), strict=True)


@settings(max_examples=100, deadline=None)
@given(seeds, st.integers(1, 6), st.booleans())
def test_pay_and_score_equals_pay_bids_then_score_pick(seed, n_bids, with_cf):
    """kernels.pay_and_score returns and changes exactly what pay_bids and then score_pick do."""
    g = np.random.default_rng(seed)
    n_rows = 8
    rows = g.choice(n_rows, n_bids, replace=False).astype(np.int64)
    which = np.arange(n_bids)
    table = [g.uniform(0, 10, n_rows) for _ in range(6)]
    kind = g.integers(0, 4, n_rows)
    codesign = g.random(n_rows) < 0.5
    bids = [g.uniform(0.1, 1.0, n_bids) * 10.0 ** g.integers(0, 6) for _ in range(7)]
    full_marks = float(g.choice([0.0, g.uniform(0, 10)]))
    scalars = (
        *g.uniform(0, 1, 6).tolist(),
        int(g.integers(0, 5)),
        float(g.uniform(0, 1)),
        full_marks,
        0.6,
        0.4,
        with_cf,
    )

    def pay_args(t):
        return (
            rows,
            which,
            np.ones(n_bids),
            n_bids,
            1e3,
            6.0,
            1.5,
            t[0],
            t[1],
            t[2],
            t[3],
            t[4],
            kind,
            codesign,
            t[5],
            0,
            0.5,
        )

    got_table = [a.copy() for a in table]
    paid, scored = pay_and_score(*pay_args(got_table), *bids, *scalars)
    want_table = [a.copy() for a in table]
    want_paid = pay_bids(*pay_args(want_table))
    want_scored = score_pick(*bids, *scalars)
    assert paid == want_paid
    for x, y in zip(scored, want_scored, strict=True):
        np.testing.assert_array_equal(x, y, strict=True)
    for x, y in zip(got_table, want_table, strict=True):
        np.testing.assert_array_equal(x, y, strict=True)


@settings(max_examples=200, deadline=None)
@given(seeds, st.integers(0, 12), st.integers(0, 15), st.booleans(), st.booleans())
def test_invite_take_part_equals_invite_then_take_part(seed, m, invitees, reimburse, ties):
    """kernels.invite_take_part returns and changes exactly what invite, then (in a round that
    is not reimbursed) take_part of its participants, do; nothing where invite is not ok."""
    g = np.random.default_rng(seed)
    n_rows = 16
    local = np.sort(g.choice(n_rows, m, replace=False)).astype(np.int64)
    knowledge = np.where(g.random(n_rows) < (0.3 if ties else 0.0), 1e12, g.uniform(0, 1, n_rows))
    n_invited = min(invitees, m)
    u = g.random(m + n_invited)
    threshold, p_take_part, cost, gain = (float(x) for x in g.uniform(0, 1, 4))
    table = [g.uniform(-1, 2, n_rows), g.uniform(0, 1, n_rows), g.uniform(0, 1, n_rows)]
    changed = g.random(n_rows) < 0.3

    got = [a.copy() for a in table]
    got_changed = changed.copy()
    out = np.full(n_invited + int(g.integers(0, 3)), -7, np.int64)
    n = invite_take_part(
        local, knowledge, u, n_invited, got[0], threshold, reimburse, p_take_part, cost, gain, got[1], got[2],
        got_changed, out,
    )  # fmt: skip
    want = [a.copy() for a in table]
    want_changed = changed.copy()
    ok, participants = invite(local, knowledge, u, n_invited, want[0], threshold, reimburse, p_take_part)
    if ok and not reimburse:
        take_part(participants, cost, gain, want[0], want[1], want[2], want_changed)
    assert n == (participants.size if ok else -1)
    if ok:
        np.testing.assert_array_equal(out[:n], participants, strict=True)
    for x, y in zip(got, want, strict=True):
        np.testing.assert_array_equal(x, y, strict=True)
    np.testing.assert_array_equal(got_changed, want_changed, strict=True)


def _round_state(m) -> tuple:
    T = m.pop
    cols = {n: getattr(T, n)[: T.n].copy() for n in (*PROVIDER_COLUMNS, "changed", "codesign_participant")}
    comms = [
        (
            c.tenders_n,
            c.sv_weight_sum,
            c.supplier_defined_n,
            c.codesign_n,
            c.line_failures.tolist(),
            c.line_free.tolist(),
        )
        for c in m.commissioners
    ]
    return (
        cols,
        {f.name: getattr(m.totals, f.name) for f in dataclasses.fields(m.totals)},
        {f.name: getattr(m.step_acc, f.name) for f in dataclasses.fields(m.step_acc)},
        m.streams.tendering.bit_generator.state,
        m.streams.diagnostics.bit_generator.state,
        comms,
        list(m.engaged_this_step.items()),
        set(m.coproduced_this_step),
        m.codesign_happened,
        m.award_rows,
        m.contracts.n,
    )


@settings(max_examples=100, deadline=None)
@given(seeds, st.integers(1, 120), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_compiled_quiet_tenders_equal_the_round_tender_by_tender(seed, n, reimburse, consortia, ties, codesign):
    """procurement._run_quietly (kernels.quiet_tenders and the tenders it hands back to Python)
    changes the table, the totals, the commissioners' records, the engagement record, the
    streams and the award log exactly as running the round's tenders one by one (engage, then
    procurement._run) does: tenders with and without bids, consultation, co-design and none,
    reimbursed or not, equal parts sharing one record, tied invitations."""
    from safsim.procurement import _run, _run_quietly

    overrides = {
        "policies.reimburse_engagement": reimburse,
        "policies.consortia": consortia,
        "field.n_authorities": 3,
        "providers.sme_vso.count": 30,
        "providers.social_enterprise.count": 6,
    }
    results = []
    for quietly in (False, True):
        g = np.random.default_rng(seed)
        m = tiny(overrides, seed=seed % 1000)
        m.record_awards = True
        T = m.pop
        rows = np.arange(T.n)
        if ties:
            T.local_knowledge[rows] = np.where(g.random(T.n) < 0.04, 1e12, T.local_knowledge[rows])
        T.belief[rows] = g.uniform(0, 1, T.n)
        m.codesign_happened = codesign
        T.codesign_participant[rows] = g.random(T.n) < 0.3
        tenders, ids = [], []
        for _ in range(n):
            if tenders and g.random() < 0.4:  # the next equal part of a split lot
                tenders.append(tenders[-1])
            else:
                c = int(g.integers(0, 3))
                volume = float(10.0 ** g.uniform(3, 7))  # many too large for anyone: runs without bids
                tenders.append(
                    tender_for(
                        m,
                        commissioner=c,
                        volume_gbp=volume,
                        ceiling_gbp=volume * float(g.uniform(0.5, 2.0)),
                        portions=((int(g.integers(0, m.commissioners[c].service_lines)), 1.0),),
                        sv_weight=float(g.choice([0.0, 0.05, 0.2])),
                        engagement=[Engagement.none, Engagement.consultation, Engagement.co_design][
                            int(g.choice(3, p=[0.25, 0.7, 0.05]))
                        ],
                        sv_definition=[SvDefinition.supplier_open, SvDefinition.commissioner_list][int(g.integers(2))],
                    )
                )
            ids.append(20_000 + len(ids))
        T.changed[:] = False
        screened = RoundBids(m, tenders)
        if quietly:
            _run_quietly(m, tenders, ids, screened)
        else:
            for i, t in enumerate(tenders):
                _run(m, engage(m, t), screened, i, ids[i])
        results.append(_round_state(m))
    (ref_cols, *ref), (got_cols, *got) = results
    for name in ref_cols:
        np.testing.assert_array_equal(got_cols[name], ref_cols[name], err_msg=name, strict=True)
    assert got == ref
