"""Calibration and power of the run-based contamination tests, and their findings on MedAgentsBench.

Simulation (``--sims`` runs without contamination, ``--power-sims`` per boost size):

* 30 models with abilities ``theta ~ N(0, 1)`` (one ability: without contamination
  every model follows the same relation between the two benchmarks);
* ``bench``: 300 items, 2PL, discriminations ``a ~ LogNormal(0, 0.3)``,
  difficulties ``b = subject effect + N(0, 0.8²)`` with 10 subjects of 30 items
  (subject effects ``N(0.8, 0.5²)``), created on days spread uniformly over
  2023–2024;
* ``ref``: 300 items, 3PL with guessing 0.25, ``a ~ LogNormal(0, 0.3)``,
  ``b ~ N(-0.8, 1)`` — easier, with a floor, so that the relation between the
  two benchmarks' scores is not linear;
* the tested model is ``m0`` (a random ability, so sometimes the best or the
  worst model), training cut-off 2024-01-01 (half the items are older).

Contamination of ``boost`` points: ``round(boost / 100 * 300)`` of the items
``m0`` got wrong among those created before its cut-off are set right, which
raises its ``bench`` score by ``boost`` points (fewer where it lacked wrong
old items).

Every simulation runs every test on ``m0`` alone, unadjusted, at alpha = 0.05:

* ``constat``: :func:`constat` of ``bench`` against ``ref``, the other 29
  models as references, 1,000 bootstrap replicates;
* ``person_fit lz*`` and ``person_fit guttman``: :func:`person_fit_test` on
  ``bench`` (2PL, at most 1,000 simulated vectors), with the default
  leave-one-out calibration; ``lz* plugin`` and ``guttman plugin`` the same
  with ``calibration="plugin"`` (the fitted items taken as known);
* ``date_split raw`` and ``date_split did``: :func:`date_split_test` of ``m0``
  on ``bench``, clustered by subject (``did``, the difficulty-adjusted
  difference in differences, is the primary estimate).

A second null scenario, ``drift``, makes the items written after the cut-off
harder by 0.5 logits for every model (a benchmark refreshed with harder
questions): the raw date comparison then mistakes the drift for
contamination; the adjusted one should stay near its nominal rate.

The rejection rate of a calibrated test is 0.05 ± 0.02 (the Monte Carlo standard
error at 1,000 simulations is 0.007).

``--person-fit-grid SIMS`` runs only the person-fit calibration over numbers
of models and items (``PF_SETTINGS``: 10 to 100 models, 200 to 1,000 items,
2PL truth with ``a ~ LogNormal(0, 0.3)``, ``b ~ N(0, 1)``, fitted as 2PL or
1PL), both calibrations, and prints the rejection rate at alpha = 0.05 and the
mean p-value (0.5 for a calibrated test).

The last part runs ConStat (each MedAgentsBench benchmark against
``mmlu_medical``, and ``medqa`` against ``medbullets``) and the person-fit tests
on ``data/runs/medagents_zero_shot.parquet`` and prints per model × benchmark
p-values (Holm-adjusted across the 10 models).

Usage::

    python benchmarks/contamination.py                      # 1,000 null simulations, 500 per boost
    python benchmarks/contamination.py --sims 200 --power-sims 100 --workers 2
    python benchmarks/contamination.py --person-fit-grid 300   # person fit: 10-100 models, both calibrations
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from metabench.analysis.contamination import constat, date_split_test, person_fit_test
from metabench.runs import ResponseMatrix, Runs

N_MODELS = 30
N_ITEMS = 300
N_SUBJECTS = 10
CUTOFF = dt.date(2024, 1, 1)
START = dt.date(2023, 1, 1)
DAYS = 731
ALPHA = 0.05
TESTS = (
    "constat",
    "person_fit lz*",
    "person_fit guttman",
    "lz* plugin",
    "guttman plugin",
    "date_split raw",
    "date_split did",
)
ROOT = Path(__file__).resolve().parents[1]


def simulate(seed: int, boost: float = 0.0, drift: float = 0.0) -> dict[str, object]:
    """One simulated pair of benchmarks; ``boost`` in points, ``drift`` in logits (after-cut-off items harder)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=N_MODELS)
    subjects = np.repeat(np.arange(N_SUBJECTS), N_ITEMS // N_SUBJECTS)
    a1 = rng.lognormal(0.0, 0.3, N_ITEMS)
    b1 = rng.normal(0.8, 0.5, N_SUBJECTS)[subjects] + rng.normal(0.0, 0.8, N_ITEMS)
    days = rng.integers(0, DAYS, N_ITEMS)
    created = np.array([START + dt.timedelta(days=int(d)) for d in days])
    before = np.array([c <= CUTOFF for c in created])
    b1 = b1 + drift * ~before
    a2 = rng.lognormal(0.0, 0.3, N_ITEMS)
    b2 = rng.normal(-0.8, 1.0, N_ITEMS)
    p1 = 1.0 / (1.0 + np.exp(-a1 * (theta[:, None] - b1)))
    p2 = 0.25 + 0.75 / (1.0 + np.exp(-a2 * (theta[:, None] - b2)))
    y1 = (rng.random(p1.shape) < p1).astype(float)
    y2 = (rng.random(p2.shape) < p2).astype(float)
    if boost > 0:
        wrong_old = np.flatnonzero((y1[0] == 0) & before)
        k = min(wrong_old.size, round(boost / 100 * N_ITEMS))
        y1[0, rng.choice(wrong_old, k, replace=False)] = 1.0
    models = [f"m{i}" for i in range(N_MODELS)]
    items = [f"b{j}" for j in range(N_ITEMS)]
    subj = [f"s{s}" for s in subjects]
    bench = ResponseMatrix.from_array(y1, models=models, items=items, subjects=subj, benchmark="bench")
    ref = ResponseMatrix.from_array(y2, models=models, items=[f"r{j}" for j in range(N_ITEMS)], benchmark="ref")
    return {"bench": bench, "ref": ref, "created": created, "seed": seed}


def run_tests(sim: dict[str, object]) -> np.ndarray:
    """p-values of the seven tests of ``m0`` on one simulation (person fit with both calibrations)."""
    bench: ResponseMatrix = sim["bench"]  # type: ignore[assignment]
    ref: ResponseMatrix = sim["ref"]  # type: ignore[assignment]
    seed = int(sim["seed"])  # type: ignore[arg-type]
    cs = constat({"bench": bench, "ref": ref}, "bench", "ref", models=["m0"], n_bootstrap=1000, seed=seed)
    pf = person_fit_test(bench, models=["m0"], n_sim=1000, seed=seed)
    plug = person_fit_test(bench, models=["m0"], n_sim=1000, seed=seed, calibration="plugin")
    frame = bench.to_frame().join(
        pl.DataFrame({"item": list(bench.items), "subject": list(bench.subjects or ())}), on="item"
    )
    dates = pl.DataFrame({"benchmark": "bench", "item": list(bench.items), "created": list(sim["created"])})  # type: ignore[arg-type]
    ds = date_split_test(Runs(frame), dates, {"m0": CUTOFF}).to_frame().row(0, named=True)
    return np.array(
        [
            cs.p_value[0],
            pf.p_value[0, 0],
            pf.p_value[0, 1],
            plug.p_value[0, 0],
            plug.p_value[0, 1],
            ds["p_value"],
            ds["did_p_value"],
        ]
    )


def _single_thread() -> None:
    """Keep each worker's BLAS to one thread: with several workers on few cores, more only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(1)


def _one(args: tuple[int, float, float]) -> np.ndarray:
    seed, boost, drift = args
    return run_tests(simulate(seed, boost, drift))


def _pmap(fn: Callable[[Any], np.ndarray], jobs: list[Any], workers: int, chunksize: int = 8) -> np.ndarray:
    """``fn`` over ``jobs``, in ``workers`` single-threaded processes (in this process with one worker)."""
    if workers <= 1:
        return np.array([fn(j) for j in jobs])
    with ProcessPoolExecutor(workers, initializer=_single_thread) as ex:
        return np.array(list(ex.map(fn, jobs, chunksize=chunksize)))


def scenario(seeds: range, boost: float, drift: float, workers: int) -> np.ndarray:
    return _pmap(_one, [(s, boost, drift) for s in seeds], workers)


def rate_table(rows: list[tuple[str, np.ndarray]]) -> str:
    head = f"{'scenario':<22}" + "".join(f"{t:>20}" for t in TESTS)
    lines = [head, "-" * len(head)]
    for name, p in rows:
        rej = (p <= ALPHA).mean(axis=0)
        se = np.sqrt(rej * (1 - rej) / p.shape[0])
        lines.append(f"{name:<22}" + "".join(f"{r:>13.3f} ±{s:.3f}" for r, s in zip(rej, se)))
    return "\n".join(lines)


def medagents() -> None:
    path = ROOT / "data" / "runs" / "medagents_zero_shot.parquet"
    runs = Runs(pl.read_parquet(path).select("model", "benchmark", "item", "score", "subject"))
    benches = runs.benchmarks
    print(f"\nMedAgentsBench zero-shot: {len(runs.models)} models × {len(benches)} benchmarks ({path.name})")
    pairs = [(b, "mmlu_medical") for b in benches if b != "mmlu_medical"] + [("medqa", "medbullets")]
    frames = []
    for bench, ref in pairs:
        res = constat(runs, bench, ref, n_bootstrap=2000, seed=0)
        frames.append(res.to_frame())
    cs = pl.concat(frames)
    with pl.Config(tbl_rows=200, tbl_cols=20, tbl_width_chars=200, float_precision=3):
        print("\nConStat: delta (points) and Holm-adjusted p-value per model × benchmark (reference in brackets)")
        wide = (
            cs.with_columns(
                (pl.col("benchmark") + " [" + pl.col("reference") + "]").alias("test"),
                pl.format("{} ({})", (pl.col("delta") * 100).round(1), pl.col("p_adjusted").round(3)).alias("cell"),
            )
            .pivot(on="test", index="model", values="cell")
            .sort("model")
        )
        print(wide)
        flagged = cs.filter(pl.col("flagged"))
        print(f"flagged (Holm, alpha 0.05): {flagged.height} of {cs.height} tests")
        if flagged.height:
            print(
                flagged.select(
                    "model",
                    "benchmark",
                    "reference",
                    "score",
                    "predicted",
                    "delta",
                    "ci_low",
                    "ci_high",
                    "p_value",
                    "p_adjusted",
                )
            )
        print("\nPerson fit (2PL): Holm-adjusted p-values of lz* / Guttman G* per model × benchmark")
        rows = []
        for bench in benches:
            pf = person_fit_test(runs.matrix(bench), n_sim=10_000, seed=0).to_frame()
            rows.append(pf.with_columns(pl.lit(bench).alias("benchmark")))
        pf_all = pl.concat(rows)
        cells = (
            pf_all.group_by("model", "benchmark", maintain_order=True)
            .agg(
                pl.format("{} / {}", pl.col("p_adjusted").first().round(3), pl.col("p_adjusted").last().round(3)).alias(
                    "cell"
                )
            )
            .pivot(on="benchmark", index="model", values="cell")
            .sort("model")
        )
        print(cells)
        fl = pf_all.filter(pl.col("flagged"))
        print(f"flagged (Holm, alpha 0.05): {fl.height} of {pf_all.height} tests")
        if fl.height:
            print(fl.select("model", "benchmark", "statistic", "value", "p_value", "p_adjusted"))


PF_SETTINGS = (
    (10, 200, "2pl"),
    (10, 500, "2pl"),
    (30, 300, "2pl"),
    (50, 1000, "2pl"),
    (100, 200, "2pl"),
    (30, 300, "1pl"),
)
"""(models, items, fitted IRT model) of the person-fit calibration grid; the truth is always 2PL."""


def _person_fit_null(args: tuple[int, int, int, str, str]) -> np.ndarray:
    """p-values (lz*, G*) of m0 on one uncontaminated 2PL simulation."""
    seed, n_models, n_items, model, calibration = args
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    a, b = rng.lognormal(0.0, 0.3, n_items), rng.normal(0.0, 1.0, n_items)
    y = (rng.random((n_models, n_items)) < 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    res = person_fit_test(y, models=["m0"], model=model, n_sim=500, seed=seed, calibration=calibration)  # type: ignore[arg-type]
    return res.p_value[0]


def person_fit_grid(sims: int, workers: int) -> None:
    """Rejection rate and mean p-value of person fit without contamination, over models × items × calibration."""
    print(f"\nPerson fit without contamination, 2PL truth ({sims} simulations per row, 500 simulated vectors each)")
    head = f"{'models':>7}{'items':>7}{'fit':>5}{'calibration':>13}{'lz* rej':>9}{'G* rej':>8}{'lz* mean p':>12}{'G* mean p':>11}"
    print(head)
    print("-" * len(head))
    for n_models, n_items, model in PF_SETTINGS:
        for calibration in ("loo", "plugin"):
            jobs = [(10**7 + s, n_models, n_items, model, calibration) for s in range(sims)]
            p = _pmap(_person_fit_null, jobs, workers, chunksize=4)
            rej, mean = (p <= ALPHA).mean(axis=0), p.mean(axis=0)
            print(
                f"{n_models:>7}{n_items:>7}{model:>5}{calibration:>13}{rej[0]:>9.3f}{rej[1]:>8.3f}{mean[0]:>12.3f}{mean[1]:>11.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sims", type=int, default=1000, help="simulations per null scenario")
    parser.add_argument("--power-sims", type=int, default=500, help="simulations per boost size")
    parser.add_argument("--boosts", default="2,5,10,20", help="boost sizes in points")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--no-medagents", action="store_true", help="skip the MedAgentsBench part")
    parser.add_argument(
        "--person-fit-grid",
        type=int,
        default=0,
        metavar="SIMS",
        help="only the person-fit calibration over numbers of models and items, SIMS simulations per row",
    )
    args = parser.parse_args()
    t0 = time.perf_counter()
    if args.person_fit_grid:
        person_fit_grid(args.person_fit_grid, args.workers)
        print(f"\n({time.perf_counter() - t0:.0f} s on {args.workers} worker(s))")
        return
    null_rows = [
        ("null", scenario(range(args.sims), 0.0, 0.0, args.workers)),
        ("null, drift 0.5", scenario(range(10**6, 10**6 + args.sims), 0.0, 0.5, args.workers)),
    ]
    t_null = time.perf_counter() - t0
    print(f"Rejection rate at alpha = {ALPHA} without contamination ({args.sims} simulations each; ± Monte Carlo SE)")
    print(rate_table(null_rows))
    print(f"({t_null:.0f} s)")
    t1 = time.perf_counter()
    power_rows = []
    for k, boost in enumerate(float(b) for b in args.boosts.split(",")):
        p = scenario(range(2 * 10**6 + k * 10**5, 2 * 10**6 + k * 10**5 + args.power_sims), boost, 0.0, args.workers)
        power_rows.append((f"boost {boost:g} points", p))
    print(f"\nDetection power at alpha = {ALPHA} against boost size ({args.power_sims} simulations each)")
    print(rate_table(power_rows))
    print(f"({time.perf_counter() - t1:.0f} s)")
    if not args.no_medagents:
        t2 = time.perf_counter()
        medagents()
        print(f"({time.perf_counter() - t2:.0f} s)")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s on {args.workers} worker(s); python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
