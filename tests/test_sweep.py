"""Sweeps: tables stream to Parquet parts, are identical across backends and workers, survive SIGKILL and resume."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
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
    if a.awards is not None or b.awards is not None:
        pd.testing.assert_frame_equal(a.awards, b.awards)


TABLES = ("runs", "design", "failures", "timeseries", "awards")


def _same_files(out, res):
    """Every table file in ``out`` equals the table of ``res`` (an in-memory sweep's, say)."""
    for name in TABLES:
        table = getattr(res, name)
        if table is None:
            assert not (out / f"{name}.parquet").exists(), name
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), table, obj=name)


def _same_dirs(a, b):
    for name in TABLES:
        assert (a / f"{name}.parquet").exists() == (b / f"{name}.parquet").exists(), name
        if (a / f"{name}.parquet").exists():
            pd.testing.assert_frame_equal(
                pd.read_parquet(a / f"{name}.parquet"), pd.read_parquet(b / f"{name}.parquet"), obj=name
            )


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


def test_merged_files_equal_an_in_memory_sweep(tmp_path, monkeypatch):
    """With time series and awards, the merged files (and the lazily read tables) equal an in-memory sweep's.

    Small row groups (3 rows) make the streaming merge write many, and every part file has the
    same schema, so the merge streams (no fallback to the in-memory concatenation).
    """
    monkeypatch.setattr(sweep_module, "_MERGE_ROWS", 3)
    monkeypatch.setattr(sweep_module, "_CONCAT_PARTS", 2)  # the runs parts concatenated in several batches
    exp = _exp(record={"timeseries": True, "awards": True}, replicates=3)
    memory = run_sweep(exp, backend="serial", progress=False)
    assert len(memory.awards) and len(memory.timeseries)
    for label, kw in (("serial", {"backend": "serial"}), ("p2", {"backend": "processes", "workers": 2})):
        out = tmp_path / label
        res = run_sweep(exp, out=out, progress=False, **kw)
        assert isinstance(res._timeseries, Path) and isinstance(res._awards, Path)  # not read yet
        _same_files(out, memory)
        _same(res, memory)  # reads them now
        parts = sorted((out / "parts").glob("*.parquet"))
        for kind in ("timeseries", "awards"):
            schemas = [pq.read_schema(f) for f in parts if f.name.endswith(f".{kind}.parquet")]
            assert len(schemas) > 1 and all(x.equals(schemas[0], check_metadata=True) for x in schemas)
        assert pq.ParquetFile(out / "timeseries.parquet").metadata.num_row_groups > 1
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["tables"] == [f"{n}.parquet" for n in TABLES]


def test_part_groups_keep_overlapping_ranges_together():
    """Parts are ordered by run_id range; parts whose ranges overlap form one group (sorted together)."""
    groups = sweep_module._part_groups({"c": (6, 7), "a": (0, 2), "b": (1, 3), "d": (4, 5), "e": (8, 12), "f": (9, 9)})
    assert groups == [["a", "b"], ["d"], ["c"], ["e", "f"]]


def test_interleaved_parts_merge_to_the_tables_of_an_uninterrupted_sweep(tmp_path):
    """Chunks whose runs interleave (as an older version could leave on resume) still merge in run_id order."""
    from safsim.experiments.design import plan, point_scenarios
    from safsim.experiments.experiment import load_experiment

    data = _exp(record={"timeseries": True, "awards": True}, replicates=4)
    ref = run_sweep(data, backend="serial", out=tmp_path / "ref", progress=False)
    out = tmp_path / "cut"
    run_sweep(data, backend="serial", out=out, progress=False)
    for f in (out / "parts").iterdir():
        f.unlink()
    exp = load_experiment(data)
    specs, scenarios = plan(exp), point_scenarios(exp)
    record = (tuple(exp.record.outcome_names()), True, 1, True)
    items = {s.run_id: (s.run_id, s.replicate, s.seed) for s in specs}
    for ids in ((1, 3), (0, 2)):  # design point 0, runs interleaved; point 1 is left to the resume
        sweep_module._write_chunk(
            out / "parts", sweep_module._execute(scenarios[0], (0, tuple(items[i] for i in ids)), record)
        )
    ranges = sweep_module._committed(out / "parts")[0]
    assert sorted(ranges.values()) == [(0, 2), (1, 3)]
    res = run_sweep(data, backend="serial", out=out, resume=True, progress=False)
    assert res.n_ran == 4
    _same_dirs(out, tmp_path / "ref")
    _same(res, ref)


def test_a_resume_with_gaps_runs_contiguous_chunks_and_gives_identical_tables(tmp_path):
    """Deleting committed chunks in the middle and resuming with other workers gives the same tables;
    every chunk of the resumed sweep is a contiguous run_id range (one part per merge group)."""
    data = _exp(record={"timeseries": True, "awards": True}, replicates=4)
    ref = run_sweep(data, backend="serial", out=tmp_path / "ref", progress=False)
    out = tmp_path / "cut"
    run_sweep(data, backend="serial", out=out, progress=False)
    for name in TABLES:
        (out / f"{name}.parquet").unlink()
    runs_parts = sorted((out / "parts").glob("*.runs.parquet"))
    assert len(runs_parts) == 8  # one run a chunk (serial, 8 runs)
    for f in runs_parts[1:3] + runs_parts[5:6]:  # uncommit runs 1, 2 and 5
        f.unlink()
    res = run_sweep(data, backend="processes", workers=2, out=out, resume=True, progress=False)
    assert res.n_ran == 3
    _same_dirs(out, tmp_path / "ref")
    _same(res, ref)
    ranges = sweep_module._committed(out / "parts")[0]
    assert all(len(g) == 1 for g in sweep_module._part_groups(ranges))
    assert sorted(ranges.values()) == [(i, i) for i in range(8)]


def test_tasks_never_span_a_gap_in_run_ids(monkeypatch):
    """_tasks splits chunks at gaps (runs a resumed sweep holds) and at design points (chunks of up to 8 here)."""
    from safsim.experiments import replicates
    from safsim.experiments.design import RunSpec

    monkeypatch.setattr(replicates, "_chunk_size", lambda n, w: 8)
    specs = [RunSpec(i, i // 6, i % 6, (), 100 + i) for i in (0, 1, 3, 4, 5, 6, 7, 9)]
    tasks = sweep_module._tasks(specs, workers=1)
    assert [[r for r, _, _ in items] for _, items in tasks] == [[0, 1], [3, 4, 5], [6, 7], [9]]
    assert [dp for dp, _ in tasks] == [0, 0, 1, 1]


@pytest.mark.parametrize(("backend", "workers"), [("serial", 1), ("processes", 2)])
def test_the_parent_keeps_no_chunk_tables_with_out(tmp_path, monkeypatch, backend, workers):
    """With --out, a chunk's tables are freed once written: when the backend yields a chunk no earlier one is alive.

    The check wraps the backend's generator and holds only weak references; without --out the
    same check sees the chunks accumulate (they are kept for the merge), which shows it works.
    """
    real = sweep_module._BACKEND_FUNCS[backend]
    seen: list[weakref.ref] = []
    alive_at_yield: list[int] = []

    def watched(*args, **kw):
        for chunk in real(*args, **kw):
            gc.collect()
            alive_at_yield.append(sum(r() is not None for r in seen))
            seen.extend(weakref.ref(chunk[k]) for k in ("rows", "timeseries") if chunk[k] is not None)
            yield chunk
            del chunk

    monkeypatch.setitem(sweep_module._BACKEND_FUNCS, backend, watched)
    exp = _exp(replicates=5)
    res = run_sweep(exp, backend=backend, workers=workers, out=tmp_path / "o", progress=False)
    assert len(alive_at_yield) >= 4 and max(alive_at_yield) == 0, alive_at_yield
    assert isinstance(res._timeseries, Path)  # the time series is not loaded until asked for
    assert len(res.timeseries) == len(pd.read_parquet(tmp_path / "o" / "timeseries.parquet"))
    seen.clear()
    alive_at_yield.clear()
    run_sweep(exp, backend=backend, workers=workers, progress=False)
    assert alive_at_yield[-1] == 2 * (len(alive_at_yield) - 1)  # in memory: every chunk's rows and time series


def _fake_chunk(first: int, n: int, *, failed: bool = False) -> dict:
    rows = pd.DataFrame(
        {
            "run_id": range(first, first + n),
            "status": "failed" if failed else "ok",
            "elapsed_s": float("nan") if failed else 0.5,
            "a": None if failed else 1.0,
            "b": [float(i) for i in range(first, first + n)],
        }
    ).astype({"run_id": "int64", "a": "float64"})
    return {"rows": rows, "timeseries": None, "awards": None, "failures": None}


def test_reading_the_committed_runs_parts_keeps_few_frames_alive(tmp_path, monkeypatch):
    """At the end of a sweep the parent holds at most a batch of runs-part frames at once, however many parts.

    Holding one DataFrame per part until a single concat made the parent's memory grow with the
    number of chunks (tens of KB of objects for a few KB of data a part).  The check counts the
    frames that pd.read_parquet returned and that are still alive (weak references) at each
    read, and the table must equal one concat of every part.
    """
    monkeypatch.setattr(sweep_module, "_CONCAT_PARTS", 4)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in range(60):
        sweep_module._write_chunk(parts, _fake_chunk(3 * k, 3, failed=k % 7 == 3))
    real = pd.read_parquet
    returned: list[weakref.ref] = []
    alive: list[int] = []

    def watched(*args, **kw):
        gc.collect()
        alive.append(sum(r() is not None for r in returned))
        frame = real(*args, **kw)
        returned.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(pd, "read_parquet", watched)
    ranges, rows = sweep_module._committed(parts)
    monkeypatch.setattr(pd, "read_parquet", real)
    assert len(alive) == 60 and max(alive) <= 4, alive
    expected = pd.concat([real(f) for f in sorted(parts.glob("*.runs.parquet"))], ignore_index=True)
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)
    assert sorted(ranges.values()) == [(3 * k, 3 * k + 2) for k in range(60)]


def test_manifest_text_is_json_dumps_of_it(tmp_path):
    """_write_json streams the text (json.dump) and writes exactly json.dumps(indent=2) plus a newline."""
    data = {"a": 1, "runs": [{"run_id": i, "elapsed_s": None if i % 2 else 0.25, "p": Path("x")} for i in range(5)]}
    sweep_module._write_json(data, tmp_path / "m.json")
    text = (tmp_path / "m.json").read_text(encoding="utf-8")
    assert text == json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_manifest_is_rewritten_at_chunk_commits(tmp_path, monkeypatch):
    """manifest.json is rewritten (atomically) after chunk commits, showing each run's status as it lands."""
    monkeypatch.setattr(sweep_module, "_MANIFEST_EVERY_S", 0.0)
    monkeypatch.setattr(sweep_module, "_MANIFEST_GAP_PER_WRITE", 0.0)  # no throttle by write time (load-dependent)
    real = sweep_module._write_json
    written: list[dict] = []

    def spy(data, path):
        written.append(json.loads(json.dumps(data, default=str)))
        real(data, path)

    monkeypatch.setattr(sweep_module, "_write_json", spy)
    run_sweep(_exp(), backend="serial", out=tmp_path / "o", progress=False)
    assert len(written) == 2 + 4  # start, each of the 4 one-run chunks, end
    done = [sum(r["status"] == "ok" for r in m["runs"]) for m in written]
    assert done == [0, 1, 2, 3, 4, 4]
    assert [m["status"] for m in written] == ["incomplete"] * 5 + ["complete"]
    assert written[-1]["wall_time_s"] is not None and written[-1]["tables"] and not written[-2]["tables"]


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


EXPERIMENT_YAML = """\
# a tiny experiment for the command-line tests
kind: experiment
name: cli
base: baseline
set: {horizon_steps: 2, field.n_authorities: 1, providers.sme_vso.count: 5}
factors:
  commissioners.monitoring_rate: [0.1, 0.3]
replicates: %d
seed: 4
"""


def _cli(argv, capsys):
    from safsim.cli import main

    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_sweep_prints_one_summary_line_and_writes_tables(tmp_path, capsys):
    """`safsim sweep` writes the tables and prints one line: runs, failures, rate and where the results are."""
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT_YAML % 2)
    out = tmp_path / "out"
    status, stdout, _ = _cli(["sweep", str(exp), "--backend", "serial", "--out", str(out), "--quiet"], capsys)
    assert status == 0
    assert len(stdout.strip().splitlines()) == 1
    assert stdout.startswith("4 runs (4 run now), 0 failed, ") and stdout.strip().endswith(f"results in {out}")
    assert len(pd.read_parquet(out / "runs.parquet")) == 4
    status, _, err = _cli(["sweep", str(exp), "--backend", "serial", "--out", str(out), "--quiet"], capsys)
    assert status == 2 and err.count("\n") == 1 and "--resume" in err and "Traceback" not in err
    status, stdout, _ = _cli(
        ["sweep", str(exp), "--out", str(out), "--resume", "--quiet", "--set", "replicates=2"], capsys
    )
    assert status == 0 and "(0 run now)" in stdout


def test_cli_errors_are_one_line_with_exit_2(tmp_path, capsys):
    """Bad experiments and bad --set values exit 2 with one line naming file, line and key path."""
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT_YAML % 0)
    status, _, err = _cli(["sweep", str(exp), "--out", str(tmp_path / "o")], capsys)
    assert status == 2 and err == f"safsim: error: {exp}:8: replicates: must be >= 1, got 0\n"
    exp.write_text(EXPERIMENT_YAML % 1)
    status, _, err = _cli(["sweep", str(exp), "--set", "record.outcomes=[nope]"], capsys)
    assert status == 2 and err.count("\n") == 1 and "unknown outcome 'nope'" in err
    assert not (tmp_path / "o").exists()


def test_cli_check_and_schema_know_experiment_files(tmp_path, capsys):
    """`safsim check` validates experiment files (naming a bad factor) and `safsim schema --experiment` prints theirs."""
    good = tmp_path / "good.yaml"
    good.write_text(EXPERIMENT_YAML % 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text("factors:\n  commissioners.no_such: [1]\n")
    status, stdout, err = _cli(["check", str(good), str(bad)], capsys)
    assert status == 2 and stdout == f"{good}: ok\n"
    assert err.startswith(f"{bad}:2: factors.commissioners.no_such: ")
    status, stdout, _ = _cli(["schema", "--experiment"], capsys)
    assert status == 0 and json.loads(stdout)["title"] == "safsim experiment"


@pytest.mark.slow
def test_ctrl_c_exits_130_and_leaves_resumable_parts(tmp_path):
    """Ctrl-C (SIGINT) during `safsim sweep` exits 130 with one line, and --resume completes the sweep."""
    exp = tmp_path / "exp.yaml"
    # 200 runs (25 chunks), so that the sweep is still running when the signal lands even on a
    # loaded machine (with 40 runs it could finish between the first part and the signal).
    exp.write_text(EXPERIMENT_YAML.replace("[0.1, 0.3]", "[0.1, 0.2, 0.3, 0.4, 0.5]") % 40)
    out = tmp_path / "out"
    safsim_bin = Path(sys.executable).with_name("safsim")
    cmd = [str(safsim_bin), "sweep", str(exp), "--backend", "serial", "--out", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "CI": "1"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "parts").glob("*.runs.parquet"))) < 1:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "--resume" in err
    done = subprocess.run([*cmd, "--resume", "--quiet"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("200 runs (")
    assert len(pd.read_parquet(out / "runs.parquet")) == 200


@pytest.mark.slow
def test_dask_backend_gives_the_tables_of_serial(tmp_path):
    """The dask backend on a LocalCluster (one in-process worker) gives tables identical to serial's."""
    distributed = pytest.importorskip("dask.distributed")
    serial = run_sweep(_exp(), backend="serial", out=tmp_path / "s", progress=False)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = run_sweep(
            _exp(), backend="dask", scheduler=cluster.scheduler_address, out=tmp_path / "d", progress=False
        )
    _same(serial, on_dask)
    assert len(list((tmp_path / "d" / "parts").glob("*.runs.parquet"))) >= 1
