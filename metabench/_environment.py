"""The software environment a result is made in: Python, platform, metabench and its numerical stack.

:func:`environment` is recorded in every report's provenance and printed by
``metabench --version --verbose``. Nothing is collected at import; a call reads package
metadata (without importing the packages), asks git about the checkout metabench runs from,
and asks the loaded BLAS libraries for their version and threads.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "describe", "environment", "git_state"]

PACKAGES = ("numpy", "scipy", "polars", "pandas", "pyarrow", "statsmodels", "scikit-learn")
"""The distributions whose versions are always recorded (``None`` where not installed)."""

_LOADED_ONLY = {"torch": "torch"}
"""Distributions recorded only when their module is already imported (distribution -> module)."""

_GIT_TIMEOUT_S = 5.0


def environment() -> dict[str, Any]:
    """The environment of this process, as a JSON-serialisable dict.

    Returns
    -------
    dict
        ``python`` (version), ``python_implementation`` (e.g. ``"CPython"``), ``platform``
        (:func:`platform.platform`), ``machine`` (e.g. ``"x86_64"``), ``metabench`` (version),
        ``git_commit`` and ``git_dirty`` (``None`` unless metabench is imported from a git
        checkout), ``packages`` (distribution -> version, ``None`` where not installed: the
        numerical stack in :data:`PACKAGES`, and torch only when it is loaded) and ``blas``
        (one dict per loaded BLAS library: ``library``, ``prefix``, ``version``,
        ``threading_layer``, ``num_threads``).

    Examples
    --------
    >>> import importlib.metadata
    >>> env = environment()
    >>> env["packages"]["numpy"] == importlib.metadata.version("numpy")
    True
    >>> sorted(env)
    ['blas', 'git_commit', 'git_dirty', 'machine', 'metabench', 'packages', 'platform',
     'python', 'python_implementation']
    """
    from metabench._version import __version__

    commit, dirty = git_state()
    packages = {name: _version(name) for name in PACKAGES}
    for dist, module in _LOADED_ONLY.items():
        if module in sys.modules:
            packages[dist] = _version(dist)
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "metabench": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "packages": packages,
        "blas": _blas(),
    }


def git_state(root: str | Path | None = None) -> tuple[str | None, bool | None]:
    """The commit and dirtiness of the git checkout that metabench is imported from.

    Parameters
    ----------
    root : str or Path, optional
        The folder to ask about; defaults to the one above the ``metabench`` package. Only a
        folder that is the top of a git checkout (it holds ``.git``) counts, so that an
        installed copy inside some other repository does not report that repository's commit.

    Returns
    -------
    tuple of (str or None, bool or None)
        The full commit hash and whether tracked files differ from it; ``(None, None)``
        where there is no checkout, git is missing, or git fails or takes too long.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     git_state(folder)
    (None, None)
    """
    top = Path(__file__).resolve().parent.parent if root is None else Path(root)
    if not (top / ".git").exists():
        return None, None
    commit = _git(top, "rev-parse", "--verify", "HEAD")
    if commit is None:
        return None, None
    status = _git(top, "status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)


def describe(env: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The environment as short labelled lines of plain text, for reports and ``metabench --version -v``.

    Parameters
    ----------
    env : dict
        An :func:`environment` dict, possibly from a report written by another metabench
        version: missing keys are left out and unknown ones shown as they are.

    Returns
    -------
    list of (str, str)
        ``(label, text)`` pairs; empty for an empty dict (reports written before the
        environment was recorded).

    Examples
    --------
    >>> env = {"python": "3.11.7", "python_implementation": "CPython", "platform": "Linux-6.1-x86_64",
    ...        "machine": "x86_64", "metabench": "0.1.0", "git_commit": "0123abc", "git_dirty": True,
    ...        "packages": {"numpy": "2.4.6", "pyarrow": None},
    ...        "blas": [{"library": "openblas", "prefix": "libscipy_openblas", "version": "0.3.30",
    ...                  "threading_layer": "pthreads", "num_threads": 2}]}
    >>> for label, text in describe(env):
    ...     print(f"{label}: {text}")
    Python: CPython 3.11.7
    Platform: Linux-6.1-x86_64 (x86_64)
    metabench: 0.1.0
    Git commit: 0123abc (with uncommitted changes)
    Packages: numpy 2.4.6, pyarrow not installed
    BLAS: openblas 0.3.30 (libscipy_openblas, pthreads, 2 threads)
    >>> describe({})
    []
    """
    env = dict(env)
    rows: list[tuple[str, str]] = []
    python = " ".join(str(env.pop(k)) for k in ("python_implementation", "python") if env.get(k) is not None)
    if python:
        rows.append(("Python", python))
    system, machine = env.pop("platform", None), env.pop("machine", None)
    where = ([] if system is None else [str(system)]) + ([] if machine is None else [f"({machine})"])
    if where:
        rows.append(("Platform", " ".join(where)))
    if env.get("metabench") is not None:
        rows.append(("metabench", str(env.pop("metabench"))))
    commit, dirty = env.pop("git_commit", None), env.pop("git_dirty", None)
    if commit is not None:
        rows.append(("Git commit", f"{commit}{' (with uncommitted changes)' if dirty else ''}"))
    packages = env.pop("packages", None)
    if isinstance(packages, Mapping) and packages:
        rows.append(("Packages", ", ".join(f"{n} {'not installed' if v is None else v}" for n, v in packages.items())))
    blas = env.pop("blas", None)
    if isinstance(blas, list) and blas:
        rows.append(("BLAS", "; ".join(_describe_blas(lib) for lib in blas)))
    for key, value in env.items():
        if value is not None and value != [] and value != {}:
            rows.append((str(key), value if isinstance(value, str) else json.dumps(value, default=str)))
    return rows


def _describe_blas(lib: Any) -> str:
    if not isinstance(lib, Mapping):
        return str(lib)
    name = " ".join(str(lib[k]) for k in ("library", "version") if lib.get(k) is not None) or "unknown"
    details = [str(lib[k]) for k in ("prefix", "threading_layer") if lib.get(k) is not None]
    threads = lib.get("num_threads")
    if threads is not None:
        details.append(f"{threads} thread{'' if threads == 1 else 's'}")
    return f"{name} ({', '.join(details)})" if details else name


def _git(top: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(top), *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _blas() -> list[dict[str, Any]]:
    """The BLAS libraries loaded in this process (numpy's at least), as threadpoolctl sees them."""
    try:
        import numpy  # noqa: F401  (loads numpy's BLAS, which metabench uses throughout)
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    try:
        info = threadpool_info()
    except Exception:  # noqa: BLE001  (threadpoolctl inspects native libraries; a failure must not stop a report)
        return []
    found = [
        {
            "library": lib.get("internal_api"),
            "prefix": lib.get("prefix"),
            "version": lib.get("version"),
            "threading_layer": lib.get("threading_layer"),
            "num_threads": lib.get("num_threads"),
        }
        for lib in info
        if lib.get("user_api") == "blas"
    ]
    # in a stable order: the order in which the libraries were loaded depends on what was imported first
    return sorted(found, key=lambda d: tuple(str(d[k]) for k in ("library", "prefix", "version", "threading_layer")))
