"""Compiled kernels of the tender round (Numba), each the exact twin of a readable rule.

Objects:
    screen_pairs: eligibility, bid terms and the bid/no-bid rule of (tender, provider) pairs,
        the compiled form of ``bidding._eligibility``, ``bidding._terms`` and
        ``bidding._wants_to_bid``; pairs whose perceived chance of winning must be worked out
        afresh are handed back to Python (``bidding._p_win``).
    win_odds, win_half_logit, set_win_chance: the arithmetic of ``bidding._p_win`` for those
        pairs, around its ``log`` and ``tanh`` (which stay NumPy's).
    decide_pairs, decide_fresh: the bid/no-bid rule for pairs once their chance is known
        (``screen_pairs`` decides the pairs whose chance it knows itself; ``decide_fresh`` sets
        the chance of the others from Python's ``tanh`` and decides them).
    count_participants: how many of a tender's local small VSOs have taken part in co-design
        (``procurement``'s count of their opportunities to bid).
    gather_bids: the bids of the pairs that want to bid, as ``bidding.BidBook`` columns: the
        compiled form of ``bidding._articulation``, ``bidding._claims`` and the quality rule.
    score_pick: the MEAT scores of a tender's bids and the tied best bids, with and without
        social value: the compiled form of ``tendering.score_bids`` and the tie rule of
        ``tendering.score_and_pick`` (the tie-break draw itself stays in Python).
    pay_bids: bid-writing costs and bid counters of a tender's bidders: the compiled form of
        ``bidding.pay_bid_costs_reference``.
    pay_and_score: ``pay_bids`` and ``score_pick`` of a tender in one call.
    learn_bids: win beliefs, markups and criteria awareness after an award: the compiled
        form of ``bidding.learn_reference``.
    invite, take_part, codesign_part: the engagement round's invitations, participants and
        what taking part does to them: the compiled form of ``engagement.engage_reference``
        (the draws and the counters stay in Python; the local pool of small VSOs and social
        enterprises is ``population.ProviderTable.serves_small``, kept between tenders).
    invite_take_part: ``invite`` then, in a round that is not reimbursed, ``take_part``, in
        one call (the participants in a scratch array the caller keeps).
    quiet_tenders: a round's tenders one after another while they draw no bid (engagement
        by consultation or none, the tender's count and its screen), stopping where Python
        must go on: the tender round's fast path for tenders without bids.
    deliver_contracts, pay_members: a step of delivery on the live contracts and the
        holders' payments and delivery costs: the compiled form of
        ``delivery.deliver_reference`` (the pairwise NumPy sums stay in Python).
    release_holders: the holders' capacity and track record when contracts end: the
        compiled form of the table updates of ``delivery.end_contracts_reference``.
    review_holders: what the yearly checks of monitored contracts do to their holders: the
        compiled form of ``delivery.review_holders_reference``.
    pay_rows, spend_rows: ``np.add.at`` on the money columns, for ``delivery.pay`` and
        ``delivery.spend``.
    running_money: a step's fundraising, overheads, surplus spending and belief forgetting:
        the compiled form of ``lifecycle.running_money_reference``.
    yearly_exit_hazard: each provider's yearly exit hazard, background and runway: the
        compiled form of ``lifecycle.exit_hazard_per_step_reference`` before its power.
    warm_up: compile (or load from Numba's cache) every kernel now.

Why compiled: a tender has two or three bids and a few dozen local providers, so NumPy's
per-call cost (1-3 µs a call, some twenty calls a screen) dominates the tender round
(docs/performance.md).  The rules themselves stay in ``safsim.bidding`` as plain NumPy
functions: they are the documented reference, and tests/test_kernels.py checks on random
columns that each kernel returns exactly (bit for bit) what the reference returns.

What stays in Python, and why: random draws (made by the caller, in the same order from the
same streams as the reference) and every transcendental function.  NumPy's ``tanh`` (and, on
AVX-512 machines, ``log``) is its own SIMD code, which differs from the C library's (that Numba
calls) in the last bit, so the perceived chance of winning, a logistic curve, is always
computed by ``bidding._p_win`` in NumPy; the kernels use only +, -, x, /, min, max and
comparisons, which are exact in both.  No kernel uses ``fastmath``; all use NumPy's error
model (a division by zero gives inf or NaN, as in NumPy, instead of raising).

The compiled code is kept between processes in Numba's on-disk cache (``__pycache__`` next to
this file, else Numba's user-wide cache directory; without either, each process compiles its
own); a first run on a new install compiles the kernels once (docs/performance.md, "Cold start").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

__all__ = [
    "codesign_part",
    "count_participants",
    "decide_fresh",
    "decide_pairs",
    "deliver_contracts",
    "gather_bids",
    "invite",
    "invite_take_part",
    "learn_bids",
    "pay_members",
    "pay_rows",
    "quiet_tenders",
    "release_holders",
    "review_holders",
    "running_money",
    "pay_and_score",
    "pay_bids",
    "score_pick",
    "screen_pairs",
    "set_win_chance",
    "spend_rows",
    "take_part",
    "warm_up",
    "win_half_logit",
    "win_odds",
    "yearly_exit_hazard",
]


def _compiled(fn: Callable) -> Callable:
    """``numba.njit`` with Numba's on-disk cache where it finds a writable place for it.

    Numba caches next to this file (``__pycache__``) or in the user's cache directory; where
    neither is writable (a read-only install run by a user without a home directory) it
    refuses ``cache=True`` with a RuntimeError, and the kernels are compiled in each process
    instead.
    """
    options = {"nogil": True, "error_model": "numpy"}
    try:
        return njit(cache=True, **options)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(cache=False, **options)(fn)


# Codes of the social-value definition modes that move claims (``gather_bids``).
OPEN, COMMISSIONER_LIST, CO_DEFINED = 0, 1, 2
_TIE = 1e-12  # scores within this of the best tie (tendering._argmax_tiebreak)


@_compiled
def _wants_one(k, r, terms, bid_cost, t_reserves, t_min_win_probability, t_mission, max_loss_share):  # pragma: no cover
    """``bidding._wants_to_bid`` for pair ``k`` (provider row ``r``; ``terms`` rows price, cost,
    sv_true, p_win)."""
    price = terms[0, k]
    cost = terms[1, k]
    p_win = terms[3, k]
    res = t_reserves[r]
    if res < 0.0:  # np.maximum(res, 0.0), NaN propagating
        res = 0.0
    afford = cost - price <= max_loss_share * res
    gain = price - cost + t_mission[r] * terms[2, k]
    return afford and p_win >= t_min_win_probability[r] and p_win * gain - bid_cost[k] > 0.0


@_compiled
def screen_pairs(
    lo,
    hi,
    only_changed,
    rows,
    areas,
    per_tender,
    flags,
    terms,
    seen,
    fresh,
    odds,
    bid_cost,
    t_changed,
    t_areas,
    t_bids_this_year,
    t_bid_capacity,
    t_min_sv_weight,
    t_capacity,
    t_contracted,
    t_turnover,
    t_kind,
    t_unit_cost,
    t_sv_intrinsic,
    t_markup,
    t_belief,
    t_sensitivity,
    t_reserves,
    t_min_win_probability,
    t_mission,
    max_loss_share,
    odds_lo,
    odds_hi,
    vso,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Screen pairs ``lo..hi-1`` (only those whose provider changed, if ``only_changed``).

    The pairs' columns come in blocks (``bidding.RoundBids``): ``per_tender`` rows volume,
    volume over the term, ceiling over the term, eligibility turnover, SV weight; ``flags`` rows
    want, blocked, prep_ok; ``terms`` rows price, cost, sv_true, p_win; ``seen`` rows
    belief_seen, sensitivity_seen.

    Fills ``blocked``, ``price``, ``cost`` and ``sv_true``.  A screened pair that may and can
    bid (the reference's ``alone & prep_ok``) gets its bid/no-bid decision (``want``,
    ``_wants_one``) here when its chance of winning is known, that is when its inputs (belief,
    SV-weight sensitivity) equal ``belief_seen``/``sensitivity_seen`` of its last screen;
    otherwise it is listed in ``fresh``, with ``want`` False and the odds of its belief in
    ``odds`` (``win_odds``, clipped to ``odds_lo..odds_hi``), for ``decide_fresh`` once Python
    has worked its chance out.  Other screened pairs get ``want`` False.

    Returns:
        (number of pairs put in ``fresh``, pairs of ``lo..hi-1`` whose ``want`` is True and
        whose ``blocked`` is True after the screen).
    """
    volume = per_tender[0]
    volume_total = per_tender[1]
    ceiling_total = per_tender[2]
    eligibility = per_tender[3]
    sv_weight = per_tender[4]
    want = flags[0]
    blocked = flags[1]
    prep_ok = flags[2]
    price = terms[0]
    cost = terms[1]
    sv_true = terms[2]
    belief_seen = seen[0]
    sensitivity_seen = seen[1]
    n_fresh = 0
    n_want = 0
    n_blocked = 0
    for k in range(lo, hi):
        r = rows[k]
        if only_changed and not t_changed[r]:
            n_want += want[k]
            n_blocked += blocked[k]
            continue
        # _eligibility
        may = (
            (areas[k] & ~t_areas[r]) == 0
            and t_bids_this_year[r] < t_bid_capacity[r]
            and sv_weight[k] >= t_min_sv_weight[r]
        )
        fits = t_capacity[r] - t_contracted[r] >= volume[k] and t_turnover[r] >= eligibility[k]
        blocked[k] = may and not fits and t_kind[r] == vso
        n_blocked += blocked[k]
        # _terms
        c = t_unit_cost[r] * volume_total[k]
        p = c * (1.0 + t_markup[r])
        if not np.isnan(p) and not p <= ceiling_total[k]:  # np.minimum, NaN propagating
            p = ceiling_total[k]
        price[k] = p
        cost[k] = c
        sv_true[k] = t_sv_intrinsic[r] * volume_total[k]
        want[k] = False
        if may and fits and prep_ok[k]:
            if belief_seen[k] != t_belief[r] or sensitivity_seen[k] != t_sensitivity[r]:
                belief_seen[k] = t_belief[r]
                sensitivity_seen[k] = t_sensitivity[r]
                fresh[n_fresh] = k
                odds[n_fresh] = _odds(t_belief[r], odds_lo, odds_hi)
                n_fresh += 1
            else:
                w = _wants_one(k, r, terms, bid_cost, t_reserves, t_min_win_probability, t_mission, max_loss_share)
                want[k] = w
                n_want += w
    return n_fresh, n_want, n_blocked


@_compiled
def decide_pairs(
    pairs,
    n,
    rows,
    terms,
    bid_cost,
    t_reserves,
    t_min_win_probability,
    t_mission,
    max_loss_share,
    want,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """``bidding._wants_to_bid`` for the first ``n`` of ``pairs`` (``terms`` rows price, cost,
    sv_true, p_win); returns how many want to bid."""
    n_want = 0
    for j in range(n):
        k = pairs[j]
        w = _wants_one(k, rows[k], terms, bid_cost, t_reserves, t_min_win_probability, t_mission, max_loss_share)
        want[k] = w
        n_want += w
    return n_want


@_compiled
def decide_fresh(
    fresh,
    n,
    tanh_half,
    rows,
    terms,
    bid_cost,
    t_reserves,
    t_min_win_probability,
    t_mission,
    max_loss_share,
    want,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """``set_win_chance`` then ``decide_pairs`` for the first ``n`` ``fresh`` pairs of a screen;
    returns how many want to bid."""
    set_win_chance(fresh, n, tanh_half, terms[3])
    return decide_pairs(
        fresh, n, rows, terms, bid_cost, t_reserves, t_min_win_probability, t_mission, max_loss_share, want
    )


@_compiled
def count_participants(lo, hi, rows, is_vso, t_codesign):  # pragma: no cover - compiled; tests/test_kernels.py
    """How many of pairs ``lo..hi-1`` are small VSOs that have taken part in co-design: the
    compiled form of ``np.count_nonzero(is_vso[lo:hi] & t_codesign[rows[lo:hi]])``."""
    n = 0
    for k in range(lo, hi):
        if is_vso[k] and t_codesign[rows[k]]:
            n += 1
    return n


@_compiled
def _odds(p, lo, hi):  # pragma: no cover - compiled
    """p / (1 - p) of ``p`` clipped to ``lo..hi``: the arithmetic of ``bidding._logit``."""
    if p < lo:  # np.maximum(p, lo), NaN propagating
        p = lo
    if p > hi:  # np.minimum(p, hi), NaN propagating
        p = hi
    return p / (1.0 - p)


@_compiled
def win_odds(fresh, n, rows, t_belief, lo, hi):  # pragma: no cover - compiled; checked by tests/test_kernels.py
    """The odds p / (1 - p) of each of the first ``n`` ``fresh`` pairs' provider's belief p,
    clipped to ``lo..hi`` first: the arithmetic of ``bidding._logit`` before its ``log``
    (``screen_pairs`` works the same odds out for the pairs it lists as fresh)."""
    q = np.empty(n)
    for j in range(n):
        q[j] = _odds(t_belief[rows[fresh[j]]], lo, hi)
    return q


@_compiled
def win_half_logit(
    fresh, n, log_odds, rows, t_sensitivity, sv_weight, framing, t_kind, corporate, reference
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Half the log-odds of winning of the first ``n`` ``fresh`` pairs, given the log of their
    belief's odds: the arithmetic of ``bidding._p_win`` before its ``tanh`` (collaborative
    framing counts for every kind but corporates)."""
    x = np.empty(n)
    for j in range(n):
        k = fresh[j]
        r = rows[k]
        challenger = 0.0 if t_kind[r] == corporate else 1.0
        x[j] = 0.5 * (log_odds[j] + t_sensitivity[r] * (sv_weight[k] - reference) + framing[k] * challenger)
    return x


@_compiled
def set_win_chance(fresh, n, tanh_half, p_win):  # pragma: no cover - compiled; checked by tests/test_kernels.py
    """The chance of winning of the first ``n`` ``fresh`` pairs, 0.5 (1 + tanh(x / 2)): the end
    of ``bidding._sigmoid``."""
    for j in range(n):
        p_win[fresh[j]] = 0.5 * (1.0 + tanh_half[j])


@_compiled
def gather_bids(
    lo,
    want,
    rows,
    price,
    cost,
    sv_true,
    noise,
    t_kind,
    t_quality,
    t_sv_articulation,
    t_awareness,
    t_claim_inflation,
    t_hard_bias,
    t_credibility,
    t_track_record,
    t_hard_delivered,
    t_shading,
    awareness_base,
    awareness_slope,
    definition,
    list_hard_shift,
    codefined_soft_shift,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """The single-provider bids of the pairs ``lo + j`` with ``want[j]``, in pair order.

    Returns:
        (ints, floats): ``ints`` rows (row, which, kind_code) and ``floats`` rows (shares,
        price, cost, quality, sv_true, sv_claim_hard, sv_claim_soft, credibility,
        track_record, hard_delivered, sv_shading), one column per bid.
    """
    n = 0
    for j in range(want.size):
        n += want[j]
    ints = np.empty((3, n), np.int64)
    floats = np.empty((11, n))
    m = 0
    for j in range(want.size):
        if not want[j]:
            continue
        k = lo + j
        r = rows[k]
        ints[0, m] = r
        ints[1, m] = m
        ints[2, m] = t_kind[r]
        q = t_quality[r] + noise[k]
        if q < 0.0:  # np.minimum(np.maximum(q, 0), 1), NaN propagating
            q = 0.0
        if q > 1.0:
            q = 1.0
        articulation = t_sv_articulation[r] * (awareness_base + awareness_slope * t_awareness[r])
        claim = sv_true[k] * articulation * t_claim_inflation[r]
        hard_bias = t_hard_bias[r]
        if definition == COMMISSIONER_LIST:
            hard_bias = hard_bias + list_hard_shift * (1.0 - hard_bias)
        elif definition == CO_DEFINED:
            hard_bias = hard_bias * (1.0 - codefined_soft_shift)
        floats[0, m] = 1.0
        floats[1, m] = price[k]
        floats[2, m] = cost[k]
        floats[3, m] = q
        floats[4, m] = sv_true[k]
        floats[5, m] = claim * hard_bias
        floats[6, m] = claim * (1.0 - hard_bias)
        floats[7, m] = t_credibility[r]
        floats[8, m] = t_track_record[r]
        floats[9, m] = t_hard_delivered[r]
        floats[10, m] = t_shading[r]
        m += 1
    return ints, floats


@_compiled
def _relative_marks(x, scale, levels, full_marks=0.0):  # pragma: no cover - compiled
    """``tendering._marks(scale * tendering._against(x, full_marks), levels)``: relative to the
    best answer when ``full_marks`` is 0, else against a rubric whose top mark needs ``full_marks``."""
    out = np.zeros(x.size)
    top = full_marks if full_marks > 0.0 else (np.max(x) if x.size else 0.0)
    if top <= 0.0:
        return out
    for i in range(x.size):
        v = min(x[i] / top, 1.0)
        if scale != 1.0:
            v = scale * v
        out[i] = np.rint(v * levels) / levels if levels > 0 else v
    return out


@_compiled
def _tied_best(scores):  # pragma: no cover - compiled
    top = np.max(scores) - _TIE
    n = 0
    for i in range(scores.size):
        n += scores[i] >= top
    best = np.empty(n, np.int64)
    m = 0
    for i in range(scores.size):
        if scores[i] >= top:
            best[m] = i
            m += 1
    return best


@_compiled
def score_pick(
    prices,
    quality,
    sv_true,
    claim_hard,
    claim_soft,
    credibility,
    track_record,
    understanding,
    legibility,
    price_weight,
    quality_weight,
    sv_weight,
    track_weight,
    levels,
    sv_range,
    sv_full_marks,
    cf_price_weight,
    cf_quality_weight,
    counterfactual,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """``tendering.score_bids`` on the perceived social value, and the tied best bids.

    Returns:
        (scores, price_scores, quality_scores, sv_scores, best, cf_best): ``best`` the indices
        of the bids tied for the top score, ``cf_best`` those tied for the top score with the
        counterfactual weights (empty unless ``counterfactual``).
    """
    n = prices.size
    sv_perceived = np.empty(n)
    for i in range(n):
        written = credibility[i] * (claim_hard[i] + legibility * claim_soft[i])
        sv_perceived[i] = understanding * sv_true[i] + (1.0 - understanding) * written
    lowest = np.min(prices)
    price_scores = np.empty(n)
    for i in range(n):
        price_scores[i] = lowest / prices[i]
    quality_scores = _relative_marks(quality, 1.0, levels)
    sv_scores = _relative_marks(sv_perceived, sv_range, levels, sv_full_marks)
    scores = np.empty(n)
    for i in range(n):
        scores[i] = (
            price_weight * price_scores[i]
            + quality_weight * quality_scores[i]
            + sv_weight * sv_scores[i]
            + track_weight * track_record[i]
        )
    best = _tied_best(scores)
    if counterfactual:
        cf = np.empty(n)
        for i in range(n):
            cf[i] = (
                cf_price_weight * price_scores[i]
                + cf_quality_weight * quality_scores[i]
                + track_weight * track_record[i]
            )
        cf_best = _tied_best(cf)
    else:
        cf_best = np.empty(0, np.int64)
    return scores, price_scores, quality_scores, sv_scores, best, cf_best


@_compiled
def pay_bids(
    rows,
    which,
    shares,
    n_bids,
    base,
    window,
    exponent,
    t_prep,
    t_reserves,
    t_spent_bids,
    t_bids_this_year,
    t_bids,
    t_kind,
    t_codesign,
    t_awareness,
    vso,
    awareness_sum,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Charge each member of each bid its cost of writing it and count the bid.

    Returns:
        (members that are small VSOs, of them co-design participants, ``awareness_sum`` plus
        each member's criteria awareness, added in member order).
    """
    m = rows.size
    factor = np.empty(m)
    for j in range(m):
        x = t_prep[rows[j]] / window
        factor[j] = (x if x > 1.0 else 1.0) ** exponent  # max(1.0, x) ** exponent
    cost = np.empty(m)
    if m == n_bids:
        for j in range(m):
            cost[j] = base * factor[j]
    else:  # a consortium's bid costs what its slowest writer's would
        slowest = np.zeros(n_bids)
        for j in range(m):
            if factor[j] > slowest[which[j]]:
                slowest[which[j]] = factor[j]
        for j in range(m):
            cost[j] = base * slowest[which[j]] * shares[j]
    n_vso = 0
    n_participants = 0
    for j in range(m):
        r = rows[j]
        t_reserves[r] -= cost[j]
        t_spent_bids[r] += cost[j]
        t_bids_this_year[r] += 1.0
        t_bids[r] += 1.0
        if t_kind[r] == vso:
            n_vso += 1
            n_participants += t_codesign[r]
        awareness_sum += t_awareness[r]
    return n_vso, n_participants, awareness_sum


@_compiled
def pay_and_score(
    rows,
    which,
    shares,
    n_bids,
    base,
    window,
    exponent,
    t_prep,
    t_reserves,
    t_spent_bids,
    t_bids_this_year,
    t_bids,
    t_kind,
    t_codesign,
    t_awareness,
    vso,
    awareness_sum,
    prices,
    quality,
    sv_true,
    claim_hard,
    claim_soft,
    credibility,
    track_record,
    understanding,
    legibility,
    price_weight,
    quality_weight,
    sv_weight,
    track_weight,
    levels,
    sv_range,
    sv_full_marks,
    cf_price_weight,
    cf_quality_weight,
    counterfactual,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against pay_bids and score_pick
    """``pay_bids`` then ``score_pick`` in one call (a tender's bid costs, then its scores; the
    scores do not read what the costs change); returns both results."""
    paid = pay_bids(
        rows,
        which,
        shares,
        n_bids,
        base,
        window,
        exponent,
        t_prep,
        t_reserves,
        t_spent_bids,
        t_bids_this_year,
        t_bids,
        t_kind,
        t_codesign,
        t_awareness,
        vso,
        awareness_sum,
    )
    return paid, score_pick(
        prices,
        quality,
        sv_true,
        claim_hard,
        claim_soft,
        credibility,
        track_record,
        understanding,
        legibility,
        price_weight,
        quality_weight,
        sv_weight,
        track_weight,
        levels,
        sv_range,
        sv_full_marks,
        cf_price_weight,
        cf_quality_weight,
        counterfactual,
    )


@_compiled
def learn_bids(
    rows,
    which,
    prices,
    winner,
    rate,
    max_markup,
    win_step,
    step,
    debrief,
    gain,
    t_belief,
    t_markup,
    t_min_markup,
    t_wins,
    t_awareness,
    t_kind,
    vso,
    t_changed,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Move every bidder's belief, markup and awareness after the award and mark it changed
    (``t_changed``); returns how many members of the winning bid are small VSOs."""
    win_price = prices[winner]
    n_vso = 0
    for j in range(rows.size):
        r = rows[j]
        w = which[j]
        t_changed[r] = True
        if w == winner:
            t_belief[r] += rate * (1.0 - t_belief[r])
            up = t_markup[r] + win_step
            t_markup[r] = up if up < max_markup else max_markup  # min(max_markup, up)
            t_wins[r] += 1.0
            n_vso += t_kind[r] == vso
            continue
        t_belief[r] -= rate * t_belief[r]
        if prices[w] > win_price:
            down = t_markup[r] - step
            t_markup[r] = down if down > t_min_markup[r] else t_min_markup[r]  # max(min_markup, down)
        if debrief:
            t_awareness[r] += gain * (1.0 - t_awareness[r])
    return n_vso


@_compiled
def _invite_into(
    local, t_knowledge, u, n_invited, t_reserves, threshold, reimburse, p_take_part, out
):  # pragma: no cover - compiled; checked through invite and invite_take_part
    """``invite`` with its participants written to ``out``; returns how many (-1: not ok)."""
    m = local.size
    neg = np.empty(m)
    for j in range(m):
        neg[j] = -(t_knowledge[local[j]] + 1e-6 * u[j])
    s = np.sort(neg)
    for j in range(m):
        if np.isnan(s[j]) or (j > 0 and s[j] == s[j - 1]):
            return -1
    order = np.argsort(neg, kind="mergesort")  # all distinct: the one ascending order
    n = 0
    for j in range(n_invited):
        r = local[order[j]]
        if (reimburse or t_reserves[r] > threshold) and u[m + j] < p_take_part:
            out[n] = r
            n += 1
    return n


@_compiled
def invite(
    local, t_knowledge, u, n_invited, t_reserves, threshold, reimburse, p_take_part
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Invite the ``n_invited`` most knowledgeable of ``local`` and keep those who take part.

    ``u`` holds ``local.size`` draws for the knowledge noise, then ``n_invited`` for the
    willingness (the reference's two calls, in order).  A provider takes part when it is
    willing (draw below ``p_take_part``) and the round is paid or its reserves exceed
    ``threshold``.

    Returns:
        (ok, participants in order of invitation).  ``ok`` is False when two noisy knowledge
        values tie (or one is NaN): the order of tied values is NumPy's sort's to decide, so
        the caller then uses the reference.
    """
    out = np.empty(n_invited, np.int64)
    n = _invite_into(local, t_knowledge, u, n_invited, t_reserves, threshold, reimburse, p_take_part, out)
    if n < 0:
        return False, np.empty(0, np.int64)
    return True, out[:n]


@_compiled
def invite_take_part(
    local,
    t_knowledge,
    u,
    n_invited,
    t_reserves,
    threshold,
    reimburse,
    p_take_part,
    cost,
    gain,
    t_spent,
    t_awareness,
    t_changed,
    out,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against invite and take_part
    """``invite`` into ``out`` (at least ``n_invited`` long), then, for a round that is not
    reimbursed, ``take_part`` of its participants (a reimbursed round pays them first, so the
    caller does that part).

    Returns:
        How many participants (the first of ``out``), or -1 when ``invite`` is not ok (tied
        knowledge; nothing taken part in then).
    """
    n = _invite_into(local, t_knowledge, u, n_invited, t_reserves, threshold, reimburse, p_take_part, out)
    if n > 0 and not reimburse:
        take_part(out[:n], cost, gain, t_reserves, t_spent, t_awareness, t_changed)
    return n


# What ``quiet_tenders`` returns as its status: every tender run; stopped before a tender
# (Python runs all of it); stopped after a tender's engagement, count and screen (Python
# finishes its bids).
QUIET_DONE, QUIET_BEFORE, QUIET_SCREENED = 0, 1, 2


@_compiled
def quiet_tenders(
    start,
    stop,
    comm,
    rung,
    definition,
    sv_weight,
    cost,
    threshold,
    n_vso,
    bounds,
    pools,
    pool_lo,
    n_invited,
    p_take_part,
    gain,
    u,
    t_knowledge,
    t_spent,
    t_awareness,
    out,
    count_part,
    is_vso,
    t_codesign,
    consortia,
    ints,
    floats,
    comm_ints,
    comm_sv,
    engaged_first,
    engaged_flag,
    rows,
    areas,
    per_tender,
    flags,
    terms,
    seen,
    fresh,
    odds,
    bid_cost,
    t_changed,
    t_areas,
    t_bids_this_year,
    t_bid_capacity,
    t_min_sv_weight,
    t_capacity,
    t_contracted,
    t_turnover,
    t_kind,
    t_unit_cost,
    t_sv_intrinsic,
    t_markup,
    t_belief,
    t_sensitivity,
    t_reserves,
    t_min_win_probability,
    t_mission,
    max_loss_share,
    odds_lo,
    odds_hi,
    vso,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the tender round in Python
    """Tenders ``start..stop-1`` of a round, one after another, for as long as each draws no
    bid: the engagement round (``invite_take_part``, for ``rung`` 1, consultation, without
    reimbursement; nothing for ``rung`` 0), the tender's count (``procurement._count_tender``)
    and its screen (``screen_pairs``), as ``engagement.engage`` and ``procurement._run`` do
    them.  ``rung`` must be 0 or 1 (co-design draws and decides more: Python's part).

    Per tender: ``comm``, ``definition`` (OPEN, COMMISSIONER_LIST, CO_DEFINED), ``sv_weight``,
    ``cost`` and ``threshold`` of its engagement, ``n_vso`` (its local small VSOs), ``bounds``
    (its pairs, ``bidding.RoundBids``).  Per commissioner: its pool of small VSOs and social
    enterprises (``pools[pool_lo[c]:pool_lo[c + 1]]``), ``n_invited`` and ``p_take_part``.
    ``u`` holds the stream's next uniforms, each engaged tender taking its pool's size plus its
    invitees from them in turn (the draws of ``engage``).  ``count_part[0]``: whether co-design
    has happened (participants' opportunities are counted).

    Adds to ``ints`` (tenders, supplier-defined, co-defined, small VSOs' opportunities,
    participants' opportunities, engaged tenders, invited, participants, engagement rounds,
    entries of ``engaged_first``), ``floats`` (the SV weights' and the unpaid engagement costs'
    running sums), ``comm_ints`` (rows tenders, supplier-defined) and ``comm_sv`` (SV weights'
    running sums); lists the commissioners whose engagement had participants in the order they
    first had them (``engaged_first``, ``engaged_flag``).

    Stops at the first tender that Python must run on: before it (QUIET_BEFORE) when ``u``
    has too few draws left or the invitations tie (``invite`` not ok; nothing done then);
    after its screen (QUIET_SCREENED) when a pair's chance of winning must be worked out
    afresh, one wants to bid or a consortium may form.

    Returns:
        (the tender it stopped at, or ``stop``; the status; the screen's fresh, want and
        blocked counts at a QUIET_SCREENED stop; the draws of ``u`` used).
    """
    pos = 0
    for k in range(start, stop):
        c = comm[k]
        if rung[k] == 1:
            pool = pools[pool_lo[c] : pool_lo[c + 1]]
            m = pool.size
            ni = n_invited[c]
            need = m + ni
            if pos + need > u.size:
                return k, QUIET_BEFORE, 0, 0, 0, pos
            n = _invite_into(
                pool, t_knowledge, u[pos : pos + need], ni, t_reserves, threshold[k], False, p_take_part[c], out
            )
            if n < 0:
                return k, QUIET_BEFORE, 0, 0, 0, pos
            pos += need
            ints[5] += 1
            ints[6] += ni
            ints[7] += n
            if n > 0:
                take_part(out[:n], cost[k], gain, t_reserves, t_spent, t_awareness, t_changed)
                ints[8] += 1
                floats[1] += cost[k] * n
                if not engaged_flag[c]:
                    engaged_flag[c] = True
                    engaged_first[ints[9]] = c
                    ints[9] += 1
        # procurement._count_tender
        ints[0] += 1
        floats[0] += sv_weight[k]
        ints[1] += definition[k] == OPEN
        ints[2] += definition[k] == CO_DEFINED
        comm_ints[0, c] += 1
        comm_sv[c] += sv_weight[k]
        comm_ints[1, c] += definition[k] == OPEN
        lo = bounds[k]
        hi = bounds[k + 1]
        nv = n_vso[k]
        ints[3] += nv
        if nv and count_part[0]:
            ints[4] += count_participants(lo, hi, rows, is_vso, t_codesign)
        if hi == lo:
            continue
        n_fresh, n_want, n_blocked = screen_pairs(
            lo,
            hi,
            True,
            rows,
            areas,
            per_tender,
            flags,
            terms,
            seen,
            fresh,
            odds,
            bid_cost,
            t_changed,
            t_areas,
            t_bids_this_year,
            t_bid_capacity,
            t_min_sv_weight,
            t_capacity,
            t_contracted,
            t_turnover,
            t_kind,
            t_unit_cost,
            t_sv_intrinsic,
            t_markup,
            t_belief,
            t_sensitivity,
            t_reserves,
            t_min_win_probability,
            t_mission,
            max_loss_share,
            odds_lo,
            odds_hi,
            vso,
        )
        if n_fresh or n_want or (consortia and n_blocked >= 2):
            return k, QUIET_SCREENED, n_fresh, n_want, n_blocked, pos
    return stop, QUIET_DONE, 0, 0, 0, pos


@_compiled
def take_part(
    participants, cost, gain, t_reserves, t_spent, t_awareness, t_changed
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Each participant pays the round's cost of time and learns the criteria."""
    for r in participants:
        t_changed[r] = True
        t_reserves[r] -= cost
        t_spent[r] += cost
        t_awareness[r] += gain * (1.0 - t_awareness[r])


@_compiled
def codesign_part(
    participants, max_belief, boost, exclude, penalty, t_belief, t_codesign
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Co-design raises participants' belief (capped) and marks them; barred ones lose heart."""
    for r in participants:
        up = t_belief[r] + boost
        t_belief[r] = up if up < max_belief else max_belief  # min(max_belief, up)
        t_codesign[r] = True
    if exclude:
        for r in participants:
            down = t_belief[r] - penalty
            t_belief[r] = down if down > 0.0 else 0.0  # max(0.0, down)


@_compiled
def deliver_contracts(
    live,
    sv_per_step,
    claim_per_step,
    claim_hard_per_step,
    hard_delivered,
    payment_per_step,
    cost_per_step,
    kind,
    commissioner,
    monitored,
    end_step,
    delivered,
    delivered_hard,
    claimed_to_date,
    claimed_hard_to_date,
    n_kinds,
    n_commissioners,
    next_step,
):  # pragma: no cover - compiled; tests/test_delivery.py checks it against the reference
    """One step of delivery on the live contracts ``live``: the running figures of the
    contract book, and what the step adds up to by kind and by commissioner.

    The compiled form of the contract part of ``delivery.deliver_reference``.  Sums that
    NumPy adds pairwise (``ndarray.sum``) are left to the caller, on the columns returned.

    Returns:
        (the step's columns of the live contracts, rows sv, claim, claim_hard, payment, cost,
        in ``live`` order; their sv and claim on monitored contracts, rows sv, claim; sums by
        kind code, rows sv, payment, cost, shortfall (cost above payment), added in ``live``
        order as ``np.bincount`` adds; contracts of each kind; sums by commissioner, rows sv,
        payment; contracts of each commissioner; the ids whose term ends with this step).
    """
    n = live.size
    cols = np.empty((5, n))
    n_mon = 0
    n_end = 0
    for j in range(n):
        n_mon += monitored[live[j]]
        n_end += next_step >= end_step[live[j]]
    mon = np.empty((2, n_mon))
    ending = np.empty(n_end, np.int64)
    by_kind = np.zeros((4, n_kinds))
    kind_n = np.zeros(n_kinds, np.int64)
    by_comm = np.zeros((2, n_commissioners))
    comm_n = np.zeros(n_commissioners, np.int64)
    jm = 0
    je = 0
    for j in range(n):
        c = live[j]
        sv = sv_per_step[c]
        claim = claim_per_step[c]
        claim_hard = claim_hard_per_step[c]
        payment = payment_per_step[c]
        cost = cost_per_step[c]
        cols[0, j] = sv
        cols[1, j] = claim
        cols[2, j] = claim_hard
        cols[3, j] = payment
        cols[4, j] = cost
        delivered[c] += sv
        delivered_hard[c] += sv * hard_delivered[c]
        claimed_to_date[c] += claim
        claimed_hard_to_date[c] += claim_hard
        k = kind[c]
        kind_n[k] += 1
        by_kind[0, k] += sv
        by_kind[1, k] += payment
        by_kind[2, k] += cost
        gap = cost - payment
        by_kind[3, k] += 0.0 if gap <= 0.0 else gap  # np.maximum(0.0, gap), NaN kept
        i = commissioner[c]
        comm_n[i] += 1
        by_comm[0, i] += sv
        by_comm[1, i] += payment
        if monitored[c]:
            mon[0, jm] = sv
            mon[1, jm] = claim
            jm += 1
        if next_step >= end_step[c]:
            ending[je] = c
            je += 1
    return cols, mon, by_kind, kind_n, by_comm, comm_n, ending


@_compiled
def pay_members(
    mem_contract,
    mem_row,
    mem_share,
    m,
    active,
    payment_per_step,
    cost_per_step,
    t_reserves,
    t_year_income,
    t_income_contracts,
    t_spent_delivery,
):  # pragma: no cover - compiled; tests/test_delivery.py checks it against the reference
    """Pay every member of every active contract its share of the payment, then charge each
    its share of the delivery cost, in member order (as ``np.add.at`` adds; the compiled
    form of ``delivery.pay`` and ``delivery.spend`` in ``delivery.deliver_reference``).

    Returns:
        The payments, in member order (for the caller's pairwise total).
    """
    k = 0
    for j in range(m):
        k += active[mem_contract[j]]
    paid = np.empty(k)
    q = 0
    for j in range(m):
        c = mem_contract[j]
        if active[c]:
            r = mem_row[j]
            a = mem_share[j] * payment_per_step[c]
            paid[q] = a
            q += 1
            t_reserves[r] += a
            t_year_income[r] += a
            t_income_contracts[r] += a
    for j in range(m):
        c = mem_contract[j]
        if active[c]:
            r = mem_row[j]
            a = mem_share[j] * cost_per_step[c]
            t_reserves[r] += -a
            t_spent_delivery[r] += a
    return paid


@_compiled
def release_holders(
    ids,
    mem_start,
    n_contracts,
    m,
    mem_row,
    mem_share,
    volume_gbp,
    failed_check,
    completed,
    gain,
    t_contracted,
    t_track_record,
):  # pragma: no cover - compiled; tests/test_delivery.py checks it against the reference
    """Free the holders' capacity of the contracts ``ids`` and, for a completed contract with
    no failed check, raise their track record, contract after contract: the compiled form of
    the table updates of ``delivery.end_contracts_reference``.  Each contract's update reads
    its members' values before writing any (as NumPy's ``a[rows] = f(a[rows])`` does)."""
    for q in range(ids.size):
        i = ids[q]
        start = mem_start[i]
        stop = mem_start[i + 1] if i + 1 < n_contracts else m
        k = stop - start
        new = np.empty(k)
        for j in range(k):
            x = t_contracted[mem_row[start + j]] - mem_share[start + j] * volume_gbp[i]
            new[j] = 0.0 if 0.0 >= x else x  # np.maximum(0.0, x), NaN kept
        for j in range(k):
            t_contracted[mem_row[start + j]] = new[j]
        if completed and not failed_check[i]:
            for j in range(k):
                tr = t_track_record[mem_row[start + j]]
                new[j] = tr + gain * (1.0 - tr)
            for j in range(k):
                t_track_record[mem_row[start + j]] = new[j]


@_compiled
def review_holders(
    checked,
    shortfall,
    failed,
    mem_start,
    n_contracts,
    m,
    mem_row,
    min_credibility,
    credibility_penalty,
    track_record_penalty,
    inflation_correction,
    t_credibility,
    t_track_record,
    t_claim_inflation,
    t_claim_framing,
):  # pragma: no cover - compiled; tests/test_delivery.py checks it against the reference
    """What the checks of the contracts ``checked`` do to their holders, contract after
    contract: the compiled form of ``delivery.review_holders_reference``.  Each contract's
    update of a column reads its members' values before writing any (as NumPy's
    ``a[rows] = f(a[rows])`` does); ``lo if lo >= x else x`` is ``np.maximum(lo, x)``."""
    for q in range(checked.size):
        i = checked[q]
        start = mem_start[i]
        stop = mem_start[i + 1] if i + 1 < n_contracts else m
        k = stop - start
        s = shortfall[q]
        new = np.empty(k)
        for j in range(k):
            cred = t_credibility[mem_row[start + j]]
            x = cred + credibility_penalty * ((1.0 - s) - cred)
            new[j] = min_credibility if min_credibility >= x else x
        for j in range(k):
            t_credibility[mem_row[start + j]] = new[j]
        if not failed[q]:
            continue
        for j in range(k):
            x = t_track_record[mem_row[start + j]] - track_record_penalty * s
            new[j] = 0.0 if 0.0 >= x else x
        for j in range(k):
            t_track_record[mem_row[start + j]] = new[j]
        for j in range(k):
            r = mem_row[start + j]
            framing = t_claim_framing[r]
            x = t_claim_inflation[r] * (1.0 - inflation_correction * s)
            new[j] = framing if (framing >= x or np.isnan(framing)) else x
        for j in range(k):
            t_claim_inflation[mem_row[start + j]] = new[j]


@_compiled
def yearly_exit_hazard(
    rows,
    t_kind,
    rates,
    t_overhead,
    t_fundraising,
    t_reserves,
    margin,
    steps_per_year,
    runway_years,
    hazard_per_year,
    use_runway,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it against the reference
    """Each row's yearly exit hazard (background and runway, as independent risks): the
    compiled form of ``lifecycle.exit_hazard_per_step_reference`` before its power (which
    stays NumPy's).  ``margin``: each row's contract margin per step (by table row)."""
    out = np.empty(rows.size)
    for j in range(rows.size):
        r = rows[j]
        background = rates[t_kind[r]]
        runway = 0.0
        if use_runway:
            burn = t_overhead[r] - t_fundraising[r] - margin[r]
            res = t_reserves[r]
            if not (res >= 0.0 or np.isnan(res)):  # np.maximum(res, 0.0)
                res = 0.0
            years = res / (burn * steps_per_year) if burn > 0 else np.inf
            x = 1.0 - years / runway_years
            if not (np.isnan(x) or x > 0.0):  # np.clip(x, 0.0, 1.0), NaN kept
                x = 0.0
            if not (np.isnan(x) or x < 1.0):
                x = 1.0
            runway = hazard_per_year * x
        out[j] = 1.0 - (1.0 - background) * (1.0 - runway)
    return out


@_compiled
def pay_rows(rows, amounts, t_reserves, t_year_income, t_income):  # pragma: no cover - compiled
    """Add ``amounts`` to three columns at ``rows`` (which may repeat), in order: the compiled
    form of ``np.add.at`` on each of them (``delivery.pay``; tests/test_kernels.py)."""
    for j in range(rows.size):
        r = rows[j]
        a = amounts[j]
        t_reserves[r] += a
        t_year_income[r] += a
        t_income[r] += a


@_compiled
def spend_rows(rows, amounts, t_reserves, t_spent):  # pragma: no cover - compiled
    """Take ``amounts`` out of reserves and add them to a spending column at ``rows`` (which
    may repeat), in order: ``np.add.at(t_reserves, rows, -amounts)`` and
    ``np.add.at(t_spent, rows, amounts)`` compiled (``delivery.spend``; tests/test_kernels.py)."""
    for j in range(rows.size):
        r = rows[j]
        a = amounts[j]
        t_reserves[r] += -a
        t_spent[r] += a


@_compiled
def running_money(
    rows,
    t_fundraising,
    t_overhead,
    t_contracted,
    t_unit_cost,
    t_belief_prior,
    t_reserves,
    t_income_fundraising,
    t_year_income,
    t_spent_overhead,
    t_spent_mission,
    t_belief,
    steps_per_year,
    reserves_target_years,
    surplus_share_per_step,
    belief_forgetting,
):  # pragma: no cover - compiled; tests/test_kernels.py checks it
    """A step's fundraising, overheads, surplus spending and belief forgetting of ``rows`` (each
    once): the compiled form of ``lifecycle.running_money_reference``, row by row (each row's
    own columns in the reference's order, so every row gets the same arithmetic)."""
    for j in range(rows.size):
        r = rows[j]
        fund = t_fundraising[r]
        t_reserves[r] += fund
        t_income_fundraising[r] += fund
        t_year_income[r] += fund
        over = t_overhead[r]
        t_reserves[r] += -over
        t_spent_overhead[r] += over
        running = steps_per_year * t_overhead[r] + t_contracted[r] * t_unit_cost[r]
        excess = t_reserves[r] - reserves_target_years * running
        spent = excess * surplus_share_per_step if excess > 0.0 else 0.0
        t_reserves[r] += -spent
        t_spent_mission[r] += spent
        t_belief[r] += belief_forgetting * (t_belief_prior[r] - t_belief[r])


def warm_up() -> None:
    """Compile every kernel now (or load it from the cache), e.g. before forking workers."""
    z = np.ones(1)
    i = np.zeros(1, dtype=np.int64)
    b = np.zeros(1, dtype=np.bool_)
    z2 = np.ones((7, 1))
    b2 = np.zeros((3, 1), dtype=np.bool_)
    screen_args = (
        i,
        i,
        z2,
        b2,
        z2[:4].copy(),
        z2[:2].copy(),
        i,
        z.copy(),
        z,
        b,
        i,
        z,
        z,
        z,
        z,
        z,
        z,
        i,
        z,
        z,
        z,
        z,
        z,
        z,
        z,
        z,
        0.0,
        0.1,
        0.9,
        0,
    )
    screen_pairs(0, 1, False, *screen_args)
    quiet_tenders(
        *(0, 0, i, i, i, z, z, z, i, i, i, i, i, z, 0.0, z, z, z.copy(), z.copy(), i.copy(), b, b, b, False),
        *(np.zeros(10, np.int64), np.zeros(2), np.zeros((2, 1), np.int64), z.copy(), i.copy(), b.copy()),
        *screen_args,
    )
    decide_pairs(i, 0, i, z2[:4].copy(), z, z, z, z, 0.0, b)
    decide_fresh(i, 0, z, i, z2[:4].copy(), z, z, z, z, 0.0, b)
    count_participants(0, 1, i, b, b)
    win_odds(i, 1, i, z, 1e-6, 1.0 - 1e-6)
    win_half_logit(i, 1, z, i, z, z, z, i, 0, 0.0)
    set_win_chance(i, 1, z, z.copy())
    gather_bids(0, b, i, z, z, z, z, i, z, z, z, z, z, z, z, z, z, 0.0, 0.0, 0, 0.0, 0.0)
    score_pick(z, z, z, z, z, z, z, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, True)
    pay_bids(i, i, z, 1, 0.0, 1.0, 1.0, z, z.copy(), z.copy(), z.copy(), z.copy(), i, b, z, 0, 0.0)
    pay_and_score(
        *(i, i, z, 1, 0.0, 1.0, 1.0, z, z.copy(), z.copy(), z.copy(), z.copy(), i, b, z, 0, 0.0),
        *(z, z, z, z, z, z, z, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, True),
    )
    learn_bids(i, i, z, 0, 0.0, 0.0, 0.0, 0.0, False, 0.0, z.copy(), z.copy(), z, z.copy(), z.copy(), i, 0, b.copy())
    invite(i, z, np.ones(2), 1, z, 0.0, False, 0.5)
    invite_take_part(i, z, np.ones(2), 1, z.copy(), 0.0, False, 0.5, 0.0, 0.0, z.copy(), z.copy(), b.copy(), i.copy())
    take_part(i, 0.0, 0.0, z.copy(), z.copy(), z.copy(), b.copy())
    codesign_part(i, 1.0, 0.0, True, 0.0, z.copy(), b.copy())
    deliver_contracts(i, z, z, z, z, z, z, i, i, b, i, z.copy(), z.copy(), z.copy(), z.copy(), 1, 1, 0)
    pay_members(i, i, z, 1, b, z, z, z.copy(), z.copy(), z.copy(), z.copy())
    release_holders(i, i, 1, 1, i, z, z, b, True, 0.1, z.copy(), z.copy())
    review_holders(i, z, b, i, 1, 1, i, 0.0, 0.1, 0.1, 0.1, z.copy(), z.copy(), z.copy(), z)
    pay_rows(i, z, z.copy(), z.copy(), z.copy())
    spend_rows(i, z, z.copy(), z.copy())
    yearly_exit_hazard(i, i, z, z, z, z, z, 4.0, 0.5, 0.1, True)
    running_money(i, z, z, z, z, z, z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), 4.0, 1.0, 0.1, 0.1)
