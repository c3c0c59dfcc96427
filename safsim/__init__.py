"""safsim: an agent-based model of English public-service commissioning for social value,
read as a strategic action field (Fligstein & McAdam).

Public API:
    load_scenario(path_or_mapping, overrides=None) -> Scenario
    run_scenario(scenario, seed) -> RunResult
    run_replicates(scenario, n, seed=None, workers=1) -> Results
    compare(scenarios, n=None, seed=None, outcomes=None, workers=1, *, labels=None, progress=None) -> Comparison:
        scenarios run on the same seeds, each compared with the first (paired differences, bootstrap CIs)
    load_experiment(source, overrides=None) -> Experiment: an experiment file (factors, design, replicates)
    run_sweep(experiment_or_path, *, backend="processes", workers=None, out=None, resume=False, force=False,
        progress=True, scheduler=None) -> SweepResult: every run of an experiment, streamed to Parquet
    FieldModel: the mesa.Model (imported lazily: importing Mesa has side effects)
    Scenario, ScenarioError
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from safsim.analysis.compare import compare
from safsim.config import Scenario
from safsim.experiments.experiment import load_experiment
from safsim.experiments.replicates import Results, run_replicates
from safsim.experiments.sweep import run_sweep
from safsim.runner import RunResult, run_scenario
from safsim.scenario import ScenarioError, load_scenario

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__version__ = "0.1.0"

__all__ = [
    "FieldModel",
    "Results",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "load_experiment",
    "load_scenario",
    "run_replicates",
    "run_scenario",
    "run_sweep",
]


def __getattr__(name: str) -> Any:
    if name == "FieldModel":
        from safsim.model import FieldModel

        return FieldModel
    raise AttributeError(f"module 'safsim' has no attribute {name!r}")
