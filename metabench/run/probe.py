"""The contamination probe: model-access tests of whether a model has seen a benchmark (``metabench probe``).

:func:`probe` loads a task file (the same files as ``metabench run``) and a
local model through one of the runner's backends, and runs the tests of
:mod:`metabench.analysis.contamination` that need the model itself:

membership scores
    every item's text is scored token by token: Min-K% (Shi et al. 2024),
    Min-K%++ (Zhang et al. 2025) and the zlib ratio (Carlini et al. 2021);
    with a reference set of text the model cannot have seen, each score is
    compared between benchmark and reference by
    :func:`~metabench.analysis.contamination.membership_test` (AUC with a
    DeLong interval, permutation p-value);
exchangeability
    Oren et al. (2024): the log-likelihood of the items concatenated in their
    canonical order against random orders, shard by shard
    (:func:`~metabench.analysis.contamination.exchangeability_test`). The
    headline p-value is the sharded t-test's, which leans on the shard
    differences being near normal and needs some ten shards or more; the
    exact permutation p-value (at least ``1 / (1 + permutations)``) is given
    beside it. The test assumes the published order says nothing a model could
    know without the benchmark: items sorted by subject, difficulty or date can
    make a clean model prefer the canonical order;
TS-Guessing
    Deng et al. (2024), multiple choice only: one wrong option of each item is
    hidden and the model asked to fill it in; the exact-match rate. With a
    reference task of multiple-choice items the same is done on those, and the
    p-value is the one-sided Fisher exact test of the benchmark's rate against
    the reference's (the reference's rate is the chance of reproducing a hidden
    option of an item the model has not seen); without one the p-value is null.

Text
----
Each item is rendered as its text as published, the question and its lettered
options (``render="item"``, what ``metabench run --token-logprobs`` scores), or
as the zero-shot prompt ``metabench run`` shows the model
(``render="prompt"``: instruction, ``Question: ...``, options, ``Answer:``).
A token list starts with the tokenizer's BOS token, or its EOS token when it
adds no BOS (as lm-evaluation-harness does for rolling log-likelihoods), so
that every token of the text has a log-probability. Texts longer than the
model's context are cut to it.

Cost
----
With ``N`` items of ``T`` tokens on average, the membership scores take one
forward pass over ``N T`` tokens (plus the reference texts); the
exchangeability test ``(1 + permutations) N T`` tokens, in shards of about
``N T / shards`` tokens each (a shard must fit the context; by default the
number of shards grows until it does); TS-Guessing ``N`` generations of at most
``max_tokens`` tokens. The exchangeability test dominates: with the defaults
(50 permutations) it is 51 passes over the benchmark, for 1,000 items of 200
tokens about 10 million tokens to score. Lower
``permutations`` to trade the smallest reachable permutation p-value
(``1 / (1 + permutations)``) for time; the sharded t-test's p-value is not
bounded that way.

Output
------
``DIR/probe.json`` (the summary, marked ``"metabench_probe": 1``) and
``DIR/probe_items.parquet`` (one row per scored text: ``model, benchmark,
item, set, min_k, min_k_plus_plus, zlib_ratio``), both read by the report's
contamination section.

References
----------
Oren, Y., Meister, N., Chatterji, N., Ladhak, F., & Hashimoto, T. B. (2024).
Proving test set contamination in black box language models. *ICLR 2024*.

Shi, W., et al. (2024). Detecting pretraining data from large language models.
*ICLR 2024*.

Zhang, J., et al. (2025). Min-K%++: Improved baseline for detecting
pre-training data from large language models. *ICLR 2025*.

Carlini, N., et al. (2021). Extracting training data from large language
models. *USENIX Security 2021*.

Deng, C., Zhao, Y., Tang, X., Gerstein, M., & Cohan, A. (2024). Investigating
data contamination in modern benchmarks for large language models. *NAACL 2024*.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import orjson
import polars as pl

from metabench.errors import InputError
from metabench.run.backends import Backend
from metabench.run.tasks import GenerationItem, MultipleChoiceItem, Task

__all__ = ["PROBE_ITEMS_NAME", "PROBE_NAME", "RENDERS", "ProbeResult", "probe"]

PROBE_NAME = "probe.json"
"""File name of the probe summary."""

PROBE_ITEMS_NAME = "probe_items.parquet"
"""File name of the per-text scores."""

RENDERS: tuple[str, ...] = ("item", "prompt")
"""How an item is turned into text: as published, or as the zero-shot prompt of ``metabench run``."""

_TASK_SUFFIXES = (".jsonl", ".ndjson", ".json", ".yaml", ".yml", ".parquet", ".pq")
_TS_ANSWER = "\nAnswer:"
_MEMBERSHIP = ("min_k", "min_k_plus_plus", "zlib")
_ITEM_SCHEMA = {
    "model": pl.String,
    "benchmark": pl.String,
    "item": pl.String,
    "set": pl.String,
    "min_k": pl.Float64,
    "min_k_plus_plus": pl.Float64,
    "zlib_ratio": pl.Float64,
}


# ---------------------------------------------------------------------------
# the result


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """What :func:`probe` measured and wrote.

    Parameters
    ----------
    model, benchmark : str
        Model and benchmark names, as in runs.
    n_items, n_reference : int
        Benchmark items probed and reference texts scored.
    created : str
        UTC time, ISO 8601 (``2026-01-31T12:00:00Z``).
    settings : dict
        Every setting of the probe, the backend's own account and the tests
        that were skipped with the reason (``skipped``).
    tests : tuple of dict
        One record per test that ran, as in ``probe.json``: ``test``,
        ``statistic``, ``p_value`` and the test's own fields.
    items : polars.DataFrame
        Per-text scores, as in ``probe_items.parquet``.
    membership : dict
        :class:`~metabench.analysis.contamination.MembershipResult` by score
        (``min_k``, ``min_k_plus_plus``, ``zlib``); empty without a reference.
    exchangeability : ExchangeabilityResult or None
        The sharded test's full result (per-shard log-likelihoods).
    ts_guessing : TSGuessingResult or None
        Exact matches on the benchmark's items.
    ts_guessing_items : polars.DataFrame or None
        Per item (benchmark and reference): ``set, item, masked_letter,
        masked_truth, generation, match``.
    out : Path or None
        Folder the files were written to.
    seconds : float
        Wall time, model loading included.
    """

    model: str
    benchmark: str
    n_items: int
    n_reference: int
    created: str
    settings: dict[str, Any]
    tests: tuple[dict[str, Any], ...]
    items: pl.DataFrame = field(repr=False)
    membership: dict[str, Any] = field(default_factory=dict, repr=False)
    exchangeability: Any = field(default=None, repr=False)
    ts_guessing: Any = field(default=None, repr=False)
    ts_guessing_items: pl.DataFrame | None = field(default=None, repr=False)
    out: Path | None = None
    seconds: float = 0.0

    def test(self, name: str) -> dict[str, Any] | None:
        """The record of one test (``"exchangeability"``, ``"min_k"``, ...), or None when it did not run."""
        for t in self.tests:
            if t["test"] == name:
                return t
        return None

    def to_dict(self) -> dict[str, Any]:
        """The ``probe.json`` object (NaN written as null)."""
        return _jsonable(
            {
                "metabench_probe": 1,
                "model": self.model,
                "benchmark": self.benchmark,
                "n_items": self.n_items,
                "n_reference": self.n_reference,
                "created": self.created,
                "settings": self.settings,
                "tests": list(self.tests),
            }
        )

    def to_frame(self) -> pl.DataFrame:
        """One row per test that ran: test, statistic, p_value, ci_low, ci_high, n."""
        rows = [
            {
                "test": t["test"],
                "statistic": _float_or_none(t.get("statistic")),
                "p_value": _float_or_none(t.get("p_value")),
                "ci_low": _float_or_none(t.get("ci_low")),
                "ci_high": _float_or_none(t.get("ci_high")),
                "n": int(t["n"]),
            }
            for t in self.tests
        ]
        schema = {
            "test": pl.String,
            "statistic": pl.Float64,
            "p_value": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "n": pl.Int64,
        }
        return pl.DataFrame(rows, schema=schema)


def _float_or_none(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if not math.isfinite(f) else f
    if isinstance(obj, Path):
        return str(obj)
    return obj


# ---------------------------------------------------------------------------
# inputs


def _check_task_file(path: Path, what: str, flag: str) -> Path:
    if not path.exists():
        raise InputError(
            f"no {what} at {path}",
            file=path,
            fix=f"give {flag} the path of an existing file (a task file as `metabench run` takes: .jsonl, .yaml, "
            ".json or .parquet)",
            kind="not_found",
        )
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a {what}", file=path, fix=f"give {flag} a file", kind="not_a_file")
    return path


def _render(task: Task, item: MultipleChoiceItem | GenerationItem, render: str) -> str:
    if render == "item":
        return item.text()
    from metabench.run.prompting import generation_prompt, mc_loglik_prompt

    if isinstance(item, MultipleChoiceItem):
        return mc_loglik_prompt(task, item, (), "letters")[0]
    return generation_prompt(task, item, ())


def _first_record(path: Path) -> Any:
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    return orjson.loads(raw)
                except orjson.JSONDecodeError:
                    return None
    return None


def _read_reference(path: Path, render: str) -> tuple[Task | None, list[str], list[str]]:
    """The reference: a task (rendered like the benchmark), JSON lines with a ``text`` field, or lines of text."""
    from metabench.run.tasks import load_task

    if not path.exists():
        raise InputError(
            f"no reference file at {path}",
            file=path,
            fix="give --reference a task file of items the model cannot have seen (.jsonl, .yaml, .json, .parquet) "
            "or a plain text file with one text per line; leave it out to skip the membership tests",
            kind="not_found",
        )
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a reference file", file=path, fix="give --reference a file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        first = _first_record(path)
        if isinstance(first, dict) and "text" in first and "question" not in first:
            ids, texts = [], []
            with open(path, "rb") as fh:
                for lineno, raw in enumerate(fh, start=1):
                    if not raw.strip():
                        continue
                    try:
                        obj = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        raise InputError(
                            "line is not valid JSON", file=path, line=lineno, fix="write one JSON object per line"
                        ) from None
                    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                        raise InputError(
                            'the line has no "text" string', file=path, line=lineno, fix='give {"text": "..."}'
                        )
                    ids.append(str(obj.get("id", lineno)))
                    texts.append(obj["text"])
            if not texts:
                raise InputError("the reference file holds no texts", file=path, fix="add texts", kind="empty")
            return None, ids, texts
    if suffix in _TASK_SUFFIXES:
        ref = load_task(path)
        return ref, [it.id for it in ref.items], [_render(ref, it, render) for it in ref.items]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(
            "the reference file is not UTF-8 text", file=path, fix="give a UTF-8 text file, one text per line"
        ) from None
    ids = [str(k) for k, line in enumerate(lines, start=1) if line.strip()]
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise InputError("the reference file holds no texts", file=path, fix="one text per line", kind="empty")
    return None, ids, texts


# ---------------------------------------------------------------------------
# model access


def _encode(backend: Backend, text: str) -> list[int]:
    """Token ids led by BOS (EOS when the tokenizer has no BOS), so that every token of ``text`` is scored."""
    ids = backend.encode(text)
    prefix = backend.prefix_token
    if prefix is not None and (not ids or ids[0] != prefix):
        ids = [prefix, *ids]
    if not ids:
        raise InputError("a text encodes to no tokens and the tokenizer has no BOS or EOS token", fix="give text")
    return ids


class _Bar:
    """A rich progress bar on standard error (silent when disabled)."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def task(self, description: str, total: int) -> Callable[[int], None]:
        tid = self.progress.add_task(description, total=total)
        return lambda n: self.progress.update(tid, advance=n)


def _token_scores(
    backend: Backend, texts: Sequence[str], k: float, batch_size: int, advance: Callable[[int], None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min-K%, Min-K%++ and zlib ratio of each text."""
    from metabench.analysis.contamination import min_k_plus_plus, min_k_prob, zlib_ratio

    n = len(texts)
    mk, mkpp, mean = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    stats = bool(getattr(backend, "full_vocab_logprobs", True))  # a vllm engine without them: no Min-K%++
    for a in range(0, n, batch_size):
        chunk = list(texts[a : a + batch_size])
        res = backend.token_logprobs([_encode(backend, t) for t in chunk], stats=stats)
        for j, r in enumerate(res):
            lp = np.asarray(r.logprobs, dtype=float)
            if lp.size == 0:
                continue
            mk[a + j] = float(min_k_prob(lp, k))
            mean[a + j] = float(lp.mean())
            if r.mu is not None and r.sigma is not None:
                mkpp[a + j] = float(min_k_plus_plus(lp, r.mu, None, k, token_sd=r.sigma))
        advance(len(chunk))
    zl = np.asarray(zlib_ratio(list(texts), mean), dtype=float) if n else np.empty(0)
    return mk, mkpp, zl


def _shard_bounds(n: int, shards: int) -> np.ndarray:
    sizes = np.full(shards, n // shards)
    sizes[: n % shards] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def _longest_shard(lengths: np.ndarray, shards: int, sep_len: int) -> int:
    bounds = _shard_bounds(lengths.size, shards)
    sums = np.add.reduceat(lengths, bounds[:-1])
    return int((sums + sep_len * (np.diff(bounds) - 1)).max()) + 1


def _choose_shards(
    lengths: np.ndarray, sep_len: int, max_length: int, shards: int | None
) -> tuple[int | None, str | None]:
    """Number of shards (the requested one, or the default grown until a shard fits the context)."""
    n = lengths.size
    if shards is not None:
        if shards < 1:
            raise InputError(f"shards must be at least 1, got {shards}", fix="use e.g. --shards 10")
        if n < 2 * shards:
            raise InputError(
                f"{n} items cannot fill {shards} shards of at least 2 items",
                fix=f"use --shards {max(1, n // 2)} or fewer",
            )
        longest = _longest_shard(lengths, shards, sep_len)
        if longest > max_length:
            fit = next(
                (m for m in range(shards, n // 2 + 1) if _longest_shard(lengths, m, sep_len) <= max_length), None
            )
            fix = f"use --shards {fit} or more" if fit else "the items are too long to concatenate in this context"
            raise InputError(
                f"a shard of {longest} tokens does not fit the model's context of {max_length} tokens", fix=fix
            )
        return shards, None
    if n < 4:
        return None, f"{n} items: the sharded test needs at least 4 (2 shards of 2)"
    m = int(min(50, max(2, n // 5)))
    m = max(m, min(n // 2, math.ceil((int(lengths.sum()) + sep_len * n) / max_length)))
    while m <= n // 2 and _longest_shard(lengths, m, sep_len) > max_length:
        m += 1
    if m > n // 2:
        return None, f"two items concatenated do not fit the model's context of {max_length} tokens"
    return m, None


def _exchangeability(
    backend: Backend,
    texts: Sequence[str],
    *,
    shards: int,
    permutations: int,
    separator: str,
    seed: int,
    batch_tokens: int,
    advance: Callable[[int], None],
) -> Any:
    from metabench.analysis.contamination import exchangeability_test

    ids_of = {t: backend.encode(t, special=False) for t in texts}
    sep = backend.encode(separator, special=False) if separator else []
    prefix = backend.prefix_token
    head = [] if prefix is None else [prefix]

    def logprob(orders: list[list[str]]) -> list[float]:
        seqs = []
        for order in orders:
            ids = list(head)
            for j, t in enumerate(order):
                if j:
                    ids.extend(sep)
                ids.extend(ids_of[t])
            seqs.append(ids)
        per = max(1, batch_tokens // max(1, len(seqs[0])))
        out: list[float] = []
        for a in range(0, len(seqs), per):
            res = backend.token_logprobs(seqs[a : a + per], stats=False)
            out.extend(float(np.sum(r.logprobs)) for r in res)
        advance(1)
        return out

    return exchangeability_test(
        logprob, list(texts), n_shuffles=permutations, shard_count=shards, seed=seed, batched=True
    )


def _ts_guess(
    backend: Backend,
    items: Sequence[MultipleChoiceItem],
    *,
    seed: int,
    max_tokens: int,
    batch_size: int,
    advance: Callable[[int], None],
) -> tuple[pl.DataFrame, list[str]]:
    from metabench.analysis.contamination import ts_guessing_prompts

    prompts = ts_guessing_prompts(items, seed=seed)
    gens: list[str] = []
    texts = prompts["prompt"].to_list()
    for a in range(0, len(texts), batch_size):
        chunk = texts[a : a + batch_size]
        out = backend.generate([_encode(backend, p + _TS_ANSWER) for p in chunk], max_tokens=max_tokens)
        gens.extend(g.text for g in out)
        advance(len(chunk))
    return prompts, gens


def _membership_record(name: str, res: Any, k: float) -> dict[str, Any]:
    return {
        "test": name,
        "statistic": res.auc,
        "p_value": res.p_value,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "n": res.n_members,
        "detail": {
            "n_reference": res.n_reference,
            "u_statistic": res.u_statistic,
            "p_value_asymptotic": res.p_value_asymptotic,
            "permutations": res.n_permutations,
            "level": res.level,
            **({"k": k} if name != "zlib" else {}),
        },
    }


def _exchangeability_record(res: Any, n: int, permutations: int, separator: str) -> dict[str, Any]:
    diffs = res.differences
    two = res.n_shards >= 2
    return {
        "test": "exchangeability",
        "statistic": res.t_statistic if two else float(diffs.mean()),
        "p_value": res.p_value,
        "n": n,
        "detail": {
            "shards": res.n_shards,
            "permutations": permutations,
            "p_value_t": res.p_value if two else None,
            "p_value_permutation": res.p_value_permutation,
            "statistic_kind": "t" if two else "difference",
            "mean_difference": float(diffs.mean()),
            "shards_canonical_higher": int(np.sum(diffs > 0)),
            "separator": separator,
        },
    }


def _ts_record(res: Any, ref: Any | None, max_tokens: int) -> dict[str, Any]:
    from scipy import stats

    p = None
    detail: dict[str, Any] = {"matches": res.n_matches}
    if ref is not None:
        table = [[res.n_matches, res.n - res.n_matches], [ref.n_matches, ref.n - ref.n_matches]]
        p = float(stats.fisher_exact(table, alternative="greater").pvalue)
        detail.update(
            {
                "reference_rate": ref.rate,
                "reference_matches": ref.n_matches,
                "n_reference": ref.n,
                "p_value_method": "one-sided Fisher exact test against the reference items' rate",
            }
        )
    detail["max_tokens"] = max_tokens
    return {
        "test": "ts_guessing",
        "statistic": res.rate,
        "p_value": p,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "n": res.n,
        "detail": detail,
    }


# ---------------------------------------------------------------------------
# the probe


def probe(
    task: str | Path,
    model: str | Path,
    out: str | Path | None,
    *,
    backend: str | Backend = "transformers",
    reference: str | Path | None = None,
    k: float = 0.2,
    shards: int | None = None,
    permutations: int = 50,
    exchangeability: bool = True,
    ts_guessing: bool = True,
    limit: int | None = None,
    seed: int = 0,
    model_name: str | None = None,
    benchmark: str | None = None,
    task_format: str = "auto",
    render: Literal["item", "prompt"] = "item",
    separator: str = "\n\n",
    membership_permutations: int = 10_000,
    max_tokens: int = 32,
    batch_size: int = 16,
    batch_tokens: int = 16_384,
    device: str = "auto",
    dtype: str = "auto",
    backend_options: dict[str, Any] | None = None,
    progress: bool = False,
) -> ProbeResult:
    """Run the model-access contamination tests of one benchmark and write ``probe.json`` and ``probe_items.parquet``.

    Parameters
    ----------
    task : str or Path
        Task file, as for ``metabench run`` (:func:`metabench.run.load_task`).
    model : str or Path
        Local model folder (its name, by the rule of ``metabench run``, is the
        ``model`` field unless ``model_name`` is given).
    out : str or Path or None
        Output folder (created; earlier probe files there are replaced). None
        writes nothing.
    backend : {"transformers", "vllm"} or Backend
        Engine name, or a backend already loaded (reused, not closed).
    reference : str or Path, optional
        Text the model cannot have seen: a task file (its items rendered like
        the benchmark's; multiple-choice items also give TS-Guessing a null
        rate), JSON lines with a ``text`` field, or a plain text file with one
        text per line. Without it the membership tests do not run.
    k : float
        Fraction of lowest tokens for Min-K% and Min-K%++, in (0, 1].
    shards : int, optional
        Shards of the exchangeability test (default: one per 5 items, 2 to
        50, more when a shard would not fit the model's context).
    permutations : int
        Shuffled orders per shard.
    exchangeability, ts_guessing : bool
        Run these tests (TS-Guessing only for multiple-choice tasks).
    limit : int, optional
        Only the first ``limit`` items of the task.
    seed : int
        Randomness of the shuffles, the membership permutations and the masked options.
    model_name, benchmark : str, optional
        Names written to the outputs.
    task_format : str
        ``auto``, ``metabench``, ``medagentsbench`` or ``mmlu_pro``.
    render : {"item", "prompt"}
        Score the item's text as published (question and lettered options) or
        the zero-shot prompt of ``metabench run``.
    separator : str
        Between items concatenated for the exchangeability test.
    membership_permutations : int
        Permutations of each membership test.
    max_tokens : int
        Tokens generated per TS-Guessing answer.
    batch_size : int
        Texts per forward pass (and per generation batch).
    batch_tokens : int
        Tokens per forward pass of the exchangeability test (caps the number of orders per pass).
    device, dtype : str
        transformers: device and weight type; vllm: ``dtype``.
    backend_options : dict, optional
        Further options of :func:`metabench.run.load_backend` (e.g.
        ``tensor_parallel_size`` for vllm).
    progress : bool
        Show progress bars on standard error.

    Returns
    -------
    ProbeResult

    Raises
    ------
    InputError
        A missing task, model or reference file (named, with the fix), a task
        that does not parse, settings out of range.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.jsonl").write_text('{"question": "q", "choices": ["a", "b"], "answer": 0}\\n')
    >>> probe(d / "t.jsonl", d / "no-model", d / "out")
    Traceback (most recent call last):
    ...
    metabench.errors.InputError: ...no-model: no model folder at ...
    """
    from metabench.analysis.contamination import membership_test, ts_guessing_score
    from metabench.run.backends import check_model_path, load_backend
    from metabench.run.runner import _model_label
    from metabench.run.tasks import load_task

    t_start = time.perf_counter()
    # -- settings and files, all checked before the model loads ---------------
    if render not in RENDERS:
        raise InputError(f"unknown render {render!r}", fix=f"use one of {', '.join(RENDERS)}")
    if not 0 < float(k) <= 1:
        raise InputError(f"k must be in (0, 1], got {k!r}", fix="give a fraction, e.g. --k 0.2")
    for name, value in (
        ("permutations", permutations),
        ("membership_permutations", membership_permutations),
        ("max_tokens", max_tokens),
        ("batch_size", batch_size),
        ("batch_tokens", batch_tokens),
    ):
        if int(value) < 1:
            raise InputError(f"{name} must be at least 1, got {value}", fix=f"give a positive {name}")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}", fix="leave --limit out to probe every item")
    task_path = _check_task_file(Path(task), "task file", "the TASK argument")
    task_obj = load_task(task_path, format=task_format, name=benchmark)
    items = list(task_obj.items if limit is None else task_obj.items[:limit])
    ref_task, ref_ids, ref_texts = (None, [], []) if reference is None else _read_reference(Path(reference), render)
    if isinstance(backend, Backend):
        engine, owned = backend, False
        model_path = Path(model)
        backend_name = backend.name
    else:
        model_path = check_model_path(model)
        engine, owned, backend_name = None, True, str(backend)
    name = model_name or _model_label(model_path)
    out_dir = None if out is None else Path(out)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} is a file", file=out_dir, fix="give a folder for the probe files")
    texts = [_render(task_obj, it, render) for it in items]
    mc_items = [it for it in items if isinstance(it, MultipleChoiceItem)]
    ref_mc = [it for it in ref_task.items if isinstance(it, MultipleChoiceItem)] if ref_task is not None else []
    skipped: list[dict[str, str]] = []
    if reference is None:
        skipped.append({"test": "membership", "reason": "no reference set given"})

    # -- the model ----------------------------------------------------------------
    if engine is None:
        opts: dict[str, Any] = {"dtype": dtype}
        if backend_name == "transformers":
            opts.update(device=device, max_batch_sequences=batch_size)
        elif backend_name == "vllm":
            opts.update(full_vocab_logprobs=True, seed=seed)
        opts.update(backend_options or {})
        engine = load_backend(backend_name, model_path, **opts)
    tests: list[dict[str, Any]] = []
    membership: dict[str, Any] = {}
    exch = None
    ts_res = None
    ts_frame = None
    shard_count: int | None = None
    try:
        with _Bar(progress) as bar:
            adv = bar.task(f"{name} · {task_obj.name} · token log-probs", len(texts) + len(ref_texts))
            mk, mkpp, zl = _token_scores(engine, texts, k, batch_size, adv)
            rmk, rmkpp, rzl = _token_scores(engine, ref_texts, k, batch_size, adv)
            if exchangeability:
                lengths = np.array([len(engine.encode(t, special=False)) for t in texts], dtype=np.int64)
                sep_len = len(engine.encode(separator, special=False)) if separator else 0
                shard_count, why = _choose_shards(lengths, sep_len, int(engine.max_length), shards)
                if shard_count is None:
                    skipped.append({"test": "exchangeability", "reason": str(why)})
                else:
                    exch = _exchangeability(
                        engine,
                        texts,
                        shards=shard_count,
                        permutations=int(permutations),
                        separator=separator,
                        seed=seed,
                        batch_tokens=int(batch_tokens),
                        advance=bar.task(f"exchangeability ({shard_count} shards)", shard_count),
                    )
                    tests.append(_exchangeability_record(exch, len(texts), int(permutations), separator))
            if ref_texts:
                for test, a, b in (("min_k", mk, rmk), ("min_k_plus_plus", mkpp, rmkpp), ("zlib", zl, rzl)):
                    if np.isnan(a).all() or np.isnan(b).all():
                        skipped.append({"test": test, "reason": "the backend gave no scores for it"})
                        continue
                    res = membership_test(a, b, n_permutations=int(membership_permutations), seed=seed)
                    membership[test] = res
                    tests.append(_membership_record(test, res, float(k)))
            if ts_guessing and not mc_items:
                skipped.append({"test": "ts_guessing", "reason": "the task has no multiple-choice items"})
            elif ts_guessing:
                adv_ts = bar.task("TS-Guessing", len(mc_items) + len(ref_mc))
                p_b, g_b = _ts_guess(
                    engine, mc_items, seed=seed, max_tokens=int(max_tokens), batch_size=batch_size, advance=adv_ts
                )
                ts_res = ts_guessing_score(g_b, p_b["masked_truth"].to_list()) if g_b else None
                ref_res = None
                frames = []
                if ts_res is not None:
                    frames.append(_ts_frame("benchmark", p_b, g_b, ts_res.matches))
                if ref_mc and ts_res is not None:
                    p_r, g_r = _ts_guess(
                        engine, ref_mc, seed=seed, max_tokens=int(max_tokens), batch_size=batch_size, advance=adv_ts
                    )
                    if g_r:
                        ref_res = ts_guessing_score(g_r, p_r["masked_truth"].to_list())
                        frames.append(_ts_frame("reference", p_r, g_r, ref_res.matches))
                if ts_res is None:
                    skipped.append({"test": "ts_guessing", "reason": "no item has a non-empty wrong option"})
                else:
                    tests.append(_ts_record(ts_res, ref_res, int(max_tokens)))
                    ts_frame = pl.concat(frames)
        described = engine.describe()
    finally:
        if owned:
            engine.close()

    order = {"exchangeability": 0, "min_k": 1, "min_k_plus_plus": 2, "zlib": 3, "ts_guessing": 4}
    tests.sort(key=lambda t: order[t["test"]])
    frame = pl.DataFrame(
        {
            "model": [name] * (len(texts) + len(ref_texts)),
            "benchmark": [task_obj.name] * (len(texts) + len(ref_texts)),
            "item": [it.id for it in items] + list(ref_ids),
            "set": ["benchmark"] * len(texts) + ["reference"] * len(ref_texts),
            "min_k": np.concatenate([mk, rmk]),
            "min_k_plus_plus": np.concatenate([mkpp, rmkpp]),
            "zlib_ratio": np.concatenate([zl, rzl]),
        },
        schema=_ITEM_SCHEMA,
    ).with_columns(pl.col("min_k", "min_k_plus_plus", "zlib_ratio").fill_null(float("nan")))
    settings = {
        "k": float(k),
        "shards": shard_count,
        "permutations": int(permutations),
        "membership_permutations": int(membership_permutations),
        "seed": int(seed),
        "backend": backend_name,
        "engine": described,
        "render": render,
        "separator": separator,
        "ts_guessing": bool(ts_guessing),
        "max_tokens": int(max_tokens),
        "limit": limit,
        "task": {"path": str(task_path.resolve()), "sha256": task_obj.sha256, "kind": task_obj.kind},
        "model_path": str(model_path.resolve()),
        "reference": None if reference is None else str(Path(reference).resolve()),
        "skipped": skipped,
    }
    result = ProbeResult(
        model=name,
        benchmark=task_obj.name,
        n_items=len(texts),
        n_reference=len(ref_texts),
        created=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        settings=settings,
        tests=tuple(tests),
        items=frame,
        membership=membership,
        exchangeability=exch,
        ts_guessing=ts_res,
        ts_guessing_items=ts_frame,
        out=out_dir,
        seconds=time.perf_counter() - t_start,
    )
    if out_dir is not None:
        _write(out_dir, result)
    return result


def _write(out_dir: Path, result: ProbeResult) -> None:
    """Both files, each written to a hidden temporary file and renamed (a reader never sees half a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{PROBE_ITEMS_NAME}.{os.getpid()}.tmp"
    result.items.write_parquet(tmp)
    os.replace(tmp, out_dir / PROBE_ITEMS_NAME)
    tmp = out_dir / f".{PROBE_NAME}.{os.getpid()}.tmp"
    tmp.write_bytes(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    os.replace(tmp, out_dir / PROBE_NAME)


def _ts_frame(which: str, prompts: pl.DataFrame, gens: Sequence[str], matches: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "set": [which] * len(gens),
            "item": prompts["item"],
            "masked_letter": prompts["masked_letter"],
            "masked_truth": prompts["masked_truth"],
            "generation": list(gens),
            "match": np.asarray(matches, dtype=bool),
        }
    )
