"""Tests of metabench.irt.models: the response function and the model specs.

References: the four-parameter logistic written out element by element with
``math.exp`` (a double loop over abilities and items, no broadcasting), and the
parameter counts of each model counted by hand from its definition.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from metabench.errors import InputError
from metabench.irt.models import MODELS, ModelSpec, irf, model_spec

THETA = np.array([-3.0, -1.2, 0.0, 0.4, 2.5])
A = np.array([1.0, 0.4, 2.3, 1.1])
B = np.array([0.0, -1.5, 0.7, 2.0])
C = np.array([0.0, 0.2, 0.25, 0.1])
D = np.array([1.0, 1.0, 0.9, 0.8])


def reference_irf(theta, a, b, c=None, d=None):
    """P = c + (d - c) / (1 + exp(-a (theta - b))), one cell at a time with the math module."""
    out = np.empty((len(theta), len(a)))
    for i, t in enumerate(theta):
        for j in range(len(a)):
            lo = 0.0 if c is None else c[j]
            hi = 1.0 if d is None else d[j]
            out[i, j] = lo + (hi - lo) / (1.0 + math.exp(-a[j] * (t - b[j])))
    return out


def test_irf_2pl_matches_the_formula_cell_by_cell():
    got = irf(THETA, A, B)
    assert got.shape == (5, 4)
    np.testing.assert_allclose(got, reference_irf(THETA, A, B), rtol=1e-14, atol=0)


def test_irf_4pl_matches_the_formula_cell_by_cell():
    got = irf(THETA, A, B, C, D)
    np.testing.assert_allclose(got, reference_irf(THETA, A, B, C, D), rtol=1e-14, atol=0)


def test_irf_hand_values():
    # P(θ = b) is the midpoint of the asymptotes: 0.5 for the 2PL, (c + d)/2 for the 4PL
    assert irf([0.7], [2.3], [0.7]).item() == 0.5
    assert irf([0.7], [2.3], [0.7], [0.25], [0.9]).item() == pytest.approx(0.575, abs=1e-15)
    # a = 1, θ − b = ln 3: σ = 3/4 exactly
    assert irf([math.log(3.0)], [1.0], [0.0]).item() == pytest.approx(0.75, abs=1e-15)


def test_irf_accepts_a_column_of_abilities_and_scalars():
    col = irf(THETA[:, None], A, B, C, D)
    np.testing.assert_allclose(col, reference_irf(THETA, A, B, C, D), rtol=1e-14)
    # scalar asymptotes broadcast over items
    np.testing.assert_allclose(
        irf(THETA, A, B, 0.2, 0.95), reference_irf(THETA, A, B, np.full(4, 0.2), np.full(4, 0.95)), rtol=1e-14
    )


def test_irf_is_monotone_and_bounded_by_the_asymptotes():
    grid = np.linspace(-30, 30, 601)
    p = irf(grid, A, B, C, D)
    assert np.all(np.diff(p, axis=0) >= 0)
    assert np.all(p >= C - 1e-15) and np.all(p <= D + 1e-15)
    # far out (|a (θ − b)| > 38 for every item) the asymptotes are reached to double precision
    far = irf([-100.0, 100.0], A, B, C, D)
    np.testing.assert_allclose(far[0], C, atol=1e-15)
    np.testing.assert_allclose(far[1], D, atol=1e-15)


@pytest.mark.parametrize(
    ("name", "dims", "count", "canonical"),
    [
        # hand count: slopes (free only if not Rasch, one per dimension) + intercept + guessing + slipping
        ("1pl", 2, 1, "1pl"),
        ("rasch", 2, 1, "1pl"),
        ("RASCH ", 2, 1, "1pl"),
        ("2pl", 2, 2, "2pl"),
        ("3pl", 2, 3, "3pl"),
        ("4pl", 2, 4, "4pl"),
        ("continuous", 2, 2, "continuous"),
        ("mirt", 2, 3, "mirt"),
        ("mirt", 3, 4, "mirt"),
        ("mirt", 5, 6, "mirt"),
    ],
)
def test_model_spec_parameter_counts(name, dims, count, canonical):
    spec = model_spec(name, n_dims=dims)
    assert isinstance(spec, ModelSpec)
    assert spec.name == canonical
    assert spec.n_item_params == count


def test_model_spec_flags():
    assert model_spec("1pl").estimates_latent_sd and not model_spec("1pl").free_slope
    assert not model_spec("2pl").estimates_latent_sd
    assert model_spec("3pl").guessing and not model_spec("3pl").slipping
    assert model_spec("4pl").guessing and model_spec("4pl").slipping
    assert model_spec("continuous").continuous and not model_spec("2pl").continuous
    assert model_spec("2pl").n_dims == 1 and model_spec("mirt", n_dims=4).n_dims == 4
    assert set(MODELS) == {"1pl", "2pl", "3pl", "4pl", "continuous", "mirt"}


@pytest.mark.parametrize("name", ["5pl", "", "2-pl", "grm", "auto"])
def test_unknown_model_names_raise_input_error(name):
    with pytest.raises(InputError, match="unknown IRT model") as info:
        model_spec(name)
    assert info.value.problem.fix and "2pl" in info.value.problem.fix


@pytest.mark.parametrize("dims", [0, 1])
def test_mirt_needs_two_dimensions(dims):
    with pytest.raises(InputError, match="n_dims >= 2"):
        model_spec("mirt", n_dims=dims)
