"""Units and analytic cases of the award rule (safsim.tendering)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safsim.config import BehaviourConfig, Engagement, SvDefinition
from safsim.tendering import (
    Bid,
    Tender,
    award,
    effective_understanding,
    perceived_social_value,
    score_bids,
    soft_legibility,
)

# The analytic cases give social value in toy units (a few SV units per bid), so they mark it
# relative to the best answer; the rubric has its own tests at the end.
B = BehaviourConfig(score_levels=0, track_record_weight=0.0, sv_full_marks_rate=0.0)


def make_tender(price_w: float = 0.6, quality_w: float = 0.35, sv_w: float = 0.05, **kw) -> Tender:
    args = dict(
        tender_id=0,
        commissioner=0,
        step=0,
        volume_gbp=100_000.0,
        ceiling_gbp=100_000.0,
        duration_steps=12,
        portions=((0, 1.0),),
        price_weight=price_w,
        quality_weight=quality_w,
        sv_weight=sv_w,
        engagement=Engagement.none,
        sv_definition=SvDefinition.supplier_open,
        eligibility_turnover_gbp=0.0,
        years=3.0,
    )
    args.update(kw)
    return Tender(**args)


def make_bid(price: float, quality: float = 0.5, sv: float = 1.0, claim: float = 1.0, member: int = 0, **kw) -> Bid:
    args = dict(
        members=(member,),
        shares=(1.0,),
        kind="corporate",
        price_gbp=price,
        cost_gbp=price,
        quality=quality,
        sv_true=sv,
        sv_claim_hard=claim,
        sv_claim_soft=0.0,
        credibility=1.0,
        track_record=0.5,
        hard_delivered=1.0,
    )
    args.update(kw)
    return Bid(**args)


def test_sole_bidder_wins():
    """A tender with one bid is won by that bid, whatever its price."""
    rng = np.random.default_rng(0)
    res = award(make_tender(), [make_bid(1e9)], 0.5, 0.5, B, rng)
    assert res.winner == 0 and res.counterfactual_winner == 0


def test_price_weight_one_cheapest_wins():
    """With price_weight = 1 the cheapest bid wins, whatever quality and social value."""
    rng = np.random.default_rng(0)
    bids = [make_bid(120, 1.0, 9.0, 9.0), make_bid(100, 0.1, 0.0, 0.0), make_bid(110, 0.9, 5, 5)]
    res = award(make_tender(1.0, 0.0, 0.0), bids, 0.5, 0.5, B, rng)
    assert res.winner == 1


def test_known_winner_by_hand():
    """Hand-computed MEAT scores pick the expected winner: B (cheaper) beats A on 60/40."""
    rng = np.random.default_rng(0)
    a = make_bid(100, quality=0.6)
    b = make_bid(90, quality=0.5)
    res = award(make_tender(0.6, 0.4, 0.0), [a, b], 0.5, 0.5, B, rng)
    # A: 0.6*0.9 + 0.4*1 = 0.94; B: 0.6*1 + 0.4*(0.5/0.6) = 0.9333
    assert res.scores[0] == pytest.approx(0.94)
    assert res.scores[1] == pytest.approx(0.6 + 0.4 * 0.5 / 0.6)
    assert res.winner == 0


def test_social_value_changes_winner_and_counterfactual_records_it():
    """A high-SV bid that loses on price alone wins under a large SV weight, and the
    counterfactual (SV weight 0) winner is the cheaper bid."""
    rng = np.random.default_rng(0)
    cheap = make_bid(100, 0.5, sv=0.1, claim=0.1)
    social = make_bid(105, 0.5, sv=1.0, claim=1.0, member=1)
    res = award(make_tender(0.5, 0.3, 0.2), [cheap, social], 0.5, 0.5, B, rng)
    assert res.winner == 1
    assert res.counterfactual_winner == 0
    assert res.changed_by_sv


def test_zero_sv_weight_never_changes_winner():
    """With sv_weight = 0 the counterfactual winner is the winner."""
    rng = np.random.default_rng(1)
    bids = [make_bid(100 + i, 0.5, sv=i, claim=i, member=i) for i in range(5)]
    res = award(make_tender(0.6, 0.4, 0.0), bids, 0.5, 0.5, B, rng)
    assert not res.changed_by_sv


def test_understanding_discounts_inflated_claims():
    """A commissioner with full understanding scores true value; with none, the claim."""
    sv_true = np.array([1.0, 0.2])
    claim = np.array([0.5, 2.0])
    zero = np.zeros(2)
    ones = np.ones(2)
    full = perceived_social_value(sv_true, claim, zero, ones, 1.0, 0.5)
    none = perceived_social_value(sv_true, claim, zero, ones, 0.0, 0.5)
    assert full.argmax() == 0
    assert none.argmax() == 1


def test_soft_claims_count_fully_only_when_co_defined():
    """Soft claims are discounted under supplier-open and lists, counted fully when co-defined."""
    b = BehaviourConfig()
    assert soft_legibility(SvDefinition.co_defined_local, b) == 1.0
    assert soft_legibility(SvDefinition.supplier_open, b) < 1.0
    assert soft_legibility(SvDefinition.commissioner_list, b) < soft_legibility(SvDefinition.supplier_open, b)
    assert effective_understanding(0.2, SvDefinition.co_defined_local, b) > effective_understanding(
        0.2, SvDefinition.supplier_open, b
    )


def test_ties_break_through_generator():
    """Identical bids tie; the winner depends only on the generator, and both can win."""
    winners = set()
    for seed in range(30):
        rng = np.random.default_rng(seed)
        res = award(make_tender(), [make_bid(100), make_bid(100, member=1)], 0.5, 0.5, B, rng)
        winners.add(res.winner)
        again = award(
            make_tender(),
            [make_bid(100), make_bid(100, member=1)],
            0.5,
            0.5,
            B,
            np.random.default_rng(seed),
        )
        assert again.winner == res.winner
    assert winners == {0, 1}


def test_no_bids_is_an_error():
    """Awarding a tender with no bids raises rather than inventing a winner."""
    with pytest.raises(ValueError):
        award(make_tender(), [], 0.5, 0.5, B, np.random.default_rng(0))


def test_marking_scale_rounds_quality_and_sv_but_not_price():
    """With score_levels = 5, quality and SV scores lie on the 0, 0.2, ..., 1 grid."""
    prices = np.array([100.0, 103.0, 117.0])
    q = np.array([0.5, 0.61, 0.9])
    sv = np.array([0.1, 0.33, 0.7])
    _, ps, qs, ss = score_bids(prices, q, sv, np.zeros(3), (0.6, 0.3, 0.1), 0.0, 5)
    assert np.allclose(qs * 5, np.round(qs * 5))
    assert np.allclose(ss * 5, np.round(ss * 5))
    assert ps[1] == pytest.approx(100 / 103)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(1.0, 1e7),
            st.floats(0.0, 1.0),
            st.floats(0.0, 1e6),
            st.floats(0.0, 1e6),
        ),
        min_size=1,
        max_size=12,
    ),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_award_invariants(rows, sv_share, understanding, seed):
    """Exactly one winner with the top score; scores are finite; price score of the
    cheapest bid is 1; relative scores lie in [0, 1]."""
    ws = 0.3 * sv_share
    tender = make_tender(0.6 * (1 - ws) / 0.95, 0.35 * (1 - ws) / 0.95, ws)
    bids = [make_bid(p, q, sv, c, member=i) for i, (p, q, sv, c) in enumerate(rows)]
    res = award(tender, bids, understanding, 0.5, BehaviourConfig(), np.random.default_rng(seed))
    assert 0 <= res.winner < len(bids)
    assert np.all(np.isfinite(res.scores))
    assert res.scores[res.winner] == pytest.approx(res.scores.max())
    assert res.price_scores.max() == pytest.approx(1.0)
    for arr in (res.price_scores, res.quality_scores, res.sv_scores):
        assert np.all((arr >= -1e-12) & (arr <= 1 + 1e-12))


def test_rubric_marks_an_answer_whatever_the_rivals_offer():
    """Against a rubric (sv_full_marks > 0) an SV answer's mark depends on what it offers, not on
    the best rival answer: a better answer from the best bidder earns more (it stays at the top
    mark when marked relative to the best), and a stronger rival leaves the others' marks alone."""
    prices, q, track = np.full(2, 100.0), np.full(2, 0.5), np.zeros(2)
    w = (0.6, 0.3, 0.1)
    full = 10.0  # the perceived SV of an answer that earns the top mark
    better = score_bids(prices, q, np.array([6.0, 2.0]), track, w, 0.0, 0, 1.0, full)[3]
    worse = score_bids(prices, q, np.array([4.0, 2.0]), track, w, 0.0, 0, 1.0, full)[3]
    assert better[0] > worse[0]
    assert better[1] == worse[1] == pytest.approx(0.2)
    relative = [score_bids(prices, q, np.array([s, 2.0]), track, w, 0.0, 0, 1.0, 0.0)[3] for s in (6.0, 4.0)]
    assert relative[0][0] == relative[1][0] == 1.0
    assert relative[0][1] < relative[1][1]
    capped = score_bids(prices, q, np.array([25.0, 10.0]), track, w, 0.0, 0, 0.6, full)[3]
    assert capped.tolist() == pytest.approx([0.6, 0.6])  # the top descriptor, on the understood range


def test_rubric_full_marks_scale_with_the_contract():
    """The rubric's top mark asks for behaviour.sv_full_marks_rate SV per pound of the
    contract's volume over its term, so a bid's mark is the same on a contract twice as large
    when it offers twice the social value."""
    b = BehaviourConfig(score_levels=0, track_record_weight=0.0, sv_full_marks_rate=0.3)
    marks = []
    for volume in (100_000.0, 200_000.0):
        tender = make_tender(volume_gbp=volume, ceiling_gbp=volume)
        bids = [
            make_bid(volume, sv=0.1 * volume * 3.0, claim=0.0, member=0),
            make_bid(volume, member=1, sv=0.0, claim=0.0),
        ]
        marks.append(award(tender, bids, 1.0, 0.0, b, np.random.default_rng(0)).sv_scores[0])
    assert marks[0] == pytest.approx(marks[1]) == pytest.approx(1.0 / 3.0)
