"""The contamination probe (metabench/run/probe.py) on the tiny test model of conftest.py.

Reference values come from the model's own forward pass, run here one unpadded
sequence at a time (``BruteForce`` in conftest.py), on the token ids the
character tokenizer gives the text; the scores are then computed with numpy
and zlib directly, not with the library's functions. The separation test
fine-tunes the tiny model on half of a small benchmark (known truth: that half
is contaminated, the other is not).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import zlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from metabench.errors import InputError
from metabench.run import load_task, probe

MC_ITEMS = [
    {
        "id": f"q{i}",
        "question": f"What is {i} plus {i}?",
        "choices": [str(2 * i), str(2 * i + 1), f"{i}{i}", "none"],
        "answer": i % 4,
    }
    for i in range(12)
]
REF_ITEMS = [  # the same template, other numbers: text the model has not seen
    {
        "id": f"r{i}",
        "question": f"What is {i} plus {i}?",
        "choices": [str(2 * i), str(2 * i + 1), f"{i}{i}", "none"],
        "answer": 0,
    }
    for i in range(20, 28)
]
PROBE_COLUMNS = {
    "model": pl.String,
    "benchmark": pl.String,
    "item": pl.String,
    "set": pl.String,
    "min_k": pl.Float64,
    "min_k_plus_plus": pl.Float64,
    "zlib_ratio": pl.Float64,
}


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a model this small runs fastest on one thread, and shares the machine well
    yield
    torch.set_num_threads(threads)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "task": write_jsonl(tmp_path / "toy_mc.jsonl", MC_ITEMS),
        "ref": write_jsonl(tmp_path / "fresh.jsonl", REF_ITEMS),
        "lines": _write_lines(tmp_path / "fresh.txt", ["Fresh text one.", "", "Another unseen line, later."]),
    }


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------------
# the command line and the output contract


def test_cli_writes_the_contract(tiny_model: Path, files: dict[str, Path], tmp_path: Path, one_thread) -> None:
    from typer.testing import CliRunner

    from metabench.cli import app

    out = tmp_path / "probe-out"
    args = ["probe", str(files["task"]), "--model", str(tiny_model), "--out", str(out)]
    args += ["--reference", str(files["ref"]), "--shards", "4", "--permutations", "9", "--max-tokens", "8", "-q"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "probe.json").read_text())
    print(json.dumps(doc, indent=2))  # shown with pytest -s
    assert doc["metabench_probe"] == 1
    assert doc["model"] == tiny_model.name  # the naming rule of metabench run: the folder name
    assert doc["benchmark"] == "toy_mc"
    assert (doc["n_items"], doc["n_reference"]) == (len(MC_ITEMS), len(REF_ITEMS))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["created"])
    assert doc["settings"]["k"] == 0.2 and doc["settings"]["shards"] == 4 and doc["settings"]["permutations"] == 9
    tests = {t["test"]: t for t in doc["tests"]}
    assert list(tests) == ["exchangeability", "min_k", "min_k_plus_plus", "zlib", "ts_guessing"]
    for t in tests.values():
        assert isinstance(t["statistic"], float) and isinstance(t["n"], int)
    ex = tests["exchangeability"]
    assert ex["n"] == len(MC_ITEMS)
    assert ex["detail"]["shards"] == 4 and ex["detail"]["permutations"] == 9
    assert ex["p_value"] == ex["detail"]["p_value_t"]
    assert ex["detail"]["p_value_permutation"] in {(1 + j) / 10 for j in range(10)}
    for name in ("min_k", "min_k_plus_plus", "zlib"):
        t = tests[name]
        assert 0 <= t["ci_low"] <= t["statistic"] <= t["ci_high"] <= 1
        assert 0 < t["p_value"] <= 1 and t["n"] == len(MC_ITEMS)
        assert t["detail"]["n_reference"] == len(REF_ITEMS)
    ts = tests["ts_guessing"]
    assert ts["n"] == len(MC_ITEMS) and ts["statistic"] == ts["detail"]["matches"] / len(MC_ITEMS)
    assert 0 < ts["p_value"] <= 1  # Fisher's test against the reference items' rate
    items = pl.read_parquet(out / "probe_items.parquet")
    assert items.schema == pl.Schema(PROBE_COLUMNS)
    assert items["set"].to_list() == ["benchmark"] * len(MC_ITEMS) + ["reference"] * len(REF_ITEMS)
    assert items["item"].to_list() == [r["id"] for r in MC_ITEMS + REF_ITEMS]
    assert items["model"].unique().to_list() == [tiny_model.name]
    assert items.select(pl.col("min_k", "min_k_plus_plus", "zlib_ratio").is_nan().any()).row(0) == (False,) * 3
    assert "exchangeability" in res.output and "ts_guessing" in res.output


def test_errors_name_the_missing_file(tiny_model: Path, files: dict[str, Path], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from metabench.cli import app

    runner = CliRunner()
    base = ["--out", str(tmp_path / "o"), "-q"]
    missing = tmp_path / "no-model"
    res = runner.invoke(app, ["probe", str(files["task"]), "--model", str(missing), *base])
    assert res.exit_code == 2 and str(missing) in res.output and "Fix:" in res.output
    missing = tmp_path / "no-task.jsonl"
    res = runner.invoke(app, ["probe", str(missing), "--model", str(tiny_model), *base])
    assert res.exit_code == 2 and str(missing) in res.output and "TASK" in res.output
    missing = tmp_path / "no-ref.txt"
    res = runner.invoke(
        app, ["probe", str(files["task"]), "--model", str(tiny_model), "--reference", str(missing), *base]
    )
    assert res.exit_code == 2 and str(missing) in res.output and "--reference" in res.output
    assert not (tmp_path / "o").exists()  # checked before anything is written
    with pytest.raises(InputError, match="cannot fill 7 shards"):
        probe(files["task"], tiny_model, None, shards=7, ts_guessing=False, device="cpu")
    with pytest.raises(InputError, match="k must be"):
        probe(files["task"], tiny_model, None, k=1.5)


# ---------------------------------------------------------------------------
# numbers against the model's own forward pass


def _lowest_mean(v: np.ndarray, k: float) -> float:
    """Mean of the floor(k n) smallest values (at least one), by sorting."""
    return float(np.sort(v)[: max(1, int(len(v) * k))].mean())


def test_item_scores_match_the_forward_pass(tiny_model: Path, brute, files: dict[str, Path], one_thread) -> None:
    k = 0.3
    res = probe(
        files["task"], tiny_model, None, reference=files["lines"], k=k, exchangeability=False, ts_guessing=False
    )
    texts = [it.text() for it in load_task(files["task"]).items] + ["Fresh text one.", "Another unseen line, later."]
    assert res.items["item"].to_list()[-2:] == ["1", "3"]  # line numbers of the plain text file
    want = {"min_k": [], "min_k_plus_plus": [], "zlib_ratio": []}
    for text in texts:
        ids = brute.ids(text)  # <s> and one token per character
        lp_all = brute.next_logprobs(ids)[:-1]  # position t predicts token t + 1
        lp = lp_all[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].numpy()
        p = lp_all.exp()
        mu = (p * lp_all).sum(-1).numpy()
        sd = np.sqrt(np.maximum((p * lp_all.square()).sum(-1).numpy() - mu**2, 0))
        want["min_k"].append(_lowest_mean(lp, k))
        want["min_k_plus_plus"].append(_lowest_mean((lp - mu) / sd, k))
        want["zlib_ratio"].append(lp.mean() / len(zlib.compress(text.encode())))
    for col, values in want.items():
        np.testing.assert_allclose(res.items[col].to_numpy(), values, rtol=1e-4, atol=1e-4, err_msg=col)


def test_exchangeability_matches_the_forward_pass(tiny_model: Path, brute, files: dict[str, Path], one_thread) -> None:
    res = probe(files["task"], tiny_model, None, shards=4, permutations=10, seed=3, ts_guessing=False)
    ex = res.exchangeability
    texts = [it.text() for it in load_task(files["task"]).items]
    shards = [texts[3 * s : 3 * s + 3] for s in range(4)]  # 12 items in 4 contiguous shards of 3

    def loglik(order) -> float:
        ids = brute.ids("\n\n".join(order))
        return float(brute.next_logprobs(ids)[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum())

    for s, shard in enumerate(shards):
        every = np.array([loglik(o) for o in itertools.permutations(shard)])  # all 3! orders, canonical first
        assert ex.canonical[s] == pytest.approx(every[0], abs=1e-3)
        # every shuffled order is one of the six, and the draws are not all the canonical one
        assert np.abs(ex.shuffled[s][:, None] - every[None, :]).min(axis=1).max() < 1e-3
        assert np.ptp(ex.shuffled[s]) > 0
    diffs = ex.canonical - ex.shuffled.mean(axis=1)
    ref = stats.ttest_1samp(diffs, 0.0, alternative="greater")
    rec = res.test("exchangeability")
    assert rec["statistic"] == pytest.approx(ref.statistic, rel=1e-9)
    assert rec["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    wins = np.sum(ex.shuffled.sum(axis=0) >= ex.canonical.sum() - 1e-9)
    assert rec["detail"]["p_value_permutation"] == pytest.approx((1 + wins) / 11)


def test_result_frame_and_no_output(tiny_model: Path, files: dict[str, Path], one_thread) -> None:
    from dataclasses import FrozenInstanceError

    res = probe(files["task"], tiny_model, None, reference=files["ref"], shards=2, permutations=3, max_tokens=4)
    frame = res.to_frame()
    assert frame["test"].to_list() == [t["test"] for t in res.tests]
    assert frame.filter(pl.col("test") == "min_k")["statistic"].item() == res.membership["min_k"].auc
    assert res.out is None and res.ts_guessing_items is not None
    assert res.ts_guessing_items["set"].value_counts().sort("set")["count"].to_list() == [12, 8]
    with pytest.raises(FrozenInstanceError):
        res.model = "other"  # type: ignore[misc]


def test_text_reference_formats_agree(tiny_model: Path, files: dict[str, Path], tmp_path: Path, one_thread) -> None:
    texts = ["Fresh text one.", "Another unseen line, later."]
    as_json = write_jsonl(tmp_path / "fresh_texts.jsonl", [{"id": f"t{i}", "text": t} for i, t in enumerate(texts)])
    opts = {"exchangeability": False, "ts_guessing": False}
    a = probe(files["task"], tiny_model, None, reference=files["lines"], **opts).items.filter(
        pl.col("set") == "reference"
    )
    b = probe(files["task"], tiny_model, None, reference=as_json, **opts).items.filter(pl.col("set") == "reference")
    assert b["item"].to_list() == ["t0", "t1"]
    assert a.drop("item").equals(b.drop("item"))


# ---------------------------------------------------------------------------
# known truth: a model trained on half of a benchmark


def _random_items(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)

    def word() -> str:
        return "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), int(rng.integers(3, 6))))

    return [
        {
            "id": f"q{i}",
            "question": " ".join(word() for _ in range(3)) + "?",
            "choices": [word() for _ in range(4)],
            "answer": int(rng.integers(4)),
        }
        for i in range(n)
    ]


def test_probe_separates_a_trained_half(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    """150 AdamW steps on spans of consecutive items of the first half, joined as the probe joins them (~8 s, one core)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    items = _random_items(40, seed=0)
    seen = write_jsonl(tmp_path / "seen.jsonl", items[:20])
    unseen = write_jsonl(tmp_path / "unseen.jsonl", items[20:])
    folder = Path(shutil.copytree(tiny_model, tmp_path / "trained"))
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    texts = [it.text() for it in load_task(seen).items]
    rng = np.random.default_rng(1)
    opt = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=0.0)
    model.train()
    for _ in range(150):
        starts = rng.integers(0, len(texts), 4)
        spans = ["\n\n".join(texts[a : a + int(rng.integers(1, 7))]) for a in starts]
        enc = tok(spans, return_tensors="pt", padding=True)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        loss = model(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5  # memorised: random letters cost about log 26 = 3.3 nats per character unseen
    model.eval()
    model.save_pretrained(folder)

    opts = {"shards": 4, "permutations": 39, "ts_guessing": False, "device": "cpu", "membership_permutations": 2000}
    hit = probe(seen, folder, tmp_path / "hit", reference=unseen, **opts)
    miss = probe(unseen, folder, tmp_path / "miss", **opts)
    for name in ("min_k", "min_k_plus_plus", "zlib"):
        rec = hit.test(name)
        assert rec["statistic"] > 0.95 and rec["p_value"] < 0.001 and rec["ci_low"] > 0.8, name
    assert hit.test("exchangeability")["p_value"] < 0.01
    assert hit.test("exchangeability")["detail"]["p_value_permutation"] == pytest.approx(1 / 40)  # beats every shuffle
    # The unseen half is a draw from the null: each p-value is uniform there, so a fixed threshold fails for a
    # share of data and training seeds equal to the threshold (0.01: one in a hundred; measured over training
    # seeds 1-3: t-test 0.15, 0.81, 0.60). The seeds are fixed, so the test is deterministic.
    assert miss.test("exchangeability")["p_value"] > 0.01
    assert miss.test("exchangeability")["detail"]["p_value_permutation"] > 0.01


# ---------------------------------------------------------------------------
# run → probe → analyze: the report finds the probe beside the runs


def test_analyze_reports_a_probe_written_under_the_runs_folder(
    tiny_model: Path, files: dict[str, Path], tmp_path: Path, one_thread
) -> None:
    from typer.testing import CliRunner

    from metabench.cli import app

    runner = CliRunner()
    runs_dir = tmp_path / "runs"
    for name in ("tiny-a", "tiny-b"):  # two systems: the same weights under two names
        res = runner.invoke(
            app, ["run", str(files["task"]), "--model", str(tiny_model), "--out", str(runs_dir / name), "--name", name]
        )
        assert res.exit_code == 0, res.output
    probe_args = ["--reference", str(files["ref"]), "--shards", "4", "--permutations", "9", "--max-tokens", "4", "-q"]
    res = runner.invoke(
        app,
        [
            "probe",
            str(files["task"]),
            "--model",
            str(tiny_model),
            "--name",
            "tiny-a",
            "--out",
            str(runs_dir / "tiny-a" / "probe"),
        ]
        + probe_args,
    )
    assert res.exit_code == 0, res.output
    written = json.loads((runs_dir / "tiny-a" / "probe" / "probe.json").read_text())
    report = tmp_path / "report"
    res = runner.invoke(
        app, ["analyze", str(runs_dir), "--method", "contamination", "--out", str(report), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(next(report.glob("*.json")).read_text())
    signals = _find_table(doc, "contam-signals")
    rows = [dict(zip(signals["columns"], r)) for r in signals["rows"]]
    probed = {r["test"]: r for r in rows if r["model"] == "tiny-a" and r["benchmark"] == "toy_mc"}
    # every probe test of the file is in the report, with the file's statistic and p-value
    for t in written["tests"]:
        row = probed[t["test"]]
        assert row["statistic"] == pytest.approx(t["statistic"])
        if t["p_value"] is None:
            assert row["p_value"] is None
        else:
            assert row["p_value"] == pytest.approx(t["p_value"])
    assert not any(r["model"] == "tiny-b" and r["test"].startswith("probe") for r in rows)
    assert "input_paths" not in json.dumps(doc.get("provenance", {}))


def _find_table(node, label: str):
    if isinstance(node, dict):
        if node.get("type") == "table" and node.get("label") == label:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            found = _find_table(child, label)
            if found is not None:
                return found
    return None
