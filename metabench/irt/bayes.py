"""Bayesian item response theory with PyMC (the ``[bayes]`` extra).

:func:`fit_bayes` fits the 1PL, 2PL, 3PL or 4PL model to a binary response
matrix by NUTS (Hamiltonian Monte Carlo) or by mean-field ADVI (variational
inference) and returns a :class:`BayesIRTResult` with the posterior mean,
standard deviation and equal-tailed 95% interval of every parameter, the
convergence diagnostics and the ArviZ ``InferenceData`` itself.

The parameterisation is the one used everywhere in metabench::

    P_ij = c_j + (d_j - c_j) * sigmoid(a_j * (theta_i - b_j))

with ``theta ~ Normal(0, 1)`` for 2PL/3PL/4PL and, for the 1PL (Rasch) model,
``a_j = 1`` and ``theta ~ Normal(0, sigma^2)`` with ``sigma ~ HalfNormal(1)``.

Default priors (see :func:`default_priors`; override any of them through the
``priors`` argument):

========  =====================  ==================================================
``a``     ``LogNormal(0, 0.5)``  discrimination; median 1, 95% in about (0.38, 2.7).
                                 LogNormal forbids negative discriminations, which
                                 fixes the sign of the latent scale; use e.g.
                                 ``("TruncatedNormal", {"mu": 1, "sigma": 1,
                                 "lower": 0})`` for a flatter positive prior, or
                                 ``("Normal", {"mu": 1, "sigma": 1})`` to let items
                                 with a negative slope show as such.
``b``     ``Normal(0, 2)``       difficulty, on the logit scale of theta.
``c``     ``Beta(5, 17)``        lower asymptote (3PL, 4PL); mean 0.23.
``d``     ``Beta(17, 5)``        upper asymptote (4PL only); mean 0.77. ``P`` is a
                                 convex combination of ``c`` and ``d``, so it stays
                                 a probability even in the (unlikely) draws where
                                 ``c > d``.
``sigma`` ``HalfNormal(1)``      sd of theta (1PL only).
========  =====================  ==================================================

Only observed cells enter the likelihood: the matrix is turned into the long
list of observed ``(person, item, y)`` triples, so ``NaN`` (not administered)
cells cost nothing and carry no information. A row or column with no observed
cell keeps its prior as posterior; such rows and columns are listed in
``empty_models`` and ``empty_items`` of the result rather than dropped.

PyMC is imported only when :func:`fit_bayes` runs; without it the function
raises :class:`~metabench.errors.InputError` saying how to install it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from metabench.errors import InputError

__all__ = ["BayesIRTResult", "ParameterSummary", "default_priors", "fit_bayes"]

MODELS = ("1pl", "2pl", "3pl", "4pl")
METHODS = ("nuts", "advi")
_ALIASES = {"rasch": "1pl"}
#: Which item parameters each model estimates (besides theta; 1pl also estimates sigma).
_ESTIMATED = {"1pl": ("b",), "2pl": ("a", "b"), "3pl": ("a", "b", "c"), "4pl": ("a", "b", "c", "d")}
_INSTALL_FIX = "pip install 'metabench[bayes]'"
#: Largest relative change of the mean loss between the last two windows of the ADVI history
#: for the fit to count as converged.
ADVI_RTOL = 0.01
#: Largest R-hat for a NUTS fit to count as converged.
RHAT_MAX = 1.01

PriorSpec = tuple[str, Mapping[str, float]] | Callable[..., Any]


def default_priors() -> dict[str, tuple[str, dict[str, float]]]:
    """The default priors of :func:`fit_bayes`, as ``name -> (PyMC distribution, arguments)``.

    Returns
    -------
    dict
        Keys ``a``, ``b``, ``c``, ``d`` and ``sigma``; each value is a pair of a
        ``pymc`` distribution name and its keyword arguments.

    Examples
    --------
    >>> p = default_priors()
    >>> p["a"], p["b"], p["c"]
    (('LogNormal', {'mu': 0.0, 'sigma': 0.5}), ('Normal', {'mu': 0.0, 'sigma': 2.0}), ('Beta', {'alpha': 5.0, 'beta': 17.0}))
    """
    return {
        "a": ("LogNormal", {"mu": 0.0, "sigma": 0.5}),
        "b": ("Normal", {"mu": 0.0, "sigma": 2.0}),
        "c": ("Beta", {"alpha": 5.0, "beta": 17.0}),
        "d": ("Beta", {"alpha": 17.0, "beta": 5.0}),
        "sigma": ("HalfNormal", {"sigma": 1.0}),
    }


@dataclass(frozen=True)
class ParameterSummary:
    """Posterior summary of one vector of parameters.

    Parameters
    ----------
    mean, sd : numpy.ndarray
        Posterior mean and standard deviation, one entry per element.
    low, high : numpy.ndarray
        Equal-tailed 95% credible interval (2.5% and 97.5% posterior quantiles).
    r_hat : numpy.ndarray
        Rank-normalised split R-hat (NaN for ADVI, for a single chain and for
        parameters held fixed by the model).
    ess_bulk : numpy.ndarray
        Bulk effective sample size (NaN where ``r_hat`` is).
    estimated : bool
        False for parameters the model fixes (``a`` of the 1PL, ``c`` of the 2PL);
        their mean is the fixed value and their sd 0.
    """

    mean: np.ndarray
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray
    r_hat: np.ndarray
    ess_bulk: np.ndarray
    estimated: bool = True

    @classmethod
    def fixed(cls, value: float, n: int) -> ParameterSummary:
        """A parameter held at ``value`` for all ``n`` elements."""
        v = np.full(n, float(value))
        nan = np.full(n, np.nan)
        return cls(v, np.zeros(n), v.copy(), v.copy(), nan, nan.copy(), estimated=False)


@dataclass(frozen=True, repr=False)
class BayesIRTResult:
    """Posterior of a Bayesian IRT model fitted by :func:`fit_bayes`.

    Attributes
    ----------
    model : str
        ``"1pl"``, ``"2pl"``, ``"3pl"`` or ``"4pl"``.
    method : str
        ``"nuts"`` or ``"advi"``.
    a, b, c, d : ParameterSummary
        Discrimination, difficulty, lower and upper asymptote of each item.
    theta : ParameterSummary
        Ability of each model (row of the response matrix).
    sigma : ParameterSummary or None
        Standard deviation of theta (1PL only; fixed at 1 otherwise, and None).
    models, items : tuple of str
        Row and column labels.
    empty_models, empty_items : tuple of int
        Rows and columns with no observed cell: their posterior is their prior.
    n_observed : int
        Number of observed cells in the likelihood.
    converged : bool
        NUTS: every R-hat below :data:`RHAT_MAX` (1.01). ADVI: the mean loss of
        the last tenth of the optimisation changed by less than
        :data:`ADVI_RTOL` (1%) relative to the tenth before it.
    r_hat_max, ess_bulk_min : float
        Worst R-hat and smallest bulk ESS over all sampled parameters (NaN for ADVI).
    n_divergent : int
        Divergent NUTS transitions after tuning (0 for ADVI).
    elbo : numpy.ndarray or None
        ADVI: the ELBO at each optimisation step (None for NUTS).
    draws, tune, chains, seed, n_iter : int
        Provenance: posterior draws per chain, tuning steps, chains, random seed,
        ADVI optimisation steps (0 for NUTS).
    priors : dict
        The priors used, after overrides (callables are shown by name).
    idata : arviz.InferenceData
        The full posterior draws.
    """

    model: str
    method: str
    a: ParameterSummary
    b: ParameterSummary
    c: ParameterSummary
    d: ParameterSummary
    theta: ParameterSummary
    sigma: ParameterSummary | None
    models: tuple[str, ...]
    items: tuple[str, ...]
    empty_models: tuple[int, ...]
    empty_items: tuple[int, ...]
    n_observed: int
    converged: bool
    r_hat_max: float
    ess_bulk_min: float
    n_divergent: int
    elbo: np.ndarray | None
    draws: int
    tune: int
    chains: int
    seed: int
    n_iter: int
    priors: dict[str, Any] = field(repr=False)
    idata: Any = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"BayesIRTResult(model={self.model!r}, method={self.method!r}, n_models={len(self.models)}, "
            f"n_items={len(self.items)}, n_observed={self.n_observed}, converged={self.converged}, "
            f"r_hat_max={self.r_hat_max:.4g}, ess_bulk_min={self.ess_bulk_min:.4g}, n_divergent={self.n_divergent}, "
            f"draws={self.draws}, tune={self.tune}, chains={self.chains}, n_iter={self.n_iter}, seed={self.seed})"
        )

    # Names shared with the maximum-likelihood estimator (posterior means).
    @property
    def discrimination(self) -> np.ndarray:
        """Posterior mean of ``a``."""
        return self.a.mean

    @property
    def difficulty(self) -> np.ndarray:
        """Posterior mean of ``b``."""
        return self.b.mean

    @property
    def guessing(self) -> np.ndarray:
        """Posterior mean of ``c``."""
        return self.c.mean

    @property
    def slipping(self) -> np.ndarray:
        """Posterior mean of ``1 - d``."""
        return 1.0 - self.d.mean

    @property
    def abilities(self) -> np.ndarray:
        """Posterior mean of ``theta``."""
        return self.theta.mean

    def to_frame(self) -> pl.DataFrame:
        """Tidy summary of every estimated parameter.

        Returns
        -------
        polars.DataFrame
            One row per parameter element with columns ``parameter`` (``a``,
            ``b``, ``c``, ``d``, ``sigma``, ``theta``), ``index`` (position in the
            item or model axis), ``label`` (item or model label), ``mean``, ``sd``,
            ``low``, ``high`` (95% equal-tailed interval), ``r_hat`` and
            ``ess_bulk``. Parameters the model holds fixed are left out.
        """
        parts = []
        named: list[tuple[str, ParameterSummary | None, tuple[str, ...]]] = [
            ("a", self.a, self.items),
            ("b", self.b, self.items),
            ("c", self.c, self.items),
            ("d", self.d, self.items),
            ("sigma", self.sigma, ("sigma",)),
            ("theta", self.theta, self.models),
        ]
        for name, s, labels in named:
            if s is None or not s.estimated:
                continue
            n = len(s.mean)
            parts.append(
                pl.DataFrame(
                    {
                        "parameter": [name] * n,
                        "index": np.arange(n, dtype=np.int64),
                        "label": list(labels),
                        "mean": s.mean,
                        "sd": s.sd,
                        "low": s.low,
                        "high": s.high,
                        "r_hat": s.r_hat,
                        "ess_bulk": s.ess_bulk,
                    },
                    schema={
                        "parameter": pl.String,
                        "index": pl.Int64,
                        "label": pl.String,
                        "mean": pl.Float64,
                        "sd": pl.Float64,
                        "low": pl.Float64,
                        "high": pl.Float64,
                        "r_hat": pl.Float64,
                        "ess_bulk": pl.Float64,
                    },
                )
            )
        return pl.concat(parts)


# --------------------------------------------------------------------------- input


def _as_matrix(X: Any) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """2-D float array and labels from a ResponseMatrix, anything with ``.values``, or an array."""
    values = X.values if hasattr(X, "values") and not isinstance(X, np.ndarray) else X
    try:
        v = np.array(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"responses must be numeric; could not convert them to floats ({exc})",
            fix="pass a metabench.ResponseMatrix or a 2-D array of 0/1 with NaN for missing cells",
            kind="non_numeric_score",
        ) from exc
    if v.ndim != 2:
        fix = (
            "average the seeds (ResponseMatrix built without a seed axis) or pick one seed"
            if v.ndim == 3
            else ("pass a 2-D array: one row per model, one column per item")
        )
        raise InputError(f"the Bayesian IRT fit needs a 2-D models × items matrix; got {v.ndim}-D", fix=fix)
    n, j = v.shape
    models = tuple(getattr(X, "models", None) or (f"m{i}" for i in range(n)))
    items = tuple(getattr(X, "items", None) or (f"i{k}" for k in range(j)))
    if len(models) != n or len(items) != j:
        raise InputError(f"{len(models)} model and {len(items)} item labels for a matrix of shape {v.shape}")
    if np.isinf(v).any():
        raise InputError("responses contain infinite values", fix="use NaN for missing cells and 0/1 otherwise")
    observed = v[~np.isnan(v)]
    if observed.size == 0:
        raise InputError("the response matrix has no observed cell", fix="pass a matrix with at least one 0/1 score")
    bad = observed[(observed != 0) & (observed != 1)]
    if bad.size:
        raise InputError(
            f"the Bayesian IRT models need binary responses; found {bad.size} score(s) strictly between 0 and 1 "
            f"(e.g. {bad[0]:g})",
            fix="binarise the scores (e.g. X >= 0.5) or use metabench.irt.IRT(model='continuous') for partial credit",
            kind="non_binary_score",
        )
    return v, models, items


def _resolve_priors(priors: Mapping[str, PriorSpec] | None) -> dict[str, PriorSpec]:
    resolved: dict[str, PriorSpec] = dict(default_priors())
    if priors is None:
        return resolved
    if not isinstance(priors, Mapping):
        raise InputError(
            f"priors must be a dict; got {type(priors).__name__}",
            fix="e.g. priors={'b': ('Normal', {'mu': 0, 'sigma': 3})}",
        )
    for key, spec in priors.items():
        if key not in resolved:
            raise InputError(
                f"unknown prior {key!r}", fix=f"use one of {', '.join(sorted(resolved))}", kind="unknown_prior"
            )
        ok = callable(spec) or (
            isinstance(spec, tuple | list)
            and len(spec) == 2
            and isinstance(spec[0], str)
            and isinstance(spec[1], Mapping)
        )
        if not ok:
            raise InputError(
                f"prior {key!r} must be a (distribution name, arguments) pair or a callable; got {spec!r}",
                fix=f"e.g. priors={{{key!r}: ('Normal', {{'mu': 0, 'sigma': 1}})}}",
            )
        resolved[key] = spec if callable(spec) else (spec[0], dict(spec[1]))
    return resolved


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name} must be an integer ≥ {minimum}; got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- model


def _prior_rv(pm: Any, name: str, spec: PriorSpec, dims: str | None) -> Any:
    """Create the random variable ``name`` from a prior spec inside the current model."""
    if callable(spec):
        return spec(name, dims=dims)
    dist_name, kwargs = spec
    dist = getattr(pm, dist_name, None)
    if dist is None:
        raise InputError(f"pymc has no distribution {dist_name!r} (prior of {name!r})", kind="unknown_prior")
    try:
        return dist(name, dims=dims, **kwargs)
    except TypeError as exc:
        raise InputError(f"bad arguments for the prior of {name!r}: {dist_name}({kwargs}): {exc}") from exc


def _build_model(pm: Any, pt: Any, model: str, v: np.ndarray, models: tuple, items: tuple, priors: dict) -> Any:
    rows, cols = np.nonzero(~np.isnan(v))
    y = v[rows, cols].astype(np.int64)
    coords = {"model": list(models), "item": list(items), "obs": np.arange(len(y))}
    with pm.Model(coords=coords) as m:
        if model == "1pl":
            sigma = _prior_rv(pm, "sigma", priors["sigma"], None)
            z = pm.Normal("theta_z", 0.0, 1.0, dims="model")
            theta = pm.Deterministic("theta", sigma * z, dims="model")
        else:
            theta = pm.Normal("theta", 0.0, 1.0, dims="model")
        b = _prior_rv(pm, "b", priors["b"], "item")
        if model == "1pl":
            eta = theta[rows] - b[cols]
        else:
            a = _prior_rv(pm, "a", priors["a"], "item")
            eta = a[cols] * (theta[rows] - b[cols])
        if model in ("1pl", "2pl"):
            logit_p = eta
        else:
            # P = c (1 - s) + d s with s = sigmoid(eta): a convex combination, computed on the log
            # scale so that neither log P nor log(1 - P) underflows for large |eta|.
            c = _prior_rv(pm, "c", priors["c"], "item")
            log_s = -pt.log1pexp(-eta)
            log_1ms = -pt.log1pexp(eta)
            cc = c[cols]
            if model == "3pl":
                log_p = pt.logaddexp(pt.log(cc) + log_1ms, log_s)
                log_q = pt.log1p(-cc) + log_1ms
            else:
                d = _prior_rv(pm, "d", priors["d"], "item")
                dd = d[cols]
                log_p = pt.logaddexp(pt.log(cc) + log_1ms, pt.log(dd) + log_s)
                log_q = pt.logaddexp(pt.log1p(-cc) + log_1ms, pt.log1p(-dd) + log_s)
            logit_p = log_p - log_q
        pm.Bernoulli("y", logit_p=logit_p, observed=y, dims="obs")
    return m


# --------------------------------------------------------------------------- summaries


def _summaries(idata: Any, names: list[str], with_diagnostics: bool) -> dict[str, ParameterSummary]:
    post = idata.posterior
    diag: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if with_diagnostics:
        import arviz as az

        rhat = az.rhat(idata, var_names=names)
        ess = az.ess(idata, var_names=names, method="bulk")
        diag = {
            n: (np.atleast_1d(np.asarray(rhat[n].values, float)), np.atleast_1d(np.asarray(ess[n].values, float)))
            for n in names
        }
    out = {}
    for n in names:
        arr = np.asarray(post[n].values, dtype=float)  # (chain, draw, *shape)
        flat = arr.reshape(arr.shape[0] * arr.shape[1], -1)
        low, high = np.quantile(flat, [0.025, 0.975], axis=0)
        k = flat.shape[1]
        r, e = diag.get(n, (np.full(k, np.nan), np.full(k, np.nan)))
        out[n] = ParameterSummary(
            mean=flat.mean(axis=0),
            sd=flat.std(axis=0, ddof=1) if flat.shape[0] > 1 else np.zeros(k),
            low=low,
            high=high,
            r_hat=r,
            ess_bulk=e,
        )
    return out


def _elbo_converged(loss: np.ndarray, rtol: float = ADVI_RTOL) -> bool:
    """Whether the mean loss of the last tenth of the history is within ``rtol`` of the tenth before it."""
    loss = np.asarray(loss, dtype=float)
    w = len(loss) // 10
    if w < 10 or not np.isfinite(loss[-2 * w :]).all():
        return False
    last, prev = loss[-w:].mean(), loss[-2 * w : -w].mean()
    return bool(abs(last - prev) <= rtol * max(abs(last), 1e-12))


# --------------------------------------------------------------------------- public


def fit_bayes(
    X: Any,
    model: str = "2pl",
    method: str = "nuts",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    seed: int = 0,
    priors: Mapping[str, PriorSpec] | None = None,
    progressbar: bool = False,
    *,
    cores: int = 1,
    target_accept: float = 0.9,
    n_iter: int = 30_000,
) -> BayesIRTResult:
    """Fit a Bayesian IRT model by NUTS or ADVI.

    Parameters
    ----------
    X : ResponseMatrix or array_like
        Models × items matrix of 0/1 responses, NaN where not administered; a
        :class:`~metabench.runs.ResponseMatrix`, anything with a ``.values``
        attribute, or a 2-D array. Meant for small matrices (hundreds of rows and
        columns at most): NUTS cost grows with the number of observed cells.
    model : {"1pl", "2pl", "3pl", "4pl"}
        IRT model (``"rasch"`` is an alias of ``"1pl"``).
    method : {"nuts", "advi"}
        ``"nuts"``: Hamiltonian Monte Carlo, exact up to Monte Carlo error, with
        R-hat and ESS diagnostics. ``"advi"``: mean-field variational inference,
        much faster, but posterior sds are typically too small and there are no
        R-hat/ESS diagnostics. Mean-field ADVI also shrinks hierarchical scales:
        the 1PL ``sigma`` comes out too small, so prefer NUTS there.
    draws : int
        Posterior draws per chain (NUTS), or in total from the fitted
        approximation (ADVI).
    tune : int
        NUTS tuning (warm-up) steps per chain, discarded. Ignored by ADVI.
    chains : int
        Number of NUTS chains; at least 2 for R-hat. Ignored by ADVI.
    seed : int
        Random seed of the initial values, the sampler and the ADVI optimiser.
    priors : dict, optional
        Overrides of :func:`default_priors`, keyed by ``"a"``, ``"b"``, ``"c"``,
        ``"d"``, ``"sigma"``. Each value is a ``(name, kwargs)`` pair naming a
        ``pymc`` distribution, e.g. ``{"b": ("Normal", {"mu": 0, "sigma": 3})}``,
        or a callable ``f(name, dims=...)`` that creates the variable inside the
        model (``dims`` is ``"item"`` or None).
    progressbar : bool
        Show PyMC's progress bar.
    cores : int
        Processes for NUTS chains (1 runs them one after another in this process).
    target_accept : float
        NUTS target acceptance rate; raise it towards 0.99 if there are divergences.
    n_iter : int
        ADVI optimisation steps. Ignored by NUTS.

    Returns
    -------
    BayesIRTResult
        Posterior summaries, diagnostics, provenance and ``idata``.

    Raises
    ------
    InputError
        If PyMC is not installed, the responses are not binary, the matrix is not
        2-D or has no observed cell, or an argument is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> X = (np.random.default_rng(0).random((40, 8)) < 0.6).astype(float)
    >>> res = fit_bayes(X, model="2pl", method="advi", n_iter=5000, seed=1)  # doctest: +SKIP
    >>> res.to_frame().filter(parameter="b").columns  # doctest: +SKIP
    ['parameter', 'index', 'label', 'mean', 'sd', 'low', 'high', 'r_hat', 'ess_bulk']
    """
    model_key = str(model).lower()
    model_key = _ALIASES.get(model_key, model_key)
    if model_key not in MODELS:
        raise InputError(f"unknown IRT model {model!r}", fix=f"use one of {', '.join(MODELS)}", kind="unknown_model")
    method_key = str(method).lower()
    if method_key not in METHODS:
        raise InputError(f"unknown method {method!r}", fix=f"use one of {', '.join(METHODS)}", kind="unknown_method")
    draws = _check_int("draws", draws, 1)
    tune = _check_int("tune", tune, 0)
    chains = _check_int("chains", chains, 1)
    cores = _check_int("cores", cores, 1)
    n_iter = _check_int("n_iter", n_iter, 1)
    seed = _check_int("seed", seed, 0)
    if not 0 < float(target_accept) < 1:
        raise InputError(f"target_accept must lie strictly between 0 and 1; got {target_accept!r}")
    v, models, items = _as_matrix(X)
    resolved = _resolve_priors(priors)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arviz announces its 1.0 refactor on import
            import pymc as pm
            import pytensor.tensor as pt
    except ImportError as exc:
        raise InputError(
            f"the Bayesian IRT fit needs PyMC, which is not installed ({exc})",
            fix=_INSTALL_FIX,
            kind="missing_dependency",
        ) from exc

    observed = ~np.isnan(v)
    empty_models = tuple(int(i) for i in np.flatnonzero(~observed.any(axis=1)))
    empty_items = tuple(int(j) for j in np.flatnonzero(~observed.any(axis=0)))
    pm_model = _build_model(pm, pt, model_key, v, models, items, resolved)

    elbo = None
    n_divergent = 0
    with pm_model:
        if method_key == "nuts":
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=seed,
                progressbar=progressbar,
                target_accept=float(target_accept),
                compute_convergence_checks=False,
                return_inferencedata=True,
            )
            div = getattr(idata, "sample_stats", None)
            if div is not None and "diverging" in div:
                n_divergent = int(np.asarray(div["diverging"].values).sum())
        else:
            approx = pm.fit(n=n_iter, method="advi", random_seed=seed, progressbar=progressbar)
            loss = np.asarray(approx.hist, dtype=float)
            elbo = -loss
            idata = approx.sample(draws, random_seed=seed)

    names = ["theta", "b"]
    if model_key == "1pl":
        names.append("sigma")
    names += [p for p in _ESTIMATED[model_key] if p != "b"]
    with_diag = method_key == "nuts" and chains >= 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        s = _summaries(idata, names, with_diagnostics=with_diag)

    n_items = len(items)
    if method_key == "nuts":
        r_all = np.concatenate([s[n].r_hat for n in names])
        e_all = np.concatenate([s[n].ess_bulk for n in names])
        r_hat_max = float(np.max(r_all)) if with_diag and np.isfinite(r_all).all() else math.nan
        ess_bulk_min = float(np.min(e_all)) if with_diag and np.isfinite(e_all).all() else math.nan
        converged = bool(with_diag and r_hat_max < RHAT_MAX)
    else:
        r_hat_max = ess_bulk_min = math.nan
        converged = _elbo_converged(-elbo)  # type: ignore[operator]

    shown_priors = {
        k: (getattr(p, "__name__", repr(p)) if callable(p) else p)
        for k, p in resolved.items()
        if k in _ESTIMATED[model_key] or (k == "sigma" and model_key == "1pl")
    }
    return BayesIRTResult(
        model=model_key,
        method=method_key,
        a=s["a"] if "a" in s else ParameterSummary.fixed(1.0, n_items),
        b=s["b"],
        c=s["c"] if "c" in s else ParameterSummary.fixed(0.0, n_items),
        d=s["d"] if "d" in s else ParameterSummary.fixed(1.0, n_items),
        theta=s["theta"],
        sigma=s.get("sigma"),
        models=models,
        items=items,
        empty_models=empty_models,
        empty_items=empty_items,
        n_observed=int(observed.sum()),
        converged=converged,
        r_hat_max=r_hat_max,
        ess_bulk_min=ess_bulk_min,
        n_divergent=n_divergent,
        elbo=elbo,
        draws=draws,
        tune=tune if method_key == "nuts" else 0,
        chains=chains if method_key == "nuts" else 1,
        seed=seed,
        n_iter=n_iter if method_key == "advi" else 0,
        priors=shown_priors,
        idata=idata,
    )
