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

from safsim.bidding import _DEFINITION_CODE, BidBook, RoundBids, bid_cost_args, count_bid_costs, learn
from safsim.config import Engagement, SvDefinition
from safsim.delivery import open_contract
from safsim.engagement import engage, engagement_cost_gbp
from safsim.kernels import QUIET_BEFORE, QUIET_DONE, QUIET_SCREENED, pay_and_score, quiet_tenders
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
_RUNG = {e: e.rung for e in Engagement}
_NO_DRAWS = np.zeros(0)

# Rounds of at least this many tenders run their tenders without bids in compiled batches
# (``_run_quietly``; the same draws and decisions as tender by tender, faster where many
# tenders draw no bid, as with many small lots; in a small round its set-up costs more than
# it saves).
QUIET_MIN_TENDERS = 32


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
    if len(portions) == 1:
        areas = bits[portions[0][0]]  # sum() of one: 0 + bits
    else:
        areas = 0
        for i, _ in portions:
            areas += bits[i]
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
        areas_mask=areas,
        years=duration / spy,
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
                # The next equal part of a split lot: the same tender with the next id, its
                # record (``dataclasses.replace`` with that id) made only if it is awarded
                # (``_conclude``).
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
    if len(tenders) >= QUIET_MIN_TENDERS:
        _run_quietly(model, tenders, [ids[i] for i in order], screened)
        return
    for i, tender in enumerate(tenders):
        _run(model, engage(model, tender), screened, i, ids[order[i]])


def _run_quietly(model: FieldModel, tenders: list[Tender], tender_ids: list[int], screened: RoundBids) -> None:
    """The round's tenders in order, those that draw no bid in compiled batches.

    ``kernels.quiet_tenders`` runs tenders one after another (their engagement by consultation
    or none, their count, their screen) until one must go on in Python: one that may draw a
    bid is finished here from its screen (``RoundBids.bids_screened``, ``_conclude``); a
    co-design round, a reimbursed round, a tender with barred participants or tied invitations
    is run as ``engage`` and ``_run`` run it.  The engagement draws of a batch are drawn from
    the tendering stream up front, and the stream is set back to just after the draws the
    batch used, so every draw is the one the tender-by-tender round makes.  Same counters,
    in the same order where they are running float sums.
    """
    T = model.pop
    b = model.behaviour
    pol = model.policies
    comms = model.commissioners
    rng = model.streams.tendering
    bg = rng.bit_generator
    n = len(tenders)
    n_comm = len(comms)
    reimburse = pol.reimburse_engagement
    multiple = b.engagement_reserve_multiple
    # Per record (equal parts of a split lot share one, RoundBids.records), then per tender:
    # commissioner, engagement code (0 none, 1 consultation, 2 Python's), definition code; SV
    # weight, engagement cost, threshold.
    codes, figures = [], []
    for t in screened.records:
        code = _RUNG[t.engagement]
        if code >= 2 or (code == 1 and reimburse) or t.excluded:
            code = 2
        cost = engagement_cost_gbp(t, b) if code == 1 else 0.0
        codes.append((t.commissioner, code, _DEFINITION_CODE[t.sv_definition]))
        figures.append((t.sv_weight, cost, multiple * cost))
    records = screened.records
    record_of = screened.record_of
    comm, rung, definition = np.array(codes, np.int64).reshape(-1, 3)[record_of].T.copy()
    sv_weight, cost, threshold = np.array(figures, float).reshape(-1, 3)[record_of].T.copy()
    # Per commissioner: the engagement pool (ProviderTable.serves_small), invitees, take-up.
    consulting = set(comm[rung == 1].tolist())
    empty = np.zeros(0, np.int64)
    pools = [T.serves_small(c) if c in consulting else empty for c in range(n_comm)]
    pool_size = np.fromiter((p.size for p in pools), np.int64, n_comm)
    pool_lo = np.concatenate(([0], np.cumsum(pool_size)))
    pool_rows = np.concatenate(pools) if n_comm else empty
    n_invited = np.minimum(pool_size, b.codesign_invitees)
    slope = b.participation_trust_slope
    p_take_part = np.array([1.0 - slope + slope * c.trust for c in comms], float)
    need = np.where(rung == 1, (pool_size + n_invited)[comm], 0)
    drawn_before = np.concatenate(([0], np.cumsum(need))).tolist()
    python_at = [*np.flatnonzero(rung == 2).tolist(), n]
    out = model.invite_scratch
    if out.size < b.codesign_invitees:
        out = model.invite_scratch = np.empty(b.codesign_invitees, np.int64)
    # Counters (kernels.quiet_tenders), put on the totals at the end; running float sums kept
    # here and handed to and from the tenders that run in Python.
    t = model.totals
    ints = np.zeros(10, np.int64)
    floats = np.array([t.sv_weight_sum, t.engagement_cost_unpaid], float)
    comm_ints = np.zeros((2, n_comm), np.int64)
    comm_sv = np.array([c.sv_weight_sum for c in comms], float)
    engaged_first = np.zeros(n_comm, np.int64)
    engaged_flag = np.zeros(n_comm, bool)
    engaged = model.engaged_this_step
    count_part = np.array([model.codesign_happened])  # co-design in a tender run in Python sets it
    fixed = (
        cost,
        threshold,
        screened.n_vso,
        screened.offsets,
        pool_rows,
        pool_lo,
        n_invited,
        p_take_part,
        b.participant_awareness_gain,
    )
    rest = (
        T.local_knowledge,
        T.spent_engagement_gbp,
        T.criteria_awareness,
        out,
        count_part,
        screened.is_vso,
        T.codesign_participant,
        pol.consortia,
        ints,
        floats,
        comm_ints,
        comm_sv,
        engaged_first,
        engaged_flag,
        *screened._screen_args,
    )
    batch = 1
    i = 0
    next_python = 0  # index into python_at
    while i < n:
        while python_at[next_python] < i:
            next_python += 1
        stop = min(python_at[next_python], i + batch)
        k = stop
        status = QUIET_BEFORE
        if stop > i:
            n_draws = drawn_before[stop] - drawn_before[i]
            saved = bg.state if n_draws and stop - i > 1 else None
            u = rng.random(n_draws) if n_draws else _NO_DRAWS
            k, status, n_fresh, n_want, n_blocked, used = quiet_tenders(
                i, stop, comm, rung, definition, sv_weight, *fixed, u, *rest
            )
            if ints[9]:  # commissioners whose consultation had participants, in order
                for c in engaged_first[: ints[9]].tolist():
                    engaged[c] = max(engaged.get(c, 0), 1)
                    engaged_flag[c] = False
                ints[9] = 0
            if k - i > 4:  # the batch's tenders drew no bid: their lines' failures, per record
                # (a failure count is a whole number: adding 1 a time up to the cap, over the
                # batch in any order, is adding them all at once up to the cap)
                counts = np.bincount(record_of[i:k], minlength=len(records))
                for j in np.flatnonzero(counts).tolist():
                    record = records[j]
                    fails = comms[record.commissioner].line_failures
                    for line, _ in record.portions:
                        fails[line] = min(fails[line] + int(counts[j]), MAX_FAILED_ROUNDS)
            else:
                for j in range(i, k):
                    fails = comms[tenders[j].commissioner].line_failures
                    for line, _ in tenders[j].portions:
                        fails[line] = min(fails[line] + 1, MAX_FAILED_ROUNDS)
            if used < n_draws:
                if saved is None:  # one tender, stopped before its engagement: its own draws
                    u_left = u
                else:
                    bg.state = saved
                    if used:
                        rng.random(used)
                    u_left = None
            else:
                u_left = None
            batch = min(2 * batch, n) if status == QUIET_DONE else 1
        else:
            u_left = None
        if status == QUIET_DONE:
            i = stop
            continue
        tender = tenders[k]
        c = comms[tender.commissioner]
        if status == QUIET_SCREENED:
            _conclude(model, c, tender, screened.bids_screened(k, tender, n_fresh, n_want, n_blocked), tender_ids[k])
        else:  # the tender in Python, the running sums handed over and back
            t.sv_weight_sum = float(floats[0])
            t.engagement_cost_unpaid = float(floats[1])
            c.sv_weight_sum = float(comm_sv[c.index])
            _run(model, engage(model, tender, u_left), screened, k, tender_ids[k])
            floats[0] = t.sv_weight_sum
            floats[1] = t.engagement_cost_unpaid
            comm_sv[c.index] = c.sv_weight_sum
            count_part[0] = model.codesign_happened
        i = k + 1
    t.sv_weight_sum = float(floats[0])
    t.engagement_cost_unpaid = float(floats[1])
    (n_tenders, n_supplier, n_codefined, n_vso, n_participant, n_engaged, n_inv, n_part, n_rounds, _) = ints.tolist()
    t.tenders += n_tenders
    model.step_acc.tenders += n_tenders
    t.supplier_defined_tenders += n_supplier
    t.codefined_tenders += n_codefined
    t.vso_opportunities += n_vso
    model.step_acc.vso_opportunities += n_vso
    t.participant_opportunities += n_participant
    t.engaged_tenders += n_engaged
    t.engagement_invited += n_inv
    t.engagement_participants += n_part
    t.engagement_rounds += n_rounds
    for c, n_c, n_open, sv in zip(comms, *comm_ints.tolist(), comm_sv.tolist(), strict=True):
        c.tenders_n += n_c
        c.supplier_defined_n += n_open
        c.sv_weight_sum = sv


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
    _conclude(model, comm, tender, screened.bids(i, tender), tender_id)


def _conclude(
    model: FieldModel, comm: Commissioner, tender: Tender, book: BidBook | None, tender_id: int | None
) -> None:
    """A tender's bid costs, award, learning and contract once its bids are known (``_run``)."""
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
