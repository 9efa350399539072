"""The torch backend computes the same thing as the numpy backend.

Reference: the numpy backend (itself tested against scipy integration and
simulations in test_estimate.py and test_scoring.py), and for the elementary
operations scipy.special / numpy written-out formulas. In float64 the two
backends perform the same arithmetic in a different order, so estimates agree to
rounding (asserted at 1e-6, observed ~1e-13).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

torch = pytest.importorskip("torch")

from metabench.errors import InputError
from metabench.irt import IRT
from metabench.irt._backend import Backend, TorchBackend, get_backend
from metabench.irt.estimate import em_fit, jmap_fit
from metabench.irt.models import model_spec
from metabench.irt.scoring import score_abilities


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: torch's OpenMP threads only contend with numpy's BLAS threads (50× slower on 2 busy cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def responses():
    """3PL responses, 200 models × 15 items, 10% missing."""
    rng = np.random.default_rng(0)
    n, j = 200, 15
    theta = rng.normal(size=n)
    a = rng.uniform(0.7, 2.0, j)
    b = rng.normal(0.0, 1.0, j)
    c = rng.uniform(0.1, 0.25, j)
    y = (rng.random((n, j)) < c + (1 - c) / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    y[rng.random(y.shape) < 0.1] = np.nan
    return y


@pytest.fixture(scope="module")
def responses_2d():
    rng = np.random.default_rng(1)
    n, j = 200, 16
    theta = rng.normal(size=(n, 2))
    loadings = np.zeros((j, 2))
    loadings[:8, 0] = rng.uniform(1.0, 2.0, 8)
    loadings[8:, 1] = rng.uniform(1.0, 2.0, 8)
    delta = rng.normal(size=j)
    return (rng.random((n, j)) < 1 / (1 + np.exp(-(theta @ loadings.T + delta)))).astype(float)


def _assert_same_fit(rn, rt):
    assert rn.n_iter == rt.n_iter and rn.converged == rt.converged and rn.n_quad == rt.n_quad
    np.testing.assert_allclose(rt.params.slopes, rn.params.slopes, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rt.params.intercepts, rn.params.intercepts, rtol=0, atol=1e-6)
    if rn.params.guess_logit is not None:
        np.testing.assert_allclose(rt.params.guess_logit, rn.params.guess_logit, rtol=0, atol=1e-6)
    assert rt.params.latent_sd == pytest.approx(rn.params.latent_sd, abs=1e-6)
    np.testing.assert_allclose(rt.mean, rn.mean, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rt.chol, rn.chol, rtol=0, atol=1e-6)
    assert rt.loglik == pytest.approx(rn.loglik, rel=1e-9)
    np.testing.assert_allclose(rt.trace, rn.trace, rtol=1e-9)


@pytest.mark.parametrize("model", ["2pl", "3pl", "1pl"])
def test_em_numpy_and_torch_agree(responses, model):
    spec = model_spec(model)
    rn = em_fit(responses, spec, backend="numpy", max_iter=60)
    rt = em_fit(responses, spec, backend="torch", device="cpu", max_iter=60)
    assert isinstance(rt.mean, np.ndarray) and rt.mean.dtype == np.float64
    _assert_same_fit(rn, rt)


def test_em_mirt2_numpy_and_torch_agree(responses_2d):
    spec = model_spec("mirt", 2)
    rn = em_fit(responses_2d, spec, backend="numpy")
    rt = em_fit(responses_2d, spec, backend="torch")
    assert rn.converged
    _assert_same_fit(rn, rt)


def test_jmap_numpy_and_torch_agree(responses):
    rn = jmap_fit(responses, model_spec("2pl"), max_iter=40)
    rt = jmap_fit(responses, model_spec("2pl"), backend="torch", max_iter=40)
    _assert_same_fit(rn, rt)


@pytest.mark.parametrize("method", ["eap", "map", "mle"])
def test_scoring_numpy_and_torch_agree(responses, method):
    params = em_fit(responses, model_spec("3pl"), max_iter=30).params
    y = responses.copy()
    y[0] = 1.0  # an all-correct pattern: MLE = +inf on both backends
    tn, cn = score_abilities(y, params, model_spec("3pl"), method=method)
    tt, ct = score_abilities(y, params, model_spec("3pl"), method=method, backend="torch")
    np.testing.assert_allclose(tt, tn, rtol=0, atol=1e-6)  # equal infinities compare equal
    np.testing.assert_allclose(ct, cn, rtol=1e-6, atol=1e-12)


def test_estimator_with_the_torch_backend(responses):
    mn = IRT(model="2pl").fit(responses)
    mt = IRT(model="2pl", backend="torch").fit(responses)
    np.testing.assert_allclose(mt.discrimination_, mn.discrimination_, atol=1e-6)
    np.testing.assert_allclose(mt.difficulty_, mn.difficulty_, atol=1e-6)
    np.testing.assert_allclose(mt.abilities_, mn.abilities_, atol=1e-6)
    np.testing.assert_allclose(mt.predict_proba(responses[:5]), mn.predict_proba(responses[:5]), atol=1e-8)
    np.testing.assert_allclose(
        mt.score(responses[:5], method="map").theta, mn.score(responses[:5], method="map").theta, atol=1e-8
    )


def test_float32_torch_is_close_to_float64_numpy(responses):
    # px=False: with the default priors PX-EM does not stop at a unique point (see test_estimate.py), which
    # would measure that instead of the rounding of float32
    rn = em_fit(responses, model_spec("2pl"), precision="float64", px=False)
    rt = em_fit(responses, model_spec("2pl"), backend="torch", precision="float32", px=False)
    assert rt.converged
    np.testing.assert_allclose(rt.params.slopes, rn.params.slopes, atol=1e-4)
    np.testing.assert_allclose(rt.params.intercepts, rn.params.intercepts, atol=1e-4)
    assert rt.loglik == pytest.approx(rn.loglik, rel=1e-6)


def test_cuda_without_cuda_raises_input_error(monkeypatch, responses):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match="not available") as info:
        get_backend("torch", device="cuda")
    assert "device='cpu'" in str(info.value)
    with pytest.raises(InputError, match="not available"):
        em_fit(responses, model_spec("2pl"), backend="torch", device="cuda:0")
    with pytest.raises(InputError, match="not available"):
        IRT(backend="torch", device="cuda").fit(responses)


def test_cuda_device(responses):
    """Without CUDA (this machine or not): a clear InputError. With CUDA: the numpy estimates."""
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="not available"):
            em_fit(responses, model_spec("2pl"), backend="torch", device="cuda")
        return
    rn = em_fit(responses, model_spec("3pl"), max_iter=60)
    rc = em_fit(responses, model_spec("3pl"), backend="torch", device="cuda", max_iter=60)
    _assert_same_fit(rn, rc)


def test_get_backend_types_and_precision():
    assert isinstance(get_backend("numpy"), Backend) and get_backend("numpy").dtype == np.float64
    assert get_backend("numpy", precision="float32").dtype == np.float32
    tb = get_backend("torch")
    assert isinstance(tb, TorchBackend) and tb.dtype == torch.float64 and tb.device == torch.device("cpu")
    assert get_backend("torch", precision="float32").dtype == torch.float32


def test_elementary_operations_match_scipy():
    # references: scipy.special.expit for σ and numpy.logaddexp(0, x) for softplus
    x = np.array([[-800.0, -30.0, -1.5, 0.0, 1e-8, 2.0, 35.0, 800.0]])
    for be in (get_backend("numpy"), get_backend("torch")):
        xs = be.asarray(x)
        # the numpy σ = (1 + tanh(x/2))/2 is accurate in absolute terms only (σ(−30) = 9.358e-14 comes out
        # 9.359e-14); probabilities are clipped to [1e-10, 1 − 1e-10] wherever a logarithm is taken
        np.testing.assert_allclose(be.to_numpy(be.sigmoid(xs)), special.expit(x), rtol=1e-14, atol=2e-16)
        np.testing.assert_allclose(be.to_numpy(be.softplus(xs)), np.logaddexp(0.0, x), rtol=1e-14, atol=1e-300)
        rng = np.random.default_rng(0)
        m = rng.normal(size=(4, 3, 3))
        spd = m @ m.transpose(0, 2, 1) + 3 * np.eye(3)
        rhs = rng.normal(size=(4, 3))
        np.testing.assert_allclose(
            be.to_numpy(be.solve(be.asarray(spd), be.asarray(rhs))),
            np.linalg.solve(spd, rhs[..., None])[..., 0],
            rtol=1e-12,
        )
        np.testing.assert_allclose(be.to_numpy(be.cholesky(be.asarray(spd))), np.linalg.cholesky(spd), rtol=1e-12)
        np.testing.assert_allclose(be.to_numpy(be.with_ones(be.asarray(rhs))), np.column_stack([rhs, np.ones(4)]))
