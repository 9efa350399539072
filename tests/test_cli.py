"""The command line (metabench/cli.py): validate on every bad-input class, info, analyze."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from metabench.cli import app

runner = CliRunner()

GOOD = "model,benchmark,item,score\na,x,1,1\na,x,2,0\nb,x,1,0.5\n"

# (file name, content, expected problem kind, expected "file:line" or None)
BAD_INPUTS = [
    ("missing_col.csv", "model,benchmark,score\na,x,1\n", "missing_column", None),
    ("non_numeric.csv", "model,benchmark,item,score\na,x,1,1\na,x,2,high\n", "non_numeric_score", 3),
    ("range.csv", "model,benchmark,item,score\na,x,1,1\na,x,2,100\n", "score_out_of_range", 3),
    ("nan.csv", "model,benchmark,item,score\na,x,1,NaN\n", "nan_score", 2),
    ("dup.csv", "model,benchmark,item,score\na,x,1,1\na,x,1,0\n", "duplicate_key", 3),
    ("empty.csv", "", "empty", None),
    ("trunc.jsonl", '{"model":"a","benchmark":"x","item":"1","score":1}\n{"model":"a","bench', "malformed_json", 2),
    ("mixed.csv", "model,benchmark,item,score,metric\na,x,1,1,acc\na,x,2,0,acc_norm\n", "mixed_metrics", None),
]


@pytest.mark.parametrize(("name", "content", "kind", "line"), BAD_INPUTS)
def test_validate_each_bad_class(tmp_path, name, content, kind, line):
    p = tmp_path / name
    p.write_text(content)
    res = runner.invoke(app, ["validate", str(p), "--json"])
    assert res.exit_code == 2, res.output
    data = json.loads(res.stdout)
    assert not data["ok"]
    assert data["problems"][0]["kind"] == kind
    assert data["problems"][0]["file"] == str(p)
    if line is not None:
        assert data["problems"][0]["line"] == line
    # the human form names file and line
    res2 = runner.invoke(app, ["validate", str(p)])
    assert res2.exit_code == 2
    where = f"{p}:{line}" if line is not None else str(p)
    assert where in res2.stderr
    assert "Traceback" not in res2.output + res2.stderr


def test_validate_unknown_format_and_empty_dir(tmp_path):
    p = tmp_path / "notes.bin"
    p.write_bytes(b"\x00\x01garbage")
    res = runner.invoke(app, ["validate", str(p), "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout)["problems"][0]["kind"] == "unknown_format"
    d = tmp_path / "empty_dir"
    d.mkdir()
    (d / "README.md").write_text("nothing here")
    res = runner.invoke(app, ["validate", str(d), "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout)["problems"][0]["kind"] == "no_runs"


def test_validate_collects_problems_across_files(tmp_path):
    (tmp_path / "a.csv").write_text("model,benchmark,item,score\na,x,1,2\n")
    (tmp_path / "b.csv").write_text("model,benchmark,item,score\nb,x,1,-1\n")
    res = runner.invoke(app, ["validate", str(tmp_path), "--json"])
    assert res.exit_code == 2
    files = {p["file"] for p in json.loads(res.stdout)["problems"]}
    assert files == {str(tmp_path / "a.csv"), str(tmp_path / "b.csv")}


def test_validate_duplicate_across_files(tmp_path):
    (tmp_path / "a.csv").write_text(GOOD)
    (tmp_path / "b.csv").write_text(GOOD)
    res = runner.invoke(app, ["validate", str(tmp_path), "--json"])
    assert res.exit_code == 2
    prob = json.loads(res.stdout)["problems"][0]
    assert prob["kind"] == "duplicate_key" and "a.csv" in prob["message"] and "b.csv" in prob["message"]


def test_validate_ok(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_text(GOOD)
    res = runner.invoke(app, ["validate", str(p)])
    assert res.exit_code == 0, res.output
    assert "valid" in res.stdout


def test_info_lists_benchmarks(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_text(GOOD)
    res = runner.invoke(app, ["info", str(p)])
    assert res.exit_code == 0, res.output
    assert "2 systems" in res.stdout and "x" in res.stdout


def test_user_error_is_one_line_exit_2(tmp_path):
    res = runner.invoke(app, ["info", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2
    assert res.stderr.strip().startswith("error:")
    assert "Traceback" not in res.stderr
    res = runner.invoke(app, ["--verbose", "info", str(tmp_path / "nope.csv")])
    assert "Traceback" in res.stderr


def test_unknown_method_is_user_error(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_text(GOOD)
    res = runner.invoke(app, ["analyze", str(p), "--method", "astrology", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert "unknown analysis method 'astrology'" in res.stderr


def test_help_is_friendly():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    assert "metabench analyze" in res.stdout
    res = runner.invoke(app, ["analyze", "--help"])
    assert "--method" in res.stdout and "--out" in res.stdout


def test_analyze_writes_every_format(tmp_path):
    runs = tmp_path / "runs.csv"
    rows = [(m, b, str(i), float((i * (k + 1)) % 3 == 0)) for k, m in enumerate("abc") for b in ("x", "y") for i in range(30)]
    pl.DataFrame(rows, schema=["model", "benchmark", "item", "score"], orient="row").write_csv(runs)
    out = tmp_path / "report"
    res = runner.invoke(app, ["analyze", str(runs), "--method", "all", "--out", str(out), "--format", "html,md,tex,json"])
    assert res.exit_code == 0, res.output + res.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["index.html", "report.json", "report.md", "report.tex"]
    rep = json.loads((out / "report.json").read_text())
    assert rep["schema"] == "metabench.report"
    keys = [s["key"] for s in rep["sections"]]
    assert "overview" in keys
    assert rep["provenance"]["inputs"][0]["sha256"]


def test_methods_lists_overview():
    res = runner.invoke(app, ["methods"])
    assert res.exit_code == 0
    assert "overview" in res.stdout
