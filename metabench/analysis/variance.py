"""Uncertainty of benchmark scores.

The intervals here treat the items of a benchmark as a sample from the population
of items the benchmark stands for: the uncertainty of a model's mean score is
item-sampling uncertainty. Where items come in groups (subjects, passages, tasks
that share a prompt), scores within a group are correlated and the groups, not
the items, are the independent units: :func:`clustered_se` and the cluster
bootstrap account for that (Miller 2024, "Adding Error Bars to Evals").

Methods of :func:`interval` (``INTERVAL_METHODS``):

``clt``
    Mean ± t quantile × standard error, SE = sample SD (ddof=1) / sqrt(n), Student-t
    with n - 1 degrees of freedom (the normal quantile for large n).
``clustered``
    Mean ± t quantile × cluster-robust (sandwich) SE, t with G - 1 degrees of freedom
    for G clusters (see :func:`clustered_se`). The SE used is never below the
    independent-items SE: with few clusters the sandwich estimate is itself noisy and
    can fall far below it (it sees only the spread between cluster means), so the
    larger of the two is taken (the conservative rule of Angrist & Pischke 2009, §8.2).
``wilson``
    Wilson score interval of a proportion (binary scores).
``clopper_pearson``
    Exact Clopper–Pearson interval (binary scores); conservative.
``beta_binomial``
    Equal-tailed posterior interval of a Beta–Binomial model, Jeffreys prior
    Beta(1/2, 1/2) by default (binary scores).
``bootstrap_percentile``, ``bootstrap_bca``
    Percentile and bias-corrected and accelerated (BCa) bootstrap intervals of the
    mean; with clusters, whole clusters are resampled.

Seeds: :func:`seed_variance` splits the variance of a score over items × seeds into
the between-item part and the within-item (seed) part and says how many seeds would
cut the standard error by a given fraction.
"""

from __future__ import annotations

import math
import warnings
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl
from scipy import special, stats

from metabench.errors import InputError
from metabench.runs import Runs

__all__ = [
    "AUTO_MIN_CLUSTERS",
    "AUTO_MIN_ITEMS",
    "AUTO_MIN_VARIANCE",
    "INTERVAL_METHODS",
    "Interval",
    "SeedVariance",
    "beta_binomial_interval",
    "bootstrap_interval",
    "clopper_pearson_interval",
    "clustered_se",
    "interval",
    "mean_interval",
    "score_intervals",
    "seed_variance",
    "seed_variance_frame",
    "wilson_interval",
]

INTERVAL_METHODS: tuple[str, ...] = (
    "clt",
    "clustered",
    "wilson",
    "clopper_pearson",
    "bootstrap_percentile",
    "bootstrap_bca",
    "beta_binomial",
)
"""Interval methods :func:`interval` knows, besides ``"auto"``."""

AUTO_MIN_ITEMS = 100
"""Binary scores on fewer items than this get a Wilson interval under ``method="auto"``."""

AUTO_MIN_VARIANCE = 10.0
"""Binary scores with n·p·(1 - p) below this (a score near 0 or 1) get a Wilson interval under ``"auto"``."""

AUTO_MIN_CLUSTERS = 5
"""Fewest clusters for which ``"auto"`` uses the cluster-robust SE.

With fewer, the between-cluster variance rests on fewer than four degrees of freedom (a t
quantile of 12.7 with two clusters): the clusters are treated as fixed strata and the
interval is over items within them.
"""

_CHUNK_ELEMENTS = 1 << 22  # resample indices drawn per block: bounds memory at a few tens of MB


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"confidence level must be in (0, 1), got {level}", fix="use e.g. 0.95")
    return float(level)


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _finite(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


# ---------------------------------------------------------------------------
# binomial intervals


def wilson_interval(
    successes: np.ndarray | float, n: np.ndarray | float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
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
    # the bounds are exactly 0 at k = 0 and 1 at k = n; rounding leaves ~1e-17 there
    return np.where(k == 0, 0.0, centre - half), np.where(k == n, 1.0, centre + half)


def _binomial_args(successes: np.ndarray | float, n: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(n)) or np.any(n <= 0) or np.any(n != np.round(n)):
        raise InputError("a binomial interval needs a whole number n > 0 of trials", fix="count the items scored")
    if np.any(~np.isfinite(k)) or np.any(k < 0) or np.any(k > n) or np.any(k != np.round(k)):
        raise InputError(
            "successes must be whole numbers between 0 and n",
            fix="use these intervals for binary (0/1) scores only; use method='clt' or a bootstrap for partial credit",
        )
    return np.broadcast_arrays(k, n)


def clopper_pearson_interval(
    successes: np.ndarray | float, n: np.ndarray | float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper–Pearson) interval of a binomial proportion, vectorised.

    The limits are quantiles of Beta distributions, ``Beta(k, n - k + 1)`` at
    ``(1 - level) / 2`` and ``Beta(k + 1, n - k)`` at ``(1 + level) / 2``, with 0 and 1
    where ``k = 0`` or ``k = n``; the same interval as R's ``binom.test``. Its coverage
    is at least ``level`` for every true proportion, so it is wider than Wilson's.

    Parameters
    ----------
    successes, n : array_like
        Number of successes (whole, ``0 <= k <= n``) and of trials (whole, ``n > 0``).
    level : float
        Confidence level.

    Returns
    -------
    low, high : numpy.ndarray

    Examples
    --------
    >>> lo, hi = clopper_pearson_interval([0, 7], 10)
    >>> lo.round(4).tolist(), hi.round(4).tolist()
    ([0.0, 0.3475], [0.3085, 0.9333])
    """
    _check_level(level)
    k, n = _binomial_args(successes, n)
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.beta.ppf(alpha / 2, np.maximum(k, 1), n - k + 1), 0.0)
        high = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1)), 1.0)
    return low, high


def beta_binomial_interval(
    successes: np.ndarray | float,
    n: np.ndarray | float,
    level: float = 0.95,
    prior: tuple[float, float] = (0.5, 0.5),
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed posterior interval of a proportion under a Beta prior, vectorised.

    With ``k`` successes in ``n`` Bernoulli trials and a ``Beta(a, b)`` prior, the posterior
    of the proportion is ``Beta(k + a, n - k + b)``; the interval is its
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles. The default Jeffreys prior
    ``Beta(1/2, 1/2)`` gives an interval with close to nominal frequentist coverage
    (Brown, Cai & DasGupta 2001).

    Parameters
    ----------
    successes, n : array_like
        Number of successes and of trials.
    level : float
        Posterior probability inside the interval.
    prior : (float, float)
        Parameters ``(a, b)`` of the Beta prior, both > 0; ``(1, 1)`` is uniform.

    Returns
    -------
    low, high : numpy.ndarray

    Examples
    --------
    >>> lo, hi = beta_binomial_interval(7, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.3942, 0.9073)
    """
    _check_level(level)
    a, b = (float(v) for v in prior)
    if not (a > 0 and b > 0 and np.isfinite(a) and np.isfinite(b)):
        raise InputError(f"Beta prior parameters must be positive, got {prior}", fix="use e.g. prior=(0.5, 0.5)")
    k, n = _binomial_args(successes, n)
    post = stats.beta(k + a, n - k + b)
    return post.ppf((1 - level) / 2), post.ppf((1 + level) / 2)


def mean_interval(
    mean: np.ndarray | float, sd: np.ndarray | float, n: np.ndarray | float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
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


# ---------------------------------------------------------------------------
# inputs


def _item_scores(x: Any) -> np.ndarray:
    """1-D item scores; a 2-D items × seeds array is averaged over seeds (NaN-aware)."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # items with no seed: NaN, dropped later
            arr = np.nanmean(arr, axis=1) if arr.shape[1] else np.full(arr.shape[0], np.nan)
    elif arr.ndim != 1:
        raise InputError(f"item scores must be 1-D (items) or 2-D (items × seeds), got {arr.ndim}-D")
    return arr


def _cluster_codes(clusters: Any, n: int) -> np.ndarray:
    """Integer codes 0..G-1 of cluster labels; a missing label (None, NaN) is a cluster of its own."""
    arr = clusters.to_numpy() if isinstance(clusters, pl.Series) else np.asarray(clusters)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InputError(
            f"{arr.shape[0] if arr.ndim == 1 else arr.shape} cluster labels for {n} items",
            fix="give one cluster label per item (None where an item belongs to no cluster)",
        )
    if arr.dtype.kind in "iub":
        return np.unique(arr, return_inverse=True)[1].reshape(-1).astype(np.int64)
    codes, uniques = pd.factorize(arr if arr.dtype.kind in "fO" else arr.astype(object))
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes


def _clean(x: Any, clusters: Any) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Drop items without a score; cluster codes (renumbered over the kept items) and the cluster count."""
    v = _item_scores(x)
    codes = None if clusters is None else _cluster_codes(clusters, v.shape[0])
    keep = ~np.isnan(v)
    if not keep.all():
        v = v[keep]
        if codes is not None:
            codes = codes[keep]
    if codes is None:
        return v, None, v.size
    uniq, codes = np.unique(codes, return_inverse=True)
    return v, codes.reshape(-1), uniq.size


def _clustered_var(x: np.ndarray, codes: np.ndarray, g: int) -> float:
    if g < 2:
        return float("nan")
    resid = x - x.mean()
    s = np.bincount(codes, weights=resid, minlength=g)
    return float(g / (g - 1) * (s @ s) / x.size**2)


# ---------------------------------------------------------------------------
# clustered standard error


def clustered_se(x: Any, clusters: Any = None) -> float:
    """Cluster-robust (sandwich) standard error of a mean score.

    With residuals ``e_i = x_i - mean(x)`` and cluster sums ``S_g = sum_{i in g} e_i``
    over ``G`` clusters and ``n`` items,

    ``SE^2 = G / (G - 1) * sum_g S_g^2 / n^2``.

    This is the sandwich estimator of Miller (2024, eq. 4: the CLT variance plus the
    within-cluster covariances) with the usual small-sample factor ``G / (G - 1)``
    ("CR1"): the default of R's ``sandwich::vcovCL`` (``type="HC1"``) and of
    statsmodels' ``OLS(x, 1).fit(cov_type="cluster")`` for a regression on a
    constant. When every item is its own cluster it equals the textbook
    ``sd(x, ddof=1) / sqrt(n)``.

    Parameters
    ----------
    x : array_like
        Item scores, 1-D; NaN items (not run) are dropped with their labels.
    clusters : array_like, optional
        One label per item; a missing label (None or NaN) makes the item a cluster
        of its own. None: every item is its own cluster.

    Returns
    -------
    float
        NaN with fewer than two clusters.

    Examples
    --------
    >>> x = [1, 1, 0, 0, 1, 0, 1, 1]
    >>> round(clustered_se(x, ["a", "a", "b", "b", "c", "c", "d", "d"]), 4)
    0.2394
    >>> round(clustered_se(x), 4) == round(float(np.std(x, ddof=1) / np.sqrt(8)), 4)
    True
    """
    if np.asarray(x).ndim != 1:
        raise InputError("clustered_se takes 1-D item scores", fix="average seeds per item first (nanmean over axis 1)")
    v, codes, g = _clean(x, clusters)
    if codes is None:
        codes = np.arange(v.size)
    return math.sqrt(_clustered_var(v, codes, g)) if g >= 2 else float("nan")


# ---------------------------------------------------------------------------
# bootstrap


def _bootstrap_means(
    x: np.ndarray, codes: np.ndarray | None, g: int, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Means of ``n_resamples`` bootstrap resamples of the items, or of whole clusters when ``codes`` is given."""
    out = np.empty(n_resamples)
    if codes is None:
        units, values, sizes = x.size, x, None
    else:
        units = g
        values = np.bincount(codes, weights=x, minlength=g)
        sizes = np.bincount(codes, minlength=g).astype(float)
    dtype = np.int32 if units < 2**31 else np.int64
    block = max(1, _CHUNK_ELEMENTS // units)
    for start in range(0, n_resamples, block):
        stop = min(n_resamples, start + block)
        idx = rng.integers(0, units, (stop - start, units), dtype=dtype)
        if sizes is None:
            out[start:stop] = values[idx].mean(axis=1)
        else:
            out[start:stop] = values[idx].sum(axis=1) / sizes[idx].sum(axis=1)
    return out


def _jackknife_means(x: np.ndarray, codes: np.ndarray | None, g: int) -> np.ndarray:
    """Leave-one-out means: one item out, or one whole cluster out."""
    total = x.sum()
    if codes is None:
        return (total - x) / (x.size - 1)
    sums = np.bincount(codes, weights=x, minlength=g)
    sizes = np.bincount(codes, minlength=g)
    return (total - sums) / (x.size - sizes)


def _bca_constants(theta_hat: float, replicates: np.ndarray, jackknife: np.ndarray) -> tuple[float, float]:
    """Bias correction ``z0`` and acceleration ``a`` of the BCa interval.

    ``z0 = Phi^-1(share of replicates below theta_hat)``, ties counted half (as
    scipy.stats.bootstrap does; R's ``boot.ci`` counts only those strictly below, which
    differs only where replicates tie with ``theta_hat``). ``a = sum d^3 / (6 (sum d^2)^1.5)``
    with the jackknife deviations ``d = mean(theta_(i)) - theta_(i)``; 0 when all are equal.
    """
    b = replicates.size
    share = (np.count_nonzero(replicates < theta_hat) + np.count_nonzero(replicates <= theta_hat)) / (2 * b)
    z0 = float(special.ndtri(share))
    d = jackknife.mean() - jackknife
    den = 6 * (d @ d) ** 1.5
    a = float((d**3).sum() / den) if den > 0 else 0.0
    return z0, a


def _interval_from_replicates(
    theta_hat: float, replicates: np.ndarray, jackknife: np.ndarray | None, kind: str, level: float
) -> tuple[float, float]:
    """Percentile or BCa limits from bootstrap replicates (and leave-one-out estimates for BCa).

    BCa (Efron 1987; Efron & Tibshirani 1993, ch. 14) takes the replicates' quantiles at
    ``Phi(z0 + (z0 + z) / (1 - a (z0 + z)))`` for ``z = Phi^-1((1 -+ level) / 2)``.
    """
    alpha = 1 - level
    probs = np.array([alpha / 2, 1 - alpha / 2])
    if kind == "bca":
        z0, a = _bca_constants(theta_hat, replicates, jackknife)
        z = special.ndtri(probs)
        with np.errstate(invalid="ignore", divide="ignore"):
            probs = special.ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
        if not np.all(np.isfinite(probs)):
            return float("nan"), float("nan")
    low, high = np.percentile(replicates, 100 * probs)
    return float(low), float(high)


def _bootstrap(
    x: np.ndarray, codes: np.ndarray | None, g: int, kind: str, n_resamples: int, level: float, rng: np.random.Generator
) -> tuple[float, float, float]:
    units = x.size if codes is None else g
    if units < 2:
        what = "items" if codes is None else "clusters"
        raise InputError(f"a bootstrap needs at least two {what}, got {units}", fix="use method='wilson' or 'clt'")
    reps = _bootstrap_means(x, codes, g, n_resamples, rng)
    jack = _jackknife_means(x, codes, g) if kind == "bca" else None
    low, high = _interval_from_replicates(float(x.mean()), reps, jack, kind, level)
    return low, high, float(reps.std(ddof=1))


def bootstrap_interval(
    x: Any,
    *,
    kind: Literal["bca", "percentile"] = "bca",
    n_resamples: int = 10_000,
    clusters: Any = None,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
) -> tuple[float, float]:
    """Bootstrap interval of a mean score: percentile or BCa, over items or over clusters.

    Items are resampled with replacement ``n_resamples`` times; with ``clusters``, whole
    clusters are resampled instead (the cluster bootstrap) and each resample's score
    is the mean over the items of the drawn clusters. ``"percentile"`` takes the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled means;
    ``"bca"`` shifts those quantiles by a bias correction and an acceleration
    estimated by the jackknife (leaving out one item, or one cluster), which makes the
    interval second-order accurate for skewed score distributions.

    Parameters
    ----------
    x : array_like
        Item scores, 1-D, or 2-D items × seeds (averaged over seeds per item). NaN
        items are dropped.
    kind : {"bca", "percentile"}
    n_resamples : int
        Bootstrap resamples.
    clusters : array_like, optional
        One cluster label per item.
    level : float
        Confidence level.
    seed : int or numpy.random.Generator

    Returns
    -------
    low, high : float

    Examples
    --------
    >>> x = np.r_[np.ones(30), np.zeros(10)]
    >>> bootstrap_interval(x, kind="percentile", seed=1)
    (0.6, 0.875)
    """
    _check_level(level)
    if kind not in ("bca", "percentile"):
        raise InputError(f"bootstrap kind must be 'bca' or 'percentile', not {kind!r}")
    if int(n_resamples) < 1:
        raise InputError(f"n_resamples must be positive, got {n_resamples}")
    v, codes, g = _clean(x, clusters)
    low, high, _ = _bootstrap(v, codes, g, kind, int(n_resamples), level, _rng(seed))
    return low, high


# ---------------------------------------------------------------------------
# one interval, chosen and explained


@dataclass(frozen=True)
class Interval:
    """A score with its confidence interval and why that interval was used.

    Attributes
    ----------
    estimate : float
        The score: mean of the item scores (seeds averaged per item).
    low, high : float
        Interval limits.
    se : float
        Standard error behind the interval: sample SD / sqrt(n) for ``clt``, the
        cluster-robust SE for ``clustered``, sqrt(p (1 - p) / n) for ``wilson`` and
        ``clopper_pearson``, the posterior SD for ``beta_binomial``, the SD of the
        resampled means for the bootstraps. NaN where not defined.
    method : str
        One of ``INTERVAL_METHODS``.
    level : float
        Confidence level.
    n_items : int
        Items with a score.
    n_clusters : int or None
        Clusters among those items, None when no clusters were given.
    reason : str
        Why this method, starting with its name.

    Examples
    --------
    >>> iv = interval([1.0, 0.0, 1.0, 1.0], "clopper_pearson")
    >>> iv.to_frame().select("estimate", "method", "n_items").rows()
    [(0.75, 'clopper_pearson', 4)]
    >>> iv.to_dict()["n_clusters"] is None
    True
    """

    estimate: float
    low: float
    high: float
    se: float
    method: str
    level: float
    n_items: int
    n_clusters: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (NaN becomes None)."""
        return {k: _finite(v) for k, v in asdict(self).items()}

    def to_frame(self) -> pl.DataFrame:
        """One-row table of the fields."""
        schema = {
            "estimate": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
            "se": pl.Float64,
            "method": pl.String,
            "level": pl.Float64,
            "n_items": pl.Int64,
            "n_clusters": pl.Int64,
            "reason": pl.String,
        }
        return pl.DataFrame([asdict(self)], schema=schema)


def _clip_unit(x: np.ndarray, low: float, high: float) -> tuple[float, float]:
    if x.size and x.min() >= 0 and x.max() <= 1:
        return float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1))
    return float(low), float(high)


def _t_quantile(level: float, df: float) -> float:
    return float(stats.t.ppf(0.5 + level / 2, df)) if df >= 1 else float("nan")


def _choose(v: np.ndarray, codes: np.ndarray | None, g: int, label: str) -> tuple[str, str]:
    """The ``auto`` rule: the method and the reason."""
    n = v.size
    binary = bool(np.all((v == 0) | (v == 1)))
    k = float(v.sum())
    p = k / n
    note = ""
    if codes is not None:
        sizes = np.bincount(codes)
        largest = int(sizes.max())
        if g >= AUTO_MIN_CLUSTERS and largest > 1:
            if binary and k in (0.0, float(n)):
                return "wilson", (
                    f"wilson: every score is {int(p)}, so the clustered SE is 0; Wilson interval over {n} items "
                    f"(ignores the {g} {label}s)"
                )
            each = f"{int(sizes.min())}–{largest}" if sizes.min() < largest else f"{largest}"
            return "clustered", (
                f"clustered: {g} {label}s ({each} items each); items within a {label} may be "
                f"correlated, so the SE is cluster-robust (CR1, never below the independent-items SE; t with {g - 1} df)"
            )
        if largest == 1:
            note = f"; {label}s ignored: one item per {label}"
        else:
            note = (
                f"; {label}s ignored: {g} {label}{'s are' if g > 1 else ' is'} too few for a cluster-robust SE "
                f"(needs {AUTO_MIN_CLUSTERS}), so the interval is over items within {'these' if g > 1 else 'this'} "
                f"{label}{'s' if g > 1 else ''}"
            )
    if binary:
        npq = n * p * (1 - p)
        if n < AUTO_MIN_ITEMS:
            return "wilson", f"wilson: binary scores and n={n} < {AUTO_MIN_ITEMS}" + note
        if npq < AUTO_MIN_VARIANCE:
            return "wilson", f"wilson: binary scores with n·p·(1−p) < {AUTO_MIN_VARIANCE:g} (score near 0 or 1)" + note
        return "clt", f"clt: binary scores, n={n} items, n·p·(1−p) ≥ {AUTO_MIN_VARIANCE:g}" + note
    return "clt", f"clt: non-binary scores (partial credit or seed averages), n={n} items, t with {n - 1} df" + note


def _interval(
    v: np.ndarray,
    codes: np.ndarray | None,
    g: int,
    method: str,
    level: float,
    n_resamples: int,
    rng: np.random.Generator | int,
    label: str = "cluster",
) -> Interval:
    n = v.size
    n_clusters = None if codes is None else g
    if n == 0:
        raise InputError("no item has a score: nothing to put an interval on", fix="check that the model ran the items")
    if method == "auto":
        method, reason = _choose(v, codes, g, label)
    elif method in INTERVAL_METHODS:
        reason = f"{method}: requested"
        if codes is not None and method in ("clt", "wilson", "clopper_pearson", "beta_binomial"):
            reason += f"; the {g} {label}s are not used by this method"
    else:
        raise InputError(
            f"unknown interval method {method!r}", fix=f"use 'auto' or one of {', '.join(INTERVAL_METHODS)}"
        )
    est = float(v.mean())
    binary_methods = ("wilson", "clopper_pearson", "beta_binomial")
    if method in binary_methods and not np.all((v == 0) | (v == 1)):
        raise InputError(
            f"the {method} interval needs binary (0/1) item scores",
            fix="use method='clt', 'clustered' or a bootstrap for partial credit or seed-averaged scores",
        )
    if method == "clt":
        se = float(v.std(ddof=1) / math.sqrt(n)) if n >= 2 else float("nan")
        half = _t_quantile(level, n - 1) * se
        low, high = _clip_unit(v, est - half, est + half)
    elif method == "clustered":
        if codes is None:
            raise InputError("the clustered interval needs cluster labels", fix="pass clusters=... or use method='clt'")
        if g < 2:
            raise InputError(f"the clustered interval needs at least two {label}s, got {g}", fix="use method='clt'")
        se_iid = float(v.std(ddof=1) / math.sqrt(n)) if n >= 2 else 0.0
        se = max(math.sqrt(_clustered_var(v, codes, g)), se_iid)
        half = _t_quantile(level, g - 1) * se
        low, high = _clip_unit(v, est - half, est + half)
    elif method in binary_methods:
        k = v.sum()
        se = math.sqrt(est * (1 - est) / n)
        if method == "wilson":
            lo, hi = wilson_interval(k, n, level)
        elif method == "clopper_pearson":
            lo, hi = clopper_pearson_interval(k, n, level)
        else:
            a, b = k + 0.5, n - k + 0.5
            se = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
            lo, hi = beta_binomial_interval(k, n, level)
        low, high = float(lo), float(hi)
    else:  # bootstraps
        kind = "bca" if method == "bootstrap_bca" else "percentile"
        low, high, se = _bootstrap(v, codes, g, kind, n_resamples, level, _rng(rng))
        if codes is not None:
            reason += f"; whole {label}s resampled ({g} {label}s)"
    return Interval(est, low, high, se, method, level, n, n_clusters, reason)


def interval(
    x: Any,
    method: str = "auto",
    *,
    clusters: Any = None,
    level: float = 0.95,
    n_resamples: int = 10_000,
    seed: int | np.random.Generator = 0,
) -> Interval:
    """Confidence interval of one model's mean score on one benchmark.

    The ``"auto"`` rule, stated in the result's ``reason``:

    1. clusters are given, there are at least ``AUTO_MIN_CLUSTERS`` (5) of them, and
       some cluster holds more than one item: ``"clustered"`` (cluster-robust SE, t
       with G - 1 df); except when every score is 0 or every score is 1, where that SE
       is 0 and Wilson is used. With 2–4 clusters the between-cluster variance cannot
       be estimated usefully; the clusters are then treated as fixed and rules 2–3
       apply (the reason says so);
    2. binary scores and ``n < 100`` items, or ``n·p·(1 - p) < 10`` (a score near 0 or
       1): ``"wilson"``, which keeps its coverage where the normal approximation
       fails;
    3. otherwise ``"clt"`` (Student-t on n - 1 df).

    Parameters
    ----------
    x : array_like
        Item scores in [0, 1], 1-D, or 2-D items × seeds (seeds averaged per item,
        NaN-aware). NaN items (not run) are dropped.
    method : str
        ``"auto"`` or one of ``INTERVAL_METHODS``. The bootstraps resample whole
        clusters when ``clusters`` is given.
    clusters : array_like, optional
        One cluster label per item (e.g. the subject); None = independent items.
    level : float
        Confidence level.
    n_resamples : int
        Bootstrap resamples.
    seed : int or numpy.random.Generator
        For the bootstraps.

    Returns
    -------
    Interval

    Examples
    --------
    >>> iv = interval(np.r_[np.ones(28), np.zeros(12)])
    >>> iv.method, iv.reason
    ('wilson', 'wilson: binary scores and n=40 < 100')
    >>> round(iv.low, 4), round(iv.high, 4)
    (0.5457, 0.8193)
    >>> interval([1, 0, 1, 1, 0, 1, 1, 1, 0, 0], clusters=list("aabbccddee")).method
    'clustered'
    """
    _check_level(level)
    v, codes, g = _clean(x, clusters)
    return _interval(v, codes, g, method, level, int(n_resamples), seed)


# ---------------------------------------------------------------------------
# runs


def _last_step(df: pl.DataFrame, runs: Runs) -> pl.DataFrame:
    """Each model's last training step on each benchmark, as :meth:`Runs.matrix` uses."""
    if not runs.has_steps:
        return df
    last = df.group_by("model", "benchmark").agg(pl.col("step").max().alias("_last"))
    return (
        df.join(last, on=["model", "benchmark"], how="left")
        .filter(pl.col("_last").is_null() | (pl.col("step") == pl.col("_last")))
        .drop("_last")
    )


def _scored(runs: Runs) -> pl.DataFrame:
    df = runs.frame.with_columns(runs._system_expr().alias("system"))
    df = _last_step(df, runs)
    return df.filter(pl.col("score").is_not_null() & pl.col("score").is_not_nan())


def _group_seed(seed: int | np.random.Generator, benchmark: str, system: str) -> np.random.Generator | int:
    """A generator per (benchmark, system): results do not depend on which other systems are present."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng([int(seed), zlib.crc32(f"{benchmark}\0{system}".encode())])


def score_intervals(
    runs: Runs,
    level: float = 0.95,
    method: str = "auto",
    *,
    cluster_column: str | None = "subject",
    seed: int | np.random.Generator = 0,
) -> pl.DataFrame:
    """Mean score of every system on every benchmark with a confidence interval.

    Seeds are averaged per item first, so the interval reflects item sampling (seed
    noise included in each item's mean). Where runs carry training steps, each
    model's last step on each benchmark is used. Items are clustered by
    ``cluster_column`` (the item's first non-empty label on that benchmark) when the
    column is present; the method is chosen per system by the rule of
    :func:`interval` unless ``method`` names one.

    Parameters
    ----------
    runs : Runs
    level : float
        Confidence level.
    method : str
        ``"auto"`` or one of ``INTERVAL_METHODS``.
    cluster_column : str or None
        Column of cluster labels; None = independent items.
    seed : int or numpy.random.Generator
        For the bootstraps (a generator per system and benchmark is derived from an int).

    Returns
    -------
    polars.DataFrame
        Columns ``system, benchmark, n_items, mean, sd, se, ci_low, ci_high, interval,
        reason, n_clusters``, sorted by benchmark and system; ``interval`` names the
        method used and ``sd`` is the SD of the item scores (ddof=1).

    Examples
    --------
    >>> r = Runs({"model": ["a"] * 4, "benchmark": ["x"] * 4,
    ...           "item": list("1234"), "score": [1.0, 1.0, 0.0, 1.0]})
    >>> score_intervals(r).select("system", "n_items", "mean", "interval").rows()
    [('a', 4, 0.75, 'wilson')]
    """
    _check_level(level)
    if method != "auto" and method not in INTERVAL_METHODS:
        raise InputError(
            f"unknown interval method {method!r}", fix=f"use 'auto' or one of {', '.join(INTERVAL_METHODS)}"
        )
    df = _scored(runs)
    per_item = df.group_by("system", "benchmark", "item").agg(pl.col("score").mean())
    label = "cluster"
    use_clusters = (
        cluster_column is not None
        and cluster_column in df.columns
        and df.get_column(cluster_column).null_count() < df.height
    )
    if use_clusters:
        label = str(cluster_column)
        labels = df.group_by("benchmark", "item").agg(
            pl.col(cluster_column).cast(pl.String).drop_nulls().first().alias("_cluster")
        )
        per_item = per_item.join(labels, on=["benchmark", "item"], how="left")
    per_item = per_item.sort("benchmark", "system", "item")
    rows = []
    for (bench, system), part in per_item.group_by(["benchmark", "system"], maintain_order=True):
        v = part.get_column("score").to_numpy().astype(float)
        codes, g = None, v.size
        if use_clusters and part.get_column("_cluster").null_count() < part.height:  # a benchmark without labels: none
            codes = _cluster_codes(part.get_column("_cluster").to_numpy(), v.size)
            g = int(codes.max()) + 1 if codes.size else 0
        iv = _interval(v, codes, g, method, level, 10_000, _group_seed(seed, str(bench), str(system)), label)
        rows.append(
            {
                "system": system,
                "benchmark": bench,
                "n_items": iv.n_items,
                "mean": iv.estimate,
                "sd": float(v.std(ddof=1)) if v.size >= 2 else None,
                "se": iv.se,
                "ci_low": iv.low,
                "ci_high": iv.high,
                "interval": iv.method,
                "reason": iv.reason,
                "n_clusters": iv.n_clusters,
            }
        )
    schema = {
        "system": pl.String,
        "benchmark": pl.String,
        "n_items": pl.Int64,
        "mean": pl.Float64,
        "sd": pl.Float64,
        "se": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "interval": pl.String,
        "reason": pl.String,
        "n_clusters": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


# ---------------------------------------------------------------------------
# seeds


def _seeds_needed(var_items: float, var_seed: float, n_items: int, se: float, reduction: float) -> int | None:
    if not 0 <= reduction < 1:
        raise InputError(
            f"reduction must be in [0, 1), got {reduction}", fix="use e.g. 0.1 for a 10% smaller standard error"
        )
    if not (np.isfinite(var_items) and np.isfinite(var_seed) and np.isfinite(se)):
        return None
    room = n_items * ((1 - reduction) * se) ** 2 - var_items  # what the seed term var_seed / K may use
    if var_seed <= 0:
        return 1 if room >= -1e-12 * max(var_items, 1e-300) else None
    if room <= 0:
        return None
    return max(1, math.ceil(var_seed / room * (1 - 1e-12)))


@dataclass(frozen=True)
class SeedVariance:
    """Item-sampling and seed variance of one model's score on one benchmark.

    With item means ``m_i`` over ``K_i`` seeds, the score ``mean(m_i)`` has variance
    ``(var_items + var_seed / K) / n`` over draws of items and seeds, where ``var_items``
    (sigma_x^2) is the variance of the items' true scores and ``var_seed`` (sigma_eps^2)
    the variance of one item's score across seeds, and ``1 / K`` is the mean of
    ``1 / K_i``.

    Attributes
    ----------
    n_items : int
        Items with at least one score.
    n_seeds : float
        Seeds per item, the harmonic mean of ``K_i`` (a whole number when all are equal).
    mean : float
        The score: mean of the item means.
    var_items : float
        ``var(m_i, ddof=1) - var_seed / K``, clipped at 0: between-item variance
        with the seed noise removed.
    var_seed : float
        Mean within-item variance across seeds (ddof=1) over items with >= 2 seeds.
    se, se_items, se_seed : float
        Standard error of the score with the current seeds and its parts:
        ``se_items^2 = var_items / n``, ``se_seed^2 = var_seed / (K n)``,
        ``se^2 = se_items^2 + se_seed^2``.
    seed_sd : float
        SD (ddof=1) across seeds of the per-seed score (mean over the items each
        seed ran); about ``sqrt(var_seed / n)``. NaN with fewer than two seeds.

    Examples
    --------
    >>> sv = seed_variance([[1, 0], [1, 1], [0, 0], [1, 0]])
    >>> sv.to_frame(reduction=0.1).select("n_items", "var_seed", "seeds_needed").rows()
    [(4, 0.25, 3)]
    """

    n_items: int
    n_seeds: float
    mean: float
    var_items: float
    var_seed: float
    se: float
    se_items: float
    se_seed: float
    seed_sd: float

    def se_with(self, n_seeds: float) -> float:
        """Standard error with ``n_seeds`` seeds per item on the same items.

        Examples
        --------
        >>> sv = seed_variance([[1, 0], [1, 1], [0, 0], [1, 0]])
        >>> round(sv.se_with(2), 6) == round(sv.se, 6)
        True
        """
        if n_seeds <= 0:
            raise InputError(f"n_seeds must be positive, got {n_seeds}")
        return math.sqrt((self.var_items + self.var_seed / n_seeds) / self.n_items)

    def seeds_needed(self, reduction: float = 0.1) -> int | None:
        """Smallest number of seeds K with ``se(K) <= (1 - reduction) · se``.

        None when more seeds cannot get there: the item part ``sqrt(var_items / n)``
        alone is already above the target (more items are needed instead).

        Examples
        --------
        >>> se = math.sqrt((0.05 + 0.2) / 200)
        >>> sv = SeedVariance(200, 1.0, 0.5, 0.05, 0.2, se, math.sqrt(0.05 / 200), math.sqrt(0.2 / 200), 0.03)
        >>> sv.seeds_needed(0.1), sv.seeds_needed(0.5), sv.seeds_needed(0.6)
        (2, 16, None)
        """
        return _seeds_needed(self.var_items, self.var_seed, self.n_items, self.se, reduction)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (NaN becomes None)."""
        return {k: _finite(v) for k, v in asdict(self).items()}

    def to_frame(self, reduction: float = 0.1) -> pl.DataFrame:
        """One-row table of the fields and ``seeds_needed(reduction)``."""
        row = asdict(self) | {"seeds_needed": self.seeds_needed(reduction), "reduction": float(reduction)}
        return pl.DataFrame([row], schema_overrides={"seeds_needed": pl.Int64, "n_items": pl.Int64})


def _seed_parts(n: int, mean: float, var_means: float, var_seed: float, inv_k: float, seed_sd: float) -> SeedVariance:
    var_items = max(0.0, var_means - var_seed * inv_k) if np.isfinite(var_means) else float("nan")
    se_items2 = var_items / n
    se_seed2 = var_seed * inv_k / n
    return SeedVariance(
        n_items=int(n),
        n_seeds=float(1 / inv_k),
        mean=float(mean),
        var_items=float(var_items),
        var_seed=float(var_seed),
        se=math.sqrt(se_items2 + se_seed2),
        se_items=math.sqrt(se_items2),
        se_seed=math.sqrt(se_seed2),
        seed_sd=float(seed_sd),
    )


def seed_variance(values2d: Any) -> SeedVariance:
    """Split the variance of a score over items × seeds into item and seed parts.

    ``var_seed`` is the mean within-item variance (ddof=1) over the items with at
    least two seeds; ``var_items = var(item means) - var_seed · mean(1/K_i)``, clipped
    at 0, which removes the seed noise the item means carry (unbiased under the
    model ``x_ij = mu_i + eps_ij``).

    Parameters
    ----------
    values2d : array_like
        Scores, shape (n_items, n_seeds); NaN where an item was not run with a seed.

    Returns
    -------
    SeedVariance

    Examples
    --------
    >>> sv = seed_variance([[1, 0], [1, 1], [0, 0], [1, 0]])
    >>> sv.n_items, sv.n_seeds, sv.mean, sv.var_seed, round(sv.var_items, 4)
    (4, 2.0, 0.5, 0.25, 0.0417)
    >>> sv.seeds_needed(0.1)
    3
    """
    v = np.asarray(values2d, dtype=float)
    if v.ndim != 2:
        raise InputError(f"seed_variance takes a 2-D items × seeds array, got {v.ndim}-D")
    obs = ~np.isnan(v)
    k = obs.sum(axis=1)
    v, obs, k = v[k > 0], obs[k > 0], k[k > 0]
    if not np.any(k >= 2):
        raise InputError(
            "seed variance needs at least one item scored with two or more seeds",
            fix="run some items with several seeds",
        )
    filled = np.where(obs, v, 0.0)
    means = filled.sum(axis=1) / k
    multi = k >= 2
    within = (np.where(obs, v - means[:, None], 0.0) ** 2).sum(axis=1)[multi] / (k[multi] - 1)
    n = means.size
    var_means = float(means.var(ddof=1)) if n >= 2 else float("nan")
    cols = obs.any(axis=0)
    per_seed = filled[:, cols].sum(axis=0) / obs[:, cols].sum(axis=0)
    seed_sd = float(per_seed.std(ddof=1)) if per_seed.size >= 2 else float("nan")
    return _seed_parts(n, float(means.mean()), var_means, float(within.mean()), float((1 / k).mean()), seed_sd)


def seed_variance_frame(runs: Runs, reduction: float = 0.1) -> pl.DataFrame:
    """:func:`seed_variance` of every system on every benchmark where some item has two or more seeds.

    Each model's last training step is used where runs carry steps.

    Parameters
    ----------
    runs : Runs
    reduction : float
        Fraction by which ``seeds_needed`` should cut the standard error.

    Returns
    -------
    polars.DataFrame
        Columns ``system, benchmark, n_items, n_seeds, mean, var_items, var_seed, se,
        se_items, se_seed, seed_sd, seeds_needed`` (null where more seeds cannot
        reach the reduction), sorted by benchmark and system.

    Examples
    --------
    >>> r = Runs({"model": ["a"] * 8, "benchmark": ["x"] * 8, "item": list("12341234"),
    ...           "seed": [0] * 4 + [1] * 4, "score": [1.0, 1, 0, 1, 0, 1, 0, 0]})
    >>> seed_variance_frame(r).select("system", "n_items", "n_seeds", "var_seed", "seeds_needed").rows()
    [('a', 4, 2.0, 0.25, 3)]
    """
    _seeds_needed(0.0, 0.0, 1, 0.0, reduction)  # validates reduction
    df = _scored(runs)
    per_item = df.group_by("system", "benchmark", "item").agg(
        pl.col("score").mean().alias("m"), pl.col("score").var(ddof=1).alias("v"), pl.len().alias("k")
    )
    groups = (
        per_item.group_by("system", "benchmark")
        .agg(
            pl.len().alias("n_items"),
            pl.col("m").mean().alias("mean"),
            pl.col("m").var(ddof=1).alias("var_means"),
            pl.col("v").filter(pl.col("k") >= 2).mean().alias("var_seed"),
            (1 / pl.col("k")).mean().alias("inv_k"),
            (pl.col("k") >= 2).any().alias("_multi"),
        )
        .filter(pl.col("_multi"))
    )
    per_seed = (
        df.group_by("system", "benchmark", "seed")
        .agg(pl.col("score").mean())
        .group_by("system", "benchmark")
        .agg(pl.col("score").std(ddof=1).alias("seed_sd"))
    )
    groups = groups.join(per_seed, on=["system", "benchmark"], how="left").sort("benchmark", "system")
    rows = []
    for r in groups.iter_rows(named=True):
        nan = float("nan")
        sv = _seed_parts(
            r["n_items"],
            r["mean"],
            nan if r["var_means"] is None else r["var_means"],
            r["var_seed"],
            r["inv_k"],
            nan if r["seed_sd"] is None else r["seed_sd"],
        )
        rows.append(
            {"system": r["system"], "benchmark": r["benchmark"]}
            | asdict(sv)
            | {"seeds_needed": sv.seeds_needed(reduction)}
        )
    schema = {"system": pl.String, "benchmark": pl.String, "n_items": pl.Int64}
    schema |= {
        c: pl.Float64 for c in ("n_seeds", "mean", "var_items", "var_seed", "se", "se_items", "se_seed", "seed_sd")
    }
    schema |= {"seeds_needed": pl.Int64}
    return pl.DataFrame(rows, schema=schema)
