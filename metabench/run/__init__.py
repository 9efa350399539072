"""Producing runs: put a benchmark to a model and write canonical runs (``metabench run``).

The first stage of the pipeline: a task file (:mod:`metabench.run.tasks`) and a
local model go in; per-item runs in the canonical schema come out, written
incrementally to a folder that :func:`metabench.load` reads, with a manifest of
what produced them (:mod:`metabench.run.runner`, :mod:`metabench.run.manifest`).

Two backends share one interface (:mod:`metabench.run.backends`): ``vllm`` on
GPUs (the ``[gpu]`` extra; tensor, pipeline and data parallelism, multi-node
through Ray) and ``transformers`` on CPU or one GPU (the ``[hf]`` extra).
Multiple choice is scored by the log-likelihood of each option, raw and
length-normalised, or by generation with answer extraction; open generation by
exact and normalised match (:mod:`metabench.run.scoring`). Token
log-probabilities of the benchmark text, the inputs of Min-K%, Min-K%++ and
the zlib ratio, are written on request (:mod:`metabench.run.tokenlogprobs`);
:func:`probe` runs the model-access contamination tests on a benchmark
(:mod:`metabench.run.probe`, ``metabench probe``).

Nothing heavy is imported here: torch, transformers and vllm load when a
backend is created.

Examples
--------
>>> from metabench.run import RunConfig, load_task
>>> RunConfig(task="mmlu_pro.jsonl", model="models/llama", out="runs/llama").seeds
(0,)

From the command line::

    metabench run tasks/medqa.jsonl --model models/llama-3-8b --out runs/llama-3-8b --seeds 0,1,2
    metabench run mmlu_pro_test.parquet --model models/qwen --out runs/qwen --backend vllm \\
        --tensor-parallel-size 2 --data-parallel-size 4 --num-fewshot 5 --mc-mode generate
"""

from __future__ import annotations

from metabench.run.backends import BACKENDS, Backend, Generation, LoglikResult, load_backend
from metabench.run.manifest import hash_model, read_manifest
from metabench.run.probe import ProbeResult, probe
from metabench.run.runner import RunConfig, RunResult, run
from metabench.run.scoring import (
    choose,
    exact_match,
    extract_answer,
    extract_choice,
    normalize_answer,
    normalized_match,
)
from metabench.run.tasks import (
    GenerationItem,
    MultipleChoiceItem,
    Task,
    convert_task,
    from_medagentsbench,
    from_mmlu_pro,
    load_task,
    write_task,
)
from metabench.run.tokenlogprobs import TokenLogprobs, min_k_percent, min_k_plus_plus, zlib_length, zlib_ratio

__all__ = [
    "BACKENDS",
    "Backend",
    "Generation",
    "GenerationItem",
    "LoglikResult",
    "MultipleChoiceItem",
    "ProbeResult",
    "RunConfig",
    "RunResult",
    "Task",
    "TokenLogprobs",
    "choose",
    "convert_task",
    "exact_match",
    "extract_answer",
    "extract_choice",
    "from_medagentsbench",
    "from_mmlu_pro",
    "hash_model",
    "load_backend",
    "load_task",
    "min_k_percent",
    "min_k_plus_plus",
    "normalize_answer",
    "normalized_match",
    "probe",
    "read_manifest",
    "run",
    "token_logprobs",
    "write_task",
    "zlib_length",
    "zlib_ratio",
]


def token_logprobs(backend: Backend, texts: list[str], *, stats: bool = True) -> list[TokenLogprobs]:
    """Token log-probabilities of texts under a loaded backend (BOS added where the tokenizer has one).

    Parameters
    ----------
    backend : Backend
        From :func:`load_backend`.
    texts : list of str
        The texts.
    stats : bool
        Also the mean and standard deviation of the next-token log-probability (Min-K%++).

    Returns
    -------
    list of TokenLogprobs
        With ``text`` set, so that ``zlib_ratio()`` works.
    """
    from dataclasses import replace

    res = backend.token_logprobs([backend.encode(t) for t in texts], stats=stats)
    return [replace(r, text=t) for r, t in zip(res, texts)]
