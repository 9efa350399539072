"""Reader for `Inspect <https://inspect.aisi.org.uk>`_ (``inspect-ai``) evaluation logs.

Inspect writes one log per task and model, in one of two formats:

``.eval``
    A zip archive. ``header.json`` holds the eval spec (task, model, config),
    status, results and stats; ``samples/<id>_epoch_<n>.json`` holds one sample
    each; ``summaries.json`` holds a short record of every sample, scores
    included. A log of a run that is still going or that crashed has no
    ``header.json`` / ``summaries.json`` yet: its spec is in
    ``_journal/start.json`` and its summaries in ``_journal/summaries/<k>.json``.
    Current inspect-ai compresses members with Zstandard (zip method 93, which
    Python's :mod:`zipfile` cannot read before 3.14); older releases used
    deflate. Both, and stored members, are read here.
``.json``
    One JSON object with ``version``, ``status``, ``eval``, ``plan``,
    ``results``, ``stats``, ``samples`` and ``reductions``.

Mapping to the canonical runs table:

============  =============================================================
``model``     ``eval.model`` (``"openai/gpt-4o"``), or the ``model`` option
``benchmark`` ``eval.task`` (the task name)
``item``      the sample id, as a string
``seed``      ``epoch - 1``: Inspect numbers epochs from 1, seeds start at 0
``score``     the value of one scorer: ``"C"`` 1, ``"I"`` 0, ``"P"`` 0.5,
              ``"N"`` 0 (Inspect's own ``value_to_float`` mapping, which also
              takes ``yes``/``true`` 1, ``no``/``false`` 0 and numeric
              strings); numbers as they are (they must lie in [0, 1]);
              booleans 1/0
``answer``    the answer the scorer extracted (extra column; cut to
              200 characters), when the scorer records one
============  =============================================================

Epoch-level scores are read, not Inspect's reductions across epochs, so each
epoch becomes one seed.

When a log has several scorers the first one is used unless ``scorer=`` names
another; the others are listed as an exclusion so the choice is visible. A
scorer whose value is a dictionary (several metrics per sample) needs
``scorer="<name>/<key>"``. Samples that errored, were cancelled, lack the
chosen score, or (for a log that stopped early) never ran are counted as
exclusions.

For ``.eval`` logs the scores come from ``summaries.json`` (or the journal's
summaries), which is small; sample members are decompressed one at a time only
when a summary is missing for them. ``.json`` logs written by Inspect are
indented; they are read one sample at a time, so the messages and events of
all samples are never held at once (a log in another layout is parsed whole,
once).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import orjson
import polars as pl
import zstandard

from metabench.errors import InputError
from metabench.io._base import make_runs, read_head
from metabench.io.identity import item_key_table
from metabench.runs import Exclusion, RunIdentity, Runs

__all__ = ["NAME", "companion", "read", "sniff"]

NAME = "inspect_ai"

_HEADER = "header.json"
_START = "_journal/start.json"
_SUMMARIES = "summaries.json"
_JOURNAL_SUMMARIES = "_journal/summaries/"
_SAMPLES = "samples/"

_ZIP_STORED = 0
_ZIP_DEFLATED = 8
_ZIP_ZSTD = 93

_MAX_ANSWER = 200
_MAX_EXAMPLES = 5

_STRING_VALUES = {
    "C": 1.0,
    "I": 0.0,
    "P": 0.5,
    "N": 0.0,
    "yes": 1.0,
    "true": 1.0,
    "no": 0.0,
    "false": 0.0,
}

_JSON_FIRST_KEY = re.compile(rb'^\s*\{\s*"(version|status|eval)"\s*:')
_JSON_EVAL_OBJ = re.compile(rb'"eval"\s*:\s*\{')
_JSON_TASK = re.compile(rb'"task"\s*:\s*"')
_JSON_IDS = re.compile(rb'"(task_id|run_id|eval_id)"\s*:')
_MANIFEST_FIRST_KEY = re.compile(rb'^\s*\{\s*(\}|"[^"]*\.(eval|json)"\s*:\s*\{)')

_NOT_INSPECT_FIX = "give the .eval or .json log file that `inspect eval` wrote"


# ---------------------------------------------------------------------------
# detection


def sniff(path: str | Path) -> bool:
    """Is ``path`` an Inspect log (``.eval`` archive or ``.json`` log)?

    Reads at most the first 4 KB. An empty ``.eval`` file is claimed (the
    extension is Inspect's), so that :func:`read` can say it is empty.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    bool
    """
    path = Path(path)
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    head = read_head(path, 4096)
    if suffix == ".eval":
        if not head:
            return True
        return _zip_head_is_inspect(head)
    if suffix == ".json":
        return _json_head_is_log(head)
    return False


def companion(path: str | Path) -> bool:
    """Is ``path`` a log-directory manifest (``logs.json`` or ``listing.json``)?

    ``inspect`` writes these beside the logs (``write_log_dir_manifest``,
    ``inspect view bundle``); they repeat the headers of the logs and hold no
    sample scores.
    """
    path = Path(path)
    if path.name.lower() not in ("logs.json", "listing.json") or not path.is_file():
        return False
    return _MANIFEST_FIRST_KEY.match(read_head(path, 4096).lstrip(b"\xef\xbb\xbf")) is not None


def _zip_head_is_inspect(head: bytes) -> bool:
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return False
    (name_len,) = struct.unpack("<H", head[26:28])
    name = head[30 : 30 + name_len].decode("utf-8", "replace")
    return (
        name in (_HEADER, _START)
        or name.startswith((_SAMPLES, "_journal/"))
        or name
        in (
            _SUMMARIES,
            "reductions.json",
        )
    )


def _json_head_is_log(head: bytes) -> bool:
    head = head.lstrip(b"\xef\xbb\xbf")
    return (
        _JSON_FIRST_KEY.match(head) is not None
        and _JSON_EVAL_OBJ.search(head) is not None
        and _JSON_TASK.search(head) is not None
        and _JSON_IDS.search(head) is not None
    )


# ---------------------------------------------------------------------------
# records common to both formats


@dataclass
class _Record:
    """One (sample, epoch) as read from a summary or a sample."""

    id: Any
    epoch: int
    scores: dict[str, Any] | None
    error: str | None
    where: str
    line: int | None = None
    text: str | None = None


def _input_text(value: Any) -> str | None:
    """The question of a sample's ``input``: the text, or the last user message of a chat."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return None
    for msg in reversed(value):
        if isinstance(msg, dict) and msg.get("role", "user") == "user":
            content = msg.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                parts = [c.get("text") for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
                return "\n".join(parts) if parts else None
    return None


def _error_text(error: Any) -> str | None:
    if error is None:
        return None
    if isinstance(error, dict):
        return str(error.get("message") or "error")
    return str(error)


def _record_from(obj: Any, where: str, file: Path, line: int | None = None) -> _Record:
    if not isinstance(obj, dict) or "id" not in obj:
        raise InputError(
            f"{where} is not an Inspect sample (no 'id')",
            file=file,
            line=line,
            fix=_NOT_INSPECT_FIX,
            kind="malformed_log",
        )
    epoch = obj.get("epoch", 1)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise InputError(
            f"sample {obj['id']!r} in {where} has epoch {epoch!r}; Inspect epochs are whole numbers from 1",
            file=file,
            line=line,
            fix=_NOT_INSPECT_FIX,
            kind="malformed_log",
        )
    scores = obj.get("scores")
    if scores is not None and not isinstance(scores, dict):
        raise InputError(
            f"sample {obj['id']!r} epoch {epoch} in {where} has scores of type {type(scores).__name__}",
            file=file,
            line=line,
            fix=_NOT_INSPECT_FIX,
            kind="malformed_log",
        )
    return _Record(obj["id"], epoch, scores or None, _error_text(obj.get("error")), where, line, _input_text(obj.get("input")))


def _loads(data: bytes) -> Any:
    """Parse JSON with orjson; fall back to the stdlib for NaN / Infinity."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _label(rec: _Record) -> str:
    return f"{rec.id} (epoch {rec.epoch})"


class _Scorer:
    """Which score of each sample to read, decided at the first scored sample."""

    def __init__(self, option: str | None, file: Path, declared: list[str]) -> None:
        self.option = option
        self.file = file
        self.declared = declared
        self.name: str | None = None
        self.key: str | None = None
        self.seen: list[str] = []

    def _choose(self, rec: _Record) -> None:
        present = list(rec.scores or {})
        if self.option is None:
            self.name = next((n for n in self.declared if n in present), present[0])
            return
        names = present + [n for n in self.declared if n not in present]
        if self.option in names:
            self.name = self.option
            return
        if "/" in self.option:
            name, key = self.option.rsplit("/", 1)
            if name in names:
                self.name, self.key = name, key
                return
        raise InputError(
            f"no scorer {self.option!r} in this log; its scorers are {_describe(rec.scores or {})}",
            file=self.file,
            fix="pass scorer= one of those names (for a dictionary-valued scorer, scorer='<name>/<key>')",
            kind="unknown_scorer",
        )

    def value(self, rec: _Record) -> tuple[Any, Any, bool]:
        """Return ``(value, answer, present)`` of the chosen score of ``rec``."""
        scores = rec.scores or {}
        for n in scores:
            if n not in self.seen:
                self.seen.append(n)
        if self.name is None:
            self._choose(rec)
        score = scores.get(self.name)  # type: ignore[arg-type]
        if score is None:
            return None, None, False
        if not isinstance(score, dict):
            score = {"value": score}
        value = score.get("value")
        answer = score.get("answer")
        if isinstance(value, dict):
            if self.key is None:
                raise InputError(
                    f"scorer {self.name!r} gives several values per sample ({', '.join(map(str, value))}); "
                    "say which one to read",
                    file=self.file,
                    line=rec.line,
                    fix=f"pass scorer='{self.name}/<key>', e.g. scorer='{self.name}/{next(iter(value), 'key')}'",
                    kind="ambiguous_score",
                )
            if self.key not in value:
                return None, None, False
            value = value[self.key]
        elif self.key is not None:
            raise InputError(
                f"scorer {self.name!r} gives one value per sample, not a dictionary with key {self.key!r}",
                file=self.file,
                line=rec.line,
                fix=f"pass scorer={self.name!r}",
                kind="unknown_scorer",
            )
        return value, answer, True

    @property
    def label(self) -> str:
        return str(self.name) if self.key is None else f"{self.name}/{self.key}"


def _describe(scores: dict[str, Any]) -> str:
    parts = []
    for name, score in scores.items():
        value = score.get("value") if isinstance(score, dict) else score
        if isinstance(value, dict):
            parts.append(f"{name!r} (keys: {', '.join(map(str, value))})")
        else:
            parts.append(repr(name))
    return ", ".join(parts) or "none"


def _to_float(value: Any, rec: _Record, scorer: _Scorer, file: Path) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in _STRING_VALUES:
            return _STRING_VALUES[text]
        if text.lower() in _STRING_VALUES and text.lower() not in ("c", "i", "p", "n"):
            return _STRING_VALUES[text.lower()]
        try:
            out = float(text)
        except ValueError:
            raise InputError(
                f"sample {_label(rec)}: scorer {scorer.label!r} gave {value!r}, which is not a score "
                "metabench knows (C, I, P, N, yes/no, true/false or a number)",
                file=file,
                line=rec.line,
                fix="choose a scorer with such values (scorer=...), or rescore the log so its values are "
                "C/I/P/N or numbers in [0, 1]",
                kind="unknown_score_value",
            ) from None
    else:
        raise InputError(
            f"sample {_label(rec)}: scorer {scorer.label!r} gave a {type(value).__name__} ({value!r}), not one score",
            file=file,
            line=rec.line,
            fix="choose a scorer that gives one value per sample (scorer=...)",
            kind="unknown_score_value",
        )
    if not math.isnan(out) and not 0.0 <= out <= 1.0:
        raise InputError(
            f"sample {_label(rec)}: scorer {scorer.label!r} gave {value!r}, outside [0, 1]",
            file=file,
            line=rec.line,
            fix="choose a scorer whose values lie in [0, 1] (scorer=...), or rescale its scores",
            kind="score_out_of_range",
        )
    return out


class _Collector:
    """Turn records into rows and exclusions."""

    def __init__(self, file: Path, scorer: _Scorer) -> None:
        self.file = file
        self.scorer = scorer
        self.items: list[str] = []
        self.seeds: list[int] = []
        self.scores: list[float] = []
        self.answers: list[str | None] = []
        self.lines: list[int | None] = []
        self.seen: set[tuple[str, int]] = set()
        self.errored: list[str] = []
        self.error_text: str | None = None
        self.unscored: list[str] = []
        self.nan: list[str] = []
        self.texts: dict[str, str | None] = {}

    def add(self, rec: _Record) -> None:
        self.seen.add((str(rec.id), rec.epoch))
        if rec.text is not None or str(rec.id) not in self.texts:
            self.texts[str(rec.id)] = self.texts.get(str(rec.id)) or rec.text
        value, answer, present = self.scorer.value(rec) if rec.scores else (None, None, False)
        if not present or value is None:
            if rec.error is not None:
                self.errored.append(_label(rec))
                self.error_text = self.error_text or rec.error
            else:
                self.unscored.append(_label(rec))
            return
        score = _to_float(value, rec, self.scorer, self.file)
        if math.isnan(score):
            self.nan.append(_label(rec))
            return
        self.items.append(str(rec.id))
        self.seeds.append(rec.epoch - 1)
        self.scores.append(score)
        if answer is not None and not isinstance(answer, str):
            answer = str(answer)
        if answer is not None and len(answer) > _MAX_ANSWER:
            answer = answer[: _MAX_ANSWER - 1] + "…"
        self.answers.append(answer)
        self.lines.append(rec.line)

    def exclusions(self, header: dict[str, Any]) -> list[Exclusion]:
        out: list[Exclusion] = []
        label = self.scorer.label
        if self.errored:
            first = f" (first error: {self.error_text[:200]})" if self.error_text else ""
            out.append(
                Exclusion(
                    "sample",
                    f"errored or was cancelled in Inspect and has no {label!r} score{first}",
                    len(self.errored),
                    tuple(self.errored[:_MAX_EXAMPLES]),
                )
            )
        if self.unscored:
            out.append(
                Exclusion("sample", f"has no {label!r} score", len(self.unscored), tuple(self.unscored[:_MAX_EXAMPLES]))
            )
        if self.nan:
            out.append(Exclusion("sample", f"{label!r} score is NaN", len(self.nan), tuple(self.nan[:_MAX_EXAMPLES])))
        missing = _missing(header, self.seen)
        if missing:
            status = header.get("status") or "unknown"
            why = "the run stopped before it" if status != "success" else "not logged"
            out.append(
                Exclusion(
                    "sample",
                    f"planned but not in the log (eval status {status!r}: {why})",
                    len(missing),
                    tuple(missing[:_MAX_EXAMPLES]),
                )
            )
        others = [n for n in self.scorer.seen if n != self.scorer.name]
        if others and self.scorer.option is None:
            out.append(
                Exclusion(
                    "scorer",
                    f"the log has several scorers; the first, {self.scorer.name!r}, was read "
                    "(pass scorer=... to read another)",
                    len(others),
                    tuple(others[:_MAX_EXAMPLES]),
                )
            )
        return out


def _missing(header: dict[str, Any], seen: set[tuple[str, int]]) -> list[str]:
    spec = header.get("eval") or {}
    ids = (spec.get("dataset") or {}).get("sample_ids")
    if not isinstance(ids, list) or not ids:
        return []
    epochs = (spec.get("config") or {}).get("epochs") or 1
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        return []
    return [f"{sid} (epoch {e})" for e in range(1, epochs + 1) for sid in ids if (str(sid), e) not in seen]


def _spec(header: Any, file: Path) -> dict[str, Any]:
    spec = header.get("eval") if isinstance(header, dict) else None
    if not isinstance(spec, dict) or not spec.get("task"):
        raise InputError(
            "not an Inspect log: no 'eval' object with a 'task'",
            file=file,
            fix=_NOT_INSPECT_FIX,
            kind="malformed_log",
        )
    return spec


def _declared_scorers(spec: dict[str, Any]) -> list[str]:
    out = []
    for s in spec.get("scorers") or []:
        if isinstance(s, dict) and isinstance(s.get("name"), str):
            out.append(s["name"])
    return out


def _build(
    file: Path,
    header: dict[str, Any],
    records: Iterable[_Record],
    *,
    scorer: str | None,
    model: str | None,
    line_column: bool,
) -> Runs:
    spec = _spec(header, file)
    choice = _Scorer(scorer, file, _declared_scorers(spec))
    col = _Collector(file, choice)
    n = 0
    for rec in records:
        n += 1
        col.add(rec)
    status = header.get("status")
    error = _error_text(header.get("error"))
    if n == 0:
        if status in ("error", "cancelled"):
            why = f" ({error[:300]})" if error else ""
            raise InputError(
                f"the Inspect eval ended with status {status!r}{why} and the log holds no samples",
                file=file,
                fix="fix the cause and run the eval again (`inspect eval-retry <log>` resumes it)",
                kind="no_samples",
            )
        raise InputError(
            "the Inspect log holds no samples (was the eval run with --no-log-samples, or is it still starting?)",
            file=file,
            fix="run the eval with sample logging on and give the finished log",
            kind="empty",
        )
    if not col.scores:
        why = f" Eval status {status!r}: {error[:300]}." if status in ("error", "cancelled") and error else ""
        raise InputError(
            f"none of the {n} sample(s) in the log has a {choice.label!r} score "
            f"({len(col.errored)} errored, {len(col.unscored)} unscored, {len(col.nan)} NaN).{why}",
            file=file,
            fix="fix the errors and run the eval again, or choose another scorer (scorer=...)",
            kind="empty",
        )
    frame = pl.DataFrame(
        {
            "model": [model or str(spec.get("model") or "")] * len(col.scores),
            "benchmark": [str(spec["task"])] * len(col.scores),
            "item": col.items,
            "seed": col.seeds,
            "score": col.scores,
        },
        schema={"model": pl.String, "benchmark": pl.String, "item": pl.String, "seed": pl.Int64, "score": pl.Float64},
    )
    if any(a is not None for a in col.answers):
        frame = frame.with_columns(pl.Series("answer", col.answers, dtype=pl.String))
    use_lines = line_column and all(line is not None for line in col.lines)
    if use_lines:
        frame = frame.with_columns(pl.Series("_line", col.lines, dtype=pl.Int64))
    bench = str(spec["task"])
    return make_runs(
        frame,
        file=file,
        format=NAME,
        line_column="_line" if use_lines else None,
        exclusions=col.exclusions(header),
        run=_identity(header, spec, model or str(spec.get("model") or ""), file),
        item_keys=item_key_table(NAME, bench, list(col.texts), list(col.texts.values()), prompts=True),
    )


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 40 else hashlib.sha256(text.encode()).hexdigest()[:12]


def _identity(header: dict[str, Any], spec: dict[str, Any], model: str, file: Path) -> RunIdentity:
    """The run of a log: task, model, solver plan, generation settings, seed, time, status.

    The configuration is what makes a system: the task's arguments, the generation
    settings other than the seed, and the solver plan (its steps and their parameters).
    Epoch counts are not part of it: one run's epochs are its seeds, and runs of one
    configuration with 1 and with 3 epochs are repeats of one system.
    """
    config: list[tuple[str, str]] = []
    if spec.get("task_args"):
        config.append(("task_args", _short(spec["task_args"])))
    gen = dict(spec.get("model_generate_config") or {})
    seed = gen.pop("seed", None)
    gen = {k: v for k, v in gen.items() if v is not None}
    if gen:
        config.append(("generate_config", _short(gen)))
    plan = header.get("plan")
    if isinstance(plan, dict) and isinstance(plan.get("steps"), list):
        steps = [st for st in plan["steps"] if isinstance(st, dict)]
        if steps:
            names = "+".join(str(st.get("solver")).rsplit("/", 1)[-1] for st in steps)
            params = [st.get("params") for st in steps]
            if any(params):
                names += "#" + hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:6]
            config.append(("solver", names))
    status = str(header.get("status") or "unknown")
    reason = _error_text(header.get("error"))
    return RunIdentity(
        NAME,
        model,
        str(spec.get("task")),
        config=tuple(config),
        seeds=(("seed", seed if isinstance(seed, int) and not isinstance(seed, bool) else None),),
        timestamp=str(spec.get("created") or ""),
        status="complete" if status == "success" else status,
        reason=reason[:300] if reason else None,
        run=str(spec.get("eval_id") or spec.get("run_id") or file),
        repeats="epoch",
    )


# ---------------------------------------------------------------------------
# .eval archives


class _Archive:
    """Read members of a zip archive stored, deflated or Zstandard-compressed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error) as exc:
            raise InputError(
                f"not a complete zip archive ({exc}); the .eval log is truncated or corrupt",
                file=path,
                fix="copy the log again, or re-run the eval (`inspect log recover` can rebuild the log "
                "of a crashed run on the machine that ran it)",
                kind="malformed_archive",
            ) from None
        # a re-written member appends a second entry under the same name: the last one wins
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            self.members[info.filename] = info
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bad(self, name: str, why: str) -> InputError:
        return InputError(
            f"archive member {name!r} {why}; the .eval log is truncated or corrupt",
            file=self.path,
            fix="copy the log again, or re-run the eval",
            kind="malformed_archive",
        )

    def read(self, name: str) -> bytes:
        info = self.members[name]
        if info.flag_bits & 0x1:
            raise self._bad(name, "is encrypted")
        fh = self._fh
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise self._bad(name, "has no local header where the directory says")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        raw = fh.read(info.compress_size)
        if len(raw) < info.compress_size:
            raise self._bad(name, "is cut off")
        method = info.compress_type
        try:
            if method == _ZIP_STORED:
                data = raw
            elif method == _ZIP_DEFLATED:
                d = zlib.decompressobj(-15)
                data = d.decompress(raw) + d.flush()
                if not d.eof:
                    raise self._bad(name, "is cut off")
            elif method == _ZIP_ZSTD:
                data = _zstd_frames(raw)
            else:
                raise InputError(
                    f"archive member {name!r} uses zip compression method {method}, which this reader does "
                    "not handle (stored, deflate and zstd are)",
                    file=self.path,
                    fix="convert the log with `inspect log convert --to eval` or `--to json`",
                    kind="malformed_archive",
                )
        except (zlib.error, _ZstdTruncated, zstandard.ZstdError) as exc:
            raise self._bad(name, f"does not decompress ({exc})") from None
        if len(data) != info.file_size or (zlib.crc32(data) & 0xFFFFFFFF) != info.CRC:
            raise self._bad(name, "fails its size or CRC check")
        return data

    def json(self, name: str) -> Any:
        data = self.read(name)
        try:
            return _loads(data)
        except ValueError as exc:
            raise InputError(
                f"archive member {name!r} is not valid JSON ({exc})",
                file=self.path,
                fix="copy the log again, or re-run the eval",
                kind="malformed_json",
            ) from None


class _ZstdTruncated(Exception):
    pass


def _zstd_frames(raw: bytes) -> bytes:
    """Decompress every Zstandard frame of ``raw`` (Inspect splits big members into frames)."""
    dctx = zstandard.ZstdDecompressor()
    out: list[bytes] = []
    data = raw
    while data:
        obj = dctx.decompressobj()
        out.append(obj.decompress(data))
        if not obj.eof:
            raise _ZstdTruncated("the last frame is incomplete")
        data = obj.unused_data
    return b"".join(out)


def _sample_member(sid: Any, epoch: int) -> str:
    return f"{_SAMPLES}{sid}_epoch_{epoch}.json"


def _journal_index(name: str) -> int:
    stem = name[len(_JOURNAL_SUMMARIES) :].split(".")[0]
    return int(stem) if stem.isdigit() else 0


def _read_eval(path: Path, *, scorer: str | None, model: str | None) -> Runs:
    with _Archive(path) as ar:
        names = ar.members
        if _HEADER in names:
            header = ar.json(_HEADER)
            if not isinstance(header, dict):
                raise InputError(
                    f"{_HEADER} is not a JSON object", file=path, fix=_NOT_INSPECT_FIX, kind="malformed_log"
                )
        elif _START in names:
            start = ar.json(_START)
            header = {"eval": start.get("eval") if isinstance(start, dict) else None, "status": "started"}
        else:
            raise InputError(
                f"zip archive without {_HEADER} or {_START}: not an Inspect log",
                file=path,
                fix=_NOT_INSPECT_FIX,
                kind="malformed_log",
            )
        _spec(header, path)
        # summaries: the consolidated file of a finished log, else the journal of a running one
        summaries: dict[tuple[str, int], _Record] = {}
        sources: list[str] = []
        if _SUMMARIES in names:
            sources = [_SUMMARIES]
        else:
            sources = sorted(
                (n for n in names if n.startswith(_JOURNAL_SUMMARIES) and n.endswith(".json")), key=_journal_index
            )
        for src in sources:
            data = ar.json(src)
            if not isinstance(data, list):
                raise InputError(
                    f"archive member {src!r} is not a list of sample summaries",
                    file=path,
                    fix=_NOT_INSPECT_FIX,
                    kind="malformed_log",
                )
            for obj in data:
                rec = _record_from(obj, src, path)
                summaries[(str(rec.id), rec.epoch)] = rec  # last one wins, as in Inspect
        covered = {_sample_member(r.id, r.epoch) for r in summaries.values()}
        extra = [n for n in names if n.startswith(_SAMPLES) and n.endswith(".json") and n not in covered]

        def records() -> Iterator[_Record]:
            yield from summaries.values()
            for name in extra:  # samples written without a summary (a crashed run): one at a time
                rec = _record_from(ar.json(name), name, path)
                if (str(rec.id), rec.epoch) not in summaries:
                    yield rec

        return _build(path, header, records(), scorer=scorer, model=model, line_column=False)


# ---------------------------------------------------------------------------
# .json logs


def _json_error(path: Path, exc: ValueError, line_offset: int = 0, what: str = "") -> InputError:
    line = getattr(exc, "lineno", None)
    msg = getattr(exc, "msg", None) or str(exc)
    return InputError(
        f"{what}not valid JSON ({msg}); the log is truncated or corrupt",
        file=path,
        line=None if line is None else line + line_offset,
        fix="copy the log again, or re-run the eval",
        kind="malformed_json",
    )


def _truncated(path: Path, line: int) -> InputError:
    return InputError(
        "the JSON log ends before its closing brace; it is truncated",
        file=path,
        line=line,
        fix="copy the log again, or re-run the eval",
        kind="malformed_json",
    )


def _read_json(path: Path, *, scorer: str | None, model: str | None) -> Runs:
    with open(path, "rb") as fh:
        first = fh.readline()
        if not first.strip() and not fh.read(1):
            raise InputError("the file is empty", file=path, fix=_NOT_INSPECT_FIX, kind="empty")
        fh.seek(0)
        if first.strip().lstrip(b"\xef\xbb\xbf") == b"{":
            streamed = _stream_json(path, fh)
            if streamed is not None:
                header, records = streamed
                return _build(path, header, records, scorer=scorer, model=model, line_column=True)
            fh.seek(0)
        data = fh.read()
    try:
        obj = _loads(data)
    except ValueError as exc:
        raise _json_error(path, exc) from None
    del data
    if not isinstance(obj, dict):
        raise InputError("the JSON file is not an object", file=path, fix=_NOT_INSPECT_FIX, kind="malformed_log")
    samples = obj.pop("samples", None) or []
    if not isinstance(samples, list):
        raise InputError("'samples' is not a list", file=path, fix=_NOT_INSPECT_FIX, kind="malformed_log")
    records = (_record_from(s, f"samples[{i}]", path) for i, s in enumerate(samples))
    return _build(path, obj, records, scorer=scorer, model=model, line_column=False)


def _stream_json(path: Path, fh: Any) -> tuple[dict[str, Any], Iterator[_Record]] | None:
    """Read an indented log: the header first, then the samples one at a time.

    Returns None when the layout is not the indented one Inspect writes (the
    caller then parses the file whole).
    """
    fh.readline()
    lineno = 1
    head: list[bytes] = [b"{\n"]
    unit: bytes | None = None
    samples_open = samples_close = sample_open = sample_close = sample_close_comma = b""
    while True:
        line = fh.readline()
        if not line:
            # no samples array: the whole file is the header
            try:
                header = _loads(b"".join(head))
            except ValueError as exc:
                raise _json_error(path, exc) from None
            if not isinstance(header, dict):
                return None
            _spec(header, path)
            return header, iter(())
        lineno += 1
        if unit is None:
            stripped = line.lstrip(b" ")
            if not stripped.startswith(b'"'):
                return None
            unit = line[: len(line) - len(stripped)]
            if not unit:
                return None
            samples_open = unit + b'"samples": ['
            samples_close = unit + b"]"
            sample_open = unit * 2 + b"{"
            sample_close = unit * 2 + b"}"
            sample_close_comma = sample_close + b","
        body = line.rstrip(b"\r\n")
        if body == samples_open:
            break
        head.append(line)
    # the header: everything before "samples", closed
    text = b"".join(head).rstrip()
    if text.endswith(b","):
        text = text[:-1]
    try:
        header = _loads(text + b"\n}")
    except ValueError as exc:
        raise _json_error(path, exc, what="the log header is ") from None
    if not isinstance(header, dict):
        return None
    _spec(header, path)

    def records() -> Iterator[_Record]:
        n = lineno
        buf: list[bytes] = []
        begin = 0
        index = 0
        in_array = True
        for raw in fh:
            n += 1
            body = raw.rstrip(b"\r\n")
            if in_array:
                if not buf:
                    if body == sample_open:
                        buf.append(raw)
                        begin = n
                        continue
                    if body in (samples_close, samples_close + b","):
                        in_array = False
                        continue
                    if not body.strip():
                        continue
                    raise InputError(
                        "unexpected text between samples",
                        file=path,
                        line=n,
                        fix="copy the log again, or re-run the eval",
                        kind="malformed_json",
                    )
                buf.append(raw)
                if body in (sample_close, sample_close_comma):
                    chunk = b"".join(buf)
                    if body == sample_close_comma:
                        chunk = chunk.rstrip()[:-1]
                    buf = []
                    try:
                        obj = _loads(chunk)
                    except ValueError as exc:
                        raise _json_error(path, exc, begin - 1, f"sample {index + 1} is ") from None
                    index += 1
                    yield _record_from(obj, f"sample {index}", path, begin)
            elif body == b"}":
                return
        raise _truncated(path, n)

    return header, records()


# ---------------------------------------------------------------------------
# entry point


def read(path: str | Path, *, scorer: str | None = None, model: str | None = None) -> Runs:
    """Read one Inspect log (``.eval`` or ``.json``) into :class:`~metabench.runs.Runs`.

    Parameters
    ----------
    path : str or Path
        The log file.
    scorer : str, optional
        Which scorer's values to read, by the name in the log's sample scores
        (``"match"``, ``"choice"``); ``"<name>/<key>"`` picks one value of a
        scorer that returns a dictionary. Default: the first scorer; the others
        are listed as an exclusion.
    model : str, optional
        Model label to use instead of the log's ``eval.model``.

    Returns
    -------
    Runs
        One row per scored (sample, epoch), ``seed = epoch - 1``, with an
        ``answer`` column when the scorer records the extracted answer.

    Raises
    ------
    InputError
        ``kind="empty"`` for an empty file or a log without scored samples;
        ``"malformed_archive"`` for a truncated or corrupt ``.eval``;
        ``"malformed_json"`` for a truncated or invalid ``.json``;
        ``"no_samples"`` for an eval that ended with status ``error`` or
        ``cancelled`` before any sample was logged; ``"unknown_score_value"``,
        ``"score_out_of_range"``, ``"ambiguous_score"`` and ``"unknown_scorer"``
        for scores that cannot be read as one number in [0, 1].

    Examples
    --------
    >>> runs = read("logs/2024-05-01T12-00-00_arith_abc.eval")  # doctest: +SKIP
    >>> runs.frame.select("item", "seed", "score").head(2)  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", file=path, fix="check the path", kind="missing_file")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path, fix=_NOT_INSPECT_FIX, kind="empty")
    head = read_head(path, 4)
    if head == b"PK\x03\x04" or path.suffix.lower() == ".eval":
        return _read_eval(path, scorer=scorer, model=model)
    return _read_json(path, scorer=scorer, model=model)
