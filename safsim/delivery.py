"""Delivery and money: live contracts, payments, monitoring reviews.

Objects:
    Contract: one awarded contract (a record; its running figures live in the ContractBook).
    ContractBook: every contract of a run as arrays, one row per contract.
    pay: commissioner money to providers, booked by purpose (money conservation).
    spend: a cost out of providers' reserves, booked by purpose.
    open_contract: turn an award into a live contract.
    deliver: one step of delivery on every live contract: social value, claims, payments.
    end_contracts: close contracts (completed or lost on exit) and free their service lines.
    review_monitored: the yearly review of monitored contracts and drift on unmonitored ones.
    review_holders_reference: what the checks do to their holders, the readable rule that
        review_monitored runs compiled.

Sources and equations are in docs/ODD.md, "Submodels: delivery and money".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from safsim.config import PROVIDER_KINDS
from safsim.kernels import deliver_contracts, pay_members, pay_rows, release_holders, review_holders, spend_rows
from safsim.population import ProviderTable
from safsim.tendering import Bid, Tender, soft_legibility

if TYPE_CHECKING:  # pragma: no cover
    from safsim.agents import Commissioner
    from safsim.model import FieldModel

__all__ = [
    "BID_KINDS",
    "Contract",
    "ContractBook",
    "deliver",
    "deliver_reference",
    "end_contracts",
    "end_contracts_reference",
    "open_contract",
    "pay",
    "review_holders_reference",
    "review_monitored",
    "spend",
]

# Kinds of winning bid, in the order of the ContractBook's ``kind`` codes.
BID_KINDS: tuple[str, ...] = (*(k.value for k in PROVIDER_KINDS), "consortium")
_BID_KIND_CODE = {k: i for i, k in enumerate(BID_KINDS)}

_FLOAT_COLUMNS = (
    "sv_per_step",
    "claim_per_step",
    "claim_hard_per_step",
    "hard_delivered",
    "payment_per_step",
    "cost_per_step",
    "legibility",
    "volume_gbp",
    "delivered",
    "delivered_hard",
    "claimed_to_date",
    "claimed_hard_to_date",
)


@dataclass(frozen=True, slots=True)
class Contract:
    """One awarded contract: the tender, the winning bid and how it is followed up.

    ``bid.members`` names the holders by agent id; ``rows`` and ``shares`` locate them in the
    provider table.  What has been delivered and claimed so far is read from the book.
    """

    contract_id: int
    tender: Tender
    bid: Bid
    start_step: int
    end_step: int
    monitored: bool
    rows: np.ndarray
    shares: np.ndarray
    book: ContractBook

    @property
    def commissioner(self) -> int:
        return self.tender.commissioner

    @property
    def active(self) -> bool:
        return bool(self.book.active[self.contract_id])

    @property
    def delivered(self) -> float:
        return float(self.book.delivered[self.contract_id])

    @property
    def claimed_to_date(self) -> float:
        return float(self.book.claimed_to_date[self.contract_id])


class ContractBook:
    """Every contract of a run, as arrays (row = contract id), plus the contract records.

    Float columns: ``sv_per_step`` (true social value delivered per step, after underfunding
    and shading), ``claim_per_step`` and ``claim_hard_per_step`` (claims spread over the term),
    ``hard_delivered``, ``payment_per_step``, ``cost_per_step``, ``legibility`` (of soft value
    under the tender's definition), ``volume_gbp``, and the running ``delivered``,
    ``delivered_hard``, ``claimed_to_date``, ``claimed_hard_to_date``.  Others: ``commissioner``,
    ``kind`` (index into BID_KINDS), ``end_step``, ``monitored``, ``active``, ``failed_check``.
    Members are kept flat (``mem_contract``, ``mem_row``, ``mem_share``) for payments, each
    contract's together from ``mem_start`` (to the next contract's ``mem_start``, or ``m``).
    """

    def __init__(self, capacity: int = 64) -> None:
        self.n = 0
        self._cap = capacity
        for name in _FLOAT_COLUMNS:
            setattr(self, name, np.zeros(capacity))
        self.commissioner = np.zeros(capacity, dtype=np.int64)
        self.kind = np.zeros(capacity, dtype=np.int64)
        self.end_step = np.zeros(capacity, dtype=np.int64)
        self.monitored = np.zeros(capacity, dtype=bool)
        self.active = np.zeros(capacity, dtype=bool)
        self.failed_check = np.zeros(capacity, dtype=bool)
        self.mem_start = np.zeros(capacity, dtype=np.int64)
        self.records: list[Contract] = []
        self.m = 0
        self._mcap = capacity
        self.mem_contract = np.zeros(capacity, dtype=np.int64)
        self.mem_row = np.zeros(capacity, dtype=np.int64)
        self.mem_share = np.zeros(capacity)
        self._live: np.ndarray | None = None

    def _grow(self) -> None:
        if self.n < self._cap:
            return
        cap = 2 * self._cap
        for name in (
            *_FLOAT_COLUMNS,
            "commissioner",
            "kind",
            "end_step",
            "monitored",
            "active",
            "failed_check",
            "mem_start",
        ):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self._cap] = old
            setattr(self, name, new)
        self._cap = cap

    def _grow_members(self, k: int) -> None:
        if self.m + k <= self._mcap:
            return
        cap = self._mcap
        while cap < self.m + k:
            cap *= 2
        for name in ("mem_contract", "mem_row", "mem_share"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self._mcap] = old
            setattr(self, name, new)
        self._mcap = cap

    def __len__(self) -> int:
        return self.n

    def __iter__(self):  # noqa: ANN204 - an iterator of Contract records
        """Every contract of the run so far (``active`` tells the live ones)."""
        return iter(self.records)

    def live(self) -> np.ndarray:
        """Ids of the live contracts."""
        if self._live is None:
            self._live = np.flatnonzero(self.active[: self.n])
        return self._live

    def live_records(self) -> list[Contract]:
        """The live contracts' records."""
        return [self.records[i] for i in self.live()]

    def add(
        self,
        tender: Tender,
        bid: Bid,
        monitored: bool,
        kind: int,
        floats: tuple[float, float, float, float, float, float, float, float],
        rows: np.ndarray,
        shares: np.ndarray,
    ) -> int:
        """Open a contract on ``tender`` won by ``bid``; returns its id.

        ``kind`` is the BID_KINDS code of the winning bid; ``floats`` are, in this order,
        ``sv_per_step``, ``claim_per_step``, ``claim_hard_per_step``, ``hard_delivered``,
        ``payment_per_step``, ``cost_per_step``, ``legibility`` and ``volume_gbp`` (the running
        figures start at zero).  The term runs from ``tender.step`` for ``tender.duration_steps``.
        """
        if self.n >= self._cap:
            self._grow()
        i = self.n
        start = tender.step
        end = start + tender.duration_steps
        self.commissioner[i] = tender.commissioner
        self.kind[i] = kind
        self.end_step[i] = end
        self.monitored[i] = monitored
        (
            self.sv_per_step[i],
            self.claim_per_step[i],
            self.claim_hard_per_step[i],
            self.hard_delivered[i],
            self.payment_per_step[i],
            self.cost_per_step[i],
            self.legibility[i],
            self.volume_gbp[i],
        ) = floats
        self.active[i] = True
        self.failed_check[i] = False
        self.n = i + 1
        k = rows.size
        m = self.m
        if m + k > self._mcap:
            self._grow_members(k)
        self.mem_contract[m : m + k] = i
        self.mem_row[m : m + k] = rows
        self.mem_share[m : m + k] = shares
        self.mem_start[i] = m
        self.m = m + k
        self.records.append(
            Contract(
                contract_id=i,
                tender=tender,
                bid=bid,
                start_step=start,
                end_step=end,
                monitored=monitored,
                rows=rows,
                shares=shares,
                book=self,
            )
        )
        self._live = None
        return i

    def close(self, ids: np.ndarray) -> None:
        self.active[ids] = False
        self._live = None


# ------------------------------------------------------------------ money


def pay(model: FieldModel, rows: np.ndarray, amounts: np.ndarray, what: str) -> None:
    """Every pound a commissioner pays goes to a provider (money conservation).

    ``what`` is ``contracts``, ``grants`` or ``reimbursed``; ``rows`` (integer array) may repeat;
    ``amounts`` is an array of one amount per row.
    """
    T = model.pop
    # np.add.at on reserves, year income and the purpose's income, compiled (kernels.pay_rows).
    pay_rows(rows, amounts, T.reserves_gbp, T.year_income_gbp, getattr(T, f"income_{what}_gbp"))
    total = float(amounts.sum())
    model.totals.commissioner_paid += total
    model.totals.provider_received += total


def spend(table: ProviderTable, rows: np.ndarray, amounts: np.ndarray, what: str) -> None:
    """Pay costs out of reserves, booked under ``what`` (delivery, overhead, bids, engagement)."""
    # np.add.at(reserves, rows, -amounts) and np.add.at(spent, rows, amounts), compiled.
    spend_rows(rows, amounts, table.reserves_gbp, getattr(table, f"spent_{what}_gbp"))


# ------------------------------------------------------------------ contracts


def open_contract(
    model: FieldModel,
    comm: Commissioner,
    tender: Tender,
    bid: Bid,
    rows: np.ndarray,
    shares: np.ndarray,
    monitored: bool,
) -> Contract:
    """Turn the winning bid into a live contract and take its service lines off the market.

    Underfunded delivery sheds social value (``behaviour.underfunding_sv_elasticity``) and an
    unmonitored holder shades its promise (``sv_shading``).
    """
    b = model.behaviour
    volume_total = tender.volume_gbp * tender.years
    funding_factor = min(1.0, bid.price_gbp / bid.cost_gbp) ** b.underfunding_sv_elasticity * (
        1.0 if monitored else 1.0 - bid.sv_shading
    )
    sv_rate = bid.sv_true / volume_total
    duration = tender.duration_steps
    book = model.contracts
    cid = book.add(
        tender,
        bid,
        monitored,
        _BID_KIND_CODE[bid.kind],
        (
            sv_rate * tender.volume_gbp / model.steps_per_year * funding_factor,
            bid.sv_claim / duration,
            bid.sv_claim_hard / duration,
            bid.hard_delivered,
            bid.price_gbp / duration,
            bid.cost_gbp / duration,
            soft_legibility(tender.sv_definition, b),
            tender.volume_gbp,
        ),
        rows,
        shares,
    )
    for line, frac in tender.portions:
        comm.line_free[line] = max(0.0, comm.line_free[line] - frac)
        comm.line_failures[line] = 0
    contracted = model.pop.contracted_annual_gbp
    if rows.size == 1:  # one holder: the same product and sum on Python floats
        r = rows.item(0)
        contracted[r] = contracted.item(r) + shares.item(0) * tender.volume_gbp
    else:
        contracted[rows] += shares * tender.volume_gbp
    return book.records[cid]


def deliver(model: FieldModel, step: int) -> None:
    """One step of delivery on every live contract (step part 8).

    Each contract delivers its true social value rate, claims its promise pro rata, and is
    paid; holders bear the delivery cost.  Contracts whose term ends are closed.  The rule is
    ``deliver_reference``; this is the same arithmetic in the same order, the loops compiled
    (``kernels.deliver_contracts``, ``kernels.pay_members``) and the pairwise NumPy sums kept.
    """
    book = model.contracts
    live = book.live()
    if live.size == 0:
        return
    t = model.totals
    T = model.pop
    nk = len(BID_KINDS)
    cols, mon, by_kind, kind_n, by_comm, comm_n, ending = deliver_contracts(
        live,
        book.sv_per_step,
        book.claim_per_step,
        book.claim_hard_per_step,
        book.hard_delivered,
        book.payment_per_step,
        book.cost_per_step,
        book.kind,
        book.commissioner,
        book.monitored,
        book.end_step,
        book.delivered,
        book.delivered_hard,
        book.claimed_to_date,
        book.claimed_hard_to_date,
        nk,
        len(model.commissioners),
        step + 1,
    )
    # NumPy's pairwise sum of each of the five rows (summing along rows adds each row as
    # ndarray.sum adds it alone).
    sv, claim, claim_hard, payment, cost = cols.sum(axis=1).tolist()
    t.sv_delivered += sv
    t.sv_claimed += claim
    t.sv_claimed_hard += claim_hard
    t.contract_payments += payment
    t.delivery_cost += cost
    present = np.flatnonzero(kind_n).tolist()
    sums = by_kind.tolist()
    for acc, w in (
        (t.sv_delivered_by_kind, sums[0]),
        (t.paid_by_kind, sums[1]),
        (t.cost_by_kind, sums[2]),
        (t.subsidy_by_kind, sums[3]),
        (model.step_acc.income_by_kind, sums[1]),
    ):
        for k in present:
            acc[BID_KINDS[k]] += w[k]
    if mon.shape[1]:
        mon_sv, mon_claim = mon.sum(axis=1).tolist()
        t.sv_claimed_monitored += mon_claim
        t.sv_delivered_monitored += mon_sv
    year_sv, year_paid = by_comm.tolist()
    for i in np.flatnonzero(comm_n).tolist():
        c = model.commissioners[i]
        c.year_sv += year_sv[i]
        c.year_paid += year_paid[i]
    # Payments and delivery costs of every holder (consortium members by share).
    paid = pay_members(
        book.mem_contract,
        book.mem_row,
        book.mem_share,
        book.m,
        book.active,
        book.payment_per_step,
        book.cost_per_step,
        T.reserves_gbp,
        T.year_income_gbp,
        T.income_contracts_gbp,
        T.spent_delivery_gbp,
    )
    total = float(np.sum(paid))
    model.totals.commissioner_paid += total
    model.totals.provider_received += total
    if ending.size:
        end_contracts(model, ending, completed=True)


def deliver_reference(model: FieldModel, step: int) -> None:
    """One step of delivery on every live contract (step part 8): the readable rule that
    ``deliver`` computes with compiled kernels (tests/test_delivery.py checks they agree).

    Each contract delivers its true social value rate, claims its promise pro rata, and is
    paid; holders bear the delivery cost.  Contracts whose term ends are closed.
    """
    book = model.contracts
    live = book.live()
    if live.size == 0:
        return
    t = model.totals
    T = model.pop
    sv = book.sv_per_step[live]
    claim = book.claim_per_step[live]
    claim_hard = book.claim_hard_per_step[live]
    payment = book.payment_per_step[live]
    cost = book.cost_per_step[live]
    book.delivered[live] += sv
    book.delivered_hard[live] += sv * book.hard_delivered[live]
    book.claimed_to_date[live] += claim
    book.claimed_hard_to_date[live] += claim_hard
    t.sv_delivered += float(sv.sum())
    t.sv_claimed += float(claim.sum())
    t.sv_claimed_hard += float(claim_hard.sum())
    t.contract_payments += float(payment.sum())
    t.delivery_cost += float(cost.sum())
    kinds = book.kind[live]
    nk = len(BID_KINDS)
    shortfall = np.maximum(0.0, cost - payment)
    present = np.flatnonzero(np.bincount(kinds, minlength=nk))
    for acc, w in (
        (t.sv_delivered_by_kind, sv),
        (t.paid_by_kind, payment),
        (t.cost_by_kind, cost),
        (t.subsidy_by_kind, shortfall),
        (model.step_acc.income_by_kind, payment),
    ):
        sums = np.bincount(kinds, weights=w, minlength=nk)
        for k in present:
            acc[BID_KINDS[k]] += float(sums[k])
    mon = book.monitored[live]
    if mon.any():
        t.sv_claimed_monitored += float(claim[mon].sum())
        t.sv_delivered_monitored += float(sv[mon].sum())
    comm_idx = book.commissioner[live]
    n_comm = len(model.commissioners)
    year_sv = np.bincount(comm_idx, weights=sv, minlength=n_comm)
    year_paid = np.bincount(comm_idx, weights=payment, minlength=n_comm)
    for i in np.unique(comm_idx):
        c = model.commissioners[i]
        c.year_sv += float(year_sv[i])
        c.year_paid += float(year_paid[i])
    # Payments and delivery costs of every holder (consortium members by share).
    mc = book.mem_contract[: book.m]
    live_members = np.flatnonzero(book.active[mc])
    mc = mc[live_members]
    rows = book.mem_row[live_members]
    shares = book.mem_share[live_members]
    pay(model, rows, shares * book.payment_per_step[mc], "contracts")
    spend(T, rows, shares * book.cost_per_step[mc], "delivery")
    ending = live[step + 1 >= book.end_step[live]]
    if ending.size:
        end_contracts_reference(model, ending, completed=True)


def end_contracts(model: FieldModel, ids: np.ndarray, completed: bool) -> None:
    """Close contracts: free their service lines and their holders' capacity.

    A contract completed with no monitoring check beyond tolerance adds to its holders'
    track record.  The rule is ``end_contracts_reference``; the holders' updates are compiled
    (``kernels.release_holders``), in the same order.
    """
    book = model.contracts
    T = model.pop
    records = book.records
    commissioners = model.commissioners
    for i in ids.tolist():
        k = records[i]
        comm = commissioners[k.tender.commissioner]
        for line, frac in k.tender.portions:
            comm.line_free[line] = min(1.0, comm.line_free[line] + frac)
    release_holders(
        ids,
        book.mem_start,
        book.n,
        book.m,
        book.mem_row,
        book.mem_share,
        book.volume_gbp,
        book.failed_check,
        completed,
        model.behaviour.track_record_gain,
        T.contracted_annual_gbp,
        T.track_record,
    )
    book.close(ids)


def end_contracts_reference(model: FieldModel, ids: np.ndarray, completed: bool) -> None:
    """Close contracts: free their service lines and their holders' capacity (the readable
    rule that ``end_contracts`` computes with a compiled kernel; tests/test_delivery.py).

    A contract completed with no monitoring check beyond tolerance adds to its holders'
    track record.
    """
    book = model.contracts
    T = model.pop
    b = model.behaviour
    for i in ids:
        k = book.records[int(i)]
        comm = model.commissioners[k.commissioner]
        for line, frac in k.tender.portions:
            comm.line_free[line] = min(1.0, comm.line_free[line] + frac)
        T.contracted_annual_gbp[k.rows] = np.maximum(
            0.0, T.contracted_annual_gbp[k.rows] - k.shares * k.tender.volume_gbp
        )
        if completed and not book.failed_check[i]:
            T.track_record[k.rows] += b.track_record_gain * (1.0 - T.track_record[k.rows])
    book.close(ids)


def review_monitored(model: FieldModel) -> None:
    """Monitored contracts: delivered vs promised social value (step part 8; F5).

    Monitoring sees outputs: hard value fully, soft value as legibly as it is scored
    (Th §6.1).  Every check moves the holder's credibility towards the share of its promise
    the check saw; a shortfall beyond tolerance also lowers its track record and corrects its
    claim inflation; any check raises the commissioner's understanding.  Unmonitored holders'
    claim inflation drifts up (once per contract held).
    """
    b = model.behaviour
    book = model.contracts
    T = model.pop
    live = book.live()
    if live.size == 0:
        return
    mon = book.monitored[live]
    unmon = live[~mon]
    if unmon.size and b.inflation_drift_unmonitored != 0.0:
        mc = book.mem_contract[: book.m]
        is_unmon = np.zeros(book.n, dtype=bool)
        is_unmon[unmon] = True
        sel = is_unmon[mc]
        held = np.bincount(book.mem_row[: book.m][sel], minlength=T.n)
        rows = np.flatnonzero(held)
        T.claim_inflation[rows] = np.minimum(
            b.max_claim_inflation, T.claim_inflation[rows] * (1.0 + b.inflation_drift_unmonitored) ** held[rows]
        )
    checked = live[mon & (book.claimed_to_date[live] > 0)]
    if checked.size == 0:
        return
    leg = book.legibility[checked]
    promised = book.claimed_hard_to_date[checked] + leg * (
        book.claimed_to_date[checked] - book.claimed_hard_to_date[checked]
    )
    seen = book.delivered_hard[checked] + leg * (book.delivered[checked] - book.delivered_hard[checked])
    shortfall = np.where(promised > 0, np.maximum(0.0, 1.0 - seen / np.where(promised > 0, promised, 1.0)), 0.0)
    failed = shortfall > b.shortfall_tolerance
    book.failed_check[checked[failed]] = True
    # Credibility is what the commissioners have learned to believe of a holder's claims: every check moves
    # it by credibility_penalty towards the share of the promise the check saw (1 - shortfall), so a
    # provider that keeps over-claiming settles at the discount its record earns instead of sinking for
    # decades, and a clean check restores some belief (Th §6.1).
    _review_holders(model, checked, shortfall, failed)
    # Following contracts up teaches the commissioner what is really delivered (yearly).
    for ci in np.unique(book.commissioner[checked]):
        comm = model.commissioners[ci]
        comm.sv_understanding += b.monitoring_understanding_gain * (1.0 - comm.sv_understanding)


def review_holders_reference(model: FieldModel, checked: np.ndarray, shortfall: np.ndarray, failed: np.ndarray) -> None:
    """What the checks of the contracts ``checked`` (with their ``shortfall`` and whether they
    ``failed``) do to their holders, contract after contract: the readable rule that
    ``review_monitored`` runs compiled (``kernels.review_holders``; tests/test_delivery.py).

    Every check moves credibility towards the share of the promise it saw; a failed one also
    lowers the track record and corrects claim inflation.
    """
    b = model.behaviour
    book = model.contracts
    T = model.pop
    for i, s, fail in zip(checked, shortfall, failed, strict=True):
        rows = book.records[int(i)].rows
        cred = T.credibility[rows]
        T.credibility[rows] = np.maximum(b.min_credibility, cred + b.credibility_penalty * ((1.0 - s) - cred))
        if not fail:
            continue
        T.track_record[rows] = np.maximum(0.0, T.track_record[rows] - b.track_record_penalty * s)
        # A check corrects the inflation that unmonitored delivery added, back towards the provider's
        # own framing (its drawn claim_inflation: CSR framing is a practice, Th §4.3), not below it.
        T.claim_inflation[rows] = np.maximum(
            T.claim_framing[rows], T.claim_inflation[rows] * (1.0 - b.inflation_correction * s)
        )


def _review_holders(model: FieldModel, checked: np.ndarray, shortfall: np.ndarray, failed: np.ndarray) -> None:
    """``review_holders_reference`` compiled (``kernels.review_holders``)."""
    b = model.behaviour
    book = model.contracts
    T = model.pop
    review_holders(
        checked,
        shortfall,
        failed,
        book.mem_start,
        book.n,
        book.m,
        book.mem_row,
        float(b.min_credibility),
        float(b.credibility_penalty),
        float(b.track_record_penalty),
        float(b.inflation_correction),
        T.credibility,
        T.track_record,
        T.claim_inflation,
        T.claim_framing,
    )
