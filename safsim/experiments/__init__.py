"""Designs, replicates, sweeps and execution backends: the only place that starts processes.

Modules:
    replicates: replicates of one scenario (run_replicates, run_seeds, run_batches) and the worker pool.
    experiment: experiment files (Experiment, load_experiment, experiment_json_schema).
    design: design points and the plan of runs (design_table, plan, RunSpec), pure.
    sweep: run_sweep, its backends (serial, processes, dask), Parquet streaming and resume.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_experiment", "run_sweep"]


def __getattr__(name: str) -> Any:
    """``load_experiment`` and ``run_sweep``, imported on first use (the submodules import this package)."""
    if name == "load_experiment":
        from safsim.experiments.experiment import load_experiment

        return load_experiment
    if name == "run_sweep":
        from safsim.experiments.sweep import run_sweep

        return run_sweep
    raise AttributeError(f"module 'safsim.experiments' has no attribute {name!r}")
