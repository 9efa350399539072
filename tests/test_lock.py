"""The lock file requirements/lock.txt agrees with pyproject.toml (refresh it with `make lock` when not)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
LOCKED_EXTRAS = ("dev", "bayes", "hf", "bench")

pytestmark = pytest.mark.skipif(not LOCK.exists(), reason="runs from a source checkout only")


def _pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$", line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in LOCKED_EXTRAS:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def test_every_requirement_is_pinned_within_its_range() -> None:
    pins = _pins()
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in {LOCK.name}; run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{LOCK.name} pins {req.name}=={pins[name]}, outside pyproject.toml's {req}; run `make lock`"
        )


def test_lock_has_torch_cpu_build_and_no_gpu_extra() -> None:
    pins = _pins()
    assert pins["torch"].endswith("+cpu")
    assert "vllm" not in pins
    assert "pip" not in pins  # pinned by the Makefile
    assert {"setuptools", "wheel"} <= set(pins)  # metabench's build requirements


def test_lock_names_no_local_index_or_path() -> None:
    text = LOCK.read_text(encoding="utf-8")
    assert not re.search(r"^\s*-(-index-url|-extra-index-url|-find-links|f|i)\b", text, flags=re.MULTILINE)
    assert "file://" not in text and "/opt/" not in text and "/tmp/" not in text
