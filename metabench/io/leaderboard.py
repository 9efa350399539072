"""Leaderboard tables as published: one row per model, one column per benchmark.

A wide CSV/TSV/Parquet file with a model column (``model``, ``llm_model``,
``model_name``, ``name``, or else the first text column) and numeric score
columns becomes a :class:`~metabench.runs.ScoreTable`. Scales are detected per
column (``unit`` for [0, 1], ``percent`` for [0, 100], ``raw`` otherwise, e.g.
Elo). Cells that are not numbers (``-``, ``n/a``) become missing and are counted;
a model listed twice keeps its first row and the rest are counted, never dropped
silently. Lower-is-better columns come from the ``lower_is_better`` argument or
from a ``lower_is_better*.txt`` file beside the table that lists column names or
file stems, one per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from metabench.errors import InputError, Problem, ValidationError
from metabench.io.canonical import CANONICAL_MARKERS, CSV_SUFFIXES, PARQUET_SUFFIXES, _suffix, read_table
from metabench.runs import Exclusion, ScoreTable, detect_scale

__all__ = ["NAME", "companion", "merge_tables", "read", "sniff"]

NAME = "leaderboard"
MODEL_COLUMNS = ("model", "llm_model", "model_name", "name", "models", "system")
MISSING_TOKENS = {"", "-", "--", "—", "n/a", "na", "nan", "none", "null", "?"}


def _model_column(df: pl.DataFrame) -> str | None:
    lower = {c.lower().strip(): c for c in df.columns}
    for name in MODEL_COLUMNS:
        if name in lower:
            return lower[name]
    for c in df.columns:
        if df.get_column(c).dtype == pl.String:
            numeric = df.get_column(c).str.strip_chars().cast(pl.Float64, strict=False)
            if numeric.null_count() > df.height / 2:
                return c
    return None


def _head(path: Path, n: int = 50) -> pl.DataFrame | None:
    suf = _suffix(path)
    try:
        if suf in PARQUET_SUFFIXES:
            return pl.read_parquet(path, n_rows=n).cast(pl.String, strict=False)
        if suf in CSV_SUFFIXES:
            sep = "\t" if ".tsv" in suf else ","
            return pl.read_csv(path, separator=sep, infer_schema=False, n_rows=n)
    except Exception:  # noqa: BLE001 - sniffing must not raise
        return None
    return None


def sniff(path: Path) -> bool:
    """True for a wide table: a model column plus mostly-numeric score columns, no ``item``/``score``."""
    path = Path(path)
    if _suffix(path) not in (*CSV_SUFFIXES, *PARQUET_SUFFIXES):
        return False
    df = _head(path)
    if df is None or df.width < 2 or df.height == 0:
        return False
    if CANONICAL_MARKERS & {c.lower() for c in df.columns}:
        return False
    mcol = _model_column(df)
    if mcol is None:
        return False
    numeric_cols = 0
    for c in df.columns:
        if c == mcol:
            continue
        s = df.get_column(c).str.strip_chars()
        ok = s.cast(pl.Float64, strict=False).is_not_null() | s.str.to_lowercase().is_in(list(MISSING_TOKENS)) | s.is_null()
        if float(ok.mean()) >= 0.8:
            numeric_cols += 1
    return numeric_cols >= max(1, (df.width - 1) // 2)


def companion(path: Path) -> bool:
    """``lower_is_better*.txt`` and name maps beside leaderboard tables."""
    name = Path(path).name.lower()
    return name.startswith("lower_is_better") and name.endswith(".txt")


def _lower_is_better_beside(path: Path) -> set[str]:
    out: set[str] = set()
    for f in sorted(path.parent.glob("lower_is_better*.txt")):
        out |= {ln.strip() for ln in f.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()}
    return out


def read(
    path: str | Path,
    *,
    model_column: str | None = None,
    lower_is_better: Iterable[str] = (),
    duplicates: str = "first",
) -> ScoreTable:
    """Read a published leaderboard table.

    Parameters
    ----------
    path : str or Path
        CSV, TSV or Parquet file.
    model_column : str, optional
        Name of the model column (detected when omitted).
    lower_is_better : iterable of str
        Columns where lower is better (added to any listed beside the file).
    duplicates : {"first", "error"}
        What to do with a model listed twice: keep the first row and count the
        rest (default), or raise.

    Returns
    -------
    ScoreTable

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "board.csv"
    >>> _ = p.write_text("model,mmlu,arena\\nA,71.2,1250\\nB,65.0,-\\n")
    >>> t = read(p)
    >>> t.scales
    {'mmlu': 'percent', 'arena': 'raw'}
    >>> t.exclusions[0].count
    1
    """
    path = Path(path)
    if duplicates not in ("first", "error"):
        raise InputError(f"duplicates must be 'first' or 'error', not {duplicates!r}")
    df, _, base = read_table(path)
    if df.height == 0:
        raise InputError("the table has a header but no rows", file=path, fix="give at least one model row", kind="empty")
    df = df.cast(pl.String, strict=False) if any(dt != pl.String for dt in df.dtypes) else df
    mcol = model_column or _model_column(df)
    if mcol is None or mcol not in df.columns:
        raise InputError(
            "cannot find the model column",
            file=path,
            fix=f"name it 'model' or pass model_column=...; columns are {', '.join(df.columns)}",
            kind="missing_column",
        )
    problems: list[Problem] = []
    names = df.get_column(mcol).str.strip_chars()
    empty = names.is_null() | (names == "")
    for i in np.flatnonzero(empty.to_numpy())[:10]:
        problems.append(Problem("model name is empty", file=str(path), line=int(i) + base, fix="name every model", kind="missing_model"))
    if problems:
        raise ValidationError(problems)
    exclusions: list[Exclusion] = []
    dup = names.is_duplicated()
    if bool(dup.any()):
        first = names.is_first_distinct()
        repeated = names.filter(dup & ~first).to_list()
        if duplicates == "error":
            rows = [int(i) + base for i in np.flatnonzero((dup & ~first).to_numpy())[:10]]
            raise ValidationError(
                [
                    Problem(f"model {names[r - base]!r} is listed again", file=str(path), line=r, fix="keep one row per model", kind="duplicate_key")
                    for r in rows
                ]
            )
        exclusions.append(
            Exclusion("row", f"model listed more than once in {path.name}; first row kept", len(repeated), tuple(repeated[:5]))
        )
        df = df.filter(first)
        names = names.filter(first)
    bench_cols = [c for c in df.columns if c != mcol]
    values = np.full((df.height, len(bench_cols)), np.nan)
    kept: list[str] = []
    non_numeric = 0
    examples: list[str] = []
    for c in bench_cols:
        s = df.get_column(c).str.strip_chars()
        num = s.cast(pl.Float64, strict=False)
        bad = num.is_null() & s.is_not_null() & ~s.str.to_lowercase().is_in(list(MISSING_TOKENS - {""}))
        bad = bad & (s != "")
        if float(bad.mean()) > 0.5:
            # a text column (e.g. organisation, licence): not a score
            exclusions.append(Exclusion("column", f"column {c!r} of {path.name} is not numeric", 1, (c,)))
            continue
        tokens = num.is_null() & s.is_not_null() & (s != "")
        if bool(tokens.any()):
            non_numeric += int(tokens.sum())
            examples += [f"{names[int(i)]}/{c}={s[int(i)]!r}" for i in np.flatnonzero(tokens.to_numpy())[:3]]
        values[:, len(kept)] = num.fill_null(np.nan).to_numpy()
        kept.append(c)
    if not kept:
        raise InputError("no numeric score column", file=path, fix="give one numeric column per benchmark", kind="non_numeric_score")
    if non_numeric:
        exclusions.append(Exclusion("cell", f"non-numeric score in {path.name} read as missing", non_numeric, tuple(examples[:5])))
    values = values[:, : len(kept)]
    lib = set(lower_is_better) | _lower_is_better_beside(path)
    stem_lower = any(path.stem.startswith(x) for x in lib)
    lower = frozenset(c for c in kept if c in lib or stem_lower)
    scales = {c: detect_scale(values[:, j]) for j, c in enumerate(kept)}
    return ScoreTable(values, tuple(names.to_list()), tuple(kept), scales, lower, str(path), tuple(exclusions))


def merge_tables(tables: Sequence[ScoreTable]) -> ScoreTable:
    """Outer-join several tables on model name; a repeated column name is prefixed with its file stem.

    Examples
    --------
    >>> import numpy as np
    >>> a = ScoreTable.from_array([[0.5], [0.6]], models=["x", "y"], benchmarks=["b1"])
    >>> b = ScoreTable.from_array([[70.0]], models=["y"], benchmarks=["b2"])
    >>> merge_tables([a, b]).to_frame().rows()
    [('x', 0.5, None), ('y', 0.6, 70.0)]
    """
    if not tables:
        raise InputError("no leaderboard tables to merge")
    if len(tables) == 1:
        return tables[0]
    models: list[str] = []
    seen: dict[str, int] = {}
    for t in tables:
        for m in t.models:
            if m not in seen:
                seen[m] = len(models)
                models.append(m)
    cols: list[str] = []
    scales: dict[str, str] = {}
    lower: set[str] = set()
    blocks = []
    exclusions: list[Exclusion] = []
    for t in tables:
        stem = Path(t.source).stem if t.source else "table"
        block = np.full((len(models), len(t.benchmarks)), np.nan)
        rows = [seen[m] for m in t.models]
        block[rows, :] = t.values
        for b in t.benchmarks:
            name = b if b not in scales else f"{stem}:{b}"
            cols.append(name)
            scales[name] = t.scales[b]
            if b in t.lower_is_better:
                lower.add(name)
        blocks.append(block)
        exclusions += list(t.exclusions)
    values = np.hstack(blocks)
    src = ", ".join(t.source for t in tables if t.source)
    return ScoreTable(values, tuple(models), tuple(cols), scales, frozenset(lower), src, tuple(exclusions))
