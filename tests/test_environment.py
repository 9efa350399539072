"""The recorded environment (metabench/_environment.py), checked against importlib.metadata and git directly."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import metabench
from metabench import _environment
from metabench._environment import PACKAGES, describe, environment, git_state

KEYS = {
    "python",
    "python_implementation",
    "platform",
    "machine",
    "metabench",
    "git_commit",
    "git_dirty",
    "packages",
    "blas",
}


def test_environment_has_every_key_and_is_json() -> None:
    env = environment()
    assert set(env) == KEYS
    assert json.loads(json.dumps(env)) == env


def test_versions_equal_the_installed_distributions() -> None:
    env = environment()
    assert env["python"] == platform.python_version()
    assert env["python_implementation"] == platform.python_implementation()
    assert env["platform"] == platform.platform() and env["machine"] == platform.machine()
    assert env["metabench"] == importlib.metadata.version("metabench") == metabench.__version__
    for name in PACKAGES:
        assert env["packages"][name] == importlib.metadata.version(name), name


def test_torch_is_recorded_only_when_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        expected = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        expected = None
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert "torch" not in environment()["packages"]
    monkeypatch.setitem(sys.modules, "torch", object())
    assert environment()["packages"]["torch"] == expected


def test_environment_does_not_import_the_packages() -> None:
    # importing metabench loads none of these; reading their versions must not load them either
    code = (
        "import sys, metabench._environment as e; e.environment(); "
        "print(sorted(m for m in ('statsmodels', 'sklearn', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_blas_names_the_library_and_threads() -> None:
    from threadpoolctl import threadpool_info

    expected = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    blas = environment()["blas"]
    assert blas, "numpy's BLAS should be found"
    # the same libraries, listed in a stable order (load order depends on what was imported first)
    got = [(b["library"], b["prefix"], b["version"], b["num_threads"]) for b in blas]
    assert sorted(got, key=str) == sorted(
        ((lib["internal_api"], lib["prefix"], lib["version"], lib["num_threads"]) for lib in expected), key=str
    )
    assert got == sorted(got, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    assert all(set(b) == {"library", "prefix", "version", "threading_layer", "num_threads"} for b in blas)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_state_of_a_checkout(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()

    git("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "first")
    commit = git("rev-parse", "HEAD")
    assert git_state(tmp_path) == (commit, False)
    (tmp_path / "untracked.txt").write_text("not counted")
    assert git_state(tmp_path) == (commit, False)
    (tmp_path / "a.txt").write_text("2")
    assert git_state(tmp_path) == (commit, True)
    # a folder inside the checkout is not the top of one
    (tmp_path / "sub").mkdir()
    assert git_state(tmp_path / "sub") == (None, None)


def test_git_state_without_git_or_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert git_state(tmp_path) == (None, None)
    (tmp_path / ".git").mkdir()  # not a repository: git fails, quietly
    assert git_state(tmp_path) == (None, None)

    def missing(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("git")

    monkeypatch.setattr(_environment.subprocess, "run", missing)
    assert git_state(tmp_path) == (None, None)


def test_environment_matches_git_of_this_checkout() -> None:
    top = Path(metabench.__file__).resolve().parent.parent
    env = environment()
    if not (top / ".git").exists() or shutil.which("git") is None:
        assert env["git_commit"] is None
        return
    proc = subprocess.run(
        ["git", "-C", str(top), "rev-parse", "HEAD"], capture_output=True, text=True, check=False, timeout=60
    )
    if proc.returncode != 0:
        pytest.skip("git cannot read this checkout")
    assert env["git_commit"] == proc.stdout.strip() and isinstance(env["git_dirty"], bool)


def test_describe_tolerates_partial_and_unknown_fields() -> None:
    rows = describe({"python": "3.12.1", "packages": {}, "blas": [], "future_field": {"a": 1}, "nothing": None})
    assert rows == [("Python", "3.12.1"), ("future_field", '{"a": 1}')]
    rows = dict(describe(environment()))
    assert {"Python", "Platform", "metabench", "Packages"} <= set(rows)
    assert f"numpy {importlib.metadata.version('numpy')}" in rows["Packages"]
