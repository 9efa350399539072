"""Reader for Hugging Face lighteval per-sample details.

``lighteval ... --output-dir OUT --save-details`` writes, for each run::

    OUT/results/<model_name>/results_<timestamp>.json
    OUT/details/<model_name>/<timestamp>/details_<task>|<fewshot>_<timestamp>.parquet

``<model_name>`` may hold a slash (``org/model``), which makes two folders. The
task part of a details file name is ``<task>|<fewshot>`` since lighteval 0.13
(``toyqa|0``) and ``<suite>|<task>|<fewshot>`` before
(``leaderboard|arc:challenge|25``). Each row of a details file is one scored
document. Two layouts exist:

* lighteval 0.11 and later: struct columns ``doc`` (query, choices,
  gold_index, ``id``, ``task_name`` ...), ``model_response`` and ``metric``
  (one field per sample-level metric: ``{"acc": 1, "mrr": 0.5}``);
* up to 0.10: flat columns ``example``, ``instruction``, ``full_prompt``,
  ``predictions``, ``gold``, ``choices``, ``gold_index``, ``specifics`` ... and
  ``metrics``, a struct of metric values or, in some early versions, the same
  mapping written as text (``"{'acc': 1, 'acc_norm': 0}"``).

:func:`read` turns one details file into :class:`~metabench.runs.Runs`:

* ``benchmark``: the task named in the file name without its few-shot number
  (``toyqa|0`` → ``toyqa``, ``leaderboard|arc:challenge|25`` →
  ``leaderboard|arc:challenge``); the few-shot number goes to the extra column
  ``fewshot``;
* ``model``: ``config_general.model_name`` of the run's results file when it is
  found, else the folders between ``details/`` and the timestamp folder, else
  the folder name (a Hub details repository ``details_org__model`` gives
  ``org/model``);
* ``item``: the document's ``doc.id`` (its index in the evaluated dataset
  split) when the file has one, else the 0-based row number in the file
  (earlier layouts drop the id; rows are then matched across models by
  position, which holds for runs of the same lighteval version and task);
* ``score``: one sample-level metric, ``seed`` 0, and the extra column
  ``metric`` naming it.

Only the document ids and the chosen metric are read from the parquet file.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from metabench.errors import InputError, ValidationError
from metabench.io._base import explain_metric_range, make_runs, read_head
from metabench.io.identity import item_key_table
from metabench.runs import RunIdentity, Runs

__all__ = ["DEFAULT_METRICS", "METRIC_ALIASES", "NAME", "companion", "read", "sniff"]

NAME = "lighteval"

DEFAULT_METRICS: tuple[str, ...] = (
    "acc",
    "loglikelihood_acc",
    "exact_match",
    "em",
    "quasi_exact_match",
    "qem",
    "extractive_match",
    "pass@1",
    "acc_norm",
)
"""Metrics preferred, in order, when ``metric`` is not given; otherwise the first
numeric metric of the file is used."""

METRIC_ALIASES: dict[str, str] = {
    "loglikelihood_acc": "acc",
    "loglikelihood_acc_norm": "acc_norm",
    "exact_match": "em",
    "quasi_exact_match": "qem",
    "prefix_exact_match": "pem",
    "prefix_quasi_exact_match": "pqem",
}
"""lighteval ``Metrics`` names and the per-sample field each one logs: a
``metric`` absent from a file is looked up here before it is reported missing."""

_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"
_DETAILS_NAME = re.compile(rf"^details_(?P<task>.+?)(?:_(?P<ts>{_TIMESTAMP}|latest))?\.parquet$")
_TS_DIR = re.compile(rf"^{_TIMESTAMP}$")
_FEWSHOT = re.compile(r"^(?P<task>.+)\|(?P<shots>\d+)$")
_RESULTS_NAME = re.compile(rf"^results_(?:{_TIMESTAMP}|latest)\.json$")
_RESULTS_START = re.compile(rb'^\s*\{\s*"config_general"\s*:')
_NUMPY_SCALAR = re.compile(r"\bnp\.\w+\(\s*([^()]*?)\s*\)")
_BARE_NAN = re.compile(r"(?<![\w'\"])nan(?![\w'\"])")
_PARQUET_MAGIC = b"PAR1"

_MALFORMED_FIX = "the file is truncated or not parquet; re-run lighteval with --save-details (or download it again)"


# ---------------------------------------------------------------------------
# sniff / companion


def _metric_column(schema: pa.Schema) -> str | None:
    """Name of the per-sample metric column of a details schema, if any."""
    names = schema.names
    if "metric" in names and "doc" in names:
        return "metric"
    if "metrics" in names:
        return "metrics"
    return None


def sniff(path: str | Path) -> bool:
    """Is ``path`` a lighteval details file (``details_<task>_<timestamp>.parquet``)?

    The name must be ``details_*.parquet``, the file must start with the parquet
    magic bytes, and its schema (read from the footer only) must have a
    ``metric`` column beside ``doc`` (lighteval 0.11+) or a ``metrics`` column
    (earlier versions). A file so named whose footer cannot be read is claimed
    too, so that :func:`read` reports it as a malformed parquet file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = d / "details_toy|0_2025-01-01T00-00-00.000000.parquet"
    >>> pl.DataFrame({"doc": [{"id": "0"}], "metric": [{"acc": 1}]}).write_parquet(p)
    >>> sniff(p), sniff(d / "details_missing.parquet")
    (True, False)
    """
    path = Path(path)
    if not (path.name.startswith("details_") and path.suffix == ".parquet" and path.is_file()):
        return False
    if read_head(path, 4) != _PARQUET_MAGIC:
        return False
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return True
    return _metric_column(schema) is not None


def companion(path: str | Path) -> bool:
    """Is ``path`` a lighteval results file (``results_<timestamp>.json``)?

    True for JSON files so named whose top-level object starts with
    ``"config_general"``, as lighteval writes them. :func:`read` takes the model
    name from it; it holds no per-item scores.
    """
    path = Path(path)
    if not (_RESULTS_NAME.match(path.name) and path.is_file()):
        return False
    return bool(_RESULTS_START.match(read_head(path)))


# ---------------------------------------------------------------------------
# the run: task, model, results file


def _task_from_name(name: str) -> tuple[str | None, int | None, str | None]:
    """(task without few-shot number, few-shot number, timestamp) from a file name."""
    m = _DETAILS_NAME.match(name)
    if m is None:
        return None, None, None
    task, ts = m.group("task"), m.group("ts")
    f = _FEWSHOT.match(task)
    if f is None:
        return task, None, ts
    return f.group("task"), int(f.group("shots")), ts


def _layout(path: Path) -> tuple[Path, Path | None, str | None]:
    """(model folder, output folder holding ``details/``, model name from folders)."""
    parent = path.absolute().parent
    model_dir = parent.parent if _TS_DIR.match(parent.name) else parent
    parts = model_dir.parts
    for k in range(len(parts) - 1, -1, -1):
        if parts[k] == "details":
            name = "/".join(parts[k + 1 :])
            return model_dir, Path(*parts[:k]) if k > 0 else None, name or None
    name = model_dir.name
    if name.startswith("details_") and len(name) > len("details_"):
        name = name[len("details_") :].replace("__", "/")
    return model_dir, None, name or None


def _find_results(
    path: Path, model_dir: Path, out_dir: Path | None, dir_model: str | None, ts: str | None
) -> Path | None:
    """The results file of the run a details file belongs to, if it is where lighteval puts it."""
    if ts is None:
        return None
    name = f"results_{ts}.json"
    candidates = []
    if out_dir is not None and dir_model:
        candidates.append(out_dir / "results" / dir_model / name)
    candidates += [model_dir / name, path.absolute().parent / name]
    for c in candidates:
        if c.is_file() and companion(c):
            return c
    return None


def _relative(p: Path) -> Path:
    """``p`` relative to the working directory when it can be (as a relative input path is)."""
    try:
        return Path(os.path.relpath(p))
    except ValueError:  # another drive
        return p


def _model_from_results(path: Path) -> str | None:
    """``config_general.model_name`` of a results file (None when unreadable)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    general = data.get("config_general") if isinstance(data, dict) else None
    if not isinstance(general, dict):
        return None
    name = general.get("model_name")
    if not isinstance(name, str) or not name.strip():
        cfg = general.get("model_config")
        name = cfg.get("model_name") if isinstance(cfg, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def _details_of(results: Path) -> list[Path]:
    m = re.match(r"^results_(?P<ts>.+)\.json$", results.name)
    if m is None:
        return []
    ts = m.group("ts")
    folder = results.absolute().parent
    parts = folder.parts
    found: list[Path] = []
    for k in range(len(parts) - 1, -1, -1):
        if parts[k] == "results":
            model_dir = Path(*parts[:k], "details", *parts[k + 1 :])
            found = sorted(model_dir.glob(f"{ts}/details_*_{ts}.parquet")) + sorted(model_dir.glob(f"details_*_{ts}.parquet"))
            break
    return [p for p in found if sniff(p)]


def units_of(path: str | Path) -> list[Path]:
    """The details files of the run a results file belongs to (same timestamp)."""
    path = Path(path)
    return _details_of(path) if companion(path) else []


def incomplete(companions: list[Path]) -> list[tuple[Path, str]]:
    """Results files whose run saved no details (lighteval run without ``--save-details``)."""
    out = []
    for p in companions:
        if companion(p) and not _details_of(p) and p.name != "results_latest.json":
            out.append((p, "lighteval run without details files (run with --save-details to analyse items)"))
    return out


# ---------------------------------------------------------------------------
# metrics


def _is_numeric_type(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, complex)


def _choose(numeric: list[str], others: list[str], path: Path) -> str:
    for m in DEFAULT_METRICS:
        if m in numeric:
            return m
    if numeric:
        return numeric[0]
    listed = f" (metrics: {', '.join(others)})" if others else ""
    raise InputError(
        f"no per-sample numeric metric in the details{listed}",
        file=path,
        fix="these metrics are aggregated over the whole corpus by lighteval (f1, bleu, mcc ...); "
        "per-item analyses need a per-sample score such as acc or em",
        kind="no_metric",
    )


def _resolve(metric: str, names: list[str]) -> str:
    """``metric``, or the field it stands for when it is a lighteval ``Metrics`` name."""
    if metric not in names and METRIC_ALIASES.get(metric) in names:
        return METRIC_ALIASES[metric]
    return metric


def _unknown_metric(metric: str, numeric: list[str], others: list[str], path: Path) -> InputError:
    have = ", ".join(repr(n) for n in numeric) or "no numeric metric"
    if others:
        have += f" (and non-numeric {', '.join(repr(o) for o in others)})"
    return InputError(
        f"metric {metric!r} is not in the details; they have {have}",
        file=path,
        fix=f"pass metric= one of {', '.join(numeric)}" if numeric else "choose another file",
        kind="unknown_metric",
    )


def _non_numeric(metric: str, numeric: list[str], path: Path) -> InputError:
    return InputError(
        f"metric {metric!r} is not a number per sample; lighteval computes it over the whole corpus",
        file=path,
        fix=f"pass metric= one of {', '.join(numeric)}" if numeric else "use a task with a per-sample metric",
        kind="non_numeric_metric",
    )


def _mixed(metric: str, missing: np.ndarray, path: Path) -> InputError:
    rows = ", ".join(str(int(r) + 1) for r in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return InputError(
        f"metric {metric!r} is missing on {len(missing)} row(s) (rows {rows}{more}) but present on others",
        file=path,
        line=int(missing[0]) + 1,
        fix="pass metric=... naming a metric present on every row",
        kind="mixed_metrics",
    )


def _parse_metrics_text(text: str | None, path: Path) -> dict[str, Any]:
    """Parse one ``metrics`` cell written as text (JSON or a Python dict repr)."""
    if text is None:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        cleaned = _BARE_NAN.sub("None", _NUMPY_SCALAR.sub(r"\1", text))
        try:
            value = ast.literal_eval(cleaned)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
    if not isinstance(value, dict):
        raise InputError(
            f"a metrics cell is not a mapping of metric to value: {text[:80]!r}",
            file=path,
            fix="give a details file written by lighteval --save-details",
            kind="malformed_metrics",
        )
    return {str(k): v for k, v in value.items()}


# ---------------------------------------------------------------------------
# reading columns


def _read(pf: pq.ParquetFile, top: str, child: str | None, path: Path) -> pa.ChunkedArray:
    """One column (or one field of a struct column) of a parquet file."""
    try:
        if child is None or "." in child:
            arr = pf.read(columns=[top]).column(0)
            return arr if child is None else pc.struct_field(arr, child)
        arr = pf.read(columns=[f"{top}.{child}"]).column(0)
        if pa.types.is_struct(arr.type):
            arr = pc.struct_field(arr, child)
        return arr
    except (pa.ArrowException, OSError) as err:
        raise InputError(
            f"cannot read column {top if child is None else top + '.' + child!r}: {err}",
            file=path,
            fix=_MALFORMED_FIX,
            kind="malformed_parquet",
        ) from None


def _items(pf: pq.ParquetFile, schema: pa.Schema, n: int, path: Path) -> pl.Series:
    """Item ids: ``doc.id`` when the file has it, else the 0-based row number."""
    if "doc" in schema.names:
        doc_type = schema.field("doc").type
        if pa.types.is_struct(doc_type) and doc_type.get_field_index("id") >= 0:
            ids = _read(pf, "doc", "id", path)
            if ids.null_count < len(ids):
                return pl.Series("item", pc.cast(ids, pa.string()), dtype=pl.String)
    return pl.Series("item", np.arange(n).astype(str), dtype=pl.String)


def _texts(pf: pq.ParquetFile, schema: pa.Schema, n: int, path: Path) -> list[str | None]:
    """Question text of each row: ``doc.query`` (lighteval 0.11 and later), else ``example`` (earlier)."""
    arr = None
    try:
        if "doc" in schema.names:
            doc_type = schema.field("doc").type
            if pa.types.is_struct(doc_type) and doc_type.get_field_index("query") >= 0:
                arr = _read(pf, "doc", "query", path)
        elif "example" in schema.names:
            arr = pf.read(columns=["example"]).column(0)
    except (InputError, pa.ArrowException, OSError):
        arr = None
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return [None] * n
    return arr.to_pylist()


def _identity(
    path: Path, task: str, model: str, fewshot: int | None, ts: str | None, results: Path | None
) -> RunIdentity:
    """The run of a details file: few-shot count and generation settings from the results file.

    The few-shot count (in the file name) and the generation parameters other than the
    seed (``config_general.model_config.generation_parameters``) make the configuration;
    the seeds are the generation seed and lighteval's few-shot seeds count.
    """
    config: list[tuple[str, str]] = [("num_fewshot", str(fewshot if fewshot is not None else 0))]
    seeds: list[tuple[str, int | None]] = []
    general: dict[str, Any] = {}
    if results is not None:
        try:
            data = orjson.loads(results.read_bytes())
            general = data.get("config_general") or {} if isinstance(data, dict) else {}
        except (OSError, orjson.JSONDecodeError):
            general = {}
    if isinstance(general, dict):
        mcfg = general.get("model_config") if isinstance(general.get("model_config"), dict) else {}
        gen = mcfg.get("generation_parameters") if isinstance(mcfg.get("generation_parameters"), dict) else {}
        gen = dict(gen)
        seed = gen.pop("seed", None)
        gen = {k: v for k, v in gen.items() if v not in (None, [], {}, "")}
        if gen:
            text = json.dumps(gen, sort_keys=True, default=str)
            config.append(("generation", text if len(text) <= 40 else hashlib.sha256(text.encode()).hexdigest()[:12]))
        if isinstance(seed, int) and not isinstance(seed, bool):
            seeds.append(("seed", seed))
        system = mcfg.get("system_prompt")
        if isinstance(system, str) and system:
            config.append(("system_prompt", hashlib.sha256(system.encode()).hexdigest()[:12]))
    return RunIdentity(
        NAME,
        model,
        task,
        config=tuple(config),
        seeds=tuple(seeds),
        timestamp=ts or "",
        run=str(results) if results is not None else str(path.parent),
    )


def _struct_scores(
    pf: pq.ParquetFile, top: str, mtype: pa.StructType, metric: str | None, path: Path
) -> tuple[str, list[str], np.ndarray]:
    """Chosen metric, numeric metric names and per-row values from a struct column."""
    fields = [mtype.field(i) for i in range(mtype.num_fields)]
    numeric = [f.name for f in fields if _is_numeric_type(f.type)]
    others = [f.name for f in fields if not _is_numeric_type(f.type) and not pa.types.is_null(f.type)]
    if metric is not None:
        metric = _resolve(metric, numeric + others)
    if metric is None:
        chosen = _choose(numeric, others, path)
    elif metric in numeric:
        chosen = metric
    elif metric in others:
        raise _non_numeric(metric, numeric, path)
    else:
        raise _unknown_metric(metric, numeric, others, path)
    col = _read(pf, top, chosen, path)
    values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    missing = np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False))
    if 0 < len(missing) < len(values):
        raise _mixed(chosen, missing, path)
    if len(missing) == len(values):
        raise _unknown_metric(chosen, [m for m in numeric if m != chosen], others, path)
    return chosen, numeric, values


def _text_scores(pf: pq.ParquetFile, top: str, metric: str | None, path: Path) -> tuple[str, list[str], np.ndarray]:
    """Same as :func:`_struct_scores` for metrics written as text (one mapping per cell)."""
    texts = pl.Series("m", _read(pf, top, None, path))
    uniq = texts.unique(maintain_order=True).to_list()
    parsed = {t: _parse_metrics_text(t, path) for t in uniq}
    first = parsed[texts[0]]
    numeric = [k for k, v in first.items() if _is_number(v) or v is None]
    others = [k for k in first if k not in numeric]
    if metric is None:
        chosen = _choose(numeric, others, path)
    else:
        every = list(dict.fromkeys(k for d in parsed.values() for k in d))
        metric = _resolve(metric, every)
        if metric not in every:
            seen_numeric = list(dict.fromkeys(k for d in parsed.values() for k, v in d.items() if _is_number(v)))
            raise _unknown_metric(metric, seen_numeric, [k for k in every if k not in seen_numeric], path)
        chosen = metric
    lookup: dict[str, float | None] = {}
    for t, d in parsed.items():
        if t is None:  # a null cell has no metric: left null, reported below
            continue
        if chosen not in d:
            lookup[t] = None
            continue
        v = d[chosen]
        if v is None:
            lookup[t] = float("nan")
        elif _is_number(v):
            lookup[t] = float(v)
        else:
            raise _non_numeric(chosen, [k for k, x in d.items() if _is_number(x)], path)
    mapped = texts.replace_strict(lookup, return_dtype=pl.Float64, default=None)
    missing = np.flatnonzero(mapped.is_null().to_numpy())
    if len(missing):
        raise _mixed(chosen, missing, path)
    return chosen, numeric, mapped.to_numpy()



# ---------------------------------------------------------------------------
# read


def read(
    path: str | Path,
    *,
    metric: str | None = None,
    model: str | None = None,
    benchmark: str | None = None,
) -> Runs:
    """Read one lighteval details file into :class:`~metabench.runs.Runs`.

    Parameters
    ----------
    path : str or Path
        A ``details_<task>|<fewshot>_<timestamp>.parquet`` file.
    metric : str, optional
        Sample-level metric to use as the score. Default: the first of
        :data:`DEFAULT_METRICS` the file carries, else its first numeric metric.
        It must be in [0, 1] (not a perplexity).
    model : str, optional
        Model name; default ``config_general.model_name`` from the run's
        ``results_<timestamp>.json``, else the folders between ``details/`` and
        the timestamp folder, else the name of the folder holding the file.
    benchmark : str, optional
        Benchmark name; default the task in the file name without its few-shot
        number.

    Returns
    -------
    Runs
        One row per document: model, benchmark, item (``doc.id``, else the
        0-based row number), score, seed 0, and the extra columns ``fewshot``
        (few-shot number from the file name, null if absent) and ``metric``.

    Raises
    ------
    InputError
        Unreadable or truncated parquet (``malformed_parquet``), no rows
        (``empty``), no metric column (``missing_column``), unknown metric
        (``unknown_metric``, listing those available), a metric present on some
        rows only (``mixed_metrics``), a corpus-level metric
        (``non_numeric_metric``), or scores outside [0, 1].

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp()) / "details" / "org" / "model" / "2025-01-01T00-00-00.000000"
    >>> run.mkdir(parents=True)
    >>> p = run / "details_toy|0_2025-01-01T00-00-00.000000.parquet"
    >>> pl.DataFrame({"doc": [{"id": "0"}, {"id": "1"}],
    ...               "metric": [{"acc": 1, "mrr": 1.0}, {"acc": 0, "mrr": 0.5}]}).write_parquet(p)
    >>> read(p).frame.select("model", "benchmark", "item", "score").rows()
    [('org/model', 'toy', '0', 1.0), ('org/model', 'toy', '1', 0.0)]
    >>> read(p, metric="mrr").frame.get_column("score").to_list()
    [1.0, 0.5]
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "no such file",
            file=path,
            fix="give the path of a details_<task>_<timestamp>.parquet file",
            kind="not_found",
        )
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        n = pf.metadata.num_rows
    except (pa.ArrowException, OSError) as err:
        raise InputError(
            f"cannot read the parquet file: {err}", file=path, fix=_MALFORMED_FIX, kind="malformed_parquet"
        ) from None
    if n == 0:
        raise InputError(
            "the lighteval details file has no rows",
            file=path,
            fix="re-run lighteval with --save-details, or remove the file",
            kind="empty",
        )
    top = _metric_column(schema)
    if top is None:
        raise InputError(
            f"no 'metric' or 'metrics' column; found {', '.join(repr(c) for c in schema.names) or 'no column'}",
            file=path,
            fix="give a details file written by lighteval --save-details",
            kind="missing_column",
        )

    # --- the run: task, model -----------------------------------------------------
    task, fewshot, ts = _task_from_name(path.name)
    bench = benchmark or task
    if not bench:
        raise InputError(
            f"cannot tell the lighteval task from the file name {path.name!r}",
            file=path,
            fix="keep lighteval's name details_<task>|<fewshot>_<timestamp>.parquet, or pass benchmark=...",
            kind="unknown_task",
        )
    model_dir, out_dir, dir_model = _layout(path)
    extra: list[Path] = []
    model_name = model
    results_file = _find_results(path, model_dir, out_dir, dir_model, ts)
    if model_name is None:
        results = results_file
        res_model = _model_from_results(results) if results is not None else None
        if results is not None and res_model is not None:
            extra.append(results if path.is_absolute() else _relative(results))
        model_name = res_model or dir_model
    if not model_name:
        raise InputError(
            "cannot tell the model from the file's folders",
            file=path,
            fix="keep lighteval's layout details/<model>/<timestamp>/, or pass model=...",
            kind="missing_model",
        )

    # --- scores -----------------------------------------------------------------
    mtype = schema.field(top).type
    if pa.types.is_struct(mtype):
        chosen, numeric, values = _struct_scores(pf, top, mtype, metric, path)
    elif pa.types.is_string(mtype) or pa.types.is_large_string(mtype):
        chosen, numeric, values = _text_scores(pf, top, metric, path)
    else:
        raise InputError(
            f"column {top!r} has type {mtype}, not a mapping of metric to value",
            file=path,
            fix="give a details file written by lighteval --save-details",
            kind="malformed_metrics",
        )

    frame = pl.DataFrame(
        {
            "item": _items(pf, schema, n, path),
            "score": pl.Series("score", values, dtype=pl.Float64),
            "_line": pl.int_range(1, n + 1, eager=True, dtype=pl.Int64),
        }
    ).select(
        pl.lit(model_name, dtype=pl.String).alias("model"),
        pl.lit(bench, dtype=pl.String).alias("benchmark"),
        "item",
        "score",
        pl.lit(fewshot, dtype=pl.Int64).alias("fewshot"),
        pl.lit(chosen, dtype=pl.String).alias("metric"),
        "_line",
    )
    items = frame.get_column("item").to_list()
    try:
        return make_runs(
            frame,
            file=path,
            format=NAME,
            line_column="_line",
            extra_sources=extra,
            run=_identity(path, bench, str(model_name), fewshot, ts, results_file),
            item_keys=item_key_table(NAME, bench, items, _texts(pf, schema, n, path), prompts=True),
        )
    except ValidationError as err:
        raise explain_metric_range(err, chosen, numeric) from None
