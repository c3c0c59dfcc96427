"""Tests of safsim.output: the files written for a set of replicates, and their atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safsim import output, util
from safsim.config import Scenario
from safsim.experiments.replicates import Results
from safsim.metrics import RUN_ID_COLUMNS, RUN_OUTCOMES, TIMESERIES_COLUMNS
from safsim.output import SUMMARY_FILE_COLUMNS, scenario_sha256, write_results
from safsim.plotting import STANDARD_PLOTS
from safsim.runner import child_seeds
from safsim.util import DirectoryNotEmptyError, own_files, unique_path

MANIFEST_KEYS = {
    "safsim_version",
    "python_version",
    "dependencies",
    "git_revision",
    "created_utc",
    "argv",
    "scenario_source",
    "scenario_name",
    "scenario_sha256",
    "scenario",
    "root_seed",
    "seeds",
    "runs",
    "total_run_time_s",
    "wall_time_s",
    "workers",
}


def synthetic_results(n: int = 4, steps: int = 8, root_seed: int = 11) -> Results:
    """Plausible Results without running the model (values drawn from a seeded generator)."""
    scenario = Scenario(name="synthetic", horizon_steps=steps)
    seeds = child_seeds(root_seed, n)
    rng = np.random.default_rng(root_seed)
    rows, frames = [], []
    states = np.array(["settled", "crisis", "resettlement"])
    for i, seed in enumerate(seeds):
        outcomes = {name: float(rng.uniform(0, 1)) for name in RUN_OUTCOMES}
        outcomes["mean_contract_value_gbp"] = float(rng.uniform(2e5, 9e5))
        outcomes["budget_spent_gbp"] = float(rng.uniform(1e7, 5e7))
        rows.append({"run_id": i, "scenario": scenario.name, "replicate": i, "seed": seed} | outcomes)
        ts = {c: rng.uniform(0, 1, steps) for c in TIMESERIES_COLUMNS}
        ts["step"] = np.arange(1, steps + 1)
        ts["field_state"] = states[rng.integers(0, 3, steps)]
        for c in TIMESERIES_COLUMNS:
            if c.startswith("income_") or c == "budget_gbp":
                ts[c] = rng.uniform(0, 2e6, steps)
        frame = pd.DataFrame(ts, columns=list(TIMESERIES_COLUMNS))
        frame.insert(0, "seed", seed)
        frame.insert(0, "replicate", i)
        frame.insert(0, "run_id", i)
        frames.append(frame)
    return Results(
        scenario=scenario,
        root_seed=root_seed,
        runs=pd.DataFrame(rows, columns=[*RUN_ID_COLUMNS, *RUN_OUTCOMES]),
        timeseries=pd.concat(frames, ignore_index=True),
        elapsed_s=tuple(0.1 * (i + 1) for i in range(n)),
        workers=1,
    )


def _write(results: Results, out: Path, **kw: object) -> dict[str, Path]:
    return write_results(results, out, argv=["safsim", "run"], scenario_source="synthetic", **kw)


def test_write_results_writes_every_file_with_the_table_columns(tmp_path: Path) -> None:
    """runs, timeseries, summary, manifest and the standard plots are written with their columns."""
    results = synthetic_results()
    out = tmp_path / "out"
    paths = _write(results, out)
    expected = {"runs.csv", "timeseries.csv", "authorities.csv", "summary.csv", "manifest.json"}
    expected |= {f"plots/{p}" for p in STANDARD_PLOTS}
    assert set(paths) == expected
    assert all(p.is_file() and p.parent.is_relative_to(out) for p in paths.values())
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == [*RUN_ID_COLUMNS, *RUN_OUTCOMES]
    assert runs["seed"].tolist() == results.runs["seed"].tolist()
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns) == ["run_id", "replicate", "seed", *TIMESERIES_COLUMNS]
    assert len(ts) == len(results.timeseries)
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(STANDARD_PLOTS)
    assert not [p for p in tmp_path.iterdir() if p.name != "out"], "temporary directory left"


def test_csv_round_trip_is_exact(tmp_path: Path) -> None:
    """runs.csv reads back to exactly the values in memory (floats round-trip)."""
    results = synthetic_results()
    _write(results, tmp_path / "out", plots=False)
    back = pd.read_csv(tmp_path / "out" / "runs.csv")
    pd.testing.assert_frame_equal(back, results.runs, check_dtype=False, check_exact=True)


def test_summary_csv_has_exactly_the_eight_columns(tmp_path: Path) -> None:
    """summary.csv has columns outcome, mean, sd, p5, p25, median, p75, p95 and a row per outcome."""
    results = synthetic_results()
    _write(results, tmp_path / "out", plots=False)
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert tuple(summary.columns) == SUMMARY_FILE_COLUMNS
    assert summary["outcome"].tolist() == list(RUN_OUTCOMES)
    hhi = summary.set_index("outcome").loc["hhi"]
    assert hhi["median"] == pytest.approx(results.runs["hhi"].median())
    assert hhi["p5"] <= hhi["p25"] <= hhi["median"] <= hhi["p75"] <= hhi["p95"]


def test_manifest_records_provenance_seeds_and_timings(tmp_path: Path) -> None:
    """manifest.json holds versions, scenario hash and JSON, root and per-run seeds and timings."""
    results = synthetic_results(n=3, root_seed=99)
    _write(results, tmp_path / "out", plots=False, wall_time_s=1.5)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert MANIFEST_KEYS <= set(manifest)
    assert set(manifest["dependencies"]) == set(output.DEPENDENCIES)
    assert manifest["dependencies"]["numpy"] == np.__version__
    assert manifest["root_seed"] == 99
    assert manifest["seeds"] == child_seeds(99, 3)
    assert [r["seed"] for r in manifest["runs"]] == manifest["seeds"]
    assert [r["elapsed_s"] for r in manifest["runs"]] == pytest.approx([0.1, 0.2, 0.3])
    assert manifest["total_run_time_s"] == pytest.approx(0.6)
    assert manifest["wall_time_s"] == 1.5
    assert manifest["scenario_name"] == "synthetic"
    assert manifest["scenario_sha256"] == scenario_sha256(results.scenario)
    assert Scenario.model_validate(manifest["scenario"]) == results.scenario
    assert manifest["argv"] == ["safsim", "run"]
    assert manifest["created_utc"].endswith("Z")


def test_scenario_hash_is_stable_and_sees_every_change() -> None:
    """The scenario hash is the same for equal scenarios and differs when one value changes."""
    a = Scenario(name="x", horizon_steps=8)
    assert scenario_sha256(a) == scenario_sha256(Scenario(name="x", horizon_steps=8))
    assert scenario_sha256(a) != scenario_sha256(Scenario(name="x", horizon_steps=9))
    assert len(scenario_sha256(a)) == 64


def test_git_revision_is_best_effort(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a git executable the revision is None rather than an error."""
    monkeypatch.setenv("PATH", "")
    assert output.git_revision() == (None, None)
    assert output.git_revision is util.git_revision


def test_existing_directory_is_refused_by_default(tmp_path: Path) -> None:
    """A non-empty out dir is refused before anything is written, and keeps its files."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(DirectoryNotEmptyError):
        _write(synthetic_results(), out, plots=False)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_empty_existing_directory_is_used(tmp_path: Path) -> None:
    """An empty out dir (e.g. one reserved by the CLI) is written like a missing one."""
    out = tmp_path / "out"
    out.mkdir()
    _write(synthetic_results(), out, plots=False)
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replace_clears_only_our_own_files(tmp_path: Path) -> None:
    """existing="replace" deletes an earlier run's files, keeps foreign ones, writes a full set."""
    out = tmp_path / "out"
    _write(synthetic_results(n=3), out)
    (out / "notes.txt").write_text("mine")
    (out / "plots" / "my_chart.png").write_bytes(b"png")
    _write(synthetic_results(n=2), out, plots=False, existing="replace")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "plots" / "my_chart.png").read_bytes() == b"png"
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["my_chart.png"]
    assert len(pd.read_csv(out / "runs.csv")) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert not any(f.startswith("plots/") for f in manifest["files"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replace_removes_an_emptied_plots_folder(tmp_path: Path) -> None:
    """When only our plots were in plots/, a replacement run without plots removes the folder."""
    out = tmp_path / "out"
    _write(synthetic_results(), out)
    _write(synthetic_results(), out, plots=False, existing="replace")
    assert not (out / "plots").exists()


def test_merge_overwrites_same_names_and_keeps_others(tmp_path: Path) -> None:
    """existing="merge" (the old behaviour) overwrites files of our names and keeps the rest."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "runs.csv").write_text("stale")
    _write(synthetic_results(), out, plots=False, existing="merge")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "runs.csv").read_text().startswith("run_id,")
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_own_files_name_every_file_written(tmp_path: Path) -> None:
    """OWN_FILES matches every file write_results writes, plots included."""
    out = tmp_path / "out"
    written = _write(synthetic_results(), out)
    assert {p.relative_to(out).as_posix() for p in own_files(out, output.OWN_FILES)} == set(written)


def test_unique_path_never_collides(tmp_path: Path) -> None:
    """Two reservations of one name in the same second get different folders."""
    base = tmp_path / "results" / "baseline-20260101-120000"
    first, second, third = unique_path(base), unique_path(base), unique_path(base)
    assert [first.name, second.name, third.name] == [base.name, f"{base.name}-2", f"{base.name}-3"]
    assert all(p.is_dir() for p in (first, second, third))


def test_out_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """Writing to a path that is an existing file raises and leaves the file alone."""
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(NotADirectoryError):
        _write(synthetic_results(), target)
    assert target.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """A failure after the tables and plots are written leaves no out dir and no temp dir."""

    def boom(*args: object, **kwargs: object) -> dict[str, object]:
        raise exc

    monkeypatch.setattr(output, "build_manifest", boom)
    with pytest.raises(type(exc)):
        _write(synthetic_results(), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existing", ["merge", "replace"])
def test_failure_mid_write_leaves_existing_directory_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: str
) -> None:
    """A failure while writing into an existing dir changes none of its files (nothing lost)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "runs.csv").write_text("old")

    def boom(*args: object, **kwargs: object) -> list[Path]:
        raise OSError("no space left on device")

    monkeypatch.setattr("safsim.plotting.save_standard_plots", boom)
    with pytest.raises(OSError, match="no space"):
        _write(synthetic_results(), out, existing=existing)
    assert [p.name for p in out.iterdir()] == ["runs.csv"]
    assert (out / "runs.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
