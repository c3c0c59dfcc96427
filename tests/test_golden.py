"""Golden file: the bundled baseline at a fixed seed gives the recorded outcomes (to 1e-6 relative).

A failure means the model's behaviour changed (the tolerance absorbs floating-point differences
between NumPy versions; the recorded NumPy version is shown, not checked).  If the change is
intended, regenerate with `python tests/golden/regenerate.py` and commit the new file with the
change.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "golden" / "baseline.json"
REL = 1e-6  # relative tolerance: floating-point differences across NumPy versions, not model changes
ABS = 1e-12  # for outcomes recorded as (near) zero


def _regenerate_module():
    spec = importlib.util.spec_from_file_location("regenerate", GOLDEN.with_name("regenerate.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_baseline_matches_the_golden_file():
    """The baseline at the golden seed reproduces every recorded outcome to 1e-6 relative, on any supported NumPy."""
    recorded = json.loads(GOLDEN.read_text())
    # The NumPy version is information only: REL absorbs floating-point differences across versions.
    made_with = f"golden file made with NumPy {recorded['numpy']}, now NumPy {np.__version__}"
    now = _regenerate_module().golden_outcomes()
    assert list(now) == list(recorded["outcomes"]), "outcome names changed"
    for name, value in recorded["outcomes"].items():
        if value is None:
            assert now[name] is None, f"{name} ({made_with})"
        else:
            assert now[name] == pytest.approx(value, rel=REL, abs=ABS), f"{name} ({made_with})"
