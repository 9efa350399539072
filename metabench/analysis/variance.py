"""Uncertainty of benchmark scores.

The intervals here treat the items of a benchmark as a sample from the population
of items the benchmark stands for: the uncertainty of a model's mean score is
item-sampling uncertainty.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from metabench.errors import InputError
from metabench.runs import Runs

__all__ = ["mean_interval", "score_intervals", "wilson_interval"]


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"confidence level must be in (0, 1), got {level}", fix="use e.g. 0.95")
    return level


def wilson_interval(successes: np.ndarray | float, n: np.ndarray | float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion, vectorised.

    Parameters
    ----------
    successes, n : array_like
        Number of successes and of trials (``n > 0``).
    level : float
        Confidence level.

    Returns
    -------
    low, high : numpy.ndarray

    Examples
    --------
    >>> lo, hi = wilson_interval(7, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.3968, 0.8922)
    """
    _check_level(level)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(n <= 0):
        raise InputError("Wilson interval needs n > 0 trials")
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def mean_interval(mean: np.ndarray | float, sd: np.ndarray | float, n: np.ndarray | float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval of a mean from its sample standard deviation (ddof=1), clipped to [0, 1].

    NaN where ``n < 2``.

    Examples
    --------
    >>> lo, hi = mean_interval(0.5, 0.2, 16)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.3934, 0.6066)
    """
    _check_level(level)
    m = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + level / 2, np.where(n >= 2, n - 1, np.nan))
        half = t * s / np.sqrt(n)
    return np.clip(m - half, 0, 1), np.clip(m + half, 0, 1)


def score_intervals(runs: Runs, level: float = 0.95) -> pl.DataFrame:
    """Mean score of every system on every benchmark with a confidence interval.

    Seeds are averaged per item first, so the interval reflects item sampling.
    Binary scores (every item 0 or 1) get a Wilson interval, which keeps its
    coverage for small n and for scores near 0 or 1; partial-credit or
    seed-averaged scores get a Student-t interval.

    Returns
    -------
    polars.DataFrame
        Columns ``system, benchmark, n_items, mean, sd, ci_low, ci_high, interval``.

    Examples
    --------
    >>> r = Runs({"model": ["a"] * 4, "benchmark": ["x"] * 4,
    ...           "item": list("1234"), "score": [1.0, 1.0, 0.0, 1.0]})
    >>> score_intervals(r).select("system", "n_items", "mean", "interval").rows()
    [('a', 4, 0.75, 'wilson')]
    """
    _check_level(level)
    df = runs.frame.with_columns(runs._system_expr().alias("system"))
    per_item = df.group_by("system", "benchmark", "item").agg(pl.col("score").mean())
    agg = (
        per_item.group_by("system", "benchmark")
        .agg(
            pl.len().alias("n_items"),
            pl.col("score").mean().alias("mean"),
            pl.col("score").std(ddof=1).alias("sd"),
            pl.col("score").sum().alias("_k"),
            ((pl.col("score") == 0) | (pl.col("score") == 1)).all().alias("_binary"),
        )
        .sort("benchmark", "system")
    )
    n = agg.get_column("n_items").to_numpy().astype(float)
    k = agg.get_column("_k").to_numpy()
    mean = agg.get_column("mean").to_numpy()
    sd = agg.get_column("sd").fill_null(np.nan).to_numpy()
    binary = agg.get_column("_binary").to_numpy()
    wl, wh = wilson_interval(k, n, level)
    tl, th = mean_interval(mean, sd, n, level)
    low = np.where(binary, wl, tl)
    high = np.where(binary, wh, th)
    kind = np.where(binary, "wilson", "t")
    return agg.drop("_k", "_binary").with_columns(
        pl.Series("ci_low", low), pl.Series("ci_high", high), pl.Series("interval", kind)
    )
