"""Tests of metabench.irt.diagnostics against independent references.

References used here: enumeration of every response pattern (lz), explicit
Python loops (Q1, infit/outfit), statsmodels' multipletests, scipy's chi2,
and simulations with known truth: responses drawn from a known 2PL/3PL with
known abilities, abilities re-estimated by a grid search written in this file
(ML, MAP, WLE), and aberrant or misfitting data constructed on purpose.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from metabench.errors import InputError
from metabench.irt.diagnostics import (
    aic,
    bic,
    fit_groups,
    flag_items,
    flag_persons,
    infit_outfit,
    item_fit,
    likelihood_ratio_test,
    lz_star,
    person_fit,
    person_fit_lz,
)
from metabench.runs import ResponseMatrix


def irf(theta, a, b, c=0.0, d=1.0):
    """Reference 4PL response function written out directly; theta[..., None] against items."""
    theta = np.asarray(theta, dtype=float)[..., None]
    return c + (d - c) / (1.0 + np.exp(-np.asarray(a) * (theta - np.asarray(b))))


def simulate(rng, n, a, b, c=0.0, d=1.0):
    theta = rng.normal(size=n)
    y = (rng.random((n, np.size(a))) < irf(theta, a, b, c, d)).astype(float)
    return theta, y


def argmax_theta(objective, n, lo=-6.0, hi=6.0):
    """Maximise objective(T) -> (n, K) over T of shape (n, K) for each person: grid, then 4 local refinements."""
    grid = np.linspace(lo, hi, 61)
    th = grid[np.argmax(objective(np.broadcast_to(grid, (n, grid.size))), axis=1)]
    step = grid[1] - grid[0]
    for _ in range(4):
        local = th[:, None] + np.linspace(-step, step, 21)
        th = local[np.arange(n), np.argmax(objective(local), axis=1)]
        step /= 10
    return th


def estimate_theta(y, a, b, c, estimator):
    """ML, MAP (N(0, 1) prior) or Warm's WLE (= Jeffreys-prior mode for the 2PL) by grid search."""

    def loglik(T):
        p = irf(T, a, b, c)
        lp, lq = np.log(p), np.log1p(-p)
        return np.matmul(lp - lq, y[:, :, None])[..., 0] + lq.sum(-1)

    def log_info(T):
        p = irf(T, a, b, c)
        s = (p - c) / (1 - c)
        return np.log(np.sum((a * (1 - c) * s * (1 - s)) ** 2 / (p * (1 - p)), axis=-1))

    objective = {
        "ml": loglik,
        "map": lambda T: loglik(T) - T**2 / 2,
        "wle": lambda T: loglik(T) + 0.5 * log_info(T),
    }[estimator]
    return argmax_theta(objective, y.shape[0])


# ---------------------------------------------------------------------------
# lz
# ---------------------------------------------------------------------------


def test_lz_matches_enumeration_of_all_response_patterns():
    # 4 items (1PL, 2PL, 3PL, 4PL), three abilities: the mean and variance of the log-likelihood
    # come from summing over all 16 patterns with their probabilities.
    a = np.array([1.0, 1.6, 0.8, 2.0])
    b = np.array([-0.5, 0.3, 1.0, -1.2])
    c = np.array([0.0, 0.0, 0.2, 0.1])
    d = np.array([1.0, 1.0, 1.0, 0.9])
    patterns = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    for theta in (-1.3, 0.0, 0.8):
        p = irf(np.array([theta]), a, b, c, d)[0]
        loglik = patterns @ np.log(p) + (1 - patterns) @ np.log(1 - p)
        prob = np.exp(loglik)
        mean = prob @ loglik
        sd = np.sqrt(prob @ (loglik - mean) ** 2)
        got = person_fit_lz(patterns, np.full(16, theta), a, b, c, d)
        np.testing.assert_allclose(got, (loglik - mean) / sd, rtol=1e-10)


def test_lz_by_hand():
    # theta = 0, b = (-1, 0, 1), a = 1: P = (s, 1/2, 1 - s) with s = sigmoid(1); log-odds w = (1, 0, -1);
    # l0 - E(l0) = sum (y - P) w; var = sum P Q w^2 = 2 s (1 - s).
    s = 1 / (1 + np.exp(-1.0))
    sd = np.sqrt(2 * s * (1 - s))
    expected = np.array([((1 - s) + (1 - s)) / sd, (-s - s) / sd])
    got = person_fit_lz([[1, 1, 0], [0, 1, 1]], [0.0, 0.0], a=[1, 1, 1], b=[-1, 0, 1])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_missing_cells_are_left_out():
    rng = np.random.default_rng(20)
    a, b = rng.uniform(0.5, 2, 12), rng.normal(size=12)
    theta, y = simulate(rng, 30, a, b)
    y_missing = y.copy()
    y_missing[:, [2, 7]] = np.nan
    keep = np.setdiff1d(np.arange(12), [2, 7])
    np.testing.assert_allclose(
        person_fit_lz(y_missing, theta, a, b), person_fit_lz(y[:, keep], theta, a[keep], b[keep])
    )
    np.testing.assert_allclose(
        lz_star(y_missing, theta, a, b, estimator="wle"), lz_star(y[:, keep], theta, a[keep], b[keep], estimator="wle")
    )
    # a person who answered nothing or whose ability is infinite has no statistic
    y_missing[0] = np.nan
    theta = theta.copy()
    theta[1] = np.inf
    out = person_fit(y_missing, theta, a, b)
    assert out["n_items"].to_list()[:3] == [0, 10, 10]
    assert np.isnan(out["lz"][0]) and np.isnan(out["lz"][1]) and np.isnan(out["lz_star"][1])
    assert np.isfinite(out["lz"][2])


def test_lz_is_standard_normal_at_the_true_ability():
    rng = np.random.default_rng(21)
    a, b = rng.uniform(0.7, 2.0, 40), rng.normal(size=40)
    theta, y = simulate(rng, 2000, a, b)
    lz = person_fit_lz(y, theta, a, b)
    assert abs(lz.mean()) < 0.1
    assert lz.std() == pytest.approx(1.0, abs=0.06)


def test_lz_star_2pl_closed_form():
    # For the 2PL, Snijders' quantities are w_j = a_j (theta - b_j), r_j = a_j and
    # c_n = sum a^2 P Q (theta - b) / sum a^2 P Q; with ML (r_0 = 0) lz* = W / sqrt(sum (w - c_n a)^2 P Q).
    a = np.array([0.6, 1.4, 2.1, 0.9, 1.1])
    b = np.array([-1.0, -0.2, 0.4, 1.3, 0.0])
    y = np.array([[1.0, 0.0, 1.0, 0.0, 1.0]])
    theta = np.array([0.37])
    p = irf(theta, a, b)[0]
    pq = p * (1 - p)
    w = a * (theta[0] - b)
    cn = np.sum(a**2 * pq * (theta[0] - b)) / np.sum(a**2 * pq)
    expected = np.sum((y[0] - p) * w) / np.sqrt(np.sum((w - cn * a) ** 2 * pq))
    assert lz_star(y, theta, a, b)[0] == pytest.approx(expected, rel=1e-10)
    # MAP adds c_n * r_0 = c_n * (-(theta - mu) / s^2) to the numerator
    expected_map = (np.sum((y[0] - p) * w) + cn * (-(theta[0] - 0.5) / 2.0**2)) / np.sqrt(
        np.sum((w - cn * a) ** 2 * pq)
    )
    got_map = lz_star(y, theta, a, b, estimator="map", prior_mean=0.5, prior_sd=2.0)[0]
    assert got_map == pytest.approx(expected_map, rel=1e-10)


@pytest.fixture(scope="module")
def estimated():
    """1000 simulees answering a 40-item 2PL and a 3PL, with ML, MAP and WLE abilities."""
    rng = np.random.default_rng(22)
    a, b = rng.uniform(0.7, 2.0, 40), rng.normal(size=40)
    out = {}
    for model, c in (("2pl", np.zeros(40)), ("3pl", np.where(np.arange(40) % 2 == 0, 0.2, 0.0))):
        _, y = simulate(rng, 1000, a, b, c)
        # ML needs a finite estimate: drop all-correct and all-wrong patterns (a handful)
        mixed = (y.sum(1) > 0) & (y.sum(1) < 40)
        out[model] = {
            "y": y,
            "c": c,
            "mixed": mixed,
            **{est: estimate_theta(y, a, b, c, est) for est in ("ml", "map", "wle")},
        }
    return a, b, out


@pytest.mark.parametrize("model", ["2pl", "3pl"])
@pytest.mark.parametrize("estimator", ["ml", "map", "wle"])
def test_lz_star_is_standard_normal_at_estimated_abilities(estimated, model, estimator):
    a, b, data = estimated
    m = data[model]
    keep = m["mixed"] if estimator == "ml" else np.ones(m["y"].shape[0], dtype=bool)
    z = lz_star(m["y"][keep], m[estimator][keep], a, b, m["c"], estimator=estimator)
    assert np.all(np.isfinite(z))
    # small positive mean: the finite-test skew of lz-type statistics
    assert abs(z.mean()) < 0.2
    assert z.std() == pytest.approx(1.0, abs=0.08)
    assert 0.03 <= np.mean(stats.norm.cdf(z) < 0.05) <= 0.08


def test_uncorrected_lz_is_conservative_at_estimated_abilities(estimated):
    a, b, data = estimated
    m = data["2pl"]
    keep = m["mixed"]
    lz = person_fit_lz(m["y"][keep], m["ml"][keep], a, b)
    star = lz_star(m["y"][keep], m["ml"][keep], a, b)
    assert lz.std() < 0.92
    assert star.std() - lz.std() > 0.08


def test_lz_star_detects_reversed_and_random_patterns():
    # 30 aberrant persons answer the hardest items right and the easiest wrong (keeping a typical score),
    # 30 answer every item at random with probability 1/2; 300 follow the model.
    rng = np.random.default_rng(23)
    a, b = rng.uniform(0.7, 2.0, 40), rng.normal(size=40)
    _, y = simulate(rng, 300, a, b)
    reversed_ = np.zeros((30, 40))
    hardest_first = np.argsort(-b)
    for i, s in enumerate(rng.integers(10, 31, 30)):
        reversed_[i, hardest_first[:s]] = 1.0
    random_ = (rng.random((30, 40)) < 0.5).astype(float)
    y_all = np.vstack([y, reversed_, random_])
    th = estimate_theta(y_all, a, b, np.zeros(40), "wle")
    z = lz_star(y_all, th, a, b, estimator="wle")
    p = stats.norm.cdf(z)
    assert np.mean(p[:300] < 0.05) < 0.08
    assert np.all(p[300:330] < 0.05)
    assert np.mean(p[330:] < 0.05) > 0.8
    flagged = flag_persons(z, alpha=0.05, method="holm")["aberrant"].to_numpy()
    assert flagged[300:330].all()
    assert flagged[330:].mean() > 0.5
    assert flagged[:300].sum() <= 2


def test_person_fit_table():
    rng = np.random.default_rng(24)
    a, b = rng.uniform(0.5, 2, 8), rng.normal(size=8)
    theta, y = simulate(rng, 5, a, b)
    rm = ResponseMatrix.from_array(y, models=[f"model-{i}" for i in range(5)])
    df = person_fit(rm, theta, a, b, estimator="map")
    assert df.columns == ["person", "n_items", "lz", "lz_p", "lz_star", "lz_star_p", "infit", "outfit"]
    assert df["person"].to_list() == [f"model-{i}" for i in range(5)]
    assert df["n_items"].to_list() == [8] * 5
    np.testing.assert_allclose(df["lz"].to_numpy(), person_fit_lz(y, theta, a, b))
    np.testing.assert_allclose(df["lz_star"].to_numpy(), lz_star(y, theta, a, b, estimator="map"))
    np.testing.assert_allclose(df["lz_star_p"].to_numpy(), stats.norm.cdf(df["lz_star"].to_numpy()))
    infit, outfit = infit_outfit(y, theta, a, b, axis="person")
    np.testing.assert_allclose(df["infit"].to_numpy(), infit)
    np.testing.assert_allclose(df["outfit"].to_numpy(), outfit)


# ---------------------------------------------------------------------------
# infit / outfit and Q1
# ---------------------------------------------------------------------------


def test_infit_outfit_match_explicit_loops():
    rng = np.random.default_rng(25)
    a, b, c = rng.uniform(0.5, 2, 6), rng.normal(size=6), np.full(6, 0.1)
    theta, y = simulate(rng, 15, a, b, c)
    y[rng.random(y.shape) < 0.2] = np.nan
    p = irf(theta, a, b, c)
    item_in, item_out = np.zeros(6), np.zeros(6)
    for j in range(6):
        e2 = [(y[i, j] - p[i, j]) ** 2 for i in range(15) if not np.isnan(y[i, j])]
        v = [p[i, j] * (1 - p[i, j]) for i in range(15) if not np.isnan(y[i, j])]
        item_out[j] = np.mean(np.array(e2) / np.array(v))
        item_in[j] = np.sum(e2) / np.sum(v)
    got_in, got_out = infit_outfit(y, theta, a, b, c)
    np.testing.assert_allclose(got_in, item_in, rtol=1e-12)
    np.testing.assert_allclose(got_out, item_out, rtol=1e-12)
    person_in, _ = infit_outfit(y, theta, a, b, c, axis="person")
    i = 3
    m = ~np.isnan(y[i])
    assert person_in[i] == pytest.approx(np.sum((y[i, m] - p[i, m]) ** 2) / np.sum(p[i, m] * (1 - p[i, m])))


def test_q1_matches_explicit_loop():
    rng = np.random.default_rng(26)
    a, b = rng.uniform(0.5, 2, 4), rng.normal(size=4)
    theta, y = simulate(rng, 23, a, b)
    y[rng.random(y.shape) < 0.15] = np.nan
    n_groups = 4
    order = np.argsort(theta, kind="stable")
    groups = np.array_split(order, n_groups)  # sizes 6, 6, 6, 5 -- same as floor(rank * G / N)
    expected_q1, expected_df = [], []
    for j in range(4):
        q1, used = 0.0, 0
        for g in groups:
            answered = [i for i in g if not np.isnan(y[i, j])]
            if not answered:
                continue
            used += 1
            o = np.mean([y[i, j] for i in answered])
            e = np.mean([irf(theta[i : i + 1], a[j], b[j])[0] for i in answered])
            q1 += len(answered) * (o - e) ** 2 / (e * (1 - e))
        expected_q1.append(q1)
        expected_df.append(used - 2)
    fit = item_fit(y, theta, a, b, n_groups=n_groups)
    assert fit.columns == ["item", "n", "q1", "df", "p_value", "infit", "outfit"]
    np.testing.assert_allclose(fit["q1"].to_numpy(), expected_q1, rtol=1e-10)
    assert fit["df"].to_list() == expected_df
    np.testing.assert_allclose(fit["p_value"].to_numpy(), stats.chi2.sf(expected_q1, expected_df))
    assert fit["n"].to_list() == (~np.isnan(y)).sum(0).tolist()


def test_q1_degrees_of_freedom_follow_the_model():
    rng = np.random.default_rng(27)
    theta, y = simulate(rng, 100, np.ones(3), np.zeros(3))
    ones, zeros = np.ones(3), np.zeros(3)
    assert item_fit(y, theta, ones, zeros)["df"].to_list() == [9, 9, 9]  # 1PL
    assert item_fit(y, theta, [1, 2, 1.5], zeros)["df"].to_list() == [8, 8, 8]  # 2PL
    assert item_fit(y, theta, [1, 2, 1.5], zeros, [0.2, 0, 0])["df"].to_list() == [7, 7, 7]  # 3PL
    assert item_fit(y, theta, [1, 2, 1.5], zeros, [0.2, 0, 0], [1, 0.9, 1])["df"].to_list() == [6, 6, 6]  # 4PL
    assert item_fit(y, theta, ones, zeros, n_params=0, n_groups=5)["df"].to_list() == [5, 5, 5]


def test_item_fit_is_calibrated_and_detects_misfitting_items():
    # 150 items drawn from a known 2PL at known abilities (n_params=0: nothing estimated),
    # plus two misfitting items: one non-monotone, one answered at random.
    rng = np.random.default_rng(28)
    n, j = 3000, 150
    a, b = rng.uniform(0.5, 2.0, j), rng.normal(size=j)
    theta, y = simulate(rng, n, a, b)
    bump = (rng.random(n) < np.where(np.abs(theta) < 0.7, 0.2, 0.8)).astype(float)
    noise = (rng.random(n) < 0.5).astype(float)
    y = np.column_stack([y, bump, noise])
    a_all, b_all = np.append(a, [1.0, 1.5]), np.append(b, [0.0, 0.0])
    fit = item_fit(y, theta, a_all, b_all, n_params=0)
    p = fit["p_value"].to_numpy()
    rejection = np.mean(p[:j] < 0.05)
    assert 0.01 <= rejection <= 0.10
    assert stats.kstest(p[:j], "uniform").pvalue > 0.01
    assert p[j] < 1e-10 and p[j + 1] < 1e-10
    infit, outfit = fit["infit"].to_numpy(), fit["outfit"].to_numpy()
    assert abs(np.mean(infit[:j]) - 1) < 0.02 and abs(np.mean(outfit[:j]) - 1) < 0.03
    assert outfit[j + 1] > 1.3 and infit[j + 1] > 1.3


def test_fit_groups_reproduce_q1():
    rng = np.random.default_rng(29)
    a, b = rng.uniform(0.5, 2, 5), rng.normal(size=5)
    theta, y = simulate(rng, 200, a, b)
    y[:40, 0] = np.nan  # the lowest-ability persons are not all in group 0, but some groups lose answers
    rm = ResponseMatrix.from_array(y, items=[f"q{k}" for k in range(5)])
    fg = fit_groups(rm, theta, a, b, n_groups=8)
    assert fg.columns == ["item", "group", "n", "theta", "observed", "expected"]
    assert fg.height == 5 * 8
    q1 = (
        fg.filter(pl.col("n") > 0)
        .group_by("item", maintain_order=True)
        .agg(
            (
                pl.col("n")
                * (pl.col("observed") - pl.col("expected")) ** 2
                / (pl.col("expected") * (1 - pl.col("expected")))
            )
            .sum()
            .alias("q1")
        )
    )
    fit = item_fit(rm, theta, a, b, n_groups=8)
    assert fit["item"].to_list() == q1["item"].to_list() == [f"q{k}" for k in range(5)]
    np.testing.assert_allclose(fit["q1"].to_numpy(), q1["q1"].to_numpy(), rtol=1e-10)
    assert fg.filter(pl.col("item") == "q0")["n"].sum() == 160
    # group mean abilities increase
    assert np.all(np.diff(fg.filter(pl.col("item") == "q1")["theta"].to_numpy()) > 0)


def test_item_fit_leaves_out_infinite_abilities():
    rng = np.random.default_rng(30)
    a, b = np.ones(3), np.zeros(3)
    theta, y = simulate(rng, 50, a, b)
    theta[:2] = [np.inf, -np.inf]
    fit = item_fit(y, theta, a, b, n_groups=4)
    assert fit["n"].to_list() == [48, 48, 48]
    np.testing.assert_allclose(fit["q1"].to_numpy(), item_fit(y[2:], theta[2:], a, b, n_groups=4)["q1"].to_numpy())


# ---------------------------------------------------------------------------
# flags
# ---------------------------------------------------------------------------


def test_flag_items_table():
    y = [[1, 1, 0, 1, np.nan], [1, 0, 0, 0, np.nan], [1, 1, 1, 0, np.nan]]
    rm = ResponseMatrix.from_array(y, items=["i0", "i1", "i2", "i3", "i4"])
    out = flag_items([1.2, -0.8, 0.05, 1.0, 0.9], [0.0, 0.5, 1.0, -1.0, 0.0], Y=rm, threshold=0.2)
    assert out.columns == [
        "item",
        "discrimination",
        "difficulty",
        "n",
        "mean_score",
        "negative_discrimination",
        "low_discrimination",
        "all_correct",
        "none_correct",
        "no_responses",
        "reason",
    ]
    assert out.select("item", "reason").rows() == [
        ("i0", "all_correct"),
        ("i1", "negative_discrimination"),
        ("i2", "low_discrimination"),
        ("i4", "no_responses"),
    ]
    assert out["n"].to_list() == [3, 3, 3, 0]
    assert out["mean_score"].to_list() == [1.0, pytest.approx(2 / 3), pytest.approx(1 / 3), None]
    # without responses only the discrimination flags are available
    alone = flag_items([-0.1, 0.1, 0.5], keep_all=True)
    assert alone.height == 3
    assert alone["reason"].to_list() == ["negative_discrimination", "low_discrimination", ""]
    assert alone["all_correct"].null_count() == 3 and alone["difficulty"].null_count() == 3


def test_flag_persons_matches_multipletests():
    rng = np.random.default_rng(31)
    z = np.concatenate([rng.normal(size=40), [-4.5, -3.9, -3.0]])
    p = stats.norm.cdf(z)
    for method, sm in (("holm", "holm"), ("bh", "fdr_bh"), ("bonferroni", "bonferroni"), ("by", "fdr_by")):
        reject, adj, _, _ = multipletests(p, alpha=0.05, method=sm)
        out = flag_persons(z, alpha=0.05, method=method)
        np.testing.assert_allclose(out["p_value"].to_numpy(), p)
        np.testing.assert_allclose(out["p_adjusted"].to_numpy(), adj)
        assert out["aberrant"].to_list() == reject.tolist()
    # NaN statistics keep their row, are not tested and do not count towards the number of tests
    z_nan = np.append(z, np.nan)
    out = flag_persons(z_nan, method="bonferroni", persons=[f"m{i}" for i in range(z_nan.size)])
    assert out["aberrant"][-1] is None and np.isnan(out["p_adjusted"][-1])
    np.testing.assert_allclose(out["p_adjusted"].to_numpy()[:-1], np.minimum(p * z.size, 1))
    uncorrected = flag_persons(z, method="none")
    assert uncorrected["aberrant"].to_list() == (p <= 0.05).tolist()


# ---------------------------------------------------------------------------
# model comparison
# ---------------------------------------------------------------------------


def test_information_criteria():
    assert aic(-100.0, 3) == 206.0
    assert bic(-100.0, 3, 50) == pytest.approx(200 + 3 * np.log(50))
    np.testing.assert_allclose(aic([-100.0, -98.0], [3, 6]), [206.0, 208.0])


def test_likelihood_ratio_test_matches_chi2():
    stat, p = likelihood_ratio_test(-1234.5, -1228.25, df=3)
    assert stat == pytest.approx(12.5)
    assert p == pytest.approx(stats.chi2.sf(12.5, 3), rel=1e-12)
    # one boundary parameter: 0.5 chi2(df - 1) + 0.5 chi2(df)
    res = likelihood_ratio_test(-1234.5, -1228.25, df=3, boundary=True)
    assert res.p_value == pytest.approx(0.5 * stats.chi2.sf(12.5, 2) + 0.5 * stats.chi2.sf(12.5, 3))
    # df = 1 on the boundary: half the chi2(1) tail
    assert likelihood_ratio_test(-10.0, -8.0, df=1, boundary=True).p_value == pytest.approx(0.5 * stats.chi2.sf(4, 1))
    # no improvement: p = 1
    assert likelihood_ratio_test(-10.0, -10.0, df=2, boundary=2).p_value == 1.0


def test_boundary_p_values_are_uniform_by_simulation():
    # Known truth: the LR statistic for H0: mu1 = mu2 = mu3 = 0 against mu1, mu2 >= 0 (mu3 free) with unit-variance
    # normal means is max(z1, 0)^2 + max(z2, 0)^2 + z3^2; with boundary=2 its p-values are uniform.
    rng = np.random.default_rng(32)
    z = rng.normal(size=(3000, 3))
    stat = np.maximum(z[:, 0], 0) ** 2 + np.maximum(z[:, 1], 0) ** 2 + z[:, 2] ** 2
    p = np.array([likelihood_ratio_test(0.0, s / 2, df=3, boundary=2).p_value for s in stat])
    naive = stats.chi2.sf(stat, 3)
    for alpha in (0.1, 0.05):
        assert np.mean(p < alpha) == pytest.approx(alpha, rel=0.25)
        assert np.mean(naive < alpha) < 0.6 * alpha  # the plain chi-square is conservative
    assert stats.kstest(p, "uniform").pvalue > 0.01


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: likelihood_ratio_test(-10.0, -12.0, df=1), "fits better"),
        (lambda: likelihood_ratio_test(-10.0, -8.0, df=0), "df"),
        (lambda: likelihood_ratio_test(-10.0, -8.0, df=1, boundary=2), "boundary"),
        (lambda: person_fit_lz([[1, 0]], [0.0], [1.0], [0.0]), "2 items"),
        (lambda: person_fit_lz([[1, 0]], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]), "theta has 2"),
        (lambda: person_fit_lz([[1, 2]], [0.0], [1.0, 1.0], [0.0, 0.0]), r"\[0, 1\]"),
        (lambda: lz_star([[1, 0]], [0.0], [1.0, 1.0], [0.0, 0.0], estimator="bayes"), "estimator"),
        (lambda: item_fit([[1, 0]], [0.0], [1.0, 1.0], [0.0, 0.0], n_groups=2), "groups"),
        (lambda: flag_persons([0.0], method="sidak"), "method"),
        (lambda: flag_items([1.0, 2.0], Y=[[1, 0, 1]]), "shape"),
    ],
)
def test_invalid_input_raises_input_error(call, match):
    with pytest.raises(InputError, match=match):
        call()
