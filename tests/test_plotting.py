"""Tests of safsim.plotting: the standard plots, built from synthetic DataFrames only."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from safsim.metrics import HEADLINE_OUTCOMES, RUN_OUTCOMES, TIMESERIES_COLUMNS
from safsim.outcomes import label
from safsim.plotting import (
    STANDARD_PLOTS,
    fan_chart_income,
    field_state_chart,
    income_kinds,
    outcome_distributions,
    save_standard_plots,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def synthetic_tables(n: int = 5, steps: int = 12, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A runs table and a time-series table of plausible values from a seeded generator."""
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame({name: rng.uniform(0, 1, n) for name in RUN_OUTCOMES})
    runs.insert(0, "run_id", np.arange(n))
    frames = []
    for i in range(n):
        ts = pd.DataFrame({c: rng.uniform(0, 1, steps) for c in TIMESERIES_COLUMNS})
        ts["step"] = np.arange(1, steps + 1)
        ts["field_state"] = rng.choice(["settled", "crisis", "resettlement"], steps)
        for c in TIMESERIES_COLUMNS:
            if c.startswith("income_"):
                ts[c] = rng.uniform(1e5, 3e6, steps)
        ts.insert(0, "run_id", i)
        frames.append(ts)
    return runs, pd.concat(frames, ignore_index=True)


def _is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC


def test_income_kinds_include_consortium() -> None:
    """Every provider kind and the consortium have an income column in the time-series schema."""
    _, ts = synthetic_tables()
    assert income_kinds(ts) == [
        "sme_vso",
        "large_charity",
        "corporate",
        "social_enterprise",
        "consortium",
    ]


def test_fan_chart_income_returns_a_figure_and_saves_a_png(tmp_path: Path) -> None:
    """The income fan chart has one panel per kind plus a comparison, x in years, and saves."""
    _, ts = synthetic_tables()
    path = tmp_path / "fan.png"
    fig = fan_chart_income(ts, path)
    assert _is_png(path)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6
    assert visible[0].get_title() == "Small/medium VSOs"
    assert visible[0].get_ylabel() == "income per quarter (£m)"
    assert any(ax.get_xlabel() == "years" for ax in visible)
    xmax = max(line.get_xdata().max() for line in visible[0].get_lines())
    assert xmax == pytest.approx(12 / 4)
    assert fig.canvas.manager is None, "figure must not be registered with pyplot"


def test_outcome_distributions_marks_medians_and_tolerates_degenerate_columns(
    tmp_path: Path,
) -> None:
    """Outcome panels show the median; constant and all-NaN outcomes still plot."""
    runs, _ = synthetic_tables(n=7)
    runs["hhi"] = 0.25
    runs["sv_gap"] = np.nan
    path = tmp_path / "dists.png"
    fig = outcome_distributions(runs, path=path)
    assert _is_png(path)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [label(o) for o in HEADLINE_OUTCOMES]  # glossary labels
    first = visible[0]
    median = float(np.median(runs[HEADLINE_OUTCOMES[0]]))
    assert any(np.allclose(line.get_xdata(), median) for line in first.get_lines())


def test_outcome_distributions_rejects_unknown_columns() -> None:
    """Asking for an outcome the runs table lacks is a clear ValueError."""
    runs, _ = synthetic_tables()
    with pytest.raises(ValueError, match="no_such_outcome"):
        outcome_distributions(runs, ["no_such_outcome"])


def _layer_edges(layer, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edge of one stackplot layer at each x, read back from its drawn polygon."""
    vertices = np.concatenate([path.vertices for path in layer.get_paths()])
    at = [vertices[np.isclose(vertices[:, 0], x), 1] for x in xs]
    assert all(v.size for v in at), "the layer is not drawn at every step"
    return np.array([v.min() for v in at]), np.array([v.max() for v in at])


def test_field_state_chart_stacks_state_shares(tmp_path: Path) -> None:
    """The state layers are each state's share of replicates and stack to 1 at every step; trust, contention drawn."""
    _, ts = synthetic_tables()
    path = tmp_path / "states.png"
    fig = field_state_chart(ts, path)
    assert _is_png(path)
    top, bottom = fig.axes[:2]
    steps = np.sort(ts["step"].unique())
    share = {
        state: np.array([(ts.loc[ts["step"] == step, "field_state"] == state).mean() for step in steps])
        for state in ("settled", "crisis", "resettlement")
    }
    assert [layer.get_label() for layer in top.collections] == list(share)
    level = np.zeros(steps.size)
    for layer in top.collections:
        low, high = _layer_edges(layer, steps / 4)
        np.testing.assert_allclose(
            low, level, atol=1e-12, err_msg=f"{layer.get_label()} does not sit on the layer below"
        )
        np.testing.assert_allclose(high - low, share[layer.get_label()], atol=1e-12, err_msg=layer.get_label())
        level = high
    np.testing.assert_allclose(level, 1.0, atol=1e-12, err_msg="the stacked shares do not sum to 1")
    assert {line.get_label() for line in bottom.get_lines()} == {"trust", "contention"}
    assert bottom.get_xlabel() == "years"


def test_field_state_chart_needs_its_columns() -> None:
    """A time-series table without field_state is a clear ValueError."""
    _, ts = synthetic_tables()
    with pytest.raises(ValueError, match="field_state"):
        field_state_chart(ts.drop(columns="field_state"))


def test_save_standard_plots_from_tables_or_results(tmp_path: Path) -> None:
    """save_standard_plots writes the standard PNGs from a (runs, timeseries) pair or a Results."""
    runs, ts = synthetic_tables()
    written = save_standard_plots((runs, ts), tmp_path / "a")
    assert [p.name for p in written] == list(STANDARD_PLOTS)
    assert all(_is_png(p) for p in written)
    results_like = SimpleNamespace(runs=runs, timeseries=ts, scenario=None)
    written = save_standard_plots(results_like, tmp_path / "b" / "plots")
    assert all(_is_png(p) for p in written)
