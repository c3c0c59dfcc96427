"""The mesa.batch_run comparator of benchmarks/bench_batch_run.py runs the same model as safsim (imported by path)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from safsim import load_scenario, run_scenario
from safsim.metrics import ALL_OUTCOMES

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_batch_run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_batch_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_batch_run_gives_safsim_outcomes_for_one_seed(bench):
    """One seed through mesa.batch_run (one process) gives every outcome run_scenario gives, exactly."""
    seed = bench.sweep_seeds(1)[0]
    row = bench.run_batch(1, 1, release=True).iloc[0]
    expected = run_scenario(load_scenario("baseline"), seed).outcomes
    assert int(row["seed"]) == seed
    assert int(row["Step"]) == load_scenario("baseline").horizon_steps - 1
    for name in ALL_OUTCOMES:
        got, want = float(row[name]), float(expected[name])
        assert got == want or (math.isnan(got) and math.isnan(want)), name
