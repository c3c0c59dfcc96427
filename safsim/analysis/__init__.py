"""Analysis of result tables: summaries (and later comparisons, sensitivity, validation)."""
