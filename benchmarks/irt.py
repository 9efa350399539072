"""IRT: fit time, parameter recovery and prediction, metabench against peer libraries in one run.

Part 1 — recovery on simulated 2PL matrices with known truth (``irt_sim.simulate_2pl``,
a ~ lognormal(0, 0.3), b ~ N(0, 1), θ ~ N(0, 1)): fit seconds, and for a and b the
correlation with the truth, the least-squares slope of estimate on truth (1 = no
scale distortion) and the RMSE. metabench runs with its default priors and with flat
priors (``priors="none"``, pure marginal ML like the peers); peers run with their
defaults in their own interpreter (``METABENCH_PEERS_PYTHON``; see README.md), each
in a subprocess with a time limit. metabench's peak memory is measured in a child.

Part 2 — prediction of hidden cells: 10% of the observed cells of a matrix are
hidden, each model is fitted on the rest, abilities are scored (EAP, by metabench for
every library, so only the item parameters differ) and the hidden cells are predicted;
lower log-loss is better. On the bundled MMLU-Pro runs (29 models × 12,032 items) and
on a simulated 4-dimensional matrix (5,000 models × 249 items).

Usage::

    python benchmarks/irt.py                       # everything (peers if installed)
    python benchmarks/irt.py --sizes 1000x100 1000x2000 --peer-timeout 120
    python benchmarks/irt.py --skip-recovery       # prediction only

Part 3 (only with ``--grid``, which replaces parts 1 and 2) — a grid of simulated 2PL
settings with known truth (``irt_sim.simulate_grid_2pl``): slope spread (a ~
lognormal(0, sdlog), sdlog 0.2 / 0.4 / 0.6), mean difficulty (b ~ N(mean, 1.1^2), mean
-1.5 / 0 / +1.5), ability shape (normal / skewed / bimodal, each mean 0 and sd 1),
missingness (none / 30% at random / 50% not at random, skips rising with b - theta) and
size (300 × 500 to 5,000 × 10,000). ``quick`` varies one factor at a time around the base
point 1,000 × 2,000, sdlog 0.4, mean 0, normal, no missing, plus the sizes 300 × 500,
2,000 × 4,000 and 5,000 × 10,000; ``full`` crosses the four factors at 1,200 × 2,500 (81
points) plus the size sweep. Each point's seed comes from its settings
(``irt_sim.seed_from_label``), not from its place in the loop. Per point and library: converged,
iterations, fit seconds, metabench's peak memory, the least-squares slope of estimate on
truth and the correlation for a and b, and the time ratio metabench / theta-irt; the
worst cells are printed at the end::

    python benchmarks/irt.py --grid quick                  # peers: theta-irt, mirt if installed
    python benchmarks/irt.py --grid full --peer-timeout 120
    python benchmarks/irt.py --grid quick --grid-only base "sdlog 0.2" --max-size 2000x4000
    python benchmarks/irt.py --grid quick --grid-list      # the points, without fitting
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from irt_peers import PEERS, default_python, fit_peer, peer_versions
from irt_sim import recovery, seed_from_label, simulate_2pl, simulate_grid_2pl, simulate_mirt

AUTO_BENCH = ("1pl", "2pl", "mirt2", "mirt3", "mirt4")
"""Candidates of ``model="auto"`` in the prediction comparison (the same for every matrix)."""

CHILD = r"""
import json, sys, time
import numpy as np
from metabench.irt import IRT
Y = np.load(sys.argv[1])
priors = sys.argv[2]
kwargs = {} if priors == "unset" else {"priors": priors}
t = time.perf_counter()
m = IRT(model="2pl", **kwargs).fit(Y)
dt = time.perf_counter() - t
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) / 1024
np.savez(sys.argv[3], a=m.discrimination_, b=m.difficulty_)
print(json.dumps({"seconds": dt, "peak_mib": hwm, "n_iter": m.n_iter_, "converged": bool(m.converged_), "step": m.newton_step_}))
"""


def _metabench_child(Y: np.ndarray, priors: str, tmp: Path) -> dict:
    np.save(tmp / "Y.npy", Y)
    out = tmp / "est.npz"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp / "Y.npy"), priors, str(out)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:100]}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    est = np.load(out)
    res["a"], res["b"] = est["a"], est["b"]
    return res


def _row(name: str, res: dict, truth: dict) -> str:
    if res.get("error"):
        return f"| {name} | — | — | — | — | — | — | — | — | {res['error']} |"
    ra, rb = recovery(res["a"], truth["a"]), recovery(res["b"], truth["b"])
    extra = f"peak {res['peak_mib']:.0f} MiB" if "peak_mib" in res else ""
    return (
        f"| {name} | {res['seconds']:.1f} | {ra['corr']:.3f} | {ra['slope']:.3f} | {ra['rmse']:.3f} "
        f"| {rb['corr']:.3f} | {rb['slope']:.3f} | {rb['rmse']:.3f} | {extra} |"
    )


def recovery_table(sizes: list[str], peers: list[str], timeout: float, python: str, a_dist: str = "lognormal(0,0.3)") -> None:
    import tempfile

    print(f"## Parameter recovery, 2PL, a ~ {a_dist} (slope = least-squares slope of estimate on truth)\n")
    print("| library | seconds | corr a | slope a | RMSE a | corr b | slope b | RMSE b | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        miss = 0.0
        if "m" in size:
            size, pct = size.split("m")
            miss = float(pct) / 100
        n, j = (int(x) for x in size.split("x"))
        sim = simulate_2pl(n, j, missing=miss, seed=0, a_dist=a_dist)
        print(f"| **{n:,} × {j:,}{f', {miss:.0%} missing' if miss else ''}** | | | | | | | | |")
        with tempfile.TemporaryDirectory() as d:
            for priors in ("default", "none"):
                res = _metabench_child(sim["Y"], priors, Path(d))
                print(_row(f"metabench (priors={priors})", res, sim), flush=True)
        for peer in peers:
            res = fit_peer(peer, sim["Y"], model="2pl", timeout=timeout, python=python)
            if res.get("error") is None and res.get("a") is not None:
                res["a"], res["b"] = np.asarray(res["a"], float), np.asarray(res["b"], float)
                print(_row(peer, res, sim), flush=True)
            else:
                print(f"| {peer} | — | — | — | — | — | — | — | — | {res.get('error')} |", flush=True)
    print()


def _logloss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def prediction_table(
    name: str,
    Y: np.ndarray,
    peers: list[str],
    timeout: float,
    python: str,
    seed: int = 0,
    fits: list[tuple[str, dict]] | None = None,
) -> None:
    from metabench.irt import IRT
    from metabench.irt.estimate import ItemParams
    from metabench.irt.models import model_spec
    from metabench.irt.scoring import score_abilities

    rng = np.random.default_rng(seed)
    obs = np.argwhere(~np.isnan(Y))
    pick = obs[rng.choice(len(obs), size=int(0.1 * len(obs)), replace=False)]
    train = Y.copy()
    train[pick[:, 0], pick[:, 1]] = np.nan
    keep_items = ~np.isnan(train).all(axis=0)
    train, full = train[:, keep_items], Y[:, keep_items]
    hidden = np.zeros_like(full, dtype=bool)
    col = np.cumsum(keep_items) - 1
    ok = keep_items[pick[:, 1]]
    hidden[pick[ok, 0], col[pick[ok, 1]]] = True
    truth = full[hidden]
    print(f"## Prediction of hidden cells: {name} ({Y.shape[0]:,} × {Y.shape[1]:,}, {hidden.sum():,} cells hidden)\n")
    print("| fit | held-out log-loss | vs metabench 2pl | seconds | notes |")
    print("|---|---|---|---|---|")
    rows = []
    auto = {"model": "auto", "candidates": AUTO_BENCH}
    fits = fits or [("metabench 2pl", {"model": "2pl"}), ("metabench auto", auto)]
    for label, kwargs in fits:
        t = time.perf_counter()
        m = IRT(**kwargs).fit(train)
        dt = time.perf_counter() - t
        loss = _logloss(m.predict_proba(train)[hidden], truth)
        note = f"chose {m.model_}" if kwargs["model"] == "auto" else ""
        if kwargs["model"] != "auto":
            note = f"{m.n_iter_} iterations" + ("" if m.converged_ else f", **not converged** (Newton step {m.newton_step_:.2g})")
        rows.append((label, loss, dt, note))
    base = next((r[1] for r in rows if r[0] == "metabench 2pl"), rows[0][1])
    for peer in peers:
        res = fit_peer(peer, train, model="2pl", timeout=timeout, python=python)
        if res.get("error") is not None or res.get("a") is None:
            rows.append((f"{peer} 2pl", float("nan"), float("nan"), str(res.get("error"))))
            continue
        a, b = np.asarray(res["a"], float), np.asarray(res["b"], float)
        params = ItemParams(a[:, None], -a * b)
        theta, _ = score_abilities(train, params, model_spec("2pl"))
        p = 1 / (1 + np.exp(-(theta @ params.slopes.T + params.intercepts)))
        rows.append((f"{peer} 2pl (EAP by metabench)", _logloss(p[hidden], truth), float(res["seconds"]), ""))
    for label, loss, dt, note in rows:
        rel = f"{(loss - base) / base:+.1%}" if np.isfinite(loss) else "—"
        secs = f"{dt:.1f}" if np.isfinite(dt) else "—"
        print(f"| {label} | {loss:.4f} | {rel} | {secs} | {note} |", flush=True)
    print()


def openllm_table(folder: Path, peers: list[str] | None, timeout: float, python: str) -> None:
    """Held-out log-loss (10% of cells hidden) on real Open LLM Leaderboard responses: 1PL, 2PL, 3PL and
    auto (default candidates) against theta-irt's 2PL, with fit times, one table per benchmark."""
    import polars as pl

    peers = ["theta-irt"] if peers is None else peers
    if peers and not (os.environ.get("METABENCH_PEERS_PYTHON") or python != sys.executable):
        peers = []
    os.environ.setdefault("METABENCH_PEER_WARM", "1")
    fits = [(f"metabench {m}", {"model": m}) for m in ("1pl", "2pl", "3pl")] + [("metabench auto", {"model": "auto"})]
    for bench in ("truthfulqa", "winogrande"):
        path = folder / f"{bench}_runs.parquet"
        if not path.exists():
            print(f"({path} not found: skipped)\n")
            continue
        wide = pl.read_parquet(path).pivot(on="item", index="model", values="score").sort("model")
        Y = wide.drop("model").to_numpy().astype(float)
        prediction_table(f"Open LLM Leaderboard {bench} (real)", Y, peers, timeout, python, fits=fits)


# ---------------------------------------------------------------------------
# Part 3: the settings grid (--grid quick|full)
# ---------------------------------------------------------------------------

GRID_BASE = {"n": 1000, "j": 2000, "sdlog": 0.4, "b_mean": 0.0, "ability": "normal", "missing": "none"}
GRID_SDLOG = (0.2, 0.4, 0.6)
GRID_B_MEAN = (-1.5, 0.0, 1.5)
GRID_ABILITY = ("normal", "skewed", "bimodal")
GRID_MISSING = ("none", "mcar30", "mnar50")
GRID_SIZES = ((300, 500), (1000, 2000), (2000, 4000), (5000, 10000))
GRID_FULL_SIZE = (1200, 2500)
GRID_PEERS = ("theta-irt", "mirt")
"""Peers of the grid by default (girth and py-irt do not finish 1,000 × 2,000 in 300 s)."""


def grid_key(pt: dict) -> str:
    """The canonical description of a grid point; its seed is derived from this text."""
    return (
        f"2pl n={pt['n']} j={pt['j']} sdlog={pt['sdlog']:g} bmean={pt['b_mean']:+g} "
        f"ability={pt['ability']} missing={pt['missing']}"
    )


def grid_points(kind: str) -> list[dict]:
    """The points of the ``quick`` (one factor at a time) or ``full`` (crossed) grid, each with a ``label``."""
    pts: list[dict] = []
    if kind == "quick":
        pts.append({**GRID_BASE, "n": 300, "j": 500, "label": "size 300x500"})
        pts.append({**GRID_BASE, "label": "base"})
        pts += [{**GRID_BASE, "sdlog": v, "label": f"sdlog {v:g}"} for v in GRID_SDLOG if v != GRID_BASE["sdlog"]]
        pts += [{**GRID_BASE, "b_mean": v, "label": f"b mean {v:+g}"} for v in GRID_B_MEAN if v != GRID_BASE["b_mean"]]
        pts += [{**GRID_BASE, "ability": v, "label": f"ability {v}"} for v in GRID_ABILITY if v != GRID_BASE["ability"]]
        pts += [{**GRID_BASE, "missing": v, "label": f"missing {v}"} for v in GRID_MISSING if v != GRID_BASE["missing"]]
        pts += [{**GRID_BASE, "n": n, "j": j, "label": f"size {n}x{j}"} for n, j in ((2000, 4000), (5000, 10000))]
    elif kind == "full":
        n, j = GRID_FULL_SIZE
        for sd in GRID_SDLOG:
            for bm in GRID_B_MEAN:
                for ab in GRID_ABILITY:
                    for mi in GRID_MISSING:
                        label = f"sd{sd:g} b{bm:+g} {ab} {mi}"
                        pts.append(
                            {"n": n, "j": j, "sdlog": sd, "b_mean": bm, "ability": ab, "missing": mi, "label": label}
                        )
        pts += [{**GRID_BASE, "n": n, "j": j, "label": f"size {n}x{j}"} for n, j in GRID_SIZES]
    else:
        raise ValueError(f"unknown grid {kind!r}; use 'quick' or 'full'")
    for pt in pts:
        pt["key"] = grid_key(pt)
        pt["seed"] = seed_from_label(pt["key"])
    return pts


def _cells(size: str) -> int:
    n, j = (int(x) for x in size.lower().split("x"))
    return n * j


def _f(x, spec: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    return format(x, spec)


def _grid_result(lib: str, res: dict, sim: dict) -> dict:
    """One library's result on one grid point: times, convergence and recovery of a and b."""
    row = {
        "library": lib,
        "error": res.get("error"),
        "seconds": res.get("seconds"),
        "peak_mib": res.get("peak_mib"),
        "converged": res.get("converged"),
        "n_iter": res.get("n_iter"),
    }
    if row["error"] is None and res.get("a") is not None and res.get("b") is not None:
        ra = recovery(np.asarray(res["a"], float), sim["a"])
        rb = recovery(np.asarray(res["b"], float), sim["b"])
        row.update({"slope_a": ra["slope"], "corr_a": ra["corr"], "slope_b": rb["slope"], "corr_b": rb["corr"]})
        row.update({"rmse_a": ra["rmse"], "rmse_b": rb["rmse"]})
        # The N(0, 1) convention fixes the population's scale; the simulated sample's abilities have their
        # own mean and sd (sd 1 ± 1/sqrt(2N)), which moves every estimator's slopes alike. Against the truth
        # put on the sample's scale (a·sd, (b - mean)/sd) that part is taken out.
        mu, sd = float(np.mean(sim["theta"])), float(np.std(sim["theta"]))
        row["slope_a_sample"] = recovery(np.asarray(res["a"], float), sim["a"] * sd)["slope"]
        row["slope_b_sample"] = recovery(np.asarray(res["b"], float), (sim["b"] - mu) / sd)["slope"]
    if res.get("step") is not None:
        row["step"] = res["step"]
    if res.get("cold_seconds") is not None:
        row["cold_seconds"] = res["cold_seconds"]
    return row


GRID_HEADER = (
    "| setting | size | library | converged | iter | Newton step | seconds | peak MiB | slope a | corr a | slope b | corr b "
    "| slope a, b (sample scale) | time metabench / theta-irt | notes |"
)


def _grid_line(pt: dict, row: dict, ratio: float | None) -> str:
    size = f"{pt['n']:,} × {pt['j']:,}"
    if row["error"] is not None:
        return f"| {pt['label']} | {size} | {row['library']} |" + " — |" * 12 + f" {row['error']} |"
    conv = "—" if row["converged"] is None else ("yes" if row["converged"] else "**no**")
    note = pt.get("note", "")
    if row.get("cold_seconds") is not None:
        note = (note + "; " if note else "") + f"cold fit {row['cold_seconds']:.1f} s"
    sample = f"{_f(row.get('slope_a_sample'))}, {_f(row.get('slope_b_sample'))}"
    return (
        f"| {pt['label']} | {size} | {row['library']} | {conv} | {_f(row['n_iter'], 'd')} | {_f(row.get('step'), '.1e')} "
        f"| {_f(row['seconds'], '.1f')} | {_f(row['peak_mib'], '.0f')} | {_f(row.get('slope_a'))} | {_f(row.get('corr_a'))} "
        f"| {_f(row.get('slope_b'))} | {_f(row.get('corr_b'))} | {sample} | {_f(ratio, '.2f')} | {note} |"
    )


def grid_table(pts: list[dict], peers: list[str], timeout: float, python: str) -> list[dict]:
    """Fit every grid point with metabench (child process, peak memory) and the peers; print a row each."""
    import tempfile

    print("## Settings grid: 2PL recovery and time (slope = least-squares slope of estimate on truth)\n")
    # theta-irt compiles with XLA on its first fit of each shape; its time here is a second fit in the same
    # process (warm), the cold time is in the notes
    os.environ.setdefault("METABENCH_PEER_WARM", "1")
    print(GRID_HEADER)
    print("|" + "---|" * GRID_HEADER.count(" | ") + "---|")
    results = []
    for pt in pts:
        rng = np.random.default_rng(pt["seed"])
        sim = simulate_grid_2pl(
            pt["n"],
            pt["j"],
            sdlog=pt["sdlog"],
            b_mean=pt["b_mean"],
            ability=pt["ability"],
            missing=pt["missing"],
            rng=rng,
        )
        pt["missing_rate"] = sim["missing_rate"]
        pt["note"] = f"{sim['missing_rate']:.0%} missing" if sim["missing_rate"] > 0 else ""
        with tempfile.TemporaryDirectory() as d:
            mb = _grid_result("metabench", _metabench_child(sim["Y"], "unset", Path(d)), sim)
        rows = [mb]
        for peer in peers:
            res = fit_peer(peer, sim["Y"], model="2pl", timeout=timeout, python=python)
            rows.append(_grid_result(peer, res, sim))
        theta = next((r for r in rows if r["library"] == "theta-irt"), None)
        ratio = None
        if theta is not None and theta["error"] is None and mb["error"] is None and theta["seconds"]:
            ratio = mb["seconds"] / theta["seconds"]
        elif theta is not None and mb["error"] is None and str(theta["error"]).startswith("did not finish"):
            pt["note"] = (pt["note"] + "; " if pt["note"] else "") + f"ratio < {mb['seconds'] / timeout:.2f}"
        for r in rows:
            print(_grid_line(pt, r, ratio if r is mb else None), flush=True)
        results.append({"point": {k: v for k, v in pt.items()}, "rows": rows, "ratio": ratio})
    print()
    grid_worst(results)
    return results


def grid_worst(results: list[dict]) -> None:
    """Print the worst cells: longest time ratio, largest |slope - 1| per library, unconverged and failed fits."""
    print("## Worst cells\n")
    with_ratio = [r for r in results if r["ratio"] is not None]
    if with_ratio:
        w = max(with_ratio, key=lambda r: r["ratio"])
        mb = w["rows"][0]
        th = next(x for x in w["rows"] if x["library"] == "theta-irt")
        print(
            f"- longest time ratio metabench / theta-irt: {w['ratio']:.2f} at {w['point']['label']} "
            f"({w['point']['n']:,} × {w['point']['j']:,}; {mb['seconds']:.1f} s against {th['seconds']:.1f} s)"
        )
    else:
        print("- longest time ratio: — (no point with both metabench and theta-irt finished)")
    libs = list(dict.fromkeys(x["library"] for r in results for x in r["rows"]))
    for lib in libs:
        for par in ("a", "b", "a_sample", "b_sample"):
            cand = [
                (abs(x[f"slope_{par}"] - 1), r["point"]["label"], x[f"slope_{par}"], x[f"corr_{par[0]}"])
                for r in results
                for x in r["rows"]
                if x["library"] == lib and np.isfinite(x.get(f"slope_{par}", np.nan))
            ]
            if cand:
                dev, label, slope, corr = max(cand)
                name = par.replace("_sample", " (sample scale)")
                print(f"- {lib}: largest |slope {name} - 1| = {dev:.3f} at {label} (slope {slope:.3f}, corr {corr:.3f})")
    rows = [(x, r["point"]["label"]) for r in results for x in r["rows"]]
    bad = [f"{x['library']} at {label}" for x, label in rows if x["error"] is None and x["converged"] is False]
    print("- not converged: " + (", ".join(bad) if bad else "none"))
    err = [f"{x['library']} at {label} ({x['error']})" for x, label in rows if x["error"] is not None]
    print("- failed or timed out: " + ("; ".join(err) if err else "none"))
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["1000x100", "1000x2000", "1000x2000m30", "5000x10000"])
    ap.add_argument(
        "--peers",
        nargs="*",
        default=None,
        help=f"peer libraries (default: all of {list(PEERS)}; with --grid: the installed ones of {list(GRID_PEERS)})",
    )
    ap.add_argument("--peer-timeout", type=float, default=300)
    ap.add_argument("--skip-recovery", action="store_true")
    ap.add_argument(
        "--a-dist",
        default="lognormal(0,0.3)",
        help="distribution of true discriminations; with lognormal(0,0.3) their spread is small against the "
        "sampling error of 1,000 models, which caps corr(a) near 0.96 for every estimator",
    )
    ap.add_argument("--skip-prediction", action="store_true")
    ap.add_argument("--skip-mmlu", action="store_true", help="skip the MMLU-Pro prediction comparison")
    ap.add_argument(
        "--openllm",
        nargs="?",
        const=str(ROOT.parent / "shared" / "data" / "openllm"),
        default=None,
        metavar="DIR",
        help="instead of parts 1 and 2: held-out log-loss of 1PL, 2PL, 3PL and auto against theta-irt's 2PL on the "
        "Open LLM Leaderboard responses in DIR (truthfulqa_runs.parquet, winogrande_runs.parquet; CC BY-NC-SA 4.0, "
        "see that folder's README); default DIR: ../shared/data/openllm beside the repository",
    )
    ap.add_argument(
        "--structures",
        nargs="+",
        default=["full", "simple"],
        help="loading structures of the simulated 4-dimensional matrix: 'full' (every item loads on every "
        "dimension, positively: close to one general factor) and 'simple' (each item on one dimension)",
    )
    ap.add_argument(
        "--grid",
        nargs="?",
        const="quick",
        choices=["quick", "full"],
        default=None,
        help="run the settings grid (part 3) instead of parts 1 and 2: 'quick' (one factor at a time) or 'full'",
    )
    ap.add_argument(
        "--grid-only", nargs="+", default=None, metavar="LABEL", help="run only the grid points with these labels"
    )
    ap.add_argument("--max-size", default=None, metavar="NxJ", help="skip grid points with more cells than NxJ")
    ap.add_argument("--grid-list", action="store_true", help="print the grid points and their seeds, fit nothing")
    ap.add_argument("--grid-json", default=None, metavar="PATH", help="also write the grid results to this JSON file")
    args = ap.parse_args()
    python = default_python()
    if args.grid:
        pts = grid_points(args.grid)
        if args.grid_only:
            unknown = set(args.grid_only) - {p["label"] for p in pts}
            if unknown:
                ap.error(f"unknown grid labels {sorted(unknown)}; see --grid-list")
            pts = [p for p in pts if p["label"] in args.grid_only]
        if args.max_size:
            pts = [p for p in pts if p["n"] * p["j"] <= _cells(args.max_size)]
        if args.grid_list:
            for p in pts:
                print(f"{p['label']!r:24} seed {p['seed']:>20}  {p['key']}")
            return
        peers = list(GRID_PEERS) if args.peers is None else args.peers
        if peers and not (os.environ.get("METABENCH_PEERS_PYTHON") or python != sys.executable):
            peers = []
        versions = peer_versions(python) if peers else {}
        missing_peers = [p for p in peers if not versions.get(p)]
        peers = [p for p in peers if versions.get(p)]
        if missing_peers:
            print(f"(not installed under {python}, left out: {', '.join(missing_peers)})\n")
        if not peers:
            print("(no peer libraries: set METABENCH_PEERS_PYTHON, see benchmarks/README.md; no time ratio)\n")
        else:
            print("peers: " + ", ".join(f"{p} {versions[p]}" for p in peers) + f" (timeout {args.peer_timeout:g} s)\n")
        results = grid_table(pts, peers, args.peer_timeout, python)
        if args.grid_json:
            Path(args.grid_json).write_text(json.dumps(results, indent=1, default=float))
        return
    if args.openllm:
        openllm_table(Path(args.openllm), args.peers, args.peer_timeout, python)
        return
    peers = list(PEERS) if args.peers is None else args.peers
    peers = peers if os.environ.get("METABENCH_PEERS_PYTHON") or python != sys.executable else []
    if not peers:
        print("(peer libraries not configured: set METABENCH_PEERS_PYTHON, see benchmarks/README.md)\n")
    if not args.skip_recovery:
        recovery_table(args.sizes, peers, args.peer_timeout, python, args.a_dist)
    if not args.skip_prediction:
        import metabench

        pred_peers = [p for p in peers if p in ("theta_irt", "theta-irt")] or peers[:1]
        if not args.skip_mmlu:
            runs = metabench.load(ROOT / "data" / "runs" / "mmlu_pro.parquet")
            prediction_table("MMLU-Pro (bundled, real)", runs.matrix("mmlu_pro").values, pred_peers, args.peer_timeout, python)
        for structure in args.structures:
            sim = simulate_mirt(5000, 249, dims=4, seed=0, structure=structure)
            label = f"simulated 4-dimensional 2PL, {structure} loadings"
            prediction_table(label, sim["Y"], pred_peers, args.peer_timeout, python)


if __name__ == "__main__":
    main()
