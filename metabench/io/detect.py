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

DOC_SUFFIXES = {".md", ".txt", ".rst", ".html", ".pdf", ".png", ".svg", ".yaml", ".yml", ".py", ".ipynb", ".log", ".lock", ".toml", ".sh", ".cfg", ".ini"}
DOC_NAMES = {"readme", "license", "licence", "notice", "copying", "changelog", "authors"}

SKIPPABLE_KINDS = frozenset({"unknown_metric", "no_metric"})
"""Problems that, inside a directory of several runs, skip one run (counted) instead of failing the load."""

FAILED_KINDS = frozenset(
    {"no_samples", "empty", "malformed_json", "malformed_log", "malformed_archive", "malformed_parquet", "unreadable"}
)
"""Problems of a run that failed or was cut short (no samples, a truncated file): inside a directory the
run is skipped and named with the reason, as the harness left it; a file given on its own still fails."""

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
    incomplete: list[tuple[Path, str]] = field(default_factory=list)
    """Runs that left no per-item scores (a results file without samples, an empty run folder), with why."""

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
    companion_of: dict[Path, str] = {}
    for f in files:
        kind, name = _sniff_file(f, format)
        if kind == "unit":
            found.units.append((name, f))  # type: ignore[arg-type]
        elif kind == "companion":
            found.companions.append(f)
            companion_of[f] = name  # type: ignore[assignment]
        elif _is_doc(f) and path.is_dir():
            found.skipped_docs.append(f)
        else:
            found.unknown.append(f)
    # a HELM run folder may be given as the folder itself
    if path.is_dir() and not found.units and (path / "per_instance_stats.json").exists():
        found.units.append(("helm", path / "per_instance_stats.json"))
    # a harness's side file given on its own (results_*.json, stats.json): read the run it belongs to
    if path.is_file() and not found.units and path in companion_of:
        mod = reader(companion_of[path])
        units_of = getattr(mod, "units_of", None)
        for unit in units_of(path) if units_of is not None else []:
            found.units.append((companion_of[path], unit))
    # runs that left no per-item scores, named with why
    by_reader: dict[str, list[Path]] = {}
    for f, name in companion_of.items():
        by_reader.setdefault(name, []).append(f)
    for name in READERS:
        hook = getattr(reader(name), "incomplete", None)
        if hook is None:
            continue
        comps = by_reader.get(name, [])
        if name == "helm":
            found.incomplete += hook(comps, [path] if path.is_dir() else [])
        elif comps:
            found.incomplete += hook(comps)
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
            fix="give canonical runs (CSV/Parquet/JSONL with model, benchmark, item, score), lm-eval samples_*.jsonl "
            "or results_*.json, a HELM run folder, an inspect .eval/.json log, lighteval details parquet or "
            "results_*.json, or a leaderboard table",
            kind="unknown_format",
        )
    extra = f" ({len(found.unknown)} unrecognised file(s), e.g. {found.unknown[0].name})" if found.unknown else ""
    if found.incomplete:
        extra += f"; {len(found.incomplete)} run(s) that left no per-item scores, e.g. {found.incomplete[0][1]}"
    return UnknownFormatError(
        f"the directory holds no runs{extra}",
        file=path,
        fix="point to a folder with evaluation outputs or canonical runs files",
        kind="no_runs",
    )


@dataclass
class _Gathered:
    """Everything read from the inputs of one load, before merging."""

    parts: list[Runs] = field(default_factory=list)
    tables: list[ScoreTable] = field(default_factory=list)
    direct: list[bool] = field(default_factory=list)  # part i was given as a file (not found in a folder)
    files: list[tuple[str, str, int]] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, InputError]] = field(default_factory=list)
    failed: list[tuple[Path, InputError]] = field(default_factory=list)
    incomplete: list[tuple[Path, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _gather(paths: list[Path], format: str | None, options: dict[str, Any], *, strict: bool) -> _Gathered:
    """Read every unit under ``paths`` once; with ``strict`` the first problem raises."""
    out = _Gathered()
    units: dict[Path, tuple[str, Path, bool, bool]] = {}  # resolved -> (reader, path, given directly, in a tree)
    empty: list[tuple[Path, Discovery]] = []
    for p in paths:
        try:
            found = discover(p, format=format)
        except InputError as exc:
            if strict:
                raise
            out.problems += exc.problems
            continue
        out.incomplete += [x for x in found.incomplete if x not in out.incomplete]
        out.unknown += [u for u in found.unknown if u not in out.unknown]
        if not found.units:
            if not found.incomplete:
                empty.append((p, found))
            continue
        in_tree = p.is_dir() and len(found.units) > 1
        for name, f in found.units:
            units.setdefault(f.resolve(), (name, f, not p.is_dir(), in_tree or len(paths) > 1))
    if empty:
        problems = [q for p, found in empty for q in _no_runs_error(p, found).problems]
        if strict:
            raise ValidationError(problems) if len(problems) > 1 else _no_runs_error(*empty[0])
        out.problems += problems
    if not units and out.incomplete and not out.problems:
        p = paths[0]
        found = Discovery(incomplete=out.incomplete)
        if strict:
            raise _no_runs_error(p, found)
        out.problems += _no_runs_error(p, found).problems
    for name, f, direct, in_tree in units.values():
        try:
            got = _read_unit(name, f, options)
        except InputError as exc:
            # in a tree, a run without the requested (or any usable) per-item metric, or one that failed
            # or was cut short, is counted and named, not fatal
            kind = exc.problem.kind
            if in_tree and kind in SKIPPABLE_KINDS:
                out.skipped.append((f, exc))
                continue
            if in_tree and kind in FAILED_KINDS:
                out.failed.append((f, exc))
                continue
            if strict:
                raise
            out.problems += exc.problems
            continue
        if isinstance(got, ScoreTable):
            out.tables.append(got)
            out.files.append((str(f), name, len(got.models)))
        else:
            out.parts.append(got)
            out.direct.append(direct)
            out.files.append((str(f), name, len(got)))
    return out


def _merge(
    got: _Gathered, *, reruns: Literal["latest", "seeds"]
) -> tuple[list[Runs], list[Exclusion], list[str]]:
    """Resolve run identities and align sources; return the parts to concatenate."""
    from metabench.io.identity import align_sources, resolve_runs

    keep = {id(p) for p, d in zip(got.parts, got.direct, strict=True) if d}
    res = resolve_runs(got.parts, reruns=reruns, skip_incomplete=True, keep_incomplete=keep)
    aligned = align_sources(res.parts, order=READERS)
    exclusions = list(res.exclusions)
    for f, why in got.incomplete:
        exclusions.append(Exclusion("run", why, 1, (str(f),)))
    for f, exc in got.failed:
        exclusions.append(Exclusion("file", f"unreadable or failed run: {exc.problem.message}", 1, (str(f),)))
    if got.unknown:
        exclusions.append(_unknown_exclusion(got.unknown))
    if got.skipped:
        exclusions.append(_skipped_exclusion(got.skipped))
    return aligned.parts, exclusions, res.notes + aligned.notes


def load(
    path: str | Path | Sequence[str | Path],
    *,
    format: str | None = None,
    kind: Literal["auto", "runs", "scores"] = "auto",
    metric: str | None = None,
    reruns: Literal["latest", "seeds"] = "latest",
    **options: Any,
) -> Runs | ScoreTable:
    """Load evaluation results from a file, a directory tree, or several of them.

    The format of each file is detected and each harness run is identified
    (harness, model, task, configuration, seeds, time, status; see
    :class:`~metabench.runs.RunIdentity`). A folder a harness wrote is read whole:

    * runs of one configuration that differ by seed, epoch or trial are seeds;
    * runs that differ in prompting (few-shot count, template, solver, generation
      settings) are different systems, ``model|method`` with a readable method
      such as ``2-shot``;
    * exact re-runs (same configuration and seeds) keep the latest complete run;
      the others are listed in ``runs.exclusions`` (``reruns="seeds"`` keeps them
      all as seeds);
    * runs that failed or stopped (Inspect status error or cancelled, lm-eval runs
      without samples, HELM run folders without results, truncated files) are
      skipped, each named with the reason the harness recorded;
    * one benchmark written by several harnesses is aligned on the items' question
      text where the ids differ, else kept as separate benchmarks named by source
      (``runs.notes`` says which).

    A file given directly is read even when its run did not finish; a harness's
    side file (lm-eval or lighteval ``results_*.json``, HELM ``stats.json`` or
    ``run_spec.json``) reads the run it belongs to. Leaderboard tables are merged
    into one :class:`~metabench.runs.ScoreTable`. Rows that still share a key
    (canonical files with the same rows) are an error naming both files.

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
    reruns : {"latest", "seeds"}
        Exact re-runs of one configuration: use the latest complete run (default)
        or keep them all as seeds.
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
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    if not paths:
        raise InputError("no path given", fix="give a file or a directory of runs")
    got = _gather(paths, format, options, strict=True)
    if not got.parts and not got.tables:
        if got.skipped:
            raise got.skipped[0][1]
        if got.failed:
            raise got.failed[0][1]
    if kind == "scores" or (kind == "auto" and not got.parts):
        if not got.tables:
            raise InputError("no leaderboard tables found", fix="use kind='runs' or give a leaderboard file", kind="no_runs")
        from metabench.io.leaderboard import merge_tables

        table = merge_tables(got.tables)
        extra_t = ([_unknown_exclusion(got.unknown)] if got.unknown else []) + (
            [_skipped_exclusion(got.skipped)] if got.skipped else []
        )
        if extra_t:
            table = _with_exclusions(table, extra_t)
        return table
    if not got.parts:
        raise InputError("no per-item runs found (only leaderboard tables)", fix="use kind='scores'", kind="no_runs")
    parts, exclusions, notes = _merge(got, reruns=reruns)
    if not parts:
        why = "; ".join(f"{e.examples[0] if e.examples else ''}: {e.reason}" for e in exclusions[:3])
        raise InputError(
            f"no run finished: {why}",
            file=paths[0],
            fix="fix the cause and run the evaluation again, or name a partial log on its own to read what it holds",
            kind="no_runs",
        )
    runs = Runs.concat(parts)
    if got.tables:
        exclusions.append(
            Exclusion(
                "file",
                "leaderboard table(s) not merged into per-item runs; load them with kind='scores'",
                len(got.tables),
                tuple(Path(t.source).name for t in got.tables if t.source)[:5],
            )
        )
    return Runs(
        runs.frame,
        sources=runs.sources,
        exclusions=(*runs.exclusions, *exclusions),
        item_keys=runs.item_keys,
        notes=(*runs.notes, *notes),
        _checked=True,
    )


def _skipped_exclusion(skipped: list[tuple[Path, InputError]]) -> Exclusion:
    first = skipped[0][1].problem.message
    return Exclusion(
        "file",
        f"run without a usable per-item metric (first: {first}); pass metric= to choose one",
        len(skipped),
        tuple(str(f) for f, _ in skipped[:5]),
    )


def _unknown_exclusion(unknown: list[Path]) -> Exclusion:
    return Exclusion("file", "not recognised as runs by any reader", len(unknown), tuple(str(p) for p in unknown[:5]))


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


def validate(
    path: str | Path | Sequence[str | Path],
    *,
    format: str | None = None,
    reruns: Literal["latest", "seeds"] = "latest",
    **options: Any,
) -> ValidationReport:
    """Check inputs without stopping at the first bad file.

    Every file is read and every problem of every file is listed; then the runs are
    resolved and merged as :func:`load` does, and what that leaves out (re-runs,
    failed runs, keys shared across files) is reported too.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.csv"
    >>> _ = p.write_text("model,benchmark,item,score\\na,x,1,2\\n")
    >>> rep = validate(p)
    >>> rep.ok, rep.problems[0].kind, rep.problems[0].line
    (False, 'score_out_of_range', 2)
    """
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    report = ValidationReport(", ".join(str(p) for p in paths))
    got = _gather(paths, format, options, strict=False)
    report.problems += got.problems
    report.files += got.files
    for t in got.tables:
        report.warnings += [f"{t.source}: {e}" for e in t.exclusions]
    for part in got.parts:
        src = part.sources[0].path if part.sources else "input"
        report.warnings += [f"{src}: {e}" for e in part.exclusions]
    for f, exc in got.skipped:
        report.warnings.append(f"{f}: skipped: {exc.problem.message}")
    if got.parts:
        parts, exclusions, notes = _merge(
            _Gathered(parts=got.parts, direct=got.direct, incomplete=got.incomplete, failed=got.failed, unknown=got.unknown),
            reruns=reruns,
        )
        report.warnings += [str(e) if not e.examples or e.count > 1 else f"{e.examples[0]}: {e.reason}" for e in exclusions]
        report.warnings += notes
        try:
            Runs.concat(parts)
        except ValidationError as exc:
            report.problems += exc.problems
    else:
        for f, why in got.incomplete:
            report.warnings.append(f"{f}: {why}")
        for f, exc in got.failed:
            report.warnings.append(f"{f}: unreadable or failed run: {exc.problem.message}")
        report.warnings += [f"{f}: not recognised by any reader; skipped" for f in got.unknown]
    return report
