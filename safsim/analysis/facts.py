"""The registry of stylized facts (docs/stylized-facts.md) as testable experiments.

Objects:
    Arm: one simulated condition of an experiment (a bundled scenario plus overrides).
    Metric: a named per-run quantity computed from replicate tables (an outcome of
        ``safsim.metrics`` or a derived quantity defined and documented here).
    Quantity: a metric measured in one arm.
    Expect: the expected side of a threshold (``greater``/``less``; strict or ``at_least``).
    Contrast: a criterion on a per-seed linear combination of quantities (a level against a
        threshold, a paired difference between arms, a difference of two outcomes of the same
        run, or a difference of differences).
    Trend: a criterion on the Spearman rank correlation between an arm's lever level and a
        metric over a sweep of arms.
    AuthorityAssociation: a criterion on the per-authority table pooled over runs: a Spearman
        correlation between two columns or the R-squared of a linear regression.
    Criterion: any of the three criterion kinds.
    Fact: one stylized fact: id, claim, evidence, experiment (arms) and criteria.
    FACTS: the seventeen facts F1-F17, in order.
    DERIVED_METRICS: the metrics defined here beyond ``metrics.ALL_OUTCOMES``.
    Origin: whether a criterion is ``emergent``, ``constrained`` (partly constrained by inputs)
        or ``input`` (an input restated); every criterion carries one, with a reason.
    fact_class(fact): ``emergent`` when a counted criterion is emergent or constrained, else
        ``input`` (an input check).
    fact_ids(), get_facts(ids): look facts up by id.

Every criterion is computed from what the model reports (its outcomes, time series and
per-authority table) over arms that differ only in documented scenario levers; nothing here
changes how the model behaves.  Arms of all facts share one list of seeds (common random
numbers), so the same (scenario, overrides) arm is simulated once and reused.  Thresholds
that turn a verbal claim ("rarely", "low", "most") into a number are stated in each
criterion and in docs/validation.md; they were fixed from the wording of the claim, not from
model output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pandas as pd

from safsim.metrics import ALL_OUTCOMES, AUTHORITY_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from safsim.experiments.replicates import Results

__all__ = [
    "DERIVED_METRICS",
    "FACTS",
    "Arm",
    "AuthorityAssociation",
    "Contrast",
    "Criterion",
    "Expect",
    "Origin",
    "Fact",
    "Metric",
    "Quantity",
    "Trend",
    "check_registry",
    "fact_class",
    "fact_ids",
    "get_facts",
]


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """One simulated condition: a bundled scenario with dotted-path overrides.

    Attributes:
        label: short name shown in tables and plots (unique within a fact).
        scenario: a bundled scenario name (``safsim list``) or a YAML path.
        overrides: ``{dotted.path: value}`` applied with ``load_scenario``.
        level: the lever's value for sweeps (the x of a Trend), else None.
    """

    label: str
    scenario: str = "baseline"
    overrides: Mapping[str, Any] = field(default_factory=dict)
    level: float | None = None

    @property
    def key(self) -> str:
        """Identity of the simulated condition (arms with equal keys are run once)."""
        return json.dumps(
            {"scenario": self.scenario, "overrides": dict(self.overrides)},
            sort_keys=True,
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class Metric:
    """A per-run quantity computed from one arm's replicate tables.

    Attributes:
        name: snake_case name (an outcome of ``safsim.metrics`` or one of DERIVED_METRICS).
        description: what it measures, in words.
        compute: ``Results -> pd.Series`` of one value per run, indexed by seed.
    """

    name: str
    description: str
    compute: Callable[[Results], pd.Series] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Quantity:
    """A metric measured in one arm (by arm label)."""

    arm: str
    metric: Metric


class Expect(StrEnum):
    """Which side of the threshold the statistic is expected on.

    ``greater``/``less``: strictly (the 95% interval must exclude the threshold);
    ``at_least``/``at_most``: the interval may touch it (for floors such as "10% upwards").
    """

    greater = "greater"
    less = "less"
    at_least = "at_least"
    at_most = "at_most"

    @property
    def sign(self) -> int:
        return 1 if self in (Expect.greater, Expect.at_least) else -1

    @property
    def symbol(self) -> str:
        return {"greater": ">", "less": "<", "at_least": ">=", "at_most": "<="}[self.value]


class Origin(StrEnum):
    """Whether a criterion tests an emergent result or restates what the model is given.

    ``emergent``: no rule or input writes the tested relation; it arises from agents'
    decisions interacting (bidding, awards, finances, learning).
    ``constrained``: a rule or input sets the direction of the tested relation (or the range of
    the tested quantity), but its realised size is shaped by other mechanisms (learning,
    imitation, adoption, selection of winners, shocks), so the criterion could fail.
    ``input``: the tested quantity restates an input or a rule applied to inputs; the criterion
    holds whatever the other mechanisms do (a check that they do not overturn it).
    """

    emergent = "emergent"
    constrained = "constrained"
    input = "input"


@dataclass(frozen=True)
class Contrast:
    """Per seed: ``sum(coef * quantity)``; its mean is compared with ``threshold``.

    A single term is a level test (e.g. the baseline's sv_hard_share > 0.5); terms ``(+1, b),
    (-1, a)`` a paired difference over common random numbers; two metrics of one arm a
    within-run difference; four terms a difference of differences.

    Statistics: mean over seeds, percentile bootstrap 95% interval, sign-flip permutation
    p-value of ``value - threshold`` (two-sided).
    """

    id: str
    expected: str
    terms: tuple[tuple[float, Quantity], ...]
    expect: Expect
    threshold: float = 0.0
    counted: bool = True
    note: str = ""
    test: str = "paired"
    origin: Origin = field(kw_only=True)
    origin_reason: str = field(kw_only=True)
    # The criterion's arms run on this many times the mode's replicates (the first seeds of the
    # longer list are everyone's), for an effect a power calculation shows the mode's replicates
    # cannot detect; the criterion's note says why.
    replicate_factor: int = field(default=1, kw_only=True)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.metric.name for _, q in self.terms))

    @property
    def arm_labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.arm for _, q in self.terms))

    def describe_test(self) -> str:
        if len(self.terms) == 1:
            return "level vs threshold: mean over seeds, bootstrap CI, sign-flip p"
        if len(self.arm_labels) == 1:
            return "within-run difference: mean over seeds, bootstrap CI, sign-flip p"
        return "paired contrast over common seeds: mean, bootstrap CI, sign-flip p"


@dataclass(frozen=True)
class Trend:
    """Spearman rank correlation between the arms' lever levels and a metric.

    Pairs (level, value) are pooled over seeds and arms; the interval is a cluster bootstrap
    over seeds (each resampled seed brings all its levels, keeping common random numbers);
    the p-value permutes levels within each seed.
    """

    id: str
    expected: str
    metric: Metric
    arms: tuple[str, ...]
    expect: Expect
    threshold: float = 0.0
    counted: bool = True
    note: str = ""
    origin: Origin = field(kw_only=True)
    origin_reason: str = field(kw_only=True)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return (self.metric.name,)

    @property
    def arm_labels(self) -> tuple[str, ...]:
        return self.arms

    def describe_test(self) -> str:
        return "Spearman rank correlation over levels, seed-cluster bootstrap CI, permutation p"


class AuthorityStat(StrEnum):
    """Statistics of the pooled per-authority table."""

    spearman = "spearman"
    r_squared = "r_squared"


@dataclass(frozen=True)
class AuthorityAssociation:
    """An association in the per-authority table of one arm, pooled over runs.

    ``spearman``: rank correlation of ``x[0]`` with ``y``; ``r_squared``: share of the
    variance of ``y`` explained by a linear regression on the columns ``x``.  The interval is
    a cluster bootstrap over runs; the p-value permutes ``y`` within runs.
    """

    id: str
    expected: str
    arm: str
    y: str
    x: tuple[str, ...]
    stat: AuthorityStat
    expect: Expect
    threshold: float = 0.0
    counted: bool = True
    note: str = ""
    origin: Origin = field(kw_only=True)
    origin_reason: str = field(kw_only=True)

    @property
    def metric_names(self) -> tuple[str, ...]:
        if self.stat is AuthorityStat.spearman:
            return (f"spearman({self.x[0]}, {self.y})",)
        return (f"r_squared({self.y} ~ {' + '.join(self.x)})",)

    @property
    def arm_labels(self) -> tuple[str, ...]:
        return (self.arm,)

    def describe_test(self) -> str:
        what = "Spearman correlation" if self.stat is AuthorityStat.spearman else "OLS R-squared"
        return f"{what} over authorities pooled across runs, run-cluster bootstrap CI, within-run permutation p"


Criterion = Contrast | Trend | AuthorityAssociation


@dataclass(frozen=True)
class Fact:
    """One stylized fact and the experiment that tests it.

    Attributes:
        id: ``F1`` ... ``F17``.
        title: the fact in one line (stylized-facts.md).
        claim: what the model must reproduce, in words.
        strength: the evidence rating of stylized-facts.md.
        evidence: the thesis sections (``Th §<section>``) and practitioner passages (K/S).
        experiment: which scenario, which lever varied or which arms compared.
        arms: the simulated conditions.
        criteria: what must hold; the fact passes when every counted criterion passes.
        theoretical: True when the fact is set by parameters rather than emerging (F17).
        notes: caveats shown in the report.
    """

    id: str
    title: str
    claim: str
    strength: str
    evidence: str
    experiment: str
    arms: tuple[Arm, ...]
    criteria: tuple[Criterion, ...]
    theoretical: bool = False
    notes: str = ""

    def arm(self, label: str) -> Arm:
        for a in self.arms:
            if a.label == label:
                return a
        raise KeyError(f"{self.id} has no arm {label!r}")


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------


def _by_seed(results: Results, column: str) -> pd.Series:
    runs = results.runs
    return pd.Series(
        pd.to_numeric(runs[column], errors="coerce").to_numpy(dtype=float),
        index=runs["seed"].to_numpy(),
        name=column,
    )


def outcome(name: str) -> Metric:
    """The run outcome ``name`` of ``safsim.metrics.ALL_OUTCOMES``."""
    if name not in ALL_OUTCOMES:
        raise KeyError(f"unknown outcome {name!r}")
    return Metric(name, ALL_OUTCOMES[name], lambda r: _by_seed(r, name))


def _outcome_sum(name: str, description: str, columns: tuple[str, ...]) -> Metric:
    for c in columns:
        if c not in ALL_OUTCOMES:
            raise KeyError(f"unknown outcome {c!r}")

    def compute(r: Results) -> pd.Series:
        total = sum(_by_seed(r, c) for c in columns)
        return pd.Series(total, name=name)

    return Metric(name, description, compute)


def _income_share(name: str, description: str, kinds: tuple[str, ...], half: str) -> Metric:
    """Share of contract income going to ``kinds`` in the first or second half of the run."""

    def compute(r: Results) -> pd.Series:
        ts = r.timeseries
        income_cols = [c for c in ts.columns if c.startswith("income_") and c.endswith("_gbp")]
        horizon = int(ts["step"].max()) + 1
        mid = horizon // 2
        part = ts[ts["step"] < mid] if half == "first" else ts[ts["step"] >= mid]
        sums = part.groupby("seed")[income_cols].sum()
        num = sums[[f"income_{k}_gbp" for k in kinds]].sum(axis=1)
        den = sums.sum(axis=1)
        share = (num / den.where(den > 0)).astype(float)
        seeds = r.runs["seed"].to_numpy()
        return pd.Series(share.reindex(seeds).to_numpy(dtype=float), index=seeds, name=name)

    return Metric(name, description, compute)


def _authority_share(name: str, description: str, column: str, op: str, cutoff: float) -> Metric:
    """Per run: share of authorities whose ``column`` is <= or >= ``cutoff``."""

    def compute(r: Results) -> pd.Series:
        a = r.authorities
        v = pd.to_numeric(a[column], errors="coerce")
        hit = (v <= cutoff + 1e-12) if op == "<=" else (v >= cutoff - 1e-12)
        share = hit.groupby(a["seed"]).mean()
        seeds = r.runs["seed"].to_numpy()
        return pd.Series(share.reindex(seeds).to_numpy(dtype=float), index=seeds, name=name)

    return Metric(name, description, compute)


def _authority_group_stat(name: str, description: str, column: str, stat: str, even_index: bool) -> Metric:
    """Per run: mean or sd of ``column`` over the authorities with even (or odd) index."""

    def compute(r: Results) -> pd.Series:
        a = r.authorities
        mask = (a["authority"].astype(int) % 2 == 0) == even_index
        sub = a[mask]
        v = pd.to_numeric(sub[column], errors="coerce").groupby(sub["seed"])
        out = v.mean() if stat == "mean" else v.std(ddof=1)
        seeds = r.runs["seed"].to_numpy()
        return pd.Series(out.reindex(seeds).to_numpy(dtype=float), index=seeds, name=name)

    return Metric(name, description, compute)


_LARGE = _outcome_sum(
    "share_value_large_providers",
    "share of awarded contract value won by corporates plus large charities "
    "(share_value_corporate + share_value_large_charity)",
    ("share_value_corporate", "share_value_large_charity"),
)
_VSO_LED = _outcome_sum(
    "share_value_vso_led",
    "share of awarded contract value won by small VSOs alone or in VSO consortia "
    "(share_value_sme_vso + share_value_consortium)",
    ("share_value_sme_vso", "share_value_consortium"),
)
_VSO_INCOME_FIRST = _income_share(
    "vso_income_share_first_half",
    "share of contract income paid to small VSOs and VSO consortia in the first half of the run "
    "(time-series income_<kind>_gbp)",
    ("sme_vso", "consortium"),
    "first",
)
_VSO_INCOME_SECOND = _income_share(
    "vso_income_share_second_half",
    "share of contract income paid to small VSOs and VSO consortia in the second half of the run",
    ("sme_vso", "consortium"),
    "second",
)
_AUTH_LOW = _authority_share(
    "authority_share_sv_weight_le_5pct",
    "share of a run's authorities whose mean SV weight is at most 0.05",
    "sv_weight_mean",
    "<=",
    0.05,
)
_AUTH_HIGH = _authority_share(
    "authority_share_sv_weight_ge_10pct",
    "share of a run's authorities whose mean SV weight is at least 0.10",
    "sv_weight_mean",
    ">=",
    0.10,
)
_AUTH_MOSTLY_CONSULT = _authority_share(
    "authority_share_mostly_below_codesign",
    "share of a run's authorities whose tenders were mostly (>= 50%) preceded by no "
    "engagement or consultation only (codesign_share <= 0.5)",
    "codesign_share",
    "<=",
    0.5,
)
_POLICY_MEAN = _authority_group_stat(
    "sv_weight_mean_policy",
    "mean SV weight of the authorities given an SV policy at the start (even index)",
    "sv_weight_mean",
    "mean",
    True,
)
_NOPOLICY_MEAN = _authority_group_stat(
    "sv_weight_mean_no_policy",
    "mean SV weight of the authorities without an SV policy at the start (odd index)",
    "sv_weight_mean",
    "mean",
    False,
)
_POLICY_SD = _authority_group_stat(
    "sv_weight_sd_policy",
    "standard deviation of mean SV weights across the policy authorities of a run",
    "sv_weight_mean",
    "sd",
    True,
)
_NOPOLICY_SD = _authority_group_stat(
    "sv_weight_sd_no_policy",
    "standard deviation of mean SV weights across the no-policy authorities of a run",
    "sv_weight_mean",
    "sd",
    False,
)

DERIVED_METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _LARGE,
        _VSO_LED,
        _VSO_INCOME_FIRST,
        _VSO_INCOME_SECOND,
        _AUTH_LOW,
        _AUTH_HIGH,
        _AUTH_MOSTLY_CONSULT,
        _POLICY_MEAN,
        _NOPOLICY_MEAN,
        _POLICY_SD,
        _NOPOLICY_SD,
    )
}


def _m(name: str) -> Metric:
    return DERIVED_METRICS[name] if name in DERIVED_METRICS else outcome(name)


def _q(arm: str, metric: str) -> Quantity:
    return Quantity(arm, _m(metric))


# --------------------------------------------------------------------------------------
# Arms shared by several facts (same key => simulated once)
# --------------------------------------------------------------------------------------

BASELINE = Arm("baseline")
CODESIGN = Arm("codesign", "codesign")

BUDGET_CUTS: tuple[float, ...] = (0.0, 0.15, 0.30, 0.45)
SV_WEIGHTS: tuple[float, ...] = (0.0, 0.02, 0.05, 0.10, 0.20)
RISK_AVERSIONS: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
SOCIAL_SKILLS: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
N_AUTHORITIES_DIFFUSION = 20


def _austerity(cut: float) -> dict[str, Any]:
    if cut <= 0:
        return {}
    return {"shocks": [{"kind": "austerity", "at_step": 4, "budget_cut": cut, "over_steps": 8}]}


def _cut_arm(cut: float) -> Arm:
    return Arm(f"cut {cut:.2f}", "baseline", _austerity(cut), level=cut)


def _weight_overrides(w: float) -> dict[str, Any]:
    # Price and quality keep the baseline's 60:35 ratio; the three weights sum to 1.
    price = round(0.60 / 0.95 * (1.0 - w), 10)
    return {
        "commissioners.sv_weight": w,
        "commissioners.price_weight": price,
        "commissioners.quality_weight": round(1.0 - w - price, 10),
    }


def _weight_arm(w: float) -> Arm:
    return Arm(f"w_SV {w:.2f}", "baseline", _weight_overrides(w), level=w)


def _around(level: float, half_width: float = 0.1) -> dict[str, Any]:
    """A uniform distribution of width 2 x half_width centred on ``level`` (kept inside [0, 1])."""
    return {"dist": "uniform", "low": max(0.0, level - half_width), "high": min(1.0, level + half_width)}


def _crisis_arm(skill: float, commitment: float) -> Arm:
    # Skill and commitment are drawn per authority around the arm's level, so authorities differ
    # and the arm's result is a probability with a real interval, not a constant crossing a rule.
    return Arm(
        f"skill {skill:.1f}" + ("" if commitment == 0.8 else f", commitment {commitment:.1f}"),
        "baseline",
        {
            "commissioners.social_skill": _around(skill),
            "commissioners.political_commitment": _around(commitment),
            "shocks": [
                {"kind": "austerity", "at_step": 4, "budget_cut": 0.30, "over_steps": 4},
                {"kind": "political_crisis", "at_step": 6, "legitimacy_drop": 0.5},
            ],
        },
        level=skill,
    )


_MANY = {"field.n_authorities": N_AUTHORITIES_DIFFUSION}
MANY_AUTHORITIES = Arm("20 authorities", "baseline", _MANY)
MANY_AUTHORITIES_LIST = Arm(
    "20 authorities, commissioner list",
    "baseline",
    {**_MANY, "commissioners.sv_definition": "commissioner_list"},
)
MANY_AUTHORITIES_HALF_POLICY = Arm(
    "20 authorities, half with policy",
    "baseline",
    {
        **_MANY,
        "authorities": [{"has_sv_policy": i % 2 == 0} for i in range(N_AUTHORITIES_DIFFUSION)],
    },
)

CUT_ARMS = tuple(_cut_arm(c) for c in BUDGET_CUTS)
WEIGHT_ARMS = tuple(_weight_arm(w) for w in SV_WEIGHTS)

_G, _L = Expect.greater, Expect.less

# --------------------------------------------------------------------------------------
# The seventeen facts
# --------------------------------------------------------------------------------------

F1 = Fact(
    id="F1",
    title="Austerity leads to larger contracts and more large-provider wins.",
    claim="Mean contract value and the win share of corporates plus large charities both rise "
    "with the severity of budget cuts.",
    strength="strong",
    evidence="Th §3.4, §5.2, §5.5, §6.1",
    experiment="Baseline with an austerity shock (at step 4, phased over 8 steps); the total "
    "budget cut is swept over 0, 0.15, 0.30, 0.45.",
    arms=CUT_ARMS,
    criteria=(
        Trend(
            "F1a",
            "mean contract value rises with the cut (Spearman > 0)",
            _m("mean_contract_value_gbp"),
            tuple(a.label for a in CUT_ARMS),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "Lots are bundled by rule as budget pressure rises "
                "(behaviour.aggregation_sensitivity) while cuts shrink budgets, so the rule pushes "
                "contract value up but the net effect of the cut is not set."
            ),
        ),
        Trend(
            "F1b",
            "corporate + large-charity value share rises with the cut (Spearman > 0)",
            _LARGE,
            tuple(a.label for a in CUT_ARMS),
            _G,
            origin=Origin.emergent,
            origin_reason=(
                "No rule favours large providers under cuts; their rising share comes from who can "
                "bid for, price and win the larger lots."
            ),
        ),
    ),
)

_W = {w: a.label for w, a in zip(SV_WEIGHTS, WEIGHT_ARMS, strict=True)}

F2 = Fact(
    id="F2",
    title="Price dominates: SV weights of 2-10% rarely change the winner.",
    claim="The share of tenders whose winner would differ with the SV weight set to 0 is low "
    "at w_SV <= 0.10 under a high price weight and rises as w_SV approaches 0.20.",
    strength="strong",
    evidence="Th §4.3, §5.2, §6.1",
    experiment="Baseline (price weight 0.60 of 0.95, 'the top priority') with the nominal SV "
    "weight swept over 0, 0.02, 0.05, 0.10, 0.20; price and quality keep their 60:35 ratio so "
    "the weights sum to 1.",
    arms=WEIGHT_ARMS,
    criteria=(
        Contrast(
            "F2a",
            "at w_SV = 0.10 the winner changes in fewer than 10% of tenders "
            "('rarely', 'near 0'); lower weights change fewer",
            ((1.0, _q(_W[0.10], "winner_changed_by_sv")),),
            _L,
            0.10,
            test="level",
            origin=Origin.emergent,
            origin_reason=(
                "How often SV changes the winner at 10% depends on the spread of bid prices, SV "
                "claims and marks that bidding and awards produce; no rule sets it."
            ),
        ),
        Trend(
            "F2b",
            "winner_changed_by_sv rises with w_SV (Spearman > 0)",
            _m("winner_changed_by_sv"),
            tuple(_W.values()),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "The counterfactual is zero at w_SV = 0 by definition and the score formula gives SV "
                "more say as its weight rises, so the direction is nearly set; the size comes from "
                "the bids."
            ),
        ),
        Contrast(
            "F2c",
            "it is higher at w_SV = 0.20 than at 0.10",
            (
                (1.0, _q(_W[0.20], "winner_changed_by_sv")),
                (-1.0, _q(_W[0.10], "winner_changed_by_sv")),
            ),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "The score formula gives SV more say at 0.20 than at 0.10, so the direction is nearly"
                " set; the size depends on the bids and who enters."
            ),
        ),
    ),
)

NO_BELIEF_LEARNING = Arm(
    "no learning from outcomes",
    "baseline",
    {"behaviour.belief_learning_rate": 0.001},
)

F3 = Fact(
    id="F3",
    title="Small and medium VSOs stop bidding when they expect to lose or the SV weight is low.",
    claim="The SME-VSO bid participation rate rises with w_SV but saturates, and falls after repeated losses.",
    strength="strong",
    evidence="Th §5.3, §5.4, §6.1",
    experiment="(i) The F2 sweep of the SV weight; (ii) the baseline against the same field in "
    "which providers keep their prior win belief (behaviour.belief_learning_rate 0.001 instead "
    "of 0.25), so that the effect of learning from their - mostly lost - bids is isolated.",
    arms=(*WEIGHT_ARMS, BASELINE, NO_BELIEF_LEARNING),
    criteria=(
        Trend(
            "F3a",
            "SME-VSO bid rate rises with w_SV (Spearman > 0)",
            _m("bid_rate_sme_vso"),
            tuple(_W.values()),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "A provider's perceived win chance rises with the SV weight by rule "
                "(sv_weight_sensitivity, min_sv_weight_to_bid), but realised bidding also runs "
                "through beliefs, hurdles and reserves."
            ),
        ),
        Contrast(
            "F3b",
            "the rise saturates: the gain from w_SV 0.10 to 0.20 is smaller than from 0 to 0.10 "
            "(b(0.20) - 2 b(0.10) + b(0) < 0)",
            (
                (1.0, _q(_W[0.20], "bid_rate_sme_vso")),
                (-2.0, _q(_W[0.10], "bid_rate_sme_vso")),
                (1.0, _q(_W[0.0], "bid_rate_sme_vso")),
            ),
            _L,
            origin=Origin.constrained,
            origin_reason=(
                "The logistic win-belief term bends by its form, but whether the realised bid rate "
                "saturates depends on hurdles, reserves and learning from awards."
            ),
        ),
        Contrast(
            "F3c",
            "learning from (mostly lost) bids lowers the SME-VSO bid rate (baseline - no-learning < 0)",
            (
                (1.0, _q("baseline", "bid_rate_sme_vso")),
                (-1.0, _q("no learning from outcomes", "bid_rate_sme_vso")),
            ),
            _L,
            origin=Origin.emergent,
            origin_reason=(
                "Win beliefs learn from award outcomes; that small VSOs mostly lose, and so bid less,"
                " emerges from the contests."
            ),
            # Power: the learned belief can decide only about 1% of the bid rate's (small VSO,
            # tender) pairs (the rest fail the service area, the SV hurdle or size first), so the
            # effect expected from counting the bids it deters is about -0.0007 against a per-seed
            # sd of the paired difference of about 0.0035 (benchmarks/f3c_decisions.py, 40 runs);
            # 80% power needs (2.8 x 0.0035 / 0.0007)^2, about 220 seeds.
            replicate_factor=4,
        ),
    ),
    notes="F3c isolates the loss-learning mechanism by an ablation, on four times the mode's "
    "replicates (240 seeds in full mode): learning can decide only about 1% of the bid rate's "
    "pairs, so its effect is small beside run-to-run noise and 60 seeds detect it about one time "
    "in three (power calculation in the criterion's definition). A provider-level test (bid "
    "rate after k consecutive losses) would need a provider snapshot outcome.",
)

NO_ENGAGEMENT_START = Arm("no engagement at start", "baseline", {"commissioners.engagement": "none"})

F4 = Fact(
    id="F4",
    title="Unilateral procurement-stage SV is the norm; whole-cycle SV is rare.",
    claim="SV is mostly set by the commissioner alone at the procurement stage: a field whose "
    "authorities start without pre-procurement engagement mostly stays so; few tenders are "
    "preceded by co-design or co-production and most authorities stay at 'no participation' "
    "or 'consultation'.",
    strength="strong",
    evidence="Th §2.3, §5.3, §6.1",
    experiment="Baseline: the share of tenders preceded by co-design or co-production "
    "(codesign_rate) and the share of authorities mostly below co-design; baseline with every "
    "authority starting at no engagement (commissioners.engagement none): the share of tenders "
    "preceded by any engagement, consultation or more (engagement_rate), after ten years in "
    "which the engagement ladder, crises and brokering can move authorities up.",
    arms=(BASELINE, NO_ENGAGEMENT_START),
    criteria=(
        Contrast(
            "F4a",
            "fewer than 20% of tenders are co-designed or co-produced ('rare')",
            ((1.0, _q("baseline", "codesign_rate")),),
            _L,
            0.20,
            test="level",
            origin=Origin.constrained,
            origin_reason=(
                "The baseline starts every authority at consultation (an input); whether co-design "
                "spreads is decided by the engagement ladder, crises, brokering and imitation."
            ),
        ),
        Contrast(
            "F4b",
            "starting without engagement, fewer than half of the tenders come to be preceded by "
            "any engagement, consultation or more ('unilateral ... the norm')",
            ((1.0, _q("no engagement at start", "engagement_rate")),),
            _L,
            0.50,
            test="level",
            origin=Origin.constrained,
            origin_reason=(
                "The arm starts every authority at no engagement (an input); whether consultation or "
                "more spreads over ten years is decided by the engagement ladder, crises, brokering "
                "and imitation."
            ),
        ),
        Contrast(
            "F4c",
            "more than half of the authorities stay mostly at none/consultation ('most LAs')",
            ((1.0, _q("baseline", "authority_share_mostly_below_codesign")),),
            _G,
            0.50,
            test="level",
            origin=Origin.constrained,
            origin_reason=(
                "The baseline starts every authority at consultation (an input); how many move mostly"
                " to co-design is decided by the ladder, crises, brokering and imitation."
            ),
        ),
    ),
    notes="The baseline's intended engagement is consultation for every authority (an input, "
    "Th §4.4), so its engagement_rate (about 0.9) restates that input and is not tested; "
    "F4b starts the field at no engagement instead and tests whether any engagement spreads. "
    "F4a and F4c test that ten years of crises, brokering and imitation leave whole-cycle "
    "engagement rare.",
)

F5 = Fact(
    id="F5",
    title="Post-award SV follow-up is patchy, so claimed SV exceeds delivered SV.",
    claim="Few contracts are monitored for SV; claimed SV exceeds delivered SV; the gap is "
    "larger where monitoring is low and for CSR-framed (inflated) bids.",
    strength="strong",
    evidence="Th §4.3, §5.2, §5.5, §6.1",
    experiment="Baseline levels; baseline with commissioners.monitoring_rate 0.1 vs 0.6; "
    "baseline vs baseline without CSR framing (providers.corporate.claim_inflation 1.0).",
    arms=(
        BASELINE,
        Arm("monitoring 0.1", "baseline", {"commissioners.monitoring_rate": 0.1}),
        Arm("monitoring 0.6", "baseline", {"commissioners.monitoring_rate": 0.6}),
        Arm("no CSR framing", "baseline", {"providers.corporate.claim_inflation": 1.0}),
    ),
    criteria=(
        Contrast(
            "F5a",
            "fewer than half of the contracts are followed up for SV ('patchy')",
            ((1.0, _q("baseline", "monitoring_rate_realised")),),
            _L,
            0.5,
            test="level",
            origin=Origin.input,
            origin_reason=("The realised monitoring share restates the input commissioners.monitoring_rate 0.3."),
        ),
        Contrast(
            "F5b",
            "claimed SV exceeds delivered SV in the baseline (sv_gap > 0)",
            ((1.0, _q("baseline", "sv_gap")),),
            _G,
            0.0,
            test="level",
            origin=Origin.constrained,
            origin_reason=(
                "Corporate claim inflation is an input, but whether awarded contracts' claims exceed "
                "delivery in sum depends on articulation, underfunding and who wins."
            ),
        ),
        Contrast(
            "F5c",
            "the gap is larger under low monitoring (gap at 0.1 - gap at 0.6 > 0)",
            ((1.0, _q("monitoring 0.1", "sv_gap")), (-1.0, _q("monitoring 0.6", "sv_gap"))),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "Monitoring acts on claims and delivery by rule, but the size of the gap on awarded "
                "contracts depends on who wins and how providers respond."
            ),
        ),
        Contrast(
            "F5d",
            "the gap is larger with CSR-framed corporate bids (baseline - no CSR framing > 0)",
            ((1.0, _q("baseline", "sv_gap")), (-1.0, _q("no CSR framing", "sv_gap"))),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "claim_inflation multiplies corporate claims directly, but the gap is measured on "
                "awarded contracts, and which bids win depends on those claims."
            ),
        ),
    ),
    notes="F5a restates an input (commissioners.monitoring_rate 0.3); the realised share is reported as a check.",
)

F6 = Fact(
    id="F6",
    title="SV evidence concentrates on easy-to-measure indicators.",
    claim="More than half of claimed SV is in hard categories in the baseline; the share falls under co-design.",
    strength="strong",
    evidence="Th §2.5, §4.3, §5.5, §6.1",
    experiment="Baseline level of sv_hard_share; bundled codesign scenario vs baseline.",
    arms=(BASELINE, CODESIGN),
    criteria=(
        Contrast(
            "F6a",
            "hard share of claimed SV > 0.5 in the baseline",
            ((1.0, _q("baseline", "sv_hard_share")),),
            _G,
            0.5,
            test="level",
            origin=Origin.constrained,
            origin_reason=(
                "Each provider's split of claims into hard categories is an input "
                "(providers.<kind>.hard_sv_bias, 0.3-0.95 by kind); the pooled share depends on who "
                "bids and wins."
            ),
        ),
        Contrast(
            "F6b",
            "co-design lowers the hard share (codesign - baseline < 0)",
            ((1.0, _q("codesign", "sv_hard_share")), (-1.0, _q("baseline", "sv_hard_share"))),
            _L,
            origin=Origin.input,
            origin_reason=(
                "Co-defined SV moves a fixed part of hard claims to soft by rule "
                "(behaviour.codefined_soft_shift 0.4), so co-design lowers the hard share by "
                "construction."
            ),
        ),
    ),
)

F7 = Fact(
    id="F7",
    title="Co-design raises small-VSO confidence and participation, but the LA keeps control.",
    claim="SME-VSO bid rate and win share rise under co-design, with a lag.",
    strength="moderate (Case B only)",
    evidence="Th §4.4, §5.4, §5.5, §6.1",
    experiment="Bundled codesign scenario vs baseline (common seeds); the lag compares the "
    "effect on small-VSO income share in the second half of the run with the first half.",
    arms=(BASELINE, CODESIGN),
    criteria=(
        Contrast(
            "F7a",
            "SME-VSO bid rate is higher under co-design",
            ((1.0, _q("codesign", "bid_rate_sme_vso")), (-1.0, _q("baseline", "bid_rate_sme_vso"))),
            _G,
            origin=Origin.emergent,
            origin_reason=(
                "Co-design raises participants' beliefs and awareness, but whether the small-VSO bid "
                "rate rises over the run emerges from awards, learning and exits."
            ),
        ),
        Contrast(
            "F7b",
            "small-VSO (incl. VSO consortia) win share is higher under co-design",
            (
                (1.0, _q("codesign", "share_value_vso_led")),
                (-1.0, _q("baseline", "share_value_vso_led")),
            ),
            _G,
            origin=Origin.emergent,
            origin_reason=(
                "No rule awards co-design tenders to small VSOs; their value share comes from bids, "
                "marks and competition."
            ),
        ),
        Contrast(
            "F7c",
            "with a lag: the effect on small-VSO income share is larger in the second half of "
            "the run than in the first",
            (
                (1.0, _q("codesign", "vso_income_share_second_half")),
                (-1.0, _q("baseline", "vso_income_share_second_half")),
                (-1.0, _q("codesign", "vso_income_share_first_half")),
                (1.0, _q("baseline", "vso_income_share_first_half")),
            ),
            _G,
            origin=Origin.emergent,
            origin_reason=(
                "The lag is not written anywhere; it comes from beliefs, awareness and reserves "
                "building up over the run."
            ),
            # Power: a difference of differences of two income shares, about 0.008-0.010 against
            # a per-seed sd of about 0.031 (240 seeds, with SV marked against a rubric and
            # relative to the best answer alike); 80% power needs (2.8 x 0.031 / 0.008)^2, about
            # 120 seeds, and 60 seeds detect it about one time in three.
            replicate_factor=4,
        ),
    ),
    notes="The LA keeps control by construction: the commissioner alone scores and awards "
    "(no transfer of final authority is modelled); not tested. F7c, a difference of "
    "differences, runs on four times the mode's replicates (240 seeds in full mode; power "
    "calculation in the criterion's definition).",
)

_RA_ARMS = tuple(
    Arm(f"risk aversion {r:.1f}", "codesign", {"commissioners.risk_aversion": r}, level=r) for r in RISK_AVERSIONS
)
CODESIGN_EXCLUSION = Arm(
    "codesign, participants excluded", "codesign", {"policies.exclude_codesign_participants": True}
)

F8 = Fact(
    id="F8",
    title="Co-design is resisted as risky or anti-competitive; insiders may be excluded.",
    claim="The probability that an LA adopts co-design falls with commissioner risk aversion; "
    "excluding workshop participants lowers their later bid rate.",
    strength="moderate",
    evidence="Th §4.4, §5.5, §6.1",
    experiment="Codesign scenario with commissioners.risk_aversion swept over 0.1-0.9; codesign "
    "scenario with policies.exclude_codesign_participants true vs false.",
    arms=(*_RA_ARMS, CODESIGN, CODESIGN_EXCLUSION),
    criteria=(
        Trend(
            "F8a",
            "co-design adoption (codesign_rate) falls with risk aversion (Spearman < 0)",
            _m("codesign_rate"),
            tuple(a.label for a in _RA_ARMS),
            _L,
            origin=Origin.input,
            origin_reason=(
                "The log-odds of adopting co-design fall with risk aversion by rule "
                "(behaviour.engagement_risk_slope), and codesign_rate is that adoption probability "
                "realised."
            ),
        ),
        Contrast(
            "F8b",
            "excluding participants lowers their bid rate (excluded - not < 0)",
            (
                (1.0, _q("codesign, participants excluded", "bid_rate_codesign_participants")),
                (-1.0, _q("codesign", "bid_rate_codesign_participants")),
            ),
            _L,
            origin=Origin.input,
            origin_reason=(
                "Excluded insiders' win beliefs are lowered by rule "
                "(behaviour.exclusion_belief_penalty), and beliefs set the bid decision, so their bid"
                " rate falls by construction."
            ),
        ),
    ),
    notes="bid_rate_codesign_participants counts as opportunities the tenders a participant could "
    "bid for (the co-designed tenders it is barred from are left out), so F8b measures the "
    "discouragement of insiders, not the bar itself.",
)

F9 = Fact(
    id="F9",
    title="Uptake is heterogeneous and depends on discretion, understanding and politics.",
    claim="SV weights across LAs are widely spread, with mass at 0-5% and a tail at 10-20%; "
    "their variance is explained by understanding, political commitment and social skill.",
    strength="strong",
    evidence="Th §4.2, §4.3, §5.2, §6.1",
    experiment="Baseline with 20 authorities (field.n_authorities 20) and the baseline's "
    "distributions of understanding, commitment and skill; the per-authority table (mean SV "
    "weight over the run) pooled over runs.",
    arms=(MANY_AUTHORITIES,),
    criteria=(
        Contrast(
            "F9a",
            "mass at 0-5%: at least a quarter of authorities have mean w_SV <= 0.05",
            ((1.0, _q("20 authorities", "authority_share_sv_weight_le_5pct")),),
            Expect.at_least,
            0.25,
            test="level",
            origin=Origin.constrained,
            origin_reason=(
                "The weight formula (base 0.05 scaled by understanding and commitment) and their "
                "input distributions put about half the authorities below 0.05; pressure, policies "
                "and learning move them."
            ),
        ),
        Contrast(
            "F9b",
            "tail at 10-20%: at least 5% of authorities have mean w_SV >= 0.10",
            ((1.0, _q("20 authorities", "authority_share_sv_weight_ge_10pct")),),
            Expect.at_least,
            0.05,
            test="level",
            origin=Origin.constrained,
            origin_reason=(
                "Policy floors are drawn from U(0.10, 0.15) (an input), but how many authorities hold"
                " a policy long enough for their run-mean weight to reach 0.10 depends on adoption "
                "during the run."
            ),
        ),
        AuthorityAssociation(
            "F9c",
            "the realised weight (after drift, imitation and policy adoption) is mostly explained "
            "by its drivers: R^2 of mean w_SV on final understanding, commitment and policy > 0.5",
            "20 authorities",
            "sv_weight_mean",
            ("sv_understanding_final", "political_commitment", "has_sv_policy"),
            AuthorityStat.r_squared,
            _G,
            0.5,
            origin=Origin.constrained,
            origin_reason=(
                "The weight formula uses understanding and commitment and a policy sets a floor, so "
                "the drivers explain much of the weight by construction; drift, imitation, budget "
                "pressure and the timing of adoption keep R-squared below 1, and the threshold 0.5 "
                "could fail."
            ),
        ),
    ),
    notes="F9c regresses the run-mean weight an authority actually applied on the state of its "
    "drivers at the end of the run (understanding after learning and imitation, commitment, "
    "whether it holds a policy), not on the inputs of the weight formula; an R-squared of 1 "
    "would mean the weight is the formula restated, well below 0.5 that the drivers do not "
    "explain the spread.  Social skill is not a driver of the weight in the model (it drives "
    "engagement, F8, F14) and is not in the regression.",
)

F10 = Fact(
    id="F10",
    title="LAs with a formal SV policy/charter apply higher, steadier weights (>= 10%).",
    claim="Mean w_SV is higher for LAs with a policy than without, at least 10%, and varies less across them.",
    strength="moderate",
    evidence="Th §6.1",
    experiment="Baseline with 20 authorities, the even-numbered ones given an SV policy at the "
    "start (authorities[i].has_sv_policy); groups by the initial assignment, so later adoption "
    "by imitation or a settlement does not select the groups.",
    arms=(MANY_AUTHORITIES_HALF_POLICY,),
    criteria=(
        Contrast(
            "F10a",
            "policy LAs apply a higher mean weight (policy - no policy > 0)",
            (
                (1.0, _q("20 authorities, half with policy", "sv_weight_mean_policy")),
                (-1.0, _q("20 authorities, half with policy", "sv_weight_mean_no_policy")),
            ),
            _G,
            origin=Origin.input,
            origin_reason=(
                "A policy sets a weight floor drawn from U(0.10, 0.15), above the discretionary 0.05 "
                "scaled by understanding and commitment, so policy authorities weigh SV higher by "
                "construction."
            ),
        ),
        Contrast(
            "F10b",
            "policy LAs' weights vary less (sd policy - sd no policy < 0)",
            (
                (1.0, _q("20 authorities, half with policy", "sv_weight_sd_policy")),
                (-1.0, _q("20 authorities, half with policy", "sv_weight_sd_no_policy")),
            ),
            _L,
            origin=Origin.constrained,
            origin_reason=(
                "The floor compresses policy authorities' weights, but their spread against "
                "discretionary authorities' depends on the floor draw, the formula above it and "
                "adoption by the others (a floor drawn from 10-20% reversed it)."
            ),
        ),
        Contrast(
            "F10c",
            "policy LAs' mean weight is at least 0.10 ('10% upwards')",
            ((1.0, _q("20 authorities, half with policy", "sv_weight_mean_policy")),),
            Expect.at_least,
            0.10,
            test="level",
            origin=Origin.input,
            origin_reason=(
                "The policy floor is drawn from U(0.10, 0.15), so the policy authorities' mean weight"
                " is at least 0.10 by construction."
            ),
        ),
    ),
)

F11 = Fact(
    id="F11",
    title="Low commissioner understanding leads to low or zero SV scoring and supplier-defined SV.",
    claim="Across LAs, understanding correlates positively with w_SV and negatively with the "
    "share of SV content that is supplier-defined.",
    strength="strong",
    evidence="Th §4.3, §5.4, §6.1",
    experiment="Baseline with 20 authorities whose preferred definition is their own list "
    "(commissioners.sv_definition commissioner_list), so that understanding decides whether "
    "suppliers define SV; per-authority table pooled over runs, understanding at the start.",
    arms=(MANY_AUTHORITIES_LIST,),
    criteria=(
        AuthorityAssociation(
            "F11a",
            "understanding vs mean w_SV: Spearman > 0",
            "20 authorities, commissioner list",
            "sv_weight_mean",
            ("sv_understanding_initial",),
            AuthorityStat.spearman,
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "The weight formula rises with understanding "
                "(behaviour.sv_weight_understanding_slope), but the run-mean weight also carries "
                "policy floors adopted during the run, budget pressure and learning."
            ),
        ),
        AuthorityAssociation(
            "F11b",
            "understanding at the start vs the realised share of an authority's tenders whose SV "
            "the suppliers defined: Spearman < 0",
            "20 authorities, commissioner list",
            "supplier_defined_share",
            ("sv_understanding_initial",),
            AuthorityStat.spearman,
            _L,
            origin=Origin.input,
            origin_reason=(
                "Understanding below behaviour.list_definition_min_understanding makes suppliers "
                "define SV by rule (Commissioner.set_practice); the realised share of an authority's "
                "tenders is that rule applied yearly to an understanding that drifts slowly, so the "
                "rank correlation restates the rule."
            ),
        ),
    ),
    notes="In the baseline every LA prefers supplier-defined SV (Th §4.3), so definition "
    "cannot depend on understanding there; the list arm is where the claim has content.",
)

F12 = Fact(
    id="F12",
    title="The shift from grants to contracts raises small-VSO exit and drives alternative funding.",
    claim="As the grant share goes to 0, SME-VSO survival and their LA-funded revenue share "
    "fall and the share relying on donations and fundraising rises.",
    strength="strong",
    evidence="Th §1.1, §4.4, §5.5, §6.1",
    experiment="The shift itself: the baseline with commissioners.grant_share 0.10 (Case B's hybrid "
    "funding) kept through the run, against the same field (settled through the warm-up with "
    "those grants) whose authorities move every grant to contracts over the first year of the "
    "counted horizon (a grants_to_contracts shock at step 0 over 4 steps; the budget is "
    "unchanged and the grant money is put out to contract).",
    arms=(
        Arm("grants kept", "baseline", {"commissioners.grant_share": 0.10}),
        Arm(
            "grants moved to contracts",
            "baseline",
            {
                "commissioners.grant_share": 0.10,
                "shocks": [{"kind": "grants_to_contracts", "at_step": 0, "grant_cut": 1.0, "over_steps": 4}],
            },
        ),
    ),
    criteria=(
        Contrast(
            "F12a",
            "SME-VSO survival falls (grants moved to contracts - grants kept < 0)",
            (
                (1.0, _q("grants moved to contracts", "survival_sme_vso")),
                (-1.0, _q("grants kept", "survival_sme_vso")),
            ),
            _L,
            origin=Origin.emergent,
            origin_reason=(
                "Small-VSO exit follows from reserves running out; no rule ties survival to the grant share."
            ),
        ),
        Contrast(
            "F12b",
            "LA-funded share of small-VSO income falls",
            (
                (1.0, _q("grants moved to contracts", "vso_la_income_share")),
                (-1.0, _q("grants kept", "vso_la_income_share")),
            ),
            _L,
            origin=Origin.constrained,
            origin_reason=(
                "Grants are LA income, so removing them lowers the LA-funded share directly unless "
                "contract wins make up for it."
            ),
        ),
        Contrast(
            "F12c",
            "fundraising share of small-VSO income rises",
            (
                (1.0, _q("grants moved to contracts", "vso_fundraising_share")),
                (-1.0, _q("grants kept", "vso_fundraising_share")),
            ),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "The fundraising share is the complement of F12b's LA-funded share: grants removed "
                "lower it directly unless contracts make up for it."
            ),
        ),
    ),
    notes="vso_fundraising_share is the complement of vso_la_income_share (the two income "
    "sources of small VSOs), so F12b and F12c are one finding seen from both sides. Until "
    "2026-12-02 the arms were two fields with grant share 0 and 0.10 from the first warm-up "
    "quarter: where small VSOs hold little in reserve, the warm-up had already closed those "
    "that needed grants in the field without them, so survival from step 0 compared two "
    "selected populations rather than the shift the fact describes.",
)

F13 = Fact(
    id="F13",
    title="Large charities subsidise under-priced SV contracts from fundraising and volunteers.",
    claim="Non-contract income is used to deliver contracts won by large charities; their "
    "reserves fall on low-price contracts.",
    strength="moderate (Case C)",
    evidence="Th §5.2, §5.5",
    experiment="Baseline level of subsidy_share_large_charity; baseline vs the same field with "
    "a 30% austerity cut (the F1 arm), which lowers contract prices relative to cost.",
    arms=(BASELINE, _cut_arm(0.30)),
    criteria=(
        Contrast(
            "F13a",
            "a positive share of large-charity delivery cost is not covered by payments",
            ((1.0, _q("baseline", "subsidy_share_large_charity")),),
            _G,
            0.0,
            test="level",
            origin=Origin.emergent,
            origin_reason=(
                "Whether large charities deliver below cost comes from competitive prices against "
                "delivery costs; no rule sets a subsidy."
            ),
        ),
        Contrast(
            "F13b",
            "large-charity reserves fare worse on low-price contracts (austerity - baseline < 0)",
            (
                (1.0, _q("cut 0.30", "reserves_change_large_charity")),
                (-1.0, _q("baseline", "reserves_change_large_charity")),
            ),
            _L,
            origin=Origin.emergent,
            origin_reason=(
                "Reserves fall where prices under austerity fall below costs; this emerges from bidding and delivery."
            ),
        ),
    ),
)

_SKILL_ARMS = tuple(_crisis_arm(s, 0.8) for s in SOCIAL_SKILLS)
_LOW_COMMITMENT = _crisis_arm(0.9, 0.2)

F14 = Fact(
    id="F14",
    title="Crisis can open an incumbent to collaboration, but only where social skill and political will exist.",
    claim="After a combined budget and legitimacy shock the probability of a collaborative "
    "settlement rises with commissioner social skill; without skill or political will the "
    "field stays price-led.",
    strength="moderate (Case B)",
    evidence="Th §4.4, §5.4, §5.5",
    experiment="Baseline with a 30% cut (step 4, over 4 steps) and a political crisis "
    "(step 6, legitimacy drop 0.5); political commitment drawn per authority from U(0.7, 0.9); "
    "commissioners.social_skill drawn per authority from U(level - 0.1, level + 0.1) for levels "
    "0.1-0.9; plus skill around 0.9 with commitment around 0.2.  Outcome: resettled (0/1).",
    arms=(*_SKILL_ARMS, _LOW_COMMITMENT),
    criteria=(
        Trend(
            "F14a",
            "P(resettled) rises with social skill (Spearman > 0)",
            _m("resettled"),
            tuple(a.label for a in _SKILL_ARMS),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "The chance that an incumbent brokers a settlement rises with social skill by rule (a"
                " logistic centred on field.broker_skill_threshold, slope field.broker_sharpness; "
                "field_dynamics.broker_probability), but whether the field resettles also depends on "
                "how contested it becomes (the crisis opening) and how long the crisis lasts."
            ),
        ),
        Contrast(
            "F14b",
            "without social skill (0.1) the field rarely resettles (P < 0.2)",
            ((1.0, _q(_SKILL_ARMS[0].label, "resettled")),),
            _L,
            0.2,
            test="level",
            origin=Origin.input,
            origin_reason=(
                "At skill 0.1 the logistic skill factor of field_dynamics.broker_probability is about"
                " 0.002 (sharpness 12 around 0.6), so a settlement is all but impossible whatever the"
                " crisis does."
            ),
        ),
        Contrast(
            "F14c",
            "without political will the skilled incumbent resettles less (commitment 0.2 - 0.8 at skill 0.9 < 0)",
            (
                (1.0, _q(_LOW_COMMITMENT.label, "resettled")),
                (-1.0, _q(_SKILL_ARMS[-1].label, "resettled")),
            ),
            _L,
            origin=Origin.constrained,
            origin_reason=(
                "The logistic commitment factor of field_dynamics.broker_probability (centred on "
                "field.broker_commitment_threshold) lowers the chance at commitment 0.2 by rule, but "
                "whether either arm resettles depends on the contention the crisis produces and its "
                "length."
            ),
        ),
    ),
)

CODESIGN_UNPAID = Arm("codesign, unpaid", "codesign", {"policies.reimburse_engagement": False})

F15 = Fact(
    id="F15",
    title="Unpaid engagement burdens VSOs.",
    claim="Without reimbursement, co-design rounds drain VSO resources and participation falls for low-resource VSOs.",
    strength="weak-moderate",
    evidence="Th §4.4, §5.3",
    experiment="Codesign scenario with policies.reimburse_engagement true (bundled) vs false.",
    arms=(CODESIGN, CODESIGN_UNPAID),
    criteria=(
        Contrast(
            "F15a",
            "unpaid engagement costs providers money per round (> 0)",
            ((1.0, _q("codesign, unpaid", "engagement_cost_unpaid_per_round_gbp")),),
            _G,
            0.0,
            test="level",
            origin=Origin.input,
            origin_reason=(
                "Unpaid participants bear the round's cost by rule (engagement.engage), so the unpaid"
                " cost per round is positive whenever anyone takes part."
            ),
        ),
        Contrast(
            "F15b",
            "participation falls without reimbursement (unpaid - paid < 0)",
            (
                (1.0, _q("codesign, unpaid", "engagement_participation_rate")),
                (-1.0, _q("codesign", "engagement_participation_rate")),
            ),
            _L,
            origin=Origin.input,
            origin_reason=(
                "Without reimbursement a participant must hold reserves above "
                "behaviour.engagement_reserve_multiple times the cost by rule, so participation falls"
                " by construction."
            ),
        ),
    ),
)

PUBLISHED = Arm("criteria published", "baseline", {"policies.publish_sv_criteria": True})

F16 = Fact(
    id="F16",
    title="Information asymmetry: each side thinks the other is informed or uninformed.",
    claim="VSO awareness of LA SV criteria is below the awareness LAs perceive among bidders; "
    "publishing criteria narrows the gap and raises VSO bid quality.",
    strength="moderate",
    evidence="Th §4.3, §4.4, §6.1",
    experiment="Baseline (within-run gap) and baseline with policies.publish_sv_criteria true.",
    arms=(BASELINE, PUBLISHED),
    criteria=(
        Contrast(
            "F16a",
            "LA-perceived awareness exceeds small-VSO awareness in the baseline",
            (
                (1.0, _q("baseline", "criteria_awareness_perceived")),
                (-1.0, _q("baseline", "criteria_awareness_sme_vso")),
            ),
            _G,
            origin=Origin.constrained,
            origin_reason=(
                "Initial awareness differs by provider kind (an input); the gap between bidders' "
                "awareness, which the commissioner sees, and small VSOs' comes from who bids."
            ),
        ),
        Contrast(
            "F16b",
            "publishing narrows the gap (gap published - gap baseline < 0)",
            (
                (1.0, _q("criteria published", "criteria_awareness_perceived")),
                (-1.0, _q("criteria published", "criteria_awareness_sme_vso")),
                (-1.0, _q("baseline", "criteria_awareness_perceived")),
                (1.0, _q("baseline", "criteria_awareness_sme_vso")),
            ),
            _L,
            origin=Origin.constrained,
            origin_reason=(
                "Publishing makes awareness diffuse by rule (lifecycle, "
                "policies.publish_sv_criteria); how much the gap narrows depends on who bids and "
                "learns."
            ),
        ),
        Contrast(
            "F16c",
            "publishing raises the SV marks small-VSO bids receive (bid quality)",
            (
                (1.0, _q("criteria published", "sv_score_sme_vso")),
                (-1.0, _q("baseline", "sv_score_sme_vso")),
            ),
            _G,
            note="counted since the claim names bid quality; SV answers are marked against a "
            "rubric (behaviour.sv_full_marks_rate), so a better-evidenced answer earns more marks "
            "even when it is its tender's best; marked relative to the best answer instead, a "
            "small VSO's mark could hardly rise, because most small-VSO bids already held their "
            "tender's top mark.",
            origin=Origin.constrained,
            origin_reason=(
                "Awareness raises articulation and claims by rule, and a rubric marks a larger "
                "claim higher; whether small VSOs' marks rise depends on the top descriptor (answers "
                "already there cannot gain), the rounding to marks, and credibility, which checks "
                "lower when claims outrun delivery."
            ),
        ),
    ),
)

F17 = Fact(
    id="F17",
    title="VSOs create more community SV per pound when they win.",
    claim="Delivered SV per pound paid is higher on contracts won by small VSOs than on those won by corporates.",
    strength="strong as a claim; no quantity in the text",
    evidence="Th §2.2, §4.4, §5.5, S66",
    experiment="Baseline: within-run difference of sv_per_gbp_sme_vso and sv_per_gbp_corporate.",
    arms=(BASELINE,),
    criteria=(
        Contrast(
            "F17a",
            "SV per pound: small VSOs - corporates > 0",
            (
                (1.0, _q("baseline", "sv_per_gbp_sme_vso")),
                (-1.0, _q("baseline", "sv_per_gbp_corporate")),
            ),
            _G,
            origin=Origin.input,
            origin_reason=(
                "SV per pound is set by providers.<kind>.sv_intrinsic (small VSOs U(0.25, 0.45) vs "
                "corporates U(0.05, 0.12)); delivery can only shed value, so the test checks that "
                "mechanisms do not overturn the assumption."
            ),
        ),
    ),
    theoretical=True,
    notes="Theoretical claim set by parameters (providers.<kind>.sv_intrinsic: small VSOs "
    "U(0.25, 0.45) vs corporates U(0.05, 0.12)); delivery can only shed value "
    "(underfunding), so the test checks that the mechanisms do not overturn the assumption.",
)

FACTS: tuple[Fact, ...] = (
    F1,
    F2,
    F3,
    F4,
    F5,
    F6,
    F7,
    F8,
    F9,
    F10,
    F11,
    F12,
    F13,
    F14,
    F15,
    F16,
    F17,
)


def fact_ids() -> tuple[str, ...]:
    """The ids of all facts, in order (F1 ... F17)."""
    return tuple(f.id for f in FACTS)


def fact_class(fact: Fact) -> str:
    """``emergent`` when at least one counted criterion is emergent or constrained, else
    ``input`` (an input check: every counted criterion restates an input or a rule)."""
    counted = [c for c in fact.criteria if c.counted]
    return "emergent" if any(c.origin is not Origin.input for c in counted) else "input"


def get_facts(ids: Iterable[str] | None = None) -> tuple[Fact, ...]:
    """The facts with the given ids (case-insensitive), in registry order; all when None.

    Raises:
        KeyError: an id that is not in the registry (the message lists the known ids).
    """
    if ids is None:
        return FACTS
    wanted = [str(i).strip().upper() for i in ids]
    known = set(fact_ids())
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise KeyError(f"unknown fact id(s): {', '.join(unknown)} (known: {', '.join(fact_ids())})")
    chosen = set(wanted)
    return tuple(f for f in FACTS if f.id in chosen)


def check_registry(facts: Iterable[Fact] = FACTS) -> None:
    """Raise AssertionError unless every criterion names arms of its fact and known columns."""
    for f in facts:
        labels = [a.label for a in f.arms]
        if len(set(labels)) != len(labels):
            raise AssertionError(f"{f.id}: duplicate arm labels")
        for c in f.criteria:
            for label in c.arm_labels:
                f.arm(label)
            if isinstance(c, AuthorityAssociation):
                for col in (c.y, *c.x):
                    if col not in AUTHORITY_COLUMNS:
                        raise AssertionError(f"{c.id}: unknown authority column {col}")
            if isinstance(c, Trend):
                if any(f.arm(label).level is None for label in c.arms):
                    raise AssertionError(f"{c.id}: a Trend arm has no level")
