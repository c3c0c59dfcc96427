"""The public Python API: names, lazy imports and replicate reproducibility."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

import safsim


def test_public_names():
    """The package exports the API of spec section 6."""
    for name in ("load_scenario", "run_scenario", "run_replicates", "FieldModel", "Scenario", "ScenarioError"):
        assert hasattr(safsim, name), name


def test_import_has_no_side_effects():
    """`import safsim` neither imports Mesa (which sets the multiprocessing start method) nor
    matplotlib, and leaves the start method unset."""
    code = (
        "import sys, multiprocessing as mp, safsim, safsim.cli;"
        "print('mesa' in sys.modules, 'matplotlib' in sys.modules, mp.get_start_method(allow_none=True))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "None"]


def test_a_row_seed_reproduces_that_row():
    """run_scenario with a row's seed gives exactly that row's outcomes and time series."""
    s = safsim.load_scenario("baseline", ["horizon_steps=6"])
    res = safsim.run_replicates(s, n=3, seed=11)
    row = res.runs.iloc[2]
    one = safsim.run_scenario(s, int(row["seed"]))
    for name, value in one.outcomes.items():
        assert (pd.isna(value) and pd.isna(row[name])) or value == row[name], name
    ts = res.timeseries[res.timeseries.run_id == 2].drop(columns=["run_id", "replicate", "seed"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ts, one.timeseries, check_dtype=False)


def test_summary_has_every_outcome():
    """Results.summary() gives mean, sd and quantiles of every outcome."""
    s = safsim.load_scenario("baseline", ["horizon_steps=4"])
    summary = safsim.run_replicates(s, n=3, seed=1).summary()
    assert list(summary.columns) == ["outcome", "n", "mean", "sd", "p5", "p25", "median", "p75", "p95"]
    assert len(summary) == len(safsim.run_replicates(s, n=2, seed=1).runs.columns) - 4
