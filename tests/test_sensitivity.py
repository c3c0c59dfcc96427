"""Tests of global sensitivity analysis (safsim.analysis.sensitivity and ``safsim sensitivity``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from safsim.analysis.sensitivity import (
    INDEX_COLUMNS,
    SensitivityError,
    morris_design,
    morris_indices,
    noise_shares,
    run_sensitivity,
    salib_problem,
    sobol_indices,
)
from safsim.cli import main
from safsim.experiments.design import design_table
from safsim.experiments.experiment import Experiment

# three real scenario settings used only as names and ranges: the test functions replace the model
FACTORS = {
    "commissioners.monitoring_rate": {"low": 0.0, "high": 1.0},
    "policies.consortium_overhead": {"low": 0.0, "high": 0.2},
    "policies.tender_window_weeks": {"low": 2.0, "high": 12.0},
}
TINY = {"horizon_steps": 4, "warmup_steps": 0, "field.n_authorities": 1, "providers.sme_vso.count": 5}


def _design_experiment(design: dict) -> Experiment:
    return Experiment.model_validate({"factors": FACTORS, "design": design})


def _unit(exp: Experiment) -> np.ndarray:
    problem = salib_problem(exp)
    x = design_table(exp)[problem["names"]].to_numpy(dtype=float)
    lo, hi = np.array(problem["bounds"]).T
    return (x - lo) / (hi - lo)


@pytest.mark.parametrize("second_order", [True, False])
def test_sobol_on_safsim_saltelli_design_matches_salib_on_ishigami(second_order):
    """Ishigami on safsim's saltelli design points gives SALib's own sample+analyze indices (and the analytic ones)."""
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample
    from SALib.test_functions import Ishigami

    n, seed = 512, 5
    exp = _design_experiment({"kind": "saltelli", "n": n, "seed": seed, "second_order": second_order})
    x = -np.pi + 2 * np.pi * _unit(exp)
    table, s2 = sobol_indices(exp, {"ishigami": Ishigami.evaluate(x)})
    assert list(table.columns) == INDEX_COLUMNS["sobol"]
    assert (s2 is not None) == second_order

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x_salib = salib_sample.sample(problem, n, calc_second_order=second_order, scramble=True, seed=seed)
    np.testing.assert_allclose(x, x_salib, atol=1e-9)  # the same rows in the same order
    si = salib_analyze.analyze(
        problem, Ishigami.evaluate(x_salib), calc_second_order=second_order, seed=seed, num_resamples=100
    )
    np.testing.assert_allclose(table["S1"], si["S1"], atol=1e-6)
    np.testing.assert_allclose(table["ST"], si["ST"], atol=1e-6)
    np.testing.assert_allclose(table["S1"], [0.314, 0.442, 0.0], atol=0.1)
    np.testing.assert_allclose(table["ST"], [0.558, 0.442, 0.244], atol=0.15)


def test_morris_ranks_factors_of_a_linear_function_by_their_coefficients():
    """Morris mu* on y = 1*u1 + 5*u2 + 10*u3 ranks the factors by coefficient (mu* equals it, sigma 0)."""
    exp = _design_experiment({"kind": "lhs", "n": 4})
    unit_x, points = morris_design(exp, trajectories=8, num_levels=4, seed=2)
    assert len(points) == 8 * (3 + 1) and list(points.columns) == list(FACTORS)
    y = unit_x @ np.array([1.0, 5.0, 10.0])
    table = morris_indices(exp, unit_x, {"linear": y}, seed=2)
    assert list(table.columns) == INDEX_COLUMNS["morris"]
    assert list(table.sort_values("mu_star")["factor"]) == list(FACTORS)
    np.testing.assert_allclose(table["mu_star"], [1.0, 5.0, 10.0], atol=1e-9)
    np.testing.assert_allclose(table["sigma"], 0.0, atol=1e-9)


def test_sobol_needs_a_saltelli_design():
    """--method sobol on a non-saltelli design is a one-line SensitivityError naming the design."""
    exp = Experiment.model_validate({"factors": FACTORS, "design": {"kind": "lhs", "n": 4}})
    with pytest.raises(SensitivityError, match="needs a saltelli design.*lhs"):
        run_sensitivity(exp, "sobol")


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_on_a_tiny_real_sweep_writes_indices_csv(tmp_path, method):
    """run_sensitivity on a tiny real sweep writes indices.csv with the documented columns, noise.csv and the chart."""
    exp = {
        "name": "tiny-sens",
        "base": "baseline",
        "set": TINY,
        "factors": {
            "commissioners.monitoring_rate": {"low": 0.05, "high": 0.6},
            "policies.consortium_overhead": {"low": 0.0, "high": 0.2},
        },
        "design": {"kind": "saltelli", "n": 2, "seed": 1, "second_order": False},
        "replicates": 1,
        "seed": 3,
        "record": {"outcomes": ["hhi", "share_value_sme_vso"]},
    }
    out = tmp_path / "out"
    res = run_sensitivity(exp, method, backend="serial", out=out, trajectories=2, progress=False)
    table = pd.read_csv(out / "indices.csv")
    assert list(table.columns) == INDEX_COLUMNS[method]
    assert len(table) == 2 * 2 and set(table["outcome"]) == {"hhi", "share_value_sme_vso"}
    assert (out / "sensitivity.png").stat().st_size > 0
    assert (out / "sweep" / "runs.parquet").is_file()
    assert set(pd.read_csv(out / "noise.csv")["outcome"]) == {"hhi", "share_value_sme_vso"}
    n_points = 2 * (2 + 2) if method == "sobol" else 2 * (2 + 1)
    assert len(res.sweep.design) == n_points


def test_cli_sensitivity_rejects_a_non_saltelli_design_in_one_line(tmp_path, capsys):
    """`safsim sensitivity --method sobol` on a grid design exits 2 with one line and writes nothing."""
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        "kind: experiment\nbase: baseline\nset: {horizon_steps: 2, field.n_authorities: 1}\n"
        "factors:\n  commissioners.monitoring_rate: [0.1, 0.3]\n"
    )
    status = main(["sensitivity", str(exp), "--method", "sobol", "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert status == 2 and err.count("\n") == 1 and "saltelli" in err
    assert not (tmp_path / "out").exists()


def test_noise_share_is_replicate_variance_over_point_variance():
    """noise_shares: the mean within-point variance / replicates over the variance of the point means."""
    runs = pd.DataFrame({"design_point": [0, 0, 1, 1], "y": [0.0, 2.0, 10.0, 12.0]})
    row = noise_shares(runs, ["y"]).iloc[0]
    assert row["replicates"] == 2 and row["var_points"] == pytest.approx(50.0)
    assert row["var_noise"] == pytest.approx(1.0) and row["noise_share"] == pytest.approx(0.02)


def test_example_experiment_plans_as_its_comments_say():
    """experiments/sensitivity_small.yaml plans N*(k+2) = 160 design points and 320 runs, a saltelli design."""
    from pathlib import Path

    from safsim.experiments.design import plan
    from safsim.experiments.experiment import load_experiment

    exp = load_experiment(Path(__file__).resolve().parents[1] / "experiments" / "sensitivity_small.yaml")
    assert exp.design.kind == "saltelli" and not exp.design.second_order
    assert len(design_table(exp)) == 32 * (3 + 2) and len(plan(exp)) == 320
