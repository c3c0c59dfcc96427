"""Tenders, bids and awards, and the MEAT award rule (contracts are in safsim.delivery).

Objects:
    Tender: one procurement round of a commissioner (frozen record).
    Bid: one offer, by a provider or a consortium (frozen record).
    Award: the outcome of a tender, with every bid's score breakdown and the counterfactual
        winner without social value (frozen record).
    perceived_social_value: what the commissioner believes each bid's social value to be.
    score_bids: vectorised MEAT scores for all bids of a tender.
    Scored: the award decision on bids given as arrays.
    score_and_pick: score bids given as arrays, break ties through the run's generator, and
        record the counterfactual winner without social value (score_args, the compiled
        scores, then pick_winner; the tender round calls the two parts around one kernel).
    award: the same for a list of ``Bid`` records.

Everything here is a pure function of its arguments; randomness comes in as ``rng``.
The award rule (step part 7, docs/ODD.md): price is scored as lowest price / price,
quality and social value relative to the best bid (Th §4.3, §6.1, K78-80).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safsim.config import BehaviourConfig, Engagement, SvDefinition
from safsim.kernels import score_pick

__all__ = [
    "Award",
    "Bid",
    "Scored",
    "Tender",
    "award",
    "effective_understanding",
    "perceived_social_value",
    "pick_winner",
    "score_and_pick",
    "score_args",
    "score_bids",
    "soft_legibility",
]


@dataclass(frozen=True, slots=True)
class Tender:
    """One procurement round.

    Attributes:
        tender_id: unique within the run.
        commissioner: index of the commissioner.
        step: the step the tender was issued.
        volume_gbp: standard-cost service volume per year (what delivery costs at unit cost 1).
        ceiling_gbp: most the commissioner will pay per year (its current budget for the lot).
        duration_steps: contract length in steps.
        portions: ((line, fraction), ...) of the commissioner's service lines the lot covers.
        price_weight, quality_weight, sv_weight: award weights (sum to 1).
        engagement: the pre-procurement engagement that preceded it.
        sv_definition: who defined social value for it.
        eligibility_turnover_gbp: minimum annual turnover of a bidder.
        years: contract length in years.
        areas_mask: bit mask of the service areas the lot spans (bidders must cover all).
        excluded: provider table rows (``model.pop``) barred from bidding (co-design participants,
            optional rule); not agent ids.
    """

    tender_id: int
    commissioner: int
    step: int
    volume_gbp: float
    ceiling_gbp: float
    duration_steps: int
    portions: tuple[tuple[int, float], ...]
    price_weight: float
    quality_weight: float
    sv_weight: float
    engagement: Engagement
    sv_definition: SvDefinition
    eligibility_turnover_gbp: float
    years: float
    areas_mask: int = 1
    excluded: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Bid:
    """One offer on a tender.

    Attributes:
        members: provider ids (one for a single provider, several for a consortium).
        shares: each member's share of delivery (sums to 1).
        kind: provider kind value, or ``"consortium"``.
        price_gbp: total price over the contract term.
        cost_gbp: the bidder's own delivery cost over the term (private, not scored).
        quality: perceived quality (0-1).
        sv_true: social value the bidder would really deliver over the term.
        sv_claim_hard, sv_claim_soft: social value claimed, by category.
        credibility: the commissioner's discount on this bidder's claims (0-1; 1 = believed).
        track_record: the bidder's delivery record (0-1).
        hard_delivered: share of true delivered value in hard categories.
        sv_shading: share of social value the bidder drops if the contract is not monitored.
    """

    members: tuple[int, ...]
    shares: tuple[float, ...]
    kind: str
    price_gbp: float
    cost_gbp: float
    quality: float
    sv_true: float
    sv_claim_hard: float
    sv_claim_soft: float
    credibility: float
    track_record: float
    hard_delivered: float
    sv_shading: float = 0.0

    @property
    def sv_claim(self) -> float:
        return self.sv_claim_hard + self.sv_claim_soft


@dataclass(frozen=True, slots=True)
class Award:
    """The outcome of a tender.

    Attributes:
        tender: the tender.
        bids: every bid, in submission order.
        winner: index into ``bids`` of the winner.
        scores, price_scores, quality_scores, sv_scores: the breakdown of every bid.
        counterfactual_winner: index of the winner with ``sv_weight = 0`` (weights renormalised).
    """

    tender: Tender
    bids: tuple[Bid, ...]
    winner: int
    scores: np.ndarray
    price_scores: np.ndarray
    quality_scores: np.ndarray
    sv_scores: np.ndarray
    counterfactual_winner: int

    @property
    def winning_bid(self) -> Bid:
        return self.bids[self.winner]

    @property
    def changed_by_sv(self) -> bool:
        return self.winner != self.counterfactual_winner


def soft_legibility(definition: SvDefinition, behaviour: BehaviourConfig) -> float:
    """How much a soft (well-being, cohesion) claim counts when scored, by definition mode.

    Hard claims (jobs, apprenticeships, volunteers, donations) are easy to score and count
    fully (Th §2.5, §4.3).  A commissioner's own list mostly names hard categories,
    so soft claims count half as much again; a locally co-defined specification names the
    soft outcomes that matter, so they count fully (Th §6.1, K106-113).
    """
    if definition is SvDefinition.co_defined_local:
        return 1.0
    if definition is SvDefinition.commissioner_list:
        return behaviour.list_soft_legibility_factor * behaviour.soft_legibility
    return behaviour.soft_legibility


def effective_understanding(understanding: float, definition: SvDefinition, behaviour: BehaviourConfig) -> float:
    """The weight a commissioner gives to true rather than claimed social value.

    Understanding is raised by a commissioner-written list and more by a co-defined
    specification ("scoring depends on the commissioner's understanding", Th §6.1).
    """
    if definition is SvDefinition.commissioner_list:
        bonus = behaviour.list_understanding_bonus
    elif definition is SvDefinition.co_defined_local:
        bonus = behaviour.codefined_understanding_bonus
    else:
        bonus = 0.0
    return float(min(1.0, understanding + bonus))


def perceived_social_value(
    sv_true: np.ndarray,
    claim_hard: np.ndarray,
    claim_soft: np.ndarray,
    credibility: np.ndarray,
    understanding: float,
    legibility: float,
) -> np.ndarray:
    """Perceived social value of each bid.

    ``understanding * true + (1 - understanding) * credibility * (hard + legibility * soft)``:
    a commissioner who understands social value sees what will really be delivered; one who
    does not takes the written claim, soft parts discounted ("you just took whatever they gave
    you", Th §4.3; the LA takes corporate offers "without contesting", Th §5.4).
    """
    written = credibility * (claim_hard + legibility * claim_soft)
    return understanding * sv_true + (1.0 - understanding) * written


def _relative_to_best(x: np.ndarray) -> np.ndarray:
    top = float(x.max()) if x.size else 0.0
    if top <= 0.0:
        return np.zeros_like(x)
    return x / top


def _against(x: np.ndarray, full_marks: float) -> np.ndarray:
    """Answers as shares of the top mark: of the best answer (``full_marks`` 0), or of a rubric's
    top descriptor, which an answer offering ``full_marks`` or more reaches."""
    if full_marks <= 0.0:
        return _relative_to_best(x)
    return np.minimum(x / full_marks, 1.0)


def _marks(x: np.ndarray, levels: int) -> np.ndarray:
    """Relative scores rounded to a 0..levels marking scale (levels = 0 keeps them exact)."""
    if levels <= 0:
        return x
    return np.rint(x * levels) / levels


def score_bids(
    prices: np.ndarray,
    quality: np.ndarray,
    sv_perceived: np.ndarray,
    track_record: np.ndarray,
    weights: tuple[float, float, float],
    track_weight: float,
    score_levels: int = 0,
    sv_range: float = 1.0,
    sv_full_marks: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MEAT scores of all bids: one vectorised expression.

    ``w_p * min(price)/price + w_q * marks(q/max(q)) + w_sv * marks(sv_range * min(1, sv/F))
    + track_weight * track``, where ``marks`` rounds to a 0..score_levels scale as
    evaluators mark written answers (price is scored by formula, unrounded), ``sv_range``
    is the share of the SV marking scale the evaluator uses and ``F = sv_full_marks`` is
    what an SV answer must offer for the rubric's top mark (0: ``F = max(sv)``, marks
    relative to the best answer).

    Returns:
        (scores, price_scores, quality_scores, sv_scores).
    """
    wp, wq, ws = weights
    price_scores = prices.min() / prices
    quality_scores = _marks(_relative_to_best(quality), score_levels)
    sv_scores = _marks(sv_range * _against(sv_perceived, sv_full_marks), score_levels)
    scores = wp * price_scores + wq * quality_scores + ws * sv_scores + track_weight * track_record
    return scores, price_scores, quality_scores, sv_scores


def _argmax_tiebreak(scores: np.ndarray, rng: np.random.Generator) -> int:
    best = (scores >= scores.max() - 1e-12).nonzero()[0]
    if best.size == 1:
        return int(best[0])
    return int(best[rng.integers(best.size)])


@dataclass(frozen=True, slots=True)
class Scored:
    """The award decision on a tender's bids, as arrays (one entry per bid).

    Attributes:
        winner: index of the winning bid.
        counterfactual_winner: index of the winner with ``sv_weight = 0`` (weights renormalised).
        scores, price_scores, quality_scores, sv_scores: the breakdown of every bid.
    """

    winner: int
    counterfactual_winner: int
    scores: np.ndarray
    price_scores: np.ndarray
    quality_scores: np.ndarray
    sv_scores: np.ndarray


def score_and_pick(
    tender: Tender,
    prices: np.ndarray,
    quality: np.ndarray,
    sv_true: np.ndarray,
    claim_hard: np.ndarray,
    claim_soft: np.ndarray,
    credibility: np.ndarray,
    track_record: np.ndarray,
    understanding: float,
    risk_aversion: float,
    behaviour: BehaviourConfig,
    rng: np.random.Generator,
    diagnostics_rng: np.random.Generator | None = None,
) -> Scored:
    """Score every bid (given as arrays) and pick the winner; also the winner without SV.

    Risk-averse commissioners add a track-record term (they prefer "a good contract delivery
    record", Th §5.2).  Ties break through ``rng``; a tie in the counterfactual (a
    diagnostic the model does not act on) breaks through ``diagnostics_rng`` (default ``rng``),
    so that computing it never changes the run.
    """
    if prices.size == 0:
        raise ValueError("a tender with no bids cannot be awarded")
    # Compiled twin of perceived_social_value + score_bids and the tie rule of _argmax_tiebreak
    # (tests/test_kernels.py checks it equals them); the tie-break draws stay in pick_winner.
    args = score_args(tender, understanding, risk_aversion, behaviour)
    scored = score_pick(prices, quality, sv_true, claim_hard, claim_soft, credibility, track_record, *args)
    return pick_winner(scored, tender, rng, diagnostics_rng)


def score_args(tender: Tender, understanding: float, risk_aversion: float, behaviour: BehaviourConfig) -> tuple:
    """The arguments of ``kernels.score_pick`` after the seven columns of the bids (``score_and_pick``)."""
    u_eff = effective_understanding(understanding, tender.sv_definition, behaviour)
    legibility = soft_legibility(tender.sv_definition, behaviour)
    track_weight = behaviour.track_record_weight * risk_aversion
    # A commissioner who understands social value little scores it low and undifferentiated
    # ("a weak understanding of social value often attracts a low score", Th §4.3, §6.1; scoring
    # "depends on the commissioner's understanding", Th §6.1).
    sv_range = u_eff if behaviour.sv_score_range_by_understanding else 1.0
    full_marks = behaviour.sv_full_marks_rate * tender.volume_gbp * tender.years
    pq = tender.price_weight + tender.quality_weight
    cf_w = (tender.price_weight / pq, tender.quality_weight / pq) if pq > 0 else (1.0, 0.0)
    return (
        float(u_eff),
        float(legibility),
        float(tender.price_weight),
        float(tender.quality_weight),
        float(tender.sv_weight),
        float(track_weight),
        int(behaviour.score_levels),
        float(sv_range),
        float(full_marks),
        float(cf_w[0]),
        float(cf_w[1]),
        tender.sv_weight > 0.0,
    )


def pick_winner(
    scored: tuple, tender: Tender, rng: np.random.Generator, diagnostics_rng: np.random.Generator | None = None
) -> Scored:
    """The winner and the counterfactual winner from what ``kernels.score_pick`` returned,
    ties broken by draws (``score_and_pick``)."""
    scores, ps, qs, ss, best, cf_best = scored
    winner = int(best[0]) if best.size == 1 else int(best[rng.integers(best.size)])
    if tender.sv_weight > 0.0:
        # The counterfactual keeps the actual winner when it is among the tied best, so that a
        # tie-break alone never counts as a change of winner.
        if winner in cf_best.tolist():
            counterfactual = winner
        elif cf_best.size == 1:
            counterfactual = int(cf_best[0])
        else:
            tie_rng = rng if diagnostics_rng is None else diagnostics_rng
            counterfactual = int(cf_best[tie_rng.integers(cf_best.size)])
    else:
        counterfactual = winner
    return Scored(winner, counterfactual, scores, ps, qs, ss)


def award(
    tender: Tender,
    bids: list[Bid] | tuple[Bid, ...],
    understanding: float,
    risk_aversion: float,
    behaviour: BehaviourConfig,
    rng: np.random.Generator,
) -> Award:
    """Score a list of ``Bid`` records and pick the winner (``score_and_pick`` on their fields)."""
    if not bids:
        raise ValueError("a tender with no bids cannot be awarded")

    def col(name: str) -> np.ndarray:
        return np.fromiter((getattr(b, name) for b in bids), float, len(bids))

    s = score_and_pick(
        tender,
        col("price_gbp"),
        col("quality"),
        col("sv_true"),
        col("sv_claim_hard"),
        col("sv_claim_soft"),
        col("credibility"),
        col("track_record"),
        understanding,
        risk_aversion,
        behaviour,
        rng,
    )
    return Award(
        tender=tender,
        bids=tuple(bids),
        winner=s.winner,
        scores=s.scores,
        price_scores=s.price_scores,
        quality_scores=s.quality_scores,
        sv_scores=s.sv_scores,
        counterfactual_winner=s.counterfactual_winner,
    )
