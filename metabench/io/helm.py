"""Reader for Stanford CRFM HELM run folders.

``helm-run --suite SUITE ...`` writes one folder per run (one model on one
scenario configuration)::

    benchmark_output/runs/SUITE/<run name>/run_spec.json
                                          /per_instance_stats.json
                                          /stats.json, scenario.json, scenario_state.json
                                          /instances.json, display_*.json   (helm-summarize)
    benchmark_output/runs/SUITE/schema.json, run_specs.json, runs.json, ... (helm-summarize)

``per_instance_stats.json`` is one JSON array; each element is one evaluated
(instance, train trial, perturbation)::

    {"instance_id": "id12", "train_trial_index": 0,
     "perturbation": {"name": "filler_words", ...},          # perturbed copies only
     "stats": [{"name": {"name": "exact_match", "split": "test"},
                "count": 1, "sum": 1.0, "mean": 1.0, ...}, ...]}

HELM concatenates the elements of every metric class of the run, so one instance
may appear in several elements, each with other stats; they are merged here.

:func:`read` turns one run folder into :class:`~metabench.runs.Runs`:

``model``
    ``adapter_spec.model`` of ``run_spec.json`` (else ``model_deployment``).
``benchmark``
    The run name (``run_spec.json`` ``name``) without the arguments that name the
    model or only tune how HELM runs it: ``"mmlu:subject=anatomy,method=multiple_choice_joint,
    model=openai_gpt2,data_augmentation=canonical"`` gives
    ``"mmlu:subject=anatomy,method=multiple_choice_joint"``, the same for every model.
    The arguments of the run-spec function (``subject``, ``subset``, ``method`` ...) and
    the ones that change the instances (``eval_split``, ``tokenizer``, ...) stay;
    ``model``, ``model_deployment``, ``data_augmentation``, ``max_eval_instances``,
    ``num_train_trials`` and the prompt fixes HELM adds for some models (``stop``,
    ``global_prefix``, ``chatml``, ``anthropic`` ...) go; the prompting arguments in
    :data:`METHOD_ARGS` (``instructions``, ``prompt``, ``max_train_instances`` ...) move
    to ``method``.
``item``
    ``instance_id``.
``seed``
    ``train_trial_index`` (which draw of in-context examples).
``score``
    The ``mean`` (else ``sum / count``) of one per-instance metric.
``method``
    Only when the run name has :data:`METHOD_ARGS`, or when a perturbation is
    chosen (``"perturbation=filler_words"``).

The metric, when not given, is the main metric HELM's schema names for the run's
group (``schema.json`` of the suite folder, written by ``helm-summarize``:
``run_groups[].environment.main_name``), else the first of :data:`DEFAULT_METRICS`
the file has. Only stats of one split are kept: the schema's ``main_split``, else
``test`` when present, else the only split there is; rows of other splits are
counted as excluded.

Perturbed copies of instances (HELM's robustness and fairness augmentations) are
left out and counted, unless ``perturbation=NAME`` asks for the copies made by one
perturbation instead. HELM does not re-run instances a perturbation leaves
unchanged, so those have no row then.

The file is parsed one element at a time; only the ids and the candidate metric
values are kept.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from metabench.errors import InputError
from metabench.io._base import make_runs, read_head
from metabench.io.identity import item_key_table
from metabench.runs import Exclusion, RunIdentity, Runs

__all__ = [
    "DEFAULT_METRICS",
    "METHOD_ARGS",
    "NAME",
    "benchmark_and_method",
    "companion",
    "read",
    "sniff",
]

NAME = "helm"

PRIMARY = "per_instance_stats.json"
RUN_SPEC = "run_spec.json"
SCHEMA = "schema.json"

DEFAULT_METRICS: tuple[str, ...] = (
    "exact_match",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
    "final_number_exact_match",
    "math_equiv_chain_of_thought",
    "math_equiv",
    "chain_of_thought_correctness",
    "ifeval_strict_accuracy",
    "f1_score",
    "rouge_l",
)
"""Per-instance correctness metrics tried, in order, when neither ``metric`` nor the
suite's ``schema.json`` names one."""

# run-name arguments that name the model
_MODEL_ARGS = frozenset({"model", "model_deployment"})
# run-name arguments that change neither the items nor the prompting method: the
# perturbations (kept apart per row), the number of items and of train trials, and
# the adjustments HELM's run-spec factory adds by itself for particular models
_IGNORED_ARGS = frozenset(
    {
        "data_augmentation", "max_eval_instances", "num_train_trials",
        "stop", "global_prefix", "chatml", "anthropic", "claude_3", "amazon-nova",
        "idefics_instruct", "llava", "open_flamingo", "increase_temperature", "increase_max_tokens",
    }
)  # fmt: skip
METHOD_ARGS: frozenset[str] = frozenset(
    {
        "instructions", "prompt", "newline", "temperature", "num_outputs", "max_train_instances",
        "num_trials", "add_to_stop", "follow_format_instructions", "output_format_instructions",
        "process_output", "format_prompt", "num_output_tokens",
    }
)  # fmt: skip
"""Run-name arguments (HELM run expanders) that change how the model is prompted;
they make up the ``method`` column."""

# files of a run folder other than per_instance_stats.json
_RUN_FILES = frozenset(
    {
        RUN_SPEC, "stats.json", "scenario.json", "scenario_state.json", "instances.json",
        "costs.json", "annotations.json",
    }
)  # fmt: skip
# files helm-summarize writes at the suite (or release) level
_SUITE_FILES = frozenset(
    {
        SCHEMA, "run_specs.json", "runs.json", "runs_to_run_suites.json", "groups.json",
        "groups_metadata.json", "summary.json", "costs.json",
    }
)  # fmt: skip

_CHUNK = 1 << 20
_HEAD = 4096


# ---------------------------------------------------------------------------
# detection


def sniff(path: str | Path) -> bool:
    """Is ``path`` a HELM ``per_instance_stats.json`` (with ``run_spec.json`` beside it)?

    Examples
    --------
    >>> sniff("notes.json")
    False
    """
    path = Path(path)
    return path.name == PRIMARY and (path.parent / RUN_SPEC).is_file()


def _is_run_folder(folder: Path) -> bool:
    return (folder / PRIMARY).is_file() or (folder / RUN_SPEC).is_file()


def _is_suite_folder(folder: Path) -> bool:
    if (folder / "runs_to_run_suites.json").is_file():
        return True
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.is_dir() and (Path(entry.path) / RUN_SPEC).is_file():
                    return True
    except OSError:
        return False
    return False


def companion(path: str | Path) -> bool:
    """Is ``path`` one of HELM's other files (read with, or instead of, the primary)?

    True for the JSON files of a run folder (``run_spec.json``, ``stats.json``,
    ``scenario_state.json``, ``instances.json``, ``display_*.json`` ...), for the
    suite-level files of ``helm-summarize`` (``schema.json``, ``run_specs.json``,
    ``runs.json``, ``summary.json`` ...) and for its ``groups/`` tables.
    """
    path = Path(path)
    name = path.name
    folder = path.parent
    if name == PRIMARY:
        return False
    if name == RUN_SPEC:
        if (folder / PRIMARY).is_file():
            return True
        return b'"scenario_spec"' in read_head(path, _HEAD)
    if path.suffix == ".json" and (name in _RUN_FILES or name.startswith("display_")) and _is_run_folder(folder):
        return True
    if path.suffix == ".json" and (folder / PRIMARY).is_file() and (folder / RUN_SPEC).is_file():
        return True
    if name in _SUITE_FILES and _is_suite_folder(folder):
        return True
    for parent in list(path.parents)[:3]:
        if parent.name == "groups" and (parent.parent / "runs_to_run_suites.json").is_file():
            return True
    return False


def units_of(path: str | Path) -> list[Path]:
    """The ``per_instance_stats.json`` of the run folder a companion file (``stats.json``,
    ``run_spec.json`` ...) belongs to."""
    path = Path(path)
    primary = path.parent / PRIMARY
    return [primary] if path.name != PRIMARY and sniff(primary) else []


def _looks_like_run_name(name: str) -> bool:
    head, sep, rest = name.partition(":")
    return bool(sep and head and "model=" in rest)


def incomplete(companions: list[Path], roots: list[Path] = ()) -> list[tuple[Path, str]]:  # type: ignore[assignment]
    """Run folders that hold no ``per_instance_stats.json``: runs that failed or stopped.

    ``helm-run`` creates the folder of a run before it evaluates; a run that fails
    leaves it empty or with ``run_spec.json`` only.
    """
    out: list[tuple[Path, str]] = []
    folders: set[Path] = {p.parent for p in companions if p.name == RUN_SPEC or _looks_like_run_name(p.parent.name)}
    for root in roots:
        if root.is_dir():
            for d in root.rglob("*"):
                if d.is_dir() and _looks_like_run_name(d.name) and not any(part.startswith(".") for part in d.parts):
                    folders.add(d)
    for d in sorted(folders):
        if (d / PRIMARY).is_file():
            continue
        try:
            present = sorted(p.name for p in d.iterdir())
        except OSError:
            continue
        held = f"it holds {', '.join(present[:6])}" if present else "it is empty"
        out.append((d, f"HELM run folder without {PRIMARY}: the run did not finish ({held})"))
    return out


# ---------------------------------------------------------------------------
# JSON


def _load_json(path: Path, what: str) -> Any:
    """Read a whole (small) JSON file, or raise an InputError naming the line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the HELM {what}: {exc}", file=path, fix="check the path", kind="unreadable"
        ) from None
    if not raw.strip():
        raise InputError(
            f"the HELM {what} is empty",
            file=path,
            fix="re-run helm-run for this run entry; the file was not written completely",
            kind="empty",
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(
            f"the HELM {what} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            file=path,
            line=exc.lineno,
            fix="the file is truncated or corrupted; re-run helm-run for this run entry",
            kind="malformed_json",
        ) from None


class _ArrayReader:
    """Stream the elements of a top-level JSON array, keeping one element in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.decoder = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.eof = False
        # line number at buffer position ``mark``, advanced as elements are read so
        # that newlines are counted once
        self.mark = 0
        self.mark_line = 1

    def _line(self, pos: int) -> int:
        if pos >= self.mark:
            self.mark_line += self.buf.count("\n", self.mark, pos)
        else:
            self.mark_line -= self.buf.count("\n", pos, self.mark)
        self.mark = pos
        return self.mark_line

    def _error(self, message: str, pos: int) -> InputError:
        return InputError(
            f"{PRIMARY} is not valid JSON: {message}",
            file=self.path,
            line=self._line(pos),
            fix="the file is truncated or corrupted; re-run helm-run for this run entry",
            kind="malformed_json",
        )

    def _more(self, fh: Any) -> bool:
        if self.eof:
            return False
        chunk = fh.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        if self.pos > 0:
            self._line(self.pos)
            self.buf = self.buf[self.pos :]
            self.mark -= self.pos
            self.pos = 0
        self.buf += chunk
        return True

    def _skip_ws(self, fh: Any) -> str:
        """Advance past whitespace; return the next character ('' at the end)."""
        while True:
            n = len(self.buf)
            while self.pos < n and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < n:
                return self.buf[self.pos]
            if not self._more(fh):
                return ""

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                yield from self._elements(fh)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{PRIMARY} is not UTF-8 text ({exc.reason})",
                file=self.path,
                fix="give the per_instance_stats.json written by helm-run",
                kind="malformed_json",
            ) from None

    def _elements(self, fh: Any) -> Iterator[tuple[int, Any]]:
        first = self._skip_ws(fh)
        if first == "":
            raise InputError(
                f"{PRIMARY} is empty",
                file=self.path,
                fix="re-run helm-run for this run entry; the file was not written completely",
                kind="empty",
            )
        if first != "[":
            raise self._error(f"expected a list ('[') but found {first!r}", self.pos)
        self.pos += 1
        expect_value = False
        while True:
            c = self._skip_ws(fh)
            if c == "":
                raise self._error("the file ends before the list is closed (truncated?)", self.pos)
            if c == "]" and not expect_value:
                self.pos += 1
                break
            while True:
                try:
                    value, end = self.decoder.raw_decode(self.buf, self.pos)
                    break
                except json.JSONDecodeError as exc:
                    # the element may continue in the next chunk
                    if not self._more(fh):
                        raise self._error(f"{exc.msg} (truncated?)", exc.pos) from None
            line = self._line(self.pos)
            self.pos = end
            yield line, value
            c = self._skip_ws(fh)
            if c == ",":
                self.pos += 1
                expect_value = True
            elif c == "]":
                self.pos += 1
                break
            elif c == "":
                raise self._error("the file ends before the list is closed (truncated?)", self.pos)
            else:
                raise self._error(f"expected ',' or ']' between elements but found {c!r}", self.pos)
        if self._skip_ws(fh) != "":
            raise self._error("extra data after the list", self.pos)


# ---------------------------------------------------------------------------
# run spec


def _split_args(text: str) -> list[tuple[str, str]]:
    """``"a=1,b=x,y"`` -> ``[("a", "1"), ("b", "x,y")]`` (a piece without '=' continues the value)."""
    out: list[tuple[str, str]] = []
    for piece in text.split(","):
        if "=" in piece:
            key, _, value = piece.partition("=")
            out.append((key.strip(), value))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + "," + piece)
        elif piece.strip():
            out.append((piece.strip(), ""))
    return out


def benchmark_and_method(run_name: str) -> tuple[str, str | None]:
    """Benchmark and method of a HELM run name (see the module docstring).

    Parameters
    ----------
    run_name : str
        ``name`` of ``run_spec.json`` (the run folder's name).

    Returns
    -------
    (str, str or None)
        The benchmark, and the prompting method (``None`` when the run name has no
        :data:`METHOD_ARGS`).

    Examples
    --------
    >>> benchmark_and_method("mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt2,data_augmentation=canonical")
    ('mmlu:subject=anatomy,method=multiple_choice_joint', None)
    >>> benchmark_and_method("gsm:model=openai_gpt2,stop=none,max_train_instances=0")
    ('gsm', 'max_train_instances=0')
    """
    head, sep, rest = run_name.partition(":")
    keep: list[str] = []
    method: list[str] = []
    for key, value in _split_args(rest) if sep else []:
        if key in _MODEL_ARGS or key in _IGNORED_ARGS:
            continue
        (method if key in METHOD_ARGS else keep).append(f"{key}={value}")
    bench = head.strip() + (":" + ",".join(keep) if keep else "")
    return bench, (",".join(method) if method else None)


def _run_spec(path: Path) -> dict[str, Any]:
    spec_path = path.parent / RUN_SPEC
    if not spec_path.is_file():
        raise InputError(
            f"{RUN_SPEC} is missing beside {PRIMARY}; HELM writes both into each run folder and "
            "the model and the benchmark are read from it",
            file=path,
            fix=f"copy the whole HELM run folder (benchmark_output/runs/<suite>/<run>/), including {RUN_SPEC}",
            kind="missing_companion",
        )
    spec = _load_json(spec_path, RUN_SPEC)
    if not isinstance(spec, dict) or not isinstance(spec.get("adapter_spec"), dict) or not spec.get("name"):
        raise InputError(
            f"{RUN_SPEC} has no 'name' or no 'adapter_spec'; it is not a HELM run spec",
            file=spec_path,
            fix="give the run_spec.json written by helm-run",
            kind="missing_field",
        )
    return spec


def _schema_main(path: Path, groups: list[str]) -> tuple[str | None, str | None, Path | None]:
    """Main metric and split of the run's groups in the suite's schema.json, if any."""
    schema_path = path.parent.parent / SCHEMA
    if not groups or not schema_path.is_file():
        return None, None, None
    schema = _load_json(schema_path, SCHEMA)
    run_groups = schema.get("run_groups") if isinstance(schema, dict) else None
    if not isinstance(run_groups, list):
        return None, None, None
    env_by_group = {g.get("name"): g.get("environment") or {} for g in run_groups if isinstance(g, dict)}
    for group in groups:
        env = env_by_group.get(group)
        if isinstance(env, dict) and isinstance(env.get("main_name"), str):
            split = env.get("main_split")
            return env["main_name"], split if isinstance(split, str) else None, schema_path
    return None, None, None


# ---------------------------------------------------------------------------
# reading


def _value(stat: dict[str, Any]) -> float | None:
    """``mean`` of a stat, else ``sum / count``; None when there is no (finite) value."""
    mean = stat.get("mean")
    value: float | None = None
    if isinstance(mean, (int, float)) and not isinstance(mean, bool):
        value = float(mean)
    else:
        count, total = stat.get("count"), stat.get("sum")
        if isinstance(count, (int, float)) and count and isinstance(total, (int, float)):
            value = float(total) / float(count)
    return value if value is not None and math.isfinite(value) else None


def _bad_element(path: Path, line: int, what: str) -> InputError:
    return InputError(
        f"element at line {line} {what}; this is not a HELM per_instance_stats.json",
        file=path,
        line=line,
        fix="give the per_instance_stats.json written by helm-run",
        kind="missing_field",
    )


def read(
    path: str | Path,
    *,
    metric: str | None = None,
    model: str | None = None,
    perturbation: str | None = None,
) -> Runs:
    """Read one HELM run into canonical runs.

    Parameters
    ----------
    path : str or Path
        The run's ``per_instance_stats.json``, or the run folder.
    metric : str, optional
        Per-instance stat to use as the score (``"exact_match"``, ``"f1_score"`` ...).
        Default: the suite schema's main metric for the run's group, else the first
        of :data:`DEFAULT_METRICS` present.
    model : str, optional
        Model name to use instead of the run spec's ``adapter_spec.model``.
    perturbation : str, optional
        Read the copies of the instances made by this perturbation (its ``name``,
        e.g. ``"filler_words"``, ``"typos"``, ``"dialect"``) instead of the
        unperturbed instances; ``method`` then says so.

    Returns
    -------
    Runs
        One row per (instance, train trial); excluded rows (other perturbations,
        other splits, no value of the metric) are counted in ``exclusions``.

    Raises
    ------
    InputError
        Missing ``run_spec.json``, malformed or truncated JSON (with the line),
        empty file, unknown metric or perturbation, metric outside [0, 1].
    """
    path = Path(path)
    if path.is_dir():
        if not (path / PRIMARY).is_file():
            raise InputError(
                f"the folder has no {PRIMARY}; it is not a HELM run folder",
                file=path,
                fix="give a run folder benchmark_output/runs/<suite>/<run>/ written by helm-run",
                kind="not_found",
            )
        path = path / PRIMARY
    if not path.is_file():
        raise InputError(
            "no such file", file=path, fix="give the path of a HELM per_instance_stats.json", kind="not_found"
        )

    spec = _run_spec(path)
    adapter = spec["adapter_spec"]
    model_name = model or adapter.get("model") or adapter.get("model_deployment")
    if not model_name:
        raise InputError(
            f"{RUN_SPEC} names no model (adapter_spec.model and model_deployment are empty)",
            file=path.parent / RUN_SPEC,
            fix="pass model=... to name the model",
            kind="missing_field",
        )
    benchmark, method = benchmark_and_method(str(spec["name"]))

    extra_sources: list[Path] = [path.parent / RUN_SPEC]
    wanted_split: str | None = None
    candidates: tuple[str, ...]
    if metric is not None:
        candidates = (metric,)
    else:
        groups = [g for g in spec.get("groups") or [] if isinstance(g, str)]
        main, wanted_split, schema_path = _schema_main(path, groups)
        if schema_path is not None:
            extra_sources.append(schema_path)
        candidates = ((main,) if main else ()) + tuple(m for m in DEFAULT_METRICS if m != main)
    cand_set = frozenset(candidates)

    # --- stream the elements, keep the ids and the candidate values -------------
    # key (instance, trial, perturbation) -> [line, split, {metric: value}]
    rows: dict[tuple[str, int, str | None], list[Any]] = {}
    seen_metrics: dict[str, None] = {}
    seen_perturbations: dict[str, None] = {}
    duplicates: dict[str, int] = {}
    n_elements = 0
    for line, el in _ArrayReader(path):
        n_elements += 1
        if not isinstance(el, dict):
            raise _bad_element(path, line, f"is a {type(el).__name__}, not an object")
        iid = el.get("instance_id")
        if iid is None:
            raise _bad_element(path, line, "has no instance_id")
        trial = el.get("train_trial_index", 0)
        if not isinstance(trial, int) or isinstance(trial, bool):
            raise _bad_element(path, line, f"has a train_trial_index that is not an integer ({trial!r})")
        pert = el.get("perturbation")
        pname = str(pert.get("name")) if isinstance(pert, dict) else None
        if pname is not None:
            seen_perturbations[pname] = None
        stats = el.get("stats")
        if not isinstance(stats, list):
            raise _bad_element(path, line, "has no list of stats")
        key = (str(iid), trial, pname)
        row = rows.get(key)
        if row is None:
            row = rows[key] = [line, None, {}]
        values = row[2]
        for stat in stats:
            name = stat.get("name") if isinstance(stat, dict) else None
            if not isinstance(name, dict):
                continue
            mname = name.get("name")
            if not isinstance(mname, str):
                continue
            seen_metrics[mname] = None
            if mname in cand_set:
                if mname in values:
                    duplicates[mname] = duplicates.get(mname, 0) + 1
                    continue
                values[mname] = _value(stat)
                if row[1] is None and isinstance(name.get("split"), str):
                    row[1] = name["split"]
    if n_elements == 0:
        raise InputError(
            f"{PRIMARY} is an empty list: the run evaluated no instance",
            file=path,
            fix="re-run helm-run with --max-eval-instances of at least 1, or remove this run folder",
            kind="empty",
        )

    # --- the metric --------------------------------------------------------------
    chosen = next((m for m in candidates if m in seen_metrics), None)
    if chosen is None:
        names = list(seen_metrics)
        if metric is not None:
            message = f"metric {metric!r} is not in the per-instance stats; they have {', '.join(names)}"
        else:
            message = (
                "none of the usual correctness metrics "
                f"({', '.join(DEFAULT_METRICS[:4])} ...) is in the per-instance stats; they have {', '.join(names)}"
            )
        raise InputError(
            message,
            file=path,
            fix="pass metric= one of the names listed (a per-instance score in [0, 1])",
            kind="unknown_metric",
        )

    exclusions: list[Exclusion] = []
    if perturbation is not None and perturbation not in seen_perturbations:
        raise InputError(
            f"no instance perturbed by {perturbation!r}; the run has "
            + (", ".join(repr(p) for p in seen_perturbations) if seen_perturbations else "no perturbed instances"),
            file=path,
            fix="pass perturbation= one of the names listed, or leave it out to read the unperturbed instances",
            kind="unknown_perturbation",
        )

    # --- keep one perturbation and one split ---------------------------------------
    other_pert: dict[str | None, list[str]] = {}
    kept: list[tuple[tuple[str, int, str | None], list[Any]]] = []
    for key, row in rows.items():
        if chosen not in row[2]:
            continue  # an element of another metric class only
        if key[2] != perturbation:
            other_pert.setdefault(key[2], []).append(key[0])
            continue
        kept.append((key, row))
    for pname, ids in other_pert.items():
        if pname is None:
            reason = "unperturbed instance; leave out perturbation= to read these"
        else:
            reason = (
                f"copy of an instance perturbed by {pname!r} (HELM data augmentation); "
                f"pass perturbation={pname!r} to read these"
            )
        exclusions.append(Exclusion("row", reason, len(ids), tuple(dict.fromkeys(ids))[:3]))
    splits = {row[1] for _, row in kept}
    if wanted_split is None or wanted_split not in splits:
        wanted_split = "test" if "test" in splits else (None if len(splits) <= 1 else min(s for s in splits if s))
    if wanted_split is not None and len(splits) > 1:
        other = [(key, row) for key, row in kept if row[1] != wanted_split]
        if other:
            exclusions.append(
                Exclusion(
                    "row",
                    f"stats of split {', '.join(sorted({str(r[1]) for _, r in other}))}, not {wanted_split!r}",
                    len(other),
                    tuple(dict.fromkeys(k[0] for k, _ in other))[:3],
                )
            )
        kept = [(key, row) for key, row in kept if row[1] == wanted_split]
    missing = [key for key, row in kept if row[2][chosen] is None]
    if missing:
        exclusions.append(
            Exclusion(
                "row",
                f"no value of {chosen!r} (count 0 or not finite: HELM could not compute it)",
                len(missing),
                tuple(dict.fromkeys(k[0] for k in missing))[:3],
            )
        )
        kept = [(key, row) for key, row in kept if row[2][chosen] is not None]
    if duplicates.get(chosen):
        exclusions.append(
            Exclusion(
                "stat",
                f"{chosen!r} reported again for the same instance by another metric class; the first was kept",
                duplicates[chosen],
            )
        )
    if not kept:
        raise InputError(
            f"no row left to read: every row with {chosen!r} was excluded ("
            + "; ".join(str(e) for e in exclusions)
            + ")",
            file=path,
            fix="pass perturbation= or metric= to read other rows",
            kind="empty",
        )

    scores = [row[2][chosen] for _, row in kept]
    bad = next(((key, v) for (key, _), v in zip(kept, scores) if not 0.0 <= v <= 1.0), None)
    if bad is not None:
        raise InputError(
            f"metric {chosen!r} is not a score in [0, 1] (instance {bad[0][0]} has {bad[1]!r})",
            file=path,
            line=next(row[0] for key, row in kept if key == bad[0]),
            fix="pass metric= a per-instance correctness metric such as "
            + ", ".join(m for m in DEFAULT_METRICS if m in seen_metrics)
            if any(m in seen_metrics for m in DEFAULT_METRICS)
            else "pass metric= a per-instance correctness metric in [0, 1]",
            kind="score_out_of_range",
        )

    if perturbation is not None:
        method = f"{method},perturbation={perturbation}" if method else f"perturbation={perturbation}"
    columns: dict[str, Any] = {
        "model": pl.Series([str(model_name)] * len(kept), dtype=pl.String),
        "benchmark": pl.Series([benchmark] * len(kept), dtype=pl.String),
        "item": pl.Series([key[0] for key, _ in kept], dtype=pl.String),
        "seed": pl.Series([key[1] for key, _ in kept], dtype=pl.Int64),
        "score": pl.Series(scores, dtype=pl.Float64),
        "_line": pl.Series([row[0] for _, row in kept], dtype=pl.Int64),
    }
    if method is not None:
        columns["method"] = pl.Series([method] * len(kept), dtype=pl.String)
    frame = pl.DataFrame(columns)
    items = [key[0] for key, _ in kept]
    return make_runs(
        frame,
        file=path,
        format=NAME,
        line_column="_line",
        exclusions=exclusions,
        extra_sources=extra_sources,
        run=_identity(path, spec, str(model_name), benchmark),
        item_keys=_item_keys(path.parent, benchmark, items),
    )


def _identity(path: Path, spec: dict[str, Any], model: str, benchmark: str) -> RunIdentity:
    """The run of a run folder. HELM records no seed and no start time in the folder;
    the suite's ``summary.json`` date (written by ``helm-summarize``) orders re-runs
    in several suites. Prompting variants are already in ``method`` (the run name's
    :data:`METHOD_ARGS`), so the identity carries no configuration of its own."""
    suite = path.parent.parent
    stamp = ""
    summary = suite / "summary.json"
    if summary.is_file():
        try:
            data = orjson.loads(summary.read_bytes())
            stamp = str(data.get("date") or "") if isinstance(data, dict) else ""
        except (OSError, orjson.JSONDecodeError):
            stamp = ""
    return RunIdentity(
        NAME,
        model,
        benchmark,
        config=(),  # HELM's prompting variants are the run name's arguments, already the rows' method
        seeds=(),
        timestamp=f"{stamp} {suite.name}".strip(),
        run=str(path.parent),
        repeats="trial",
    )


def _item_keys(folder: Path, benchmark: str, items: list[str]) -> pl.DataFrame | None:
    """Content keys from the run's ``instances.json`` (each instance's input text), when present."""
    inst = folder / "instances.json"
    if not inst.is_file():
        return None
    try:
        data = orjson.loads(inst.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, list):
        return None
    texts: dict[str, str | None] = {}
    for el in data:
        if isinstance(el, dict) and el.get("id") is not None and el.get("perturbation") is None:
            inp = el.get("input")
            texts.setdefault(str(el["id"]), inp.get("text") if isinstance(inp, dict) else None)
    wanted = list(dict.fromkeys(items))
    return item_key_table(NAME, benchmark, wanted, [texts.get(i) for i in wanted], prompts=True)
