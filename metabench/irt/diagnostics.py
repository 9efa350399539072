"""Fit diagnostics of unidimensional IRT models: persons, items and models.

All functions are pure and vectorised over persons and items. They take item
parameters ``a, b, c, d`` in the metabench parameterisation

.. math:: P_j(\\theta) = c_j + (d_j - c_j)\\,\\sigma\\big(a_j(\\theta - b_j)\\big)

(``c`` and ``d`` optional, default 0 and 1), a response matrix ``Y`` of shape
(N, J) with NaN where a person (model) did not answer an item, and abilities
``theta`` of shape (N,). They do not depend on how the parameters were
estimated. The null distributions assume binary responses; partial-credit
scores are accepted but the reference distributions are then approximate.

Persons whose ability is infinite (a maximum-likelihood estimate for an
all-correct or all-wrong pattern) get NaN person statistics and are left out
of the item statistics; the ``n`` columns count what was used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.stats.multitest import multipletests

from metabench.errors import InputError
from metabench.irt.information import _check_items, _check_theta, _terms
from metabench.runs import ResponseMatrix

__all__ = [
    "LRTResult",
    "aic",
    "bic",
    "fit_groups",
    "flag_items",
    "flag_persons",
    "infit_outfit",
    "item_fit",
    "likelihood_ratio_test",
    "lz_star",
    "person_fit",
    "person_fit_lz",
]

Estimator = Literal["ml", "wle", "map", "eap"]


# ---------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------


def _labels(given: Sequence[str] | None, default: Sequence[str] | None, n: int, what: str) -> list[str]:
    if given is not None:
        labels = [str(x) for x in given]
        if len(labels) != n:
            raise InputError(f"{len(labels)} {what} labels for {n} {what}s", fix=f"give one label per {what}")
        return labels
    if default is not None:
        return [str(x) for x in default]
    return [str(i) for i in range(n)]


def _prepare(
    Y: ArrayLike | ResponseMatrix,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None,
    d: ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...], tuple[str, ...] | None, tuple[str, ...] | None]:
    """Validated (Y with 0 at missing cells, observed mask, theta, items, person labels, item labels)."""
    persons = items = None
    if isinstance(Y, ResponseMatrix):
        persons, items = Y.models, Y.items
        Y = Y.values
    y = np.asarray(Y, dtype=float)
    if y.ndim != 2:
        raise InputError(
            f"responses must be a 2-D (persons × items) array, got {y.ndim}-D",
            fix="average or select seeds first so that each (model, item) has one score",
        )
    params = _check_items(a, b, c, d)
    if y.shape[1] != params[0].size:
        raise InputError(
            f"responses have {y.shape[1]} items (columns) but {params[0].size} item parameters were given",
            fix="pass the item parameters of the fitted model, in column order",
        )
    t = _check_theta(theta)
    if t.shape[0] != y.shape[0]:
        raise InputError(
            f"responses have {y.shape[0]} persons (rows) but theta has {t.shape[0]} values",
            fix="pass one ability per row of the response matrix",
        )
    obs = ~np.isnan(y)
    vals = y[obs]
    if vals.size and (vals.min() < 0 or vals.max() > 1 or not np.all(np.isfinite(vals))):
        raise InputError(
            f"responses must lie in [0, 1] (NaN for missing); found values from {vals.min():g} to {vals.max():g}",
            fix="rescale scores to [0, 1] and code missing cells as NaN",
        )
    return np.where(obs, y, 0.0), obs, t, params, persons, items


def _r0(
    est: str, theta: np.ndarray, tr: dict[str, np.ndarray], obs: np.ndarray, prior_mean: float, prior_sd: float
) -> np.ndarray:
    """Derivative of the log prior / bias-correction term of the ability estimator (Snijders' r_0)."""
    if est == "ml":
        return np.zeros(theta.shape)
    if est == "wle":
        info = np.sum(np.where(obs, tr["r"] * tr["dP"], 0.0), axis=1)
        jay = np.sum(np.where(obs, tr["r"] * tr["d2P"], 0.0), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return jay / (2.0 * info)
    if est in ("map", "eap"):
        if not (np.isfinite(prior_sd) and prior_sd > 0 and np.isfinite(prior_mean)):
            raise InputError(
                f"prior_sd must be positive and prior_mean finite, got {prior_sd} and {prior_mean}",
                fix="pass the ability distribution used for scoring (N(0, 1) for 2PL–4PL)",
            )
        return -(theta - prior_mean) / prior_sd**2
    raise InputError(f"unknown estimator {est!r}", fix='use "ml", "wle", "map" or "eap"')


def _person_stats(
    yz: np.ndarray,
    obs: np.ndarray,
    t: np.ndarray,
    params: tuple[np.ndarray, ...],
    estimator: str | None,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
) -> dict[str, np.ndarray]:
    """lz, and lz* when an estimator is named, for every person (NaN where undefined)."""
    finite = np.isfinite(t)
    tt = np.where(finite, t, 0.0)
    tr = _terms(tt, *params, logs=True, derivatives=estimator is not None, second=estimator == "wle")
    P, Q = tr["P"], tr["Q"]
    w = tr["logP"] - tr["logQ"]
    pq = P * Q
    resid = np.where(obs, yz - P, 0.0)
    W = np.sum(resid * w, axis=1)
    var = np.sum(np.where(obs, pq * w**2, 0.0), axis=1)
    undefined = ~finite | (var <= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {"lz": np.where(undefined, np.nan, W / np.sqrt(var))}
        if estimator is not None:
            r = tr["r"]
            dP = np.where(obs, tr["dP"], 0.0)
            cn = np.sum(dP * w, axis=1) / np.sum(dP * r, axis=1)
            wt = w - cn[:, None] * r
            tau2 = np.sum(np.where(obs, wt**2 * pq, 0.0), axis=1)
            r0 = _r0(estimator, tt, tr, obs, prior_mean, prior_sd)
            star = (W + cn * r0) / np.sqrt(tau2)
            out["lz_star"] = np.where(undefined | ~(tau2 > 0), np.nan, star)
    return out


# ---------------------------------------------------------------------------
# person fit
# ---------------------------------------------------------------------------


def person_fit_lz(
    Y: ArrayLike | ResponseMatrix,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
) -> np.ndarray:
    """Standardised log-likelihood person-fit statistic :math:`l_z` (Drasgow, Levine & Williams, 1985).

    For person :math:`i` with log-likelihood :math:`l_0 = \\sum_j y_{ij}\\log P_{ij}
    + (1 - y_{ij})\\log(1 - P_{ij})` over the items they answered,

    .. math:: l_z = \\frac{l_0 - E(l_0)}{\\sqrt{\\operatorname{var}(l_0)}},\\quad
              E(l_0) = \\sum_j P_{ij}\\log P_{ij} + Q_{ij}\\log Q_{ij},\\quad
              \\operatorname{var}(l_0) = \\sum_j P_{ij}Q_{ij}\\log^2\\frac{P_{ij}}{Q_{ij}}.

    At the true ability :math:`l_z` has mean 0 and variance 1; large negative
    values indicate aberrant response patterns. With an *estimated* ability
    its variance is below 1 (the test is conservative); use :func:`lz_star`
    for estimated abilities.

    Parameters
    ----------
    Y : array_like or ResponseMatrix, shape (N, J)
        Responses in [0, 1], NaN where not answered.
    theta : array_like, shape (N,)
        Abilities.
    a, b, c, d : array_like, shape (J,)
        Item parameters (``c``, ``d`` optional).

    Returns
    -------
    numpy.ndarray, shape (N,)
        NaN for persons with no answered item or an infinite ability.

    Examples
    --------
    >>> Y = [[1, 1, 0], [0, 1, 1]]
    >>> person_fit_lz(Y, [0.0, 0.0], a=[1, 1, 1], b=[-1, 0, 1]).round(3)
    array([ 0.858, -2.332])
    """
    yz, obs, t, params, _, _ = _prepare(Y, theta, a, b, c, d)
    return _person_stats(yz, obs, t, params, None)["lz"]


def lz_star(
    Y: ArrayLike | ResponseMatrix,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    *,
    estimator: Estimator = "ml",
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
) -> np.ndarray:
    """Snijders' (2001) :math:`l_z^*`: :math:`l_z` corrected for an estimated ability.

    Writing :math:`w_j = \\log(P_j / Q_j)`, :math:`r_j = P_j' / (P_j Q_j)` and
    :math:`W = \\sum_j (y_j - P_j) w_j` (which equals :math:`l_0 - E(l_0)`), all
    evaluated at the estimate :math:`\\hat\\theta` that solves
    :math:`r_0(\\hat\\theta) + \\sum_j (y_j - P_j) r_j = 0`,

    .. math::

        c_n = \\frac{\\sum_j P_j' w_j}{\\sum_j P_j' r_j},\\qquad
        \\tilde w_j = w_j - c_n r_j,\\qquad
        l_z^* = \\frac{W + c_n r_0}{\\sqrt{\\sum_j \\tilde w_j^2 P_j Q_j}},

    which is asymptotically standard normal under the model. Sums run over
    the items the person answered. :math:`r_0` depends on the estimator that
    produced ``theta``:

    - ``"ml"``: maximum likelihood, :math:`r_0 = 0`;
    - ``"wle"``: Warm's weighted likelihood, :math:`r_0 = J/(2I)` with
      :math:`I = \\sum_j P_j'^2/(P_jQ_j)` and :math:`J = \\sum_j P_j'P_j''/(P_jQ_j)`;
    - ``"map"``: posterior mode with prior :math:`N(\\mu, s^2)`,
      :math:`r_0 = -(\\theta - \\mu)/s^2` (``prior_mean``, ``prior_sd``);
    - ``"eap"``: treated as ``"map"`` (EAP and MAP agree for long tests; an
      approximation for short ones).

    Using the wrong estimator makes the statistic miscalibrated. Aberrant
    patterns give low values; the lower-tail p-value is ``scipy.stats.norm.cdf(lz_star)``
    (see :func:`person_fit` and :func:`flag_persons`).

    Parameters
    ----------
    Y : array_like or ResponseMatrix, shape (N, J)
        Responses in [0, 1], NaN where not answered.
    theta : array_like, shape (N,)
        Ability estimates from ``estimator``.
    a, b, c, d : array_like, shape (J,)
        Item parameters (``c``, ``d`` optional).
    estimator : {"ml", "wle", "map", "eap"}
        How ``theta`` was estimated.
    prior_mean, prior_sd : float
        Ability prior for ``"map"``/``"eap"`` (N(0, 1) for 2PL–4PL; the
        estimated sigma for the 1PL).

    Returns
    -------
    numpy.ndarray, shape (N,)
        NaN for persons with no answered item or an infinite ability.

    References
    ----------
    Snijders, T. A. B. (2001). Asymptotic null distribution of person fit
    statistics with estimated person parameter. *Psychometrika*, 66(3), 331–342.

    Examples
    --------
    For the 2PL the ML estimate of the pattern below is 0 (score equation
    :math:`\\sum_j a_j(y_j - P_j) = 0`):

    >>> Y = [[1, 1, 0, 0]]
    >>> lz_star(Y, [0.0], a=[1, 1, 1, 1], b=[-1.5, -0.5, 0.5, 1.5]).round(3)
    array([1.041])
    """
    yz, obs, t, params, _, _ = _prepare(Y, theta, a, b, c, d)
    return _person_stats(yz, obs, t, params, estimator, prior_mean, prior_sd)["lz_star"]


def infit_outfit(
    Y: ArrayLike | ResponseMatrix,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    *,
    axis: Literal["item", "person"] = "item",
) -> tuple[np.ndarray, np.ndarray]:
    """Infit and outfit mean squares (Wright & Masters, 1982) per item or per person.

    With residuals :math:`e_{ij} = y_{ij} - P_{ij}` and variances
    :math:`W_{ij} = P_{ij}(1 - P_{ij})`, over the answered cells

    .. math:: \\text{outfit} = \\frac{1}{n}\\sum \\frac{e_{ij}^2}{W_{ij}},\\qquad
              \\text{infit} = \\frac{\\sum e_{ij}^2}{\\sum W_{ij}}.

    Both have expectation 1 under the model; outfit is sensitive to
    surprising answers far from a person's ability (lucky guesses, careless
    slips), infit (information-weighted) to misfit near it. Values above
    about 1.3 are commonly read as underfit, below 0.7 as overfit (too
    deterministic).

    Parameters
    ----------
    Y, theta, a, b, c, d
        As in :func:`person_fit_lz`.
    axis : {"item", "person"}
        Summarise over persons for each item, or over items for each person.

    Returns
    -------
    infit, outfit : numpy.ndarray
        Shape (J,) for ``axis="item"``, (N,) for ``axis="person"``; NaN where
        nothing was answered. Persons with infinite ability are left out of
        the item values and get NaN.

    Examples
    --------
    >>> infit, outfit = infit_outfit([[1, 0], [1, 1]], [0.0, 0.0], a=[1, 1], b=[0, 0], axis="person")
    >>> infit, outfit
    (array([1., 1.]), array([1., 1.]))
    """
    yz, obs, t, params, _, _ = _prepare(Y, theta, a, b, c, d)
    if axis not in ("item", "person"):
        raise InputError(f"unknown axis {axis!r}", fix='use "item" or "person"')
    return _mean_squares(yz, obs, t, params, 0 if axis == "item" else 1)


def _mean_squares(
    yz: np.ndarray, obs: np.ndarray, t: np.ndarray, params: tuple[np.ndarray, ...], axis: int
) -> tuple[np.ndarray, np.ndarray]:
    finite = np.isfinite(t)
    use = obs & finite[:, None]
    tr = _terms(np.where(finite, t, 0.0), *params)
    var = tr["P"] * tr["Q"]
    e2 = np.where(use, (yz - tr["P"]) ** 2, 0.0)
    n = use.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        outfit = np.sum(e2 / var, axis=axis) / n
        infit = np.sum(e2, axis=axis) / np.sum(np.where(use, var, 0.0), axis=axis)
    return np.where(n > 0, infit, np.nan), np.where(n > 0, outfit, np.nan)


def person_fit(
    Y: ArrayLike | ResponseMatrix,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    *,
    estimator: Estimator = "ml",
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    persons: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Person-fit table: :math:`l_z`, :math:`l_z^*` with lower-tail p-values, infit and outfit.

    Parameters
    ----------
    Y, theta, a, b, c, d
        As in :func:`person_fit_lz`.
    estimator, prior_mean, prior_sd
        How ``theta`` was estimated, as in :func:`lz_star`.
    persons : sequence of str, optional
        Person (model) labels; the ResponseMatrix's models or ``"0", "1", ...``.

    Returns
    -------
    polars.DataFrame
        Columns ``person, n_items, lz, lz_p, lz_star, lz_star_p, infit, outfit``,
        one row per person in input order. ``lz_p`` and ``lz_star_p`` are
        lower-tail standard-normal p-values (small = aberrant); pass
        ``lz_star`` to :func:`flag_persons` to correct for multiple testing.

    Examples
    --------
    >>> Y = [[1, 1, 0, 0], [0, 0, 1, 1]]
    >>> df = person_fit(Y, [0.0, 0.0], a=[1, 1, 1, 1], b=[-1.5, -0.5, 0.5, 1.5])
    >>> df.columns
    ['person', 'n_items', 'lz', 'lz_p', 'lz_star', 'lz_star_p', 'infit', 'outfit']
    >>> df["lz_star"].round(3).to_list()
    [1.041, -3.463]
    """
    yz, obs, t, params, default_persons, _ = _prepare(Y, theta, a, b, c, d)
    labels = _labels(persons, default_persons, t.size, "person")
    st = _person_stats(yz, obs, t, params, estimator, prior_mean, prior_sd)
    infit, outfit = _mean_squares(yz, obs, t, params, axis=1)
    return pl.DataFrame(
        {
            "person": labels,
            "n_items": obs.sum(axis=1).astype(np.int64),
            "lz": st["lz"],
            "lz_p": stats.norm.cdf(st["lz"]),
            "lz_star": st["lz_star"],
            "lz_star_p": stats.norm.cdf(st["lz_star"]),
            "infit": infit,
            "outfit": outfit,
        }
    )


_MULTITEST = {
    "holm": "holm",
    "bonferroni": "bonferroni",
    "bh": "fdr_bh",
    "fdr_bh": "fdr_bh",
    "by": "fdr_by",
    "fdr_by": "fdr_by",
    "hommel": "hommel",
    "none": None,
}


def flag_persons(
    lz_star: ArrayLike,
    alpha: float = 0.05,
    method: Literal["holm", "bh", "by", "bonferroni", "hommel", "none"] = "holm",
    *,
    persons: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Flag aberrant response patterns from :math:`l_z^*` with a multiple-testing correction.

    Each person is tested with the lower-tail p-value
    :math:`\\Phi(l_z^*)`; the p-values are adjusted with
    :func:`statsmodels.stats.multitest.multipletests` (``"holm"`` controls the
    family-wise error rate, ``"bh"`` the false discovery rate, ``"by"`` the
    FDR under any dependence, ``"none"`` no correction).

    Parameters
    ----------
    lz_star : array_like, shape (N,)
        Person-fit statistics that are standard normal under the model (lz*
        or, at known abilities, lz). NaN entries are not tested.
    alpha : float
        Family-wise error rate (``holm``, ``bonferroni``, ``hommel``) or false
        discovery rate (``bh``, ``by``).
    method : str
        Multiple-testing procedure.
    persons : sequence of str, optional
        Labels; ``"0", "1", ...`` by default.

    Returns
    -------
    polars.DataFrame
        Columns ``person, statistic, p_value, p_adjusted, aberrant``; one row
        per person in input order. Persons with a NaN statistic keep their row
        with NaN p-values and a null ``aberrant``; they do not count towards
        the number of tests.

    Examples
    --------
    >>> flag_persons([0.3, -4.0, float("nan"), -1.0], method="holm").select("person", "aberrant").rows()
    [('0', False), ('1', True), ('2', None), ('3', False)]
    """
    z = np.atleast_1d(np.asarray(lz_star, dtype=float))
    if z.ndim != 1:
        raise InputError(f"lz_star must be 1-D, got shape {z.shape}", fix="pass one statistic per person")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha}", fix="use e.g. 0.05")
    if method not in _MULTITEST:
        raise InputError(f"unknown multiple-testing method {method!r}", fix=f"use one of {sorted(_MULTITEST)}")
    labels = _labels(persons, None, z.size, "person")
    p = stats.norm.cdf(z)
    ok = ~np.isnan(z)
    p_adj = np.full(z.shape, np.nan)
    flagged = np.zeros(z.shape, dtype=bool)
    if ok.any():
        sm = _MULTITEST[method]
        if sm is None:
            p_adj[ok] = p[ok]
            flagged[ok] = p[ok] <= alpha
        else:
            reject, adj, _, _ = multipletests(p[ok], alpha=alpha, method=sm)
            p_adj[ok] = adj
            flagged[ok] = reject
    return pl.DataFrame(
        {
            "person": labels,
            "statistic": z,
            "p_value": p,
            "p_adjusted": p_adj,
            "aberrant": pl.Series(flagged, dtype=pl.Boolean),
        }
    ).with_columns(pl.when(pl.Series(ok)).then(pl.col("aberrant")).otherwise(None).alias("aberrant"))


# ---------------------------------------------------------------------------
# item fit
# ---------------------------------------------------------------------------


def _infer_n_params(a: np.ndarray, c: np.ndarray, d: np.ndarray) -> int:
    return 1 + int(np.any(a != a[0])) + int(np.any(c != 0)) + int(np.any(d != 1))


def _group_sums(
    yz: np.ndarray, obs: np.ndarray, t: np.ndarray, params: tuple[np.ndarray, ...], n_groups: int
) -> dict[str, np.ndarray]:
    """Per (group, item) counts and sums over persons grouped into ability quantiles."""
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) or n_groups < 2:
        raise InputError(f"n_groups must be an integer >= 2, got {n_groups!r}", fix="use e.g. 10 groups")
    finite = np.isfinite(t)
    nf = int(finite.sum())
    if nf < n_groups:
        raise InputError(
            f"{nf} persons with finite ability cannot fill {n_groups} groups",
            fix="use fewer groups or more persons",
        )
    tf, yf, of = t[finite], yz[finite], obs[finite].astype(float)
    order = np.argsort(tf, kind="stable")
    # the k-th smallest ability goes to group floor(k * G / N): equal sizes up to one
    starts = np.searchsorted((np.arange(nf) * n_groups) // nf, np.arange(n_groups))
    tf, yf, of = tf[order], yf[order], of[order]
    P = _terms(tf, *params)["P"]

    def sums(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, starts, axis=0)

    return {"n": sums(of), "observed": sums(yf), "expected": sums(P * of), "theta": sums(tf[:, None] * of)}


def item_fit(
    Y: ArrayLike | ResponseMatrix,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    *,
    n_groups: int = 10,
    n_params: int | None = None,
    items: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Item-fit table: Yen's :math:`Q_1` chi-square with p-values, infit and outfit.

    Persons are sorted by ability and cut into ``n_groups`` groups of equal
    size (quantile groups; tied abilities are split in input order). For item :math:`j` and group :math:`g` with
    :math:`N_{gj}` answers, observed proportion :math:`O_{gj}` and expected
    proportion :math:`E_{gj}` (the mean of :math:`P_j(\\theta_i)` over those
    answers),

    .. math:: Q_{1j} = \\sum_g \\frac{N_{gj}(O_{gj} - E_{gj})^2}{E_{gj}(1 - E_{gj})},

    referred to a chi-square with ``(groups with answers) - n_params`` degrees
    of freedom (Yen, 1981). The reference distribution is approximate: it
    assumes ``theta`` close to the true abilities (with shrunken EAP
    estimates or short tests :math:`Q_1` rejects too often) and groups large
    enough for the normal approximation (expected counts of at least about 5).
    Infit and outfit are as in :func:`infit_outfit`.

    Parameters
    ----------
    Y, theta, a, b, c, d
        As in :func:`person_fit_lz`.
    n_groups : int
        Number of ability groups.
    n_params : int, optional
        Estimated parameters per item subtracted from the degrees of freedom.
        By default inferred from the parameters: 1 (difficulty), plus 1 if
        the discriminations differ, plus 1 if any ``c > 0``, plus 1 if any
        ``d < 1`` (so 1PL 1, 2PL 2, 3PL 3, 4PL 4). Use 0 for known parameters.
    items : sequence of str, optional
        Item labels; the ResponseMatrix's items or ``"0", "1", ...``.

    Returns
    -------
    polars.DataFrame
        Columns ``item, n, q1, df, p_value, infit, outfit``; one row per item
        in input order. ``n`` is the number of answers used; ``p_value`` is
        NaN where ``df <= 0``.

    References
    ----------
    Yen, W. M. (1981). Using simulation results to choose a latent trait
    model. *Applied Psychological Measurement*, 5(2), 245–262.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=400)
    >>> a, b = np.array([1.0, 1.5, 0.7]), np.array([-0.5, 0.0, 0.8])
    >>> Y = (rng.random((400, 3)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    >>> fit = item_fit(Y, theta, a, b, n_groups=5, n_params=0)
    >>> fit.columns
    ['item', 'n', 'q1', 'df', 'p_value', 'infit', 'outfit']
    >>> fit["df"].to_list()
    [5, 5, 5]
    """
    yz, obs, t, params, _, default_items = _prepare(Y, theta, a, b, c, d)
    labels = _labels(items, default_items, params[0].size, "item")
    if n_params is None:
        k = _infer_n_params(params[0], params[2], params[3])
    elif isinstance(n_params, (int, np.integer)) and not isinstance(n_params, bool) and n_params >= 0:
        k = int(n_params)
    else:
        raise InputError(f"n_params must be a non-negative integer, got {n_params!r}", fix="use e.g. 2 for a 2PL")
    g = _group_sums(yz, obs, t, params, n_groups)
    n, o, e = g["n"], g["observed"], g["expected"]
    has = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        pe = e / n
        term = np.where(has, (o - e) ** 2 / (n * pe * (1.0 - pe)), 0.0)
    q1 = term.sum(axis=0)
    df = has.sum(axis=0) - k
    with np.errstate(invalid="ignore"):
        p = np.where(df > 0, stats.chi2.sf(q1, np.maximum(df, 1)), np.nan)
    infit, outfit = _mean_squares(yz, obs, t, params, axis=0)
    return pl.DataFrame(
        {
            "item": labels,
            "n": n.sum(axis=0).round().astype(np.int64),
            "q1": q1,
            "df": df.astype(np.int64),
            "p_value": p,
            "infit": infit,
            "outfit": outfit,
        }
    )


def fit_groups(
    Y: ArrayLike | ResponseMatrix,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike | None = None,
    d: ArrayLike | None = None,
    *,
    n_groups: int = 10,
    items: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Observed against expected proportion correct in ability groups, for plotting item fit.

    The groups are those of :func:`item_fit`.

    Returns
    -------
    polars.DataFrame
        Columns ``item, group, n, theta, observed, expected``: for each item
        and group (0 = lowest ability), the number of answers, their mean
        ability, the observed mean score and the model's mean probability.
        Groups in which an item has no answer have ``n = 0`` and NaN means.

    Examples
    --------
    >>> fg = fit_groups([[0], [0], [1], [1]], [-1.0, -0.5, 0.5, 1.0], a=[1.0], b=[0.0], n_groups=2)
    >>> fg.select("group", "n", "observed").rows()
    [(0, 2, 0.0), (1, 2, 1.0)]
    """
    yz, obs, t, params, _, default_items = _prepare(Y, theta, a, b, c, d)
    labels = _labels(items, default_items, params[0].size, "item")
    g = _group_sums(yz, obs, t, params, n_groups)
    n = g["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {k: np.where(n > 0, g[k] / n, np.nan) for k in ("theta", "observed", "expected")}
    n_items = len(labels)
    return pl.DataFrame(
        {
            "item": np.repeat(np.asarray(labels, dtype=object), n_groups).astype(str),
            "group": np.tile(np.arange(n_groups, dtype=np.int64), n_items),
            "n": n.T.ravel().round().astype(np.int64),
            "theta": means["theta"].T.ravel(),
            "observed": means["observed"].T.ravel(),
            "expected": means["expected"].T.ravel(),
        }
    )


def flag_items(
    a: ArrayLike,
    b: ArrayLike | None = None,
    *,
    Y: ArrayLike | ResponseMatrix | None = None,
    threshold: float = 0.2,
    items: Sequence[str] | None = None,
    keep_all: bool = False,
) -> pl.DataFrame:
    """Flag suspicious items: negative or near-zero discrimination, and items without variation.

    - ``negative_discrimination``: :math:`a_j < 0` — stronger models do worse
      on the item, most often a wrong answer key;
    - ``low_discrimination``: :math:`0 \\le a_j < ` ``threshold`` — the item
      hardly separates models (noise, ambiguity);
    - with responses ``Y``: ``all_correct`` / ``none_correct`` — every
      answer scores 1 (or 0), so the item carries no information about the
      models answering it; ``no_responses`` — nobody answered it.

    Parameters
    ----------
    a : array_like, shape (J,)
        Discriminations.
    b : array_like, shape (J,), optional
        Difficulties, shown in the table.
    Y : array_like or ResponseMatrix, shape (N, J), optional
        Responses in [0, 1] with NaN for missing.
    threshold : float
        Discriminations with ``|a| < threshold`` are flagged as low.
    items : sequence of str, optional
        Item labels; the ResponseMatrix's items or ``"0", "1", ...``.
    keep_all : bool
        Return every item instead of only the flagged ones.

    Returns
    -------
    polars.DataFrame
        Columns ``item, discrimination, difficulty, n, mean_score,
        negative_discrimination, low_discrimination, all_correct,
        none_correct, no_responses, reason``. ``difficulty`` is null without
        ``b``; ``n`` and ``mean_score`` are null without ``Y``; ``reason`` joins
        the names of the flags raised.

    Examples
    --------
    >>> Y = [[1, 1, 0, 1], [1, 0, 0, 0], [1, 1, 1, 0]]
    >>> flag_items([1.2, -0.8, 0.05, 1.0], Y=Y).select("item", "reason").rows()
    [('0', 'all_correct'), ('1', 'negative_discrimination'), ('2', 'low_discrimination')]
    """
    a_ = np.atleast_1d(np.asarray(a, dtype=float))
    if a_.ndim != 1 or not np.all(np.isfinite(a_)):
        raise InputError(
            "a must be a 1-D array of finite discriminations", fix="pass discrimination_ of a fitted model"
        )
    n_items = a_.size
    b_ = None if b is None else _check_items(a_, b)[1]
    if not (np.isfinite(threshold) and threshold >= 0):
        raise InputError(f"threshold must be a non-negative number, got {threshold}", fix="use e.g. 0.2")
    default_items = None
    n = mean = None
    if Y is not None:
        if isinstance(Y, ResponseMatrix):
            default_items = Y.items
            Y = Y.values
        y = np.asarray(Y, dtype=float)
        if y.ndim != 2 or y.shape[1] != n_items:
            raise InputError(
                f"responses have shape {y.shape} but {n_items} discriminations were given",
                fix="pass a (persons × items) matrix with one column per item",
            )
        obs = ~np.isnan(y)
        n = obs.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(obs, y, 0.0).sum(axis=0) / n
        mean = np.where(n > 0, mean, np.nan)
    labels = _labels(items, default_items, n_items, "item")
    df = pl.DataFrame(
        {
            "item": labels,
            "discrimination": a_,
            "difficulty": pl.Series(b_, dtype=pl.Float64)
            if b_ is not None
            else pl.Series([None] * n_items, dtype=pl.Float64),
            "n": pl.Series(n, dtype=pl.Int64) if n is not None else pl.Series([None] * n_items, dtype=pl.Int64),
            "mean_score": pl.Series(mean, dtype=pl.Float64, nan_to_null=True)
            if mean is not None
            else pl.Series([None] * n_items, dtype=pl.Float64),
        }
    )
    has_y = Y is not None
    df = df.with_columns(
        (pl.col("discrimination") < 0).alias("negative_discrimination"),
        ((pl.col("discrimination") >= 0) & (pl.col("discrimination").abs() < threshold)).alias("low_discrimination"),
        ((pl.col("mean_score") == 1.0).fill_null(False) if has_y else pl.lit(None, pl.Boolean)).alias("all_correct"),
        ((pl.col("mean_score") == 0.0).fill_null(False) if has_y else pl.lit(None, pl.Boolean)).alias("none_correct"),
        ((pl.col("n") == 0) if has_y else pl.lit(None, pl.Boolean)).alias("no_responses"),
    )
    flags = ["negative_discrimination", "low_discrimination", "all_correct", "none_correct", "no_responses"]
    df = df.with_columns(
        pl.concat_str(
            [pl.when(pl.col(f).fill_null(False)).then(pl.lit(f)) for f in flags], separator="; ", ignore_nulls=True
        ).alias("reason")
    )
    if not keep_all:
        df = df.filter(pl.col("reason") != "")
    return df


# ---------------------------------------------------------------------------
# model comparison
# ---------------------------------------------------------------------------


def _as_float_or_array(x: np.ndarray) -> float | np.ndarray:
    return float(x) if x.ndim == 0 else x


def aic(loglik: ArrayLike, n_params: ArrayLike) -> float | np.ndarray:
    """Akaike information criterion, ``-2 loglik + 2 k``; smaller is better.

    Examples
    --------
    >>> aic(-100.0, 3)
    206.0
    """
    ll = np.asarray(loglik, dtype=float)
    k = np.asarray(n_params, dtype=float)
    return _as_float_or_array(-2.0 * ll + 2.0 * k)


def bic(loglik: ArrayLike, n_params: ArrayLike, n_obs: ArrayLike) -> float | np.ndarray:
    """Bayesian information criterion, ``-2 loglik + k log(n_obs)``; smaller is better.

    For IRT models ``n_obs`` is conventionally the number of persons (here:
    models evaluated), as in mirt, not the number of responses.

    Examples
    --------
    >>> round(bic(-100.0, 3, 50), 4)
    211.7361
    """
    ll = np.asarray(loglik, dtype=float)
    k = np.asarray(n_params, dtype=float)
    n = np.asarray(n_obs, dtype=float)
    if np.any(n <= 0):
        raise InputError("n_obs must be positive", fix="pass the number of persons the model was fitted to")
    return _as_float_or_array(-2.0 * ll + k * np.log(n))


class LRTResult(NamedTuple):
    """Likelihood-ratio test result; unpacks as ``(statistic, p_value)``."""

    statistic: float
    p_value: float


def likelihood_ratio_test(
    loglik_restricted: float,
    loglik_full: float,
    df: int,
    *,
    boundary: bool | int = False,
) -> LRTResult:
    """Likelihood-ratio test of a restricted model nested in a full one.

    The statistic :math:`2(\\ell_{full} - \\ell_{restricted})` is referred to a
    chi-square with ``df`` degrees of freedom (the difference in free
    parameters).

    Boundary caveat: when the null value of a parameter is on the boundary of
    its space — testing no guessing (``c = 0``) or no slipping (``d = 1``), or
    a zero variance — the chi-square reference is wrong (too conservative).
    With ``boundary=m`` (``True`` means 1), ``m`` of the ``df`` restricted
    parameters are taken to lie on the boundary and the p-value uses the
    chi-bar-square mixture (Self & Liang, 1987)

    .. math:: p = \\sum_{k=0}^{m} \\binom{m}{k} 2^{-m}\\,
              P\\big(\\chi^2_{df - m + k} \\ge \\text{stat}\\big),

    with :math:`\\chi^2_0` a point mass at 0. For ``m = 1`` this is the
    familiar :math:`\\tfrac12\\chi^2_{df-1} + \\tfrac12\\chi^2_{df}`. The weights
    are exact when the estimates of the boundary parameters are asymptotically
    uncorrelated and otherwise an approximation; and when the boundary
    parameters are not identified under the null (e.g. guessing in a model
    whose other parameters also change), no simple mixture is exact.

    Parameters
    ----------
    loglik_restricted, loglik_full : float
        Maximised log-likelihoods of the nested and the larger model.
    df : int
        Number of parameters fixed by the restriction.
    boundary : bool or int
        Number of restricted parameters on the boundary of the parameter
        space (``False``: none).

    Returns
    -------
    LRTResult
        Named tuple ``(statistic, p_value)``.

    References
    ----------
    Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum
    likelihood estimators and likelihood ratio tests under nonstandard
    conditions. *JASA*, 82(398), 605–610.

    Examples
    --------
    >>> res = likelihood_ratio_test(-1050.0, -1040.0, df=5)
    >>> round(res.statistic, 2), round(res.p_value, 5)
    (20.0, 0.00125)
    >>> round(likelihood_ratio_test(-10.0, -8.0, df=1, boundary=True).p_value, 5)
    0.02275
    """
    llr, llf = float(loglik_restricted), float(loglik_full)
    if not (np.isfinite(llr) and np.isfinite(llf)):
        raise InputError("log-likelihoods must be finite", fix="check that both models converged")
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise InputError(f"df must be a positive integer, got {df!r}", fix="pass the difference in free parameters")
    m = int(boundary)
    if isinstance(boundary, (float, np.floating)) or not 0 <= m <= df:
        raise InputError(
            f"boundary must be False, True or an integer in [0, df], got {boundary!r}",
            fix="pass the number of restricted parameters whose null value is on the boundary",
        )
    stat = 2.0 * (llf - llr)
    if stat < 0:
        if stat < -1e-6 * max(1.0, abs(llf)):
            raise InputError(
                f"the restricted model fits better than the full one (log-likelihoods {llr:g} > {llf:g})",
                fix="pass the restricted (nested) model first, and check that the full model converged",
            )
        stat = 0.0
    if m == 0:
        p = float(stats.chi2.sf(stat, df))
    else:
        k = np.arange(m + 1)
        w = stats.binom.pmf(k, m, 0.5)
        dfs = df - m + k
        sf = np.where(dfs > 0, stats.chi2.sf(stat, np.maximum(dfs, 1)), float(stat <= 0))
        p = float(np.sum(w * sf))
    return LRTResult(stat, min(p, 1.0))
