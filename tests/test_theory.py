"""Direction of effect of each strategic-action-field mechanism (issue 3), switchable from YAML.

Every test compares arms of a small scenario over the same seeds (common random numbers) and
asserts the sign of the effect, with enough seeds that the effect is several standard errors
from zero.
"""

from __future__ import annotations

import numpy as np
import pytest

from safsim.config import ShockKind
from safsim.model import FieldModel
from safsim.runner import run_scenario
from safsim.scenario import load_scenario

SEEDS = range(200, 210)
SMALL = {"horizon_steps": 24, "warmup_steps": 0}  # the mechanisms on the drawn field


def arm(source: str | dict, overrides: dict[str, object], names: list[str], seeds=SEEDS) -> dict[str, np.ndarray]:
    s = load_scenario(source, overrides)
    rows = [run_scenario(s, seed).outcomes for seed in seeds]
    return {n: np.array([r[n] for r in rows], dtype=float) for n in names}


def rises(a: np.ndarray, b: np.ndarray, k: float = 2.0) -> bool:
    """b - a is positive by more than k standard errors (paired over seeds)."""
    d = b - a
    d = d[np.isfinite(d)]
    se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else 0.0
    return bool(d.mean() > k * se and d.mean() > 0)


# ---------------------------------------------------------------------------- social skill


def test_commissioner_social_skill_moves_trust_codesign_and_small_vso_outcomes():
    """Sweeping commissioner social skill from 0.1 to 0.9 raises trust, co-design adoption and
    the small-VSO share of contract value (framing, engagement ladder, market shaping)."""
    names = ["trust_final", "codesign_rate", "share_value_sme_vso"]
    lo = arm("baseline", SMALL | {"commissioners.social_skill": 0.1}, names)
    hi = arm("baseline", SMALL | {"commissioners.social_skill": 0.9}, names)
    for n in names:
        assert rises(lo[n], hi[n]), n


def test_skilled_codesign_more_often_yields_a_codefined_specification():
    """Under co-design, skilled commissioners more often produce a usable co-defined specification."""
    names = ["codefined_rate"]
    base = SMALL | {"commissioners.sv_definition": "supplier_open"}
    lo = arm("codesign", base | {"commissioners.social_skill": 0.2}, names)
    hi = arm("codesign", base | {"commissioners.social_skill": 0.9}, names)
    assert rises(lo["codefined_rate"], hi["codefined_rate"])


def test_infrastructure_broker_informs_small_vsos_and_builds_consortia():
    """A CVS broker (policies.infrastructure_body) raises small VSOs' awareness of the criteria
    and the value won by VSO consortia."""
    names = ["criteria_awareness_sme_vso", "share_value_consortium"]
    seeds = range(200, 220)
    # Large lots (no market shaping) and a weight worth bidding for, so consortia matter.
    base = {
        "commissioners.social_skill": 0.2,
        "commissioners.sv_weight": 0.15,
        "commissioners.price_weight": 0.5,
        "commissioners.quality_weight": 0.35,
        "providers.sme_vso.count": 80,
    }
    off = arm("baseline", base | {"policies.infrastructure_body": False}, names, seeds)
    on = arm("baseline", base | {"policies.infrastructure_body": True}, names, seeds)
    for n in names:
        assert rises(off[n], on[n]), n


# ---------------------------------------------------------------------------- field states


def test_strong_regulation_change_opens_a_crisis_and_a_weak_one_does_not():
    """A regulation change at or above field.regulation_crisis_intensity opens an episode of
    contention; a mild one does not by itself."""
    names = ["crisis_episodes"]
    quiet = SMALL | {"field.political_crisis_rate_per_year": 0.0}
    strong = arm("baseline", quiet | {"shocks": [{"kind": "regulation_change", "at_step": 4, "intensity": 1.0}]}, names)
    weak = arm("baseline", quiet | {"shocks": [{"kind": "regulation_change", "at_step": 4, "intensity": 0.2}]}, names)
    assert np.all(strong["crisis_episodes"] >= 1)
    assert weak["crisis_episodes"].mean() < strong["crisis_episodes"].mean()


def test_political_crisis_at_low_legitimacy_opens_a_crisis_without_cuts():
    """A political crisis that drives legitimacy below field.legitimacy_crisis_threshold opens
    a crisis even without budget cuts; a mild one does not."""
    quiet = SMALL | {"field.political_crisis_rate_per_year": 0.0}
    names = ["crisis_episodes"]
    deep = arm(
        "baseline", quiet | {"shocks": [{"kind": "political_crisis", "at_step": 4, "legitimacy_drop": 0.8}]}, names
    )
    mild = arm(
        "baseline", quiet | {"shocks": [{"kind": "political_crisis", "at_step": 4, "legitimacy_drop": 0.2}]}, names
    )
    assert np.all(deep["crisis_episodes"] >= 1)
    assert mild["crisis_episodes"].mean() < deep["crisis_episodes"].mean()


def test_crisis_without_a_broker_restores_price_led_rules():
    """With no skilled, committed commissioner, a crisis ends in settled with a higher price
    share (restoration), not in resettlement."""
    s = load_scenario(
        "baseline",
        SMALL
        | {
            "commissioners.social_skill": 0.1,
            "field.political_crisis_rate_per_year": 0.0,
            "shocks": [{"kind": "regulation_change", "at_step": 2, "intensity": 1.0}],
        },
    )
    m = FieldModel(s, seed=3)
    m.run()
    states = [row["field_state"] for row in m.timeseries_rows]
    assert "crisis" in states and "resettlement" not in states
    assert all(c.price_led_shift > 0 for c in m.commissioners)
    assert not any(c.has_sv_policy for c in m.commissioners)


def test_case_b_reaches_resettlement_far_more_often_than_cases_a_and_c():
    """The bundled cases show different trajectories: Case B (skilled, committed, post-crisis)
    resettles in most runs; Cases A and C rarely do."""
    names = ["resettled"]
    seeds = range(300, 320)
    b = arm("case_b", {}, names, seeds)["resettled"].mean()
    a = arm("case_a", {}, names, seeds)["resettled"].mean()
    c = arm("case_c", {}, names, seeds)["resettled"].mean()
    assert b >= 0.6
    assert b > a + 0.4 and b > c + 0.4


# ---------------------------------------------------------------------------- governance unit


def test_law_alone_raises_weights_capability_raises_understanding():
    """A strengthened Act (law) raises SV weights without raising understanding; training
    (capability) raises understanding without a mandatory weight."""
    s0 = load_scenario("baseline", SMALL)
    law = load_scenario(
        "baseline", SMALL | {"shocks": [{"kind": "sva_strengthened", "at_step": 4, "min_sv_weight": 0.15}]}
    )
    cap = load_scenario(
        "baseline",
        SMALL | {"shocks": [{"kind": "training", "at_step": 4, "understanding_gain": 0.3, "skill_gain": 0.2}]},
    )
    w0, wl, wc, u0, ul, uc = [], [], [], [], [], []
    for seed in SEEDS:
        r0, rl, rc = run_scenario(s0, seed), run_scenario(law, seed), run_scenario(cap, seed)
        w0.append(r0.outcomes["mean_sv_weight"])
        wl.append(rl.outcomes["mean_sv_weight"])
        wc.append(rc.outcomes["mean_sv_weight"])
        u0.append(r0.timeseries["mean_understanding"].iloc[-1])
        ul.append(rl.timeseries["mean_understanding"].iloc[-1])
        uc.append(rc.timeseries["mean_understanding"].iloc[-1])
    w0, wl, wc, u0, ul, uc = map(np.array, (w0, wl, wc, u0, ul, uc))
    assert rises(w0, wl)
    assert rises(u0, uc)
    assert abs(np.mean(ul - u0)) < np.mean(uc - u0) / 2


def test_threshold_takes_small_lots_out_of_scope():
    """Raising the Act's threshold above most lots removes social value from their scoring."""
    names = ["mean_sv_weight", "winner_changed_by_sv"]
    low = arm("baseline", SMALL, names)
    high = arm("baseline", SMALL | {"policies.sv_threshold_gbp": 5_000_000.0}, names)
    for n in names:
        assert rises(high[n], low[n]), n


def test_government_events_are_recorded_by_the_government_actor():
    """Scheduled government actions are carried out by the Government agent, in order."""
    s = load_scenario(
        "baseline",
        SMALL
        | {
            "policies.sva_in_force": False,
            "shocks": [
                {"kind": "sva_enacted", "at_step": 2},
                {"kind": "guidance", "at_step": 3},
                {"kind": "threshold_change", "at_step": 5, "threshold_gbp": 1e6},
            ],
        },
    )
    m = FieldModel(s, seed=1)
    assert not m.government.sva_in_force
    m.run()
    assert m.government.sva_in_force and m.government.threshold_gbp == 1e6
    assert [k for _, k in m.government.actions] == [
        ShockKind.sva_enacted.value,
        ShockKind.guidance.value,
        ShockKind.threshold_change.value,
    ]


def test_without_the_act_no_social_value_is_scored():
    """Before enactment (and without a local policy) tenders carry no social-value weight."""
    out = arm("baseline", SMALL | {"policies.sva_in_force": False}, ["mean_sv_weight"])
    assert np.all(out["mean_sv_weight"] == 0.0)


# ---------------------------------------------------------------------------- contested meaning


@pytest.mark.parametrize(("mode", "direction"), [("co_defined_local", -1), ("commissioner_list", +1)])
def test_definition_mode_changes_hard_share_of_claims(mode: str, direction: int):
    """Co-defined specifications pull claims towards soft outcomes, commissioner lists towards
    hard ones, relative to supplier-defined social value."""
    names = ["sv_hard_share"]
    base = SMALL | {"commissioners.sv_understanding": 0.6}
    open_ = arm("baseline", base | {"commissioners.sv_definition": "supplier_open"}, names)
    other = arm("baseline", base | {"commissioners.sv_definition": mode}, names)
    if direction > 0:
        assert rises(open_["sv_hard_share"], other["sv_hard_share"])
    else:
        assert rises(other["sv_hard_share"], open_["sv_hard_share"])


def test_csr_inflation_widens_the_claimed_delivered_gap():
    """Corporates inflating claims (CSR framing) widen the gap between claimed and delivered value."""
    names = ["sv_gap"]
    plain = arm("baseline", SMALL | {"providers.corporate.claim_inflation": 1.0}, names)
    csr = arm("baseline", SMALL | {"providers.corporate.claim_inflation": 2.5}, names)
    assert rises(plain["sv_gap"], csr["sv_gap"])


def test_monitoring_feeds_reputation():
    """Monitoring detects shortfalls and lowers offenders' credibility; without it nobody's
    credibility changes."""
    for rate, expect_change in ((1.0, True), (0.0, False)):
        m = FieldModel(load_scenario("baseline", SMALL | {"commissioners.monitoring_rate": rate}), seed=4)
        m.run()
        changed = any(p.credibility < 1.0 for p in m.providers)
        assert changed is expect_change


# ---------------------------------------------------------------------------- isomorphism


def test_imitation_narrows_practice_and_drift_makes_it_generic():
    """Commissioners copying better-performing peers converge on SV weights (isomorphism);
    copied templates that drift lose their local, co-defined content."""
    base = {
        "horizon_steps": 40,
        "field.n_authorities": 10,
        "field.imitation_inertia": 0.0,
        "commissioners.sv_definition": "co_defined_local",
        "commissioners.sv_understanding": 0.6,
        "commissioners.sv_weight": {"dist": "uniform", "low": 0.0, "high": 0.2},
    }
    names = ["sv_weight_sd_authorities", "codefined_rate"]
    seeds = range(400, 406)
    none = arm("baseline", base | {"field.imitation_rate": 0.0}, names, seeds)
    copy = arm("baseline", base | {"field.imitation_rate": 1.0, "field.imitation_drift": 0.0}, names, seeds)
    drift = arm("baseline", base | {"field.imitation_rate": 1.0, "field.imitation_drift": 1.0}, names, seeds)
    assert rises(copy["sv_weight_sd_authorities"], none["sv_weight_sd_authorities"])
    assert rises(drift["codefined_rate"], copy["codefined_rate"])


@pytest.mark.parametrize("network", ["all", "ring", "random"])
def test_peer_networks_scale_to_a_hundred_authorities(network: str):
    """A field of 100 authorities runs under every peer network with money conserved and one
    award per tender."""
    s = load_scenario(
        "baseline",
        {
            "horizon_steps": 6,
            "field.n_authorities": 100,
            "field.peer_network": network,
            "providers.sme_vso.count": 600,
            "providers.large_charity.count": 100,
            "providers.corporate.count": 150,
            "providers.social_enterprise.count": 120,
        },
    )
    m = FieldModel(s, seed=2, record_awards=True)
    m.run()
    assert m.totals.commissioner_paid == pytest.approx(m.totals.provider_received)
    ids = [row["tender_id"] for row in m.award_rows]
    assert len(ids) == len(set(ids)) > 100


# ---------------------------------------------------------------------------- engagement economics


def test_reimbursement_raises_participation_and_removes_the_unpaid_drain():
    """Reimbursing engagement raises the share of invited VSOs that take part (F15) and leaves
    no unpaid cost."""
    names = ["engagement_participation_rate", "engagement_cost_unpaid_per_round_gbp"]
    unpaid = arm("codesign", SMALL | {"policies.reimburse_engagement": False}, names)
    paid = arm("codesign", SMALL | {"policies.reimburse_engagement": True}, names)
    assert rises(unpaid["engagement_participation_rate"], paid["engagement_participation_rate"])
    assert np.all(paid["engagement_cost_unpaid_per_round_gbp"] == 0.0)
    assert np.all(unpaid["engagement_cost_unpaid_per_round_gbp"] > 0.0)


def test_excluding_codesign_participants_lowers_their_later_bid_rate():
    """The optional exclusion rule lowers the later bid rate of co-design participants (F8)."""
    names = ["bid_rate_codesign_participants"]
    seeds = range(200, 230)  # participants' bid rate is noisy per run: 30 paired seeds
    keep = arm("codesign", SMALL | {"policies.exclude_codesign_participants": False}, names, seeds)
    excl = arm("codesign", SMALL | {"policies.exclude_codesign_participants": True}, names, seeds)
    assert rises(excl["bid_rate_codesign_participants"], keep["bid_rate_codesign_participants"])


def test_short_tender_windows_shut_out_small_vsos():
    """A one-week tender window lowers small VSOs' bid rate against a twelve-week window."""
    names = ["bid_rate_sme_vso"]
    short = arm("baseline", SMALL | {"policies.tender_window_weeks": 1.0}, names)
    long_ = arm("baseline", SMALL | {"policies.tender_window_weeks": 12.0}, names)
    assert rises(short["bid_rate_sme_vso"], long_["bid_rate_sme_vso"])


# ---------------------------------------------------------------------------- later decision rules


def test_political_commitment_drives_policy_adoption():
    """Authorities with high political commitment adopt a local SV policy more often."""
    base = {"horizon_steps": 40, "field.n_authorities": 10}
    names = ["policy_adoption_share"]
    lo = arm("baseline", base | {"commissioners.political_commitment": 0.1}, names)
    hi = arm("baseline", base | {"commissioners.political_commitment": 0.9}, names)
    assert rises(lo["policy_adoption_share"], hi["policy_adoption_share"])


def test_understanding_sets_the_range_of_sv_marks():
    """Scoring SV on the full scale whatever the understanding (switch off) lets social value
    change more winners than the understanding-limited scale does."""
    names = ["winner_changed_by_sv"]
    limited = arm("baseline", SMALL | {"behaviour.sv_score_range_by_understanding": True}, names)
    full = arm("baseline", SMALL | {"behaviour.sv_score_range_by_understanding": False}, names)
    assert rises(limited["winner_changed_by_sv"], full["winner_changed_by_sv"])


def test_a_higher_bid_hurdle_lowers_small_vso_bidding():
    """Small VSOs that need a higher perceived chance before bidding bid less (F3)."""
    names = ["bid_rate_sme_vso"]
    low = arm("baseline", SMALL | {"providers.sme_vso.min_win_probability": 0.02}, names)
    high = arm("baseline", SMALL | {"providers.sme_vso.min_win_probability": 0.4}, names)
    assert rises(high["bid_rate_sme_vso"], low["bid_rate_sme_vso"])


# ---------------------------------------------------------------------------- market mechanics


def test_underfunded_delivery_sheds_social_value():
    """Under a deep cut, a higher underfunding elasticity lowers delivered SV per pound."""
    cut = SMALL | {"shocks": [{"kind": "austerity", "at_step": 1, "budget_cut": 0.4, "over_steps": 4}]}
    names = ["sv_per_gbp"]
    none = arm("baseline", cut | {"behaviour.underfunding_sv_elasticity": 0.0}, names)
    strong = arm("baseline", cut | {"behaviour.underfunding_sv_elasticity": 2.0}, names)
    assert rises(strong["sv_per_gbp"], none["sv_per_gbp"])


def test_unchecked_claims_inflate_over_time():
    """With no monitoring, a faster drift of claim inflation widens the claimed-delivered gap."""
    base = {"horizon_steps": 40, "commissioners.monitoring_rate": 0.0}
    names = ["sv_gap"]
    still = arm("baseline", base | {"behaviour.inflation_drift_unmonitored": 0.0}, names)
    drift = arm("baseline", base | {"behaviour.inflation_drift_unmonitored": 0.1}, names)
    assert rises(still["sv_gap"], drift["sv_gap"])


def test_only_specialists_covering_a_lot_win_it():
    """Every contract goes to providers who cover all of the lot's service areas and serve
    its authority."""
    m = FieldModel(load_scenario("baseline", SMALL), seed=5, record_awards=True)
    m.run()
    assert m.contracts
    by_id = {p.unique_id: p for p in m.providers}
    for k in m.contracts:
        for pid in k.bid.members:
            p = by_id[pid]
            assert k.tender.areas_mask & ~p.areas_mask == 0
            assert k.commissioner in p.authorities


def test_market_shaping_lets_small_vsos_in():
    """Skilled commissioners who split large lots (market shaping) raise the small-VSO share;
    with the shaping threshold set above every lot the effect disappears."""
    skilled = SMALL | {"commissioners.social_skill": 0.9}
    names = ["share_value_sme_vso", "mean_contract_value_gbp"]
    shaping = arm("baseline", skilled, names)
    off = arm("baseline", skilled | {"behaviour.market_shaping_lot_gbp": 1e12}, names)
    assert rises(off["share_value_sme_vso"], shaping["share_value_sme_vso"])
    assert rises(shaping["mean_contract_value_gbp"], off["mean_contract_value_gbp"])
