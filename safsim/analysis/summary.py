"""Distribution summaries of outcome tables (re-exported from ``safsim.summary``).

Objects:
    SUMMARY_COLUMNS: the columns of summary.csv.
    summarise(runs, outcomes): one row per outcome with mean, sd and quantiles.

The implementation lives in the lower-level ``safsim.summary`` so that ``safsim.experiments``
can use it without importing ``safsim.analysis``; this module keeps the old import path.
"""

from __future__ import annotations

from safsim.summary import SUMMARY_COLUMNS, summarise

__all__ = ["SUMMARY_COLUMNS", "summarise"]
