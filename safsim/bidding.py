"""Bidding: who bids on a tender, on what terms, what it costs, and what bidders learn.

Objects:
    BidBook: the bids of one tender as arrays (one entry per bid), with their members.
    eligible: which local providers may and can bid on a tender (spec step 5).
    bid_terms: price, own cost and true social value over the term, for whole columns.
    bid_cost_gbp: what writing a bid costs each candidate.
    win_probability: each candidate's perceived chance of winning.
    collect_bids: the bids of one tender, single providers and at most one consortium.
    pay_bid_costs: bid-writing costs and bid counters of every bidder.
    learn: win beliefs, markups and criteria awareness of every bidder after the award.

All of a tender's candidates are evaluated at once on the columns of the model's
``ProviderTable`` (``safsim.population``); only consortium formation walks a small group.
Decision rules and sources are in docs/ODD.md, "Submodels: bidding".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from safsim.config import BehaviourConfig, SvDefinition
from safsim.population import CORPORATE, KIND_OF_CODE, VSO, ProviderTable
from safsim.tendering import Bid, Tender

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = [
    "BidBook",
    "bid_cost_gbp",
    "bid_terms",
    "collect_bids",
    "eligible",
    "learn",
    "pay_bid_costs",
    "win_probability",
]

_LOGIT_CLIP = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.minimum(np.maximum(p, _LOGIT_CLIP), 1.0 - _LOGIT_CLIP)
    return np.log(p / (1.0 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


CONSORTIUM = len(KIND_OF_CODE)  # kind code of a consortium bid
_KIND_VALUES = (*(k.value for k in KIND_OF_CODE), "consortium")


@dataclass(slots=True)
class BidBook:
    """The bids of one tender, in submission order: single providers first, then a consortium.

    Attributes:
        rows, which, shares: every member of every bid, flat: its table row, the index of its
            bid, and its share of delivery (shares sum to 1 per bid).
        kind_code: provider kind code of each bid (``CONSORTIUM`` for a consortium).
        price_gbp, cost_gbp, quality, sv_true, sv_claim_hard, sv_claim_soft, credibility,
            track_record, hard_delivered, sv_shading: one entry per bid (see ``tendering.Bid``).
    """

    rows: np.ndarray
    which: np.ndarray
    shares: np.ndarray
    kind_code: np.ndarray
    price_gbp: np.ndarray
    cost_gbp: np.ndarray
    quality: np.ndarray
    sv_true: np.ndarray
    sv_claim_hard: np.ndarray
    sv_claim_soft: np.ndarray
    credibility: np.ndarray
    track_record: np.ndarray
    hard_delivered: np.ndarray
    sv_shading: np.ndarray

    def __len__(self) -> int:
        return self.kind_code.size

    @property
    def kinds(self) -> list[str]:
        """Kind value of each bid, or ``"consortium"``."""
        return [_KIND_VALUES[k] for k in self.kind_code.tolist()]

    def members(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, shares) of bid ``i``'s members."""
        sel = self.which == i
        return self.rows[sel], self.shares[sel]

    def bid(self, i: int, table: ProviderTable) -> Bid:
        """Bid ``i`` as a ``tendering.Bid`` record (members named by their agent ids)."""
        rows, shares = self.members(i)
        return Bid(
            members=tuple(table.unique_id[rows].tolist()),
            shares=tuple(shares.tolist()),
            kind=_KIND_VALUES[int(self.kind_code[i])],
            price_gbp=float(self.price_gbp[i]),
            cost_gbp=float(self.cost_gbp[i]),
            quality=float(self.quality[i]),
            sv_true=float(self.sv_true[i]),
            sv_claim_hard=float(self.sv_claim_hard[i]),
            sv_claim_soft=float(self.sv_claim_soft[i]),
            credibility=float(self.credibility[i]),
            track_record=float(self.track_record[i]),
            hard_delivered=float(self.hard_delivered[i]),
            sv_shading=float(self.sv_shading[i]),
        )


# ------------------------------------------------------------------ decision rules on columns


def bid_terms(
    tender: Tender, unit_cost: np.ndarray, sv_rate: np.ndarray, markup: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(price, own cost, true social value) over the term for each candidate.

    Price = own cost x (1 + markup), capped at the ceiling; mission-driven providers may go
    below cost (F13).
    """
    volume_total = tender.volume_gbp * tender.years
    cost_total = unit_cost * volume_total
    price = np.minimum(cost_total * (1.0 + markup), tender.ceiling_gbp * tender.years)
    return price, cost_total, sv_rate * volume_total


def bid_cost_gbp(tender: Tender, prep_weeks: np.ndarray, window_weeks: float, b: BehaviourConfig) -> np.ndarray:
    """Cost of writing a bid; a window shorter than the preparation time makes it dearer."""
    base = max(b.bid_cost_floor_gbp, b.bid_cost_share * tender.ceiling_gbp)
    return base * np.maximum(1.0, prep_weeks / window_weeks) ** b.window_cost_exponent


def win_probability(
    tender: Tender,
    belief: np.ndarray,
    sensitivity: np.ndarray,
    challenger: np.ndarray,
    collaborative: bool,
    b: BehaviourConfig,
) -> np.ndarray:
    """Perceived chance of winning, learned from the own record and read off the tender.

    A higher social-value weight raises mission-driven providers' hopes (F3; T9689-9695,
    T11931-11933); collaborative framing encourages challengers (all kinds but corporates).
    """
    x = _logit(belief) + sensitivity * (tender.sv_weight - b.sv_weight_reference)
    if collaborative:
        x = x + b.collaborative_framing_logit * challenger
    return _sigmoid(x)


def _wants_to_bid(
    price: np.ndarray,
    cost_total: np.ndarray,
    sv_true: np.ndarray,
    reserves: np.ndarray,
    p_win: np.ndarray,
    min_win_probability: np.ndarray,
    mission: np.ndarray,
    cost_of_bid: np.ndarray,
    b: BehaviourConfig,
) -> np.ndarray:
    """Expected gain = P(win) x (margin + mission value) - bid cost > 0 (spec step 5).

    A provider that cannot carry the loss does not bid; one that expects to lose does not
    think it worth the effort (F3; T10175-10179).  Mission-driven providers value the social
    value they would deliver, so they may bid at a loss (F13).
    """
    afford = cost_total - price <= b.max_loss_share_of_reserves * np.maximum(reserves, 0.0)
    gain = price - cost_total + mission * sv_true
    return afford & (p_win >= min_win_probability) & (p_win * gain - cost_of_bid > 0.0)


def _prep_feasible(rng: np.random.Generator, prep: np.ndarray, window: float) -> np.ndarray:
    """A window shorter than the preparation time makes bidding infeasible for some."""
    ok = np.ones(prep.shape, dtype=bool)
    short = window < prep
    if short.any():
        ok[short] = rng.random(int(short.sum())) <= window / prep[short]
    return ok


def eligible(model: FieldModel, tender: Tender, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``rows`` may and can bid alone, and which small VSOs only lack size.

    A bidder must cover every service area of the lot, not be barred, have bids left this
    year, find the SV weight high enough, have the spare capacity and the turnover the lot
    asks for, and have time to prepare a bid.

    Returns:
        (rows that can bid alone, rows of small VSOs blocked only by capacity or turnover).
    """
    T = model.pop
    ok = (tender.areas_mask & ~T.areas_mask[rows]) == 0
    if tender.excluded:
        ok &= ~np.isin(rows, np.fromiter(tender.excluded, np.int64))
    ok &= T.bids_this_year[rows] < T.bid_capacity[rows]
    ok &= tender.sv_weight >= T.min_sv_weight_to_bid[rows]
    rows = rows[ok]
    fits = (T.capacity_gbp[rows] - T.contracted_annual_gbp[rows] >= tender.volume_gbp) & (
        T.turnover_gbp[rows] >= tender.eligibility_turnover_gbp
    )
    blocked = rows[~fits]
    blocked = blocked[T.kind[blocked] == VSO]
    cand = rows[fits]
    if cand.size:
        cand = cand[_prep_feasible(model.rng, T.tender_prep_weeks[cand], model.policies.tender_window_weeks)]
    return cand, blocked


def _claims(
    tender: Tender,
    sv_true: np.ndarray,
    articulation: np.ndarray,
    inflation: np.ndarray,
    hard_bias: np.ndarray,
    b: BehaviourConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Claimed social value, hard and soft: true value x articulation x inflation (step 6).

    The definition mode moves claims: a commissioner's list pulls them towards hard
    categories, a co-defined specification towards soft ones.
    """
    claim = sv_true * articulation * inflation
    if tender.sv_definition is SvDefinition.commissioner_list:
        hard_bias = hard_bias + b.list_hard_shift * (1.0 - hard_bias)
    elif tender.sv_definition is SvDefinition.co_defined_local:
        hard_bias = hard_bias * (1.0 - b.codefined_soft_shift)
    return claim * hard_bias, claim * (1.0 - hard_bias)


def _articulation(T: ProviderTable, rows: np.ndarray, b: BehaviourConfig) -> np.ndarray:
    """Skill in evidencing SV, scaled by awareness of the commissioner's criteria (F16)."""
    return T.sv_articulation[rows] * (
        b.awareness_articulation_base + b.awareness_articulation_slope * T.criteria_awareness[rows]
    )


# ------------------------------------------------------------------ the bids of a tender


def collect_bids(model: FieldModel, tender: Tender, collaborative: bool) -> BidBook | None:
    """Every bid on ``tender``: eligible local providers that want to bid, then a consortium.

    Returns:
        The tender's bids, or None when nobody bids.
    """
    T = model.pop
    b = model.behaviour
    pol = model.policies
    rows = T.serves(tender.commissioner)
    cand, blocked = eligible(model, tender, rows)
    consortium = pol.consortia and blocked.size >= 2
    if cand.size == 0:
        if not consortium:
            return None
        book = _empty_book()
        _add_consortium(model, tender, blocked, collaborative, book)
        return book if len(book) else None
    window = pol.tender_window_weeks
    price, cost_total, sv_true = bid_terms(tender, T.unit_cost[cand], T.sv_intrinsic[cand], T.markup[cand])
    p_win = win_probability(
        tender, T.belief[cand], T.sv_weight_sensitivity[cand], T.kind[cand] != CORPORATE, collaborative, b
    )
    want = _wants_to_bid(
        price,
        cost_total,
        sv_true,
        T.reserves_gbp[cand],
        p_win,
        T.min_win_probability[cand],
        T.mission_weight[cand],
        bid_cost_gbp(tender, T.tender_prep_weeks[cand], window, b),
        b,
    )
    single = cand[want]
    price, cost_total, sv_true = price[want], cost_total[want], sv_true[want]
    hard, soft = _claims(
        tender, sv_true, _articulation(T, single, b), T.claim_inflation[single], T.hard_sv_bias[single], b
    )
    noise = b.quality_noise_sd * model.rng.normal(size=single.size)
    book = BidBook(
        rows=single,
        which=np.arange(single.size),
        shares=np.ones(single.size),
        kind_code=T.kind[single],
        price_gbp=price,
        cost_gbp=cost_total,
        quality=np.minimum(np.maximum(T.quality[single] + noise, 0.0), 1.0),
        sv_true=sv_true,
        sv_claim_hard=hard,
        sv_claim_soft=soft,
        credibility=T.credibility[single],
        track_record=T.track_record[single],
        hard_delivered=T.hard_sv_delivered[single],
        sv_shading=T.sv_shading[single],
    )
    if consortium:
        _add_consortium(model, tender, blocked, collaborative, book)
    return book if len(book) else None


def _empty_book() -> BidBook:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return BidBook(zi, zi, z, zi, z, z, z, z, z, z, z, z, z, z)


def _shares(T: ProviderTable, group: np.ndarray) -> np.ndarray:
    caps = np.maximum(T.spare_capacity_gbp(group), 0.0)
    total = caps.sum()
    return caps / total if total > 0 else np.full(group.size, 1.0 / group.size)


def _add_consortium(
    model: FieldModel, tender: Tender, candidates: np.ndarray, collaborative: bool, book: BidBook
) -> None:
    """Small VSOs with social skill pool capacity for a lot none can take alone.

    The most skilled leads and partners join in order of skill until the group is big enough
    (T1930-1934, T9078-9084).  An infrastructure body, when present, brokers: VSOs with less
    skill of their own can join, and coordination costs less.
    """
    T = model.pop
    b = model.behaviour
    pol = model.policies
    rng = model.rng
    min_skill = pol.consortium_min_skill
    if model.infrastructure is not None:
        min_skill = model.infrastructure.consortium_min_skill(min_skill, pol.infrastructure_consortium_bonus)
    pool = candidates[T.social_skill[candidates] >= min_skill]
    pool = pool[_prep_feasible(rng, T.tender_prep_weeks[pool], pol.tender_window_weeks)]
    if pool.size < 2:
        return
    skill = T.social_skill[pool] + 1e-9 * rng.random(pool.size)
    pool = pool[np.argsort(-skill)]
    spare = np.cumsum(T.spare_capacity_gbp(pool))
    turnover = np.cumsum(T.turnover_gbp[pool])
    size = np.arange(1, pool.size + 1)
    big_enough = np.flatnonzero(
        (size >= 2) & (spare >= tender.volume_gbp) & (turnover >= tender.eligibility_turnover_gbp)
    )
    if big_enough.size == 0 or big_enough[0] + 1 > pol.consortium_max_members:
        return
    group = pool[: big_enough[0] + 1]
    shares = _shares(T, group)
    overhead = pol.consortium_overhead
    if model.infrastructure is not None:  # the broker coordinates the partners
        overhead *= 1.0 - model.infrastructure.social_skill
    unit_cost = float(shares @ T.unit_cost[group]) * (1.0 + overhead)
    lead = group[:1]
    price, cost_total, sv_true = bid_terms(
        tender, np.array([unit_cost]), np.array([shares @ T.sv_intrinsic[group]]), T.markup[lead]
    )
    p_win = win_probability(tender, T.belief[lead], T.sv_weight_sensitivity[lead], np.ones(1), collaborative, b)
    cost_of_bid = bid_cost_gbp(tender, np.array([T.tender_prep_weeks[group].max()]), pol.tender_window_weeks, b)
    want = _wants_to_bid(
        price,
        cost_total,
        sv_true,
        np.array([np.maximum(T.reserves_gbp[group], 0.0).sum()]),
        p_win,
        T.min_win_probability[lead],
        np.array([T.mission_weight[group].mean()]),
        cost_of_bid,
        b,
    )
    if not want[0]:
        return
    hard, soft = _claims(
        tender,
        sv_true,
        np.array([_articulation(T, group, b).max()]),
        np.array([shares @ T.claim_inflation[group]]),
        np.array([shares @ T.hard_sv_bias[group]]),
        b,
    )
    quality = min(1.0, max(0.0, float(shares @ T.quality[group]) + b.quality_noise_sd * rng.normal()))
    k = len(book)
    book.rows = np.concatenate((book.rows, group))
    book.which = np.concatenate((book.which, np.full(group.size, k)))
    book.shares = np.concatenate((book.shares, shares))
    book.kind_code = np.append(book.kind_code, CONSORTIUM)
    book.price_gbp = np.append(book.price_gbp, price)
    book.cost_gbp = np.append(book.cost_gbp, cost_total)
    book.quality = np.append(book.quality, quality)
    book.sv_true = np.append(book.sv_true, sv_true)
    book.sv_claim_hard = np.append(book.sv_claim_hard, hard)
    book.sv_claim_soft = np.append(book.sv_claim_soft, soft)
    for name, column in (
        ("credibility", T.credibility),
        ("track_record", T.track_record),
        ("hard_delivered", T.hard_sv_delivered),
        ("sv_shading", T.sv_shading),
    ):
        setattr(book, name, np.append(getattr(book, name), shares @ column[group]))


# ------------------------------------------------------------------ after the bids


def pay_bid_costs(model: FieldModel, tender: Tender, book: BidBook) -> None:
    """Every bidder pays its share of writing the bid and counts it against its bid capacity.

    A consortium's bid costs what its slowest writer's would.
    """
    T = model.pop
    tot = model.totals
    rows, shares, which = book.rows, book.shares, book.which
    per_member = bid_cost_gbp(tender, T.tender_prep_weeks[rows], model.policies.tender_window_weeks, model.behaviour)
    if rows.size == len(book):  # single providers only: one member per bid
        cost = per_member
    else:
        per_bid = np.zeros(len(book))
        np.maximum.at(per_bid, which, per_member)
        cost = per_bid[which] * shares
    T.reserves_gbp[rows] -= cost
    T.spent_bids_gbp[rows] += cost
    T.bids_this_year[rows] += 1.0
    T.bids[rows] += 1.0
    vso = T.kind[rows] == VSO
    n_vso = int(vso.sum())
    tot.vso_bids += n_vso
    model.step_acc.vso_bids += n_vso
    tot.participant_bids += int((vso & T.codesign_participant[rows]).sum()) if n_vso else 0
    # What the commissioner sees of bidders' grasp of its criteria (F16).
    tot.awareness_bidders_sum += float(T.criteria_awareness[rows].sum())
    tot.awareness_bidders_n += rows.size
    tot.bids += len(book)


def learn(model: FieldModel, book: BidBook, winner: int) -> None:
    """Win beliefs and markups of every bidder after an award (spec step 10).

    Losers stop expecting to win (T10175-10179); a win lets the markup rise by
    ``behaviour.markup_win_step_share`` of a step, a loss on price cuts it a step; a debrief
    (``policies.feedback_to_participants``) teaches losers the criteria.
    """
    T = model.pop
    b = model.behaviour
    rows, which = book.rows, book.which
    won = which == winner
    lost_on_price = ~won & (book.price_gbp[which] > book.price_gbp[winner])
    T.belief[rows] += b.belief_learning_rate * (won - T.belief[rows])
    markup = T.markup[rows]
    markup = np.where(won, np.minimum(b.max_markup, markup + b.markup_win_step_share * b.markup_step), markup)
    markup = np.where(lost_on_price, np.maximum(T.min_markup[rows], markup - b.markup_step), markup)
    T.markup[rows] = markup
    if model.policies.feedback_to_participants:
        lost = rows[~won]
        T.criteria_awareness[lost] += b.feedback_awareness_gain * (1.0 - T.criteria_awareness[lost])
    winners = rows[won]
    T.wins[winners] += 1.0
    n_vso = int((T.kind[winners] == VSO).sum())
    model.totals.vso_wins += n_vso
    model.step_acc.vso_wins += n_vso
