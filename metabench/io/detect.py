"""Which reader fits a path, and :func:`load` / :func:`validate` over files and trees.

:func:`discover` walks a file or a directory tree and assigns each file to a
reader by asking every reader's ``sniff`` (a cheap look at the name and first
bytes). Files that belong to a format without being read on their own (an
lm-eval results file, HELM's run_spec.json) are companions; documentation
files (README, LICENSE, ``.md``, ``.txt``) are skipped; anything else is
listed as unrecognised, so nothing is left out without being counted.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from metabench.errors import InputError, Problem, UnknownFormatError, ValidationError
from metabench.runs import Exclusion, Runs, ScoreTable

__all__ = ["READERS", "Discovery", "ValidationReport", "discover", "load", "reader", "validate"]

READERS: tuple[str, ...] = ("lm_eval", "helm", "inspect_ai", "lighteval", "canonical", "leaderboard")
"""Reader modules of :mod:`metabench.io`, in the order their ``sniff`` is asked."""

DOC_SUFFIXES = {".md", ".txt", ".rst", ".html", ".pdf", ".png", ".svg", ".yaml", ".yml", ".py", ".ipynb", ".log", ".lock", ".toml"}
DOC_NAMES = {"readme", "license", "licence", "notice", "copying", "changelog", "authors"}

SKIPPABLE_KINDS = frozenset({"unknown_metric", "no_metric"})
"""Problems that, inside a directory of several runs, skip one run (counted) instead of failing the load."""

# reader options a user may pass to load(); each reader takes the ones it knows
_OPTIONS: dict[str, tuple[str, ...]] = {
    "lm_eval": ("metric", "filter", "model", "benchmark"),
    "helm": ("metric", "model", "perturbation"),
    "inspect_ai": ("scorer", "model"),
    "lighteval": ("metric", "model"),
    "canonical": (),
    "leaderboard": ("model_column", "lower_is_better", "duplicates"),
}


def reader(name: str) -> ModuleType:
    """Import the reader module called ``name`` (see :data:`READERS`)."""
    if name not in READERS:
        raise InputError(f"unknown format {name!r}", fix=f"choose one of {', '.join(READERS)}", kind="unknown_format")
    return importlib.import_module(f"metabench.io.{name}")


def _is_doc(path: Path) -> bool:
    stem = path.name.lower().split(".")[0]
    return stem in DOC_NAMES or path.suffix.lower() in DOC_SUFFIXES or path.name.startswith(".")


@dataclass
class Discovery:
    """Files found under a path, grouped by what will be done with them."""

    units: list[tuple[str, Path]] = field(default_factory=list)
    companions: list[Path] = field(default_factory=list)
    skipped_docs: list[Path] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)

    @property
    def formats(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for fmt, _ in self.units:
            out[fmt] = out.get(fmt, 0) + 1
        return out


def _sniff_file(path: Path, format: str | None) -> tuple[str, str | None]:
    names = READERS if format is None else (format,)
    for name in names:
        mod = reader(name)
        try:
            if mod.sniff(path):
                return "unit", name
        except Exception:  # noqa: BLE001 - a failing sniff means "not mine"
            pass
    for name in READERS:
        mod = reader(name)
        try:
            if mod.companion(path):
                return "companion", name
        except Exception:  # noqa: BLE001
            pass
    return "other", None


def discover(path: str | Path, *, format: str | None = None) -> Discovery:
    """Assign every file under ``path`` to a reader.

    Parameters
    ----------
    path : str or Path
        A file or a directory (walked recursively, hidden folders skipped).
    format : str, optional
        Force one reader (a name from :data:`READERS`).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file or directory: {path}", file=path, fix="check the path", kind="not_found")
    found = Discovery()
    if path.is_file():
        files = [path]
    else:
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    for f in files:
        kind, name = _sniff_file(f, format)
        if kind == "unit":
            found.units.append((name, f))  # type: ignore[arg-type]
        elif kind == "companion":
            found.companions.append(f)
        elif _is_doc(f) and path.is_dir():
            found.skipped_docs.append(f)
        else:
            found.unknown.append(f)
    # a HELM run folder may be given as the folder itself
    if path.is_dir() and not found.units and (path / "per_instance_stats.json").exists():
        found.units.append(("helm", path / "per_instance_stats.json"))
    return found


def _read_unit(name: str, f: Path, options: dict[str, Any]) -> Runs | ScoreTable:
    mod = reader(name)
    opts = {k: v for k, v in options.items() if k in _OPTIONS[name] and v is not None}
    return mod.read(f, **opts)


def _no_runs_error(path: Path, found: Discovery) -> InputError:
    if path.is_file():
        return UnknownFormatError(
            "no reader recognises this file",
            file=path,
            fix="give canonical runs (CSV/Parquet/JSONL with model, benchmark, item, score), lm-eval samples_*.jsonl, "
            "a HELM run folder, an inspect .eval/.json log, lighteval details parquet, or a leaderboard table",
            kind="unknown_format",
        )
    extra = f" ({len(found.unknown)} unrecognised file(s), e.g. {found.unknown[0].name})" if found.unknown else ""
    return UnknownFormatError(
        f"the directory holds no runs{extra}",
        file=path,
        fix="point to a folder with evaluation outputs or canonical runs files",
        kind="no_runs",
    )


def load(
    path: str | Path | Sequence[str | Path],
    *,
    format: str | None = None,
    kind: Literal["auto", "runs", "scores"] = "auto",
    metric: str | None = None,
    **options: Any,
) -> Runs | ScoreTable:
    """Load evaluation results from a file, a directory tree, or several of them.

    The format of each file is detected; per-item runs from several sources are
    merged into one :class:`~metabench.runs.Runs` (a key present twice is an
    error naming both files), and leaderboard tables into one
    :class:`~metabench.runs.ScoreTable`.

    Parameters
    ----------
    path : str, Path or sequence of them
        File(s) or directory tree(s).
    format : str, optional
        Force a reader (``"lm_eval"``, ``"helm"``, ``"inspect_ai"``,
        ``"lighteval"``, ``"canonical"``, ``"leaderboard"``).
    kind : {"auto", "runs", "scores"}
        What to return when a tree holds both per-item runs and leaderboard
        tables: ``"auto"`` returns the runs (the tables are counted in
        ``runs.exclusions``); ``"scores"`` returns the tables.
    metric : str, optional
        Per-item metric for readers with several (lm-eval ``acc``/``acc_norm``,
        HELM ``exact_match``, lighteval ``loglikelihood_acc``...).
    **options
        Other reader options: ``filter``, ``scorer``, ``model``,
        ``model_column``, ``lower_is_better``, ``duplicates``.

    Returns
    -------
    Runs or ScoreTable

    Raises
    ------
    InputError
        Unknown format, a directory with no runs, or an unreadable file.
    ValidationError
        Schema violations, each with file, line and fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("model,benchmark,item,score\\nm1,x,1,1\\n")
    >>> _ = (d / "b.csv").write_text("model,benchmark,item,score\\nm2,x,1,0\\n")
    >>> load(d).models
    ('m1', 'm2')
    """
    options = {"metric": metric, **options}
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if not paths:
        raise InputError("no path given", fix="give a file or a directory of runs")
    runs_parts: list[Runs] = []
    tables: list[ScoreTable] = []
    unknown: list[Path] = []
    skipped: list[tuple[Path, InputError]] = []
    for p in paths:
        p = Path(p)
        found = discover(p, format=format)
        if not found.units:
            raise _no_runs_error(p, found)
        unknown += found.unknown
        for name, f in found.units:
            try:
                out = _read_unit(name, f, options)
            except InputError as exc:
                # in a tree, a run without the requested (or any usable) per-item metric is counted, not fatal
                if p.is_dir() and len(found.units) > 1 and exc.problem.kind in SKIPPABLE_KINDS:
                    skipped.append((f, exc))
                    continue
                raise
            (tables if isinstance(out, ScoreTable) else runs_parts).append(out)  # type: ignore[arg-type]
    if skipped and not runs_parts and not tables:
        raise skipped[0][1]
    if kind == "scores" or (kind == "auto" and not runs_parts):
        if not tables:
            raise InputError("no leaderboard tables found", fix="use kind='runs' or give a leaderboard file", kind="no_runs")
        from metabench.io.leaderboard import merge_tables

        table = merge_tables(tables)
        extra_t = ([_unknown_exclusion(unknown)] if unknown else []) + ([_skipped_exclusion(skipped)] if skipped else [])
        if extra_t:
            table = _with_exclusions(table, extra_t)
        return table
    if not runs_parts:
        raise InputError("no per-item runs found (only leaderboard tables)", fix="use kind='scores'", kind="no_runs")
    runs = Runs.concat(runs_parts)
    extra: list[Exclusion] = []
    if tables:
        extra.append(
            Exclusion(
                "file",
                "leaderboard table(s) not merged into per-item runs; load them with kind='scores'",
                len(tables),
                tuple(Path(t.source).name for t in tables if t.source)[:5],
            )
        )
    if unknown:
        extra.append(_unknown_exclusion(unknown))
    if skipped:
        extra.append(_skipped_exclusion(skipped))
    if extra:
        runs = Runs(runs.frame, sources=runs.sources, exclusions=(*runs.exclusions, *extra), _checked=True)
    return runs


def _skipped_exclusion(skipped: list[tuple[Path, InputError]]) -> Exclusion:
    first = skipped[0][1].problem.message
    return Exclusion(
        "file",
        f"run without a usable per-item metric (first: {first}); pass metric= to choose one",
        len(skipped),
        tuple(str(f) for f, _ in skipped[:5]),
    )


def _unknown_exclusion(unknown: list[Path]) -> Exclusion:
    return Exclusion("file", "not recognised as runs by any reader", len(unknown), tuple(p.name for p in unknown[:5]))


def _with_exclusions(table: ScoreTable, extra: list[Exclusion]) -> ScoreTable:
    from dataclasses import replace

    return replace(table, exclusions=(*table.exclusions, *extra))


@dataclass
class ValidationReport:
    """What :func:`validate` found: problems (invalid input) and warnings (counted exclusions)."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (path, format, rows)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": list(self.warnings),
            "files": [{"path": p, "format": f, "rows": n} for p, f, n in self.files],
        }


def validate(path: str | Path | Sequence[str | Path], *, format: str | None = None, **options: Any) -> ValidationReport:
    """Check inputs without stopping at the first bad file.

    Every file is read; problems are collected across all of them, then keys
    duplicated across files are checked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.csv"
    >>> _ = p.write_text("model,benchmark,item,score\\na,x,1,2\\n")
    >>> rep = validate(p)
    >>> rep.ok, rep.problems[0].kind, rep.problems[0].line
    (False, 'score_out_of_range', 2)
    """
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    report = ValidationReport(", ".join(str(p) for p in paths))
    parts: list[Runs] = []
    for p in paths:
        p = Path(p)
        try:
            found = discover(p, format=format)
        except InputError as exc:
            report.problems += exc.problems
            continue
        if not found.units:
            report.problems += _no_runs_error(p, found).problems
            continue
        for f in found.unknown:
            report.warnings.append(f"{f}: not recognised by any reader; skipped")
        for name, f in found.units:
            try:
                out = _read_unit(name, f, options)
            except InputError as exc:
                if p.is_dir() and len(found.units) > 1 and exc.problem.kind in SKIPPABLE_KINDS:
                    report.warnings.append(f"{f}: skipped: {exc.problem.message}")
                    continue
                report.problems += exc.problems
                continue
            if isinstance(out, Runs):
                parts.append(out)
                report.files.append((str(f), name, len(out)))
                report.warnings += [f"{f}: {e}" for e in out.exclusions]
            else:
                report.files.append((str(f), name, len(out.models)))
                report.warnings += [f"{f}: {e}" for e in out.exclusions]
    if len(parts) > 1 and not report.problems:
        try:
            Runs.concat(parts)
        except ValidationError as exc:
            report.problems += exc.problems
    return report

