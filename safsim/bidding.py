"""Bidding: who bids on a tender, on what terms, what it costs, and what bidders learn.

Objects:
    BidBook: the bids of one tender as arrays (one entry per bid), with their members.
    eligible: which local providers may and can bid on a tender (step part 5).
    bid_terms: price, own cost and true social value over the term, for whole columns.
    bid_cost_gbp: what writing a bid costs each candidate.
    win_probability: each candidate's perceived chance of winning.
    RoundBids: the bid decisions of a whole tender round, screened for all pairs at once.
    collect_bids: the bids of one tender, single providers and at most one consortium.
    pay_bid_costs: bid-writing costs and bid counters of every bidder (compiled; the readable
        rule is pay_bid_costs_reference).
    bid_cost_args, count_bid_costs: the two halves of pay_bid_costs around its kernel (the
        tender round calls that kernel together with the scores').
    learn: win beliefs, markups and criteria awareness of every bidder after the award
        (compiled; the readable rule is learn_reference).

All of a tender's candidates are evaluated at once on the columns of the model's
``ProviderTable`` (``safsim.population``); only consortium formation walks a small group.
Decision rules and sources are in docs/ODD.md, "Submodels: bidding".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from safsim.config import BehaviourConfig, SvDefinition
from safsim.kernels import (
    CO_DEFINED,
    COMMISSIONER_LIST,
    OPEN,
    count_participants,
    decide_fresh,
    gather_bids,
    learn_bids,
    pay_bids,
    screen_pairs,
    win_half_logit,
)
from safsim.population import CORPORATE, KIND_OF_CODE, VSO, ProviderTable
from safsim.tendering import Bid, Tender

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = [
    "BidBook",
    "RoundBids",
    "bid_cost_args",
    "bid_cost_gbp",
    "bid_terms",
    "collect_bids",
    "count_bid_costs",
    "eligible",
    "learn",
    "learn_reference",
    "pay_bid_costs",
    "pay_bid_costs_reference",
    "win_probability",
]

_LOGIT_CLIP = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.minimum(np.maximum(p, _LOGIT_CLIP), 1.0 - _LOGIT_CLIP)
    return np.log(p / (1.0 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


CONSORTIUM = len(KIND_OF_CODE)  # kind code of a consortium bid
_DEFINITION_CODE = {
    SvDefinition.supplier_open: OPEN,
    SvDefinition.commissioner_list: COMMISSIONER_LIST,
    SvDefinition.co_defined_local: CO_DEFINED,
}
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
        """(rows, shares) of bid ``i``'s members (read-only views where the book has one
        member per bid)."""
        if self.rows.size == self.kind_code.size and self.which.item(i) == i:
            # Every bid has at least one member, so here each has exactly one: bid i's is at i.
            return self.rows[i : i + 1], self.shares[i : i + 1]
        sel = self.which == i
        return self.rows[sel], self.shares[sel]

    def bid(self, i: int, table: ProviderTable, members: tuple[np.ndarray, np.ndarray] | None = None) -> Bid:
        """Bid ``i`` as a ``tendering.Bid`` record (members named by their agent ids).

        ``members``: bid ``i``'s (rows, shares) if the caller has them already.
        """
        rows, shares = self.members(i) if members is None else members
        return Bid(
            members=tuple(table.unique_id[rows].tolist()),
            shares=tuple(shares.tolist()),
            kind=_KIND_VALUES[self.kind_code.item(i)],
            price_gbp=self.price_gbp.item(i),
            cost_gbp=self.cost_gbp.item(i),
            quality=self.quality.item(i),
            sv_true=self.sv_true.item(i),
            sv_claim_hard=self.sv_claim_hard.item(i),
            sv_claim_soft=self.sv_claim_soft.item(i),
            credibility=self.credibility.item(i),
            track_record=self.track_record.item(i),
            hard_delivered=self.hard_delivered.item(i),
            sv_shading=self.sv_shading.item(i),
        )


# ------------------------------------------------------------------ decision rules on columns


def _terms(
    unit_cost: np.ndarray, sv_rate: np.ndarray, markup: np.ndarray, volume_total: Any, ceiling_total: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cost_total = unit_cost * volume_total
    price = np.minimum(cost_total * (1.0 + markup), ceiling_total)
    return price, cost_total, sv_rate * volume_total


def bid_terms(
    tender: Tender, unit_cost: np.ndarray, sv_rate: np.ndarray, markup: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(price, own cost, true social value) over the term for each candidate.

    Price = own cost x (1 + markup), capped at the ceiling; mission-driven providers may go
    below cost (F13).
    """
    return _terms(unit_cost, sv_rate, markup, tender.volume_gbp * tender.years, tender.ceiling_gbp * tender.years)


def _bid_base_gbp(ceiling_gbp: float, b: BehaviourConfig) -> float:
    return max(b.bid_cost_floor_gbp, b.bid_cost_share * ceiling_gbp)


def _window_factor(prep_weeks: np.ndarray, window_weeks: float, b: BehaviourConfig) -> np.ndarray:
    return np.maximum(1.0, prep_weeks / window_weeks) ** b.window_cost_exponent


def bid_cost_gbp(tender: Tender, prep_weeks: np.ndarray, window_weeks: float, b: BehaviourConfig) -> np.ndarray:
    """Cost of writing a bid; a window shorter than the preparation time makes it dearer."""
    return _bid_base_gbp(tender.ceiling_gbp, b) * _window_factor(prep_weeks, window_weeks, b)


def win_probability(
    tender: Tender,
    belief: np.ndarray,
    sensitivity: np.ndarray,
    challenger: np.ndarray,
    collaborative: bool,
    b: BehaviourConfig,
) -> np.ndarray:
    """Perceived chance of winning, learned from the own record and read off the tender.

    A higher social-value weight raises mission-driven providers' hopes (F3; Th §5.3, §6.1);
    collaborative framing encourages challengers (all kinds but corporates).
    """
    framing = b.collaborative_framing_logit * challenger if collaborative else 0.0
    return _p_win(belief, sensitivity, tender.sv_weight, framing, b)


def _p_win(belief: np.ndarray, sensitivity: np.ndarray, sv_weight: Any, framing: Any, b: BehaviourConfig) -> np.ndarray:
    return _sigmoid(_logit(belief) + sensitivity * (sv_weight - b.sv_weight_reference) + framing)


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
    """Expected gain = P(win) x (margin + mission value) - bid cost > 0 (step part 5).

    A provider that cannot carry the loss does not bid; one that expects to lose does not
    think it worth the effort (F3; Th §5.4).  Mission-driven providers value the social
    value they would deliver, so they may bid at a loss (F13).
    """
    afford = cost_total - price <= b.max_loss_share_of_reserves * np.maximum(reserves, 0.0)
    gain = price - cost_total + mission * sv_true
    return afford & (p_win >= min_win_probability) & (p_win * gain - cost_of_bid > 0.0)


def _prep_feasible(rng: np.random.Generator, prep: np.ndarray, window: float) -> np.ndarray:
    """A window shorter than the preparation time makes bidding infeasible for some."""
    short = window < prep
    k = np.count_nonzero(short)
    if not k:
        return np.ones(prep.shape, dtype=bool)
    ok = ~short
    ok[short] = rng.random(k) <= window / prep[short]
    return ok


def _eligibility(
    T: ProviderTable, rows: np.ndarray, areas_mask: Any, sv_weight: Any, volume_gbp: Any, turnover_gbp: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(may and can bid alone, small VSO that may bid but lacks capacity or turnover) per row.

    A bidder must cover every service area of the lot, have bids left this year, find the SV
    weight high enough, and have the spare capacity and the turnover the lot asks for.
    """
    may = (
        ((areas_mask & ~T.areas_mask[rows]) == 0)
        & (T.bids_this_year[rows] < T.bid_capacity[rows])
        & (sv_weight >= T.min_sv_weight_to_bid[rows])
    )
    fits = (T.capacity_gbp[rows] - T.contracted_annual_gbp[rows] >= volume_gbp) & (T.turnover_gbp[rows] >= turnover_gbp)
    return may & fits, may & ~fits & (T.kind[rows] == VSO)


def eligible(model: FieldModel, tender: Tender, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``rows`` may and can bid alone, and which small VSOs only lack size.

    A bidder must cover every service area of the lot, not be barred, have bids left this
    year, find the SV weight high enough, have the spare capacity and the turnover the lot
    asks for, and have time to prepare a bid.

    Returns:
        (rows that can bid alone, rows of small VSOs blocked only by capacity or turnover).
    """
    T = model.pop
    if tender.excluded:
        rows = rows[~np.isin(rows, np.fromiter(tender.excluded, np.int64))]
    alone, blocked = _eligibility(
        T, rows, tender.areas_mask, tender.sv_weight, tender.volume_gbp, tender.eligibility_turnover_gbp
    )
    cand, blocked = rows[alone], rows[blocked]
    if cand.size:
        cand = cand[
            _prep_feasible(model.streams.tendering, T.tender_prep_weeks[cand], model.policies.tender_window_weeks)
        ]
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


class RoundBids:
    """The bid decisions of one tender round, screened for every (tender, local provider) pair.

    At the start of the round every tender's local providers are screened at once, with the
    providers' state at that moment: eligibility (``eligible``), bid terms, the perceived
    chance of winning and the bid/no-bid rule.  A provider whose state changes during the
    round (it bids, wins, learns, or takes part in engagement; ``ProviderTable.mark_changed``)
    is screened again when a later tender reaches it, so every tender sees exactly the state
    it would see if it were screened alone when its turn comes.  Random draws for the
    preparation-time rule and the quality noise are made per pair up front.

    Args:
        model: the model.
        tenders: the round's tenders in the order they will be run.
        collaborative: each tender's framing (default: its commissioner's framing this year).
    """

    def __init__(self, model: FieldModel, tenders: list[Tender], collaborative: list[bool] | None = None) -> None:
        T = model.pop
        b = model.behaviour
        self.model = model
        # The round's distinct records (equal parts of a split lot share one, see
        # procurement.tender_round), and each tender's.
        slot: dict[int, int] = {}
        self.records: list[Tender] = []
        record_of = []
        for t in tenders:
            j = slot.get(id(t))
            if j is None:
                j = slot[id(t)] = len(self.records)
                self.records.append(t)
            record_of.append(j)
        self.record_of = np.array(record_of, np.int64)
        records = self.records
        local = [T.serves(t.commissioner) for t in tenders]
        sizes = [r.size for r in local]
        # Per tender, as Python ints: where its pairs start and end.
        bounds = [0]
        for size in sizes:
            bounds.append(bounds[-1] + size)
        self._bounds = bounds
        self.offsets = np.array(bounds, np.int64)
        self.rows = np.concatenate(local) if local else np.zeros(0, np.int64)
        self.tender_of = np.repeat(np.arange(len(tenders)), sizes)
        n = self.rows.size
        # The per-tender figures, one row each, worked out once per record and spread to the
        # tender's pairs in one call (the same Python floats as one array per figure).
        framing_logit = b.collaborative_framing_logit
        figures = np.array(
            [
                [t.volume_gbp for t in records],
                [t.volume_gbp * t.years for t in records],
                [t.ceiling_gbp * t.years for t in records],
                [t.eligibility_turnover_gbp for t in records],
                [t.sv_weight for t in records],
                [_bid_base_gbp(t.ceiling_gbp, b) for t in records],
                [framing_logit if model.commissioners[t.commissioner].collaborative else 0.0 for t in records],
            ],
            dtype=float,
        ).reshape(7, len(records))
        record_of_pair = self.record_of[self.tender_of]
        self._per_tender = per_tender = np.take(figures, record_of_pair, axis=1)
        if collaborative is not None:  # each tender's framing as given
            per_tender[6] = np.array([framing_logit if c else 0.0 for c in collaborative], dtype=float)[self.tender_of]
        (
            self.volume,
            self.volume_total,
            self.ceiling_total,
            self.eligibility,
            self.sv_weight,
            self.bid_base,
            self.framing,
        ) = per_tender
        self.areas = np.asarray([t.areas_mask for t in records], dtype=np.int64)[record_of_pair]
        window = model.policies.tender_window_weeks
        prep = T.tender_prep_weeks[self.rows]
        # The pairs' flags (want, blocked, prep_ok), terms (price, cost, sv_true, p_win), the
        # inputs of each pair's p_win when last computed (NaN: none yet) and the kernels' scratch
        # lists of pairs, each one block (one argument of the screen's kernels).
        self._flags = np.zeros((3, n), dtype=bool)
        self._flags[2] = _prep_feasible(model.streams.tendering, prep, window)
        self.want, self.blocked, self.prep_ok = self._flags
        self.window_factor = _window_factor(prep, window, b)
        self.noise = b.quality_noise_sd * model.streams.tendering.normal(size=n)
        self.is_vso = T.kind[self.rows] == VSO
        self.vso_before = np.zeros(n + 1, np.int64)
        np.cumsum(self.is_vso, out=self.vso_before[1:])
        # Per tender: its local small VSOs (also as Python ints).
        at_bounds = self.vso_before[self.offsets]
        self.n_vso = at_bounds[1:] - at_bounds[:-1]
        self._n_vso = self.n_vso.tolist()
        self._terms = np.zeros((4, n))
        self.price, self.cost, self.sv_true, self.p_win = self._terms
        self.bid_cost = self.bid_base * self.window_factor
        self._seen = np.full((2, n), np.nan)
        self.belief_seen, self.sensitivity_seen = self._seen
        self._fresh = np.zeros(n, np.int64)  # scratch list of pairs for the kernels
        self._odds = np.zeros(n)  # and the odds of their providers' beliefs
        # The arguments of the screen's kernels after its first three (the table's columns do not
        # move during a round: it grows only at entry, after the round).
        self._screen_args = (
            self.rows,
            self.areas,
            self._per_tender,
            self._flags,
            self._terms,
            self._seen,
            self._fresh,
            self._odds,
            self.bid_cost,
            T.changed,
            T.areas_mask,
            T.bids_this_year,
            T.bid_capacity,
            T.min_sv_weight_to_bid,
            T.capacity_gbp,
            T.contracted_annual_gbp,
            T.turnover_gbp,
            T.kind,
            T.unit_cost,
            T.sv_intrinsic,
            T.markup,
            T.belief,
            T.sv_weight_sensitivity,
            T.reserves_gbp,
            T.min_win_probability,
            T.mission_weight,
            b.max_loss_share_of_reserves,
            _LOGIT_CLIP,
            1.0 - _LOGIT_CLIP,
            VSO,
        )
        self._decide_args = (
            self.rows,
            self._terms,
            self.bid_cost,
            T.reserves_gbp,
            T.min_win_probability,
            T.mission_weight,
            b.max_loss_share_of_reserves,
            self.want,
        )
        T.changed[: T.n] = False
        self._screen(0, n, False)

    def _screen(self, lo: int, hi: int, only_changed: bool) -> tuple[int, int]:
        """Screen the pairs ``lo..hi-1`` (only those whose provider changed, if ``only_changed``)
        with the providers' current state; returns how many of them want to bid and how many
        are blocked small VSOs.

        The compiled twin (``kernels.screen_pairs`` and ``kernels.decide_fresh``) of
        ``_eligibility``, ``_terms`` and ``_wants_to_bid``; the chance of winning comes from
        ``_p_win``, recomputed only for pairs whose belief or sensitivity moved since it was
        last computed (``screen_reference`` is the same screen in plain NumPy).
        """
        n_fresh, n_want, n_blocked = screen_pairs(lo, hi, only_changed, *self._screen_args)
        if n_fresh:
            n_want += self._decide_fresh(n_fresh)
        return n_want, n_blocked

    def _decide_fresh(self, n_fresh: int) -> int:
        """The chance of winning and the decision of the ``n_fresh`` pairs that the last screen
        listed as fresh; returns how many of them want to bid."""
        T = self.model.pop
        # _p_win: the arithmetic compiled, its log and tanh NumPy's (see safsim.kernels).
        f = self._fresh
        half = win_half_logit(
            f,
            n_fresh,
            np.log(self._odds[:n_fresh]),  # the odds that screen_pairs worked out (kernels.win_odds)
            self.rows,
            T.sv_weight_sensitivity,
            self.sv_weight,
            self.framing,
            T.kind,
            CORPORATE,
            self.model.behaviour.sv_weight_reference,
        )
        return decide_fresh(f, n_fresh, np.tanh(half), *self._decide_args)

    def screen_reference(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """The screen of pairs ``idx`` with the current state, in plain NumPy: the rule functions
        that ``_screen`` compiles.  Returns (want, blocked, price, cost, sv_true); changes nothing.
        """
        model = self.model
        T = model.pop
        b = model.behaviour
        r = self.rows[idx]
        alone, blocked = _eligibility(
            T, r, self.areas[idx], self.sv_weight[idx], self.volume[idx], self.eligibility[idx]
        )
        cand = alone & self.prep_ok[idx]
        price, cost_total, sv_true = _terms(
            T.unit_cost[r], T.sv_intrinsic[r], T.markup[r], self.volume_total[idx], self.ceiling_total[idx]
        )
        framing = self.framing[idx] * (T.kind[r] != CORPORATE)
        want = _wants_to_bid(
            price,
            cost_total,
            sv_true,
            T.reserves_gbp[r],
            _p_win(T.belief[r], T.sv_weight_sensitivity[r], self.sv_weight[idx], framing, b),
            T.min_win_probability[r],
            T.mission_weight[r],
            self.bid_base[idx] * self.window_factor[idx],
            b,
        )
        return cand & want, blocked, price, cost_total, sv_true

    def book(self, i: int, tender: Tender, want: np.ndarray) -> BidBook:
        """The single-provider bids of tender ``i``'s pairs with ``want`` (a mask over its local
        rows), in order: the compiled twin (``kernels.gather_bids``) of ``book_reference``."""
        T = self.model.pop
        b = self.model.behaviour
        lo = self._bounds[i]
        ints, floats = gather_bids(
            lo,
            want,
            self.rows,
            self.price,
            self.cost,
            self.sv_true,
            self.noise,
            T.kind,
            T.quality,
            T.sv_articulation,
            T.criteria_awareness,
            T.claim_inflation,
            T.hard_sv_bias,
            T.credibility,
            T.track_record,
            T.hard_sv_delivered,
            T.sv_shading,
            b.awareness_articulation_base,
            b.awareness_articulation_slope,
            _DEFINITION_CODE[tender.sv_definition],
            b.list_hard_shift,
            b.codefined_soft_shift,
        )
        return BidBook(ints[0], ints[1], *floats[:1], ints[2], *floats[1:])

    def book_reference(self, i: int, tender: Tender, want: np.ndarray) -> BidBook:
        """The single-provider bids of tender ``i``'s pairs with ``want`` (a mask over its local
        rows) in plain NumPy: the rules that ``bids`` compiles (``kernels.gather_bids``)."""
        T = self.model.pop
        b = self.model.behaviour
        pos = np.flatnonzero(want) + int(self.offsets[i])
        single = self.rows[pos]
        sv_true = self.sv_true[pos]
        hard, soft = _claims(
            tender, sv_true, _articulation(T, single, b), T.claim_inflation[single], T.hard_sv_bias[single], b
        )
        return BidBook(
            rows=single,
            which=np.arange(single.size),
            shares=np.ones(single.size),
            kind_code=T.kind[single],
            price_gbp=self.price[pos],
            cost_gbp=self.cost[pos],
            quality=np.minimum(np.maximum(T.quality[single] + self.noise[pos], 0.0), 1.0),
            sv_true=sv_true,
            sv_claim_hard=hard,
            sv_claim_soft=soft,
            credibility=T.credibility[single],
            track_record=T.track_record[single],
            hard_delivered=T.hard_sv_delivered[single],
            sv_shading=T.sv_shading[single],
        )

    def vso_opportunities(self, i: int) -> int:
        """Active local small VSOs at tender ``i`` (each had an opportunity to bid)."""
        return self._n_vso[i]

    def local_rows(self, i: int) -> np.ndarray:
        """The providers serving tender ``i``'s authority."""
        return self.rows[self._bounds[i] : self._bounds[i + 1]]

    def local_vsos(self, i: int) -> np.ndarray:
        """Which of ``local_rows(i)`` are small VSOs (a mask)."""
        return self.is_vso[self._bounds[i] : self._bounds[i + 1]]

    def local_participants(self, i: int) -> int:
        """How many of ``local_rows(i)`` are small VSOs that have taken part in co-design: the
        compiled (``kernels.count_participants``) ``local_participants_reference``."""
        return count_participants(
            self._bounds[i], self._bounds[i + 1], self.rows, self.is_vso, self.model.pop.codesign_participant
        )

    def local_participants_reference(self, i: int) -> int:
        """How many of ``local_rows(i)`` are small VSOs that have taken part in co-design (NumPy)."""
        return int(np.count_nonzero(self.local_vsos(i) & self.model.pop.codesign_participant[self.local_rows(i)]))

    def bids(self, i: int, tender: Tender) -> BidBook | None:
        """The bids on tender ``i`` (as specified after engagement): single providers that want
        to bid, then at most one consortium of small VSOs too small to bid alone.

        Returns:
            The tender's bids, or None when nobody bids.
        """
        lo, hi = self._bounds[i], self._bounds[i + 1]
        if hi == lo:
            return None
        n_want, n_blocked = self._screen(lo, hi, True)
        return self._bids(i, tender, n_want, n_blocked)

    def bids_screened(self, i: int, tender: Tender, n_fresh: int, n_want: int, n_blocked: int) -> BidBook | None:
        """``bids`` of tender ``i`` after ``kernels.quiet_tenders`` screened its pairs (and
        returned the screen's counts)."""
        if n_fresh:
            n_want += self._decide_fresh(n_fresh)
        return self._bids(i, tender, n_want, n_blocked)

    def _bids(self, i: int, tender: Tender, n_want: int, n_blocked: int) -> BidBook | None:
        model = self.model
        lo, hi = self._bounds[i], self._bounds[i + 1]
        rows = self.rows[lo:hi]
        want = self.want[lo:hi]
        blocked = self.blocked[lo:hi]
        if tender.excluded:
            barred = np.isin(rows, np.fromiter(tender.excluded, np.int64))
            want = want & ~barred
            blocked = blocked & ~barred
            n_want, n_blocked = np.count_nonzero(want), np.count_nonzero(blocked)
        consortium = model.policies.consortia and n_blocked >= 2
        if not consortium and not n_want:
            return None
        book = self.book(i, tender, want)
        if consortium:
            collaborative = bool(self.framing[lo] != 0.0)
            _add_consortium(model, tender, rows[blocked], collaborative, book)
        return book if len(book) else None


def collect_bids(model: FieldModel, tender: Tender, collaborative: bool | None = None) -> BidBook | None:
    """Every bid on one ``tender``, screened on its own (see ``RoundBids``).

    Args:
        collaborative: the commissioner's framing (default: its framing this year).

    Returns:
        The tender's bids, or None when nobody bids.
    """
    framing = None if collaborative is None else [collaborative]
    return RoundBids(model, [tender], framing).bids(0, tender)


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
    (Th §2.3, §5.2).  An infrastructure body, when present, brokers: VSOs with less
    skill of their own can join, and coordination costs less.
    """
    T = model.pop
    b = model.behaviour
    pol = model.policies
    rng = model.streams.tendering
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

    A consortium's bid costs what its slowest writer's would.  The compiled twin
    (``kernels.pay_bids``) of ``pay_bid_costs_reference``.
    """
    count_bid_costs(model, book, pay_bids(*bid_cost_args(model, tender, book)))


def bid_cost_args(model: FieldModel, tender: Tender, book: BidBook) -> tuple:
    """The arguments of ``kernels.pay_bids`` for ``book`` (``pay_bid_costs``)."""
    T = model.pop
    b = model.behaviour
    return (
        book.rows,
        book.which,
        book.shares,
        len(book),
        _bid_base_gbp(tender.ceiling_gbp, b),
        float(model.policies.tender_window_weeks),
        float(b.window_cost_exponent),
        T.tender_prep_weeks,
        T.reserves_gbp,
        T.spent_bids_gbp,
        T.bids_this_year,
        T.bids,
        T.kind,
        T.codesign_participant,
        T.criteria_awareness,
        VSO,
        float(model.totals.awareness_bidders_sum),
    )


def count_bid_costs(model: FieldModel, book: BidBook, paid: tuple[int, int, float]) -> None:
    """The run's bid counters after ``kernels.pay_bids`` paid ``book``'s bid costs (``paid``:
    what it returned)."""
    n_vso, n_participants, awareness = paid
    tot = model.totals
    tot.participant_bids += n_participants
    # What the commissioner sees of bidders' grasp of its criteria (F16).
    tot.awareness_bidders_sum = np.float64(awareness)  # the reference's running NumPy sum
    tot.vso_bids += n_vso
    model.step_acc.vso_bids += n_vso
    tot.awareness_bidders_n += book.rows.size
    tot.bids += len(book)


def learn(model: FieldModel, book: BidBook, winner: int) -> None:
    """Win beliefs and markups of every bidder after an award (step part 10); the bidders are
    marked changed for the rest of the round (``ProviderTable.mark_changed``).

    The compiled twin (``kernels.learn_bids``) of ``learn_reference``.
    """
    T = model.pop
    b = model.behaviour
    n_vso = learn_bids(
        book.rows,
        book.which,
        book.price_gbp,
        int(winner),
        float(b.belief_learning_rate),
        float(b.max_markup),
        float(b.markup_win_step_share * b.markup_step),
        float(b.markup_step),
        bool(model.policies.feedback_to_participants),
        float(b.feedback_awareness_gain),
        T.belief,
        T.markup,
        T.min_markup,
        T.wins,
        T.criteria_awareness,
        T.kind,
        VSO,
        T.changed,
    )
    model.totals.vso_wins += n_vso
    model.step_acc.vso_wins += n_vso


def pay_bid_costs_reference(model: FieldModel, tender: Tender, book: BidBook) -> None:
    """Every bidder pays its share of writing the bid and counts it against its bid capacity.

    A consortium's bid costs what its slowest writer's would.  The readable reference of
    ``pay_bid_costs``, in plain Python (tests/test_kernels.py checks they agree).
    """
    T = model.pop
    tot = model.totals
    b = model.behaviour
    window = model.policies.tender_window_weeks
    base = max(b.bid_cost_floor_gbp, b.bid_cost_share * tender.ceiling_gbp)
    rows = book.rows.tolist()
    which = book.which.tolist()
    shares = book.shares.tolist()
    prep = T.tender_prep_weeks
    factor = [max(1.0, prep[r] / window) ** b.window_cost_exponent for r in rows]
    if len(rows) == len(book):  # single providers only: one member per bid
        costs = [base * f for f in factor]
    else:
        slowest = [0.0] * len(book)
        for w, f in zip(which, factor, strict=True):
            slowest[w] = max(slowest[w], f)
        costs = [base * slowest[w] * s for w, s in zip(which, shares, strict=True)]
    n_vso = 0
    for r, cost in zip(rows, costs, strict=True):
        T.reserves_gbp[r] -= cost
        T.spent_bids_gbp[r] += cost
        T.bids_this_year[r] += 1.0
        T.bids[r] += 1.0
        if T.kind[r] == VSO:
            n_vso += 1
            tot.participant_bids += bool(T.codesign_participant[r])
        # What the commissioner sees of bidders' grasp of its criteria (F16).
        tot.awareness_bidders_sum += T.criteria_awareness[r]
    tot.vso_bids += n_vso
    model.step_acc.vso_bids += n_vso
    tot.awareness_bidders_n += len(rows)
    tot.bids += len(book)


def learn_reference(model: FieldModel, book: BidBook, winner: int) -> None:
    """Win beliefs and markups of every bidder after an award (step part 10).

    Losers stop expecting to win (Th §5.4); a win lets the markup rise by
    ``behaviour.markup_win_step_share`` of a step, a loss on price cuts it a step; a debrief
    (``policies.feedback_to_participants``) teaches losers the criteria; the bidders are marked
    changed for the rest of the round (``ProviderTable.mark_changed``).  The readable
    reference of ``learn``, in plain Python (tests/test_kernels.py checks they agree).
    """
    T = model.pop
    b = model.behaviour
    lr = b.belief_learning_rate
    debrief = model.policies.feedback_to_participants
    prices = book.price_gbp.tolist()
    win_price = prices[winner]
    n_vso = 0
    for r, w in zip(book.rows.tolist(), book.which.tolist(), strict=True):
        if w == winner:
            T.belief[r] += lr * (1.0 - T.belief[r])
            T.markup[r] = min(b.max_markup, T.markup[r] + b.markup_win_step_share * b.markup_step)
            T.wins[r] += 1.0
            n_vso += T.kind[r] == VSO
            continue
        T.belief[r] -= lr * T.belief[r]
        if prices[w] > win_price:
            T.markup[r] = max(T.min_markup[r], T.markup[r] - b.markup_step)
        if debrief:
            T.criteria_awareness[r] += b.feedback_awareness_gain * (1.0 - T.criteria_awareness[r])
    model.totals.vso_wins += int(n_vso)
    model.step_acc.vso_wins += int(n_vso)
    T.mark_changed(book.rows)
