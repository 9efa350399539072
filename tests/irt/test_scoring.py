"""Tests of metabench.irt.scoring (EAP, MAP and MLE abilities against fixed items).

Independent references, named where used:

- the posterior mean and sd of one model by adaptive integration
  (``scipy.integrate.quad``; a Simpson cubature for two dimensions) of the written-out
  likelihood times the normal prior density (``scipy.stats.norm``);
- the MAP and MLE by ``scipy.optimize.minimize_scalar`` (bounded Brent) on the
  written-out log-posterior / log-likelihood;
- the MAP standard error 1/sqrt(I(θ̂) + 1/σ²) with the test information I from
  :mod:`metabench.irt.information`, a separate module that does not share code
  with the scoring routine.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from metabench.errors import InputError
from metabench.irt.estimate import ItemParams
from metabench.irt.information import test_information
from metabench.irt.models import model_spec
from metabench.irt.scoring import SCORING_METHODS, score_abilities

RNG = np.random.default_rng(2024)
J = 12
A = RNG.uniform(0.6, 2.2, J)
B = RNG.normal(0.0, 1.0, J)
C = RNG.uniform(0.1, 0.25, J)

# six response patterns: random, random, random with 3 items not answered, all right, all wrong, random
Y = (RNG.random((6, J)) < 0.55).astype(float)
Y[2, :3] = np.nan
Y[3] = 1.0
Y[4] = 0.0
MIXED = [0, 1, 2, 5]  # rows whose MLE exists


def loglik(t, row, a=A, c=None):
    """Written-out 2PL/3PL log-likelihood of one response pattern (tanh form of σ: no overflow)."""
    ok = ~np.isnan(row)
    lo = 0.0 if c is None else c[ok]
    p = lo + (1.0 - lo) * 0.5 * (1.0 + np.tanh(0.5 * a[ok] * (t - B[ok])))
    return float(np.sum(row[ok] * np.log(p) + (1 - row[ok]) * np.log(1 - p)))


def quad_posterior(row, a=A, c=None, sd=1.0):
    """Posterior mean and sd of θ with prior N(0, sd²), by scipy quad over ±12 prior sds."""
    ok = ~np.isnan(row)
    lo = 0.0 if c is None else c[ok]

    def dens(t):
        p = lo + (1.0 - lo) * 0.5 * (1.0 + np.tanh(0.5 * a[ok] * (t - B[ok])))
        # product form: 0**0 = 1 where p rounds to 0 or 1 far out in the tails
        return float(np.prod(p ** row[ok] * (1.0 - p) ** (1.0 - row[ok]))) * stats.norm.pdf(t, 0.0, sd)

    lim = 12.0 * sd

    def q(f):
        return integrate.quad(f, -lim, lim, epsabs=1e-13, epsrel=1e-11, limit=200)[0]

    z = q(dens)
    m1 = q(lambda t: t * dens(t)) / z
    var = q(lambda t: (t - m1) ** 2 * dens(t)) / z
    return m1, math.sqrt(var)


def brent_argmax(f):
    res = optimize.minimize_scalar(lambda t: -f(t), bounds=(-8.0, 8.0), method="bounded", options={"xatol": 1e-10})
    assert res.success
    return res.x


def params_2pl(latent_sd=1.0):
    return ItemParams(A[:, None].copy(), -A * B, latent_sd=latent_sd)


def params_3pl():
    return ItemParams(A[:, None].copy(), -A * B, np.log(C / (1 - C)))


# (spec, engine parameters, reference a, reference c, latent sd)
CASES = [
    pytest.param(model_spec("2pl"), params_2pl(), A, None, 1.0, id="2pl"),
    pytest.param(model_spec("3pl"), params_3pl(), A, C, 1.0, id="3pl"),
    pytest.param(
        model_spec("1pl"), ItemParams(np.ones((J, 1)), -B, latent_sd=1.6), np.ones(J), None, 1.6, id="1pl_sd1.6"
    ),
]


@pytest.mark.parametrize(("spec", "params", "a", "c", "sd"), CASES)
def test_eap_is_the_posterior_mean_and_sd(spec, params, a, c, sd):
    theta, cov = score_abilities(Y, params, spec, method="eap")
    assert theta.shape == (6, 1) and cov.shape == (6, 1, 1)
    for i, row in enumerate(Y):
        m, s = quad_posterior(row, a, c, sd)
        assert theta[i, 0] == pytest.approx(m, abs=1e-4)
        assert math.sqrt(cov[i, 0, 0]) == pytest.approx(s, abs=1e-4)


@pytest.mark.parametrize(("spec", "params", "a", "c", "sd"), CASES)
def test_map_is_the_posterior_mode_and_its_se_uses_test_information(spec, params, a, c, sd):
    theta, cov = score_abilities(Y, params, spec, method="map")
    for i, row in enumerate(Y):
        mode = brent_argmax(lambda t, row=row: loglik(t, row, a, c) - 0.5 * t * t / sd**2)
        assert theta[i, 0] == pytest.approx(mode, abs=1e-6)
        ok = ~np.isnan(row)
        info = test_information([theta[i, 0]], a[ok], B[ok], None if c is None else c[ok])[0]
        assert math.sqrt(cov[i, 0, 0]) == pytest.approx(1.0 / math.sqrt(info + 1.0 / sd**2), rel=1e-8)


@pytest.mark.parametrize(("spec", "params", "a", "c", "sd"), CASES)
def test_mle_is_the_likelihood_maximum(spec, params, a, c, sd):
    theta, cov = score_abilities(Y, params, spec, method="mle")
    for i in MIXED:
        row = Y[i]
        mle = brent_argmax(lambda t, row=row: loglik(t, row, a, c))
        assert theta[i, 0] == pytest.approx(mle, abs=1e-6)
        ok = ~np.isnan(row)
        info = test_information([theta[i, 0]], a[ok], B[ok], None if c is None else c[ok])[0]
        assert math.sqrt(cov[i, 0, 0]) == pytest.approx(1.0 / math.sqrt(info), rel=1e-8)


def test_mle_of_perfect_and_null_patterns_is_infinite():
    theta, cov = score_abilities(Y, params_2pl(), model_spec("2pl"), method="mle")
    assert theta[3, 0] == np.inf and theta[4, 0] == -np.inf
    assert cov[3, 0, 0] == np.inf and cov[4, 0, 0] == np.inf
    # the likelihood of an all-correct pattern keeps rising: there is no finite maximiser
    assert loglik(10.0, Y[3]) > loglik(5.0, Y[3]) > loglik(0.0, Y[3])
    assert loglik(-10.0, Y[4]) > loglik(-5.0, Y[4]) > loglik(0.0, Y[4])
    # EAP and MAP stay finite for the same patterns (the prior bounds them)
    for method in ("eap", "map"):
        th, cv = score_abilities(Y[3:5], params_2pl(), model_spec("2pl"), method=method)
        assert np.all(np.isfinite(th)) and np.all(np.isfinite(cv))
        assert th[0, 0] > 1.0 and th[1, 0] < -1.0


def test_scores_move_with_the_responses():
    # one more right answer raises every estimate (the IRF is increasing in θ)
    base = np.zeros((1, J))
    base[0, :6] = 1.0
    more = base.copy()
    more[0, 8] = 1.0
    for method in SCORING_METHODS:
        lo, _ = score_abilities(base, params_2pl(), model_spec("2pl"), method=method)
        hi, _ = score_abilities(more, params_2pl(), model_spec("2pl"), method=method)
        assert hi[0, 0] > lo[0, 0]


def test_a_model_that_answered_nothing_gets_the_prior():
    y = Y[:2].copy()
    y[1] = np.nan
    for method in ("eap", "map"):
        theta, cov = score_abilities(y, params_2pl(latent_sd=1.3), model_spec("2pl"), method=method)
        assert theta[1, 0] == pytest.approx(0.0, abs=1e-12)
        assert cov[1, 0, 0] == pytest.approx(1.3**2, rel=1e-9)
    # no cell answered at all: the prior for everybody
    theta, cov = score_abilities(np.full((3, J), np.nan), params_2pl(latent_sd=1.3), model_spec("2pl"), method="eap")
    np.testing.assert_array_equal(theta, 0.0)
    np.testing.assert_allclose(cov[:, 0, 0], 1.69)


def test_mle_of_a_model_that_answered_nothing_is_undefined():
    y = Y[:2].copy()
    y[1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        theta, cov = score_abilities(y, params_2pl(), model_spec("2pl"), method="mle")
    assert np.isnan(theta[1, 0]) and cov[1, 0, 0] == np.inf
    theta, cov = score_abilities(np.full((2, J), np.nan), params_2pl(), model_spec("2pl"), method="mle")
    assert np.all(np.isnan(theta)) and np.all(cov == np.inf)


def test_eap_in_two_dimensions_equals_a_simpson_cubature():
    # reference: composite Simpson rule (scipy.integrate.simpson along each axis) on a 1201 × 1201 grid over
    # [-8, 8]²: step 0.013, error far below 1e-8 for this smooth integrand (checked against dblquad when written)
    rng = np.random.default_rng(7)
    loadings = rng.uniform(0.3, 1.8, (8, 2))
    delta = rng.normal(0.0, 1.0, 8)
    y = np.array([[1, 0, 1, 1, 0, 0, 1, np.nan], [0, 0, 1, 0, 0, 0, 0, 1]], dtype=float)
    params = ItemParams(loadings, delta)
    # 11 adaptive nodes per dimension; "auto" takes 5×5 for 8 items, within 2e-4 of the reference (checked below)
    theta, cov = score_abilities(y, params, model_spec("mirt", 2), method="eap", n_quad=11)
    auto, _ = score_abilities(y, params, model_spec("mirt", 2), method="eap")
    assert theta.shape == (2, 2) and cov.shape == (2, 2, 2)
    g = np.linspace(-8.0, 8.0, 1201)
    t1, t2 = np.meshgrid(g, g, indexing="ij")
    prior = stats.norm.pdf(t1) * stats.norm.pdf(t2)
    for i, row in enumerate(y):
        lik = np.ones_like(t1)
        for j in np.flatnonzero(~np.isnan(row)):
            p = 0.5 * (1 + np.tanh(0.5 * (loadings[j, 0] * t1 + loadings[j, 1] * t2 + delta[j])))
            lik *= p if row[j] == 1 else 1 - p
        dens = lik * prior

        def moment(f, dens=dens):
            return integrate.simpson(integrate.simpson(f * dens, x=g, axis=1), x=g)

        z = moment(1.0)
        m1, m2 = moment(t1) / z, moment(t2) / z
        v11 = moment((t1 - m1) ** 2) / z
        v12 = moment((t1 - m1) * (t2 - m2)) / z
        np.testing.assert_allclose(theta[i], [m1, m2], atol=1e-5)
        assert cov[i, 0, 0] == pytest.approx(v11, abs=1e-5)
        assert cov[i, 0, 1] == pytest.approx(v12, abs=1e-5)
        np.testing.assert_allclose(auto[i], [m1, m2], atol=5e-4)


def test_bad_arguments_raise_input_error():
    with pytest.raises(InputError, match="unknown scoring method"):
        score_abilities(Y, params_2pl(), model_spec("2pl"), method="wle")
    with pytest.raises(InputError, match="items number 12"):
        score_abilities(Y[:, :5], params_2pl(), model_spec("2pl"))
    with pytest.raises(InputError, match="items number 12"):
        score_abilities(Y[0], params_2pl(), model_spec("2pl"))
