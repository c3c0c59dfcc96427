"""Every outcome, defined once by name (the names are a public contract; docs/outputs.md).

Objects:
    RUN_ID_COLUMNS: identifying columns of each runs-table row.
    RUN_OUTCOMES: the final outcomes of a run, in table order, with their descriptions.
    TIMESERIES_COLUMNS: the per-step columns of the time-series table.
    HEADLINE_OUTCOMES: the outcomes shown first in summaries and plots.
    EXTRA_OUTCOMES: further outcomes used by the stylized-fact validation; ALL_OUTCOMES both.
    AUTHORITY_COLUMNS: the per-authority end-of-run table (F9-F11).
    run_outcomes(model): compute the final outcomes (ALL_OUTCOMES) of a finished FieldModel.
    authority_rows(model): the per-authority table of a finished FieldModel.
    step_record(model): one time-series row for the current step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from safsim.config import PROVIDER_KINDS, Engagement, ProviderKind
from safsim.delivery import BID_KINDS
from safsim.outcomes import AUTHORITY, ID_COLUMNS, OUTCOMES, TIMESERIES

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

RUN_ID_COLUMNS: tuple[str, ...] = tuple(ID_COLUMNS)

# Names, labels, units and meanings live in the glossary (safsim.outcomes); the public outcomes
# come first, then those used by the stylized-fact validation (group "validation").
RUN_OUTCOMES: dict[str, str] = {n: o.meaning for n, o in OUTCOMES.items() if o.group != "validation"}

EXTRA_OUTCOMES: dict[str, str] = {n: o.meaning for n, o in OUTCOMES.items() if o.group == "validation"}
ALL_OUTCOMES: dict[str, str] = {**RUN_OUTCOMES, **EXTRA_OUTCOMES}

AUTHORITY_COLUMNS: tuple[str, ...] = tuple(AUTHORITY)

HEADLINE_OUTCOMES: tuple[str, ...] = (
    "share_value_sme_vso",
    "share_value_corporate",
    "hhi",
    "bid_rate_sme_vso",
    "survival_sme_vso",
    "sv_gap",
    "winner_changed_by_sv",
    "trust_final",
)

TIMESERIES_COLUMNS: tuple[str, ...] = tuple(TIMESERIES)

# Engagement levels at co-design or above (``rung >= 2``).
_CODESIGN_LEVELS = frozenset(e for e in Engagement if e.rung >= 2)


def _safe_div(a: float, b: float, default: float = float("nan")) -> float:
    return float(a) / float(b) if b else default


_KIND_VALUES = tuple(k.value for k in PROVIDER_KINDS)
_INCOME_KEYS = tuple((f"income_{v}_gbp", v) for v in _KIND_VALUES)
_ACTIVE_KEYS = tuple(f"active_{v}" for v in _KIND_VALUES)
_EXIT_KEYS = tuple((f"exits_{v}", v) for v in _KIND_VALUES)
_ENTRY_KEYS = tuple((f"entries_{v}", v) for v in _KIND_VALUES)


def step_record(model: FieldModel) -> dict[str, object]:
    """One time-series row describing the model after the current step."""
    acc = model.step_acc
    comms = model.commissioners
    row: dict[str, object] = {
        "step": model.current_step,
        "field_state": model.field_state.value,
        "budget_gbp": float(sum(c.budget_gbp for c in comms)),
    }
    income = acc.income_by_kind
    for key, v in _INCOME_KEYS:
        row[key] = float(income.get(v, 0.0))
    row["income_consortium_gbp"] = float(income.get("consortium", 0.0))
    # Active providers of each kind (the table's kind codes are positions in PROVIDER_KINDS).
    T = model.pop
    active = np.bincount(T.kind[: T.n][T.active[: T.n]], minlength=len(_KIND_VALUES)).tolist()
    for key, count in zip(_ACTIVE_KEYS, active, strict=False):
        row[key] = count
    row.update(_flows(model))
    # The commissioners' means, each over its own row (NumPy's mean of that row, as of a list).
    means = np.mean(
        np.array(
            [
                [c.trust for c in comms],
                [c.legitimacy for c in comms],
                [c.sv_weight for c in comms],
                [c.engagement in _CODESIGN_LEVELS for c in comms],
                [c.has_sv_policy for c in comms],
                [c.sv_understanding for c in comms],
            ],
            dtype=float,
        ),
        axis=1,
    ).tolist()
    row["trust"] = means[0]
    row["legitimacy"] = means[1]
    row["contention"] = float(model.contention)
    row["mean_sv_weight"] = means[2]
    row["codesign_rate"] = means[3]
    row["policy_adoption_share"] = means[4]
    row["bid_rate_sme_vso"] = _safe_div(acc.vso_bids, acc.vso_opportunities)
    row["tenders"] = int(acc.tenders)
    row["mean_understanding"] = means[5]
    return row


def _flows(model: FieldModel) -> dict[str, object]:
    """Grants to small VSOs, exits and entries by kind in the step just run."""
    acc = model.step_acc
    out: dict[str, object] = {"grants_sme_vso_gbp": float(acc.grants_sme_vso)}
    exits = acc.exits_by_kind
    for key, v in _EXIT_KEYS:
        out[key] = int(exits.get(v, 0))
    entries = acc.entries_by_kind
    for key, v in _ENTRY_KEYS:
        out[key] = int(entries.get(v, 0))
    return out


def _voluntary_outcomes(model: FieldModel) -> dict[str, float]:
    """The outcomes compared with the external figures on charities (safsim/data/targets.yaml)."""
    from safsim.lifecycle import running_cost_per_year

    t = model.totals
    T = model.pop
    out: dict[str, float] = {}
    kinds = ("sme_vso", "large_charity", "consortium")
    paid = sum(t.paid_by_kind.get(k, 0.0) for k in kinds)
    cost = sum(t.cost_by_kind.get(k, 0.0) for k in kinds)
    out["price_to_cost_ratio_vso"] = _safe_div(paid, cost)
    rows = np.concatenate([T.rows_of(ProviderKind.sme_vso), T.rows_of(ProviderKind.large_charity)])
    delivered = rows[T.spent_delivery_gbp[rows] > 0]
    below = T.income_contracts_gbp[delivered] < T.spent_delivery_gbp[delivered]
    out["share_vso_subsidising_contracts"] = float(np.mean(below)) if delivered.size else float("nan")
    vsos = T.rows_of(ProviderKind.sme_vso)
    vsos = vsos[T.active[vsos]]
    monthly = running_cost_per_year(model, vsos) / 12
    months = T.reserves_gbp[vsos][monthly > 0] / monthly[monthly > 0]
    out["median_reserves_months_sme_vso"] = float(np.median(months)) if months.size else float("nan")
    book = model.contracts
    voluntary = {BID_KINDS.index(k) for k in ("sme_vso", "large_charity", "social_enterprise", "consortium")}
    prices = [
        float(book.payment_per_step[c.contract_id]) * (c.end_step - c.start_step)
        for c in book.records
        if int(book.kind[c.contract_id]) in voluntary
    ]
    out["median_contract_value_vcse_gbp"] = float(np.median(prices)) if prices else float("nan")
    return out


def run_outcomes(model: FieldModel) -> dict[str, float]:
    """The final outcomes of a finished run, keyed by the names in RUN_OUTCOMES."""
    t = model.totals
    out: dict[str, float] = {}
    awarded = sum(t.value_by_kind.values())
    for k in (*(k.value for k in PROVIDER_KINDS), "consortium"):
        out[f"share_value_{k}"] = _safe_div(t.value_by_kind.get(k, 0.0), awarded)
    values = np.array(list(t.value_by_provider.values()), dtype=float)
    if values.size and values.sum() > 0:
        s = values / values.sum()
        out["hhi"] = float(np.sum(s**2))
        n_top = max(1, int(np.ceil(0.1 * model.providers_ever)))
        out["top10pct_value_share"] = float(np.sort(s)[::-1][:n_top].sum())
    else:
        out["hhi"] = float("nan")
        out["top10pct_value_share"] = float("nan")
    out["mean_contract_value_gbp"] = _safe_div(awarded, t.awards)
    out["bids_per_tender"] = _safe_div(t.bids, t.tenders)
    out["bid_rate_sme_vso"] = _safe_div(t.vso_bids, t.vso_opportunities)
    out["win_rate_sme_vso"] = _safe_div(t.vso_wins, t.vso_bids)
    out["survival_sme_vso"] = _safe_div(model.initial_vsos_active(), model.initial_vso_count)
    out["exits_total"] = float(t.exits)
    out["entries_total"] = float(t.entries)
    out["sv_claimed"] = float(t.sv_claimed)
    out["sv_delivered"] = float(t.sv_delivered)
    out["sv_gap"] = _safe_div(t.sv_claimed - t.sv_delivered, t.sv_claimed)
    out["sv_per_gbp"] = _safe_div(t.sv_delivered, t.contract_payments)
    out["sv_hard_share"] = _safe_div(t.sv_claimed_hard, t.sv_claimed)
    out["winner_changed_by_sv"] = _safe_div(t.winner_changed, t.awards)
    out["mean_sv_weight"] = _safe_div(t.sv_weight_sum, t.tenders)
    out["codesign_rate"] = _safe_div(t.codesign_tenders, t.tenders)
    out["monitoring_rate_realised"] = _safe_div(t.monitored_contracts, t.awards)
    out["policy_adoption_share"] = float(np.mean([c.has_sv_policy for c in model.commissioners]))
    out["trust_final"] = float(np.mean([c.trust for c in model.commissioners]))
    out["contention_mean"] = _safe_div(t.contention_sum, model.steps)
    for state in ("settled", "crisis", "resettlement"):
        out[f"state_share_{state}"] = _safe_div(t.state_steps.get(state, 0), model.steps)
    out["price_to_cost_ratio"] = _safe_div(t.contract_payments, t.delivery_cost)
    out["budget_spent_gbp"] = float(t.commissioner_paid)
    _extra_outcomes(model, out)
    assert list(out) == list(ALL_OUTCOMES), "outcome order drifted from ALL_OUTCOMES"
    return out


def _extra_outcomes(model: FieldModel, out: dict[str, float]) -> None:
    from safsim.config import ProviderKind

    t = model.totals
    for k in (*(k.value for k in PROVIDER_KINDS), "consortium"):
        out[f"sv_per_gbp_{k}"] = _safe_div(t.sv_delivered_by_kind.get(k, 0.0), t.paid_by_kind.get(k, 0.0))
    claimed_un = t.sv_claimed - t.sv_claimed_monitored
    delivered_un = t.sv_delivered - t.sv_delivered_monitored
    out["sv_gap_monitored"] = _safe_div(t.sv_claimed_monitored - t.sv_delivered_monitored, t.sv_claimed_monitored)
    out["sv_gap_unmonitored"] = _safe_div(claimed_un - delivered_un, claimed_un)
    out["engagement_rate"] = _safe_div(t.engaged_tenders, t.tenders)
    out["supplier_defined_rate"] = _safe_div(t.supplier_defined_tenders, t.tenders)
    out["codefined_rate"] = _safe_div(t.codefined_tenders, t.tenders)
    out["engagement_participation_rate"] = _safe_div(t.engagement_participants, t.engagement_invited)
    out["engagement_cost_unpaid_per_round_gbp"] = _safe_div(t.engagement_cost_unpaid, t.engagement_rounds)
    out["bid_rate_codesign_participants"] = _safe_div(t.participant_bids, t.participant_opportunities)
    T = model.pop
    vsos = T.rows_of(ProviderKind.sme_vso)
    active_vsos = vsos[T.active[vsos]]
    out["criteria_awareness_sme_vso"] = (
        float(np.mean(T.criteria_awareness[active_vsos])) if active_vsos.size else float("nan")
    )
    out["criteria_awareness_perceived"] = _safe_div(t.awareness_bidders_sum, t.awareness_bidders_n)
    out["sv_score_sme_vso"] = _safe_div(t.vso_sv_score_sum, t.vso_sv_score_n)
    la = float(np.sum(T.income_contracts_gbp[vsos] + T.income_grants_gbp[vsos]))
    fund = float(np.sum(T.income_fundraising_gbp[vsos]))
    out["vso_la_income_share"] = _safe_div(la, la + fund)
    out.update(_voluntary_outcomes(model))
    out["vso_fundraising_share"] = _safe_div(fund, la + fund)
    out["subsidy_share_large_charity"] = _safe_div(
        t.subsidy_by_kind.get("large_charity", 0.0), t.cost_by_kind.get("large_charity", 0.0)
    )
    charities = T.rows_of(ProviderKind.large_charity)
    charities = charities[T.initial[charities] & (T.initial_reserves_gbp[charities] > 0)]
    changes = (T.reserves_gbp[charities] - T.initial_reserves_gbp[charities]) / T.initial_reserves_gbp[charities]
    out["reserves_change_large_charity"] = float(np.mean(changes)) if changes.size else float("nan")
    out["crisis_episodes"] = float(t.crisis_episodes)
    out["resettled"] = float(t.resettlements > 0)
    weights = [c.sv_weight_sum / c.tenders_n for c in model.commissioners if c.tenders_n]
    out["sv_weight_sd_authorities"] = float(np.std(weights, ddof=1)) if len(weights) > 1 else float("nan")


def authority_rows(model: FieldModel) -> list[dict[str, object]]:
    """One row per commissioner at the end of a run (columns AUTHORITY_COLUMNS)."""
    rows = []
    for c in model.commissioners:
        rows.append(
            {
                "authority": c.index,
                "name": c.name,
                "sv_weight_mean": _safe_div(c.sv_weight_sum, c.tenders_n),
                "sv_weight_final": float(c.sv_weight),
                "sv_understanding_initial": float(c.initial_understanding),
                "sv_understanding_final": float(c.sv_understanding),
                "political_commitment": float(c.political_commitment),
                "social_skill": float(c.social_skill),
                "risk_aversion": float(c.risk_aversion),
                "has_sv_policy": bool(c.has_sv_policy),
                "supplier_defined_share": _safe_div(c.supplier_defined_n, c.tenders_n),
                "codesign_share": _safe_div(c.codesign_n, c.tenders_n),
                "tenders": int(c.tenders_n),
                "trust_final": float(c.trust),
                "legitimacy_final": float(c.legitimacy),
            }
        )
    return rows
