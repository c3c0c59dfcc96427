"""Documentation stays true: the scenario reference, the README commands and CI agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

from safsim.reference import reference_rows, render_reference

ROOT = Path(__file__).resolve().parent.parent


def test_scenario_reference_is_generated_from_the_code():
    """docs/scenario-reference.md equals what `python -m safsim.reference` generates now."""
    committed = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert committed == render_reference(), "regenerate: python -m safsim.reference > docs/scenario-reference.md"


def test_every_scenario_key_has_a_note():
    """Every key in the scenario reference says what it is or where its value comes from."""
    missing = [path for path, *_rest, note in reference_rows() if not note.strip()]
    assert missing == []


def test_every_scenario_key_is_in_the_odd():
    """Every scenario key path (sections and leaves) is named in docs/ODD.md or the reference."""
    odd = (ROOT / "docs" / "ODD.md").read_text()
    ref = (ROOT / "docs" / "scenario-reference.md").read_text()
    for path, *_ in reference_rows():
        assert f"`{path}`" in ref
    # The ODD names every section of the scenario tree.
    for section in (
        "field",
        "commissioners",
        "authorities",
        "providers",
        "policies",
        "behaviour",
        "shocks",
    ):
        assert f"`{section}" in odd, section


def test_ci_runs_the_readme_test_command():
    """.ci/run runs exactly the README's test command."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^(python3 -m venv .*pytest.*)$", readme, flags=re.M)
    assert commands, "README has no test command"
    assert commands[0] in ci.splitlines()
