"""Reader for EleutherAI lm-evaluation-harness per-sample logs.

``lm_eval ... --output_path OUT --log_samples`` writes, for each run::

    OUT/<model_name_sanitized>/results_<timestamp>.json
    OUT/<model_name_sanitized>/samples_<task>_<timestamp>.jsonl   (one per task)

Each line of a samples file is one scored document: ``doc_id``, ``doc``,
``target``, ``arguments``, ``resps``, ``filtered_resps``, ``filter``, ``metrics``
(the names of the per-sample metrics), hashes, and one key per metric
(``"acc": 1.0``). A task with several filters (gsm8k's ``strict-match`` and
``flexible-extract``) logs one line per document *and filter*.

:func:`read` turns one samples file into :class:`~metabench.runs.Runs`: the
benchmark is the task, the item is ``str(doc_id)``, the score is one per-sample
metric of one filter, and the model name comes from the results file of the same
run. The file is streamed line by line and only ``doc_id``, ``filter`` and the
metric are kept.

Older layouts are read too: files without ``filter`` or ``metrics`` keys (before
lm-eval 0.4.3; the k-th line of a ``doc_id`` then belongs to the k-th filter,
labelled ``"#k"``), samples written as one JSON array (lm-eval 0.4.0 to 0.4.2,
``<model_args>_<task>.jsonl``; read whole, positions are sample numbers), and
gzip-compressed samples (``.jsonl.gz``).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from metabench.errors import InputError, ValidationError
from metabench.io._base import explain_metric_range, make_runs
from metabench.io.identity import item_key_table, question_text
from metabench.runs import Exclusion, RunIdentity, Runs

__all__ = ["DEFAULT_METRICS", "NAME", "companion", "incomplete", "read", "results_without_samples", "samples_of", "sniff", "units_of"]

NAME = "lm_eval"

DEFAULT_METRICS: tuple[str, ...] = ("acc", "exact_match", "acc_norm")
"""Metrics preferred, in order, when ``metric`` is not given; otherwise the first
numeric metric the samples list is used."""

_HEAD = 4096
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"
_SAMPLES_NAME = re.compile(rf"^samples_(?P<task>.+?)(?:_(?P<ts>{_TIMESTAMP}))?$")
_TS_IN_NAME = re.compile(rf"_(?P<ts>{_TIMESTAMP})$")
_LINE_START = re.compile(rb'^\s*\{\s*"doc_id"\s*:')
_ARRAY_START = re.compile(rb'^\s*\[\s*\{\s*"doc_id"\s*:')
_STRICT_LINE_START = re.compile(rb'^\s*\{\s*"doc_id"\s*:\s*[^,{}\[\]]+,\s*"doc"\s*:')
_RESULTS_START = re.compile(rb'^\s*\{\s*"results"\s*:\s*\{')
_SUFFIXES = (".jsonl", ".json", ".ndjson")
# top-level keys of a logged sample that are not metrics (lm-eval and close forks)
_NOT_METRICS = frozenset(
    {
        "doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter",
        "metrics", "doc_hash", "prompt_hash", "target_hash", "task", "task_name",
        "split", "input_text", "image_paths", "success", "token_counts",
    }
)  # fmt: skip
# order used by lm-eval itself to name a model from its arguments
_MODEL_ARG_KEYS = ("peft", "delta", "pretrained", "model", "path", "engine")


# ---------------------------------------------------------------------------
# file names and heads


def _stem(path: Path) -> str:
    """File name without ``.gz`` and the JSON suffix."""
    name = path.name
    name = name.removesuffix(".gz")
    for suf in _SUFFIXES:
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def _has_json_suffix(path: Path) -> bool:
    name = path.name.removesuffix(".gz")
    return name.endswith(_SUFFIXES)


def _open(path: Path) -> Any:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _head(path: Path, n: int = _HEAD) -> bytes:
    try:
        with _open(path) as fh:
            return fh.read(n)
    except (OSError, EOFError, zlib.error):
        return b""


def sniff(path: str | Path) -> bool:
    """Is ``path`` an lm-eval per-sample log (``samples_<task>_<timestamp>.jsonl``)?

    The first JSON object of the file must start with a ``doc_id`` key, as
    lm-eval writes it. Files named ``samples_*`` may be JSON lines or (old
    versions) a JSON array; other names are accepted only when the first line
    starts with ``{"doc_id": ..., "doc": ...``. Reads at most 4 KiB.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = d / "samples_arc_easy_2024-05-01T10-00-00.123456.jsonl"
    >>> _ = p.write_text('{"doc_id": 0, "doc": {}, "acc": 1.0}\\n')
    >>> sniff(p), sniff(d / "missing.jsonl")
    (True, False)
    """
    path = Path(path)
    if not _has_json_suffix(path) or not path.is_file():
        return False
    head = _head(path)
    if _stem(path).startswith("samples_"):
        return bool(_LINE_START.match(head) or _ARRAY_START.match(head))
    return bool(_STRICT_LINE_START.match(head) or _ARRAY_START.match(head))


def companion(path: str | Path) -> bool:
    """Is ``path`` an lm-eval side file (the ``results_<timestamp>.json`` of a run)?

    True for JSON files whose top-level object starts with a ``"results"``
    mapping, as lm-eval's aggregated results do in every version. Such a file
    is read by :func:`read` for the model name; it holds no per-item scores.
    """
    path = Path(path)
    if path.suffix != ".json" or not path.is_file():
        return False
    return bool(_RESULTS_START.match(_head(path)))


# ---------------------------------------------------------------------------
# the results file of a run


def _model_from_args(args: Any) -> str | None:
    if isinstance(args, dict):
        for key in _MODEL_ARG_KEYS:
            if args.get(key):
                return str(args[key])
        return None
    if isinstance(args, str) and args:
        parts = dict(p.split("=", 1) for p in args.split(",") if "=" in p)
        for key in _MODEL_ARG_KEYS:
            if parts.get(key):
                return parts[key].strip()
    return None


def _results_json(path: str) -> dict[str, Any] | None:
    """A results file as JSON (None when unreadable or not an object)."""
    try:
        with open(path, "rb") as fh:
            data = orjson.loads(fh.read())
    except (OSError, orjson.JSONDecodeError):
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)  # NaN / Infinity, which orjson rejects
        except (OSError, ValueError):
            return None
    return data if isinstance(data, dict) else None


@functools.lru_cache(maxsize=64)
def _results_info(path: str, mtime_ns: int, size: int) -> tuple[str | None, frozenset[str]]:
    """(model name, task names in ``configs``/``results``) of a results file."""
    data = _results_json(path)
    if data is None:
        return None, frozenset()
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    name = data.get("model_name") or _model_from_args(config.get("model_args")) or config.get("model")
    tasks: set[str] = set()
    for key in ("configs", "results", "n-shot", "versions"):
        if isinstance(data.get(key), dict):
            tasks.update(str(k) for k in data[key])
    return (str(name) if name else None), frozenset(tasks)


def _info(path: Path) -> tuple[str | None, frozenset[str]]:
    st = path.stat()
    return _results_info(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _results_meta(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    """The parts of a results file that identify its run (see :func:`_identity`)."""
    data = _results_json(path)
    if data is None:
        return {}
    keep = ("config", "n-shot", "n-samples", "configs", "date", "chat_template_sha", "chat_template",
            "system_instruction_sha", "system_instruction", "fewshot_as_multiturn", "model_name", "lm_eval_version")  # fmt: skip
    out = {k: data.get(k) for k in keep}
    out["configs"] = {
        t: {k: c.get(k) for k in ("num_fewshot", "doc_to_text", "generation_kwargs")}
        for t, c in (data.get("configs") or {}).items()
        if isinstance(c, dict)
    }
    return out


def _meta(path: Path) -> dict[str, Any]:
    st = path.stat()
    return _results_meta(str(path), st.st_mtime_ns, st.st_size)


_SEED_KEYS = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")


def _short(value: Any) -> str:
    """A configuration value as short text: JSON, or a 12-digit hash of a long one."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 40 else hashlib.sha256(text.encode()).hexdigest()[:12]


def _identity(
    results: Path | None, task: str, model: str, timestamp: str | None, n_read: int
) -> RunIdentity:
    """The run a samples file belongs to, from its results file.

    The configuration is what makes a system: the task's few-shot count, the chat
    template, system instruction and multi-turn few-shot setting, generation
    arguments given on the command line, model arguments other than the model's
    name, and ``--limit`` (a run of part of the task). Seeds are lm-eval's four (``random_seed``, ``numpy_seed``, ``torch_seed``,
    ``fewshot_seed``). A samples file holding fewer documents than the results file
    counted is a partial run.
    """
    meta = _meta(results) if results is not None else {}
    cfg = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    nshot = (meta.get("n-shot") or {}).get(task) if isinstance(meta.get("n-shot"), dict) else None
    if nshot is None:
        nshot = (meta.get("configs") or {}).get(task, {}).get("num_fewshot")
    config: list[tuple[str, str]] = [("num_fewshot", str(nshot if nshot is not None else 0))]
    chat = meta.get("chat_template_sha") or meta.get("chat_template")
    if chat:
        config.append(("chat_template", _short(chat)))
    system = meta.get("system_instruction_sha") or meta.get("system_instruction")
    if system:
        config.append(("system_instruction", _short(system)))
    if meta.get("fewshot_as_multiturn"):
        config.append(("fewshot_as_multiturn", "true"))
    if cfg.get("gen_kwargs"):
        config.append(("gen_kwargs", _short(cfg["gen_kwargs"])))
    if cfg.get("limit") not in (None, ""):
        # --limit runs a subset of the task: kept apart from full runs rather than taken for a re-run of one
        config.append(("limit", _short(cfg["limit"])))
    margs = cfg.get("model_args")
    if isinstance(margs, str):
        margs = dict(p.split("=", 1) for p in margs.split(",") if "=" in p)
    if isinstance(margs, dict):
        rest = {k: v for k, v in margs.items() if k not in _MODEL_ARG_KEYS}
        if rest:
            config.append(("model_args", _short(rest)))
    seeds = tuple((k, cfg[k] if isinstance(cfg.get(k), int) else None) for k in _SEED_KEYS if k in cfg)
    status, reason = "complete", None
    n_samples = (meta.get("n-samples") or {}).get(task) if isinstance(meta.get("n-samples"), dict) else None
    expected = n_samples.get("effective") if isinstance(n_samples, dict) else None
    if isinstance(expected, int) and n_read < expected:
        status, reason = "partial", f"the samples file holds {n_read} of the {expected} documents the results file counts"
    stamp = timestamp or ""
    if not stamp and isinstance(meta.get("date"), (int, float)):
        stamp = f"{meta['date']:020.6f}"
    return RunIdentity(
        NAME,
        model,
        task,
        config=tuple(config),
        seeds=seeds,
        timestamp=stamp,
        status=status,
        reason=reason,
        run=str(results) if results is not None else stamp,
    )


def results_without_samples(path: str | Path) -> list[str]:
    """Tasks of a ``results_*.json`` that have no samples file of the same run beside it.

    lm-eval writes per-item samples only with ``--log_samples``; a run without them
    has only aggregate scores, which per-item analyses cannot use.
    """
    path = Path(path)
    _, tasks = _info(path)
    m = _TS_IN_NAME.search(_stem(path))
    if m is None:
        return []
    ts = m.group("ts")
    have = {
        _SAMPLES_NAME.match(_stem(p)).group("task")  # type: ignore[union-attr]
        for p in path.parent.glob(f"samples_*_{ts}.json*")
        if _SAMPLES_NAME.match(_stem(p))
    }
    sanitized = {re.sub(r"\W", "_", t): t for t in tasks}
    have |= {sanitized.get(t, t) for t in have}
    meta = _meta(path)
    leaves = set((meta.get("n-samples") or {}).keys()) or set(tasks)
    return sorted(t for t in leaves if t not in have)


def samples_of(path: str | Path) -> list[Path]:
    """The samples files of the run that wrote the results file ``path`` (same timestamp)."""
    path = Path(path)
    m = _TS_IN_NAME.search(_stem(path))
    if m is None:
        return []
    ts = m.group("ts")
    return sorted(p for p in path.parent.glob(f"samples_*_{ts}.json*") if sniff(p))


def units_of(path: str | Path) -> list[Path]:
    """Primary files of the run a companion file belongs to (a results file: its samples)."""
    return samples_of(path) if companion(path) else []


def incomplete(companions: list[Path]) -> list[tuple[Path, str]]:
    """Runs among ``companions`` that left no per-item scores: results files without samples."""
    out = []
    for p in companions:
        if p.suffix == ".json" and p.name.startswith("results") and companion(p):
            missing = results_without_samples(p)
            if missing:
                more = " ..." if len(missing) > 5 else ""
                why = f"lm-eval run without per-sample logs for {', '.join(missing[:5])}{more}"
                out.append((p, why + " (run with --log_samples to analyse items)"))
    return out


def _find_results(samples: Path, timestamp: str | None, task: str | None) -> Path | None:
    """The results file of the run that wrote ``samples``.

    The one with the same timestamp (``results_<ts>.json``, or ``<stem>_<ts>.json``
    when lm-eval was given a ``.json`` output path); else the newest results file
    of the directory that lists the task; else the newest results file.
    """
    folder = samples.parent
    if timestamp:
        exact = folder / f"results_{timestamp}.json"
        if exact.is_file():
            return exact
        for p in sorted(folder.glob(f"*_{timestamp}.json")):
            if companion(p):
                return p
    try:
        candidates = [p for p in folder.iterdir() if p.suffix == ".json" and p != samples and companion(p)]
    except OSError:
        return None
    if not candidates:
        return None

    def order(p: Path) -> tuple[str, int]:
        m = _TS_IN_NAME.search(p.stem)
        return (m.group("ts") if m else "", p.stat().st_mtime_ns)

    candidates.sort(key=order, reverse=True)
    if task is not None:
        for p in candidates:
            if task in _info(p)[1]:
                return p
    return candidates[0]


def _task_from_name(stem: str, known: frozenset[str]) -> tuple[str | None, str | None]:
    """(task, timestamp) from a samples file name, checked against known task names."""
    m = _SAMPLES_NAME.match(stem)
    if m:
        task, ts = m.group("task"), m.group("ts")
        if not known or task in known:
            return task, ts
        sanitized = {re.sub(r"\W", "_", k): k for k in known}
        return sanitized.get(task, task), ts
    # lm-eval 0.4.0-0.4.2: "<model_args with / and = as __>_<task>.jsonl"
    matches = [k for k in known if stem == k or stem.endswith("_" + k)]
    if matches:
        return max(matches, key=len), None
    return None, None


# ---------------------------------------------------------------------------
# parsing


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        # lm-eval writes with Python's json, which emits NaN / Infinity
        return json.loads(line)


def _iter_samples(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (position, sample) from a JSON-lines or JSON-array samples file."""
    head = _head(path)
    if _ARRAY_START.match(head):
        try:
            with _open(path) as fh:
                data = _loads(fh.read())
        except (ValueError, EOFError, OSError, zlib.error) as exc:
            raise InputError(
                f"the lm-eval samples file is not valid JSON ({exc})",
                file=path,
                fix="the file is truncated or corrupted; re-run lm-eval with --log_samples",
                kind="malformed_json",
            ) from None
        if not isinstance(data, list):
            raise InputError(
                "the lm-eval samples file holds a JSON value that is not a list of samples",
                file=path,
                fix="give a samples file written by lm-eval --log_samples",
                kind="missing_field",
            )
        yield from enumerate(data, start=1)
        return
    lineno = 0
    try:
        with _open(path) as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    obj = _loads(raw)
                except ValueError as exc:
                    cut = "" if raw.endswith(b"\n") else " (the line has no end: the file looks truncated)"
                    raise InputError(
                        f"line {lineno} is not valid JSON{cut}: {exc}",
                        file=path,
                        line=lineno,
                        fix="re-run lm-eval with --log_samples, or delete the broken line",
                        kind="malformed_json",
                    ) from None
                yield lineno, obj
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"the compressed file ends or breaks after line {lineno} ({exc})",
            file=path,
            line=lineno + 1,
            fix="the file is truncated or corrupted; compress the complete samples file again",
            kind="malformed_json",
        ) from None


def _metric_names(sample: dict[str, Any]) -> list[str]:
    """Per-sample metric names of one sample, in lm-eval's order."""
    listed = sample.get("metrics")
    if isinstance(listed, list) and all(isinstance(m, str) for m in listed):
        return list(listed)
    return [k for k, v in sample.items() if k not in _NOT_METRICS and _is_number(v)]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float))  # bool is an int: True/False score 1/0


def _choose_metric(names: list[str], sample: dict[str, Any], path: Path, line: int) -> str:
    numeric = [m for m in names if _is_number(sample.get(m))]
    for m in DEFAULT_METRICS:
        if m in numeric:
            return m
    if numeric:
        return numeric[0]
    raise InputError(
        "no per-sample numeric metric in the first sample" + (f" (metrics: {', '.join(names)})" if names else ""),
        file=path,
        line=line,
        fix="these metrics are aggregated over the whole corpus by lm-eval (bleu, f1, mcc ...); "
        "per-item analyses need a per-sample score such as acc or exact_match",
        kind="no_metric",
    )


# ---------------------------------------------------------------------------
# read


def read(
    path: str | Path,
    *,
    metric: str | None = None,
    filter: str | None = None,
    model: str | None = None,
    benchmark: str | None = None,
) -> Runs:
    """Read one lm-eval samples file into :class:`~metabench.runs.Runs`.

    Parameters
    ----------
    path : str or Path
        A ``samples_<task>_<timestamp>.jsonl`` file (``.jsonl.gz`` too).
    metric : str, optional
        Per-sample metric to use as the score. Default: the first of
        :data:`DEFAULT_METRICS` the samples carry, else their first numeric
        metric. It must be in [0, 1] (not perplexity or a log-likelihood).
    filter : str, optional
        lm-eval filter whose rows to keep when a task logs several per document
        (``"strict-match"``, ``"flexible-extract"``); default the first filter in
        the file. Rows of the other filters are counted as an exclusion.
    model : str, optional
        Model name; default ``model_name`` (or the ``pretrained=`` argument, or
        the model type) from the run's ``results_<timestamp>.json``, else the
        name of the folder holding the file.
    benchmark : str, optional
        Benchmark name; default the task named in the file name.

    Returns
    -------
    Runs
        One row per document: model, benchmark (task), item (``str(doc_id)``),
        score, seed 0, and ``metric`` (lm-eval's ``"<metric>,<filter>"`` key).

    Raises
    ------
    InputError
        Empty or malformed file (with the line number), unknown metric or
        filter, samples with different metrics, a non-numeric or out-of-range
        metric.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "org__model"
    >>> d.mkdir()
    >>> p = d / "samples_toy_2024-05-01T10-00-00.123456.jsonl"
    >>> _ = p.write_text('{"doc_id": 0, "filter": "none", "metrics": ["acc"], "acc": 1.0}\\n'
    ...                  '{"doc_id": 1, "filter": "none", "metrics": ["acc"], "acc": 0.0}\\n')
    >>> read(p).frame.select("model", "benchmark", "item", "score").rows()
    [('org__model', 'toy', '0', 1.0), ('org__model', 'toy', '1', 0.0)]
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", file=path, fix="give the path of a samples_<task>_<timestamp>.jsonl file")

    # --- the run: task, timestamp, results file, model --------------------------
    stem = _stem(path)
    m = _SAMPLES_NAME.match(stem)
    guess_task, timestamp = (m.group("task"), m.group("ts")) if m else (None, None)
    results = _find_results(path, timestamp, guess_task)
    res_model, known = _info(results) if results is not None else (None, frozenset())
    task, _ = _task_from_name(stem, known)
    bench = benchmark or task
    if not bench:
        raise InputError(
            f"cannot tell the lm-eval task from the file name {path.name!r}",
            file=path,
            fix="keep lm-eval's results_<timestamp>.json beside the samples file, or pass benchmark=...",
            kind="unknown_task",
        )
    model_name = model or res_model or path.parent.resolve().name
    extra = [results] if results is not None else []

    # --- stream the samples -------------------------------------------------------
    items: list[str] = []
    values: list[float] = []
    filters: list[str] = []
    lines: list[int] = []
    filter_order: dict[str, int] = {}
    occurrences: dict[str, int] = {}
    texts: dict[str, str | None] = {}
    chosen: str | None = metric
    first_names: list[str] | None = None
    first_line = 0
    named_filters = True

    for lineno, sample in _iter_samples(path):
        if not isinstance(sample, dict) or "doc_id" not in sample:
            raise InputError(
                f"sample {lineno} has no doc_id; this is not an lm-eval samples file",
                file=path,
                line=lineno,
                fix="give a samples_<task>_<timestamp>.jsonl file written by lm-eval --log_samples",
                kind="missing_field",
            )
        names = _metric_names(sample)
        if first_names is None:
            first_names, first_line = names, lineno
            if chosen is None:
                chosen = _choose_metric(names, sample, path, lineno)
            elif chosen in _NOT_METRICS or chosen not in sample:
                raise InputError(
                    f"metric {chosen!r} is not in the samples; they have "
                    f"{', '.join(repr(n) for n in names) or 'no numeric metric'}",
                    file=path,
                    line=lineno,
                    fix=f"pass metric= one of {', '.join(names)}" if names else "choose another file",
                    kind="unknown_metric",
                )
        elif metric is None and set(names) != set(first_names):
            raise InputError(
                f"samples carry different metrics: line {lineno} has "
                f"{', '.join(names) or 'none'}, line {first_line} has {', '.join(first_names)}",
                file=path,
                line=lineno,
                kind="mixed_metrics",
                fix="pass metric=... naming a metric present on every line",
            )
        elif chosen not in sample:
            raise InputError(
                f"metric {chosen!r} is missing on line {lineno} (it has {', '.join(names) or 'no metric'})",
                file=path,
                line=lineno,
                kind="mixed_metrics",
                fix="pass metric=... naming a metric present on every line",
            )
        value = sample[chosen]
        if value is None:
            values.append(float("nan"))
        elif _is_number(value):
            values.append(float(value))
        else:
            numeric = [n for n in names if _is_number(sample.get(n))]
            raise InputError(
                f"metric {chosen!r} is not a number per sample (got {type(value).__name__}); "
                "lm-eval computes it over the whole corpus",
                file=path,
                line=lineno,
                fix=f"pass metric= one of {', '.join(numeric)}" if numeric else "use a task with a per-sample metric",
                kind="non_numeric_metric",
            )
        doc_id = str(sample["doc_id"])
        if doc_id not in texts:
            texts[doc_id] = question_text(sample.get("doc"))
        filt = sample.get("filter")
        if isinstance(filt, str):
            key = filt
        else:
            named_filters = False
            occurrences[doc_id] = occurrences.get(doc_id, 0) + 1
            key = f"#{occurrences[doc_id]}"
        filter_order.setdefault(key, len(filter_order))
        items.append(doc_id)
        filters.append(key)
        lines.append(lineno)

    if first_names is None:
        raise InputError(
            "the lm-eval samples file is empty",
            file=path,
            fix="re-run lm-eval with --log_samples, or remove the file",
            kind="empty",
        )

    # --- filters ----------------------------------------------------------------
    known_filters = list(filter_order)
    keep = filter if filter is not None else known_filters[0]
    if keep not in filter_order:
        raise InputError(
            f"no filter {keep!r} in the samples; they have {', '.join(repr(f) for f in known_filters)}",
            file=path,
            fix=f"pass filter= one of {', '.join(known_filters)}",
            kind="unknown_filter",
        )
    frame = pl.DataFrame(
        {"item": items, "score": values, "_filter": filters, "_line": lines},
        schema={"item": pl.String, "score": pl.Float64, "_filter": pl.String, "_line": pl.Int64},
    )
    exclusions: list[Exclusion] = []
    if len(known_filters) > 1:
        others = [f for f in known_filters if f != keep]
        dropped = frame.filter(pl.col("_filter") != keep).height
        frame = frame.filter(pl.col("_filter") == keep)
        exclusions.append(
            Exclusion(
                "row",
                f"{bench}: rows of lm-eval filter(s) {', '.join(repr(f) for f in others)} not used; "
                f"scores are from filter {keep!r} (choose with filter=...)",
                dropped,
                tuple(others),
            )
        )
    label = f"{chosen},{keep}" if named_filters else str(chosen)
    run = _identity(results, bench, model_name, timestamp, len(texts))
    keys = item_key_table(NAME, bench, list(texts), list(texts.values()))
    frame = frame.select(
        pl.lit(model_name, dtype=pl.String).alias("model"),
        pl.lit(bench, dtype=pl.String).alias("benchmark"),
        "item",
        "score",
        pl.lit(label, dtype=pl.String).alias("metric"),
        "_line",
    )
    try:
        return make_runs(
            frame,
            file=path,
            format=NAME,
            line_column="_line",
            row_base=1,
            exclusions=exclusions,
            extra_sources=extra,
            run=run,
            item_keys=keys,
        )
    except ValidationError as err:
        raise explain_metric_range(err, str(chosen), first_names) from None

