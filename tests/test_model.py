"""Invariants, determinism and analytic cases of the whole model (safsim.model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safsim.config import PROVIDER_KINDS, Scenario
from safsim.metrics import ALL_OUTCOMES, AUTHORITY_COLUMNS, RUN_OUTCOMES, TIMESERIES_COLUMNS
from safsim.model import FieldModel
from safsim.runner import run_scenario
from safsim.scenario import ScenarioError, load_scenario


def small(**overrides: object) -> Scenario:
    """A small, fast scenario: 2 authorities, ~30 providers, 12 steps."""
    base = {
        "horizon_steps": 12,
        "field.n_authorities": 2,
        "providers.sme_vso.count": 15,
        "providers.large_charity.count": 4,
        "providers.corporate.count": 6,
        "providers.social_enterprise.count": 5,
    }
    base.update(overrides)
    return load_scenario({}, base)


def run_model(scenario: Scenario, seed: int, record_awards: bool = True) -> FieldModel:
    m = FieldModel(scenario, seed=seed, record_awards=record_awards)
    m.run()
    return m


def check_invariants(m: FieldModel) -> None:
    t = m.totals
    # Money conserved: what commissioners pay is what providers receive, and every
    # provider's reserves equal its ledger.
    received = sum(p.income_contracts_gbp + p.income_grants_gbp + p.income_reimbursed_gbp for p in m.providers)
    assert t.commissioner_paid == pytest.approx(received, rel=1e-9, abs=1e-3)
    assert t.commissioner_paid == pytest.approx(t.provider_received, rel=1e-12)
    for p in m.providers:
        assert p.reserves_gbp == pytest.approx(p.ledger_balance_gbp(), rel=1e-9, abs=1e-3)
    # No active provider with negative reserves.
    assert all(p.reserves_gbp >= 0 for p in m.providers if p.active)
    # One award per tender at most.
    ids = [row["tender_id"] for row in m.award_rows]
    assert len(ids) == len(set(ids)) == t.awards
    assert t.awards <= t.tenders
    # Shares of awarded value sum to 1.
    if t.awards:
        shares = sum(t.value_by_kind.values())
        assert sum(v / shares for v in t.value_by_kind.values()) == pytest.approx(1.0)
    # Service lines are never covered more than once.
    for c in m.commissioners:
        assert np.all(c.line_free >= -1e-9) and np.all(c.line_free <= 1 + 1e-9)


def test_baseline_invariants_hold():
    """The baseline run conserves money, keeps active reserves >= 0 and awards once per tender."""
    m = run_model(load_scenario("baseline", ["horizon_steps=20"]), seed=11)
    check_invariants(m)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    sv_weight=st.sampled_from([0.0, 0.02, 0.05, 0.1, 0.2]),
    grant_share=st.floats(0.0, 0.3),
    engagement=st.sampled_from(["none", "consultation", "co_design", "co_production"]),
    consortia=st.booleans(),
    reimburse=st.booleans(),
    feedback=st.booleans(),
    exclude=st.booleans(),
    max_lot=st.sampled_from([None, 200_000.0, 1_000_000.0]),
    cut=st.floats(0.0, 0.6),
    window=st.floats(1.0, 12.0),
)
def test_invariants_under_random_policies(
    seed,
    sv_weight,
    grant_share,
    engagement,
    consortia,
    reimburse,
    feedback,
    exclude,
    max_lot,
    cut,
    window,
):
    """Money conservation, non-negative active reserves, one award per tender and shares
    summing to 1 hold for any mix of policies and shocks."""
    pq = 1.0 - sv_weight
    s = small(
        **{
            "commissioners.sv_weight": sv_weight,
            "commissioners.price_weight": 0.6 * pq,
            "commissioners.quality_weight": 0.4 * pq,
            "commissioners.grant_share": grant_share,
            "commissioners.engagement": engagement,
            "commissioners.max_lot_gbp": max_lot,
            "policies.consortia": consortia,
            "policies.reimburse_engagement": reimburse,
            "policies.feedback_to_participants": feedback,
            "policies.exclude_codesign_participants": exclude,
            "policies.tender_window_weeks": window,
            "shocks": [
                {"kind": "austerity", "at_step": 1, "budget_cut": cut, "over_steps": 4},
                {"kind": "political_crisis", "at_step": 3},
            ],
        }
    )
    m = run_model(s, seed)
    check_invariants(m)
    out = run_scenario(s, seed).outcomes
    shares = [
        out[f"share_value_{k}"] for k in ("sme_vso", "large_charity", "corporate", "social_enterprise", "consortium")
    ]
    if m.totals.awards:
        assert sum(shares) == pytest.approx(1.0)
    for name in ("trust_final", "survival_sme_vso", "codesign_rate", "policy_adoption_share"):
        assert 0.0 <= out[name] <= 1.0 or np.isnan(out[name])


def test_same_seed_same_tables():
    """The same seed gives identical outcomes and time series."""
    s = small()
    a, b = run_scenario(s, 42), run_scenario(s, 42)
    assert a.outcomes == b.outcomes or all(
        (x == y) or (np.isnan(x) and np.isnan(y)) for x, y in zip(a.outcomes.values(), b.outcomes.values(), strict=True)
    )
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


def test_different_seed_different_tables():
    """Different seeds give different time series."""
    s = small()
    a, b = run_scenario(s, 1), run_scenario(s, 2)
    assert not a.timeseries.equals(b.timeseries)


def test_outcome_and_timeseries_names_are_the_contract():
    """A run returns exactly the outcome names and time-series columns of spec section 4."""
    r = run_scenario(small(), 3)
    assert list(r.outcomes)[: len(RUN_OUTCOMES)] == list(RUN_OUTCOMES)
    assert list(r.outcomes) == list(ALL_OUTCOMES)
    assert list(r.authorities.columns) == list(AUTHORITY_COLUMNS)
    assert len(r.authorities) == 2
    assert list(r.timeseries.columns) == list(TIMESERIES_COLUMNS)
    assert len(r.timeseries) == 12
    assert set(r.timeseries["field_state"]) <= {"settled", "crisis", "resettlement"}
    for k in PROVIDER_KINDS:
        assert f"income_{k.value}_gbp" in r.timeseries.columns


def test_no_social_value_weight_means_no_changed_winners():
    """Analytic: with sv_weight = 0 everywhere, no tender's winner is changed by social value."""
    s = small(
        **{
            "commissioners.sv_weight": 0.0,
            "commissioners.price_weight": 0.6,
            "commissioners.quality_weight": 0.4,
        }
    )
    assert run_scenario(s, 5).outcomes["winner_changed_by_sv"] == 0.0


def test_no_small_vsos_means_zero_vso_share():
    """Analytic: a field without small VSOs awards them nothing and has no consortia."""
    s = small(**{"providers.sme_vso.count": 0, "providers.sme_vso.entry_rate_per_year": 0.0})
    out = run_scenario(s, 5).outcomes
    assert out["share_value_sme_vso"] == 0.0
    assert out["share_value_consortium"] == 0.0


def test_full_monitoring_is_realised():
    """Analytic: monitoring_rate = 1 follows up every contract; 0 follows up none."""
    assert run_scenario(small(**{"commissioners.monitoring_rate": 1.0}), 4).outcomes["monitoring_rate_realised"] == 1.0
    assert run_scenario(small(**{"commissioners.monitoring_rate": 0.0}), 4).outcomes["monitoring_rate_realised"] == 0.0


def test_sole_provider_wins_everything_it_bids_for():
    """Analytic: with one corporate and no one else, every award goes to it."""
    s = small(
        **{
            "providers.sme_vso.count": 0,
            "providers.large_charity.count": 0,
            "providers.social_enterprise.count": 0,
            "providers.corporate.count": 1,
            "providers.corporate.service_areas": 6,
            "providers.corporate.bid_capacity": 1000,
            "providers.corporate.capacity_gbp": 1e12,
            "warmup_steps": 0,  # the sole corporate is not exposed to closure before the horizon
            **{
                f"providers.{k}.entry_rate_per_year": 0.0
                for k in ("sme_vso", "large_charity", "corporate", "social_enterprise")
            },
        }
    )
    m = run_model(s, 9)
    assert m.totals.awards > 0
    assert m.totals.value_by_kind["corporate"] == pytest.approx(sum(m.totals.value_by_kind.values()))
    assert {row["winner_kind"] for row in m.award_rows} == {"corporate"}


def test_exit_terminates_contracts_and_frees_lines():
    """A provider that exits loses its contracts and their lines are tendered again."""
    no_hazards = {f"providers.{k.value}.exit_rate_per_year": 0.0 for k in PROVIDER_KINDS}
    s = small(
        **{
            "commissioners.grant_share": 0.0,
            "providers.sme_vso.overhead_gbp": 60_000.0,
            "behaviour.exit_runway_hazard_per_year": 0.0,
            **no_hazards,
        }
    )
    m = run_model(s, 3)
    exited = [p for p in m.providers if not p.active]
    assert exited, "expected exits with overheads far above income"
    for p in exited:
        assert not any(k.active and p.unique_id in k.bid.members for k in m.contracts)
        assert p.reserves_gbp < 0  # with the hazards off, exit happens only below zero reserves


def test_warmup_steps_are_discarded_from_time_series_awards_and_totals():
    """With warmup_steps 8 the time series has exactly horizon_steps rows numbered from 0, the award log
    holds only counted tenders, and the totals count only the horizon's tenders; the warm-up ran."""
    sc = small(horizon_steps=4, warmup_steps=8)
    res = run_scenario(sc, seed=3, record_awards=True)
    assert list(res.timeseries["step"]) == [0, 1, 2, 3]
    assert res.awards is not None and (res.awards.empty or res.awards["step"].min() >= 0)
    m = FieldModel(sc, seed=3)
    assert m.steps == 0 and m.steps_run == 8 and m.timeseries_rows == [] and m.totals.tenders == 0
    assert m.initial_vso_count == m.active_count(PROVIDER_KINDS[0])
    n = m.pop.n
    np.testing.assert_allclose(m.pop.ledger_balance_gbp(np.arange(n)), m.pop.reserves_gbp[:n])


def test_record_warmup_keeps_warmup_rows_with_negative_steps_and_leaves_outcomes_alone():
    """record_warmup true keeps the warm-up rows (steps -8..-1) before the counted ones; the outcomes are
    those of the same run without them."""
    kept = run_scenario(small(horizon_steps=4, warmup_steps=8, record_warmup=True), seed=3)
    dropped = run_scenario(small(horizon_steps=4, warmup_steps=8), seed=3)
    assert list(kept.timeseries["step"]) == list(range(-8, 4))
    pd.testing.assert_frame_equal(kept.timeseries[kept.timeseries.step >= 0].reset_index(drop=True), dropped.timeseries)
    assert kept.outcomes == pytest.approx(dropped.outcomes, nan_ok=True)


def test_a_shocks_at_step_counts_from_the_end_of_the_warmup():
    """An austerity shock at_step 2 starts cutting the budget at counted step 2 whatever the warm-up."""
    cut = [{"kind": "austerity", "at_step": 2, "budget_cut": 0.2, "over_steps": 1}]
    for warm in (0, 8):
        ts = run_scenario(small(horizon_steps=4, warmup_steps=warm, shocks=cut), seed=5).timeseries
        budgets = ts.set_index("step")["budget_gbp"]
        assert budgets[0] == budgets[1] == budgets[2]  # budgets are set at the start of a year
        sc = small(horizon_steps=8, warmup_steps=warm, shocks=cut)
        b8 = run_scenario(sc, seed=5).timeseries.set_index("step")["budget_gbp"]
        assert b8[4] < b8[0]


def test_a_grant_shift_moves_the_grant_pot_to_contracts_and_keeps_the_budget():
    """A grants_to_contracts shock (at step 2, over 2 steps) takes half the grant pot a step, leaves
    the budget as it is, and puts the grant money out to contract: afterwards no grant is paid and
    each line's contract volume is larger by 1 / (1 - grant share) (lots that drew no bid set apart)."""
    shift = [{"kind": "grants_to_contracts", "at_step": 2, "over_steps": 2}]
    grants = {"warmup_steps": 0, "commissioners.grant_share": 0.1}
    kept = FieldModel(small(**grants), seed=3)
    moved = FieldModel(small(**grants, shocks=shift), seed=3)
    for _ in range(2):
        kept.step()
        moved.step()
    assert [c.grant_multiplier for c in moved.commissioners] == [1.0, 1.0]
    moved.step()
    assert [c.grant_multiplier for c in moved.commissioners] == [0.5, 0.5]
    assert moved.commissioners[0].grant_share_now == pytest.approx(0.05)
    for _ in range(3):
        kept.step()
        moved.step()
    for k, m in zip(kept.commissioners, moved.commissioners, strict=True):
        assert m.grant_share_now == 0.0 and k.grant_share_now == pytest.approx(0.1)
        assert m.budget_gbp == k.budget_gbp
        cut = 1.0 - moved.behaviour.failed_tender_volume_cut  # a lot that drew no bid shrinks
        ratio = (m.line_volume_gbp(0.0) / cut**m.line_failures) / (k.line_volume_gbp(0.0) / cut**k.line_failures)
        np.testing.assert_allclose(ratio, 1.0 / 0.9)
    assert moved.step_acc.grants_sme_vso == 0.0 < kept.step_acc.grants_sme_vso


def test_a_grant_shift_from_an_all_grant_budget_puts_the_whole_budget_out_to_contract():
    """With grant_share 1 (no contracts at first) a full shift leaves finite volumes: every line's
    contract volume is its share of the whole base budget (less any lot that drew no bid), not a
    division by zero."""
    shift = [{"kind": "grants_to_contracts", "at_step": 0, "over_steps": 1}]
    m = FieldModel(small(**{"warmup_steps": 0, "commissioners.grant_share": 1.0}, shocks=shift), seed=4)
    c = m.commissioners[0]
    assert float(c.line_volume_gbp(0.0).sum()) == 0.0
    m.step()
    vol = c.line_volume_gbp(0.0)
    assert np.isfinite(vol).all()
    shrink = (1.0 - m.behaviour.failed_tender_volume_cut) ** c.line_failures  # lots that drew no bid
    np.testing.assert_allclose(vol, c.base_budget_gbp * c.line_weights * shrink)


def _institutions(m: FieldModel) -> list[tuple[object, ...]]:
    from safsim.warmup import COMMISSIONER_INSTITUTIONS

    return [tuple(getattr(c, n) for n in COMMISSIONER_INSTITUTIONS) for c in m.commissioners]


def test_a_held_warmup_starts_the_horizon_from_the_drawn_institutions_and_a_settled_market():
    """With hold_institutions warmup (the default), the commissioners' understanding, SV weights,
    engagement, policies, trust and legitimacy at step 0 are exactly those drawn (the same as a run with
    no warm-up), and the field is settled; the market is not: providers' reserves and beliefs moved."""
    warm, cold = FieldModel(small(warmup_steps=16), seed=11), FieldModel(small(warmup_steps=0), seed=11)
    assert _institutions(warm) == _institutions(cold)
    assert warm.field_state is cold.field_state and warm.contention == cold.contention == 0.0
    assert not np.array_equal(warm.pop.belief[: cold.pop.n], cold.pop.belief[: cold.pop.n])


def test_a_warmup_that_does_not_hold_institutions_lets_commissioners_learn():
    """With hold_institutions never, commissioners learn through the warm-up: mean SV understanding at
    step 0 is higher than drawn (learning only raises it), over several seeds."""
    gains = []
    for seed in range(4):
        free = FieldModel(small(warmup_steps=16, hold_institutions="never"), seed=seed)
        held = FieldModel(small(warmup_steps=16), seed=seed)
        gains.append(
            np.mean([c.sv_understanding for c in free.commissioners])
            - np.mean([c.sv_understanding for c in held.commissioners])
        )
    assert min(gains) >= 0.0 and max(gains) > 0.0


def test_holding_institutions_always_keeps_them_at_the_draws_through_the_horizon():
    """hold_institutions always: every counted step starts again from the drawn institutions, so over
    24 steps mean understanding stays within one step's learning of the draws, while with the default
    (held only in the warm-up) it accumulates; three seeds."""
    for seed in range(3):
        gains = {}
        for hold in ("always", "warmup"):
            m = FieldModel(small(horizon_steps=24, warmup_steps=4, hold_institutions=hold), seed=seed)
            drawn = np.mean([c.sv_understanding for c in m.commissioners])
            m.run()
            gains[hold] = [row["mean_understanding"] - drawn for row in m.timeseries_rows]
        assert max(gains["always"]) < 0.05 and gains["warmup"][-1] > 3 * max(max(gains["always"]), 1e-3)


def test_warmup_must_be_a_whole_number_of_years():
    """warmup_steps that is not a multiple of field.steps_per_year fails at load."""
    with pytest.raises(ScenarioError, match="whole number of years"):
        small(warmup_steps=6)


@pytest.mark.slow
@pytest.mark.parametrize("hold", ["always", "warmup"])
def test_the_baseline_without_shocks_is_steady_after_the_warmup(hold: str):
    """Over 200 seeded runs of the bundled baseline, no provider kind's yearly contract income or active count
    moves by more than 20% (mean over runs) between year 2 and the last year of the horizon: with the
    institutions held through the horizon (the market alone has to be settled), and with the default.
    Means, not medians: social enterprises earn nothing in many run-years (their median yearly income is
    near zero) and about three corporates are active, so a median moves in steps of a third. 200 runs
    because the social enterprises' mean is noisy: over 40 runs its bootstrap interval is about +-30%."""
    from safsim import run_replicates

    sc = load_scenario("baseline", {"hold_institutions": hold})
    ts = run_replicates(sc, 200, workers=2).timeseries
    ts = ts.assign(year=ts.step // sc.field.steps_per_year + 1)
    last = int(ts.year.max())
    kinds = [k.value for k in PROVIDER_KINDS]
    income = ts.groupby(["run_id", "year"])[[f"income_{k}_gbp" for k in kinds]].sum()
    active = ts.groupby(["run_id", "year"])[[f"active_{k}" for k in kinds]].last()
    drift = {}
    for table in (income, active):
        for col in table.columns:
            y2, yl = table[col].xs(2, level="year"), table[col].xs(last, level="year")
            drift[col] = yl.mean() / y2.mean() - 1
    off = {c: round(d, 3) for c, d in drift.items() if abs(d) > 0.2}
    assert off == {}, f"drift of the mean between year 2 and year {last}: {off}"
