"""The data-overview analysis (metabench/analysis/overview.py) and the registry it plugs into."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import metabench
from metabench import InputError, Runs, ScoreTable
from metabench.analysis.overview import coverage_frame
from metabench.analysis.registry import available, register, resolve
from metabench.report import Chart, Table


def _runs() -> Runs:
    rows = [("a", "x", "1", 1.0), ("a", "x", "2", 0.0), ("b", "x", "1", 1.0), ("a", "y", "1", 0.5), ("c", "y", "9", 1.0)]
    return Runs(pl.DataFrame(rows, schema=["model", "benchmark", "item", "score"], orient="row"))


def test_coverage_frame_brute_force():
    runs = _runs()
    cov = {(r["system"], r["benchmark"]): r["coverage"] for r in coverage_frame(runs).iter_rows(named=True)}
    df = runs.frame
    for s in runs.systems:
        for b in runs.benchmarks:
            items = df.filter(pl.col("benchmark") == b)["item"].n_unique()
            ran = df.filter((pl.col("benchmark") == b) & (pl.col("model") == s))["item"].n_unique()
            assert cov[(s, b)] == ran / items


def test_overview_sections_for_runs_and_tables():
    rep = metabench.analyze(_runs(), ["overview"])
    (sec,) = rep.sections
    assert sec.key == "overview"
    assert [s.title for s in sec.subsections] == ["x", "y"]
    charts = [b for b in sec.blocks if isinstance(b, Chart)]
    assert len(charts) == 2
    x_table = sec.subsections[0].blocks[0]
    assert isinstance(x_table, Table)
    assert x_table.frame["system"].to_list() == ["b", "a"]  # best first
    board = ScoreTable.from_array(np.array([[0.5, np.nan], [0.7, 80.0]]), models=["m1", "m2"], benchmarks=["p", "q"])
    rep2 = metabench.analyze(board)
    table = rep2.sections[0].blocks[1]
    assert table.frame["models"].to_list() == [2, 1]
    assert table.frame["scale"].to_list() == ["unit", "percent"]


def test_exclusions_reach_the_report_notes(tmp_path):
    p = tmp_path / "board.csv"
    p.write_text("model,score_a\nx,1\nx,2\ny,-\n")
    board = metabench.load(p)
    rep = metabench.analyze(board)
    assert any("listed more than once" in n for n in rep.notes)
    assert any("non-numeric" in n for n in rep.notes)


def test_registry_all_and_unknown():
    names = [m.name for m in available()]
    assert names[0] == "overview"
    assert [m.name for m in resolve(["all"], _runs())] == [m.name for m in available() if "runs" in m.accepts]
    with pytest.raises(InputError, match="unknown analysis method"):
        resolve(["nope"])
    with pytest.raises(ValueError):
        register("all", title="t", description="d")


def test_registered_method_plugs_in_without_cli_change():
    from metabench.analysis import registry
    from metabench.report import Section, Text

    @register("count_rows_test", title="Rows", description="test-only", accepts=("runs",), order=999)
    def _count(data, ctx):
        return [Section("Rows", [Text(f"{len(data)} rows")], key="rows-test")]

    try:
        rep = metabench.analyze(_runs(), ["count_rows_test"])
        assert rep.sections[0].blocks[0].markdown == "5 rows"
        with pytest.raises(InputError, match="needs per-item runs"):
            metabench.analyze(ScoreTable.from_array([[0.5]]), ["count_rows_test"])
    finally:
        registry._REGISTRY.pop("count_rows_test")
