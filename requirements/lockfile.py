"""Helpers for the lock file ``requirements/lock.txt`` (used by the Makefile; standard library only).

``python requirements/lockfile.py header LOCK --pip-tools VERSION``
    Put the explanatory header on a lock that pip-compile wrote with ``--no-header``.

``python requirements/lockfile.py check LOCK --pip VERSION``
    Check the running environment against the lock: every installed distribution is pinned
    in the lock at the installed version (pip itself must equal ``--pip``, the project is
    skipped), and ``pip check`` finds no broken requirement. Exits 1 listing each difference.

``python requirements/lockfile.py drift LOCK``
    Print how the running environment differs from the lock, without failing
    (``make test-latest`` uses it to show what the newest versions are).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import re
import subprocess
import sys
from pathlib import Path

PROJECT = "metabench"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def normalize(name: str) -> str:
    """A distribution name in PEP 503 normal form (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """The ``name==version`` pins of a lock file, keyed by normalized name."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    if not pins:
        raise SystemExit(f"error: {path} holds no 'name==version' pins; run `make lock` to write it")
    return pins


def installed() -> dict[str, str]:
    """The distributions installed in the running environment, keyed by normalized name."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[normalize(name)] = dist.version
    return found


def header(path: Path, pip_tools: str) -> None:
    """Prepend the header that says what the lock holds, for which platform, and how to refresh it."""
    body = path.read_text(encoding="utf-8")
    system = f"{platform.system()} {platform.machine()}"
    libc, libc_version = platform.libc_ver()
    if libc:
        system += f" ({libc} {libc_version})"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    lines = [
        "# The locked environment of metabench: the exact versions that `make demo`, `make test` and `make bench`",
        "# install, passed to pip as constraints. It covers the core dependencies and the extras dev, bayes, hf and",
        "# bench (not gpu), with torch's CPU build (requirements/torch-cpu.txt), and setuptools and wheel, which build",
        "# metabench itself.",
        "#",
        f"# Made by pip-compile (pip-tools {pip_tools}) with {python} on {system};",
        "# environment markers were resolved for that Python version and platform.",
        "#",
        "# Refresh with `make lock` (keeps each pin that pyproject.toml still allows, adds and drops what changed)",
        "# or `make lock UPGRADE=1` (the newest versions pyproject.toml allows). Do not edit by hand.",
        "#",
    ]
    path.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")


def differences(pins: dict[str, str], pip_version: str | None) -> list[str]:
    """Each way the running environment differs from the lock, as one line of text."""
    problems = []
    for name, version in sorted(installed().items()):
        if name == PROJECT:
            continue
        if name == "pip":
            if pip_version is not None and version != pip_version:
                problems.append(f"pip {version} is installed, the Makefile pins pip=={pip_version}")
            continue
        if name not in pins:
            problems.append(f"{name} {version} is installed but not in the lock")
        elif pins[name] != version:
            problems.append(f"{name} {version} is installed, the lock has {pins[name]}")
    return problems


def pip_check() -> list[str]:
    """The broken requirements that ``pip check`` reports (empty when there are none)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False, timeout=300
    )
    if proc.returncode == 0:
        return []
    return [f"pip check: {line}" for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_header = sub.add_parser("header", help="put the header on a lock written by pip-compile --no-header")
    p_header.add_argument("lock", type=Path)
    p_header.add_argument("--pip-tools", required=True, help="the pip-tools version that wrote the lock")
    p_check = sub.add_parser("check", help="fail unless the environment is exactly the lock (and pip check passes)")
    p_check.add_argument("lock", type=Path)
    p_check.add_argument("--pip", help="the pip version the Makefile pins")
    p_drift = sub.add_parser("drift", help="print how the environment differs from the lock, without failing")
    p_drift.add_argument("lock", type=Path)
    args = parser.parse_args(argv)

    if args.command == "header":
        header(args.lock, args.pip_tools)
        return 0
    pins = read_lock(args.lock)
    if args.command == "drift":
        found = installed()
        changed = [
            f"{name} {pins[name]} -> {found[name]}"
            for name in sorted(pins)
            if found.get(name, pins[name]) != pins[name]
        ]
        added = [f"{name} {found[name]} (not in the lock)" for name in sorted(found) if name not in pins]
        added = [line for line in added if not line.startswith((f"{PROJECT} ", "pip "))]
        print(f"versions that differ from {args.lock}: {len(changed)} changed, {len(added)} not in the lock")
        for line in changed + added:
            print(f"  {line}")
        return 0
    problems = differences(pins, args.pip) + pip_check()
    if problems:
        print(f"error: this environment is not the one {args.lock} locks:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        print(
            "fix: `make clean` and run the make target again for a fresh environment; if pyproject.toml changed, "
            "run `make lock` first and commit the new lock",
            file=sys.stderr,
        )
        return 1
    print(f"environment matches {args.lock} ({len(pins)} pins), pip check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
