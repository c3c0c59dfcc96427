"""Experiment files and planning: validation with file:line errors, designs and seeds (nothing is simulated)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from safsim.experiments.design import design_table, plan, run_seed
from safsim.experiments.experiment import experiment_json_schema, is_experiment_file, load_experiment
from safsim.scenario import ScenarioError

TINY = {"horizon_steps": 2, "field.n_authorities": 1, "providers.sme_vso.count": 5}


def _exp(**kw):
    data = {"base": "baseline", "set": TINY, "replicates": 2, "seed": 3}
    data.update(kw)
    return load_experiment(data)


def _write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_grid_is_the_full_product_times_replicates():
    """A grid design has one point per combination of levels, and the plan has points x replicates runs."""
    exp = _exp(
        factors={
            "commissioners.monitoring_rate": [0.1, 0.2, 0.3],
            "providers.sme_vso.count": {"low": 3, "high": 9, "integer": True, "levels": 2},
        }
    )
    table = design_table(exp)
    assert len(table) == 6
    assert set(map(tuple, table.iloc[:, 1:].values.tolist())) == {(m, c) for m in (0.1, 0.2, 0.3) for c in (3.0, 9.0)}
    runs = plan(exp)
    assert len(runs) == 12 and [r.run_id for r in runs] == list(range(12))
    assert [(r.design_point, r.replicate) for r in runs[:3]] == [(0, 0), (0, 1), (1, 0)]


def test_seeds_are_distinct_deterministic_and_depend_only_on_point_and_replicate():
    """Seeds are the same on every planning, all distinct, and unchanged when replicates are added."""
    factors = {"commissioners.monitoring_rate": [0.1, 0.2]}
    a, b = plan(_exp(factors=factors)), plan(_exp(factors=factors))
    assert a == b
    assert len({r.seed for r in a}) == len(a)
    more = plan(_exp(factors=factors, replicates=3))
    by_key = {(r.design_point, r.replicate): r.seed for r in more}
    assert all(by_key[(r.design_point, r.replicate)] == r.seed for r in a)
    assert a[0].seed == run_seed(3, 0, 0)


@pytest.mark.parametrize("kind,n,size", [("lhs", 10, 10), ("sobol", 8, 8), ("saltelli", 4, 4 * (2 * 2 + 2))])
def test_sampled_designs_lie_within_their_ranges(kind, n, size):
    """lhs, sobol and saltelli give the documented number of points, inside the ranges, reproducibly."""
    factors = {
        "commissioners.monitoring_rate": {"low": 0.1, "high": 0.4},
        "providers.sme_vso.count": {"low": 3, "high": 8, "integer": True},
    }
    exp = _exp(factors=factors, design={"kind": kind, "n": n, "seed": 5})
    table = design_table(exp)
    assert len(table) == size
    assert table["commissioners.monitoring_rate"].between(0.1, 0.4).all()
    assert table["providers.sme_vso.count"].between(3, 8).all()
    assert str(table["providers.sme_vso.count"].dtype) == "int64"
    assert table.equals(design_table(_exp(factors=factors, design={"kind": kind, "n": n, "seed": 5})))


def test_saltelli_rows_follow_salib_order():
    """Each saltelli block is A, AB_j, BA_j, B: AB_j differs from A only in factor j."""
    factors = {"commissioners.monitoring_rate": {"low": 0.0, "high": 1.0}, "policies.tender_window_weeks": [4, 8]}
    table = design_table(_exp(factors=factors, design={"kind": "saltelli", "n": 2}))
    block = table.iloc[:6, 1:].values
    a, ab1, ab2, ba1, ba2, b = block
    assert ab1[1] == a[1] and ab2[0] == a[0] and ba1[1] == b[1] and ba2[0] == b[0]


def test_csv_design_table_is_read(tmp_path):
    """A csv design gives one design point per row of the table, with its values."""
    (tmp_path / "points.csv").write_text("commissioners.monitoring_rate,providers.sme_vso.count\n0.1,4\n0.3,6\n")
    path = _write(
        tmp_path,
        """\
        base: baseline
        set: {horizon_steps: 2}
        design: {kind: csv, file: points.csv}
        """,
    )
    exp = load_experiment(path)
    table = design_table(exp)
    assert table["providers.sme_vso.count"].tolist() == [4, 6] and len(plan(exp)) == 2


def test_errors_name_file_line_and_key_path(tmp_path):
    """A bad experiment file fails with FILE:LINE: key.path: message for each problem."""
    path = _write(
        tmp_path,
        """\
        base: baseline
        factors:
          commissioners.monitoring_rate: {low: 0.3, high: 0.1}
        desing: {}
        replicates: 0
        """,
    )
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    lines = [str(e) for e in info.value.errors]
    assert lines[0] == f"{path}:3: factors.commissioners.monitoring_rate: low must be below high, got low=0.3, high=0.1"
    assert f"{path}:4: desing: unknown key 'desing' (did you mean 'design'?)" in lines
    assert f"{path}:5: replicates: must be >= 1, got 0" in lines


def test_a_factor_that_is_not_a_scenario_setting_is_one_line_naming_it(tmp_path):
    """A factor path the scenario does not have fails at load, naming the factor and its line."""
    path = _write(tmp_path, "base: baseline\nfactors:\n  commissioners.sv_wieght: [0.1]\n")
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:3: factors.commissioners.sv_wieght: factor 'commissioners.sv_wieght'")
    assert "did you mean 'sv_weight'" in msg and "\n" not in msg


def test_detection_and_schema(tmp_path):
    """Experiment files are told from scenarios by kind/factors/design, and the schema describes them."""
    assert is_experiment_file(_write(tmp_path, "factors: {}\n"))
    assert is_experiment_file(_write(tmp_path, "kind: experiment\n", "b.yaml"))
    assert not is_experiment_file(_write(tmp_path, "horizon_steps: 3\n", "c.yaml"))
    schema = experiment_json_schema()
    assert schema["title"] == "safsim experiment" and "factors" in schema["properties"]


@pytest.mark.parametrize(
    "name,points,runs", [("policy_grid", 8, 80), ("sv_capacity_lhs", 32, 96), ("sobol_saltelli", 128, 256)]
)
def test_example_experiments_plan_as_their_comments_say(name, points, runs):
    """Each experiments/*.yaml example loads and plans the number of design points and runs its comments state."""
    exp = load_experiment(Path(__file__).resolve().parents[1] / "experiments" / f"{name}.yaml")
    assert len(design_table(exp)) == points and len(plan(exp)) == runs
