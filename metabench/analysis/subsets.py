"""Compact subsets: estimate a model's full-benchmark score from a few items, with a validated error.

A *subset* is a small set of a benchmark's items. A new model answers only
those; an *estimator* turns its subset responses into a prediction of the score
it would get on all items, with an interval. Everything is fitted on *training*
models (models with responses on all items) and judged on held-out models.

Selection (:func:`select_items`)
    ``random``
        Uniform without replacement; weights 1/n.
    ``stratified``
        Proportional allocation over subjects (or, without subject labels, over
        quintiles of the training models' item means), random within strata
        (largest-remainder rounding); weight of an item = its stratum's share
        of the benchmark / items drawn from the stratum.
    ``irt_info``
        Fisher information across the ability range: ``n`` target abilities at
        the (i + ½)/n quantiles of the training models' abilities; in turn each
        target takes the unused item that is most informative at its ability.
        The items are not a representative sample (weights 1/n are nominal):
        use an IRT estimator with it, not a subset mean.
    ``anchor_correctness``
        Anchor points (Polo et al. 2024, tinyBenchmarks): k-means with n
        clusters on the items' correctness vectors over the training models;
        the anchor of a cluster is its member closest to the centre, weighted by
        cluster size / number of items.
    ``anchor_irt``
        The same on IRT item embeddings: each item's response curve at 11
        quantiles of the training abilities (a function of the fitted a, b, c, d
        on the probability scale, where the parameters act on the score).

    With subject labels (``ResponseMatrix.subjects``), ``irt_info`` and the two
    anchor methods run within each subject, the subset's items allocated to
    subjects in proportion to their sizes; item weights are then the weight
    within the subject times the subject's share of the benchmark.

Estimators (:class:`SubsetEstimator`)
    ``mean``, ``weighted_mean``
        The (weighted) mean of the answered subset items.
    ``irt``
        A unidimensional IRT model fitted on the training models on all items
        (``irt_model="auto"``, the default, takes the 1PL or the 2PL, whichever
        predicts held-out training models better in the inner cross-validation); the new model's ability posterior from its subset
        responses (exact on a grid, prior N(0, σ²)); prediction = posterior
        mean of the mean over all items of P(correct | θ).
    ``pirt``
        p-IRT: the observed subset responses plus the IRT prediction of all
        other items, over the number of items (weight n/N on the subset mean).
    ``gpirt``
        gp-IRT: a per-model blend λ·weighted mean + (1 − λ)·p-IRT with
        λ = V_p / (V_w + V_p), V the calibrated error variance of each part
        (inverse-variance weighting, in the spirit of tinyBenchmarks' choice of
        λ from the variance of the sample mean and the error of p-IRT).
    ``ability_regression``
        A regression of the training models' full scores on their subset
        abilities (EAP θ from the subset items, as for a new model):
        logit(score) = natural cubic spline of θ with 1–4 degrees of freedom,
        chosen by leave-one-out error (at most one per four training models);
        linear beyond the outer knots.

Intervals
    Each estimator gives a variance of measurement for each model from its own
    responses: the finite-population-corrected sampling variance of the subset
    mean ((1 − n/N)·s²·Σw̃², s² the item variance with one pseudo-item at 0 and
    one at 1 of weight ½), the ability posterior and the Bernoulli noise of the
    unseen items for the IRT estimators, the prediction variance of the
    regression. The estimator's own error (IRT misfit, a selection that is not
    representative, model-specific strengths) is measured by an inner k-fold
    cross-validation over the *training* models: in every inner fold the
    subset is re-selected with the same method, size and seed on the inner
    training models, the estimator refitted, and the held-out training models
    predicted. With D the mean squared inner residual and M the mean variance of
    measurement, the total variance is v + (D − M) when D ≥ M and v·D/M
    otherwise. The interval is prediction ± q·√(total variance), clipped to
    [0, 1], where q is a split-conformal quantile of the studentised inner
    residuals |e|/√(total variance) (the ⌈(n + 1)·level⌉-th smallest of n), so
    heavy-tailed errors (models with unusual strengths) widen it; with too few
    training models for that rank, the larger of the largest studentised
    residual and the Student t quantile (n − 1 degrees of freedom)
    (:class:`~metabench.analysis._subsets_core.Calibration`).

Validation (:func:`validate_subset`)
    k-fold over models: in each fold the subset is selected, the IRT model and
    the estimator fitted and calibrated on the training models only; the
    held-out models' subset responses are the only thing the prediction sees,
    their full responses only score it.

Examples
--------
>>> import numpy as np
>>> from metabench.runs import ResponseMatrix
>>> rng = np.random.default_rng(0)
>>> theta, a, b = rng.normal(size=60), rng.lognormal(0, 0.3, 400), rng.normal(size=400)
>>> Y = (rng.random((60, 400)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
>>> m = ResponseMatrix.from_array(Y)
>>> subset = select_items(m.take(range(50)), 40, method="anchor_irt")
>>> est = SubsetEstimator("gpirt").fit(m.take(range(50)), subset)
>>> pred = est.predict(m.take(range(50, 60)))
>>> bool(np.mean(np.abs(pred.predicted - m.take(range(50, 60)).mean_scores())) < 0.1)
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from metabench._version import __version__
from metabench.analysis import _subsets_core as core
from metabench.analysis._subsets_adaptive import AdaptiveResult, adaptive_test
from metabench.analysis._subsets_lmeval import lm_eval_task_yaml, lm_eval_utils_py, write_lm_eval_task
from metabench.errors import InputError, NotFittedError
from metabench.runs import ResponseMatrix, Runs

__all__ = [
    "ESTIMATORS",
    "IRT_MODELS",
    "SELECTIONS",
    "AdaptiveResult",
    "Prediction",
    "SizeResult",
    "Subset",
    "SubsetEstimator",
    "SubsetModel",
    "ValidationResult",
    "adaptive_test",
    "lm_eval_task_yaml",
    "lm_eval_utils_py",
    "select_items",
    "smallest_size",
    "validate_subset",
    "write_lm_eval_task",
]

SELECTIONS = core.SELECTIONS
"""Selection methods of :func:`select_items`."""
ESTIMATORS = core.ESTIMATORS
"""Estimators of :class:`SubsetEstimator`."""

DEFAULT_SIZES: tuple[int, ...] = (25, 50, 100, 200, 400, 800, 1600, 3200)
"""Subset sizes :func:`smallest_size` tries (those below the number of items)."""
DEFAULT_METHOD: tuple[str, str] = ("anchor_irt", "gpirt")
"""Selection and estimator of :meth:`SubsetModel.fit` and :func:`smallest_size` by default.

The combination with the smallest held-out MAE at 100 items on the bundled
MMLU-Pro runs (23 training models per fold; ``benchmarks/subsets.py``, three
seeds). With many training models information-based selection does better
(``irt_info``/``gpirt`` on the simulated 200-model benchmark); validate several
with :func:`validate_subset` when in doubt.
"""

SCHEMA = "metabench.subset"
SCHEMA_VERSION = 1


# ---------------------------------------------------------------------------
# inputs


def _matrix(data: Any, benchmark: str | None = None) -> ResponseMatrix:
    if isinstance(data, ResponseMatrix):
        return data
    if isinstance(data, Runs):
        if benchmark is None and len(data.benchmarks) != 1:
            raise InputError(
                f"these runs hold {len(data.benchmarks)} benchmarks; say which one",
                fix=f"pass benchmark=... (one of {', '.join(data.benchmarks[:10])})",
            )
        return data.matrix(benchmark)
    arr = np.asarray(data, dtype=float)
    if arr.ndim != 2:
        raise InputError(f"expected a ResponseMatrix, Runs or a 2-D array (models × items), got {arr.ndim}-D")
    return ResponseMatrix.from_array(arr)


def _values(m: ResponseMatrix) -> np.ndarray:
    return np.asarray(m.cell_values(), dtype=float)


def _check_training(m: ResponseMatrix) -> np.ndarray:
    v = _values(m)
    if v.shape[1] < 2:
        raise InputError("a benchmark with fewer than two items has no subset")
    answered = ~np.isnan(v)
    empty_models = [m.models[i] for i in np.flatnonzero(~answered.any(axis=1))]
    if empty_models:
        raise InputError(
            f"{len(empty_models)} model(s) have no response: {', '.join(empty_models[:5])}",
            fix="drop them first (ResponseMatrix.drop_empty())",
        )
    empty_items = [m.items[j] for j in np.flatnonzero(~answered.any(axis=0))]
    if empty_items:
        raise InputError(
            f"{len(empty_items)} item(s) have no response: {', '.join(empty_items[:5])}",
            fix="drop them first (ResponseMatrix.drop_empty())",
        )
    return v


def _check_irt_fit(irt: Any, m: ResponseMatrix) -> None:
    """An IRT model passed for reuse must have been fitted on exactly these (training) models."""
    if irt is None:
        return
    fitted = tuple(getattr(irt, "models_", ()) or ())
    if fitted and set(fitted) != set(m.models):
        raise InputError(
            f"the IRT model was fitted on {len(fitted)} other models than the {m.n_models} given",
            fix="fit it on the same training models (reusing a fit on other models would leak their responses)",
        )


def _check_size(size: int, n_items: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise InputError(f"size must be a positive integer, got {size!r}")
    if size >= n_items:
        raise InputError(
            f"size {size} is not smaller than the benchmark's {n_items} items",
            fix=f"choose a size below {n_items}",
        )
    return int(size)


def _check_method(method: str, allowed: tuple[str, ...], what: str) -> str:
    if method not in allowed:
        raise InputError(f"unknown {what} {method!r}", fix=f"choose one of {', '.join(allowed)}")
    return method


IRT_MODELS: tuple[str, ...] = ("auto", "1pl", "rasch", "2pl", "3pl", "4pl", "continuous")
"""Values of ``irt_model`` (unidimensional models; ``"auto"`` chooses the 1PL or the 2PL)."""


def _check_irt_model(irt_model: str) -> str:
    if irt_model not in IRT_MODELS:
        raise InputError(f"unknown irt_model {irt_model!r}", fix=f"choose one of {', '.join(IRT_MODELS)}")
    return "1pl" if irt_model == "rasch" else irt_model


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(f"level must be in (0, 1), got {level!r}", fix="use e.g. level=0.95")
    return float(level)


# ---------------------------------------------------------------------------
# Subset


@dataclass(frozen=True)
class Subset:
    """A chosen set of items of one benchmark.

    Attributes
    ----------
    items : tuple of str
        Item ids, in the order of the benchmark's items.
    weights : numpy.ndarray
        Weight of each item in the weighted subset mean (sums to 1): 1/n for
        random and IRT-information selections, stratum share / items drawn for
        stratified ones, cluster size / number of items for anchor points.
    method : str
        Selection method, or ``"custom"`` for a given list of items.
    n_items : int
        Number of items of the full benchmark.
    seed : int
        Seed of the selection.
    benchmark : str or None
    params : dict
        Selection details (IRT model, strata, clusters, ...).
    """

    items: tuple[str, ...]
    weights: np.ndarray = field(compare=False)
    method: str = "custom"
    n_items: int = 0
    seed: int = 0
    benchmark: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.items)

    @property
    def cost_saved(self) -> float:
        """1 − size / number of items."""
        return 1.0 - self.size / self.n_items

    @classmethod
    def from_items(
        cls,
        items: Sequence[str],
        *,
        n_items: int,
        weights: Sequence[float] | None = None,
        benchmark: str | None = None,
    ) -> Subset:
        """A subset given as a list of item ids (method ``"custom"``; weights default to equal).

        Examples
        --------
        >>> Subset.from_items(["a", "b"], n_items=10).weights.tolist()
        [0.5, 0.5]
        """
        ids = tuple(str(i) for i in items)
        if not ids:
            raise InputError("a subset needs at least one item")
        if len(set(ids)) != len(ids):
            raise InputError("item ids of a subset must be unique")
        if n_items < len(ids):
            raise InputError(f"n_items ({n_items}) is smaller than the subset ({len(ids)})")
        w = np.full(len(ids), 1.0 / len(ids)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(ids),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InputError("weights must be one non-negative number per item, not all zero")
        return cls(ids, w / w.sum(), "custom", int(n_items), 0, benchmark, {})

    def to_frame(self) -> pl.DataFrame:
        """Tidy table: item, weight.

        Examples
        --------
        >>> Subset.from_items(["a", "b"], n_items=4).to_frame().columns
        ['item', 'weight']
        """
        return pl.DataFrame({"item": list(self.items), "weight": self.weights.astype(float)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (what ``subset.json`` holds)."""
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "metabench_version": __version__,
            "benchmark": self.benchmark,
            "method": self.method,
            "size": self.size,
            "n_items": self.n_items,
            "cost_saved": self.cost_saved,
            "seed": self.seed,
            "items": list(self.items),
            "weights": [float(w) for w in self.weights],
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Subset:
        """Read :meth:`to_dict` output back."""
        try:
            items = tuple(str(i) for i in d["items"])
            weights = np.asarray(d.get("weights") or [1.0 / len(items)] * len(items), dtype=float)
            return cls(
                items,
                weights,
                str(d.get("method", "custom")),
                int(d["n_items"]),
                int(d.get("seed", 0)),
                d.get("benchmark"),
                dict(d.get("params") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"not a subset description: {exc}", fix="give a subset.json written by metabench"
            ) from None

    def task_order(self) -> tuple[str, ...]:
        """The items in the order a subset task numbers them (by document index when ids are integers).

        Examples
        --------
        >>> Subset.from_items(["10", "2"], n_items=20).task_order()
        ('2', '10')
        """
        try:
            return tuple(sorted(self.items, key=int))
        except ValueError:
            return self.items

    @property
    def reselectable(self) -> bool:
        return self.method in SELECTIONS


def _subset_from_selected(
    sel: core.Selected, m_items: tuple[str, ...], method: str, seed: int, benchmark: str | None, extra: dict[str, Any]
) -> Subset:
    params = {"size": len(sel.pos), **extra, **sel.info}
    return Subset(tuple(m_items[j] for j in sel.pos), sel.weights, method, len(m_items), seed, benchmark, params)


def select_items(
    matrix: ResponseMatrix | Runs | np.ndarray,
    size: int,
    method: str = "random",
    *,
    seed: int | np.random.Generator = 0,
    irt: Any = None,
    irt_model: str = "auto",
    benchmark: str | None = None,
) -> Subset:
    """Choose ``size`` items of a benchmark from the responses of (training) models.

    Parameters
    ----------
    matrix : ResponseMatrix, Runs or array_like
        Responses of the models the selection may use (models × items).
    size : int
        Number of items to keep.
    method : {"random", "stratified", "irt_info", "anchor_correctness", "anchor_irt"}
        See the module docstring.
    seed : int or numpy.random.Generator
    irt : IRT, optional
        An IRT model already fitted on ``matrix`` (for ``irt_info`` and
        ``anchor_irt``); fitted here when omitted.
    irt_model : str
        The IRT model to fit when ``irt`` is None (``"auto"``: the 2PL, whose
        discriminations the information needs).
    benchmark : str, optional
        Which benchmark, when ``matrix`` is a Runs with several.

    Returns
    -------
    Subset

    Examples
    --------
    >>> import numpy as np
    >>> Y = (np.random.default_rng(1).random((20, 50)) < 0.6).astype(float)
    >>> s = select_items(Y, 10, method="anchor_correctness")
    >>> s.size, round(float(s.weights.sum()), 6)
    (10, 1.0)
    """
    m = _matrix(matrix, benchmark)
    _check_method(method, SELECTIONS, "selection method")
    irt_model = _check_irt_model(irt_model)
    values = _check_training(m)
    size = _check_size(size, m.n_items)
    _check_irt_fit(irt, m)
    s = core.as_seed(seed)
    items = None
    extra: dict[str, Any] = {}
    if method in core.IRT_SELECTIONS:
        if irt is None:
            irt, items = core.fit_irt(values, m.items, core.selection_family(irt_model), s)
        else:
            items = core.items_from_irt(irt, m.items)
        extra["irt_model"] = getattr(irt, "model_", irt_model)
    sel = core.select(method, values, size, s, items=items, subjects=m.subjects)
    return _subset_from_selected(sel, m.items, method, s, m.benchmark, extra)


# ---------------------------------------------------------------------------
# predictions


@dataclass(frozen=True)
class Prediction:
    """Predicted full-benchmark scores of new models from their subset responses.

    Attributes
    ----------
    models : tuple of str
    predicted, ci_low, ci_high, se : numpy.ndarray
        Point prediction, interval at ``level``, and total standard error
        (measurement and calibrated estimator error).
    n_answered : numpy.ndarray
        Subset items each model answered.
    n_subset : int
    method : str
    level : float
    """

    models: tuple[str, ...]
    predicted: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    n_answered: np.ndarray
    n_subset: int
    method: str
    level: float

    def notes(self) -> list[str]:
        """One note per model ("" when it answered the whole subset)."""
        return [
            ""
            if k >= self.n_subset
            else f"answered {int(k)} of {self.n_subset} subset items; interval widened accordingly"
            for k in self.n_answered
        ]

    def to_frame(self) -> pl.DataFrame:
        """Tidy table: model, predicted, ci_low, ci_high, se, n_items_answered, n_subset_items, note."""
        return pl.DataFrame(
            {
                "model": list(self.models),
                "predicted": self.predicted,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "se": self.se,
                "n_items_answered": self.n_answered.astype(np.int64),
                "n_subset_items": np.full(len(self.models), self.n_subset, dtype=np.int64),
                "note": self.notes(),
            }
        )


def _interval(pred: np.ndarray, var: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    se = np.sqrt(np.clip(var, 0.0, None))
    return se, np.clip(pred - q * se, 0.0, 1.0), np.clip(pred + q * se, 0.0, 1.0)


# ---------------------------------------------------------------------------
# the estimator


class SubsetEstimator:
    """Estimator of a new model's full-benchmark score from its responses on a subset.

    Parameters
    ----------
    method : {"mean", "weighted_mean", "irt", "pirt", "gpirt", "ability_regression"}
        See the module docstring.
    level : float
        Level of the intervals.
    irt_model : str
        Unidimensional IRT model of the IRT-based estimators: ``"1pl"``,
        ``"2pl"``, ``"3pl"``, ``"4pl"`` or ``"auto"`` (default: the 1PL or the
        2PL, whichever has the smaller inner cross-validation error; with few
        training models the 1PL's unweighted sum score is often the more robust).
    inner_folds : int
        Folds of the inner cross-validation over training models that
        calibrates the intervals.
    seed : int
        Seed of the inner folds and of the IRT fits.

    Attributes
    ----------
    subset_ : Subset
    irt_ : IRT or None
        The IRT model fitted on the training models (IRT-based methods).
    irt_model_ : str or None
        The IRT model used (the choice of ``"auto"``).
    calibration_ : dict
        Inner cross-validation summary: mean squared error, bias, and the
        scale and excess variance added to the variance of measurement.
    n_train_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> Y = (rng.random((40, 200)) < np.linspace(0.2, 0.9, 40)[:, None]).astype(float)
    >>> s = select_items(Y[:30], 50, method="random")
    >>> est = SubsetEstimator("mean").fit(Y[:30], s)
    >>> p = est.predict(Y[30:])
    >>> p.to_frame().columns[:4]
    ['model', 'predicted', 'ci_low', 'ci_high']
    """

    def __init__(
        self,
        method: str = "gpirt",
        *,
        level: float = 0.95,
        irt_model: str = "auto",
        inner_folds: int = 5,
        seed: int = 0,
    ) -> None:
        self.method = _check_method(method, ESTIMATORS, "estimator")
        self.level = _check_level(level)
        self.irt_model = _check_irt_model(irt_model)
        if int(inner_folds) < 2:
            raise InputError(f"inner_folds must be at least 2, got {inner_folds}")
        self.inner_folds = int(inner_folds)
        self.seed = core.as_seed(seed)

    @property
    def uses_irt(self) -> bool:
        return self.method in core.IRT_ESTIMATORS

    def fit(self, train: ResponseMatrix | Runs | np.ndarray, subset: Subset, *, irt: Any = None) -> SubsetEstimator:
        """Fit on training models' responses to all items and calibrate the intervals.

        Parameters
        ----------
        train : ResponseMatrix, Runs or array_like
            Training models × all items of the benchmark.
        subset : Subset
            The subset (its items must be items of ``train``). When it was
            chosen by one of :data:`SELECTIONS`, the inner cross-validation
            re-selects it on each inner training part; a ``"custom"`` subset is
            kept fixed (then, if it was chosen with these models, the intervals
            are optimistic).
        irt : IRT, optional
            An IRT model fitted on ``train`` to reuse.

        Returns
        -------
        self
        """
        m = _matrix(train, subset.benchmark)
        values = _check_training(m)
        _check_irt_fit(irt, m)
        ws = core.Workspace(
            values, m.items, m.subjects, irt_model=self.irt_model, inner_folds=self.inner_folds, seed=self.seed, irt=irt
        )
        return self._fit_workspace(ws, subset)

    def _fit_workspace(self, ws: core.Workspace, subset: Subset) -> SubsetEstimator:
        pos = _positions(subset, ws.item_ids)
        if len(ws.item_ids) != subset.n_items:
            raise InputError(
                f"the subset was chosen from {subset.n_items} items but the training data have {len(ws.item_ids)}",
                fix="fit on the matrix the subset was selected from",
            )
        family = subset.params.get("irt_model") if subset.method in core.IRT_SELECTIONS else None
        reselect = (subset.method, subset.size, subset.seed, family) if subset.reselectable else None
        fitted = core.fit_estimators(ws, (self.method,), pos, subset.weights, reselect)
        self.fitted_ = fitted
        self.subset_ = subset
        self.item_ids_ = ws.item_ids
        self.irt_model_ = fitted.family[self.method]
        self.irt_ = ws.irt(self.irt_model_) if self.irt_model_ is not None else None
        self.n_train_ = int(ws.values.shape[0])
        cal = fitted.calib[self.method]
        self.calibration_ = {"method": self.method, "irt_model": self.irt_model_, **cal.to_dict()}
        return self

    def _check_fitted(self) -> None:
        if getattr(self, "fitted_", None) is None:
            raise NotFittedError("this SubsetEstimator is not fitted yet; call fit(train, subset) first")

    def _subset_responses(self, responses: Any) -> tuple[np.ndarray, tuple[str, ...]]:
        subset = self.subset_
        if isinstance(responses, (ResponseMatrix, Runs)):
            m = _matrix(
                responses,
                subset.benchmark if isinstance(responses, Runs) and subset.benchmark in responses.benchmarks else None,
            )
            v = _values(m)
            index = {it: k for k, it in enumerate(m.items)}
            src = np.array([index.get(it, -1) for it in subset.items], dtype=np.int64)
            out = np.full((v.shape[0], subset.size), np.nan)
            have = src >= 0
            out[:, have] = v[:, src[have]]
            return out, m.models
        arr = np.asarray(responses, dtype=float)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise InputError(f"responses must be 1-D or 2-D, got {arr.ndim}-D")
        if arr.shape[1] == subset.size:
            out = arr
        elif arr.shape[1] == subset.n_items:
            out = arr[:, _positions(subset, self.item_ids_)]
        else:
            raise InputError(
                f"responses have {arr.shape[1]} columns; expected the {subset.size} subset items or all {subset.n_items} items",
                fix="pass a ResponseMatrix (matched by item id) or columns in the subset's order",
            )
        finite = out[~np.isnan(out)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            raise InputError("scores must lie in [0, 1]")
        return out, tuple(f"m{i}" for i in range(out.shape[0]))

    def predict(self, responses: ResponseMatrix | Runs | np.ndarray) -> Prediction:
        """Predict full-benchmark scores from responses on the subset.

        Parameters
        ----------
        responses : ResponseMatrix, Runs or array_like
            New models' responses. A ResponseMatrix (or Runs) is matched by item
            id and only its subset items are used; an array has one column per
            subset item (subset order) or per benchmark item. NaN = not
            answered: a model is scored on the subset items it answered, with a
            wider interval.

        Returns
        -------
        Prediction

        Raises
        ------
        InputError
            If a model answered none of the subset items.
        """
        self._check_fitted()
        ysub, models = self._subset_responses(responses)
        k = (~np.isnan(ysub)).sum(axis=1)
        if (k == 0).any():
            bad = [models[i] for i in np.flatnonzero(k == 0)]
            raise InputError(
                f"{len(bad)} model(s) answered none of the {self.subset_.size} subset items: {', '.join(bad[:5])}",
                fix="run the models on the subset items (see lm_eval_task_yaml) or drop them",
            )
        pred, var = core.predict_fitted(self.fitted_, self.method, ysub)
        q = self.fitted_.calib[self.method].quantile(self.level)
        se, lo, hi = _interval(pred, var, q)
        return Prediction(tuple(models), pred, lo, hi, se, k, self.subset_.size, self.method, self.level)

    # -- persistence -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Fitted parameters as JSON-ready data (the IRT item parameters are saved separately)."""
        self._check_fitted()
        f = self.fitted_
        raw = [
            {"method": name, "irt_model": fam, "spline": None if r.spline is None else r.spline.to_dict()}
            for (name, fam), r in f.raw.items()
        ]
        return {
            "schema": SCHEMA + ".estimator",
            "schema_version": SCHEMA_VERSION,
            "metabench_version": __version__,
            "method": self.method,
            "level": self.level,
            "irt_model": self.irt_model,
            "inner_folds": self.inner_folds,
            "seed": self.seed,
            "n_train": self.n_train_,
            "n_items": len(self.item_ids_),
            "item_ids": list(self.item_ids_),
            "subset_items": list(self.subset_.items),
            "raw": raw,
            "calibration": {k: v.to_dict() for k, v in f.calib.items()},
            "blend": None if f.blend is None else f.blend.to_dict(),
            "family": f.family,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], subset: Subset, irt: Any = None) -> SubsetEstimator:
        """Rebuild a fitted estimator from :meth:`to_dict`, its subset and (IRT-based methods) the loaded IRT."""
        try:
            est = cls(
                d["method"],
                level=float(d["level"]),
                irt_model=d.get("irt_model", "2pl"),
                inner_folds=int(d.get("inner_folds", 5)),
                seed=int(d.get("seed", 0)),
            )
            item_ids = tuple(str(i) for i in d["item_ids"])
            if tuple(d["subset_items"]) != subset.items:
                raise InputError("the estimator was fitted on another subset", fix="save and load them together")
            pos = _positions(subset, item_ids)
            curves = None
            if est.uses_irt:
                if irt is None:
                    raise InputError(f"estimator {est.method!r} needs its IRT parameters", fix="pass irt=IRT.load(...)")
                curves = core.Curves.of(core.items_from_irt(irt, item_ids))
            raw = {}
            for r in d["raw"]:
                spline = None if r.get("spline") is None else core.Spline.from_dict(r["spline"])
                fam = r.get("irt_model")
                raw[(r["method"], fam)] = core.RawFit(
                    r["method"], len(item_ids), pos, subset.weights, curves if fam is not None else None, spline
                )
            calib = {k: core.Calibration.from_dict(v) for k, v in d["calibration"].items()}
            blend = None if d.get("blend") is None else core.Blend.from_dict(d["blend"])
            family = {k: v for k, v in d["family"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"not a fitted subset estimator: {exc}") from None
        est.fitted_ = core.Fitted(raw, calib, blend, family)
        est.subset_ = subset
        est.item_ids_ = item_ids
        est.irt_model_ = family[est.method]
        est.irt_ = irt if est.uses_irt else None
        est.n_train_ = int(d.get("n_train", 0))
        est.calibration_ = {"method": est.method, "irt_model": est.irt_model_, **calib[est.method].to_dict()}
        return est

    def __repr__(self) -> str:
        fitted = (
            f", fitted on {self.n_train_} models, {self.subset_.size} items" if getattr(self, "fitted_", None) else ""
        )
        return f"SubsetEstimator(method={self.method!r}{fitted})"


def _positions(subset: Subset, item_ids: tuple[str, ...]) -> np.ndarray:
    index = {it: k for k, it in enumerate(item_ids)}
    missing = [it for it in subset.items if it not in index]
    if missing:
        raise InputError(
            f"{len(missing)} subset item(s) are not items of the data: {', '.join(missing[:5])}",
            fix="use the benchmark the subset was chosen from",
        )
    return np.array([index[it] for it in subset.items], dtype=np.int64)


# ---------------------------------------------------------------------------
# validation


def _parse_methods(methods: Any) -> list[tuple[str, str]]:
    if methods is None or methods == "all":
        return [(s, e) for s in SELECTIONS for e in ESTIMATORS]
    out: list[tuple[str, str]] = []
    for m in methods:
        if isinstance(m, str):
            if ":" not in m:
                raise InputError(f"method {m!r} must be 'selection:estimator'", fix="e.g. 'anchor_irt:gpirt'")
            s, e = m.split(":", 1)
        else:
            s, e = m
        out.append((_check_method(s, SELECTIONS, "selection method"), _check_method(e, ESTIMATORS, "estimator")))
    if not out:
        raise InputError("no method to validate")
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class ValidationResult:
    """Held-out error of subset methods against subset size.

    Attributes
    ----------
    summary : polars.DataFrame
        One row per (selection, estimator, size): n_items, cost_saved, n_train
        (mean training models per fold), n_test, mae, mae_upper (one-sided 95%
        upper bound of the MAE, t on the held-out absolute errors), rmse, bias,
        spearman, kendall, coverage (share of held-out models whose full score
        lies in the interval), mean_width. Errors are in score units (0–1).
    predictions : polars.DataFrame
        One row per held-out model and method: fold, selection, estimator, size,
        model, truth, predicted, ci_low, ci_high, se.
    subsets : polars.DataFrame
        The subsets chosen in each fold: fold, selection, size, item, weight.
    folds, seed, n_models, n_items, level : int, int, int, int, float
    benchmark : str or None
    """

    summary: pl.DataFrame
    predictions: pl.DataFrame
    subsets: pl.DataFrame
    folds: int
    seed: int
    n_models: int
    n_items: int
    level: float
    benchmark: str | None = None

    def to_frame(self) -> pl.DataFrame:
        """The summary table."""
        return self.summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "folds": self.folds,
            "seed": self.seed,
            "n_models": self.n_models,
            "n_items": self.n_items,
            "level": self.level,
            "summary": self.summary.to_dicts(),
        }

    def best(self, size: int, by: str = "mae") -> dict[str, Any]:
        """The row of the method with the smallest ``by`` at ``size``."""
        rows = self.summary.filter(pl.col("size") == size).sort(by, maintain_order=True)
        if rows.height == 0:
            raise InputError(f"no validation at size {size}", fix=f"choose one of {sorted(set(self.summary['size']))}")
        return rows.row(0, named=True)


def _metrics(truth: np.ndarray, pred: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, float]:
    ok = np.isfinite(truth) & np.isfinite(pred)
    t, p = truth[ok], pred[ok]
    e = p - t
    n = int(ok.sum())
    out: dict[str, float] = {"n_test": n}
    if n == 0:
        return out | {
            k: math.nan for k in ("mae", "mae_upper", "rmse", "bias", "spearman", "kendall", "coverage", "mean_width")
        }
    ae = np.abs(e)
    mae = float(ae.mean())
    upper = mae + (float(stats.t.ppf(0.95, n - 1) * ae.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf)
    varied = n > 2 and np.ptp(t) > 0 and np.ptp(p) > 0
    out.update(
        mae=mae,
        mae_upper=upper,
        rmse=float(math.sqrt(np.mean(e**2))),
        bias=float(e.mean()),
        spearman=float(stats.spearmanr(t, p).statistic) if varied else math.nan,
        kendall=float(stats.kendalltau(t, p).statistic) if varied else math.nan,
        coverage=float(np.mean((t >= lo[ok]) & (t <= hi[ok]))),
        mean_width=float(np.mean(hi[ok] - lo[ok])),
    )
    return out


class _Validator:
    """Outer folds with their workspaces (IRT fits cached), shared by all sizes and methods."""

    def __init__(
        self, m: ResponseMatrix, *, folds: int, seed: int, irt_model: str, inner_folds: int, level: float
    ) -> None:
        self.m = m
        self.values = _check_training(m)
        n = self.values.shape[0]
        if n < 5:
            raise InputError(f"validation needs at least five models, got {n}", fix="add models")
        self.seed = seed
        self.level = level
        self.tests = core.kfold(n, folds, seed)
        self.truth = core.row_means(self.values)
        self.ws = []
        for test in self.tests:
            train = np.setdiff1d(np.arange(n), test)
            self.ws.append(
                core.Workspace(
                    self.values[train], m.items, m.subjects, irt_model=irt_model, inner_folds=inner_folds, seed=seed
                )
            )

    def run(
        self, sizes: Sequence[int], methods: list[tuple[str, str]], progress: Callable[[str], None] | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        preds: list[dict[str, Any]] = []
        subsets: list[dict[str, Any]] = []
        selections = list(dict.fromkeys(s for s, _ in methods))
        for f, (test, ws) in enumerate(zip(self.tests, self.ws)):
            ytest = self.values[test]
            for size in sizes:
                for sel_name in selections:
                    ests = tuple(e for s, e in methods if s == sel_name)
                    sel = ws.select(sel_name, size, self.seed)
                    fitted = core.fit_estimators(ws, ests, sel.pos, sel.weights, (sel_name, size, self.seed, None))
                    subsets.extend(
                        {"fold": f, "selection": sel_name, "size": size, "item": self.m.items[j], "weight": float(w)}
                        for j, w in zip(sel.pos, sel.weights)
                    )
                    ysub = ytest[:, sel.pos]
                    answered = (~np.isnan(ysub)).any(axis=1)
                    for est in ests:
                        pred, var = core.predict_fitted(fitted, est, ysub)
                        q = fitted.calib[est].quantile(self.level)
                        se, lo, hi = _interval(pred, var, q)
                        pred = np.where(answered, pred, np.nan)
                        for i, row in enumerate(test):
                            preds.append(
                                {
                                    "fold": f,
                                    "selection": sel_name,
                                    "estimator": est,
                                    "size": size,
                                    "model": self.m.models[row],
                                    "truth": float(self.truth[row]),
                                    "predicted": float(pred[i]),
                                    "ci_low": float(lo[i]),
                                    "ci_high": float(hi[i]),
                                    "se": float(se[i]),
                                }
                            )
                    if progress is not None:
                        progress(f"fold {f + 1}/{len(self.tests)}, size {size}, {sel_name}: {', '.join(ests)}")
        return preds, subsets

    def summarise(
        self,
        preds: list[dict[str, Any]],
        subsets: list[dict[str, Any]],
        sizes: Sequence[int],
        methods: list[tuple[str, str]],
    ) -> ValidationResult:
        schema = {
            "fold": pl.Int64,
            "selection": pl.String,
            "estimator": pl.String,
            "size": pl.Int64,
            "model": pl.String,
            "truth": pl.Float64,
            "predicted": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "se": pl.Float64,
        }
        pf = pl.DataFrame(preds, schema=schema)
        n_items = self.m.n_items
        n_train = float(np.mean([ws.values.shape[0] for ws in self.ws]))
        rows = []
        for size in sizes:
            for sel_name, est in methods:
                part = pf.filter(
                    (pl.col("selection") == sel_name) & (pl.col("estimator") == est) & (pl.col("size") == size)
                )
                met = _metrics(
                    part["truth"].to_numpy(),
                    part["predicted"].to_numpy(),
                    part["ci_low"].to_numpy(),
                    part["ci_high"].to_numpy(),
                )
                rows.append(
                    {
                        "selection": sel_name,
                        "estimator": est,
                        "size": size,
                        "n_items": n_items,
                        "cost_saved": 1 - size / n_items,
                        "n_train": n_train,
                        **met,
                    }
                )
        cols = [
            "selection",
            "estimator",
            "size",
            "n_items",
            "cost_saved",
            "n_train",
            "n_test",
            "mae",
            "mae_upper",
            "rmse",
            "bias",
            "spearman",
            "kendall",
            "coverage",
            "mean_width",
        ]
        summary = pl.DataFrame(rows).select(cols).with_columns(pl.col("n_test").cast(pl.Int64))
        sf = pl.DataFrame(
            subsets,
            schema={
                "fold": pl.Int64,
                "selection": pl.String,
                "size": pl.Int64,
                "item": pl.String,
                "weight": pl.Float64,
            },
        )
        return ValidationResult(
            summary, pf, sf, len(self.tests), self.seed, self.values.shape[0], n_items, self.level, self.m.benchmark
        )


def _sizes(sizes: int | Sequence[int], n_items: int) -> list[int]:
    seq = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
    if not seq:
        raise InputError("give at least one subset size")
    return sorted({_check_size(int(s), n_items) for s in seq})


def validate_subset(
    matrix: ResponseMatrix | Runs | np.ndarray,
    sizes: int | Sequence[int],
    methods: str | Sequence[tuple[str, str] | str] | None = "all",
    *,
    folds: int = 5,
    seed: int | np.random.Generator = 0,
    irt_model: str = "auto",
    inner_folds: int = 5,
    level: float = 0.95,
    benchmark: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> ValidationResult:
    """Held-out error of subset selection × estimator combinations, k-fold over models.

    In each fold the subset is selected, the IRT model and the estimator fitted
    and their intervals calibrated (inner cross-validation) on the training
    models only; the held-out models contribute their subset responses to the
    prediction and their full responses (mean over all items they answered) to
    the error. Rank correlations are over all held-out models pooled across folds.
    Every fold selects with the same seed: random and stratified subsets do not
    depend on the models, so every fold then evaluates the very subset this
    seed gives (the one a user would get); the error of other draws differs,
    so compare such methods over several seeds.

    Parameters
    ----------
    matrix : ResponseMatrix, Runs or array_like
        All models × all items of one benchmark.
    sizes : int or sequence of int
    methods : "all" or sequence
        (selection, estimator) pairs or ``"selection:estimator"`` strings;
        ``"all"`` is every combination of :data:`SELECTIONS` × :data:`ESTIMATORS`.
    folds : int
        Folds over models (at most the number of models: leave-one-out).
    seed : int or numpy.random.Generator
        Seed of the folds, the selections and the IRT fits.
    irt_model : str
        IRT model of the IRT-based selections and estimators (see
        :class:`SubsetEstimator`; ``"auto"`` by default).
    inner_folds : int
        Folds of the inner cross-validation that calibrates the intervals.
    level : float
    benchmark : str, optional
    progress : callable, optional
        Called with a short message after each (fold, size, selection).

    Returns
    -------
    ValidationResult

    Examples
    --------
    >>> import numpy as np
    >>> Y = (np.random.default_rng(3).random((30, 120)) < np.linspace(0.2, 0.8, 30)[:, None]).astype(float)
    >>> r = validate_subset(Y, [20, 40], ["random:mean", "random:weighted_mean"], folds=3)
    >>> r.to_frame().select("estimator", "size", "n_test").rows()
    [('mean', 20, 30), ('weighted_mean', 20, 30), ('mean', 40, 30), ('weighted_mean', 40, 30)]
    """
    m = _matrix(matrix, benchmark)
    meths = _parse_methods(methods)
    szs = _sizes(sizes, m.n_items)
    irt_model = _check_irt_model(irt_model)
    if int(folds) < 2:
        raise InputError(f"folds must be at least 2, got {folds}")
    v = _Validator(
        m,
        folds=int(folds),
        seed=core.as_seed(seed),
        irt_model=irt_model,
        inner_folds=int(inner_folds),
        level=_check_level(level),
    )
    preds, subsets = v.run(szs, meths, progress)
    return v.summarise(preds, subsets, szs, meths)


@dataclass(frozen=True)
class SizeResult:
    """The smallest validated subset size that meets a target error.

    Attributes
    ----------
    size : int or None
        The smallest size meeting the target (None if no size tried did).
    selection, estimator : str or None
        The method that met it (the one with the smallest criterion at that size).
    target : float
    criterion : str
        ``"mae"`` or ``"mae_upper"``.
    value : float
        The criterion at ``size`` (or the best value reached when not met).
    met : bool
    validation : ValidationResult
        Validation of every size tried (sizes are tried in increasing order and
        the search stops at the first that meets the target).
    """

    size: int | None
    selection: str | None
    estimator: str | None
    target: float
    criterion: str
    value: float
    met: bool
    validation: ValidationResult

    def to_frame(self) -> pl.DataFrame:
        """The validation summary of the sizes tried, with a column ``meets_target``."""
        return self.validation.summary.with_columns((pl.col(self.criterion) <= self.target).alias("meets_target"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "selection": self.selection,
            "estimator": self.estimator,
            "target": self.target,
            "criterion": self.criterion,
            "value": self.value,
            "met": self.met,
            "validation": self.validation.to_dict(),
        }


def smallest_size(
    matrix: ResponseMatrix | Runs | np.ndarray,
    target_error: float = 0.02,
    *,
    sizes: Sequence[int] | None = None,
    methods: str | Sequence[tuple[str, str] | str] | None = (DEFAULT_METHOD,),
    criterion: str = "mae_upper",
    folds: int = 5,
    seed: int | np.random.Generator = 0,
    irt_model: str = "auto",
    inner_folds: int = 5,
    level: float = 0.95,
    benchmark: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SizeResult:
    """Smallest subset size (from a grid) whose validated held-out error meets ``target_error``.

    Sizes are validated in increasing order with :func:`validate_subset` (same
    folds and seed for every size) until one meets the target. The criterion is
    by default ``"mae_upper"``, the one-sided 95% upper confidence bound of the
    held-out mean absolute error (MAE + t₀.₉₅ · SD(|error|)/√n), so that the
    stated error is not met by chance on a few held-out models; ``"mae"`` uses
    the point estimate. With several methods, a size is met when any of them
    meets it (the best is reported; note that choosing among many methods on the
    same folds flatters the winner a little).

    Parameters
    ----------
    matrix : ResponseMatrix, Runs or array_like
    target_error : float
        Target error in score units (0.02 = 2 points of accuracy).
    sizes : sequence of int, optional
        Grid to try; default :data:`DEFAULT_SIZES` below the number of items.
    methods : sequence
        (selection, estimator) pairs; default ``[("anchor_irt", "gpirt")]``.
    criterion : {"mae_upper", "mae"}
    folds, seed, irt_model, inner_folds, level, benchmark, progress
        As in :func:`validate_subset`.

    Returns
    -------
    SizeResult

    Examples
    --------
    >>> import numpy as np
    >>> Y = (np.random.default_rng(4).random((30, 400)) < np.linspace(0.2, 0.8, 30)[:, None]).astype(float)
    >>> r = smallest_size(Y, 0.1, sizes=[10, 40, 160], methods=["random:mean"], folds=3)
    >>> r.met, r.size in (10, 40, 160)
    (True, True)
    """
    if criterion not in ("mae_upper", "mae"):
        raise InputError(f"criterion must be 'mae_upper' or 'mae', not {criterion!r}")
    if not (isinstance(target_error, (int, float)) and target_error > 0):
        raise InputError(f"target_error must be positive, got {target_error!r}", fix="e.g. 0.02 for 2 points")
    m = _matrix(matrix, benchmark)
    meths = _parse_methods(methods)
    irt_model = _check_irt_model(irt_model)
    grid = [s for s in (DEFAULT_SIZES if sizes is None else sizes) if s < m.n_items]
    szs = _sizes(grid, m.n_items) if grid else []
    if not szs:
        raise InputError(f"no size in the grid is below the {m.n_items} items", fix="pass smaller sizes")
    v = _Validator(
        m,
        folds=int(folds),
        seed=core.as_seed(seed),
        irt_model=irt_model,
        inner_folds=int(inner_folds),
        level=_check_level(level),
    )
    preds: list[dict[str, Any]] = []
    subsets: list[dict[str, Any]] = []
    tried: list[int] = []
    found: dict[str, Any] | None = None
    best_val = math.inf
    for size in szs:
        p, s = v.run([size], meths, progress)
        preds += p
        subsets += s
        tried.append(size)
        res = v.summarise(p, s, [size], meths)
        row = res.summary.sort(criterion, maintain_order=True).row(0, named=True)
        best_val = min(best_val, float(row[criterion]))
        if row[criterion] <= target_error:
            found = row
            break
    validation = v.summarise(preds, subsets, tried, meths)
    if found is None:
        return SizeResult(None, None, None, float(target_error), criterion, best_val, False, validation)
    return SizeResult(
        int(found["size"]),
        found["selection"],
        found["estimator"],
        float(target_error),
        criterion,
        float(found[criterion]),
        True,
        validation,
    )


# ---------------------------------------------------------------------------
# persistence and scoring of new models


def _load_validation(d: Path) -> ValidationResult | None:
    """The validation :meth:`SubsetModel.save` wrote into ``d``, or None when there is none."""
    if not (d / "validation.csv").is_file():
        return None
    try:
        summary = pl.read_csv(d / "validation.csv")
        meta_file = d / "validation.json"
        if not meta_file.is_file():  # a summary alone (written before the full validation was stored)
            n_models = int(summary["n_train"].max() + summary["n_test"].max()) if summary.height else 0
            meta = {"folds": 0, "seed": 0, "n_models": n_models, "n_items": int(summary["n_items"].max() or 0)}
            meta |= {"level": float("nan"), "benchmark": None}
        else:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))

        def optional(name: str) -> pl.DataFrame:
            f = d / name
            return pl.read_csv(f) if f.is_file() else pl.DataFrame()

        predictions = optional("validation_predictions.csv")
        subsets = optional("validation_subsets.csv")
        if "item" in subsets.columns:  # item ids are strings, whatever they look like
            subsets = pl.read_csv(d / "validation_subsets.csv", schema_overrides={"item": pl.String})
        if "model" in predictions.columns:
            predictions = pl.read_csv(d / "validation_predictions.csv", schema_overrides={"model": pl.String})
        return ValidationResult(
            summary,
            predictions,
            subsets,
            int(meta["folds"]),
            int(meta["seed"]),
            int(meta["n_models"]),
            int(meta["n_items"]),
            float(meta["level"]),
            meta.get("benchmark"),
        )
    except (OSError, KeyError, ValueError, TypeError, json.JSONDecodeError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            f"cannot read the stored validation: {exc}",
            file=str(d),
            fix="re-run metabench subset to rewrite it, or delete validation*.csv and validation.json",
        ) from None


class SubsetModel:
    """A subset with its fitted estimator: what ``metabench subset score`` needs to score new models.

    Parameters
    ----------
    subset : Subset
    estimator : SubsetEstimator
        Fitted on the models the subset was chosen from.
    validation : ValidationResult, optional
        Held-out validation to store alongside (``validation.csv``).

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> rng = np.random.default_rng(5)
    >>> Y = (rng.random((40, 300)) < np.linspace(0.2, 0.9, 40)[:, None]).astype(float)
    >>> sm = SubsetModel.fit(ResponseMatrix.from_array(Y[:30]), 60, selection="random", estimator="pirt")
    >>> d = sm.save(tempfile.mkdtemp())
    >>> new = ResponseMatrix.from_array(Y[30:], models=[f"new{i}" for i in range(10)])
    >>> SubsetModel.load(d).score(new).columns[:4]
    ['model', 'predicted', 'ci_low', 'ci_high']
    """

    def __init__(
        self, subset: Subset, estimator: SubsetEstimator, *, validation: ValidationResult | None = None
    ) -> None:
        estimator._check_fitted()
        if estimator.subset_.items != subset.items:
            raise InputError("the estimator was fitted on another subset")
        self.subset = subset
        self.estimator = estimator
        self.validation = validation

    @classmethod
    def fit(
        cls,
        matrix: ResponseMatrix | Runs | np.ndarray,
        size: int,
        *,
        selection: str = DEFAULT_METHOD[0],
        estimator: str = DEFAULT_METHOD[1],
        seed: int | np.random.Generator = 0,
        irt_model: str = "auto",
        inner_folds: int = 5,
        level: float = 0.95,
        benchmark: str | None = None,
        validation: ValidationResult | None = None,
    ) -> SubsetModel:
        """Select a subset on all models of ``matrix`` and fit the estimator on them (one IRT fit shared)."""
        m = _matrix(matrix, benchmark)
        _check_method(selection, SELECTIONS, "selection method")
        values = _check_training(m)
        size = _check_size(size, m.n_items)
        s = core.as_seed(seed)
        est = SubsetEstimator(estimator, level=level, irt_model=irt_model, inner_folds=inner_folds, seed=s)
        ws = core.Workspace(values, m.items, m.subjects, irt_model=irt_model, inner_folds=est.inner_folds, seed=s)
        sel = ws.select(selection, size, s)
        extra = {"irt_model": core.selection_family(irt_model)} if selection in core.IRT_SELECTIONS else {}
        subset = _subset_from_selected(sel, m.items, selection, s, m.benchmark, extra)
        est._fit_workspace(ws, subset)
        return cls(subset, est, validation=validation)

    @property
    def benchmark(self) -> str | None:
        return self.subset.benchmark

    def save(self, directory: str | Path) -> Path:
        """Write ``subset.json``, ``subset.csv``, ``irt.json`` (IRT-based estimators), ``estimator.json``
        and, when present, ``validation.csv`` into ``directory``; returns the directory."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        doc = self.subset.to_dict() | {"estimator": self.estimator.method, "level": self.estimator.level}
        (out / "subset.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
        self.subset.to_frame().write_csv(out / "subset.csv")
        est = self.estimator.to_dict()
        if self.estimator.irt_ is not None:
            self.estimator.irt_.save(out / "irt.json")
            est["irt_file"] = "irt.json"
        (out / "estimator.json").write_text(json.dumps(est), encoding="utf-8")
        if self.validation is not None:
            v = self.validation
            v.summary.write_csv(out / "validation.csv")
            v.predictions.write_csv(out / "validation_predictions.csv")
            v.subsets.write_csv(out / "validation_subsets.csv")
            meta = {k: val for k, val in v.to_dict().items() if k != "summary"}
            (out / "validation.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> SubsetModel:
        """Read a directory written by :meth:`save`."""
        d = Path(directory)
        try:
            sdoc = json.loads((d / "subset.json").read_text(encoding="utf-8"))
            edoc = json.loads((d / "estimator.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(
                f"cannot read a subset model: {exc}",
                file=str(d),
                fix="give a directory written by SubsetModel.save (metabench subset)",
            ) from None
        subset = Subset.from_dict(sdoc)
        irt = None
        if edoc.get("irt_file"):
            from metabench.irt import IRT

            irt = IRT.load(d / edoc["irt_file"])
        validation = _load_validation(d)
        return cls(subset, SubsetEstimator.from_dict(edoc, subset, irt), validation=validation)

    def predict(
        self, data: Runs | ResponseMatrix | np.ndarray, *, benchmark: str | None = None, task_positions: bool = False
    ) -> Prediction:
        """Like :meth:`score` but returns the :class:`Prediction`."""
        if isinstance(data, Runs):
            bm = benchmark or (self.benchmark if self.benchmark in data.benchmarks else None)
            data = _matrix(data, bm)
        if task_positions:
            if not isinstance(data, ResponseMatrix):
                raise InputError("task_positions needs item ids (a ResponseMatrix or Runs)")
            order = self.subset.task_order()
            mapping = {str(k): it for k, it in enumerate(order)}
            bad = [it for it in data.items if it not in mapping]
            if bad:
                raise InputError(
                    f"{len(bad)} item id(s) are not positions in the subset task: {', '.join(bad[:5])}",
                    fix=f"the subset task numbers its documents 0–{len(order) - 1}",
                )
            data = ResponseMatrix(
                data.values,
                data.models,
                tuple(mapping[it] for it in data.items),
                None,
                data.seeds,
                data.benchmark,
                data.n_seeds,
            )
        return self.estimator.predict(data)

    def score(
        self, data: Runs | ResponseMatrix | np.ndarray, *, benchmark: str | None = None, task_positions: bool = False
    ) -> pl.DataFrame:
        """Predicted full-benchmark scores of new models from their responses on the subset alone.

        Parameters
        ----------
        data : Runs, ResponseMatrix or array_like
            The new models' responses. Items outside the subset are ignored.
        benchmark : str, optional
            Which benchmark of a Runs (default: the subset's benchmark when
            present, else the only one).
        task_positions : bool
            The item ids are ``doc_id``-s of the generated lm-eval subset task
            (0, 1, ... over the kept documents) rather than the original ids.

        Returns
        -------
        polars.DataFrame
            model, predicted, ci_low, ci_high, se, n_items_answered,
            n_subset_items, note (a model that answered only part of the subset
            is scored on what it answered, with a wider interval, and noted).

        Raises
        ------
        InputError
            If a model answered none of the subset items.
        """
        return self.predict(data, benchmark=benchmark, task_positions=task_positions).to_frame()

    def __repr__(self) -> str:
        return (
            f"SubsetModel({self.subset.size} of {self.subset.n_items} items, selection {self.subset.method!r}, "
            f"estimator {self.estimator.method!r})"
        )
