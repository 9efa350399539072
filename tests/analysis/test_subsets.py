"""Tests of metabench.analysis.subsets on simulated 2PL data with known truth.

References: the data are simulated from a 2PL model with known abilities and
item parameters, so the true expected full score of each model is the mean over
items of P(correct); brute-force re-implementations (a plain loop for the
information-based selection, scipy quadrature for the ability posterior,
patsy's natural cubic regression spline basis for the ability regression) and
Monte-Carlo sampling check the pieces.
"""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import polars as pl
import pytest
from scipy import integrate, special

from metabench.analysis import _subsets_core as core
from metabench.analysis.subsets import (
    ESTIMATORS,
    SELECTIONS,
    Subset,
    SubsetEstimator,
    SubsetModel,
    adaptive_test,
    lm_eval_task_yaml,
    lm_eval_utils_py,
    select_items,
    smallest_size,
    validate_subset,
    write_lm_eval_task,
)
from metabench.errors import InputError
from metabench.irt import IRT
from metabench.runs import ResponseMatrix

N_MODELS, N_ITEMS = 150, 600


def _simulate(
    n_models: int, n_items: int, seed: int
) -> tuple[ResponseMatrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    a = rng.lognormal(0.0, 0.5, n_items)
    b = rng.normal(0.0, 1.2, n_items)
    P = special.expit(a * (theta[:, None] - b))
    Y = (rng.random(P.shape) < P).astype(float)
    m = ResponseMatrix.from_array(Y, models=[f"model{i}" for i in range(n_models)], benchmark="sim")
    return m, theta, a, b, P


@pytest.fixture(scope="module")
def sim() -> tuple[ResponseMatrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return _simulate(N_MODELS, N_ITEMS, 1)


METHODS_60 = [
    "random:mean",
    "irt_info:irt",
    "irt_info:pirt",
    "irt_info:gpirt",
    "irt_info:ability_regression",
    "random:gpirt",
]


@pytest.fixture(scope="module")
def validation_60(sim):
    m = sim[0]
    # the data are 2PL, so the 2PL is fitted (``"auto"`` would also try the 1PL); 3 inner folds keep the test fast
    return validate_subset(m, [60], METHODS_60, folds=5, seed=0, irt_model="2pl", inner_folds=3)


# ---------------------------------------------------------------------------
# accuracy and honesty on held-out models


def test_irt_estimators_beat_random_mean_on_the_same_folds(sim, validation_60):
    m, _, _, _, P = sim
    expected = dict(zip(m.models, P.mean(axis=1)))  # the true full score of each model
    pf = validation_60.predictions.with_columns(
        pl.col("model").replace_strict(expected, return_dtype=pl.Float64).alias("expected")
    )
    mae = dict(
        pf.group_by("selection", "estimator")
        .agg((pl.col("predicted") - pl.col("expected")).abs().mean().alias("mae"))
        .select(pl.concat_str("selection", pl.lit(":"), "estimator"), "mae")
        .rows()
    )
    observed = {f"{r['selection']}:{r['estimator']}": r["mae"] for r in validation_60.summary.iter_rows(named=True)}
    base, base_obs = mae["random:mean"], observed["random:mean"]
    # measured (seed 0): random:mean 0.046 against the truth, the IRT estimators on information-selected items 0.027-0.028
    for name in ("irt_info:irt", "irt_info:pirt", "irt_info:gpirt", "irt_info:ability_regression"):
        assert mae[name] < 0.8 * base, (name, mae[name], base)
        assert observed[name] < 0.8 * base_obs, (name, observed[name], base_obs)
    # every held-out model is predicted exactly once per method, by a fit that did not see it
    counts = validation_60.predictions.group_by("selection", "estimator").agg(pl.col("model").n_unique().alias("n"))
    assert set(counts["n"].to_list()) == {N_MODELS}
    assert validation_60.summary["n_train"].to_list() == [N_MODELS * 4 / 5] * len(METHODS_60)


def test_interval_coverage_over_held_out_models(validation_60):
    # 150 held-out models per method: a binomial SE of 0.018 around 0.95; folds share subsets, so allow 0.88-0.99
    # (measured: 0.947-0.980)
    cov = validation_60.summary["coverage"].to_list()
    assert all(0.88 <= c <= 0.99 for c in cov), cov
    pooled = float(np.mean(cov))
    assert 0.91 <= pooled <= 0.98, pooled
    # intervals are not trivially wide: mean width well below the spread of the scores
    assert validation_60.summary["mean_width"].max() < 0.3


def test_validation_summary_columns_and_units(validation_60):
    s = validation_60.to_frame()
    for col in (
        "selection",
        "estimator",
        "size",
        "mae",
        "rmse",
        "spearman",
        "kendall",
        "coverage",
        "mean_width",
        "cost_saved",
        "n_train",
        "n_test",
        "mae_upper",
        "bias",
    ):
        assert col in s.columns
    row = s.row(0, named=True)
    assert row["cost_saved"] == pytest.approx(1 - 60 / N_ITEMS)
    assert row["n_test"] == N_MODELS
    assert row["rmse"] >= row["mae"] and row["mae_upper"] >= row["mae"]
    # recompute the metrics from the prediction table
    part = validation_60.predictions.filter(
        (pl.col("selection") == row["selection"]) & (pl.col("estimator") == row["estimator"])
    )
    e = (part["predicted"] - part["truth"]).to_numpy()
    assert row["mae"] == pytest.approx(np.abs(e).mean())
    assert row["rmse"] == pytest.approx(math.sqrt(np.mean(e**2)))


def test_selection_and_fit_use_training_models_only():
    m, *_ = _simulate(60, 300, 7)
    methods = ["irt_info:irt", "anchor_correctness:weighted_mean", "anchor_irt:gpirt", "stratified:ability_regression"]
    first = validate_subset(m, [30], methods, folds=3, seed=3, inner_folds=3)
    held = set(first.predictions.filter(pl.col("fold") == 0)["model"].to_list())
    rows = np.array([i for i, name in enumerate(m.models) if name in held])
    chosen = set(first.subsets.filter(pl.col("fold") == 0)["item"].to_list())
    cols = np.array([j for j, it in enumerate(m.items) if it not in chosen])
    values = m.values.copy()
    values[np.ix_(rows, cols)] = 1.0 - values[np.ix_(rows, cols)]  # flip the held-out models' other answers
    second = validate_subset(
        ResponseMatrix(values, m.models, m.items, benchmark="sim"), [30], methods, folds=3, seed=3, inner_folds=3
    )

    def fold0(r, frame):
        return getattr(r, frame).filter(pl.col("fold") == 0).sort(pl.all())

    assert fold0(first, "subsets").equals(fold0(second, "subsets"))
    a, b = fold0(first, "predictions"), fold0(second, "predictions")
    np.testing.assert_array_equal(a["predicted"].to_numpy(), b["predicted"].to_numpy())
    np.testing.assert_array_equal(a["ci_low"].to_numpy(), b["ci_low"].to_numpy())
    assert not np.allclose(a["truth"].to_numpy(), b["truth"].to_numpy())  # the truth did change
    # ... while flipping their subset answers does change the predictions (the check can fail)
    sub_cols = np.array(sorted(m.items.index(it) for it in chosen))
    values2 = m.values.copy()
    values2[np.ix_(rows, sub_cols)] = 1.0 - values2[np.ix_(rows, sub_cols)]
    third = validate_subset(
        ResponseMatrix(values2, m.models, m.items, benchmark="sim"), [30], methods, folds=3, seed=3, inner_folds=3
    )
    assert not np.allclose(fold0(third, "predictions")["predicted"].to_numpy(), a["predicted"].to_numpy())


def test_smallest_size_meets_its_target_on_the_validation_it_reports(sim):
    m = sim[0]
    target = 0.05
    res = smallest_size(m, target, sizes=[8, 40, 160], methods=["irt_info:pirt"], folds=3, seed=0, inner_folds=3)
    assert res.met and res.criterion == "mae_upper"
    summary = res.validation.summary
    row = summary.filter(pl.col("size") == res.size).row(0, named=True)
    assert row["mae_upper"] <= target and res.value == pytest.approx(row["mae_upper"])
    assert (summary.filter(pl.col("size") < res.size)["mae_upper"] > target).all()
    assert summary["size"].max() == res.size  # the search stopped at the first size that met the target
    assert res.size == 40  # measured: 8 items MAE 0.052 (upper bound 0.057), 40 items MAE 0.031 (upper 0.034)
    unreachable = smallest_size(m, 0.001, sizes=[8, 16], methods=["random:mean"], folds=3, inner_folds=3)
    assert not unreachable.met and unreachable.size is None


# ---------------------------------------------------------------------------
# estimators against independent computations


def test_irt_prediction_equals_quadrature_of_the_posterior():
    rng = np.random.default_rng(11)
    a, b = rng.lognormal(0, 0.3, 50), rng.normal(size=50)
    items = core.Items(a, -a * b, np.zeros(50), np.ones(50), 1.0)
    curves = core.Curves.of(items)
    pos = np.arange(0, 50, 5)
    y = (rng.random(len(pos)) < 0.6).astype(float)
    fit = core.fit_raw("irt", np.zeros((3, 50)), pos, np.full(len(pos), 0.1), curves)
    pred, _ = core.predict_raw(fit, y[None, :])

    def lik(t):
        p = special.expit(a[pos] * (t - b[pos]))
        return np.prod(np.where(y == 1, p, 1 - p)) * math.exp(-t * t / 2)

    def score(t):
        return special.expit(a * (t - b)).mean()

    num = integrate.quad(lambda t: score(t) * lik(t), -10, 10, limit=200)[0]
    den = integrate.quad(lik, -10, 10, limit=200)[0]
    assert pred[0] == pytest.approx(num / den, abs=1e-6)
    # p-IRT: the observed subset answers plus the expected answers elsewhere
    rest = np.setdiff1d(np.arange(50), pos)
    num_rest = integrate.quad(lambda t: special.expit(a[rest] * (t - b[rest])).sum() * lik(t), -10, 10, limit=200)[0]
    fit_p = core.fit_raw("pirt", np.zeros((3, 50)), pos, np.full(len(pos), 0.1), curves)
    pred_p, _ = core.predict_raw(fit_p, y[None, :])
    assert pred_p[0] == pytest.approx((y.sum() + num_rest / den) / 50, abs=1e-6)


def test_subset_mean_standard_error_matches_sampling():
    # one model's responses on 2,000 items; the subset mean over 200 random subsets of 100 items
    rng = np.random.default_rng(5)
    row = (rng.random(2000) < 0.37).astype(float)
    fit = core.fit_raw("mean", row[None, :], np.arange(100), np.full(100, 0.01), None)
    draws, ses = [], []
    for s in range(400):
        pos = rng.choice(2000, 100, replace=False)
        p, v = core.predict_raw(fit, row[pos][None, :])
        draws.append(p[0])
        ses.append(math.sqrt(v[0]))
    # Monte-Carlo SD of the subset mean vs the finite-population-corrected SE (sqrt(p(1-p)/n · (1 - n/N)) = 0.0470)
    assert np.std(draws) == pytest.approx(math.sqrt(0.37 * 0.63 / 100 * 0.95), rel=0.1)
    assert np.mean(ses) == pytest.approx(np.std(draws), rel=0.1)


def test_natural_spline_basis_spans_patsy_cr():
    patsy = pytest.importorskip("patsy")
    rng = np.random.default_rng(2)
    x = np.sort(rng.normal(size=40))
    y = np.sin(x) + rng.normal(0, 0.1, 40)
    knots = np.quantile(x, [0.05, 0.35, 0.65, 0.95])
    ours = core.ncs_basis(x, knots)
    ref = np.asarray(
        patsy.dmatrix(
            "cr(x, knots=k, lower_bound=lo, upper_bound=hi) - 1",
            {"x": x, "k": knots[1:-1], "lo": knots[0], "hi": knots[-1]},
        )
    )
    fit_ours = ours @ np.linalg.lstsq(ours, y, rcond=None)[0]
    fit_ref = ref @ np.linalg.lstsq(ref, y, rcond=None)[0]
    np.testing.assert_allclose(fit_ours, fit_ref, atol=1e-8)
    # linear beyond the boundary knots (natural spline)
    far = core.ncs_basis(np.array([5.0, 6.0, 7.0]), knots) @ np.linalg.lstsq(ours, y, rcond=None)[0]
    assert far[2] - far[1] == pytest.approx(far[1] - far[0], abs=1e-9)


# ---------------------------------------------------------------------------
# selection methods


def test_irt_info_selection_matches_a_brute_force_loop():
    rng = np.random.default_rng(4)
    a, b = rng.lognormal(0, 0.5, 80), rng.normal(size=80)
    abil = rng.normal(size=40)
    items = core.Items(a, -a * b, np.zeros(80), np.ones(80), 1.0, abil)
    got = core.select_irt_info(items, 12).pos
    targets = np.quantile(abil, (np.arange(12) + 0.5) / 12)
    chosen: list[int] = []
    for t in targets:
        best, best_info = -1, -1.0
        for j in range(80):
            p = 1 / (1 + math.exp(-a[j] * (t - b[j])))
            info = a[j] ** 2 * p * (1 - p)
            if j not in chosen and info > best_info:
                best, best_info = j, info
        chosen.append(best)
    assert got.tolist() == sorted(chosen)


def test_stratified_allocation_is_proportional():
    subjects = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    m = ResponseMatrix.from_array(np.random.default_rng(0).random((6, 100)).round(), subjects=subjects)
    s = select_items(m, 10, method="stratified", seed=1)
    picked = [subjects[m.items.index(it)] for it in s.items]
    assert {k: picked.count(k) for k in "abc"} == {"a": 5, "b": 3, "c": 2}
    np.testing.assert_allclose(s.weights, 0.1)
    s7 = select_items(m, 7, method="stratified", seed=1)  # 3.5 / 2.1 / 1.4 → 4, 2, 1 (largest remainder)
    picked = [subjects[m.items.index(it)] for it in s7.items]
    assert {k: picked.count(k) for k in "abc"} == {"a": 4, "b": 2, "c": 1}
    w = dict(zip(picked, s7.weights))
    assert w["a"] == pytest.approx(0.5 / 4) and w["b"] == pytest.approx(0.3 / 2) and w["c"] == pytest.approx(0.2)


def test_anchor_points_weight_clusters_by_size():
    # three well separated groups of items (60, 30, 10) by their correctness over 12 models
    rng = np.random.default_rng(8)
    proto = (rng.random((3, 12)) < 0.5).astype(float)
    proto[1] = 1 - proto[0]
    proto[2] = np.r_[np.ones(6), np.zeros(6)]
    groups = np.repeat([0, 1, 2], [60, 30, 10])
    Y = proto[groups].T.copy()
    s = select_items(Y, 3, method="anchor_correctness", seed=0)
    got = sorted(s.weights.tolist())
    assert got == pytest.approx([0.1, 0.3, 0.6])
    assert len({groups[int(it[1:])] for it in s.items}) == 3


@pytest.mark.parametrize("method", SELECTIONS)
def test_every_selection_returns_a_valid_subset(sim, method):
    m = sim[0].take(range(40), range(200))
    s = select_items(m, 25, method=method, seed=2)
    assert s.size == 25 and len(set(s.items)) == 25 and set(s.items) <= set(m.items)
    assert s.weights.sum() == pytest.approx(1.0) and (s.weights > 0).all()
    assert s.method == method and s.n_items == 200
    assert select_items(m, 25, method=method, seed=2).items == s.items  # same seed, same subset


def test_input_errors(sim):
    m = sim[0].take(range(30), range(100))
    with pytest.raises(InputError):
        select_items(m, 100, method="random")
    with pytest.raises(InputError):
        select_items(m, 10, method="cluster")
    with pytest.raises(InputError):
        SubsetEstimator("median")
    with pytest.raises(InputError):
        validate_subset(m, [10], ["random"], folds=3)
    other = IRT("2pl").fit(m.take(range(10, 30)))
    with pytest.raises(InputError, match="other models"):
        SubsetEstimator("irt", irt_model="2pl").fit(m.take(range(10)), select_items(m.take(range(10)), 10), irt=other)


# ---------------------------------------------------------------------------
# persistence and scoring of new models


@pytest.mark.parametrize("estimator", ["gpirt", "ability_regression", "weighted_mean"])
def test_save_load_round_trip_gives_identical_predictions(sim, tmp_path, estimator):
    m = sim[0].take(range(100), range(300))
    train, new = m.take(range(80)), m.take(range(80, 100))
    sm = SubsetModel.fit(train, 40, selection="anchor_irt", estimator=estimator, seed=1, inner_folds=3)
    before = sm.score(new)
    d = sm.save(tmp_path / "subset")
    doc = json.loads((d / "subset.json").read_text())
    assert doc["items"] == list(sm.subset.items) and doc["size"] == 40 and doc["method"] == "anchor_irt"
    assert doc["benchmark"] == "sim" and "metabench_version" in doc and len(doc["weights"]) == 40
    assert pl.read_csv(d / "subset.csv", schema_overrides={"item": pl.String})["item"].to_list() == list(
        sm.subset.items
    )
    assert (d / "irt.json").exists() == (estimator != "weighted_mean") and (d / "estimator.json").exists()
    after = SubsetModel.load(d).score(new)
    assert before.equals(after)
    # scoring from the subset responses alone gives the same numbers
    only_subset = new.take(items=[new.items.index(it) for it in sm.subset.items])
    assert SubsetModel.load(d).score(only_subset).equals(before)
    assert before.columns[:4] == ["model", "predicted", "ci_low", "ci_high"]


def test_save_load_round_trip_keeps_the_validation(sim, tmp_path):
    m = sim[0].take(range(60), range(200))
    val = validate_subset(m, [20], ["random:mean", "irt_info:pirt"], folds=3, seed=2, inner_folds=3)
    sm = SubsetModel.fit(m, 20, selection="irt_info", estimator="pirt", seed=2, inner_folds=3, validation=val)
    back = SubsetModel.load(sm.save(tmp_path / "subset")).validation
    assert back is not None
    assert back.to_dict() == val.to_dict()
    assert back.predictions.equals(val.predictions) and back.subsets.equals(val.subsets)
    assert back.best(20) == val.best(20)
    # without a stored validation there is none to read back
    plain = SubsetModel.fit(m, 20, selection="random", estimator="mean", seed=2)
    assert SubsetModel.load(plain.save(tmp_path / "plain")).validation is None


@pytest.mark.parametrize("method", ["anchor_irt:gpirt", "irt_info:ability_regression", "stratified:weighted_mean"])
def test_a_held_out_model_scored_from_its_subset_alone_reproduces_the_validation(sim, method):
    """The validation's prediction for a held-out model (what the report's error is made of) is what
    ``SubsetModel.fit`` on that fold's training models, then ``score`` on the model's subset answers alone,
    gives: one code path for the error that is reported and for scoring a new model."""
    m = sim[0].take(range(60), range(200))
    selection, estimator = method.split(":")
    val = validate_subset(m, [30], [method], folds=3, seed=5, inner_folds=3)
    for fold in (0, 2):
        held = val.predictions.filter(pl.col("fold") == fold)
        test_rows = [m.models.index(x) for x in held["model"]]
        train = m.take([i for i in range(m.n_models) if i not in test_rows])
        sm = SubsetModel.fit(train, 30, selection=selection, estimator=estimator, seed=5, inner_folds=3)
        chosen = val.subsets.filter(pl.col("fold") == fold)["item"].to_list()
        assert sorted(sm.subset.items) == sorted(chosen)
        new = m.take(test_rows, [m.items.index(it) for it in sm.subset.items])  # the subset's answers only
        got = sm.score(new)
        np.testing.assert_allclose(got["predicted"].to_numpy(), held["predicted"].to_numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["ci_low"].to_numpy(), held["ci_low"].to_numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["ci_high"].to_numpy(), held["ci_high"].to_numpy(), rtol=0, atol=1e-10)


def test_score_partial_and_missing_answers(sim):
    m = sim[0].take(range(100), range(300))
    sm = SubsetModel.fit(m.take(range(80)), 40, selection="random", estimator="pirt", seed=0, inner_folds=3)
    new = m.take(range(80, 84))
    sub_idx = [new.items.index(it) for it in sm.subset.items]
    values = new.values.copy()
    values[1, sub_idx[:30]] = np.nan  # model 1 answered 10 of the 40 subset items
    partial = ResponseMatrix(values, new.models, new.items)
    full = sm.score(new)
    part = sm.score(partial)
    assert part["n_items_answered"].to_list() == [40, 10, 40, 40]
    assert part["note"][0] == "" and "10 of 40" in part["note"][1]
    width = (part["ci_high"] - part["ci_low"]).to_numpy()
    width_full = (full["ci_high"] - full["ci_low"]).to_numpy()
    assert width[1] > 1.3 * width_full[1]
    values = values.copy()
    values[2, sub_idx] = np.nan
    with pytest.raises(InputError, match="none of the 40 subset items"):
        sm.score(ResponseMatrix(values, new.models, new.items))


def test_task_positions_map_back_to_item_ids(sim):
    m = sim[0].take(range(60), range(200))
    m = ResponseMatrix(m.values, m.models, tuple(str(j) for j in range(200)))
    sm = SubsetModel.fit(m.take(range(50)), 20, selection="random", estimator="mean", inner_folds=3)
    new = m.take(range(50, 55))
    order = sm.subset.task_order()
    cols = [new.items.index(it) for it in order]
    as_task = ResponseMatrix(new.values[:, cols], new.models, tuple(str(k) for k in range(20)))
    assert sm.score(as_task, task_positions=True).equals(sm.score(new))


def test_estimator_predicts_from_arrays_in_subset_or_full_order(sim):
    m = sim[0].take(range(60), range(200))
    s = select_items(m.take(range(50)), 20, method="random")
    est = SubsetEstimator("irt", inner_folds=3).fit(m.take(range(50)), s)
    new = m.take(range(50, 60))
    a = est.predict(new).predicted
    b = est.predict(new.values).predicted
    c = est.predict(new.values[:, [new.items.index(it) for it in s.items]]).predicted
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


# ---------------------------------------------------------------------------
# lm-evaluation-harness task


def _parse_task_yaml(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(": ")
        assert sep and key.isidentifier() and not line.startswith(" "), line
        out[key] = value
    return out


def _load_module(path, source: str) -> dict:
    """Import generated source from a file, as lm-eval's ``!function`` loader does."""
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def test_lm_eval_yaml_structure_and_utils_filter(tmp_path):
    s = Subset.from_items(["7", "2", "11"], n_items=20, benchmark="gsm8k")
    text = lm_eval_task_yaml(s, "gsm8k")
    keys = _parse_task_yaml(text)
    assert set(keys) == {"include", "task", "process_docs"}
    assert json.loads(keys["include"]) == "gsm8k.yaml"
    assert json.loads(keys["task"]) == "gsm8k_metabench_subset"
    assert keys["process_docs"] == "!function metabench_subset_utils.process_docs"
    ns = _load_module(tmp_path / "utils_a.py", lm_eval_utils_py(s))
    docs = [{"q": i} for i in range(20)]
    assert ns["process_docs"](docs) == [{"q": 2}, {"q": 7}, {"q": 11}]

    class FakeDataset(list):
        def select(self, idx):
            return FakeDataset(self[i] for i in idx)

        def filter(self, fn):
            return FakeDataset(d for d in self if fn(d))

    out = ns["process_docs"](FakeDataset(docs))
    assert isinstance(out, FakeDataset) and [d["q"] for d in out] == [2, 7, 11]
    with pytest.raises(ValueError, match="document 11"):
        ns["process_docs"](docs[:5])
    # keep by a document field instead of the position
    ns2 = _load_module(
        tmp_path / "utils_b.py", lm_eval_utils_py(Subset.from_items(["q-3", "q-9"], n_items=20), id_field="qid")
    )
    fielded = FakeDataset({"qid": f"q-{i}"} for i in range(20))
    assert [d["qid"] for d in ns2["process_docs"](fielded)] == ["q-3", "q-9"]
    with pytest.raises(InputError):
        lm_eval_task_yaml(Subset.from_items(["q-3"], n_items=5), "x.yaml")  # not document indices
    y, u = write_lm_eval_task(s, "tasks/gsm8k.yaml", tmp_path, task_name="tiny_gsm8k")
    assert y.name == "tiny_gsm8k.yaml" and u.read_text().startswith('"""process_docs')


def test_lm_eval_yaml_parses_with_pyyaml():
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: ("function", loader.construct_scalar(node)))
    doc = yaml.load(lm_eval_task_yaml(Subset.from_items(["1", "4"], n_items=9), "arc_easy.yaml"), Loader=Loader)
    assert doc == {
        "include": "arc_easy.yaml",
        "task": "arc_easy_metabench_subset",
        "process_docs": ("function", "metabench_subset_utils.process_docs"),
    }


# ---------------------------------------------------------------------------
# adaptive testing


def test_adaptive_test_reaches_target_se_and_recovers_theta(sim):
    m, _, a, b, _ = sim
    irt = IRT("2pl").fit(m)
    rng = np.random.default_rng(21)
    errs, z, n_info, n_rand = [], [], [], []
    for t in np.linspace(-1.5, 1.5, 12):
        answers = (rng.random(N_ITEMS) < special.expit(a * (t - b))).astype(float)
        res = adaptive_test(irt, answers, target_se=0.25)
        assert res.stopped == "target_se" and res.se <= 0.25
        assert res.to_frame()["se"].to_list()[-1] == pytest.approx(res.se)
        errs.append(res.theta - t)
        z.append((res.theta - t) / res.se)
        n_info.append(res.n_items)
        expected = float(special.expit(a * (t - b)).mean())
        assert res.ci[0] - 0.03 <= expected <= res.ci[1] + 0.03
        n_rand.append(adaptive_test(irt, answers, target_se=0.25, selection="random", seed=1).n_items)
    # abilities on the fitted scale match the simulated ones (standard normal) up to the SE
    assert np.mean(np.abs(errs)) < 0.3
    assert np.mean(np.abs(z) < 2.5) >= 0.9
    # information-driven selection needs far fewer items than random order
    assert np.mean(n_info) < 0.6 * np.mean(n_rand)
    capped = adaptive_test(irt, lambda it: float(m.values[0, m.items.index(it)]), target_se=0.01, max_items=15)
    assert capped.stopped == "max_items" and capped.n_items == 15


def test_estimator_names_are_exported():
    assert set(ESTIMATORS) == {"mean", "weighted_mean", "irt", "pirt", "gpirt", "ability_regression"}
    assert "anchor_irt" in SELECTIONS
