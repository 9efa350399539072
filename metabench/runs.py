"""Canonical runs: the validated long table and its dense views.

:class:`Runs` holds one row per (model, method, benchmark, item, seed, step) in a
polars DataFrame; :class:`ResponseMatrix` is the dense models × items numpy view of
one benchmark that the analyses consume; :class:`ScoreTable` is a models ×
benchmarks table of benchmark-level scores (a published leaderboard, or
:meth:`Runs.scores`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from metabench.errors import InputError, Problem, ValidationError

__all__ = [
    "KEY_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Exclusion",
    "ResponseMatrix",
    "RunIdentity",
    "Runs",
    "ScoreTable",
    "check_frame",
    "natural_key",
    "normalize_frame",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("model", "benchmark", "item", "score")
"""Columns every runs table must have."""

OPTIONAL_COLUMNS: dict[str, pl.DataType] = {
    "seed": pl.Int64(),
    "step": pl.Int64(),
    "subject": pl.String(),
    "method": pl.String(),
}
"""Optional canonical columns and their types."""

KEY_COLUMNS: tuple[str, ...] = ("model", "method", "benchmark", "item", "seed", "step")
"""The columns that identify one row (``method`` and ``step`` where present)."""

SYSTEM_SEPARATOR = "|"
"""Joins model and method into one system label (``"gpt-4o|cot"``)."""

MAX_PROBLEMS_PER_KIND = 20


@dataclass(frozen=True)
class Exclusion:
    """Something an analysis or a reader left out, counted so it can be reported.

    Parameters
    ----------
    what : str
        ``"item"``, ``"model"``, ``"row"``, ``"cell"`` ...
    reason : str
        Why it was left out.
    count : int
        How many.
    examples : tuple of str
        A few of the identifiers left out.
    """

    what: str
    reason: str
    count: int
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        ex = f" (e.g. {', '.join(self.examples[:3])})" if self.examples else ""
        return f"{self.count} {self.what}(s) excluded: {self.reason}{ex}"

    def to_dict(self) -> dict[str, object]:
        return {
            "what": self.what,
            "reason": self.reason,
            "count": self.count,
            "examples": list(self.examples),
        }


# ---------------------------------------------------------------------------
# validation of a long table


def _row_labels(frame: pl.DataFrame, mask: pl.Series, line_column: str | None, row_base: int) -> list[int]:
    idx = np.flatnonzero(mask.to_numpy())[:MAX_PROBLEMS_PER_KIND]
    if line_column is not None and line_column in frame.columns:
        lines = frame.get_column(line_column).to_numpy()
        return [int(lines[i]) for i in idx]
    return [int(i) + row_base for i in idx]


def _problems_for(
    frame: pl.DataFrame,
    mask: pl.Series,
    *,
    file: str | None,
    line_column: str | None,
    row_base: int,
    message: str,
    fix: str,
    kind: str,
    values: pl.Series | None = None,
) -> list[Problem]:
    n = int(mask.sum())
    if n == 0:
        return []
    rows = _row_labels(frame, mask, line_column, row_base)
    shown = None if values is None else values.filter(mask).head(len(rows)).to_list()
    out = []
    for k, row in enumerate(rows):
        msg = message if shown is None else f"{message} (got {shown[k]!r})"
        out.append(Problem(msg, file=file, line=row, fix=fix, kind=kind))
    if n > len(rows):
        out.append(
            Problem(
                f"{n - len(rows)} more row(s) with the same problem: {message}",
                file=file,
                fix=fix,
                kind=kind,
            )
        )
    return out


def check_frame(
    frame: pl.DataFrame,
    *,
    file: str | Path | None = None,
    line_column: str | None = None,
    row_base: int = 1,
) -> list[Problem]:
    """Return every problem of a long runs table, without raising.

    Parameters
    ----------
    frame : polars.DataFrame
        The table, as read (score may still be text).
    file : str or Path, optional
        Name of the file shown in each problem.
    line_column : str, optional
        Column holding the source line of each row (text formats); otherwise the
        row number is ``row_base + index``.
    row_base : int
        Number of the first row (2 for a CSV with a header line).

    Returns
    -------
    list of Problem
        Empty when the table is valid.

    Examples
    --------
    >>> import polars as pl
    >>> bad = pl.DataFrame({"model": ["a"], "benchmark": ["b"], "item": ["1"], "score": [1.5]})
    >>> [p.kind for p in check_frame(bad)]
    ['score_out_of_range']
    """
    fname = None if file is None else str(file)
    problems: list[Problem] = []
    if frame.height == 0:
        return [
            Problem(
                "the table has no rows",
                file=fname,
                fix="give a file with at least one scored item",
                kind="empty",
            )
        ]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        return [
            Problem(
                f"missing required column(s) {', '.join(repr(c) for c in missing)}; "
                f"found {', '.join(repr(c) for c in frame.columns if not c.startswith('_'))}",
                file=fname,
                fix="rename your columns to model, benchmark, item, score "
                "(and optionally seed, step, subject, method)",
                kind="missing_column",
            )
        ]
    common = dict(file=fname, line_column=line_column, row_base=row_base)
    for col in ("model", "benchmark", "item"):
        s = frame.get_column(col)
        empty = s.is_null()
        if s.dtype == pl.String:
            empty = empty | (s.str.strip_chars() == "")
        problems += _problems_for(
            frame,
            empty,
            message=f"{col} is empty",
            fix=f"give every row a {col}",
            kind=f"missing_{col}",
            **common,
        )
    score = frame.get_column("score")
    if score.dtype == pl.String:
        numeric = score.str.strip_chars().cast(pl.Float64, strict=False)
        bad = numeric.is_null() & score.is_not_null() & (score.str.strip_chars().str.to_lowercase() != "nan")
        problems += _problems_for(
            frame,
            bad,
            message="score is not numeric",
            fix="write scores as numbers in [0, 1] (1 correct, 0 wrong, or partial credit)",
            kind="non_numeric_score",
            values=score,
            **common,
        )
        score = numeric
    elif score.dtype == pl.Boolean:
        score = score.cast(pl.Float64)
    elif not score.dtype.is_numeric():
        return problems + [
            Problem(
                f"score column has type {score.dtype}, not numbers",
                file=fname,
                fix="write scores as numbers in [0, 1]",
                kind="non_numeric_score",
            )
        ]
    score = score.cast(pl.Float64)
    nan = score.is_nan().fill_null(False) | (score.is_null() & frame.get_column("score").is_null())
    if frame.get_column("score").dtype == pl.String:
        raw = frame.get_column("score").str.strip_chars().str.to_lowercase()
        nan = nan | (raw == "nan").fill_null(False) | (raw == "").fill_null(False)
    problems += _problems_for(
        frame,
        nan,
        message="score is missing (NaN or empty)",
        fix="drop rows that were not run (absent rows mean 'not run'), or score failures as 0",
        kind="nan_score",
        **common,
    )
    out = ((score < 0) | (score > 1)).fill_null(False) & ~score.is_nan().fill_null(False)
    problems += _problems_for(
        frame,
        out,
        message="score is outside [0, 1]",
        fix="rescale scores to [0, 1] (divide percentages by 100)",
        kind="score_out_of_range",
        values=score,
        **common,
    )
    for col, dtype in (("seed", pl.Int64), ("step", pl.Int64)):
        if col in frame.columns and not frame.get_column(col).dtype.is_integer():
            s = frame.get_column(col)
            cast = s.cast(pl.Float64, strict=False) if s.dtype != pl.String else s.str.strip_chars().cast(pl.Float64, strict=False)
            bad = (cast.is_null() & s.is_not_null()) | (cast.is_not_null() & (cast != cast.round(0)).fill_null(False))
            if col == "seed":
                bad = bad | (s.is_null() & False)
            problems += _problems_for(
                frame,
                bad,
                message=f"{col} is not an integer",
                fix=f"write {col} as a whole number",
                kind=f"non_integer_{col}",
                values=s,
                **common,
            )
    if "metric" in frame.columns:
        per = frame.group_by("benchmark").agg(pl.col("metric").drop_nulls().unique().sort().alias("m"))
        for bench, names in per.iter_rows():
            if len(names) > 1:
                problems.append(
                    Problem(
                        f"benchmark {bench!r} mixes metrics {', '.join(map(repr, names))}",
                        file=fname,
                        fix="score every row of a benchmark with one metric (choose one with --metric)",
                        kind="mixed_metrics",
                    )
                )
    # keys are checked even when other problems were found, so that one pass lists every kind
    keys = [c for c in KEY_COLUMNS if c in frame.columns]
    dup = ~frame.select(pl.struct(keys).is_first_distinct()).to_series()
    if bool(dup.any()):
        first = frame.select(keys).filter(dup).row(0, named=True)
        desc = ", ".join(f"{k}={v!r}" for k, v in first.items() if v is not None)
        problems += _problems_for(
            frame,
            dup,
            message=f"repeats the key ({', '.join(keys)}) of an earlier row; first repeat: {desc}",
            fix="keep one row per key, or tell repeats apart with a seed (repeat index) column",
            kind="duplicate_key",
            **common,
        )
    return problems


def normalize_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast a checked table to canonical types and column order.

    ``model``, ``benchmark``, ``item``, ``subject`` and ``method`` become strings,
    ``score`` float64, ``seed`` int64 (0 when absent), ``step`` int64. Extra columns
    are kept after the canonical ones; columns starting with ``_`` are dropped.
    """
    exprs = []
    for col in ("model", "benchmark", "item"):
        exprs.append(pl.col(col).cast(pl.String).str.strip_chars().alias(col))
    sc = frame.get_column("score")
    if sc.dtype == pl.String:
        exprs.append(pl.col("score").str.strip_chars().cast(pl.Float64, strict=False).alias("score"))
    else:
        exprs.append(pl.col("score").cast(pl.Float64).alias("score"))
    if "seed" in frame.columns:
        exprs.append(pl.col("seed").cast(pl.Float64, strict=False).cast(pl.Int64).fill_null(0).alias("seed"))
    else:
        exprs.append(pl.lit(0, dtype=pl.Int64).alias("seed"))
    if "step" in frame.columns:
        exprs.append(pl.col("step").cast(pl.Float64, strict=False).cast(pl.Int64).alias("step"))
    for col in ("subject", "method"):
        if col in frame.columns:
            exprs.append(pl.col(col).cast(pl.String).alias(col))
    canonical = [e.meta.output_name() for e in exprs]
    extras = [c for c in frame.columns if c not in canonical and not c.startswith("_")]
    order = ["model", "method", "benchmark", "item", "seed", "step", "subject", "score"]
    cols = [c for c in order if c in canonical] + extras
    out = frame.with_columns(exprs).select(cols)
    # Rows in key order: every later step (matrices, group-bys, sums) then sees the same rows in the
    # same order whatever the order of the files or of the rows within them.
    keys = [c for c in KEY_COLUMNS if c in out.columns]
    return out.sort(keys, nulls_last=True, maintain_order=True)


_DIGITS = re.compile(r"(\d+)")


def natural_key(label: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digit runs by value: ``"q2"`` before ``"q10"``.

    Labels are compared piece by piece (text pieces as text, digit runs as numbers, a
    digit run before text); it is a total order on distinct labels, so any input order
    gives the same sorted order.

    Examples
    --------
    >>> sorted(["q10", "q2", "a", "q1b", "10", "9"], key=natural_key)
    ['9', '10', 'a', 'q1b', 'q2', 'q10']
    """
    parts = _DIGITS.split(label)
    key: list[tuple[int, int | str]] = []
    for k, piece in enumerate(parts):
        if not piece:
            continue
        if k % 2:  # a digit run; leading zeros keep "01" and "1" apart
            key.append((0, int(piece)))
            key.append((0, -len(piece)))
        else:
            key.append((1, piece))
    key.append((2, label))
    return tuple(key)


# ---------------------------------------------------------------------------
# ScoreTable


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Benchmark-level scores: models × benchmarks, NaN where missing.

    Parameters
    ----------
    values : numpy.ndarray
        Float array of shape (n_models, n_benchmarks).
    models, benchmarks : tuple of str
        Row and column labels.
    scales : dict
        Scale of each benchmark column: ``"unit"`` (in [0, 1]), ``"percent"``
        (in [0, 100]) or ``"raw"`` (anything else, e.g. Elo).
    lower_is_better : frozenset of str
        Benchmarks where a lower score is better.
    source : str, optional
        Where the table came from.

    Examples
    --------
    >>> import numpy as np
    >>> t = ScoreTable.from_array(np.array([[0.5, 80.0], [0.7, np.nan]]),
    ...                           models=["a", "b"], benchmarks=["x", "y"])
    >>> t.scales["y"]
    'percent'
    >>> float(t.normalized().values[0, 1])
    0.8
    """

    values: np.ndarray
    models: tuple[str, ...]
    benchmarks: tuple[str, ...]
    scales: dict[str, str] = field(default_factory=dict)
    lower_is_better: frozenset[str] = frozenset()
    source: str | None = None
    exclusions: tuple[Exclusion, ...] = ()

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=float)
        if v.ndim != 2 or v.shape != (len(self.models), len(self.benchmarks)):
            raise InputError(
                f"values have shape {v.shape} but there are {len(self.models)} models "
                f"and {len(self.benchmarks)} benchmarks",
                fix="give one row per model and one column per benchmark",
            )
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        object.__setattr__(self, "benchmarks", tuple(str(b) for b in self.benchmarks))
        scales = dict(self.scales)
        for j, b in enumerate(self.benchmarks):
            if b not in scales:
                scales[b] = detect_scale(v[:, j])
        object.__setattr__(self, "scales", scales)
        object.__setattr__(self, "lower_is_better", frozenset(self.lower_is_better))
        object.__setattr__(self, "exclusions", tuple(self.exclusions))

    @classmethod
    def from_array(
        cls,
        values: np.ndarray | Sequence[Sequence[float]],
        models: Sequence[str] | None = None,
        benchmarks: Sequence[str] | None = None,
        **kwargs: object,
    ) -> ScoreTable:
        """Build a table from a 2-D array; labels default to ``m0, m1, ...`` / ``b0, ...``."""
        v = np.asarray(values, dtype=float)
        if v.ndim != 2:
            raise InputError(f"expected a 2-D array (models × benchmarks), got {v.ndim}-D")
        models = [f"m{i}" for i in range(v.shape[0])] if models is None else list(models)
        benchmarks = [f"b{j}" for j in range(v.shape[1])] if benchmarks is None else list(benchmarks)
        return cls(v, tuple(models), tuple(benchmarks), **kwargs)  # type: ignore[arg-type]

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape  # type: ignore[return-value]

    @property
    def observed(self) -> np.ndarray:
        """Boolean mask of present cells."""
        return ~np.isnan(self.values)

    def normalized(self) -> ScoreTable:
        """Return a copy with percent columns divided by 100 (unit scale)."""
        v = self.values.copy()
        scales = dict(self.scales)
        for j, b in enumerate(self.benchmarks):
            if scales[b] == "percent":
                v[:, j] /= 100.0
                scales[b] = "unit"
        return replace(self, values=v, scales=scales)

    def oriented(self) -> ScoreTable:
        """Return a copy where higher is better in every column (lower-is-better negated)."""
        v = self.values.copy()
        for j, b in enumerate(self.benchmarks):
            if b in self.lower_is_better:
                v[:, j] = -v[:, j]
        return replace(self, values=v, lower_is_better=frozenset())

    def select(self, models: Iterable[str] | None = None, benchmarks: Iterable[str] | None = None) -> ScoreTable:
        """Return the sub-table of the given models and benchmarks (in that order)."""
        mi = list(range(len(self.models))) if models is None else [self._index(self.models, m, "model") for m in models]
        bj = list(range(len(self.benchmarks))) if benchmarks is None else [self._index(self.benchmarks, b, "benchmark") for b in benchmarks]
        bn = [self.benchmarks[j] for j in bj]
        return replace(
            self,
            values=self.values[np.ix_(mi, bj)],
            models=tuple(self.models[i] for i in mi),
            benchmarks=tuple(bn),
            scales={b: self.scales[b] for b in bn},
            lower_is_better=frozenset(b for b in bn if b in self.lower_is_better),
        )

    @staticmethod
    def _index(labels: tuple[str, ...], label: str, what: str) -> int:
        try:
            return labels.index(label)
        except ValueError:
            raise InputError(f"unknown {what} {label!r}", fix=f"choose one of {', '.join(labels[:10])}") from None

    def to_frame(self, long: bool = False) -> pl.DataFrame:
        """Wide table (``model`` then one column per benchmark), or long (model, benchmark, score)."""
        wide = pl.DataFrame({"model": list(self.models), **{b: self.values[:, j] for j, b in enumerate(self.benchmarks)}})
        wide = wide.with_columns([pl.col(b).fill_nan(None) for b in self.benchmarks])
        if not long:
            return wide
        return (
            wide.unpivot(index="model", variable_name="benchmark", value_name="score")
            .drop_nulls("score")
        )

    def __repr__(self) -> str:
        cov = float(self.observed.mean()) if self.values.size else 0.0
        return f"ScoreTable({len(self.models)} models × {len(self.benchmarks)} benchmarks, {cov:.0%} observed)"


def detect_scale(column: np.ndarray) -> str:
    """Name the scale of a score column: ``unit``, ``percent`` or ``raw``."""
    x = column[~np.isnan(column)]
    if x.size == 0:
        return "unit"
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0 and hi <= 1:
        return "unit"
    if lo >= 0 and hi <= 100:
        return "percent"
    return "raw"


# ---------------------------------------------------------------------------
# ResponseMatrix


@dataclass(frozen=True, eq=False)
class ResponseMatrix:
    """Dense models × items scores of one benchmark; NaN where a model did not run an item.

    Parameters
    ----------
    values : numpy.ndarray
        Float array (n_models, n_items), or (n_models, n_items, n_seeds) when
        seeds are kept as a third axis.
    models, items : tuple of str
        Row and column labels.
    subjects : tuple of str or None, optional
        Cluster label of each item (``None`` entries where unknown).
    seeds : tuple of int, optional
        Labels of the seed axis when ``values`` is 3-D.
    benchmark : str, optional
        Benchmark name.
    n_seeds : numpy.ndarray, optional
        (n_models, n_items) count of seeds averaged into each cell.

    Examples
    --------
    >>> m = ResponseMatrix.from_array([[1, 0, 1], [0, 0, float("nan")]])
    >>> m.models, m.items
    (('m0', 'm1'), ('i0', 'i1', 'i2'))
    >>> m.mean_scores().round(3).tolist()
    [0.667, 0.0]
    """

    values: np.ndarray
    models: tuple[str, ...]
    items: tuple[str, ...]
    subjects: tuple[str | None, ...] | None = None
    seeds: tuple[int, ...] | None = None
    benchmark: str | None = None
    n_seeds: np.ndarray | None = None

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=float)
        if v.ndim not in (2, 3):
            raise InputError(f"a response matrix is 2-D (models × items) or 3-D with seeds; got {v.ndim}-D")
        if v.shape[0] != len(self.models) or v.shape[1] != len(self.items):
            raise InputError(
                f"values have shape {v.shape} but there are {len(self.models)} models and {len(self.items)} items",
                fix="give one label per row (model) and per column (item)",
            )
        if v.ndim == 3 and (self.seeds is None or len(self.seeds) != v.shape[2]):
            raise InputError("a 3-D response matrix needs one seed label per slice of the third axis")
        if self.subjects is not None and len(self.subjects) != len(self.items):
            raise InputError(f"{len(self.subjects)} subject labels for {len(self.items)} items")
        finite = v[~np.isnan(v)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            raise InputError(
                f"scores must lie in [0, 1]; found values from {finite.min():g} to {finite.max():g}",
                fix="rescale scores to [0, 1]",
            )
        if len(set(self.models)) != len(self.models):
            raise InputError("model labels are not unique", fix="give each row a distinct model name")
        if len(set(self.items)) != len(self.items):
            raise InputError("item labels are not unique", fix="give each column a distinct item id")
        v.setflags(write=False)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        object.__setattr__(self, "items", tuple(str(i) for i in self.items))

    @classmethod
    def from_array(
        cls,
        values: np.ndarray | Sequence[Sequence[float]],
        models: Sequence[str] | None = None,
        items: Sequence[str] | None = None,
        *,
        subjects: Sequence[str | None] | None = None,
        benchmark: str | None = None,
        seeds: Sequence[int] | None = None,
    ) -> ResponseMatrix:
        """Wrap an array of scores; labels default to ``m0, m1, ...`` and ``i0, i1, ...``.

        Examples
        --------
        >>> ResponseMatrix.from_array([[1, 0], [1, 1]], models=["a", "b"]).shape
        (2, 2)
        """
        v = np.array(values, dtype=float)
        if v.ndim not in (2, 3):
            raise InputError(f"expected a 2-D array (models × items), got {v.ndim}-D")
        models = [f"m{i}" for i in range(v.shape[0])] if models is None else list(models)
        items = [f"i{j}" for j in range(v.shape[1])] if items is None else list(items)
        if v.ndim == 3 and seeds is None:
            seeds = list(range(v.shape[2]))
        return cls(
            v,
            tuple(models),
            tuple(items),
            None if subjects is None else tuple(subjects),
            None if seeds is None else tuple(int(s) for s in seeds),
            benchmark,
        )

    # -- shape and coverage --------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @property
    def n_models(self) -> int:
        return self.values.shape[0]

    @property
    def n_items(self) -> int:
        return self.values.shape[1]

    def cell_values(self) -> np.ndarray:
        """(models × items) array, averaging the seed axis when present (NaN-aware)."""
        if self.values.ndim == 2:
            return self.values
        with np.errstate(invalid="ignore"):
            cnt = (~np.isnan(self.values)).sum(axis=2)
            tot = np.nansum(self.values, axis=2)
            out = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
        return out

    @property
    def observed(self) -> np.ndarray:
        """Boolean (models × items) mask of cells with at least one score."""
        return ~np.isnan(self.cell_values())

    @property
    def coverage(self) -> float:
        """Fraction of (model, item) cells observed."""
        return float(self.observed.mean()) if self.values.size else 0.0

    def mean_scores(self) -> np.ndarray:
        """Mean score of each model over the items it ran (NaN if none)."""
        v = self.cell_values()
        cnt = (~np.isnan(v)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, np.nansum(v, axis=1) / np.maximum(cnt, 1), np.nan)

    def item_means(self) -> np.ndarray:
        """Mean score of each item over the models that ran it (NaN if none)."""
        v = self.cell_values()
        cnt = (~np.isnan(v)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, np.nansum(v, axis=0) / np.maximum(cnt, 1), np.nan)

    def is_binary(self) -> bool:
        """True when every observed score is 0 or 1."""
        v = self.values[~np.isnan(self.values)]
        return bool(np.all((v == 0) | (v == 1)))

    # -- subsetting ------------------------------------------------------------
    def take(self, models: Sequence[int] | np.ndarray | None = None, items: Sequence[int] | np.ndarray | None = None) -> ResponseMatrix:
        """Return the sub-matrix of the given model and item positions (or boolean masks)."""
        mi = np.arange(self.n_models) if models is None else np.asarray(models)
        ij = np.arange(self.n_items) if items is None else np.asarray(items)
        if mi.dtype == bool:
            mi = np.flatnonzero(mi)
        if ij.dtype == bool:
            ij = np.flatnonzero(ij)
        vals = self.values[mi][:, ij]
        return ResponseMatrix(
            vals,
            tuple(self.models[i] for i in mi),
            tuple(self.items[j] for j in ij),
            None if self.subjects is None else tuple(self.subjects[j] for j in ij),
            self.seeds,
            self.benchmark,
            None if self.n_seeds is None else self.n_seeds[np.ix_(mi, ij)],
        )

    def drop_empty(self, min_responses: int = 1) -> tuple[ResponseMatrix, list[Exclusion]]:
        """Drop items and models with fewer than ``min_responses`` observed cells.

        Returns the reduced matrix and the exclusions, so a report can show them.
        """
        obs = self.observed
        keep_items = obs.sum(axis=0) >= min_responses
        keep_models = obs[:, keep_items].sum(axis=1) >= min_responses
        excl = []
        if (~keep_items).any():
            dropped = [self.items[j] for j in np.flatnonzero(~keep_items)]
            excl.append(Exclusion("item", f"fewer than {min_responses} response(s)", len(dropped), tuple(dropped[:5])))
        if (~keep_models).any():
            dropped = [self.models[i] for i in np.flatnonzero(~keep_models)]
            excl.append(Exclusion("model", f"fewer than {min_responses} response(s)", len(dropped), tuple(dropped[:5])))
        return self.take(keep_models, keep_items), excl

    def to_frame(self) -> pl.DataFrame:
        """Long table (model, item, [seed,] score) of the observed cells."""
        v = self.values
        if v.ndim == 2:
            mi, ij = np.nonzero(~np.isnan(v))
            data = {
                "model": np.asarray(self.models, dtype=object)[mi],
                "item": np.asarray(self.items, dtype=object)[ij],
                "score": v[mi, ij],
            }
        else:
            mi, ij, sk = np.nonzero(~np.isnan(v))
            data = {
                "model": np.asarray(self.models, dtype=object)[mi],
                "item": np.asarray(self.items, dtype=object)[ij],
                "seed": np.asarray(self.seeds, dtype=np.int64)[sk],
                "score": v[mi, ij, sk],
            }
        df = pl.DataFrame({k: (list(x) if x.dtype == object else x) for k, x in data.items()})
        if self.benchmark is not None:
            df = df.with_columns(pl.lit(self.benchmark).alias("benchmark")).select(
                ["model", "benchmark", *[c for c in df.columns if c != "model"]]
            )
        return df

    def __repr__(self) -> str:
        extra = f" × {len(self.seeds)} seeds" if self.values.ndim == 3 and self.seeds else ""
        name = f"{self.benchmark}: " if self.benchmark else ""
        return f"ResponseMatrix({name}{self.n_models} models × {self.n_items} items{extra}, {self.coverage:.0%} observed)"


# ---------------------------------------------------------------------------
# Runs


ITEM_KEY_SCHEMA = {
    "source": pl.String,
    "benchmark": pl.String,
    "item": pl.String,
    "item_key": pl.String,
    "kind": pl.String,
}
"""Item-key side table: ``kind`` is ``"text"`` for the key of the whole question text and ``"part"`` for
the key of a run of its sentences (a prompt's question without its preamble or instructions)."""


def merge_item_keys(tables: Iterable[pl.DataFrame | None]) -> pl.DataFrame | None:
    """Union of item-key side tables, one row per (source, benchmark, item, item_key), sorted."""
    parts = [t for t in tables if t is not None and t.height]
    if not parts:
        return None
    return pl.concat(parts, how="vertical_relaxed").unique().sort("source", "benchmark", "item", "kind", "item_key")


@dataclass(frozen=True)
class RunIdentity:
    """Who ran what, how and when: the identity of one harness run of one task.

    Readers fill it from the harness's own metadata (lm-eval's ``results_*.json``,
    Inspect's eval spec, HELM's run spec, lighteval's config). :func:`metabench.io.load`
    uses it to tell seeds (same configuration, another seed or epoch) from prompting
    variants (another few-shot count or template: another ``method``) and from exact
    re-runs (same configuration and seed: the latest complete one is used).

    Parameters
    ----------
    harness : str
        Reader name (``"lm_eval"``, ``"inspect_ai"``, ``"helm"``, ``"lighteval"``).
    model, task : str
        Model and task (benchmark) as the rows name them.
    config : tuple of (str, str)
        The prompting and generation configuration that makes a system: few-shot
        count, chat or prompt template, system instruction, generation settings.
        Seeds, dates and paths are not part of it.
    seeds : tuple of (str, int or None)
        Seeds the harness recorded (``random_seed``, ``fewshot_seed``, a sampling seed).
    timestamp : str
        When the run started, as sortable text (ISO 8601 or the harness's stamp).
    status : str
        ``"complete"``, or the harness's word for a run that did not finish
        (``"error"``, ``"cancelled"``, ``"partial"``).
    reason : str, optional
        Why the run did not finish, as the harness recorded it.
    run : str
        The harness's id of the run (a results file, an eval id, a run folder).
    repeats : str, optional
        What the rows' ``seed`` already counts within the run (``"epoch"``,
        ``"trial"``, ``"repeat"``), None when each row is the run's only try.

    Examples
    --------
    >>> r = RunIdentity("lm_eval", "m", "mmlu", config=(("num_fewshot", "5"),), seeds=(("random_seed", 0),))
    >>> r.config_label(("num_fewshot",))
    '5-shot'
    """

    harness: str
    model: str
    task: str
    config: tuple[tuple[str, str], ...] = ()
    seeds: tuple[tuple[str, int | None], ...] = ()
    timestamp: str = ""
    status: str = "complete"
    reason: str | None = None
    run: str = ""
    repeats: str | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def config_value(self, key: str) -> str | None:
        for k, v in self.config:
            if k == key:
                return v
        return None

    def config_label(self, keys: Sequence[str]) -> str:
        """Readable label of this run's values of ``keys`` (``"2-shot"``, ``"temperature=0.7"``)."""
        parts = []
        for key in keys:
            value = self.config_value(key)
            if key == "num_fewshot":
                parts.append(f"{value if value not in (None, 'None') else 0}-shot")
            elif value is None:
                parts.append(f"no {key}")
            else:
                short = " ".join(value.split())
                try:  # a JSON mapping of settings reads as k=v;k=v
                    obj = json.loads(value)
                except ValueError:
                    obj = None
                if isinstance(obj, dict) and obj and all(isinstance(v, (int, float, str, bool)) for v in obj.values()):
                    short = ";".join(f"{k}={v}" for k, v in sorted(obj.items()))
                    parts.append(short)
                    continue
                if len(short) > 24 or "," in short or SYSTEM_SEPARATOR in short:
                    short = hashlib.sha256(value.encode()).hexdigest()[:8]
                parts.append(f"{key}={short}")
        return ",".join(parts)


@dataclass(frozen=True)
class SourceFile:
    """One input file: its path, detected format and content hash, and the run it holds."""

    path: str
    format: str
    sha256: str | None = None
    rows: int = 0
    run: RunIdentity | None = None


class Runs:
    """Validated per-item runs in the canonical long schema.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame or dict
        A long table with at least ``model``, ``benchmark``, ``item``, ``score``.
    sources : list of SourceFile, optional
        Files the rows came from (for provenance).
    file : str, optional
        Name used in error messages when ``frame`` was read from a file.

    Raises
    ------
    ValidationError
        If the table violates the schema; every problem is listed.

    Examples
    --------
    >>> runs = Runs({"model": ["a", "a", "b"], "benchmark": ["x"] * 3,
    ...              "item": ["1", "2", "1"], "score": [1.0, 0.0, 1.0]})
    >>> runs.models, runs.benchmarks
    (('a', 'b'), ('x',))
    >>> runs.matrix("x").values.tolist()
    [[1.0, 0.0], [1.0, nan]]
    """

    def __init__(
        self,
        frame: pl.DataFrame | object,
        *,
        sources: Sequence[SourceFile] | None = None,
        file: str | Path | None = None,
        exclusions: Sequence[Exclusion] = (),
        item_keys: pl.DataFrame | None = None,
        notes: Sequence[str] = (),
        _checked: bool = False,
    ) -> None:
        if not isinstance(frame, pl.DataFrame):
            try:
                frame = pl.DataFrame(frame)
            except Exception as exc:
                raise InputError(f"cannot turn {type(frame).__name__} into a table: {exc}") from exc
        if not _checked:
            problems = check_frame(frame, file=file)
            if problems:
                raise ValidationError(problems)
            frame = normalize_frame(frame)
        self._frame: pl.DataFrame = frame
        self.sources: tuple[SourceFile, ...] = tuple(sources or ())
        self.exclusions: tuple[Exclusion, ...] = tuple(exclusions)
        self.notes: tuple[str, ...] = tuple(notes)
        """What loading decided about the inputs (runs kept as seeds, items aligned across harnesses)."""
        self.item_keys: pl.DataFrame | None = item_keys
        """Content keys of items, where a reader saw the question text: columns ``source``
        (reader name), ``benchmark``, ``item`` and ``item_key`` (a hash of the normalised
        text, see :func:`metabench.io.identity.content_key`); None when no reader gave any."""

    # -- construction ------------------------------------------------------------
    @classmethod
    def concat(cls, parts: Sequence[Runs]) -> Runs:
        """Merge several Runs; a key present in two parts is an error naming both files."""
        if not parts:
            raise InputError("nothing to merge: no runs were given")
        if len(parts) == 1:
            return parts[0]
        frames = []
        for k, p in enumerate(parts):
            frames.append(p.frame.with_columns(pl.lit(k, dtype=pl.Int32).alias("_part")))
        merged = pl.concat(frames, how="diagonal_relaxed")
        keys = [c for c in KEY_COLUMNS if c in merged.columns]
        dup = ~merged.select(pl.struct(keys).is_first_distinct()).to_series()
        if bool(dup.any()):
            rows = merged.filter(dup)
            first = rows.row(0, named=True)
            involved = merged.join(rows.select(keys).head(1), on=keys, how="semi", nulls_equal=True)
            parts_involved = sorted(set(involved.get_column("_part").to_list()))
            names = []
            for k in parts_involved:
                src = parts[k].sources
                names.append(src[0].path if src else f"input {k + 1}")
            desc = ", ".join(f"{k}={first[k]!r}" for k in keys if first[k] is not None)
            raise ValidationError(
                [
                    Problem(
                        f"{int(dup.sum())} rows share a key across inputs ({', '.join(names)}); first: {desc}",
                        file=names[0],
                        fix="load one of the inputs only, or give the repeats distinct seeds or methods",
                        kind="duplicate_key",
                    )
                ]
            )
        merged = merged.drop("_part")
        # canonical columns first
        merged = normalize_frame(merged)
        srcs = [s for p in parts for s in p.sources]
        excl = [e for p in parts for e in p.exclusions]
        notes = tuple(dict.fromkeys(n for p in parts for n in p.notes))
        return cls(
            merged,
            sources=srcs,
            exclusions=excl,
            item_keys=merge_item_keys(p.item_keys for p in parts),
            notes=notes,
            _checked=True,
        )

    @classmethod
    def read(cls, path: str | Path) -> Runs:
        """Read a canonical runs file (Parquet, CSV or JSONL)."""
        from metabench.io.canonical import read_canonical

        return read_canonical(path)

    def write(self, path: str | Path) -> Path:
        """Write the runs as Parquet, CSV or JSONL, chosen by the file suffix.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> r = Runs({"model": ["a"], "benchmark": ["x"], "item": ["1"], "score": [1.0]})
        >>> p = r.write(pathlib.Path(tempfile.mkdtemp()) / "runs.csv")
        >>> Runs.read(p).frame.equals(r.frame)
        True
        """
        path = Path(path)
        suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            self._frame.write_parquet(path, compression="zstd")
        elif suffix == ".csv":
            self._frame.write_csv(path)
        elif suffix in (".jsonl", ".ndjson"):
            self._frame.write_ndjson(path)
        else:
            raise InputError(
                f"cannot tell the format from the suffix {path.suffix!r}",
                file=path,
                fix="use .parquet, .csv or .jsonl",
            )
        return path

    # -- views ----------------------------------------------------------------------
    @property
    def frame(self) -> pl.DataFrame:
        """The canonical long table (polars)."""
        return self._frame

    def to_frame(self) -> pl.DataFrame:
        """The canonical long table (polars); same as :attr:`frame`."""
        return self._frame

    def __len__(self) -> int:
        return self._frame.height

    def describe_sources(self) -> str:
        """One sentence on what was read: files per format and, where readers identified them, harness runs.

        ``info`` and the report's overview both print it, so they count runs the same way: a
        harness run is one run of one task (an lm-eval samples file, an Inspect log, a HELM
        run folder, a lighteval details file); what loading left out is in :attr:`exclusions`.

        Examples
        --------
        >>> Runs({"model": ["a"], "benchmark": ["x"], "item": ["1"], "score": [1.0]},
        ...      sources=[SourceFile("runs.csv", "canonical", rows=1)]).describe_sources()
        'Read from 1 canonical file(s).'
        """
        files: dict[str, int] = {}
        runs: dict[str, set[tuple[str, str, str]]] = {}
        for s in self.sources:
            if not s.rows:
                continue
            files[s.format] = files.get(s.format, 0) + 1
            if s.run is not None:
                runs.setdefault(s.format, set()).add((s.run.run, s.run.task, s.path))
        if not files:
            return ""
        text = "Read from " + ", ".join(f"{n} {f} file(s)" for f, n in sorted(files.items()))
        if runs:
            n = sum(len(v) for v in runs.values())
            text += f": {n} harness run(s) of a task (" + ", ".join(f"{f} {len(v)}" for f, v in sorted(runs.items())) + ")"
        return text + "."

    @property
    def n_items(self) -> int:
        """Distinct (benchmark, item) pairs: the number of items, counted as every summary counts them."""
        return int(self._frame.select(pl.struct("benchmark", "item").n_unique()).item())

    @property
    def has_methods(self) -> bool:
        return "method" in self._frame.columns and self._frame.get_column("method").null_count() < self._frame.height

    def _system_expr(self) -> pl.Expr:
        if not self.has_methods:
            return pl.col("model")
        return (
            pl.when(pl.col("method").is_null())
            .then(pl.col("model"))
            .otherwise(pl.concat_str([pl.col("model"), pl.lit(SYSTEM_SEPARATOR), pl.col("method")]))
        )

    @property
    def models(self) -> tuple[str, ...]:
        """Distinct model names, sorted."""
        return tuple(sorted(self._frame.get_column("model").unique().to_list()))

    @property
    def systems(self) -> tuple[str, ...]:
        """Distinct systems (``model`` or ``model|method``), sorted."""
        return tuple(sorted(self._frame.select(self._system_expr().alias("s")).get_column("s").unique().to_list()))

    @property
    def benchmarks(self) -> tuple[str, ...]:
        """Distinct benchmark names, sorted."""
        return tuple(sorted(self._frame.get_column("benchmark").unique().to_list()))

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(sorted(self._frame.get_column("seed").unique().to_list()))

    @property
    def has_steps(self) -> bool:
        return "step" in self._frame.columns and self._frame.get_column("step").null_count() < self._frame.height

    def filter(self, *predicates: pl.Expr, **equals: object) -> Runs:
        """Keep rows matching polars predicates and/or ``column=value`` equalities."""
        df = self._frame
        for p in predicates:
            df = df.filter(p)
        for col, val in equals.items():
            if col not in df.columns:
                raise InputError(f"no column {col!r} to filter on", fix=f"use one of {', '.join(df.columns)}")
            if isinstance(val, (list, tuple, set, frozenset)):
                df = df.filter(pl.col(col).is_in(list(val)))
            else:
                df = df.filter(pl.col(col) == val)
        return Runs(
            df, sources=self.sources, exclusions=self.exclusions, item_keys=self.item_keys, notes=self.notes, _checked=True
        )

    def summary(self) -> pl.DataFrame:
        """One row per benchmark: systems, items, rows, seeds, coverage, mean score.

        ``mean_score`` averages each (system, item) cell over its seeds first, then the
        cells: a system run with three epochs weighs as much as one run once.

        Examples
        --------
        >>> r = Runs({"model": ["a", "a", "a", "b"], "benchmark": ["x"] * 4, "item": ["1"] * 4,
        ...           "seed": [0, 1, 2, 0], "score": [1.0, 1.0, 1.0, 0.0]})
        >>> r.summary().select("rows", "seeds", "mean_score").row(0)
        (4, 3, 0.5)
        """
        df = self._frame.with_columns(self._system_expr().alias("_system"))
        cells = df.group_by("benchmark", "_system", "item").agg(pl.col("score").mean().alias("_cell"))
        means = cells.group_by("benchmark").agg(pl.col("_cell").mean().alias("mean_score"), pl.len().alias("_cells"))
        return (
            df.group_by("benchmark")
            .agg(
                pl.col("_system").n_unique().alias("systems"),
                pl.col("item").n_unique().alias("items"),
                pl.len().alias("rows"),
                pl.col("seed").n_unique().alias("seeds"),
            )
            .join(means, on="benchmark")
            .with_columns((pl.col("_cells") / (pl.col("systems") * pl.col("items"))).alias("coverage"))
            .select("benchmark", "systems", "items", "rows", "seeds", "mean_score", "coverage")
            .sort("benchmark")
        )

    def matrix(
        self,
        benchmark: str | None = None,
        *,
        seeds: Literal["mean", "keep", "first"] = "mean",
        step: int | Literal["last"] | None = "last",
    ) -> ResponseMatrix:
        """Dense models × items view of one benchmark.

        Parameters
        ----------
        benchmark : str, optional
            Which benchmark; may be omitted when the runs hold only one.
        seeds : {"mean", "keep", "first"}
            Average repeats over seeds (default), keep them as a third axis, or
            keep the lowest seed only.
        step : int, "last" or None
            When runs carry ``step``: the step to use, ``"last"`` for each model's
            latest step (default), or None to require that there is one step only.

        Returns
        -------
        ResponseMatrix
            Rows are systems (``model`` or ``model|method``), sorted; columns are
            items in natural order of their ids (:func:`natural_key`), so the matrix
            does not depend on the order of the input rows.
        """
        bms = self.benchmarks
        if benchmark is None:
            if len(bms) != 1:
                raise InputError(
                    f"these runs hold {len(bms)} benchmarks; say which one",
                    fix=f"pass benchmark=... (one of {', '.join(bms[:10])})",
                )
            benchmark = bms[0]
        elif benchmark not in bms:
            raise InputError(f"no benchmark {benchmark!r} in these runs", fix=f"choose one of {', '.join(bms[:20])}")
        df = self._frame.filter(pl.col("benchmark") == benchmark)
        if self.has_steps and "step" in df.columns and df.get_column("step").n_unique() > 1:
            if step == "last":
                last = df.group_by("model").agg(pl.col("step").max().alias("_last"))
                df = df.join(last, on="model").filter(pl.col("step") == pl.col("_last")).drop("_last")
            elif step is None:
                raise InputError(
                    f"benchmark {benchmark!r} has several training steps",
                    fix="pass step=<int> or step='last'",
                )
            else:
                df = df.filter(pl.col("step") == step)
                if df.height == 0:
                    raise InputError(f"no rows at step {step} in benchmark {benchmark!r}")
        if seeds not in ("mean", "keep", "first"):
            raise InputError(f"seeds must be 'mean', 'keep' or 'first', not {seeds!r}")
        df = df.with_columns(self._system_expr().alias("_system"))
        if seeds == "first":
            first = df.group_by("_system", "item").agg(pl.col("seed").min().alias("_first"))
            df = df.join(first, on=["_system", "item"]).filter(pl.col("seed") == pl.col("_first")).drop("_first")
        models = sorted(df.get_column("_system").unique().to_list())
        items = sorted(df.get_column("item").unique().to_list(), key=natural_key)
        m_index = {m: i for i, m in enumerate(models)}
        i_index = {it: j for j, it in enumerate(items)}
        mi = df.get_column("_system").replace_strict(m_index, return_dtype=pl.Int64).to_numpy()
        ij = df.get_column("item").replace_strict(i_index, return_dtype=pl.Int64).to_numpy()
        score = df.get_column("score").to_numpy().astype(float)
        subjects = None
        if "subject" in df.columns and df.get_column("subject").null_count() < df.height:
            sub = df.group_by("item", maintain_order=True).agg(pl.col("subject").drop_nulls().first())
            sub_map = dict(zip(sub["item"].to_list(), sub["subject"].to_list()))
            subjects = tuple(sub_map.get(it) for it in items)
        n_m, n_i = len(models), len(items)
        if seeds == "keep":
            seed_vals = sorted(df.get_column("seed").unique().to_list())
            s_index = {s: k for k, s in enumerate(seed_vals)}
            sk = df.get_column("seed").replace_strict(s_index, return_dtype=pl.Int64).to_numpy()
            vals = np.full((n_m, n_i, len(seed_vals)), np.nan)
            vals[mi, ij, sk] = score
            counts = (~np.isnan(vals)).sum(axis=2)
            return ResponseMatrix(vals, tuple(models), tuple(items), subjects, tuple(seed_vals), benchmark, counts)
        flat = mi * n_i + ij
        tot = np.bincount(flat, weights=score, minlength=n_m * n_i)
        cnt = np.bincount(flat, minlength=n_m * n_i)
        with np.errstate(invalid="ignore", divide="ignore"):
            vals = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan).reshape(n_m, n_i)
        return ResponseMatrix(vals, tuple(models), tuple(items), subjects, None, benchmark, cnt.reshape(n_m, n_i))

    def matrices(self, **kwargs: object) -> dict[str, ResponseMatrix]:
        """One :meth:`matrix` per benchmark."""
        return {b: self.matrix(b, **kwargs) for b in self.benchmarks}  # type: ignore[arg-type]

    def scores(self) -> ScoreTable:
        """Mean score per system and benchmark (seeds averaged per item first).

        Examples
        --------
        >>> r = Runs({"model": ["a", "a", "b"], "benchmark": ["x", "y", "x"],
        ...           "item": ["1", "1", "1"], "score": [1.0, 0.5, 0.0]})
        >>> r.scores().to_frame().rows()
        [('a', 1.0, 0.5), ('b', 0.0, None)]
        """
        df = self._frame.with_columns(self._system_expr().alias("_system"))
        per_item = df.group_by("_system", "benchmark", "item").agg(pl.col("score").mean())
        per_bench = per_item.group_by("_system", "benchmark").agg(pl.col("score").mean())
        models = sorted(per_bench.get_column("_system").unique().to_list())
        benches = self.benchmarks
        m_index = {m: i for i, m in enumerate(models)}
        b_index = {b: j for j, b in enumerate(benches)}
        vals = np.full((len(models), len(benches)), np.nan)
        mi = per_bench.get_column("_system").replace_strict(m_index, return_dtype=pl.Int64).to_numpy()
        bj = per_bench.get_column("benchmark").replace_strict(b_index, return_dtype=pl.Int64).to_numpy()
        vals[mi, bj] = per_bench.get_column("score").to_numpy()
        src = ", ".join(s.path for s in self.sources) or None
        return ScoreTable(vals, tuple(models), tuple(benches), {b: "unit" for b in benches}, frozenset(), src)

    def __repr__(self) -> str:
        return (
            f"Runs({self._frame.height:,} rows: {len(self.systems)} systems × "
            f"{len(self.benchmarks)} benchmarks, {self.n_items:,} items)"
        )
