"""Golden file: the bundled baseline at a fixed seed gives exactly the recorded outcomes.

A failure means the model's behaviour changed.  If the change is intended, regenerate with
`python tests/golden/regenerate.py` and commit the new file with the change.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "golden" / "baseline.json"


def _regenerate_module():
    spec = importlib.util.spec_from_file_location("regenerate", GOLDEN.with_name("regenerate.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_baseline_matches_the_golden_file():
    """The baseline at the golden seed reproduces every recorded outcome (to 1e-9 relative)."""
    recorded = json.loads(GOLDEN.read_text())
    if recorded["numpy"].split(".")[:2] != np.__version__.split(".")[:2]:
        pytest.skip(f"golden file made with NumPy {recorded['numpy']}; regenerate for {np.__version__}")
    now = _regenerate_module().golden_outcomes()
    assert list(now) == list(recorded["outcomes"]), "outcome names changed"
    for name, value in recorded["outcomes"].items():
        if value is None:
            assert now[name] is None, name
        else:
            assert now[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
