"""Property tests (hypothesis) over random valid and corrupted runs tables."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metabench import Runs
from metabench.io import canonical
from metabench.runs import check_frame

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def valid_tables(draw):
    n_models = draw(st.integers(1, 4))
    n_items = draw(st.integers(1, 6))
    n_seeds = draw(st.integers(1, 3))
    cells = [(m, b, i, s) for m in range(n_models) for b in ("x", "y") for i in range(n_items) for s in range(n_seeds)]
    keep = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    rows = [c for c, k in zip(cells, keep) if k] or cells[:1]
    scores = draw(
        st.lists(
            st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1, allow_nan=False)),
            min_size=len(rows),
            max_size=len(rows),
        )
    )
    return pl.DataFrame(
        {
            "model": [f"model-{m}" for m, *_ in rows],
            "benchmark": [b for _, b, _, _ in rows],
            "item": [f"q{i}" for _, _, i, _ in rows],
            "seed": [s for *_, s in rows],
            "score": scores,
        }
    )


@SETTINGS
@given(valid_tables())
def test_valid_tables_are_accepted_and_matrix_matches_brute_force(df):
    assert check_frame(df) == []
    runs = Runs(df)
    for bench in runs.benchmarks:
        m = runs.matrix(bench)
        sub = df.filter(pl.col("benchmark") == bench)
        expected = np.full(m.shape, np.nan)
        for (mod, it), g in sub.group_by(["model", "item"]):
            expected[m.models.index(mod), m.items.index(it)] = float(np.mean(g["score"].to_numpy()))
        np.testing.assert_allclose(m.values, expected, rtol=0, atol=1e-12)


@SETTINGS
@given(valid_tables(), st.sampled_from([".csv", ".parquet", ".jsonl"]))
def test_round_trip_any_valid_table(tmp_path, df, suffix):
    runs = Runs(df)
    back = canonical.read(runs.write(tmp_path / f"r{suffix}"))
    assert back.frame.sort(["model", "benchmark", "item", "seed"]).equals(runs.frame.sort(["model", "benchmark", "item", "seed"]))


CORRUPTIONS = ["out_of_range", "negative", "text", "nan", "duplicate", "empty_model"]


@SETTINGS
@given(valid_tables(), st.sampled_from(CORRUPTIONS), st.data())
def test_each_corruption_is_found_at_its_row(df, how, data):
    row = data.draw(st.integers(0, df.height - 1))
    score = df["score"].cast(pl.String).to_list()
    model = df["model"].to_list()
    expected_kind = {
        "out_of_range": "score_out_of_range",
        "negative": "score_out_of_range",
        "text": "non_numeric_score",
        "nan": "nan_score",
        "duplicate": "duplicate_key",
        "empty_model": "missing_model",
    }[how]
    bad_row = row
    if how == "out_of_range":
        score[row] = str(1 + data.draw(st.floats(1e-6, 1e6)))
    elif how == "negative":
        score[row] = str(-data.draw(st.floats(1e-6, 1e6)))
    elif how == "text":
        score[row] = data.draw(st.sampled_from(["abc", "1,0", "True?", "correct"]))
    elif how == "nan":
        score[row] = "NaN"
    elif how == "empty_model":
        model[row] = ""
    corrupted = df.with_columns(pl.Series("score", score), pl.Series("model", model))
    if how == "duplicate":
        corrupted = pl.concat([corrupted, corrupted[row]])
        bad_row = corrupted.height - 1
    problems = check_frame(corrupted, file="t.csv", row_base=2)
    assert [p.kind for p in problems] == [expected_kind]
    assert problems[0].line == bad_row + 2
    assert problems[0].file == "t.csv"
    with pytest.raises(ValueError):
        Runs(corrupted)
