"""The one function boundary of the model: ``run_scenario(scenario, seed) -> RunResult``.

Objects:
    RunResult: final outcomes, time series and (optionally) the award log of one run.
    run_scenario: build a FieldModel from a Scenario and a seed, run it, collect outcomes.
    child_seeds: the per-run integer seeds spawned from a root seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from safsim.config import Scenario
from safsim.metrics import (
    ALL_OUTCOMES,
    AUTHORITY_COLUMNS,
    TIMESERIES_COLUMNS,
    authority_rows,
    run_outcomes,
)

__all__ = ["RunResult", "child_seeds", "run_scenario"]


@dataclass(frozen=True)
class RunResult:
    """What one run (scenario, seed) produces.

    Attributes:
        seed: the integer seed that reproduces this run alone.
        outcomes: final outcomes keyed by the names in ``metrics.ALL_OUTCOMES`` (the spec's
            ``RUN_OUTCOMES`` first, then ``EXTRA_OUTCOMES``).
        timeseries: one row per step, columns ``metrics.TIMESERIES_COLUMNS``.
        authorities: one row per commissioner at the end (``metrics.AUTHORITY_COLUMNS``).
        awards: the per-tender award log, or None unless requested.
        elapsed_s: wall-clock seconds the run took.
    """

    seed: int
    outcomes: dict[str, float]
    timeseries: pd.DataFrame
    authorities: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(AUTHORITY_COLUMNS)))
    awards: pd.DataFrame | None = None
    elapsed_s: float = 0.0
    scenario_name: str = field(default="")


def child_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds from ``SeedSequence(root_seed).spawn(n)``.

    Each child's first 63 bits are used so the seed fits a signed 64-bit column.
    """
    children = np.random.SeedSequence(int(root_seed)).spawn(int(n))
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def run_scenario(scenario: Scenario, seed: int, *, record_awards: bool = False) -> RunResult:
    """Run ``scenario`` once with the given integer ``seed``.

    Args:
        scenario: a validated Scenario (see ``load_scenario``).
        seed: the run's integer seed; the same seed gives the same result.
        record_awards: also return the per-tender award log (large).
    """
    from safsim.model import FieldModel  # imported here so that `import safsim` stays light

    t0 = time.perf_counter()
    model = FieldModel(scenario, seed=int(seed), record_awards=record_awards)
    model.run()
    outcomes = run_outcomes(model)
    ts = pd.DataFrame(model.timeseries_rows, columns=list(TIMESERIES_COLUMNS))
    authorities = pd.DataFrame(authority_rows(model), columns=list(AUTHORITY_COLUMNS))
    awards = pd.DataFrame(model.award_rows) if record_awards else None
    elapsed = time.perf_counter() - t0
    model.release()
    assert list(outcomes) == list(ALL_OUTCOMES)
    return RunResult(
        seed=int(seed),
        outcomes=outcomes,
        timeseries=ts,
        authorities=authorities,
        awards=awards,
        elapsed_s=elapsed,
        scenario_name=scenario.name,
    )
