"""Harness folders in the shapes users produce: re-runs, seeds, few-shot variants, epochs,
task groups, failed runs, files given one by one.

Every fixture was written by the real harness (see the README and make_fixture script
beside each one); the reference numbers are the harness's own, read back from its output
files by the ``make_expected.py`` committed beside each fixture into ``expected.json``
(lm-eval's ``results_*.json`` values, Inspect's ``read_eval_log`` scores, lighteval's
``results_*.json`` aggregates).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

import metabench
from metabench.io.detect import validate

FIX = Path(__file__).resolve().parents[1] / "fixtures"
LM = FIX / "lm_eval" / "shapes"
INSPECT = FIX / "inspect" / "shapes"
LIGHTEVAL = FIX / "lighteval" / "shapes"


def expected(folder: Path) -> list[dict]:
    return json.loads((folder / "expected.json").read_text())["runs"]


def means(runs: metabench.Runs, by: list[str]) -> dict[tuple, float]:
    """Mean score per group, seeds of an item averaged first."""
    frame = runs.frame
    if "method" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("method"))
    per_item = frame.group_by([*by, "item"]).agg(pl.col("score").mean())
    out = per_item.group_by(by).agg(pl.col("score").mean(), pl.len().alias("n"))
    return {tuple(r[:-2]): (r[-2], r[-1]) for r in out.sort(by).iter_rows()}


# --------------------------------------------------------------------------- lm-eval


def _lm_runs() -> dict[str, dict]:
    """The fixture's runs by letter, in the order make_fixture.sh made them (A ... G)."""
    runs = sorted(expected(LM), key=lambda r: r["date"])
    return dict(zip("ABCDEFG", runs, strict=True))


def test_lm_eval_reruns_seeds_and_fewshot_in_one_folder():
    runs = metabench.load(LM / "out")
    exp = _lm_runs()
    frame = runs.frame
    mc = frame.filter(pl.col("benchmark") == "mb_mc")
    # dummy-a: 0-shot with seeds 42 (run C) and 1234 (the latest of A, B and the group run E), and 2-shot (run D)
    got = {
        (r["method"], r["seed"]): r["score"]
        for r in mc.filter(pl.col("model") == "dummy-a")
        .group_by("method", "seed")
        .agg(pl.col("score").mean())
        .iter_rows(named=True)
    }
    assert got == {
        ("0-shot", 42): pytest.approx(exp["C"]["tasks"]["mb_mc"]["value"]),
        ("0-shot", 1234): pytest.approx(exp["E"]["tasks"]["mb_mc"]["value"]),
        ("2-shot", 0): pytest.approx(exp["D"]["tasks"]["mb_mc"]["value"]),
    }
    assert exp["C"]["seeds"]["random_seed"] == 42 and exp["E"]["seeds"]["random_seed"] == 1234
    assert exp["D"]["tasks"]["mb_mc"]["num_fewshot"] == 2
    # dummy-b ran one configuration: no method
    b = mc.filter(pl.col("model") == "org/dummy-b")
    assert b["method"].null_count() == b.height
    assert b["score"].mean() == pytest.approx(exp["G"]["tasks"]["mb_mc"]["value"])
    # the group run's other task, under the same system label as its 0-shot runs
    ll = frame.filter(pl.col("benchmark") == "mb_ll")
    assert ll["method"].unique().to_list() == ["0-shot"]
    assert ll["score"].mean() == pytest.approx(exp["E"]["tasks"]["mb_ll"]["value"])
    # item counts equal lm-eval's own sample counts
    assert runs.summary().select("benchmark", "items").rows() == [
        ("mb_ll", exp["E"]["tasks"]["mb_ll"]["n_samples"]),
        ("mb_mc", exp["A"]["tasks"]["mb_mc"]["n_samples"]),
    ]
    # A and B (re-runs of E's configuration and seed) are listed; F (no samples) is named
    rerun = next(e for e in runs.exclusions if "exact re-run" in e.reason)
    assert rerun.count == 2
    assert {Path(x).name for x in rerun.examples} == {Path(f).name for r in "AB" for f in exp[r]["samples_files"]}
    nosamples = next(e for e in runs.exclusions if "per-sample logs" in e.reason)
    assert Path(nosamples.examples[0]).name == Path(exp["F"]["results_file"]).name


def test_lm_eval_reruns_kept_as_seeds():
    runs = metabench.load(LM / "out", reruns="seeds")
    exp = _lm_runs()
    zero = runs.frame.filter(
        (pl.col("model") == "dummy-a") & (pl.col("method") == "0-shot") & (pl.col("benchmark") == "mb_mc")
    )
    assert zero["seed"].n_unique() == 4  # A, B, C and E
    by_seed = sorted(zero.group_by("seed").agg(pl.col("score").mean()).sort("seed")["score"].to_list())
    want = sorted(exp[r]["tasks"]["mb_mc"]["value"] for r in "ABCE")
    assert by_seed == pytest.approx(want)
    assert not [e for e in runs.exclusions if "exact re-run" in e.reason]


def test_lm_eval_files_given_one_by_one_equal_the_folder(tmp_path):
    folder = LM / "out" / "dummy-a"
    files = sorted(folder.iterdir())
    one_by_one = metabench.load(files)
    whole = metabench.load(folder)
    assert one_by_one.frame.equals(whole.frame)
    # a results file alone reads the samples of its own run
    exp = _lm_runs()
    res = metabench.load(LM / exp["D"]["results_file"])
    assert res.frame.height == exp["D"]["tasks"]["mb_mc"]["n_docs_in_samples"]
    assert res.frame["score"].mean() == pytest.approx(exp["D"]["tasks"]["mb_mc"]["value"])


def test_lm_eval_truncated_samples_file_is_skipped_and_named(tmp_path):
    out = tmp_path / "out"
    shutil.copytree(LM / "out" / "dummy-a", out / "dummy-a")
    exp = _lm_runs()
    victim = out / "dummy-a" / Path(exp["C"]["samples_files"][0]).name
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # cut mid-line, as a killed process leaves it
    runs = metabench.load(out)
    assert 42 not in runs.frame["seed"].to_list()
    skipped = [e for e in runs.exclusions if victim.name in " ".join(e.examples)]
    assert skipped and "truncated" in skipped[0].reason
    rep = validate(out)
    assert rep.ok and any(victim.name in w and "truncated" in w for w in rep.warnings)
    # given on its own, the file is still an error
    with pytest.raises(metabench.InputError, match="truncated"):
        metabench.load(victim)
    # cut at a line boundary: fewer documents than lm-eval counted, a partial run
    lines = data.splitlines(keepends=True)
    victim.write_bytes(b"".join(lines[:4]))
    runs = metabench.load(out)
    partial = [e for e in runs.exclusions if "did not finish" in e.reason]
    assert partial and "4 of the 10 documents" in partial[0].reason


# --------------------------------------------------------------------------- inspect


def test_inspect_default_log_folder_with_epochs_errors_and_cancels():
    runs = metabench.load(INSPECT / "logs")
    exp = {Path(r["file"]).name: r for r in expected(INSPECT)}
    ok = sorted((r for r in exp.values() if r["status"] == "success"), key=lambda r: r["created"])
    one, three = ok
    assert (one["epochs"], three["epochs"]) == (1, 3)
    # the latest complete run (3 epochs) is used, its epochs as seeds 0..2
    frame = runs.frame
    assert runs.benchmarks == ("quiz8",)
    got = sorted((r[0], r[1] + 1, r[2]) for r in frame.select("item", "seed", "score").iter_rows())
    assert got == sorted((str(i), e, s) for i, e, s in three["rows"])
    # seeds averaged within an item first: the mean is Inspect's accuracy over its 24 samples (balanced epochs)
    assert runs.summary()["mean_score"][0] == pytest.approx(three["metrics"]["choice"]["accuracy"])
    assert runs.summary()["items"][0] == three["n_samples_total"]
    # the error and cancelled runs are named with Inspect's reason
    reasons = " ".join(e.reason for e in runs.exclusions)
    err = next(r for r in exp.values() if r["status"] == "error")
    assert "status 'error'" in reasons and err["error"].split("(")[0] in reasons
    assert "status 'cancelled'" in reasons
    assert any("exact re-run" in e.reason for e in runs.exclusions)


def test_inspect_epoch_runs_kept_as_seeds():
    runs = metabench.load(INSPECT / "logs", reruns="seeds")
    exp = [r for r in expected(INSPECT) if r["status"] == "success"]
    assert runs.frame.height == sum(len(r["rows"]) for r in exp)
    assert sorted(runs.frame["seed"].unique().to_list()) == [0, 1, 2, 3]
    # the 1-epoch run (made first) is seed 0
    first = min(exp, key=lambda r: r["created"])
    seed0 = runs.frame.filter(pl.col("seed") == 0)
    assert sorted(seed0.select("item", "score").rows()) == sorted((str(i), s) for i, _, s in first["rows"])


def test_inspect_failed_log_given_directly_is_read_with_a_note():
    err = next(r for r in expected(INSPECT) if r["status"] == "error")
    runs = metabench.load(INSPECT / err["file"])
    scored = [r for r in err["rows"]]
    assert runs.frame.height == len(scored)
    assert runs.sources[0].run.status == "error"


# --------------------------------------------------------------------------- lighteval


def test_lighteval_reruns_and_fewshot_in_one_output_folder():
    runs = metabench.load(LIGHTEVAL / "out")
    exp = expected(LIGHTEVAL)
    got = means(runs, ["model", "method"])
    by_key = {}
    for r in exp:
        ((_task, t),) = r["tasks"].items()
        by_key.setdefault((r["model"], t["num_fewshot"]), []).append((r["timestamp"], t))
    latest = {k: max(v, key=lambda x: x[0])[1] for k, v in by_key.items()}
    assert got == {
        ("toy-model", "0-shot"): (
            pytest.approx(latest[("toy-model", 0)]["metrics"]["acc"]),
            latest[("toy-model", 0)]["n_docs"],
        ),
        ("toy-model", "2-shot"): (
            pytest.approx(latest[("toy-model", 2)]["metrics"]["acc"]),
            latest[("toy-model", 2)]["n_docs"],
        ),
        ("toy-org/toy-small", None): (
            pytest.approx(latest[("toy-org/toy-small", 0)]["metrics"]["acc"]),
            latest[("toy-org/toy-small", 0)]["n_docs"],
        ),
    }
    rerun = next(e for e in runs.exclusions if "exact re-run" in e.reason)
    first = min(by_key[("toy-model", 0)], key=lambda x: x[0])[0]
    assert rerun.count == 1 and first in rerun.examples[0]


def test_lighteval_results_file_given_directly_reads_its_run():
    r = next(r for r in expected(LIGHTEVAL) if r["model"] == "toy-org/toy-small")
    runs = metabench.load(LIGHTEVAL / r["results_file"])
    ((_, t),) = r["tasks"].items()
    assert runs.frame.height == t["n_docs"]
    assert runs.frame["score"].mean() == pytest.approx(t["metrics"]["acc"])


# --------------------------------------------------------------------------- HELM

HELM = FIX / "helm" / "shapes"


def test_helm_trials_and_a_failed_run():
    runs = metabench.load(HELM / "benchmark_output")
    exp = {r["run_spec_name"]: r for r in expected(HELM)}
    echo = exp["simple_echo:num_input_tokens=2,model=simple_model1"]
    parity = exp["simple_parity:model=simple_model1"]
    got = means(runs, ["benchmark"])
    assert got == {
        ("simple_echo:num_input_tokens=2",): (pytest.approx(echo["mean"]), echo["n_instances"]),
        ("simple_parity",): (pytest.approx(parity["mean"]), parity["n_instances"]),
    }
    trials = runs.frame.filter(pl.col("benchmark").str.starts_with("simple_echo"))["seed"].unique().sort().to_list()
    assert trials == echo["train_trials"]
    failed = exp["broken_local:model=simple_model1"]
    assert failed["status"] == "failed"
    note = next(e for e in runs.exclusions if "did not finish" in e.reason)
    assert note.examples[0].endswith(failed["run_dir"].split("/")[-1]) and "run_spec.json" in note.reason


def test_helm_empty_run_folder_and_side_files_given_directly(tmp_path):
    suite = tmp_path / "benchmark_output" / "runs" / "v1"
    shutil.copytree(HELM / "benchmark_output" / "runs" / "v1", suite)
    # what helm-run leaves when a scenario fails before it writes anything (git keeps no empty folder)
    (suite / "raise_local:model=simple_model1").mkdir()
    runs = metabench.load(tmp_path)
    notes = [e for e in runs.exclusions if "did not finish" in e.reason]
    assert len(notes) == 2 and any("it is empty" in e.reason for e in notes)
    run = suite / "simple_parity:model=simple_model1"
    for side in ("stats.json", "run_spec.json"):
        got = metabench.load(run / side)
        assert got.frame.equals(metabench.load(run / "per_instance_stats.json").frame)


# --------------------------------------------------------------------------- one tree, four harnesses

MIXED = FIX / "mixed"


def test_mixed_tree_is_one_benchmark_of_its_real_items():
    runs = metabench.load(MIXED)
    questions = [json.loads(line) for line in (MIXED / "questions.jsonl").read_text().splitlines()]
    assert runs.benchmarks == ("medmini",)
    assert runs.summary()["items"].to_list() == [len(questions)]
    assert runs.summary()["coverage"].to_list() == [1.0]
    # every harness's item is matched to the right question: item k is question mc{k:02d}
    frame = runs.frame
    ins = next(r for r in expected(MIXED / "inspect") if r["status"] == "success")
    want = {str(int(i[2:])): s for i, _, s in ins["rows"]}
    got = dict(frame.filter(pl.col("model") == ins["model"]).select("item", "score").iter_rows())
    assert got == want
    helm = expected(MIXED / "helm")[0]
    helm_scores = dict(frame.filter(pl.col("model") == helm["model"]).select("item", "score").iter_rows())
    helm_right = sorted((i for i, s in helm_scores.items() if s == 1.0), key=int)
    answers_d = sorted((str(k) for k, q in enumerate(questions) if q["answer_letter"] == "D"), key=int)
    assert helm_right == answers_d  # simple/model1 always answers D
    assert sum(helm_scores.values()) / len(helm_scores) == pytest.approx(helm["mean"])
    le = expected(MIXED / "lighteval")[0]
    ((_, t),) = le["tasks"].items()
    got = dict(frame.filter(pl.col("model") == le["model"]).select("item", "score").iter_rows())
    assert got == {k: float(v["acc"]) for k, v in t["per_doc"].items()}
    for r in expected(MIXED / "lm_eval"):
        sub = frame.filter(pl.col("model") == r["model"])
        assert sub["score"].mean() == pytest.approx(r["tasks"]["medmini"]["value"])
    assert sum("matched to those of lm_eval" in n for n in runs.notes) == 3


def test_mixed_tree_without_question_text_stays_apart(tmp_path):
    # the inspect log alone has ids mc00..; the lm-eval samples without their documents cannot be matched
    shutil.copytree(MIXED / "inspect" / "logs", tmp_path / "inspect")
    out = tmp_path / "lm_eval" / "lm-a"
    out.mkdir(parents=True)
    src = MIXED / "lm_eval" / "out" / "lm-a"
    for f in src.iterdir():
        if f.name.startswith("samples_"):
            lines = [json.loads(x) for x in f.read_text().splitlines()]
            for x in lines:
                x["doc"] = {}
            (out / f.name).write_text("".join(json.dumps(x) + "\n" for x in lines))
        else:
            shutil.copy(f, out / f.name)
    runs = metabench.load(tmp_path)
    # the source with question text (inspect) is the reference; the other is named by its harness
    assert runs.benchmarks == ("medmini", "medmini [lm_eval]")
    assert all(n == 30 for n in runs.summary()["items"].to_list())
    assert any("separate benchmark" in n for n in runs.notes)


@pytest.mark.parametrize(
    "folder",
    [LM / "out", INSPECT / "logs", LIGHTEVAL / "out", HELM / "benchmark_output", MIXED],
    ids=["lm_eval", "inspect", "lighteval", "helm", "mixed"],
)
def test_analyze_takes_each_folder(folder, tmp_path):
    from typer.testing import CliRunner

    from metabench.cli import app

    res = CliRunner().invoke(app, ["analyze", str(folder), "--method", "all", "-o", str(tmp_path), "-f", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "report.json").read_text())
    text = json.dumps(report)
    assert "share a key" not in text
    # no comparison on zero shared items anywhere in the significance tables
    for section in report["sections"]:
        if section.get("key", "").startswith("significance"):
            for block in _blocks(section):
                if block.get("type") == "table" and "n_items" in (block.get("columns") or []):
                    col = block["columns"].index("n_items")
                    assert all(row[col] is None or row[col] >= 2 for row in block["rows"])


def _blocks(section: dict) -> list[dict]:
    out = list(section.get("blocks", []))
    for sub in section.get("subsections", []):
        out += _blocks(sub)
    return out


def test_folder_whose_only_run_failed_says_why(tmp_path):
    err = next(r for r in expected(INSPECT) if r["status"] == "error")
    shutil.copy(INSPECT / err["file"], tmp_path / Path(err["file"]).name)
    with pytest.raises(metabench.InputError, match="no run finished.*status 'error'"):
        metabench.load(tmp_path)
