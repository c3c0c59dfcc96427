"""safsim compare: common random numbers, paired differences, effect sizes, the CLI and its files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import safsim
from safsim.analysis.compare import COMPARE_COLUMNS, cliffs_delta, format_comparison
from safsim.analysis.validation import zero_width
from safsim.cli import main

TINY = ["horizon_steps=8"]
HIGH_SV = [*TINY, "commissioners.sv_weight=0.2", "commissioners.price_weight=0.45"]


@pytest.fixture(scope="module")
def lever() -> safsim.analysis.compare.Comparison:
    """Baseline, baseline again, and baseline with a 20% social-value weight, on 5 common seeds."""
    base = safsim.load_scenario("baseline", TINY)
    high = safsim.load_scenario("baseline", HIGH_SV)
    return safsim.compare([base, base, high], n=5, seed=11, outcomes=["mean_sv_weight", "hhi", "trust_final"])


def test_every_arm_runs_on_the_same_seeds(lever) -> None:
    """Common random numbers: every arm's runs use the same seeds, in the same order."""
    seeds = [list(r.runs["seed"]) for r in lever.results]
    assert seeds[0] == seeds[1] == seeds[2] == list(lever.seeds)
    assert lever.labels == ("baseline #1", "baseline #2", "baseline #3")


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(lever) -> None:
    """The paired difference of a scenario with itself is exactly zero, with a zero-width interval and delta 0."""
    rows = lever.table[lever.table["arm"] == 2]
    assert len(rows) == 3
    assert (rows["diff"] == 0.0).all()
    assert (rows["diff_ci_low"] == 0.0).all() and (rows["diff_ci_high"] == 0.0).all()
    assert all(zero_width(lo, hi) for lo, hi in zip(rows["diff_ci_low"], rows["diff_ci_high"], strict=True))
    assert (rows["cliffs_delta"] == 0.0).all() and (rows["p_value"] == 1.0).all()


def test_a_higher_sv_weight_raises_the_mean_sv_weight(lever) -> None:
    """commissioners.sv_weight 0.2 vs the baseline raises mean_sv_weight: positive difference, CI above zero."""
    row = lever.table[(lever.table["arm"] == 3) & (lever.table["outcome"] == "mean_sv_weight")].iloc[0]
    assert row["diff"] > 0 and row["diff_ci_low"] > 0 and row["diff_ci_high"] >= row["diff"]
    assert row["cliffs_delta"] > 0.5
    assert row["label"] == "Mean social-value weight" and row["unit"] == "weight"


def test_the_table_has_one_row_per_outcome_and_arm_with_the_documented_columns(lever) -> None:
    """The table has COMPARE_COLUMNS, one row per outcome and arm; the reference arm has no difference."""
    t = lever.table
    assert tuple(t.columns) == COMPARE_COLUMNS
    assert len(t) == 3 * 3
    ref = t[t["arm"] == 1]
    assert ref["diff"].isna().all() and (ref["n_pairs"] == 0).all()
    assert (t["p5"] <= t["median"]).all() and (t["median"] <= t["p95"]).all()
    text = format_comparison(t)
    assert "Mean social-value weight (weight)" in text and "(reference)" in text


def test_cliffs_delta_counts_pairs_above_minus_pairs_below() -> None:
    """Cliff's delta is P(x > y) - P(x < y): 1 when x dominates, -1 when y does, 0 for the same sample."""
    assert cliffs_delta([3, 4], [1, 2]) == 1.0
    assert cliffs_delta([1, 2], [3, 4]) == -1.0
    assert cliffs_delta([1, 2, 3], [1, 2, 3]) == 0.0
    assert cliffs_delta([1, 3], [2, np.nan]) == 0.0
    assert np.isnan(cliffs_delta([np.nan], [1.0]))


def test_compare_rejects_one_scenario_and_unknown_outcomes() -> None:
    """compare needs two scenarios and known outcome names."""
    base = safsim.load_scenario("baseline", TINY)
    with pytest.raises(ValueError, match="at least two"):
        safsim.compare([base], n=2)
    with pytest.raises(ValueError, match="unknown outcome"):
        safsim.compare([base, base], n=2, outcomes=["no_such_outcome"])


def test_cli_compare_writes_the_documented_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """safsim compare writes compare.csv with the documented columns, forest.png, stacked runs and a manifest."""
    out = tmp_path / "cmp"
    argv = ["compare", "baseline", "baseline", "-n", "3", "--seed", "4", "--outcomes", "mean_sv_weight,hhi", "-q"]
    argv += ["--out", str(out)] + [f"--set={s}" for s in TINY] + [f"--set=2:{s}" for s in HIGH_SV[1:]]
    assert main(argv) == 0
    table = pd.read_csv(out / "compare.csv")
    assert tuple(table.columns) == COMPARE_COLUMNS
    assert list(table["outcome"]) == ["mean_sv_weight", "mean_sv_weight", "hhi", "hhi"]
    assert (out / "forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns[:2]) == ["arm", "arm_label"]
    assert list(runs[runs.arm == 1]["seed"]) == list(runs[runs.arm == 2]["seed"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "comparison" and manifest["n_runs"] == 3
    assert manifest["arms"][1]["overrides"] == HIGH_SV
    assert manifest["arms"][1]["scenario"]["commissioners"]["sv_weight"] == 0.2
    assert manifest["arms"][0]["scenario"]["commissioners"]["sv_weight"] != 0.2
    assert "Comparison written to" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "baseline"], "at least two scenarios"),
        (["compare", "baseline", "baseline", "--set", "3:horizon_steps=2"], "no scenario 3"),
        (["compare", "baseline", "baseline", "--set", "2:horizon_steps"], "PATH=VALUE"),
        (["compare", "baseline", "baseline", "--outcomes", "hhx"], "unknown outcome"),
    ],
)
def test_cli_compare_bad_input_exits_2_with_one_line(argv, message, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad compare input exits 2 with one line on stderr naming the problem, before anything runs."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
