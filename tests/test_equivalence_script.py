"""The before/after comparison of benchmarks/equivalence/compare_equivalence.py (imported by path)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "equivalence" / "compare_equivalence.py"


@pytest.fixture(scope="module")
def ce():
    spec = importlib.util.spec_from_file_location("compare_equivalence", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _samples(seed: int, n: int) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    return pd.DataFrame({"x": g.normal(0.5, 0.1, n), "y": g.integers(0, 5, n).astype(float), "z": np.zeros(n)})


def test_identical_samples_are_indistinguishable(ce):
    """The same 200 runs before and after: every verdict is "indistinguishable", the difference
    is 0 and its bootstrap interval contains 0."""
    before = _samples(1, 200)
    table = ce.add_verdicts(ce.compare(before, before.copy(), ["x", "y", "z"], np.random.default_rng(0)))
    assert list(table["verdict"]) == ["indistinguishable"] * 3
    assert (table["diff"] == 0).all()
    assert ((table["ci_low"] <= 0) & (table["ci_high"] >= 0)).all()


def test_shifted_samples_differ_with_unequal_sizes(ce):
    """200 runs before, 40 after shifted by two standard deviations in x: x "differs", its
    interval excludes 0 and holds the shift; an independent draw of y is indistinguishable."""
    before = _samples(1, 200)
    after = _samples(2, 40)
    after["x"] += 0.2
    table = ce.add_verdicts(ce.compare(before, after, ["x", "y"], np.random.default_rng(0)))
    x, y = table.iloc[0], table.iloc[1]
    assert (x["n_before"], x["n_after"]) == (200, 40)
    assert x["verdict"] == "differs" and x["ci_low"] > 0.1 and x["ci_high"] < 0.3
    assert y["verdict"] == "indistinguishable"
    assert "| differs |" in ce.markdown(table.assign(scenario="s"))


def test_holm(ce):
    """Holm adjustment: sorted p times (m - rank), made monotone, capped at 1; NaN ignored."""
    adjusted = ce.holm([0.01, 0.04, np.nan, 0.03, 0.5])
    np.testing.assert_allclose(adjusted, [0.04, 0.09, np.nan, 0.09, 0.5])
