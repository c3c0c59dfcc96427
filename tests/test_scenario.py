"""Tests of safsim.scenario: loading, merging, overrides and one-line errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
import strategies as sst
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safsim.config import Beta, Choice, Scenario, Uniform
from safsim.scenario import (
    MAX_FILE_BYTES,
    ScenarioError,
    apply_overrides,
    bundled_scenarios_dir,
    dump_scenario,
    list_bundled,
    load_scenario,
    resolve_scenario,
    scenario_json_schema,
)

JUNK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _error(source: Any, overrides: Any = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    err = info.value
    text = str(err)
    assert len(text.splitlines()) == 1, text
    assert "Value error" not in text and "pydantic" not in text, text
    return err


def _file_error(write_yaml: Any, text: str, name: str = "s.yaml") -> tuple[ScenarioError, Path]:
    path = write_yaml(name, text)
    err = _error(path)
    assert err.file == str(path)
    assert str(err).startswith(str(path))
    return err, path


def _expect(err: ScenarioError, path: str, line: int | None, *words: str) -> None:
    text = str(err)
    assert err.path == path, text
    assert err.line == line, text
    if line is not None:
        assert f":{line}: " in text, text
    if path:
        assert f": {path}: " in text, text
    for w in words:
        assert w in text, text


# --------------------------------------------------------------------------------------
# The error object
# --------------------------------------------------------------------------------------


def test_error_str_is_file_line_path_message() -> None:
    """str(ScenarioError) is FILE:LINE: PATH: MESSAGE, leaving out unknown parts."""
    assert str(ScenarioError("bad", file="a.yaml", path="x.y", line=3)) == "a.yaml:3: x.y: bad"
    assert str(ScenarioError("bad", file="a.yaml", path="x.y")) == "a.yaml: x.y: bad"
    assert str(ScenarioError("bad", file="a.yaml")) == "a.yaml: bad"
    assert str(ScenarioError("bad")) == "bad"


def test_error_message_never_spans_lines() -> None:
    """Newlines in any part of an error are flattened to spaces."""
    err = ScenarioError("a\nb\u2028c", file="f\n.yaml", path="p\r\nq", line=1)
    assert len(str(err).splitlines()) == 1


def test_error_pickles() -> None:
    """A ScenarioError survives pickling (it crosses process boundaries in sweeps)."""
    err = ScenarioError("bad", file="a.yaml", path="x", line=2)
    back = pickle.loads(pickle.dumps(err))
    assert (back.file, back.path, back.line, back.message) == ("a.yaml", "x", 2, "bad")


def test_mapping_errors_name_mapping() -> None:
    """Errors in a mapping source are reported against <mapping>."""
    err = _error({"commissioners": {"sv_weight": 1.5}})
    assert str(err).startswith("<mapping>: commissioners.sv_weight: must be between 0 and 1")


# --------------------------------------------------------------------------------------
# Validation errors: path, line and plain words
# --------------------------------------------------------------------------------------


def test_unknown_key_did_you_mean(write_yaml: Any) -> None:
    """An unknown key names its path and line and suggests the closest field."""
    err, _ = _file_error(write_yaml, "horizon_steps: 20\ncommissioners:\n  sv_wieght: 0.1\n")
    _expect(err, "commissioners.sv_wieght", 3, "unknown key 'sv_wieght'", "did you mean 'sv_weight'?")


def test_unknown_top_level_key(write_yaml: Any) -> None:
    """An unknown top-level key is reported with a suggestion."""
    err, _ = _file_error(write_yaml, "# header\n\nhorizon_step: 20\n")
    _expect(err, "horizon_step", 3, "did you mean 'horizon_steps'?")


def test_unknown_key_in_distribution(write_yaml: Any) -> None:
    """An unknown key inside a distribution is named with the distribution's fields."""
    text = "commissioners:\n  social_skill:\n    dist: beta\n    a: 2\n    bb: 3\n"
    err, _ = _file_error(write_yaml, text)
    _expect(err, "commissioners.social_skill.bb", 5, "unknown key 'bb'", "did you mean 'b'?")


def test_wrong_type_plain_number(write_yaml: Any) -> None:
    """A string where a number is expected reads 'expected a number'."""
    err, _ = _file_error(write_yaml, "commissioners:\n  max_lot_gbp: high\n")
    _expect(err, "commissioners.max_lot_gbp", 2, "expected a number, got 'high'")


def test_wrong_type_param(write_yaml: Any) -> None:
    """A string where a number or distribution is expected names both options."""
    err, _ = _file_error(write_yaml, "commissioners:\n  sv_weight: abc\n")
    _expect(
        err,
        "commissioners.sv_weight",
        2,
        "expected a number or a distribution ({dist: beta|uniform|normal|lognormal|choice",
        "got 'abc'",
    )


def test_wrong_type_integer(write_yaml: Any) -> None:
    """A fractional value for an integer field reads 'expected a whole number'."""
    err, _ = _file_error(write_yaml, "horizon_steps: 2.5\n")
    _expect(err, "horizon_steps", 1, "expected a whole number, got 2.5")


def test_out_of_range(write_yaml: Any) -> None:
    """A validator's range message is kept, its field moved into the path."""
    err, _ = _file_error(write_yaml, "commissioners:\n  price_weight: 0.5\n  sv_weight: 1.5\n")
    _expect(err, "commissioners.sv_weight", 3, "must be between 0 and 1, got 1.5")
    assert err.message == "must be between 0 and 1, got 1.5"


def test_field_constraint(write_yaml: Any) -> None:
    """A field constraint reads like 'must be >= 1, got 0'."""
    err, _ = _file_error(write_yaml, "field:\n  n_authorities: 0\n")
    _expect(err, "field.n_authorities", 2, "must be >= 1, got 0")


def test_negative_money(write_yaml: Any) -> None:
    """Negative money reads 'must be >= 0'."""
    err, _ = _file_error(write_yaml, "commissioners:\n  annual_budget_gbp: -5\n")
    _expect(err, "commissioners.annual_budget_gbp", 2, "must be >= 0, got -5")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_inf_refused(write_yaml: Any, value: str) -> None:
    """NaN and infinities read 'must be a finite number'."""
    err, _ = _file_error(write_yaml, f"commissioners:\n  sv_weight: {value}\n")
    _expect(err, "commissioners.sv_weight", 2, "must be a finite number")
    err, _ = _file_error(write_yaml, f"field:\n  initial_trust: {value}\n", "t.yaml")
    _expect(err, "field.initial_trust", 2, "must be a finite number")


def test_unknown_enum_lists_allowed(write_yaml: Any) -> None:
    """An unknown option lists the allowed values."""
    err, _ = _file_error(write_yaml, "commissioners:\n  engagement: lots\n")
    _expect(
        err,
        "commissioners.engagement",
        2,
        "must be one of none, consultation, co_design, co_production",
        "'lots'",
    )


def test_weights_must_sum_to_one(write_yaml: Any) -> None:
    """Award weights that do not sum to 1 are reported at the commissioners block."""
    err, _ = _file_error(write_yaml, "seed: 1\ncommissioners:\n  sv_weight: 0.2\n")
    _expect(err, "commissioners", 2, "must sum to 1")


def test_shock_list_item_path_and_line(write_yaml: Any) -> None:
    """An error in a list item names the index and the field's line."""
    text = (
        "shocks:\n"
        "  - kind: austerity\n"
        "    at_step: 2\n"
        "    budget_cut: 0.2\n"
        "  - kind: guidance\n"
        "    at_step: 3\n"
        "    budget_cut: 0.1\n"
    )
    err, _ = _file_error(write_yaml, text)
    _expect(err, "shocks[1].budget_cut", 7, "does not apply to a guidance shock")


def test_grant_shift_fields_belong_to_their_kind(write_yaml: Any) -> None:
    """grant_cut is a grants_to_contracts field, budget_cut an austerity one: each is refused on the other."""
    text = "shocks:\n  - kind: grants_to_contracts\n    at_step: 0\n    budget_cut: 0.2\n"
    err, _ = _file_error(write_yaml, text)
    _expect(err, "shocks[0].budget_cut", 4, "does not apply to a grants_to_contracts shock")
    text = "shocks:\n  - kind: austerity\n    at_step: 0\n    budget_cut: 0.2\n    grant_cut: 1\n"
    err, _ = _file_error(write_yaml, text)
    _expect(err, "shocks[0].grant_cut", 5, "does not apply to a austerity shock")
    err, _ = _file_error(write_yaml, "shocks:\n  - {kind: grants_to_contracts, at_step: 0, grant_cut: 1.5}\n")
    _expect(err, "shocks[0].grant_cut", 2, "1")


def test_shock_missing_field(write_yaml: Any) -> None:
    """A missing required key is reported at its mapping's line."""
    err, _ = _file_error(write_yaml, "shocks:\n  - kind: guidance\n")
    _expect(err, "shocks[0]", 2, "missing required key 'at_step'")


def test_shock_bad_kind(write_yaml: Any) -> None:
    """An unknown shock kind lists the kinds."""
    err, _ = _file_error(write_yaml, "shocks:\n  - {kind: boom, at_step: 1}\n")
    _expect(err, "shocks[0].kind", 2, "austerity", "'boom'")


def test_distribution_parameter_error(write_yaml: Any) -> None:
    """An error inside a distribution names the parameter's path and line."""
    text = "commissioners:\n  sv_understanding:\n    dist: beta\n    a: -1\n    b: 2\n"
    err, _ = _file_error(write_yaml, text)
    _expect(err, "commissioners.sv_understanding.a", 4, "must be > 0, got -1")


def test_unknown_distribution(write_yaml: Any) -> None:
    """An unknown distribution name lists the known ones."""
    err, _ = _file_error(write_yaml, "commissioners:\n  social_skill: {dist: gamma, k: 1}\n")
    _expect(err, "commissioners.social_skill.dist", 2, "unknown distribution 'gamma'", "lognormal")


def test_distribution_out_of_bounds(write_yaml: Any) -> None:
    """A distribution that can leave [0, 1] for a share says so."""
    text = "commissioners:\n  sv_understanding: {dist: uniform, low: 0, high: 2}\n"
    err, _ = _file_error(write_yaml, text)
    _expect(err, "commissioners.sv_understanding", 2, "outside [0, 1]")


def test_authority_override_error(write_yaml: Any) -> None:
    """A cross-field error in authorities names the entry."""
    text = "field:\n  n_authorities: 2\nauthorities:\n  - name: x\n  - sv_weight: 0.5\n"
    err, _ = _file_error(write_yaml, text)
    _expect(err, "authorities[1]", 5, "must sum to 1")


def test_wrong_container_type(write_yaml: Any) -> None:
    """A scalar where a mapping or list is expected says what was expected."""
    err, _ = _file_error(write_yaml, "field: 3\n")
    _expect(err, "field", 1, "expected a mapping of keys, got 3")
    err, _ = _file_error(write_yaml, "shocks: 5\n", "t.yaml")
    _expect(err, "shocks", 1, "expected a list, got 5")


# --------------------------------------------------------------------------------------
# File-level errors
# --------------------------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    """A missing file that is not a bundled name says so and lists the bundled names."""
    err = _error(tmp_path / "nope.yaml")
    assert "no such scenario file or bundled scenario" in str(err)
    assert "nope.yaml" in str(err)
    assert "(bundled: " in str(err)


def test_directory_refused(tmp_path: Path) -> None:
    """A directory is not a scenario file."""
    err = _error(tmp_path)
    assert err.file == str(tmp_path)
    assert "directory" in err.message


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n", "~\n", "---\n"])
def test_empty_file(write_yaml: Any, text: str) -> None:
    """A file with no content is an 'empty scenario file'."""
    err, _ = _file_error(write_yaml, text)
    assert err.message == "empty scenario file"


def test_yaml_syntax_error_line(write_yaml: Any) -> None:
    """A YAML syntax error names the line of the problem."""
    err, _ = _file_error(write_yaml, "seed: 1\ncommissioners:\n  sv_weight: [0.1\n  x: 2\n")
    assert err.line == 4
    assert "YAML syntax error" in err.message


def test_yaml_bad_indentation(write_yaml: Any) -> None:
    """Bad indentation is a syntax error with a line."""
    err, _ = _file_error(write_yaml, "commissioners:\n  sv_weight: 0.1\n price_weight: 0.5\n")
    assert err.line == 3


def test_top_level_not_mapping(write_yaml: Any) -> None:
    """A document that is a list is refused in plain words."""
    err, _ = _file_error(write_yaml, "- 1\n- 2\n")
    assert err.message == "the top level must be a mapping of keys, got a list"
    err, _ = _file_error(write_yaml, "hello\n", "t.yaml")
    assert "the top level must be a mapping of keys" in err.message


def test_multiple_documents(write_yaml: Any) -> None:
    """A second YAML document is refused at its line."""
    err, _ = _file_error(write_yaml, "seed: 1\n---\nseed: 2\n")
    assert err.line == 2
    assert "one YAML document" in err.message


def test_not_utf8(tmp_path: Path) -> None:
    """A file that is not UTF-8 is refused with the line of the bad byte."""
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"seed: 1\nname: caf\xe9\n")
    err = _error(path)
    assert err.file == str(path)
    assert err.line == 2
    assert "UTF-8" in err.message


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark is accepted."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfseed: 7\n")
    assert load_scenario(path).seed == 7


def test_oversize_file_refused(tmp_path: Path) -> None:
    """A file over 1 MiB is refused before parsing."""
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_FILE_BYTES + "\nseed: 1\n")
    err = _error(path)
    assert err.file == str(path)
    assert "larger than 1 MiB" in err.message


def test_alias_bomb_fails(write_yaml: Any) -> None:
    """A billion-laughs alias bomb fails with a ScenarioError (bounded work, no expansion)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    err, _ = _file_error(write_yaml, "\n".join(lines) + "\n")
    assert "refusing" in err.message


def test_too_many_aliases(write_yaml: Any) -> None:
    """More than 100 aliases are refused at the line of the 101st."""
    lines = ["base: &b 1"] + [f"k{i}: *b" for i in range(101)]
    err, _ = _file_error(write_yaml, "\n".join(lines) + "\n")
    assert err.line == 102
    assert "aliases" in err.message


def test_few_aliases_allowed(write_yaml: Any) -> None:
    """A handful of anchors and aliases work as YAML intends."""
    text = "commissioners:\n  social_skill: &skill {dist: beta, a: 3, b: 3}\n  political_commitment: *skill\n"
    s = load_scenario(write_yaml("s.yaml", text))
    assert s.commissioners.political_commitment == s.commissioners.social_skill


def test_recursive_alias_refused(write_yaml: Any) -> None:
    """A value that contains itself is refused."""
    err, _ = _file_error(write_yaml, "x: &a [1, *a]\n")
    assert "contains itself" in err.message


def test_deep_nesting_refused(write_yaml: Any) -> None:
    """Nesting deeper than 50 levels is refused."""
    err, _ = _file_error(write_yaml, "x: " + "[" * 60 + "]" * 60 + "\n")
    assert "deeper than 50" in err.message
    err = _error({"x": _nest(60)})
    assert "deeper than 50" in err.message


def _nest(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = [value]
    return value


def test_keys_must_be_text(write_yaml: Any) -> None:
    """Non-text mapping keys are refused with their line."""
    err, _ = _file_error(write_yaml, "seed: 1\n2: x\n")
    _expect(err, "", 2, "mapping keys must be text, got 2")
    err = _error({"commissioners": {1: 2}})
    assert "mapping keys must be text" in err.message


def test_duplicate_keys_refused(write_yaml: Any) -> None:
    """A key given twice in one mapping is refused at the second."""
    err, _ = _file_error(write_yaml, "seed: 1\nhorizon_steps: 3\nseed: 2\n")
    _expect(err, "", 3, "duplicate key 'seed' (first given at line 1)")


def test_unsafe_tags_refused(write_yaml: Any) -> None:
    """Python object tags are refused (SafeLoader only)."""
    err, _ = _file_error(write_yaml, "seed: !!python/object/apply:os.system ['true']\n")
    assert err.line == 1
    assert "constructor" in err.message


def test_bad_scalar_value(write_yaml: Any) -> None:
    """A scalar YAML cannot build (an impossible date) is a clean error with its line."""
    err, _ = _file_error(write_yaml, "seed: 1\ndescription: 2020-13-45\n")
    assert err.line == 2


# --------------------------------------------------------------------------------------
# Merging onto defaults
# --------------------------------------------------------------------------------------


def test_partial_provider_kind_keeps_defaults(write_yaml: Any) -> None:
    """Setting one key of a provider kind keeps every other default of that kind."""
    s = load_scenario(write_yaml("s.yaml", "providers: {sme_vso: {count: 30}}\n"))
    default = Scenario().providers
    assert s.providers.sme_vso.count == 30
    assert s.providers.sme_vso.model_copy(update={"count": 50}) == default.sme_vso
    assert s.providers.corporate == default.corporate


def test_distribution_replaces_wholesale() -> None:
    """A mapping with 'dist' replaces the old value, it does not merge into it."""
    s = load_scenario({"commissioners": {"sv_understanding": {"dist": "uniform", "low": 0.1, "high": 0.4}}})
    assert s.commissioners.sv_understanding == Uniform(dist="uniform", low=0.1, high=0.4)


def test_mapping_without_dist_tunes_default_distribution() -> None:
    """A mapping without 'dist' merges into the default distribution's parameters."""
    s = load_scenario({"commissioners": {"sv_understanding": {"a": 5}}})
    assert s.commissioners.sv_understanding == Beta(dist="beta", a=5.0, b=3.0)


def test_number_replaces_distribution_and_back() -> None:
    """A number replaces a default distribution and a distribution replaces a number."""
    s = load_scenario(
        {
            "commissioners": {
                "social_skill": 0.4,
                "monitoring_rate": {"dist": "choice", "values": [0.1, 0.2]},
            }
        }
    )
    assert s.commissioners.social_skill == 0.4
    assert isinstance(s.commissioners.monitoring_rate, Choice)


def test_name_defaults_to_file_stem(write_yaml: Any) -> None:
    """A file without name: is named after its stem; name: wins when given."""
    assert load_scenario(write_yaml("my_arm.yaml", "seed: 3\n")).name == "my_arm"
    assert load_scenario(write_yaml("x.yaml", "name: chosen\n")).name == "chosen"
    assert load_scenario({"seed": 3}).name == "unnamed"


def test_source_type_refused() -> None:
    """A source that is neither path, name nor mapping is a ScenarioError."""
    err = _error(42)
    assert "scenario source" in err.message


# --------------------------------------------------------------------------------------
# extends
# --------------------------------------------------------------------------------------


def test_extends_override_wins(write_yaml: Any) -> None:
    """The extending file's keys override the base's; the rest is inherited."""
    write_yaml("base.yaml", "name: base\nseed: 5\nhorizon_steps: 12\ncommissioners:\n  sv_weight: 0.05\n")
    s = load_scenario(write_yaml("child.yaml", "extends: base.yaml\nhorizon_steps: 20\n"))
    assert (s.seed, s.horizon_steps, s.name) == (5, 20, "child")


def test_extends_relative_to_file(tmp_path: Path) -> None:
    """extends: is resolved relative to the extending file, not the working directory."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "base.yaml").write_text("seed: 9\n")
    (tmp_path / "sub" / "mid.yaml").write_text("extends: ../base.yaml\nreplicates: 4\n")
    (tmp_path / "sub" / "top.yaml").write_text("extends: mid.yaml\nhorizon_steps: 8\n")
    s = load_scenario(tmp_path / "sub" / "top.yaml")
    assert (s.seed, s.replicates, s.horizon_steps) == (9, 4, 8)


def test_extends_lists_replace(write_yaml: Any) -> None:
    """A list in the extending file replaces the base's list."""
    write_yaml(
        "base.yaml",
        "shocks:\n  - {kind: guidance, at_step: 1}\n  - {kind: guidance, at_step: 2}\n",
    )
    s = load_scenario(write_yaml("c.yaml", "extends: base.yaml\nshocks:\n  - {kind: political_crisis, at_step: 4}\n"))
    assert [x.at_step for x in s.shocks] == [4]


def test_extends_cycle_detected(write_yaml: Any) -> None:
    """A cycle of extends: fails cleanly, naming the files."""
    write_yaml("a.yaml", "extends: b.yaml\n")
    write_yaml("b.yaml", "seed: 1\nextends: a.yaml\n")
    err = _error(write_yaml("a.yaml", "extends: b.yaml\n"))
    text = str(err)
    assert "circular extends" in text and "a.yaml" in text and "b.yaml" in text
    assert err.path == "extends"
    assert err.line == 2
    assert err.file is not None and err.file.endswith("b.yaml")


def test_extends_self_cycle(write_yaml: Any) -> None:
    """A file that extends itself is a cycle."""
    err = _error(write_yaml("a.yaml", "extends: a.yaml\n"))
    assert "circular extends" in err.message


def test_extends_missing_base(write_yaml: Any) -> None:
    """A missing base is reported at the extends: line."""
    err = _error(write_yaml("a.yaml", "seed: 1\nextends: nowhere.yaml\n"))
    _expect(err, "extends", 2, "no such scenario file or bundled scenario 'nowhere.yaml'")


def test_extends_not_text(write_yaml: Any) -> None:
    """extends: must be a name."""
    err = _error(write_yaml("a.yaml", "extends: [x]\n"))
    _expect(err, "extends", 1, "must name a scenario file")


def test_error_in_base_reported_against_base(write_yaml: Any) -> None:
    """An invalid value inherited from a base names the base file and its line."""
    base = write_yaml("base.yaml", "seed: 1\nfield:\n  initial_trust: 3\n")
    err = _error(write_yaml("c.yaml", "extends: base.yaml\nseed: 2\n"))
    assert err.file == str(base)
    _expect(err, "field.initial_trust", 3)


def test_extends_in_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping source may extend a file (relative to the working directory)."""
    (tmp_path / "base.yaml").write_text("seed: 11\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario({"extends": "base.yaml", "replicates": 2}).seed == 11


# --------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------


def test_set_number_and_bool() -> None:
    """--set values are read as YAML: numbers and booleans."""
    s = load_scenario(
        {},
        [
            "commissioners.sv_weight=0.1",
            "commissioners.price_weight=0.55",
            "policies.consortia=false",
        ],
    )
    assert s.commissioners.sv_weight == 0.1
    assert s.policies.consortia is False


def test_set_distribution() -> None:
    """--set accepts a flow-style distribution, which replaces the old value."""
    s = load_scenario({}, ["commissioners.sv_understanding={dist: beta, a: 2, b: 5}"])
    assert s.commissioners.sv_understanding == Beta(dist="beta", a=2.0, b=5.0)


def test_set_list_index_both_syntaxes() -> None:
    """List items are addressed as shocks[0].x or authorities.0.x."""
    src = {
        "shocks": [{"kind": "austerity", "at_step": 1, "budget_cut": 0.1}],
        "authorities": [{"name": "a"}],
    }
    s = load_scenario(src, ["shocks[0].budget_cut=0.3", "authorities.0.sv_weight=0.05"])
    assert s.shocks[0].budget_cut == 0.3
    assert s.authorities[0].sv_weight == 0.05


def test_set_appends_at_end_of_list() -> None:
    """Index len(list) appends a new item."""
    s = load_scenario({}, ["shocks[0]={kind: guidance, at_step: 2}"])
    assert s.shocks[0].at_step == 2


def test_set_mapping_overrides() -> None:
    """Overrides may be a dict of dotted paths to values (used as given)."""
    s = load_scenario({}, {"field.n_authorities": 7, "providers.corporate.count": 0})
    assert s.field.n_authorities == 7
    assert s.providers.corporate.count == 0
    assert s.providers.corporate.quality == Scenario().providers.corporate.quality


def test_set_overrides_file_value(write_yaml: Any) -> None:
    """An override beats the file's value."""
    s = load_scenario(write_yaml("s.yaml", "seed: 1\n"), ["seed=2"])
    assert s.seed == 2


def test_set_unknown_path() -> None:
    """An override to an unknown key fails like an unknown key, naming --set."""
    err = _error({}, ["commissioners.sv_wieght=0.1"])
    assert str(err) == (
        "--set commissioners.sv_wieght=0.1: commissioners.sv_wieght: unknown key 'sv_wieght' (did you mean 'sv_weight'?)"
    )


def test_set_invalid_value_names_set(write_yaml: Any) -> None:
    """An invalid override value is reported against --set, not the file."""
    err = _error(write_yaml("s.yaml", "seed: 1\n"), ["commissioners.sv_weight=2"])
    assert str(err) == "--set commissioners.sv_weight=2: commissioners.sv_weight: must be between 0 and 1, got 2"


def test_set_breaking_a_rule_of_its_mapping_names_the_set_argument(write_yaml: Any) -> None:
    """An override that breaks a rule of the whole mapping (weights sum to 1) is blamed on the
    --set argument, not on the line of the mapping in the base file."""
    path = write_yaml("s.yaml", "seed: 1\ncommissioners:\n  has_sv_policy: false\n")
    err = _error(path, ["commissioners.sv_weight=0.5"])
    assert err.file == "--set commissioners.sv_weight=0.5" and err.line is None
    assert str(err).startswith("--set commissioners.sv_weight=0.5: commissioners: ")
    assert "sum to 1" in str(err)


def test_every_problem_in_a_file_is_reported_in_file_order(write_yaml: Any) -> None:
    """ScenarioError.errors holds each problem once, each with its own line, in line order."""
    text = (
        "name: bad\n"
        "shocks:\n"
        "  - {kind: nope, at_step: 2}\n"
        "horizon_steps: -3\n"
        "providers:\n"
        "  sme_vso: {count: -1}\n"
        "replicates: 0\n"
    )
    err, path = _file_error(write_yaml, text)
    shown = [(e.path, e.line) for e in err.errors]
    assert shown == [("shocks[0].kind", 3), ("horizon_steps", 4), ("providers.sme_vso.count", 6), ("replicates", 7)]
    assert str(err) == str(err.errors[0])
    assert all(str(e).startswith(f"{path}:") for e in err.errors)


def test_text_or_a_boolean_for_a_number_does_not_hide_the_other_problems_of_its_section(write_yaml: Any) -> None:
    """A quoted number or a YAML boolean where a number belongs is reported with every other
    problem of the same section (it used to stop the section's checks at the first one)."""
    text = (
        "commissioners:\n"
        "  max_lot_gbp: high\n"
        "  sv_weight: true\n"
        "  sv_wieght: 0.1\n"
        "providers:\n"
        "  sme_vso: {count: '50'}\n"
    )
    err, _ = _file_error(write_yaml, text)
    shown = [(e.path, e.line, e.message) for e in err.errors]
    assert [(p, line) for p, line, _ in shown] == [
        ("commissioners.max_lot_gbp", 2),
        ("commissioners.sv_weight", 3),
        ("commissioners.sv_wieght", 4),
        ("providers.sme_vso.count", 6),
    ]
    assert shown[0][2] == "expected a number, got 'high'"
    assert shown[1][2].startswith("expected a number or a distribution") and shown[1][2].endswith("got true")
    assert "did you mean 'sv_weight'" in shown[2][2]
    assert shown[3][2] == "expected a number, got '50'"


def test_a_single_problem_is_its_own_list(write_yaml: Any) -> None:
    """With one problem, errors is [err]."""
    err, _ = _file_error(write_yaml, "horizon_steps: 0\n")
    assert err.errors == [err]


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("commissioners.sv_weight", "dotted.path=value"),
        ("=1", "dotted path"),
        ("a..b=1", "invalid override path"),
        ("shocks[3].kind=x", "index 3 out of range"),
        ("seed.x=1", "cannot set seed.x"),
        ("seed=[1", "cannot read the value"),
    ],
)
def test_set_malformed(override: str, words: str) -> None:
    """Malformed overrides fail cleanly, naming --set."""
    err = _error({}, [override])
    assert err.file == f"--set {override}"
    assert str(err).startswith(f"--set {override}: ")
    assert words in str(err)


def test_apply_overrides_makes_new_object() -> None:
    """apply_overrides returns a new scenario and leaves the original unchanged."""
    base = load_scenario({"name": "x"})
    new = apply_overrides(base, ["horizon_steps=7"])
    assert (base.horizon_steps, new.horizon_steps, new.name) == (40, 7, "x")


# --------------------------------------------------------------------------------------
# Bundled scenarios (lookup only; their content is tested elsewhere)
# --------------------------------------------------------------------------------------


def test_resolve_existing_path_wins(write_yaml: Any) -> None:
    """An existing path resolves to itself."""
    path = write_yaml("baseline.yaml", "seed: 1\n")
    assert resolve_scenario(path) == path


def test_resolve_unknown_name_lists_bundled() -> None:
    """An unknown name fails and lists the bundled stems."""
    with pytest.raises(ScenarioError) as info:
        resolve_scenario("no_such_scenario_xyz")
    names = ", ".join(list_bundled()) or "none"
    assert str(info.value) == (f"no such scenario file or bundled scenario 'no_such_scenario_xyz' (bundled: {names})")


def test_bundled_dir_is_beside_package() -> None:
    """The bundled folder is safsim/scenarios or the repository's scenarios/."""
    assert bundled_scenarios_dir().name == "scenarios"
    assert all(isinstance(n, str) and not n.endswith(".yaml") for n in list_bundled())


# --------------------------------------------------------------------------------------
# Schema and round trip
# --------------------------------------------------------------------------------------


def test_json_schema_allows_extends_and_partial_providers() -> None:
    """The schema has $schema and title, allows extends, and requires no provider keys."""
    schema = scenario_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "safsim scenario"
    assert schema["properties"]["extends"]["type"] == "string"
    assert "commissioners" in schema["properties"]
    assert "required" not in schema["$defs"]["ProviderKindConfig"]
    assert json.loads(json.dumps(schema)) == schema


def test_dump_defaults_round_trip(write_yaml: Any) -> None:
    """The default scenario dumps to YAML that loads back equal."""
    text = dump_scenario(Scenario())
    assert load_scenario(write_yaml("d.yaml", text)) == Scenario()


@given(sst.scenarios())
@settings(max_examples=60, deadline=None)
def test_round_trip(scenario: Scenario) -> None:
    """dump_scenario then loading the YAML gives an equal Scenario."""
    data = yaml.safe_load(dump_scenario(scenario))
    assert load_scenario(data) == scenario


@given(sst.scenarios())
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip_through_file(tmp_path_factory: pytest.TempPathFactory, scenario: Scenario) -> None:
    """A dumped scenario written to a file loads back equal."""
    path = tmp_path_factory.mktemp("rt") / "s.yaml"
    path.write_text(dump_scenario(scenario), encoding="utf-8")
    assert load_scenario(path) == scenario


# --------------------------------------------------------------------------------------
# Junk never crashes the loader
# --------------------------------------------------------------------------------------


def _load_or_clean_error(source: Any, overrides: Any = None) -> None:
    try:
        load_scenario(source, overrides)
    except ScenarioError as err:
        assert len(str(err).splitlines()) == 1, str(err)


@given(st.dictionaries(st.text(max_size=10), sst.junk_trees(), max_size=5))
@JUNK
def test_junk_mapping_raises_only_scenario_error(data: dict[str, Any]) -> None:
    """Random nested junk (nan and inf included) gives a Scenario or a one-line ScenarioError."""
    _load_or_clean_error(data)


@given(sst.scenario_shaped_junk())
@JUNK
def test_scenario_shaped_junk_raises_only_scenario_error(data: dict[str, Any]) -> None:
    """Junk under real field names gives a Scenario or a one-line ScenarioError."""
    _load_or_clean_error(data)


@given(st.lists(st.text(max_size=30), max_size=3))
@example(["²=1"])  # a Unicode digit as a path key (found by Hypothesis: str.isdigit is true, int() fails)
@example(["shocks[٣].at_step=1"])
@JUNK
def test_junk_overrides_raise_only_scenario_error(overrides: list[str]) -> None:
    """Random override strings give a Scenario or a one-line ScenarioError."""
    _load_or_clean_error({}, overrides)


@given(sst.junk_text)
@JUNK
def test_junk_text_file_raises_only_scenario_error(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Random text in a file gives a Scenario or a one-line ScenarioError."""
    path = tmp_path_factory.mktemp("junk") / "j.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load_or_clean_error(path)


@given(st.binary(max_size=300))
@JUNK
def test_junk_bytes_file_raises_only_scenario_error(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    """Random bytes in a file give a Scenario or a one-line ScenarioError."""
    path = tmp_path_factory.mktemp("junk") / "b.yaml"
    path.write_bytes(raw)
    _load_or_clean_error(path)


@given(sst.junk_trees())
@JUNK
def test_junk_dumped_as_yaml_raises_only_scenario_error(tmp_path_factory: pytest.TempPathFactory, tree: Any) -> None:
    """Junk trees written as YAML give a Scenario or a one-line ScenarioError."""
    path = tmp_path_factory.mktemp("junk") / "y.yaml"
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    _load_or_clean_error(path)


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ("horizon_steps=true", "horizon_steps"),
        ("commissioners.sv_weight=true", "commissioners.sv_weight"),
        ('seed="12"', "seed"),
        ("providers.corporate.count=yes", "providers.corporate.count"),
    ],
)
def test_booleans_and_quoted_text_are_not_numbers(override: str, path: str) -> None:
    """YAML booleans and quoted text where a number is expected are refused, not coerced."""
    with pytest.raises(ScenarioError) as info:
        load_scenario({}, [override])
    assert info.value.path == path
    assert "expected a number" in str(info.value)


SPEC_LEVERS: dict[str, object] = {
    "horizon_steps": 8,
    "seed": 7,
    "replicates": 3,
    "field.n_authorities": 4,
    "commissioners.annual_budget_gbp": 1e7,
    "commissioners.sv_understanding": 0.5,
    "commissioners.social_skill": 0.5,
    "commissioners.risk_aversion": 0.5,
    "commissioners.political_commitment": 0.5,
    "commissioners.engagement": "co_design",
    "commissioners.sv_definition": "commissioner_list",
    "commissioners.monitoring_rate": 0.5,
    "commissioners.max_lot_gbp": 500_000.0,
    "commissioners.grant_share": 0.1,
    "providers.sme_vso.count": 10,
    "providers.large_charity.count": 2,
    "providers.corporate.count": 3,
    "providers.social_enterprise.count": 4,
    "policies.consortia": False,
    "policies.reimburse_engagement": True,
    "policies.feedback_to_participants": True,
    "policies.exclude_codesign_participants": True,
    "policies.publish_sv_criteria": True,
    "policies.tender_window_weeks": 6.0,
}


@pytest.mark.parametrize(("path", "value"), list(SPEC_LEVERS.items()))
def test_every_spec_lever_path_exists(path: str, value: object) -> None:
    """Every lever path that spec section 5 requires can be set and is read back."""
    s = load_scenario({}, {path: value})
    node: Any = s
    for part in path.split("."):
        node = getattr(node, part)
    assert (node.value if hasattr(node, "value") else node) == value


def test_spec_weights_and_shock_kinds_exist() -> None:
    """The award weights and the spec's shock kinds with their fields load."""
    s = load_scenario(
        {},
        {
            "commissioners.price_weight": 0.5,
            "commissioners.quality_weight": 0.3,
            "commissioners.sv_weight": 0.2,
            "shocks": [
                {"kind": "austerity", "at_step": 2, "budget_cut": 0.2, "over_steps": 4},
                {"kind": "political_crisis", "at_step": 3},
                {"kind": "guidance", "at_step": 4},
                {"kind": "sva_strengthened", "at_step": 5},
            ],
            "authorities": [{"sv_weight": 0.1, "price_weight": 0.6, "quality_weight": 0.3}],
        },
    )
    assert [x.kind.value for x in s.shocks] == ["austerity", "political_crisis", "guidance", "sva_strengthened"]
    assert s.commissioners.sv_weight == 0.2 and s.authorities[0].sv_weight == 0.1


def test_a_lot_cap_that_would_create_too_many_tenders_is_refused():
    """A max_lot_gbp that splits the budget into more tenders a quarter than the model handles is a
    one-line scenario error naming the smallest workable cap; a cap of 10,000 is still accepted."""
    with pytest.raises(ScenarioError, match=r"commissioners.*tenders a quarter.*at least"):
        load_scenario("baseline", {"commissioners.max_lot_gbp": 1000.0})
    assert load_scenario("baseline", {"commissioners.max_lot_gbp": 10_000.0}).commissioners.max_lot_gbp == 10_000.0


def test_own_settings_are_what_a_file_sets_itself_and_layer_like_extends(tmp_path):
    """own_settings gives a file's own settings, not what it inherits, as dotted overrides: layered onto
    its parent they rebuild the file's scenario; layered onto another scenario they keep that scenario's
    own changes (austerity's shocks) and a distribution replaces wholesale."""
    from safsim.scenario import own_settings

    parent = tmp_path / "parent.yaml"
    parent.write_text("commissioners: {price_weight: 0.55, sv_weight: 0.1}\nhorizon_steps: 16\n")
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: parent.yaml\nname: child\ndescription: mine\ncommissioners: {grant_share: 0.05}\n"
        "providers: {sme_vso: {reserves_gbp: {dist: uniform, low: 1000, high: 2000}}}\n"
    )
    own = own_settings(child)
    assert own == {
        "commissioners.grant_share": 0.05,
        "providers.sme_vso.reserves_gbp": {"dist": "uniform", "low": 1000, "high": 2000},
    }
    rebuilt = load_scenario(parent, own).model_dump(exclude={"name", "description"})
    assert rebuilt == load_scenario(child).model_dump(exclude={"name", "description"})
    on_austerity = load_scenario("austerity", own)
    assert on_austerity.shocks == load_scenario("austerity").shocks
    assert on_austerity.commissioners.grant_share == 0.05
    assert on_austerity.commissioners.sv_weight == load_scenario("austerity").commissioners.sv_weight


def test_own_settings_of_a_bad_file_name_the_file_and_line(tmp_path):
    """A base that does not validate fails before anything is layered, naming its file, line and key."""
    from safsim.scenario import own_settings

    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: baseline\ncommissioners:\n  monitoring_rate: 7\n")
    with pytest.raises(ScenarioError) as err:
        own_settings(bad)
    assert "bad.yaml:3" in str(err.value) and "commissioners.monitoring_rate" in str(err.value)
