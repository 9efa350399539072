"""Canonical runs files: CSV, Parquet and JSONL in the long schema of DESIGN.md.

A file is canonical when its columns include ``item`` or ``score`` (and it is not
the output of another tool). Every problem is reported with its file and line:
for CSV the line in the file (the header is line 1), for JSONL the line, for
Parquet the data row (1-based).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import polars as pl

from metabench.errors import InputError
from metabench.io._base import make_runs, read_head
from metabench.runs import Runs

__all__ = ["NAME", "columns_of", "companion", "read", "read_canonical", "sniff"]

NAME = "canonical"

CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
CANONICAL_MARKERS = {"item", "score"}


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suf in (*CSV_SUFFIXES, *JSONL_SUFFIXES, *PARQUET_SUFFIXES):
        if name.endswith(suf):
            return suf
    return path.suffix.lower()


def columns_of(path: str | Path) -> list[str] | None:
    """Column names of a table file, read cheaply; None if it is not a readable table."""
    path = Path(path)
    suf = _suffix(path)
    try:
        if suf in PARQUET_SUFFIXES:
            return list(pl.read_parquet_schema(path).keys())
        if suf in CSV_SUFFIXES:
            if suf.endswith(".gz"):
                with gzip.open(path, "rb") as fh:
                    head = fh.read(65536)
            else:
                head = read_head(path, 65536)
            first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip("\r")
            sep = "\t" if ".tsv" in suf else ","
            return [c.strip().strip('"') for c in first.split(sep)] if first else []
        if suf in JSONL_SUFFIXES:
            opener = gzip.open if suf.endswith(".gz") else open
            with opener(path, "rb") as fh:
                for raw in fh:
                    if raw.strip():
                        obj = orjson.loads(raw)
                        return list(obj.keys()) if isinstance(obj, dict) else None
            return []
    except Exception:  # noqa: BLE001 - sniffing must never raise
        return None
    return None


def sniff(path: Path) -> bool:
    """True for CSV/Parquet/JSONL files with an ``item`` or ``score`` column (or empty ones), companions excepted."""
    path = Path(path)
    if _suffix(path) not in (*CSV_SUFFIXES, *JSONL_SUFFIXES, *PARQUET_SUFFIXES):
        return False
    if companion(path):  # probe_items.parquet has an item column but no scores
        return False
    cols = columns_of(path)
    if cols is None:
        return _suffix(path) in (*CSV_SUFFIXES, *JSONL_SUFFIXES) and path.stat().st_size == 0
    if not cols:
        return True
    return bool(CANONICAL_MARKERS & set(cols))


def companion(path: Path) -> bool:
    """Files that ``metabench run`` and ``metabench probe`` write beside runs.

    The run manifest (``manifest.json`` marked ``"metabench_run"``), token
    log-probabilities (``token_logprobs*.jsonl``), the probe summary
    (``probe*.json`` marked ``"metabench_probe"``) and its per-text scores
    (``probe_items*.parquet``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "probe.json").write_text('{"metabench_probe": 1, "tests": []}')
    >>> _ = (d / "probe_other.json").write_text('{"tests": []}')
    >>> companion(d / "probe.json"), companion(d / "probe_other.json"), companion(d / "probe_items.parquet")
    (True, False, True)
    """
    name = Path(path).name
    if name == "manifest.json":
        return b'"metabench_run"' in read_head(path, 4096)
    if name.startswith("probe_items") and name.endswith(PARQUET_SUFFIXES):
        return True
    if name.startswith("probe") and name.endswith(".json"):
        return b'"metabench_probe"' in read_head(path, 4096)
    return name.startswith("token_logprobs") and name.endswith(".jsonl")


def _read_jsonl(path: Path) -> pl.DataFrame:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    rows: list[dict] = []
    lines: list[int] = []
    with opener(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InputError(
                    f"line is not valid JSON ({exc}); the file may be truncated",
                    file=path,
                    line=lineno,
                    fix="repair or remove that line; each line must be one JSON object",
                    kind="malformed_json",
                ) from None
            if not isinstance(obj, dict):
                raise InputError(
                    "line is not a JSON object",
                    file=path,
                    line=lineno,
                    fix='write one object per line, e.g. {"model": ..., "benchmark": ..., "item": ..., "score": ...}',
                    kind="malformed_json",
                )
            rows.append(obj)
            lines.append(lineno)
    if not rows:
        return pl.DataFrame()
    # keep raw types: the checks report non-numeric scores with their line
    cols: dict[str, list] = {}
    for k in {k for r in rows for k in r}:
        vals = [r.get(k) for r in rows]
        if k in ("score", "seed", "step"):
            kinds = {type(v) for v in vals if v is not None}
            if kinds - {int, float, bool}:
                vals = [None if v is None else str(v) for v in vals]
            elif kinds:
                vals = [None if v is None else float(v) for v in vals]
        elif any(isinstance(v, (dict, list)) for v in vals):
            vals = [None if v is None else orjson.dumps(v).decode() for v in vals]
        cols[k] = vals
    df = pl.DataFrame(cols, strict=False, nan_to_null=False)
    return df.with_columns(pl.Series("_line", lines, dtype=pl.Int64))


def read_table(path: str | Path) -> tuple[pl.DataFrame, str | None, int]:
    """Read a table file as is; returns (frame, line column, first row number)."""
    path = Path(path)
    suf = _suffix(path)
    if not path.exists():
        raise InputError(f"no such file: {path}", file=path, fix="check the path", kind="not_found")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path, fix="give a file with at least one scored item", kind="empty")
    try:
        if suf in PARQUET_SUFFIXES:
            return pl.read_parquet(path), None, 1
        if suf in CSV_SUFFIXES:
            sep = "\t" if ".tsv" in suf else ","
            df = pl.read_csv(path, separator=sep, infer_schema=False, truncate_ragged_lines=False)
            return df, None, 2
        if suf in JSONL_SUFFIXES:
            return _read_jsonl(path), "_line", 1
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser error becomes a user error
        kind = "malformed_parquet" if suf in PARQUET_SUFFIXES else "malformed_table"
        raise InputError(
            f"cannot read the file: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            file=path,
            fix="check that the file is complete and in the format its suffix says",
            kind=kind,
        ) from None
    raise InputError(
        f"unknown table suffix {path.suffix!r}",
        file=path,
        fix="use .csv, .tsv, .parquet or .jsonl",
        kind="unknown_format",
    )


def read(path: str | Path) -> Runs:
    """Read a canonical runs file.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.tsv``, ``.parquet`` or ``.jsonl`` file (optionally gzipped
        for the text formats) with columns ``model, benchmark, item, score`` and
        optionally ``seed, step, subject, method`` and any extra columns.

    Returns
    -------
    Runs

    Raises
    ------
    InputError
        For an empty, truncated or malformed file.
    ValidationError
        For schema violations, listing every problem with its line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.csv"
    >>> _ = p.write_text("model,benchmark,item,score\\na,x,1,1\\na,x,2,0\\n")
    >>> read(p).matrix().values.tolist()
    [[1.0, 0.0]]
    """
    path = Path(path)
    df, line_col, base = read_table(path)
    if df.height == 0:
        raise InputError(
            "the file has a header but no rows" if df.width else "the file has no rows",
            file=path,
            fix="give a file with at least one scored item",
            kind="empty",
        )
    return make_runs(df, file=path, format=NAME, line_column=line_col, row_base=base)


read_canonical = read
