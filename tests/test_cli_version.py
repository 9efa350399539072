"""``metabench --version`` and ``metabench --version --verbose`` (metabench/cli.py)."""

from __future__ import annotations

import importlib.metadata
import platform

import pytest
from typer.testing import CliRunner

from metabench.cli import app

runner = CliRunner()
VERSION = importlib.metadata.version("metabench")


def test_version_prints_the_version_and_exits_0() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"metabench {VERSION}\n"


@pytest.mark.parametrize("args", [["--version", "--verbose"], ["-v", "--version"], ["--version", "-v"]])
def test_verbose_version_prints_the_environment(args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == f"metabench {VERSION}"
    facts = dict(line.split(": ", 1) for line in lines[1:])
    assert facts["Python"] == f"{platform.python_implementation()} {platform.python_version()}"
    assert facts["Platform"] == f"{platform.platform()} ({platform.machine()})"
    for name in ("numpy", "scipy", "polars", "pandas", "pyarrow", "statsmodels", "scikit-learn"):
        assert f"{name} {importlib.metadata.version(name)}" in facts["Packages"]
    assert "BLAS" in facts


def test_version_wins_over_a_command() -> None:
    res = runner.invoke(app, ["--version", "methods"])
    assert res.exit_code == 0 and res.stdout == f"metabench {VERSION}\n"


def test_no_command_is_still_a_usage_error() -> None:
    res = runner.invoke(app, ["--verbose"])
    assert res.exit_code == 2
    assert "Missing command" in res.output
    res = runner.invoke(app, ["methods"])
    assert res.exit_code == 0
