"""Person-fit statistics and their simulation, behind :func:`metabench.analysis.contamination.person_fit_test`.

Item parameters are used in slope–intercept form, ``P = c + (d - c) σ(a θ + δ)``,
which stays finite for items whose discrimination is close to zero (their
difficulty ``-δ / a`` is not).

The leave-one-out calibration treats the items as random and the models'
abilities as fixed: the items get a smooth prior on a grid of (slope,
intercept) points, a log-polynomial exponential family (Efron's
"g-modelling" of empirical Bayes deconvolution, Efron 2016), estimated
jointly with the abilities by maximising the marginal likelihood of the item
columns. With few models and many items this is the model whose estimates are
consistent (each ability is determined by many items, the item distribution
by many items), unlike abilities scored against items fitted to a handful of
models. An item's posterior without one model is then exact on the grid: its
log-likelihood at each point, minus that model's own term, plus the log
prior. The prior has a handful of parameters fitted to hundreds of items, so
the tested model's own responses barely shape it; a nonparametric (NPMLE)
prior does not do as well on either count: fitted with the tested model it
learns that model's pattern (conservative tests), refitted without it its
spiky posteriors are overconfident (liberal tests).

References
----------
Efron, B. (2016). Empirical Bayes deconvolution estimates. *Biometrika*,
103(1), 1–20.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logsumexp

from metabench.irt.diagnostics import lz_star

__all__: list[str] = []

_Z_MAX = 35.0
MAX_NEWTON = 100
CHUNK_CELLS = 2_000_000
"""Largest (simulations × items) block simulated at once."""
FIRST_BLOCK = 100
"""Size of the first block of simulations; later blocks double."""
SEQUENTIAL_H = 20
"""Exceedances after which the sequential Monte Carlo p-value stops simulating."""
GRID_SLOPES = 20
"""Slope values of the item grid (models with free slopes)."""
GRID_INTERCEPTS = 60
"""Intercept values of the item grid (models with free slopes)."""
GRID_INTERCEPTS_ONLY = 200
"""Intercept values of the item grid when every item has the same slope (1PL)."""
PRIOR_DEGREE = 4
"""Total degree of the log-polynomial item prior over (slope, intercept)."""
PRIOR_DEGREE_1D = 6
"""Degree of the log-polynomial item prior over the intercept alone (1PL)."""
PRIOR_RIDGE = 1e-2
"""Ridge penalty on the prior's coefficients (standardised basis); keeps them finite on degenerate data."""
PRIOR_MAX_ITER = 100
"""Most Newton steps of the final prior fit."""
JOINT_MAX_ITER = 20
"""Most ability updates in the joint fit of abilities and item prior."""
JOINT_PRIOR_ITER = 3
"""Newton steps on the prior between two ability updates."""
JOINT_TOL = 1e-3
"""The joint fit stops when no (standardised) ability moves by more than this."""
_P_MIN = 1e-300
TIE_TOL = 1e-9
"""Easiness values (success probabilities) closer than this are tied in the Guttman count."""


def probabilities(theta: np.ndarray, a: np.ndarray, delta: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Success probabilities on a (len(theta), J) grid."""
    s = expit(np.clip(np.asarray(theta, dtype=float)[:, None] * a + delta, -_Z_MAX, _Z_MAX))
    return c + (d - c) * s


def map_theta(
    y: np.ndarray, obs: np.ndarray, a: np.ndarray, delta: np.ndarray, c: np.ndarray, d: np.ndarray, sd: float
) -> np.ndarray:
    """Posterior-mode abilities (prior N(0, sd²)) of the rows of ``y`` by Fisher scoring, vectorised over rows.

    ``y`` holds 0/1 with anything at unobserved cells (``obs`` False); steps
    are clipped to ±1 on the logit scale.
    """
    theta = np.zeros(y.shape[0])
    span = d - c
    for _ in range(MAX_NEWTON):
        s = expit(np.clip(theta[:, None] * a + delta, -_Z_MAX, _Z_MAX))
        p = c + span * s
        q = (1.0 - d) + span * (1.0 - s)
        dp = a * span * s * (1.0 - s)
        grad = np.sum(np.where(obs, (y - p) * dp / (p * q), 0.0), axis=1) - theta / sd**2
        info = np.sum(np.where(obs, dp * dp / (p * q), 0.0), axis=1) + 1.0 / sd**2
        step = np.clip(grad / info, -1.0, 1.0)
        theta = theta + step
        if float(np.max(np.abs(step), initial=0.0)) < 1e-9:
            break
    return theta


def lz_map(
    y: np.ndarray,
    obs: np.ndarray,
    theta: np.ndarray,
    a: np.ndarray,
    delta: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    sd: float,
) -> np.ndarray:
    """Snijders' lz* at posterior-mode abilities, through :func:`metabench.irt.diagnostics.lz_star`."""
    a_safe = np.where(np.abs(a) < 1e-10, np.where(a < 0, -1e-10, 1e-10), a)
    return lz_star(
        np.where(obs, y, np.nan), theta, a_safe, -delta / a_safe, c, d, estimator="map", prior_mean=0.0, prior_sd=sd
    )


def guttman(y: np.ndarray, obs: np.ndarray, easiness: np.ndarray) -> np.ndarray:
    """Normed Guttman errors G* of each row of ``y`` against one item ordering.

    A Guttman error is a pair of answered items, one easier than the other by
    ``easiness``, with the easier one wrong and the harder one right; pairs
    tied in easiness count one half. G* divides the count by its largest
    possible value ``r (n - r)`` (``r`` right out of ``n`` answered), so it lies
    in [0, 1]; it is 0 when all answered items are right or all wrong (no
    pair can be out of order) and NaN when none was answered.

    Easiness values within ``TIE_TOL`` of their neighbour in sorted order are
    tied: items that are the same in the data (answered alike by every other
    model) can come out of the fit a rounding error apart, and an order decided
    by rounding would make G* turn on the last bits of a sum.
    """
    order = np.argsort(-easiness, kind="stable")
    e = easiness[order]
    ones = (obs & (y == 1))[:, order].astype(float)
    zeros = (obs & (y == 0))[:, order].astype(float)
    starts = np.flatnonzero(np.r_[True, (e[:-1] - e[1:]) > TIE_TOL])
    ones_g = np.add.reduceat(ones, starts, axis=1)
    zeros_g = np.add.reduceat(zeros, starts, axis=1)
    zeros_before = np.cumsum(zeros_g, axis=1) - zeros_g
    errors = np.sum(ones_g * zeros_before, axis=1) + 0.5 * np.sum(ones_g * zeros_g, axis=1)
    r = ones.sum(axis=1)
    n = r + zeros.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        normed = np.where((r > 0) & (r < n), errors / (r * (n - r)), 0.0)
    return np.where(n > 0, normed, np.nan)


def sequential_pvalues(
    rng: np.random.Generator,
    generate: np.ndarray,
    easiness: np.ndarray,
    a: np.ndarray,
    delta: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    sd: float,
    lz_obs: float,
    g_obs: float,
    n_max: int,
    h: int = SEQUENTIAL_H,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Monte Carlo p-values of lz* (lower tail) and G* (upper tail) of one model, by sequential simulation.

    All arrays are over the items the model answered. Response vectors are
    drawn with success probabilities ``generate`` (independent items); each
    gets its own posterior-mode ability under the items ``a, delta, c, d``, as
    the observed one did, and G* orders the items by ``easiness``. Simulation
    stops once both statistics have ``h`` simulated values at least as extreme
    as the observed one (Besag & Clifford 1991): the p-value is then ``h / L``
    with ``L`` the draw that brought the ``h``-th; otherwise, after ``n_max``
    draws with ``G`` such values, ``(G + 1) / (n_max + 1)``. Both are valid
    p-values; large ones cost few draws, and small ones down to
    ``1 / (n_max + 1)`` can be reached.

    Returns
    -------
    p : numpy.ndarray
        (2,) p-values of lz* and G*; NaN where the observed statistic is NaN.
    n_each : numpy.ndarray
        (2,) draws each p-value rests on: ``L`` where it stopped early, else the
        draws simulated (its Monte Carlo standard error is ``sqrt(p (1 - p) / n_each)``).
    n_used : int
        Draws simulated.
    """
    n_items = generate.size
    observed = np.array([lz_obs, g_obs])
    active = np.isfinite(observed)
    counts = np.zeros(2, dtype=np.int64)
    stop_at = np.zeros(2, dtype=np.int64)
    cap = max(1, CHUNK_CELLS // max(1, n_items))
    block = min(FIRST_BLOCK, cap)
    done = 0
    while done < n_max and np.any(active & (stop_at == 0)):
        m = min(block, n_max - done)
        block = min(2 * block, cap)
        ys = (rng.random((m, n_items)) < generate).astype(float)
        obs = np.ones(ys.shape, dtype=bool)
        th = map_theta(ys, obs, a, delta, c, d, sd)
        lz = lz_map(ys, obs, th, a, delta, c, d, sd)
        g = guttman(ys, obs, easiness)
        with np.errstate(invalid="ignore"):
            hits = np.stack([lz <= lz_obs, g >= g_obs])  # NaN compares False: not as extreme
        for s in range(2):
            if stop_at[s] or not active[s]:
                continue
            cum = counts[s] + np.cumsum(hits[s])
            reached = np.flatnonzero(cum >= h)
            if reached.size:
                stop_at[s] = done + int(reached[0]) + 1
            counts[s] = int(cum[-1]) if not reached.size else h
        done += m
    pv = np.full(2, np.nan)
    for s in range(2):
        if active[s]:
            pv[s] = h / stop_at[s] if stop_at[s] else (counts[s] + 1.0) / (n_max + 1.0)
    return pv, np.where(stop_at > 0, stop_at, done), done


# ---------------------------------------------------------------------------
# leave-one-out item calibration with a smooth item prior on a grid
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemGrid:
    """A prior for the items on a grid of (slope, intercept) points and the items' log-likelihoods on it.

    Attributes
    ----------
    slopes, intercepts : numpy.ndarray
        (G,) grid points in slope–intercept form.
    log_prior : numpy.ndarray
        (G,) log weights of the grid points: the fitted log-polynomial prior of the items.
    loglik : numpy.ndarray
        (J, G) log-likelihood of each item's column of responses at each grid point, summed over models.
    success : numpy.ndarray
        (N, G) logistic part σ(aθ + δ) of an item at each grid point for each model (before the item's
        asymptotes).
    c, d : numpy.ndarray
        (J,) the items' asymptotes, held at their estimates.
    theta : numpy.ndarray
        (N,) the models' abilities, standardised to mean 0 and standard deviation 1 (the grid moved with them).
    n_iter : int
        Ability updates of the joint fit.
    """

    slopes: np.ndarray
    intercepts: np.ndarray
    log_prior: np.ndarray
    loglik: np.ndarray
    success: np.ndarray
    c: np.ndarray
    d: np.ndarray
    theta: np.ndarray
    n_iter: int


def _grid(a: np.ndarray, delta: np.ndarray, free_slope: bool) -> tuple[np.ndarray, np.ndarray]:
    """Grid points over the range of the estimated items (slopes × intercepts, or intercepts alone)."""
    lo, hi = float(np.min(delta)), float(np.max(delta))
    if not free_slope or float(np.ptp(a)) < 1e-8:
        gd = np.linspace(lo, hi, GRID_INTERCEPTS_ONLY) if hi > lo else np.array([lo])
        return np.full(gd.size, float(np.mean(a))), gd
    gd = np.linspace(lo, hi, GRID_INTERCEPTS) if hi > lo else np.array([lo])
    ga = np.linspace(float(np.min(a)), float(np.max(a)), GRID_SLOPES)
    mesh_a, mesh_d = np.meshgrid(ga, gd, indexing="ij")
    return mesh_a.ravel(), mesh_d.ravel()


def prior_basis(
    slopes: np.ndarray, intercepts: np.ndarray, degree: int = PRIOR_DEGREE, degree_1d: int = PRIOR_DEGREE_1D
) -> np.ndarray:
    """Monomials of the standardised grid coordinates, shape (G, p), constant term excluded.

    With two free coordinates, every ``u**i * v**k`` with ``1 <= i + k <= degree``
    (``u`` the slope, ``v`` the intercept, each standardised over the grid);
    when the slope is the same at every point, ``v, v**2, ..., v**degree_1d``.
    A grid of one point has no free coordinate and an empty basis.
    """

    def z(x: np.ndarray) -> np.ndarray | None:
        sd = float(np.std(x))
        return (x - float(np.mean(x))) / sd if sd > 1e-12 else None

    u, v = z(np.asarray(slopes, dtype=float)), z(np.asarray(intercepts, dtype=float))
    if u is None and v is None:
        return np.zeros((np.size(slopes), 0))
    if u is None or v is None:
        w = v if u is None else u
        return np.stack([w**k for k in range(1, degree_1d + 1)], axis=1)
    return np.stack([u**i * v ** (t - i) for t in range(1, degree + 1) for i in range(t + 1)], axis=1)


def log_weights(basis: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Log prior weights of the grid points: ``basis @ coef`` normalised to sum to one."""
    z = basis @ coef
    return z - logsumexp(z)


def fit_prior(
    lik: np.ndarray,
    basis: np.ndarray,
    start: np.ndarray | None = None,
    max_iter: int = PRIOR_MAX_ITER,
    ridge: float = PRIOR_RIDGE,
) -> np.ndarray:
    """Coefficients of the log-polynomial prior maximising Σ_j log Σ_g lik[j, g] w_g(coef) − ridge ‖coef‖².

    ``w(coef) = exp(basis @ coef) / Σ exp(basis @ coef)``; ``lik`` (J, G) holds
    each item's likelihood at the grid points (any positive factor per row).
    Newton's method with a backtracking line search (Efron 2016 gives the
    derivatives): with ``post_j`` item j's posterior weights on the grid, the
    gradient of the log-likelihood is ``Σ_j (E_post_j − E_w)[basis]`` and its
    Hessian ``Σ_j (Cov_post_j − Cov_w)[basis]``; where that is not negative
    definite the step is damped (Levenberg) until it is. Stops when a step
    raises the objective by less than ``1e-10`` per item, or after
    ``max_iter`` steps.
    """
    p = basis.shape[1]
    if p == 0:
        return np.zeros(0)
    rows = lik.shape[0]
    eye = np.eye(p)

    def value(coef: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        w = np.exp(log_weights(basis, coef))
        f = np.maximum(lik @ w, _P_MIN)
        return float(np.sum(np.log(f))) - ridge * float(coef @ coef), w, f

    coef = np.zeros(p) if start is None else np.asarray(start, dtype=float).copy()
    current, w, f = value(coef)
    for _ in range(max_iter):
        post_sum = w * (lik.T @ (1.0 / f))  # Σ_j post_jg
        mean_w = w @ basis
        grad = (post_sum - rows * w) @ basis - 2.0 * ridge * coef
        means = (lik @ (w[:, None] * basis)) / f[:, None]  # (J, p): E_post_j[basis]
        cov_w = basis.T @ (w[:, None] * basis) - np.outer(mean_w, mean_w)
        within = basis.T @ (post_sum[:, None] * basis) - means.T @ means  # Σ_j Cov_post_j
        neg_hess = rows * cov_w - within + 2.0 * ridge * eye  # minus the Hessian of the objective
        damp = 0.0
        scale = max(1e-12, float(np.max(np.abs(np.diag(neg_hess)))))
        while True:  # Levenberg: make the Newton system positive definite
            try:
                chol = np.linalg.cholesky(neg_hess + damp * eye)
                break
            except np.linalg.LinAlgError:
                damp = max(2.0 * damp, 1e-8 * scale)
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        t = 1.0
        while True:  # backtracking until the objective rises
            trial, w_t, f_t = value(coef + t * step)
            if trial >= current or t < 1e-10:
                break
            t *= 0.5
        if trial < current:
            break
        coef, gain = coef + t * step, trial - current
        current, w, f = trial, w_t, f_t
        if gain < 1e-10 * rows:
            break
    return coef


def column_loglik(y: np.ndarray, obs: np.ndarray, success: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Σ over the rows k of ``y`` of log P(y_kj | grid point g), shape (J, G); unobserved cells add nothing.

    ``success`` (rows × G) holds the rows' logistic parts at the grid points;
    ``c``, ``d`` (J,) the items' asymptotes.
    """
    yes = (obs & (y == 1)).astype(float)
    no = (obs & (y == 0)).astype(float)
    if float(np.ptp(c)) == 0.0 and float(np.ptp(d)) == 0.0:  # one pair of asymptotes for all items: two products
        p = c[0] + (d[0] - c[0]) * success
        return yes.T @ np.log(np.clip(p, _P_MIN, 1.0)) + no.T @ np.log(np.clip(1.0 - p, _P_MIN, 1.0))
    n, j = y.shape
    g = success.shape[1]
    out = np.empty((j, g))
    step = max(1, CHUNK_CELLS // max(1, n * g))
    for s in range(0, j, step):  # blocks of items, (rows, items, G) each
        sl = slice(s, min(j, s + step))
        p = c[sl, None] + (d[sl, None] - c[sl, None]) * success[:, None, :]
        out[sl] = np.einsum("nj,njg->jg", yes[:, sl], np.log(np.clip(p, _P_MIN, 1.0))) + np.einsum(
            "nj,njg->jg", no[:, sl], np.log(np.clip(1.0 - p, _P_MIN, 1.0))
        )
    return out


def _ability_score(
    y: np.ndarray,
    obs: np.ndarray,
    success: np.ndarray,
    post: np.ndarray,
    slopes: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Fisher information (N,) of the marginal log-likelihood of the item columns in each ability.

    ``post`` (J, G) holds the items' posterior weights on the grid; by
    Fisher's identity the gradient is the posterior expectation of the
    complete-data score.
    """
    yes = (obs & (y == 1)).astype(float)
    seen = obs.astype(float)
    if float(np.ptp(c)) == 0.0 and float(np.ptp(d)) == 0.0:  # the same asymptotes for all items: products
        p = np.clip(c[0] + (d[0] - c[0]) * success, 1e-12, 1.0 - 1e-12)
        dp = (d[0] - c[0]) * success * (1.0 - success) * slopes  # dP/dθ, (N, G)
        r = dp / (p * (1.0 - p))
        yp, op = yes @ post, seen @ post
        return np.sum(r * (yp - p * op), axis=1), np.sum(r * dp * op, axis=1)
    n, j = y.shape
    grad, info = np.zeros(n), np.zeros(n)
    step = max(1, CHUNK_CELLS // max(1, n * success.shape[1]))
    for s in range(0, j, step):  # blocks of items, (N, items, G) each
        sl = slice(s, min(j, s + step))
        span = (d[sl] - c[sl])[None, :, None]
        p = np.clip(c[sl, None] + span * success[:, None, :], 1e-12, 1.0 - 1e-12)
        dp = span * (success * (1.0 - success) * slopes)[:, None, :]
        r = dp / (p * (1.0 - p))
        wgt = post[sl][None] * seen[:, sl, None]
        grad += np.sum(wgt * r * (yes[:, sl, None] - p), axis=(1, 2))
        info += np.sum(wgt * r * dp, axis=(1, 2))
    return grad, info


def _standardise(theta: np.ndarray, ga: np.ndarray, gd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Abilities moved to mean 0 and standard deviation 1, the grid moved with them (``a θ + δ`` unchanged)."""
    mean, sd = float(np.mean(theta)), float(np.std(theta))
    sd = sd if sd > 0 else 1.0
    return (theta - mean) / sd, ga * sd, gd + ga * mean


def item_grid(
    y: np.ndarray,
    obs: np.ndarray,
    theta: np.ndarray,
    a: np.ndarray,
    delta: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    free_slope: bool,
) -> ItemGrid:
    """Abilities and the distribution of the items on a grid, fitted jointly (random items, fixed abilities).

    The grid spans the range of the fitted items ``a``, ``delta``; the
    abilities start from ``theta``; the asymptotes ``c``, ``d`` stay at their
    estimates. Each round takes ``JOINT_PRIOR_ITER`` Newton steps on the
    prior (:func:`fit_prior`) and one Fisher-scoring step on every ability
    (with a wide normal prior, standard deviation 10, that keeps the ability
    of a perfect score finite); the abilities are then standardised, the grid
    moving with them (``a θ + δ`` unchanged, the scale of the abilities being
    arbitrary), until no ability moves by more than ``JOINT_TOL``. The prior is
    then fitted to convergence.
    """
    ga, gd = _grid(a, delta, free_slope)
    basis = prior_basis(ga, gd)
    th, ga, gd = _standardise(np.asarray(theta, dtype=float), ga, gd)
    spread2 = 100.0
    coef = np.zeros(basis.shape[1])
    rounds = 0
    for rounds in range(1, JOINT_MAX_ITER + 1):
        success = expit(np.clip(th[:, None] * ga + gd, -_Z_MAX, _Z_MAX))
        loglik = column_loglik(y, obs, success, c, d)
        lik = np.exp(loglik - loglik.max(axis=1, keepdims=True))
        coef = fit_prior(lik, basis, coef, JOINT_PRIOR_ITER)
        post = lik * np.exp(log_weights(basis, coef))
        post /= post.sum(axis=1, keepdims=True)
        grad, info = _ability_score(y, obs, success, post, ga, c, d)
        move = np.clip((grad - th / spread2) / (info + 1.0 / spread2), -1.0, 1.0)
        th, ga, gd = _standardise(th + move, ga, gd)
        if float(np.max(np.abs(move))) < JOINT_TOL:
            break
    success = expit(np.clip(th[:, None] * ga + gd, -_Z_MAX, _Z_MAX))
    loglik = column_loglik(y, obs, success, c, d)
    coef = fit_prior(np.exp(loglik - loglik.max(axis=1, keepdims=True)), basis, coef)
    return ItemGrid(ga, gd, log_weights(basis, coef), loglik, success, c, d, th, rounds)


def leave_one_out(grid: ItemGrid, y: np.ndarray, obs: np.ndarray, i: int) -> np.ndarray:
    """Posterior weights (J, G) of every item on the grid given every model but row ``i`` of ``y``."""
    own = column_loglik(y[i : i + 1], obs[i : i + 1], grid.success[i : i + 1], grid.c, grid.d)
    lp = grid.loglik - own + grid.log_prior
    post = np.exp(lp - lp.max(axis=1, keepdims=True))
    return post / post.sum(axis=1, keepdims=True)


def predictive(grid: ItemGrid, post: np.ndarray, theta: float, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Posterior predictive success probabilities at ``theta`` of items with posterior weights ``post`` (rows)
    and asymptotes ``c``, ``d``."""
    s = expit(np.clip(theta * grid.slopes + grid.intercepts, -_Z_MAX, _Z_MAX))  # (G,)
    return c + (d - c) * (post @ s)
