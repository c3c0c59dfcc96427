"""Tests of the ``safsim`` command line, called through ``main([...])``.

Tests marked ``fake model`` replace ``run_scenario`` with a cheap stand-in so they test the CLI
and output layers alone; the others run the real model with tiny horizons.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safsim import cli, outcomes
from safsim.cli import main
from safsim.config import Scenario
from safsim.metrics import (
    ALL_OUTCOMES,
    HEADLINE_OUTCOMES,
    RUN_ID_COLUMNS,
    RUN_OUTCOMES,
    TIMESERIES_COLUMNS,
)
from safsim.output import SUMMARY_FILE_COLUMNS
from safsim.plotting import STANDARD_PLOTS
from safsim.runner import RunResult, child_seeds

OUTCOME_COLUMNS = list(ALL_OUTCOMES)


def fake_run_scenario(scenario: Scenario, seed: int, *, record_awards: bool = False) -> RunResult:
    """A stand-in for run_scenario: outcomes and a time series drawn from the seed."""
    rng = np.random.default_rng(seed)
    steps = scenario.horizon_steps
    ts = pd.DataFrame({c: rng.uniform(0, 1, steps) for c in TIMESERIES_COLUMNS})
    ts["step"] = np.arange(1, steps + 1)
    ts["field_state"] = rng.choice(["settled", "crisis", "resettlement"], steps)
    outcomes = {name: float(rng.uniform(0, 1)) for name in ALL_OUTCOMES}
    outcomes["budget_spent_gbp"] = float(rng.uniform(1e7, 4e7))
    return RunResult(
        seed=int(seed),
        outcomes=outcomes,
        timeseries=ts,
        elapsed_s=0.01,
        scenario_name=scenario.name,
    )


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the model with fake_run_scenario (single process only)."""
    monkeypatch.setattr("safsim.runner.run_scenario", fake_run_scenario)
    monkeypatch.setattr("safsim.experiments.replicates.run_scenario", fake_run_scenario)


@pytest.fixture(autouse=True)
def _no_ci_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAFSIM_DEBUG", raising=False)


def _stderr_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def _bad_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nhorizon_steps: 8\nno_such_key: 1\n")
    return path


def _good_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "good.yaml"
    path.write_text("name: good\nhorizon_steps: 4\nreplicates: 2\n")
    return path


# ----------------------------------------------------------------------------- run (fake model)


def test_run_writes_all_files_with_their_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: None
) -> None:
    """run writes runs/timeseries/summary CSVs, a manifest with the seeds, and plots (fake model)."""
    out = tmp_path / "out"
    argv = ["run", "--set", "horizon_steps=6", "-n", "3", "--seed", "7", "--out", str(out)]
    assert main(argv) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == [*RUN_ID_COLUMNS, *ALL_OUTCOMES]
    assert runs["seed"].tolist() == child_seeds(7, 3)
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns) == ["run_id", "replicate", "seed", *TIMESERIES_COLUMNS]
    assert len(ts) == 3 * 6
    summary = pd.read_csv(out / "summary.csv")
    assert tuple(summary.columns) == SUMMARY_FILE_COLUMNS
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 7
    assert manifest["seeds"] == child_seeds(7, 3)
    assert len(manifest["runs"]) == 3
    assert manifest["scenario_name"] == "baseline"
    assert manifest["scenario_source"] == "baseline"
    assert manifest["scenario"]["horizon_steps"] == 6
    assert manifest["argv"] == ["safsim", *argv]
    assert manifest["workers"] == 1
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(STANDARD_PLOTS)
    stdout = capsys.readouterr().out
    assert f"Results written to {out}" in stdout
    table = stdout[: stdout.index("Results written")]
    # The printed table shows the runs-table outcomes (the extra validation outcomes are in the CSVs).
    positions = [table.index(f"\n  {name} ") for name in RUN_OUTCOMES]
    headline_last = max(table.index(f"\n  {name} ") for name in HEADLINE_OUTCOMES)
    others_first = min(table.index(f"\n  {n} ") for n in RUN_OUTCOMES if n not in HEADLINE_OUTCOMES)
    assert headline_last < others_first and len(positions) == len(RUN_OUTCOMES)
    assert table.count("\n  share_value_sme_vso ") == 1
    assert "£" in table  # budget_spent_gbp in pounds


def test_run_quiet_prints_only_the_output_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: None
) -> None:
    """--quiet prints one line (where results went) and no table; --no-plots skips plots."""
    out = tmp_path / "out"
    assert main(["run", "-n", "2", "--set", "horizon_steps=4", "--out", str(out), "-q", "--no-plots"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines() == [f"Results written to {out}"]
    assert captured.err == ""
    assert not (out / "plots").exists()


def test_run_defaults_to_a_timestamped_directory_under_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_model: None
) -> None:
    """Without --out, results go to results/<scenario>-<YYYYmmdd-HHMMSS>; a rerun never reuses it."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["run", "-n", "1", "--set", "horizon_steps=4", "-q", "--no-plots"]) == 0
    dirs = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(dirs) == 2
    assert all(d.startswith("baseline-") for d in dirs)
    assert len(dirs[0].split("-")[1]) == 8 and len(dirs[0].split("-")[2]) == 6


def test_progress_bar_only_on_a_terminal_outside_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_model: None
) -> None:
    """A progress bar goes to stderr when it is a TTY, and not when CI is set."""

    class FakeTTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    for ci, expect_bar in (("", True), ("true", False)):
        fake_err = FakeTTY()
        monkeypatch.setattr("sys.stderr", fake_err)
        if ci:
            monkeypatch.setenv("CI", ci)
        else:
            monkeypatch.delenv("CI", raising=False)
        out = tmp_path / f"out-{ci or 'tty'}"
        assert main(["run", "-n", "2", "--set", "horizon_steps=4", "--out", str(out), "--no-plots"]) == 0
        assert ("run" in fake_err.getvalue()) is expect_bar


def test_internal_error_exits_1_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexpected exception exits 1 with one 'please report' line; SAFSIM_DEBUG=1 adds a traceback."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("model exploded\nsecond line")

    monkeypatch.setattr("safsim.experiments.replicates.run_replicates", broken)
    out = tmp_path / "out"
    assert main(["run", "-n", "2", "--out", str(out)]) == 1
    err = _stderr_lines(capsys.readouterr().err)
    assert len(err) == 1 and "please report" in err[0] and "model exploded" in err[0]
    assert not out.exists()
    monkeypatch.setenv("SAFSIM_DEBUG", "1")
    assert main(["run", "-n", "2", "--out", str(out)]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_keyboard_interrupt_exits_130_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_model: None,
) -> None:
    """Ctrl-C while writing results exits 130 and leaves neither the out dir nor a temp dir."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("safsim.output.build_manifest", interrupted)
    out = tmp_path / "out"
    assert main(["run", "-n", "2", "--set", "horizon_steps=4", "--out", str(out)]) == 130
    assert list(tmp_path.iterdir()) == []
    assert len(_stderr_lines(capsys.readouterr().err)) == 1


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--set", "horizon_steps", "-n", "2"],
        ["run", "--set", "=8", "-n", "2"],
        ["run", "-n", "0"],
        ["run", "-n", "two"],
        ["run", "--workers", "0"],
        ["run", "--seed", "-1"],
        ["run", "--run-seed", "5", "-n", "3"],
        ["run", "--no-such-flag"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    """Bad CLI arguments exit 2 with one stderr line, no traceback and no output directory."""
    monkeypatch.chdir(tmp_path)

    def must_not_run(*a: object, **k: object) -> None:
        raise AssertionError("the model must not run on bad input")

    monkeypatch.setattr("safsim.experiments.replicates.run_replicates", must_not_run)
    monkeypatch.setattr("safsim.runner.run_scenario", must_not_run)
    assert main(args) == 2
    err = _stderr_lines(capsys.readouterr().err)
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    assert list(tmp_path.iterdir()) == []


def test_out_path_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: None) -> None:
    """--out naming an existing file exits 2 and leaves the file alone."""
    target = tmp_path / "taken.txt"
    target.write_text("keep")
    assert main(["run", "-n", "1", "--set", "horizon_steps=4", "--out", str(target)]) == 2
    assert target.read_text() == "keep"
    assert len(_stderr_lines(capsys.readouterr().err)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.txt"]


def test_out_onto_a_non_empty_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming a directory that holds files exits 2 with one line, before anything runs."""

    def must_not_run(*a: object, **k: object) -> None:
        raise AssertionError("the model must not run when --out is refused")

    monkeypatch.setattr("safsim.experiments.replicates.run_replicates", must_not_run)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    for argv in (["run", "-n", "1", "--out", str(out)], ["validate", "--facts", "F1", "--out", str(out)]):
        assert main(argv) == 2
        err = _stderr_lines(capsys.readouterr().err)
        assert len(err) == 1 and "--force" in err[0] and str(out) in err[0], err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_force_replaces_only_safsims_own_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: None
) -> None:
    """--force deletes an earlier run's files (plots included) and keeps every other file."""
    out = tmp_path / "out"
    base = ["run", "--set", "horizon_steps=4", "-q", "--out", str(out)]
    assert main([*base, "-n", "3"]) == 0
    (out / "notes.txt").write_text("keep")
    (out / "plots" / "mine.png").write_bytes(b"png")
    assert main([*base, "-n", "2", "--no-plots"]) == 2
    assert main([*base, "-n", "2", "--no-plots", "--force"]) == 0
    assert len(pd.read_csv(out / "runs.csv")) == 2
    assert (out / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["mine.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_default_directories_never_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_model: None) -> None:
    """Two runs in the same second get results/<name>-<stamp> and results/<name>-<stamp>-2."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_default_out_dir", lambda name: Path("results") / f"{name}-20260101-120000")
    for _ in range(2):
        assert main(["run", "-n", "1", "--set", "horizon_steps=4", "-q", "--no-plots"]) == 0
    dirs = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert dirs == ["baseline-20260101-120000", "baseline-20260101-120000-2"]
    assert all((tmp_path / "results" / d / "manifest.json").is_file() for d in dirs)


def test_failed_write_removes_the_reserved_default_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_model: None
) -> None:
    """An error while writing leaves no empty reserved folder behind."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("safsim.output.build_manifest", interrupted)
    assert main(["run", "-n", "1", "--set", "horizon_steps=4", "-q", "--no-plots"]) == 130
    assert list((tmp_path / "results").iterdir()) == []


def test_bad_scenario_exits_2_with_one_line_and_no_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario file that does not validate exits 2, one stderr line, nothing written."""
    bad = _bad_scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(bad), "-n", "2", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    err = _stderr_lines(captured.err)
    assert len(err) == 1 and "no_such_key" in err[0]
    assert "Traceback" not in captured.err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_bad_override_value_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --set with an out-of-range value exits 2 with one line naming the path."""
    out = tmp_path / "out"
    assert main(["run", "--set", "horizon_steps=-3", "--out", str(out)]) == 2
    err = _stderr_lines(capsys.readouterr().err)
    assert len(err) == 1 and "horizon_steps" in err[0]
    assert not out.exists()


# ----------------------------------------------------------------------------- check, schema, list


def test_check_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """check prints 'FILE: ok' for good files, one stderr line per bad file, and exits 2 if any is bad."""
    good, bad = _good_scenario(tmp_path), _bad_scenario(tmp_path)
    assert main(["check", str(good)]) == 0
    assert capsys.readouterr().out.strip() == f"{good}: ok"
    assert main(["check", str(bad), str(good), str(tmp_path / "missing.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.out.strip() == f"{good}: ok"
    err = _stderr_lines(captured.err)
    assert len(err) == 2
    assert "bad.yaml" in err[0] and "missing.yaml" in err[1]


def test_check_reports_every_problem_of_a_file_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check prints one line per problem (FILE:LINE: key.path: message), not just the first."""
    bad = tmp_path / "many.yaml"
    bad.write_text("name: many\nhorizon_steps: 0\nproviders:\n  sme_vso: {count: -1}\nreplicates: 0\n")
    assert main(["check", str(bad)]) == 2
    err = _stderr_lines(capsys.readouterr().err)
    assert [ln.split(": ")[0] for ln in err] == [f"{bad}:2", f"{bad}:4", f"{bad}:5"]
    assert [ln.split(": ")[1] for ln in err] == ["horizon_steps", "providers.sme_vso.count", "replicates"]


def test_set_errors_name_the_set_argument(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad --set is reported against that argument, as given, never a line of the base file."""
    out = tmp_path / "out"
    assert main(["run", "baseline", "--set", "commissioners.sv_wieght=0.2", "--out", str(out)]) == 2
    err = _stderr_lines(capsys.readouterr().err)
    assert err == [
        "safsim: error: --set commissioners.sv_wieght=0.2: commissioners.sv_wieght: "
        "unknown key 'sv_wieght' (did you mean 'sv_weight'?)"
    ]
    assert main(["run", "baseline", "--set", "commissioners.sv_weight=0.5", "--out", str(out)]) == 2
    err = _stderr_lines(capsys.readouterr().err)
    assert len(err) == 1 and err[0].startswith("safsim: error: --set commissioners.sv_weight=0.5: commissioners: ")
    assert not out.exists()


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """schema prints an indented JSON Schema with the scenario's properties."""
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    schema = json.loads(out)
    assert "properties" in schema and "horizon_steps" in schema["properties"]
    assert out.startswith("{\n  ")


def test_list_shows_bundled_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    """list names the bundled scenarios, baseline among them, one per line."""
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(ln.split()[0] == "baseline" for ln in lines)


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help and --version exit 0 (main returns instead of raising SystemExit)."""
    assert main(["--help"]) == 0
    assert main(["run", "--help"]) == 0
    assert main(["--version"]) == 0
    assert "safsim" in capsys.readouterr().out


def test_format_value_formats_by_kind_of_outcome() -> None:
    """Money gets pounds and thousands separators, shares three decimals, NaN 'n/a'."""
    assert cli.format_value("budget_spent_gbp", 12_345_678.4) == "£12,345,678"
    assert cli.format_value("share_value_sme_vso", 0.12345) == "0.123"
    assert cli.format_value("sv_per_gbp", 0.1734) == "0.173"
    assert cli.format_value("exits_total", 3.0) == "3"
    assert cli.format_value("crisis_episodes", 12345.0) == "12,345"
    assert cli.format_value("sv_claimed", 1_234_567.0) == "1,234,567"
    assert cli.format_value("hhi", float("nan")) == "n/a"


def test_summary_table_has_headed_groups_units_and_whole_counts() -> None:
    """Each group has a heading, each row a unit, and counts show observed whole numbers."""
    runs = pd.DataFrame({name: np.linspace(0.1, 0.9, 4) for name in RUN_OUTCOMES})
    runs["exits_total"] = [18, 19, 11, 14]  # an interpolated median would be 16.0, p5 11.45
    runs["sv_claimed"] = [1e6, 2e6, 3e6, 4e6]
    runs["budget_spent_gbp"] = [1e7, 2e7, 3e7, 4e7]
    table = cli.summary_table(runs)
    lines = table.splitlines()
    headings = [ln for ln in lines if ln and not ln.startswith((" ", "-", "outcome", "Outcome", "Units", "not "))]
    assert headings[0] == "Headline outcomes"
    assert {"Market", "Providers", "Social value", "Money"} <= set(headings)
    for ln in lines:
        if ln.startswith("  "):
            name, unit = ln.split()[:2]
            assert unit == outcomes.unit(name).split()[0], ln
    exits = next(ln for ln in lines if ln.startswith("  exits_total ")).split()
    assert exits[2:] == ["14", "11", "to", "19"]
    assert next(ln for ln in lines if ln.startswith("  sv_claimed ")).split()[1:3] == ["SV", "units"]
    assert "SV units" in lines[-2] and "docs/outputs.md" in lines[-1]
    groups = cli.summary_groups(list(runs.columns))
    shown = [n for _h, names in groups for n in names]
    assert sorted(shown) == sorted(RUN_OUTCOMES) and len(shown) == len(set(shown))


def test_help_texts_render_percent_signs(capsys: pytest.CaptureFixture[str]) -> None:
    """Help and descriptions show "90%" and "95%", never a doubled "%%"."""
    for argv in (["run", "--help"], ["validate", "--help"], ["check", "--help"], ["--help"]):
        assert main(argv) == 0
        text = capsys.readouterr().out
        assert "%%" not in text, argv
    assert main(["run", "--help"]) == 0
    assert "90% interval" in " ".join(capsys.readouterr().out.split())


def test_broken_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A reader that stops early (safsim list | head -3) gives exit 0 and nothing on stderr."""

    def closed(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("builtins.print", closed)
    assert main(["list"]) == 0
    assert capsys.readouterr().err == ""


def test_broken_pipe_through_a_real_pipe() -> None:
    """`safsim list | head -0` in a real process: no traceback, no 'internal error', status 0."""
    import subprocess
    import sys

    with subprocess.Popen(
        [sys.executable, "-c", "import sys; from safsim.cli import main; sys.exit(main(['list']))"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.close()  # the reader goes away before anything is written
        _out, err = proc.communicate(timeout=120)
    text = err.decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "internal error" not in text and "Exception ignored" not in text


def test_list_with_no_bundled_scenarios_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An installation without its scenarios makes `safsim list` fail: exit 2, one line."""
    monkeypatch.setattr("safsim.scenario.bundled_scenarios_dir", lambda: tmp_path / "nowhere")
    assert main(["list"]) == 2
    captured = capsys.readouterr()
    err = _stderr_lines(captured.err)
    assert len(err) == 1 and "no bundled scenarios" in err[0] and captured.out == ""


@pytest.mark.parametrize("mode", ["quick", "full"])
def test_validation_key_explains_verdicts_in_one_line(mode: str) -> None:
    """The key under the validation table is one line naming its mode, (supplementary) and FAIL."""
    key = cli.validation_key(mode)
    assert "\n" not in key and key.startswith("Key:")
    assert mode in key and "(parentheses)" in key and "supplementary" in key and "FAIL" in key
    if mode == "quick":
        assert "direction" in key and "--full" in key


# ----------------------------------------------------------------------------- real model


def test_run_real_model_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real model runs through the CLI and writes complete, finite-shares tables."""
    out = tmp_path / "out"
    assert main(["run", "--set", "horizon_steps=8", "-n", "3", "--out", str(out)]) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == [*RUN_ID_COLUMNS, *ALL_OUTCOMES]
    assert len(runs) == 3
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 3 * 8
    authorities = pd.read_csv(out / "authorities.csv")
    assert len(authorities) == 3 * 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == runs["seed"].tolist()
    assert all((out / "plots" / name).is_file() for name in STANDARD_PLOTS)
    assert "Results written to" in capsys.readouterr().out


def test_run_seed_reproduces_a_row_of_runs_csv(tmp_path: Path) -> None:
    """--run-seed with a row's seed reproduces that row's outcomes exactly (real model)."""
    base = ["--set", "horizon_steps=8", "-q", "--no-plots"]
    assert main(["run", "-n", "3", *base, "--out", str(tmp_path / "all")]) == 0
    runs = pd.read_csv(tmp_path / "all" / "runs.csv")
    row = runs.iloc[[2]].reset_index(drop=True)
    seed = int(row.loc[0, "seed"])
    assert main(["run", "--run-seed", str(seed), *base, "--out", str(tmp_path / "one")]) == 0
    one = pd.read_csv(tmp_path / "one" / "runs.csv")
    assert len(one) == 1 and int(one.loc[0, "seed"]) == seed
    pd.testing.assert_frame_equal(one[["seed", *OUTCOME_COLUMNS]], row[["seed", *OUTCOME_COLUMNS]], check_exact=True)
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["run_seed"] == seed and manifest["seeds"] == [seed]


def test_same_root_seed_same_tables_with_1_or_2_workers(tmp_path: Path) -> None:
    """The same root seed gives byte-identical runs.csv and timeseries.csv for 1 and 2 workers."""
    base = ["run", "--set", "horizon_steps=4", "-n", "3", "--seed", "123", "-q", "--no-plots"]
    assert main([*base, "--workers", "1", "--out", str(tmp_path / "w1")]) == 0
    assert main([*base, "--workers", "2", "--out", str(tmp_path / "w2")]) == 0
    for name in ("runs.csv", "timeseries.csv"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()
