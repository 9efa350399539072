"""Compact subsets: held-out error against subset size for every selection × estimator.

Two data sets:

* ``mmlu_pro``: the bundled MMLU-Pro runs (29 models × 12,032 items, binary).
* ``sim``: a simulated benchmark with known truth, 200 models × 5,000 items in
  10 subjects. Item j of subject s has a ~ LogNormal(0, 0.5), b ~ N(0, 1.2);
  model i has ability θ_i ~ N(0, 1) plus a subject-specific deviation
  δ_is ~ N(0, 0.3²) (a mildly multidimensional benchmark, so the unidimensional
  IRT models are not exactly right), P = σ(a(θ_i + δ_is − b)). The true full
  score is the mean over items of P; the table scores against the observed full
  mean (as on real data) and adds the MAE against the true score.

For the simulation the script also prints the Bayes oracle: the posterior mean
of each model's true full score from its responses on the subset, computed with
every true parameter (item slopes and difficulties, the ability prior, the
subject deviations' SD) on a design chosen with them (greedy minimisation of the
full score's posterior variance). No estimator that sees the same responses can
beat it on average, so its MAE is the floor at that subset size; the estimators
fitted on training models are measured against it.

``--model-counts 50 100 200 400 800`` prints instead, for the simulation, the
held-out MAE at ``--curve-size`` items against the number of models (80% of
them train in each fold), beside the oracle's floor: how many training models
the estimators need to come close to it.

Everything is :func:`metabench.analysis.subsets.validate_subset`: k-fold over
models (5 folds by default); in each fold the subset is selected and the
estimator fitted and calibrated on the training models only, the held-out
models' subset responses are all the prediction sees.

Usage::

    python benchmarks/subsets.py                          # both data sets, sizes 25 50 100 200 400, all methods
    python benchmarks/subsets.py --data sim --sizes 50 100
    python benchmarks/subsets.py --methods random:mean anchor_irt:gpirt irt_info:pirt
    python benchmarks/subsets.py --data sim --seeds 0 1 2   # metrics averaged over three seeds
    python benchmarks/subsets.py --model-counts 50 100 200 400 800 --sim-items 2000 \
        --methods random:mean irt_info:gpirt irt_info:ability_regression   # MAE against training models

Random and stratified subsets do not depend on the models, so with one seed every
fold evaluates the same subset of each (the one a user with that seed would get):
their errors are those of one draw. Several seeds average over draws.

It prints, per data set, MAE and RMSE in points of accuracy (× 100), Spearman
and Kendall rank correlations over the held-out models, interval coverage and
mean width, the MAE relative to random:mean on the same folds, the seconds
taken, and the issue's targets at 100 items.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy import special

import metabench
from metabench.analysis.subsets import ESTIMATORS, SELECTIONS, validate_subset
from metabench.runs import ResponseMatrix

ROOT = Path(__file__).resolve().parents[1]
MMLU_PRO = ROOT / "data" / "runs" / "mmlu_pro.parquet"
TARGET_MAE = 1.5  # points of accuracy at 100 items
TARGET_SPEARMAN = 0.95
TARGET_COVERAGE = (0.90, 0.98)


@dataclass(frozen=True)
class Truth:
    """The simulation's true parameters: P_ij = σ(a_j (θ_i + δ_i,s(j) − b_j))."""

    a: np.ndarray
    b: np.ndarray
    subject: np.ndarray
    subject_sd: float
    score: np.ndarray  # true full score of each model (mean over items of P)


def simulate(
    n_models: int, n_items: int, n_subjects: int, subject_sd: float, seed: int, log_slope_mean: float = 0.0
) -> tuple[ResponseMatrix, Truth]:
    """Binary responses and the true parameters (with each model's true full score)."""
    rng = np.random.default_rng(seed)
    subj = np.sort(rng.integers(0, n_subjects, n_items))
    a = rng.lognormal(log_slope_mean, 0.5, n_items)
    b = rng.normal(0.0, 1.2, n_items)
    theta = rng.normal(size=n_models)[:, None] + rng.normal(0.0, subject_sd, (n_models, n_subjects))[:, subj]
    P = special.expit(a * (theta - b))
    Y = (rng.random(P.shape) < P).astype(float)
    m = ResponseMatrix.from_array(
        Y,
        models=[f"sim{i:03d}" for i in range(n_models)],
        items=[str(j) for j in range(n_items)],
        subjects=[f"s{s}" for s in subj],
        benchmark="sim",
    )
    return m, Truth(a, b, subj, subject_sd, P.mean(axis=1))


def bayes_design(truth: Truth, size: int) -> np.ndarray:
    """Items chosen greedily with the true parameters to minimise the posterior variance of the full score.

    The variance at ability θ is about S'(θ)² / (1 + I(θ)) (S the full-score
    curve, I the chosen items' Fisher information, prior N(0, 1)); each step
    adds the item that most lowers its mean over the ability distribution.
    """
    a, b = truth.a, truth.b
    q = np.linspace(-3.5, 3.5, 71)
    w = np.exp(-(q**2) / 2)
    w /= w.sum()
    p = special.expit(a * (q[:, None] - b))
    info = a**2 * p * (1 - p)
    slope = (a * p * (1 - p)).mean(axis=1)
    precision = np.ones(len(q))
    taken = np.zeros(len(a), dtype=bool)
    chosen = []
    for _ in range(size):
        risk = (w * slope**2) @ (1.0 / (precision[:, None] + info))
        risk[taken] = np.inf
        j = int(np.argmin(risk))
        taken[j] = True
        chosen.append(j)
        precision += info[:, j]
    return np.sort(np.array(chosen))


def oracle_predictions(values: np.ndarray, truth: Truth, pos: np.ndarray) -> np.ndarray:
    """Posterior mean of each model's true full score from its responses on ``pos``, knowing every true parameter.

    Exact up to the grids: θ on 161 points in [−5, 5] with its N(0, 1) prior,
    each subject's deviation δ on 25 points within ±4 SD with its N(0, SD²)
    prior; given θ the subjects are independent, so the posterior factorises.
    No estimator that sees the same responses can do better on average: its
    MAE is the floor of the simulation at that subset.
    """
    a, b, subj, sd = truth.a, truth.b, truth.subject, truth.subject_sd
    grid = np.linspace(-5.0, 5.0, 161)
    if sd > 0:
        dev = np.linspace(-4 * sd, 4 * sd, 25)
        wd = np.exp(-(dev**2) / (2 * sd**2))
        wd /= wd.sum()
    else:
        dev, wd = np.zeros(1), np.ones(1)
    x = (grid[:, None] + dev[None, :]).ravel()
    n_models, n_subj = values.shape[0], int(subj.max()) + 1
    log_post = np.tile(-(grid**2) / 2, (n_models, 1))
    expected = np.zeros((n_models, n_subj, len(grid)))
    share = np.bincount(subj, minlength=n_subj) / len(a)
    for s in range(n_subj):  # a loop over subjects
        members = np.flatnonzero(subj == s)
        curve = special.expit(a[members] * (x[:, None] - b[members])).mean(axis=1).reshape(len(grid), len(dev))
        seen = np.intersect1d(pos, members)
        if len(seen):
            p = np.clip(special.expit(a[seen] * (x[:, None] - b[seen])), 1e-12, 1 - 1e-12)
            y = values[:, seen]
            ll = (y @ np.log(p).T + (1 - y) @ np.log(1 - p).T).reshape(n_models, len(grid), len(dev))
        else:
            ll = np.zeros((n_models, len(grid), len(dev)))
        top = ll.max(axis=(1, 2), keepdims=True)
        e = np.exp(ll - top) * wd
        marginal = e.sum(axis=2)
        expected[:, s, :] = (e * curve[None]).sum(axis=2) / marginal
        log_post += np.log(marginal) + top[:, :, 0]
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    return ((expected * share[None, :, None]).sum(axis=1) * post).sum(axis=1)


def oracle_table(m: ResponseMatrix, truth: Truth, sizes: list[int], seeds: list[int]) -> pl.DataFrame:
    """MAE of the Bayes oracle (true parameters, exact posterior) on the score design and on random subsets."""
    values = np.asarray(m.values, dtype=float)
    observed = values.mean(axis=1)
    rows = []
    for size in sizes:
        designs = [("bayes_design", bayes_design(truth, size))]
        designs += [("random", np.random.default_rng(seed).choice(m.n_items, size, replace=False)) for seed in seeds]
        for name in ("bayes_design", "random"):
            preds = [oracle_predictions(values, truth, pos) for d, pos in designs if d == name]
            rows.append(
                {
                    "selection": name,
                    "estimator": "oracle",
                    "size": size,
                    "MAE": float(np.mean([np.abs(p - observed).mean() for p in preds]) * 100),
                    "MAE_true": float(np.mean([np.abs(p - truth.score).mean() for p in preds]) * 100),
                }
            )
    return pl.DataFrame(rows)


class Pooled:
    """Metrics averaged over validations with different seeds (their predictions concatenated)."""

    def __init__(self, summary: pl.DataFrame, predictions: pl.DataFrame) -> None:
        self.summary = summary
        self.predictions = predictions


def pooled(runs: list) -> Pooled:
    if len(runs) == 1:
        return Pooled(runs[0].summary, runs[0].predictions)
    keys = ["selection", "estimator", "size"]
    metrics = ("mae", "mae_upper", "rmse", "bias", "spearman", "kendall", "coverage", "mean_width")
    summary = (
        pl.concat([r.summary for r in runs])
        .group_by(keys, maintain_order=True)
        .agg(pl.col("n_train").mean(), pl.col("n_test").sum(), *[pl.col(c).mean() for c in metrics])
    )
    predictions = pl.concat([r.predictions.with_columns(pl.lit(k).alias("run")) for k, r in enumerate(runs)])
    return Pooled(summary, predictions)


def table(res, truth: dict[str, float] | None) -> pl.DataFrame:
    s = res.summary
    base = s.filter((pl.col("selection") == "random") & (pl.col("estimator") == "mean")).select(
        "size", pl.col("mae").alias("_base")
    )
    out = s.join(base, on="size", how="left").with_columns(
        (pl.col("mae") * 100).alias("MAE"),
        (pl.col("rmse") * 100).alias("RMSE"),
        (pl.col("mean_width") * 100).alias("width"),
        (pl.col("mae") / pl.col("_base")).alias("vs_random"),
    )
    cols = ["selection", "estimator", "size", "MAE", "RMSE", "spearman", "kendall", "coverage", "width", "vs_random"]
    if truth is not None:
        pf = res.predictions.with_columns(pl.col("model").replace_strict(truth, return_dtype=pl.Float64).alias("_true"))
        true_mae = pf.group_by("selection", "estimator", "size").agg(
            ((pl.col("predicted") - pl.col("_true")).abs().mean() * 100).alias("MAE_true")
        )
        out = out.join(true_mae, on=["selection", "estimator", "size"], how="left")
        cols.insert(4, "MAE_true")
    return out.select(cols).sort("size", "selection", "estimator")


def targets(res, name: str) -> list[str]:
    s = res.summary.filter(pl.col("size") == 100)
    if s.height == 0:
        return [f"{name}: size 100 not run"]
    base = s.filter((pl.col("selection") == "random") & (pl.col("estimator") == "mean"))
    base_mae = base["mae"][0] if base.height else None
    lines = [f"{name} at 100 items (training models per fold: {s['n_train'][0]:.0f}):"]
    best = s.sort("mae").row(0, named=True)
    lines.append(
        f"  best MAE: {best['selection']}:{best['estimator']} {best['mae'] * 100:.2f} points "
        f"(target <= {TARGET_MAE}) -> {'met' if best['mae'] * 100 <= TARGET_MAE else 'MISSED'}; "
        f"its Spearman {best['spearman']:.3f} (target >= {TARGET_SPEARMAN}), coverage {best['coverage']:.3f}"
    )
    ok = s.filter((pl.col("mae") * 100 <= TARGET_MAE) & (pl.col("spearman") >= TARGET_SPEARMAN))
    lines.append(f"  methods meeting MAE and Spearman targets: {ok.height} of {s.height}")
    cov = s["coverage"].to_numpy()
    inside = int(np.sum((cov >= TARGET_COVERAGE[0]) & (cov <= TARGET_COVERAGE[1])))
    lines.append(
        f"  coverage within {TARGET_COVERAGE[0]:.2f}-{TARGET_COVERAGE[1]:.2f}: {inside} of {s.height} methods "
        f"(range {cov.min():.3f}-{cov.max():.3f})"
    )
    if base_mae is not None:
        irt = s.filter(pl.col("estimator").is_in(["irt", "pirt", "gpirt", "ability_regression"]))
        beat = irt.filter(pl.col("mae") < base_mae)
        lines.append(
            f"  IRT-based estimators with lower MAE than random:mean ({base_mae * 100:.2f}) on the same folds: "
            f"{beat.height} of {irt.height}"
        )
    return lines


def training_curve(args: argparse.Namespace, methods: list[str]) -> pl.DataFrame:
    """Held-out MAE at one subset size against the number of models in the simulation (80% train per fold)."""
    rows = []
    for n_models in args.model_counts:
        m, sim_truth = simulate(n_models, args.sim_items, 10, args.sim_subject_sd, 0, args.sim_log_slope_mean)
        t0 = time.perf_counter()
        for seed in args.seeds:
            res = validate_subset(
                m,
                [args.curve_size],
                methods,
                folds=args.folds,
                seed=seed,
                irt_model=args.irt_model,
                inner_folds=args.inner_folds,
            )
            rows.append(res.summary.with_columns(pl.lit(n_models).alias("n_models"), pl.lit(seed).alias("seed")))
        secs = time.perf_counter() - t0
        oracle = oracle_table(m, sim_truth, [args.curve_size], args.seeds)
        floor = oracle.filter(pl.col("selection") == "bayes_design")["MAE"][0]
        rows[-1] = rows[-1].with_columns(pl.lit(floor / 100).alias("oracle"), pl.lit(secs).alias("seconds"))
        print(f"[{n_models} models: {secs:.0f} s]", file=sys.stderr, flush=True)
    out = pl.concat(rows, how="diagonal")
    return (
        out.group_by("n_models", "selection", "estimator", maintain_order=True)
        .agg(
            pl.col("n_train").mean(),
            (pl.col("mae").mean() * 100).alias("MAE"),
            pl.col("spearman").mean(),
            pl.col("coverage").mean(),
            (pl.col("oracle").drop_nulls().first() * 100).alias("oracle_MAE"),
            pl.col("seconds").drop_nulls().first(),
        )
        .sort("n_models", "MAE")
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", nargs="+", default=["mmlu_pro", "sim"], choices=["mmlu_pro", "sim"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[25, 50, 100, 200, 400])
    ap.add_argument("--methods", nargs="+", default=None, help="selection:estimator pairs (default: all)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--inner-folds", type=int, default=5)
    ap.add_argument("--irt-model", default="auto")
    ap.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0],
        help="seeds of the folds and selections; with several, the metrics are averaged over them",
    )
    ap.add_argument("--sim-models", type=int, default=200)
    ap.add_argument("--sim-items", type=int, default=5000)
    ap.add_argument("--sim-subject-sd", type=float, default=0.3)
    ap.add_argument(
        "--sim-log-slope-mean",
        type=float,
        default=0.0,
        help="mean of log a (0: median slope 1; 0.5: items discriminate 1.65 times as sharply)",
    )
    ap.add_argument(
        "--model-counts",
        nargs="+",
        type=int,
        default=None,
        help="instead of the tables: held-out MAE at --curve-size items on the simulation against its number of models",
    )
    ap.add_argument("--curve-size", type=int, default=100)
    ap.add_argument("--out", type=Path, default=None, help="directory for the summary and prediction CSVs")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    methods = args.methods or [f"{s}:{e}" for s in SELECTIONS for e in ESTIMATORS]
    pl.Config.set_tbl_rows(-1)
    pl.Config.set_tbl_cols(-1)
    pl.Config.set_tbl_width_chars(200)
    pl.Config.set_float_precision(3)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    if args.model_counts:
        methods = args.methods or ["random:mean", "irt_info:gpirt", "irt_info:ability_regression", "anchor_irt:gpirt"]
        print(training_curve(args, methods))
        return
    report: list[str] = []
    t_all = time.perf_counter()
    for name in args.data:
        truth = None
        if name == "mmlu_pro":
            m = metabench.load(MMLU_PRO).matrix("mmlu_pro")
        else:
            m, sim_truth = simulate(
                args.sim_models, args.sim_items, 10, args.sim_subject_sd, 0, args.sim_log_slope_mean
            )
            truth = dict(zip(m.models, sim_truth.score.tolist()))
        t0 = time.perf_counter()
        runs = []
        for seed in args.seeds:

            def progress(msg: str, name: str = name, t0: float = t0, seed: int = seed) -> None:
                if not args.quiet:
                    print(f"[{name} seed {seed} {time.perf_counter() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

            res = validate_subset(
                m,
                args.sizes,
                methods,
                folds=args.folds,
                seed=seed,
                irt_model=args.irt_model,
                inner_folds=args.inner_folds,
                progress=progress,
            )
            runs.append(res)
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                res.summary.write_csv(args.out / f"subsets_{name}_seed{seed}_summary.csv")
                res.predictions.write_csv(args.out / f"subsets_{name}_seed{seed}_predictions.csv")
        secs = time.perf_counter() - t0
        print(
            f"\n## {name}: {m.n_models} models × {m.n_items} items, {runs[0].folds}-fold over models, "
            f"inner folds {args.inner_folds}, irt_model {args.irt_model}, seeds {args.seeds}: {secs:.0f} s\n"
        )
        both = pooled(runs)
        print(table(both, truth))
        report += targets(both, name)
        if truth is not None:
            floor = oracle_table(m, sim_truth, args.sizes, args.seeds)
            print(
                "\nBayes oracle (true item parameters and ability distribution, exact posterior mean; "
                "the floor of any estimator on these responses):\n"
            )
            print(floor)
            at100 = floor.filter((pl.col("size") == 100) & (pl.col("selection") == "bayes_design"))
            if at100.height:
                report.append(
                    f"  Bayes oracle at 100 items (score design): MAE {at100['MAE'][0]:.2f} against the observed "
                    f"full score, {at100['MAE_true'][0]:.2f} against the true one"
                )
    print("\n## targets (issue 6)\n")
    print("\n".join(report))
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
