"""Tests of the stylized-fact validation: statistics, registry, evaluation, CLI, regression.

The statistics are checked on synthetic data with known answers; the CLI through
``main([...])``; the slow test reruns the quick validation and compares it with the committed
full-mode report in ``validation/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safsim.analysis.facts import (
    DERIVED_METRICS,
    FACTS,
    Arm,
    AuthorityAssociation,
    Contrast,
    Expect,
    Fact,
    Origin,
    Quantity,
    Trend,
    check_registry,
    fact_class,
    fact_ids,
    get_facts,
    outcome,
)
from safsim.analysis.validation import (
    MODE_REPLICATES,
    REPORT_COLUMNS,
    ZERO_WIDTH_FLAG,
    AuthorityStat,
    CriterionResult,
    Mode,
    ValidationResult,
    association_statistics,
    bootstrap_mean_ci,
    evaluate_fact,
    format_table,
    headline,
    read_verdicts,
    render_markdown,
    run_validation,
    sign_flip_pvalue,
    spearman,
    trend_statistics,
    verdict,
    write_validation,
)
from safsim.cli import main
from safsim.metrics import ALL_OUTCOMES, AUTHORITY_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "validation" / "facts.csv"


@pytest.fixture(autouse=True)
def _no_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep CLI tests quiet and independent of the terminal."""
    monkeypatch.setenv("CI", "1")


# --------------------------------------------------------------------------------------
# Statistics on synthetic data
# --------------------------------------------------------------------------------------


def test_bootstrap_ci_covers_a_known_mean_difference():
    """The bootstrap 95% interval of paired differences with mean 0.5 covers 0.5, not 0."""
    rng = np.random.default_rng(1)
    d = 0.5 + rng.normal(0.0, 1.0, 400)
    d = d - d.mean() + 0.5  # the sample mean is exactly the true difference
    lo, hi = bootstrap_mean_ci(d, np.random.default_rng(2))
    assert lo < 0.5 < hi
    assert lo > 0.0
    assert hi - lo == pytest.approx(2 * 1.96 / np.sqrt(400), rel=0.2)


def test_bootstrap_ci_of_a_null_spans_zero():
    """A sample symmetric about zero gives an interval that contains zero."""
    lo, hi = bootstrap_mean_ci(np.linspace(-1.0, 1.0, 41), np.random.default_rng(3))
    assert lo < 0.0 < hi


def test_bootstrap_ci_needs_two_values():
    """Fewer than two finite values give no interval (NaN)."""
    lo, hi = bootstrap_mean_ci([1.0, np.nan], np.random.default_rng(0))
    assert np.isnan(lo) and np.isnan(hi)


def test_sign_flip_pvalue_is_exact_for_small_samples():
    """Three positive values: exactly 2 of the 8 sign patterns are as extreme, p = 0.25."""
    assert sign_flip_pvalue([1.0, 2.0, 3.0], np.random.default_rng(0)) == pytest.approx(0.25)
    assert sign_flip_pvalue([0.0, 0.0], np.random.default_rng(0)) == 1.0


def test_sign_flip_pvalue_separates_a_shift_from_a_null():
    """A clear shift gives a small p-value; a symmetric sample a large one."""
    rng = np.random.default_rng(5)
    shifted = 1.0 + rng.normal(0, 1, 60)
    assert sign_flip_pvalue(shifted, np.random.default_rng(6)) < 0.01
    assert sign_flip_pvalue(np.linspace(-1, 1, 60), np.random.default_rng(6)) > 0.5


def test_spearman_of_monotone_relations():
    """A monotone increasing relation gives +1, a decreasing one -1, ties are averaged."""
    x = np.arange(10.0)
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -np.exp(x)) == pytest.approx(-1.0)
    assert spearman([1, 2, 3, 4], [1, 1, 2, 2]) == pytest.approx(0.894427, rel=1e-5)
    assert np.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_trend_statistics_detect_a_monotone_lever():
    """Outcome = level + seed effect + small noise: Spearman > 0 with an interval above 0."""
    rng = np.random.default_rng(7)
    levels = np.array([0.0, 0.1, 0.2, 0.3])
    seed_effect = rng.normal(0, 0.05, (30, 1))
    values = levels[None, :] + seed_effect + rng.normal(0, 0.02, (30, 4))
    rho, lo, hi, p, n = trend_statistics(levels, values, np.random.default_rng(8))
    assert n == 30
    assert rho > 0.5 and lo > 0.0 and hi <= 1.0
    assert p < 0.01


def test_trend_statistics_of_a_null_span_zero():
    """An outcome unrelated to the lever gives an interval containing zero."""
    rng = np.random.default_rng(9)
    values = rng.normal(0, 1, (40, 5))
    rho, lo, hi, p, _ = trend_statistics(np.arange(5.0), values, np.random.default_rng(10))
    assert lo < 0.0 < hi
    assert p > 0.05


def test_trend_statistics_drop_seeds_with_missing_values():
    """A seed with any NaN is left out of the trend."""
    values = np.array([[0.0, 1.0, 2.0], [0.0, np.nan, 2.0], [0.5, 1.5, 2.5]])
    rho, *_rest, n = trend_statistics([0.0, 1.0, 2.0], values, np.random.default_rng(0))
    assert n == 2
    assert rho > 0.8


def _authority_table(n_runs: int, n_auth: int, noise_sd: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n_runs, n_auth))
    y = x + rng.normal(0, noise_sd, (n_runs, n_auth))
    return pd.DataFrame(
        {
            "seed": np.repeat(np.arange(n_runs), n_auth),
            "authority": np.tile(np.arange(n_auth), n_runs),
            "x": x.ravel(),
            "z": rng.uniform(0, 1, n_runs * n_auth),
            "y": y.ravel(),
        }
    )


def test_association_r_squared_covers_the_population_value():
    """y = x + e with Var(e) = Var(x)/4 has R^2 = 0.8; the run-cluster interval covers it."""
    table = _authority_table(50, 20, np.sqrt(1 / 48), seed=11)
    r2, lo, hi, p, g = association_statistics(
        table, "y", ("x", "z"), AuthorityStat.r_squared, np.random.default_rng(12), n_perm=200
    )
    assert g == 50
    assert lo < 0.8 < hi
    assert r2 == pytest.approx(0.8, abs=0.05)
    assert p < 0.01


def test_association_spearman_signs():
    """A positive relation gives a positive Spearman; an unrelated column spans zero."""
    table = _authority_table(30, 20, 0.2, seed=13)
    rho, lo, hi, p, _ = association_statistics(
        table, "y", ("x",), AuthorityStat.spearman, np.random.default_rng(14), n_perm=200
    )
    assert rho > 0.5 and lo > 0.0
    rho0, lo0, hi0, p0, _ = association_statistics(
        table, "y", ("z",), AuthorityStat.spearman, np.random.default_rng(15), n_perm=200
    )
    assert lo0 < 0.0 < hi0
    assert p0 > 0.05


@pytest.mark.parametrize(
    ("effect", "lo", "hi", "expect", "threshold", "rule", "expected"),
    [
        (0.3, 0.1, 0.5, Expect.greater, 0.0, "ci", "pass"),
        (0.3, -0.1, 0.5, Expect.greater, 0.0, "ci", "fail"),
        (0.3, -0.1, 0.5, Expect.greater, 0.0, "direction", "pass"),
        (-0.3, -0.5, -0.1, Expect.less, 0.0, "ci", "pass"),
        (0.05, 0.01, 0.09, Expect.less, 0.1, "ci", "pass"),
        (0.1, 0.1, 0.1, Expect.at_least, 0.1, "ci", "pass"),
        (0.1, 0.1, 0.1, Expect.greater, 0.1, "ci", "fail"),
        (0.2, 0.15, 0.25, Expect.at_most, 0.2, "direction", "pass"),
        (float("nan"), float("nan"), float("nan"), Expect.greater, 0.0, "ci", "fail"),
    ],
)
def test_verdict_rules(effect, lo, hi, expect, threshold, rule, expected):
    """CI rule: the interval on the expected side; direction rule: the estimate is."""
    assert verdict(effect, lo, hi, expect, threshold, rule) == expected


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------


def test_registry_lists_exactly_f1_to_f17_with_every_field():
    """The registry holds F1..F17 in order, each with claim, evidence, experiment, arms, test."""
    assert fact_ids() == tuple(f"F{i}" for i in range(1, 18))
    check_registry()
    for f in FACTS:
        assert f.title and f.claim and f.experiment and f.strength
        assert re.search(r"\bTh (§\d|Abstract)", f.evidence), f.id  # thesis sections (docs/references.md)
        assert f.arms and f.criteria
        for c in f.criteria:
            assert c.id.startswith(f.id) and c.expected
            assert isinstance(c.expect, Expect)
            assert c.describe_test()
            assert c.metric_names
        assert any(c.counted for c in f.criteria)
    assert [f.id for f in FACTS if f.theoretical] == ["F17"]


def test_every_criterion_has_a_class_and_a_reason():
    """Each criterion is emergent, constrained or input, with a one-sentence reason."""
    for f in FACTS:
        for c in f.criteria:
            assert isinstance(c.origin, Origin), c.id
            reason = c.origin_reason.strip()
            assert len(reason) > 20 and reason.endswith("."), c.id
    origins = {c.id: c.origin for f in FACTS for c in f.criteria}
    # Known inputs restated (code review): policy floor, definition rule, disclosed inputs.
    for cid in ("F5a", "F10c", "F11b", "F17a"):
        assert origins[cid] is Origin.input, cid
    assert fact_class(get_facts(["F17"])[0]) == "input"
    assert fact_class(get_facts(["F1"])[0]) == "emergent"


def test_f14_is_classed_by_the_broker_mechanism():
    """F14 is an input check while the broker is gated by hard thresholds, else not."""
    import inspect

    from safsim import field_dynamics

    source = inspect.getsource(field_dynamics)
    hard = "c.social_skill >= cfg.broker_skill_threshold" in source
    (f14,) = get_facts(["F14"])
    assert (fact_class(f14) == "input") is hard
    if not hard:  # a smooth broker: the near-impossible skill 0.1 arm stays an input
        assert {c.id: c.origin for c in f14.criteria}["F14b"] is Origin.input


def test_facts_are_tested_by_their_stated_metric():
    """F16 counts bid quality; F4 tests any engagement; F9c and F11b use realised tables."""
    f4, f9, f11, f16 = get_facts(["F4", "F9", "F11", "F16"])
    (f16c,) = [c for c in f16.criteria if c.id == "F16c"]
    assert f16c.counted
    f4_metrics = {m for c in f4.criteria if c.counted for m in c.metric_names}
    assert "engagement_rate" in f4_metrics
    (f9c,) = [c for c in f9.criteria if c.id == "F9c"]
    assert isinstance(f9c, AuthorityAssociation) and f9c.y == "sv_weight_mean"
    assert set(f9c.x) == {"sv_understanding_final", "political_commitment", "has_sv_policy"}
    (f11b,) = [c for c in f11.criteria if c.id == "F11b"]
    assert isinstance(f11b, AuthorityAssociation) and f11b.y == "supplier_defined_share"


def test_registry_metrics_are_defined_outcomes_or_documented_derived_metrics():
    """Every metric is an outcome of safsim.metrics or a derived metric with a description."""
    for f in FACTS:
        for c in f.criteria:
            if isinstance(c, Contrast):
                metrics = [q.metric for _, q in c.terms]
            elif isinstance(c, Trend):
                metrics = [c.metric]
            else:
                assert isinstance(c, AuthorityAssociation)
                assert {c.y, *c.x} <= set(AUTHORITY_COLUMNS)
                continue
            for m in metrics:
                assert m.name in ALL_OUTCOMES or m.name in DERIVED_METRICS, m.name
                assert m.description
    assert not set(DERIVED_METRICS) & set(ALL_OUTCOMES)


def test_every_arm_loads_as_a_scenario():
    """Each arm's scenario and overrides validate (no simulation)."""
    from safsim.analysis.validation import unique_arms
    from safsim.scenario import load_scenario

    arms = unique_arms(FACTS)
    assert len(arms) < sum(len(f.arms) for f in FACTS)  # shared arms are simulated once
    for arm in arms.values():
        load_scenario(arm.scenario, dict(arm.overrides))


def test_get_facts_selects_in_registry_order_and_rejects_unknown_ids():
    """get_facts keeps registry order, ignores case and names unknown ids."""
    assert [f.id for f in get_facts(["f3", "F1"])] == ["F1", "F3"]
    with pytest.raises(KeyError, match="F99"):
        get_facts(["F1", "F99"])


# --------------------------------------------------------------------------------------
# Evaluation on synthetic replicate tables
# --------------------------------------------------------------------------------------


class _FakeResults:
    """Just the tables a Metric reads."""

    def __init__(self, runs: pd.DataFrame) -> None:
        self.runs = runs
        self.timeseries = pd.DataFrame()
        self.authorities = pd.DataFrame()


def test_evaluate_fact_pairs_arms_by_seed():
    """A paired contrast matches runs by seed, not by row order: B = A + 1 gives exactly 1."""
    seeds = [11, 12, 13, 14, 15]
    a = pd.DataFrame({"seed": seeds, "sv_gap": [0.1, 0.5, -0.2, 0.3, 0.0]})
    b = a.assign(sv_gap=a["sv_gap"] + 1.0).iloc[::-1].reset_index(drop=True)
    q = outcome("sv_gap")
    fact = Fact(
        id="FX",
        title="t",
        claim="c",
        strength="s",
        evidence="T1",
        experiment="e",
        arms=(Arm("a"), Arm("b", overrides={"x": 1})),
        criteria=(
            Contrast(
                "FXa",
                "B above A",
                ((1.0, Quantity("b", q)), (-1.0, Quantity("a", q))),
                Expect.greater,
                origin=Origin.emergent,
                origin_reason="synthetic",
            ),
        ),
    )
    (res,) = evaluate_fact(fact, {"a": _FakeResults(a), "b": _FakeResults(b)}, seeds, "ci", 1)
    assert res.effect == pytest.approx(1.0)
    assert res.ci_low == pytest.approx(1.0) and res.ci_high == pytest.approx(1.0)
    assert res.verdict == "pass" and res.n_used == 5


def _criterion(cid: str, lo: float, hi: float, origin: str = "emergent", verdict_: str = "pass") -> CriterionResult:
    return CriterionResult(
        fact=cid[:-1],
        criterion=cid,
        expected="synthetic",
        metric="m",
        test="t",
        effect=(lo + hi) / 2,
        ci_low=lo,
        ci_high=hi,
        p_value=0.01,
        n_replicates=5,
        n_used=5,
        expect=Expect.greater,
        threshold=0.0,
        rule="ci",
        verdict=verdict_,
        counted=True,
        arms=("a",),
        origin=origin,
        origin_reason="synthetic reason.",
    )


def test_zero_width_interval_is_flagged_in_table_and_report():
    """A criterion whose interval is one point is flagged in facts.csv, the table and report."""
    zero = _criterion("F1a", 1.0, 1.0)
    wide = _criterion("F2a", 0.5, 1.5)
    assert zero.zero_width and not wide.zero_width
    assert not _criterion("F3a", float("nan"), float("nan")).zero_width
    facts = get_facts(["F1", "F2"])
    result = ValidationResult(
        facts=facts,
        criteria=(zero, wide),
        mode=Mode.full,
        rule="ci",
        n_replicates=5,
        root_seed=1,
        seeds=(1, 2, 3, 4, 5),
        raw={},
        arms_run={},
    )
    table = result.table()
    assert list(table["zero_width"]) == [True, False]
    assert list(table["origin"]) == ["emergent", "emergent"]
    printed = format_table(result)
    assert "[zero-width]" in printed and ZERO_WIDTH_FLAG in printed
    report = render_markdown(result, plots=False)
    assert ZERO_WIDTH_FLAG in report and "| F1a | emergent |" in report


def test_headline_counts_emergent_facts_apart_from_input_checks():
    """Emergent facts passing are counted separately from input checks."""
    verdicts = {"F1": "pass", "F2": "fail", "F3": "pass", "F14": "pass", "F17": "fail"}
    classes = {"F1": "emergent", "F2": "emergent", "F3": "emergent", "F14": "input", "F17": "input"}
    assert headline(verdicts, classes) == "2/3 emergent facts pass; 1/2 input checks hold"
    result = ValidationResult(
        facts=get_facts(["F1", "F17"]),
        criteria=(_criterion("F1a", 0.1, 0.2), _criterion("F17a", 0.1, 0.2, origin="input")),
        mode=Mode.full,
        rule="ci",
        n_replicates=5,
        root_seed=1,
        seeds=(1, 2, 3, 4, 5),
        raw={},
        arms_run={},
    )
    assert result.fact_classes() == {"F1": "emergent", "F17": "input"}
    assert "1/1 emergent fact pass; 1/1 input check hold" in format_table(result)
    assert "**1/1 emergent fact pass; 1/1 input check hold**" in render_markdown(result, plots=False)


# --------------------------------------------------------------------------------------
# The command line and the written report
# --------------------------------------------------------------------------------------


def test_cli_validate_quick_f17_writes_a_complete_report(tmp_path, capsys):
    """`safsim validate --facts F17 --quick` exits 0 and writes csv, report, plot, raw, manifest."""
    out = tmp_path / "val"
    assert main(["validate", "--facts", "F17", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "F17a" in printed and "Validation report written to" in printed
    table = pd.read_csv(out / "facts.csv")
    assert list(table.columns) == list(REPORT_COLUMNS)
    assert list(table["criterion"]) == ["F17a"]
    row = table.iloc[0]
    assert row["n_replicates"] == MODE_REPLICATES[Mode.quick]
    assert row["rule"] == "direction"
    assert row["ci_low"] <= row["effect"] <= row["ci_high"]
    for name in ("report.md", "plots/F17.png", "raw/F17.csv", "manifest.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "quick" and manifest["facts"] == ["F17"]
    assert "![F17](plots/F17.png)" in (out / "report.md").read_text()
    assert row["origin"] == "input" and row["fact_class"] == "input"
    assert manifest["fact_classes"] == {"F17": "input"}
    assert "0/0 emergent facts pass; " in printed
    assert read_verdicts(out / "facts.csv") == {"F17": row["fact_verdict"]}


def test_cli_validate_unknown_fact_exits_2_and_writes_nothing(tmp_path, capsys):
    """An unknown fact id is one line on stderr, exit 2, and no output directory."""
    out = tmp_path / "val"
    assert main(["validate", "--facts", "F1,F42", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "F42" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [["-n", "1"], ["--facts", ","], ["--quick", "--full"], ["--workers", "0"], ["--seed", "-1"]],
)
def test_cli_validate_bad_arguments_exit_2(tmp_path, capsys, args):
    """Fewer than two replicates, an empty fact list or clashing modes: exit 2, one line."""
    out = tmp_path / "val"
    assert main(["validate", *args, "--out", str(out)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_help_states_the_replicates_of_each_mode(capsys):
    """The help text's numbers of replicates are those of MODE_REPLICATES."""
    assert main(["validate", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"{MODE_REPLICATES[Mode.full]} replicates per arm" in text
    assert f"--quick ({MODE_REPLICATES[Mode.quick]} replicates)" in text


def test_validation_is_reproducible_from_its_root_seed(tmp_path):
    """The same root seed gives the same numbers, with one worker or two."""
    facts = get_facts(["F16"])
    a = run_validation(facts, 3, mode=Mode.full, root_seed=5).table()
    b = run_validation(facts, 3, mode=Mode.full, root_seed=5, workers=2).table()
    cols = ["effect", "ci_low", "ci_high", "p_value"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    write_validation(run_validation(facts, 3, root_seed=5), tmp_path / "r", plots=False)
    assert not (tmp_path / "r" / "plots").exists()


# --------------------------------------------------------------------------------------
# Regression against the committed full-mode report
# --------------------------------------------------------------------------------------


def test_committed_report_is_a_full_mode_run_of_every_fact():
    """validation/facts.csv holds every criterion of F1-F17, judged in full mode."""
    table = pd.read_csv(COMMITTED)
    assert set(table["fact"]) == set(fact_ids())
    expected = [c.id for f in FACTS for c in f.criteria]
    assert list(table["criterion"]) == expected
    assert set(table["rule"]) == {"ci"}
    assert (table["n_replicates"] >= 30).all()


@pytest.mark.slow
def test_quick_validation_keeps_every_fact_that_passes_in_the_committed_report():
    """Every fact passing in validation/facts.csv (full mode) still passes the quick check."""
    committed = read_verdicts(COMMITTED)
    result = run_validation(FACTS, mode=Mode.quick, workers=2)
    quick = result.fact_verdicts()
    regressed = {
        fid: [
            f"{c.criterion}: {c.effect:.4g} (expected {c.expect.symbol} {c.threshold:g})"
            for c in result.criteria
            if c.fact == fid and c.counted and c.verdict != "pass"
        ]
        for fid, v in committed.items()
        if v == "pass" and quick[fid] != "pass"
    }
    assert regressed == {}, (
        "facts that pass in the committed full report fail the quick check; fix the model or, "
        "if the change is intended, rerun `safsim validate --full --workers 2 --out validation --force`"
    )


def test_docs_report_block_matches_the_committed_report():
    """docs/validation.md's generated block is what the committed validation/ renders."""
    from safsim.analysis.validation import DOCS_BEGIN, DOCS_END, render_docs_block

    text = (ROOT / "docs" / "validation.md").read_text()
    block = DOCS_BEGIN + text.split(DOCS_BEGIN, 1)[1].split(DOCS_END, 1)[0] + DOCS_END
    assert block == render_docs_block(ROOT / "validation", "../validation"), (
        "regenerate: safsim validate --full --workers 2 --out validation --force --update-docs docs/validation.md"
    )


def test_cli_update_docs_needs_the_markers(tmp_path, capsys):
    """--update-docs on a file without the generated-block markers: exit 2, nothing written."""
    doc = tmp_path / "doc.md"
    doc.write_text("# no markers\n")
    out = tmp_path / "val"
    args = ["validate", "--facts", "F17", "--quick", "--out", str(out), "--update-docs", str(doc)]
    assert main(args) == 2
    assert "markers" in capsys.readouterr().err
    assert not out.exists()


def test_update_docs_rewrites_only_the_block(tmp_path):
    """update_docs replaces the block and keeps the text around it."""
    from safsim.analysis.validation import DOCS_BEGIN, DOCS_END, update_docs

    report = tmp_path / "report"
    write_validation(run_validation(get_facts(["F17"]), 3, root_seed=1), report, plots=False)
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n\n{DOCS_BEGIN}\nstale block\n{DOCS_END}\n\noutro\n")
    assert update_docs(doc, report) is True
    text = doc.read_text()
    assert text.startswith("intro\n\n") and text.endswith("\n\noutro\n")
    assert "stale block" not in text and "F17" in text and "(report/plots/F17.png)" in text
    assert update_docs(doc, report) is False


def test_convergence_table_reports_known_spread():
    """For values 1..N the cv and relative interval width follow from their sd and mean."""
    from safsim.analysis.validation import convergence_table

    runs = pd.DataFrame({"x": np.arange(1.0, 41.0)})
    table = convergence_table(runs, ["x"], ns=(10, 40)).set_index("n")
    sd10 = np.std(np.arange(1.0, 11.0), ddof=1)
    assert table.loc[10, "mean"] == pytest.approx(5.5)
    assert table.loc[10, "cv"] == pytest.approx(sd10 / 5.5)
    assert table.loc[10, "rel_ci_halfwidth"] == pytest.approx(1.96 * sd10 / np.sqrt(10) / 5.5)
    assert table.loc[40, "rel_dev_from_all"] == pytest.approx(0.0)


def test_power_table_gives_reliability_of_the_quick_check():
    """A clear effect has a quick-check reliability of 1 and a detectable effect of 2.8 se."""
    from safsim.analysis.validation import power_table

    result = run_validation(get_facts(["F17"]), 8, root_seed=3)
    table = power_table(result, n_quick=4, n_sub=50).set_index("criterion")
    row = table.loc["F17a"]
    assert row["quick_reliability"] == 1.0
    assert row["mde_80"] == pytest.approx(2.8 * row["se"])
    assert row["margin_se"] > 2


def test_base_layers_its_own_settings_on_every_arm_before_the_arms_levers(tmp_path, capsys):
    """run_validation(base=...) simulates each arm with the base file's own settings on the arm's scenario,
    the arm's lever overrides last; the report and manifest name the base. --base with --update-docs is
    refused (exit 2): the committed docs document the package defaults."""
    from safsim.analysis.validation import unique_arms
    from safsim.experiments.replicates import run_seeds as real_run_seeds

    base = tmp_path / "base.yaml"
    base.write_text("extends: baseline\ncommissioners: {monitoring_rate: 0.9, grant_share: 0.02}\n")
    seen = []

    def backend(scenario, seeds, workers=1, progress=None):
        seen.append(scenario)
        return real_run_seeds(scenario.model_copy(update={"horizon_steps": 8, "warmup_steps": 0}), seeds)

    fact = get_facts(["F17"])[0]
    result = run_validation([fact], 2, root_seed=1, run_seeds=backend, base=base)
    assert len(seen) == len(unique_arms([fact]))
    for scenario, arm in zip(seen, unique_arms([fact]).values(), strict=True):
        assert scenario.commissioners.grant_share == 0.02
        want = arm.overrides.get("commissioners.monitoring_rate", 0.9)
        assert scenario.commissioners.monitoring_rate == want
    assert result.base == str(base)
    out = tmp_path / "rep"
    write_validation(result, out, plots=False)
    assert f"own settings of `{base}`" in (out / "report.md").read_text()
    assert json.loads((out / "manifest.json").read_text())["base"] == str(base)
    doc = tmp_path / "doc.md"
    doc.write_text("x")
    assert main(["validate", "--facts", "F17", "--base", str(base), "--update-docs", str(doc)]) == 2
    assert "--update-docs documents the package defaults" in capsys.readouterr().err


def test_base_as_settings_mapping_layers_like_the_file(tmp_path):
    """run_validation(base={dotted path: value}) builds every arm exactly as the same settings in a
    scenario file do (the calibration's facts screen passes a candidate point this way)."""
    from safsim.experiments.replicates import run_seeds as real_run_seeds

    file_base = tmp_path / "base.yaml"
    file_base.write_text("extends: baseline\ncommissioners: {monitoring_rate: 0.9, grant_share: 0.02}\n")
    seen: dict[str, list] = {"file": [], "map": []}

    def backend_for(key):
        def backend(scenario, seeds, workers=1, progress=None):
            seen[key].append(scenario)
            return real_run_seeds(scenario.model_copy(update={"horizon_steps": 8, "warmup_steps": 0}), seeds)

        return backend

    fact = get_facts(["F17"])
    a = run_validation(fact, 2, root_seed=1, run_seeds=backend_for("file"), base=file_base)
    settings = {"commissioners.monitoring_rate": 0.9, "commissioners.grant_share": 0.02}
    b = run_validation(fact, 2, root_seed=1, run_seeds=backend_for("map"), base=settings)
    assert seen["file"] == seen["map"]
    pd.testing.assert_frame_equal(a.table(), b.table())
    assert b.base == "settings commissioners.monitoring_rate=0.9, commissioners.grant_share=0.02"


def test_a_criterion_with_a_replicate_factor_reads_more_seeds_and_the_others_their_own():
    """A criterion with replicate_factor k reads its arms on the first k x n seeds of
    child_seeds(root, k x n), whose first n are every other criterion's; an arm shared with other
    criteria runs once on the longer list, and the report counts every run."""
    from safsim.experiments.replicates import run_seeds as real_run_seeds
    from safsim.runner import child_seeds

    ran: dict[str, list[int]] = {}

    def backend(scenario, seeds, workers=1, progress=None):
        ran[scenario.commissioners.engagement.value] = list(seeds)
        return real_run_seeds(scenario.model_copy(update={"horizon_steps": 4, "warmup_steps": 0}), seeds)

    base, other = Arm("base", "baseline"), Arm("none", "baseline", {"commissioners.engagement": "none"})
    level = Contrast(
        "X1",
        "a level on the baseline",
        ((1.0, Quantity("base", outcome("sv_hard_share"))),),
        Expect.greater,
        origin=Origin.emergent,
        origin_reason="test",
    )
    paired = Contrast(
        "X2",
        "a paired difference on three times the seeds",
        ((1.0, Quantity("base", outcome("bids_per_tender"))), (-1.0, Quantity("none", outcome("bids_per_tender")))),
        Expect.less,
        origin=Origin.emergent,
        origin_reason="test",
        replicate_factor=3,
    )
    fact = Fact("F99", "t", "c", "moderate", "e", "x", (base, other), (level, paired))
    result = run_validation([fact], 2, root_seed=5, run_seeds=backend)
    six = child_seeds(5, 6)
    assert ran == {"consultation": six, "none": six}
    assert six[:2] == child_seeds(5, 2) == list(result.seeds)
    by_id = {c.criterion: c for c in result.criteria}
    assert by_id["X1"].n_replicates == 2 and by_id["X2"].n_replicates == 6
    assert list(by_id["X1"].data["seeds"]) == six[:2]
    assert sorted(result.raw["F99"]["seed"].unique().tolist()) == sorted(six)
    assert "12 runs" in render_markdown(result, plots=False)
