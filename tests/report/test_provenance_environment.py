"""The environment in a report's provenance: collected, kept through JSON, shown by every renderer."""

from __future__ import annotations

import importlib.metadata
import json
import platform

from metabench._environment import PACKAGES
from metabench.report import Provenance, Report, Section


def _report(provenance: Provenance) -> Report:
    return Report("Check", provenance, [Section("Results", ["Nothing to see."])])


def test_collect_records_the_environment() -> None:
    env = Provenance.collect(seed=1).environment
    assert env["python"] == platform.python_version() and env["platform"] == platform.platform()
    assert env["metabench"] == importlib.metadata.version("metabench")
    assert {name: importlib.metadata.version(name) for name in PACKAGES} == {n: env["packages"][n] for n in PACKAGES}
    assert env["blas"] and all("num_threads" in lib for lib in env["blas"])


def test_environment_round_trips_through_json(provenance: Provenance) -> None:
    assert provenance.environment and provenance.to_dict()["environment"] == provenance.environment
    assert Provenance.from_dict(provenance.to_dict()) == provenance
    collected = Provenance.collect(command="metabench analyze runs/")
    again = Report.from_json(_report(collected).to_json()).provenance
    assert again == collected and again.environment == json.loads(json.dumps(collected.environment))


def test_old_provenance_without_environment_still_loads(provenance: Provenance) -> None:
    old = provenance.to_dict()
    del old["environment"]
    p = Provenance.from_dict(old)
    assert p.environment == {} and p.parameters == provenance.parameters
    report = _report(p)
    assert Report.from_json(report.to_json()).provenance == p
    # nothing to show, so no empty "Environment" part
    assert "Environment" not in report.to_markdown() + report.to_html() + report.to_latex()


def test_environment_is_copied_not_shared() -> None:
    env = {"packages": {"numpy": "2.4.6"}}
    p = Provenance("0.1.0", None, "2024-05-01T12:00:00Z", None, [], {}, env)
    env["packages"]["numpy"] = "changed"
    assert p.environment["packages"]["numpy"] == "2.4.6"
    p.to_dict()["environment"]["packages"]["numpy"] = "changed"
    assert p.environment["packages"]["numpy"] == "2.4.6"


def test_every_renderer_shows_the_environment(provenance: Provenance) -> None:
    report = _report(provenance)
    md = report.to_markdown()
    assert "**Environment**" in md
    assert "- Python: CPython 3.11.7" in md
    assert "- Git commit: 0123456789abcdef0123456789abcdef01234567 (with uncommitted changes)" in md
    assert "- Packages: numpy 2.4.6, scikit-learn 1.9.1, pyarrow not installed, torch 2.13.0+cpu" in md
    assert "- BLAS: openblas 0.3.30 (libscipy_openblas, pthreads, 2 threads)" in md
    page = report.to_html()
    assert '<h3>Environment</h3>\n<dl class="environment">' in page
    assert "<dt>Platform</dt><dd>Linux-6.1.0-x86_64-with-glibc2.36 (x86_64)</dd>" in page
    assert page.index('id="provenance"') < page.index("<h3>Environment</h3>") < page.index("</footer>")
    tex = report.to_latex()
    assert "\\subsection*{Environment}" in tex
    assert "\\item[Packages] numpy 2.4.6, scikit-learn 1.9.1, pyarrow not installed, torch 2.13.0+cpu" in tex
    assert "\\item[BLAS] openblas 0.3.30 (libscipy\\_openblas, pthreads, 2 threads)" in tex
    assert tex.index("\\subsection*{Environment}") < tex.index("\\end{document}")
    assert json.loads(report.to_json())["provenance"]["environment"] == provenance.environment


def test_renderers_escape_environment_values() -> None:
    env = {"platform": "<b>x</b> | 50% & $y_1$", "packages": {"a|b": "1"}}
    report = _report(Provenance("0.1.0", None, "2024-05-01T12:00:00Z", None, [], {}, env))
    assert "<b>x</b>" not in report.to_html() and "&lt;b&gt;x&lt;/b&gt;" in report.to_html()
    assert "50\\% \\& \\$y\\_1\\$" in report.to_latex()
    assert "\\|" in report.to_markdown()
