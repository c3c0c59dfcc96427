"""Distribution summaries of outcome tables (a low-level module: only numpy and pandas).

Objects:
    SUMMARY_COLUMNS: the columns of summary.csv.
    summarise(runs, outcomes): one row per outcome with mean, sd and quantiles.

``safsim.experiments`` imports these from here, so that it does not depend on
``safsim.analysis`` (which imports ``safsim.experiments``); ``safsim.analysis.summary``
re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["SUMMARY_COLUMNS", "summarise"]

SUMMARY_COLUMNS: tuple[str, ...] = (
    "outcome",
    "n",
    "mean",
    "sd",
    "p5",
    "p25",
    "median",
    "p75",
    "p95",
)


def summarise(runs: pd.DataFrame, outcomes: Iterable[str]) -> pd.DataFrame:
    """Summarise each outcome column of ``runs`` across replicates (NaNs are dropped)."""
    rows = []
    for name in outcomes:
        x = pd.to_numeric(runs[name], errors="coerce").to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            rows.append({"outcome": name, "n": 0} | {c: np.nan for c in SUMMARY_COLUMNS[2:]})
            continue
        q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
        rows.append(
            {
                "outcome": name,
                "n": int(x.size),
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)) if x.size > 1 else 0.0,
                "p5": q[0],
                "p25": q[1],
                "median": q[2],
                "p75": q[3],
                "p95": q[4],
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
