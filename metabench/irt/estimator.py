"""The scikit-learn-style IRT estimator."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from metabench._random import cell_uniforms
from metabench.errors import InputError, NotFittedError
from metabench.irt.estimate import FitResult, ItemParams, Priors, em_fit, jmap_fit
from metabench.irt.models import ModelSpec, model_spec
from metabench.irt.scoring import score_abilities
from metabench.runs import ResponseMatrix

__all__ = ["IRT", "AbilityScores", "AUTO_CANDIDATES", "default_priors"]

AUTO_CANDIDATES: tuple[str, ...] = ("1pl", "2pl", "3pl", "4pl", "mirt2", "mirt3")
"""Models ``model="auto"`` compares on binary scores (``mirtD`` = D-dimensional 2PL)."""

SELECTION_MAX_ITER = 200
"""Largest number of EM evaluations per candidate fit in ``model="auto"``."""

SAVE_SCHEMA = "metabench.irt"
SAVE_VERSION = 1


@dataclass(frozen=True)
class AbilityScores:
    """Abilities of models against fixed items.

    Attributes
    ----------
    models : tuple of str
    theta : numpy.ndarray
        (n,) for unidimensional models, (n, D) otherwise.
    se : numpy.ndarray
        Standard errors (posterior standard deviations for EAP), same shape.
    method : str
        ``"eap"``, ``"map"`` or ``"mle"``.
    """

    models: tuple[str, ...]
    theta: np.ndarray
    se: np.ndarray
    method: str

    def to_frame(self, level: float = 0.95) -> pl.DataFrame:
        """Tidy table: model, [dimension,] theta, se, ci_low, ci_high (normal intervals)."""
        from scipy import stats

        z = float(stats.norm.ppf(0.5 + level / 2))
        th = self.theta.reshape(len(self.models), -1)
        se = self.se.reshape(len(self.models), -1)
        dims = th.shape[1]
        frame = pl.DataFrame(
            {
                "model": [m for m in self.models for _ in range(dims)],
                "dimension": [d + 1 for _ in self.models for d in range(dims)],
                "theta": th.ravel(),
                "se": se.ravel(),
                "ci_low": (th - z * se).ravel(),
                "ci_high": (th + z * se).ravel(),
            }
        )
        return frame.drop("dimension") if dims == 1 else frame


def _as_matrix(X: Any) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    if isinstance(X, ResponseMatrix):
        return X.cell_values(), X.models, X.items
    if hasattr(X, "values") and hasattr(X, "models") and hasattr(X, "items"):
        return np.asarray(X.values, dtype=float), tuple(X.models), tuple(X.items)
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise InputError(f"expected a ResponseMatrix or a 2-D array (models × items), got {arr.ndim}-D")
    return arr, tuple(f"m{i}" for i in range(arr.shape[0])), tuple(f"i{j}" for j in range(arr.shape[1]))


def _parse_model(model: str, n_dims: int) -> ModelSpec:
    name = model.lower().strip()
    if name.startswith("mirt") and name[4:].isdigit():
        return model_spec("mirt", int(name[4:]))
    return model_spec(name, n_dims)


def _spec_name(spec: ModelSpec) -> str:
    return f"mirt{spec.n_dims}" if spec.name == "mirt" else spec.name


def default_priors(n_models: int, n_dims: int = 1) -> Priors:
    """The default item priors for a matrix with ``n_models`` models (``n_dims`` latent dimensions).

    Slopes get N(1, s²) (N(0, s²) on every loading with several dimensions) with s = 1.5 up to
    100 models and s = 1.5·√(n/100) beyond. A slope prior is needed where few models answer each
    item (10–100 models: without it, items that separate the models perfectly send slopes to
    infinity), but a prior with a fixed mean also pulls the latent scale: summed over thousands of
    items it moves every slope towards 1 by a few percent even when a thousand models determine the
    slopes well. Widening it with √n keeps the information it adds per item a fixed fraction of one
    model's — it regularises small matrices and fades where the data speak.

    Where it fades, items that every model (or no model) answers get slopes near 0 and difficulties
    of ±50 or more (the slope of estimated on true difficulty is 1.12–1.13 on benchmarks with mean
    difficulty ±1.5 in ``benchmarks/irt.py --grid quick``). Adding the relative penalty
    (``Priors(slope_sd=s, relative_slopes=True, relative_slope_sd=1.5)``, slopes shrunk towards
    their own mean, which does not pull the scale) brings that to 1.00–1.02 with the other grid
    points unchanged, but it also changes fits on 10–40 models, which the person-fit and subset
    calibrations were measured with; it is not the default until those are measured again.

    Examples
    --------
    >>> default_priors(50).slope_sd, round(default_priors(10_000).slope_sd, 1)
    (1.5, 15.0)
    """
    return Priors(slope_sd=1.5 * max(1.0, math.sqrt(n_models / 100.0)))


class IRT:
    """Item response theory model, fitted by marginal MAP (EM with adaptive quadrature) or joint MAP.

    Parameters
    ----------
    model : str
        ``"1pl"`` (``"rasch"``), ``"2pl"``, ``"3pl"``, ``"4pl"``, ``"continuous"``
        (2PL with a fractional Bernoulli likelihood for scores in [0, 1]),
        ``"mirt"`` (multidimensional 2PL with ``n_dims`` dimensions; ``"mirt3"``
        is short for ``model="mirt", n_dims=3``) or ``"auto"`` (choose among
        ``candidates`` by held-out log-loss).
    n_dims : int
        Latent dimensions of ``"mirt"``.
    method : {"em", "jmap"}
        Marginal MAP by EM (default; abilities integrated out) or joint MAP (faster,
        biased for short tests).
    priors : Priors, "default" or "none"
        Priors on item parameters. ``"default"`` regularises small matrices and
        fades with the number of models (see :func:`default_priors`); ``"none"``
        is marginal maximum likelihood for slopes and intercepts.
    n_quad : int or "auto"
        Adaptive quadrature nodes per dimension.
    max_iter, tol : int, float
        EM stopping rule.
    backend, device : str
        ``"numpy"`` (default) or ``"torch"`` with device ``"cpu"`` or ``"cuda"``.
    precision : {"auto", "float64", "float32"}
        Floating type of the large passes.
    candidates : sequence of str, optional
        Models compared by ``model="auto"``.
    holdout : float
        Share of observed cells hidden to compare models in ``"auto"``.
    seed : int
        Seed of the hold-out split, keyed by the model and item labels (the fit itself is
        deterministic).
    warm_start : bool
        Start a refit from the previous fit's parameters.

    Attributes
    ----------
    model_ : str
        The fitted model (the choice of ``"auto"``).
    discrimination_, difficulty_ : numpy.ndarray
        ``a`` and ``b`` of P = c + (d − c)·σ(a(θ − b)). For ``mirt`` models,
        ``discrimination_`` is the multidimensional discrimination ‖a‖ and
        ``difficulty_`` = −δ/‖a‖; the loadings are in ``loadings_``.
    guessing_, slipping_ : numpy.ndarray
        Lower asymptote c and 1 − upper asymptote (zeros where not estimated).
    abilities_, ability_se_ : numpy.ndarray
        EAP abilities and posterior standard deviations of the fitted models
        ((n,) or (n, D)).
    loglik_, aic_, bic_, n_params_, converged_, n_iter_ : float, float, float, int, bool, int
        Marginal log-likelihood at the estimates, information criteria, number of
        free parameters, convergence. For EM, ``converged_`` means a verified stationary
        point: the stopping rule met *and* a Newton step below
        :data:`~metabench.irt.estimate.STATIONARY_STEP` (1e-3) left at the estimates.
    newton_step_ : float
        Largest Newton step the log-posterior's gradient asks for at the estimates, item
        by item, in parameter units (EM; NaN for JMAP): near 0 at a stationary point.
    convergence_note_ : str
        Why the fit did not converge (``max_iter`` reached, with the Newton step left);
        empty otherwise.
    selection_ : polars.DataFrame or None
        For ``model="auto"``: held-out log-loss of every candidate, the standard
        error of its paired difference from the best, and which was chosen (the
        model with the fewest parameters within one standard error of the best).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> theta, b = rng.normal(size=300), np.linspace(-2, 2, 20)
    >>> Y = (rng.random((300, 20)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(float)
    >>> m = IRT(model="2pl").fit(Y)
    >>> bool(np.corrcoef(m.difficulty_, b)[0, 1] > 0.98)
    True
    >>> m.predict_proba(Y).shape
    (300, 20)
    """

    def __init__(
        self,
        model: str = "2pl",
        *,
        n_dims: int = 2,
        method: str = "em",
        priors: Priors | str = "default",
        n_quad: int | str = "auto",
        max_iter: int = 500,
        tol: float = 1e-6,
        backend: str = "numpy",
        device: str = "cpu",
        precision: str = "auto",
        candidates: tuple[str, ...] | list[str] | None = None,
        holdout: float = 0.1,
        seed: int = 0,
        warm_start: bool = False,
    ) -> None:
        self.model = model
        self.n_dims = n_dims
        self.method = method
        self.priors = priors
        self.n_quad = n_quad
        self.max_iter = max_iter
        self.tol = tol
        self.backend = backend
        self.device = device
        self.precision = precision
        self.candidates = candidates
        self.holdout = holdout
        self.seed = seed
        self.warm_start = warm_start

    # -- parameters ------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        return {k: getattr(self, k) for k in (
            "model", "n_dims", "method", "priors", "n_quad", "max_iter", "tol", "backend", "device",
            "precision", "candidates", "holdout", "seed", "warm_start",
        )}

    def set_params(self, **params: Any) -> IRT:
        for k, v in params.items():
            if k not in self.get_params():
                raise InputError(f"IRT has no parameter {k!r}", fix=f"use one of {', '.join(self.get_params())}")
            setattr(self, k, v)
        return self

    def _priors(self, n_models: int | None = None, n_dims: int = 1) -> Priors:
        if isinstance(self.priors, Priors):
            return self.priors
        if self.priors == "default":
            if n_models is None:
                n_models = len(getattr(self, "models_", ())) or 1
            return default_priors(n_models, n_dims)
        if self.priors == "none":
            return Priors.none()
        raise InputError(f"priors must be a Priors object, 'default' or 'none', not {self.priors!r}")

    def _check_params(self) -> None:
        if self.method not in ("em", "jmap"):
            raise InputError(f"method must be 'em' or 'jmap', not {self.method!r}")
        if not 0 < float(self.holdout) < 0.5:
            raise InputError(f"holdout must be in (0, 0.5), got {self.holdout}")
        if int(self.max_iter) < 1:
            raise InputError(f"max_iter must be at least 1, got {self.max_iter}")

    # -- fitting ---------------------------------------------------------------
    def fit(self, X: ResponseMatrix | np.ndarray) -> IRT:
        """Fit the model to a response matrix (models × items, NaN = not answered).

        Parameters
        ----------
        X : ResponseMatrix or array_like
            Scores in [0, 1]; binary for 1–4PL and mirt, any value in [0, 1] for
            ``"continuous"``.

        Returns
        -------
        self
        """
        self._check_params()
        values, models, items = _as_matrix(X)
        if values.size == 0 or not np.isfinite(values).any():
            raise InputError("the response matrix has no observed cell", fix="give at least one response")
        observed = ~np.isnan(values)
        if (observed.sum(axis=0) == 0).any() or (observed.sum(axis=1) == 0).any():
            raise InputError(
                "some items or models have no response",
                fix="drop them first (ResponseMatrix.drop_empty() returns what it drops)",
            )
        binary = bool(np.all((values[observed] == 0) | (values[observed] == 1)))
        if self.model == "auto":
            spec = self._select(values, binary, models, items)
        else:
            spec = _parse_model(self.model, self.n_dims)
            if not binary and not spec.continuous:
                raise InputError(
                    f"model {self.model!r} needs 0/1 scores, but some scores are partial credit",
                    fix="use model='continuous' for scores in [0, 1], or binarise the scores",
                )
        init = None
        if self.warm_start and getattr(self, "params_", None) is not None and self.spec_ == spec and self.items_ == items:
            same_models = getattr(self, "models_", None) == models and getattr(self, "abilities_", None) is not None
            init = (self.params_, self.abilities_.reshape(len(models), -1) if same_models else None, None)
        result = self._fit_spec(values, spec, init)
        self._store(result, spec, models, items, values)
        return self

    def _fit_spec(self, values: np.ndarray, spec: ModelSpec, init: Any = None, max_iter: int | None = None) -> FitResult:
        kwargs = dict(
            priors=self._priors(values.shape[0], spec.n_dims),
            max_iter=int(self.max_iter if max_iter is None else max_iter),
            backend=self.backend,
            device=self.device,
            init=init,
        )
        if self.method == "jmap":
            return jmap_fit(values, spec, **kwargs)
        return em_fit(values, spec, n_quad=self.n_quad, tol=float(self.tol), precision=self.precision, **kwargs)

    def _select(self, values: np.ndarray, binary: bool, models: tuple[str, ...], items: tuple[str, ...]) -> ModelSpec:
        names = list(self.candidates) if self.candidates else (list(AUTO_CANDIDATES) if binary else ["continuous"])
        specs = []
        for n in names:
            s = _parse_model(n, self.n_dims)
            if not binary and not s.continuous:
                continue
            specs.append(s)
        if not specs:
            raise InputError("no candidate model fits partial-credit scores", fix="include 'continuous' in candidates")
        # the held-out cells: the observed cells with the smallest uniforms keyed by (model, item) labels, so the
        # same cells are held out whatever the order of the rows and columns
        obs = np.argwhere(~np.isnan(values))
        n_hold = max(1, int(round(self.holdout * len(obs))))
        u = cell_uniforms(int(self.seed), models, items, "irt-holdout")[obs[:, 0], obs[:, 1]]
        pick = obs[np.sort(np.argsort(u, kind="stable")[:n_hold])]
        train = values.copy()
        train[pick[:, 0], pick[:, 1]] = np.nan
        # keep every model and item answerable in the training part
        empty_rows = np.isnan(train).all(axis=1)
        empty_cols = np.isnan(train).all(axis=0)
        keep = ~(empty_rows[pick[:, 0]] | empty_cols[pick[:, 1]])
        restore = pick[~keep]
        train[restore[:, 0], restore[:, 1]] = values[restore[:, 0], restore[:, 1]]
        pick = pick[keep]
        truth = values[pick[:, 0], pick[:, 1]]
        rows = []
        losses = []
        for s in specs:
            # candidates that crawl (several dimensions or asymptotes on few models) are compared after at most
            # SELECTION_MAX_ITER EM evaluations; the chosen model is then refitted to convergence on every cell
            res = self._fit_spec(train, s, max_iter=min(int(self.max_iter), SELECTION_MAX_ITER))
            theta, _ = score_abilities(train, res.params, s, method="eap", backend=self.backend, device=self.device)
            p = _predict(theta, res.params)[pick[:, 0], pick[:, 1]]
            p = np.clip(p, 1e-9, 1 - 1e-9)
            cell = -(truth * np.log(p) + (1 - truth) * np.log(1 - p))
            losses.append(cell)
            rows.append([_spec_name(s), float(cell.mean()), s.n_item_params * values.shape[1] + int(s.estimates_latent_sd), res.converged])
        # one-standard-error rule on the paired per-cell losses: the simplest model whose loss is within
        # one standard error of the best one's (held-out differences smaller than that are noise)
        best_k = int(np.argmin([r[1] for r in rows]))
        for k, r in enumerate(rows):
            diff = losses[k] - losses[best_k]
            r.append(float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0)
        within = [k for k, r in enumerate(rows) if r[1] - rows[best_k][1] <= r[4]]
        chosen = min(within, key=lambda k: (rows[k][2], rows[k][1]))
        table = pl.DataFrame(
            [r[:4] + [r[4], k == chosen] for k, r in enumerate(rows)],
            schema=["model", "heldout_logloss", "n_params", "converged", "se_vs_best", "chosen"],
            orient="row",
        ).sort("heldout_logloss", maintain_order=True)
        self.selection_ = table
        return specs[chosen]

    def _store(self, res: FitResult, spec: ModelSpec, models: tuple[str, ...], items: tuple[str, ...], values: np.ndarray) -> None:
        p = res.params
        self.spec_ = spec
        self.model_ = _spec_name(spec)
        self.params_ = p
        self.models_ = models
        self.items_ = items
        self.result_ = res
        if not hasattr(self, "selection_") or self.model != "auto":
            self.selection_ = None
        self.loadings_ = p.slopes.copy()
        self.intercept_ = p.intercepts.copy()
        if spec.n_dims == 1:
            a = p.slopes[:, 0]
            self.discrimination_ = a.copy()
        else:
            a = np.linalg.norm(p.slopes, axis=1)
            self.discrimination_ = a
        with np.errstate(divide="ignore", invalid="ignore"):
            self.difficulty_ = np.where(a != 0, -p.intercepts / a, np.nan)
        self.guessing_ = p.guessing
        self.slipping_ = p.slipping
        self.latent_sd_ = p.latent_sd
        if spec.n_dims == 1:
            self.abilities_ = res.mean[:, 0].copy()
            self.ability_se_ = res.chol[:, 0, 0].copy()
        else:
            self.abilities_ = res.mean.copy()
            cov = np.einsum("nde,nfe->ndf", res.chol, res.chol)
            self.ability_se_ = np.sqrt(np.einsum("ndd->nd", cov))
        self.loglik_ = res.loglik
        self.n_params_ = spec.n_item_params * p.n_items + int(spec.estimates_latent_sd)
        self.n_obs_ = int((~np.isnan(values)).sum())
        self.aic_ = -2 * res.loglik + 2 * self.n_params_
        self.bic_ = -2 * res.loglik + self.n_params_ * math.log(len(models))
        self.converged_ = res.converged
        self.n_iter_ = res.n_iter
        self.newton_step_ = res.step_max
        self.convergence_note_ = res.note
        self.fit_seconds_ = res.seconds

    # -- using a fit -----------------------------------------------------------
    def _check_fitted(self) -> None:
        if getattr(self, "params_", None) is None:
            raise NotFittedError("this IRT model is not fitted yet; call fit(matrix) first, or IRT.load(path)")

    def _align(self, X: Any) -> tuple[np.ndarray, tuple[str, ...]]:
        values, models, items = _as_matrix(X)
        if isinstance(X, ResponseMatrix) or (hasattr(X, "items") and not isinstance(X, np.ndarray)):
            if tuple(items) != tuple(self.items_):
                index = {it: k for k, it in enumerate(items)}
                src = np.array([index.get(it, -1) for it in self.items_], dtype=np.int64)  # column of each fitted item
                present = src >= 0
                if not present.any():
                    raise InputError("none of these items was fitted", fix="score models on the benchmark the model was fitted on")
                out = np.full((values.shape[0], len(self.items_)), np.nan)
                out[:, present] = values[:, src[present]]
                return out, models
        if values.shape[1] != len(self.items_):
            raise InputError(
                f"responses have {values.shape[1]} items but the model was fitted on {len(self.items_)}",
                fix="pass a ResponseMatrix with item labels, or columns in the fitted order",
            )
        return values, models

    def score(self, X: ResponseMatrix | np.ndarray, method: str = "eap") -> AbilityScores:
        """Abilities of (new) models against the fitted items.

        Parameters
        ----------
        X : ResponseMatrix or array_like
            Responses of the models to score. With a ResponseMatrix, columns are
            matched to fitted items by id (items not fitted are ignored, fitted
            items not present count as not answered).
        method : {"eap", "map", "mle"}
            Estimator (see :mod:`metabench.irt.scoring`).

        Returns
        -------
        AbilityScores
        """
        self._check_fitted()
        values, models = self._align(X)
        theta, cov = score_abilities(values, self.params_, self.spec_, method=method, backend=self.backend, device=self.device)
        se = np.sqrt(np.einsum("ndd->nd", cov))
        if self.spec_.n_dims == 1:
            theta, se = theta[:, 0], se[:, 0]
        return AbilityScores(tuple(models), theta, se, method)

    def predict_proba(self, X: ResponseMatrix | np.ndarray | None = None) -> np.ndarray:
        """Probability of success of each model on each fitted item.

        With ``X``, its models are scored (EAP) from the cells they answered and
        the probabilities of all fitted items are returned, so hidden cells are
        predicted from the rest; without ``X``, the fitted models' abilities are used.
        """
        self._check_fitted()
        if X is None:
            if getattr(self, "abilities_", None) is None:
                raise InputError(
                    "these item parameters were loaded without the models they were fitted on",
                    fix="pass the responses to predict from: predict_proba(matrix)",
                )
            theta = self.abilities_.reshape(len(self.models_), -1)
        else:
            values, _ = self._align(X)
            theta, _ = score_abilities(values, self.params_, self.spec_, method="eap", backend=self.backend, device=self.device)
        return _predict(theta, self.params_)

    def log_loss(self, X: ResponseMatrix | np.ndarray, mask: np.ndarray) -> float:
        """Mean log-loss of the cells ``mask`` of ``X``, predicted from the other cells of ``X``."""
        self._check_fitted()
        values, _ = self._align(X)
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != values.shape:
            raise InputError(f"mask has shape {mask.shape}, responses {values.shape}")
        truth = values[mask]
        train = values.copy()
        train[mask] = np.nan
        theta, _ = score_abilities(train, self.params_, self.spec_, method="eap", backend=self.backend, device=self.device)
        p = np.clip(_predict(theta, self.params_)[mask], 1e-9, 1 - 1e-9)
        return float(-np.mean(truth * np.log(p) + (1 - truth) * np.log(1 - p)))

    def item_table(self) -> pl.DataFrame:
        """Tidy item parameters: item, discrimination, difficulty, guessing, slipping (+ loadings for mirt)."""
        self._check_fitted()
        data: dict[str, Any] = {
            "item": list(self.items_),
            "discrimination": self.discrimination_,
            "difficulty": self.difficulty_,
            "guessing": self.guessing_,
            "slipping": self.slipping_,
        }
        if self.spec_.n_dims > 1:
            for d in range(self.spec_.n_dims):
                data[f"loading_{d + 1}"] = self.loadings_[:, d]
        return pl.DataFrame(data)

    # -- persistence -----------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted item parameters (and the settings needed to score new models) as JSON."""
        self._check_fitted()
        p = self.params_
        doc = {
            "schema": SAVE_SCHEMA,
            "schema_version": SAVE_VERSION,
            "model": self.model_,
            "n_dims": self.spec_.n_dims,
            "items": list(self.items_),
            "slopes": p.slopes.tolist(),
            "intercepts": p.intercepts.tolist(),
            "guess_logit": None if p.guess_logit is None else p.guess_logit.tolist(),
            "slip_logit": None if p.slip_logit is None else p.slip_logit.tolist(),
            "latent_sd": p.latent_sd,
            "priors": asdict(self._priors(None, self.spec_.n_dims)),
            "fit": {"loglik": self.loglik_, "converged": bool(self.converged_), "n_iter": int(self.n_iter_), "models": list(self.models_)},
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> IRT:
        """Read item parameters written by :meth:`save`; the result can ``score`` and ``predict_proba``."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read fitted IRT parameters: {exc}", file=path) from None
        if doc.get("schema") != SAVE_SCHEMA:
            raise InputError("not a metabench IRT parameter file", file=path, fix="give a file written by IRT.save")
        spec = _parse_model(doc["model"], int(doc.get("n_dims", 1)))
        params = ItemParams(
            np.asarray(doc["slopes"], dtype=float).reshape(len(doc["items"]), -1),
            np.asarray(doc["intercepts"], dtype=float),
            None if doc.get("guess_logit") is None else np.asarray(doc["guess_logit"], dtype=float),
            None if doc.get("slip_logit") is None else np.asarray(doc["slip_logit"], dtype=float),
            float(doc.get("latent_sd", 1.0)),
        )
        model = cls(model=doc["model"], n_dims=spec.n_dims, priors=Priors(**doc["priors"]))
        fit = doc.get("fit", {})
        models = tuple(fit.get("models", ()))
        n = len(models)
        res = FitResult(params, np.zeros((n, spec.n_dims)), np.zeros((n, spec.n_dims, spec.n_dims)), float(fit.get("loglik", np.nan)), 0.0, int(fit.get("n_iter", 0)), bool(fit.get("converged", True)), "loaded", 0)
        model._store(res, spec, models, tuple(doc["items"]), np.zeros((max(n, 1), len(doc["items"]))))
        model.abilities_ = None  # type: ignore[assignment]
        model.ability_se_ = None  # type: ignore[assignment]
        return model

    def __repr__(self) -> str:
        fitted = f", fitted {self.model_} on {len(self.models_)} models × {len(self.items_)} items" if getattr(self, "params_", None) is not None else ""
        return f"IRT(model={self.model!r}, method={self.method!r}{fitted})"


def _predict(theta: np.ndarray, p: ItemParams) -> np.ndarray:
    z = theta.reshape(theta.shape[0], -1) @ p.slopes.T + p.intercepts
    s = 1.0 / (1.0 + np.exp(-z))
    return p.guessing + ((1.0 - p.slipping) - p.guessing) * s

