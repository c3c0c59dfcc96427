"""Designs, replicates and execution backends: the only place that starts processes."""
