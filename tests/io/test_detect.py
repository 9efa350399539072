"""Format detection and merging across sources (metabench/io/detect.py).

The tree below is assembled from the real tool outputs in tests/fixtures (each
produced by the tool itself; see the README beside each), a canonical CSV and a
published leaderboard table from data/leaderboards.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

import metabench
from metabench import InputError, Runs, ScoreTable, UnknownFormatError
from metabench.io.detect import discover, validate

FIX = Path("tests/fixtures")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    shutil.copytree(FIX / "lm_eval" / "output", root / "lm_eval")
    helm_run = next((FIX / "helm" / "benchmark_output" / "runs" / "v1").glob("simple_echo*"))
    shutil.copytree(helm_run, root / "helm" / "simple_echo")
    (root / "inspect").mkdir()
    shutil.copy(FIX / "inspect" / "arith.eval", root / "inspect" / "arith.eval")
    shutil.copytree(FIX / "lighteval" / "out", root / "lighteval")
    (root / "mine.csv").write_text("model,benchmark,item,score,seed\nmy-model,my-bench,1,1,0\nmy-model,my-bench,1,0,1\n")
    (root / "boards").mkdir()
    shutil.copy("data/leaderboards/helm_lite_240829_holistic.csv", root / "boards" / "helm_lite.csv")
    (root / "README.md").write_text("notes")
    (root / "weird.bin").write_bytes(b"\x00\x01")
    return root


def test_discover_assigns_each_file(tree):
    found = discover(tree)
    assert found.formats == {"lm_eval": 5, "helm": 1, "inspect_ai": 1, "lighteval": 4, "canonical": 1, "leaderboard": 1}
    assert [p.name for p in found.unknown] == ["weird.bin"]
    assert [p.name for p in found.skipped_docs] == ["README.md"]


def test_load_merges_every_source(tree):
    runs = metabench.load(tree)
    assert isinstance(runs, Runs)
    assert {s.format for s in runs.sources if s.rows} == {"lm_eval", "helm", "inspect_ai", "lighteval", "canonical"}
    assert set(runs.systems) == {"dummy-a", "org/dummy-b", "simple/model1", "mockllm/model", "toy-model", "toy-org/toy-small", "my-model"}
    # rows add up: each source loaded alone gives the same rows
    parts = [
        metabench.load(tree / "lm_eval"),
        metabench.load(tree / "helm" / "simple_echo"),
        metabench.load(tree / "inspect" / "arith.eval"),
        metabench.load(tree / "lighteval"),
        metabench.load(tree / "mine.csv"),
    ]
    assert len(runs) == sum(len(p) for p in parts)
    reasons = " | ".join(e.reason for e in runs.exclusions)
    assert "leaderboard table(s) not merged" in reasons
    assert "not recognised" in reasons
    assert runs.matrix("my-bench").values.tolist() == [[0.5]]


def test_kind_scores_returns_the_leaderboard(tree):
    table = metabench.load(tree, kind="scores")
    assert isinstance(table, ScoreTable)
    assert table.benchmarks == ("helm_lite",)


def test_several_paths_and_forced_format(tree):
    runs = metabench.load([tree / "mine.csv", tree / "inspect"])
    assert set(runs.systems) == {"my-model", "mockllm/model"}
    with pytest.raises(InputError):
        metabench.load(tree / "mine.csv", format="lm_eval")


def test_metric_option_reaches_the_reader(tree):
    acc = metabench.load(tree / "lm_eval", metric="acc").filter(benchmark="mb_mc")
    norm = metabench.load(tree / "lm_eval" / "org__dummy-b", metric="acc_norm").filter(benchmark="mb_mc")
    assert set(acc.frame["metric"].unique().to_list()) == {"acc,none"}
    assert set(norm.frame["metric"].unique().to_list()) == {"acc_norm,none"}


def test_same_run_twice_is_read_once(tmp_path):
    # one Inspect run logged in both formats: the same eval id, configuration and seed,
    # so one copy is used and the other is listed, not refused
    shutil.copy(FIX / "inspect" / "keywords_partial.eval", tmp_path / "a.eval")
    shutil.copy(FIX / "inspect" / "keywords_partial.json", tmp_path / "a.json")
    one = metabench.load(tmp_path / "a.eval")
    both = metabench.load(tmp_path)
    assert both.frame.equals(one.frame)
    rerun = [e for e in both.exclusions if "exact re-run" in e.reason]
    assert len(rerun) == 1 and rerun[0].count == 1
    rep = validate(tmp_path)
    assert rep.ok and any("exact re-run" in w for w in rep.warnings)


def test_same_canonical_rows_twice_are_a_duplicate(tmp_path):
    (tmp_path / "a.csv").write_text("model,benchmark,item,score\nm,x,1,1\n")
    (tmp_path / "b.csv").write_text("model,benchmark,item,score\nm,x,1,0\n")
    with pytest.raises(metabench.ValidationError, match="share a key"):
        metabench.load(tmp_path)
    rep = validate(tmp_path)
    assert not rep.ok and rep.problems[0].kind == "duplicate_key"


def test_run_without_metric_in_a_tree_is_counted():
    runs = metabench.load(FIX / "helm" / "benchmark_output")
    skipped = [e for e in runs.exclusions if "usable per-item metric" in e.reason]
    assert len(skipped) == 1 and skipped[0].count == 1
    assert "simple1" in skipped[0].examples[0]


def test_unknown_file_and_empty_directory(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00")
    with pytest.raises(UnknownFormatError) as info:
        metabench.load(p)
    assert info.value.problem.kind == "unknown_format"
    d = tmp_path / "d"
    d.mkdir()
    with pytest.raises(UnknownFormatError) as info:
        metabench.load(d)
    assert info.value.problem.kind == "no_runs"
    with pytest.raises(InputError) as info:
        metabench.load(tmp_path / "missing")
    assert info.value.problem.kind == "not_found"


def test_bundled_data_loads():
    runs = metabench.load("data/runs")
    assert len(runs) == 69_778 + 23_758 + 347_215
    assert len(runs.benchmarks) == 15
    board = metabench.load("data/leaderboards")
    assert isinstance(board, ScoreTable)
    # independent count: every column but the first of every table, read with the csv module
    expected = 0
    for f in Path("data/leaderboards").glob("*.csv"):
        with open(f, newline="") as fh:
            expected += len(next(csv.reader(fh))) - 1
    assert len(board.benchmarks) == expected
