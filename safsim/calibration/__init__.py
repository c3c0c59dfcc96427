"""Calibration against external data: targets, the calibration set-up, history matching.

Modules:
    spec: the targets file and the set-up file (load_targets, load_setup), validated like scenarios.
    metrics: the model quantities targets are compared with (one value per run).
    points: parameter points as scenario overrides, and the checks of the priors.
    history: history matching over the priors (calibrate), the fit table (fit_table) that
        ``safsim validate --external`` also prints, and the calibrated scenario fragment.

The bundled files are ``safsim/data/targets.yaml`` (the observed figures, with sources) and
``safsim/data/calibration.yaml`` (experiments, priors, method); docs/calibration.md explains
the method and the result.
"""

from __future__ import annotations

from typing import Any

__all__ = ["calibrate", "fit_table", "load_setup", "load_targets"]


def __getattr__(name: str) -> Any:
    """The public functions, imported on first use (history imports the sweep runner)."""
    if name in ("load_setup", "load_targets"):
        from safsim.calibration import spec

        return getattr(spec, name)
    if name in ("calibrate", "fit_table"):
        from safsim.calibration import history

        return getattr(history, name)
    raise AttributeError(f"module 'safsim.calibration' has no attribute {name!r}")
