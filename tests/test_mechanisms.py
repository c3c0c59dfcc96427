"""Direction of effect of each core mechanism, over common random numbers.

Each test runs two arms of a small scenario on the same seeds and checks the sign of the mean
difference of one outcome.  Seeds and sizes are chosen so that the effect is many standard
errors from zero (the tests are not flaky); the full statistical treatment of the stylized
facts lives in `safsim validate`.
"""

from __future__ import annotations

import numpy as np

from safsim.runner import run_scenario
from safsim.scenario import load_scenario

SEEDS = range(100, 112)


def outcomes(source: str | dict, overrides: dict[str, object], names: list[str]) -> dict[str, np.ndarray]:
    s = load_scenario(source, overrides)
    rows = [run_scenario(s, seed).outcomes for seed in SEEDS]
    return {n: np.array([r[n] for r in rows], dtype=float) for n in names}


def paired_mean_diff(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    d = b - a
    d = d[np.isfinite(d)]
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


BASE = {"horizon_steps": 24}


def test_austerity_raises_contract_size_and_large_provider_share():
    """F1: a 30% budget cut gives larger contracts and more value to corporates plus large charities."""
    names = ["mean_contract_value_gbp", "share_value_corporate", "share_value_large_charity"]
    a = outcomes("baseline", BASE, names)
    cut = BASE | {"shocks": [{"kind": "austerity", "at_step": 2, "budget_cut": 0.3, "over_steps": 4}]}
    b = outcomes("baseline", cut, names)
    m, se = paired_mean_diff(a["mean_contract_value_gbp"], b["mean_contract_value_gbp"])
    assert m > 2 * se and m > 0
    large_a = a["share_value_corporate"] + a["share_value_large_charity"]
    large_b = b["share_value_corporate"] + b["share_value_large_charity"]
    m, se = paired_mean_diff(large_a, large_b)
    assert m > 0 and m > se


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
        m, se = paired_mean_diff(a[n], b[n])
        assert m > 2 * se, n


def test_removing_grants_lowers_small_vso_survival():
    """F12: with no grants, fewer of the initial small VSOs survive."""
    names = ["survival_sme_vso"]
    a = outcomes("baseline", BASE | {"commissioners.grant_share": 0.1}, names)
    b = outcomes("baseline", BASE | {"commissioners.grant_share": 0.0}, names)
    m, se = paired_mean_diff(a["survival_sme_vso"], b["survival_sme_vso"])
    assert m < -2 * se


def test_monitoring_narrows_the_claimed_delivered_gap():
    """F5: following up every contract gives a smaller gap between claimed and delivered SV."""
    names = ["sv_gap"]
    a = outcomes("baseline", BASE | {"commissioners.monitoring_rate": 0.0}, names)
    b = outcomes("baseline", BASE | {"commissioners.monitoring_rate": 1.0}, names)
    m, se = paired_mean_diff(a["sv_gap"], b["sv_gap"])
    assert m < -2 * se


def test_risk_aversion_lowers_codesign_adoption():
    """F8: risk-averse commissioners run co-design less often than risk-tolerant ones."""
    names = ["codesign_rate"]
    a = outcomes("codesign", BASE | {"commissioners.risk_aversion": 0.1}, names)
    b = outcomes("codesign", BASE | {"commissioners.risk_aversion": 0.9}, names)
    m, se = paired_mean_diff(a["codesign_rate"], b["codesign_rate"])
    assert m < -2 * se


def test_contentious_framing_lowers_trust_and_feedback_raises_it():
    """Trust: low commissioner social skill (contentious framing) lowers final trust; feedback
    to engagement participants raises it."""
    names = ["trust_final"]
    skilled = outcomes("baseline", BASE | {"commissioners.social_skill": 0.9}, names)
    unskilled = outcomes("baseline", BASE | {"commissioners.social_skill": 0.1}, names)
    m, se = paired_mean_diff(skilled["trust_final"], unskilled["trust_final"])
    assert m < -2 * se
    no_fb = outcomes("baseline", BASE | {"policies.feedback_to_participants": False}, names)
    fb = outcomes("baseline", BASE | {"policies.feedback_to_participants": True}, names)
    m, se = paired_mean_diff(no_fb["trust_final"], fb["trust_final"])
    assert m > 2 * se


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
        m, se = paired_mean_diff(lo[n], hi[n])
        assert m > 2 * se, n
    assert np.all(lo["state_share_resettlement"] == 0.0)


def test_publishing_criteria_narrows_the_information_gap():
    """F16: commissioners see the bidders, who know the criteria better than small VSOs at
    large; publishing the criteria raises small VSOs' awareness and narrows that gap."""
    names = ["criteria_awareness_sme_vso", "criteria_awareness_perceived"]
    a = outcomes("baseline", BASE | {"policies.publish_sv_criteria": False}, names)
    b = outcomes("baseline", BASE | {"policies.publish_sv_criteria": True}, names)
    gap_a = a["criteria_awareness_perceived"] - a["criteria_awareness_sme_vso"]
    gap_b = b["criteria_awareness_perceived"] - b["criteria_awareness_sme_vso"]
    assert np.all(gap_a > 0), "perceived awareness exceeds small VSOs' awareness"
    m, se = paired_mean_diff(a["criteria_awareness_sme_vso"], b["criteria_awareness_sme_vso"])
    assert m > 2 * se
    m, se = paired_mean_diff(gap_a, gap_b)
    assert m < -2 * se
