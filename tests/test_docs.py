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


def test_odd_names_every_section_and_every_field_and_policies_key():
    """docs/ODD.md names every scenario section and every field.* and policies.* key; the reference lists every key."""
    from pydantic import BaseModel

    from safsim.config import FieldConfig, PoliciesConfig, Scenario

    ref = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert [p for p, *_ in reference_rows() if f"`{p}`" not in ref] == []
    # A key is named when it appears in inline code: `key`, `section.key`, inside a formula such
    # as `imitation_rate × (1 − imitation_inertia)`, or through a pattern such as `contention_w_*`.
    names, patterns = set(), []
    for span in re.findall(r"`([^`\n]+)`", (ROOT / "docs" / "ODD.md").read_text()):
        for word in re.findall(r"[A-Za-z_][\w.]*\*?", span):
            word = word.rstrip(".")
            if word.endswith("*"):
                patterns.append(word[:-1])
            else:
                names.add(word)

    def named(path: str) -> bool:
        key = path.rsplit(".", 1)[-1]
        return bool({key, path} & names) or any(p and (key.startswith(p) or path.startswith(p)) for p in patterns)

    def is_section(annotation: object) -> bool:
        inner = getattr(annotation, "__args__", (annotation,))[0]
        return isinstance(inner, type) and issubclass(inner, BaseModel)

    sections = [k for k, f in Scenario.model_fields.items() if is_section(f.annotation)]
    assert sections == ["field", "commissioners", "authorities", "providers", "policies", "behaviour", "shocks"]
    keys = [f"field.{k}" for k in FieldConfig.model_fields] + [f"policies.{k}" for k in PoliciesConfig.model_fields]
    missing = [path for path in sections + keys if not named(path)]
    assert missing == [], f"docs/ODD.md does not name these scenario keys (in backticks): {missing}"


def test_ci_runs_the_readme_test_command():
    """.ci/run runs exactly the README's test command."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^(python3 -m venv .*pytest.*)$", readme, flags=re.M)
    assert commands, "README has no test command"
    assert commands[0] in ci.splitlines()


def test_outputs_doc_is_generated_from_the_code():
    """docs/outputs.md equals what `python -m safsim.output` generates now."""
    from safsim.output import OUTPUTS_DOC_COMMAND, render_outputs_doc

    committed = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert committed == render_outputs_doc(), f"regenerate: {OUTPUTS_DOC_COMMAND}"


def test_outputs_doc_describes_every_file_plot_and_manifest_key():
    """Every file, plot, summary column and manifest key written has a description."""
    from safsim import output
    from safsim.experiments.replicates import Results
    from safsim.outcomes import OUTCOMES
    from safsim.plotting import STANDARD_PLOTS

    assert list(output.FILE_DESCRIPTIONS) == list(output.OUTPUT_FILES)
    assert list(output.PLOT_DESCRIPTIONS) == list(STANDARD_PLOTS)
    assert list(output.SUMMARY_COLUMN_DESCRIPTIONS) == list(output.SUMMARY_FILE_COLUMNS)
    assert set(output.EMPTY_WHEN) <= set(OUTCOMES)
    import pandas as pd

    from safsim.config import Scenario

    empty = Results(
        scenario=Scenario(), root_seed=1, runs=pd.DataFrame(), timeseries=pd.DataFrame(), elapsed_s=(), workers=1
    )
    keys = set(output.build_manifest(empty, argv=None, scenario_source=None, extra={"run_seed": 1}))
    assert keys == set(output.MANIFEST_DESCRIPTIONS)


def test_every_outcome_that_can_be_empty_says_when():
    """Each outcome left empty in a short real run is explained in docs/outputs.md (EMPTY_WHEN)."""
    from safsim.experiments.replicates import run_replicates
    from safsim.output import EMPTY_WHEN
    from safsim.scenario import load_scenario

    runs = run_replicates(load_scenario("baseline", ["horizon_steps=8"]), 2, seed=3).runs
    empty = {c for c in runs.columns if runs[c].isna().any()}
    assert empty <= set(EMPTY_WHEN)


def test_readme_lists_every_output_file_and_the_test_time():
    """The README's table of outputs names every file written, and it says how long tests take."""
    from safsim.output import OUTPUT_FILES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in OUTPUT_FILES:
        assert f"| `{name}` |" in readme, name
    assert 'pytest -m "not slow"' in readme
    assert re.search(r"about \d+(-\d+)? minutes", readme)


def test_relative_links_in_the_docs_resolve():
    """Every relative Markdown link in README.md, CHANGELOG.md and docs/*.md names a file that exists."""
    files = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for path in files:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == []
