"""Fit IRT response matrices with peer libraries, for comparison with metabench.

One function per peer, each with the same call and the same result::

    fit_girth(Y, model="2pl", timeout=300, python=None) -> dict
    fit_theta_irt(Y, ...)   # PyPI "theta-irt" (JAX)
    fit_mirt(Y, ...)        # PyPI "mirt" (Python + Rust; not R's mirt)
    fit_py_irt(Y, ...)      # PyPI "py-irt" (pyro, variational inference)

``Y`` is metabench's orientation: a float array of shape ``(n_models,
n_items)`` with 0/1 responses and NaN for missing. Each function converts it to
what its peer expects, runs the peer's default fit for ``model`` (see
:data:`CALLS`; nothing is tuned) and converts the estimates to metabench's
parameterisation::

    P_j(theta) = c_j + (d_j - c_j) * sigmoid(a_j * (theta - b_j))

The result is a dict with keys

``peer``, ``model``, ``version``, ``call``
    what ran (``call`` names the peer function and its arguments);
``a``, ``b``, ``c``, ``d``
    item parameters as float arrays of length ``n_items`` (``c`` = 0 and
    ``d`` = 1 where the model has no asymptote), or None on error;
``sigma``
    for ``"1pl"``: the ability standard deviation on metabench's Rasch scale
    (``a = 1``), else None;
``seconds``
    time of the peer's fit call alone (perf_counter in the child process; a
    JIT-compiling peer pays its compilation here, as a one-off user would);
``prep_seconds``
    time to build the peer's input from ``Y`` (e.g. py-irt's long table);
``wall_seconds``
    the whole subprocess: interpreter start, imports, conversion, fit;
``converged``, ``n_iter``
    as reported by the peer, None where it reports nothing;
``notes``
    how missing data and scaling were handled;
``error``
    None on success, else a short reason: ``"not installed"``, ``"did not
    finish in N s"``, ``"model not supported"``, or the peer's exception.

Each peer runs in its own subprocess, so a hung peer is stopped after
``timeout`` seconds and a peer that is not installed is reported, not raised.
The interpreter is ``python=``, else the environment variable
``METABENCH_PEERS_PYTHON``, else the current one: the peers can live in their
own virtual environment (see ``benchmarks/README.md``). The child needs only
numpy and the peer, and this file is its script, so keep the module's
top-level imports to the standard library and numpy.

Run as a script it prints a table of fit time and parameter recovery on
simulated 2PL data (see ``--help``)::

    METABENCH_PEERS_PYTHON=/path/to/peers-venv/bin/python \\
        python benchmarks/irt_peers.py --sizes 1000x100 1000x2000
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CALLS",
    "PEERS",
    "default_python",
    "fit_girth",
    "fit_mirt",
    "fit_peer",
    "fit_py_irt",
    "fit_theta_irt",
    "peer_versions",
]

#: peer name -> PyPI distribution name
PEERS: dict[str, str] = {
    "girth": "girth",
    "theta-irt": "theta-irt",
    "mirt": "mirt",
    "py-irt": "py-irt",
}

#: peer -> model -> the call made (``None``: the peer has no such model)
CALLS: dict[str, dict[str, str | None]] = {
    "girth": {
        "1pl": "girth.onepl_mml(X)",
        "2pl": "girth.twopl_mml(X)",
        "3pl": "girth.threepl_mml(X)",
        "4pl": None,
    },
    "theta-irt": {
        "1pl": 'theta.fit(Y, "1PL")',
        "2pl": 'theta.fit(Y, "2PL")',
        "3pl": 'theta.fit(Y, "3PL")',
        "4pl": 'theta.fit(Y, "4PL")',
    },
    "mirt": {
        "1pl": 'mirt.fit_mirt(Y, model="1PL")',
        "2pl": 'mirt.fit_mirt(Y, model="2PL")',
        "3pl": 'mirt.fit_mirt(Y, model="3PL")',
        "4pl": 'mirt.fit_mirt(Y, model="4PL")',
    },
    "py-irt": {
        "1pl": 'IrtModelTrainer(config=IrtConfig(model_type="1pl"), dataset=Dataset.from_pandas(df)).train()',
        "2pl": 'IrtModelTrainer(config=IrtConfig(model_type="2pl"), dataset=Dataset.from_pandas(df)).train()',
        "3pl": 'IrtModelTrainer(config=IrtConfig(model_type="3pl"), dataset=Dataset.from_pandas(df)).train()',
        # py-irt's "4pl" multiplies by an upper asymptote only (no lower one)
        "4pl": None,
    },
}

_MODELS = ("1pl", "2pl", "3pl", "4pl")
_CHILD_RUN_NAME = "__metabench_irt_peer_child__"


def default_python() -> str:
    """The interpreter the peers run under: ``$METABENCH_PEERS_PYTHON`` or this one."""
    return os.environ.get("METABENCH_PEERS_PYTHON") or sys.executable


def _empty_result(peer: str, model: str) -> dict[str, Any]:
    return {
        "peer": peer,
        "model": model,
        "version": None,
        "call": CALLS.get(peer, {}).get(model),
        "a": None,
        "b": None,
        "c": None,
        "d": None,
        "sigma": None,
        "seconds": None,
        "prep_seconds": None,
        "wall_seconds": None,
        "converged": None,
        "n_iter": None,
        "notes": "",
        "error": None,
    }


def _check_input(Y: Any) -> np.ndarray:
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 2:
        raise ValueError(f"Y must be 2-D (n_models, n_items), got shape {Y.shape}")
    obs = Y[~np.isnan(Y)]
    if obs.size == 0:
        raise ValueError("Y has no observed response")
    return Y


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def fit_peer(
    peer: str,
    Y: Any,
    model: str = "2pl",
    timeout: float = 300,
    python: str | None = None,
) -> dict[str, Any]:
    """Fit ``Y`` with one peer library in a subprocess.

    Parameters
    ----------
    peer : {"girth", "theta-irt", "mirt", "py-irt"}
        Which peer.
    Y : array_like, shape (n_models, n_items)
        0/1 responses, NaN for missing.
    model : {"1pl", "2pl", "3pl", "4pl"}, default "2pl"
        IRT model; see :data:`CALLS` for what each peer runs.
    timeout : float, default 300
        Seconds before the subprocess is killed and the result says
        ``"did not finish in N s"``.
    python : str, optional
        Interpreter with the peer installed; default :func:`default_python`.

    Returns
    -------
    dict
        See the module docstring. Never raises for a peer's failure: the
        reason is in ``error``.

    Raises
    ------
    ValueError
        If ``peer`` or ``model`` is unknown or ``Y`` is not a 2-D array.
    """
    if peer not in PEERS:
        raise ValueError(f"unknown peer {peer!r}; choose from {list(PEERS)}")
    model = model.lower()
    if model == "rasch":
        model = "1pl"
    if model not in _MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {list(_MODELS)}")
    Y = _check_input(Y)
    res = _empty_result(peer, model)
    if CALLS[peer][model] is None:
        res["error"] = "model not supported"
        return res
    obs = Y[~np.isnan(Y)]
    if not np.all((obs == 0) | (obs == 1)):
        res["error"] = "only 0/1 responses supported (scores in (0, 1) found)"
        return res

    python = python or default_python()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="irt-peer-") as tmp:
        tmp_path = Path(tmp)
        np.save(tmp_path / "Y.npy", Y)
        # run this file as the child's script; cwd is the empty temp dir so
        # nothing from the repository shadows a peer's imports
        code = (
            "import runpy, sys; "
            f"sys.argv = [{str(Path(__file__).resolve())!r}] + sys.argv[1:]; "
            f"runpy.run_path(sys.argv[0], run_name={_CHILD_RUN_NAME!r})"
        )
        cmd = [python, "-c", code, peer, model, str(tmp_path)]
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=tmp,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            res["error"] = f"cannot start {python}: {exc}"
            return res
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            res["wall_seconds"] = time.perf_counter() - t0
            res["error"] = f"did not finish in {timeout:g} s"
            return res
        res["wall_seconds"] = time.perf_counter() - t0
        meta_path = tmp_path / "meta.json"
        if not meta_path.exists():
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
            res["error"] = f"crashed ({how}): " + " | ".join(tail)
            return res
        meta = json.loads(meta_path.read_text())
        for key in (
            "version",
            "call",
            "seconds",
            "cold_seconds",
            "prep_seconds",
            "converged",
            "n_iter",
            "notes",
            "error",
            "sigma",
            "traceback",
        ):
            if key in meta:
                res[key] = meta[key]
        arrays_path = tmp_path / "params.npz"
        if res["error"] is None and arrays_path.exists():
            with np.load(arrays_path) as z:
                for key in ("a", "b", "c", "d"):
                    res[key] = np.asarray(z[key], dtype=float)
    return res


def fit_girth(Y: Any, model: str = "2pl", timeout: float = 300, python: str | None = None) -> dict[str, Any]:
    """Fit with girth (PyPI ``girth``): marginal maximum likelihood.

    ``Y`` is transposed to girth's items x persons and cast to int, missing
    cells become ``girth.INVALID_RESPONSE``. Calls ``girth.twopl_mml(X)``
    (``onepl_mml`` / ``threepl_mml`` for 1pl / 3pl) with default options;
    girth has no 4PL. girth's IRF is ``sigmoid(a (theta - b))`` with theta ~
    N(0, 1), metabench's form; for 1pl girth estimates one shared slope
    ``alpha``, which becomes ``sigma`` (``a = 1``, ``b = alpha * b_girth``).
    girth 0.8.0's ``threepl_mml`` fails under numpy 2 (a peer bug, reported as
    its error). See :func:`fit_peer` for the arguments.
    """
    return fit_peer("girth", Y, model=model, timeout=timeout, python=python)


def fit_theta_irt(Y: Any, model: str = "2pl", timeout: float = 300, python: str | None = None) -> dict[str, Any]:
    """Fit with theta (PyPI ``theta-irt``, JAX): MMLE-EM.

    ``Y`` is passed as is (persons x items, NaN = missing) to
    ``theta.fit(Y, "2PL")`` with default arguments. theta reports
    ``sigmoid(a (theta - b))`` with theta ~ N(0, 1); its 1PL estimates one
    shared slope ``alpha``, which becomes ``sigma`` (``a = 1``,
    ``b = alpha * b_theta``). Its 3PL/4PL put default Beta priors
    on the asymptotes. The time includes JAX's one-off compilation. See
    :func:`fit_peer` for the arguments.
    """
    return fit_peer("theta-irt", Y, model=model, timeout=timeout, python=python)


def fit_mirt(Y: Any, model: str = "2pl", timeout: float = 300, python: str | None = None) -> dict[str, Any]:
    """Fit with mirt for Python (PyPI ``mirt``, Rust backend): MML by EM.

    ``Y`` is passed as is (persons x items, NaN = missing) to
    ``mirt.fit_mirt(Y, model="2PL")`` with default arguments (21 quadrature
    points; standard errors are computed by default and are in the time).
    The IRF is ``sigmoid(a (theta - b))`` with theta ~ N(0, 1); its 1PL fixes
    ``a = 1`` *and* sd(theta) = 1, so ``sigma`` is 1. See :func:`fit_peer`.
    """
    return fit_peer("mirt", Y, model=model, timeout=timeout, python=python)


def fit_py_irt(Y: Any, model: str = "2pl", timeout: float = 300, python: str | None = None) -> dict[str, Any]:
    """Fit with py-irt (PyPI ``py-irt``, pyro): stochastic variational inference.

    ``Y`` becomes a pandas frame (persons x items) and
    ``py_irt.dataset.Dataset.from_pandas`` turns it into py-irt's long table,
    dropping NaN. Then ``IrtModelTrainer(config=IrtConfig(model_type="2pl"),
    dataset=...).train()`` runs with the defaults (2000 epochs of SVI, Adam
    lr 0.1, "vague" priors: b ~ N(0, 0.1), log a ~ N(0, 0.1), theta ~ N(0, 1));
    the estimates are the variational means ``last_params`` (what py-irt saves
    as parameters.json): ``diff`` and ``disc`` in ``sigmoid(disc (theta -
    diff))``. pyro's seed is set to 0. This is not marginal likelihood.
    py-irt's "3pl" has hierarchical priors only, which leave the ability scale
    free: its estimates are put on theta ~ N(0, 1) with the mean and sd of its
    fitted abilities. Its "4pl" has an upper asymptote only, so 4pl is
    reported unsupported. See :func:`fit_peer` for the arguments.
    """
    return fit_peer("py-irt", Y, model=model, timeout=timeout, python=python)


def peer_versions(python: str | None = None, timeout: float = 120) -> dict[str, str | None]:
    """Installed version of each peer under ``python`` (None if not installed)."""
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        f"for peer, dist in {PEERS!r}.items():\n"
        "    try:\n"
        "        out[peer] = m.version(dist)\n"
        "    except m.PackageNotFoundError:\n"
        "        out[peer] = None\n"
        "print(json.dumps(out))\n"
    )
    try:
        out = subprocess.run(
            [python or default_python(), "-c", code],
            capture_output=True,
            timeout=timeout,
            check=True,
            cwd=tempfile.gettempdir(),
        )
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        return {peer: None for peer in PEERS}


# ---------------------------------------------------------------------------
# child side: runs under the peers' interpreter; numpy and the peer only
# ---------------------------------------------------------------------------


def _dist_version(dist: str) -> str | None:
    import importlib.metadata as md

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _child_girth(Y: np.ndarray, model: str, meta: dict) -> dict:
    import girth

    t0 = time.perf_counter()
    X = np.where(np.isnan(Y), girth.INVALID_RESPONSE, Y).astype(int).T  # items x persons
    meta["prep_seconds"] = time.perf_counter() - t0
    fn = {"1pl": girth.onepl_mml, "2pl": girth.twopl_mml, "3pl": girth.threepl_mml}[model]
    t0 = time.perf_counter()
    res = fn(X)
    meta["seconds"] = time.perf_counter() - t0
    J = Y.shape[1]
    b = np.asarray(res["Difficulty"], dtype=float).reshape(J)
    out = {"b": b}
    if model == "1pl":
        # sigmoid(alpha (theta - b)), theta ~ N(0, 1) == sigmoid(theta' - alpha b), theta' ~ N(0, alpha^2)
        alpha = float(np.ravel(res["Discrimination"])[0])
        meta["sigma"] = alpha
        out["a"] = np.ones(J)
        out["b"] = alpha * b
    else:
        out["a"] = np.asarray(res["Discrimination"], dtype=float).reshape(J)
    if model == "3pl":
        out["c"] = np.asarray(res["Guessing"], dtype=float).reshape(J)
    meta["notes"] = "items x persons int matrix, missing = girth.INVALID_RESPONSE"
    return out


def _child_theta(Y: np.ndarray, model: str, meta: dict) -> dict:
    import os

    import theta

    meta["prep_seconds"] = 0.0
    t0 = time.perf_counter()
    m = theta.fit(Y, model.upper())
    a = np.asarray(m.a, dtype=float)  # device -> host: part of the fit
    meta["seconds"] = time.perf_counter() - t0
    warm = os.environ.get("METABENCH_PEER_WARM") == "1"
    if warm:
        # the same fit again in the same process: XLA's compilation for this shape is cached, so this
        # is theta's warm time (what a user fitting many matrices of one shape pays per fit)
        meta["cold_seconds"] = meta["seconds"]
        t0 = time.perf_counter()
        m = theta.fit(Y, model.upper())
        a = np.asarray(m.a, dtype=float)
        meta["seconds"] = time.perf_counter() - t0
    meta["converged"] = bool(m.converged)
    meta["n_iter"] = int(m.n_iter)
    out = {
        "a": a,
        "b": np.asarray(m.b, dtype=float),
        "c": np.asarray(m.c, dtype=float),
        "d": np.asarray(m.d, dtype=float),
    }
    if model == "1pl":
        # shared slope alpha on theta ~ N(0, 1) -> a = 1, b' = alpha b, sd(theta') = alpha
        alpha = float(np.ravel(a)[0])
        meta["sigma"] = alpha
        out["a"] = np.ones_like(a)
        out["b"] = alpha * out["b"]
    meta["notes"] = "persons x items float matrix, NaN = missing; " + (
        "time of a second, warm fit (JAX compilation cached)" if warm else "time includes JAX compilation"
    )
    return out


def _child_mirt(Y: np.ndarray, model: str, meta: dict) -> dict:
    import mirt

    meta["prep_seconds"] = 0.0
    t0 = time.perf_counter()
    r = mirt.fit_mirt(Y, model=model.upper())
    meta["seconds"] = time.perf_counter() - t0
    meta["converged"] = bool(r.converged)
    meta["n_iter"] = int(r.n_iterations)
    p = r.model.parameters
    out = {
        "a": np.asarray(p["discrimination"], dtype=float).ravel(),
        "b": np.asarray(p["difficulty"], dtype=float).ravel(),
    }
    if "guessing" in p:
        out["c"] = np.asarray(p["guessing"], dtype=float).ravel()
    if "upper" in p:
        out["d"] = np.asarray(p["upper"], dtype=float).ravel()
    if model == "1pl":
        meta["sigma"] = 1.0
    meta["notes"] = "persons x items float matrix, NaN = missing; default fit computes standard errors" + (
        "; 1PL fixes a = 1 and sd(theta) = 1" if model == "1pl" else ""
    )
    return out


def _child_py_irt(Y: np.ndarray, model: str, meta: dict) -> dict:
    import pandas as pd
    import pyro
    import torch
    from py_irt.config import IrtConfig
    from py_irt.dataset import Dataset
    from py_irt.training import IrtModelTrainer

    J = Y.shape[1]
    names = [f"item{j}" for j in range(J)]
    t0 = time.perf_counter()
    df = pd.DataFrame(Y, columns=names)
    dataset = Dataset.from_pandas(df)  # long table, NaN dropped
    meta["prep_seconds"] = time.perf_counter() - t0
    torch.manual_seed(0)
    pyro.set_rng_seed(0)
    t0 = time.perf_counter()
    trainer = IrtModelTrainer(data_path=None, config=IrtConfig(model_type=model), dataset=dataset, verbose=False)
    trainer.train()
    params = trainer.last_params
    meta["seconds"] = time.perf_counter() - t0
    meta["n_iter"] = int(trainer._epochs)
    # py-irt indexes items 0..J-1 in ix_to_item_id; map each index back to its column of Y
    ix_to_id = params["item_ids"]
    n = len(params["diff"])
    col_of_ix = np.array([int(str(ix_to_id[ix])[len("item") :]) for ix in range(n)])

    def _to_columns(values: Any) -> np.ndarray:
        col = np.full(J, np.nan)
        col[col_of_ix] = np.asarray(values, dtype=float)[:n]
        return col

    out: dict[str, np.ndarray] = {"b": _to_columns(params["diff"])}
    if model == "1pl":
        out["a"] = np.ones(J)
        meta["sigma"] = 1.0
    else:
        out["a"] = _to_columns(params["disc"])
    if model == "3pl":
        out["c"] = _to_columns(params["lambdas"])
        # py-irt's 3pl has only hierarchical priors, theta ~ N(mu_theta, 1 / u_theta) with
        # mu_theta and u_theta learned, so location and scale are free. Put it on theta ~ N(0, 1)
        # by standardising with the fitted abilities (mean-sigma on the persons).
        ability = np.asarray(params["ability"], dtype=float)
        mu, sd = float(ability.mean()), float(ability.std())
        out["a"] = out["a"] * sd
        out["b"] = (out["b"] - mu) / sd
        meta["notes"] = f"3pl: rescaled by the fitted abilities' mean {mu:.4g} and sd {sd:.4g} to theta ~ N(0, 1); "
    meta["notes"] = meta.get("notes", "") + (
        "long table from Dataset.from_pandas, NaN dropped; SVI variational means "
        "(not marginal likelihood), default 2000 epochs; pyro seed 0"
    )
    return out


_CHILD_FITS = {
    "girth": _child_girth,
    "theta-irt": _child_theta,
    "mirt": _child_mirt,
    "py-irt": _child_py_irt,
}


def _child_main(argv: list[str]) -> None:
    peer, model, folder = argv
    folder_p = Path(folder)
    meta: dict[str, Any] = {"version": _dist_version(PEERS[peer]), "call": CALLS[peer][model], "error": None}
    Y = np.load(folder_p / "Y.npy")
    J = Y.shape[1]
    try:
        out = _CHILD_FITS[peer](Y, model, meta)
    except ImportError as exc:
        meta["error"] = "not installed"
        meta["notes"] = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001  (the peer's own failure is a result, not a crash)
        meta["error"] = f"{type(exc).__name__}: {exc}".strip()[:500]
        meta["traceback"] = traceback.format_exc()[-4000:]
    else:
        out.setdefault("c", np.zeros(J))
        out.setdefault("d", np.ones(J))
        np.savez(folder_p / "params.npz", **{k: np.asarray(v, dtype=float) for k, v in out.items()})
    (folder_p / "meta.json").write_text(json.dumps(meta))


# ---------------------------------------------------------------------------
# command line: the peers' baseline table on simulated 2PL data
# ---------------------------------------------------------------------------


def _fmt(x: Any, spec: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return format(x, spec)


def main(argv: list[str] | None = None) -> int:
    """Print fit time and 2PL parameter recovery of every peer on simulated data."""
    import argparse

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import irt_sim

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--sizes", nargs="+", default=["1000x100", "1000x2000"], help="n_models x n_items, e.g. 1000x100")
    ap.add_argument("--missing", type=float, default=0.0, help="fraction missing at random")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="2pl", choices=["2pl"])
    ap.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--python", default=None, help="interpreter with the peers installed")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args(argv)

    rows = []
    header = (
        f"{'peer':<10} {'version':<8} {'size':>10} {'miss':>5} {'fit s':>8} "
        f"{'corr a':>7} {'slope a':>7} {'rmse a':>7} {'corr b':>7} {'slope b':>7} "
        f"{'rmse b':>7}  error"
    )
    print(header, flush=True)
    for size in args.sizes:
        n_models, n_items = (int(v) for v in size.lower().split("x"))
        sim = irt_sim.simulate_2pl(n_models, n_items, missing=args.missing, seed=args.seed)
        for peer in args.peers:
            r = fit_peer(peer, sim["Y"], model=args.model, timeout=args.timeout, python=args.python)
            ra = irt_sim.recovery(r["a"], sim["a"]) if r["a"] is not None else {}
            rb = irt_sim.recovery(r["b"], sim["b"]) if r["b"] is not None else {}
            row = {
                "peer": peer,
                "version": r["version"],
                "n_models": n_models,
                "n_items": n_items,
                "missing": args.missing,
                "seed": args.seed,
                "seconds": r["seconds"],
                "prep_seconds": r["prep_seconds"],
                "wall_seconds": r["wall_seconds"],
                "converged": r["converged"],
                "n_iter": r["n_iter"],
                "call": r["call"],
                "error": r["error"],
                "a": ra,
                "b": rb,
            }
            rows.append(row)
            print(
                f"{peer:<10} {r['version'] or '-':<8} {size:>10} {args.missing:>5.2f} "
                f"{_fmt(r['seconds'], '.2f'):>8} {_fmt(ra.get('corr')):>7} {_fmt(ra.get('slope')):>7} "
                f"{_fmt(ra.get('rmse')):>7} {_fmt(rb.get('corr')):>7} {_fmt(rb.get('slope')):>7} "
                f"{_fmt(rb.get('rmse')):>7}  {r['error'] or ''}",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == _CHILD_RUN_NAME:
    _child_main(sys.argv[1:])
elif __name__ == "__main__":
    raise SystemExit(main())
