"""Tests of metabench.io.lighteval against real lighteval details files.

The fixture (tests/fixtures/lighteval, see its README) was written by lighteval
0.13.0 (``out/``: two models, tasks ``toyqa`` and ``toyarith``) and lighteval
0.9.2 (``out-v0.9/``: the earlier flat layout). The expected scores below were
copied from the raw parquet files (``pyarrow.parquet.read_table``), and the
means are checked against lighteval's own aggregates in its results files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from metabench.errors import InputError, ValidationError
from metabench.io import lighteval

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lighteval"
OUT = FIXTURE / "out"
OUT_V09 = FIXTURE / "out-v0.9"


def _one(root: Path, pattern: str) -> Path:
    found = sorted(root.glob(pattern))
    assert len(found) == 1, (pattern, found)
    return found[0]


def _details(root: Path, model: str, task: str) -> Path:
    return _one(root, f"details/{model}/*/details_{task}_*.parquet")


def _results(root: Path, model: str) -> dict:
    return json.loads(_one(root, f"results/{model}/results_*.json").read_text())


def _by_item(runs) -> dict[str, float]:
    return dict(runs.frame.select("item", "score").iter_rows())


def _in_row_order(runs) -> list[float]:
    """Scores in the order of the file's rows, for files without item ids (the reader numbers the rows)."""
    return [score for _, score in sorted(runs.frame.select("item", "score").iter_rows(), key=lambda r: int(r[0]))]


# --- expected values, copied from the raw parquet files --------------------------
# lighteval 0.13, model toy-model, task toyqa|0: doc.id -> metric.acc / metric.mrr
TOY_MODEL_QA_ACC = {"7": 0, "5": 0, "2": 1, "8": 0, "9": 1, "6": 1, "11": 1, "3": 1, "4": 0, "0": 1, "1": 1, "10": 0}
TOY_MODEL_QA_MRR = {
    "7": 0.5, "5": 0.5, "2": 1.0, "8": 0.5, "9": 1.0, "6": 1.0,
    "11": 1.0, "3": 1.0, "4": 0.25, "0": 1.0, "1": 1.0, "10": 0.5,
}  # fmt: skip
# model toy-org/toy-small, task toyqa|0
TOY_SMALL_QA_ACC = {"7": 1, "5": 0, "2": 1, "8": 0, "9": 0, "6": 1, "11": 1, "3": 0, "4": 1, "0": 1, "1": 0, "10": 1}
TOY_SMALL_QA_MRR_9 = 1 / 3
# model toy-model, task toyarith|0: doc.id -> metric.em
TOY_MODEL_ARITH_EM = {"7": 0, "3": 1, "2": 1, "8": 1, "5": 0, "6": 1, "9": 1, "4": 0, "0": 0, "1": 1}
# lighteval 0.9, model toy-org/toy-small: metrics per row, in file order
V09_ARITH_EM = [0, 1, 1, 1, 0, 0, 1, 0, 1, 1]
V09_QA_ACC = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
V09_QA_ACC_NORM = [0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]


# ---------------------------------------------------------------------------
# sniff / companion


def test_sniff_claims_every_details_file_of_both_versions():
    files = sorted(FIXTURE.glob("out*/details/**/*.parquet"))
    assert len(files) == 6
    assert all(lighteval.sniff(f) for f in files)


def test_sniff_rejects_other_files(tmp_path):
    assert not any(lighteval.sniff(f) for f in FIXTURE.glob("out*/results/**/*.json"))
    assert not any(lighteval.sniff(f) for f in FIXTURE.glob("source/**/*"))
    # a parquet file not named details_*
    other = tmp_path / "runs.parquet"
    shutil.copy(_details(OUT, "toy-model", "toyqa|0"), other)
    assert not lighteval.sniff(other)
    # named details_* but without a metric column
    plain = tmp_path / "details_x|0_2025-01-01T00-00-00.000000.parquet"
    pl.DataFrame({"model": ["a"], "score": [1.0]}).write_parquet(plain)
    assert not lighteval.sniff(plain)
    assert not lighteval.sniff(tmp_path / "details_missing.parquet")


def test_sniff_claims_a_truncated_details_file_so_that_read_reports_it(tmp_path):
    src = _details(OUT, "toy-model", "toyqa|0")
    bad = tmp_path / src.name
    bad.write_bytes(src.read_bytes()[:2000])
    assert lighteval.sniff(bad)


def test_companion_is_the_results_file_only():
    results = sorted(FIXTURE.glob("out*/results/**/results_*.json"))
    assert len(results) == 3
    assert all(lighteval.companion(f) for f in results)
    assert not any(lighteval.companion(f) for f in FIXTURE.glob("out*/details/**/*.parquet"))
    assert not any(lighteval.companion(f) for f in FIXTURE.glob("source/data/**/*.jsonl"))


# ---------------------------------------------------------------------------
# lighteval 0.13 layout (doc / metric / model_response structs)


def test_read_v013_multiple_choice_default_metric():
    path = _details(OUT, "toy-model", "toyqa|0")
    runs = lighteval.read(path)
    df = runs.frame
    assert df.height == 12
    assert runs.models == ("toy-model",)
    assert runs.benchmarks == ("toyqa",)
    assert df.get_column("metric").unique().to_list() == ["acc"]
    assert df.get_column("fewshot").unique().to_list() == [0]
    assert df.get_column("seed").unique().to_list() == [0]
    assert _by_item(runs) == {k: float(v) for k, v in TOY_MODEL_QA_ACC.items()}
    # rows are in key order, whatever the order of the file's rows (7, 5, 2, 8, ...)
    assert df.get_column("item").to_list() == sorted(df.get_column("item").to_list())
    # the mean is lighteval's own aggregate
    assert df.get_column("score").mean() == pytest.approx(_results(OUT, "toy-model")["results"]["toyqa|0"]["acc"])
    # the run's results file was read for the model name
    assert [Path(s.path).name for s in runs.sources] == [path.name, _one(OUT, "results/toy-model/*.json").name]


def test_read_v013_other_metric_and_lighteval_metric_names():
    path = _details(OUT, "toy-model", "toyqa|0")
    mrr = lighteval.read(path, metric="mrr")
    assert _by_item(mrr) == TOY_MODEL_QA_MRR
    assert mrr.frame.get_column("metric").unique().to_list() == ["mrr"]
    # lighteval's Metrics names map to the field they log
    assert _by_item(lighteval.read(path, metric="loglikelihood_acc")) == _by_item(lighteval.read(path))


def test_read_v013_scores_equal_the_raw_parquet_values():
    path = _details(OUT, "toy-org/toy-small", "toyqa|0")
    raw = pq.read_table(path, columns=["doc", "metric"])
    ids = pc.struct_field(raw.column("doc"), "id").to_pylist()
    acc = pc.struct_field(raw.column("metric"), "acc").to_pylist()
    mrr = pc.struct_field(raw.column("metric"), "mrr").to_pylist()
    runs = lighteval.read(path)
    assert sorted(runs.frame.get_column("item").to_list()) == sorted(ids)
    assert _by_item(runs) == {i: float(a) for i, a in zip(ids, acc, strict=True)}
    assert _by_item(lighteval.read(path, metric="mrr")) == dict(zip(ids, mrr, strict=True))
    assert _by_item(runs) == {k: float(v) for k, v in TOY_SMALL_QA_ACC.items()}
    assert _by_item(lighteval.read(path, metric="mrr"))["9"] == TOY_SMALL_QA_MRR_9


def test_read_v013_model_name_with_a_slash():
    runs = lighteval.read(_details(OUT, "toy-org/toy-small", "toyarith|0"))
    assert runs.models == ("toy-org/toy-small",)
    assert runs.benchmarks == ("toyarith",)
    assert runs.frame.get_column("metric").unique().to_list() == ["em"]
    assert runs.frame.get_column("score").mean() == pytest.approx(0.6)


def test_read_v013_generative_task():
    path = _details(OUT, "toy-model", "toyarith|0")
    runs = lighteval.read(path)
    assert runs.frame.height == 10
    assert _by_item(runs) == {k: float(v) for k, v in TOY_MODEL_ARITH_EM.items()}
    assert runs.frame.get_column("score").mean() == pytest.approx(
        _results(OUT, "toy-model")["results"]["toyarith|0"]["em"]
    )
    assert _by_item(lighteval.read(path, metric="exact_match")) == _by_item(runs)


def test_unknown_metric_lists_the_available_ones():
    path = _details(OUT, "toy-model", "toyqa|0")
    with pytest.raises(InputError) as exc:
        lighteval.read(path, metric="bleu")
    err = exc.value
    assert err.problem.kind == "unknown_metric"
    assert err.problem.file == str(path)
    assert "'acc', 'mrr'" in str(err)
    assert "loglikelihood_f1" in str(err)


def test_corpus_level_metric_is_refused():
    # loglikelihood_f1 logs {"golds": [...], "preds": ...} per sample, aggregated by lighteval
    with pytest.raises(InputError) as exc:
        lighteval.read(_details(OUT, "toy-model", "toyqa|0"), metric="loglikelihood_f1")
    assert exc.value.problem.kind == "non_numeric_metric"
    assert "acc, mrr" in str(exc.value)


def test_model_and_benchmark_options_override():
    runs = lighteval.read(_details(OUT, "toy-model", "toyqa|0"), model="mine", benchmark="capitals")
    assert runs.models == ("mine",)
    assert runs.benchmarks == ("capitals",)
    assert len(runs.sources) == 1  # the results file is not needed


def test_model_from_folders_without_results_file(tmp_path):
    src = _details(OUT, "toy-org/toy-small", "toyqa|0")
    run_dir = tmp_path / "out" / "details" / "org" / "model-x" / src.parent.name
    run_dir.mkdir(parents=True)
    dst = run_dir / src.name
    shutil.copy(src, dst)
    runs = lighteval.read(dst)
    assert runs.models == ("org/model-x",)
    assert len(runs.sources) == 1
    assert _by_item(runs) == {k: float(v) for k, v in TOY_SMALL_QA_ACC.items()}


def test_model_from_a_hub_details_repository_folder(tmp_path):
    src = _details(OUT, "toy-model", "toyarith|0")
    run_dir = tmp_path / "details_org__model-y" / src.parent.name
    run_dir.mkdir(parents=True)
    shutil.copy(src, run_dir / src.name)
    assert lighteval.read(run_dir / src.name).models == ("org/model-y",)


# ---------------------------------------------------------------------------
# lighteval 0.9 layout (flat columns, `metrics` struct, no document id)


def test_read_v09_flat_layout():
    path = _details(OUT_V09, "toy-org/toy-small", "custom|toyarith|0")
    runs = lighteval.read(path)
    df = runs.frame
    assert runs.models == ("toy-org/toy-small",)
    assert runs.benchmarks == ("custom|toyarith",)  # the suite is kept, the few-shot number dropped
    assert df.get_column("fewshot").unique().to_list() == [0]
    assert df.get_column("item").to_list() == [str(i) for i in range(10)]  # row numbers
    assert df.get_column("score").to_list() == [float(v) for v in V09_ARITH_EM]
    assert df.get_column("metric").unique().to_list() == ["em"]
    results = _results(OUT_V09, "toy-org/toy-small")["results"]
    assert df.get_column("score").mean() == pytest.approx(results["custom|toyarith|0"]["em"])


def test_read_v09_metric_choice():
    path = _details(OUT_V09, "toy-org/toy-small", "custom|toyqa|0")
    assert _in_row_order(lighteval.read(path)) == [float(v) for v in V09_QA_ACC]
    norm = lighteval.read(path, metric="acc_norm")
    assert _in_row_order(norm) == [float(v) for v in V09_QA_ACC_NORM]
    results = _results(OUT_V09, "toy-org/toy-small")["results"]["custom|toyqa|0"]
    assert norm.frame.get_column("score").mean() == pytest.approx(results["acc_norm"])
    with pytest.raises(InputError) as exc:
        lighteval.read(path, metric="mrr")
    assert exc.value.problem.kind == "unknown_metric"
    assert "'acc', 'acc_norm'" in str(exc.value)


def _with_text_metrics(src: Path, dst: Path, texts: list[str | None]) -> Path:
    """Copy of a real v0.9 details file whose ``metrics`` column is text, as some
    lighteval versions wrote it (``str(dict)`` of each row's metrics)."""
    table = pq.read_table(src)
    i = table.schema.get_field_index("metrics")
    pq.write_table(table.set_column(i, "metrics", pa.array(texts, pa.string())), dst)
    return dst


def test_read_metrics_written_as_text(tmp_path):
    src = _details(OUT_V09, "toy-org/toy-small", "custom|toyqa|0")
    rows = pq.read_table(src, columns=["metrics"]).column(0).to_pylist()
    texts = [str(r) for r in rows]
    assert texts[9] == "{'acc': 1, 'acc_norm': 1}"
    dst = _with_text_metrics(src, tmp_path / src.name, texts)
    assert lighteval.sniff(dst)
    assert _in_row_order(lighteval.read(dst, model="m")) == [float(v) for v in V09_QA_ACC]
    norm = lighteval.read(dst, model="m", metric="acc_norm")
    assert _in_row_order(norm) == [float(v) for v in V09_QA_ACC_NORM]
    # numpy scalars as printed by numpy 2 are understood too
    texts[0] = "{'acc': np.int64(1), 'acc_norm': np.float64(0.0)}"
    (tmp_path / "np").mkdir()
    dst2 = _with_text_metrics(src, tmp_path / "np" / src.name, texts)
    assert _in_row_order(lighteval.read(dst2, model="m"))[:2] == [1.0, 0.0]


def test_text_metrics_missing_on_some_rows(tmp_path):
    src = _details(OUT_V09, "toy-org/toy-small", "custom|toyqa|0")
    texts = [str(r) for r in pq.read_table(src, columns=["metrics"]).column(0).to_pylist()]
    texts[3] = "{'acc_norm': 0}"
    dst = _with_text_metrics(src, tmp_path / src.name, texts)
    with pytest.raises(InputError) as exc:
        lighteval.read(dst, model="m")
    assert exc.value.problem.kind == "mixed_metrics"
    assert exc.value.problem.line == 4
    assert lighteval.read(dst, model="m", metric="acc_norm").frame.height == 12


def test_metric_outside_unit_interval_names_the_metric(tmp_path):
    src = _details(OUT_V09, "toy-org/toy-small", "custom|toyarith|0")
    texts = [f"{{'em': {v}, 'ppl': {2.5 + i}}}" for i, v in enumerate(V09_ARITH_EM)]
    dst = _with_text_metrics(src, tmp_path / src.name, texts)
    assert lighteval.read(dst, model="m").frame.get_column("score").to_list() == [float(v) for v in V09_ARITH_EM]
    with pytest.raises(ValidationError) as exc:
        lighteval.read(dst, model="m", metric="ppl")
    assert exc.value.problem.kind == "score_out_of_range"
    assert "ppl is outside" in str(exc.value)
    assert "metric= one of em" in str(exc.value)


# ---------------------------------------------------------------------------
# broken inputs


def test_truncated_parquet(tmp_path):
    src = _details(OUT, "toy-model", "toyqa|0")
    bad = tmp_path / src.name
    bad.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(InputError) as exc:
        lighteval.read(bad)
    assert exc.value.problem.kind == "malformed_parquet"
    assert exc.value.problem.file == str(bad)
    assert src.name in str(exc.value)


def test_not_parquet_at_all(tmp_path):
    bad = tmp_path / "details_x|0_2025-01-01T00-00-00.000000.parquet"
    bad.write_text("this is not parquet\n")
    assert not lighteval.sniff(bad)
    with pytest.raises(InputError) as exc:
        lighteval.read(bad)
    assert exc.value.problem.kind == "malformed_parquet"


def test_empty_details_file(tmp_path):
    src = _details(OUT, "toy-model", "toyqa|0")
    empty = tmp_path / src.name
    pq.write_table(pq.read_table(src).slice(0, 0), empty)
    with pytest.raises(InputError) as exc:
        lighteval.read(empty)
    assert exc.value.problem.kind == "empty"
    assert exc.value.problem.file == str(empty)


def test_struct_metric_missing_on_some_rows(tmp_path):
    src = _details(OUT, "toy-model", "toyqa|0")
    table = pq.read_table(src)
    metric = table.column("metric").combine_chunks()
    acc = metric.field("acc").to_pylist()
    acc[2] = acc[5] = None
    fields = [pa.array(acc, pa.int64()), metric.field("mrr"), metric.field("loglikelihood_f1")]
    new = pa.StructArray.from_arrays(fields, fields=list(metric.type))
    dst = tmp_path / src.name
    pq.write_table(table.set_column(table.schema.get_field_index("metric"), "metric", new), dst)
    with pytest.raises(InputError) as exc:
        lighteval.read(dst)
    assert exc.value.problem.kind == "mixed_metrics"
    assert exc.value.problem.line == 3
    assert "rows 3, 6" in str(exc.value)
    assert _by_item(lighteval.read(dst, metric="mrr")) == TOY_MODEL_QA_MRR


def test_missing_file(tmp_path):
    with pytest.raises(InputError):
        lighteval.read(tmp_path / "details_x|0_2025-01-01T00-00-00.000000.parquet")


# ---------------------------------------------------------------------------
# with the directory loader


def test_discover_and_load_the_fixture_tree():
    from metabench.io.detect import discover, load

    found = discover(OUT)
    assert sorted(fmt for fmt, _ in found.units) == ["lighteval"] * 4
    assert len(found.companions) == 2
    assert not found.unknown
    runs = load(OUT)
    assert runs.models == ("toy-model", "toy-org/toy-small")
    assert runs.benchmarks == ("toyarith", "toyqa")
    assert len(runs) == 44
    scores = runs.scores().to_frame()
    assert scores.filter(pl.col(scores.columns[0]) == "toy-model").get_column("toyqa").item() == pytest.approx(7 / 12)
