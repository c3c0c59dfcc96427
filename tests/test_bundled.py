"""Smoke tests: every bundled scenario, experiment and notebook loads and runs briefly."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

from safsim.config import PROVIDER_KINDS, Scenario
from safsim.metrics import ALL_OUTCOMES, RUN_OUTCOMES
from safsim.runner import run_scenario
from safsim.scenario import bundled_scenarios_dir, list_bundled, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
REQUIRED = {"baseline", "austerity", "codesign", "high_sv_weight", "case_a", "case_b", "case_c"}
WINNERS = (*(k.value for k in PROVIDER_KINDS), "consortium")
# A thesis section (Th §4.3), a practitioner page (K<line>, S<line>) or a docs/ page.
CITATION = re.compile(r"\bTh (?:§\d|Abstract)|\b[KS]\d+\b|\bdocs/[\w./-]+")


def comment_block(text: str) -> str:
    """The comment lines a scenario file opens with."""
    lines = []
    for line in text.splitlines():
        if not line.lstrip().startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def winner_counts(s: Scenario) -> dict[str, int]:
    """Initial number of each winner kind; consortia are possible only with small VSOs and the policy on."""
    counts = {k.value: s.providers.of(k).count for k in PROVIDER_KINDS}
    counts["consortium"] = counts["sme_vso"] if s.policies.consortia else 0
    return counts


def test_required_scenarios_are_bundled():
    """The seven scenarios the spec names are bundled and found by name."""
    assert REQUIRED <= set(list_bundled())
    assert bundled_scenarios_dir().resolve() == (ROOT / "scenarios").resolve()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenario_cites_its_sources(path: Path):
    """Each bundled scenario opens with comments citing a T/K/S passage or a docs/ page and naming its assumptions."""
    block = comment_block(path.read_text())
    assert block, "a bundled scenario opens with a comment block"
    assert CITATION.search(block), "the comment block cites no thesis section (Th §N.N), K/S page or docs/ page"
    assert re.search(r"\bassumption", block, flags=re.I), "the comment block does not say which values are assumptions"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenario_runs(path: Path):
    """Each bundled scenario runs 8 steps; value shares are defined for every kind present and sum to 1."""
    s = load_scenario(path, ["horizon_steps=8"])
    r = run_scenario(s, 7)
    assert list(r.outcomes) == list(ALL_OUTCOMES)
    assert list(r.outcomes)[: len(RUN_OUTCOMES)] == list(RUN_OUTCOMES)
    assert len(r.timeseries) == 8
    shares = {k: r.outcomes[f"share_value_{k}"] for k in WINNERS}
    counts = winner_counts(s)
    undefined = [k for k, v in shares.items() if not np.isfinite(v) and counts[k] > 0]
    assert undefined == [], f"value share undefined (NaN) for kinds present in the scenario: {undefined}"
    assert sum(v for v in shares.values() if np.isfinite(v)) == pytest.approx(1.0)


def run_notebooks(folder: Path) -> list[Path]:
    """Execute every notebook in ``folder`` end to end (a failing cell raises); return those run."""
    notebooks = sorted(folder.glob("*.ipynb"))
    if notebooks:
        nbformat = pytest.importorskip("nbformat", reason="the notebooks extra is not installed")
        nbclient = pytest.importorskip("nbclient", reason="the notebooks extra is not installed")
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            nbclient.NotebookClient(
                nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": folder}}
            ).execute()
    return notebooks


def load_experiments(folder: Path) -> list[Path]:
    """Load every experiment file in ``folder`` through safsim's experiment loader; return those loaded."""
    experiments = sorted(folder.glob("*.yaml"))
    loader = getattr(importlib.import_module("safsim.experiments"), "load_experiment", None)
    if loader is None:
        assert experiments == [], (
            f"{[p.name for p in experiments]} cannot be smoke-tested: safsim.experiments needs an experiment "
            "loader (load_experiment) first"
        )
    for path in experiments:
        loader(path)
    return experiments


def test_every_notebook_runs():
    """Every notebooks/*.ipynb executes end to end without error."""
    run_notebooks(ROOT / "notebooks")


def test_every_experiment_loads():
    """Every experiments/*.yaml loads through the experiment loader (none may exist before there is one)."""
    load_experiments(ROOT / "experiments")


def test_notebooks_are_committed_without_outputs():
    """Every notebooks/*.ipynb is stored with its outputs stripped (no outputs, no execution counts)."""
    import nbformat

    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 3, "the policy, academic and teaching notebooks"
    for path in notebooks:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
