"""Statistical analyses of runs: intervals, significance, agreement, subsets, contamination."""

from __future__ import annotations

from metabench.analysis.registry import AnalysisContext, available, register
from metabench.analysis.variance import mean_interval, score_intervals, wilson_interval

__all__ = ["AnalysisContext", "available", "mean_interval", "register", "score_intervals", "wilson_interval"]
