"""Direction of effect of each core mechanism, over common random numbers.

Each test runs two arms of a small scenario on the same seeds and checks one standard for every
direction claim: the mean paired difference (arm b minus arm a, seed by seed) lies at least
``Z = 3`` standard errors from zero on the stated side (`assert_effect`).  Seeds and sizes are
chosen so that each effect clears that bar (the tests are not flaky); the full statistical
treatment of the stylized facts lives in `safsim validate`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from safsim.runner import run_scenario
from safsim.scenario import load_scenario

SEEDS = range(100, 112)
Z = 3.0  # standard errors the mean paired difference must clear
MIN_PAIRS = 10  # paired seeds with a defined difference needed for a verdict


def outcomes(
    source: str | dict, overrides: dict[str, object], names: list[str], seeds: Iterable[int] = SEEDS
) -> dict[str, np.ndarray]:
    s = load_scenario(source, overrides)
    rows = [run_scenario(s, seed).outcomes for seed in seeds]
    return {n: np.array([r[n] for r in rows], dtype=float) for n in names}


def paired_mean_diff(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    """Mean and standard error of ``b - a`` over the seeds where both are defined, and their number."""
    d = b - a
    d = d[np.isfinite(d)]
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size)), int(d.size)


def assert_effect(a: np.ndarray, b: np.ndarray, sign: int, what: str = "") -> None:
    """Assert that ``b - a`` has a mean on the side ``sign`` (+1 or -1) at least Z standard errors from zero."""
    m, se, n = paired_mean_diff(a, b)
    assert n >= MIN_PAIRS, f"{what}: only {n} seeds give a defined difference"
    side = "above" if sign > 0 else "below"
    assert sign * m > Z * se, f"{what}: mean difference {m:.4g} is not {Z:g} standard errors ({se:.3g}) {side} zero"


BASE = {"horizon_steps": 24, "warmup_steps": 0}  # the mechanisms on the drawn field


def test_austerity_raises_contract_size_and_large_provider_share():
    """F1: a 30% budget cut gives larger contracts and more value to corporates plus large charities."""
    names = ["mean_contract_value_gbp", "share_value_corporate", "share_value_large_charity"]
    seeds = range(100, 130)  # the share effect is small: 30 pairs put it beyond Z standard errors
    a = outcomes("baseline", BASE, names, seeds)
    cut = BASE | {"shocks": [{"kind": "austerity", "at_step": 2, "budget_cut": 0.3, "over_steps": 4}]}
    b = outcomes("baseline", cut, names, seeds)
    assert_effect(a["mean_contract_value_gbp"], b["mean_contract_value_gbp"], +1, "mean_contract_value_gbp")
    large_a = a["share_value_corporate"] + a["share_value_large_charity"]
    large_b = b["share_value_corporate"] + b["share_value_large_charity"]
    assert_effect(large_a, large_b, +1, "corporate + large-charity value share")


def test_higher_sv_weight_raises_vso_bidding_and_changed_winners():
    """F2/F3: raising the SV weight from 5% to 20% raises small-VSO bidding and the share of
    tenders whose winner social value changes."""
    names = ["bid_rate_sme_vso", "winner_changed_by_sv"]
    a = outcomes("baseline", BASE, names)
    b = outcomes(
        "baseline",
        BASE
        | {
            "commissioners.sv_weight": 0.2,
            "commissioners.price_weight": 0.5,
            "commissioners.quality_weight": 0.3,
        },
        names,
    )
    for n in names:
        assert_effect(a[n], b[n], +1, n)


def test_removing_grants_lowers_small_vso_survival():
    """F12: with no grants, fewer of the initial small VSOs survive."""
    names = ["survival_sme_vso"]
    a = outcomes("baseline", BASE | {"commissioners.grant_share": 0.1}, names)
    b = outcomes("baseline", BASE | {"commissioners.grant_share": 0.0}, names)
    assert_effect(a["survival_sme_vso"], b["survival_sme_vso"], -1, "survival_sme_vso")


def test_moving_grants_to_contracts_lowers_small_vso_survival():
    """F12, the shift itself: the same settled field loses more of its small VSOs when its grants are
    moved to contracts at step 0 than when they are kept (the grant money is still spent, on contracts)."""
    names = ["survival_sme_vso"]
    grants = {"horizon_steps": 24, "warmup_steps": 12, "commissioners.grant_share": 0.1}
    shift = {"shocks": [{"kind": "grants_to_contracts", "at_step": 0, "over_steps": 4}]}
    a = outcomes("baseline", grants, names)
    b = outcomes("baseline", grants | shift, names)
    assert_effect(a["survival_sme_vso"], b["survival_sme_vso"], -1, "survival_sme_vso")


def test_monitoring_narrows_the_claimed_delivered_gap():
    """F5: following up every contract gives a smaller gap between claimed and delivered SV."""
    names = ["sv_gap"]
    a = outcomes("baseline", BASE | {"commissioners.monitoring_rate": 0.0}, names)
    b = outcomes("baseline", BASE | {"commissioners.monitoring_rate": 1.0}, names)
    assert_effect(a["sv_gap"], b["sv_gap"], -1, "sv_gap")


def test_risk_aversion_lowers_codesign_adoption():
    """F8: risk-averse commissioners run co-design less often than risk-tolerant ones."""
    names = ["codesign_rate"]
    a = outcomes("codesign", BASE | {"commissioners.risk_aversion": 0.1}, names)
    b = outcomes("codesign", BASE | {"commissioners.risk_aversion": 0.9}, names)
    assert_effect(a["codesign_rate"], b["codesign_rate"], -1, "codesign_rate")


def test_contentious_framing_lowers_trust_and_feedback_raises_it():
    """Trust: low commissioner social skill (contentious framing) lowers final trust; feedback
    to engagement participants raises it."""
    names = ["trust_final"]
    skilled = outcomes("baseline", BASE | {"commissioners.social_skill": 0.9}, names)
    unskilled = outcomes("baseline", BASE | {"commissioners.social_skill": 0.1}, names)
    assert_effect(skilled["trust_final"], unskilled["trust_final"], -1, "trust_final, low social skill")
    no_fb = outcomes("baseline", BASE | {"policies.feedback_to_participants": False}, names)
    fb = outcomes("baseline", BASE | {"policies.feedback_to_participants": True}, names)
    assert_effect(no_fb["trust_final"], fb["trust_final"], +1, "trust_final, feedback")


def test_social_skill_makes_resettlement_after_crisis_more_likely():
    """F14: after a combined budget and political shock, skilled and committed commissioners
    reach resettlement more often than unskilled ones."""
    shocks = {
        "shocks": [
            {"kind": "austerity", "at_step": 1, "budget_cut": 0.3, "over_steps": 4},
            {"kind": "political_crisis", "at_step": 3, "legitimacy_drop": 0.5},
        ]
    }
    names = ["state_share_resettlement", "policy_adoption_share"]
    hi = outcomes(
        "baseline",
        BASE | shocks | {"commissioners.social_skill": 0.9, "commissioners.political_commitment": 0.9},
        names,
    )
    lo = outcomes(
        "baseline",
        BASE | shocks | {"commissioners.social_skill": 0.2, "commissioners.political_commitment": 0.9},
        names,
    )
    for n in names:
        assert_effect(lo[n], hi[n], +1, n)
    # The broker's chance rises smoothly with skill, so unskilled incumbents resettle rarely, not never.
    assert lo["state_share_resettlement"].mean() < 0.2 * hi["state_share_resettlement"].mean()


def test_publishing_criteria_narrows_the_information_gap():
    """F16: commissioners see the bidders, who know the criteria better than small VSOs at
    large; publishing the criteria raises small VSOs' awareness and narrows that gap."""
    names = ["criteria_awareness_sme_vso", "criteria_awareness_perceived"]
    a = outcomes("baseline", BASE | {"policies.publish_sv_criteria": False}, names)
    b = outcomes("baseline", BASE | {"policies.publish_sv_criteria": True}, names)
    gap_a = a["criteria_awareness_perceived"] - a["criteria_awareness_sme_vso"]
    gap_b = b["criteria_awareness_perceived"] - b["criteria_awareness_sme_vso"]
    assert np.all(gap_a > 0), "perceived awareness exceeds small VSOs' awareness"
    assert_effect(a["criteria_awareness_sme_vso"], b["criteria_awareness_sme_vso"], +1, "criteria_awareness_sme_vso")
    assert_effect(gap_a, gap_b, -1, "awareness gap")


def test_deep_austerity_stops_at_the_budget_floor():
    """A 99% cut leaves each budget at field.min_budget_share of the original, so a higher floor keeps more."""
    cut = {"horizon_steps": 12, "shocks": [{"kind": "austerity", "at_step": 1, "budget_cut": 0.99, "over_steps": 2}]}
    final = {}
    for floor in (0.05, 0.3):
        ts = run_scenario(load_scenario("baseline", cut | {"field.min_budget_share": floor}), 100).timeseries
        original, last = ts["budget_gbp"].iloc[0], ts["budget_gbp"].iloc[-1]
        assert last == pytest.approx(floor * original, rel=1e-12), f"floor {floor}: {last} of {original}"
        final[floor] = last
    assert final[0.3] > final[0.05]
