"""Results do not depend on the order of rows and files, nor on the number of BLAS/OpenMP threads.

Reference: the same analysis of the same runs, once from one file and once from the rows
shuffled and split over two files (columns in another order), run in separate processes
with the thread pools at 1 and at 2 threads; the two report.json files must agree value by
value, apart from the provenance of the run (creation time, command line, input files, and
the BLAS thread count the environment records).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from metabench import Runs
from metabench._random import cell_uniforms, keyed_rng
from metabench.analysis.contamination import person_fit_test
from metabench.irt import IRT

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "runs" / "medagents_zero_shot.parquet"


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Every path where two JSON documents differ (floats compared exactly, NaN equal to NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only in one" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += _differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = [f"{path}: {len(a)} vs {len(b)} entries"] if len(a) != len(b) else []
        for k, (x, y) in enumerate(zip(a, b)):
            out += _differences(x, y, f"{path}[{k}]")
        return out
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} vs {b!r}"]


def _analyze(inputs: list[Path], out: Path, threads: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS"):
        env[var] = str(threads)
    cmd = [
        sys.executable,
        "-c",
        "from metabench.cli import main; main()",
        "analyze",
        *map(str, inputs),
        "--method",
        "significance,irt,aggregate,contamination",
        "--seed",
        "7",
        "--format",
        "json",
        "--out",
        str(out),
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_report_is_the_same_for_shuffled_split_inputs_and_1_or_2_threads(tmp_path: Path) -> None:
    frame = pl.read_parquet(BUNDLED)
    one = tmp_path / "one"
    one.mkdir()
    frame.write_parquet(one / "runs.parquet")
    two = tmp_path / "two"
    two.mkdir()
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=11)
    shuffled = shuffled.select(list(reversed(shuffled.columns)))
    half = shuffled.height // 2
    shuffled[:half].write_parquet(two / "b.parquet")
    shuffled[half:].write_parquet(two / "a.parquet")

    jobs = [_analyze([one], tmp_path / "r1", 1), _analyze([two / "a.parquet", two / "b.parquet"], tmp_path / "r2", 2)]
    for job in jobs:
        output, _ = job.communicate(timeout=900)
        assert job.returncode == 0, output.decode()[-3000:]
    r1 = json.loads((tmp_path / "r1" / "report.json").read_text())
    r2 = json.loads((tmp_path / "r2" / "report.json").read_text())
    for doc in (r1, r2):
        prov = doc["provenance"]
        for key in ("created", "command", "inputs"):
            prov.pop(key)
        for blas in prov.get("environment", {}).get("blas", []):
            blas.pop("num_threads")  # the one thing that differs on purpose
    assert len(r1["sections"]) == 4
    diff = _differences(r1, r2)
    assert not diff, "\n".join(diff[:20])


def test_runs_give_the_same_matrix_in_any_row_order() -> None:
    frame = pl.read_parquet(BUNDLED).filter(pl.col("benchmark") == "medqa")
    a = Runs(frame)
    b = Runs(frame.sample(fraction=1.0, shuffle=True, seed=3))
    assert a.frame.equals(b.frame)
    ma, mb = a.matrix("medqa"), b.matrix("medqa")
    assert ma.items == mb.items and ma.models == mb.models
    np.testing.assert_array_equal(ma.values, mb.values)
    # item ids in natural order, not file order
    assert (
        list(ma.items[:3]) == sorted(ma.items, key=lambda s: [int(t) if t.isdigit() else t for t in s.split("_")])[:3]
    )


def test_irt_holdout_cells_are_keyed_by_labels() -> None:
    """Model selection holds out the same (model, item) cells whatever the order of rows and columns."""
    rng = np.random.default_rng(0)
    theta, b, a = rng.normal(size=40), rng.normal(size=60), rng.lognormal(0, 0.4, 60)
    y = (rng.random((40, 60)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    fit = IRT(model="auto", seed=3).fit(y)
    rows, cols = rng.permutation(40), rng.permutation(60)
    from metabench.runs import ResponseMatrix

    perm = ResponseMatrix.from_array(y[rows][:, cols], models=[f"m{i}" for i in rows], items=[f"i{j}" for j in cols])
    fit_p = IRT(model="auto", seed=3).fit(perm)
    assert fit.model_ == fit_p.model_
    sa = fit.selection_.sort("model")
    sb = fit_p.selection_.sort("model")
    np.testing.assert_allclose(sa["heldout_logloss"].to_numpy(), sb["heldout_logloss"].to_numpy(), rtol=1e-6)


def test_cell_uniforms_depend_on_labels_only() -> None:
    u = cell_uniforms(5, ["a", "b", "c"], ["x", "y"], "s")
    v = cell_uniforms(5, ["c", "a"], ["y", "x", "z"], "s")
    np.testing.assert_array_equal(u[[2, 0]][:, [1, 0]], v[:, :2])
    assert not np.array_equal(cell_uniforms(6, ["a"], ["x"], "s"), cell_uniforms(5, ["a"], ["x"], "s"))
    # uniform: Kolmogorov-Smirnov against U(0, 1) on 100,000 cells
    from scipy import stats

    w = cell_uniforms(0, [f"m{i}" for i in range(100)], [f"q{j}" for j in range(1000)], "t").ravel()
    assert stats.kstest(w, "uniform").pvalue > 1e-3
    assert keyed_rng(1, "x").integers(1 << 30) == keyed_rng(1, "x").integers(1 << 30)


def test_person_fit_streams_are_keyed_by_model() -> None:
    """A model's simulated p-values do not depend on which other models are tested, nor on their order."""
    rng = np.random.default_rng(4)
    theta, b = rng.normal(size=20), rng.normal(size=120)
    y = (rng.random((20, 120)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(float)
    y[0, np.argsort(b)[-30:]] = 1.0
    from metabench.runs import ResponseMatrix

    matrix = ResponseMatrix.from_array(y, models=[f"model-{i:02d}" for i in range(20)])
    every = person_fit_test(matrix, n_sim=500, seed=1, correction="none").to_frame()
    some = person_fit_test(matrix, models=["model-07", "model-03"], n_sim=500, seed=1, correction="none").to_frame()
    joined = some.join(every, on=["model", "statistic"], suffix="_all")
    assert joined.height == 4
    assert joined["p_value"].to_list() == joined["p_value_all"].to_list()
    assert joined["n_simulated"].to_list() == joined["n_simulated_all"].to_list()
