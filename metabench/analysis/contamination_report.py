"""The contamination section of a report: ``metabench analyze PATH --method contamination``.

From runs alone: for every benchmark, ConStat (is a system's score higher than its
score on a related reference benchmark predicts, across the other systems?) against
the benchmark whose system ranking agrees best with it, and IRT person fit (lz* and
Guttman errors with simulated p-values).

With dates: when items carry a creation date and models a training cut-off, the date
split (:func:`~metabench.analysis.contamination.date_split_test`) compares each model's
accuracy on items created before its cut-off with later items, adjusted for the other
systems. Dates come from columns of the runs (an item's ``created`` or
``item_created``; a model's ``training_cutoff`` or ``cutoff``), each constant per item
or model (otherwise the date split is skipped with a note), or from side tables named
by options.

With model access: the results of ``metabench probe`` (Min-K%, Min-K%++, zlib, the
exchangeability test, TS-Guessing), read from its ``probe*.json`` files found beside
the runs' source files or named by an option (see :func:`find_probes`).

Every test's p-values are corrected (Holm) across the systems tested on the same
benchmark with the same test; the section opens with one table of all signals and a
heat map of their p-values.

Options (``--option key=value``): ``contamination_pairs`` (``bench:reference`` pairs,
comma-separated; default: for each benchmark the best-agreeing other benchmark),
``contamination_bootstrap`` (default 500), ``contamination_sims`` (default 2000),
``contamination_min_models`` (default 6), ``alpha`` (default 0.05), ``item_dates``
(a CSV or Parquet file with columns benchmark, item, created), ``model_cutoffs`` (a
CSV or Parquet file with columns model, training_cutoff), ``contamination_probes``
(probe files or folders searched recursively, comma-separated),
``contamination_signals_rows`` (rows of the signals table shown, default 100) and
``input_paths`` (the paths given to ``metabench analyze``; folders among them are
searched recursively for probe files).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import orjson
import polars as pl
from scipy import stats

from metabench.analysis._charts import inline_data, section_slug
from metabench.analysis.contamination import _adjust, constat, date_split_test, person_fit_test
from metabench.analysis.registry import AnalysisContext, register
from metabench.errors import InputError, MetabenchError
from metabench.report import Chart, Section, Table, Text
from metabench.runs import Runs

__all__ = [
    "CUTOFF_COLUMNS",
    "ITEM_DATE_COLUMNS",
    "PROBE_MARKER",
    "DateMetadata",
    "Probe",
    "contamination_sections",
    "date_metadata",
    "find_probes",
    "read_probe",
    "reference_pairs",
]

ITEM_DATE_COLUMNS: tuple[str, ...] = ("created", "item_created")
"""Columns holding an item's creation date, in the order they are looked for."""

CUTOFF_COLUMNS: tuple[str, ...] = ("training_cutoff", "cutoff")
"""Columns holding a model's training cut-off, in the order they are looked for."""

PROBE_MARKER = "metabench_probe"
"""Key that marks a probe file; its value is the format version."""

PROBE_FORMAT = 1
"""Newest probe format this version reads."""

SIGNAL_COLUMNS: tuple[str, ...] = (
    "model",
    "benchmark",
    "test",
    "statistic",
    "p_value",
    "p_mc_se",
    "p_adjusted",
    "flagged",
)

_SIGNAL_SCHEMA = dict(
    zip(
        SIGNAL_COLUMNS,
        (pl.String, pl.String, pl.String, pl.Float64, pl.Float64, pl.Float64, pl.Float64, pl.Boolean),
    )
)
_PROBE_TEST_SCHEMA = {
    "test": pl.String,
    "statistic": pl.Float64,
    "p_value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "n": pl.Int64,
}
_PROBE_SCHEMA = {"model": pl.String, "benchmark": pl.String, **_PROBE_TEST_SCHEMA, "file": pl.String}

_TEST_LABELS = {
    "constat": "ConStat",
    "lz_star": "lz*",
    "guttman": "Guttman",
    "date_split": "date split",
    "exchangeability": "exchangeability",
    "min_k": "Min-K%",
    "min_k_plus_plus": "Min-K%++",
    "zlib": "zlib",
    "ts_guessing": "TS-Guessing",
}
_TEST_ORDER = {name: k for k, name in enumerate(_TEST_LABELS)}
_LOG_P_CAP = 4.0


PERSON_FIT_MISFIT_SHARE = 0.25
"""Above this share of systems flagged by person fit on one benchmark, the report says the IRT model misfits it."""


def _label(test: str) -> str:
    return _TEST_LABELS.get(test, test)


def reference_pairs(runs: Runs, min_models: int = 6) -> list[tuple[str, str]]:
    """For each benchmark, the other benchmark whose system ranking agrees best with it (Kendall τ).

    Only benchmarks sharing at least ``min_models`` systems are paired.
    """
    table = runs.scores()
    v = table.values
    obs = ~np.isnan(v)
    out = []
    for j, b in enumerate(table.benchmarks):
        best, best_tau = None, -np.inf
        for k, r in enumerate(table.benchmarks):
            if k == j:
                continue
            both = obs[:, j] & obs[:, k]
            if both.sum() < min_models:
                continue
            tau = stats.kendalltau(v[both, j], v[both, k]).statistic
            if np.isfinite(tau) and tau > best_tau:
                best, best_tau = r, tau
        if best is not None:
            out.append((b, best))
    return out


# ---------------------------------------------------------------------------
# dates: item creation and model training cut-off
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DateMetadata:
    """Item creation dates and model training cut-offs found for the date split.

    Attributes
    ----------
    item_dates : polars.DataFrame or None
        Columns benchmark, item, created (a date); one row per dated item.
    cutoffs : dict of str to datetime.date
        Training cut-off of each model that has one.
    item_source, cutoff_source : str or None
        Where each came from (a column of the runs or a file), for the report.
    """

    item_dates: pl.DataFrame | None = None
    cutoffs: dict[str, _dt.date] = field(default_factory=dict)
    item_source: str | None = None
    cutoff_source: str | None = None

    @property
    def available(self) -> bool:
        """Whether both dates and cut-offs are there, so that the date split can run."""
        return self.item_dates is not None and self.item_dates.height > 0 and bool(self.cutoffs)

    def describe(self) -> str:
        """One sentence for the report: where the dates came from, or what would enable the test."""
        if self.available:
            return (
                f"The date split compares each model's score on items created on or before its training cut-off "
                f"with later items, relative to the other systems on the same items (creation dates from "
                f"{self.item_source}, {self.item_dates.height:,} items; cut-offs from {self.cutoff_source}, "
                f"{len(self.cutoffs)} models)."
            )
        items = (
            "item creation dates (a `created` column in the runs, or `--option item_dates=FILE` with columns "
            "benchmark, item, created)"
        )
        cuts = (
            "model training cut-offs (a `training_cutoff` column, or `--option model_cutoffs=FILE` with columns "
            "model, training_cutoff)"
        )
        if self.item_dates is not None and self.item_dates.height:
            return f"No date split: the items have creation dates ({self.item_source}) but the models need {cuts}."
        if self.cutoffs:
            return (
                f"No date split: the models have training cut-offs ({self.cutoff_source}) but the items need {items}."
            )
        return f"No date split: it needs {items} and {cuts}."


def _parse_dates(frame: pl.DataFrame, col: str, key: Sequence[str], what: str, file: str | None) -> pl.DataFrame:
    """``frame`` with column ``col`` as dates (ISO strings, dates and datetimes accepted; empty text is missing)."""
    dtype = frame.schema[col]
    if dtype == pl.Date:
        return frame
    if isinstance(dtype, pl.Datetime):
        return frame.with_columns(pl.col(col).dt.date())
    if dtype == pl.Null:
        return frame.with_columns(pl.col(col).cast(pl.Date))
    if dtype == pl.String:
        text = pl.col(col).str.strip_chars()
        out = frame.with_columns(pl.when(text == "").then(None).otherwise(text).alias(col)).with_columns(
            pl.col(col).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias("_date")
        )
        bad = out.filter(pl.col("_date").is_null() & pl.col(col).is_not_null())
        if bad.height:
            r = bad.row(0, named=True)
            where = ", ".join(f"{k} {r[k]!r}" for k in key)
            raise InputError(
                f"{what} {r[col]!r} in column {col!r} ({where}) is not a date"
                + (f"; {bad.height} such values" if bad.height > 1 else ""),
                file=file,
                fix="write dates as YYYY-MM-DD",
                kind="invalid_date",
            )
        return out.drop(col).rename({"_date": col})
    raise InputError(
        f"column {col!r} has type {dtype}, not dates",
        file=file,
        fix="give dates as dates or ISO strings (2024-06-30)",
        kind="invalid_date",
    )


def _one_per_key(frame: pl.DataFrame, key: list[str], col: str, what: str, file: str | None, fix: str) -> pl.DataFrame:
    """Unique (key, col) rows without missing dates; an error naming the first key with two different dates."""
    u = frame.drop_nulls(col).unique([*key, col]).sort([*key, col])
    dup = u.filter(pl.len().over(key) > 1)
    if dup.height:
        first = dup.row(0, named=True)
        same = dup.filter(pl.all_horizontal([pl.col(k) == first[k] for k in key]))[col].to_list()
        n_keys = dup.unique(key).height
        who = " of ".join(repr(first[k]) for k in reversed(key)) if len(key) > 1 else repr(first[key[0]])
        raise InputError(
            f"column {col!r} is not constant per {what}: {what} {who} has "
            + ", ".join(d.isoformat() for d in same)
            + (f" ({n_keys} {what}s with several dates)" if n_keys > 1 else ""),
            file=file,
            fix=fix,
            kind="inconsistent_dates",
        )
    return u


def _read_side_table(value: Any, option: str) -> tuple[pl.DataFrame, str, str | None]:
    """A side table given as an option: a polars DataFrame or a CSV/TSV/Parquet file name."""
    if isinstance(value, pl.DataFrame):
        return value, "a table given as an option", None
    path = Path(str(value)).expanduser()
    fix = f"give --option {option}=FILE with a CSV or Parquet file"
    if not path.is_file():
        raise InputError(f"{option}: no such file", file=path, fix=fix, kind="not_found")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            frame = pl.read_parquet(path)
        elif name.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")):
            frame = pl.read_csv(path, separator="\t" if ".tsv" in name else ",", infer_schema=False)
        else:
            raise InputError(f"{option}: cannot tell the format from the file name", file=path, fix=fix)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{option}: cannot read the file ({exc})", file=path, fix=fix, kind="unreadable") from None
    return frame, f"`{path.name}`", str(path)


def _side_table(
    given: Any, option: str, date_columns: Sequence[str], keys: Sequence[str], date_name: str
) -> tuple[pl.DataFrame, str, str | None, str] | None:
    """The side table an option names (None when the option is not given), with its date column checked."""
    if given is None or (isinstance(given, str) and not given.strip()):
        return None
    table, source, file = _read_side_table(given, option)
    col = _find_column(table, date_columns)
    missing = [c for c in keys if c not in table.columns] + ([] if col else [date_name])
    if missing:
        raise InputError(
            f"{option} lacks column(s) {', '.join(missing)}; found {', '.join(table.columns)}",
            file=file,
            fix=f"give columns {', '.join(keys)}, {date_name} (YYYY-MM-DD)",
            kind="missing_column",
        )
    return table, source, file, col  # type: ignore[return-value]


def _find_column(frame: pl.DataFrame, names: Sequence[str]) -> str | None:
    return next((c for c in names if c in frame.columns), None)


def _item_dates_table(frame: pl.DataFrame, col: str, file: str | None) -> pl.DataFrame:
    fix = (
        "give each item one creation date (when it was written)"
        if file
        else "give each item one creation date in every row, or put the dates in a file: --option item_dates=FILE"
    )
    t = frame.select(
        pl.col("benchmark").cast(pl.String).str.strip_chars(), pl.col("item").cast(pl.String).str.strip_chars(), col
    ).unique()
    t = _parse_dates(t, col, ("benchmark", "item"), "creation date", file)
    t = _one_per_key(t, ["benchmark", "item"], col, "item", file, fix)
    return t.rename({col: "created"}) if col != "created" else t


def _cutoff_table(frame: pl.DataFrame, col: str, file: str | None) -> dict[str, _dt.date]:
    fix = (
        "give each model one training cut-off"
        if file
        else "give each model one training cut-off in every row, or put them in a file: --option model_cutoffs=FILE"
    )
    t = frame.select(pl.col("model").cast(pl.String).str.strip_chars(), col).unique()
    t = _parse_dates(t, col, ("model",), "training cut-off", file)
    t = _one_per_key(t, ["model"], col, "model", file, fix)
    return dict(zip(t["model"].to_list(), t[col].to_list()))


def date_metadata(runs: Runs, options: Mapping[str, Any] | None = None) -> DateMetadata:
    """Item creation dates and model training cut-offs, from options or columns of the runs.

    Options win over columns: ``item_dates`` names a table (CSV/Parquet file or polars
    DataFrame) with columns benchmark, item and created; ``model_cutoffs`` one with
    columns model and training_cutoff (``item_created`` and ``cutoff`` are
    accepted as the date columns). Otherwise the first of :data:`ITEM_DATE_COLUMNS`
    and :data:`CUTOFF_COLUMNS` that the runs hold is used; its value must be the same
    in every row of an item (respectively a model), missing values aside.

    Parameters
    ----------
    runs : Runs
        The runs.
    options : mapping, optional
        Report options.

    Returns
    -------
    DateMetadata

    Raises
    ------
    InputError
        A date that is not a date, an item or model with two different dates (naming
        the column and the item or model), or a side table that cannot be read.

    Examples
    --------
    >>> r = Runs({"model": ["a", "a", "b", "b"], "benchmark": "x", "item": ["1", "2", "1", "2"],
    ...           "score": [1.0, 0.0, 1.0, 1.0], "created": ["2024-01-05", "2024-09-01"] * 2,
    ...           "training_cutoff": ["2024-06-30", "2024-06-30", None, None]})
    >>> meta = date_metadata(r)
    >>> meta.available, meta.cutoffs
    (True, {'a': datetime.date(2024, 6, 30)})
    >>> meta.item_dates.sort("item")["created"].to_list()
    [datetime.date(2024, 1, 5), datetime.date(2024, 9, 1)]
    """
    opts = dict(options or {})
    frame = runs.frame
    item_dates, item_source = None, None
    found = _side_table(opts.get("item_dates"), "item_dates", ITEM_DATE_COLUMNS, ("benchmark", "item"), "created")
    if found is not None:
        table, item_source, file, col = found
        item_dates = _item_dates_table(table, col, file)
    elif (col := _find_column(frame, ITEM_DATE_COLUMNS)) is not None:
        item_dates, item_source = _item_dates_table(frame, col, None), f"column `{col}`"
    cutoffs: dict[str, _dt.date] = {}
    cutoff_source = None
    found = _side_table(opts.get("model_cutoffs"), "model_cutoffs", CUTOFF_COLUMNS, ("model",), "training_cutoff")
    if found is not None:
        table, cutoff_source, file, col = found
        cutoffs = _cutoff_table(table, col, file)
    elif (col := _find_column(frame, CUTOFF_COLUMNS)) is not None:
        cutoffs, cutoff_source = _cutoff_table(frame, col, None), f"column `{col}`"
    return DateMetadata(item_dates, cutoffs, item_source, cutoff_source)


# ---------------------------------------------------------------------------
# probe files written by `metabench probe`
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Probe:
    """The model-access tests of one model on one benchmark, as read from a probe file.

    Attributes
    ----------
    path : str
        The file.
    model, benchmark : str
        What was probed.
    tests : polars.DataFrame
        One row per test that ran: test, statistic, p_value, ci_low, ci_high, n
        (missing values as NaN).
    n_items, n_reference : int or None
        Benchmark items probed and reference (unseen) texts.
    created : str or None
        When the file was written (ISO time).
    settings : dict
        The probe's settings (k, shards, permutations, seed, backend, ...).
    version : int
        Format version of the file.
    """

    path: str
    model: str
    benchmark: str
    tests: pl.DataFrame
    n_items: int | None = None
    n_reference: int | None = None
    created: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    version: int = PROBE_FORMAT

    def to_frame(self) -> pl.DataFrame:
        """One row per test: model, benchmark, test, statistic, p_value, ci_low, ci_high, n, file."""
        return self.tests.select(
            pl.lit(self.model).alias("model"),
            pl.lit(self.benchmark).alias("benchmark"),
            pl.all(),
            pl.lit(self.path).alias("file"),
        )


_PROBE_FIX = "run `metabench probe` again to rewrite the file, or remove it"


def _probe_error(path: Path, message: str, fix: str = _PROBE_FIX) -> InputError:
    return InputError(message, file=path, fix=fix, kind="malformed_probe")


def _number(value: Any, what: str, path: Path, *, unit: bool = False) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _probe_error(path, f"{what} is {value!r}, not a number")
    v = float(value)
    if unit and not (math.isnan(v) or 0.0 <= v <= 1.0):
        raise _probe_error(path, f"{what} is {v!r}, outside [0, 1]")
    return v


def _count(value: Any, what: str, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise _probe_error(path, f"{what} is {value!r}, not a count")
    return int(value)


def read_probe(path: str | Path) -> Probe:
    """Read a probe file (``probe.json``) written by ``metabench probe``.

    The file is one JSON object with the format marker ``"metabench_probe": 1``, the
    ``model`` and ``benchmark`` probed and a list ``tests`` of objects with ``test``,
    ``statistic`` and ``p_value`` (``ci_low``, ``ci_high``, ``n`` and ``detail``
    optional; a missing or null number is NaN). Unknown keys are ignored.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    Probe

    Raises
    ------
    InputError
        Naming the file, when it cannot be read, is not JSON (e.g. truncated), lacks
        the marker, was written by a newer format, or holds a field of the wrong type.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "probe.json"
    >>> _ = p.write_text(json.dumps({"metabench_probe": 1, "model": "m", "benchmark": "b",
    ...     "tests": [{"test": "zlib", "statistic": 0.71, "p_value": 0.003, "n": 40}]}))
    >>> read_probe(p).to_frame().select("model", "test", "statistic", "p_value").rows()
    [('m', 'zlib', 0.71, 0.003)]
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the probe file ({exc.strerror or exc})", file=path, fix="check the path", kind="unreadable"
        ) from None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:  # the standard library also reads NaN and Infinity
            obj = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _probe_error(path, f"the probe file is not valid JSON ({exc}); it may be truncated") from None
    if not isinstance(obj, dict) or PROBE_MARKER not in obj:
        raise _probe_error(
            path,
            f"not a metabench probe file: no {PROBE_MARKER!r} key",
            fix="name only files written by `metabench probe` in --option contamination_probes",
        )
    version = obj[PROBE_MARKER]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _probe_error(path, f"{PROBE_MARKER!r} is {version!r}, not a format version (1)")
    if version > PROBE_FORMAT:
        raise _probe_error(
            path,
            f"probe format {version} is newer than this metabench reads ({PROBE_FORMAT})",
            fix="upgrade metabench",
        )
    names = {}
    for key in ("model", "benchmark"):
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise _probe_error(path, f"{key!r} is {value!r}, not a name")
        names[key] = value.strip()
    tests = obj.get("tests")
    if not isinstance(tests, list):
        raise _probe_error(path, f"'tests' is {type(tests).__name__ if tests is not None else 'missing'}, not a list")
    rows = []
    seen: set[str] = set()
    for k, t in enumerate(tests):
        where = f"tests[{k}]"
        if not isinstance(t, dict):
            raise _probe_error(path, f"{where} is not an object")
        name = t.get("test")
        if not isinstance(name, str) or not name.strip():
            raise _probe_error(path, f"{where}.test is {name!r}, not a test name")
        name = name.strip()
        if name in seen:
            raise _probe_error(path, f"test {name!r} appears twice")
        seen.add(name)
        rows.append(
            {
                "test": name,
                "statistic": _number(t.get("statistic"), f"{where}.statistic", path),
                "p_value": _number(t.get("p_value"), f"{where}.p_value", path, unit=True),
                "ci_low": _number(t.get("ci_low"), f"{where}.ci_low", path),
                "ci_high": _number(t.get("ci_high"), f"{where}.ci_high", path),
                "n": _count(t.get("n"), f"{where}.n", path),
            }
        )
    schema = _PROBE_TEST_SCHEMA
    settings = obj.get("settings")
    created = obj.get("created")
    return Probe(
        path=str(path),
        model=names["model"],
        benchmark=names["benchmark"],
        tests=pl.DataFrame(rows, schema=schema, nan_to_null=False),
        n_items=_count(obj.get("n_items"), "n_items", path),
        n_reference=_count(obj.get("n_reference"), "n_reference", path),
        created=created if isinstance(created, str) else None,
        settings=dict(settings) if isinstance(settings, dict) else {},
        version=version,
    )


def _has_marker(path: Path) -> bool:
    try:
        return f'"{PROBE_MARKER}"'.encode() in path.read_bytes()
    except OSError:
        return False


def _probe_files_under(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("probe*.json")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts[:-1])
    )


def _split_paths(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [s.strip() for s in str(value).split(",") if s.strip()]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def find_probes(
    runs: Runs | None = None,
    paths: Sequence[str | Path] = (),
    search: Sequence[str | Path] = (),
) -> list[Path]:
    """Probe files for a report: beside the runs' sources, under given folders, or named.

    ``probe*.json`` files holding the probe marker are taken from the folders of
    ``runs.sources`` (not their subfolders) and from every folder among ``paths`` and
    ``search``, recursively (hidden folders skipped). A file named in ``paths`` is
    taken whatever its name, and must be a probe file (:func:`read_probe` says why
    not); a file in ``search`` only stands for its folder.

    Parameters
    ----------
    runs : Runs, optional
        Runs whose source folders are searched.
    paths : sequence of str or Path
        Probe files or folders (``--option contamination_probes``); each must exist.
    search : sequence of str or Path
        The paths the runs were loaded from; missing ones are ignored.

    Returns
    -------
    list of Path
        Each file once, in the order found.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "m1").mkdir()
    >>> _ = (d / "m1" / "probe.json").write_text(json.dumps({"metabench_probe": 1}))
    >>> _ = (d / "probe_notes.json").write_text("{}")   # no marker: not a probe file
    >>> [p.relative_to(d).as_posix() for p in find_probes(paths=[d])]
    ['m1/probe.json']
    """
    found: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append(p)

    if runs is not None:
        folders = dict.fromkeys(Path(s.path).parent for s in runs.sources if s.path)
        for folder in folders:
            if folder.is_dir():
                for p in sorted(folder.glob("probe*.json")):
                    if p.is_file() and _has_marker(p):
                        add(p)
    for given in paths:
        p = Path(given).expanduser()
        if p.is_file():
            add(p)
        elif p.is_dir():
            for q in _probe_files_under(p):
                if _has_marker(q):
                    add(q)
        else:
            raise InputError(
                "no such probe file or folder",
                file=p,
                fix="name probe.json files written by `metabench probe`, or folders holding them",
                kind="not_found",
            )
    for given in search:
        p = Path(given).expanduser()
        if p.is_dir():
            for q in _probe_files_under(p):
                if _has_marker(q):
                    add(q)
    return found


def _load_probes(runs: Runs, ctx: AnalysisContext) -> list[Probe]:
    files = find_probes(
        runs,
        _split_paths(ctx.options.get("contamination_probes")),
        _split_paths(ctx.options.get("input_paths")),
    )
    probes: dict[tuple[str, str], Probe] = {}
    for f in files:
        p = read_probe(f)
        key = (p.model, p.benchmark)
        old = probes.get(key)
        if old is not None:
            keep, drop = (p, old) if (p.created or "") >= (old.created or "") else (old, p)
            ctx.notes.append(
                f"two probe files for {p.model} on {p.benchmark}: {keep.path} is used, {drop.path} "
                "(written earlier) is not"
            )
            probes[key] = keep
        else:
            probes[key] = p
    return list(probes.values())


def _probe_signals(probes: Sequence[Probe], alpha: float) -> pl.DataFrame:
    """Every probe test, with Holm-adjusted p-values across the models probed on a benchmark with a test."""
    schema = _PROBE_SCHEMA
    if not probes:
        return pl.DataFrame(schema=schema).with_columns(
            pl.lit(None, pl.Float64).alias("p_adjusted"), pl.lit(None, pl.Boolean).alias("flagged")
        )
    frame = pl.concat([p.to_frame() for p in probes], how="vertical_relaxed").select(list(schema))
    frame = frame.with_row_index("_row")
    parts = []
    for _, g in frame.group_by(["benchmark", "test"], maintain_order=True):
        p = g["p_value"].to_numpy().astype(float)
        adj, flag = _adjust(p, alpha, "holm")
        parts.append(
            g.with_columns(
                pl.Series("p_adjusted", adj),
                pl.Series("flagged", [None if np.isnan(q) else bool(f) for f, q in zip(flag, p)], dtype=pl.Boolean),
            )
        )
    return pl.concat(parts).sort("_row").drop("_row")


# ---------------------------------------------------------------------------
# the section
# ---------------------------------------------------------------------------


def _chart(res: Any, name: str, slug: str) -> Chart:
    pts = res.points
    curve = res.curve
    xcol = "reference_score"
    ycol = "score" if "score" in pts.columns else pts.columns[-1]
    cy = next((c for c in ("predicted", "score", "fit") if c in curve.columns and c != xcol), curve.columns[-1])
    scatter = (
        alt.Chart(inline_data(pts))
        .mark_point(filled=True, size=50)
        .encode(
            x=alt.X(f"{xcol}:Q", title=f"score on {res.reference}", scale=alt.Scale(zero=False)),
            y=alt.Y(f"{ycol}:Q", title=f"score on {name}", scale=alt.Scale(zero=False)),
            tooltip=[c + (":N" if pts.schema[c] == pl.String else ":Q") for c in pts.columns[:4]],
        )
    )
    line = alt.Chart(inline_data(curve)).mark_line(color="gray").encode(x=f"{xcol}:Q", y=f"{cy}:Q")
    return Chart(
        (line + scatter).properties(width=360, height=240, title=f"{name} against {res.reference}"),
        caption=f"ConStat: each system's score on {name} against its score on {res.reference}, with the fitted relation.",
        name=f"contam-{slug}",
    )


def _signal(
    model: str, bench: str, test: str, statistic: Any, p: Any, p_adj: Any, flagged: Any, p_se: Any = None
) -> dict[str, Any]:
    """One row of the signals table; ``p_se`` is the Monte Carlo standard error of a simulated p-value."""

    def num(v: Any) -> float:
        return math.nan if v is None else float(v)

    return {
        "model": model,
        "benchmark": bench,
        "test": test,
        "statistic": num(statistic),
        "p_value": num(p),
        "p_mc_se": num(p_se),
        "p_adjusted": num(p_adj),
        "flagged": None if flagged is None else bool(flagged),
    }


_PROBE_PHRASES = {
    "exchangeability": "prefers the benchmark's canonical item order to shuffled orders (exchangeability test)",
    "min_k": "assigns benchmark items higher likelihood than reference texts (Min-K%, AUC {s:.2f})",
    "min_k_plus_plus": "assigns benchmark items higher likelihood than reference texts (Min-K%++, AUC {s:.2f})",
    "zlib": "assigns benchmark items higher likelihood than reference texts (zlib ratio, AUC {s:.2f})",
    "ts_guessing": "fills in masked answer options verbatim (TS-Guessing, {s:.0%} exact matches)",
}


def _benchmark(
    name: str,
    slug: str,
    ref: str | None,
    runs: Runs,
    ctx: AnalysisContext,
    dates: DateMetadata,
    probes: pl.DataFrame,
) -> tuple[Section, list[dict[str, Any]]]:
    alpha = float(ctx.options.get("alpha", 0.05))
    n_boot = int(ctx.options.get("contamination_bootstrap", 500))
    n_sim = int(ctx.options.get("contamination_sims", 2000))
    blocks: list[Any] = []
    findings: list[str] = []
    signals: list[dict[str, Any]] = []
    ran: list[str] = []
    in_runs = name in runs.benchmarks
    if ref is not None and in_runs:
        try:
            res = constat(runs, name, ref, n_bootstrap=n_boot, seed=ctx.seed, alpha=alpha)
            frame = res.to_frame()
            keep = [
                c
                for c in (
                    "model",
                    "reference_score",
                    "score",
                    "predicted",
                    "delta",
                    "ci_low",
                    "ci_high",
                    "p_value",
                    "p_adjusted",
                    "flagged",
                    "extrapolated",
                )
                if c in frame.columns
            ]
            blocks.append(
                Table(
                    frame.select(keep).sort("p_value", maintain_order=True),
                    caption=f"{name}: ConStat against {ref} (Holm over systems).",
                    label=f"contam-constat-{slug}",
                )
            )
            blocks.append(_chart(res, name, slug))
            ran.append(f"ConStat against {ref}")
            signals += [
                _signal(
                    r["model"], name, "constat", r["delta"], r["p_value"], r["p_adjusted"], r["flagged"], r["p_mc_se"]
                )
                for r in frame.iter_rows(named=True)
            ]
            for r in frame.filter(pl.col("flagged")).iter_rows(named=True):
                extra = " (extrapolated beyond the reference systems)" if r.get("extrapolated") else ""
                findings.append(
                    f"{r['model']} scores {r['delta'] * 100:+.1f} points above its prediction from {ref} (Holm p = {r['p_adjusted']:.3g}){extra}"
                )
        except MetabenchError as exc:
            blocks.append(Text(f"ConStat against {ref} could not run: {exc}"))
    if in_runs:
        matrix, _ = runs.matrix(name).drop_empty()
        if matrix.n_models >= 5 and matrix.n_items >= 20 and matrix.is_binary():
            try:
                pf = person_fit_test(matrix, n_sim=n_sim, seed=ctx.seed, alpha=alpha)
                pff = pf.to_frame()
                blocks.append(
                    Table(
                        pff.sort("p_value", maintain_order=True),
                        caption=f"{name}: IRT person fit (simulated p-values, Holm over systems).",
                        label=f"contam-pf-{slug}",
                    )
                )
                ran.append("person fit")
                signals += [
                    _signal(
                        r["model"],
                        name,
                        r["statistic"],
                        r["value"],
                        r["p_value"],
                        r["p_adjusted"],
                        r["flagged"],
                        r["p_mc_se"],
                    )
                    for r in pff.iter_rows(named=True)
                ]
                for r in pff.filter(pl.col("flagged")).iter_rows(named=True):
                    findings.append(
                        f"{r['model']} has an aberrant response pattern ({r['statistic']}, Holm p = {r['p_adjusted']:.3g})"
                    )
                unsettled = pff.filter(pl.col("decision_stable").not_())
                if unsettled.height:
                    blocks.append(
                        Text(
                            f"{unsettled.height} person-fit decision(s) on {name} are still within Monte Carlo "
                            f"error after {pf.n_sim_max:,} simulated vectors per system (with every p-value moved "
                            "2.576 standard errors down, or up, the Holm decision differs): "
                            + ", ".join(f"{r['model']} ({r['statistic']})" for r in unsettled.iter_rows(named=True))
                            + ". Either the p-value sits at its Holm threshold or one before it in Holm's order "
                            "does; read these flags as undecided."
                        )
                    )
                n_flagged = pff.filter(pl.col("flagged"))["model"].n_unique()
                if n_flagged >= 3 and n_flagged > PERSON_FIT_MISFIT_SHARE * matrix.n_models:
                    blocks.append(
                        Text(
                            f"Person fit flags {n_flagged} of {matrix.n_models} systems on {name}: more than "
                            "contamination of a few systems would explain. The unidimensional IRT model itself "
                            "misfits this benchmark (systems differ in their profile over subjects or skills, which "
                            f"{matrix.n_items:,} items detect); read these flags as profile differences unless "
                            "another test agrees."
                        )
                    )
                    findings.append(
                        f"person fit flags {n_flagged} of {matrix.n_models} systems, which points to a benchmark "
                        "the IRT model misfits rather than to contamination"
                    )
            except MetabenchError as exc:
                blocks.append(Text(f"Person fit could not run: {exc}"))
    if in_runs and dates.available:
        dated = dates.item_dates.filter(pl.col("benchmark") == name)  # type: ignore[union-attr]
        if dated.height:
            try:
                ds = date_split_test(runs, dated, dates.cutoffs, alpha=alpha)
                dsf = ds.to_frame()
                for e in ds.exclusions:
                    ctx.exclude(e)
                blocks.append(
                    Table(
                        dsf.drop("benchmark").sort("did_p_value", "p_value", nulls_last=True, maintain_order=True),
                        caption=f"{name}: score on items created on or before each model's training cut-off minus "
                        "later items, raw (diff) and relative to the other systems (did, the primary estimate); "
                        "one-sided cluster-robust p-values, Holm over systems.",
                        label=f"contam-date-{slug}",
                    )
                )
                ran.append("date split")
                for r in dsf.iter_rows(named=True):
                    primary = r["primary"] == "did"
                    signals.append(
                        _signal(
                            r["model"],
                            name,
                            "date_split",
                            r["did"] if primary else r["diff"],
                            r["did_p_value"] if primary else r["p_value"],
                            r["p_adjusted"],
                            r["flagged"],
                        )
                    )
                    if r["flagged"]:
                        est = r["did"] if primary else r["diff"]
                        rel = " relative to the other systems" if primary else ""
                        findings.append(
                            f"{r['model']} scores {est * 100:+.1f} points higher on items created before its "
                            f"training cut-off ({r['cutoff'].isoformat()}) than on later ones{rel} "
                            f"(Holm p = {r['p_adjusted']:.3g})"
                        )
            except MetabenchError as exc:
                blocks.append(Text(f"The date split could not run: {exc}"))
    mine = probes.filter(pl.col("benchmark") == name)
    if mine.height:
        blocks.append(
            Table(
                mine.drop("benchmark"),
                caption=f"{name}: model-access probes (`metabench probe`); p-values one-sided towards "
                "contamination, Holm over the models probed with each test.",
                label=f"contam-probe-{slug}",
            )
        )
        tests = list(dict.fromkeys(mine["test"].to_list()))
        ran.append("probes: " + ", ".join(_label(t) for t in tests))
        signals += [
            _signal(r["model"], name, r["test"], r["statistic"], r["p_value"], r["p_adjusted"], r["flagged"])
            for r in mine.iter_rows(named=True)
        ]
        for r in mine.filter(pl.col("flagged")).iter_rows(named=True):
            phrase = _PROBE_PHRASES.get(r["test"], f"is flagged by the {r['test']} probe (statistic {{s:.3g}})")
            s = r["statistic"] if r["statistic"] is not None else math.nan
            findings.append(f"{r['model']} {phrase.format(s=s)} (Holm p = {r['p_adjusted']:.3g})")
    if findings:
        summary = f"On **{name}**: " + "; ".join(findings) + "."
    elif ran:
        summary = f"On **{name}**, no system is flagged at α = {alpha:g} after Holm correction ({'; '.join(ran)})."
    else:
        summary = f"On **{name}**, no contamination test could run."
    if in_runs and ref is None:
        summary += " No reference benchmark shares enough systems for ConStat."
    return Section(name, [Text(summary), *blocks], key=f"contam-{slug}"), signals


def _signals_chart(signals: pl.DataFrame, models: list[str], alpha: float) -> Chart | None:
    frame = signals.filter(pl.col("p_value").is_not_nan() & pl.col("p_value").is_not_null())
    if frame.height == 0:
        return None
    columns = list(
        dict.fromkeys(f"{b} · {_label(t)}" for b, t in zip(frame["benchmark"].to_list(), frame["test"].to_list()))
    )
    frame = frame.with_columns(
        pl.concat_str(
            [pl.col("benchmark"), pl.lit(" · "), pl.col("test").replace_strict(_TEST_LABELS, default=pl.col("test"))]
        ).alias("column"),
        (-pl.col("p_value").clip(lower_bound=1e-12).log10()).alias("minus_log10_p"),
        pl.when(pl.col("flagged").fill_null(False)).then(pl.lit("●")).otherwise(pl.lit("")).alias("marker"),
    )
    shown = [m for m in models if m in set(frame["model"].to_list())]
    shown += sorted(set(frame["model"].to_list()) - set(shown))
    base = alt.Chart(
        inline_data(
            frame.select(
                "model", "benchmark", "test", "column", "statistic", "p_value", "p_adjusted", "minus_log10_p", "marker"
            )
        )
    ).encode(
        x=alt.X("column:N", sort=columns, title=None, axis=alt.Axis(labelAngle=-60, labelLimit=180)),
        y=alt.Y("model:N", sort=shown, title=None, axis=alt.Axis(labelLimit=200)),
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            "minus_log10_p:Q", title="−log10 p", scale=alt.Scale(scheme="orangered", domain=[0, _LOG_P_CAP], clamp=True)
        ),
        tooltip=[
            "model:N",
            "benchmark:N",
            "test:N",
            alt.Tooltip("statistic:Q", format=".3g"),
            alt.Tooltip("p_value:Q", format=".3g"),
            alt.Tooltip("p_adjusted:Q", format=".3g"),
        ],
    )
    text = base.mark_text(fontSize=9, color="black").encode(text="marker:N")
    chart = (rect + text).properties(
        width=max(160, min(16 * len(columns), 720)),
        height=max(80, min(14 * len(shown), 1400)),
        title="Contamination signals",
    )
    return Chart(
        chart,
        caption=f"−log10 of each test's unadjusted p-value (darker: stronger evidence of contamination; the colour "
        f"scale stops at {_LOG_P_CAP:g}, p = {10**-_LOG_P_CAP:g}); ● flagged at α = {alpha:g} after Holm correction "
        "across the systems tested on the same benchmark with the same test. Empty cells: no p-value (the test did "
        "not run for that system, or gives none).",
        name="contam-signals-heat",
    )


def _signals_table(signals: pl.DataFrame, alpha: float, max_rows: int) -> Table:
    order = signals.with_columns(
        pl.col("flagged").fill_null(False).not_().alias("_f"),
        pl.col("test").replace_strict(_TEST_ORDER, default=len(_TEST_ORDER), return_dtype=pl.Int64).alias("_t"),
    ).sort(["_f", "p_value", "benchmark", "_t", "model"], nulls_last=True)
    shown = order.head(max(max_rows, int(signals["flagged"].fill_null(False).sum())))
    cut = (
        f" The {shown.height:,} smallest p-values of {signals.height:,} are shown (every flagged one included); "
        "the heat map has them all (`--option contamination_signals_rows=N` shows more)."
        if shown.height < signals.height
        else ""
    )
    return Table(
        shown.select(SIGNAL_COLUMNS),
        caption=f"Contamination signals, one row per system, benchmark and test; p_adjusted: Holm across the systems "
        f"tested on the same benchmark with the same test; flagged at α = {alpha:g}." + cut,
        notes="p_mc_se: the Monte Carlo standard error of a simulated or bootstrap p-value (ConStat, person fit), "
        "which gets more draws wherever a flag would turn within 2.576 of them; empty for p-values computed exactly "
        "or asymptotically. statistic: ConStat's excess score over the prediction; lz* (low = aberrant) and the normed Guttman "
        "error count (high = aberrant); the date split's before-minus-after difference (relative to the other "
        "systems where possible); a probe's headline number (AUC for Min-K%, Min-K%++ and zlib, the exchangeability "
        "statistic, TS-Guessing's exact-match rate).",
        label="contam-signals",
    )


@register(
    "contamination",
    title="Contamination",
    description="ConStat, IRT person fit, the date split and model-access probes per benchmark, with corrected p-values.",
    accepts=("runs",),
    order=60,
)
def contamination_sections(data: Runs, ctx: AnalysisContext) -> list[Section]:
    """Contamination section of a report: a table and heat map of every signal, then one subsection per benchmark."""
    alpha = float(ctx.options.get("alpha", 0.05))
    min_models = int(ctx.options.get("contamination_min_models", 6))
    max_rows = int(ctx.options.get("contamination_signals_rows", 100))
    given = ctx.options.get("contamination_pairs")
    if given:
        pairs = dict(tuple(p.split(":", 1)) for p in str(given).split(",") if ":" in p)
    else:
        pairs = dict(reference_pairs(data, min_models))
    try:
        dates = date_metadata(data, ctx.options)
    except InputError as exc:
        if ctx.options.get("item_dates") or ctx.options.get("model_cutoffs"):
            raise  # files the user named must be right
        # date columns of the runs that are not item / cut-off dates: the other tests still run
        ctx.notes.append(f"contamination: the date split was skipped: {exc}")
        dates = DateMetadata(None, {}, None, None)
    probes = _probe_signals(_load_probes(data, ctx), alpha)
    benches = list(data.benchmarks) + sorted(set(probes["benchmark"].to_list()) - set(data.benchmarks))
    subs = []
    rows: list[dict[str, Any]] = []
    for k, bench in enumerate(benches):
        try:
            sec, sig = _benchmark(bench, section_slug(k, bench), pairs.get(bench), data, ctx, dates, probes)
            subs.append(sec)
            rows += sig
        except MetabenchError as exc:
            ctx.notes.append(f"contamination on {bench!r}: {exc}")
    intro = Text(
        "A contaminated system scores well on the items it has seen. ConStat (Dekoninck et al. 2024) asks whether a "
        "system's score on a benchmark is higher than its score on a related benchmark predicts across the other "
        "systems (bootstrap over items and reference systems); person fit asks whether a system solves hard items while "
        "missing easy ones more than the IRT model allows, judged against items calibrated on the other systems "
        "(p-values by simulation from the model, with the items' uncertainty). A flag is a "
        "signal to examine, not proof: answer-extraction failures or a genuinely different skill profile look the same."
    )
    blocks: list[Any] = [intro, Text(dates.describe())]
    if probes.height:
        n_files = probes.select("file").n_unique()
        blocks.append(
            Text(
                f"Model-access probes: {probes.height} test results from {n_files} probe file(s) written by "
                "`metabench probe` (Min-K%, Min-K%++ and zlib compare the model's likelihood of benchmark items with "
                "reference texts; the exchangeability test compares the canonical item order with shuffles; "
                "TS-Guessing asks the model to fill in a masked answer option)."
            )
        )
    else:
        blocks.append(
            Text(
                "No model-access probes: `metabench probe` writes probe.json files that the report reads from the "
                "runs' folders or from `--option contamination_probes=PATH`."
            )
        )
    signals = pl.DataFrame(rows, schema=_SIGNAL_SCHEMA, nan_to_null=False)
    if signals.height:
        flagged = signals.filter(pl.col("flagged").fill_null(False))
        if flagged.height:
            per = flagged.group_by("model", maintain_order=True).agg(pl.len().alias("n")).sort("n", descending=True)
            who = ", ".join(f"{m} ({n})" for m, n in per.iter_rows())
            blocks.append(
                Text(
                    f"{flagged.height} of {signals.height:,} signals are flagged at α = {alpha:g} after Holm "
                    f"correction; by system: {who}."
                )
            )
        else:
            blocks.append(
                Text(f"None of {signals.height:,} signals is flagged at α = {alpha:g} after Holm correction.")
            )
        chart = _signals_chart(signals, list(data.systems), alpha)
        if chart is not None:
            blocks.append(chart)
        blocks.append(_signals_table(signals, alpha, max_rows))
    return [Section("Contamination", blocks, key="contamination", subsections=subs)]
