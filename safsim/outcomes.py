"""The outcome glossary: every column of every results table, with label, unit and meaning.

Objects:
    Outcome: one column: its name, a human label, its unit, a one-sentence meaning, the group it
        is shown in and whether it is a count (shown as an integer).
    OUTCOMES: every runs-table outcome, in table order (the names are a public contract).
    TIMESERIES: every column of the time-series table.
    AUTHORITY: every column of the per-authority table (authorities.csv).
    ID_COLUMNS: the identifying columns of the runs table.
    GROUPS: the display order of the outcome groups.
    UNITS: every unit used, with what it means.
    outcome(name), label(name), unit(name), label_with_unit(name): look-ups for any column.

This module is pure data with no dependencies: the command-line summary, the plots, the
generated output documentation and the HTML report all read it, so a label or a unit is
written once.  ``metrics`` computes the values; a test checks that the two agree column for
column.

Social value is measured in *SV units*: the model's pound-equivalent of community benefit
(``sv_intrinsic`` is SV units delivered per pound of service).  They are comparable across
runs and scenarios but are not money.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

__all__ = [
    "AUTHORITY",
    "format_value",
    "GROUPS",
    "ID_COLUMNS",
    "OUTCOMES",
    "TIMESERIES",
    "UNITS",
    "Outcome",
    "label",
    "label_with_unit",
    "outcome",
    "unit",
]

# Units: short names used in tables and axis labels.
SHARE = "share"
GBP = "£"
SV = "SV units"
COUNT = "count"
INDEX = "index 0-1"
RATIO = "ratio"
RATE = "rate"
WEIGHT = "weight"
STEP = "quarter"
TEXT = "text"
FLAG = "yes/no"

UNITS: dict[str, str] = {
    SHARE: "a proportion between 0 and 1 (shown as a percentage where helpful)",
    GBP: "pounds sterling, nominal, over the whole run unless stated",
    SV: "social-value units: the model's pound-equivalent of community benefit, not money",
    COUNT: "a whole number of organisations, tenders or events",
    INDEX: "a dimensionless index between 0 and 1",
    RATIO: "a ratio of two quantities of the same unit",
    RATE: "a probability or frequency between 0 and 1",
    WEIGHT: "an award weight between 0 and 1 (price, quality and social value sum to 1)",
    STEP: "a simulated quarter (4 steps make a year)",
    TEXT: "a label",
    FLAG: "true or false (1 or 0 in averages)",
}

GROUPS: tuple[str, ...] = (
    "market",
    "bidding",
    "providers",
    "social value",
    "practice",
    "field",
    "money",
    "validation",
    "identity",
    "time series",
    "authority",
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One column of a results table.

    Attributes:
        name: the column name (snake_case; a public contract for outcomes).
        label: a short human label for tables, plot titles and axes.
        unit: one of the keys of ``UNITS``.
        meaning: one plain sentence saying what the number is.
        group: one of ``GROUPS``.
        integer: True for counts, shown without decimals.
    """

    name: str
    label: str
    unit: str
    meaning: str
    group: str
    integer: bool = False


def _table(rows: list[tuple[str, str, str, str, str] | tuple[str, str, str, str, str, bool]]) -> dict[str, Outcome]:
    out: dict[str, Outcome] = {}
    for row in rows:
        o = Outcome(*row)
        assert o.name not in out, f"duplicate column {o.name}"
        assert o.unit in UNITS, f"{o.name}: unknown unit {o.unit}"
        assert o.group in GROUPS, f"{o.name}: unknown group {o.group}"
        out[o.name] = o
    return out


_KINDS = (
    ("sme_vso", "small VSOs", "small and medium voluntary-sector organisations"),
    ("large_charity", "large charities", "large charities"),
    ("corporate", "corporates", "corporate providers"),
    ("social_enterprise", "social enterprises", "social enterprises"),
)
_WINNERS = (*_KINDS, ("consortium", "VSO consortia", "consortia of small VSOs"))

ID_COLUMNS: dict[str, Outcome] = _table(
    [
        ("run_id", "Run", COUNT, "Position of the run in its table, from 0.", "identity", True),
        ("scenario", "Scenario", TEXT, "Name of the scenario that was run.", "identity"),
        ("replicate", "Replicate", COUNT, "Replicate number of the run within its scenario, from 0.", "identity", True),
        (
            "seed",
            "Seed",
            COUNT,
            "The run's integer seed: `safsim run SCENARIO --run-seed SEED` reproduces the row.",
            "identity",
            True,
        ),
    ]
)

OUTCOMES: dict[str, Outcome] = _table(
    [
        *(
            (
                f"share_value_{k}",
                f"Contract value share: {short}",
                SHARE,
                f"Share of all contract value awarded during the run that went to {long}.",
                "market",
            )
            for k, short, long in _WINNERS
        ),
        (
            "hhi",
            "Market concentration (HHI)",
            INDEX,
            "Herfindahl index of awarded contract value over providers: near 0 is a dispersed market, 1 a monopoly.",
            "market",
        ),
        (
            "top10pct_value_share",
            "Value share of the top 10% of providers",
            SHARE,
            "Share of awarded contract value won by the tenth of providers that won most.",
            "market",
        ),
        (
            "mean_contract_value_gbp",
            "Mean contract value",
            GBP,
            "Average whole-term price of an awarded contract.",
            "market",
        ),
        ("bids_per_tender", "Bids per tender", RATIO, "Average number of bids a tender received.", "bidding"),
        (
            "bid_rate_sme_vso",
            "Small-VSO bid rate",
            RATE,
            "Chance that an active small VSO serving the authority bid on a tender.",
            "bidding",
        ),
        ("win_rate_sme_vso", "Small-VSO win rate", RATE, "Share of small VSOs' bids that won.", "bidding"),
        (
            "survival_sme_vso",
            "Small-VSO survival",
            SHARE,
            "Share of the small VSOs active at the start of the counted horizon (the end of the warm-up) "
            "that are still active at the end.",
            "providers",
        ),
        (
            "exits_total",
            "Provider exits",
            COUNT,
            "Providers of any kind that closed: reserves below zero, a short runway of reserves, or background closure (after the warm-up).",
            "providers",
            True,
        ),
        (
            "entries_total",
            "Provider entries",
            COUNT,
            "New providers of any kind that entered the field (after the warm-up).",
            "providers",
            True,
        ),
        (
            "sv_claimed",
            "Social value claimed",
            SV,
            "Social value that winning bids promised, counted over the contract quarters delivered.",
            "social value",
        ),
        (
            "sv_delivered",
            "Social value delivered",
            SV,
            "Social value the contracts really delivered over the run.",
            "social value",
        ),
        (
            "sv_gap",
            "Social-value gap",
            RATIO,
            "Claimed minus delivered social value, as a share of what was claimed (0 = claims kept).",
            "social value",
        ),
        (
            "sv_per_gbp",
            "Social value per pound",
            RATIO,
            "Delivered social value (SV units) per pound paid on contracts.",
            "social value",
        ),
        (
            "sv_hard_share",
            "Hard share of claims",
            SHARE,
            "Share of claimed social value in easy-to-measure categories (jobs, apprenticeships, volunteers, donations).",
            "social value",
        ),
        (
            "winner_changed_by_sv",
            "Winner changed by social value",
            SHARE,
            "Share of tenders whose winner would have been different with the social-value weight set to zero.",
            "social value",
        ),
        (
            "mean_sv_weight",
            "Mean social-value weight",
            WEIGHT,
            "Average weight given to social value in tender scoring.",
            "practice",
        ),
        (
            "codesign_rate",
            "Co-design rate",
            SHARE,
            "Share of tenders preceded by co-design or co-production with providers.",
            "practice",
        ),
        (
            "monitoring_rate_realised",
            "Contracts monitored",
            SHARE,
            "Share of awarded contracts whose delivered social value the commissioner followed up.",
            "practice",
        ),
        (
            "policy_adoption_share",
            "Authorities with an SV policy",
            SHARE,
            "Share of commissioners with a formal social-value policy at the end.",
            "practice",
        ),
        (
            "trust_final",
            "Trust at the end",
            INDEX,
            "Commissioners' mean trust towards the voluntary sector at the end of the run.",
            "field",
        ),
        (
            "contention_mean",
            "Mean contention",
            INDEX,
            "Average contention index: challengers' losses and exits, trust deficit and recent shocks.",
            "field",
        ),
        ("state_share_settled", "Time settled", SHARE, "Share of quarters the field spent settled.", "field"),
        ("state_share_crisis", "Time in crisis", SHARE, "Share of quarters the field spent in crisis.", "field"),
        (
            "state_share_resettlement",
            "Time in resettlement",
            SHARE,
            "Share of quarters the field spent building a new settlement after a crisis.",
            "field",
        ),
        (
            "price_to_cost_ratio",
            "Price-to-cost ratio",
            RATIO,
            "Contract payments divided by providers' delivery costs (below 1 means contracts are underfunded).",
            "money",
        ),
        (
            "budget_spent_gbp",
            "Money paid by commissioners",
            GBP,
            "Everything commissioners paid to providers over the run: contracts, grants and engagement reimbursements.",
            "money",
        ),
        # Outcomes used by the validation of the stylized facts.
        *(
            (
                f"sv_per_gbp_{k}",
                f"Social value per pound: {short}",
                RATIO,
                f"Delivered social value per pound paid on contracts won by {long}.",
                "validation",
            )
            for k, short, long in _WINNERS
        ),
        (
            "sv_gap_monitored",
            "Social-value gap, monitored contracts",
            RATIO,
            "Claimed-minus-delivered gap, as a share of claims, on contracts that were followed up.",
            "validation",
        ),
        (
            "sv_gap_unmonitored",
            "Social-value gap, unmonitored contracts",
            RATIO,
            "Claimed-minus-delivered gap, as a share of claims, on contracts nobody followed up.",
            "validation",
        ),
        (
            "engagement_rate",
            "Pre-procurement engagement rate",
            SHARE,
            "Share of tenders preceded by consultation, co-design or co-production.",
            "validation",
        ),
        (
            "supplier_defined_rate",
            "Supplier-defined social value",
            SHARE,
            "Share of tenders where bidders, not the commissioner, defined what social value means.",
            "validation",
        ),
        (
            "codefined_rate",
            "Locally co-defined social value",
            SHARE,
            "Share of tenders with a social-value specification defined together with local providers.",
            "validation",
        ),
        (
            "engagement_participation_rate",
            "Engagement participation",
            SHARE,
            "Share of invited local providers that took part in pre-procurement engagement.",
            "validation",
        ),
        (
            "engagement_cost_unpaid_per_round_gbp",
            "Unpaid engagement cost per round",
            GBP,
            "Cost of engagement time borne by providers without reimbursement, per engagement round.",
            "validation",
        ),
        (
            "bid_rate_codesign_participants",
            "Bid rate of co-design participants",
            RATE,
            "Chance that a small VSO that took part in co-design later bid on a tender it was allowed to bid for.",
            "validation",
        ),
        (
            "criteria_awareness_sme_vso",
            "Small VSOs' awareness of SV criteria",
            INDEX,
            "Mean awareness of commissioners' social-value criteria among active small VSOs at the end.",
            "validation",
        ),
        (
            "criteria_awareness_perceived",
            "Awareness commissioners see",
            INDEX,
            "Mean awareness of social-value criteria among the bidders that commissioners see.",
            "validation",
        ),
        (
            "sv_score_sme_vso",
            "Small VSOs' social-value marks",
            INDEX,
            "Mean social-value mark (0-1) given to small-VSO bids on tenders that scored social value.",
            "validation",
        ),
        (
            "vso_la_income_share",
            "Small VSOs' income from commissioners",
            SHARE,
            "Share of small VSOs' income that came from commissioners as contracts or grants.",
            "validation",
        ),
        (
            "price_to_cost_ratio_vso",
            "Voluntary sector's price to cost",
            RATIO,
            "Contract payments over delivery costs for small VSOs, large charities and consortia (below 1: "
            "contracts subsidised from other income).",
            "validation",
        ),
        (
            "share_vso_subsidising_contracts",
            "Charities subsidising contracts",
            SHARE,
            "Share of the small VSOs and large charities that delivered contracts whose contract payments "
            "were below their delivery costs.",
            "validation",
        ),
        (
            "median_reserves_months_sme_vso",
            "Small VSOs' reserves in months",
            RATIO,
            "Median over active small VSOs at the end of reserves divided by a month of running cost "
            "(overheads plus the delivery cost of their contracts).",
            "validation",
        ),
        (
            "median_contract_value_vcse_gbp",
            "Median voluntary-sector contract",
            GBP,
            "Median whole-term price of the contracts won by small VSOs, large charities, social enterprises "
            "and consortia.",
            "validation",
        ),
        (
            "vso_fundraising_share",
            "Small VSOs' income from fundraising",
            SHARE,
            "Share of small VSOs' income that came from donations and fundraising.",
            "validation",
        ),
        (
            "subsidy_share_large_charity",
            "Large charities' contract subsidy",
            SHARE,
            "Share of large charities' contract delivery cost not covered by contract payments.",
            "validation",
        ),
        (
            "reserves_change_large_charity",
            "Change in large charities' reserves",
            RATIO,
            "Mean relative change of the initial large charities' reserves over the run.",
            "validation",
        ),
        (
            "crisis_episodes",
            "Crisis episodes",
            COUNT,
            "Number of times the field entered the crisis state.",
            "validation",
            True,
        ),
        (
            "resettled",
            "Resettled",
            FLAG,
            "Whether the field reached a new settlement after a crisis (1) or not (0).",
            "validation",
        ),
        (
            "sv_weight_sd_authorities",
            "Spread of SV weights across authorities",
            WEIGHT,
            "Standard deviation across authorities of their mean social-value weight.",
            "validation",
        ),
    ]
)

TIMESERIES: dict[str, Outcome] = _table(
    [
        (
            "step",
            "Quarter",
            STEP,
            "The simulated quarter, from 0 at the end of the warm-up; warm-up quarters, kept only with record_warmup, are numbered -warmup_steps to -1.",
            "time series",
            True,
        ),
        (
            "field_state",
            "Field state",
            TEXT,
            "The field's state in the quarter: settled, crisis or resettlement.",
            "time series",
        ),
        ("budget_gbp", "Commissioning budget", GBP, "Commissioners' combined annual budget in force.", "time series"),
        *(
            (
                f"income_{k}_gbp",
                f"Contract income: {short}",
                GBP,
                f"Contract payments received by {long} in the quarter.",
                "time series",
            )
            for k, short, long in _WINNERS
        ),
        *(
            (
                f"active_{k}",
                f"Active {short}",
                COUNT,
                f"Number of {long} active at the end of the quarter.",
                "time series",
                True,
            )
            for k, short, long in _KINDS
        ),
        (
            "grants_sme_vso_gbp",
            "Grants to small VSOs",
            GBP,
            "Grants paid to small VSOs in the quarter.",
            "time series",
        ),
        *(
            (
                f"exits_{k}",
                f"Exits: {short}",
                COUNT,
                f"Number of {long} that left the field in the quarter.",
                "time series",
                True,
            )
            for k, short, long in _KINDS
        ),
        *(
            (
                f"entries_{k}",
                f"Entries: {short}",
                COUNT,
                f"Number of {long} that entered the field in the quarter.",
                "time series",
                True,
            )
            for k, short, long in _KINDS
        ),
        ("trust", "Trust", INDEX, "Commissioners' mean trust towards the voluntary sector.", "time series"),
        ("legitimacy", "Legitimacy", INDEX, "Commissioners' mean legitimacy.", "time series"),
        ("contention", "Contention", INDEX, "The field's smoothed contention index.", "time series"),
        ("mean_sv_weight", "Social-value weight", WEIGHT, "Commissioners' mean social-value weight.", "time series"),
        (
            "codesign_rate",
            "Authorities co-designing",
            SHARE,
            "Share of commissioners whose engagement this year is co-design or co-production.",
            "time series",
        ),
        (
            "policy_adoption_share",
            "Authorities with an SV policy",
            SHARE,
            "Share of commissioners with a formal social-value policy.",
            "time series",
        ),
        (
            "bid_rate_sme_vso",
            "Small-VSO bid rate",
            RATE,
            "Chance that an active small VSO bid on a tender in the quarter (empty when no tender was open).",
            "time series",
        ),
        ("tenders", "Tenders", COUNT, "Tenders run in the quarter.", "time series", True),
        (
            "mean_understanding",
            "Understanding of social value",
            INDEX,
            "Commissioners' mean understanding of social value.",
            "time series",
        ),
    ]
)

AUTHORITY: dict[str, Outcome] = _table(
    [
        ("authority", "Authority", COUNT, "Index of the authority, from 0.", "authority", True),
        ("name", "Name", TEXT, "The authority's name from the scenario, or authority_<index>.", "authority"),
        (
            "sv_weight_mean",
            "Mean SV weight",
            WEIGHT,
            "The authority's mean social-value weight over its tenders.",
            "authority",
        ),
        ("sv_weight_final", "Final SV weight", WEIGHT, "The authority's social-value weight at the end.", "authority"),
        (
            "sv_understanding_initial",
            "Initial understanding",
            INDEX,
            "The authority's understanding of social value at the start.",
            "authority",
        ),
        (
            "sv_understanding_final",
            "Final understanding",
            INDEX,
            "The authority's understanding of social value at the end.",
            "authority",
        ),
        ("political_commitment", "Political commitment", INDEX, "The authority's political commitment.", "authority"),
        ("social_skill", "Social skill", INDEX, "The commissioner's social skill at the end.", "authority"),
        ("risk_aversion", "Risk aversion", INDEX, "The commissioner's risk aversion.", "authority"),
        (
            "has_sv_policy",
            "Has an SV policy",
            FLAG,
            "Whether the authority has a social-value policy at the end.",
            "authority",
        ),
        (
            "supplier_defined_share",
            "Supplier-defined tenders",
            SHARE,
            "Share of the authority's tenders whose social value bidders defined.",
            "authority",
        ),
        (
            "codesign_share",
            "Co-designed tenders",
            SHARE,
            "Share of the authority's tenders preceded by co-design or co-production.",
            "authority",
        ),
        ("tenders", "Tenders", COUNT, "Tenders the authority ran.", "authority", True),
        (
            "trust_final",
            "Final trust",
            INDEX,
            "The commissioner's trust towards the voluntary sector at the end.",
            "authority",
        ),
        ("legitimacy_final", "Final legitimacy", INDEX, "The authority's legitimacy at the end.", "authority"),
    ]
)

_EVERY: dict[str, Outcome] = {**TIMESERIES, **AUTHORITY, **ID_COLUMNS, **OUTCOMES}


def outcome(name: str) -> Outcome:
    """The glossary entry of any column (runs, time-series or authority table).

    Raises:
        KeyError: for an unknown name, with the closest known names suggested.
    """
    try:
        return _EVERY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_EVERY), n=3)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise KeyError(f"unknown outcome {name!r}{hint}") from None


def label(name: str) -> str:
    """The human label of a column."""
    return outcome(name).label


def unit(name: str) -> str:
    """The unit of a column (a key of ``UNITS``)."""
    return outcome(name).unit


def label_with_unit(name: str) -> str:
    """``"Label (unit)"`` for axes and table headers; unit-free labels for text columns."""
    o = outcome(name)
    return o.label if o.unit in (TEXT, FLAG) else f"{o.label} ({o.unit})"


def format_value(name: str, x: float | None) -> str:
    """One outcome value as tables print it, by its unit in the glossary.

    Money (unit ``£``) as pounds with thousands separators; counts (integer outcomes) as whole
    numbers; social-value units and other large values with thousands separators and no
    decimals; everything else (shares, rates, ratios, indices, weights) to 3 decimal places.
    Unknown names are formatted as plain numbers; a missing or non-finite value as ``n/a``.
    """
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    x = float(x)
    entry = OUTCOMES.get(name)
    if entry is not None and entry.unit == GBP:
        return f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}"
    if (entry is not None and entry.integer) or abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3f}"
