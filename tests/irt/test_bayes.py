"""Tests of metabench.irt.bayes: Bayesian IRT by NUTS and ADVI on simulated data with known truth.

The fits need PyMC (the ``[bayes]`` extra); tests that fit skip with a visible reason when it is
missing, while the input checks run either way.
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl
import pytest

from metabench.errors import InputError
from metabench.irt.bayes import BayesIRTResult, default_priors, fit_bayes
from metabench.runs import ResponseMatrix

N_MODELS, N_ITEMS = 60, 12
ADVI_ITER = 20_000


def _simulate_2pl(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """60 × 12 binary responses from a 2PL with theta ~ N(0, 1); returns X, a, b, theta."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=N_MODELS)
    a = np.linspace(0.5, 2.5, N_ITEMS)[rng.permutation(N_ITEMS)]
    b = np.linspace(-1.5, 1.5, N_ITEMS)
    p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
    X = (rng.random((N_MODELS, N_ITEMS)) < p).astype(float)
    return X, a, b, theta


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def _coverage(summary, truth: np.ndarray) -> float:
    return float(np.mean((summary.low <= truth) & (truth <= summary.high)))


@pytest.fixture(scope="module")
def pymc():
    return pytest.importorskip("pymc", reason="the Bayesian IRT fit needs the [bayes] extra (pymc)")


@pytest.fixture(scope="module")
def truth():
    return _simulate_2pl()


@pytest.fixture(scope="module")
def nuts_fit(pymc, truth) -> BayesIRTResult:
    X, *_ = truth
    return fit_bayes(X, model="2pl", method="nuts", draws=300, tune=300, chains=2, cores=1, seed=0)


@pytest.fixture(scope="module")
def advi_fit(pymc, truth) -> BayesIRTResult:
    X, *_ = truth
    return fit_bayes(X, model="2pl", method="advi", draws=1000, n_iter=ADVI_ITER, seed=0)


# ----------------------------------------------------------------------------- NUTS


def test_nuts_2pl_recovers_known_parameters(nuts_fit, truth):
    _, a, b, theta = truth
    assert _corr(nuts_fit.b.mean, b) > 0.9
    assert _corr(nuts_fit.a.mean, a) > 0.5
    assert _corr(nuts_fit.theta.mean, theta) > 0.7
    # 95% intervals cover the true difficulty of most items, and the true discrimination too.
    assert _coverage(nuts_fit.b, b) >= 0.8
    assert _coverage(nuts_fit.a, a) >= 0.8
    assert np.all(nuts_fit.b.low < nuts_fit.b.mean) and np.all(nuts_fit.b.mean < nuts_fit.b.high)
    assert np.all(nuts_fit.a.mean > 0)  # LogNormal prior


def test_nuts_diagnostics_and_provenance(nuts_fit):
    res = nuts_fit
    assert res.method == "nuts" and res.model == "2pl"
    assert (res.draws, res.tune, res.chains, res.seed, res.n_iter) == (300, 300, 2, 0, 0)
    assert res.r_hat_max < 1.05
    assert res.r_hat_max == pytest.approx(max(res.a.r_hat.max(), res.b.r_hat.max(), res.theta.r_hat.max()))
    assert res.ess_bulk_min > 100
    assert res.converged == (res.r_hat_max < 1.01)
    assert res.elbo is None
    assert res.n_observed == N_MODELS * N_ITEMS
    assert res.idata.posterior["a"].shape == (2, 300, N_ITEMS)
    assert res.idata.posterior["theta"].shape == (2, 300, N_MODELS)
    # the 2PL holds c at 0 and d at 1
    assert not res.c.estimated and np.all(res.c.mean == 0.0) and np.all(res.d.mean == 1.0)
    # posterior means are the means of the draws
    draws = res.idata.posterior["b"].values.reshape(-1, N_ITEMS)
    np.testing.assert_allclose(res.b.mean, draws.mean(axis=0))
    np.testing.assert_allclose(res.b.low, np.quantile(draws, 0.025, axis=0))
    np.testing.assert_allclose(res.difficulty, res.b.mean)
    assert "method='nuts'" in repr(res) and "n_items=12" in repr(res)


def test_nuts_to_frame_is_tidy(nuts_fit):
    df = nuts_fit.to_frame()
    assert df.columns == ["parameter", "index", "label", "mean", "sd", "low", "high", "r_hat", "ess_bulk"]
    assert df.height == 2 * N_ITEMS + N_MODELS
    counts = dict(df.group_by("parameter").len().rows())
    assert counts == {"a": N_ITEMS, "b": N_ITEMS, "theta": N_MODELS}
    row = df.filter((pl.col("parameter") == "b") & (pl.col("index") == 3)).row(0, named=True)
    assert row["label"] == "i3"
    assert row["mean"] == pytest.approx(nuts_fit.b.mean[3])
    assert row["low"] == pytest.approx(nuts_fit.b.low[3]) and row["high"] == pytest.approx(nuts_fit.b.high[3])
    assert df["r_hat"].is_finite().all() and (df["r_hat"] < 1.05).all()
    assert (df["low"] <= df["mean"]).all() and (df["mean"] <= df["high"]).all() and (df["sd"] > 0).all()


# ----------------------------------------------------------------------------- ADVI


def test_advi_2pl_recovers_known_parameters(advi_fit, truth):
    _, a, b, theta = truth
    assert _corr(advi_fit.b.mean, b) > 0.9
    assert _corr(advi_fit.a.mean, a) > 0.5
    assert _corr(advi_fit.theta.mean, theta) > 0.7
    assert _coverage(advi_fit.b, b) >= 0.8


def test_advi_convergence_and_agreement_with_nuts(advi_fit, nuts_fit):
    res = advi_fit
    assert res.method == "advi" and res.n_iter == ADVI_ITER and res.chains == 1 and res.tune == 0
    assert res.elbo is not None and res.elbo.shape == (ADVI_ITER,)
    # the ELBO climbs from the start and has levelled off at the end
    assert res.elbo[-1000:].mean() > res.elbo[:100].mean()
    assert res.converged
    assert np.isnan(res.r_hat_max) and res.to_frame()["r_hat"].is_nan().all()
    assert res.idata.posterior["b"].shape == (1, 1000, N_ITEMS)
    # mean-field ADVI agrees with NUTS on the difficulties
    assert _corr(res.b.mean, nuts_fit.b.mean) > 0.95


def test_advi_is_reproducible_with_seed(pymc, truth):
    X, *_ = truth
    r1 = fit_bayes(X[:20, :6], method="advi", n_iter=1500, draws=100, seed=7)
    r2 = fit_bayes(X[:20, :6], method="advi", n_iter=1500, draws=100, seed=7)
    r3 = fit_bayes(X[:20, :6], method="advi", n_iter=1500, draws=100, seed=8)
    np.testing.assert_array_equal(r1.b.mean, r2.b.mean)
    np.testing.assert_array_equal(r1.elbo, r2.elbo)
    assert not np.array_equal(r1.b.mean, r3.b.mean)


def test_elbo_convergence_rule():
    from metabench.irt.bayes import _elbo_converged

    flat = np.r_[np.linspace(1000.0, 100.0, 800), np.full(200, 100.0)]
    assert _elbo_converged(flat)
    still_falling = np.linspace(1000.0, 100.0, 1000)
    assert not _elbo_converged(still_falling)
    assert not _elbo_converged(np.full(50, 1.0))  # too short to judge


# ----------------------------------------------------------------------------- missing cells, 1pl, 3pl/4pl


def test_missing_cells_use_only_observed_triples(pymc, truth):
    X, _, b, _ = truth
    rng = np.random.default_rng(3)
    Xm = X.copy()
    Xm[rng.random(X.shape) < 0.25] = np.nan
    Xm[5, :] = np.nan  # a model that ran nothing: kept, reported, posterior = prior
    rm = ResponseMatrix.from_array(Xm)
    res = fit_bayes(rm, method="advi", n_iter=ADVI_ITER, draws=1000, seed=0)
    n_obs = int((~np.isnan(Xm)).sum())
    assert res.n_observed == n_obs
    assert res.idata.observed_data["y"].shape == (n_obs,)
    np.testing.assert_array_equal(res.idata.observed_data["y"].values, Xm[~np.isnan(Xm)].astype(int))
    assert res.empty_models == (5,) and res.empty_items == ()
    assert res.models == rm.models and res.items == rm.items
    assert _corr(res.b.mean, b) > 0.85
    assert _coverage(res.b, b) >= 0.8
    # theta of the empty row is its N(0, 1) prior
    assert abs(res.theta.mean[5]) < 0.2 and 0.8 < res.theta.sd[5] < 1.2
    assert res.to_frame()["mean"].is_finite().all()


def test_1pl_nuts_estimates_ability_spread(pymc):
    # NUTS rather than ADVI: mean-field ADVI shrinks the hierarchical sd (1.16 here against 1.37 by NUTS).
    rng = np.random.default_rng(11)
    sigma_true = 1.5
    theta = rng.normal(0.0, sigma_true, size=80)
    b = np.linspace(-2.0, 2.0, 10)
    X = (rng.random((80, 10)) < 1.0 / (1.0 + np.exp(-(theta[:, None] - b)))).astype(float)
    res = fit_bayes(X, model="rasch", method="nuts", draws=300, tune=300, chains=2, cores=1, seed=0)
    assert res.model == "1pl"
    assert res.sigma is not None and res.sigma.low[0] < sigma_true < res.sigma.high[0]
    assert res.sigma.low[0] < theta.std() < res.sigma.high[0]
    assert _corr(res.b.mean, b) > 0.95
    assert _coverage(res.b, b) >= 0.8
    assert _corr(res.theta.mean, theta) > 0.8
    assert res.r_hat_max < 1.05
    assert not res.a.estimated and np.all(res.discrimination == 1.0)
    df = res.to_frame()
    assert set(df["parameter"]) == {"b", "sigma", "theta"}
    assert df.filter(pl.col("parameter") == "sigma")["label"].to_list() == ["sigma"]
    assert set(res.priors) == {"b", "sigma"}
    # theta is sigma * z (non-centred), so its draws carry the estimated spread
    assert res.theta.mean.std() > 1.0


@pytest.mark.parametrize("model", ["3pl", "4pl"])
def test_3pl_4pl_fit_with_prior_override(pymc, truth, model):
    X, *_ = truth
    priors = {"c": ("Beta", {"alpha": 2.0, "beta": 38.0})}  # mean 0.05
    res = fit_bayes(X, model=model, method="advi", n_iter=3000, draws=200, seed=0, priors=priors)
    assert res.c.estimated and res.c.mean.shape == (N_ITEMS,)
    assert np.all((res.c.mean > 0) & (res.c.mean < 0.25))
    assert res.priors["c"] == ("Beta", {"alpha": 2.0, "beta": 38.0})
    assert res.priors["a"] == default_priors()["a"]
    assert res.d.estimated == (model == "4pl")
    assert np.all(res.c.mean < res.d.mean)
    expected = {"a", "b", "c", "theta"} | ({"d"} if model == "4pl" else set())
    assert set(res.to_frame()["parameter"]) == expected


# ----------------------------------------------------------------------------- input checks (no pymc needed)


def test_non_binary_responses_are_rejected():
    X = np.array([[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(InputError, match="binary") as err:
        fit_bayes(X, method="advi")
    assert err.value.problem.kind == "non_binary_score"
    assert "X >= 0.5" in err.value.problem.fix


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "5pl"}, "unknown IRT model"),
        ({"method": "gibbs"}, "unknown method"),
        ({"draws": 0}, "draws must be an integer"),
        ({"chains": 1.5}, "chains must be an integer"),
        ({"priors": {"e": ("Normal", {})}}, "unknown prior 'e'"),
        ({"priors": {"a": "LogNormal"}}, "must be a \\(distribution name, arguments\\) pair"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(InputError, match=message):
        fit_bayes(X, **kwargs)


def test_bad_shapes_are_rejected():
    with pytest.raises(InputError, match="2-D"):
        fit_bayes(np.zeros((2, 2, 2)))
    with pytest.raises(InputError, match="no observed cell"):
        fit_bayes(np.full((3, 2), np.nan))


def test_missing_pymc_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymc", None)  # makes `import pymc` raise ImportError
    with pytest.raises(InputError, match="PyMC") as err:
        fit_bayes(np.array([[1.0, 0.0], [0.0, 1.0]]), method="advi")
    assert err.value.problem.fix == "pip install 'metabench[bayes]'"
    assert err.value.problem.kind == "missing_dependency"
