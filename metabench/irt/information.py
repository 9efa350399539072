"""Fisher information, standard errors and reliability of unidimensional IRT models.

Every function here is a pure, vectorised function of item parameters in the
metabench parameterisation

.. math::

    P_j(\\theta) = c_j + (d_j - c_j)\\,\\sigma\\big(a_j(\\theta - b_j)\\big),

with discrimination ``a``, difficulty ``b``, lower asymptote (guessing) ``c``
(0 unless 3PL/4PL) and upper asymptote ``d`` (1 unless 4PL). ``c`` and ``d``
may be omitted, which gives the 2PL (and, with ``a = 1``, the 1PL/Rasch model).
None of them depends on how the parameters were estimated.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from metabench.errors import InputError

__all__ = [
    "empirical_reliability",
    "item_information",
    "marginal_reliability",
    "standard_error",
    "test_information",
]

# |a (theta - b)| is clipped here before the logistic is evaluated. At 35 the
# logistic differs from 0 or 1 by 6e-16, so no probability computed below is
# exactly 0 or 1 and every logarithm stays finite; the effect on any statistic
# is below float64 resolution.
_Z_MAX = 35.0


# ---------------------------------------------------------------------------
# input checks shared with metabench.irt.diagnostics
# ---------------------------------------------------------------------------


def _check_items(
    a: ArrayLike, b: ArrayLike, c: ArrayLike | None = None, d: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Item parameters as float arrays of one shape (J,), validated."""
    a_ = np.atleast_1d(np.asarray(a, dtype=float))
    if a_.ndim != 1 or a_.size == 0:
        raise InputError(
            f"item parameters must be 1-D arrays with one value per item, got shape {a_.shape}",
            fix="pass discrimination_, difficulty_, guessing_, slipping_-derived arrays of shape (n_items,)",
        )
    n = a_.size

    def one(x: ArrayLike | None, name: str, default: float) -> np.ndarray:
        if x is None:
            return np.full(n, default)
        arr = np.asarray(x, dtype=float)
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        if arr.shape != (n,):
            raise InputError(
                f"item parameter {name} has shape {arr.shape} but a has shape ({n},)",
                fix="give a, b, c and d one value per item each",
            )
        return arr

    b_ = one(b, "b", 0.0)
    c_ = one(c, "c", 0.0)
    d_ = one(d, "d", 1.0)
    for name, arr in (("a (discrimination)", a_), ("b (difficulty)", b_)):
        if not np.all(np.isfinite(arr)):
            bad = np.flatnonzero(~np.isfinite(arr))
            raise InputError(
                f"{name} is not finite for item(s) {bad[:10].tolist()}",
                fix="drop or re-estimate those items before computing diagnostics",
            )
    if np.any(~np.isfinite(c_)) or np.any(c_ < 0) or np.any(c_ >= 1):
        bad = np.flatnonzero(~(np.isfinite(c_) & (c_ >= 0) & (c_ < 1)))
        raise InputError(
            f"c (lower asymptote) must be in [0, 1), not for item(s) {bad[:10].tolist()}",
            fix="pass the guessing parameters (0 for 1PL/2PL)",
        )
    if np.any(~np.isfinite(d_)) or np.any(d_ <= c_) or np.any(d_ > 1):
        bad = np.flatnonzero(~(np.isfinite(d_) & (d_ > c_) & (d_ <= 1)))
        raise InputError(
            f"d (upper asymptote) must satisfy c < d <= 1, not for item(s) {bad[:10].tolist()}",
            fix="pass d = 1 - slipping (1 unless 4PL)",
        )
    return a_, b_, c_, d_


def _check_theta(theta: ArrayLike, name: str = "theta") -> np.ndarray:
    """Abilities as a finite-or-infinite 1-D float array (NaN is refused)."""
    t = np.atleast_1d(np.asarray(theta, dtype=float))
    if t.ndim != 1:
        raise InputError(f"{name} must be 1-D, got shape {t.shape}", fix=f"pass {name} as an array of shape (n,)")
    if np.any(np.isnan(t)):
        bad = np.flatnonzero(np.isnan(t))
        raise InputError(
            f"{name} is NaN at position(s) {bad[:10].tolist()}",
            fix="remove the persons whose ability could not be estimated, or score them with EAP",
        )
    return t


# ---------------------------------------------------------------------------
# item response function and its derivatives
# ---------------------------------------------------------------------------


def _terms(
    theta: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    *,
    logs: bool = False,
    derivatives: bool = False,
    second: bool = False,
) -> dict[str, np.ndarray]:
    """Probabilities and, on request, log-probabilities and derivatives on a (len(theta), J) grid.

    Returns ``P`` and ``Q = 1 - P``; with ``logs=True`` also ``logP`` and
    ``logQ``; with ``derivatives=True`` also ``dP`` (first derivative in
    theta) and ``r = dP / (P Q)``; with ``second=True`` also ``d2P``. ``s =
    sigma(z)`` and ``q = 1 - s`` are evaluated separately, so that ``Q`` has no
    cancellation where ``P`` is close to 1; with ``|z| <= 35`` neither is ever 0.
    """
    z = np.clip(a * (np.asarray(theta, dtype=float)[:, None] - b), -_Z_MAX, _Z_MAX)
    s = expit(z)
    q = expit(-z)
    span = d - c
    P = c + span * s
    Q = (1.0 - d) + span * q
    out = {"P": P, "Q": Q}
    if logs:
        out["logP"] = np.log(P)
        out["logQ"] = np.log(Q)
    if derivatives or second:
        dP = a * span * s * q
        out["dP"] = dP
        out["r"] = dP / (P * Q)  # equals a for the 2PL
        if second:
            out["d2P"] = a * dP * (q - s)
    return out


# ---------------------------------------------------------------------------
# information
# ---------------------------------------------------------------------------


def item_information(
    theta: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike | None = None, d: ArrayLike | None = None
) -> np.ndarray:
    """Fisher information of each item at each ability.

    For a binary item with response function :math:`P(\\theta)`,

    .. math:: I_j(\\theta) = \\frac{P_j'(\\theta)^2}{P_j(\\theta)\\,(1 - P_j(\\theta))},
              \\qquad P_j' = a_j (d_j - c_j)\\,\\sigma_j (1 - \\sigma_j),

    which is exact for the 1PL to 4PL; for the 2PL it reduces to
    :math:`a_j^2 P_j (1 - P_j)`.

    Parameters
    ----------
    theta : array_like, shape (G,)
        Abilities (a grid or estimates).
    a, b : array_like, shape (J,)
        Discrimination and difficulty.
    c, d : array_like, shape (J,), optional
        Lower and upper asymptotes; default 0 and 1.

    Returns
    -------
    numpy.ndarray, shape (G, J)

    Examples
    --------
    >>> item_information([0.0], a=[1.0, 2.0], b=[0.0, 0.0])
    array([[0.25, 1.  ]])
    >>> item_information([0.0], a=[1.0], b=[0.0], c=[0.2]).round(4)  # 0.2**2 / (0.6 * 0.4)
    array([[0.1667]])
    """
    a_, b_, c_, d_ = _check_items(a, b, c, d)
    t = _check_theta(theta)
    tr = _terms(t, a_, b_, c_, d_, derivatives=True)
    return tr["r"] * tr["dP"]


def _check_mask(mask: ArrayLike | None, n_items: int) -> np.ndarray | None:
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.dtype != bool or m.shape != (n_items,):
        raise InputError(
            f"mask must be a boolean array of shape ({n_items},), got dtype {m.dtype} and shape {m.shape}",
            fix="pass a boolean array with True for the items to include",
        )
    return m


def test_information(
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    mask: ArrayLike | None = None,
) -> np.ndarray:
    """Test information: the sum of the item informations.

    Parameters
    ----------
    theta : array_like, shape (G,)
        Abilities.
    a, b, c, d : array_like, shape (J,)
        Item parameters (``c``, ``d`` optional, default 0 and 1).
    mask : array_like of bool, shape (J,), optional
        Items to include (e.g. a selected subset); all items by default.

    Returns
    -------
    numpy.ndarray, shape (G,)

    Examples
    --------
    >>> test_information([0.0, 1.0], a=[1.0, 2.0], b=[0.0, 1.0]).round(4)
    array([0.67  , 1.1966])
    >>> test_information([0.0], a=[1.0, 2.0], b=[0.0, 1.0], mask=[True, False])
    array([0.25])
    """
    info = item_information(theta, a, b, c, d)
    m = _check_mask(mask, info.shape[1])
    if m is not None:
        info = info[:, m]
    return info.sum(axis=1)


# The test below is a public function, not a pytest test.
test_information.__test__ = False  # type: ignore[attr-defined]


def standard_error(
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    mask: ArrayLike | None = None,
) -> np.ndarray:
    """Asymptotic standard error of the ML ability estimate, ``1 / sqrt(test information)``.

    Parameters
    ----------
    theta, a, b, c, d, mask
        As in :func:`test_information`.

    Returns
    -------
    numpy.ndarray, shape (G,)
        ``inf`` where the information is 0.

    Examples
    --------
    >>> standard_error([0.0], a=[2.0, 2.0, 2.0, 2.0], b=[0.0, 0.0, 0.0, 0.0])
    array([0.5])
    """
    info = test_information(theta, a, b, c, d, mask)
    with np.errstate(divide="ignore"):
        return 1.0 / np.sqrt(info)


# ---------------------------------------------------------------------------
# reliability
# ---------------------------------------------------------------------------


def marginal_reliability(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    *,
    sigma: float = 1.0,
    mu: float = 0.0,
    n_quad: int = 101,
    mask: ArrayLike | None = None,
) -> float:
    """Model-based marginal reliability of the ability scale.

    With abilities :math:`\\theta \\sim N(\\mu, \\sigma^2)` and test information
    :math:`I(\\theta)`, the posterior variance of :math:`\\theta` given a
    response pattern is approximately :math:`1 / (I(\\theta) + 1/\\sigma^2)`, and
    the marginal reliability is one minus its average over the population
    relative to the prior variance (Green et al., 1984):

    .. math::

        \\rho = 1 - \\frac{1}{\\sigma^2} E_\\theta\\!\\left[\\frac{1}{I(\\theta) + \\sigma^{-2}}\\right]
              = E_\\theta\\!\\left[\\frac{\\sigma^2}{\\sigma^2 + 1/I(\\theta)}\\right],

    the quantity computed by mirt's ``marginal_rxx``. The expectation is taken
    with ``n_quad``-point Gauss–Hermite quadrature. For a long test it is close
    to the squared correlation between true abilities and their EAP estimates.

    Parameters
    ----------
    a, b, c, d : array_like, shape (J,)
        Item parameters (``c``, ``d`` optional).
    sigma : float
        Standard deviation of the ability distribution (1 for 2PL–4PL; the
        estimated sigma for the 1PL/Rasch model).
    mu : float
        Mean of the ability distribution.
    n_quad : int
        Number of quadrature nodes.
    mask : array_like of bool, shape (J,), optional
        Items to include.

    Returns
    -------
    float
        In [0, 1).

    References
    ----------
    Green, B. F., Bock, R. D., Humphreys, L. G., Linn, R. L., & Reckase, M. D.
    (1984). Technical guidelines for assessing computerized adaptive tests.
    *Journal of Educational Measurement*, 21(4), 347–360.

    Examples
    --------
    >>> a = [1.5] * 20
    >>> b = list(np.linspace(-2, 2, 20))
    >>> round(marginal_reliability(a, b), 3)
    0.851
    """
    if not (np.isfinite(sigma) and sigma > 0):
        raise InputError(f"sigma must be a positive number, got {sigma}", fix="pass the ability standard deviation")
    if not np.isfinite(mu):
        raise InputError(f"mu must be finite, got {mu}", fix="pass the ability mean (0 by default)")
    if int(n_quad) < 2:
        raise InputError(f"n_quad must be at least 2, got {n_quad}", fix="use e.g. 101 quadrature nodes")
    nodes, weights = np.polynomial.hermite_e.hermegauss(int(n_quad))
    weights = weights / weights.sum()
    info = test_information(mu + sigma * nodes, a, b, c, d, mask)
    return float(np.sum(weights * (1.0 - 1.0 / (1.0 + sigma**2 * info))))


def empirical_reliability(theta_hat: ArrayLike, se: ArrayLike, estimator: Literal["eap", "ml"] = "eap") -> float:
    """Empirical reliability of ability estimates from the estimates and their standard errors.

    ``estimator="eap"`` (also for MAP) follows mirt's ``empirical_rxx``: the
    variance of posterior means plus the mean posterior variance is the
    ability variance (law of total variance), so

    .. math:: \\rho = \\frac{\\operatorname{var}(\\hat\\theta)}{\\operatorname{var}(\\hat\\theta) + \\overline{SE^2}}.

    ``estimator="ml"`` (also for WLE) treats the estimates as true ability
    plus independent error, :math:`\\operatorname{var}(\\hat\\theta) =
    \\operatorname{var}(\\theta) + \\overline{SE^2}`, so

    .. math:: \\rho = 1 - \\frac{\\overline{SE^2}}{\\operatorname{var}(\\hat\\theta)}

    (mirt's ``T_as_X = TRUE``), which can be negative for very noisy estimates.
    Variances use ``ddof=1``.

    Parameters
    ----------
    theta_hat : array_like, shape (N,)
        Ability estimates; must be finite.
    se : array_like, shape (N,)
        Their standard errors (posterior SDs for EAP).
    estimator : {"eap", "ml"}
        Kind of estimate, see above.

    Returns
    -------
    float

    Examples
    --------
    >>> round(empirical_reliability([-1.0, 0.0, 1.0], [0.5, 0.5, 0.5]), 4)
    0.8
    >>> round(empirical_reliability([-1.0, 0.0, 1.0], [0.5, 0.5, 0.5], estimator="ml"), 4)
    0.75
    """
    t = np.asarray(theta_hat, dtype=float)
    s = np.asarray(se, dtype=float)
    if t.ndim != 1 or s.shape != t.shape:
        raise InputError(
            f"theta_hat and se must be 1-D arrays of one shape, got {t.shape} and {s.shape}",
            fix="pass one estimate and one standard error per person",
        )
    if t.size < 2:
        raise InputError("empirical reliability needs at least 2 ability estimates", fix="pass more persons")
    bad = ~(np.isfinite(t) & np.isfinite(s))
    if np.any(bad):
        raise InputError(
            f"{int(bad.sum())} ability estimate(s) or standard error(s) are not finite "
            f"(first at position {int(np.flatnonzero(bad)[0])})",
            fix="use EAP/MAP/WLE scores, which are finite for all-correct and all-wrong patterns, "
            "or drop those persons explicitly",
        )
    if np.any(s < 0):
        raise InputError("standard errors must be non-negative", fix="pass standard errors, not variances")
    var_t = float(np.var(t, ddof=1))
    mse = float(np.mean(s**2))
    if estimator == "eap":
        total = var_t + mse
        return var_t / total if total > 0 else float("nan")
    if estimator == "ml":
        return 1.0 - mse / var_t if var_t > 0 else float("nan")
    raise InputError(f"unknown estimator {estimator!r}", fix='use "eap" (EAP/MAP) or "ml" (ML/WLE)')
