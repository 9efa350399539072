"""Tests of metabench.irt.information against independent references.

References used here: numerical differentiation of the response function, the
definition of Fisher information as the variance of the score (enumerating
both responses), explicit Python sums, scipy.integrate.quad, and Monte Carlo
simulations with known abilities.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from metabench.errors import InputError
from metabench.irt.information import (
    empirical_reliability,
    item_information,
    marginal_reliability,
    standard_error,
    test_information,
)


def irf(theta, a, b, c=0.0, d=1.0):
    """Reference 4PL response function written out directly (broadcasts theta[:, None] against items)."""
    theta = np.asarray(theta, dtype=float)[:, None]
    return c + (d - c) / (1.0 + np.exp(-np.asarray(a) * (theta - np.asarray(b))))


# a 1PL item, a 2PL item, a 3PL item, a 4PL item and a steep item
A = np.array([1.0, 1.7, 0.9, 2.2, 3.0])
B = np.array([0.0, -0.8, 0.5, 1.2, -1.5])
C = np.array([0.0, 0.0, 0.25, 0.1, 0.0])
D = np.array([1.0, 1.0, 1.0, 0.85, 1.0])
GRID = np.linspace(-4, 4, 41)


def test_item_information_matches_finite_difference_of_the_irf():
    h = 1e-5
    dp = (irf(GRID + h, A, B, C, D) - irf(GRID - h, A, B, C, D)) / (2 * h)
    p = irf(GRID, A, B, C, D)
    expected = dp**2 / (p * (1 - p))
    got = item_information(GRID, A, B, C, D)
    assert got.shape == (GRID.size, A.size)
    # finite differences lose digits where 1 - P is tiny; 1e-4 relative is far below any modelling error
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-12)


def test_item_information_is_the_variance_of_the_score():
    # Fisher information by its definition: E[(d/dtheta log f(Y | theta))^2], summing over Y in {0, 1},
    # with the score from finite differences of the log-likelihood.
    h = 1e-5

    def loglik(theta, y):
        p = irf(theta, A, B, C, D)
        return y * np.log(p) + (1 - y) * np.log(1 - p)

    p = irf(GRID, A, B, C, D)
    info = np.zeros_like(p)
    for y, prob in ((1.0, p), (0.0, 1 - p)):
        score = (loglik(GRID + h, y) - loglik(GRID - h, y)) / (2 * h)
        info += prob * score**2
    np.testing.assert_allclose(item_information(GRID, A, B, C, D), info, rtol=1e-4, atol=1e-12)


def test_2pl_information_is_a_squared_p_q_and_peaks_at_b():
    a, b = np.array([0.5, 1.0, 2.5]), np.array([-1.0, 0.0, 2.0])
    p = irf(GRID, a, b)
    np.testing.assert_allclose(item_information(GRID, a, b), a**2 * p * (1 - p), rtol=1e-12)
    # maximum a^2/4 at theta = b
    np.testing.assert_allclose(item_information(b, a, b).diagonal(), a**2 / 4, rtol=1e-12)


def test_3pl_information_peak_location_matches_closed_form():
    # Birnbaum: the 3PL information peaks at b + log((1 + sqrt(1 + 8c)) / 2) / a.
    a, b, c = 1.3, 0.4, 0.2
    fine = np.linspace(-1, 3, 40001)
    info = item_information(fine, [a], [b], [c])[:, 0]
    peak = b + np.log((1 + np.sqrt(1 + 8 * c)) / 2) / a
    assert abs(fine[np.argmax(info)] - peak) < 1e-3


def test_information_is_finite_and_small_far_from_the_items():
    info = item_information([-60.0, 60.0], A, B, C, D)
    assert np.all(np.isfinite(info))
    assert np.all(info < 1e-10)


def test_test_information_is_the_brute_force_sum_and_respects_the_mask():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.5, 30)
    b = rng.normal(size=30)
    expected = np.zeros(GRID.size)
    for j in range(30):  # explicit loop: the reference
        p = 1 / (1 + np.exp(-a[j] * (GRID - b[j])))
        expected += a[j] ** 2 * p * (1 - p)
    np.testing.assert_allclose(test_information(GRID, a, b), expected, rtol=1e-12)
    mask = np.arange(30) % 3 == 0
    np.testing.assert_allclose(test_information(GRID, a, b, mask=mask), test_information(GRID, a[mask], b[mask]))
    np.testing.assert_allclose(standard_error(GRID, a, b), 1 / np.sqrt(expected), rtol=1e-12)


def test_standard_error_matches_the_spread_of_ml_estimates():
    # Simulation: 4000 response patterns at theta = 0.3 to a 60-item 2PL; the ML estimates
    # (Newton's method, written here) spread with the asymptotic standard error.
    rng = np.random.default_rng(2)
    a = rng.uniform(0.8, 2.0, 60)
    b = rng.normal(size=60)
    theta0 = 0.3
    y = (rng.random((4000, 60)) < irf([theta0], a, b)).astype(float)
    t = np.zeros(4000)
    for _ in range(30):
        p = irf(t, a, b)
        t = t + ((y - p) @ a) / ((p * (1 - p)) @ a**2)
    se = standard_error([theta0], a, b)[0]
    assert np.std(t) == pytest.approx(se, rel=0.06)


def test_marginal_reliability_matches_adaptive_quadrature():
    # Independent integration of 1 - 1 / (1 + sigma^2 I(theta)) over N(mu, sigma^2) with scipy.integrate.quad,
    # the information coming from the reference IRF.
    mu, sigma = 0.3, 1.5

    def integrand(t):
        p = irf([t], A, B, C, D)[0]
        h = 1e-6
        dp = (irf([t + h], A, B, C, D)[0] - irf([t - h], A, B, C, D)[0]) / (2 * h)
        info = np.sum(dp**2 / (p * (1 - p)))
        return (1 - 1 / (1 + sigma**2 * info)) * stats.norm.pdf(t, mu, sigma)

    # +-6 sigma: the neglected tails weigh 2e-9
    expected, _ = integrate.quad(integrand, mu - 6 * sigma, mu + 6 * sigma, limit=200)
    got = marginal_reliability(A, B, C, D, sigma=sigma, mu=mu)
    assert got == pytest.approx(expected, abs=1e-6)


def test_marginal_reliability_matches_simulated_eap_reliability():
    # Simulation with known truth: theta ~ N(0, 1), a 40-item 2PL, EAP scores by quadrature (written here).
    # For a long test the reliability is the squared correlation of true and estimated abilities.
    rng = np.random.default_rng(3)
    n, j = 4000, 40
    a = rng.uniform(0.7, 2.0, j)
    b = rng.normal(size=j)
    theta = rng.normal(size=n)
    y = (rng.random((n, j)) < irf(theta, a, b)).astype(float)
    nodes = np.linspace(-6, 6, 121)
    pn = irf(nodes, a, b)  # (Q, J)
    loglik = y @ np.log(pn).T + (1 - y) @ np.log(1 - pn).T  # (N, Q)
    logpost = loglik + stats.norm.logpdf(nodes)
    w = np.exp(logpost - logpost.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    eap = w @ nodes
    psd = np.sqrt(w @ nodes**2 - eap**2)
    simulated = np.corrcoef(theta, eap)[0, 1] ** 2
    model = marginal_reliability(a, b)
    assert model == pytest.approx(simulated, abs=0.01)
    # the empirical reliability of the EAP scores agrees as well
    assert empirical_reliability(eap, psd) == pytest.approx(simulated, abs=0.01)


def test_marginal_reliability_grows_with_test_length_and_shrinks_with_a_narrow_population():
    a, b = np.full(10, 1.2), np.linspace(-2, 2, 10)
    short = marginal_reliability(a, b)
    long = marginal_reliability(np.tile(a, 4), np.tile(b, 4))
    assert 0 < short < long < 1
    assert marginal_reliability(a, b, sigma=0.5) < short


def test_empirical_reliability_by_hand_and_for_ml_estimates():
    # by hand: var([-1, 0, 1], ddof=1) = 1, mean SE^2 = 0.25 -> 1 / 1.25 and 1 - 0.25
    assert empirical_reliability([-1.0, 0.0, 1.0], [0.5, 0.5, 0.5]) == pytest.approx(0.8)
    assert empirical_reliability([-1.0, 0.0, 1.0], [0.5, 0.5, 0.5], estimator="ml") == pytest.approx(0.75)
    # simulation: ML-type estimates are truth plus independent error with known, varying SE
    rng = np.random.default_rng(4)
    theta = rng.normal(size=20000)
    se = rng.uniform(0.2, 0.6, theta.size)
    est = theta + se * rng.normal(size=theta.size)
    truth = np.var(theta) / np.var(est)
    assert empirical_reliability(est, se, estimator="ml") == pytest.approx(truth, abs=0.01)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: item_information([0.0], [1.0, 1.0], [0.0]), "shape"),
        (lambda: item_information([0.0], [1.0], [0.0], c=[0.5], d=[0.4]), "upper asymptote"),
        (lambda: item_information([0.0], [1.0], [0.0], c=[1.0]), "lower asymptote"),
        (lambda: item_information([0.0], [np.nan], [0.0]), "not finite"),
        (lambda: item_information([np.nan], [1.0], [0.0]), "NaN"),
        (lambda: test_information([0.0], [1.0, 2.0], [0.0, 0.0], mask=[1, 0]), "boolean"),
        (lambda: marginal_reliability([1.0], [0.0], sigma=0.0), "sigma"),
        (lambda: empirical_reliability([0.0, np.inf], [1.0, 1.0]), "not finite"),
        (lambda: empirical_reliability([0.0, 1.0], [1.0, 1.0], estimator="wrong"), "estimator"),
    ],
)
def test_invalid_input_raises_input_error(call, match):
    with pytest.raises(InputError, match=match):
        call()
