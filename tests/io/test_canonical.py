"""Canonical CSV / Parquet / JSONL reader (metabench/io/canonical.py)."""

from __future__ import annotations

import gzip

import polars as pl
import pytest

from metabench import InputError, ValidationError
from metabench.io import canonical


def test_csv_lines_are_file_lines(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_text("model,benchmark,item,score\na,x,1,1\na,x,2,abc\na,x,3,0\na,x,4,1.5\n")
    with pytest.raises(ValidationError) as info:
        canonical.read(p)
    got = [(pr.kind, pr.line) for pr in info.value.problems]
    assert got == [("non_numeric_score", 3), ("score_out_of_range", 5)]
    assert all(pr.file == str(p) for pr in info.value.problems)


def test_jsonl_truncated_line(tmp_path):
    p = tmp_path / "runs.jsonl"
    p.write_text('{"model":"a","benchmark":"x","item":"1","score":1}\n{"model":"a","benchmark":"x","item":"2","sc\n')
    with pytest.raises(InputError) as info:
        canonical.read(p)
    assert info.value.problem.kind == "malformed_json"
    assert info.value.problem.line == 2


def test_jsonl_string_score_reported_with_line(tmp_path):
    p = tmp_path / "runs.jsonl"
    p.write_text('\n{"model":"a","benchmark":"x","item":1,"score":1}\n{"model":"a","benchmark":"x","item":2,"score":"yes"}\n')
    with pytest.raises(ValidationError) as info:
        canonical.read(p)
    assert (info.value.problems[0].kind, info.value.problems[0].line) == ("non_numeric_score", 3)


def test_jsonl_gz_and_nested_extras(tmp_path):
    p = tmp_path / "runs.jsonl.gz"
    with gzip.open(p, "wt") as fh:
        fh.write('{"model":"a","benchmark":"x","item":1,"score":1,"logprobs":[-0.1,-2.0]}\n')
    r = canonical.read(p)
    assert r.frame["item"].to_list() == ["1"]
    assert r.frame["logprobs"].to_list() == ["[-0.1,-2.0]"]


def test_empty_and_header_only(tmp_path):
    e = tmp_path / "e.csv"
    e.write_text("")
    with pytest.raises(InputError) as info:
        canonical.read(e)
    assert info.value.problem.kind == "empty"
    h = tmp_path / "h.csv"
    h.write_text("model,benchmark,item,score\n")
    with pytest.raises(InputError) as info:
        canonical.read(h)
    assert info.value.problem.kind == "empty"


def test_parquet_rows_and_corrupt_file(tmp_path):
    p = tmp_path / "runs.parquet"
    pl.DataFrame({"model": ["a", "a"], "benchmark": ["x", "x"], "item": ["1", "1"], "score": [1.0, 0.0]}).write_parquet(p)
    with pytest.raises(ValidationError) as info:
        canonical.read(p)
    assert (info.value.problems[0].kind, info.value.problems[0].line) == ("duplicate_key", 2)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(p.read_bytes()[:40])
    with pytest.raises(InputError) as info:
        canonical.read(bad)
    assert info.value.problem.kind == "malformed_parquet"


def test_sniff(tmp_path):
    good = tmp_path / "a.csv"
    good.write_text("model,benchmark,item,score\n")
    wide = tmp_path / "b.csv"
    wide.write_text("model,mmlu\nA,1\n")
    assert canonical.sniff(good)
    assert not canonical.sniff(wide)
    assert not canonical.sniff(tmp_path / "x.txt")


def test_bundled_runs_load():
    r = canonical.read("data/runs/medagents_zero_shot.parquet")
    assert len(r) == 69_778
    assert len(r.models) == 10 and len(r.benchmarks) == 7
    m = r.matrix("medmcqa")
    assert m.shape == (10, 2816)
    assert int((~m.observed).sum()) == 1  # claude-3-5-sonnet lacks one medmcqa item (data/SOURCES.md)
