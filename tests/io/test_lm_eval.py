"""Tests of metabench.io.lm_eval on real lm-eval 0.4.13 output (tests/fixtures/lm_eval).

Expected values are copied from the raw samples files, e.g.
``python -c "import json; [print(json.loads(l)['doc_id'], json.loads(l)['acc']) for l in open(F)]"``.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from metabench.errors import InputError, ValidationError
from metabench.io import lm_eval

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lm_eval"
RUN_A = FIXTURE / "output" / "dummy-a"
RUN_B = FIXTURE / "output" / "org__dummy-b"


def one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def scores(runs) -> dict[str, float]:
    return dict(runs.frame.select("item", "score").iter_rows())


def sample_line(doc_id: int, **extra: object) -> str:
    row = {
        "doc_id": doc_id,
        "doc": {"q": f"question {doc_id}"},
        "target": "1",
        "arguments": {},
        "resps": [],
        "filtered_resps": [],
        "filter": "none",
        "metrics": ["acc", "acc_norm"],
        "acc": 1.0,
        "acc_norm": 0.0,
    }
    row.update(extra)
    return json.dumps(row) + "\n"


def write_samples(folder: Path, task: str, lines: list[str], ts: str = "2024-05-01T10-00-00.123456") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"samples_{task}_{ts}.jsonl"
    p.write_text("".join(lines))
    return p


# ---------------------------------------------------------------------------
# the real fixture


def test_multiple_choice_default_metric_is_acc():
    path = one(RUN_A, "samples_mb_mc_*.jsonl")
    runs = lm_eval.read(path)
    f = runs.frame
    assert f.height == 10
    assert runs.models == ("dummy-a",)
    assert runs.benchmarks == ("mb_mc",)
    assert f["item"].to_list() == [str(i) for i in range(10)]
    assert f["seed"].unique().to_list() == [0]
    assert f["metric"].unique().to_list() == ["acc,none"]
    # raw file: acc is 1.0 on doc_id 3, 7, 8, 9 and 0.0 elsewhere
    s = scores(runs)
    assert s["3"] == 1.0 and s["7"] == 1.0 and s["0"] == 0.0 and s["4"] == 0.0
    assert sum(s.values()) == 4.0  # results file: "acc,none": 0.4
    assert runs.exclusions == ()
    assert [src.path for src in runs.sources] == [str(path), str(one(RUN_A, "results_*.json"))]


def test_model_name_from_results_file_not_folder():
    runs = lm_eval.read(one(RUN_B, "samples_mb_mc_*.jsonl"))
    assert runs.models == ("org/dummy-b",)  # folder is the sanitized org__dummy-b


def test_acc_versus_acc_norm():
    path = one(RUN_B, "samples_mb_mc_*.jsonl")
    acc = scores(lm_eval.read(path, metric="acc"))
    norm = scores(lm_eval.read(path, metric="acc_norm"))
    # raw file line 3: {"doc_id": 2, ..., "acc": 1.0, "acc_norm": 0.0}
    assert acc["2"] == 1.0 and norm["2"] == 0.0
    assert acc["1"] == 1.0 and norm["1"] == 1.0
    assert sum(acc.values()) == 3.0 and sum(norm.values()) == 2.0  # results: 0.3 and 0.2
    assert lm_eval.read(path, metric="acc_norm").frame["metric"][0] == "acc_norm,none"


def test_missing_metric_lists_available():
    with pytest.raises(InputError) as err:
        lm_eval.read(one(RUN_A, "samples_mb_mc_*.jsonl"), metric="exact_match")
    assert err.value.problem.kind == "unknown_metric"
    assert "'acc', 'acc_norm'" in str(err.value)
    assert err.value.problem.line == 1


def test_metric_cannot_be_a_non_metric_field():
    with pytest.raises(InputError) as err:
        lm_eval.read(one(RUN_A, "samples_mb_mc_*.jsonl"), metric="doc_id")
    assert err.value.problem.kind == "unknown_metric"


def test_two_filters_default_first_and_exclusion():
    path = one(RUN_A, "samples_mb_gen_*.jsonl")
    runs = lm_eval.read(path)
    assert runs.frame.height == 10
    assert runs.benchmarks == ("mb_gen",)
    assert runs.frame["metric"].unique().to_list() == ["exact_match,strict-match"]
    # strict-match rows (lines 1-10) all have filtered_resps ["[invalid]"], exact_match 0.0
    assert set(scores(runs).values()) == {0.0}
    (ex,) = runs.exclusions
    assert ex.count == 10 and ex.examples == ("flexible-extract",)
    assert "strict-match" in ex.reason


def test_pick_filter():
    runs = lm_eval.read(one(RUN_A, "samples_mb_gen_*.jsonl"), filter="flexible-extract")
    s = scores(runs)
    # lines 11, 14, 17: doc_id 0, 3, 6 (target "lol") have exact_match 1.0
    assert {k for k, v in s.items() if v == 1.0} == {"0", "3", "6"}
    assert len(s) == 10
    assert runs.exclusions[0].examples == ("strict-match",)
    with pytest.raises(InputError) as err:
        lm_eval.read(one(RUN_A, "samples_mb_gen_*.jsonl"), filter="maj@8")
    assert err.value.problem.kind == "unknown_filter"
    assert "'strict-match', 'flexible-extract'" in str(err.value)


def test_repeats_give_one_row_per_document():
    runs = lm_eval.read(one(RUN_B, "samples_mb_gen_rep_*.jsonl"))
    assert runs.benchmarks == ("mb_gen_rep",)  # task name with underscores
    assert runs.frame.height == 10
    assert {k for k, v in scores(runs).items() if v == 1.0} == {"0", "3", "6"}


def test_perplexity_rejected_with_metric_advice():
    path = one(RUN_A, "samples_mb_ll_*.jsonl")
    runs = lm_eval.read(path)  # default prefers acc over perplexity
    assert runs.frame.height == 8 and set(scores(runs).values()) == {0.0}
    with pytest.raises(ValidationError) as err:
        lm_eval.read(path, metric="perplexity")
    probs = err.value.problems
    assert all(p.kind == "score_out_of_range" for p in probs)
    assert len(probs) == 8
    assert probs[0].line == 1 and "-0.70485991" in probs[0].message
    assert "perplexity" in probs[0].message
    assert "metric= one of acc" in probs[0].fix


def test_model_and_benchmark_override():
    runs = lm_eval.read(one(RUN_A, "samples_mb_mc_*.jsonl"), model="my-model", benchmark="toy")
    assert runs.models == ("my-model",) and runs.benchmarks == ("toy",)


def test_sniff_and_companion_on_fixture():
    for p in sorted((FIXTURE / "output").rglob("samples_*.jsonl")):
        assert lm_eval.sniff(p) and not lm_eval.companion(p)
    results = sorted((FIXTURE / "output").rglob("results_*.json"))
    assert len(results) == 2
    for p in results:
        assert lm_eval.companion(p) and not lm_eval.sniff(p)
    # the task data and configs are not lm-eval output
    for p in (FIXTURE / "tasks").iterdir():
        assert not lm_eval.sniff(p) and not lm_eval.companion(p), p
    assert not lm_eval.sniff(FIXTURE / "README.md")


def test_sniff_rejects_other_jsonl(tmp_path):
    canon = tmp_path / "runs.jsonl"
    canon.write_text('{"model": "a", "benchmark": "b", "item": "1", "score": 1.0}\n')
    samples_named = tmp_path / "samples_x_2024-05-01T10-00-00.jsonl"
    samples_named.write_text('{"id": 1, "score": 1.0}\n')
    other_json = tmp_path / "results.json"
    other_json.write_text('{"config_general": {}, "results": {}}')
    assert not lm_eval.sniff(canon) and not lm_eval.companion(canon)
    assert not lm_eval.sniff(samples_named)
    assert not lm_eval.companion(other_json)
    assert not lm_eval.sniff(tmp_path / "absent.jsonl")
    # doc_id first but no "doc" and no samples_ name: not claimed
    bare = tmp_path / "preds.jsonl"
    bare.write_text('{"doc_id": 0, "pred": "a"}\n')
    assert not lm_eval.sniff(bare)


# ---------------------------------------------------------------------------
# broken files


def test_truncated_line_reports_line_number(tmp_path):
    src = one(RUN_A, "samples_mb_mc_*.jsonl")
    dst = tmp_path / "dummy-a" / src.name
    dst.parent.mkdir()
    lines = src.read_bytes().splitlines(keepends=True)
    dst.write_bytes(b"".join(lines[:6]) + lines[6][:150])  # cut inside line 7
    with pytest.raises(InputError) as err:
        lm_eval.read(dst)
    assert err.value.problem.kind == "malformed_json"
    assert err.value.problem.line == 7
    assert str(dst) in str(err.value) and "truncated" in str(err.value)


def test_corrupt_middle_line(tmp_path):
    lines = [sample_line(0), "{not json}\n", sample_line(2)]
    with pytest.raises(InputError) as err:
        lm_eval.read(write_samples(tmp_path / "m", "t", lines))
    assert err.value.problem.kind == "malformed_json" and err.value.problem.line == 2


def test_empty_file(tmp_path):
    p = write_samples(tmp_path / "m", "t", [])
    with pytest.raises(InputError) as err:
        lm_eval.read(p)
    assert err.value.problem.kind == "empty"
    p.write_text("\n\n")
    with pytest.raises(InputError) as err:
        lm_eval.read(p)
    assert err.value.problem.kind == "empty"


def test_mixed_metrics(tmp_path):
    lines = [sample_line(0), sample_line(1), sample_line(2, metrics=["acc"], acc_norm=None)]
    lines[2] = lines[2].replace(', "acc_norm": null', "")
    p = write_samples(tmp_path / "m", "t", lines)
    with pytest.raises(InputError) as err:
        lm_eval.read(p)
    assert err.value.problem.kind == "mixed_metrics" and err.value.problem.line == 3
    # a metric present on every line resolves it
    assert lm_eval.read(p, metric="acc").frame.height == 3
    with pytest.raises(InputError) as err:
        lm_eval.read(p, metric="acc_norm")
    assert err.value.problem.kind == "mixed_metrics" and err.value.problem.line == 3


def test_non_numeric_metric(tmp_path):
    lines = [sample_line(0, metrics=["bleu", "acc"], bleu=[["ref"], ["pred"]])]
    p = write_samples(tmp_path / "m", "t", lines)
    assert lm_eval.read(p).frame["score"].to_list() == [1.0]
    with pytest.raises(InputError) as err:
        lm_eval.read(p, metric="bleu")
    assert err.value.problem.kind == "non_numeric_metric" and "acc" in err.value.problem.fix


def test_nan_metric_is_reported(tmp_path):
    # lm-eval writes with Python's json, which emits a bare NaN
    lines = [sample_line(0), sample_line(1).replace('"acc": 1.0', '"acc": NaN')]
    with pytest.raises(ValidationError) as err:
        lm_eval.read(write_samples(tmp_path / "m", "t", lines))
    assert err.value.problems[0].kind == "nan_score" and err.value.problems[0].line == 2


def test_duplicate_doc_id_names_line(tmp_path):
    lines = [sample_line(0), sample_line(1), sample_line(1)]
    with pytest.raises(ValidationError) as err:
        lm_eval.read(write_samples(tmp_path / "m", "t", lines))
    assert err.value.problems[0].kind == "duplicate_key"
    assert [p.line for p in err.value.problems] == [3]  # the repeat of line 2


# ---------------------------------------------------------------------------
# synthetic layouts


def test_several_filters_synthetic(tmp_path):
    lines = []
    for f, vals in (
        ("strict-match", [0.0, 1.0, 0.0]),
        ("flexible-extract", [1.0, 1.0, 1.0]),
        ("maj@4", [0.0, 0.0, 1.0]),
    ):
        lines += [sample_line(i, filter=f, metrics=["exact_match"], exact_match=v) for i, v in enumerate(vals)]
    lines = [ln.replace('"acc": 1.0, "acc_norm": 0.0, ', "") for ln in lines]
    p = write_samples(tmp_path / "m", "gsm", lines)
    runs = lm_eval.read(p)
    assert scores(runs) == {"0": 0.0, "1": 1.0, "2": 0.0}
    (ex,) = runs.exclusions
    assert ex.count == 6 and ex.examples == ("flexible-extract", "maj@4")
    runs = lm_eval.read(p, filter="maj@4")
    assert scores(runs) == {"0": 0.0, "1": 0.0, "2": 1.0}
    assert runs.frame["metric"][0] == "exact_match,maj@4"


def test_old_format_without_filter_and_metrics(tmp_path):
    # lm-eval < 0.4.3: no "filter"/"metrics" keys; two filters repeat each doc_id
    rows = [
        {"doc_id": i, "doc": {}, "target": "x", "resps": [], "filtered_resps": [], "exact_match": v}
        for i, v in [(0, 0.0), (1, 1.0), (0, 1.0), (1, 1.0)]
    ]
    p = write_samples(tmp_path / "m", "gsm8k", [json.dumps(r) + "\n" for r in rows])
    runs = lm_eval.read(p)
    assert scores(runs) == {"0": 0.0, "1": 1.0}
    assert runs.frame["metric"][0] == "exact_match"
    assert runs.exclusions[0].count == 2 and runs.exclusions[0].examples == ("#2",)
    assert scores(lm_eval.read(p, filter="#2")) == {"0": 1.0, "1": 1.0}


def test_legacy_json_array_with_results(tmp_path):
    # lm-eval 0.4.0-0.4.2: "<model_args>_<task>.jsonl" holding a JSON array, results.json beside it
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "results.json").write_text(
        json.dumps(
            {
                "results": {"arc_easy": {"acc,none": 0.5}},
                "configs": {"arc_easy": {}},
                "config": {"model": "hf", "model_args": "pretrained=EleutherAI/pythia-70m,dtype=float16"},
            },
            indent=2,
        )
    )
    rows = [
        {
            "doc_id": i,
            "doc": {},
            "target": "0",
            "arguments": [],
            "resps": [],
            "filtered_resps": [],
            "acc": a,
            "acc_norm": 0.0,
        }
        for i, a in enumerate([1.0, 0.0])
    ]
    p = folder / "pretrained__EleutherAI__pythia-70m,dtype__float16_arc_easy.jsonl"
    p.write_text(json.dumps(rows, indent=2))
    assert lm_eval.sniff(p) and lm_eval.companion(folder / "results.json")
    runs = lm_eval.read(p)
    assert runs.models == ("EleutherAI/pythia-70m",)
    assert runs.benchmarks == ("arc_easy",)
    assert scores(runs) == {"0": 1.0, "1": 0.0}


def test_results_matched_by_timestamp(tmp_path):
    folder = tmp_path / "org__m"
    folder.mkdir()
    for ts, name in (("2024-05-01T10-00-00.000001", "first"), ("2024-06-01T10-00-00.000001", "second")):
        (folder / f"results_{ts}.json").write_text(json.dumps({"results": {"t": {}}, "model_name": name}))
    p = write_samples(folder, "t", [sample_line(0)], ts="2024-05-01T10-00-00.000001")
    assert lm_eval.read(p).models == ("first",)
    # no results file of the same run: the newest one listing the task
    q = write_samples(folder, "t", [sample_line(0)], ts="2024-07-01T10-00-00.000001")
    assert lm_eval.read(q).models == ("second",)


def test_model_from_model_args_and_folder(tmp_path):
    folder = tmp_path / "org__m"
    folder.mkdir()
    (folder / "results_2024-05-01T10-00-00.json").write_text(
        json.dumps({"results": {}, "config": {"model": "vllm", "model_args": {"pretrained": "org/m", "tp": 2}}})
    )
    p = write_samples(folder, "t", [sample_line(0)], ts="2024-05-01T10-00-00")
    assert lm_eval.read(p).models == ("org/m",)
    lone = write_samples(tmp_path / "my-model", "t", [sample_line(0)])
    assert lm_eval.read(lone).models == ("my-model",)


def test_gzip(tmp_path):
    src = one(RUN_A, "samples_mb_mc_*.jsonl")
    folder = tmp_path / "dummy-a"
    folder.mkdir()
    shutil.copy(one(RUN_A, "results_*.json"), folder)
    dst = folder / (src.name + ".gz")
    dst.write_bytes(gzip.compress(src.read_bytes()))
    assert lm_eval.sniff(dst)
    runs = lm_eval.read(dst)
    assert runs.benchmarks == ("mb_mc",) and runs.models == ("dummy-a",)
    assert scores(runs) == scores(lm_eval.read(src))
    # a cut gzip stream is reported, not silently shortened
    dst.write_bytes(gzip.compress(src.read_bytes())[:-40])
    with pytest.raises(InputError) as err:
        lm_eval.read(dst)
    assert err.value.problem.kind == "malformed_json"
