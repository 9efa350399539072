"""Rasch (1PL) item difficulties against an independent reference: R's eRm (CML).

The reference numbers live in ``tests/irt/reference/`` and were produced by
``Rscript erm_rasch.R`` there (eRm 1.0.2, R 4.2.2); see that folder's README.

Two kinds of check:

* ``test_tiny_cml_*`` need nothing from :mod:`metabench.irt`.  A small conditional
  maximum-likelihood fit written here (elementary symmetric functions + scipy)
  must reproduce eRm's difficulties to 1e-4, which shows the reference files are
  read with the right sign (eRm's ``betapar`` is easiness; difficulty is
  ``-betapar``) and normalisation (difficulties sum to zero).
* ``test_irt_1pl_matches_erm_cml`` fits ``IRT(model="1pl")`` (marginal ML, normal
  latent distribution with estimated variance).  MML and CML differ slightly, so
  the comparison is on centred difficulties: max abs difference < 0.02 and
  correlation > 0.999.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize

REFERENCE = Path(__file__).parent / "reference"

# name -> (persons, items, missing cells), as written by erm_rasch.R
DATASETS = {
    "raschdat1": (100, 30, 0),
    "raschdat3": (500, 6, 0),
    "raschdat1_na10": (100, 30, 300),
    "raschdat4": (500, 6, 200),
}
COMPLETE = ["raschdat1", "raschdat3"]

MML_CML_MAX_ABS = 0.02
MML_CML_MIN_CORR = 0.999
TINY_CML_TOL = 1e-4


# --------------------------------------------------------------------------- loading


def load_responses(name: str) -> np.ndarray:
    """The response matrix eRm fitted: float (persons, items), NaN = missing."""
    with open(REFERENCE / f"{name}_X.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[0] == "person"
    return np.array([[float(v) if v != "" else np.nan for v in row[1:]] for row in body])


def load_table(name: str, kind: str) -> dict[str, np.ndarray]:
    """``NAME_items.csv`` or ``NAME_persons.csv`` as a dict of columns."""
    with open(REFERENCE / f"{name}_{kind}.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, np.ndarray] = {}
    for col in rows[0]:
        values = [r[col] for r in rows]
        if col == "item":
            out[col] = np.array(values)
        elif col == "interpolated":
            out[col] = np.array([v == "TRUE" for v in values])
        else:
            out[col] = np.array([float(v) if v != "" else np.nan for v in values])
    return out


def erm_difficulties(name: str) -> np.ndarray:
    return load_table(name, "items")["difficulty"]


# --------------------------------------------------------------------------- tiny CML


def _esf(eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementary symmetric functions, vectorised over rows.

    eps: (G, J) item easiness exp(-b), 0 where an item is not observed.
    Returns gamma (G, J+1) over all items and gamma_without (G, J, J+1), where
    gamma_without[g, i] leaves item i out.
    """
    n_groups, n_items = eps.shape
    gamma = np.zeros((n_groups, n_items + 1))
    gamma[:, 0] = 1.0
    without = np.zeros((n_groups, n_items, n_items + 1))
    without[:, :, 0] = 1.0
    for k in range(n_items):
        e = eps[:, k, None]
        gamma[:, 1:] += e * gamma[:, :-1]
        step = e[:, :, None] * without[:, :, :-1]
        step[:, k, :] = 0.0
        without[:, :, 1:] += step
    return gamma, without


def conditional_loglik(X: np.ndarray):
    """Rasch conditional log-likelihood of difficulties ``b`` and its gradient.

    Each person's raw score is conditioned on over the items they answered, so
    persons are grouped by their pattern of observed items (as eRm does).
    Returns a function ``b -> (loglik, d loglik / d b)``.
    """
    observed = ~np.isnan(X)
    Y = np.where(observed, X, 0.0)
    patterns, group = np.unique(observed, axis=0, return_inverse=True)
    group = group.ravel()
    raw = Y.sum(axis=1).astype(int)
    solved = Y.sum(axis=0)
    informative = raw > 0  # raw == 0 contributes nothing (and raw == n_obs cancels exactly)
    person_mask = patterns[group].astype(float)

    def loglik(b: np.ndarray) -> tuple[float, np.ndarray]:
        eps = np.exp(-b)
        gamma, without = _esf(patterns * eps)
        g_r = gamma[group, raw]
        ll = -(solved @ b) - np.log(g_r).sum()
        # P(x_vi = 1 | r_v) = eps_i * gamma^(i)_{r_v - 1} / gamma_{r_v}
        prev = without[group[informative], :, raw[informative] - 1]
        expected = (person_mask[informative] * eps * prev / g_r[informative, None]).sum(axis=0)
        return float(ll), expected - solved

    return loglik


def tiny_cml(X: np.ndarray) -> np.ndarray:
    """Rasch difficulties by conditional ML, normalised to sum to zero (eRm's sum0)."""
    loglik = conditional_loglik(X)

    def unpack(z: np.ndarray) -> np.ndarray:
        return np.concatenate([[-z.sum()], z])  # b_1 = -sum(b_2..b_J), as eRm's etapar

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = loglik(unpack(z))
        return -ll, -(grad[1:] - grad[0])

    p = np.clip(np.nanmean(X, axis=0), 0.01, 0.99)
    b0 = -np.log(p / (1 - p))
    b0 -= b0.mean()
    res = minimize(objective, b0[1:], jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 1000})
    _, grad = objective(res.x)
    # the score is a sum over persons; 1e-7 per person moves b by far less than 1e-4
    assert np.abs(grad).max() < 1e-7 * X.shape[0], res.message
    return unpack(res.x)


def rasch_mle_theta(raw_score: float, b: np.ndarray) -> float:
    """Person MLE for a raw score given item difficulties (Newton on sum P = r)."""
    theta = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(theta - b)))
        step = (p.sum() - raw_score) / (p * (1 - p)).sum()
        theta -= step
        if abs(step) < 1e-12:
            break
    return theta


# --------------------------------------------------------------------------- reference files


@pytest.mark.parametrize("name", list(DATASETS))
def test_reference_files_are_consistent(name: str) -> None:
    n_persons, n_items, n_missing = DATASETS[name]
    X = load_responses(name)
    assert X.shape == (n_persons, n_items)
    assert int(np.isnan(X).sum()) == n_missing
    assert set(np.unique(X[~np.isnan(X)])) == {0.0, 1.0}

    items = load_table(name, "items")
    assert list(items["item"]) == [f"I{j}" for j in range(1, n_items + 1)]
    # difficulty = -betapar, sums to zero; item 1 is eRm's restricted parameter
    np.testing.assert_allclose(items["difficulty"], -items["betapar"], rtol=0, atol=1e-12)
    assert abs(items["difficulty"].sum()) < 1e-10
    assert np.isnan(items["etapar"][0])
    np.testing.assert_allclose(items["etapar"][1:], items["difficulty"][1:], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(items["n_obs"], (~np.isnan(X)).sum(axis=0))
    np.testing.assert_array_equal(items["n_correct"], np.nansum(X, axis=0))
    assert np.all(items["se"] > 0)


def test_reference_known_values() -> None:
    # raschdat1: item 1 solved by 76 of 100 persons, the easiest item
    items = load_table("raschdat1", "items")
    assert items["n_correct"][0] == 76
    assert items["difficulty"][0] == pytest.approx(-1.56526974359381, abs=1e-12)
    assert items["se"][0] == pytest.approx(0.249041697873392, abs=1e-12)
    assert int(np.argmin(items["difficulty"])) == 0
    # the 10%-missing variant of raschdat1 differs from the complete one
    na10 = load_table("raschdat1_na10", "items")
    assert na10["difficulty"][0] == pytest.approx(-1.50131921871996, abs=1e-12)
    X1, X1na = load_responses("raschdat1"), load_responses("raschdat1_na10")
    kept = ~np.isnan(X1na)
    np.testing.assert_array_equal(X1na[kept], X1[kept])
    # raschdat3 (eRm prints eta for items 2..6): I2 = -0.84607816, I6 = 1.30890221
    d3 = erm_difficulties("raschdat3")
    assert d3[1] == pytest.approx(-0.84607816, abs=1e-8)
    assert d3[5] == pytest.approx(1.30890221, abs=1e-8)


# --------------------------------------------------------------------------- tiny CML vs eRm


@pytest.mark.parametrize("name", list(DATASETS))
def test_tiny_cml_reproduces_erm(name: str) -> None:
    b = tiny_cml(load_responses(name))
    ref = erm_difficulties(name)
    diff = np.abs(b - ref).max()
    assert diff < TINY_CML_TOL, f"{name}: tiny CML vs eRm max abs diff {diff:.2e}"


@pytest.mark.parametrize("name", list(DATASETS))
def test_conditional_loglik_at_erm_estimates(name: str) -> None:
    # eRm's reported conditional log-likelihood is the one defined above, at eRm's b
    with open(REFERENCE / "erm_fits.csv", newline="") as fh:
        fits = {row["dataset"]: row for row in csv.DictReader(fh)}
    ll, _ = conditional_loglik(load_responses(name))(erm_difficulties(name))
    assert ll == pytest.approx(float(fits[name]["cml_loglik"]), abs=1e-6)
    n_persons, n_items, n_missing = DATASETS[name]
    assert (int(fits[name]["n_persons"]), int(fits[name]["n_items"]), int(fits[name]["n_missing"])) == (
        n_persons,
        n_items,
        n_missing,
    )
    assert int(fits[name]["npar"]) == n_items - 1
    assert fits[name]["convergence"] == "1"


@pytest.mark.parametrize("name", COMPLETE)
def test_erm_person_parameters_are_rasch_mle(name: str) -> None:
    persons = load_table(name, "persons")
    b = erm_difficulties(name)
    X = load_responses(name)
    scores, counts = np.unique(X.sum(axis=1), return_counts=True)
    np.testing.assert_array_equal(persons["raw_score"], scores)
    np.testing.assert_array_equal(persons["n_persons"], counts)
    extreme = (persons["raw_score"] == 0) | (persons["raw_score"] == X.shape[1])
    np.testing.assert_array_equal(persons["interpolated"], extreme)
    for r, theta in zip(persons["raw_score"][~extreme], persons["theta"][~extreme]):
        assert rasch_mle_theta(r, b) == pytest.approx(theta, abs=1e-4)
    assert np.all(np.diff(persons["theta"]) > 0)


# --------------------------------------------------------------------------- metabench IRT vs eRm


@pytest.mark.parametrize("name", list(DATASETS))
def test_irt_1pl_matches_erm_cml(name: str) -> None:
    from metabench.irt import IRT

    X = load_responses(name)
    model = IRT(model="1pl", seed=0).fit(X)
    b = np.asarray(model.difficulty_, dtype=float)
    assert b.shape == (X.shape[1],)
    np.testing.assert_allclose(model.discrimination_, np.ones(X.shape[1]), rtol=0, atol=1e-12)

    ref = erm_difficulties(name)
    centred = b - b.mean()
    max_abs = float(np.abs(centred - (ref - ref.mean())).max())
    corr = float(np.corrcoef(b, ref)[0, 1])
    print(f"{name}: IRT(1pl) MML vs eRm CML, centred: max abs diff {max_abs:.4f}, correlation {corr:.6f}")
    assert max_abs < MML_CML_MAX_ABS, f"{name}: max abs diff {max_abs:.4f} (correlation {corr:.6f})"
    assert corr > MML_CML_MIN_CORR, f"{name}: correlation {corr:.6f} (max abs diff {max_abs:.4f})"
