"""`metabench subset` and `metabench subset score` (metabench/cli.py over metabench/analysis/subsets.py).

Reference: simulated 2PL runs whose full-benchmark score of every model is known
from the data itself (the mean over all items); the scores written by `subset
score` must lie close to it and the written subset must list the chosen items.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import polars as pl
from typer.testing import CliRunner

from metabench import Runs
from metabench.analysis.subsets import SubsetModel
from metabench.cli import app


def _runs(n_models: int = 40, n_items: int = 300, seed: int = 0) -> Runs:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    b = rng.normal(size=n_items)
    a = rng.lognormal(0, 0.3, n_items)
    y = (rng.random((n_models, n_items)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    rows = {
        "model": np.repeat([f"m{i}" for i in range(n_models)], n_items).tolist(),
        "benchmark": ["sim"] * (n_models * n_items),
        "item": [f"q{j}" for j in range(n_items)] * n_models,
        "score": y.ravel(),
    }
    return Runs(pl.DataFrame(rows))


def _fit_then_score(tmp_path, seed: int) -> tuple[float, int]:
    """`metabench subset` on 30 simulated models, `subset score` on 10 others: (mean error, intervals covering)."""
    runs = _runs(seed=seed)
    train = runs.filter(pl.col("model").is_in([f"m{i}" for i in range(30)]))
    new = runs.filter(pl.col("model").is_in([f"m{i}" for i in range(30, 40)]))
    train_path = train.write(tmp_path / "train.parquet")
    new_path = new.write(tmp_path / "new.parquet")
    res = CliRunner().invoke(
        app,
        [
            "subset",
            str(train_path),
            "--benchmark",
            "sim",
            "--size",
            "40",
            "--folds",
            "3",
            "--out",
            str(tmp_path / "sub"),
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "sub" / "subset.json").read_text())
    assert len(doc["items"]) == 40 and set(doc["items"]) <= {f"q{j}" for j in range(300)}
    assert (tmp_path / "sub" / "validation.csv").exists()
    out_csv = tmp_path / "scores.csv"
    res = CliRunner().invoke(app, ["subset", "score", str(tmp_path / "sub"), str(new_path), "--out", str(out_csv)])
    assert res.exit_code == 0, res.output
    with out_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert {"model", "predicted", "ci_low", "ci_high"} <= set(rows[0]) and len(rows) == 10
    # the CLI writes what the Python API computes from the saved subset and the new models' subset answers
    api = SubsetModel.load(tmp_path / "sub").score(new.filter(pl.col("item").is_in(doc["items"])))
    api_pred = dict(zip(api["model"], api["predicted"], strict=True))
    assert all(abs(float(r["predicted"]) - api_pred[r["model"]]) < 1e-9 for r in rows)
    truth = new.frame.group_by("model").agg(pl.col("score").mean())
    truth = dict(zip(truth["model"], truth["score"], strict=True))
    err = [abs(float(r["predicted"]) - truth[r["model"]]) for r in rows]
    inside = [float(r["ci_low"]) <= truth[r["model"]] <= float(r["ci_high"]) for r in rows]
    return float(np.mean(err)), sum(inside)


def test_subset_fit_then_score(tmp_path):
    # One simulation's mean error is noisy: over seeds 0-24 of `_runs` it was 0.025-0.093 (median 0.050; 4 of 25
    # above 0.06), about the plain 40-item mean's (0.026-0.093); seed 0 alone gives 0.053, or 0.062 under another
    # BLAS kernel (OPENBLAS_CORETYPE=Haswell moves the IRT fit by 1e-9 and with it one of 40 k-means anchors). The
    # bound of 0.06 (40 of 300 items: the sampling SE of a mean alone is ~0.07) applies to the mean over three seeds
    # (0.044 here, 0.047 with seed 0's other-kernel value), which such a swap cannot push across it.
    results = [_fit_then_score(tmp_path / f"s{seed}", seed) for seed in (0, 1, 2)]
    assert np.mean([e for e, _ in results]) < 0.06
    assert all(covered >= 8 for _, covered in results)


def test_subset_errors_are_one_line(tmp_path):
    path = _runs(10, 30).write(tmp_path / "r.parquet")
    res = CliRunner().invoke(app, ["subset", str(path), "--benchmark", "sim"])
    assert res.exit_code == 2 and "--out" in res.output
    res = CliRunner().invoke(app, ["subset", "score", str(tmp_path / "nothing")])
    assert res.exit_code == 2
