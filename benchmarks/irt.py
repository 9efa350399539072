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

from irt_peers import PEERS, default_python, fit_peer  # noqa: E402
from irt_sim import recovery, simulate_2pl, simulate_mirt  # noqa: E402

AUTO_BENCH = ("1pl", "2pl", "mirt2", "mirt3", "mirt4")
"""Candidates of ``model="auto"`` in the prediction comparison (the same for every matrix)."""

CHILD = r"""
import json, sys, time
import numpy as np
from metabench.irt import IRT
Y = np.load(sys.argv[1])
priors = sys.argv[2]
t = time.perf_counter()
m = IRT(model="2pl", priors=priors).fit(Y)
dt = time.perf_counter() - t
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) / 1024
np.savez(sys.argv[3], a=m.discrimination_, b=m.difficulty_)
print(json.dumps({"seconds": dt, "peak_mib": hwm, "n_iter": m.n_iter_, "converged": bool(m.converged_)}))
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


def prediction_table(name: str, Y: np.ndarray, peers: list[str], timeout: float, python: str, seed: int = 0) -> None:
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
    for label, kwargs in [("metabench 2pl", {"model": "2pl"}), ("metabench auto", auto)]:
        t = time.perf_counter()
        m = IRT(**kwargs).fit(train)
        dt = time.perf_counter() - t
        loss = _logloss(m.predict_proba(train)[hidden], truth)
        note = f"chose {m.model_}" if kwargs["model"] == "auto" else ""
        rows.append((label, loss, dt, note))
    base = rows[0][1]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["1000x100", "1000x2000", "1000x2000m30", "5000x10000"])
    ap.add_argument("--peers", nargs="*", default=list(PEERS))
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
        "--structures",
        nargs="+",
        default=["full", "simple"],
        help="loading structures of the simulated 4-dimensional matrix: 'full' (every item loads on every "
        "dimension, positively: close to one general factor) and 'simple' (each item on one dimension)",
    )
    args = ap.parse_args()
    python = default_python()
    peers = args.peers if os.environ.get("METABENCH_PEERS_PYTHON") or python != sys.executable else []
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
