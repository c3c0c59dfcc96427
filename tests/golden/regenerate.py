"""Regenerate the golden baseline file: run this only when a model change is intended.

    .venv/bin/python tests/golden/regenerate.py

It runs the bundled baseline at a fixed seed and writes tests/golden/baseline.json with every
outcome and, as information only, the NumPy version; tests/test_golden.py compares a fresh run
with it on any supported NumPy, to a relative tolerance of 1e-6 that absorbs floating-point
differences across versions (so a new NumPy is no reason to regenerate).  Commit the new file
together with the model change that explains it (and say so in the CHANGELOG).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from safsim import load_scenario, run_scenario

SEED = 20260101
PATH = Path(__file__).with_name("baseline.json")


def golden_outcomes() -> dict[str, float | None]:
    result = run_scenario(load_scenario("baseline"), SEED)
    return {k: (None if not np.isfinite(v) else float(v)) for k, v in result.outcomes.items()}


def main() -> None:
    payload = {"scenario": "baseline", "seed": SEED, "numpy": np.__version__, "outcomes": golden_outcomes()}
    PATH.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
