"""Tests of metabench.irt.estimate (EM with adaptive quadrature, joint MAP).

Independent references used here, each named where it is used:

- moments of the standard normal (E[x²] = 1, E[x⁴] = 3, E[x⁶] = 15) for the
  Gauss–Hermite rule;
- the marginal likelihood ∫ Π_j P^y (1 − P)^(1 − y) φ(θ) dθ computed by adaptive
  integration with ``scipy.integrate.quad``, cell by cell from the written-out
  response function;
- simulations with known truth. The engine fixes the latent distribution to
  N(0, 1), while a finite sample of true abilities has a mean and sd that are not
  exactly 0 and 1; the truth is therefore put on the sample's standardised scale
  (a·sd and (b − mean)/sd). The tightest reference is the *oracle*: a logistic
  regression of every item on the true (standardised) abilities, fitted by
  ``scipy.optimize.minimize`` — what the EM estimates would be if abilities were
  known;
- another run of the engine only where the claim is a property of the engine
  itself (the same fixed point with and without parameter expansion, 5 versus 41
  quadrature nodes).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, linalg, optimize, stats

from metabench.errors import InputError
from metabench.irt._backend import get_backend
from metabench.irt.estimate import (
    STATIONARY_STEP,
    ItemParams,
    Priors,
    _e_step,
    _gradient,
    _prepare,
    auto_quadrature,
    em_fit,
    gauss_hermite,
    jmap_fit,
)
from metabench.irt.models import model_spec

# ---------------------------------------------------------------------------
# helpers (independent of the engine)


def simulate_2pl(n, j, seed, theta_sd=1.0):
    """Binary responses from a 2PL: θ ~ N(0, theta_sd²), a ~ lognormal(0, 0.3), b ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n) * theta_sd
    a = rng.lognormal(0.0, 0.3, j)
    b = rng.normal(0.0, 1.0, j)
    p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
    y = (rng.random((n, j)) < p).astype(float)
    return theta, a, b, y, rng


def standardised_truth(theta, a, b):
    """The true items on the scale where the sample of true abilities has mean 0 and sd 1."""
    mu, sd = theta.mean(), theta.std()
    return a * sd, (b - mu) / sd


def oracle_logistic(y, t):
    """Per-item logistic regression of y on known abilities t (scipy BFGS): returns a and b."""
    a_out, b_out = [], []
    for j in range(y.shape[1]):
        ok = ~np.isnan(y[:, j])
        yy, x = y[ok, j], t[ok]

        def nll(w, yy=yy, x=x):
            z = w[0] * x + w[1]
            r = 1.0 / (1.0 + np.exp(-z)) - yy
            return np.sum(np.logaddexp(0.0, z) - yy * z), np.array([np.sum(r * x), np.sum(r)])

        res = optimize.minimize(nll, [1.0, 0.0], jac=True, method="BFGS", options={"gtol": 1e-9})
        a_out.append(res.x[0])
        b_out.append(-res.x[1] / res.x[0])
    return np.array(a_out), np.array(b_out)


def slope(x, y):
    """Least-squares slope of y on x."""
    return float(np.polyfit(x, y, 1)[0])


def corr(x, y):
    return float(np.corrcoef(x, y)[0, 1])


def a_b(params):
    a = params.slopes[:, 0]
    return a, -params.intercepts / a


def brute_force_marginal_loglik(y, a, b, c=None, d=None, latent_sd=1.0):
    """log ∫ Π_j P_j(θ)^y (1 − P_j(θ))^(1 − y) N(θ; 0, latent_sd²) dθ for every row, by scipy quad."""
    out = []
    for row in y:
        ok = ~np.isnan(row)
        lo = np.zeros(ok.sum()) if c is None else np.asarray(c)[ok]
        hi = np.ones(ok.sum()) if d is None else np.asarray(d)[ok]

        def integrand(t, row=row, ok=ok, lo=lo, hi=hi):
            p = lo + (hi - lo) * 0.5 * (1.0 + np.tanh(0.5 * a[ok] * (t - b[ok])))
            return float(np.prod(p ** row[ok] * (1.0 - p) ** (1.0 - row[ok]))) * stats.norm.pdf(t, 0.0, latent_sd)

        value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-15, epsrel=1e-12, limit=200)
        out.append(math.log(value))
    return np.array(out)


def _logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1.0 - p))


# ---------------------------------------------------------------------------
# Gauss–Hermite rule


@pytest.mark.parametrize("n", [3, 5, 9, 21])
def test_gauss_hermite_integrates_normal_moments_exactly(n):
    # E f(X), X ~ N(0,1) = π^(-1/2) Σ w_i f(√2 x_i); exact for polynomials of degree ≤ 2n − 1
    x, lw = gauss_hermite(n)
    assert x.shape == (n, 1) and lw.shape == (n,)
    w = np.exp(lw) / math.sqrt(math.pi)
    t = math.sqrt(2.0) * x[:, 0]
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.dot(w, t) == pytest.approx(0.0, abs=1e-14)
    assert np.dot(w, t**2) == pytest.approx(1.0, abs=1e-13)
    assert np.dot(w, t**4) == pytest.approx(3.0, abs=1e-12)
    if 2 * n - 1 >= 6:
        assert np.dot(w, t**6) == pytest.approx(15.0, abs=1e-11)


def test_gauss_hermite_two_nodes_are_exact_only_to_degree_three():
    # the 2-node rule puts √2·x at ±1: E[X²] = 1 still exact, E[X⁴] comes out 1 instead of 3
    x, lw = gauss_hermite(2)
    w = np.exp(lw) / math.sqrt(math.pi)
    t = math.sqrt(2.0) * x[:, 0]
    assert np.dot(w, t**2) == pytest.approx(1.0, abs=1e-14)
    assert np.dot(w, t**4) == pytest.approx(1.0, abs=1e-14)


def test_gauss_hermite_product_rule_in_two_dimensions():
    x, lw = gauss_hermite(4, dims=2)
    assert x.shape == (16, 2) and lw.shape == (16,)
    w = np.exp(lw) / math.pi
    t = math.sqrt(2.0) * x
    # independent standard normals: E[X1²X2²] = 1, E[X1⁴X2²] = 3, E[X1 X2] = 0, E[X1⁶] = 15
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.dot(w, t[:, 0] ** 2 * t[:, 1] ** 2) == pytest.approx(1.0, abs=1e-13)
    assert np.dot(w, t[:, 0] ** 4 * t[:, 1] ** 2) == pytest.approx(3.0, abs=1e-12)
    assert np.dot(w, t[:, 0] * t[:, 1]) == pytest.approx(0.0, abs=1e-14)
    assert np.dot(w, t[:, 0] ** 6) == pytest.approx(15.0, abs=1e-11)


def test_auto_quadrature_uses_fewer_nodes_for_longer_tests():
    counts = [1, 5, 29, 30, 99, 100, 999, 1000, 10_000]
    for dims in (1, 2, 3):
        nodes = [auto_quadrature(k, dims) for k in counts]
        assert all(isinstance(q, int) and q >= 3 for q in nodes)
        assert nodes == sorted(nodes, reverse=True)
    # a handful of items needs a fine rule (the posterior is far from normal), thousands only a few nodes
    assert auto_quadrature(5, 1) >= 11 and auto_quadrature(10_000, 1) <= 5


def test_numpy_backend_sigmoid_and_softplus_match_scipy():
    from scipy import special

    be = get_backend("numpy")
    x = np.array([[-800.0, -30.0, -1.5, 0.0, 1e-8, 2.0, 35.0, 800.0]])
    # σ = (1 + tanh(x/2))/2 is accurate to 2e-16 absolute (not relative in the far lower tail)
    np.testing.assert_allclose(be.sigmoid(x), special.expit(x), rtol=1e-14, atol=2e-16)
    np.testing.assert_allclose(be.softplus(x), np.logaddexp(0.0, x), rtol=1e-14, atol=1e-300)
    assert get_backend("numpy", precision="float32").sigmoid(np.float32(x)).dtype == np.float32


# ---------------------------------------------------------------------------
# the marginal likelihood against brute-force integration

A4 = np.array([0.8, 1.5, 2.2, 1.0])
B4 = np.array([-1.0, 0.0, 0.5, 1.5])
Y54 = np.array(
    [
        [1, 1, 0, 0],
        [0, 0, 0, 0],
        [1, 1, 1, 1],
        [1, np.nan, 0, 1],
        [0, 1, 0, 0],
    ],
    dtype=float,
)


def _run_e_step(y, params, spec, n_nodes, mean=None, chol=None):
    be = get_backend()
    data = _prepare(y, be)
    x, lw = gauss_hermite(n_nodes, spec.n_dims)
    n = y.shape[0]
    mean = np.zeros((n, 1)) if mean is None else mean
    chol = np.ones((n, 1, 1)) * params.latent_sd if chol is None else chol
    return _e_step(data, params, mean, chol, x, lw, be, spec)


def test_e_step_marginal_loglik_2pl_equals_quad():
    params = ItemParams(A4[:, None].copy(), -A4 * B4)
    post = _run_e_step(Y54, params, model_spec("2pl"), 81)
    ref = brute_force_marginal_loglik(Y54, A4, B4)
    np.testing.assert_allclose(post.loglik, ref, rtol=0, atol=1e-8)
    # adaptive: nodes centred on the posterior, 15 of them, still to 1e-5
    post2 = _run_e_step(Y54, params, model_spec("2pl"), 15, post.mean, post.chol)
    np.testing.assert_allclose(post2.loglik, ref, rtol=0, atol=1e-5)


def test_e_step_posterior_moments_equal_quad():
    params = ItemParams(A4[:, None].copy(), -A4 * B4)
    post = _run_e_step(Y54, params, model_spec("2pl"), 81)
    for i, row in enumerate(Y54):
        ok = ~np.isnan(row)

        def lik(t, row=row, ok=ok):
            p = 0.5 * (1.0 + np.tanh(0.5 * A4[ok] * (t - B4[ok])))  # σ without overflow
            return float(np.prod(p ** row[ok] * (1 - p) ** (1 - row[ok]))) * stats.norm.pdf(t)

        z = integrate.quad(lik, -np.inf, np.inf, epsabs=1e-14)[0]
        m1 = integrate.quad(lambda t: t * lik(t), -np.inf, np.inf, epsabs=1e-14)[0] / z
        m2 = integrate.quad(lambda t: t * t * lik(t), -np.inf, np.inf, epsabs=1e-14)[0] / z
        assert post.mean[i, 0] == pytest.approx(m1, abs=1e-7)
        assert post.chol[i, 0, 0] == pytest.approx(math.sqrt(m2 - m1**2), abs=1e-6)


def test_e_step_marginal_loglik_3pl_4pl_equals_quad():
    c = np.array([0.0, 0.2, 0.1, 0.25])
    d = np.array([0.97, 0.9, 0.95, 0.99])
    c_safe = np.clip(c, 1e-12, None)  # the engine stores logits; logit(1e-12) stands for 0
    params = ItemParams(A4[:, None].copy(), -A4 * B4, _logit(c_safe), _logit(1 - d))
    post = _run_e_step(Y54, params, model_spec("4pl"), 81)
    ref = brute_force_marginal_loglik(Y54, A4, B4, c_safe, d)
    np.testing.assert_allclose(post.loglik, ref, rtol=0, atol=1e-8)


def test_e_step_marginal_loglik_continuous_scores_equals_quad():
    y = np.array([[0.3, 1.0, 0.0, 0.55], [0.9, 0.1, np.nan, 0.5], [0.0, 0.0, 0.25, 0.0]])
    params = ItemParams(A4[:, None].copy(), -A4 * B4)
    post = _run_e_step(y, params, model_spec("continuous"), 81)
    np.testing.assert_allclose(post.loglik, brute_force_marginal_loglik(y, A4, B4), rtol=0, atol=1e-8)


def test_e_step_uses_the_latent_sd_of_the_rasch_model():
    params = ItemParams(np.ones((4, 1)), -B4, latent_sd=1.7)
    post = _run_e_step(Y54, params, model_spec("1pl"), 81)
    ref = brute_force_marginal_loglik(Y54, np.ones(4), B4, latent_sd=1.7)
    np.testing.assert_allclose(post.loglik, ref, rtol=0, atol=1e-8)


@pytest.mark.parametrize("model", ["2pl", "1pl"])
def test_em_fit_loglik_is_the_marginal_loglik_at_the_estimates(model):
    # a short test (6 items) where the posterior is far from normal: the returned log-likelihood must
    # still be the exact marginal log-likelihood at the returned parameters
    _, _, _, y, _ = simulate_2pl(40, 6, seed=11, theta_sd=1.3 if model == "1pl" else 1.0)
    res = em_fit(y, model_spec(model))
    ah, bh = a_b(res.params)
    ref = brute_force_marginal_loglik(y, ah, bh, latent_sd=res.params.latent_sd).sum()
    assert res.loglik == pytest.approx(ref, rel=1e-7)
    assert res.converged and res.method == "em" and res.n_quad == 15


# ---------------------------------------------------------------------------
# parameter recovery


@pytest.fixture(scope="module")
def sim_2pl():
    theta, a, b, y, rng = simulate_2pl(1000, 200, seed=0)
    t_std = (theta - theta.mean()) / theta.std()
    return {
        "theta": theta,
        "a": a,
        "b": b,
        "y": y,
        "rng": rng,
        "fit": em_fit(y, model_spec("2pl")),
        "oracle": oracle_logistic(y, t_std),
    }


def test_em_2pl_recovers_simulated_items(sim_2pl):
    res = sim_2pl["fit"]
    assert res.converged and res.n_iter < 50
    ah, bh = a_b(res.params)
    a_true, b_true = standardised_truth(sim_2pl["theta"], sim_2pl["a"], sim_2pl["b"])
    assert corr(bh, b_true) > 0.99
    assert corr(ah, a_true) > 0.9
    assert 0.93 <= slope(b_true, bh) <= 1.07
    assert 0.93 <= slope(a_true, ah) <= 1.07


def test_em_2pl_agrees_with_the_oracle_logistic_regression(sim_2pl):
    ah, bh = a_b(sim_2pl["fit"].params)
    a_or, b_or = sim_2pl["oracle"]
    assert corr(bh, b_or) > 0.999
    assert corr(ah, a_or) > 0.99
    assert 0.97 <= slope(b_or, bh) <= 1.03
    assert 0.97 <= slope(a_or, ah) <= 1.03


def test_em_2pl_abilities_track_the_truth(sim_2pl):
    res = sim_2pl["fit"]
    theta = sim_2pl["theta"]
    t_std = (theta - theta.mean()) / theta.std()
    assert corr(res.mean[:, 0], theta) > 0.97
    # posterior sds are the right size: the mean squared error of the EAPs matches the mean posterior variance
    mse = np.mean((res.mean[:, 0] - t_std) ** 2)
    assert mse == pytest.approx(np.mean(res.chol[:, 0, 0] ** 2), rel=0.15)


def test_em_2pl_with_30_percent_missing(sim_2pl):
    y = sim_2pl["y"].copy()
    rng = np.random.default_rng(5)
    y[rng.random(y.shape) < 0.3] = np.nan
    res = em_fit(y, model_spec("2pl"))
    assert res.converged
    assert np.all(np.isfinite(res.params.slopes)) and np.all(np.isfinite(res.mean))
    ah, bh = a_b(res.params)
    a_true, b_true = standardised_truth(sim_2pl["theta"], sim_2pl["a"], sim_2pl["b"])
    # 70% of the data: the sampling error grows, the thresholds against the truth loosen accordingly
    assert corr(bh, b_true) > 0.985
    assert corr(ah, a_true) > 0.9
    assert 0.93 <= slope(b_true, bh) <= 1.07
    assert 0.93 <= slope(a_true, ah) <= 1.07
    # the oracle fitted to the same observed cells
    theta = sim_2pl["theta"]
    a_or, b_or = oracle_logistic(y, (theta - theta.mean()) / theta.std())
    assert corr(bh, b_or) > 0.999
    assert corr(ah, a_or) > 0.99
    assert 0.96 <= slope(b_or, bh) <= 1.04
    assert 0.96 <= slope(a_or, ah) <= 1.04


def test_adaptive_quadrature_5_nodes_agree_with_41():
    # 30 items per model: the posteriors are wide enough that a fixed 5-node grid would be poor
    _, _, _, y, _ = simulate_2pl(500, 30, seed=3)
    r5 = em_fit(y, model_spec("2pl"), n_quad=5, tol=1e-10, param_tol=1e-7)
    r41 = em_fit(y, model_spec("2pl"), n_quad=41, tol=1e-10, param_tol=1e-7)
    assert r5.n_quad == 5 and r41.n_quad == 41
    np.testing.assert_allclose(r5.params.slopes, r41.params.slopes, atol=1e-3)
    np.testing.assert_allclose(r5.params.intercepts, r41.params.intercepts, atol=1e-3)
    np.testing.assert_allclose(r5.mean, r41.mean, atol=3e-3)
    assert r5.loglik == pytest.approx(r41.loglik, rel=1e-5)


def test_parameter_expansion_reaches_the_same_fixed_point():
    _, _, _, y, _ = simulate_2pl(500, 30, seed=3)
    on = em_fit(y, model_spec("2pl"), px=True, tol=1e-10, param_tol=1e-7, max_iter=3000)
    off = em_fit(y, model_spec("2pl"), px=False, tol=1e-10, param_tol=1e-7, max_iter=3000)
    assert on.converged and off.converged
    assert on.n_iter < off.n_iter  # what PX is for
    obj_on, obj_off = on.loglik + on.log_prior, off.loglik + off.log_prior
    assert abs(obj_on - obj_off) / abs(obj_off) < 1e-3
    np.testing.assert_allclose(on.params.slopes, off.params.slopes, atol=1e-2)
    np.testing.assert_allclose(on.params.intercepts, off.params.intercepts, atol=1e-2)


def test_parameter_expansion_without_item_priors_is_exactly_em():
    # with flat priors on slopes and intercepts (maximum likelihood) the rescaling PX applies leaves the
    # objective unchanged, and PX and plain EM must meet at the same point to convergence accuracy
    _, _, _, y, _ = simulate_2pl(200, 15, seed=21)
    kw = {"priors": Priors.none(), "tol": 1e-13, "param_tol": 1e-9, "max_iter": 3000}
    on = em_fit(y, model_spec("2pl"), px=True, **kw)
    off = em_fit(y, model_spec("2pl"), px=False, **kw)
    np.testing.assert_allclose(on.params.slopes, off.params.slopes, atol=1e-6)
    np.testing.assert_allclose(on.params.intercepts, off.params.intercepts, atol=1e-6)


def test_parameter_expansion_converges_to_the_map_with_priors():
    _, _, _, y, _ = simulate_2pl(200, 15, seed=21)
    kw = {"tol": 1e-13, "param_tol": 1e-9, "max_iter": 3000}
    on = em_fit(y, model_spec("2pl"), px=True, **kw)
    off = em_fit(y, model_spec("2pl"), px=False, **kw)
    assert on.converged and off.converged
    np.testing.assert_allclose(on.params.slopes, off.params.slopes, atol=1e-5)
    np.testing.assert_allclose(on.params.intercepts, off.params.intercepts, atol=1e-5)
    # the expansion picks the latent location and scale with the priors on the intercepts and slopes, so
    # its own fixed point is the stationary point, not only after the fallback to plain EM
    assert on.step_max < 1e-6


def test_parameter_expansion_fixed_point_is_stationary_on_a_hard_benchmark():
    # Most items far above the abilities: the prior on their intercepts matters, and an expansion that
    # recentred the abilities on the mean of their posterior means (ignoring that prior) stopped EM 5.6
    # log-posterior units short of the MAP with Newton steps of 2e-3 left.
    rng = np.random.default_rng(5)
    n, j = 400, 300
    a = np.exp(rng.normal(0.0, 0.4, j))
    b = rng.normal(1.5, 1.1, j)
    theta = rng.normal(size=n)
    y = (rng.random((n, j)) < 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    kw = {"priors": Priors(), "tol": 1e-12, "param_tol": 1e-8, "max_iter": 3000}
    on = em_fit(y, model_spec("2pl"), px=True, **kw)
    off = em_fit(y, model_spec("2pl"), px=False, **kw)
    # before: Newton step 2e-3 left at the expanded fixed point; now 5e-5 (one Fisher-scoring step per
    # M-step, so the expanded iteration's fixed point matches the MAP to that order, not exactly)
    assert on.converged and off.converged and on.step_max < 2e-4 and off.step_max < 1e-6
    assert on.loglik + on.log_prior == pytest.approx(off.loglik + off.log_prior, abs=1e-3)
    np.testing.assert_allclose(on.params.intercepts, off.params.intercepts, atol=5e-3)


def test_rasch_latent_sd_recovers_the_spread():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=1000) * 1.5
    b = rng.normal(0.0, 1.0, 40)
    y = (rng.random((1000, 40)) < 1.0 / (1.0 + np.exp(-(theta[:, None] - b)))).astype(float)
    res = em_fit(y, model_spec("rasch"))
    assert res.converged
    np.testing.assert_array_equal(res.params.slopes, 1.0)
    # sample sd of the simulated abilities is 1.465; the population value 1.5
    assert res.params.latent_sd == pytest.approx(theta.std(), abs=0.05)
    assert res.params.latent_sd == pytest.approx(1.5, abs=0.1)
    bh = -res.params.intercepts
    assert corr(bh, b) > 0.99
    # Rasch scale = logit scale: difficulties relative to the sample mean ability, slope 1
    assert 0.95 <= slope(b - theta.mean(), bh) <= 1.05


def test_3pl_recovers_mean_guessing():
    rng = np.random.default_rng(0)
    n, j = 3000, 40
    theta = rng.normal(size=n)
    a = rng.uniform(1.0, 2.0, j)
    b = rng.uniform(-1.5, 1.5, j)
    c = rng.uniform(0.1, 0.3, j)
    p = c + (1 - c) / (1 + np.exp(-a * (theta[:, None] - b)))
    y = (rng.random((n, j)) < p).astype(float)
    res = em_fit(y, model_spec("3pl"))
    assert res.converged
    assert res.params.guess_logit is not None and res.params.slip_logit is None
    assert abs(res.params.guessing.mean() - c.mean()) < 0.05
    assert np.all((res.params.guessing > 0) & (res.params.guessing < 0.5))
    ah, bh = a_b(res.params)
    assert corr(bh, b) > 0.97
    assert corr(ah, a) > 0.7


def test_continuous_model_on_binomial_proportions():
    # scores are binomial(10, P)/10; the fractional Bernoulli likelihood has the right mean E[y|θ] = P(θ)
    rng = np.random.default_rng(0)
    n, j, k = 800, 40, 10
    theta = rng.normal(size=n)
    a = rng.lognormal(0.0, 0.3, j)
    b = rng.normal(0.0, 1.0, j)
    p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
    y = rng.binomial(k, p) / k
    res = em_fit(y, model_spec("continuous"))
    assert res.converged
    ah, bh = a_b(res.params)
    assert corr(bh, b) > 0.99
    assert corr(ah, a) > 0.95
    assert corr(res.mean[:, 0], theta) > 0.98
    # intercepts δ = −a(b − mean θ) do not depend on the latent scale, which a quasi-likelihood
    # does not pin to the true one: they match the truth with slope 1
    assert 0.95 <= slope(-a * (b - theta.mean()), res.params.intercepts) <= 1.05
    # fitted probabilities reproduce the true ones and every item's mean score
    fitted = 1.0 / (1.0 + np.exp(-(res.mean @ res.params.slopes.T + res.params.intercepts)))
    assert corr(fitted.ravel(), p.ravel()) > 0.98
    np.testing.assert_allclose(fitted.mean(axis=0), y.mean(axis=0), atol=0.01)


def test_continuous_model_on_binary_data_is_the_2pl():
    # same likelihood on 0/1 scores, so the same estimates
    _, _, _, y, _ = simulate_2pl(300, 20, seed=8)
    r_c = em_fit(y, model_spec("continuous"))
    r_2 = em_fit(y, model_spec("2pl"))
    np.testing.assert_allclose(r_c.params.slopes, r_2.params.slopes, rtol=1e-12)
    assert r_c.loglik == pytest.approx(r_2.loglik, rel=1e-12)


@pytest.fixture(scope="module")
def sim_mirt2():
    rng = np.random.default_rng(0)
    n, j = 600, 60
    theta = rng.normal(size=(n, 2))
    loadings = np.zeros((j, 2))
    loadings[: j // 2, 0] = rng.uniform(0.8, 2.0, j // 2)
    loadings[j // 2 :, 1] = rng.uniform(0.8, 2.0, j // 2)
    loadings += rng.uniform(0.0, 0.4, (j, 2))
    delta = rng.normal(0.0, 1.0, j)
    p = 1.0 / (1.0 + np.exp(-(theta @ loadings.T + delta)))
    y = (rng.random((n, j)) < p).astype(float)
    return {"p": p, "y": y, "loadings": loadings, "delta": delta, "fit": em_fit(y, model_spec("mirt", 2))}


def test_mirt2_predicted_probabilities_match_the_truth(sim_mirt2):
    res = sim_mirt2["fit"]
    assert res.converged
    assert res.params.slopes.shape == (60, 2) and res.mean.shape == (600, 2) and res.chol.shape == (600, 2, 2)
    # EAP abilities and fitted items: rotation-invariant, so they can be compared with the truth directly
    fitted = 1.0 / (1.0 + np.exp(-(res.mean @ res.params.slopes.T + res.params.intercepts)))
    assert corr(fitted.ravel(), sim_mirt2["p"].ravel()) > 0.95


def test_mirt2_loadings_match_the_truth_up_to_a_rotation(sim_mirt2):
    # the latent N(0, I) is invariant under rotations; rotate the estimates onto the truth
    # with scipy's orthogonal Procrustes and compare entry by entry
    res = sim_mirt2["fit"]
    rot, _ = linalg.orthogonal_procrustes(res.params.slopes, sim_mirt2["loadings"])
    rotated = res.params.slopes @ rot
    assert corr(rotated.ravel(), sim_mirt2["loadings"].ravel()) > 0.95
    assert 0.9 <= slope(sim_mirt2["loadings"].ravel(), rotated.ravel()) <= 1.1
    assert corr(res.params.intercepts, sim_mirt2["delta"]) > 0.98


def test_mirt2_converges_on_simple_structure():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=(300, 2))
    loadings = np.zeros((16, 2))
    loadings[:8, 0] = rng.uniform(1.0, 2.0, 8)
    loadings[8:, 1] = rng.uniform(1.0, 2.0, 8)
    delta = rng.normal(size=16)
    y = (rng.random((300, 16)) < 1 / (1 + np.exp(-(theta @ loadings.T + delta)))).astype(float)
    res = em_fit(y, model_spec("mirt", 2), max_iter=200)
    assert res.converged


def test_mirt2_fits_two_dimensional_data_better_than_2pl(sim_mirt2):
    one = em_fit(sim_mirt2["y"], model_spec("2pl"))
    two = sim_mirt2["fit"]
    # 60 extra parameters; the improvement is far beyond what they buy on one-dimensional data
    assert two.loglik > one.loglik + 500


@pytest.fixture(scope="module")
def sim_many_items():
    # 500 × 300 keeps the module quick; test_jmap_is_on_the_em_scale checks the latent scale of joint MAP
    theta, a, b, y, _ = simulate_2pl(500, 300, seed=4)
    return {
        "theta": theta,
        "a": a,
        "b": b,
        "y": y,
        "em": em_fit(y, model_spec("2pl")),
        "jmap": jmap_fit(y, model_spec("2pl")),
    }


def test_jmap_close_to_em_with_many_items(sim_many_items):
    em, jm = sim_many_items["em"], sim_many_items["jmap"]
    assert jm.method == "jmap" and jm.converged
    _, b_em = a_b(em.params)
    a_jm, b_jm = a_b(jm.params)
    assert corr(b_em, b_jm) > 0.999
    assert corr(em.params.slopes[:, 0], a_jm) > 0.99
    assert corr(em.mean[:, 0], jm.mean[:, 0]) > 0.999
    # and as close to the truth as EM is
    b_true = sim_many_items["b"]
    assert corr(b_jm, b_true) > corr(b_em, b_true) - 0.002


def test_jmap_is_on_the_em_scale(sim_many_items):
    em, jm = sim_many_items["em"], sim_many_items["jmap"]
    a_em, b_em = a_b(em.params)
    a_jm, b_jm = a_b(jm.params)
    assert 0.93 <= slope(b_em, b_jm) <= 1.07
    assert 0.93 <= slope(a_em, a_jm) <= 1.07
    assert jm.mean[:, 0].std() == pytest.approx(em.mean[:, 0].std(), rel=0.07)


# ---------------------------------------------------------------------------
# options and input checks


def test_priors_none_is_flat_on_slopes_and_intercepts():
    p = Priors.none()
    assert p.slope_sd is None and p.intercept_sd is None
    assert p.guessing_sd == 1.0 and p.slipping_sd == 1.0
    # with flat priors the fit reports a zero log prior on a 2PL
    _, _, _, y, _ = simulate_2pl(300, 20, seed=8)
    res = em_fit(y, model_spec("2pl"), priors=p)
    assert res.log_prior == 0.0


@pytest.mark.parametrize("relative", [False, True])
def test_log_prior_is_the_sum_of_normal_log_kernels(relative):
    _, _, _, y, _ = simulate_2pl(300, 20, seed=8)
    pr = Priors(relative_slopes=relative)
    res = em_fit(y, model_spec("2pl"), priors=pr)
    # log prior without normalising constants, written out from the documented priors: intercepts N(0, 5²) and
    # slopes N(1, 1.5²) (fixed), or, relative: Σ(a − ā)²/(2·1.5²·ā²) plus log ā ~ N(log 1, 0.5²)
    a = res.params.slopes[:, 0]
    inter = -0.5 * np.sum(res.params.intercepts**2) / 5.0**2
    if relative:
        m = a.mean()
        expected = -0.5 * np.sum((a - m) ** 2) / (1.5**2 * m**2) - 0.5 * np.log(m) ** 2 / 0.5**2 + inter
    else:
        expected = -0.5 * np.sum((a - 1.0) ** 2) / 1.5**2 + inter
    assert res.log_prior == pytest.approx(expected, rel=1e-12)


def test_callback_and_trace():
    _, _, _, y, _ = simulate_2pl(300, 20, seed=8)
    seen = []
    res = em_fit(y, model_spec("2pl"), callback=lambda it, obj: seen.append((it, obj)))
    assert res.converged
    # one call per iteration, numbered from 1, with the objective recorded in the trace
    assert [s[0] for s in seen] == list(range(1, len(seen) + 1))
    assert [s[1] for s in seen] == res.trace
    assert 1 <= len(res.trace) <= res.n_iter
    assert res.trace[-1] >= res.trace[0]
    # the last objective is the log-posterior at (essentially) the returned items
    assert res.trace[-1] == pytest.approx(res.loglik + res.log_prior, rel=1e-5)


def test_max_iter_stops_plain_em():
    _, _, _, y, _ = simulate_2pl(300, 20, seed=8)
    res = em_fit(y, model_spec("2pl"), max_iter=2, accelerate=False)
    assert res.n_iter == 2 and not res.converged and len(res.trace) == 2


def test_max_iter_bounds_the_accelerated_fit():
    _, _, _, y, _ = simulate_2pl(300, 20, seed=8)
    for max_iter in (2, 5):
        res = em_fit(y, model_spec("2pl"), max_iter=max_iter)
        assert not res.converged
        assert res.n_iter <= max_iter


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (np.array([1.0, 0.0, 1.0]), "2-D"),
        (np.full((3, 2), np.nan), "no observed cell"),
        (np.array([[1.0, 2.0], [0.0, 1.0]]), r"\[0, 1\]"),
        (np.array([[1.0, -0.5], [0.0, 1.0]]), r"\[0, 1\]"),
    ],
)
def test_bad_responses_raise_input_error(values, match):
    with pytest.raises(InputError, match=match):
        em_fit(values, model_spec("2pl"))


def test_bad_options_raise_input_error():
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(InputError, match="n_quad"):
        em_fit(y, model_spec("2pl"), n_quad=0)
    with pytest.raises(InputError, match="unknown backend"):
        em_fit(y, model_spec("2pl"), backend="jax")
    with pytest.raises(InputError, match="CPU only"):
        em_fit(y, model_spec("2pl"), device="cuda")
    with pytest.raises(InputError, match="precision"):
        em_fit(y, model_spec("2pl"), precision="float16")


@pytest.mark.parametrize("seed", [1, 2])
def test_auto_precision_on_a_large_matrix_converges_to_the_float64_answer(seed):
    # 1,200 x 1,700 = 2.04 million cells: precision="auto" starts in float32, whose rounding noise
    # (~1e-7 of the log-posterior) kept the stopping rule from ever firing before it handed over to
    # float64. Reference: the same fit in float64 throughout; truth: the simulated items.
    rng = np.random.default_rng(seed)
    n, j = 1200, 1700
    a, b, th = rng.lognormal(0.15, 0.35, j), rng.normal(-0.4, 1.2, j), rng.normal(size=n)
    y = (rng.random((n, j)) < 1 / (1 + np.exp(-a * (th[:, None] - b)))).astype(float)
    spec = model_spec("2pl")
    auto = em_fit(y, spec, precision="auto", max_iter=100)
    ref = em_fit(y, spec, precision="float64", max_iter=100)
    assert ref.converged and auto.converged
    assert auto.n_iter < 40
    assert np.max(np.abs(auto.params.vector() - ref.params.vector())) < 1e-3
    # recovery, not scale: the scale under em_fit's default priors is a matter of its own
    assert np.corrcoef(a, auto.params.slopes.ravel())[0, 1] > 0.95


def test_gradient_of_the_log_posterior_equals_finite_differences_of_the_marginal_loglik():
    # Reference: central differences (h = 1e-5) of the marginal log-likelihood by scipy quad
    # (brute_force_marginal_loglik), at a point away from the optimum so that the gradient is not ~0.
    _, _, _, y, _ = simulate_2pl(40, 6, seed=11)
    spec = model_spec("2pl")
    res = em_fit(y, spec, priors=Priors.none())
    p = res.params.copy()
    p.slopes = p.slopes * 1.1
    p.intercepts = p.intercepts + 0.2
    be = get_backend("numpy")
    data = _prepare(y, be)
    # 161 nodes centred (twice) on the posteriors at p: the quadrature is then exact to ~1e-8
    xq, lwq = gauss_hermite(161, 1)
    post = _e_step(data, p, res.mean, res.chol, xq, lwq, be, spec)
    post = _e_step(data, p, post.mean, post.chol, xq, lwq, be, spec)
    G, _ = _gradient(data, p, post.mean, post.chol, xq, lwq, be, spec, Priors.none())

    def ll(slopes, intercepts):
        return brute_force_marginal_loglik(y, slopes, -intercepts / slopes).sum()

    h = 1e-5
    a0, d0 = p.slopes[:, 0].copy(), p.intercepts.copy()
    for j in range(6):
        e = np.zeros(6)
        e[j] = h
        fd_a = (ll(a0 + e, d0) - ll(a0 - e, d0)) / (2 * h)
        fd_d = (ll(a0, d0 + e) - ll(a0, d0 - e)) / (2 * h)
        assert G[j, 0] == pytest.approx(fd_a, rel=1e-5, abs=1e-7)
        assert G[j, 1] == pytest.approx(fd_d, rel=1e-5, abs=1e-7)


def test_a_well_posed_fit_ends_at_a_stationary_point(sim_2pl):
    # 1,000 x 200, default priors: the Newton step left at the estimates is far below the tolerance
    fit = sim_2pl["fit"]
    assert fit.converged and fit.step_max < 1e-3 and fit.note == ""


def test_a_nearly_separable_fit_goes_on_to_a_stationary_point():
    # 40 x 6 without priors: one slope runs to ~6 (the items nearly separate the models) and EM's
    # stopping rule fires along a flat direction with a Newton step of 2e-3 left; EM goes on (without
    # parameter expansion) until the step is below the tolerance
    _, _, _, y, _ = simulate_2pl(40, 6, seed=11)
    res = em_fit(y, model_spec("2pl"), priors=Priors.none())
    assert res.converged and res.step_max < STATIONARY_STEP and res.note == ""


def test_a_fit_stopped_by_max_iter_is_not_converged_and_says_why():
    _, _, _, y, _ = simulate_2pl(40, 6, seed=11)
    res = em_fit(y, model_spec("2pl"), priors=Priors.none(), max_iter=4)
    assert not res.converged and res.step_max > STATIONARY_STEP
    assert "max_iter" in res.note and "Newton step" in res.note
