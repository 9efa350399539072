"""Inspect (inspect-ai) log reader (metabench/io/inspect_ai.py).

The fixtures in tests/fixtures/inspect are real logs of inspect-ai 0.3.285 on its mock
model (see the README there). ``expected_scores.json`` holds every scored sample as
read back by Inspect's own ``read_eval_log`` + ``value_to_float()``.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import polars as pl
import pytest
import zstandard

from metabench.errors import InputError
from metabench.io import inspect_ai

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"
EXPECTED = json.loads((FIX / "expected_scores.json").read_text())
LOGS = sorted(EXPECTED)


def score_of(runs, item: str, seed: int) -> float:
    df = runs.frame.filter((pl.col("item") == item) & (pl.col("seed") == seed))
    assert df.height == 1
    return df.item(0, "score")


def triples(runs) -> list[list]:
    return sorted([list(r) for r in runs.frame.select("item", "seed", "score").rows()])


# ---------------------------------------------------------------------------
# helpers: the raw members of a real .eval, and archives rebuilt from them


def raw_members(path: Path) -> list[tuple[str, bytes]]:
    """Every member (name, uncompressed bytes), in archive order, decoded independently."""
    out = []
    blob = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    for info in infos:
        off = info.header_offset
        n, m = struct.unpack("<HH", blob[off + 26 : off + 30])
        data = blob[off + 30 + n + m : off + 30 + n + m + info.compress_size]
        assert info.compress_type == 93  # what inspect-ai 0.3.285 writes
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
        out.append((info.filename, reader.read()))
    return out


def write_zip(path: Path, members: list[tuple[str, bytes]], method: int) -> None:
    """Write a zip whose members use ``method`` (0 stored, 8 deflate, 93 zstd); names may repeat."""
    local, central = bytearray(), bytearray()
    for name, data in members:
        if method == 0:
            comp = data
        elif method == 8:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp = c.compress(data) + c.flush()
        else:  # two frames, as inspect writes for big members
            half = len(data) // 2
            z = zstandard.ZstdCompressor()
            comp = z.compress(data[:half]) + z.compress(data[half:])
        crc = zlib.crc32(data) & 0xFFFFFFFF
        fname = name.encode()
        offset = len(local)
        local += (
            struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(comp), len(data), len(fname), 0
            )
            + fname
            + comp
        )
        central += (
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(comp),
                len(data),
                len(fname),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + fname
        )
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local) + bytes(central) + end)


def rebuilt(tmp_path: Path, src: str, method: int, keep=lambda name: True, edit=None, extra=()) -> Path:
    members = [(n, d) for n, d in raw_members(FIX / src) if keep(n)]
    if edit is not None:
        members = [(n, edit(n, d)) for n, d in members]
    members += list(extra)
    out = tmp_path / f"m{method}_{src}"
    write_zip(out, members, method)
    return out


# ---------------------------------------------------------------------------
# the real fixtures


@pytest.mark.parametrize("name", LOGS)
def test_matches_inspects_own_reading(name):
    exp = EXPECTED[name]
    runs = inspect_ai.read(FIX / name)
    assert runs.models == (exp["model"],)
    assert runs.benchmarks == (exp["task"],)
    assert triples(runs) == exp["rows"]
    assert runs.sources[0].format == "inspect_ai"
    assert runs.sources[0].rows == len(exp["rows"])


def test_arith_eval():
    runs = inspect_ai.read(FIX / "arith.eval")
    f = runs.frame
    assert f.height == 16
    assert runs.models == ("mockllm/model",)
    assert runs.benchmarks == ("arith",)
    assert set(f["seed"].to_list()) == {0, 1}  # epochs 1, 2
    assert sorted(f["item"].unique().to_list()) == [f"add-{i}" for i in range(1, 9)]
    # summaries.json: add-1 epoch 1 "I" (answer 6), epoch 2 "C" (answer 5); add-6 "I" 124 then "C" 123
    assert score_of(runs, "add-1", 0) == 0.0
    assert score_of(runs, "add-1", 1) == 1.0
    assert score_of(runs, "add-6", 0) == 0.0
    assert score_of(runs, "add-6", 1) == 1.0
    assert score_of(runs, "add-4", 1) == 0.0
    row = f.filter((pl.col("item") == "add-6") & (pl.col("seed") == 0))
    assert row["answer"].to_list() == ["124"]
    assert runs.exclusions == ()
    assert f.columns == ["model", "benchmark", "item", "seed", "score", "answer"]


def test_integer_sample_ids_become_strings():
    runs = inspect_ai.read(FIX / "quiz_mc.eval")
    assert runs.frame.height == 12
    assert sorted(runs.frame["item"].unique().to_list()) == ["1", "2", "3", "4", "5", "6"]
    assert score_of(runs, "6", 0) == 0.0 and score_of(runs, "6", 1) == 1.0
    assert runs.frame.filter((pl.col("item") == "2") & (pl.col("seed") == 0))["answer"].to_list() == ["D"]


def test_partial_credit_and_first_scorer_noted():
    runs = inspect_ai.read(FIX / "keywords_partial.eval")
    assert runs.frame.height == 8
    assert score_of(runs, "kw1", 0) == 0.5  # "P", answer "green"
    assert score_of(runs, "kw2", 0) == 1.0  # "C"
    assert score_of(runs, "kw4", 0) == 0.0  # "I"
    assert score_of(runs, "kw4", 1) == 0.5  # "P"
    (ex,) = runs.exclusions
    assert (ex.what, ex.count, ex.examples) == ("scorer", 2, ("recall", "breakdown"))
    assert "'keywords'" in ex.reason


def test_numeric_scorer():
    runs = inspect_ai.read(FIX / "keywords_partial.eval", scorer="recall")
    assert score_of(runs, "kw1", 0) == 0.3333
    assert score_of(runs, "kw1", 1) == 0.6667
    assert score_of(runs, "kw3", 1) == 0.25
    assert runs.exclusions == ()


def test_dict_scorer_needs_a_key():
    with pytest.raises(InputError) as info:
        inspect_ai.read(FIX / "keywords_partial.eval", scorer="breakdown")
    assert info.value.problem.kind == "ambiguous_score"
    assert "recall, short" in str(info.value) and "breakdown/recall" in str(info.value)
    runs = inspect_ai.read(FIX / "keywords_partial.eval", scorer="breakdown/recall")
    recall = inspect_ai.read(FIX / "keywords_partial.eval", scorer="recall")
    assert triples(runs) == triples(recall)
    assert "answer" not in runs.frame.columns  # breakdown records no answer
    short = inspect_ai.read(FIX / "keywords_partial.eval", scorer="breakdown/short")
    assert short.frame["score"].to_list() == [1.0] * 8


def test_unknown_scorer():
    with pytest.raises(InputError) as info:
        inspect_ai.read(FIX / "arith.eval", scorer="accuracy")
    assert info.value.problem.kind == "unknown_scorer"
    assert "'match'" in str(info.value)
    with pytest.raises(InputError) as info:
        inspect_ai.read(FIX / "arith.eval", scorer="match/x")
    assert info.value.problem.kind == "unknown_scorer"


def test_json_log_equals_eval_log():
    a = inspect_ai.read(FIX / "keywords_partial.json")
    b = inspect_ai.read(FIX / "keywords_partial.eval")
    assert a.frame.sort("item", "seed").equals(b.frame.sort("item", "seed"))
    assert a.exclusions == b.exclusions


def test_model_label_override():
    runs = inspect_ai.read(FIX / "arith.eval", model="toy")
    assert runs.models == ("toy",)


def test_errored_samples_are_exclusions():
    runs = inspect_ai.read(FIX / "arith_flaky.eval")
    assert runs.frame.height == 6
    assert "add-3" not in runs.frame["item"].to_list()
    (ex,) = runs.exclusions
    assert (ex.what, ex.count, ex.examples) == ("sample", 2, ("add-3 (epoch 1)", "add-3 (epoch 2)"))
    assert "simulated tool failure on add-3" in ex.reason


def test_partial_log_of_failed_eval():
    runs = inspect_ai.read(FIX / "arith_broken.eval")
    assert triples(runs) == [["add-1", 0, 0.0], ["add-2", 0, 1.0]]
    errored, missing = runs.exclusions
    assert errored.count == 2 and errored.examples == ("add-3 (epoch 1)", "add-4 (epoch 1)")
    assert missing.count == 4 and "'error'" in missing.reason
    assert missing.examples == tuple(f"add-{i} (epoch 2)" for i in range(1, 5))


def test_failed_eval_without_samples(tmp_path):
    p = rebuilt(
        tmp_path, "arith_broken.eval", 93, keep=lambda n: not n.startswith(("samples/", "summaries", "_journal/s"))
    )
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "no_samples"
    assert "'error'" in str(info.value) and "simulated tool failure" in str(info.value)


def test_log_without_samples(tmp_path):
    p = rebuilt(tmp_path, "arith.eval", 93, keep=lambda n: not n.startswith(("samples/", "summaries", "_journal/s")))
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "empty"
    assert "no samples" in str(info.value)


# ---------------------------------------------------------------------------
# archive layouts and compression methods


@pytest.mark.parametrize("method", [0, 8, 93])
def test_compression_methods(tmp_path, method):
    p = rebuilt(tmp_path, "arith.eval", method)
    with zipfile.ZipFile(p) as zf:
        assert {i.compress_type for i in zf.infolist()} == {method}
    if method in (0, 8):  # the stdlib agrees with the archive
        with zipfile.ZipFile(p) as zf:
            assert zf.testzip() is None
    ref = inspect_ai.read(FIX / "arith.eval")
    assert inspect_ai.read(p).frame.equals(ref.frame)
    assert inspect_ai.sniff(p)


def test_journal_only_log(tmp_path):
    # a crashed / running log: no header.json or summaries.json yet
    p = rebuilt(
        tmp_path, "arith.eval", 93, keep=lambda n: n not in ("header.json", "summaries.json", "reductions.json")
    )
    runs = inspect_ai.read(p)
    assert triples(runs) == EXPECTED["arith.eval"]["rows"]
    assert runs.exclusions == ()


def test_samples_without_summaries(tmp_path):
    p = rebuilt(tmp_path, "arith.eval", 8, keep=lambda n: n.startswith(("samples/", "_journal/start")))
    runs = inspect_ai.read(p)
    assert triples(runs) == EXPECTED["arith.eval"]["rows"]
    assert set(runs.frame.columns) >= {"answer"}


def test_sample_missing_from_summaries_is_read_from_its_member(tmp_path):
    def edit(name, data):
        if name == "summaries.json":
            rows = [r for r in json.loads(data) if not (r["id"] == "add-5" and r["epoch"] == 2)]
            return json.dumps(rows).encode()
        return data

    p = rebuilt(tmp_path, "arith.eval", 93, edit=edit)
    runs = inspect_ai.read(p)
    assert triples(runs) == EXPECTED["arith.eval"]["rows"]
    assert score_of(runs, "add-5", 1) == 1.0


def test_rewritten_member_last_one_wins(tmp_path):
    members = dict(raw_members(FIX / "arith.eval"))
    summaries = json.loads(members["summaries.json"])
    for r in summaries:
        if r["id"] == "add-1" and r["epoch"] == 1:
            r["scores"]["match"]["value"] = "C"  # a re-scored sample appended later
    p = rebuilt(tmp_path, "arith.eval", 93, extra=[("summaries.json", json.dumps(summaries).encode())])
    with zipfile.ZipFile(p) as zf:
        assert zf.namelist().count("summaries.json") == 2
    assert score_of(inspect_ai.read(p), "add-1", 0) == 1.0


# ---------------------------------------------------------------------------
# broken files


def test_truncated_eval(tmp_path):
    blob = (FIX / "arith.eval").read_bytes()
    p = tmp_path / "cut.eval"
    p.write_bytes(blob[: len(blob) // 2])
    assert inspect_ai.sniff(p)  # still recognised, so the error below is what the user sees
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "malformed_archive"
    assert info.value.problem.file == str(p)


def test_corrupt_member(tmp_path):
    blob = bytearray((FIX / "arith.eval").read_bytes())
    with zipfile.ZipFile(FIX / "arith.eval") as zf:
        info = zf.getinfo("summaries.json")
    n, m = struct.unpack("<HH", blob[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + n + m
    for k in range(start + 20, start + 60):
        blob[k] ^= 0x5A
    p = tmp_path / "bad.eval"
    p.write_bytes(bytes(blob))
    with pytest.raises(InputError) as info_:
        inspect_ai.read(p)
    assert info_.value.problem.kind == "malformed_archive"
    assert "summaries.json" in str(info_.value)


def test_zip_that_is_not_a_log(tmp_path):
    p = tmp_path / "other.eval"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("notes.txt", "hello")
    assert not inspect_ai.sniff(p)
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "malformed_log"


@pytest.mark.parametrize("name", ["empty.eval", "empty.json"])
def test_empty_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "empty"


def test_truncated_json(tmp_path):
    text = (FIX / "keywords_partial.json").read_bytes()
    lines = text.splitlines(keepends=True)
    p = tmp_path / "cut.json"
    p.write_bytes(b"".join(lines[:1200]))  # inside the third sample (lines 1094-1548)
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "malformed_json"
    assert info.value.problem.line == 1200
    p.write_bytes(text[:400])  # inside the header
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "malformed_json"


def test_truncated_compact_json(tmp_path):
    obj = json.loads((FIX / "keywords_partial.json").read_text())
    p = tmp_path / "compact.json"
    p.write_text(json.dumps(obj)[:-50])
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "malformed_json"


# ---------------------------------------------------------------------------
# JSON layouts and score values


def load_json_log() -> dict:
    return json.loads((FIX / "keywords_partial.json").read_text())


def test_compact_json_and_nan_metrics(tmp_path):
    obj = load_json_log()
    obj["results"]["scores"][0]["metrics"]["accuracy"]["value"] = float("nan")
    ref = inspect_ai.read(FIX / "keywords_partial.json")
    for indent in (None, 2, 4):
        p = tmp_path / f"log{indent}.json"
        p.write_text(json.dumps(obj, indent=indent))  # NaN written as the bare word, as Inspect does
        assert b"NaN" in p.read_bytes()
        assert inspect_ai.read(p).frame.equals(ref.frame)


def test_unknown_value_names_sample_and_line(tmp_path):
    obj = load_json_log()
    obj["samples"][2]["scores"]["keywords"]["value"] = "maybe"  # kw3, epoch 1
    p = tmp_path / "log.json"
    p.write_text(json.dumps(obj, indent=2))
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "unknown_score_value"
    assert "kw3 (epoch 1)" in str(info.value) and "'maybe'" in str(info.value)
    assert info.value.problem.line == 1094  # where that sample starts, as in the fixture


def test_out_of_range_value(tmp_path):
    obj = load_json_log()
    obj["samples"][1]["scores"]["recall"]["value"] = 7
    p = tmp_path / "log.json"
    p.write_text(json.dumps(obj, indent=2))
    with pytest.raises(InputError) as info:
        inspect_ai.read(p, scorer="recall")
    assert info.value.problem.kind == "score_out_of_range"
    assert "kw2 (epoch 1)" in str(info.value)


def test_value_mapping(tmp_path):
    obj = load_json_log()
    values = [True, False, "N", "yes", "false", "0.25", 1, float("nan")]
    for sample, v in zip(obj["samples"], values):
        sample["scores"]["keywords"]["value"] = v
    p = tmp_path / "log.json"
    p.write_text(json.dumps(obj, indent=2))
    runs = inspect_ai.read(p)
    got = runs.frame.sort("seed", "item")["score"].to_list()
    assert got == [1.0, 0.0, 0.0, 1.0, 0.0, 0.25, 1.0]
    nan = [e for e in runs.exclusions if "NaN" in e.reason]
    assert len(nan) == 1 and nan[0].examples == ("kw4 (epoch 2)",)


def test_json_error_status_without_samples(tmp_path):
    obj = load_json_log()
    obj["status"] = "cancelled"
    obj["samples"] = []
    p = tmp_path / "log.json"
    p.write_text(json.dumps(obj, indent=2))
    with pytest.raises(InputError) as info:
        inspect_ai.read(p)
    assert info.value.problem.kind == "no_samples"
    assert "'cancelled'" in str(info.value)


def test_long_answers_are_cut(tmp_path):
    obj = load_json_log()
    obj["samples"][0]["scores"]["keywords"]["answer"] = "x" * 500
    p = tmp_path / "log.json"
    p.write_text(json.dumps(obj, indent=2))
    answer = inspect_ai.read(p).frame.filter((pl.col("item") == "kw1") & (pl.col("seed") == 0))["answer"][0]
    assert len(answer) == 200 and answer.endswith("…")


# ---------------------------------------------------------------------------
# detection


def test_sniff_and_companion(tmp_path):
    for name in LOGS:
        assert inspect_ai.sniff(FIX / name), name
        assert not inspect_ai.companion(FIX / name), name
    assert inspect_ai.companion(FIX / "logs.json")
    for name in ("logs.json", "expected_scores.json", "README.md", "toy_tasks.py"):
        assert not inspect_ai.sniff(FIX / name), name
    assert not inspect_ai.companion(FIX / "expected_scores.json")
    other = tmp_path / "results.json"
    other.write_text(json.dumps({"results": {"arc": {"acc": 0.5}}, "config": {"model": "x"}}))
    assert not inspect_ai.sniff(other)
    empty = tmp_path / "x.eval"
    empty.write_bytes(b"")
    assert inspect_ai.sniff(empty)
    assert not inspect_ai.sniff(tmp_path)


def test_named_scorer_missing_from_first_sample(tmp_path):
    obj = load_json_log()
    del obj["samples"][0]["scores"]["recall"]  # kw1, epoch 1
    p = tmp_path / "log.json"
    p.write_text(json.dumps(obj, indent=2))
    runs = inspect_ai.read(p, scorer="recall")
    assert runs.frame.height == 7
    assert score_of(runs, "kw1", 1) == 0.6667
    (ex,) = runs.exclusions
    assert (ex.count, ex.examples) == (1, ("kw1 (epoch 1)",)) and "'recall'" in ex.reason


def test_crlf_json(tmp_path):
    p = tmp_path / "crlf.json"
    p.write_bytes((FIX / "keywords_partial.json").read_bytes().replace(b"\n", b"\r\n"))
    assert inspect_ai.sniff(p)
    assert inspect_ai.read(p).frame.equals(inspect_ai.read(FIX / "keywords_partial.json").frame)
