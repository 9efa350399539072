"""The command line on harness folders: validate lists every problem, info counts as the report does,
--reruns, files given one by one (a shell glob)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from metabench.cli import app

runner = CliRunner()
FIX = Path(__file__).resolve().parent / "fixtures"
LM = FIX / "lm_eval" / "shapes" / "out"


def test_validate_lists_every_problem_of_every_file(tmp_path):
    # three files, four kinds of problem; a duplicate key beside a bad score in the same file
    (tmp_path / "a.csv").write_text("model,benchmark,item,score\na,x,1,2\na,x,1,1\n")
    (tmp_path / "b.csv").write_text("model,benchmark,item,score\n,x,1,0\nb,x,2,high\n")
    (tmp_path / "c.csv").write_text("model,benchmark,item,score\nc,x,1,1\n")
    (tmp_path / "d.csv").write_text("model,benchmark,item,score\nc,x,1,0\n")
    res = runner.invoke(app, ["validate", str(tmp_path), "--json"])
    assert res.exit_code == 2
    probs = json.loads(res.stdout)["problems"]
    kinds = {(Path(p["file"]).name, p["kind"]) for p in probs}
    assert {
        ("a.csv", "score_out_of_range"),
        ("a.csv", "duplicate_key"),
        ("b.csv", "missing_model"),
        ("b.csv", "non_numeric_score"),
    } <= kinds
    # the key shared by c.csv and d.csv is found although a.csv and b.csv are broken
    assert any(p["kind"] == "duplicate_key" and "c.csv" in p["message"] and "d.csv" in p["message"] for p in probs)


def test_validate_harness_folder_is_valid_and_says_what_it_left_out():
    res = runner.invoke(app, ["validate", str(LM), "--json"])
    assert res.exit_code == 0, res.output
    warnings = " ".join(json.loads(res.stdout)["warnings"])
    assert "exact re-run" in warnings and "without per-sample logs" in warnings


def _info_items(output: str) -> int:
    return int(re.search(r"([\d,]+) items\)", output).group(1).replace(",", ""))


def test_info_counts_items_as_the_report_does(tmp_path):
    res = runner.invoke(app, ["info", str(LM)])
    assert res.exit_code == 0, res.output
    rep = runner.invoke(app, ["analyze", str(LM), "--method", "overview", "-o", str(tmp_path), "-f", "md"])
    assert rep.exit_code == 0, rep.output
    md = (tmp_path / "report.md").read_text()
    report_items = int(re.search(r"\(([\d,]+) distinct items\)", md).group(1).replace(",", ""))
    assert _info_items(res.stdout) == report_items == 18  # 10 mb_mc + 8 mb_ll


def test_info_files_one_by_one_and_reruns_option():
    files = [str(p) for p in sorted((LM / "dummy-a").iterdir())]
    whole = runner.invoke(app, ["info", str(LM / "dummy-a")])
    glob = runner.invoke(app, ["info", *files])
    assert glob.exit_code == 0, glob.output
    assert whole.stdout.splitlines()[0] == glob.stdout.splitlines()[0]
    seeds = runner.invoke(app, ["info", str(LM), "--reruns", "seeds"])
    assert seeds.exit_code == 0, seeds.output
    assert "exact re-run" not in seeds.stdout and "exact re-run" in whole.stdout
    bad = runner.invoke(app, ["info", str(LM), "--reruns", "all"])
    assert bad.exit_code == 2 and "--reruns" in bad.output


def test_runs_and_leaderboard_tables_together_keep_both_exclusions(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "boards").mkdir()
    (tmp_path / "runs" / "r.csv").write_text("model,benchmark,item,score\na,x,1,1\nb,x,1,0\n")
    (tmp_path / "boards" / "board.csv").write_text("model,mmlu,gsm8k\na,70,50\na,71,52\nb,60,40\n")
    res = runner.invoke(app, ["info", str(tmp_path / "runs"), str(tmp_path / "boards")])
    assert res.exit_code == 0, res.output
    assert "listed more than once" in res.stdout  # the leaderboard's own duplicate row
    assert res.stdout.count("not merged into per-item runs") == 0
