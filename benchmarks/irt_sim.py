"""Simulated response matrices with known item and ability parameters.

Every simulator returns a ``dict`` whose ``"Y"`` entry is a float array of
shape ``(n_models, n_items)`` with values in ``[0, 1]`` and ``NaN`` where a
response is missing, plus the true parameters that generated it, in
metabench's parameterisation::

    P_j(theta) = c_j + (d_j - c_j) * sigmoid(a_j * (theta - b_j))

(``a`` discrimination, ``b`` difficulty, ``c`` lower asymptote, ``d`` upper
asymptote, ``theta`` ~ N(0, 1) unless another distribution is given).

Distributions are given as short strings such as ``"lognormal(0,0.3)"``,
``"normal(0,1)"``, ``"uniform(-2,2)"``, ``"beta(5,17)"`` or ``"constant(1)"``;
a callable ``f(rng, size)`` or an array of the right length is accepted too.
All randomness comes from ``numpy.random.default_rng(seed)``: the same
arguments give the same arrays.

The module also has :func:`recovery`, the parameter-recovery statistics
(correlation, slope of estimate on truth, RMSE) used by the IRT benchmark.

:func:`simulate_grid_2pl` draws one point of the benchmark's settings grid
(``benchmarks/irt.py --grid``): slope spread, mean difficulty, ability shape
(:func:`ability_dist`) and missingness, including missingness not at random
(:func:`mask_mnar`); it takes an explicit ``numpy.random.Generator``, seeded
by :func:`seed_from_label` from the point's description.

Only numpy is needed, so the peers' own environment can import it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

Dist = str | float | Callable[[np.random.Generator, int], np.ndarray] | np.ndarray

_DIST_RE = re.compile(r"^\s*([a-z_]+)\s*\(([^)]*)\)\s*$")
_DIST_ARITY = {
    "normal": 2,
    "lognormal": 2,
    "uniform": 2,
    "beta": 2,
    "truncnormal": 4,
    "constant": 1,
}

__all__ = [
    "ABILITY_SHAPES",
    "MISSINGNESS",
    "ability_dist",
    "draw",
    "mask_mnar",
    "recovery",
    "seed_from_label",
    "simulate_1pl",
    "simulate_2pl",
    "simulate_3pl",
    "simulate_4pl",
    "simulate_continuous",
    "simulate_grid_2pl",
    "simulate_mirt",
]


def draw(dist: Dist, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """Draw ``size`` values from a distribution given by name, callable or values.

    Parameters
    ----------
    dist : str, float, callable or array
        ``"normal(mu,sd)"``, ``"lognormal(mu,sigma)"`` (of the log),
        ``"uniform(lo,hi)"``, ``"beta(alpha,beta)"``,
        ``"truncnormal(mu,sd,lo,hi)"`` (resampled until inside ``[lo, hi]``),
        ``"constant(v)"``; a number (constant); a callable ``f(rng, size)``;
        or an array whose shape is ``size`` (returned as a float copy).
    rng : numpy.random.Generator
        Source of randomness.
    size : int or tuple of int
        Shape of the result.

    Returns
    -------
    numpy.ndarray
        Float array of shape ``size``.

    Raises
    ------
    ValueError
        If the distribution name is unknown, has the wrong number of
        arguments, or an array has the wrong shape.
    """
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if callable(dist):
        out = np.asarray(dist(rng, shape if len(shape) > 1 else shape[0]), dtype=float)
        return out.reshape(shape)
    if isinstance(dist, (int, float, np.number)):
        return np.full(shape, float(dist))
    if not isinstance(dist, str):
        out = np.array(dist, dtype=float)
        if out.shape != shape:
            raise ValueError(f"array of shape {out.shape} given where {shape} is needed")
        return out
    m = _DIST_RE.match(dist.lower())
    if m is None:
        raise ValueError(f"cannot read distribution {dist!r}; write it like 'normal(0,1)' or 'lognormal(0,0.3)'")
    name, args_s = m.group(1), m.group(2)
    args = [float(x) for x in args_s.split(",") if x.strip()]
    if name not in _DIST_ARITY:
        raise ValueError(f"unknown distribution {name!r}; known: {sorted(_DIST_ARITY)}")
    if len(args) != _DIST_ARITY[name]:
        raise ValueError(f"{name} takes {_DIST_ARITY[name]} arguments, got {len(args)} in {dist!r}")
    if name == "normal":
        return rng.normal(args[0], args[1], shape)
    if name == "lognormal":
        return rng.lognormal(args[0], args[1], shape)
    if name == "uniform":
        return rng.uniform(args[0], args[1], shape)
    if name == "beta":
        return rng.beta(args[0], args[1], shape)
    if name == "constant":
        return np.full(shape, args[0])
    # truncnormal: vectorised rejection, redrawing only the values outside
    mu, sd, lo, hi = args
    if not lo < hi:
        raise ValueError(f"truncnormal needs lo < hi, got {dist!r}")
    out = rng.normal(mu, sd, shape)
    bad = (out < lo) | (out > hi)
    for _ in range(1000):
        n_bad = int(bad.sum())
        if n_bad == 0:
            return out
        out[bad] = rng.normal(mu, sd, n_bad)
        bad = (out < lo) | (out > hi)
    raise ValueError(f"truncnormal {dist!r}: [lo, hi] holds too little of the normal's mass")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # numerically stable logistic, in place where possible
    out = np.exp(-np.abs(x))
    pos = x >= 0
    return np.where(pos, 1.0 / (1.0 + out), out / (1.0 + out))


def _mask_missing(Y: np.ndarray, missing: float, rng: np.random.Generator) -> np.ndarray:
    """Set a fraction ``missing`` of the cells to NaN, completely at random."""
    if not 0.0 <= missing < 1.0:
        raise ValueError(f"missing must be in [0, 1), got {missing}")
    if missing > 0.0:
        Y[rng.random(Y.shape) < missing] = np.nan
    return Y


def _check_sizes(n_models: int, n_items: int) -> None:
    if int(n_models) < 1 or int(n_items) < 1:
        raise ValueError(f"n_models and n_items must be >= 1, got {n_models} and {n_items}")


def _simulate_unidim(
    n_models: int,
    n_items: int,
    *,
    missing: float,
    seed: int | np.random.Generator,
    a_dist: Dist,
    b_dist: Dist,
    c_dist: Dist,
    slip_dist: Dist,
    theta_dist: Dist,
) -> dict[str, Any]:
    _check_sizes(n_models, n_items)
    rng = np.random.default_rng(seed)
    # draw order is fixed: a, b, c, slip, theta, responses, missingness
    a = draw(a_dist, rng, n_items)
    b = draw(b_dist, rng, n_items)
    c = draw(c_dist, rng, n_items)
    d = 1.0 - draw(slip_dist, rng, n_items)
    if np.any(c >= d):
        raise ValueError("every item needs guessing c < 1 - slipping")
    theta = draw(theta_dist, rng, n_models)
    P = _sigmoid(a * (theta[:, None] - b))
    P *= d - c
    P += c
    Y = (rng.random((n_models, n_items)) < P).astype(float)
    del P
    _mask_missing(Y, missing, rng)
    return {"Y": Y, "a": a, "b": b, "c": c, "d": d, "theta": theta}


def simulate_2pl(
    n_models: int,
    n_items: int,
    missing: float = 0.0,
    seed: int = 0,
    a_dist: Dist = "lognormal(0,0.3)",
    b_dist: Dist = "normal(0,1)",
    theta_dist: Dist = "normal(0,1)",
) -> dict[str, Any]:
    """Simulate 0/1 responses from a two-parameter logistic model.

    ``P(Y_ij = 1) = sigmoid(a_j * (theta_i - b_j))``.

    Parameters
    ----------
    n_models, n_items : int
        Shape of the response matrix (rows are models / persons).
    missing : float, default 0.0
        Fraction of cells set to NaN, completely at random.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    a_dist, b_dist, theta_dist : distribution
        Distributions of discrimination, difficulty and ability (see
        :func:`draw`).

    Returns
    -------
    dict
        ``Y`` (float, ``(n_models, n_items)``, NaN for missing), ``a``, ``b``,
        ``c`` (zeros), ``d`` (ones), ``theta``.

    Examples
    --------
    >>> sim = simulate_2pl(1000, 100, seed=0)
    >>> sim["Y"].shape
    (1000, 100)
    """
    return _simulate_unidim(
        n_models,
        n_items,
        missing=missing,
        seed=seed,
        a_dist=a_dist,
        b_dist=b_dist,
        c_dist=0.0,
        slip_dist=0.0,
        theta_dist=theta_dist,
    )


def simulate_1pl(
    n_models: int,
    n_items: int,
    missing: float = 0.0,
    seed: int = 0,
    b_dist: Dist = "normal(0,1)",
    sigma: float = 1.0,
) -> dict[str, Any]:
    """Simulate 0/1 responses from a Rasch model with ability sd ``sigma``.

    ``P(Y_ij = 1) = sigmoid(theta_i - b_j)``, ``theta ~ N(0, sigma^2)``: the
    ``"1pl"`` parameterisation of metabench (all ``a = 1``).

    Parameters
    ----------
    n_models, n_items : int
        Shape of the response matrix.
    missing : float, default 0.0
        Fraction of cells set to NaN, completely at random.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    b_dist : distribution
        Distribution of difficulty.
    sigma : float, default 1.0
        Standard deviation of ability.

    Returns
    -------
    dict
        ``Y``, ``a`` (ones), ``b``, ``c``, ``d``, ``theta`` and ``sigma``.
    """
    out = _simulate_unidim(
        n_models,
        n_items,
        missing=missing,
        seed=seed,
        a_dist=1.0,
        b_dist=b_dist,
        c_dist=0.0,
        slip_dist=0.0,
        theta_dist=f"normal(0,{float(sigma)!r})",
    )
    out["sigma"] = float(sigma)
    return out


def simulate_3pl(
    n_models: int,
    n_items: int,
    missing: float = 0.0,
    seed: int = 0,
    a_dist: Dist = "lognormal(0,0.3)",
    b_dist: Dist = "normal(0,1)",
    c_dist: Dist = "beta(5,17)",
    theta_dist: Dist = "normal(0,1)",
) -> dict[str, Any]:
    """Simulate 0/1 responses from a three-parameter logistic model.

    ``P(Y_ij = 1) = c_j + (1 - c_j) * sigmoid(a_j * (theta_i - b_j))``.
    The default guessing distribution Beta(5, 17) has mean 0.23, close to
    the chance rate of four-option multiple choice.

    Parameters
    ----------
    n_models, n_items : int
        Shape of the response matrix.
    missing : float, default 0.0
        Fraction of cells set to NaN, completely at random.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    a_dist, b_dist, c_dist, theta_dist : distribution
        Distributions of discrimination, difficulty, lower asymptote and
        ability.

    Returns
    -------
    dict
        ``Y``, ``a``, ``b``, ``c``, ``d`` (ones), ``theta``.
    """
    return _simulate_unidim(
        n_models,
        n_items,
        missing=missing,
        seed=seed,
        a_dist=a_dist,
        b_dist=b_dist,
        c_dist=c_dist,
        slip_dist=0.0,
        theta_dist=theta_dist,
    )


def simulate_4pl(
    n_models: int,
    n_items: int,
    missing: float = 0.0,
    seed: int = 0,
    a_dist: Dist = "lognormal(0,0.3)",
    b_dist: Dist = "normal(0,1)",
    c_dist: Dist = "beta(5,17)",
    slip_dist: Dist = "beta(2,38)",
    theta_dist: Dist = "normal(0,1)",
) -> dict[str, Any]:
    """Simulate 0/1 responses from a four-parameter logistic model.

    ``P(Y_ij = 1) = c_j + (d_j - c_j) * sigmoid(a_j * (theta_i - b_j))`` with
    ``d_j = 1 - slip_j``. The default slipping distribution Beta(2, 38) has
    mean 0.05 (items that strong models still miss: label noise).

    Parameters
    ----------
    n_models, n_items : int
        Shape of the response matrix.
    missing : float, default 0.0
        Fraction of cells set to NaN, completely at random.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    a_dist, b_dist, c_dist, slip_dist, theta_dist : distribution
        Distributions of discrimination, difficulty, lower asymptote,
        slipping (``1 - d``) and ability.

    Returns
    -------
    dict
        ``Y``, ``a``, ``b``, ``c``, ``d``, ``theta``.
    """
    return _simulate_unidim(
        n_models,
        n_items,
        missing=missing,
        seed=seed,
        a_dist=a_dist,
        b_dist=b_dist,
        c_dist=c_dist,
        slip_dist=slip_dist,
        theta_dist=theta_dist,
    )


def simulate_mirt(
    n_models: int,
    n_items: int,
    dims: int,
    seed: int = 0,
    missing: float = 0.0,
    loading_dist: Dist = "lognormal(0,0.3)",
    intercept_dist: Dist = "normal(0,1)",
    structure: str = "simple",
    factor_corr: float = 0.0,
) -> dict[str, Any]:
    """Simulate 0/1 responses from a compensatory multidimensional 2PL.

    ``P(Y_ij = 1) = sigmoid(theta_i . lambda_j + delta_j)`` with
    ``theta_i ~ N(0, R)`` where ``R`` has ones on the diagonal and
    ``factor_corr`` elsewhere (slope-intercept form, as in mirt).

    Parameters
    ----------
    n_models, n_items : int
        Shape of the response matrix.
    dims : int
        Number of latent dimensions.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    missing : float, default 0.0
        Fraction of cells set to NaN, completely at random.
    loading_dist, intercept_dist : distribution
        Distributions of the (non-zero) loadings and of the intercepts.
    structure : {"simple", "full"}, default "simple"
        ``"simple"``: item ``j`` loads only on dimension ``j % dims`` (a
        confirmatory, rotation-free structure); ``"full"``: every item loads
        on every dimension.
    factor_corr : float, default 0.0
        Correlation between every pair of dimensions.

    Returns
    -------
    dict
        ``Y``, ``loadings`` ``(n_items, dims)``, ``intercepts`` ``(n_items,)``,
        ``theta`` ``(n_models, dims)``, ``factor_cov`` ``(dims, dims)``.
    """
    _check_sizes(n_models, n_items)
    dims = int(dims)
    if dims < 1:
        raise ValueError(f"dims must be >= 1, got {dims}")
    if structure not in ("simple", "full"):
        raise ValueError(f"structure must be 'simple' or 'full', got {structure!r}")
    R = np.full((dims, dims), float(factor_corr))
    np.fill_diagonal(R, 1.0)
    if dims > 1 and np.linalg.eigvalsh(R).min() <= 0:
        raise ValueError(f"factor_corr={factor_corr} does not give a positive-definite covariance")
    rng = np.random.default_rng(seed)
    loadings = draw(loading_dist, rng, (n_items, dims))
    if structure == "simple":
        keep = np.arange(n_items)[:, None] % dims == np.arange(dims)[None, :]
        loadings = np.where(keep, loadings, 0.0)
    intercepts = draw(intercept_dist, rng, n_items)
    L = np.linalg.cholesky(R)
    theta = rng.standard_normal((n_models, dims)) @ L.T
    P = _sigmoid(theta @ loadings.T + intercepts)
    Y = (rng.random((n_models, n_items)) < P).astype(float)
    del P
    _mask_missing(Y, missing, rng)
    return {"Y": Y, "loadings": loadings, "intercepts": intercepts, "theta": theta, "factor_cov": R}


def simulate_continuous(
    n_models: int,
    n_items: int,
    seed: int = 0,
    missing: float = 0.0,
    method: str = "beta",
    concentration: float = 20.0,
    k: int = 10,
    a_dist: Dist = "lognormal(0,0.3)",
    b_dist: Dist = "normal(0,1)",
    theta_dist: Dist = "normal(0,1)",
) -> dict[str, Any]:
    """Simulate partial-credit scores in ``[0, 1]`` whose mean is a 2PL probability.

    With ``p_ij = sigmoid(a_j * (theta_i - b_j))`` the score is

    * ``method="beta"``: ``Beta(concentration * p, concentration * (1 - p))``
      (continuous, mean ``p``, variance ``p (1 - p) / (concentration + 1)``);
    * ``method="binomial"``: the fraction of ``k`` Bernoulli(``p``) trials
      (e.g. pass@1 averaged over ``k`` samples; values on a grid of ``1/k``).

    Either way ``E[Y_ij] = p_ij``, so the Bernoulli-form likelihood
    ``y log p + (1 - y) log(1 - p)`` is a consistent quasi-likelihood.

    Parameters
    ----------
    n_models, n_items : int
        Shape of the score matrix.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    missing : float, default 0.0
        Fraction of cells set to NaN, completely at random.
    method : {"beta", "binomial"}, default "beta"
        How scores are drawn around ``p``.
    concentration : float, default 20.0
        Beta concentration (``method="beta"``).
    k : int, default 10
        Number of trials (``method="binomial"``).
    a_dist, b_dist, theta_dist : distribution
        Distributions of discrimination, difficulty and ability.

    Returns
    -------
    dict
        ``Y`` (floats in ``[0, 1]``, NaN for missing), ``a``, ``b``, ``c``,
        ``d``, ``theta``.
    """
    _check_sizes(n_models, n_items)
    if method not in ("beta", "binomial"):
        raise ValueError(f"method must be 'beta' or 'binomial', got {method!r}")
    if method == "beta" and not concentration > 0:
        raise ValueError(f"concentration must be > 0, got {concentration}")
    if method == "binomial" and int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rng = np.random.default_rng(seed)
    a = draw(a_dist, rng, n_items)
    b = draw(b_dist, rng, n_items)
    theta = draw(theta_dist, rng, n_models)
    P = _sigmoid(a * (theta[:, None] - b))
    if method == "beta":
        # keep both shape parameters strictly positive where p under/overflows
        P = np.clip(P, 1e-12, 1 - 1e-12)
        Y = rng.beta(concentration * P, concentration * (1.0 - P))
    else:
        Y = rng.binomial(int(k), P) / float(k)
    del P
    Y = np.clip(Y.astype(float), 0.0, 1.0)
    _mask_missing(Y, missing, rng)
    zeros = np.zeros(n_items)
    return {"Y": Y, "a": a, "b": b, "c": zeros, "d": zeros + 1.0, "theta": theta}


# ---------------------------------------------------------------------------
# the IRT benchmark grid: 2PL over slope spread, difficulty, ability shape and missingness
# ---------------------------------------------------------------------------

ABILITY_SHAPES = ("normal", "skewed", "bimodal")
"""Ability distributions of :func:`ability_dist`, each with mean 0 and sd 1."""

MISSINGNESS = ("none", "mcar30", "mnar50")
"""Missingness patterns of :func:`simulate_grid_2pl`."""

_GAMMA_SHAPE = 2.0  # skewness 2 / sqrt(2) = 1.41


def seed_from_label(label: str) -> int:
    """A 63-bit seed from a text label (SHA-256), stable across runs and platforms.

    Unlike ``hash()``, it does not change with ``PYTHONHASHSEED``, and unlike a
    loop counter it does not change when grid points are added or reordered.
    """
    import hashlib

    return int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:8], "little") >> 1


def ability_dist(shape: str) -> Callable[[np.random.Generator, int], np.ndarray]:
    """An ability distribution with population mean 0 and sd 1, as a callable ``f(rng, size)``.

    ``"normal"``: N(0, 1). ``"skewed"``: a shifted, scaled gamma with shape 2,
    ``(G - 2) / sqrt(2)`` (right-skewed, skewness 1.41: a few strong models,
    many weak ones). ``"bimodal"``: a 50/50 mixture of N(-1, 0.5^2) and
    N(1, 0.5^2), divided by sqrt(1.25) so that its sd is 1.
    """
    if shape == "normal":
        return lambda rng, size: rng.standard_normal(size)
    if shape == "skewed":
        k = _GAMMA_SHAPE
        return lambda rng, size: (rng.gamma(k, 1.0, size) - k) / np.sqrt(k)

    if shape == "bimodal":

        def _bimodal(rng: np.random.Generator, size: int) -> np.ndarray:
            sign = np.where(rng.random(size) < 0.5, -1.0, 1.0)
            return (sign + 0.5 * rng.standard_normal(size)) / np.sqrt(1.25)

        return _bimodal
    raise ValueError(f"unknown ability shape {shape!r}; known: {ABILITY_SHAPES}")


def mask_mnar(
    Y: np.ndarray,
    theta: np.ndarray,
    b: np.ndarray,
    rate: float,
    rng: np.random.Generator,
    strength: float = 1.0,
) -> np.ndarray:
    """Hide cells not at random: a model skips harder items (for it) more often.

    Cell ``(i, j)`` is set to NaN with probability
    ``sigmoid(strength * (b_j - theta_i) + c)``, where ``c`` is found by
    bisection so that the mean probability over the matrix is ``rate``
    (``theta``: the true abilities, ``b``: the true difficulties; ``c`` is
    solved on a strided sub-grid of at most 1000 x 1000 sorted values, so the
    realised rate is close to, not exactly, ``rate``). Modifies ``Y`` in place
    and returns it.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    if rate == 0.0:
        return Y
    theta = np.asarray(theta, float)
    b = np.asarray(b, float)
    # solve for c on an evenly strided sub-grid of at most 1000 x 1000 cells (sorted values,
    # so the sub-grid spans each distribution): cheap on 5000 x 10000, close to exact
    ts = np.sort(theta)[np.linspace(0, theta.size - 1, min(theta.size, 1000)).astype(int)]
    bs = np.sort(b)[np.linspace(0, b.size - 1, min(b.size, 1000)).astype(int)]
    sub = strength * (bs[None, :] - ts[:, None])
    lo, hi = -30.0, 30.0
    for _ in range(50):  # the mean is increasing in c
        c = 0.5 * (lo + hi)
        if float(_sigmoid(sub + c).mean()) < rate:
            lo = c
        else:
            hi = c
    p_skip = _sigmoid(strength * (b[None, :] - theta[:, None]) + 0.5 * (lo + hi))
    Y[rng.random(Y.shape) < p_skip] = np.nan
    return Y


def simulate_grid_2pl(
    n_models: int,
    n_items: int,
    *,
    sdlog: float = 0.4,
    b_mean: float = 0.0,
    b_sd: float = 1.1,
    ability: str = "normal",
    missing: str = "none",
    rng: np.random.Generator | int = 0,
) -> dict[str, Any]:
    """Simulate one point of the IRT benchmark grid: 2PL responses with known truth.

    ``a ~ lognormal(0, sdlog)``, ``b ~ N(b_mean, b_sd^2)``, ``theta`` from
    :func:`ability_dist` (``ability``), then ``missing``: ``"none"``;
    ``"mcar30"``, 30% of cells hidden completely at random; ``"mnar50"``, 50%
    hidden not at random by :func:`mask_mnar` (skip probability rising with
    ``b_j - theta_i``).

    ``rng`` is a ``numpy.random.Generator`` (used as is; pass one seeded with
    :func:`seed_from_label`) or an int seed. Draw order: a, b, theta,
    responses, missingness.

    Returns
    -------
    dict
        As :func:`simulate_2pl` (``Y``, ``a``, ``b``, ``c``, ``d``,
        ``theta``) plus ``missing_rate``, the realised fraction of NaN cells.
    """
    if missing not in MISSINGNESS:
        raise ValueError(f"unknown missingness {missing!r}; known: {MISSINGNESS}")
    if not sdlog >= 0:
        raise ValueError(f"sdlog must be >= 0, got {sdlog}")
    rng = np.random.default_rng(rng)  # a Generator is returned unchanged
    sim = _simulate_unidim(
        n_models,
        n_items,
        missing=0.30 if missing == "mcar30" else 0.0,
        seed=rng,
        a_dist=f"lognormal(0,{float(sdlog)!r})",
        b_dist=f"normal({float(b_mean)!r},{float(b_sd)!r})",
        c_dist=0.0,
        slip_dist=0.0,
        theta_dist=ability_dist(ability),
    )
    if missing == "mnar50":
        mask_mnar(sim["Y"], sim["theta"], sim["b"], 0.50, rng)
    sim["missing_rate"] = float(np.isnan(sim["Y"]).mean())
    return sim


def recovery(estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Parameter-recovery statistics of an estimate against the truth.

    Pairs where either value is not finite are left out (and counted).

    Parameters
    ----------
    estimate, truth : array_like
        1-D arrays of the same length.

    Returns
    -------
    dict
        ``corr`` (Pearson), ``slope`` and ``intercept`` of the least-squares
        line ``estimate ~ truth`` (slope 1 and intercept 0 mean no scale or
        shift error), ``rmse``, ``bias`` (mean of ``estimate - truth``), ``n``
        (pairs used) and ``n_nonfinite`` (pairs left out). Values are NaN
        when fewer than two pairs remain.
    """
    est = np.asarray(estimate, dtype=float).ravel()
    tru = np.asarray(truth, dtype=float).ravel()
    if est.shape != tru.shape:
        raise ValueError(f"estimate has {est.size} values, truth {tru.size}")
    ok = np.isfinite(est) & np.isfinite(tru)
    e, t = est[ok], tru[ok]
    n = int(ok.sum())
    out = {
        "corr": np.nan,
        "slope": np.nan,
        "intercept": np.nan,
        "rmse": np.nan,
        "bias": np.nan,
        "n": n,
        "n_nonfinite": int(est.size - n),
    }
    if n == 0:
        return out
    diff = e - t
    out["rmse"] = float(np.sqrt(np.mean(diff**2)))
    out["bias"] = float(np.mean(diff))
    if n >= 2:
        tc = t - t.mean()
        ec = e - e.mean()
        stt = float(tc @ tc)
        see = float(ec @ ec)
        if stt > 0:
            out["slope"] = float(tc @ ec / stt)
            out["intercept"] = float(e.mean() - out["slope"] * t.mean())
        if stt > 0 and see > 0:
            out["corr"] = float(tc @ ec / np.sqrt(stt * see))
    return out
