"""Contamination detection: from runs alone, and from a model's log-probabilities.

A contaminated model scores well on items it has seen in training. Three tests
need only per-item runs:

:func:`constat`
    performance-based (ConStat, Dekoninck et al. 2024): across reference models,
    fit how the score on a benchmark follows the score on a reference benchmark
    (a rephrased, fresh or related one), predict each tested model's benchmark
    score from its reference score, and test whether it scores higher than
    predicted. Excess ``delta``, bootstrap interval and one-sided p-value per
    model, corrected for the number of models tested.
:func:`person_fit_test`
    IRT person fit: is a model's response pattern aberrant under an IRT model
    fitted to all models — hard items solved while easy ones are missed? Snijders'
    lz* and the normed count of Guttman errors, each with a p-value from a
    parametric bootstrap rather than a normal approximation.
:func:`date_split_test`
    for items dated by creation and models with a training cut-off: accuracy on
    items created before the cut-off against items created after, raw and
    adjusted for item difficulty through the other models (a difference in
    differences), with cluster-robust standard errors.

Four more work on what a model computes (the runner's backends provide the
numbers; everything here is statistics on them):

:func:`min_k_prob`, :func:`min_k_plus_plus`, :func:`zlib_ratio`
    per-item membership scores from token log-probabilities (Shi et al. 2024;
    Zhang et al. 2025; Carlini et al. 2021); higher means more likely seen.
:func:`membership_test`
    do benchmark items score higher than reference text the model cannot have
    seen? AUC with a DeLong interval and a permutation p-value.
:func:`exchangeability_test`
    Oren et al. (2023): under no contamination the items of a benchmark are
    exchangeable, so the canonical order is no more likely than a shuffled one;
    the sharded t-test and an exact permutation p-value.
:func:`ts_guessing_prompts`, :func:`ts_guessing_score`
    TS-Guessing (Deng et al. 2024): hide a wrong option and ask the model to
    fill it in; exact matches betray memorised items.

All p-values are one-sided in the direction of contamination. The calibration
of the run-based tests under no contamination, and their power against a known
boost, are measured by simulation in ``benchmarks/contamination.py``.

References
----------
Dekoninck, J., Müller, M. N., & Vechev, M. (2024). ConStat: Performance-based
contamination detection in large language models. *NeurIPS 2024*.

Oren, Y., Meister, N., Chatterji, N., Ladhak, F., & Hashimoto, T. B. (2024).
Proving test set contamination in black box language models. *ICLR 2024*.

Shi, W., Ajith, A., Xia, M., Huang, Y., Liu, D., Blevins, T., Chen, D., &
Zettlemoyer, L. (2024). Detecting pretraining data from large language models.
*ICLR 2024*.

Zhang, J., Sun, J., Yeats, E., Ouyang, Y., Kuo, M., Zhang, J., Yang, H. F., &
Li, H. (2025). Min-K%++: Improved baseline for detecting pre-training data from
large language models. *ICLR 2025*.

Carlini, N., et al. (2021). Extracting training data from large language
models. *USENIX Security 2021*.

Deng, C., Zhao, Y., Tang, X., Gerstein, M., & Cohan, A. (2024). Investigating
data contamination in modern benchmarks for large language models. *NAACL 2024*.

Snijders, T. A. B. (2001). Asymptotic null distribution of person fit
statistics with estimated person parameter. *Psychometrika*, 66(3), 331–342.

Besag, J., & Clifford, P. (1991). Sequential Monte Carlo p-values.
*Biometrika*, 78(2), 301–304.

Meijer, R. R. (1994). The number of Guttman errors as a simple and powerful
person-fit statistic. *Applied Psychological Measurement*, 18(4), 311–314.

DeLong, E. R., DeLong, D. M., & Clarke-Pearson, D. L. (1988). Comparing the
areas under two or more correlated receiver operating characteristic curves.
*Biometrics*, 44(3), 837–845.

Eilers, P. H. C., & Marx, B. D. (1996). Flexible smoothing with B-splines and
penalties. *Statistical Science*, 11(2), 89–121. Eilers, P. H. C. (2005).
Unimodal smoothing. *Journal of Chemometrics*, 19, 317–328.

Kim, Y.-J., & Gu, C. (2004). Smoothing spline Gaussian regression: more
scalable computation via efficient approximation. *JRSS B*, 66(2), 337–356.

Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to
cluster-robust inference. *Journal of Human Resources*, 50(2), 317–372.
"""

from __future__ import annotations

import datetime as _dt
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import stats

from metabench._random import keyed_rng, serial_blas
from metabench.analysis import _contamination_fit as _fit
from metabench.analysis import _contamination_irt as _pf
from metabench.errors import InputError
from metabench.runs import Exclusion, ResponseMatrix, Runs

__all__ = [
    "TS_GUESSING_TEMPLATE",
    "ConStatResult",
    "DateSplitResult",
    "ExchangeabilityResult",
    "MembershipResult",
    "PersonFitResult",
    "TSGuessingResult",
    "constat",
    "date_split_test",
    "exchangeability_test",
    "membership_test",
    "min_k_plus_plus",
    "min_k_prob",
    "person_fit_test",
    "ts_guessing_prompts",
    "ts_guessing_score",
    "zlib_ratio",
]

Correction = Literal["holm", "bh", "by", "bonferroni", "hommel", "none"]

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


# ---------------------------------------------------------------------------
# shared utilities
# ---------------------------------------------------------------------------


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_unit(value: float, name: str, fix: str) -> float:
    v = float(value)
    if not 0 < v < 1:
        raise InputError(f"{name} must be in (0, 1), got {value!r}", fix=fix)
    return v


def _check_count(value: int, name: str, minimum: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}", fix=fix)
    return int(value)


def _check_correction(correction: str) -> str | None:
    if correction not in _MULTITEST:
        raise InputError(
            f"unknown multiple-testing correction {correction!r}", fix=f"use one of {', '.join(sorted(_MULTITEST))}"
        )
    return _MULTITEST[correction]


def _adjusted_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Holm, Bonferroni, Benjamini–Hochberg or Benjamini–Yekutieli adjusted p-values of a 1-D array without NaN."""
    m = p.size
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "holm":
        order = np.argsort(p, kind="stable")
        adj = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    elif method in ("fdr_bh", "fdr_by"):
        order = np.argsort(p, kind="stable")[::-1]
        factor = np.sum(1.0 / np.arange(1, m + 1)) if method == "fdr_by" else 1.0
        adj = np.minimum.accumulate(p[order] * m * factor / np.arange(m, 0, -1))
    else:  # hommel: statsmodels' implementation
        from statsmodels.stats.multitest import multipletests

        return multipletests(p, method="hommel")[1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _adjust(p: np.ndarray, alpha: float, correction: str) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted p-values and rejections (``adjusted <= alpha``); NaN p-values are not tested and stay NaN."""
    method = _check_correction(correction)
    p = np.asarray(p, dtype=float)
    adj = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        adj[ok] = p[ok] if method is None else _adjusted_pvalues(p[ok], method)
    return adj, np.where(ok, adj <= alpha, False)


def _flag_series(flag: np.ndarray, p: np.ndarray) -> pl.Series:
    return pl.Series("flagged", [None if np.isnan(q) else bool(f) for f, q in zip(flag, p)], dtype=pl.Boolean)


def _as_runs(data: Any) -> Runs:
    if isinstance(data, Runs):
        return data
    if isinstance(data, pl.DataFrame):
        return Runs(data)
    raise InputError(
        f"expected Runs or a polars DataFrame of runs, got {type(data).__name__}",
        fix="pass metabench.load(...) or a long table with model, benchmark, item, score",
    )


def _benchmark_matrix(data: Any, benchmark: str) -> ResponseMatrix:
    if isinstance(data, Mapping):
        if benchmark not in data:
            raise InputError(
                f"no benchmark {benchmark!r} among {', '.join(map(str, data))}", fix="name a benchmark that is there"
            )
        m = data[benchmark]
        if not isinstance(m, ResponseMatrix):
            raise InputError(f"entry {benchmark!r} is a {type(m).__name__}, not a ResponseMatrix")
        return m
    return _as_runs(data).matrix(benchmark)


# ---------------------------------------------------------------------------
# ConStat
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ConStatResult:
    """Performance-based contamination test of each tested model (see :func:`constat`).

    Attributes
    ----------
    benchmark, reference : str
        The benchmark tested and the reference benchmark.
    models : tuple of str
        Tested models.
    score, reference_score : numpy.ndarray
        Observed mean score of each tested model on the benchmark and on the reference.
    predicted : numpy.ndarray
        Benchmark score predicted from the reference score by the reference models' fit.
    delta, ci_low, ci_high : numpy.ndarray
        Excess ``score - predicted`` and its basic-bootstrap interval at ``level``.
    p_value, p_adjusted : numpy.ndarray
        One-sided bootstrap p-value of ``delta <= 0`` and its multiplicity-adjusted value.
    flagged : numpy.ndarray
        ``p_adjusted <= alpha``.
    p_mc_se, decision_stable : numpy.ndarray
        Monte Carlo standard error of each bootstrap p-value, and whether its
        flag holds over ± ``MC_Z`` of them (see :func:`constat`).
    n_reference : numpy.ndarray
        Reference models in each model's fit (the model itself left out).
    extrapolated : numpy.ndarray
        True where the tested model's reference score lies outside the reference models' range.
    points : polars.DataFrame
        Every model's ``reference_score`` and ``score``, whether it is a reference and/or tested (for plots).
    curve : polars.DataFrame
        The fit on all reference models on a grid of reference scores (for plots).
    """

    benchmark: str
    reference: str
    models: tuple[str, ...]
    score: np.ndarray
    reference_score: np.ndarray
    predicted: np.ndarray
    delta: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray
    flagged: np.ndarray
    n_reference: np.ndarray
    extrapolated: np.ndarray
    points: pl.DataFrame
    curve: pl.DataFrame
    smoother: str = "spline"
    n_bootstrap: int = 1000
    level: float = 0.95
    alpha: float = 0.05
    correction: str = "holm"
    exclusions: tuple[Exclusion, ...] = ()
    p_mc_se: np.ndarray | None = None
    decision_stable: np.ndarray | None = None

    def to_frame(self) -> pl.DataFrame:
        """One row per tested model: model, benchmark, reference, score, predicted, delta, ci_low, ci_high,
        p_value, p_adjusted, flagged, reference_score, n_reference, extrapolated, p_mc_se (the p-value's
        Monte Carlo standard error), decision_stable."""
        n = len(self.models)
        se = self.p_mc_se if self.p_mc_se is not None else np.full(n, np.nan)
        stable = self.decision_stable if self.decision_stable is not None else np.ones(n, dtype=bool)
        return pl.DataFrame(
            {
                "model": list(self.models),
                "benchmark": [self.benchmark] * n,
                "reference": [self.reference] * n,
                "score": self.score,
                "predicted": self.predicted,
                "delta": self.delta,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "p_value": self.p_value,
                "p_adjusted": self.p_adjusted,
                "flagged": _flag_series(self.flagged, self.p_value),
                "reference_score": self.reference_score,
                "n_reference": self.n_reference.astype(np.int64),
                "extrapolated": self.extrapolated.astype(bool),
                "p_mc_se": se,
                "decision_stable": stable.astype(bool),
            },
            nan_to_null=False,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: settings and the rows of :meth:`to_frame`."""
        return {
            "method": "constat",
            "benchmark": self.benchmark,
            "reference": self.reference,
            "smoother": self.smoother,
            "n_bootstrap": self.n_bootstrap,
            "level": self.level,
            "alpha": self.alpha,
            "correction": self.correction,
            "rows": self.to_frame().to_dicts(),
            "exclusions": [e.to_dict() for e in self.exclusions],
        }


def _pick(labels: Sequence[str], wanted: Sequence[str] | None, what: str, available: Sequence[str]) -> list[int]:
    index = {m: i for i, m in enumerate(labels)}
    if wanted is None:
        return list(range(len(labels)))
    wanted = [str(m) for m in wanted]
    missing = [m for m in wanted if m not in index]
    if missing:
        raise InputError(
            f"{what} {', '.join(map(repr, missing[:5]))} have no scores on both benchmarks",
            fix=f"choose among {', '.join(list(available)[:20])}",
        )
    return [index[m] for m in dict.fromkeys(wanted)]


def constat(
    runs_or_tables: Runs | pl.DataFrame | Mapping[str, ResponseMatrix],
    benchmark: str,
    reference_benchmark: str,
    *,
    reference_models: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    n_bootstrap: int = 1000,
    seed: int | np.random.Generator = 0,
    smoother: Literal["spline", "isotonic"] = "spline",
    alpha: float = 0.05,
    correction: Correction = "holm",
    level: float = 0.95,
    n_bootstrap_max: int | None = None,
) -> ConStatResult:
    """Performance-based contamination test (ConStat): is a model's score higher than its reference score predicts?

    Across the reference models, the mean score on ``benchmark`` is regressed on
    the mean score on ``reference_benchmark`` (both on the logit scale, with a
    continuity correction of half an item). Each tested model's score is
    predicted from its own reference score; the excess is
    ``delta = score - predicted``. A model whose benchmark score is inflated by
    contamination, but whose reference score is not, lies above the curve.

    Uncertainty comes from a bootstrap that resamples the items of both
    benchmarks (the same resample for every model, so that all models face the
    same items, as in the data) and the reference models, and refits the curve
    each time. The p-value is that of the basic bootstrap,
    ``(1 + #{delta* - delta >= delta}) / (1 + B)``: the bootstrap distribution
    of ``delta* - delta`` stands for the null distribution of ``delta``. The
    interval is the basic-bootstrap interval of ``delta``.

    When a tested model is also a reference model, it is left out of the fit for
    its own test (leave-one-out): otherwise it would pull the curve towards
    itself and hide its own excess.

    Parameters
    ----------
    runs_or_tables : Runs, polars.DataFrame or mapping of str to ResponseMatrix
        Per-item scores of both benchmarks.
    benchmark : str
        The benchmark suspected of contamination.
    reference_benchmark : str
        A benchmark that measures the same ability and that the models cannot
        have seen (a rephrased or freshly written version) or that is not in
        question.
    reference_models : sequence of str, optional
        Models that define the relation (default: every model with scores on
        both). At least 5 are needed for every test (after leaving the tested model out).
    models : sequence of str, optional
        Models to test (default: every model with scores on both).
    n_bootstrap : int
        Bootstrap replicates.
    seed : int or numpy.random.Generator
        Randomness of the bootstrap.
    smoother : {"spline", "isotonic"}
        ``"spline"``: a non-decreasing penalised cubic spline (P-spline),
        penalty chosen by a modified generalised cross-validation on the
        reference models, extrapolating as a straight line on the logit scale. ``"isotonic"``: a non-decreasing step
        fit, interpolated linearly; it does not extrapolate (flat beyond the
        reference models), which biases ``delta`` upwards for a model better
        than every reference model.
    alpha : float
        Level at which models are flagged after ``correction``.
    correction : {"holm", "bh", "by", "bonferroni", "hommel", "none"}
        Multiple-testing correction across the tested models.
    level : float
        Confidence level of the interval of ``delta``.
    n_bootstrap_max : int, optional
        Most replicates (default ``10 * n_bootstrap``): where a model's flag
        would turn within ± ``MC_Z`` Monte Carlo standard errors of the
        p-values, the test is run again with four times as many replicates,
        up to this number.

    Returns
    -------
    ConStatResult

    Notes
    -----
    As in ConStat, the items of the two benchmarks are resampled independently
    (for a rephrased benchmark whose items pair one to one, this ignores their
    pairing and is conservative). Unlike ConStat, the curve is fitted on the
    models' (reference, benchmark) pairs as they are, constrained to be
    non-decreasing, rather than on the two score lists sorted separately; on
    the logit rather than the accuracy scale (which removes the bias of a
    straight extrapolation for the best model); the penalty is chosen by GCV
    with the degrees of freedom inflated by 1.4 (Kim & Gu 2004; plain GCV
    interpolates a handful of reference models) once on the reference models
    and kept in the replicates. The smallest p-value is ``1 / (1 + B)``: with
    a Holm correction over N models, ``n_bootstrap`` must exceed about
    ``N / alpha`` for a model to be flaggable. The interval is clipped to the
    values ``delta`` can take. In simulations without contamination (30 models, two
    benchmarks of 300 items related non-linearly) the test rejects at its
    nominal rate (``benchmarks/contamination.py``).

    The reference models are assumed clean. A heavily contaminated model left
    among the references bends the curve for the others (it is left out of its
    own test only); when a first pass flags models, pass the others as
    ``reference_models`` for a second.

    The null hypothesis is that the tested model follows the same relation as
    the reference models. A model that is truly better at the benchmark's
    narrower skill than the reference benchmark predicts is flagged too:
    ConStat measures non-generalising performance, of which contamination is
    the usual cause.

    Examples
    --------
    >>> import numpy as np
    >>> from metabench.runs import ResponseMatrix
    >>> rng = np.random.default_rng(1)
    >>> theta = np.linspace(-2, 2, 12)
    >>> def bench(b):
    ...     p = 1 / (1 + np.exp(-(theta[:, None] - b)))
    ...     return (rng.random(p.shape) < p).astype(float)
    >>> main, ref = bench(rng.normal(0.5, 1, 300)), bench(rng.normal(-0.5, 1, 300))
    >>> main[3, np.flatnonzero(main[3] == 0)[:60]] = 1.0   # m3 has seen 60 items it would miss: +20 points
    >>> names = [f"m{i}" for i in range(12)]
    >>> tables = {"main": ResponseMatrix.from_array(main, models=names),
    ...           "ref": ResponseMatrix.from_array(ref, models=names)}
    >>> res = constat(tables, "main", "ref")
    >>> res.to_frame().filter(pl.col("flagged"))["model"].to_list()
    ['m3']
    """
    n_boot = _check_count(n_bootstrap, "n_bootstrap", 50, "use e.g. 1000 replicates")
    n_boot_max = (
        10 * n_boot
        if n_bootstrap_max is None
        else _check_count(n_bootstrap_max, "n_bootstrap_max", n_boot, "use e.g. 10 * n_bootstrap")
    )
    alpha = _check_unit(alpha, "alpha", "use e.g. 0.05")
    level = _check_unit(level, "level", "use e.g. 0.95")
    _check_correction(correction)
    if smoother not in ("spline", "isotonic"):
        raise InputError(f"unknown smoother {smoother!r}", fix='use "spline" or "isotonic"')
    if benchmark == reference_benchmark:
        raise InputError("the benchmark and the reference benchmark are the same", fix="pass two different benchmarks")
    mb = _benchmark_matrix(runs_or_tables, benchmark)
    mr = _benchmark_matrix(runs_or_tables, reference_benchmark)
    yb_all, yr_all = mb.cell_values(), mr.cell_values()
    r_index = {m: i for i, m in enumerate(mr.models)}
    labels: list[str] = []
    rows_b: list[int] = []
    rows_r: list[int] = []
    dropped: list[str] = []
    for i, m in enumerate(mb.models):
        j = r_index.get(m)
        if j is None or not np.isfinite(yb_all[i]).any() or not np.isfinite(yr_all[j]).any():
            dropped.append(m)
            continue
        labels.append(m)
        rows_b.append(i)
        rows_r.append(j)
    dropped += [m for m in mr.models if m not in set(mb.models)]
    exclusions = (
        (Exclusion("model", "no scores on both benchmarks", len(dropped), tuple(dropped[:5])),) if dropped else ()
    )
    yb, yr = yb_all[rows_b], yr_all[rows_r]
    ref_idx = _pick(labels, reference_models, "reference models", labels)
    test_idx = _pick(labels, models, "tested models", labels)
    for t in test_idx:
        n_ref = len([r for r in ref_idx if r != t])
        if n_ref < _fit.MIN_DISTINCT_MODELS:
            raise InputError(
                f"model {labels[t]!r} has only {n_ref} reference models (its own scores left out)",
                fix=f"give at least {_fit.MIN_DISTINCT_MODELS} reference models with scores on both benchmarks",
            )

    nb = (~np.isnan(yb)).sum(axis=1).astype(float)
    nr = (~np.isnan(yr)).sum(axis=1).astype(float)
    sb = np.nanmean(yb, axis=1)
    sr = np.nanmean(yr, axis=1)
    zb, zr = _fit.to_logit(sb, nb), _fit.to_logit(sr, nr)
    used = sorted(set(ref_idx) | set(test_idx))
    span = max(float(np.ptp(zr[used])), 1.0)
    lo, hi = float(zr[used].min()) - span, float(zr[used].max()) + span

    rng = _rng(seed)
    jb, jr = yb.shape[1], yr.shape[1]
    wb = _fit.resample_counts(rng, jb, n_boot)
    wr = _fit.resample_counts(rng, jr, n_boot)
    sb_star, nb_star = _fit.item_means(yb, wb)
    sr_star, nr_star = _fit.item_means(yr, wr)
    zb_star, zr_star = _fit.to_logit(sb_star, nb_star), _fit.to_logit(sr_star, nr_star)

    k = len(test_idx)
    out = {name: np.full(k, np.nan) for name in ("predicted", "delta", "ci_low", "ci_high", "p_value")}
    n_reference = np.zeros(k, dtype=np.int64)
    n_used = np.zeros(k, dtype=np.int64)
    extrapolated = np.zeros(k, dtype=bool)
    q = np.array([1 - (1 - level) / 2, (1 - level) / 2])
    for pos, t in enumerate(test_idx):  # one fit and one batch of replicates per tested model
        refs = np.array([r for r in ref_idx if r != t])
        n_reference[pos] = refs.size
        extrapolated[pos] = bool(zr[t] < zr[refs].min() or zr[t] > zr[refs].max())
        mw = _fit.model_weights(rng, refs.size, n_boot)
        if smoother == "spline":
            lam = _fit.gcv_lambda(zr[refs], zb[refs], lo, hi)
            z_hat = float(_fit.curve(zr[refs], zb[refs], zr[[t]], lam, lo, hi)[0])
            z_star = _fit.spline_predict(zr_star[refs].T, zb_star[refs].T, mw, zr_star[t], lam, lo, hi)
        else:
            z_hat = float(_fit.curve(zr[refs], zb[refs], zr[[t]], None, lo, hi)[0])
            z_star = _fit.isotonic_predict(zr_star[refs].T, zb_star[refs].T, mw, zr_star[t])
        predicted = float(_fit.from_logit(z_hat, nb[t]))
        delta = float(sb[t] - predicted)
        d_star = sb_star[t] - _fit.from_logit(z_star, nb_star[t])
        d_star = d_star[np.isfinite(d_star)]
        out["predicted"][pos] = predicted
        out["delta"][pos] = delta
        n_used[pos] = d_star.size
        if d_star.size:
            out["p_value"][pos] = (1.0 + np.sum(d_star - delta >= delta)) / (1.0 + d_star.size)
            # basic interval, clipped to the values delta can take (predicted scores lie in [0, 1])
            out["ci_low"][pos], out["ci_high"][pos] = np.clip(2.0 * delta - np.quantile(d_star, q), sb[t] - 1.0, sb[t])
    p_mc_se = _mc_se(out["p_value"], n_used)
    stable = _stable_decisions(out["p_value"][:, None], p_mc_se[:, None], alpha, correction)[:, 0]
    if not stable.all() and n_boot < n_boot_max and not isinstance(seed, np.random.Generator):
        # a flag within Monte Carlo error of turning: the whole test again with more replicates
        return constat(
            runs_or_tables,
            benchmark,
            reference_benchmark,
            reference_models=reference_models,
            models=models,
            n_bootstrap=min(n_boot_max, 4 * n_boot),
            seed=seed,
            smoother=smoother,
            alpha=alpha,
            correction=correction,
            level=level,
            n_bootstrap_max=n_boot_max,
        )
    p_adj, flagged = _adjust(out["p_value"], alpha, correction)

    refs_all = np.array(ref_idx)
    grid = np.linspace(float(sr[used].min()), float(sr[used].max()), 101)
    lam_all = _fit.gcv_lambda(zr[refs_all], zb[refs_all], lo, hi) if smoother == "spline" else None
    fit_g = _fit.curve(zr[refs_all], zb[refs_all], _fit.to_logit(grid, float(np.median(nr[refs_all]))), lam_all, lo, hi)
    curve = pl.DataFrame({"reference_score": grid, "predicted": _fit.from_logit(fit_g, float(np.median(nb[refs_all])))})
    ref_set, test_set = set(ref_idx), set(test_idx)
    points = pl.DataFrame(
        {
            "model": labels,
            "reference_score": sr,
            "score": sb,
            "reference": [i in ref_set for i in range(len(labels))],
            "tested": [i in test_set for i in range(len(labels))],
        }
    )
    return ConStatResult(
        benchmark=benchmark,
        reference=reference_benchmark,
        models=tuple(labels[t] for t in test_idx),
        score=sb[test_idx],
        reference_score=sr[test_idx],
        predicted=out["predicted"],
        delta=out["delta"],
        ci_low=out["ci_low"],
        ci_high=out["ci_high"],
        p_value=out["p_value"],
        p_adjusted=p_adj,
        flagged=flagged,
        n_reference=n_reference,
        extrapolated=extrapolated,
        points=points,
        curve=curve,
        smoother=smoother,
        n_bootstrap=n_boot,
        level=level,
        alpha=alpha,
        correction=correction,
        exclusions=exclusions,
        p_mc_se=p_mc_se,
        decision_stable=stable,
    )


# ---------------------------------------------------------------------------
# IRT person fit
# ---------------------------------------------------------------------------

_PERSON_FIT_MODELS = ("1pl", "rasch", "2pl", "3pl", "4pl")
_LOO_MODELS = ("1pl", "rasch", "2pl")
_STATISTICS = ("lz_star", "guttman")


@dataclass(frozen=True, eq=False)
class PersonFitResult:
    """Person-fit tests of each model's response pattern (see :func:`person_fit_test`).

    Attributes
    ----------
    models : tuple of str
        Tested models.
    theta : numpy.ndarray
        Posterior-mode ability of each tested model, under the items it is
        judged against.
    n_items : numpy.ndarray
        Items each model answered.
    statistics : tuple of str
        ``("lz_star", "guttman")``.
    values, p_value, p_adjusted : numpy.ndarray
        Shape (n_models, 2): the statistic, its simulated one-sided p-value and
        the value adjusted across models (per statistic).
    flagged : numpy.ndarray
        Shape (n_models, 2), ``p_adjusted <= alpha``.
    n_simulated : numpy.ndarray
        Response vectors simulated for each model (sequential stopping, then
        more where a decision was within Monte Carlo error).
    p_mc_se : numpy.ndarray
        Shape (n_models, 2): Monte Carlo standard error of each p-value,
        ``sqrt(p (1 - p) / L)`` with ``L`` the draws it rests on (the draw
        that stopped it, or all of them).
    decision_stable : numpy.ndarray
        Shape (n_models, 2): whether the flag stays the same when every
        p-value is moved to either end of its Monte Carlo interval
        (± ``MC_Z`` standard errors); False only where ``n_sim_max`` draws
        did not settle it.
    irt_model : str
        The IRT model fitted.
    calibration : str
        ``"loo"`` or ``"plugin"``: how the items each model is judged against
        were calibrated (see :func:`person_fit_test`).
    """

    benchmark: str | None
    models: tuple[str, ...]
    theta: np.ndarray
    n_items: np.ndarray
    statistics: tuple[str, ...]
    values: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray
    flagged: np.ndarray
    n_simulated: np.ndarray
    irt_model: str = "2pl"
    n_sim: int = 10_000
    alpha: float = 0.05
    correction: str = "holm"
    exclusions: tuple[Exclusion, ...] = ()
    calibration: str = "loo"
    p_mc_se: np.ndarray | None = None
    decision_stable: np.ndarray | None = None
    n_sim_max: int | None = None

    def to_frame(self) -> pl.DataFrame:
        """One row per model and statistic: model, statistic, value, p_value, p_adjusted, flagged, theta, n_items,
        n_simulated, p_mc_se (the p-value's Monte Carlo standard error), decision_stable."""
        n, s = len(self.models), len(self.statistics)
        se = self.p_mc_se if self.p_mc_se is not None else np.full((n, s), np.nan)
        stable = self.decision_stable if self.decision_stable is not None else np.ones((n, s), dtype=bool)
        return pl.DataFrame(
            {
                "model": [m for m in self.models for _ in range(s)],
                "statistic": list(self.statistics) * n,
                "value": self.values.ravel(),
                "p_value": self.p_value.ravel(),
                "p_adjusted": self.p_adjusted.ravel(),
                "flagged": _flag_series(self.flagged.ravel(), self.p_value.ravel()),
                "theta": np.repeat(self.theta, s),
                "n_items": np.repeat(self.n_items, s).astype(np.int64),
                "n_simulated": np.repeat(self.n_simulated, s).astype(np.int64),
                "p_mc_se": se.ravel(),
                "decision_stable": stable.ravel().astype(bool),
            },
            nan_to_null=False,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: settings and the rows of :meth:`to_frame`."""
        return {
            "method": "person_fit",
            "benchmark": self.benchmark,
            "irt_model": self.irt_model,
            "calibration": self.calibration,
            "n_sim": self.n_sim,
            "n_sim_max": self.n_sim_max,
            "alpha": self.alpha,
            "correction": self.correction,
            "rows": self.to_frame().to_dicts(),
            "exclusions": [e.to_dict() for e in self.exclusions],
        }


def person_fit_test(
    matrix: ResponseMatrix | np.ndarray,
    *,
    model: Literal["1pl", "rasch", "2pl", "3pl", "4pl"] = "2pl",
    models: Sequence[str] | None = None,
    n_sim: int = 10_000,
    seed: int | np.random.Generator = 0,
    alpha: float = 0.05,
    correction: Correction = "holm",
    calibration: Literal["loo", "plugin"] | None = None,
    n_sim_max: int | None = None,
) -> PersonFitResult:
    """Aberrant response patterns under a fitted IRT model, with p-values from a parametric bootstrap.

    A unidimensional IRT model (:class:`metabench.irt.IRT`) is fitted to all
    models. Each tested model is judged against items calibrated *without
    it* (``calibration="loo"``, the default for the 1PL and 2PL; see below):
    it gets its posterior-mode ability
    :math:`\\hat\\theta` under those items (prior of the fitted latent
    distribution), and two statistics are computed:

    ``lz_star``
        Snijders' :math:`l_z^*` (:func:`metabench.irt.diagnostics.lz_star`),
        the standardised log-likelihood corrected for the estimated ability.
        Low values mean misfit; since :math:`l_z` is the covariance of the
        residuals with the items' log-odds, a model that solves items it should
        fail and fails items it should solve scores low.
    ``guttman``
        The normed number of Guttman errors G* (Meijer 1994): pairs of answered
        items where the one the fitted model finds easier (higher success
        probability at :math:`\\hat\\theta`) is wrong and the harder one right,
        divided by its maximum. High values mean "solves hard items, misses
        easy ones", the pattern of a model that memorised a random part of the
        benchmark.

    Neither is compared with a normal distribution. For each tested model,
    response vectors are simulated on the items it answered, each gets its
    own :math:`\\hat\\theta`, and the statistics are recomputed; the p-value
    is the share of simulated values at least as extreme (lower tail for lz*,
    upper tail for G*), estimated sequentially (Besag & Clifford 1991):
    simulation stops after 20 values at least as extreme, so unremarkable
    models cost a few hundred draws, and goes on up to ``n_sim`` draws for
    the others, whose p-values can reach ``1 / (n_sim + 1)``. A flag must not
    turn on the Monte Carlo error: where moving the p-values to either end of
    their Monte Carlo intervals (± ``MC_Z`` = 2.576 standard errors) changes
    a model's flag after the multiple-testing correction, that model is
    simulated again with four times as many draws (no early stopping), until
    the flags agree or ``n_sim_max`` draws are reached; each p-value comes
    with its Monte Carlo standard error and whether its decision is stable.
    Every model's draws come from a stream keyed by the seed, the benchmark
    and the model's name, so a model's p-value does not depend on the other
    models or on their order. The grid fit of the ``"loo"`` calibration runs
    with the BLAS at one thread, so the numbers do not depend on the thread
    count either.

    What the vectors are simulated from decides the calibration, because
    with tens of models the items are far from known: a 2PL item estimated
    from 30 models has a standard error of about 0.5 logits, as large as
    the spread of the items themselves.

    ``calibration="loo"`` (the default for the 1PL and 2PL)
        A cross-validated posterior predictive check. The items get a smooth
        prior on a grid of (slope, intercept) points: a log-polynomial
        density (degree 4 in the two coordinates, 6 for the 1PL's intercept
        alone; Efron's g-modelling), fitted jointly with the models'
        abilities by maximising the marginal likelihood of every item's
        column of responses. For the tested model, each item's posterior on
        the grid is computed from the *other* models (its own likelihood
        term is removed, which is exact); the statistics use the
        posterior-mean items, and the vectors are drawn from the posterior
        predictive at :math:`\\hat\\theta`, so they carry the items'
        uncertainty. Under no contamination the observed pattern is a draw
        from that same predictive distribution, so the p-values are uniform
        up to the error in the estimated prior, which has a handful of
        parameters fitted to all the items. Leaving the model out also
        keeps a contaminated model from bending the items towards its own
        pattern. Cost over ``"plugin"``: the items' likelihoods on the grid
        (1,200 points, 200 for the 1PL) and at most 20 rounds of the joint
        fit, one items × grid pass per tested model, and more simulated
        vectors where p-values are smaller.
    ``calibration="plugin"`` (the default for the 3PL and 4PL)
        The fitted items are taken as known; the statistics use them and
        vectors are simulated from them at :math:`\\hat\\theta`. The tested
        model helped fit the items, which then fit its own pattern better
        than the simulated ones: the tests are conservative, the more so the
        fewer the models (with 10 models the mean p-value under no
        contamination is about 0.7 instead of 0.5). Simulating from items
        fitted without the model is no cure either: its pattern then looks
        aberrant against noisy items that the simulated vectors follow
        exactly.

    In ``benchmarks/contamination.py`` (30 models, 300 items, 2PL truth,
    1,000 simulations per scenario) the default rejects 3.5–5.0% of
    uncontaminated models at alpha = 0.05, the plugin calibration 2.9–3.7%.

    Parameters
    ----------
    matrix : ResponseMatrix or array_like
        Binary (models × items) scores, NaN where not answered.
    model : {"1pl", "rasch", "2pl", "3pl", "4pl"}
        The IRT model.
    models : sequence of str, optional
        Models to test (default: all); every model is used to fit the items.
    n_sim : int
        Most response vectors simulated per tested model (a model is only
        flagged if its adjusted p-value can fall below ``alpha``: with a Holm
        correction over N models, ``n_sim`` must exceed about ``N / alpha``).
    seed : int or numpy.random.Generator
        Randomness of the simulation: each model's stream is keyed by the
        seed, the benchmark and the model (a Generator is shared instead).
    alpha : float
        Level at which models are flagged after ``correction``.
    correction : {"holm", "bh", "by", "bonferroni", "hommel", "none"}
        Multiple-testing correction across tested models, per statistic.
    calibration : {"loo", "plugin"} or None
        Items calibrated without the tested model, with their uncertainty,
        or the fitted items taken as known (see above). None (default):
        ``"loo"`` for the 1PL and 2PL, ``"plugin"`` for the 3PL and 4PL,
        whose guessing and slipping asymptotes the leave-one-out
        calibration does not model.
    n_sim_max : int, optional
        Most draws per model when a flag is within Monte Carlo error of
        turning (default ``10 * n_sim``).

    Returns
    -------
    PersonFitResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> theta, b = rng.normal(size=30), rng.normal(size=200)
    >>> Y = (rng.random((30, 200)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(float)
    >>> hard = np.argsort(b)[-60:]
    >>> Y[0, hard] = 1.0                      # model 0 "knows" the 60 hardest items
    >>> res = person_fit_test(Y, n_sim=2000)
    >>> res.to_frame().filter(pl.col("model") == "m0").select("statistic", "flagged").rows()
    [('lz_star', True), ('guttman', True)]
    """
    from metabench.irt import IRT

    n_sim = _check_count(n_sim, "n_sim", 20, "use e.g. 10000 simulations")
    n_sim_max = n_sim * 10 if n_sim_max is None else _check_count(n_sim_max, "n_sim_max", n_sim, "use e.g. 10 * n_sim")
    alpha = _check_unit(alpha, "alpha", "use e.g. 0.05")
    _check_correction(correction)
    if calibration not in (None, "loo", "plugin"):
        raise InputError(
            f"calibration must be 'loo', 'plugin' or None, not {calibration!r}", fix="leave calibration at None"
        )
    name = str(model).lower()
    if calibration is None:
        calibration = "loo" if name in _LOO_MODELS else "plugin"
    elif calibration == "loo" and name in _PERSON_FIT_MODELS and name not in _LOO_MODELS:
        raise InputError(
            f"the leave-one-out calibration supports the 1PL and 2PL, not the {name.upper()}",
            fix="use model='2pl', or calibration='plugin' (or None) with the 3PL/4PL",
        )
    if name not in _PERSON_FIT_MODELS:
        raise InputError(
            f"person fit needs a unidimensional binary IRT model, not {model!r}", fix="use '1pl', '2pl', '3pl' or '4pl'"
        )
    benchmark = None
    if isinstance(matrix, ResponseMatrix):
        rm = matrix
        benchmark = rm.benchmark
    else:
        arr = np.asarray(matrix, dtype=float)
        if arr.ndim != 2:
            raise InputError(f"expected a 2-D (models × items) matrix, got {arr.ndim}-D")
        rm = ResponseMatrix.from_array(arr)
    rm, exclusions = rm.drop_empty()
    values = rm.cell_values()
    obs = ~np.isnan(values)
    seen = values[obs]
    if not np.all((seen == 0) | (seen == 1)):
        raise InputError(
            "person fit needs binary (0/1) scores; some are partial credit or averaged over seeds",
            fix="binarise the scores, or take one seed (Runs.matrix(benchmark, seeds='first'))",
        )
    if rm.n_models < 3 or rm.n_items < 5:
        raise InputError(
            f"{rm.n_models} models × {rm.n_items} items are too few to fit an IRT model",
            fix="give more models and items",
        )
    tested = _pick(rm.models, models, "tested models", rm.models)
    irt = IRT(model=name).fit(values)
    a = irt.params_.slopes[:, 0].astype(float)
    delta = irt.params_.intercepts.astype(float)
    c = np.asarray(irt.guessing_, dtype=float)
    d = 1.0 - np.asarray(irt.slipping_, dtype=float)
    sd = float(irt.latent_sd_)
    y0 = np.where(obs, values, 0.0)
    k = len(tested)
    theta = np.full(k, np.nan)
    vals = np.full((k, 2), np.nan)
    pvals = np.full((k, 2), np.nan)
    used = np.zeros(k, dtype=np.int64)
    setups: list[tuple[Any, ...]] = []
    with serial_blas():  # the joint grid fit's path turns on the last bits of threaded sums
        if calibration == "plugin":
            theta_all = _pf.map_theta(y0, obs, a, delta, c, d, sd)
            lz_all = _pf.lz_map(y0, obs, theta_all, a, delta, c, d, sd)
            p_at = _pf.probabilities(theta_all, a, delta, c, d)
        else:
            start = np.asarray(irt.abilities_, dtype=float)
            grid = _pf.item_grid(y0, obs, start, a, delta, c, d, name not in ("1pl", "rasch"))
            sd = 1.0  # the grid's abilities are standardised
        for pos, i in enumerate(tested):  # the items and the observed statistics of each tested model
            items = np.flatnonzero(obs[i])
            yi, oi = y0[i : i + 1, items], obs[i : i + 1, items]
            if calibration == "plugin":
                a_i, d_i, c_i, u_i = a[items], delta[items], c[items], d[items]
                theta[pos], lz_i = theta_all[i], lz_all[i]
                ease = generate = p_at[i, items]
            else:  # items from the other models' responses, with their posterior uncertainty
                post = _pf.leave_one_out(grid, y0, obs, i)[items]
                a_i, d_i, c_i, u_i = post @ grid.slopes, post @ grid.intercepts, c[items], d[items]
                theta[pos] = _pf.map_theta(yi, oi, a_i, d_i, c_i, u_i, sd)[0]
                lz_i = _pf.lz_map(yi, oi, theta[pos : pos + 1], a_i, d_i, c_i, u_i, sd)[0]
                ease = _pf.probabilities(theta[pos : pos + 1], a_i, d_i, c_i, u_i)[0]
                generate = _pf.predictive(grid, post, float(theta[pos]), c_i, u_i)
            g_i = _pf.guttman(yi, oi, ease)[0]
            vals[pos] = lz_i, g_i
            setups.append((generate, ease, a_i, d_i, c_i, u_i, sd, float(lz_i), float(g_i)))

    n_each = np.zeros((k, 2), dtype=np.int64)  # draws each p-value rests on

    def simulate(pos: int, n_draws: int, sequential: bool) -> None:
        stream = seed if isinstance(seed, np.random.Generator) else keyed_rng(seed, benchmark, rm.models[tested[pos]])
        h = _pf.SEQUENTIAL_H if sequential else n_draws + 1  # h above the draws: a fixed number of draws
        pvals[pos], n_each[pos], used[pos] = _pf.sequential_pvalues(stream, *setups[pos], n_draws, h)

    for pos in range(k):
        simulate(pos, n_sim, True)
    while True:  # draw more where a flag is within Monte Carlo error of turning
        se = _mc_se(pvals, n_each)
        stable = _stable_decisions(pvals, se, alpha, correction)
        open_ = ~stable & (used < n_sim_max)[:, None]
        # draw for the tests whose own p-value decides (in Holm's order the tests after one at its threshold are
        # unsettled too, and more draws for them would not settle them); for the others only when none is left
        own = open_ & _own_decision_turns(pvals, se, alpha, correction)
        redo = np.flatnonzero((own if own.any() else open_).any(axis=1))
        if not redo.size:
            break
        for pos in redo:
            simulate(int(pos), min(n_sim_max, 4 * int(used[pos])), False)
    p_adj = np.full((k, 2), np.nan)
    flagged = np.zeros((k, 2), dtype=bool)
    for s in range(2):
        p_adj[:, s], flagged[:, s] = _adjust(pvals[:, s], alpha, correction)
    return PersonFitResult(
        benchmark=benchmark,
        models=tuple(rm.models[i] for i in tested),
        theta=theta,
        n_items=obs[tested].sum(axis=1),
        statistics=_STATISTICS,
        values=vals,
        p_value=pvals,
        p_adjusted=p_adj,
        flagged=flagged,
        n_simulated=used,
        irt_model=irt.model_,
        n_sim=n_sim,
        alpha=alpha,
        correction=correction,
        exclusions=tuple(exclusions),
        calibration=calibration,
        p_mc_se=se,
        decision_stable=stable,
        n_sim_max=n_sim_max,
    )


MC_Z = 2.576
"""Half-width, in Monte Carlo standard errors, of the interval a simulated p-value's flag must hold over."""


def _mc_se(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error ``sqrt(p (1 - p) / n)`` of simulated p-values, each resting on ``n`` draws.

    For a fixed number of draws it is the binomial standard error; for a
    sequential p-value ``h / L`` (Besag & Clifford) it equals the delta-method
    error ``p sqrt((1 - p) / h)``.
    """
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.clip(p * (1.0 - p), 0.0, None) / n)


def _stable_decisions(p: np.ndarray, se: np.ndarray, alpha: float, correction: str) -> np.ndarray:
    """Whether each test's flag is the same with all p-values at the low and at the high ends of their MC intervals.

    The corrections are monotone (lowering any p-value never removes a
    rejection), so the flags at the true p-values lie between these two sets
    whenever every true p-value is inside its interval. NaN p-values count as
    stable.
    """
    lo = np.clip(p - MC_Z * se, 0.0, 1.0)
    hi = np.clip(p + MC_Z * se, 0.0, 1.0)
    stable = np.ones(p.shape, dtype=bool)
    for s in range(p.shape[1]):
        flag_lo = _adjust(lo[:, s], alpha, correction)[1]
        flag_hi = _adjust(hi[:, s], alpha, correction)[1]
        stable[:, s] = (flag_lo == flag_hi) | np.isnan(p[:, s])
    return stable


def _own_decision_turns(p: np.ndarray, se: np.ndarray, alpha: float, correction: str) -> np.ndarray:
    """Whether each test's flag turns when its own p-value alone moves across its Monte Carlo interval."""
    turns = np.zeros(p.shape, dtype=bool)
    for s in range(p.shape[1]):
        for i in np.flatnonzero(~np.isnan(p[:, s])):
            lo, hi = p[:, s].copy(), p[:, s].copy()
            lo[i] = max(0.0, p[i, s] - MC_Z * se[i, s])
            hi[i] = min(1.0, p[i, s] + MC_Z * se[i, s])
            turns[i, s] = _adjust(lo, alpha, correction)[1][i] != _adjust(hi, alpha, correction)[1][i]
    return turns


# ---------------------------------------------------------------------------
# date split
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DateSplitResult:
    """Before/after-cut-off comparison per model and benchmark (see :func:`date_split_test`).

    Attributes
    ----------
    table : polars.DataFrame
        The rows of :meth:`to_frame`.
    alpha, correction : float, str
        Flagging level and multiple-testing correction of the primary p-value.
    """

    table: pl.DataFrame
    alpha: float = 0.05
    correction: str = "holm"
    exclusions: tuple[Exclusion, ...] = ()

    def to_frame(self) -> pl.DataFrame:
        """One row per (model, benchmark).

        Columns: model, benchmark, cutoff, n_before, n_after, acc_before,
        acc_after, diff, se, p_value (raw before − after), did, did_se,
        did_p_value (the difficulty-adjusted difference in differences),
        primary (``"did"`` or ``"raw"``), p_adjusted, flagged (of the primary
        p-value), n_clusters, cluster_by.
        """
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "method": "date_split",
            "alpha": self.alpha,
            "correction": self.correction,
            "rows": [
                {k: (v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else v) for k, v in row.items()}
                for row in self.table.to_dicts()
            ],
            "exclusions": [e.to_dict() for e in self.exclusions],
        }


def _as_date(value: Any, what: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise InputError(f"{what} {value!r} is not a date", fix="give dates as datetime.date or ISO strings (2024-06-30)")


def _date_column(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    dtype = frame.schema[col]
    if dtype == pl.Date:
        return frame
    if isinstance(dtype, pl.Datetime):
        return frame.with_columns(pl.col(col).dt.date())
    if dtype == pl.String:
        parsed = frame.with_columns(pl.col(col).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias("_parsed"))
        bad = parsed.filter(pl.col("_parsed").is_null() & pl.col(col).is_not_null())
        if bad.height:
            raise InputError(
                f"{bad.height} item date(s) are not ISO dates (first: {bad[col][0]!r})",
                fix="write creation dates as YYYY-MM-DD",
            )
        return parsed.drop(col).rename({"_parsed": col})
    raise InputError(f"column {col!r} has type {dtype}, not dates", fix="give creation dates as dates or ISO strings")


def _cluster_diff(y: np.ndarray, before: np.ndarray, clusters: np.ndarray) -> tuple[float, float, int]:
    """OLS slope of ``y`` on ``before`` (= mean before − mean after) with its CR1 cluster-robust SE.

    The sandwich uses the small-sample factor ``G/(G-1) (n-1)/(n-2)``
    (Stata's and statsmodels' default); returns (difference, SE, G).
    """
    n = y.size
    x = before.astype(float)
    n1 = x.sum()
    n0 = n - n1
    if n1 < 1 or n0 < 1:
        return float("nan"), float("nan"), 0
    m1 = float(y[before].mean())
    m0 = float(y[~before].mean())
    e = y - np.where(before, m1, m0)
    _, codes = np.unique(clusters, return_inverse=True)
    g = int(codes.max()) + 1
    u0 = np.bincount(codes, weights=e, minlength=g)
    u1 = np.bincount(codes, weights=e * x, minlength=g)
    meat = np.array([[u0 @ u0, u0 @ u1], [u0 @ u1, u1 @ u1]])
    bread = np.linalg.inv(np.array([[n, n1], [n1, n1]]))
    if g < 2 or n < 3:
        return m1 - m0, float("nan"), g
    cov = bread @ meat @ bread * (g / (g - 1)) * ((n - 1) / (n - 2))
    return m1 - m0, float(np.sqrt(max(cov[1, 1], 0.0))), g


def _one_sided_t(diff: float, se: float, g: int) -> float:
    if not (np.isfinite(diff) and np.isfinite(se)) or g < 2:
        return float("nan")
    if se == 0:
        return 0.0 if diff > 0 else 1.0
    return float(stats.t.sf(diff / se, g - 1))


def date_split_test(
    runs: Runs | pl.DataFrame,
    item_dates: pl.DataFrame | str,
    model_cutoffs: Mapping[str, _dt.date | _dt.datetime | str],
    *,
    clusters: str | None = None,
    alpha: float = 0.05,
    correction: Correction = "holm",
) -> DateSplitResult:
    """Accuracy on items created before a model's training cut-off against items created after it.

    For each model with a cut-off and each benchmark with dated items, the items
    the model answered are split into *before* (created on or before the
    cut-off, which the model may have seen) and *after*. Two estimates:

    ``raw``
        ``diff = acc_before - acc_after``.
    ``did`` (primary)
        difficulty-adjusted: on each item the model's score minus the mean score
        of the other models on that item, then before minus after (a difference
        in differences). Items written after a cut-off are often harder for
        every model (benchmarks refreshed to stay ahead of training data get
        harder questions), which the raw difference takes for contamination;
        the adjusted one compares the model with the others on the same items.
        It measures contamination *in excess of* the other models': a benchmark
        whose old items every model has seen shows no adjusted difference.

    Both are OLS slopes on a before indicator with cluster-robust (CR1)
    standard errors, clustered by subject when the runs have subjects and by
    item otherwise (seeds are averaged per item first). The one-sided p-values
    (before > after) use a t distribution with G − 1 degrees of freedom
    (G clusters). ``p_adjusted`` and ``flagged`` are for the primary estimate,
    which is ``did`` where at least one other model answered items of both
    periods and ``raw`` otherwise, corrected across all rows.

    Parameters
    ----------
    runs : Runs or polars.DataFrame
        Per-item scores.
    item_dates : polars.DataFrame or str
        A table with columns ``benchmark``, ``item`` and ``created`` (date,
        datetime or ISO string), or the name of a column of ``runs`` holding
        each item's creation date.
    model_cutoffs : mapping of str to date
        Training cut-off of each model (keys are model names; for runs with
        methods, ``model|method`` or the bare model name). Models without a
        cut-off are not tested (they still serve as other models for ``did``).
    clusters : str, optional
        Column of ``runs`` to cluster by (default: ``subject`` when present,
        else the item); ``"item"`` forces clustering by item.
    alpha : float
        Level at which rows are flagged after ``correction``.
    correction : {"holm", "bh", "by", "bonferroni", "hommel", "none"}
        Multiple-testing correction across rows.

    Returns
    -------
    DateSplitResult

    Examples
    --------
    >>> import datetime as dt
    >>> rng = np.random.default_rng(0)
    >>> items = [f"q{j}" for j in range(200)]
    >>> created = [dt.date(2024, 1, 1) + dt.timedelta(days=j) for j in range(200)]
    >>> rows = []
    >>> for m in ("a", "b", "c"):
    ...     for j, it in enumerate(items):
    ...         p = 0.95 if (m == "a" and j < 100) else 0.6   # "a" saw the first 100 items
    ...         rows.append({"model": m, "benchmark": "x", "item": it, "score": float(rng.random() < p)})
    >>> dates = pl.DataFrame({"benchmark": "x", "item": items, "created": created})
    >>> res = date_split_test(pl.DataFrame(rows), dates, {"a": "2024-04-09", "b": "2024-04-09"})
    >>> res.to_frame().select("model", "primary", "flagged").rows()
    [('a', 'did', True), ('b', 'did', False)]
    """
    alpha = _check_unit(alpha, "alpha", "use e.g. 0.05")
    _check_correction(correction)
    r = _as_runs(runs)
    frame = r.frame
    if isinstance(item_dates, str):
        if item_dates not in frame.columns:
            raise InputError(
                f"the runs have no column {item_dates!r}",
                fix="pass a table (benchmark, item, created) or a column name",
            )
        dates = frame.select("benchmark", "item", pl.col(item_dates).alias("created")).drop_nulls("created")
        dates = dates.unique(["benchmark", "item"], keep="first", maintain_order=True)
    elif isinstance(item_dates, pl.DataFrame):
        missing = [c for c in ("benchmark", "item", "created") if c not in item_dates.columns]
        if missing:
            raise InputError(
                f"item_dates lacks column(s) {', '.join(missing)}", fix="give columns benchmark, item, created"
            )
        dates = item_dates.select(pl.col("benchmark").cast(pl.String), pl.col("item").cast(pl.String), "created")
        dates = dates.drop_nulls("created").unique(["benchmark", "item"], keep="first", maintain_order=True)
    else:
        raise InputError(f"item_dates must be a polars DataFrame or a column name, not {type(item_dates).__name__}")
    dates = _date_column(dates, "created")
    cutoffs = {str(k): _as_date(v, f"cut-off of {k!r}") for k, v in model_cutoffs.items()}
    if clusters is not None and clusters != "item" and clusters not in frame.columns:
        raise InputError(
            f"the runs have no column {clusters!r} to cluster by", fix="name a column of the runs, or 'item'"
        )

    rows: list[dict[str, Any]] = []
    exclusions: list[Exclusion] = []
    for bench in r.benchmarks:
        bd = dates.filter(pl.col("benchmark") == bench)
        if bd.height == 0:
            continue
        rm = r.matrix(bench)
        date_of = dict(zip(bd["item"].to_list(), bd["created"].to_list()))
        has = np.array([it in date_of for it in rm.items])
        if (~has).any():
            exclusions.append(
                Exclusion(
                    "item", f"no creation date ({bench})", int((~has).sum()), tuple(np.asarray(rm.items)[~has][:5])
                )
            )
        cols = np.flatnonzero(has)
        item_dates_arr = np.array([date_of[rm.items[j]] for j in cols], dtype="datetime64[D]")
        values = rm.cell_values()[:, cols]
        if clusters is None and rm.subjects is not None:
            cl = np.array(
                [rm.subjects[j] if rm.subjects[j] is not None else f"\0{rm.items[j]}" for j in cols], dtype=object
            )
            cluster_by = "subject"
        elif clusters is None or clusters == "item":
            cl = np.array([rm.items[j] for j in cols], dtype=object)
            cluster_by = "item"
        else:
            per = frame.filter(pl.col("benchmark") == bench).group_by("item").agg(pl.col(clusters).drop_nulls().first())
            cmap = dict(zip(per["item"].to_list(), per[clusters].to_list()))
            cl = np.array(
                [str(cmap.get(rm.items[j])) if cmap.get(rm.items[j]) is not None else f"\0{rm.items[j]}" for j in cols],
                dtype=object,
            )
            cluster_by = clusters
        obs = ~np.isnan(values)
        totals = np.where(obs, values, 0.0).sum(axis=0)
        counts = obs.sum(axis=0)
        for i, system in enumerate(rm.models):
            cut = cutoffs.get(system, cutoffs.get(system.split("|")[0]))
            if cut is None:
                continue
            mine = obs[i]
            before = item_dates_arr <= np.datetime64(cut, "D")
            y = values[i, mine]
            b = before[mine]
            diff, se, g = _cluster_diff(y, b, cl[mine])
            others_n = counts - mine
            with np.errstate(invalid="ignore", divide="ignore"):
                others = (totals - np.where(mine, values[i], 0.0)) / others_n
            use = mine & (others_n > 0)
            did = did_se = float("nan")
            g2 = 0
            if use.any():
                did, did_se, g2 = _cluster_diff(values[i, use] - others[use], before[use], cl[use])
            p_raw = _one_sided_t(diff, se, g)
            p_did = _one_sided_t(did, did_se, g2)
            rows.append(
                {
                    "model": system,
                    "benchmark": bench,
                    "cutoff": cut,
                    "n_before": int(b.sum()),
                    "n_after": int((~b).sum()),
                    "acc_before": float(y[b].mean()) if b.any() else float("nan"),
                    "acc_after": float(y[~b].mean()) if (~b).any() else float("nan"),
                    "diff": diff,
                    "se": se,
                    "p_value": p_raw,
                    "did": did,
                    "did_se": did_se,
                    "did_p_value": p_did,
                    "primary": "did" if np.isfinite(p_did) else "raw",
                    "n_clusters": g,
                    "cluster_by": cluster_by,
                }
            )
    if not rows:
        raise InputError(
            "no model with a cut-off answered dated items",
            fix="check that model_cutoffs names models of the runs and item_dates names their benchmarks and items",
        )
    table = pl.DataFrame(rows, schema_overrides={"cutoff": pl.Date}, nan_to_null=False)
    primary_p = np.where(
        table["primary"].to_numpy() == "did", table["did_p_value"].to_numpy(), table["p_value"].to_numpy()
    )
    p_adj, flagged = _adjust(primary_p.astype(float), alpha, correction)
    table = table.with_columns(
        pl.Series("p_adjusted", p_adj),
        _flag_series(flagged, primary_p.astype(float)),
    ).select(
        "model",
        "benchmark",
        "cutoff",
        "n_before",
        "n_after",
        "acc_before",
        "acc_after",
        "diff",
        "se",
        "p_value",
        "did",
        "did_se",
        "did_p_value",
        "primary",
        "p_adjusted",
        "flagged",
        "n_clusters",
        "cluster_by",
    )
    return DateSplitResult(table=table, alpha=alpha, correction=correction, exclusions=tuple(exclusions))


# ---------------------------------------------------------------------------
# scores from token log-probabilities
# ---------------------------------------------------------------------------


def _is_ragged(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.ndim == 2 or x.dtype == object
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(v, (list, tuple, np.ndarray)) for v in x)
    return False


def _lowest_mean(v: np.ndarray, k: float) -> float:
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan")
    n = max(1, int(v.size * k))
    return float(np.mean(np.partition(v, n - 1)[:n]))


def _check_k(k: float) -> float:
    if not 0 < float(k) <= 1:
        raise InputError(f"k must be in (0, 1], got {k!r}", fix="give a fraction, e.g. 0.2 for the lowest 20%")
    return float(k)


def min_k_prob(
    token_logprobs: Sequence[float] | Sequence[Sequence[float]] | np.ndarray, k: float = 0.2
) -> float | np.ndarray:
    """Min-K% Prob (Shi et al. 2024): the mean of the lowest ``k`` fraction of a text's token log-probabilities.

    Text seen in training has few very unlikely tokens, so its lowest
    log-probabilities are higher: higher scores point to members. At least one
    token is used (``max(1, floor(k n))`` of the ``n`` tokens); NaN entries are
    ignored.

    Parameters
    ----------
    token_logprobs : array_like
        Log-probabilities of one text's tokens (1-D), or a sequence of such
        arrays (one per text, lengths may differ).
    k : float
        Fraction of tokens, in (0, 1].

    Returns
    -------
    float or numpy.ndarray
        One score per text.

    Examples
    --------
    >>> min_k_prob([-0.1, -3.0, -0.2, -5.0, -0.3], k=0.4)
    -4.0
    >>> min_k_prob([[-1.0, -2.0], [-0.5, -0.1, -4.0]], k=0.5).tolist()
    [-2.0, -4.0]
    """
    k = _check_k(k)
    if _is_ragged(token_logprobs):
        return np.array([_lowest_mean(np.asarray(t, dtype=float), k) for t in token_logprobs])
    return _lowest_mean(np.asarray(token_logprobs, dtype=float).ravel(), k)


def _standardised(lp: np.ndarray, mu: np.ndarray, var: np.ndarray | None, sd: np.ndarray | None) -> np.ndarray:
    lp = np.asarray(lp, dtype=float)
    mu = np.asarray(mu, dtype=float)
    scale = np.sqrt(np.asarray(var, dtype=float)) if sd is None else np.asarray(sd, dtype=float)
    if lp.shape != mu.shape or lp.shape != scale.shape:
        raise InputError(
            f"token log-probabilities {lp.shape}, means {mu.shape} and spreads {scale.shape} differ in length",
            fix="give one mean and one variance per token position",
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, (lp - mu) / scale, np.nan)


def min_k_plus_plus(
    token_logprobs: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
    token_mean: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
    token_var: Sequence[float] | Sequence[Sequence[float]] | np.ndarray | None,
    k: float = 0.2,
    *,
    token_sd: Sequence[float] | Sequence[Sequence[float]] | np.ndarray | None = None,
) -> float | np.ndarray:
    """Min-K%++ (Zhang et al. 2025): Min-K% of token log-probabilities standardised per position.

    At position :math:`t` the log-probability of the actual token is compared
    with the model's next-token distribution :math:`z \\sim p(\\cdot \\mid x_{<t})`:

    .. math:: s_t = \\frac{\\log p(x_t \\mid x_{<t}) - \\mu_t}{\\sigma_t},\\quad
              \\mu_t = E_z[\\log p(z \\mid x_{<t})],\\quad
              \\sigma_t^2 = \\operatorname{Var}_z[\\log p(z \\mid x_{<t})],

    and the score is the mean of the lowest ``k`` fraction of the :math:`s_t`.
    Training pushes seen tokens towards local maxima of the likelihood, so
    higher scores point to members. Positions with zero variance are ignored.

    Parameters
    ----------
    token_logprobs, token_mean : array_like
        Per-token log-probabilities and means :math:`\\mu_t` (1-D, or one array per text).
    token_var : array_like or None
        Per-token variances :math:`\\sigma_t^2` (None when ``token_sd`` is given).
    k : float
        Fraction of positions, in (0, 1].
    token_sd : array_like, optional
        Standard deviations :math:`\\sigma_t` instead of variances (what
        ``metabench run --token-logprobs`` writes).

    Returns
    -------
    float or numpy.ndarray
        One score per text.

    Examples
    --------
    >>> min_k_plus_plus([-1.0, -3.0], [-2.0, -2.0], [1.0, 4.0], k=0.5)
    -0.5
    """
    k = _check_k(k)
    if (token_var is None) == (token_sd is None):
        raise InputError("give exactly one of token_var and token_sd", fix="pass the per-position variances (or sds)")
    if _is_ragged(token_logprobs):
        spread = token_var if token_sd is None else token_sd
        if len(token_mean) != len(token_logprobs) or len(spread) != len(token_logprobs):  # type: ignore[arg-type]
            raise InputError("token_logprobs, token_mean and the spreads give different numbers of texts")
        out = []
        for t, (lp, mu, sp) in enumerate(zip(token_logprobs, token_mean, spread)):  # type: ignore[arg-type]
            z = _standardised(
                np.asarray(lp),
                np.asarray(mu),
                None if token_sd is not None else np.asarray(sp),
                None if token_sd is None else np.asarray(sp),
            )
            out.append(_lowest_mean(z, k))
        return np.array(out)
    z = _standardised(
        np.ravel(token_logprobs),
        np.ravel(token_mean),
        None if token_var is None else np.ravel(token_var),
        None if token_sd is None else np.ravel(token_sd),
    )
    return _lowest_mean(z, k)


def zlib_ratio(text: str | Sequence[str], mean_logprob: float | Sequence[float] | np.ndarray) -> float | np.ndarray:
    """zlib ratio (Carlini et al. 2021): the text's log-perplexity measured against its zlib entropy.

    ``mean_logprob / len(zlib.compress(text.encode("utf-8")))``: the model's
    mean token log-probability of the text (minus its log-perplexity) divided
    by the length in bytes of the compressed text, so that text that is
    likely only because it is repetitive does not look memorised. Higher (less
    negative) scores point to members. This is the definition of Carlini et
    al. and of the Min-K% paper's baseline (Shi et al. 2024), and the one of
    :func:`metabench.run.zlib_ratio`, which takes the token log-probabilities
    themselves.

    Parameters
    ----------
    text : str or sequence of str
        The text(s).
    mean_logprob : float or array_like
        Mean of the token log-probabilities of each text.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> import zlib
    >>> zlib_ratio("abc abc abc", -1.5) == -1.5 / len(zlib.compress(b"abc abc abc"))
    True
    """
    if isinstance(text, str):
        return float(mean_logprob) / len(zlib.compress(text.encode("utf-8")))  # type: ignore[arg-type]
    lp = np.asarray(mean_logprob, dtype=float)
    texts = list(text)
    if lp.shape != (len(texts),):
        raise InputError(
            f"{len(texts)} texts but {lp.size} log-probabilities", fix="give one mean token log-probability per text"
        )
    sizes = np.array([len(zlib.compress(t.encode("utf-8"))) for t in texts], dtype=float)
    return lp / sizes


# ---------------------------------------------------------------------------
# membership test
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipResult:
    """Do benchmark items score higher than unseen reference text? (see :func:`membership_test`).

    Attributes
    ----------
    auc, ci_low, ci_high : float
        P(member score > reference score) + ½ P(tie), with its DeLong interval.
    u_statistic : float
        Mann–Whitney U of the members (``auc * n_members * n_reference``).
    p_value : float
        One-sided permutation p-value (members score higher).
    p_value_asymptotic : float
        Normal approximation of the Mann–Whitney test (tie-corrected, with continuity correction).
    """

    auc: float
    ci_low: float
    ci_high: float
    u_statistic: float
    p_value: float
    p_value_asymptotic: float
    n_members: int
    n_reference: int
    n_permutations: int
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in self.__dict__.items()}

    def to_frame(self) -> pl.DataFrame:
        """One row with every field."""
        return pl.DataFrame([self.to_dict()])


def membership_test(
    scores_members: Sequence[float] | np.ndarray,
    scores_reference: Sequence[float] | np.ndarray,
    *,
    n_permutations: int = 10_000,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> MembershipResult:
    """Membership test: are benchmark items' scores higher than those of text the model has not seen?

    ``scores_members`` are per-item scores (:func:`min_k_prob`,
    :func:`min_k_plus_plus`, :func:`zlib_ratio` or any score where higher means
    "seen") of the suspect benchmark items; ``scores_reference`` the same scores
    of comparable text the model cannot have seen (written after its cut-off,
    or a fresh rephrasing). Under no contamination the two samples are
    exchangeable.

    The AUC is the Mann–Whitney probability P(X > Y) + ½ P(X = Y), with the
    DeLong (1988) standard error and a normal interval clipped to [0, 1]. The
    p-value is a permutation test of the rank sum, one-sided (members higher):
    ``(1 + #{permuted U >= U}) / (1 + n_permutations)``, exact in finite
    samples.

    Parameters
    ----------
    scores_members, scores_reference : array_like
        Scores of the suspect items and of the reference texts (NaN dropped).
    n_permutations : int
        Random relabellings.
    seed : int or numpy.random.Generator
        Randomness of the permutations.
    level : float
        Confidence level of the AUC interval.

    Returns
    -------
    MembershipResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> res = membership_test(rng.normal(1, 1, 50), rng.normal(0, 1, 50), n_permutations=2000)
    >>> round(res.auc, 3), res.p_value < 0.01
    (0.784, True)
    """
    n_perm = _check_count(n_permutations, "n_permutations", 1, "use e.g. 10000")
    level = _check_unit(level, "level", "use e.g. 0.95")
    x = np.asarray(scores_members, dtype=float).ravel()
    y = np.asarray(scores_reference, dtype=float).ravel()
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    n1, n0 = x.size, y.size
    if n1 < 1 or n0 < 1:
        raise InputError("membership test needs at least one member score and one reference score")
    pooled = np.concatenate([x, y])
    ranks = stats.rankdata(pooled)
    u = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    auc = u / (n1 * n0)
    # DeLong placements from midranks
    v10 = (ranks[:n1] - stats.rankdata(x)) / n0
    v01 = 1.0 - (ranks[n1:] - stats.rankdata(y)) / n1
    var = (np.var(v10, ddof=1) / n1 if n1 > 1 else 0.0) + (np.var(v01, ddof=1) / n0 if n0 > 1 else 0.0)
    z = float(stats.norm.ppf(0.5 + level / 2))
    se = float(np.sqrt(var))
    lo, hi = max(0.0, auc - z * se), min(1.0, auc + z * se)
    # permutation of the labels: random subsets of n1 ranks
    rng = _rng(seed)
    n = n1 + n0
    block = max(1, 2_000_000 // n)
    count = 0
    for start in range(0, n_perm, block):
        m = min(block, n_perm - start)
        pick = np.argpartition(rng.random((m, n)), n1 - 1, axis=1)[:, :n1] if n1 < n else np.tile(np.arange(n), (m, 1))
        u_perm = ranks[pick].sum(axis=1) - n1 * (n1 + 1) / 2
        count += int(np.sum(u_perm >= u - 1e-9))
    p_perm = (1.0 + count) / (1.0 + n_perm)
    # normal approximation with tie and continuity corrections (as scipy.stats.mannwhitneyu)
    _, tie_counts = np.unique(pooled, return_counts=True)
    sigma = np.sqrt(n1 * n0 / 12.0 * ((n + 1) - np.sum(tie_counts**3 - tie_counts) / (n * (n - 1)))) if n > 1 else 0.0
    p_asym = float(stats.norm.sf((u - n1 * n0 / 2 - 0.5) / sigma)) if sigma > 0 else float("nan")
    return MembershipResult(auc, lo, hi, u, float(p_perm), p_asym, n1, n0, n_perm, level)


# ---------------------------------------------------------------------------
# exchangeability (Oren et al.)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ExchangeabilityResult:
    """Canonical order against shuffled orders of a benchmark's items (see :func:`exchangeability_test`).

    Attributes
    ----------
    p_value : float
        The sharded t-test's one-sided p-value (with one shard: the permutation p-value).
    p_value_permutation : float
        Exact permutation p-value of the summed log-likelihood over shards.
    t_statistic : float
        Mean over shards of (canonical − mean shuffled), divided by its standard error.
    canonical : numpy.ndarray
        Log-likelihood of each shard in canonical order, shape (n_shards,).
    shuffled : numpy.ndarray
        Log-likelihoods of the shuffled orders, shape (n_shards, n_shuffles).
    shard_sizes : numpy.ndarray
        Items per shard.
    """

    p_value: float
    p_value_permutation: float
    t_statistic: float
    canonical: np.ndarray
    shuffled: np.ndarray
    shard_sizes: np.ndarray

    @property
    def n_shards(self) -> int:
        return int(self.canonical.size)

    @property
    def n_shuffles(self) -> int:
        return int(self.shuffled.shape[1])

    @property
    def differences(self) -> np.ndarray:
        """Canonical minus mean shuffled log-likelihood, per shard."""
        return self.canonical - self.shuffled.mean(axis=1)

    def to_frame(self) -> pl.DataFrame:
        """One row per shard: shard, n_items, canonical, shuffled_mean, shuffled_sd, difference."""
        sd = self.shuffled.std(axis=1, ddof=1) if self.n_shuffles > 1 else np.full(self.n_shards, np.nan)
        return pl.DataFrame(
            {
                "shard": np.arange(self.n_shards, dtype=np.int64),
                "n_items": self.shard_sizes.astype(np.int64),
                "canonical": self.canonical,
                "shuffled_mean": self.shuffled.mean(axis=1),
                "shuffled_sd": sd,
                "difference": self.differences,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Summary: p-values, t statistic, numbers of shards and shuffles."""
        return {
            "method": "exchangeability",
            "p_value": self.p_value,
            "p_value_permutation": self.p_value_permutation,
            "t_statistic": self.t_statistic,
            "n_shards": self.n_shards,
            "n_shuffles": self.n_shuffles,
        }


def exchangeability_test(
    logprob_fn: Callable[[list[str]], float] | Callable[[list[list[str]]], Sequence[float]],
    items: Sequence[str],
    *,
    n_shuffles: int = 100,
    shard_count: int | None = None,
    seed: int | np.random.Generator = 0,
    batched: bool = False,
) -> ExchangeabilityResult:
    """Oren et al.'s test: is the canonical order of a benchmark more likely to the model than shuffled orders?

    A model that never saw the benchmark cannot know in which order its items
    are published: the items are exchangeable, and the log-likelihood of their
    concatenation in canonical order is distributed like that of a random
    permutation. A model trained on the benchmark file prefers the canonical
    order.

    The items are cut into ``shard_count`` contiguous shards (the first
    ``len(items) % shard_count`` shards one item longer). For every shard the
    log-likelihood of its items in canonical order and in ``n_shuffles``
    uniformly random orders is computed by ``logprob_fn``. Two p-values:

    - sharded t-test (Oren et al.'s): per shard ``canonical - mean(shuffled)``;
      one-sided one-sample t-test of their mean against 0 over the shards
      (``scipy.stats.ttest_1samp``, sample standard deviation; the authors'
      script divides by the population one). It can reach very small
      p-values with few shuffles, but relies on the t approximation.
    - permutation: shard sums of the canonical and of the k-th shuffled
      orders; ``(1 + #{shuffled total >= canonical total}) / (1 + n_shuffles)``.
      Exact in finite samples under exchangeability (its smallest value is
      ``1 / (1 + n_shuffles)``); with one shard this is the unsharded test.

    Parameters
    ----------
    logprob_fn : callable
        ``logprob_fn(texts_in_order) -> float``: the model's log-likelihood of
        the texts concatenated in the given order (the caller decides the
        separator). With ``batched=True``, ``logprob_fn(list_of_orders) ->
        sequence of floats`` receives all orders of one shard at once.
    items : sequence of str
        The benchmark's items in canonical order.
    n_shuffles : int
        Random orders per shard.
    shard_count : int, optional
        Number of shards (default: one per 20 items, between 1 and 50); every
        shard needs at least 2 items.
    seed : int or numpy.random.Generator
        Randomness of the permutations.
    batched : bool
        Whether ``logprob_fn`` takes a batch of orders.

    Returns
    -------
    ExchangeabilityResult

    Examples
    --------
    A "model" that rewards items following their canonical predecessor:

    >>> items = [f"item {i}" for i in range(40)]
    >>> rank = {t: i for i, t in enumerate(items)}
    >>> def logprob(texts):
    ...     return float(sum(rank[b] == rank[a] + 1 for a, b in zip(texts, texts[1:])))
    >>> res = exchangeability_test(logprob, items, n_shuffles=50, shard_count=4)
    >>> res.p_value < 1e-4, round(res.p_value_permutation, 4)
    (True, 0.0196)
    """
    n_shuffles = _check_count(n_shuffles, "n_shuffles", 1, "use e.g. 100 shuffles per shard")
    texts = [str(t) for t in items]
    n = len(texts)
    if n < 2:
        raise InputError("the exchangeability test needs at least 2 items")
    if shard_count is None:
        shard_count = int(min(50, max(1, n // 20)))
    shard_count = _check_count(shard_count, "shard_count", 1, "use e.g. 10 shards")
    if n < 2 * shard_count:
        raise InputError(
            f"{n} items cannot fill {shard_count} shards of at least 2 items", fix=f"use at most {n // 2} shards"
        )
    sizes = np.full(shard_count, n // shard_count)
    sizes[: n % shard_count] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    rng = _rng(seed)
    canonical = np.empty(shard_count)
    shuffled = np.empty((shard_count, n_shuffles))
    for s in range(shard_count):  # one model call per order: the model is the cost, not this loop
        shard = texts[bounds[s] : bounds[s + 1]]
        perms = np.argsort(rng.random((n_shuffles, len(shard))), axis=1)
        orders = [shard] + [[shard[j] for j in p] for p in perms]
        if batched:
            vals = np.asarray(logprob_fn(orders), dtype=float)  # type: ignore[arg-type]
            if vals.shape != (len(orders),):
                raise InputError(
                    f"logprob_fn returned {vals.size} values for {len(orders)} orders", fix="return one float per order"
                )
        else:
            vals = np.array([float(logprob_fn(o)) for o in orders])  # type: ignore[arg-type]
        if not np.all(np.isfinite(vals)):
            raise InputError("logprob_fn returned a non-finite log-likelihood", fix="check the model's output")
        canonical[s] = vals[0]
        shuffled[s] = vals[1:]
    total_c = canonical.sum()
    total_s = shuffled.sum(axis=0)
    tol = 1e-9 * max(1.0, abs(total_c))
    p_perm = float((1.0 + np.sum(total_s >= total_c - tol)) / (1.0 + n_shuffles))
    diffs = canonical - shuffled.mean(axis=1)
    if shard_count >= 2:
        sd = float(np.std(diffs, ddof=1))
        if sd > 0:
            t = float(np.mean(diffs) / (sd / np.sqrt(shard_count)))
            p_t = float(stats.t.sf(t, shard_count - 1))
        else:
            mean = float(np.mean(diffs))
            t = float(np.sign(mean) * np.inf) if mean != 0 else 0.0
            p_t = 0.0 if mean > 0 else 1.0 if mean < 0 else 0.5
    else:
        t, p_t = float("nan"), p_perm
    return ExchangeabilityResult(p_t, p_perm, t, canonical, shuffled, sizes)


# ---------------------------------------------------------------------------
# TS-Guessing
# ---------------------------------------------------------------------------

TS_GUESSING_TEMPLATE = (
    "Please fill in the [MASK] in option {letter} based on your benchmark knowledge.\n\n"
    "The crucial rule is that you should provide an answer different from the other options below.\n\n"
    "Question: {question}\n"
    "Options:\n"
    "{options}\n\n"
    "Reply with the answer only."
)
"""The prompt of :func:`ts_guessing_prompts` (after Deng et al. 2024); fields ``letter``, ``question``, ``options``."""

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _item_fields(item: Any, pos: int) -> tuple[str, str, list[str], int, list[str]]:
    if isinstance(item, Mapping):
        get = item.get
    else:

        def get(key: str, default: Any = None) -> Any:
            return getattr(item, key, default)

    question = get("question")
    choices = get("choices")
    answer = get("answer")
    ident = get("id", get("item", str(pos)))
    if question is None or choices is None or answer is None:
        raise InputError(
            f"item {ident!r} lacks a question, choices or answer",
            fix="give each item question, choices (list of str) and answer (index or letter)",
        )
    choices = [str(c) for c in choices]
    labels = list(get("labels", None) or _LETTERS[: len(choices)])
    if isinstance(answer, str) and not answer.strip().lstrip("-").isdigit():
        key = answer.strip()
        if key not in labels:
            raise InputError(f"item {ident!r}: answer {answer!r} is not one of the labels {labels}")
        idx = labels.index(key)
    else:
        idx = int(answer)
    if not 0 <= idx < len(choices):
        raise InputError(f"item {ident!r}: answer index {idx} out of range for {len(choices)} choices")
    return str(ident), str(question), choices, idx, labels


def ts_guessing_prompts(
    items: Sequence[Mapping[str, Any]] | Sequence[Any],
    *,
    seed: int | np.random.Generator = 0,
    template: str = TS_GUESSING_TEMPLATE,
) -> pl.DataFrame:
    """TS-Guessing prompts (Deng et al. 2024): one wrong option of each item replaced by ``[MASK]``.

    A model that has not seen the item can at best guess a plausible wrong
    option; reproducing the exact text of the hidden one betrays memorisation.
    Only wrong options are masked (the right answer can be inferred from the
    question). Items with no non-empty wrong option are skipped.

    Parameters
    ----------
    items : sequence
        Multiple-choice items: mappings or objects with ``question``,
        ``choices`` (sequence of str), ``answer`` (0-based index or option
        label) and optionally ``id`` and ``labels``
        (:class:`metabench.run.tasks.MultipleChoiceItem` works).
    seed : int or numpy.random.Generator
        Which wrong option is masked.
    template : str
        Prompt with fields ``{letter}``, ``{question}`` and ``{options}``.

    Returns
    -------
    polars.DataFrame
        Columns item, prompt, masked_letter, masked_index, masked_truth; one
        row per usable item, in input order.

    Examples
    --------
    >>> item = {"id": "q1", "question": "Capital of France?", "choices": ["Lyon", "Paris", "Nice"], "answer": 1}
    >>> row = ts_guessing_prompts([item], seed=3).row(0, named=True)
    >>> row["masked_truth"] in ("Lyon", "Nice"), "[MASK]" in row["prompt"]
    (True, True)
    """
    rng = _rng(seed)
    out: dict[str, list[Any]] = {k: [] for k in ("item", "prompt", "masked_letter", "masked_index", "masked_truth")}
    for pos, item in enumerate(items):
        ident, question, choices, answer, labels = _item_fields(item, pos)
        wrong = [j for j, c in enumerate(choices) if j != answer and c.strip()]
        if not wrong:
            continue
        j = int(wrong[int(rng.integers(len(wrong)))])
        options = "\n".join(f"{labels[i]}: {'[MASK]' if i == j else c}" for i, c in enumerate(choices))
        out["item"].append(ident)
        out["prompt"].append(template.format(letter=labels[j], question=question, options=options))
        out["masked_letter"].append(labels[j])
        out["masked_index"].append(j)
        out["masked_truth"].append(choices[j])
    return pl.DataFrame(
        out,
        schema={
            "item": pl.String,
            "prompt": pl.String,
            "masked_letter": pl.String,
            "masked_index": pl.Int64,
            "masked_truth": pl.String,
        },
    )


_LABEL_PREFIX = re.compile(r"^\(?[A-Za-z]\)?\s*[:.)]\s+")


def _normalise_guess(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    s = lines[0].strip() if lines else ""
    stripped = _LABEL_PREFIX.sub("", s)
    if stripped:
        s = stripped
    s = s.strip().strip("\"'`*").strip()
    s = s.rstrip(".").strip()
    return " ".join(s.casefold().split())


@dataclass(frozen=True, eq=False)
class TSGuessingResult:
    """Exact-match rate of TS-Guessing generations (see :func:`ts_guessing_score`).

    Attributes
    ----------
    rate, ci_low, ci_high : float
        Share of exact matches with its Wilson interval.
    matches : numpy.ndarray
        Per-item exact match (bool).
    """

    rate: float
    ci_low: float
    ci_high: float
    n: int
    n_matches: int
    matches: np.ndarray = field(repr=False)
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """Summary without the per-item matches."""
        return {
            "method": "ts_guessing",
            "rate": self.rate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "n_matches": self.n_matches,
            "level": self.level,
        }

    def to_frame(self) -> pl.DataFrame:
        """One row: rate, ci_low, ci_high, n, n_matches."""
        return pl.DataFrame([{k: v for k, v in self.to_dict().items() if k != "method"}])


def ts_guessing_score(
    generations: Sequence[str], masked_truths: Sequence[str], *, level: float = 0.95
) -> TSGuessingResult:
    """Exact-match rate of TS-Guessing answers, with a Wilson interval.

    Both sides are normalised before comparison: first non-empty line of the
    generation, a leading option label (``"C: "``, ``"(c) "``) removed,
    surrounding quotes, asterisks and a final period stripped, case folded,
    whitespace collapsed.

    Parameters
    ----------
    generations : sequence of str
        The model's answers to :func:`ts_guessing_prompts`.
    masked_truths : sequence of str
        The hidden options (the prompts' ``masked_truth`` column).
    level : float
        Confidence level.

    Returns
    -------
    TSGuessingResult

    Examples
    --------
    >>> res = ts_guessing_score(["C: Nice.", "Marseille", "lyon"], ["Nice", "Toulouse", "Lyon"])
    >>> res.n_matches, round(res.rate, 3)
    (2, 0.667)
    """
    from metabench.analysis.variance import wilson_interval

    level = _check_unit(level, "level", "use e.g. 0.95")
    gens, truths = list(generations), list(masked_truths)
    if len(gens) != len(truths):
        raise InputError(
            f"{len(gens)} generations for {len(truths)} masked options", fix="give one generation per prompt"
        )
    if not gens:
        raise InputError("no generations to score")
    matches = np.array(
        [_normalise_guess(g) == _normalise_guess(t) and _normalise_guess(t) != "" for g, t in zip(gens, truths)]
    )
    k, n = int(matches.sum()), len(gens)
    lo, hi = wilson_interval(k, n, level)
    return TSGuessingResult(k / n, float(lo), float(hi), n, k, matches, level)
