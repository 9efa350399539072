"""Ability scoring against fixed item parameters: EAP, MAP and MLE with standard errors.

These are what a user needs to place a *new* model on the scale of a fitted
benchmark: the items stay as they are, only the model's ability is estimated.

- **EAP**: posterior mean and standard deviation under the latent prior, by the
  same adaptive Gauss–Hermite quadrature as the fit (iterated until the nodes sit
  on the posterior).
- **MAP**: posterior mode by Fisher scoring; the standard error is the inverse
  square root of the test information plus the prior precision.
- **MLE**: the maximum-likelihood ability (no prior); it does not exist for a model
  that answered every item right or every item wrong, which gets ±inf and an
  infinite standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metabench.errors import InputError
from metabench.irt._backend import get_backend
from metabench.irt.estimate import ItemParams, _ability_step, _e_step, _prepare, auto_quadrature, gauss_hermite, initial_values
from metabench.irt.models import ModelSpec

__all__ = ["score_abilities", "SCORING_METHODS"]

SCORING_METHODS = ("eap", "map", "mle")


@dataclass(frozen=True)
class _Scores:
    theta: np.ndarray  # (N, D)
    cov: np.ndarray  # (N, D, D)


def score_abilities(
    values: np.ndarray,
    params: ItemParams,
    spec: ModelSpec,
    *,
    method: str = "eap",
    n_quad: int | str = "auto",
    max_iter: int = 100,
    tol: float = 1e-8,
    backend: str = "numpy",
    device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Abilities of the rows of ``values`` against fixed items.

    Parameters
    ----------
    values : numpy.ndarray
        (models × items) scores aligned with ``params`` (NaN = not answered).
    params : ItemParams
        Fixed item parameters.
    spec : ModelSpec
        The model the items belong to.
    method : {"eap", "map", "mle"}
        Estimator.

    Returns
    -------
    theta : numpy.ndarray, shape (N, D)
    cov : numpy.ndarray, shape (N, D, D)
        Posterior covariance (EAP), inverse of information plus prior precision
        (MAP) or inverse information (MLE).
    """
    method = method.lower()
    if method not in SCORING_METHODS:
        raise InputError(f"unknown scoring method {method!r}", fix=f"choose one of {', '.join(SCORING_METHODS)}")
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != params.n_items:
        raise InputError(
            f"responses have shape {values.shape}, but the items number {params.n_items}",
            fix="give one column per fitted item, in the fitted order (NaN where not answered)",
        )
    be = get_backend(backend, device)
    data = _prepare(values, be) if np.isfinite(values).any() else None
    n, dims = values.shape[0], spec.n_dims
    if data is None:
        if method == "mle":
            # nothing answered: no likelihood, no estimate
            return np.full((n, dims), np.nan), np.full((n, dims, dims), np.inf)
        # nothing answered: the prior is the posterior
        return np.zeros((n, dims)), np.broadcast_to(np.eye(dims) * params.latent_sd**2, (n, dims, dims)).copy()
    _, theta0, chol0 = initial_values(values, spec)
    theta0 = theta0 * params.latent_sd
    answered = (~np.isnan(values)).sum(axis=1)
    if method == "eap":
        q = auto_quadrature(float(answered.mean()), dims) if n_quad == "auto" else int(n_quad)
        x, lw = gauss_hermite(q, dims)
        x, lw = be.asarray(x), be.asarray(lw)
        # start from the MAP, where the adaptive nodes are already close to the posterior
        mean_np, cov_np = _newton(data, params, spec, be, theta0, use_prior=True, max_iter=max_iter, tol=tol)
        mean = be.asarray(mean_np)
        chol = be.asarray(np.linalg.cholesky(cov_np + 1e-12 * np.eye(dims)))
        for _ in range(max_iter):
            post = _e_step(data, params, mean, chol, x, lw, be, spec)
            shift = float(np.max(np.abs(be.to_numpy(post.mean) - be.to_numpy(mean))))
            mean, chol = post.mean, post.chol
            if shift < 1e-7:
                break
        m = be.to_numpy(mean)
        c = be.to_numpy(chol)
        cov = np.einsum("nde,nfe->ndf", c, c)
        empty = answered == 0
        m[empty] = 0.0
        cov[empty] = np.eye(dims) * params.latent_sd**2
        return m, cov
    theta, cov = _newton(data, params, spec, be, theta0, use_prior=(method == "map"), max_iter=max_iter, tol=tol)
    if method == "mle":
        filled_hi = np.where(np.isnan(values), 1.0, values)
        filled_lo = np.where(np.isnan(values), 0.0, values)
        has = answered > 0
        all_right = has & (filled_hi.min(axis=1) >= 1.0)
        all_wrong = has & (filled_lo.max(axis=1) <= 0.0)
        if dims == 1:
            theta[all_right, 0] = np.inf
            theta[all_wrong, 0] = -np.inf
        else:
            theta[all_right | all_wrong] = np.nan
        cov[all_right | all_wrong] = np.inf
        theta[~has] = np.nan
        cov[~has] = np.inf
    return theta, cov


def _newton(
    data: object, params: ItemParams, spec: ModelSpec, be: object, theta0: np.ndarray, *, use_prior: bool, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    theta = be.asarray(theta0)  # type: ignore[attr-defined]
    var = params.latent_sd**2
    info = None
    for _ in range(max_iter):
        new, info, _ = _ability_step(data, params, theta, be, spec, var, use_prior=use_prior)  # type: ignore[arg-type]
        step = float(np.max(np.abs(be.to_numpy(new) - be.to_numpy(theta))))  # type: ignore[attr-defined]
        theta = new
        if step < tol or not math.isfinite(step):
            break
    _, info, _ = _ability_step(data, params, theta, be, spec, var, use_prior=use_prior)  # type: ignore[arg-type]
    info_np = be.to_numpy(info)  # type: ignore[attr-defined]
    dims = spec.n_dims
    cov = np.linalg.inv(info_np + 1e-12 * np.eye(dims))
    return be.to_numpy(theta), cov  # type: ignore[attr-defined]
