"""Replicates and batches on worker processes (safsim.experiments.replicates)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from safsim.experiments.replicates import _chunk_size, run_batches, run_replicates, run_seeds
from safsim.scenario import load_scenario


def test_batches_on_one_pool_equal_separate_runs():
    """run_batches gives, batch by batch, the tables run_seeds gives for each batch alone."""
    a = load_scenario("baseline", ["horizon_steps=3"])
    b = load_scenario("austerity", ["horizon_steps=3"])
    together = run_batches([(a, [1, 2]), (b, [3, 4, 5])], workers=2)
    for res, (scenario, seeds) in zip(together, [(a, [1, 2]), (b, [3, 4, 5])], strict=True):
        alone = run_seeds(scenario, seeds)
        pd.testing.assert_frame_equal(res.runs, alone.runs)
        pd.testing.assert_frame_equal(res.timeseries, alone.timeseries)


def test_many_runs_per_worker_do_not_hang_the_pool():
    """More than 200 runs per worker complete (Python 3.11's max_tasks_per_child deadlocks;
    the pool must not use it).  Run in a subprocess so a regression fails instead of hanging."""
    code = (
        "from safsim import load_scenario\n"
        "from safsim.experiments.replicates import run_batches\n"
        "s = load_scenario('baseline', ['horizon_steps=1', 'field.n_authorities=1',"
        " 'providers.sme_vso.count=5', 'providers.corporate.count=2',"
        " 'providers.large_charity.count=1', 'providers.social_enterprise.count=1'])\n"
        "r = run_batches([(s, list(range(450)))], workers=2)\n"
        "print(len(r[0].runs))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "450"


@pytest.mark.slow
def test_chunked_workers_give_the_serial_tables_and_progress():
    """With 2 and 3 workers, the runs and time-series tables equal the serial ones (seed
    order); progress(done, total) rises strictly to total, by chunks of seeds with 2 workers."""
    s = load_scenario("baseline", ["horizon_steps=2"])
    serial = run_replicates(s, n=24, seed=5, workers=1)
    for workers in (2, 3):
        calls: list[tuple[int, int]] = []
        res = run_replicates(s, n=24, seed=5, workers=workers, progress=lambda d, t, c=calls: c.append((d, t)))
        pd.testing.assert_frame_equal(res.runs, serial.runs)
        pd.testing.assert_frame_equal(res.timeseries, serial.timeseries)
        done = [d for d, _ in calls]
        assert {t for _, t in calls} == {24}
        assert done == sorted(set(done)) and done[-1] == 24
        assert len(calls) == -(-24 // _chunk_size(24, workers))
    assert _chunk_size(24, 2) == 2


def test_chunk_size():
    """Chunks give each worker about 8 tasks, between 1 and 8 seeds each."""
    assert _chunk_size(4, 2) == 1
    assert _chunk_size(40, 2) == 3
    assert _chunk_size(400, 2) == 8
    assert _chunk_size(10_000, 2) == 8
