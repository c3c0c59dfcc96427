"""Calibration: the targets and set-up files, the metrics, implausibility and history matching.

The end-to-end tests use the small set-up in tests/data/calibration/ (two experiments of 8
steps, invented figures) so that a whole calibration takes seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from safsim.calibration.history import calibrate, implausibility
from safsim.calibration.metrics import METRICS, compute, metric_names
from safsim.calibration.points import _expand, point_overrides
from safsim.calibration.spec import CalibrationExperiment, Prior, Target, load_setup, load_targets
from safsim.cli import main
from safsim.experiments.replicates import run_replicates
from safsim.metrics import ALL_OUTCOMES
from safsim.scenario import ScenarioError, load_scenario

DATA = Path(__file__).parent / "data" / "calibration"
SETUP = DATA / "setup.yaml"


def _target(value: float = 0.2, lo: float = 0.1, hi: float = 0.3) -> Target:
    return Target.model_validate(
        {
            "id": "t",
            "statement": "a test figure for the tests",
            "value": value,
            "interval": [lo, hi],
            "unit": "share",
            "role": "calibrate",
            "source": {"reference": "Test fixture, not a source.", "locator": "n/a"},
            "maps_to": {"experiment": "baseline", "metric": "hhi", "definition": "the run outcome hhi"},
        }
    )


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- files -------------------------------------------------------------------------------


def test_bundled_setup_and_targets_load_and_every_scored_target_has_a_source():
    """The shipped set-up and targets validate; every scored target maps to a metric and cites a source."""
    setup = load_setup()
    scored = setup.targets_file.scored()
    assert scored, "the bundled targets file scores nothing"
    assert {t.role for t in scored} >= {"calibrate", "holdout"}
    for t in setup.targets_file.targets:
        assert t.source.reference and t.source.locator
        if t.maps_to is not None and t.role != "input":  # an input's mapping documents the scenario input
            assert t.maps_to.metric in METRICS
            assert t.maps_to.experiment in setup.experiments


def test_test_setup_loads_with_its_targets():
    """The test fixture loads: two experiments, two priors, a calibrate, a holdout and an input target."""
    setup = load_setup(SETUP)
    assert list(setup.experiments) == ["baseline", "cut"]
    assert [p.name for p in setup.parameters] == ["providers.sme_vso.reserves_gbp*", "providers.sme_vso.count"]
    assert [t.role for t in setup.targets_file.targets] == ["calibrate", "holdout", "input"]


def test_unknown_metric_is_one_line_naming_file_line_and_key(tmp_path):
    """A target naming a metric the model does not compute fails at load with file:line: key: hint."""
    text = (DATA / "targets.yaml").read_text().replace("metric: share_value_sme_vso", "metric: share_value_sme_vsoo")
    path = _write(tmp_path, "targets.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_targets(path)
    msg = str(info.value)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "share_value_sme_vsoo" in s)
    assert msg.startswith(f"{path}:{line}: targets[0].maps_to.metric: unknown metric 'share_value_sme_vsoo'")
    assert "did you mean 'share_value_sme_vso'" in msg


def test_every_problem_of_a_targets_file_is_reported(tmp_path):
    """Two mistakes in one file give two errors, in file order, each with its line."""
    text = (DATA / "targets.yaml").read_text()
    text = text.replace("value: 0.2\n", "value: 0.5\n").replace(
        "unit: share\n    role: holdout", "unit: shares\n    role: holdout"
    )
    path = _write(tmp_path, "targets.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_targets(path)
    errors = info.value.errors
    assert len(errors) == 2
    assert "does not contain the value 0.5" in errors[0].message
    assert errors[1].path == "targets[1].unit"
    assert errors[0].line < errors[1].line


def test_a_prior_on_a_path_that_is_not_a_setting_names_the_setup_line(tmp_path):
    """A prior whose path the scenario does not have is refused at load, on the set-up's line."""
    text = SETUP.read_text().replace("path: providers.sme_vso.count", "path: providers.sme_vso.cuont")
    (tmp_path / "targets.yaml").write_text((DATA / "targets.yaml").read_text())
    path = _write(tmp_path, "setup.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_setup(path)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "cuont" in s)
    assert str(info.value).startswith(f"{path}:{line}: parameters[1].path: providers.sme_vso.cuont")


def test_a_window_past_the_horizon_is_refused(tmp_path):
    """A metric window that ends after the experiment's horizon would be silently empty: refused."""
    text = SETUP.read_text().replace("after: [4, 8]", "after: [4, 12]", 1)
    (tmp_path / "targets.yaml").write_text((DATA / "targets.yaml").read_text())
    path = _write(tmp_path, "setup.yaml", text)
    with pytest.raises(ScenarioError, match=r"experiments\.baseline\.after: the window ends at step 12"):
        load_setup(path)


# --- parameters --------------------------------------------------------------------------


def test_scale_prior_multiplies_every_location_field_of_a_distribution():
    """A scale factor on a uniform multiplies low and high; on a number, the number."""
    p = Prior(path="providers.sme_vso.reserves_gbp", low=0.5, high=2, scale=True, reason="a test prior")
    assert _expand(p, {"dist": "uniform", "low": 10.0, "high": 30.0}, 2.0) == {
        "providers.sme_vso.reserves_gbp.low": 20.0,
        "providers.sme_vso.reserves_gbp.high": 60.0,
    }
    assert _expand(p, 5.0, 3.0) == {"providers.sme_vso.reserves_gbp": 15.0}
    ln = _expand(p, {"dist": "lognormal", "median": 10.0, "sigma": 0.5}, 2.0)
    assert ln == {"providers.sme_vso.reserves_gbp.median": 20.0}  # sigma is a shape: unchanged


def test_point_overrides_give_a_loadable_scenario_with_the_values_set():
    """The overrides of a point load on the experiment's base and carry the point's values."""
    setup = load_setup(SETUP)
    ov = point_overrides(setup, "baseline", {"providers.sme_vso.reserves_gbp*": 2.0, "providers.sme_vso.count": 17.4})
    base = load_scenario("baseline")
    s = load_scenario(base, ov)
    assert s.providers.sme_vso.count == 17
    assert s.providers.sme_vso.reserves_gbp.low == pytest.approx(2 * base.providers.sme_vso.reserves_gbp.low)
    assert s.providers.sme_vso.reserves_gbp.high == pytest.approx(2 * base.providers.sme_vso.reserves_gbp.high)


def test_a_scale_prior_with_a_reference_multiplies_the_reference_not_the_default(tmp_path):
    """A scale prior naming a reference multiplies it, whatever the experiment's scenario holds,
    so moving the defaults does not move the prior; a reference on a direct value is refused at
    load on the set-up's line."""
    text = SETUP.read_text().replace(
        "scale: true, reason:", "scale: true, reference: {dist: uniform, low: 1000, high: 3000}, reason:", 1
    )
    (tmp_path / "targets.yaml").write_text((DATA / "targets.yaml").read_text())
    setup = load_setup(_write(tmp_path, "setup.yaml", text))
    ov = point_overrides(setup, "baseline", {"providers.sme_vso.reserves_gbp*": 2.0, "providers.sme_vso.count": 17})
    assert ov["providers.sme_vso.reserves_gbp.low"] == 2000.0
    assert ov["providers.sme_vso.reserves_gbp.high"] == 6000.0
    bad = SETUP.read_text().replace("integer: true,", "integer: true, reference: 5,", 1)
    path = _write(tmp_path, "bad.yaml", bad)
    with pytest.raises(ScenarioError) as info:
        load_setup(path)
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "reference: 5" in t)
    assert str(info.value).startswith(f"{path}:{line}:")
    assert "only a scale factor multiplies a reference value" in str(info.value)


# --- implausibility and metrics ----------------------------------------------------------


def test_implausibility_is_the_standardised_distance():
    """I = |z - m| / sqrt(s_z^2 + s_d^2 + v/n) with s_z a quarter of the interval."""
    t = _target(0.2, 0.1, 0.3)  # s_z = 0.05
    assert implausibility(t, 0.2, 0.0, 10, 0.0) == 0.0
    assert implausibility(t, 0.35, 0.0, 10, 0.0) == pytest.approx(3.0)
    expected = 0.15 / math.sqrt(0.05**2 + (0.1 * 0.2) ** 2 + 0.01 / 4)
    assert implausibility(t, 0.35, 0.01, 4, 0.1) == pytest.approx(expected)
    assert implausibility(t, float("nan"), 0.0, 4, 0.1) == math.inf


@given(
    d1=st.floats(0, 10, allow_nan=False),
    d2=st.floats(0, 10, allow_nan=False),
    var=st.floats(0, 1, allow_nan=False),
    disc=st.floats(0, 1, allow_nan=False),
)
def test_implausibility_grows_with_distance_and_shrinks_with_uncertainty(d1, d2, var, disc):
    """Farther means are more implausible; more run-to-run spread or discrepancy, less."""
    t = _target()
    near, far = sorted((d1, d2))
    assert implausibility(t, 0.2 + near, var, 5, disc) <= implausibility(t, 0.2 + far, var, 5, disc)
    assert implausibility(t, 0.2 + far, var + 0.1, 5, disc) <= implausibility(t, 0.2 + far, var, 5, disc)
    assert implausibility(t, 0.2 + far, var, 5, disc + 0.1) <= implausibility(t, 0.2 + far, var, 5, disc)


def test_change_metrics_compare_window_means():
    """income_change is the after-window quarterly mean over the before-window mean, minus 1."""
    ts = pd.DataFrame(
        {
            "run_id": [0] * 4 + [1] * 4,
            "step": [0, 1, 2, 3] * 2,
            "income_sme_vso_gbp": [10.0, 10.0, 5.0, 7.0, 4.0, 4.0, 4.0, 4.0],
            "active_sme_vso": [10, 10, 8, 8, 5, 5, 5, 5],
            "budget_gbp": [100.0] * 8,
        }
    )
    runs = pd.DataFrame({"run_id": [0, 1]})
    exp = CalibrationExperiment(before=(0, 2), after=(2, 4))
    out = compute(["income_change_sme_vso", "active_change_sme_vso", "budget_change"], runs, ts, exp)
    assert out.loc[0, "income_change_sme_vso"] == pytest.approx(6.0 / 10.0 - 1)
    assert out.loc[1, "income_change_sme_vso"] == pytest.approx(0.0)
    assert out.loc[0, "active_change_sme_vso"] == pytest.approx(-0.2)
    assert (out["budget_change"] == 0).all()


def test_every_run_outcome_is_a_metric():
    """Targets may map to any outcome of the runs table."""
    assert set(ALL_OUTCOMES) <= set(metric_names())


# --- the method ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_calibration(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "out"
    setup = load_setup(SETUP)
    return calibrate(setup, out=out, backend="serial", progress=False), out


def test_calibration_writes_its_tables_and_a_loadable_fragment(small_calibration):
    """A calibration writes every table; calibrated.yaml holds the chosen values and loads on the base."""
    res, out = small_calibration
    for name in ("points.csv", "posterior.csv", "fit.csv", "calibrated.yaml", "report.md", "manifest.json"):
        assert (out / name).is_file(), name
    assert len(res.points) == 2 * 6
    fragment = yaml.safe_load((out / "calibrated.yaml").read_text())
    assert fragment["providers"]["sme_vso"]["count"] == int(res.chosen["providers.sme_vso.count"])
    load_scenario("baseline", {"providers": fragment["providers"]})
    assert list(res.fit["target"]) == ["vso_share", "vso_income_fall"]  # the input target is not scored


def test_chosen_point_has_the_smallest_largest_implausibility(small_calibration):
    """The chosen point is the not-ruled-out point (or any point) with the smallest I_max."""
    res, _ = small_calibration
    pool = res.points[res.points["nroy"]] if res.points["nroy"].any() else res.points
    best = pool.loc[pool["I_max"].idxmin()]
    assert res.chosen["providers.sme_vso.count"] == best["providers.sme_vso.count"]


def test_later_waves_stay_inside_the_priors(small_calibration):
    """Every point of every wave lies within its prior range."""
    res, _ = small_calibration
    for p in res.setup.parameters:
        assert res.points[p.name].between(p.low, p.high).all()
    post = res.posterior()
    assert (post["p5"] >= post["prior_low"]).all() and (post["p95"] <= post["prior_high"]).all()


def test_calibration_is_reproducible_and_independent_of_workers(small_calibration, tmp_path):
    """The same set-up gives the same points table with 2 workers as serially."""
    res, _ = small_calibration
    again = calibrate(load_setup(SETUP), out=tmp_path / "again", workers=2, progress=False, check_replicates=2)
    pd.testing.assert_frame_equal(res.points, again.points)


def test_history_matching_rules_out_the_parameters_that_miss_a_target(tmp_path):
    """With a target made by the model itself at a known budget, the plausible region covers the
    true value and both far ends of the prior are ruled out: the method finds a parameter.
    The true value is the base budget, within the range where spending follows the budget: above
    about three times the budget the field cannot absorb the money and spending varies widely
    between runs, so a point there is not reliably told apart from the target."""
    base = load_scenario("baseline").commissioners.annual_budget_gbp
    short = load_scenario("baseline", {"horizon_steps": 8, "field.n_authorities": 2})
    runs = run_replicates(load_scenario(short, {"commissioners.annual_budget_gbp": base}), 4, seed=99).runs
    value = float(runs["budget_spent_gbp"].mean())
    targets = yaml.safe_load((DATA / "targets.yaml").read_text())
    targets["targets"][0]["maps_to"]["metric"] = "budget_spent_gbp"
    targets["targets"][0].update(value=value, interval=[value * 0.95, value * 1.05], unit="gbp")
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump(targets))
    text = SETUP.read_text()
    head, _, _ = text.partition("parameters:")
    text = head + (
        "parameters:\n"
        "  - {path: commissioners.annual_budget_gbp, low: 0.25, high: 4.0, log: true, scale: true,"
        " reason: a test prior}\n"
        "method: {waves: 2, points: 12, replicates: 2, check_replicates: 2, seed: 3}\n"
    )
    path = _write(tmp_path, "setup.yaml", text)
    res = calibrate(load_setup(path), backend="serial", progress=False)
    pts = res.points
    name = "commissioners.annual_budget_gbp*"
    kept = pts.loc[pts["nroy"], name]
    assert kept.min() <= 1.0 <= kept.max()
    assert not pts.loc[(pts[name] < 0.5) | (pts[name] > 2.0), "nroy"].any()
    assert res.chosen[name] == pytest.approx(1.0, rel=0.25)


# --- command line ------------------------------------------------------------------------


def test_validate_external_only_prints_and_writes_the_fit(tmp_path, capsys):
    """`safsim validate --facts none --external` scores only the targets and writes external.csv."""
    out = tmp_path / "v"
    status = main(
        ["validate", "--facts", "none", "--external", "--calibration", str(SETUP), "-n", "2", "--out", str(out)]
    )
    assert status == 0
    text = capsys.readouterr().out
    assert "vso_share" in text and "External targets:" in text
    fit = pd.read_csv(out / "external.csv")
    assert list(fit["target"]) == ["vso_share", "vso_income_fall"]
    assert np.isfinite(fit["implausibility"]).all()


def test_calibrate_cli_bad_files_exit_2(tmp_path, capsys):
    """A missing set-up, or --facts none without --external, is a one-line error, exit 2."""
    assert main(["calibrate", "--calibration", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
    assert main(["validate", "--facts", "none"]) == 2
    assert not (tmp_path / "o").exists()


def test_calibrate_cli_refuses_a_used_directory(tmp_path, capsys):
    """--out onto a folder with other files is refused (exit 2) unless --force."""
    out = tmp_path / "used"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["calibrate", "--calibration", str(SETUP), "--out", str(out), "--quiet"]) == 2
    assert "already holds files" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"


def test_resuming_waves_run_with_other_settings_is_one_line_saying_force(tmp_path, capsys):
    """--resume onto a calibration whose wave sweep was run with other settings (here: its recorded
    identity differs, as after a model or default change) is a one-line error naming --force, exit 2."""
    out = tmp_path / "cal"
    calibrate(load_setup(SETUP), out=out, waves=1, backend="serial", progress=False, check_replicates=2)
    manifest = next(out.glob("wave-1/*/manifest.json"))
    data = json.loads(manifest.read_text())
    data["sweep_sha256"] = "0" * 64
    manifest.write_text(json.dumps(data))
    argv = ["calibrate", "--calibration", str(SETUP), "--out", str(out), "--resume", "--quiet", "--waves", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be resumed" in err and "--force" in err


def test_a_repeated_target_id_is_refused(tmp_path):
    """Two targets with one id would make the fit table ambiguous: refused at load, naming the list."""
    targets = yaml.safe_load((DATA / "targets.yaml").read_text())
    targets["targets"][1]["id"] = targets["targets"][0]["id"]
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(targets))
    with pytest.raises(ScenarioError, match=r"targets: target id 'vso_share' appears twice"):
        load_targets(path)


def test_an_interrupted_calibration_resumes(tmp_path):
    """A calibration stopped after its first wave (no manifest of its own yet) is finished with
    resume=True, and ends with the same points as an uninterrupted one."""
    setup = load_setup(SETUP)
    out = tmp_path / "cal"
    calibrate(setup, out=out, waves=1, backend="serial", progress=False, check_replicates=2)
    (out / "manifest.json").unlink()  # as if stopped before the end
    resumed = calibrate(setup, out=out, resume=True, backend="serial", progress=False, check_replicates=2)
    whole = calibrate(setup, out=tmp_path / "whole", backend="serial", progress=False, check_replicates=2)
    pd.testing.assert_frame_equal(resumed.points, whole.points)


def test_calibration_without_out_leaves_no_temporary_folder(tmp_path, monkeypatch):
    """Without ``out`` the waves' design points go to a temporary folder, removed at the end."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    during: list[list[str]] = []

    def log(msg: str) -> None:
        if msg.startswith("wave 1, "):  # while the wave runs, its scratch folder is there
            during.append(sorted(p.name for p in tmp_path.iterdir()))

    res = calibrate(
        load_setup(SETUP),
        waves=1,
        points=4,
        replicates=2,
        check_replicates=2,
        backend="serial",
        progress=False,
        log=log,
    )
    assert len(res.points) == 4 and res.out is None
    assert during and all(any(n.startswith("safsim-calibration-") for n in names) for names in during)
    assert list(tmp_path.iterdir()) == []


def test_validate_external_with_base_scores_the_base_settings(tmp_path, monkeypatch):
    """--external with --base runs every experiment of the set-up with the base's own settings layered on."""
    import safsim.calibration.history as history

    base = tmp_path / "base.yaml"
    base.write_text("extends: baseline\ncommissioners: {grant_share: 0.02}\n")
    calls = []
    real = history.fit_table

    def spy(setup, overrides=None, **kw):
        calls.append(overrides)
        return real(setup, overrides, **kw)

    monkeypatch.setattr(history, "fit_table", spy)
    out = tmp_path / "v"
    args = ["validate", "--facts", "none", "--external", "--calibration", str(SETUP), "-n", "2", "--out", str(out)]
    assert main([*args, "--base", str(base), "-q"]) == 0
    assert calls and set(calls[0]) == set(load_setup(SETUP).experiments)
    assert all(o == {"commissioners.grant_share": 0.02} for o in calls[0].values())


def test_bundled_calibrated_scenario_holds_the_committed_calibration_point():
    """scenarios/calibrated.yaml sets exactly the values of the committed calibration run
    (calibration/calibrated.yaml, written by `safsim calibrate --out calibration`), nothing else."""
    from safsim.scenario import own_settings

    root = Path(__file__).resolve().parents[1]
    committed = root / "calibration" / "calibrated.yaml"
    assert own_settings("calibrated") == own_settings(committed), (
        "copy the values of calibration/calibrated.yaml into scenarios/calibrated.yaml after a calibration"
    )


# --- the facts screen --------------------------------------------------------------------


def _screen_frame(**cols):
    base = {
        "rank": [1, 2, 3],
        "wave": [1, 1, 2],
        "design_point": [0, 1, 2],
        "I_max": [1.0, 2.0, 4.0],
        "I_second": [0.5, 1.0, 2.0],
        "nroy": [True, True, False],
        "emergent_passed": [10, 12, 12],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_screen_prefers_nroy_then_more_emergent_facts_then_implausibility():
    """The facts screen chooses among NROY candidates the one keeping the most emergent facts (the
    facts never rule a point the targets reject back in); among equals the smaller largest
    implausibility wins; without NROY candidates, the facts decide among all."""
    from safsim.calibration.history import choose_screened

    assert choose_screened(_screen_frame()) == 1  # NROY with 12 facts beats NROY with 10
    assert choose_screened(_screen_frame(emergent_passed=[12, 12, 12])) == 0  # all equal: smallest I_max
    assert choose_screened(_screen_frame(emergent_passed=[10, 11, 13])) == 1  # a ruled-out point never wins
    assert choose_screened(_screen_frame(nroy=[False] * 3, emergent_passed=[10, 11, 13])) == 2


def test_screen_candidates_are_the_least_implausible_nroy_points_first():
    """Candidates are NROY points by increasing I_max, then ruled-out points by increasing I_max."""
    from safsim.calibration.history import screen_candidates

    pts = pd.DataFrame({"I_max": [0.5, 2.9, 3.5, 1.0], "I_second": [0.1] * 4, "nroy": [True, True, False, True]})
    assert list(screen_candidates(pts, 3).index) == [0, 3, 1]
    assert list(screen_candidates(pts.assign(nroy=False), 2).index) == [0, 3]


def test_calibration_with_a_facts_screen_chooses_a_screened_point_and_reports_it(tmp_path, monkeypatch):
    """With facts_candidates K, K candidates are judged against the facts (each with its own
    settings layered on every arm), the chosen point is the screen's choice, and
    facts_screen.csv and the report's section are written."""
    import safsim.analysis.validation as validation
    from safsim.experiments.replicates import run_seeds as real_run_seeds

    layered = []
    real = validation.run_validation

    def fast(facts, n, **kw):
        layered.append(dict(kw["base"]))

        def backend(scenario, seeds, workers=1, progress=None):
            return real_run_seeds(scenario.model_copy(update={"horizon_steps": 8, "warmup_steps": 0}), seeds)

        return real(facts, n, run_seeds=backend, **kw)

    monkeypatch.setattr(validation, "run_validation", fast)
    text = SETUP.read_text().replace(
        "check_replicates: 3, seed: 7}",
        "check_replicates: 2, seed: 7, facts_candidates: 2, facts_replicates: 2, facts: [f17]}",
    )
    (tmp_path / "targets.yaml").write_text((DATA / "targets.yaml").read_text())
    setup = load_setup(_write(tmp_path, "setup.yaml", text))
    assert setup.method.facts == ["F17"]
    out = tmp_path / "out"
    res = calibrate(setup, out=out, backend="serial", progress=False)
    screen = res.screen
    assert screen is not None and len(screen) == 2 and int(screen["chosen"].sum()) == 1
    assert len(layered) == 2 and all("providers.sme_vso.count" in s for s in layered)
    pick = screen[screen["chosen"]].iloc[0]
    row = res.points[(res.points["wave"] == pick["wave"]) & (res.points["design_point"] == pick["design_point"])].iloc[
        0
    ]
    assert res.chosen["providers.sme_vso.count"] == row["providers.sme_vso.count"]
    assert list(screen["F17"].unique()) != [] and set(screen["F17"]) <= {"pass", "fail"}
    assert (out / "facts_screen.csv").is_file()
    assert "## Facts screen" in (out / "report.md").read_text()
    # --resume reuses the screen's verdicts instead of judging the candidates again
    layered.clear()
    again = calibrate(setup, out=out, resume=True, backend="serial", progress=False)
    assert layered == []
    pd.testing.assert_frame_equal(again.screen, screen)
    assert again.chosen == res.chosen
    # ... but not when the facts it judged are defined differently since (another digest)
    from safsim.calibration import history

    monkeypatch.setattr(history, "facts_digest", lambda setup: "another definition")
    calibrate(setup, out=out, resume=True, backend="serial", progress=False)
    assert len(layered) == 2


def test_an_unknown_fact_in_the_screen_is_one_line_naming_the_key(tmp_path):
    """method.facts naming a fact that does not exist is refused with the file, line and key."""
    text = SETUP.read_text().replace("seed: 7}", "seed: 7, facts: [F99]}")
    (tmp_path / "targets.yaml").write_text((DATA / "targets.yaml").read_text())
    path = _write(tmp_path, "setup.yaml", text)
    with pytest.raises(ScenarioError) as err:
        load_setup(path)
    msg = str(err.value)
    assert "\n" not in msg and "method.facts" in msg and "F99" in msg


def test_the_facts_screen_draws_a_progress_bar_only_when_asked(capsys):
    """The screen's per-candidate progress bar goes to stderr when progress is on, and nothing is
    drawn (no callback) when it is off."""
    from safsim.calibration.history import _run_bar

    with _run_bar(False, "facts screen 1/2") as off:
        assert off is None
    with _run_bar(True, "facts screen 1/2") as on:
        on(5, 10)
        on(10, 10)
    assert "facts screen 1/2" in capsys.readouterr().err
