"""The ``metabench run`` and ``metabench probe`` commands (registered by :mod:`metabench.cli`).

Only typer and the standard library are imported here; the runner, the
probe, the backends and torch load when a command runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["parse_seeds", "parse_shard", "probe_command", "run_command"]


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from ``"0,1,2"`` or a range ``"0-4"``.

    Examples
    --------
    >>> parse_seeds("0,1,2"), parse_seeds("3-5"), parse_seeds("7")
    ((0, 1, 2), (3, 4, 5), (7,))
    """
    from metabench.errors import InputError

    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        try:
            out.extend(range(int(m.group(1)), int(m.group(2)) + 1) if m else [int(part)])
        except ValueError:
            raise InputError(f"cannot read seeds {text!r}", fix="write e.g. --seeds 0,1,2 or --seeds 0-4") from None
    return tuple(out)


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"K/N"`` to ``(K, N)``.

    Examples
    --------
    >>> parse_shard("1/4"), parse_shard(None)
    ((1, 4), (0, 1))
    """
    from metabench.errors import InputError

    if text is None:
        return (0, 1)
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise InputError(f"cannot read --shard {text!r}", fix="write --shard K/N, e.g. --shard 0/4") from None
    return (k, n)


def _fail(exc: BaseException) -> None:
    from rich.console import Console

    err = Console(stderr=True, soft_wrap=True)
    try:
        from metabench.cli import _STATE

        verbose = bool(_STATE.get("verbose"))
    except ImportError:  # pragma: no cover
        verbose = False
    if verbose:
        import traceback

        err.print(traceback.format_exc(), markup=False, highlight=False)
    msg = str(exc).splitlines()
    err.print(f"error: {msg[0] if msg else type(exc).__name__}", markup=False, highlight=False)
    for line in msg[1:]:
        err.print(line, markup=False, highlight=False)
    raise typer.Exit(2)


def run_command(
    task: Annotated[Path, typer.Argument(help="Task file: .jsonl / .yaml task, or a MedAgentsBench / MMLU-Pro file.")],
    model: Annotated[Path, typer.Option("--model", help="Local model folder (config.json, tokenizer, weights).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; an interrupted run there is resumed.")],
    backend: Annotated[str, typer.Option(help="transformers (CPU or one GPU) or vllm (GPUs).")] = "transformers",
    name: Annotated[str | None, typer.Option("--name", help="Model name in the runs (default: folder name).")] = None,
    benchmark: Annotated[str | None, typer.Option(help="Benchmark name in the runs (default: the task's).")] = None,
    method: Annotated[str | None, typer.Option(help="Method label in the runs (e.g. 5-shot).")] = None,
    task_format: Annotated[str, typer.Option(help="auto, metabench, medagentsbench or mmlu_pro.")] = "auto",
    seeds: Annotated[str, typer.Option(help="Run seeds, e.g. 0,1,2 or 0-4; each is a full pass.")] = "0",
    limit: Annotated[int | None, typer.Option(help="Only the first N items.")] = None,
    batch_size: Annotated[int, typer.Option(help="Items per batch and per write.")] = 16,
    num_fewshot: Annotated[int, typer.Option(help="Few-shot examples per prompt.")] = 0,
    mc_mode: Annotated[str, typer.Option(help="Multiple choice by loglik or by generate.")] = "loglik",
    mc_style: Annotated[str, typer.Option(help="loglik of option letters or of option texts (cloze).")] = "letters",
    mc_score: Annotated[str, typer.Option(help="raw or norm (per-token) log-likelihood picks the option.")] = "raw",
    match: Annotated[str, typer.Option(help="Open generation: normalized or exact match.")] = "normalized",
    max_tokens: Annotated[int, typer.Option(help="Tokens to generate at most.")] = 256,
    temperature: Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.")] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling.")] = 1.0,
    stop: Annotated[list[str] | None, typer.Option(help="Stop string (repeatable; default: the task's).")] = None,
    token_logprobs: Annotated[
        bool, typer.Option("--token-logprobs", help="Also write token log-probabilities of each item (Min-K%).")
    ] = False,
    device: Annotated[str, typer.Option(help="transformers: auto, cpu, cuda, cuda:1 ...")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto, float32, bfloat16, float16.")] = "auto",
    tensor_parallel_size: Annotated[int, typer.Option(help="vllm: GPUs per layer.")] = 1,
    pipeline_parallel_size: Annotated[int, typer.Option(help="vllm: pipeline stages (nodes with Ray).")] = 1,
    data_parallel_size: Annotated[
        int, typer.Option(help="Engines, one per process, each on a shard of the items.")
    ] = 1,
    distributed_executor_backend: Annotated[str | None, typer.Option(help="vllm: ray (multi-node) or mp.")] = None,
    gpu_memory_utilization: Annotated[float, typer.Option(help="vllm: fraction of GPU memory to use.")] = 0.9,
    max_model_len: Annotated[int | None, typer.Option(help="vllm: context length.")] = None,
    shard: Annotated[str | None, typer.Option(help="K/N: run the items whose index is K modulo N.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start again instead of resuming.")] = False,
    hash_weights: Annotated[
        bool, typer.Option("--hash-weights/--no-hash-weights", help="Hash the weight files for the manifest.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a benchmark on a model and write canonical runs (resumable), a manifest and optional token log-probs."""
    import shlex
    import sys

    from metabench.errors import MetabenchError

    try:
        from metabench.run.runner import RunConfig, run

        cfg = RunConfig(
            task=task,
            model=model,
            out=out,
            backend=backend,
            model_name=name,
            benchmark=benchmark,
            method=method,
            task_format=task_format,
            seeds=parse_seeds(seeds),
            limit=limit,
            batch_size=batch_size,
            num_fewshot=num_fewshot,
            mc_mode=mc_mode,
            mc_style=mc_style,
            mc_score=mc_score,
            match=match,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            stop=tuple(stop) if stop else None,
            token_logprobs=token_logprobs,
            device=device,
            dtype=dtype,
            tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size,
            data_parallel_size=data_parallel_size,
            distributed_executor_backend=distributed_executor_backend,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            shard=parse_shard(shard),
            overwrite=overwrite,
            hash_weights=hash_weights,
            command="metabench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None,
        )
        res = run(cfg, progress=not quiet)
    except MetabenchError as exc:
        _fail(exc)
        return
    typer.echo(
        f"{res.rows} rows in {res.out} ({res.written} written now, {res.resumed} from before; "
        f"{res.items_per_s:,.2f} items/s); manifest {res.manifest}"
    )


def probe_command(
    task: Annotated[Path, typer.Argument(help="Task file, as for metabench run (.jsonl, .yaml, .json, .parquet).")],
    model: Annotated[Path, typer.Option("--model", help="Local model folder (config.json, tokenizer, weights).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for probe.json and probe_items.parquet.")],
    reference: Annotated[
        Path | None,
        typer.Option(help="Unseen texts: a task file, or a text file with one text per line (membership tests)."),
    ] = None,
    backend: Annotated[str, typer.Option(help="transformers (CPU or one GPU) or vllm (GPUs).")] = "transformers",
    name: Annotated[str | None, typer.Option("--name", help="Model name (default: folder name, as in runs).")] = None,
    benchmark: Annotated[str | None, typer.Option(help="Benchmark name (default: the task's).")] = None,
    task_format: Annotated[str, typer.Option(help="auto, metabench, medagentsbench or mmlu_pro.")] = "auto",
    k: Annotated[float, typer.Option("--k", help="Fraction of lowest tokens for Min-K% and Min-K%++.")] = 0.2,
    shards: Annotated[
        int | None,
        typer.Option(help="Exchangeability shards (default: one per 5 items, 2 to 50, fitted to the context)."),
    ] = None,
    permutations: Annotated[int, typer.Option(help="Shuffled orders per shard (cost: 1 + this passes).")] = 50,
    exchangeability: Annotated[
        bool, typer.Option("--exchangeability/--no-exchangeability", help="Run the sharded order test.")
    ] = True,
    ts_guessing: Annotated[
        bool, typer.Option("--ts-guessing/--no-ts-guessing", help="Run TS-Guessing (multiple choice).")
    ] = True,
    render: Annotated[
        str, typer.Option(help="item (question and options as published) or prompt (run's prompt).")
    ] = "item",
    limit: Annotated[int | None, typer.Option(help="Only the first N items.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the shuffles, permutations and masked options.")] = 0,
    max_tokens: Annotated[int, typer.Option(help="Tokens generated per TS-Guessing answer.")] = 32,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 16,
    device: Annotated[str, typer.Option(help="transformers: auto, cpu, cuda, cuda:1 ...")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto, float32, bfloat16, float16.")] = "auto",
    tensor_parallel_size: Annotated[int, typer.Option(help="vllm: GPUs per layer.")] = 1,
    gpu_memory_utilization: Annotated[float, typer.Option(help="vllm: fraction of GPU memory to use.")] = 0.9,
    max_model_len: Annotated[int | None, typer.Option(help="vllm: context length.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Contamination probe: Min-K%, Min-K%++, zlib, exchangeability and TS-Guessing on one benchmark."""
    from metabench.errors import MetabenchError

    try:
        from metabench.run.probe import probe

        opts = None
        if backend == "vllm":
            opts = {
                "tensor_parallel_size": tensor_parallel_size,
                "gpu_memory_utilization": gpu_memory_utilization,
                "max_model_len": max_model_len,
            }
        res = probe(
            task,
            model,
            out,
            backend=backend,
            reference=reference,
            k=k,
            shards=shards,
            permutations=permutations,
            exchangeability=exchangeability,
            ts_guessing=ts_guessing,
            limit=limit,
            seed=seed,
            model_name=name,
            benchmark=benchmark,
            task_format=task_format,
            render=render,  # type: ignore[arg-type]
            max_tokens=max_tokens,
            batch_size=batch_size,
            device=device,
            dtype=dtype,
            backend_options=opts,
            progress=not quiet,
        )
    except MetabenchError as exc:
        _fail(exc)
        return
    for t in res.tests:
        p = t.get("p_value")
        p_text = "n/a" if p is None else f"{p:.3g}"
        typer.echo(f"{t['test']:<16} statistic {t['statistic']:.4g}  p {p_text}  n {t['n']}")
    typer.echo(f"{res.n_items} items, {res.n_reference} reference texts in {res.seconds:.1f} s; wrote {res.out}")
