"""Designs, replicates, sweeps and execution backends: the only place that starts processes.

Modules:
    replicates: replicates of one scenario (run_replicates, run_seeds, run_batches) and the worker pool.
    experiment: experiment files (Experiment, load_experiment, experiment_json_schema).
    design: design points and the plan of runs (design_table, plan, RunSpec), pure.
    sweep: run_sweep, its backends (serial, processes, dask), Parquet streaming and resume.
"""
