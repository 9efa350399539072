"""metabench: statistical meta-benchmarking of language-model evaluations.

>>> import metabench
>>> m = metabench.ResponseMatrix.from_array([[1, 0], [1, 1]])
>>> m.mean_scores().tolist()
[0.5, 1.0]
"""

from __future__ import annotations

from metabench._version import __version__
from metabench.errors import (
    ConvergenceError,
    InputError,
    MetabenchError,
    NotFittedError,
    Problem,
    UnknownFormatError,
    ValidationError,
)
from metabench.io import load, validate
from metabench.runs import Exclusion, ResponseMatrix, Runs, ScoreTable

__all__ = [
    "ConvergenceError",
    "Exclusion",
    "InputError",
    "MetabenchError",
    "NotFittedError",
    "Problem",
    "ResponseMatrix",
    "Runs",
    "ScoreTable",
    "UnknownFormatError",
    "ValidationError",
    "__version__",
    "analyze",
    "load",
    "validate",
]


def __getattr__(name: str) -> object:
    # analyze pulls in altair and the report renderers: import on first use only
    if name == "analyze":
        from metabench.pipeline import analyze

        return analyze
    raise AttributeError(f"module 'metabench' has no attribute {name!r}")
