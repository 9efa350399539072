"""Tests of metabench.analysis.contamination.

Reference values come from independent implementations computed in the test:
scipy (Mann–Whitney U and its p-value, permutation tests, one-sample t-test,
isotonic regression through scikit-learn), statsmodels (cluster-robust OLS,
multiple-testing corrections, Wilson interval), brute-force enumeration
(Guttman errors over all item pairs, DeLong placements over all pairs, Min-K%
by sorting), the IRT scorer of metabench.irt (posterior-mode abilities), the
runner's own Min-K% functions, and simulations with known truth (rejection rates
under no contamination within binomial bounds, detection of injected boosts).
The leave-one-out person-fit machinery is checked against explicit loops (grid
log-likelihoods, posteriors recomputed without the model, predictive sums),
scipy's Nelder–Mead on the prior's objective written out with ``logsumexp``,
the exponential-family moment condition, central finite differences (the
ability gradient) and a simulation with known item distribution.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import zlib

import numpy as np
import polars as pl
import pytest
from scipy import stats

from metabench.analysis import _contamination_fit as fit
from metabench.analysis import _contamination_irt as pf
from metabench.analysis.contamination import (
    _adjust,
    _cluster_diff,
    constat,
    date_split_test,
    exchangeability_test,
    membership_test,
    min_k_plus_plus,
    min_k_prob,
    person_fit_test,
    ts_guessing_prompts,
    ts_guessing_score,
    zlib_ratio,
)
from metabench.errors import InputError
from metabench.runs import ResponseMatrix, Runs

ALPHA = 0.05


def binomial_bounds(n: int, p: float = ALPHA, tail: float = 0.001) -> tuple[int, int]:
    """Counts of rejections outside which a test with rejection rate ``p`` is off (two-sided, ``tail`` each side)."""
    return int(stats.binom.ppf(tail, n, p)), int(stats.binom.isf(tail, n, p))


def expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def two_benchmarks(seed: int, n_models: int = 20, n_items: int = 150, boost: float = 0.0) -> dict[str, ResponseMatrix]:
    """A benchmark (2PL) and a reference benchmark (3PL, guessing 0.25) measuring one ability; ``boost`` points to m0."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    a1, b1 = rng.lognormal(0, 0.3, n_items), rng.normal(0.8, 1.0, n_items)
    a2, b2 = rng.lognormal(0, 0.3, n_items), rng.normal(-0.8, 1.0, n_items)
    y1 = (rng.random((n_models, n_items)) < expit(a1 * (theta[:, None] - b1))).astype(float)
    y2 = (rng.random((n_models, n_items)) < 0.25 + 0.75 * expit(a2 * (theta[:, None] - b2))).astype(float)
    if boost:
        wrong = np.flatnonzero(y1[0] == 0)
        y1[0, rng.choice(wrong, min(wrong.size, round(boost * n_items)), replace=False)] = 1.0
    names = [f"m{i}" for i in range(n_models)]
    return {
        "bench": ResponseMatrix.from_array(y1, models=names, benchmark="bench"),
        "ref": ResponseMatrix.from_array(y2, models=names, benchmark="ref"),
    }


# ---------------------------------------------------------------------------
# ConStat
# ---------------------------------------------------------------------------


def test_constat_flags_the_boosted_model_only() -> None:
    data = two_benchmarks(7, n_models=25, n_items=300, boost=0.25)
    res = constat(data, "bench", "ref", n_bootstrap=1000, seed=1)
    frame = res.to_frame()
    assert frame.columns[:11] == [
        "model",
        "benchmark",
        "reference",
        "score",
        "predicted",
        "delta",
        "ci_low",
        "ci_high",
        "p_value",
        "p_adjusted",
        "flagged",
    ]
    assert frame.filter(pl.col("flagged"))["model"].to_list() == ["m0"]
    m0 = frame.row(0, named=True)
    # the boost raised m0's score by about 25 points of its wrong answers' share; the interval covers most of it
    assert m0["ci_low"] > 0.05 and m0["delta"] > 0.1
    assert (res.n_reference == 24).all()  # leave-one-out: every model is fitted on the other 24


def test_constat_leave_one_out_equals_explicit_reference_set() -> None:
    data = two_benchmarks(3)
    others = [f"m{i}" for i in range(20) if i != 4]
    loo = constat(data, "bench", "ref", models=["m4"], n_bootstrap=300, seed=5)
    explicit = constat(data, "bench", "ref", models=["m4"], reference_models=others, n_bootstrap=300, seed=5)
    with_self = constat(data, "bench", "ref", models=["m4"], reference_models=others + ["m4"], n_bootstrap=300, seed=5)
    np.testing.assert_allclose(loo.delta, explicit.delta)
    np.testing.assert_allclose(loo.p_value, explicit.p_value)
    np.testing.assert_allclose(with_self.delta, loo.delta)  # naming m4 as a reference does not put it in its own fit
    assert loo.n_reference.tolist() == [19]


def test_constat_rejection_rate_without_contamination() -> None:
    n = 150
    p = np.array(
        [
            constat(two_benchmarks(1000 + s), "bench", "ref", models=["m0"], n_bootstrap=200, seed=s).p_value[0]
            for s in range(n)
        ]
    )
    lo, hi = binomial_bounds(n)
    assert lo <= int(np.sum(p <= ALPHA)) <= hi
    assert np.all((p > 0) & (p <= 1))


def test_constat_detects_a_large_boost_in_simulation() -> None:
    p = np.array(
        [
            constat(
                two_benchmarks(2000 + s, boost=0.3), "bench", "ref", models=["m0"], n_bootstrap=200, seed=s
            ).p_value[0]
            for s in range(30)
        ]
    )
    assert np.mean(p <= ALPHA) >= 0.8


def test_spline_predict_matches_augmented_least_squares() -> None:
    """The batched P-spline solve equals a per-replicate least squares with penalty rows (numpy.linalg.lstsq)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (6, 9))
    y = np.sin(x) + rng.normal(0, 0.1, x.shape)
    w = rng.integers(0, 3, x.shape).astype(float)
    w[:, :5] = 1.0
    x0 = rng.uniform(-3, 3, 6)
    lo, hi, lam = -4.0, 4.0, 0.7
    got = fit.spline_predict(x, y, w, x0, lam, lo, hi, monotone=False)
    k = fit.N_SEGMENTS + fit.DEGREE
    d2 = np.diff(np.eye(k), n=2, axis=0)
    for b in range(6):
        design = fit.basis(x[b], lo, hi)
        lhs = np.vstack([np.sqrt(w[b])[:, None] * design, np.sqrt(lam) * d2])
        rhs = np.concatenate([np.sqrt(w[b]) * y[b], np.zeros(d2.shape[0])])
        coef = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
        assert got[b] == pytest.approx(float(fit.basis(x0[b : b + 1], lo, hi)[0] @ coef), abs=1e-8)


def test_monotone_spline_matches_bounded_least_squares() -> None:
    """Monotone fit = least squares over non-decreasing coefficients (scipy.optimize.lsq_linear on increments)."""
    from scipy.optimize import lsq_linear

    rng = np.random.default_rng(1)
    lo, hi, lam = -3.0, 3.0, 0.05
    k = fit.N_SEGMENTS + fit.DEGREE
    d2 = np.diff(np.eye(k), n=2, axis=0)
    cumulative = np.tril(np.ones((k, k)))  # c = L u, u[1:] >= 0  <=>  c non-decreasing
    x = np.sort(rng.uniform(-2, 2, (5, 12)), axis=1)
    y = np.where(x < 0, x, 0.5 * np.sin(3 * x)) + rng.normal(0, 0.15, x.shape)  # decreasing stretches
    x0 = np.linspace(-2.5, 2.5, 5)
    got = fit.spline_predict(x, y, np.ones_like(x), x0, lam, lo, hi)
    grid = np.linspace(lo, hi, 61)
    for b in range(5):
        design = fit.basis(x[b], lo, hi)
        lhs = np.vstack([design, np.sqrt(lam) * d2]) @ cumulative
        rhs = np.concatenate([y[b], np.zeros(d2.shape[0])])
        bounds = (np.r_[-np.inf, np.zeros(k - 1)], np.full(k, np.inf))
        coef = cumulative @ lsq_linear(lhs, rhs, bounds=bounds, tol=1e-12).x
        assert got[b] == pytest.approx(float(fit.basis(x0[b : b + 1], lo, hi)[0] @ coef), abs=1e-4)
        curve = fit.spline_predict(
            np.broadcast_to(x[b], (61, 12)), np.broadcast_to(y[b], (61, 12)), np.ones((61, 12)), grid, lam, lo, hi
        )
        assert np.all(np.diff(curve) >= -1e-6)


def test_spline_reproduces_a_straight_line_and_extrapolates_it() -> None:
    """A second-difference penalty leaves straight lines unpenalised: exact fit and straight continuation."""
    x = np.linspace(-1, 1, 8)
    y = 0.3 + 1.7 * x
    pred = fit.spline_predict(x[None], y[None], np.ones((1, 8)), np.array([1.8]), 10.0, -3.0, 3.0)
    assert pred[0] == pytest.approx(0.3 + 1.7 * 1.8, abs=1e-8)


def test_gcv_lambda_minimises_the_modified_gcv_criterion() -> None:
    """Brute force: hat matrix per grid value, GCV = n RSS / (n - 1.4 tr H)^2 (unconstrained fit)."""
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(-2, 2, 15))
    y = x**2 + rng.normal(0, 0.3, 15)
    lo, hi = -4.0, 4.0
    design = fit.basis(x, lo, hi)
    k = design.shape[1]
    d2 = np.diff(np.eye(k), n=2, axis=0)
    scores = []
    for lam in fit.LAMBDA_GRID:
        hat = design @ np.linalg.inv(design.T @ design + lam * d2.T @ d2) @ design.T
        edf = 1.4 * np.trace(hat)
        scores.append(15 * np.sum((y - hat @ y) ** 2) / (15 - edf) ** 2 if edf < 15 else np.inf)
    assert fit.gcv_lambda(x, y, lo, hi, monotone=False) == fit.LAMBDA_GRID[int(np.argmin(scores))]


def test_isotonic_predict_matches_scikit_learn() -> None:
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (4, 12))
    y = x + rng.normal(0, 0.2, x.shape)
    w = rng.integers(1, 4, x.shape).astype(float)
    x0 = np.array([0.5, -0.2, 1.3, 0.77])
    got = fit.isotonic_predict(x, y, w, x0)
    for b in range(4):
        ref = IsotonicRegression(out_of_bounds="clip").fit(x[b], y[b], sample_weight=w[b])
        assert got[b] == pytest.approx(float(ref.predict([x0[b]])[0]), abs=1e-10)


def test_constat_isotonic_smoother_runs_and_flags() -> None:
    data = two_benchmarks(11, n_models=25, n_items=300, boost=0.3)
    res = constat(data, "bench", "ref", smoother="isotonic", models=["m0", "m1", "m2"], n_bootstrap=300)
    assert res.flagged[0] and res.smoother == "isotonic"


def test_constat_on_runs_frame_with_missing_cells_and_exclusions() -> None:
    data = two_benchmarks(5, n_models=12, n_items=80)
    frames = [m.to_frame() for m in data.values()]
    long = pl.concat(frames).filter(~((pl.col("model") == "m1") & (pl.col("item") == "i3")))
    long = pl.concat(
        [long, pl.DataFrame({"model": ["only_bench"], "benchmark": ["bench"], "item": ["i0"], "score": [1.0]})]
    )
    res = constat(Runs(long), "bench", "ref", n_bootstrap=100)
    assert "only_bench" not in res.models and len(res.models) == 12
    assert res.exclusions and res.exclusions[0].count == 1
    assert np.all(np.isfinite(res.p_value))
    assert set(res.points.columns) == {"model", "reference_score", "score", "reference", "tested"}
    assert res.curve.height == 101
    assert res.to_dict()["rows"][0]["model"] == res.models[0]


def test_constat_input_errors() -> None:
    data = two_benchmarks(1, n_models=6)
    with pytest.raises(InputError, match="reference models"):
        constat(data, "bench", "ref", reference_models=["m1", "m2", "m3", "m4"])
    with pytest.raises(InputError):
        constat(data, "bench", "bench")
    with pytest.raises(InputError):
        constat(data, "bench", "ref", models=["nobody"])
    with pytest.raises(InputError):
        constat(data, "bench", "ref", smoother="loess")  # type: ignore[arg-type]


def test_constat_input_errors_too_few_references() -> None:
    data = two_benchmarks(1, n_models=6)
    assert len(constat(data, "bench", "ref", n_bootstrap=60).models) == 6
    with pytest.raises(InputError, match="reference models"):
        constat(data, "bench", "ref", reference_models=["m1", "m2", "m3", "m4", "m5"], models=["m1"])


def test_adjust_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(0)
    for method, sm in (("holm", "holm"), ("bh", "fdr_bh"), ("by", "fdr_by"), ("bonferroni", "bonferroni")):
        p = rng.random(13) ** 3
        p[[2, 7]] = p[4]
        adj, flagged = _adjust(np.r_[p, np.nan], ALPHA, method)
        reject, ref, _, _ = multipletests(p, alpha=ALPHA, method=sm)
        np.testing.assert_allclose(adj[:-1], ref)
        assert np.isnan(adj[-1]) and not flagged[-1]
        assert flagged[:-1].tolist() == reject.tolist()


# ---------------------------------------------------------------------------
# person fit
# ---------------------------------------------------------------------------


def rasch_like(seed: int, n_models: int = 20, n_items: int = 100) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    a, b = rng.lognormal(0, 0.3, n_items), rng.normal(0, 1, n_items)
    return (rng.random((n_models, n_items)) < expit(a * (theta[:, None] - b))).astype(float), b


def test_guttman_matches_pair_enumeration() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random((5, 9)) < 0.5).astype(float)
    obs = rng.random((5, 9)) < 0.85
    ease = np.round(rng.random(9), 1)  # ties on purpose
    got = pf.guttman(y, obs, ease)
    for i in range(5):
        errors = 0.0
        for j in range(9):
            for k in range(9):
                if obs[i, j] and obs[i, k] and y[i, j] == 0 and y[i, k] == 1:
                    if ease[j] > ease[k]:
                        errors += 1.0
                    elif ease[j] == ease[k]:
                        errors += 0.5  # the tied pair (j, k) is visited once with this orientation
        r = float(np.sum(obs[i] & (y[i] == 1)))
        n = float(obs[i].sum())
        expected = errors / (r * (n - r)) if 0 < r < n else 0.0
        assert got[i] == pytest.approx(expected)


def test_map_theta_matches_irt_scoring() -> None:
    from metabench.irt import IRT

    y, _ = rasch_like(0)
    y[2, :10] = np.nan
    for model in ("2pl", "3pl"):
        irt = IRT(model=model).fit(y)
        obs = ~np.isnan(y)
        a = irt.params_.slopes[:, 0]
        mine = pf.map_theta(
            np.where(obs, y, 0.0), obs, a, irt.params_.intercepts, irt.guessing_, 1 - irt.slipping_, irt.latent_sd_
        )
        ref = irt.score(y, method="map").theta
        np.testing.assert_allclose(mine, ref, atol=1e-5)


@pytest.mark.parametrize("calibration", ["loo", "plugin"])
def test_person_fit_flags_a_model_that_knows_the_hard_items(calibration: str) -> None:
    y, b = rasch_like(1, n_models=25, n_items=150)
    y[0, np.argsort(b)[-45:]] = 1.0
    res = person_fit_test(y, n_sim=3000, seed=2, calibration=calibration)  # type: ignore[arg-type]
    frame = res.to_frame()
    assert frame.columns[:6] == ["model", "statistic", "value", "p_value", "p_adjusted", "flagged"]
    flagged = frame.filter(pl.col("flagged"))
    assert set(flagged["model"].to_list()) == {"m0"}  # nobody else, after Holm over 25 models
    assert ("m0", "lz_star") in flagged.select("model", "statistic").rows()
    assert res.p_value[0, 1] < ALPHA  # Guttman errors: significant before the correction for 25 models
    # aberrant patterns cost the full simulation budget, ordinary ones stop early
    assert res.n_simulated[0] == 3000 and np.median(res.n_simulated) <= 700
    assert res.calibration == calibration and res.to_dict()["calibration"] == calibration


def test_loo_calibration_is_more_powerful_than_plugin() -> None:
    """Leaving the model out keeps it from bending the items towards its own pattern: smaller p-values."""
    y, b = rasch_like(1, n_models=25, n_items=150)
    y[0, np.argsort(b)[-45:]] = 1.0
    # the same number of draws for both (no refinement near alpha), so that both p-values have the same floor;
    # at that floor (0 or 1 exceedance in 3,000 draws) they differ by Monte Carlo noise only, hence the margin
    loo = person_fit_test(y, models=["m0"], n_sim=3000, n_sim_max=3000, seed=2)
    plug = person_fit_test(y, models=["m0"], n_sim=3000, n_sim_max=3000, seed=2, calibration="plugin")
    assert np.all(loo.p_value[0] <= plug.p_value[0] + 2.576 * np.hypot(loo.p_mc_se[0], plug.p_mc_se[0]))
    assert loo.p_value[0, 1] < plug.p_value[0, 1] / 10  # G*: 1 of 3,000 draws as extreme against 0.04
    assert loo.values[0, 0] < plug.values[0, 0]  # lz*: lower is more aberrant


@pytest.mark.parametrize("calibration", ["loo", "plugin"])
def test_person_fit_rejection_rate_without_contamination(calibration: str) -> None:
    n = 80
    p = np.array(
        [
            person_fit_test(rasch_like(100 + s)[0], models=["m0"], n_sim=300, seed=s, calibration=calibration).p_value[
                0
            ]  # type: ignore[arg-type]
            for s in range(n)
        ]
    )
    lo, hi = binomial_bounds(n)
    for col in range(2):
        assert lo <= int(np.sum(p[:, col] <= ALPHA)) <= hi
    assert np.all((p > 0) & (p <= 1))


def test_loo_calibration_holds_its_level_with_ten_models() -> None:
    """With 10 models the plugin calibration is far too conservative (mean p about 0.75); leave-one-out is not.

    Reference: p-values of a valid, exact test are uniform, so their mean is 0.5 and the share at or below 0.25 is
    0.25. 120 simulations of 10 models × 200 items with 2PL truth; the bounds are four standard errors.
    """
    rng = np.random.default_rng(11)
    p = []
    for s in range(120):
        theta = rng.normal(size=10)
        a, b = rng.lognormal(0, 0.3, 200), rng.normal(0, 1, 200)
        y = (rng.random((10, 200)) < expit(a * (theta[:, None] - b))).astype(float)
        p.append(person_fit_test(y, models=["m0"], n_sim=200, seed=s).p_value[0])
    p = np.array(p)
    se_mean, se_share = np.sqrt(1 / 12 / len(p)), np.sqrt(0.25 * 0.75 / len(p))
    for col in range(2):
        assert abs(p[:, col].mean() - 0.5) < 4 * se_mean
        assert abs(np.mean(p[:, col] <= 0.25) - 0.25) < 4 * se_share


@pytest.mark.parametrize("calibration", ["loo", "plugin"])
def test_person_fit_pvalue_floor_and_missing_cells(calibration: str) -> None:
    y, b = rasch_like(8, n_models=15, n_items=80)
    y[3, np.argsort(b)[-30:]] = 1.0
    y[3, np.argsort(b)[:30]] = 0.0  # hard right, easy wrong: a perfect reversal on 60 items
    y[5, :7] = np.nan
    res = person_fit_test(
        ResponseMatrix.from_array(y, benchmark="x"),
        n_sim=400,
        correction="none",
        calibration=calibration,  # type: ignore[arg-type]
    )
    assert res.p_value[3].tolist() == [1 / 401, 1 / 401]
    assert res.n_items[5] == 73
    assert res.to_dict()["benchmark"] == "x"


def test_loo_calibration_with_the_1pl_and_plugin_for_the_3pl() -> None:
    y, b = rasch_like(4, n_models=15, n_items=120)
    y[0, np.argsort(b)[-40:]] = 1.0
    y[0, np.argsort(b)[:20]] = 0.0
    res = person_fit_test(y, model="1pl", n_sim=500, seed=0, correction="none")
    assert res.irt_model == "1pl" and res.calibration == "loo"
    assert np.all(np.isfinite(res.values)) and np.all(np.isfinite(res.theta))
    assert res.p_value[0].max() < 0.01  # the aberrant model
    assert np.median(res.p_value[1:, 0]) > 0.2  # the others
    three = person_fit_test(y, model="3pl", n_sim=500, seed=0, correction="none")
    assert three.calibration == "plugin" and three.p_value[0, 0] < 0.01
    with pytest.raises(InputError, match="1PL and 2PL"):
        person_fit_test(y, model="3pl", calibration="loo")


# ---------------------------------------------------------------------------
# the leave-one-out machinery, against brute force
# ---------------------------------------------------------------------------


def _small_grid_problem(seed: int, asymptotes: bool) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n, j = 6, 9
    y = (rng.random((n, j)) < 0.55).astype(float)
    obs = rng.random((n, j)) < 0.85
    theta = rng.normal(size=n)
    ga, gd = np.meshgrid(np.linspace(0.3, 2.0, 4), np.linspace(-2.0, 2.0, 5), indexing="ij")
    ga, gd = ga.ravel(), gd.ravel()
    c = rng.uniform(0.0, 0.3, j) if asymptotes else np.zeros(j)
    d = rng.uniform(0.85, 1.0, j) if asymptotes else np.ones(j)
    return y, obs, theta, ga, gd, c, d


def _loglik_loops(y, obs, theta, ga, gd, c, d) -> np.ndarray:
    out = np.zeros((y.shape[1], ga.size))
    for j in range(y.shape[1]):
        for g in range(ga.size):
            for i in range(y.shape[0]):
                if obs[i, j]:
                    p = c[j] + (d[j] - c[j]) / (1.0 + np.exp(-(ga[g] * theta[i] + gd[g])))
                    out[j, g] += np.log(p if y[i, j] == 1 else 1.0 - p)
    return out


@pytest.mark.parametrize("asymptotes", [False, True])
def test_column_loglik_matches_loops(asymptotes: bool) -> None:
    y, obs, theta, ga, gd, c, d = _small_grid_problem(0, asymptotes)
    success = expit(theta[:, None] * ga + gd)
    np.testing.assert_allclose(pf.column_loglik(y, obs, success, c, d), _loglik_loops(y, obs, theta, ga, gd, c, d))


def test_prior_basis_monomials() -> None:
    ga, gd = np.array([0.5, 1.0, 1.5, 0.5]), np.array([-1.0, 0.0, 1.0, 2.0])
    q = pf.prior_basis(ga, gd, degree=2)
    u, v = (ga - ga.mean()) / ga.std(), (gd - gd.mean()) / gd.std()
    np.testing.assert_allclose(q, np.stack([v, u, v * v, u * v, u * u], axis=1))
    np.testing.assert_allclose(pf.prior_basis(np.ones(4), gd, degree_1d=3), np.stack([v, v**2, v**3], axis=1))
    assert pf.prior_basis(np.ones(3), np.zeros(3)).shape == (3, 0)


def test_fit_prior_matches_a_generic_optimiser() -> None:
    """The analytic-gradient fit equals Nelder–Mead on the objective written out with logsumexp."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    y, obs, theta, ga, gd, c, d = _small_grid_problem(1, False)
    loglik = _loglik_loops(y, obs, theta, ga, gd, c, d)
    basis = pf.prior_basis(ga, gd, degree=2)
    ridge = 0.05

    def objective(coef: np.ndarray) -> float:
        logw = basis @ coef - logsumexp(basis @ coef)
        return -float(np.sum(logsumexp(loglik + logw, axis=1))) + ridge * float(coef @ coef)

    got = pf.fit_prior(np.exp(loglik), basis, ridge=ridge)
    ref = minimize(
        objective,
        np.zeros(basis.shape[1]),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 40_000, "maxfev": 40_000},
    )
    np.testing.assert_allclose(got, ref.x, atol=1e-4)
    assert objective(got) <= ref.fun + 1e-9


def test_fit_prior_with_items_observed_exactly_matches_moments() -> None:
    """Exponential-family MLE: with each item's likelihood a point mass, E_w[basis] equals the items' mean basis."""
    rng = np.random.default_rng(2)
    ga, gd = np.meshgrid(np.linspace(0.5, 2.0, 8), np.linspace(-3.0, 3.0, 15), indexing="ij")
    ga, gd = ga.ravel(), gd.ravel()
    basis = pf.prior_basis(ga, gd, degree=2)
    where = rng.integers(0, ga.size, 400)  # the grid point each item sits on
    lik = np.zeros((400, ga.size))
    lik[np.arange(400), where] = 1.0
    coef = pf.fit_prior(lik, basis, ridge=0.0)
    w = np.exp(pf.log_weights(basis, coef))
    np.testing.assert_allclose(w @ basis, basis[where].mean(axis=0), atol=1e-5)


def test_leave_one_out_equals_the_posterior_refitted_without_the_model() -> None:
    y, obs, theta, ga, gd, c, d = _small_grid_problem(3, True)
    success = expit(theta[:, None] * ga + gd)
    loglik = pf.column_loglik(y, obs, success, c, d)
    log_prior = np.log(np.random.default_rng(0).dirichlet(np.ones(ga.size)))
    grid = pf.ItemGrid(ga, gd, log_prior, loglik, success, c, d, theta, 0)
    for i in range(y.shape[0]):
        keep = np.arange(y.shape[0]) != i
        ll = _loglik_loops(y[keep], obs[keep], theta[keep], ga, gd, c, d) + log_prior
        ref = np.exp(ll - ll.max(axis=1, keepdims=True))
        ref /= ref.sum(axis=1, keepdims=True)
        post = pf.leave_one_out(grid, y, obs, i)
        np.testing.assert_allclose(post, ref, atol=1e-12)
        p = pf.predictive(grid, post, 0.4, c, d)
        brute = [
            c[j] + (d[j] - c[j]) * sum(post[j, g] * expit(ga[g] * 0.4 + gd[g]) for g in range(ga.size))
            for j in range(y.shape[1])
        ]
        np.testing.assert_allclose(p, brute)


@pytest.mark.parametrize("asymptotes", [False, True])
def test_ability_score_is_the_gradient_of_the_marginal_likelihood(asymptotes: bool) -> None:
    """Fisher's identity, checked by central differences of Σ_j log Σ_g w_g P(column j | g, θ)."""
    from scipy.special import logsumexp

    y, obs, theta, ga, gd, c, d = _small_grid_problem(4, asymptotes)
    logw = np.log(np.random.default_rng(1).dirichlet(np.ones(ga.size)))

    def marginal(th: np.ndarray) -> float:
        return float(np.sum(logsumexp(_loglik_loops(y, obs, th, ga, gd, c, d) + logw, axis=1)))

    success = expit(theta[:, None] * ga + gd)
    ll = pf.column_loglik(y, obs, success, c, d) + logw
    post = np.exp(ll - ll.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    grad, info = pf._ability_score(y, obs, success, post, ga, c, d)
    h = 1e-5
    num = np.array([(marginal(theta + h * e) - marginal(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)
    assert np.all(info > 0)


def test_item_grid_recovers_the_item_distribution() -> None:
    """Known truth: 2PL items with slopes LogNormal(0, 0.3) and difficulties N(0, 1), 40 models × 600 items.

    The fitted prior's mean slope and the spread of its intercepts come close to the truth's (on the standardised
    ability scale), and the abilities correlate with the true ones.
    """
    from metabench.irt import IRT

    rng = np.random.default_rng(5)
    theta = rng.normal(size=40)
    a, b = rng.lognormal(0, 0.3, 600), rng.normal(0, 1, 600)
    y = (rng.random((40, 600)) < expit(a * (theta[:, None] - b))).astype(float)
    irt = IRT(model="2pl").fit(y)
    obs = np.ones_like(y, dtype=bool)
    grid = pf.item_grid(
        y, obs, irt.abilities_, irt.params_.slopes[:, 0], irt.params_.intercepts, irt.guessing_, 1 - irt.slipping_, True
    )
    w = np.exp(grid.log_prior)
    assert w.sum() == pytest.approx(1.0)
    assert np.corrcoef(grid.theta, theta)[0, 1] > 0.98
    s = np.std(theta)  # the truth on the scale of its own standardised abilities
    mean_slope = float(w @ grid.slopes)
    sd_intercept = float(np.sqrt(w @ grid.intercepts**2 - (w @ grid.intercepts) ** 2))
    assert mean_slope == pytest.approx(np.mean(a) * s, rel=0.15)
    assert sd_intercept == pytest.approx(np.std(-a * (b - theta.mean())), rel=0.15)


def test_person_fit_input_errors() -> None:
    y, _ = rasch_like(0)
    with pytest.raises(InputError, match="binary"):
        person_fit_test(y * 0.5)
    with pytest.raises(InputError, match="unidimensional"):
        person_fit_test(y, model="mirt2")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        person_fit_test(y, models=["zz"])
    with pytest.raises(InputError, match="calibration"):
        person_fit_test(y, calibration="bootstrap")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# date split
# ---------------------------------------------------------------------------


def test_cluster_diff_matches_statsmodels() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    y = (rng.random(120) < 0.6).astype(float)
    before = rng.random(120) < 0.4
    groups = rng.integers(0, 9, 120)
    diff, se, g = _cluster_diff(y, before, groups)
    model = sm.OLS(y, sm.add_constant(before.astype(float)))
    ref = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert diff == pytest.approx(ref.params[1]) and se == pytest.approx(ref.bse[1]) and g == 9
    hc1 = model.fit(cov_type="HC1")
    assert _cluster_diff(y, before, np.arange(120))[1] == pytest.approx(hc1.bse[1])


def dated_runs(
    seed: int, n_models: int = 8, n_items: int = 200, boost: float = 0.0, drift: float = 0.0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    subj = np.repeat(np.arange(10), n_items // 10)
    b = rng.normal(0, 0.5, 10)[subj] + rng.normal(0, 0.8, n_items)
    created = [dt.date(2023, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 730, n_items)]
    before = np.array([c <= dt.date(2024, 1, 1) for c in created])
    b = b + drift * ~before
    y = (rng.random((n_models, n_items)) < expit(theta[:, None] - b)).astype(float)
    if boost:
        wrong = np.flatnonzero((y[0] == 0) & before)
        y[0, rng.choice(wrong, min(wrong.size, int(boost * n_items)), replace=False)] = 1.0
    items = [f"q{j}" for j in range(n_items)]
    runs = pl.DataFrame(
        {
            "model": np.repeat([f"m{i}" for i in range(n_models)], n_items),
            "benchmark": "live",
            "item": items * n_models,
            "subject": [f"s{s}" for s in subj] * n_models,
            "score": y.ravel(),
        }
    )
    dates = pl.DataFrame({"benchmark": "live", "item": items, "created": created})
    return runs, dates


def test_date_split_flags_the_contaminated_model() -> None:
    runs, dates = dated_runs(1, boost=0.2)
    cut = {f"m{i}": "2024-01-01" for i in range(8)}
    frame = date_split_test(runs, dates, cut).to_frame()
    assert frame.height == 8 and (frame["primary"] == "did").all() and (frame["cluster_by"] == "subject").all()
    assert frame.filter(pl.col("flagged"))["model"].to_list() == ["m0"]
    assert frame.row(0, named=True)["acc_before"] > frame.row(0, named=True)["acc_after"]


def test_date_split_difficulty_drift_fools_raw_but_not_adjusted() -> None:
    runs, dates = dated_runs(2, n_items=400, drift=1.5)
    res = date_split_test(runs, dates, {"m3": dt.date(2024, 1, 1)}, clusters="item").to_frame().row(0, named=True)
    assert res["p_value"] < 0.001  # raw: older items are easier for everybody
    assert res["did_p_value"] > 0.05
    assert res["cluster_by"] == "item" and res["n_clusters"] == 400


def test_date_split_rejection_rate_without_contamination() -> None:
    n = 200
    rows = []
    for s in range(n):
        runs, dates = dated_runs(300 + s, n_models=5, n_items=120)
        rows.append(date_split_test(runs, dates, {"m0": "2024-01-01"}).to_frame().row(0, named=True))
    lo, hi = binomial_bounds(n)
    assert lo <= sum(r["p_value"] <= ALPHA for r in rows) <= hi
    assert lo <= sum(r["did_p_value"] <= ALPHA for r in rows) <= hi


def test_date_split_dates_from_a_runs_column_and_errors() -> None:
    runs, dates = dated_runs(4, n_models=4, n_items=60)
    joined = runs.join(dates.with_columns(pl.col("created").cast(pl.String)), on=["benchmark", "item"])
    a = date_split_test(joined, "created", {"m1": "2024-01-01"}).to_frame()
    b = date_split_test(runs, dates, {"m1": dt.datetime(2024, 1, 1, 12)}).to_frame()
    assert a.drop("cutoff").equals(b.drop("cutoff"))
    doc = json.loads(json.dumps(date_split_test(runs, dates, {"m1": "2024-01-01"}).to_dict()))
    assert doc["rows"][0]["cutoff"] == "2024-01-01"
    with pytest.raises(InputError):
        date_split_test(runs, dates, {"nobody": "2024-01-01"})
    with pytest.raises(InputError):
        date_split_test(runs, dates.drop("created"), {"m1": "2024-01-01"})
    with pytest.raises(InputError):
        date_split_test(runs, dates, {"m1": "early 2024"})


# ---------------------------------------------------------------------------
# scores from token log-probabilities
# ---------------------------------------------------------------------------


def test_min_k_prob_matches_sorting() -> None:
    rng = np.random.default_rng(0)
    texts = [rng.normal(-2, 1, n) for n in (1, 4, 13, 50)]
    for k in (0.1, 0.2, 0.5, 1.0):
        got = min_k_prob(texts, k=k)
        ref = [np.mean(np.sort(t)[: max(1, int(len(t) * k))]) for t in texts]
        np.testing.assert_allclose(got, ref)
        assert min_k_prob(texts[2], k=k) == pytest.approx(ref[2])
    with pytest.raises(InputError):
        min_k_prob(texts[0], k=0.0)


def test_min_k_scores_agree_with_the_runner() -> None:
    from metabench.run.tokenlogprobs import min_k_percent
    from metabench.run.tokenlogprobs import min_k_plus_plus as runner_mkpp

    rng = np.random.default_rng(1)
    lp, mu, sd = rng.normal(-3, 1, 37), rng.normal(-4, 1, 37), rng.uniform(0.5, 2, 37)
    assert min_k_prob(lp, 0.2) == pytest.approx(min_k_percent(lp, 0.2))
    assert min_k_plus_plus(lp, mu, sd**2, 0.2) == pytest.approx(runner_mkpp(lp, mu, sd, 0.2))
    assert min_k_plus_plus(lp, mu, None, 0.2, token_sd=sd) == pytest.approx(runner_mkpp(lp, mu, sd, 0.2))
    both = min_k_plus_plus([lp, lp[:5]], [mu, mu[:5]], [sd**2, sd[:5] ** 2], 0.5)
    assert both[1] == pytest.approx(runner_mkpp(lp[:5], mu[:5], sd[:5], 0.5))
    with pytest.raises(InputError):
        min_k_plus_plus(lp, mu, sd**2, token_sd=sd)


def test_zlib_ratio() -> None:
    texts = ["the cat sat on the mat", "zq xj vk wp"]
    got = zlib_ratio(texts, [-20.0, -30.0])
    expected = [-20.0 / len(zlib.compress(texts[0].encode())), -30.0 / len(zlib.compress(texts[1].encode()))]
    np.testing.assert_allclose(got, expected)
    assert zlib_ratio(texts[0], -20.0) == pytest.approx(got[0])
    with pytest.raises(InputError):
        zlib_ratio(texts, [1.0])


def test_zlib_ratio_agrees_with_the_runners_token_level_function() -> None:
    """One definition across the package: mean token log-probability per zlib byte (Carlini et al. 2021)."""
    from metabench.run import zlib_ratio as run_zlib_ratio

    lp = np.log(np.random.default_rng(0).uniform(0.01, 1.0, 17))
    text = "the patient presented with chest pain"
    assert zlib_ratio(text, float(lp.mean())) == pytest.approx(run_zlib_ratio(lp, text))


# ---------------------------------------------------------------------------
# membership test
# ---------------------------------------------------------------------------


def test_membership_test_matches_scipy_and_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    x = np.round(rng.normal(0.4, 1, 35), 1)  # ties on purpose
    y = np.round(rng.normal(0.0, 1, 48), 1)
    res = membership_test(x, y, n_permutations=20_000, seed=1)
    mw = stats.mannwhitneyu(x, y, alternative="greater", method="asymptotic")
    assert res.u_statistic == pytest.approx(mw.statistic)
    assert res.p_value_asymptotic == pytest.approx(mw.pvalue)
    assert res.auc == pytest.approx(roc_auc_score(np.r_[np.ones(35), np.zeros(48)], np.r_[x, y]))
    ranks = stats.rankdata(np.r_[x, y])  # the pooled ranks do not change under relabelling: permute them
    perm = stats.permutation_test(
        (ranks[:35], ranks[35:]),
        lambda a, b, axis: np.sum(a, axis=axis),
        alternative="greater",
        permutation_type="independent",
        n_resamples=20_000,
        vectorized=True,
        random_state=2,
    ).pvalue
    assert res.p_value == pytest.approx(perm, abs=0.01)  # two Monte Carlo estimates of one exact p-value


def test_membership_delong_interval_by_brute_force() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(0.5, 1, 20), rng.normal(0, 1, 30)
    x[:3] = y[:3]  # ties across groups
    res = membership_test(x, y, n_permutations=10, level=0.9)
    psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = np.sqrt(v10.var(ddof=1) / 20 + v01.var(ddof=1) / 30)
    z = stats.norm.ppf(0.95)
    assert res.auc == pytest.approx(psi.mean())
    assert res.ci_low == pytest.approx(psi.mean() - z * se) and res.ci_high == pytest.approx(psi.mean() + z * se)


def test_membership_permutation_pvalue_is_exact_under_the_null() -> None:
    rng = np.random.default_rng(7)
    n = 300
    p = np.array(
        [membership_test(rng.normal(size=15), rng.normal(size=20), n_permutations=99, seed=s).p_value for s in range(n)]
    )
    lo, hi = binomial_bounds(n)
    assert lo <= int(np.sum(p <= ALPHA)) <= hi


# ---------------------------------------------------------------------------
# exchangeability
# ---------------------------------------------------------------------------


def affinity(a: str, b: str) -> float:
    """A fixed, order-sensitive but content-only score of two neighbouring texts."""
    return int(hashlib.sha256(f"{a}|{b}".encode()).hexdigest()[:8], 16) / 16**8


def exchangeable_model(texts: list[str]) -> float:
    """Log-likelihood that depends on the order only through the texts' contents (not their canonical position)."""
    return -sum(len(t) for t in texts) + sum(affinity(a, b) for a, b in itertools.pairwise(texts))


def test_exchangeability_detects_a_canonical_order_bonus() -> None:
    items = [f"question number {i}" for i in range(60)]
    rank = {t: i for i, t in enumerate(items)}

    def memorised(texts: list[str]) -> float:
        return exchangeable_model(texts) + 0.3 * sum(rank[b] == rank[a] + 1 for a, b in itertools.pairwise(texts))

    res = exchangeability_test(memorised, items, n_shuffles=39, shard_count=6, seed=0)
    assert res.p_value < 1e-4 and res.p_value_permutation == pytest.approx(1 / 40)
    ref = stats.ttest_1samp(res.differences, 0.0, alternative="greater")
    assert res.t_statistic == pytest.approx(ref.statistic) and res.p_value == pytest.approx(ref.pvalue)
    assert res.shard_sizes.tolist() == [10] * 6 and res.to_frame().height == 6


def test_exchangeability_pvalues_are_uniform_without_memorisation() -> None:
    rng = np.random.default_rng(0)
    pool = [f"item {i} " + "x" * int(k) for i, k in enumerate(rng.integers(1, 9, 24))]
    n = 200
    p_t, p_perm = [], []
    for s in range(n):
        order = [pool[j] for j in rng.permutation(len(pool))]  # the published order is arbitrary
        res = exchangeability_test(exchangeable_model, order, n_shuffles=19, shard_count=4, seed=s)
        p_t.append(res.p_value)
        p_perm.append(res.p_value_permutation)
    lo, hi = binomial_bounds(n)
    assert lo <= int(np.sum(np.array(p_perm) <= ALPHA)) <= hi
    assert lo <= int(np.sum(np.array(p_t) <= ALPHA)) <= hi
    assert stats.kstest(p_t, "uniform").pvalue > 0.001


def test_exchangeability_batched_equals_unbatched_and_shards() -> None:
    items = [f"t{i}" for i in range(23)]
    one = exchangeability_test(exchangeable_model, items, n_shuffles=7, shard_count=5, seed=3)
    batch = exchangeability_test(
        lambda orders: [exchangeable_model(o) for o in orders], items, n_shuffles=7, shard_count=5, seed=3, batched=True
    )
    np.testing.assert_allclose(one.shuffled, batch.shuffled)
    assert one.shard_sizes.tolist() == [5, 5, 5, 4, 4]  # the first len % shards shards take one more item
    single = exchangeability_test(exchangeable_model, items, n_shuffles=7, shard_count=1)
    assert single.p_value == single.p_value_permutation and np.isnan(single.t_statistic)
    with pytest.raises(InputError):
        exchangeability_test(exchangeable_model, items, shard_count=12)


# ---------------------------------------------------------------------------
# TS-Guessing
# ---------------------------------------------------------------------------


def test_ts_guessing_prompts_mask_a_wrong_option() -> None:
    from metabench.run.tasks import MultipleChoiceItem

    items = [
        {"id": f"q{i}", "question": f"Question {i}?", "choices": ["alpha", "beta", "gamma", "delta"], "answer": i % 4}
        for i in range(40)
    ]
    items.append({"id": "letter", "question": "Q?", "choices": ["x", "y"], "answer": "B"})
    items.append({"id": "none", "question": "Q?", "choices": ["only", ""], "answer": 0})
    items.append(MultipleChoiceItem("mc", "2+2?", ("3", "4", "5"), 1))
    frame = ts_guessing_prompts(items, seed=1)
    assert frame.columns == ["item", "prompt", "masked_letter", "masked_index", "masked_truth"]
    assert "none" not in frame["item"].to_list() and frame.height == 42
    for row in frame.iter_rows(named=True):
        src = next(it for it in items if (it["id"] if isinstance(it, dict) else it.id) == row["item"])
        choices = src["choices"] if isinstance(src, dict) else list(src.choices)
        answer = src["answer"] if isinstance(src, dict) else src.answer
        answer = "AB".index(answer) if isinstance(answer, str) else answer
        assert row["masked_index"] != answer
        assert row["masked_truth"] == choices[row["masked_index"]]
        assert (
            f"{row['masked_letter']}: [MASK]" in row["prompt"]
            and row["masked_truth"] not in row["prompt"].split("Options:")[1]
        )
    assert frame.filter(pl.col("item") == "letter")["masked_truth"].to_list() == ["x"]
    assert ts_guessing_prompts(items, seed=1).equals(frame)
    assert len(set(frame["masked_index"].head(40).to_list())) == 4  # every wrong slot gets masked somewhere
    with pytest.raises(InputError):
        ts_guessing_prompts([{"question": "Q", "choices": ["a"], "answer": 3}])


def test_ts_guessing_score_and_wilson_interval() -> None:
    from statsmodels.stats.proportion import proportion_confint

    gens = ["C: Nice.", "(b) lyon", "**Paris**", "Toulouse\nbecause", "marseille", ""]
    truths = ["Nice", "Lyon", "paris", "Toulouse", "Lille", ""]
    res = ts_guessing_score(gens, truths, level=0.9)
    assert res.matches.tolist() == [True, True, True, True, False, False]
    lo, hi = proportion_confint(4, 6, alpha=0.1, method="wilson")
    assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi))
    assert res.to_frame()["n_matches"].to_list() == [4]
    with pytest.raises(InputError):
        ts_guessing_score(["a"], ["a", "b"])


def test_contamination_report_section_flags_a_boosted_system():
    """The report section (metabench/analysis/contamination_report.py) on simulated runs with one boosted system."""
    import polars as pl

    import metabench
    from metabench import Runs
    from metabench.report import Table, Text

    rng = np.random.default_rng(11)
    n_models, n_items = 14, 150
    theta = np.linspace(-1.5, 1.5, n_models)
    rows = []
    for bench in ("main", "ref"):
        b = rng.normal(size=n_items)
        p = 1 / (1 + np.exp(-(theta[:, None] - b)))
        y = (rng.random(p.shape) < p).astype(float)
        if bench == "main":
            y[3, : int(0.3 * n_items)] = 1.0  # m3 has seen 30% of the items
        for i in range(n_models):
            rows += [
                {"model": f"m{i}", "benchmark": bench, "item": f"{bench}{j}", "score": y[i, j]} for j in range(n_items)
            ]
    runs = Runs(pl.DataFrame(rows))
    rep = metabench.analyze(
        runs, ["contamination"], options={"contamination_bootstrap": 300, "contamination_sims": 400}
    )
    (sec,) = rep.sections
    main = next(s for s in sec.subsections if s.title == "main")
    text = " ".join(b.markdown for b in main.blocks if isinstance(b, Text))
    assert "m3 scores" in text
    constat_table = next(b.frame for b in main.blocks if isinstance(b, Table) and b.label.startswith("contam-constat"))
    assert constat_table.filter(pl.col("model") == "m3")["flagged"].item()


# ---------------------------------------------------------------------------
# Monte Carlo error of the simulated person-fit p-values


def _borderline(k: int) -> np.ndarray:
    """20 models × 120 Rasch items; model 0 also solves the k hardest items (k = 8: p-values near 0.05)."""
    rng = np.random.default_rng(4)
    theta, b = rng.normal(size=20), rng.normal(size=120)
    y = (rng.random((20, 120)) < expit(theta[:, None] - b)).astype(float)
    y[0, np.argsort(b)[::-1][:k]] = 1.0
    return y


def test_stable_decisions_bracket_the_flags_of_every_p_inside_the_intervals() -> None:
    """Brute force: flags at p-value vectors drawn inside the Monte Carlo intervals (Holm checked against statsmodels)."""
    from statsmodels.stats.multitest import multipletests

    from metabench.analysis.contamination import MC_Z, _mc_se, _stable_decisions

    rng = np.random.default_rng(0)
    for _ in range(30):
        p = rng.uniform(0, 0.1, size=(8, 2)) ** rng.uniform(0.5, 2)
        n = rng.integers(50, 5000, size=(8, 2))
        se = _mc_se(p, n)
        np.testing.assert_allclose(se, np.sqrt(p * (1 - p) / n))
        stable = _stable_decisions(p, se, 0.05, "holm")
        for s in range(2):
            q = np.clip(p[:, s] + rng.uniform(-MC_Z, MC_Z, (300, 8)) * se[:, s], 0, 1)
            seen = np.array([_adjust(row, 0.05, "holm")[1] for row in q])
            assert np.array_equal(seen[0], multipletests(q[0], alpha=0.05, method="holm")[0])
            # a stable test has the same flag at every p-value vector inside the box
            assert np.all(seen[:, stable[:, s]] == seen[0, stable[:, s]])


def test_person_fit_draws_more_near_alpha_and_stable_flags_agree_across_seeds() -> None:
    y = _borderline(8)
    plain = [person_fit_test(y, models=["m0"], n_sim=400, n_sim_max=400, seed=s) for s in range(6)]
    refined = [person_fit_test(y, models=["m0"], n_sim=400, seed=s) for s in range(6)]
    # without refinement, the lz* flag turns with the seed (p-values 0.04-0.08 from 400 draws)
    assert len({bool(r.flagged[0, 0]) for r in plain}) == 2
    assert all(r.n_sim_max == 4000 for r in refined)
    assert max(int(r.n_simulated[0]) for r in refined) == 4000
    for s in range(2):
        settled = {bool(r.flagged[0, s]) for r in refined if r.decision_stable[0, s]}
        assert len(settled) <= 1
    frame = refined[0].to_frame()
    assert {"p_mc_se", "decision_stable"} <= set(frame.columns)
    assert refined[0].to_dict()["n_sim_max"] == 4000


def test_person_fit_monte_carlo_standard_error_matches_the_spread_over_seeds() -> None:
    """The reported Monte Carlo SE against the standard deviation of the p-value over 30 seeds."""
    y = _borderline(10)
    runs = [person_fit_test(y, models=["m0"], n_sim=400, n_sim_max=400, seed=s) for s in range(30)]
    p = np.array([r.p_value[0] for r in runs])
    se = np.array([r.p_mc_se[0] for r in runs])
    ratio = p.std(axis=0, ddof=1) / se.mean(axis=0)
    # with 30 seeds the sample SD is within about ±35% of the truth (chi-square, 99%)
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio


def test_only_the_p_value_at_its_threshold_gets_more_draws() -> None:
    """Holm over two tests: A at its threshold 0.025 decides B's flag too; only A's own decision turns with A."""
    from metabench.analysis.contamination import _mc_se, _own_decision_turns, _stable_decisions

    p = np.array([[0.024], [0.030]])  # A rejected at 0.025 makes B's threshold 0.05
    se = _mc_se(p, np.array([[2000], [100_000]]))  # A: ±0.009 at 2.576 SE; B: ±0.0014
    stable = _stable_decisions(p, se, 0.05, "holm")
    own = _own_decision_turns(p, se, 0.05, "holm")
    assert stable.ravel().tolist() == [False, False]  # B waits on A
    assert own.ravel().tolist() == [True, False]  # more draws for B would not settle it
