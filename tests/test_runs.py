"""Tests of metabench/runs.py: the canonical table, its checks and its dense views."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from metabench import InputError, ResponseMatrix, Runs, ScoreTable, ValidationError
from metabench.runs import check_frame


def _frame(**over):
    base = {
        "model": ["a", "a", "b", "b"],
        "benchmark": ["x", "x", "x", "x"],
        "item": ["1", "2", "1", "2"],
        "score": [1.0, 0.0, 0.5, 1.0],
    }
    base.update(over)
    return pl.DataFrame(base)


def test_runs_normalises_types_and_defaults_seed():
    r = Runs({"model": ["a"], "benchmark": ["x"], "item": [7], "score": [1]})
    assert r.frame.schema["item"] == pl.String
    assert r.frame.schema["score"] == pl.Float64
    assert r.frame["seed"].to_list() == [0]
    assert r.frame.columns[:3] == ["model", "benchmark", "item"]


def test_extra_columns_are_kept():
    r = Runs(_frame(latency=[1.0, 2.0, 3.0, 4.0]))
    assert "latency" in r.frame.columns


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"score": ["1", "x", "0", "1"]}, "non_numeric_score"),
        ({"score": [1.0, 1.2, 0.0, 1.0]}, "score_out_of_range"),
        ({"score": [1.0, float("nan"), 0.0, 1.0]}, "nan_score"),
        ({"score": [1.0, None, 0.0, 1.0]}, "nan_score"),
        ({"item": ["1", "1", "1", "2"]}, "duplicate_key"),
        ({"model": ["a", "", "b", "b"]}, "missing_model"),
    ],
)
def test_each_bad_input_class_is_named(change, kind):
    problems = check_frame(_frame(**change), file="f.csv", row_base=2)
    assert [p.kind for p in problems] == [kind]
    assert problems[0].file == "f.csv"
    with pytest.raises(ValidationError) as info:
        Runs(_frame(**change))
    assert info.value.problems[0].kind == kind


def test_problem_names_the_row():
    problems = check_frame(_frame(score=[1.0, 0.0, 3.0, 1.0]), file="f.csv", row_base=2)
    assert problems[0].line == 4  # third data row of a CSV with a header
    assert "outside [0, 1]" in problems[0].message
    assert "3.0" in problems[0].message


def test_missing_column_lists_found_columns():
    problems = check_frame(pl.DataFrame({"model": ["a"], "benchmark": ["x"], "score": [1.0]}))
    assert problems[0].kind == "missing_column"
    assert "'item'" in problems[0].message


def test_empty_table():
    assert check_frame(pl.DataFrame({"model": [], "benchmark": [], "item": [], "score": []}))[0].kind == "empty"


def test_many_bad_rows_are_counted_not_listed_one_by_one():
    n = 100
    f = pl.DataFrame({"model": ["a"] * n, "benchmark": ["x"] * n, "item": [str(i) for i in range(n)], "score": [2.0] * n})
    problems = check_frame(f)
    assert len(problems) == 21
    assert "80 more row(s)" in problems[-1].message


def test_seeds_differentiate_keys_and_mixed_metrics_are_rejected():
    f = _frame(item=["1", "1", "1", "2"], seed=[0, 1, 0, 0])
    assert check_frame(f) == []
    g = _frame(metric=["acc", "acc_norm", "acc", "acc"])
    assert [p.kind for p in check_frame(g)] == ["mixed_metrics"]


def test_matrix_mean_over_seeds_and_keep():
    f = pl.DataFrame(
        {
            "model": ["a", "a", "a", "b"],
            "benchmark": ["x"] * 4,
            "item": ["1", "1", "2", "1"],
            "seed": [0, 1, 0, 1],
            "score": [1.0, 0.0, 1.0, 1.0],
        }
    )
    r = Runs(f)
    m = r.matrix("x")
    assert m.models == ("a", "b")
    assert m.items == ("1", "2")
    np.testing.assert_array_equal(m.values, [[0.5, 1.0], [1.0, np.nan]])
    np.testing.assert_array_equal(m.n_seeds, [[2, 1], [1, 0]])
    k = r.matrix("x", seeds="keep")
    assert k.values.shape == (2, 2, 2)
    assert k.seeds == (0, 1)
    np.testing.assert_array_equal(k.values[0, 0], [1.0, 0.0])
    assert np.isnan(k.values[1, 0, 0]) and k.values[1, 0, 1] == 1.0
    np.testing.assert_array_equal(k.cell_values(), m.values)
    first = r.matrix("x", seeds="first")
    np.testing.assert_array_equal(first.values, [[1.0, 1.0], [1.0, np.nan]])


def test_matrix_brute_force_against_loop():
    rng = np.random.default_rng(0)
    n = 400
    f = pl.DataFrame(
        {
            "model": rng.choice(list("abcdefg"), n),
            "benchmark": ["x"] * n,
            "item": rng.integers(0, 60, n).astype(str),
            "seed": rng.integers(0, 5, n),
            "score": rng.random(n),
        }
    ).unique(subset=["model", "item", "seed"], keep="first")
    m = Runs(f).matrix("x")
    for (mod, it), g in f.group_by(["model", "item"]):
        i, j = m.models.index(mod), m.items.index(it)
        assert m.values[i, j] == pytest.approx(g["score"].mean())
    assert np.isnan(m.values).sum() == m.n_models * m.n_items - f.select(pl.struct("model", "item").n_unique()).item()


def test_methods_make_systems():
    f = _frame(method=[None, None, "cot", "cot"])
    r = Runs(f)
    assert r.systems == ("a", "b|cot")
    assert r.matrix("x").models == ("a", "b|cot")


def test_steps_last_by_default():
    f = pl.DataFrame(
        {"model": ["a"] * 4, "benchmark": ["x"] * 4, "item": ["1", "2", "1", "2"], "step": [10, 10, 20, 20], "score": [0.0, 0.0, 1.0, 1.0]}
    )
    r = Runs(f)
    assert r.matrix("x").values.tolist() == [[1.0, 1.0]]
    assert r.matrix("x", step=10).values.tolist() == [[0.0, 0.0]]
    with pytest.raises(InputError, match="several training steps"):
        r.matrix("x", step=None)


def test_matrix_needs_benchmark_when_ambiguous():
    r = Runs(_frame(benchmark=["x", "x", "y", "y"]))
    with pytest.raises(InputError, match="2 benchmarks"):
        r.matrix()
    with pytest.raises(InputError, match="no benchmark 'z'"):
        r.matrix("z")


def test_subjects_carried_to_matrix():
    r = Runs(_frame(subject=["s1", "s2", "s1", "s2"]))
    assert r.matrix("x").subjects == ("s1", "s2")


def test_scores_table_matches_manual_means():
    f = pl.DataFrame(
        {
            "model": ["a", "a", "a", "b", "b"],
            "benchmark": ["x", "x", "y", "x", "x"],
            "item": ["1", "1", "1", "1", "2"],
            "seed": [0, 1, 0, 0, 0],
            "score": [1.0, 0.0, 0.25, 1.0, 0.0],
        }
    )
    t = Runs(f).scores()
    assert isinstance(t, ScoreTable)
    assert t.models == ("a", "b") and t.benchmarks == ("x", "y")
    np.testing.assert_allclose(t.values, [[0.5, 0.25], [0.5, np.nan]])
    assert t.scales == {"x": "unit", "y": "unit"}


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_round_trip(tmp_path, suffix):
    f = _frame(subject=["s", None, "s", None], seed=[0, 0, 1, 1], step=[None, 1, 2, None], extra=["p", "q", "r", "s"])
    r = Runs(f)
    p = r.write(tmp_path / f"runs{suffix}")
    back = Runs.read(p)
    assert back.frame.columns == r.frame.columns
    assert back.frame.equals(r.frame)


def test_write_rejects_unknown_suffix(tmp_path):
    with pytest.raises(InputError, match="suffix"):
        Runs(_frame()).write(tmp_path / "runs.xlsx")


def test_concat_detects_cross_file_duplicates():
    a = Runs(_frame())
    b = Runs(_frame(model=["a", "c", "c", "c"], item=["1", "1", "2", "3"]))
    with pytest.raises(ValidationError, match="share a key"):
        Runs.concat([a, b])
    c = Runs(_frame(model=["c"] * 4, item=["1", "2", "3", "4"]))
    assert len(Runs.concat([a, c])) == 8


def test_response_matrix_from_array_and_checks():
    m = ResponseMatrix.from_array(np.array([[1.0, np.nan], [0.0, 1.0]]), models=["p", "q"])
    assert m.items == ("i0", "i1")
    assert m.coverage == 0.75
    assert m.is_binary()
    np.testing.assert_allclose(m.item_means(), [0.5, 1.0])
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        ResponseMatrix.from_array([[2.0]])
    with pytest.raises(InputError, match="shape"):
        ResponseMatrix(np.zeros((2, 2)), ("a",), ("x", "y"))
    with pytest.raises(InputError, match="not unique"):
        ResponseMatrix.from_array(np.zeros((2, 1)), models=["a", "a"])
    with pytest.raises(ValueError):
        m.values[0, 0] = 1  # read-only


def test_drop_empty_reports_exclusions():
    m = ResponseMatrix.from_array(np.array([[1.0, np.nan, 0.0], [np.nan, np.nan, np.nan]]))
    kept, excl = m.drop_empty()
    assert kept.shape == (1, 2)
    assert {(e.what, e.count) for e in excl} == {("item", 1), ("model", 1)}


def test_matrix_to_frame_round_trip():
    m = ResponseMatrix.from_array(np.array([[1.0, np.nan], [0.0, 0.5]]), benchmark="x")
    df = m.to_frame()
    assert df.height == 3
    assert Runs(df).matrix("x").values.tolist()[1] == [0.0, 0.5]


def test_score_table_normalise_orient_select():
    t = ScoreTable.from_array([[50.0, 1.0], [70.0, 3.0]], models=["a", "b"], benchmarks=["p", "err"], lower_is_better={"err"})
    assert t.scales == {"p": "percent", "err": "percent"}
    n = t.normalized()
    np.testing.assert_allclose(n.values[:, 0], [0.5, 0.7])
    o = t.oriented()
    assert o.values[0, 1] == -1.0 and not o.lower_is_better
    s = t.select(models=["b"], benchmarks=["err"])
    assert s.values.tolist() == [[3.0]] and s.lower_is_better == frozenset({"err"})
    long = t.to_frame(long=True)
    assert long.height == 4
