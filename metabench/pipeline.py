"""From loaded data to a report: run registered analyses and collect their sections."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from metabench.analysis.registry import AnalysisContext, Method, resolve
from metabench.report import Provenance, Report
from metabench.runs import Runs, ScoreTable

__all__ = ["analyze"]


def _suffix_keys(section: Any, suffix: str) -> None:
    """Make a section's key and its subsections' keys distinct from another input's."""
    section.key = f"{section.key}{suffix}" if section.key else None
    for sub in section.subsections:
        _suffix_keys(sub, suffix)


def analyze(
    data: Runs | ScoreTable | Sequence[Runs | ScoreTable],
    methods: Sequence[str] = ("all",),
    *,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    title: str = "metabench report",
    command: str | None = None,
    on_method: Callable[[Method], None] | None = None,
) -> Report:
    """Run analyses and return one :class:`~metabench.report.Report`.

    Parameters
    ----------
    data : Runs, ScoreTable, or a sequence of them
        Loaded inputs; each gets the methods that apply to it.
    methods : sequence of str
        Registered method names (see ``metabench methods``), or ``"all"``.
    seed : int
        Seed passed to every analysis.
    options : dict, optional
        Method options (e.g. ``{"level": 0.9}``).
    title : str
        Report title.
    command : str, optional
        Command line recorded in the provenance.
    on_method : callable, optional
        Called before each method runs (for progress display).

    Returns
    -------
    Report

    Examples
    --------
    >>> from metabench import Runs
    >>> r = Runs({"model": ["a", "b"], "benchmark": ["x", "x"], "item": ["1", "1"], "score": [1.0, 0.0]})
    >>> rep = analyze(r, ["overview"])
    >>> [s.key for s in rep.sections]
    ['overview']
    """
    inputs = [data] if isinstance(data, (Runs, ScoreTable)) else list(data)
    ctx = AnalysisContext(seed=seed, options=dict(options or {}))
    plan = [(d, resolve(methods, d)) for d in inputs]
    if not any(ms for _, ms in plan):
        from metabench.errors import InputError

        raise InputError("no analysis applies to this input", fix="see `metabench methods` for what each one needs")
    prov_inputs: list[dict[str, Any]] = []
    for d in inputs:
        if isinstance(d, Runs):
            prov_inputs += [_input(s) for s in d.sources]
            ctx.exclusions += list(d.exclusions)
            ctx.notes += list(d.notes)
        else:
            prov_inputs.append({"path": d.source, "format": "leaderboard", "sha256": None, "rows": len(d.models)})
            ctx.exclusions += list(d.exclusions)
    report = Report(
        title,
        Provenance.collect(
            command=command,
            seed=seed,
            inputs=prov_inputs,
            parameters={
                "methods": [m.name for _, ms in plan for m in ms],
                **{k: v for k, v in ctx.options.items() if k != "input_paths"},  # the inputs are listed already
            },
        ),
    )
    multi = len(inputs) > 1
    for d, ms in plan:
        for m in ms:
            if on_method is not None:
                on_method(m)
            for section in m.func(d, ctx):
                if multi and isinstance(d, ScoreTable):
                    section.title = f"{section.title} (leaderboard tables)"
                    _suffix_keys(section, "-scores")
                report.add(section)
    report.notes.extend(ctx.notes)
    report.notes.extend(str(e) for e in ctx.exclusions)
    return report


def _input(source: Any) -> dict[str, Any]:
    """Provenance record of one input file, with the harness run it holds where a reader named one."""
    rec: dict[str, Any] = {"path": source.path, "format": source.format, "sha256": source.sha256, "rows": source.rows}
    run = getattr(source, "run", None)
    if run is not None:
        rec["run"] = {
            "harness": run.harness,
            "model": run.model,
            "task": run.task,
            "config": dict(run.config),
            "seeds": dict(run.seeds),
            "timestamp": run.timestamp,
            "status": run.status,
        }
    return rec
