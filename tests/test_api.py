"""The public Python API: names, lazy imports and replicate reproducibility."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys

import pandas as pd
import pytest

import safsim
from safsim.metrics import ALL_OUTCOMES

P, K = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
NO = inspect.Parameter.empty
# The documented signatures: (name, kind, default) per parameter, and the return annotation.
SIGNATURES = {
    "load_scenario": ([("source", P, NO), ("overrides", P, None)], "Scenario"),
    "run_scenario": ([("scenario", P, NO), ("seed", P, NO), ("record_awards", K, False)], "RunResult"),
    "run_replicates": (
        [("scenario", P, NO), ("n", P, None), ("seed", P, None), ("workers", P, 1), ("progress", P, None)],
        "Results",
    ),
    "load_experiment": ([("source", P, NO), ("overrides", P, None)], "Experiment"),
    "compare": (
        [
            ("scenarios", P, NO),
            ("n", P, None),
            ("seed", P, None),
            ("outcomes", P, None),
            ("workers", P, 1),
            ("labels", K, None),
            ("progress", K, None),
        ],
        "Comparison",
    ),
    "run_sweep": (
        [
            ("experiment_or_path", P, NO),
            ("backend", K, "processes"),
            ("workers", K, None),
            ("out", K, None),
            ("resume", K, False),
            ("force", K, False),
            ("progress", K, True),
            ("scheduler", K, None),
        ],
        "SweepResult",
    ),
}
TINY = {"horizon_steps": 2, "field": {"n_authorities": 1}}


def _shape(sig: inspect.Signature) -> list[tuple[str, inspect._ParameterKind, object]]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def test_public_names_have_the_documented_kinds_and_signatures():
    """The package exports exactly the API of its docstring: functions and classes of the documented signatures."""
    classes = {"FieldModel", "Results", "RunResult", "Scenario", "ScenarioError"}
    assert set(safsim.__all__) == {*SIGNATURES, *classes, "__version__"}
    for name, (params, returns) in SIGNATURES.items():
        func = getattr(safsim, name)
        assert inspect.isfunction(func), name
        sig = inspect.signature(func)
        assert _shape(sig) == params, name
        assert sig.return_annotation == returns, name
    import mesa
    import pydantic

    assert inspect.isclass(safsim.FieldModel) and issubclass(safsim.FieldModel, mesa.Model)
    init = inspect.signature(safsim.FieldModel.__init__)
    assert _shape(init)[1:] == [("scenario", P, NO), ("seed", P, NO), ("record_awards", P, False)]
    assert issubclass(safsim.Scenario, pydantic.BaseModel)
    assert issubclass(safsim.ScenarioError, Exception)
    assert dataclasses.is_dataclass(safsim.RunResult) and dataclasses.is_dataclass(safsim.Results)
    assert [f.name for f in dataclasses.fields(safsim.RunResult)][:4] == [
        "seed",
        "outcomes",
        "timeseries",
        "authorities",
    ]


def test_public_functions_work_on_a_tiny_scenario():
    """load_scenario, run_scenario, run_replicates and FieldModel return what they document on a 2-step scenario."""
    s = safsim.load_scenario(TINY, {"providers.sme_vso.count": 5})
    assert isinstance(s, safsim.Scenario) and s.horizon_steps == 2 and s.providers.sme_vso.count == 5
    with pytest.raises(safsim.ScenarioError):
        safsim.load_scenario(TINY, {"no_such_key": 1})
    one = safsim.run_scenario(s, 5)
    assert isinstance(one, safsim.RunResult) and one.seed == 5 and one.awards is None
    assert list(one.outcomes) == list(ALL_OUTCOMES) and len(one.timeseries) == 2
    assert isinstance(safsim.run_scenario(s, 5, record_awards=True).awards, pd.DataFrame)
    res = safsim.run_replicates(s, 2, seed=1)
    assert isinstance(res, safsim.Results) and len(res.runs) == 2 and res.workers == 1
    assert res.root_seed == 1 and len(res.timeseries) == 4
    model = safsim.FieldModel(s, seed=5)
    assert isinstance(model, safsim.FieldModel) and model.scenario is s
    model.release()


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
