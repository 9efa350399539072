"""Shared machinery of the readers.

Every reader module in :mod:`metabench.io` exposes three module-level names:

``NAME``
    Short format name (``"lm_eval"``), shown in ``metabench info`` and reports.
``sniff(path: Path) -> bool``
    Cheap test: is this *file* a primary file of the format (one that ``read``
    takes)? Must not read more than the first few kilobytes.
``companion(path: Path) -> bool``
    Is this file part of the format without being read on its own (a results
    file beside lm-eval samples, HELM's other JSON files)? Such files are not
    reported as unknown when a directory is loaded.
``read(path: Path, **options) -> Runs``
    Read one primary file. Problems raise :class:`~metabench.errors.InputError`
    (or :class:`~metabench.errors.ValidationError` for several), naming the
    file, the line and the fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from metabench.errors import Problem, ValidationError
from metabench.runs import Exclusion, RunIdentity, Runs, SourceFile, check_frame, normalize_frame

__all__ = ["explain_metric_range", "file_sha256", "make_runs", "read_head"]


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_head(path: str | Path, n: int = 4096) -> bytes:
    """First ``n`` bytes of a file (empty on error)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def make_runs(
    frame: pl.DataFrame,
    *,
    file: str | Path,
    format: str,
    line_column: str | None = None,
    row_base: int = 1,
    exclusions: Sequence[Exclusion] = (),
    extra_sources: Sequence[str | Path] = (),
    run: RunIdentity | None = None,
    item_keys: pl.DataFrame | None = None,
) -> Runs:
    """Check, normalise and wrap a reader's long table into :class:`Runs`.

    Parameters
    ----------
    frame : polars.DataFrame
        Long table with the canonical columns (extra columns are kept; columns
        whose name starts with ``_`` are dropped after the check).
    file : str or Path
        The file read, for messages and provenance.
    format : str
        Reader name.
    line_column : str, optional
        Column with the source line of each row, used in messages.
    row_base : int
        Number of the first data row when there is no line column.
    exclusions : sequence of Exclusion
        What the reader left out, with counts.
    extra_sources : sequence of paths
        Companion files that were read too (hashed for provenance).
    run : RunIdentity, optional
        The harness run the rows come from (harness, model, task, configuration,
        seeds, time, status), used to tell seeds, methods and re-runs apart.
    item_keys : polars.DataFrame, optional
        Content keys of the items (see :func:`metabench.io.identity.item_key_table`).
    """
    problems = check_frame(frame, file=file, line_column=line_column, row_base=row_base)
    if problems:
        raise ValidationError(problems)
    sources = [SourceFile(str(file), format, file_sha256(file) if Path(file).is_file() else None, frame.height, run)]
    sources += [SourceFile(str(p), format, file_sha256(p), 0) for p in extra_sources]
    return Runs(normalize_frame(frame), sources=sources, exclusions=exclusions, item_keys=item_keys, _checked=True)


def explain_metric_range(err: ValidationError, metric: str, names: list[str]) -> ValidationError:
    """Rewrite out-of-range score problems to name the metric and suggest the others.

    Readers of harnesses that log several per-item metrics call this when the chosen
    metric (a perplexity, a log-likelihood, a BLEU score) is not a score in [0, 1].
    """
    others = [n for n in names if n != metric]
    fix = (
        f"metric {metric!r} is not a score in [0, 1]; pass metric= one of {', '.join(others)}"
        if others
        else f"metric {metric!r} is not a score in [0, 1]; evaluate the task with a per-sample accuracy metric"
    )
    problems = []
    for p in err.problems:
        if p.kind == "score_out_of_range":
            msg = p.message.replace("score is outside", f"{metric} is outside", 1)
            p = Problem(msg, file=p.file, line=p.line, fix=fix, kind=p.kind)
        problems.append(p)
    return ValidationError(problems)
