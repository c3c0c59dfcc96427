"""Sweeps: tables stream to Parquet parts, are identical across backends and workers, survive SIGKILL and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from safsim.experiments import sweep as sweep_module
from safsim.experiments.sweep import SweepError, run_sweep

TINY = {"horizon_steps": 2, "field.n_authorities": 1, "providers.sme_vso.count": 5}


def _exp(**kw):
    data = {
        "name": "tiny",
        "base": "baseline",
        "set": TINY,
        "factors": {"commissioners.monitoring_rate": [0.1, 0.3]},
        "replicates": 2,
        "seed": 11,
        "record": {"timeseries": True},
    }
    data.update(kw)
    return data


def _same(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.design, b.design)
    pd.testing.assert_frame_equal(a.failures, b.failures)
    if a.timeseries is not None or b.timeseries is not None:
        pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


def test_runs_table_has_ids_factors_then_outcomes(tmp_path):
    """The runs table has one row per run: ids, seed, factor values, then the recorded outcomes; files are written."""
    res = run_sweep(
        _exp(record={"outcomes": ["hhi", "trust_final"], "timeseries": True, "every": 2}),
        backend="serial",
        out=tmp_path / "out",
        progress=False,
    )
    assert list(res.runs.columns) == [
        "run_id",
        "design_point",
        "replicate",
        "seed",
        "commissioners.monitoring_rate",
        "hhi",
        "trust_final",
    ]
    assert res.runs["run_id"].tolist() == [0, 1, 2, 3] and res.runs["seed"].nunique() == 4
    assert set(res.timeseries["step"]) == {0}  # cadence 2 over steps 0 and 1
    out = tmp_path / "out"
    for name in ("runs.parquet", "design.parquet", "failures.parquet", "timeseries.parquet", "manifest.json"):
        assert (out / name).is_file(), name
    assert not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), res.runs)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["root_seed"] == 11
    assert [r["seed"] for r in manifest["runs"]] == res.runs["seed"].tolist()
    assert {r["status"] for r in manifest["runs"]} == {"ok"} and manifest["experiment"]["sha256"]


def test_backends_and_worker_counts_give_identical_tables(tmp_path):
    """serial, processes with 1 worker and processes with 2 workers give identical tables."""
    serial = run_sweep(_exp(), backend="serial", out=tmp_path / "s", progress=False)
    one = run_sweep(_exp(), backend="processes", workers=1, out=tmp_path / "p1", progress=False)
    two = run_sweep(_exp(), backend="processes", workers=2, out=tmp_path / "p2", progress=False)
    memory = run_sweep(_exp(), backend="serial", progress=False)
    _same(serial, one)
    _same(serial, two)
    _same(serial, memory)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    """A run that raises lands in failures.parquet with its traceback and seed; the other runs complete."""
    real = sweep_module.run_scenario
    ref = run_sweep(_exp(), backend="serial", progress=False)
    bad_seed = int(ref.runs["seed"].iloc[1])

    def flaky(scenario, seed, **kw):
        if seed == bad_seed:
            raise RuntimeError("boom")
        return real(scenario, seed, **kw)

    monkeypatch.setattr(sweep_module, "run_scenario", flaky)
    res = run_sweep(_exp(), backend="serial", out=tmp_path / "o", progress=False)
    assert res.runs["run_id"].tolist() == [0, 2, 3]
    assert res.failures["run_id"].tolist() == [1] and res.failures["seed"].tolist() == [bad_seed]
    assert "RuntimeError: boom" in res.failures["traceback"].iloc[0]
    assert pd.read_parquet(tmp_path / "o" / "failures.parquet")["error"].tolist() == ["RuntimeError: boom"]


def test_out_holding_other_results_is_refused_unless_resume_or_force(tmp_path):
    """--out onto another sweep's results is refused with one line; the same sweep needs --resume; --force replaces."""
    out = tmp_path / "o"
    run_sweep(_exp(), backend="serial", out=out, progress=False)
    with pytest.raises(SweepError, match="already holds this sweep's results"):
        run_sweep(_exp(), backend="serial", out=out, progress=False)
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(_exp(seed=12), backend="serial", out=out, resume=True, progress=False)
    again = run_sweep(_exp(), backend="serial", out=out, resume=True, progress=False)
    assert again.n_ran == 0 and len(again.runs) == 4
    other = tmp_path / "x"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not empty"):
        run_sweep(_exp(), backend="serial", out=other, progress=False)
    forced = run_sweep(_exp(seed=12), backend="serial", out=out, force=True, progress=False)
    assert forced.n_ran == 4


SCRIPT = """\
import sys
from safsim.experiments.sweep import run_sweep
exp = dict(
    name="kill", base="baseline",
    set={"horizon_steps": 2, "field.n_authorities": 1, "providers.sme_vso.count": 5},
    factors={"commissioners.monitoring_rate": [0.1, 0.2, 0.3, 0.4, 0.5]},
    replicates=%d, seed=5, record={"timeseries": True},
)
run_sweep(exp, backend="serial", out=sys.argv[1], resume=len(sys.argv) > 2, progress=False)
"""


@pytest.mark.slow
def test_a_sweep_killed_mid_way_resumes_to_identical_tables(tmp_path):
    """A sweep killed with SIGKILL mid-sweep and then resumed ends with the tables of an uninterrupted sweep."""
    script = tmp_path / "sweep.py"
    script.write_text(SCRIPT % 8)
    env = {**os.environ, "CI": "1"}
    full, cut = tmp_path / "full", tmp_path / "cut"
    subprocess.run([sys.executable, str(script), str(full)], check=True, env=env, timeout=300)
    proc = subprocess.Popen([sys.executable, str(script), str(cut)], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((cut / "parts").glob("*.runs.parquet"))) < 1:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "runs.parquet").exists(), "the sweep finished before it was killed"
    subprocess.run([sys.executable, str(script), str(cut), "resume"], check=True, env=env, timeout=300)
    for name in ("runs.parquet", "timeseries.parquet", "design.parquet", "failures.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(cut / name), pd.read_parquet(full / name))
    manifest = json.loads((cut / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_ok"] == 40
