"""Leaderboard tables (metabench/io/leaderboard.py) on the bundled BenchBench tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from metabench import InputError, ValidationError
from metabench.io import leaderboard

BOARDS = Path("data/leaderboards")


def test_helm_lite_values_and_scale():
    t = leaderboard.read(BOARDS / "helm_lite_240829_holistic.csv")
    assert t.benchmarks == ("helm_lite",)
    assert t.models[0] == "GPT-4o (2024-05-13)"
    assert t.values[0, 0] == pytest.approx(0.963)  # first data line of the CSV
    assert t.scales == {"helm_lite": "unit"}
    assert len(t.models) == 72


def test_mixeval_dash_is_missing_and_counted():
    t = leaderboard.read(BOARDS / "mixeval_240829_holistic.csv")
    assert t.scales["MixEval"] == "percent"
    i = t.models.index("LLaMA-3.1-405B-Instruct")
    assert math.isnan(t.values[i, 0])
    assert [(e.what, e.count) for e in t.exclusions] == [("cell", 1)]


def test_arena_is_raw_and_lvbench_uses_llm_model_column():
    assert leaderboard.read(BOARDS / "chatbot_arena_241104_holistic.csv").scales["arena_elo"] == "raw"
    lv = leaderboard.read(BOARDS / "lvbench_241189_longcontext.csv")
    assert len(lv.models) == 10 and len(lv.benchmarks) == 12


def test_lower_is_better_from_list_beside():
    t = leaderboard.read(BOARDS / "helm_airbench_240916_safety.csv")
    assert t.lower_is_better == frozenset(t.benchmarks)
    assert len(t.benchmarks) == 17


def test_duplicates_first_or_error():
    t = leaderboard.read(BOARDS / "bfcl_240906_tools.csv")
    assert len(t.models) == 64 - 17
    assert t.exclusions[0].count == 17
    with pytest.raises(ValidationError) as info:
        leaderboard.read(BOARDS / "bfcl_240906_tools.csv", duplicates="error")
    assert info.value.problems[0].kind == "duplicate_key"


def test_sniff_real_and_not():
    assert leaderboard.sniff(BOARDS / "helm_lite_240829_holistic.csv")
    assert not leaderboard.sniff(Path("data/runs/mmlu_pro.parquet"))


def test_merge_prefixes_repeated_columns():
    a = leaderboard.read(BOARDS / "hf_open_llm_v1_240829_holistic.csv")
    b = leaderboard.read(BOARDS / "hf_open_llm_v1_240829_frozen.csv")
    m = leaderboard.merge_tables([a, b])
    assert "hf_open_llm_v1" in m.benchmarks
    assert "hf_open_llm_v1_240829_frozen:hf_open_llm_v1" in m.benchmarks
    assert m.values.shape[0] >= max(len(a.models), len(b.models))
    assert np.isfinite(m.values).sum() == np.isfinite(a.values).sum() + np.isfinite(b.values).sum()


def test_no_model_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="model column"):
        leaderboard.read(p)
