"""Bidding (safsim.bidding): eligibility, bid terms, perceived chances, who bids, bid costs, learning."""

from __future__ import annotations

import numpy as np
from model_fixtures import make_ready, rows_of, tender_for, tiny

from safsim.bidding import (
    BidBook,
    bid_cost_gbp,
    bid_terms,
    collect_bids,
    eligible,
    learn,
    pay_bid_costs,
    win_probability,
)
from safsim.config import ProviderKind
from safsim.population import KIND_CODES

VSO_KIND = ProviderKind.sme_vso


def ready_model(overrides: dict | None = None, seed: int = 1):
    """A tiny model whose providers can all bid on ``tender_for`` (one authority, so all serve it)."""
    m = tiny(overrides, seed=seed)
    make_ready(m, np.arange(m.pop.n))
    return m


def silence(m, keep: np.ndarray) -> None:
    """Every provider not in ``keep`` has used up its bids for the year."""
    others = np.setdiff1d(np.arange(m.pop.n), keep)
    m.pop.bids_this_year[others] = m.pop.bid_capacity[others]


def eager(m, rows: np.ndarray) -> None:
    """``rows`` want to bid: confident, mission-driven, no least win chance, a profitable markup."""
    T = m.pop
    T.belief[rows] = 0.9
    T.min_win_probability[rows] = 0.0
    T.mission_weight[rows] = 1.0
    T.markup[rows] = 0.1
    T.unit_cost[rows] = 1.0
    T.reserves_gbp[rows] = 1e6


def test_a_provider_not_covering_the_lots_areas_is_not_eligible():
    """A candidate missing one of the lot's service areas (areas_mask) cannot bid and is not blocked either."""
    m = ready_model()
    rows = m.pop.serves(0)
    vso = int(rows_of(m, VSO_KIND)[0])
    m.pop.areas_mask[vso] = 0b10
    cand, blocked = eligible(m, tender_for(m, areas_mask=0b11), rows)
    assert vso not in cand and vso not in blocked
    assert set(cand.tolist()) == set(rows.tolist()) - {vso}
    m.pop.areas_mask[vso] = 0b111
    cand, _ = eligible(m, tender_for(m, areas_mask=0b11), rows)
    assert vso in cand


def test_a_provider_with_no_bids_left_this_year_is_not_eligible():
    """A candidate that has written as many bids this year as its bid capacity cannot bid."""
    m = ready_model()
    rows = m.pop.serves(0)
    r = int(rows[0])
    m.pop.bid_capacity[r] = 3.0
    m.pop.bids_this_year[r] = 2.0
    assert r in eligible(m, tender_for(m), rows)[0]
    m.pop.bids_this_year[r] = 3.0
    cand, blocked = eligible(m, tender_for(m), rows)
    assert r not in cand and r not in blocked


def test_sv_weight_threshold_and_exclusion_bar_a_provider():
    """A candidate whose least SV weight exceeds the tender's, or that the tender excludes, is not eligible."""
    m = ready_model()
    rows = m.pop.serves(0)
    a, b = int(rows[0]), int(rows[1])
    m.pop.min_sv_weight_to_bid[a] = 0.1
    cand, _ = eligible(m, tender_for(m, sv_weight=0.05, excluded=frozenset({b})), rows)
    assert a not in cand and b not in cand
    cand, _ = eligible(m, tender_for(m, sv_weight=0.1), rows)
    assert a in cand and b in cand


def test_without_spare_capacity_only_a_small_vso_is_returned_as_blocked():
    """A candidate lacking spare capacity or turnover cannot bid alone; if it is a small VSO it is blocked."""
    m = ready_model()
    rows = m.pop.serves(0)
    vso = int(rows_of(m, VSO_KIND)[0])
    corp = int(rows_of(m, ProviderKind.corporate)[0])
    tender = tender_for(m)
    for r in (vso, corp):
        m.pop.capacity_gbp[r] = 150_000.0
        m.pop.contracted_annual_gbp[r] = 60_000.0  # 90k spare for a 100k lot
    cand, blocked = eligible(m, tender, rows)
    assert vso not in cand and corp not in cand
    assert blocked.tolist() == [vso]
    m.pop.contracted_annual_gbp[[vso, corp]] = 0.0
    m.pop.turnover_gbp[[vso, corp]] = 1_000.0
    cand, blocked = eligible(m, tender_for(m, eligibility_turnover_gbp=50_000.0), rows)
    assert vso not in cand and corp not in cand
    assert blocked.tolist() == [vso]


def test_bid_terms_price_cost_plus_markup_capped_at_ceiling_times_years():
    """Price is own cost over the term x (1 + markup), but never above the annual ceiling x years."""
    m = tiny()
    tender = tender_for(m, volume_gbp=100_000.0, ceiling_gbp=120_000.0, years=2.0)
    price, cost, sv = bid_terms(
        tender, np.array([1.0, 1.0, 0.8]), np.array([0.3, 0.1, 0.2]), np.array([0.1, 0.5, -0.1])
    )
    np.testing.assert_allclose(cost, [200_000.0, 200_000.0, 160_000.0])
    np.testing.assert_allclose(price, [220_000.0, 240_000.0, 144_000.0])  # 300k capped to 240k
    np.testing.assert_allclose(sv, [60_000.0, 20_000.0, 40_000.0])


def test_bid_cost_rises_when_the_window_is_shorter_than_preparation():
    """A bid costs at least the floor; a window shorter than the preparation time makes it dearer."""
    m = tiny()
    b = m.behaviour
    cost = bid_cost_gbp(tender_for(m, ceiling_gbp=120_000.0), np.array([2.0, 4.0, 8.0]), 4.0, b)
    base = max(b.bid_cost_floor_gbp, b.bid_cost_share * 120_000.0)
    np.testing.assert_allclose(cost, [base, base, base * 2.0**b.window_cost_exponent])
    assert cost[2] > cost[1]


def test_win_probability_rises_with_belief_and_sv_weight_and_collaborative_framing_for_challengers():
    """Perceived chance rises with belief, with the SV weight for positive sensitivity, and with
    collaborative framing for challengers but not for corporates."""
    m = tiny()
    b = m.behaviour
    t = tender_for(m, sv_weight=0.05)
    beliefs = np.array([0.1, 0.3, 0.6])
    p = win_probability(t, beliefs, np.zeros(3), np.zeros(3, dtype=bool), False, b)
    assert np.all(np.diff(p) > 0)
    sens = np.array([6.0, 0.0])
    low = win_probability(tender_for(m, sv_weight=0.05), np.full(2, 0.3), sens, np.ones(2, dtype=bool), False, b)
    high = win_probability(tender_for(m, sv_weight=0.25), np.full(2, 0.3), sens, np.ones(2, dtype=bool), False, b)
    assert high[0] > low[0] and high[1] == low[1]
    challenger = np.array([True, False])
    plain = win_probability(t, np.full(2, 0.3), np.zeros(2), challenger, False, b)
    framed = win_probability(t, np.full(2, 0.3), np.zeros(2), challenger, True, b)
    assert framed[0] > plain[0] and framed[1] == plain[1]


def test_a_provider_that_cannot_carry_the_loss_does_not_bid():
    """collect_bids leaves out a provider whose bid would lose more than max_loss_share_of_reserves of its reserves."""
    m = ready_model({"policies.consortia": False, "behaviour.max_loss_share_of_reserves": 0.5})
    rich, poor = rows_of(m, VSO_KIND)[:2]
    pair = np.array([rich, poor])
    silence(m, pair)
    eager(m, pair)
    m.pop.markup[pair] = -0.5  # a 50k loss on a 100k-a-year, one-year lot
    m.pop.mission_weight[pair] = 100.0  # worth it for the mission
    m.pop.reserves_gbp[rich] = 120_000.0  # may lose 60k
    m.pop.reserves_gbp[poor] = 90_000.0  # may lose 45k
    book = collect_bids(m, tender_for(m), collaborative=False)
    assert book is not None and book.rows.tolist() == [rich]
    m.pop.reserves_gbp[poor] = 120_000.0
    book = collect_bids(m, tender_for(m), collaborative=False)
    assert sorted(book.rows.tolist()) == sorted([rich, poor])


def test_small_vsos_too_small_alone_bid_as_a_consortium():
    """Two skilled small VSOs that lack the capacity alone make one consortium bid, shares summing to 1;
    with policies.consortia off nobody bids."""
    for consortia in (True, False):
        m = ready_model({"policies.consortia": consortia})
        pair = rows_of(m, VSO_KIND)[:2]
        silence(m, pair)
        eager(m, pair)
        m.pop.capacity_gbp[pair] = 60_000.0  # 120k together for a 100k lot
        m.pop.social_skill[pair] = 0.9
        book = collect_bids(m, tender_for(m), collaborative=False)
        if not consortia:
            assert book is None
            continue
        assert book is not None and len(book) == 1 and book.kinds == ["consortium"]
        assert sorted(book.rows.tolist()) == sorted(pair.tolist())
        assert np.isclose(book.shares.sum(), 1.0)


def test_pay_bid_costs_charges_reserves_books_spending_and_counts_bids():
    """pay_bid_costs takes each bid's cost from reserves, books it as spent_bids_gbp and counts the bid."""
    m = ready_model({"policies.consortia": False})
    pair = rows_of(m, VSO_KIND)[:2]
    silence(m, pair)
    eager(m, pair)
    tender = tender_for(m)
    book = collect_bids(m, tender, collaborative=False)
    assert sorted(book.rows.tolist()) == sorted(pair.tolist())
    T = m.pop
    before = T.reserves_gbp[pair].copy()
    cost = bid_cost_gbp(tender, T.tender_prep_weeks[pair], m.policies.tender_window_weeks, m.behaviour)
    bids_before = m.totals.bids
    pay_bid_costs(m, tender, book)
    np.testing.assert_allclose(T.reserves_gbp[pair], before - cost)
    np.testing.assert_allclose(T.spent_bids_gbp[pair], cost)
    assert T.bids_this_year[pair].tolist() == [1.0, 1.0]
    assert T.bids[pair].tolist() == [1.0, 1.0]
    assert m.totals.bids == bids_before + 2


def book_of(rows: list[int], prices: list[float], kind_code: int = 0) -> BidBook:
    """A book of single-provider bids at the given prices."""
    n = len(rows)
    z = np.zeros(n)
    return BidBook(
        rows=np.array(rows, dtype=np.int64),
        which=np.arange(n),
        shares=np.ones(n),
        kind_code=np.full(n, kind_code, dtype=np.int64),
        price_gbp=np.array(prices, dtype=float),
        cost_gbp=z.copy(),
        quality=z.copy(),
        sv_true=z.copy(),
        sv_claim_hard=z.copy(),
        sv_claim_soft=z.copy(),
        credibility=np.ones(n),
        track_record=z.copy(),
        hard_delivered=z.copy(),
        sv_shading=z.copy(),
    )


def test_learn_moves_beliefs_and_markups_of_winner_and_losers():
    """learn raises the winner's belief and markup, lowers a price-loser's markup (not below min_markup),
    and leaves the markup of a loser that was cheaper than the winner alone."""
    m = tiny({"policies.feedback_to_participants": False})
    b = m.behaviour
    T = m.pop
    win, dear, cheap = (int(r) for r in rows_of(m, VSO_KIND)[:3])
    rows = [win, dear, cheap]
    T.belief[rows] = 0.3
    T.markup[rows] = 0.05
    T.min_markup[rows] = 0.04  # one step (0.02) down would pass the floor
    T.criteria_awareness[rows] = 0.2
    learn(m, book_of(rows, [100.0, 110.0, 90.0]), winner=0)
    assert np.isclose(T.belief[win], 0.3 + b.belief_learning_rate * 0.7)
    assert np.isclose(T.belief[dear], 0.3 * (1 - b.belief_learning_rate))
    assert np.isclose(T.markup[win], 0.05 + b.markup_win_step_share * b.markup_step)
    assert T.markup[dear] == 0.04
    assert T.markup[cheap] == 0.05
    assert T.wins[win] == 1.0 and T.wins[dear] == 0.0
    assert np.all(T.criteria_awareness[rows] == 0.2)  # no debrief


def test_feedback_teaches_losers_the_criteria():
    """With policies.feedback_to_participants losers' criteria_awareness rises; the winner's does not."""
    m = tiny({"policies.feedback_to_participants": True})
    b = m.behaviour
    T = m.pop
    rows = [int(r) for r in rows_of(m, VSO_KIND)[:2]]
    T.criteria_awareness[rows] = 0.2
    learn(m, book_of(rows, [100.0, 110.0], kind_code=KIND_CODES[VSO_KIND]), winner=0)
    assert T.criteria_awareness[rows[0]] == 0.2
    assert np.isclose(T.criteria_awareness[rows[1]], 0.2 + b.feedback_awareness_gain * 0.8)
