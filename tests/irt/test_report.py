"""The IRT report section (metabench/irt/report.py) on bundled real runs and on simulated data."""

from __future__ import annotations

import numpy as np
import polars as pl

import metabench
from metabench import Runs
from metabench.analysis.registry import resolve
from metabench.report import Chart, Table


def _sim_runs(n_models: int = 120, n_items: int = 40, seed: int = 0) -> Runs:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    b = rng.normal(size=n_items)
    a = rng.lognormal(0, 0.3, n_items)
    a[0] = -1.0  # a mis-keyed item: success falls with ability
    y = (rng.random((n_models, n_items)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    rows = [(f"m{i}", "sim", f"q{j}", y[i, j]) for i in range(n_models) for j in range(n_items)]
    return Runs(pl.DataFrame(rows, schema=["model", "benchmark", "item", "score"], orient="row"))


def test_irt_is_registered_for_runs_only():
    assert "irt" in [m.name for m in resolve(["all"], _sim_runs(10, 5))]


def test_irt_section_on_simulated_runs_flags_the_miskeyed_item():
    rep = metabench.analyze(_sim_runs(), ["irt"])
    (sec,) = rep.sections
    assert sec.key == "irt"
    (sub,) = sec.subsections
    tables = {b.label: b for b in sub.blocks if isinstance(b, Table)}
    flags = tables["irt-flag-1-sim"].frame
    # the item simulated with a negative discrimination is flagged as such
    assert "q0" in flags["item"].to_list()
    assert flags.filter(pl.col("item") == "q0")["negative_discrimination"].item()
    abil = tables["irt-abil-1-sim"].frame
    assert abil.height == 120 and abil["theta"].is_sorted(descending=True)
    assert len([b for b in sub.blocks if isinstance(b, Chart)]) == 2  # information curves, Wright map


def test_irt_section_on_bundled_medical_runs():
    runs = metabench.load("data/runs/medagents_zero_shot.parquet").filter(benchmark=["afrimedqa", "medbullets"])
    rep = metabench.analyze(runs, ["irt"])
    subs = rep.sections[0].subsections
    assert [s.title for s in subs] == ["afrimedqa", "medbullets"]
    for s in subs:
        sel = next(b for b in s.blocks if isinstance(b, Table) and b.label.startswith("irt-sel"))
        # 10 models: 3pl is not tried, and the chosen model is marked
        assert set(sel.frame["model"].to_list()) == {"1pl", "2pl", "mirt2"}
        assert sel.frame["chosen"].sum() == 1
