"""Probe files (``metabench probe``) beside runs are companions, not runs (metabench/io/canonical.py)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

import metabench
from metabench.io import canonical
from metabench.io.detect import discover


def _probe_files(folder: Path, suffix: str = "") -> None:
    doc = {"metabench_probe": 1, "model": "m", "benchmark": "x", "n_items": 2, "n_reference": 0, "tests": []}
    (folder / f"probe{suffix}.json").write_text(json.dumps(doc))
    pl.DataFrame(
        {
            "model": ["m", "m"],
            "benchmark": ["x", "x"],
            "item": ["1", "2"],
            "set": ["benchmark", "benchmark"],
            "min_k": [-1.0, -2.0],
            "min_k_plus_plus": [float("nan")] * 2,
            "zlib_ratio": [-0.1, -0.2],
        }
    ).write_parquet(folder / f"probe_items{suffix}.parquet")


def test_probe_files_beside_runs_are_companions(tmp_path: Path) -> None:
    (tmp_path / "runs.csv").write_text("model,benchmark,item,score\nm,x,1,1\nm,x,2,0\n")
    _probe_files(tmp_path)
    _probe_files(tmp_path, "_llama")
    found = discover(tmp_path)
    assert found.units == [("canonical", tmp_path / "runs.csv")]
    assert sorted(p.name for p in found.companions) == [
        "probe.json",
        "probe_items.parquet",
        "probe_items_llama.parquet",
        "probe_llama.json",
    ]
    runs = metabench.load(tmp_path)
    assert runs.matrix("x").values.tolist() == [[1.0, 0.0]]


def test_only_marked_probe_json_and_named_parquet(tmp_path: Path) -> None:
    _probe_files(tmp_path)
    (tmp_path / "probe_notes.json").write_text('{"notes": "not written by metabench probe"}')
    assert canonical.companion(tmp_path / "probe.json")
    assert not canonical.companion(tmp_path / "probe_notes.json")
    assert canonical.companion(tmp_path / "probe_items.parquet")
    assert not canonical.sniff(tmp_path / "probe_items.parquet")
    # the same table under another name has an item column and is taken for runs
    (tmp_path / "probe_items.parquet").rename(tmp_path / "scores.parquet")
    assert canonical.sniff(tmp_path / "scores.parquet") and not canonical.companion(tmp_path / "scores.parquet")
