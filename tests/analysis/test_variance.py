"""Intervals of metabench/analysis/variance.py against statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from metabench import InputError, Runs
from metabench.analysis.variance import mean_interval, score_intervals, wilson_interval


@pytest.mark.parametrize(("k", "n"), [(0, 5), (1, 10), (7, 10), (50, 100), (999, 1000), (12, 12)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(k, n, level):
    lo, hi = wilson_interval(k, n, level)
    ref = proportion_confint(k, n, alpha=1 - level, method="wilson")
    np.testing.assert_allclose([lo, hi], ref, rtol=0, atol=1e-12)


def test_t_interval_matches_scipy():
    rng = np.random.default_rng(3)
    x = rng.beta(2, 3, size=37)
    lo, hi = mean_interval(x.mean(), x.std(ddof=1), x.size, 0.95)
    ref = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    np.testing.assert_allclose([lo, hi], ref, rtol=0, atol=1e-12)
    assert np.isnan(mean_interval(0.5, np.nan, 1)[0])


def test_bad_level():
    with pytest.raises(InputError, match="confidence level"):
        wilson_interval(1, 2, 1.5)


def test_score_intervals_choose_by_score_type():
    rng = np.random.default_rng(0)
    n = 40
    binary = rng.integers(0, 2, n).astype(float)
    partial = rng.random(n)
    df = pl.DataFrame(
        {
            "model": ["bin"] * n + ["part"] * n + ["seeds"] * 2 * n,
            "benchmark": ["x"] * 4 * n,
            "item": [str(i) for i in range(n)] * 4,
            "seed": [0] * 3 * n + [1] * n,
            "score": np.concatenate([binary, partial, binary, 1 - binary]),
        }
    )
    out = {r["system"]: r for r in score_intervals(Runs(df)).iter_rows(named=True)}
    assert out["bin"]["interval"] == "wilson"
    ref = proportion_confint(binary.sum(), n, method="wilson")
    assert (out["bin"]["ci_low"], out["bin"]["ci_high"]) == pytest.approx(ref, abs=1e-12)
    assert out["part"]["interval"] == "t"
    ref_t = stats.t.interval(0.95, n - 1, loc=partial.mean(), scale=stats.sem(partial))
    assert (out["part"]["ci_low"], out["part"]["ci_high"]) == pytest.approx(ref_t, abs=1e-12)
    # two seeds with opposite answers average to 0.5 on every item: no item variance, a zero-width t interval
    assert out["seeds"]["mean"] == 0.5 and out["seeds"]["interval"] == "t"
    assert out["seeds"]["ci_low"] == pytest.approx(0.5) and out["seeds"]["ci_high"] == pytest.approx(0.5)


def test_wilson_coverage_by_enumeration_and_simulation():
    # Exact coverage by enumerating k = 0..n, checked against a simulation with known p; Wilson's
    # coverage oscillates with p but averages close to the nominal 95% (Brown, Cai & DasGupta 2001).
    n = 60
    k = np.arange(n + 1)
    lo, hi = wilson_interval(k, np.full(n + 1, n))

    def exact(p: float) -> float:
        return float(stats.binom.pmf(k, n, p)[(lo <= p) & (p <= hi)].sum())

    rng = np.random.default_rng(11)
    p, reps = 0.8, 20000
    draws = rng.binomial(n, p, size=reps)
    simulated = np.mean((lo[draws] <= p) & (p <= hi[draws]))
    assert abs(simulated - exact(p)) < 3 * np.sqrt(exact(p) * (1 - exact(p)) / reps)
    average = np.mean([exact(q) for q in np.linspace(0.1, 0.9, 161)])
    assert 0.94 < average < 0.96
