"""Run identity across harness outputs: seeds, prompting variants, re-runs and item alignment.

A folder a harness wrote holds many runs: the same task re-run, run again with another
seed, with another few-shot count, with three epochs instead of one, or through another
harness altogether. Each reader records a :class:`~metabench.runs.RunIdentity` for every
run it reads (harness, model, task, configuration, seeds, time, status); this module
turns the runs of one load into one consistent table:

* :func:`resolve_runs` — runs of one configuration that differ by seed are seeds; runs
  that differ in prompting are different systems (``method``, with a readable label such
  as ``"2-shot"``); exact re-runs (same configuration and seeds) keep the latest complete
  run and list the others as exclusions (``reruns="seeds"`` keeps them all as seeds);
  runs that did not finish are skipped with the reason the harness recorded.
* :func:`align_sources` — when several harnesses ran one benchmark, items are matched
  on their content key (a hash of the normalised question text, :func:`content_key`);
  where that is impossible the sources stay separate benchmarks named by source.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from metabench.errors import InputError
from metabench.runs import ITEM_KEY_SCHEMA, Exclusion, RunIdentity, Runs, merge_item_keys, normalize_frame

__all__ = [
    "ALIGN_MIN_FRACTION",
    "Resolution",
    "align_sources",
    "content_key",
    "item_key_table",
    "normalise_text",
    "part_keys",
    "question_text",
    "resolve_runs",
]

ALIGN_MIN_FRACTION = 0.5
"""Share of a source's items that must find their question in the reference source for the
two to be aligned on content; below it they stay separate benchmarks."""

_QUESTION_FIELDS = (
    "question",
    "query",
    "problem",
    "prompt",
    "input",
    "instruction",
    "text",
    "sentence",
    "ctx",
    "context",
)
_QUESTION_FIELD_SET = frozenset(_QUESTION_FIELDS)
_CHOICE_LINE = re.compile(r"^\s*[\(\[]?([a-e])\s*[\.\):\]]\s+", re.IGNORECASE)
_LEAD_LABEL = re.compile(r"\s*(?:question|q|problem|input)\s*[:.]\s*")
_TAIL_LABEL = re.compile(r"\b(?:answer|a|output)\s*:\s*$")
_NON_WORD = re.compile(r"[\W_]+")
_ASCII_WORD = bytes(c if chr(c).isalnum() else 32 for c in range(256))  # [\W_] as one byte table


def normalise_text(text: str) -> str:
    """Question text reduced to what survives every harness's prompt template.

    Unicode is NFKC-normalised and case-folded; a block of lettered answer choices
    (``A. ...`` / ``(B) ...`` lines) and everything after it is cut, as are a leading
    ``Question:`` / ``Q:`` label and a trailing ``Answer:`` label; punctuation and
    runs of white space become one space.

    Examples
    --------
    >>> normalise_text("Question: Which organ produces insulin?\\nA. Liver\\nB. Pancreas\\nAnswer:")
    'which organ produces insulin'
    >>> normalise_text("Which organ  produces INSULIN?")
    'which organ produces insulin'
    >>> normalise_text("What is the normal range of the data:")
    'what is the normal range of the data'
    """
    ascii_only = text.isascii()
    t = text.lower() if ascii_only else unicodedata.normalize("NFKC", text).casefold()
    if "\n" in t:
        lines = t.splitlines()
        for k, line in enumerate(lines):
            m = _CHOICE_LINE.match(line)
            if (
                m
                and m.group(1) == "a"
                and any((n := _CHOICE_LINE.match(later)) is not None and n.group(1) == "b" for later in lines[k + 1 :])
            ):
                lines = lines[:k]
                break
        t = " ".join(lines)
    lead = _LEAD_LABEL.match(t)
    if lead is not None:
        t = t[lead.end() :]
    t = t.rstrip()
    if t.endswith(":"):
        cut = len(t) - 32 if len(t) > 32 else 0
        tail = _TAIL_LABEL.search(t, cut)
        if tail is not None:
            t = t[: tail.start()]
    if ascii_only:
        return b" ".join(t.encode().translate(_ASCII_WORD).split()).decode()
    return _NON_WORD.sub(" ", t).strip()


def content_key(text: str | None) -> str | None:
    """Content key of an item: 16 hex digits of the SHA-256 of :func:`normalise_text`.

    None for a missing or blank text (no key rather than one key shared by every blank item).

    Examples
    --------
    >>> content_key("Q: What is 2 + 2?") == content_key("what is 2+2")
    True
    >>> content_key("What is 2 + 2?") == content_key("What is 2 + 3?")
    False
    >>> content_key("Question: What is 2 + 2?\\nAnswer:") == content_key("What is 2 + 2?")
    True
    """
    if not isinstance(text, str):
        return None
    norm = normalise_text(text)
    if not norm:
        return None
    return hashlib.sha256(norm.encode()).hexdigest()[:16]


def question_text(doc: Any) -> str | None:
    """The question of a harness's logged document (a dict of dataset fields), if any.

    The first field named like a question (``question``, ``query``, ``problem``, ...,
    case-insensitive) holding text; else the longest text field.

    Examples
    --------
    >>> question_text({"Question": "Why?", "choices": ["a", "b"], "label": 0})
    'Why?'
    >>> question_text({"passage": "A long passage.", "x": "b"})
    'A long passage.'
    """
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, Mapping):
        return None
    for name in _QUESTION_FIELDS:  # the usual spelling first: no per-document copy of the keys
        v = doc.get(name)
        if isinstance(v, str) and v.strip():
            return v
    lower = {str(k).casefold(): v for k, v in doc.items() if str(k).casefold() in _QUESTION_FIELD_SET}
    for name in _QUESTION_FIELDS:
        v = lower.get(name)
        if isinstance(v, str) and v.strip():
            return v
    texts = [v for v in doc.values() if isinstance(v, str) and v.strip()]
    return max(texts, key=len) if texts else None


_SENTENCE_END = re.compile(r"(?<=[.?!:])\s+|\n+")
MAX_PART_SENTENCES = 12
"""Prompts longer than this many sentences get no part keys (only the key of the whole text)."""
MIN_PART_WORDS = 4
"""A run of sentences shorter than this (after normalising) gets no key of its own."""


def part_keys(text: str | None) -> list[str]:
    """Keys of every run of whole sentences of ``text`` but the whole: the question inside a prompt.

    A harness that logs the prompt rather than the question wraps it in a preamble ("The
    following are multiple choice questions about anatomy.") or instructions ("Answer
    with the letter."). Cutting at sentence ends and line breaks and keying each run of
    consecutive sentences lets the question's own key be found among them.

    Examples
    --------
    >>> q = "Which organ produces insulin?"
    >>> content_key(q) in part_keys("The following are questions about anatomy.\\n\\n" + q + "\\nAnswer:")
    True
    """
    if not isinstance(text, str):
        return []
    # what follows the choice block never belongs to the question
    head = text
    lines = text.splitlines()
    for k, line in enumerate(lines):
        m = _CHOICE_LINE.match(line)
        if (
            m
            and m.group(1).lower() == "a"
            and any(
                (n := _CHOICE_LINE.match(later)) is not None and n.group(1).lower() == "b" for later in lines[k + 1 :]
            )
        ):
            head = "\n".join(lines[:k])
            break
    parts = [p for p in _SENTENCE_END.split(head) if p and p.strip()]
    if len(parts) < 2 or len(parts) > MAX_PART_SENTENCES:
        return []
    out: list[str] = []
    for i in range(len(parts)):
        for j in range(i + 1, len(parts) + 1):
            if i == 0 and j == len(parts):
                continue  # the whole text has its own key
            norm = normalise_text(" ".join(parts[i:j]))
            if len(norm.split()) >= MIN_PART_WORDS:
                out.append(hashlib.sha256(norm.encode()).hexdigest()[:16])
    return list(dict.fromkeys(out))


def item_key_table(
    source: str,
    benchmark: str,
    items: Sequence[str],
    texts: Sequence[str | None],
    *,
    prompts: bool = False,
) -> pl.DataFrame | None:
    """Side table (source, benchmark, item, item_key, kind) of the items that carry a text.

    ``prompts=True`` for harnesses that log the prompt rather than the dataset's question
    field (lighteval's query, Inspect's input, HELM's input text): their items also get
    :func:`part_keys`, so that a question wrapped in a preamble or instructions still
    finds its match.
    """
    rows: dict[str, list[tuple[str, str]]] = {}
    for item, text in zip(items, texts, strict=True):
        if item in rows:
            continue
        key = content_key(text)
        if key is None:
            continue
        rows[item] = [(key, "text")] + ([(k, "part") for k in part_keys(text)] if prompts else [])
    if not rows:
        return None
    flat = [(item, k, kind) for item, keys in rows.items() for k, kind in keys]
    return pl.DataFrame(
        {
            "source": source,
            "benchmark": benchmark,
            "item": [r[0] for r in flat],
            "item_key": [r[1] for r in flat],
            "kind": [r[2] for r in flat],
        },
        schema=ITEM_KEY_SCHEMA,
    )


# ---------------------------------------------------------------------------
# runs: seeds, methods, re-runs, failures


@dataclass
class Resolution:
    """What :func:`resolve_runs` did: the parts to merge, what it left out and why."""

    parts: list[Runs]
    exclusions: list[Exclusion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _identity(part: Runs) -> RunIdentity | None:
    for s in part.sources:
        if s.run is not None:
            return s.run
    return None


def _methods(part: Runs) -> tuple[str, ...]:
    """Methods a reader already set on the rows (HELM's run-name arguments): runs that differ in
    them are different systems, never re-runs of one another."""
    if "method" not in part.frame.columns:
        return ()
    return tuple(sorted(m for m in part.frame.get_column("method").unique().to_list() if m is not None))


def _seed_tuple(ident: RunIdentity) -> tuple[tuple[str, int | None], ...]:
    return tuple(sorted(ident.seeds, key=lambda kv: kv[0]))


def _varying_keys(idents: Iterable[RunIdentity]) -> tuple[str, ...]:
    """Configuration keys whose values differ between runs of one (model, task)."""
    by_task: dict[str, list[RunIdentity]] = defaultdict(list)
    for r in idents:
        by_task[r.task].append(r)
    keys: set[str] = set()
    for runs in by_task.values():
        if len(runs) < 2:
            continue
        names = {k for r in runs for k, _ in r.config}
        for k in names:
            if len({r.config_value(k) for r in runs}) > 1:
                keys.add(k)
    # the few-shot count first (the most common difference), then by name
    return tuple(sorted(keys, key=lambda k: (k != "num_fewshot", k)))


def _order(ident: RunIdentity, part: Runs) -> tuple[str, str, str]:
    path = part.sources[0].path if part.sources else ""
    return (ident.timestamp, ident.run, path)


def _rewrite(part: Runs, *, method: str | None = None, seed_map: dict[int, int] | None = None) -> Runs:
    frame = part.frame
    if method is not None:
        if "method" in frame.columns:
            frame = frame.with_columns(
                pl.when(pl.col("method").is_null())
                .then(pl.lit(method))
                .otherwise(pl.concat_str([pl.col("method"), pl.lit(","), pl.lit(method)]))
                .alias("method")
            )
        else:
            frame = frame.with_columns(pl.lit(method, dtype=pl.String).alias("method"))
    if seed_map:
        frame = frame.with_columns(pl.col("seed").replace_strict(seed_map, return_dtype=pl.Int64))
    return Runs(
        normalize_frame(frame),
        sources=part.sources,
        exclusions=part.exclusions,
        item_keys=part.item_keys,
        _checked=True,
    )


def _describe_run(ident: RunIdentity, part: Runs) -> str:
    path = part.sources[0].path if part.sources else ident.run
    return str(path)


def resolve_runs(
    parts: Sequence[Runs],
    *,
    reruns: Literal["latest", "seeds"] = "latest",
    skip_incomplete: bool = True,
    keep_incomplete: Collection[int] = (),
) -> Resolution:
    """Make the runs of one load consistent: seeds, methods, re-runs and failed runs.

    Parameters
    ----------
    parts : sequence of Runs
        What the readers returned, one part per harness run of one task (parts
        without a :class:`~metabench.runs.RunIdentity`, such as canonical files,
        pass through unchanged).
    reruns : {"latest", "seeds"}
        Exact re-runs of one configuration with the same seeds: keep the latest
        complete one (default; the others are listed as exclusions) or keep them all
        as seeds.
    skip_incomplete : bool
        Leave out runs the harness recorded as not finished (error, cancelled,
        partial), each listed with its file and the harness's reason.
    keep_incomplete : collection of int
        ``id()`` of parts read even when not finished (files the user named).

    Returns
    -------
    Resolution
        The parts to merge (``method`` and ``seed`` rewritten where needed) and the
        exclusions.

    Examples
    --------
    >>> from metabench.runs import SourceFile
    >>> def run(seed, ts, shots="0"):
    ...     ident = RunIdentity("lm_eval", "m", "t", config=(("num_fewshot", shots),),
    ...                         seeds=(("random_seed", seed),), timestamp=ts, run=ts)
    ...     return Runs({"model": ["m"], "benchmark": ["t"], "item": ["0"], "score": [1.0]},
    ...                 sources=[SourceFile(ts, "lm_eval", run=ident)])
    >>> res = resolve_runs([run(1, "a"), run(1, "b"), run(2, "c"), run(2, "d", shots="2")])
    >>> sorted((p.frame["method"][0], p.frame["seed"][0]) for p in res.parts)
    [('0-shot', 1), ('0-shot', 2), ('2-shot', 0)]
    >>> print(res.exclusions[0])
    1 run(s) excluded: an exact re-run (same configuration and seeds) of a later run; the latest complete run is used (reruns='seeds' keeps all as seeds) (e.g. a)
    """
    if reruns not in ("latest", "seeds"):
        raise InputError(
            f"reruns must be 'latest' or 'seeds', not {reruns!r}", fix="use reruns='latest' or reruns='seeds'"
        )
    out = Resolution(parts=[])
    identified: list[tuple[RunIdentity, Runs]] = []
    for part in parts:
        ident = _identity(part)
        if ident is None:
            out.parts.append(part)
        elif not ident.complete and skip_incomplete and id(part) not in keep_incomplete:
            why = f": {ident.reason}" if ident.reason else ""
            out.exclusions.append(
                Exclusion(
                    "run",
                    f"{ident.harness} run of {ident.task} ({ident.model}) did not finish "
                    f"(status {ident.status!r}{why}); its {len(part)} scored row(s) are not used",
                    1,
                    (_describe_run(ident, part),),
                )
            )
        else:
            identified.append((ident, part))

    by_model: dict[tuple[str, str], list[tuple[RunIdentity, Runs]]] = defaultdict(list)
    for ident, part in identified:
        by_model[(ident.harness, ident.model)].append((ident, part))

    reruns_dropped: list[str] = []
    for (_harness, _model), runs in sorted(by_model.items()):
        keys = _varying_keys(r for r, _ in runs)
        groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[RunIdentity, Runs]]] = defaultdict(list)
        for ident, part in runs:
            label = ident.config_label(keys) if keys else ""
            groups[(ident.task, label, _methods(part))].append((ident, part))
        for (_task, label, _own), members in sorted(groups.items()):
            method = label or None
            by_seed: dict[tuple[tuple[str, int | None], ...], list[tuple[RunIdentity, Runs]]] = defaultdict(list)
            for ident, part in members:
                by_seed[_seed_tuple(ident)].append((ident, part))
            kept: list[tuple[RunIdentity, Runs]] = []
            for _seeds, same in sorted(by_seed.items(), key=lambda kv: repr(kv[0])):
                same.sort(key=lambda ip: (ip[0].complete, *_order(*ip)))  # the latest complete run last
                if reruns == "latest" and len(same) > 1:
                    kept.append(same[-1])
                    reruns_dropped += [_describe_run(i, p) for i, p in same[:-1]]
                else:
                    kept.extend(same)
            seed_maps = _seed_maps(kept)
            for (ident, part), seed_map in zip(kept, seed_maps, strict=True):
                out.parts.append(_rewrite(part, method=method, seed_map=seed_map) if (method or seed_map) else part)
            if len(kept) > 1:
                out.notes.append(
                    f"{kept[0][0].harness}: {len(kept)} runs of {kept[0][0].task} by {kept[0][0].model}"
                    f"{' (' + label + ')' if label else ''} are kept as seeds"
                )
    if reruns_dropped:
        out.exclusions.append(
            Exclusion(
                "run",
                "an exact re-run (same configuration and seeds) of a later run; the latest complete run is used "
                "(reruns='seeds' keeps all as seeds)",
                len(reruns_dropped),
                tuple(sorted(reruns_dropped)),
            )
        )
    return out


def _seed_maps(kept: list[tuple[RunIdentity, Runs]]) -> list[dict[int, int] | None]:
    """New seed labels for the runs of one (model, task, method) kept together.

    One run keeps its seeds. Several runs that each hold one try (seed 0 only) and
    differ in a recorded seed take that seed's value (``--seed 42`` gives seed 42), so
    runs made with the same seed line up across models. Otherwise the runs' own seeds
    (epochs, trials) are stacked in run order: the second run's seeds follow the first's.
    """
    if len(kept) < 2:
        return [None] * len(kept)
    own = [sorted(set(p.frame.get_column("seed").to_list())) for _, p in kept]
    if all(s == [0] for s in own):
        names = [k for k, _ in kept[0][0].seeds]
        for name in names:
            values = [dict(i.seeds).get(name) for i, _ in kept]
            if all(isinstance(v, int) for v in values) and len(set(values)) == len(values):
                return [{0: int(v)} for v in values]  # type: ignore[arg-type]
    order = sorted(range(len(kept)), key=lambda k: (repr(_seed_tuple(kept[k][0])), *_order(*kept[k])))
    maps: list[dict[int, int] | None] = [None] * len(kept)
    offset = 0
    for k in order:
        maps[k] = {s: offset + j for j, s in enumerate(own[k])}
        offset += len(own[k])
    return maps


# ---------------------------------------------------------------------------
# items across sources


def _source_of(part: Runs) -> str:
    ident = _identity(part)
    if ident is not None:
        return ident.harness
    return part.sources[0].format if part.sources else "input"


def align_sources(parts: Sequence[Runs], *, order: Sequence[str] = ()) -> Resolution:
    """Match the items of one benchmark read from several harnesses.

    For every benchmark that more than one source (reader) wrote, the source with the
    most items that carry a content key is the reference. Another source's items are
    renamed to the reference's ids where their content keys match; when fewer than
    :data:`ALIGN_MIN_FRACTION` of its items match, or its logs carry no question text
    and its ids differ from the reference's, it stays a separate benchmark named
    ``"<benchmark> [<source>]"``. Each decision is written in the notes.

    Parameters
    ----------
    parts : sequence of Runs
        Parts to be merged.
    order : sequence of str
        Source names in order of preference when two have as many keyed items.
    """
    out = Resolution(parts=list(parts))
    rank = {name: k for k, name in enumerate(order)}
    # which sources wrote each benchmark, with their item ids and keys
    bench_sources: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for part in parts:
        src = _source_of(part)
        for bench, items in part.frame.group_by("benchmark").agg(pl.col("item").unique()).iter_rows():
            bench_sources[bench][src].update(items)
    keys = merge_item_keys(p.item_keys for p in parts)
    renames: dict[tuple[str, str], tuple[str, dict[str, str] | None]] = {}  # (source, bench) -> (new bench, item map)
    for bench in sorted(bench_sources):
        sources = bench_sources[bench]
        if len(sources) < 2:
            continue
        keyed: dict[str, dict[str, str]] = {}
        parts_of: dict[str, dict[str, list[str]]] = {}
        for src in sources:
            keyed[src], parts_of[src] = {}, defaultdict(list)
            if keys is None:
                continue
            sub = keys.filter((pl.col("source") == src) & (pl.col("benchmark") == bench))
            for item, key, kind in sub.select("item", "item_key", "kind").iter_rows():
                if kind == "part":
                    parts_of[src][item].append(key)
                else:
                    keyed[src][item] = key
        ref = min(sources, key=lambda s: (-len(keyed[s]), -len(sources[s]), rank.get(s, len(rank)), s))
        ref_by_key: dict[str, list[str]] = defaultdict(list)
        for item, key in keyed[ref].items():
            ref_by_key[key].append(item)
        ref_by_part: dict[str, set[str]] = defaultdict(set)
        for item, pkeys in parts_of[ref].items():
            for key in pkeys:
                ref_by_part[key].add(item)
        for src in sorted(sources):
            if src == ref:
                continue
            ids = sources[src]
            mapping: dict[str, str] = {}
            for item in ids:
                key = keyed[src].get(item)
                cands = ref_by_key.get(key, []) if key is not None else []
                if len(cands) == 1:
                    mapping[item] = cands[0]
                elif item in cands:
                    mapping[item] = item
                elif not cands:
                    # one side logs a prompt: the question is a run of its sentences (preamble or
                    # instructions around it); a match must point to one item only
                    found = {r for k in parts_of[src].get(item, ()) for r in ref_by_key.get(k, ())}
                    if key is not None:
                        found |= ref_by_part.get(key, set())
                    if len(found) == 1:
                        mapping[item] = next(iter(found))
            # two items of one source on one reference item would clash: keep both apart
            hits: dict[str, int] = defaultdict(int)
            for target in mapping.values():
                hits[target] += 1
            mapping = {i: t for i, t in mapping.items() if hits[t] == 1}
            frac = len(mapping) / len(ids) if ids else 0.0
            if keyed[src] and keyed[ref] and frac >= ALIGN_MIN_FRACTION:
                unmatched = sorted(ids - set(mapping))
                full = {**mapping, **{i: f"{i} [{src}]" for i in unmatched}}
                renames[(src, bench)] = (bench, full)
                moved = sum(1 for a, b in mapping.items() if a != b)
                out.notes.append(
                    f"{bench}: items of {src} matched to those of {ref} on their question text: "
                    f"{len(mapping)} of {len(ids)} matched ({moved} under another id)"
                    + (f", {len(unmatched)} kept apart" if unmatched else "")
                )
            elif not keyed[src] and not keyed[ref] and ids == sources[ref]:
                out.notes.append(
                    f"{bench}: {src} and {ref} give the same {len(ids)} item ids; neither log carries the question "
                    "text, so they are taken to be the same items without a check"
                )
            else:
                new = f"{bench} [{src}]"
                renames[(src, bench)] = (new, None)
                why = (
                    "their logs carry no question text to match on"
                    if not (keyed[src] and keyed[ref])
                    else f"only {len(mapping)} of {len(ids)} items match on question text"
                )
                out.notes.append(
                    f"{bench}: the items of {src} cannot be matched to those of {ref} ({why}); "
                    f"they form a separate benchmark {new!r}"
                )
    if not renames:
        return _harness_methods(out)
    new_parts = []
    for part in parts:
        src = _source_of(part)
        todo = {b: v for (s, b), v in renames.items() if s == src}
        if not todo or not set(todo) & set(part.frame.get_column("benchmark").unique().to_list()):
            new_parts.append(part)
            continue
        frame = part.frame
        item_keys = part.item_keys
        for bench, (new_bench, mapping) in todo.items():
            is_b = pl.col("benchmark") == bench
            exprs = [pl.when(is_b).then(pl.lit(new_bench)).otherwise(pl.col("benchmark")).alias("benchmark")]
            if mapping:
                exprs.append(
                    pl.when(is_b).then(pl.col("item").replace(mapping)).otherwise(pl.col("item")).alias("item")
                )
            frame = frame.with_columns(exprs)
            if item_keys is not None:
                k_is_b = (pl.col("benchmark") == bench) & (pl.col("source") == src)
                k_exprs = [pl.when(k_is_b).then(pl.lit(new_bench)).otherwise(pl.col("benchmark")).alias("benchmark")]
                if mapping:
                    k_exprs.append(
                        pl.when(k_is_b).then(pl.col("item").replace(mapping)).otherwise(pl.col("item")).alias("item")
                    )
                item_keys = item_keys.with_columns(k_exprs)
        new_parts.append(
            Runs(
                normalize_frame(frame),
                sources=part.sources,
                exclusions=part.exclusions,
                item_keys=item_keys,
                _checked=True,
            )
        )
    out.parts = new_parts
    return _harness_methods(out)


def _harness_methods(res: Resolution) -> Resolution:
    """One model run through two harnesses on one benchmark: each harness's rows are a method.

    The harnesses prompt and score differently, so their rows are two systems
    (``model|lm_eval`` and ``model|inspect_ai``), not one system with clashing rows.
    """
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for part in res.parts:
        src = _source_of(part)
        for model, bench in part.frame.select("model", "benchmark").unique().iter_rows():
            seen[(model, bench)].add(src)
    shared = {k: v for k, v in seen.items() if len(v) > 1}
    if not shared:
        return res
    parts = []
    for part in res.parts:
        src = _source_of(part)
        pairs = {k for k in part.frame.select("model", "benchmark").unique().iter_rows() if k in shared}
        if not pairs:
            parts.append(part)
            continue
        hit = pl.struct("model", "benchmark").is_in([{"model": m, "benchmark": b} for m, b in sorted(pairs)])
        frame = part.frame
        if "method" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("method"))
        frame = frame.with_columns(
            pl.when(hit & pl.col("method").is_null())
            .then(pl.lit(src))
            .when(hit)
            .then(pl.concat_str([pl.col("method"), pl.lit(","), pl.lit(src)]))
            .otherwise(pl.col("method"))
            .alias("method")
        )
        parts.append(
            Runs(
                normalize_frame(frame),
                sources=part.sources,
                exclusions=part.exclusions,
                item_keys=part.item_keys,
                _checked=True,
            )
        )
    for (model, bench), srcs in sorted(shared.items()):
        res.notes.append(
            f"{bench}: {model} was run through {', '.join(sorted(srcs))}; each harness's rows are a separate "
            f"system ({', '.join(f'{model}|{s}' for s in sorted(srcs))})"
        )
    return Resolution(parts=parts, exclusions=res.exclusions, notes=res.notes)
