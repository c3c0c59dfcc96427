"""Tests of scenario discovery (safsim.analysis.discovery and ``safsim discover``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from safsim.analysis.discovery import BOX_COLUMNS, DiscoveryError, find_boxes, parse_condition
from safsim.cli import main
from safsim.experiments.sweep import run_sweep


@pytest.mark.parametrize(
    "text",
    [
        "survival_sme_vso > 0.9",
        "survival_sme_vso>=0.9 and hhi < 0.25",
        "(hhi <= 1e-1 or hhi > .5) and sv_gap != 0",
        "share_value_sme_vso == 0 OR hhi < -1",
    ],
)
def test_where_parser_accepts_comparisons_combined_with_and_or(text):
    """The --where grammar accepts NAME OP NUMBER comparisons joined by and/or with parentheses."""
    cond = parse_condition(text)
    assert cond.names and str(cond) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("survival_sme_vso >", "ends too early"),
        ("survival_sme_vso 0.9", "expected a comparison"),
        ("hhi > sv_gap", "expected a number"),
        ("hhi > 1 and", "ends too early"),
        ("(hhi > 1", "ends too early"),
        ("hhi > 1 hhi < 2", "combine comparisons"),
        ("__import__('os').system('true')", "unexpected"),
        ("hhi > 1; rm -rf x", "unexpected"),
        ("survival_sme_vs > 0.9", "unknown outcome 'survival_sme_vs'.*did you mean 'survival_sme_vso'"),
    ],
)
def test_where_parser_rejects_bad_expressions_and_unknown_outcomes(text, message):
    """A bad expression or an unknown outcome is a one-line DiscoveryError (nothing is evaluated)."""
    with pytest.raises(DiscoveryError, match=message) as info:
        parse_condition(text)
    assert "\n" not in str(info.value)


def test_condition_evaluates_rows_and_missing_values_are_false():
    """A condition gives one boolean per row; and binds tighter than or; NaN compares false."""
    table = pd.DataFrame({"hhi": [0.1, 0.5, np.nan, 0.9], "sv_gap": [1.0, 0.0, 1.0, 1.0]})
    cond = parse_condition("hhi < 0.2 or hhi > 0.8 and sv_gap > 0.5")
    assert cond.evaluate(table).tolist() == [True, False, False, True]


def test_prim_finds_x1_above_0_7_on_a_synthetic_design():
    """PRIM on y = (x1 > 0.7) over uniform x1, x2, x3 finds one box x1 in about [0.7, 1] of high density."""
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.uniform(size=(300, 3)), columns=["x1", "x2", "x3"])
    boxes, trajectories = find_boxes(x, (x["x1"] > 0.7).to_numpy(), threshold=0.8, max_boxes=1)
    assert len(boxes) == 1 and trajectories
    box = boxes[0]
    assert set(box.limits) == {"x1"}
    low, high = box.limits["x1"]
    assert 0.65 <= low <= 0.75 and high >= 0.95
    assert box.density >= 0.9 and box.coverage >= 0.9


def test_prim_refuses_a_condition_that_never_holds():
    """A condition that holds for no case is a DiscoveryError, not a PRIM assertion."""
    x = pd.DataFrame({"x1": np.linspace(0, 1, 20)})
    with pytest.raises(DiscoveryError, match="holds for no one"):
        find_boxes(x, np.zeros(20, dtype=bool))


def test_cli_discover_on_a_tiny_real_sweep_writes_boxes_csv(tmp_path, capsys):
    """`safsim discover SWEEP --where ...` on a tiny real sweep writes boxes.csv and prim_trajectory.png."""
    sweep = tmp_path / "sweep"
    res = run_sweep(
        {
            "name": "tiny-discover",
            "base": "baseline",
            "set": {"horizon_steps": 4, "field.n_authorities": 1, "providers.sme_vso.count": 5},
            "factors": {"commissioners.monitoring_rate": {"low": 0.05, "high": 0.6}},
            "design": {"kind": "lhs", "n": 8, "seed": 2},
            "replicates": 1,
            "seed": 5,
            "record": {"outcomes": ["hhi", "survival_sme_vso"]},
        },
        backend="serial",
        out=sweep,
        progress=False,
    )
    cut = float(res.runs["hhi"].median())
    out = tmp_path / "disc"
    status = main(["discover", str(sweep), "--where", f"hhi > {cut!r}", "--threshold", "0.6", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert status == 0, err
    boxes = pd.read_csv(out / "boxes.csv")
    assert list(boxes.columns) == BOX_COLUMNS
    assert (out / "prim_trajectory.png").stat().st_size > 0
    assert "boxes.csv" in stdout

    status = main(["discover", str(sweep), "--where", "share_value_sme_vso > 0.1"])
    _, err = capsys.readouterr()
    assert status == 2 and err.count("\n") == 1 and "not recorded in this sweep" in err
    status = main(["discover", str(sweep), "--where", "hhi >> 2"])
    _, err = capsys.readouterr()
    assert status == 2 and err.count("\n") == 1 and "bad --where expression" in err
