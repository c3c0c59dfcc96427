"""The tender round: lots issued, engagement, bids, award and contract (step part 3-7).

Objects:
    MAX_FAILED_ROUNDS: how many rounds without bids a lot is cut for at most.
    make_tender: the tender for one lot of a commissioner, with its award weights.
    tender_round: every commissioner's lots of the step, run in random order.
    run_tender: one tender from bids to contract.

Who bids and on what terms is ``safsim.bidding``; the award rule is ``safsim.tendering``; the
contract is ``safsim.delivery``.  See docs/ODD.md, "Submodels: tender round".
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from safsim.bidding import BidBook, RoundBids, bid_cost_args, count_bid_costs, learn
from safsim.config import Engagement, SvDefinition
from safsim.delivery import open_contract
from safsim.engagement import engage
from safsim.kernels import pay_and_score
from safsim.population import VSO
from safsim.tendering import Scored, Tender, pick_winner, score_args

if TYPE_CHECKING:  # pragma: no cover
    from safsim.agents import Commissioner
    from safsim.model import FieldModel

__all__ = ["MAX_FAILED_ROUNDS", "make_tender", "run_tender", "tender_round"]

# A lot re-specified after this many rounds without bids is not cut further (a numerical
# floor on the re-specification rule, not a behavioural parameter).
MAX_FAILED_ROUNDS = 10

# Engagement levels at co-design or above (``rung >= 2``), looked up without ``Engagement.rung``.
_CODESIGN_LEVELS = frozenset(e for e in Engagement if e.rung >= 2)


def make_tender(
    model: FieldModel,
    c: Commissioner,
    step: int,
    portions: tuple[tuple[int, float], ...],
    volume: float,
    ceiling: float,
) -> Tender:
    """The tender for one lot; lots outside the Act's scope carry no SV criterion unless a
    local policy brings it in (K50-54, Th §6.1)."""
    tid = model.next_tender_id
    model.next_tender_id += 1
    spy = model.steps_per_year
    duration = model.scenario.commissioners.contract_years * spy
    weights = (c.price_weight, c.quality_weight, c.sv_weight)
    bits = c.line_area_bits()
    if c.sv_weight > 0 and not c.has_sv_policy and not model.government.in_scope(ceiling * duration / spy):
        pq = c.price_weight + c.quality_weight
        weights = (c.price_weight / pq, c.quality_weight / pq, 0.0) if pq > 0 else (1.0, 0.0, 0.0)
    return Tender(
        tender_id=tid,
        commissioner=c.index,
        step=step,
        volume_gbp=volume,
        ceiling_gbp=ceiling,
        duration_steps=duration,
        portions=portions,
        price_weight=weights[0],
        quality_weight=weights[1],
        sv_weight=weights[2],
        engagement=c.engagement,
        sv_definition=c.sv_definition,
        eligibility_turnover_gbp=model.behaviour.eligibility_turnover_multiple * c.risk_aversion * ceiling,
        areas_mask=sum(bits[i] for i, _ in portions),
        years=duration / spy,
    )


def _next_part(model: FieldModel, tender: Tender) -> Tender:
    """Another part of a lot split into equal parts: ``tender`` with the next tender id (what
    ``make_tender`` gives for the same lot, without working it out again)."""
    tid = model.next_tender_id
    model.next_tender_id += 1
    return Tender(
        tender_id=tid,
        commissioner=tender.commissioner,
        step=tender.step,
        volume_gbp=tender.volume_gbp,
        ceiling_gbp=tender.ceiling_gbp,
        duration_steps=tender.duration_steps,
        portions=tender.portions,
        price_weight=tender.price_weight,
        quality_weight=tender.quality_weight,
        sv_weight=tender.sv_weight,
        engagement=tender.engagement,
        sv_definition=tender.sv_definition,
        eligibility_turnover_gbp=tender.eligibility_turnover_gbp,
        years=tender.years,
        areas_mask=tender.areas_mask,
        excluded=tender.excluded,
    )


def tender_round(model: FieldModel, step: int) -> None:
    """Every commissioner packages its uncovered lines into lots; tenders run in random order.

    Each tender's engagement round comes right before its bids; the bid decisions of the
    whole round are screened together (``bidding.RoundBids``).
    """
    lots: list[Tender] = []
    ids: list[int] = []
    for c in model.commissioners:
        last = None
        for lot in c.package_lots(model.behaviour):
            if lot is last:
                # The next equal part of a split lot: the same tender with the next id
                # (``_next_part``), its record made only if it is awarded (``_run``).
                lots.append(lots[-1])
                ids.append(model.next_tender_id)
                model.next_tender_id += 1
            else:
                tender = make_tender(model, c, step, *lot)
                lots.append(tender)
                ids.append(tender.tender_id)
                last = lot
    if not lots:
        return
    order = model.streams.tendering.permutation(len(lots)).tolist()
    tenders = [lots[i] for i in order]
    screened = RoundBids(model, tenders)
    for i, tender in enumerate(tenders):
        _run(model, engage(model, tender), screened, i, ids[order[i]])


def run_tender(model: FieldModel, tender: Tender) -> None:
    """Bids, bid costs, the award, learning and the contract of one tender on its own.

    A lot with no bids stays uncovered and is tendered again next step, re-specified smaller.
    """
    _run(model, tender, RoundBids(model, [tender]), 0)


def _count_tender(model: FieldModel, tender: Tender, comm: Commissioner, screened: RoundBids, i: int) -> None:
    t = model.totals
    t.tenders += 1
    model.step_acc.tenders += 1
    t.sv_weight_sum += tender.sv_weight
    t.codesign_tenders += tender.engagement in _CODESIGN_LEVELS
    t.supplier_defined_tenders += tender.sv_definition is SvDefinition.supplier_open
    t.codefined_tenders += tender.sv_definition is SvDefinition.co_defined_local
    comm.record_tender(tender)
    # Every active local small VSO had an opportunity to bid; co-design participants count
    # only where they were not barred (F8: the later bid rate).
    n_vso = screened.vso_opportunities(i)
    t.vso_opportunities += n_vso
    model.step_acc.vso_opportunities += n_vso
    if n_vso and model.codesign_happened:
        if not tender.excluded:
            t.participant_opportunities += screened.local_participants(i)
        else:
            rows = screened.local_rows(i)
            part = screened.local_vsos(i) & model.pop.codesign_participant[rows]
            if part.any():
                part &= ~np.isin(rows, np.fromiter(tender.excluded, np.int64))
            t.participant_opportunities += np.count_nonzero(part)


def _run(model: FieldModel, tender: Tender, screened: RoundBids, i: int, tender_id: int | None = None) -> None:
    """Tender ``i`` of ``screened`` (as specified after engagement); ``tender_id``: its id where
    ``tender`` is the record of an earlier equal part of the same split lot (every field but
    the id the same), which is then given its own id if it is awarded."""
    comm = model.commissioners[tender.commissioner]
    _count_tender(model, tender, comm, screened, i)
    book = screened.bids(i, tender)
    if book is None:
        for line, _ in tender.portions:
            comm.line_failures[line] = min(comm.line_failures[line] + 1, MAX_FAILED_ROUNDS)
        return
    if tender_id is not None and tender_id != tender.tender_id:
        tender = replace(tender, tender_id=tender_id)
    # pay_bid_costs, then score_and_pick, their kernels in one call (kernels.pay_and_score).
    paid, result = pay_and_score(
        *bid_cost_args(model, tender, book),
        book.price_gbp,
        book.quality,
        book.sv_true,
        book.sv_claim_hard,
        book.sv_claim_soft,
        book.credibility,
        book.track_record,
        *score_args(tender, comm.sv_understanding, comm.risk_aversion, model.behaviour),
    )
    count_bid_costs(model, book, paid)
    scored = pick_winner(result, tender, model.streams.tendering, model.streams.diagnostics)
    _award(model, comm, tender, book, scored)
    learn(model, book, scored.winner)  # also marks the bidders changed for the round's later tenders


def _award(model: FieldModel, comm: Commissioner, tender: Tender, book: BidBook, scored: Scored) -> None:
    t = model.totals
    w = scored.winner
    rows, shares = book.members(w)
    win_bid = book.bid(w, model.pop, (rows, shares))
    t.awards += 1
    t.winner_changed += int(scored.winner != scored.counterfactual_winner)
    # How the commissioner marked small VSOs' social-value answers (F16: bid quality), on the
    # tenders that scored social value at all.
    if tender.sv_weight > 0:
        kinds = book.kind_code.tolist()
        n_vso = kinds.count(VSO)
        # NumPy's sum of no score adds nothing to a total that is never -0.0, and its sum of one
        # score is 0.0 + that score; two or more are summed by NumPy, as before.
        if n_vso == 1:
            t.vso_sv_score_sum += 0.0 + scored.sv_scores.item(kinds.index(VSO))
        elif n_vso:
            t.vso_sv_score_sum += float(scored.sv_scores[book.kind_code == VSO].sum())
        t.vso_sv_score_n += n_vso
    price = win_bid.price_gbp
    t.value_by_kind[win_bid.kind] += price
    for r, s in zip(rows.tolist(), win_bid.shares, strict=True):
        t.value_by_provider[r] += s * price
    monitored = bool(model.streams.tendering.random() < comm.monitoring_rate)
    t.monitored_contracts += int(monitored)
    open_contract(model, comm, tender, win_bid, rows, shares, monitored)
    if model.record_awards:
        model.award_rows.append(
            {
                "tender_id": tender.tender_id,
                "step": tender.step,
                "commissioner": tender.commissioner,
                "volume_gbp": tender.volume_gbp,
                "ceiling_gbp": tender.ceiling_gbp,
                "sv_weight": tender.sv_weight,
                "price_weight": tender.price_weight,
                "engagement": tender.engagement.value,
                "sv_definition": tender.sv_definition.value,
                "n_bids": len(book),
                "winner_kind": win_bid.kind,
                "winner_members": ",".join(str(m) for m in win_bid.members),
                "price_gbp": win_bid.price_gbp,
                "winner_changed_by_sv": scored.winner != scored.counterfactual_winner,
                "counterfactual_kind": book.kinds[scored.counterfactual_winner],
                "monitored": monitored,
                "bid_kinds": ",".join(book.kinds),
                "scores": ",".join(f"{s:.4f}" for s in scored.scores),
            }
        )
