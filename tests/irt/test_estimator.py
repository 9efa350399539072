"""Tests of the scikit-learn-style estimator metabench.irt.IRT.

References, named where used:

- simulations with known truth (2PL, and a 3-dimensional compensatory model);
- probabilities recomputed from the fitted attributes with the written-out
  formula c + (d − c)·σ(a(θ − b)), and posterior means recomputed by
  ``scipy.integrate.quad`` from the fitted item parameters;
- information criteria written out from their definitions;
- identities that any correct implementation satisfies (reordering the columns
  of a labelled matrix does not change a model's score, an unknown item is
  ignored, a missing item counts as not answered).
"""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from scipy import integrate, stats

from metabench.errors import InputError, NotFittedError
from metabench.irt import AUTO_CANDIDATES, IRT, AbilityScores, Priors
from metabench.runs import ResponseMatrix


def simulate(n, j, seed):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    # slopes bounded away from 0: with a few hundred models an item with a ≈ 0.3 can come out with â ≈ 0, where
    # b = −δ/a is undefined and correlations of difficulties become meaningless
    a = rng.uniform(0.7, 2.0, j)
    b = rng.normal(0.0, 1.0, j)
    p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
    return theta, a, b, p, (rng.random((n, j)) < p).astype(float)


def formula(theta, a, b, c, d):
    """Written-out 4PL probabilities (models × items)."""
    return c + (d - c) / (1.0 + np.exp(-a * (np.asarray(theta)[:, None] - b)))


@pytest.fixture(scope="module")
def data():
    theta, a, b, p, y = simulate(300, 25, seed=0)
    models = [f"model-{i:03d}" for i in range(300)]
    items = [f"q{j:02d}" for j in range(25)]
    rm = ResponseMatrix.from_array(y, models=models, items=items, benchmark="sim")
    return {"theta": theta, "a": a, "b": b, "p": p, "y": y, "rm": rm, "fit": IRT(model="2pl").fit(rm)}


# ---------------------------------------------------------------------------
# fitting and attributes


def test_unfitted_use_raises_not_fitted_error(tmp_path):
    m = IRT()
    y = np.zeros((3, 2))
    with pytest.raises(NotFittedError):
        m.score(y)
    with pytest.raises(NotFittedError):
        m.predict_proba()
    with pytest.raises(NotFittedError):
        m.predict_proba(y)
    with pytest.raises(NotFittedError):
        m.save(tmp_path / "x.json")
    with pytest.raises(NotFittedError):
        m.item_table()
    assert not (tmp_path / "x.json").exists()


def test_unfitted_log_loss_raises_not_fitted_error():
    with pytest.raises(NotFittedError):
        IRT().log_loss(np.zeros((3, 2)), np.zeros((3, 2), dtype=bool))


def test_fit_returns_self_and_sets_attributes(data):
    m = IRT(model="2pl")
    assert m.fit(data["y"]) is m
    n, j = data["y"].shape
    for name in ("discrimination_", "difficulty_", "guessing_", "slipping_", "intercept_"):
        assert getattr(m, name).shape == (j,), name
    for name in ("abilities_", "ability_se_"):
        assert getattr(m, name).shape == (n,), name
    assert m.loadings_.shape == (j, 1)
    np.testing.assert_array_equal(m.guessing_, 0.0)
    np.testing.assert_array_equal(m.slipping_, 0.0)
    assert m.model_ == "2pl" and m.converged_ and 1 <= m.n_iter_ < 100
    assert m.n_params_ == 2 * j and m.n_obs_ == n * j
    assert m.latent_sd_ == 1.0
    assert m.selection_ is None
    # information criteria from their definitions
    assert m.aic_ == pytest.approx(-2 * m.loglik_ + 2 * 2 * j)
    assert m.bic_ == pytest.approx(-2 * m.loglik_ + 2 * j * math.log(n))
    # unlabelled arrays get positional labels
    assert m.models_[:2] == ("m0", "m1") and m.items_[-1] == f"i{j - 1}"


def test_fit_recovers_the_simulated_items_and_abilities(data):
    m = data["fit"]
    assert corr(m.difficulty_, data["b"]) > 0.97
    assert corr(m.discrimination_, data["a"]) > 0.7
    assert corr(m.abilities_, data["theta"]) > 0.9
    assert np.all(m.ability_se_ > 0.2) and np.all(m.ability_se_ < 0.8)


def test_fit_keeps_the_labels_of_a_response_matrix(data):
    m = data["fit"]
    assert m.models_ == data["rm"].models and m.items_ == data["rm"].items
    table = m.item_table()
    assert table.columns == ["item", "discrimination", "difficulty", "guessing", "slipping"]
    assert table["item"].to_list() == list(data["rm"].items)
    np.testing.assert_array_equal(table["difficulty"].to_numpy(), m.difficulty_)


def test_attributes_reproduce_the_fitted_probabilities(data):
    m = data["fit"]
    expected = formula(m.abilities_, m.discrimination_, m.difficulty_, m.guessing_, 1 - m.slipping_)
    np.testing.assert_allclose(m.predict_proba(), expected, rtol=1e-12)
    # the slope–intercept attributes agree with a and b: δ = −a·b
    np.testing.assert_allclose(m.intercept_, -m.discrimination_ * m.difficulty_, rtol=1e-12)


def test_partial_credit_scores_need_the_continuous_model(data):
    y = data["y"].copy()
    y[0, 0] = 0.5
    with pytest.raises(InputError, match="partial credit") as info:
        IRT(model="2pl").fit(y)
    assert "continuous" in str(info.value)
    m = IRT(model="continuous").fit(y)
    assert m.model_ == "continuous" and m.converged_


@pytest.mark.parametrize("axis", [0, 1])
def test_an_empty_item_or_model_raises(data, axis):
    y = data["y"][:50].copy()
    if axis == 0:
        y[:, 3] = np.nan
    else:
        y[7, :] = np.nan
    with pytest.raises(InputError, match="no response") as info:
        IRT().fit(y)
    assert "drop_empty" in str(info.value)


def test_other_bad_inputs_raise(data):
    with pytest.raises(InputError, match="no observed cell"):
        IRT().fit(np.full((4, 3), np.nan))
    with pytest.raises(InputError, match="2-D"):
        IRT().fit(np.zeros(5))
    with pytest.raises(InputError, match="unknown IRT model"):
        IRT(model="5pl").fit(data["y"])
    with pytest.raises(InputError, match="method"):
        IRT(method="mcmc").fit(data["y"])
    with pytest.raises(InputError, match="holdout"):
        IRT(model="auto", holdout=0.7).fit(data["y"])
    with pytest.raises(InputError, match="max_iter"):
        IRT(max_iter=0).fit(data["y"])
    with pytest.raises(InputError, match="priors"):
        IRT(priors="flat").fit(data["y"])
    with pytest.raises(InputError, match="no parameter"):
        IRT().set_params(learning_rate=0.1)


def test_get_and_set_params():
    m = IRT(model="3pl", seed=4)
    params = m.get_params()
    assert params["model"] == "3pl" and params["seed"] == 4 and params["method"] == "em"
    assert set(params) == {
        "model",
        "n_dims",
        "method",
        "priors",
        "n_quad",
        "max_iter",
        "tol",
        "backend",
        "device",
        "precision",
        "candidates",
        "holdout",
        "seed",
        "warm_start",
    }
    assert m.set_params(model="1pl", max_iter=7) is m
    assert m.model == "1pl" and m.max_iter == 7
    assert repr(IRT(model="3pl")) == "IRT(model='3pl', method='em')"


def test_rasch_model_attributes():
    rng = np.random.default_rng(3)
    theta = rng.normal(size=400) * 1.4
    b = np.linspace(-2, 2, 20)
    y = (rng.random((400, 20)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(float)
    m = IRT(model="rasch").fit(y)
    assert m.model_ == "1pl"
    np.testing.assert_array_equal(m.discrimination_, 1.0)
    assert m.n_params_ == 20 + 1  # difficulties and the latent sd
    assert m.latent_sd_ == pytest.approx(theta.std(), abs=0.1)
    assert corr(m.difficulty_, b) > 0.99


def test_mirt_attributes():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=(300, 2))
    loadings = np.zeros((16, 2))  # simple structure: items 0–7 load on dimension 1, items 8–15 on dimension 2
    loadings[:8, 0] = rng.uniform(1.0, 2.0, 8)
    loadings[8:, 1] = rng.uniform(1.0, 2.0, 8)
    delta = rng.normal(size=16)
    y = (rng.random((300, 16)) < 1 / (1 + np.exp(-(theta @ loadings.T + delta)))).astype(float)
    # max_iter bounds the runtime while mirt fits do not meet the convergence test (see test_estimate.py)
    m = IRT(model="mirt2", max_iter=100).fit(y)
    assert m.model_ == "mirt2" and m.spec_.n_dims == 2
    assert m.loadings_.shape == (16, 2) and m.abilities_.shape == (300, 2) and m.ability_se_.shape == (300, 2)
    # multidimensional discrimination and difficulty (Reckase): ‖a‖ and −δ/‖a‖
    norm = np.sqrt((m.loadings_**2).sum(axis=1))
    np.testing.assert_allclose(m.discrimination_, norm, rtol=1e-12)
    np.testing.assert_allclose(m.difficulty_, -m.intercept_ / norm, rtol=1e-12)
    assert m.n_params_ == 3 * 16
    assert list(m.item_table().columns)[-2:] == ["loading_1", "loading_2"]
    # same model spelt model="mirt", n_dims=2
    m2 = IRT(model="mirt", n_dims=2, max_iter=100).fit(y)
    np.testing.assert_allclose(m2.loadings_, m.loadings_, rtol=1e-12)
    # scores are (n, 2)
    s = m.score(y[:5])
    assert s.theta.shape == (5, 2) and s.se.shape == (5, 2)
    assert s.to_frame()["dimension"].to_list() == [1, 2] * 5


def test_jmap_method_through_the_estimator(data):
    m = IRT(method="jmap").fit(data["y"])
    assert m.result_.method == "jmap"
    assert corr(m.difficulty_, data["fit"].difficulty_) > 0.99


def test_deterministic_with_the_same_seed(data):
    one = IRT(model="2pl", seed=3).fit(data["y"])
    two = IRT(model="2pl", seed=3).fit(data["y"])
    np.testing.assert_array_equal(one.discrimination_, two.discrimination_)
    np.testing.assert_array_equal(one.abilities_, two.abilities_)
    assert one.loglik_ == two.loglik_


# ---------------------------------------------------------------------------
# scoring new models


def test_score_returns_ability_scores_with_labels(data):
    m = data["fit"]
    s = m.score(data["rm"], method="eap")
    assert isinstance(s, AbilityScores) and s.method == "eap"
    assert s.models == data["rm"].models
    assert s.theta.shape == (300,) and s.se.shape == (300,)
    # scoring the fitted models again reproduces their EAP abilities
    np.testing.assert_allclose(s.theta, m.abilities_, atol=1e-6)
    np.testing.assert_allclose(s.se, m.ability_se_, atol=1e-6)
    frame = s.to_frame()
    assert frame.columns == ["model", "theta", "se", "ci_low", "ci_high"]
    z975 = 1.959963984540054  # standard normal 97.5% quantile
    np.testing.assert_allclose(frame["ci_high"].to_numpy(), s.theta + z975 * s.se, rtol=1e-12)
    np.testing.assert_allclose(frame["ci_low"].to_numpy(), s.theta - z975 * s.se, rtol=1e-12)


def test_score_eap_equals_quad_posterior_mean_with_fitted_items(data):
    m = data["fit"]
    new = data["y"][:3].copy()
    new[1, ::2] = np.nan
    s = m.score(new)
    a, b = m.discrimination_, m.difficulty_
    for i, row in enumerate(new):
        ok = ~np.isnan(row)

        def dens(t, row=row, ok=ok):
            p = 0.5 * (1 + np.tanh(0.5 * a[ok] * (t - b[ok])))
            return float(np.prod(p ** row[ok] * (1 - p) ** (1 - row[ok]))) * stats.norm.pdf(t)

        z = integrate.quad(dens, -12, 12, epsabs=1e-13)[0]
        mean = integrate.quad(lambda t: t * dens(t), -12, 12, epsabs=1e-13)[0] / z
        assert s.theta[i] == pytest.approx(mean, abs=1e-4)


def test_score_aligns_columns_by_item_label(data):
    m = data["fit"]
    rm = data["rm"]
    sub = rm.take(models=np.arange(10))
    ref = m.score(sub)
    # columns in another order
    perm = np.random.default_rng(0).permutation(rm.n_items)
    shuffled = sub.take(items=perm)
    assert shuffled.items != sub.items
    np.testing.assert_allclose(m.score(shuffled).theta, ref.theta, atol=1e-12)
    # an extra item the model never saw is ignored
    extra = ResponseMatrix.from_array(
        np.column_stack([sub.values, np.ones(10)]), models=sub.models, items=[*sub.items, "unknown-item"]
    )
    np.testing.assert_allclose(m.score(extra).theta, ref.theta, atol=1e-12)
    # a missing item counts as not answered: same as a NaN in that column
    missing = sub.take(items=np.arange(1, rm.n_items))
    as_nan = sub.values.copy()
    as_nan[:, 0] = np.nan
    np.testing.assert_allclose(m.score(missing).theta, m.score(as_nan).theta, atol=1e-12)
    assert not np.allclose(m.score(missing).theta, ref.theta)
    # and the scores keep the model labels of the input
    assert m.score(shuffled).models == sub.models


def test_score_rejects_unmatched_inputs(data):
    m = data["fit"]
    with pytest.raises(InputError, match="none of these items"):
        m.score(ResponseMatrix.from_array(np.ones((2, 3)), items=["x", "y", "z"]))
    with pytest.raises(InputError, match="25"):
        m.score(np.ones((2, 24)))
    with pytest.raises(InputError, match="unknown scoring method"):
        m.score(data["y"][:2], method="wle")


def test_score_methods_map_and_mle(data):
    m = data["fit"]
    y = data["y"][:20]
    eap, map_, mle = (m.score(y, method=k) for k in ("eap", "map", "mle"))
    # all three agree closely with 25 items; MAP/EAP shrink toward 0 relative to MLE
    finite = np.isfinite(mle.theta)
    assert corr(eap.theta, map_.theta) > 0.99
    assert np.all(np.abs(map_.theta[finite]) <= np.abs(mle.theta[finite]) + 1e-9)


# ---------------------------------------------------------------------------
# predictions


def test_predict_proba_predicts_hidden_cells(data):
    m = data["fit"]
    y = data["y"][:4].copy()
    hidden = np.zeros_like(y, dtype=bool)
    hidden[:, :5] = True
    y[hidden] = np.nan
    proba = m.predict_proba(y)
    assert proba.shape == (4, 25)
    assert np.all(np.isfinite(proba)) and np.all((proba > 0) & (proba < 1))
    # reference: posterior mean by quad from the visible cells, then the written-out IRF
    a, b = m.discrimination_, m.difficulty_
    for i, row in enumerate(y):
        ok = ~np.isnan(row)

        def dens(t, row=row, ok=ok):
            p = 0.5 * (1 + np.tanh(0.5 * a[ok] * (t - b[ok])))
            return float(np.prod(p ** row[ok] * (1 - p) ** (1 - row[ok]))) * stats.norm.pdf(t)

        z = integrate.quad(dens, -12, 12, epsabs=1e-13)[0]
        eap = integrate.quad(lambda t: t * dens(t), -12, 12, epsabs=1e-13)[0] / z
        np.testing.assert_allclose(proba[i], formula([eap], a, b, 0.0, 1.0)[0], atol=1e-5)


def test_log_loss_matches_its_definition(data):
    m = data["fit"]
    y = data["y"]
    mask = np.random.default_rng(1).random(y.shape) < 0.1
    loss = m.log_loss(y, mask)
    # written out: score from the unmasked cells, predict the masked ones, mean binary cross-entropy
    train = y.copy()
    train[mask] = np.nan
    theta = m.score(train).theta
    p = formula(theta, m.discrimination_, m.difficulty_, 0.0, 1.0)[mask]
    expected = -np.mean(y[mask] * np.log(p) + (1 - y[mask]) * np.log(1 - p))
    assert loss == pytest.approx(expected, rel=1e-10)
    # and it is close to the log-loss of the true probabilities, well below chance (ln 2)
    true_p = data["p"][mask]
    oracle = -np.mean(y[mask] * np.log(true_p) + (1 - y[mask]) * np.log(1 - true_p))
    assert abs(loss - oracle) < 0.03
    assert loss < math.log(2) - 0.05
    with pytest.raises(InputError, match="mask"):
        m.log_loss(y, mask[:, :3])


# ---------------------------------------------------------------------------
# persistence


def test_save_load_round_trip(data, tmp_path):
    m = data["fit"]
    path = m.save(tmp_path / "deep" / "fit.json")
    assert path.exists()
    doc = json.loads(path.read_text())
    assert doc["schema"] == "metabench.irt" and doc["model"] == "2pl" and doc["items"] == list(data["rm"].items)
    loaded = IRT.load(path)
    assert loaded.model_ == "2pl" and loaded.items_ == m.items_ and loaded.models_ == m.models_
    np.testing.assert_array_equal(loaded.discrimination_, m.discrimination_)
    np.testing.assert_array_equal(loaded.difficulty_, m.difficulty_)
    assert loaded.loglik_ == m.loglik_ and loaded.converged_ == m.converged_ and loaded.n_iter_ == m.n_iter_
    new = data["y"][:7].copy()
    new[2, :10] = np.nan
    np.testing.assert_array_equal(loaded.predict_proba(new), m.predict_proba(new))
    for method in ("eap", "map", "mle"):
        a, b = loaded.score(new, method=method), m.score(new, method=method)
        np.testing.assert_array_equal(a.theta, b.theta)
        np.testing.assert_array_equal(a.se, b.se)


def test_save_load_round_trip_3pl_with_priors(tmp_path):
    _, _, _, _, y = simulate(200, 15, seed=9)
    priors = Priors(slope_sd=2.0, guessing_sd=0.5)
    m = IRT(model="3pl", priors=priors, max_iter=50).fit(y)
    loaded = IRT.load(m.save(tmp_path / "m.json"))
    assert loaded.priors == priors and loaded.model_ == "3pl"
    np.testing.assert_array_equal(loaded.guessing_, m.guessing_)
    np.testing.assert_array_equal(loaded.predict_proba(y[:5]), m.predict_proba(y[:5]))


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "something-else"}))
    with pytest.raises(InputError, match="not a metabench IRT parameter file"):
        IRT.load(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="cannot read"):
        IRT.load(broken)
    with pytest.raises(InputError, match="cannot read"):
        IRT.load(tmp_path / "absent.json")


def test_a_loaded_model_can_be_warm_started_and_asked_for_predictions(data, tmp_path):
    loaded = IRT.load(data["fit"].save(tmp_path / "fit.json"))
    with pytest.raises(InputError):
        loaded.predict_proba()
    loaded.set_params(warm_start=True)
    assert loaded.fit(data["rm"]).converged_


# ---------------------------------------------------------------------------
# warm start


def test_warm_start_reduces_iterations(data):
    cold = IRT(model="2pl", tol=1e-8).fit(data["y"])
    warm = IRT(model="2pl", tol=1e-8, warm_start=True).fit(data["y"])
    first = warm.n_iter_
    warm.fit(data["y"])
    assert first == cold.n_iter_
    assert warm.n_iter_ < first
    np.testing.assert_allclose(warm.difficulty_, cold.difficulty_, atol=1e-3)
    # a different model spec does not reuse the parameters
    other = IRT(model="2pl", tol=1e-8, warm_start=True).fit(data["y"])
    other.set_params(model="1pl").fit(data["y"])
    assert other.model_ == "1pl" and other.converged_


# ---------------------------------------------------------------------------
# model selection


@pytest.fixture(scope="module")
def auto_2pl_few_models():
    _, _, _, _, y = simulate(60, 30, seed=0)
    return IRT(model="auto", seed=0).fit(y)


def test_auto_selection_table(auto_2pl_few_models):
    m = auto_2pl_few_models
    sel = m.selection_
    assert isinstance(sel, pl.DataFrame)
    assert sel.columns == ["model", "heldout_logloss", "n_params", "converged", "se_vs_best", "chosen"]
    assert sel.filter(pl.col("chosen")).height == 1
    assert sorted(sel["model"].to_list()) == sorted(AUTO_CANDIDATES)
    assert sel["heldout_logloss"].is_sorted()
    # the choice: the fewest parameters among models within one standard error of the lowest loss
    best = sel["heldout_logloss"][0]
    within = sel.filter(pl.col("heldout_logloss") - best <= pl.col("se_vs_best"))
    assert sel.filter(pl.col("chosen"))["model"][0] == m.model_ == within.sort("n_params")["model"][0]
    # parameter counts by hand: J·(params per item) + 1 for the Rasch latent sd, J = 30
    n_params = dict(zip(sel["model"], sel["n_params"]))
    assert n_params == {"1pl": 31, "2pl": 60, "3pl": 90, "4pl": 120, "mirt2": 90, "mirt3": 120}
    assert np.all(sel["heldout_logloss"].to_numpy() < math.log(2))
    # the final model is refitted on every cell
    assert m.n_obs_ == 60 * 30


def test_auto_picks_2pl_or_simpler_for_2pl_data_with_few_models(auto_2pl_few_models):
    assert auto_2pl_few_models.model_ in ("1pl", "2pl")


def test_auto_picks_mirt_for_three_dimensional_data():
    rng = np.random.default_rng(0)
    n, j = 600, 24
    theta = rng.normal(size=(n, 3))
    loadings = np.zeros((j, 3))
    for d in range(3):
        loadings[d::3, d] = rng.uniform(1.0, 2.0, j // 3)
    loadings += rng.uniform(0.0, 0.3, (j, 3))
    delta = rng.normal(size=j)
    y = (rng.random((n, j)) < 1 / (1 + np.exp(-(theta @ loadings.T + delta)))).astype(float)
    # max_iter bounds the runtime: the held-out log-losses differ by 0.05, far more than the last iterations move them
    m = IRT(model="auto", candidates=("2pl", "mirt3"), seed=0, max_iter=50).fit(y)
    assert m.model_ == "mirt3" and m.abilities_.shape == (n, 3)
    losses = dict(zip(m.selection_["model"], m.selection_["heldout_logloss"]))
    assert losses["mirt3"] < losses["2pl"] - 0.02


def test_auto_is_deterministic_with_the_same_seed():
    _, _, _, _, y = simulate(80, 15, seed=2)
    kw = {"model": "auto", "candidates": ("1pl", "2pl")}
    one = IRT(seed=5, **kw).fit(y)
    two = IRT(seed=5, **kw).fit(y)
    three = IRT(seed=6, **kw).fit(y)
    assert one.selection_.equals(two.selection_)
    assert not one.selection_["heldout_logloss"].equals(three.selection_["heldout_logloss"])


def test_auto_choice_is_the_same_when_rows_or_columns_are_permuted():
    # the held-out cells are keyed by (model, item) labels and every fit is equivariant under permutations,
    # so shuffling rows and columns changes neither the held-out losses nor the choice
    _, _, _, _, y = simulate(120, 30, seed=4)
    models = [f"model-{i}" for i in range(y.shape[0])]
    items = [f"item-{j}" for j in range(y.shape[1])]
    kw = {"model": "auto", "candidates": ("1pl", "2pl", "3pl"), "seed": 3}
    ref = IRT(**kw).fit(ResponseMatrix.from_array(y, models=models, items=items))
    rng = np.random.default_rng(9)
    for rows, cols in ((rng.permutation(120), np.arange(30)), (np.arange(120), rng.permutation(30)), (rng.permutation(120), rng.permutation(30))):
        shuffled = ResponseMatrix.from_array(y[np.ix_(rows, cols)], models=[models[i] for i in rows], items=[items[j] for j in cols])
        m = IRT(**kw).fit(shuffled)
        assert m.model_ == ref.model_
        assert m.selection_["model"].to_list() == ref.selection_["model"].to_list()
        np.testing.assert_allclose(m.selection_["heldout_logloss"].to_numpy(), ref.selection_["heldout_logloss"].to_numpy(), rtol=1e-6)
        # and the final fit is the same, item for item
        order = np.argsort(cols)
        np.testing.assert_allclose(m.difficulty_[order], ref.difficulty_, rtol=1e-5, atol=1e-6)


def test_auto_on_partial_credit_uses_the_continuous_model():
    rng = np.random.default_rng(0)
    _, _, _, p, _ = simulate(100, 10, seed=1)
    y = rng.binomial(4, p) / 4
    m = IRT(model="auto").fit(y)
    assert m.model_ == "continuous" and m.selection_["model"].to_list() == ["continuous"]
    with pytest.raises(InputError, match="continuous"):
        IRT(model="auto", candidates=("2pl",)).fit(y)


def corr(x, y):
    return float(np.corrcoef(x, y)[0, 1])
