"""Command-line interface: ``metabench validate | info | analyze | compare | methods``.

Every command is a thin layer over the Python API. User errors exit with code 2
and a one-line message; ``--verbose`` shows the traceback.
"""

from __future__ import annotations

import json
import shlex
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from metabench._version import __version__
from metabench.errors import MetabenchError

__all__ = ["app", "main"]

HELP = """metabench: statistics for language-model evaluations.

Typical use:

  metabench validate runs/                      check inputs, list every problem

  metabench info runs/                          models, benchmarks, items, coverage

  metabench analyze runs/ --method all --out reports/

  metabench compare runs/ --models A B          paired comparison of two systems

  metabench run task.jsonl --model PATH --out runs/   produce runs (transformers / vllm)

  metabench subset runs/ --benchmark B --size 100 --out subset/   compact subset with a validated error

  metabench probe task.jsonl --model PATH --out probe/   contamination tests with model access

Inputs may be canonical runs (CSV, Parquet, JSONL with model, benchmark, item,
score), lm-evaluation-harness --log_samples output, HELM run folders, inspect-ai
logs, lighteval details, or leaderboard tables; a directory is searched
recursively and the format of each file is detected.
"""

app = typer.Typer(
    name="metabench",
    help=HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
_STATE: dict[str, bool] = {"verbose": False}

PathsArg = Annotated[
    list[Path], typer.Argument(help="Files or directories of runs (searched recursively).", show_default=False)
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format", help="Force a reader: canonical, lm_eval, helm, inspect_ai, lighteval, leaderboard."
    ),
]
MetricOpt = Annotated[
    str | None, typer.Option("--metric", help="Per-item metric where a harness records several (e.g. acc, acc_norm).")
]
RerunsOpt = Annotated[
    str,
    typer.Option(
        "--reruns",
        help="Exact re-runs of one configuration in a harness folder: 'latest' uses the latest complete run "
        "(the others are listed), 'seeds' keeps them all as seeds.",
    ),
]


def _fail(exc: BaseException) -> None:
    if _STATE["verbose"]:
        err.print(traceback.format_exc(), markup=False, highlight=False)
    msg = str(exc).splitlines()
    err.print(f"error: {msg[0] if msg else type(exc).__name__}", markup=False, highlight=False)
    for line in msg[1:]:
        err.print(line, markup=False, highlight=False)
    raise typer.Exit(2)


@app.callback(invoke_without_command=True)
def _main(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and details.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit; with --verbose, the environment too.")
    ] = False,
) -> None:
    if version:
        typer.echo(f"metabench {__version__}")
        if verbose:
            from metabench._environment import describe, environment

            for label, text in describe(environment()):
                typer.echo(f"{label}: {text}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        ctx.fail("Missing command.")
    _STATE["verbose"] = verbose


@app.command()
def validate(
    paths: PathsArg,
    input_format: FormatOpt = None,
    metric: MetricOpt = None,
    reruns: RerunsOpt = "latest",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check inputs: exit 0 when valid, 2 when not, listing each problem with its file, line and fix."""
    from metabench.io.detect import validate as run_validate

    try:
        report = run_validate(paths, format=input_format, metric=metric, reruns=_reruns(reruns))
    except MetabenchError as exc:
        _fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for f, fmt, n in report.files:
            out.print(f"[green]ok[/green] {f} ({fmt}, {n:,} rows)", highlight=False)
        for w in report.warnings:
            out.print(f"[yellow]warning[/yellow] {w}", highlight=False)
        for p in report.problems:
            err.print(f"problem: {p}", markup=False, highlight=False)
        if report.ok:
            out.print("valid", style="bold green")
        else:
            err.print(f"{len(report.problems)} problem(s) found", markup=False)
    raise typer.Exit(0 if report.ok else 2)


def _reruns(value: str) -> Any:
    from metabench.errors import InputError

    if value not in ("latest", "seeds"):
        raise InputError(f"unknown --reruns {value!r}", fix="use --reruns latest or --reruns seeds")
    return value


_TABLES_NOT_MERGED = "leaderboard table(s) not merged"


def _load(paths: list[Path], input_format: str | None, metric: str | None, reruns: str = "latest") -> list[Any]:
    """Load all paths together (runs of one harness folder given file by file are one set of runs);
    per-item runs and leaderboard tables are kept apart."""
    from dataclasses import replace

    from metabench.io.detect import load
    from metabench.runs import Runs

    got = load(paths, format=input_format, metric=metric, reruns=_reruns(reruns))
    if not isinstance(got, Runs):
        return [got]
    if not any(e.reason.startswith(_TABLES_NOT_MERGED) for e in got.exclusions):
        return [got]
    tables = load(paths, format=input_format, kind="scores")
    excl = tuple(e for e in got.exclusions if not e.reason.startswith(_TABLES_NOT_MERGED))
    runs = Runs(got.frame, sources=got.sources, exclusions=excl, item_keys=got.item_keys, notes=got.notes, _checked=True)
    # the tables keep their own exclusions; what the runs already list (unrecognised files) is not said twice
    return [runs, replace(tables, exclusions=tuple(e for e in tables.exclusions if e not in got.exclusions))]


@app.command()
def info(
    paths: PathsArg, input_format: FormatOpt = None, metric: MetricOpt = None, reruns: RerunsOpt = "latest"
) -> None:
    """Summarise inputs: models, benchmarks, items, coverage, seeds."""
    from metabench.runs import Runs

    try:
        data = _load(paths, input_format, metric, reruns)
    except MetabenchError as exc:
        _fail(exc)
        return
    for d in data:
        out.print(repr(d), style="bold")
        if isinstance(d, Runs):
            t = RichTable("benchmark", "systems", "items", "rows", "seeds", "coverage", "mean score")
            for row in d.summary().iter_rows(named=True):
                t.add_row(
                    row["benchmark"],
                    str(row["systems"]),
                    f"{row['items']:,}",
                    f"{row['rows']:,}",
                    str(row["seeds"]),
                    f"{row['coverage']:.1%}",
                    f"{row['mean_score']:.3f}",
                )
            out.print(t)
            out.print(f"systems: {', '.join(d.systems)}", highlight=False)
            if d.describe_sources():
                out.print(d.describe_sources(), highlight=False)
            if d.has_steps:
                out.print(f"steps: {d.frame.get_column('step').n_unique()}")
        else:
            t = RichTable("benchmark", "models", "scale", "lower is better")
            obs = d.observed.sum(axis=0)
            for j, b in enumerate(d.benchmarks[:50]):
                t.add_row(b, str(int(obs[j])), d.scales[b], "yes" if b in d.lower_is_better else "")
            out.print(t)
            if len(d.benchmarks) > 50:
                out.print(f"... and {len(d.benchmarks) - 50} more columns")
        for e in d.exclusions:
            out.print(f"[yellow]note[/yellow] {e}", highlight=False)
        for n in getattr(d, "notes", ()):
            out.print(f"[yellow]note[/yellow] {n}", highlight=False)


@app.command()
def methods() -> None:
    """List the analyses that --method accepts."""
    from metabench.analysis.registry import available

    t = RichTable("method", "input", "what it does")
    for m in available():
        t.add_row(m.name, " / ".join(sorted(m.accepts)), m.description)
    out.print(t)


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    from metabench.errors import InputError

    opts: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"option {pair!r} is not key=value", fix="write e.g. --option level=0.9")
        k, v = pair.split("=", 1)
        try:
            opts[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            opts[k.strip()] = v
    return opts


@app.command()
def analyze(
    paths: PathsArg,
    method: Annotated[
        list[str],
        typer.Option(
            "--method",
            "-m",
            help="Analysis to run (repeatable or comma-separated); 'all' runs every one that applies. See `metabench methods`.",
        ),
    ] = ["all"],  # noqa: B006 - typer needs a literal default
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report files.")] = Path("reports"),
    formats: Annotated[
        str, typer.Option("--format", "-f", help="Comma-separated: html, md, tex, json.")
    ] = "html,md,tex,json",
    seed: Annotated[int, typer.Option(help="Seed for every random step (bootstrap, splits).")] = 0,
    title: Annotated[str, typer.Option(help="Report title.")] = "metabench report",
    option: Annotated[
        list[str], typer.Option("--option", help="Method option key=value (repeatable), e.g. level=0.9.")
    ] = [],  # noqa: B006
    input_format: FormatOpt = None,
    metric: MetricOpt = None,
    reruns: RerunsOpt = "latest",
) -> None:
    """Run analyses and write a report (index.html, report.md, report.tex, report.json)."""
    from metabench.errors import InputError
    from metabench.pipeline import analyze as run_analyze

    try:
        fmts = [f.strip().lower() for f in formats.split(",") if f.strip()]
        bad = [f for f in fmts if f not in ("html", "md", "tex", "json")]
        if bad or not fmts:
            raise InputError(f"unknown report format(s) {', '.join(bad) or '(none)'}", fix="use html, md, tex, json")
        opts = _parse_options(option)
        # where analyses look for companion files (contamination probes under a runs folder)
        opts.setdefault("input_paths", [str(p) for p in paths])
        data = _load(paths, input_format, metric, reruns)
        command = "metabench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as progress:
            from metabench.analysis.registry import resolve

            total = sum(len(resolve(method, d)) for d in data)
            task = progress.add_task("analysing", total=total)

            def step(m: Any) -> None:
                progress.update(task, description=f"running {m.name}")
                progress.advance(task)

            report = run_analyze(data, method, seed=seed, options=opts, title=title, command=command, on_method=step)
        written = report.save(out_dir, formats=tuple(fmts))
    except MetabenchError as exc:
        _fail(exc)
        return
    for p in written.values():
        out.print(f"wrote {p}", highlight=False)


def _print_comparison(res: dict[str, Any], indent: str = "") -> None:
    bench = res.get("benchmark") or "all shared benchmarks (pooled)"
    lo, hi = res["ci"]
    out.print(
        f"{indent}{res['model_a']} vs {res['model_b']} on {bench}: difference {res['difference']:+.4f} "
        f"({res['level']:.0%} CI {lo:+.4f} to {hi:+.4f}), {res['n_items']} items",
        highlight=False,
    )
    out.print(
        f"{indent}  scores {res['mean_a']:.4f} vs {res['mean_b']:.4f}; se {res['se']:.4f}"
        + (f", clustered se {res['se_clustered']:.4f} ({res['n_clusters']} clusters)" if res.get("n_clusters") else ""),
        highlight=False,
    )
    t = RichTable("test", "p-value", box=None, padding=(0, 1))
    for name, p in res["tests"].items():
        t.add_row(f"{indent}  {name}", "—" if p is None else f"{p:.3g}")
    out.print(t)
    eff = ", ".join(f"{k} {v:.3g}" for k, v in res.get("effect_sizes", {}).items() if v is not None)
    if eff:
        out.print(f"{indent}  effect sizes: {eff}", highlight=False)
    pw = res.get("power", {})
    if "mde" in pw:
        need = pw.get("items_needed")
        out.print(
            f"{indent}  minimum detectable effect {pw['mde']:.4f} (power {pw['power']:.0%}, alpha {pw['alpha']:.2g})"
            + (f"; items needed for the observed difference: {need:,}" if need else ""),
            highlight=False,
        )
    aso = res.get("almost_stochastic_order")
    if aso:
        out.print(f"{indent}  almost stochastic order over seeds: eps_min {aso['eps_min']:.3f}", highlight=False)


@app.command()
def compare(
    paths: PathsArg,
    models: Annotated[tuple[str, str] | None, typer.Option("--models", help="The two systems: --models A B.")] = None,
    benchmark: Annotated[str | None, typer.Option("--benchmark", "-b", help="Compare on one benchmark only.")] = None,
    output: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    level: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    resamples: Annotated[int, typer.Option(help="Bootstrap and permutation resamples.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed for the bootstrap and permutation tests.")] = 0,
    input_format: FormatOpt = None,
    metric: MetricOpt = None,
    reruns: RerunsOpt = "latest",
) -> None:
    """Paired comparison of two systems: difference, intervals, tests, effect sizes, power."""
    from metabench.analysis.compare import compare_systems
    from metabench.errors import InputError
    from metabench.report._format import dumps
    from metabench.runs import Runs

    try:
        names = list(models) if models else []
        if len(names) != 2:
            raise InputError("compare needs two systems", fix="write --models A B")
        if output not in ("text", "json"):
            raise InputError(f"unknown --format {output!r}", fix="use text or json")
        data = [d for d in _load(paths, input_format, metric, reruns) if isinstance(d, Runs)]
        if not data:
            raise InputError("compare needs per-item runs, not leaderboard tables", fix="give runs files")
        res = compare_systems(
            data[0], names[0], names[1], benchmark=benchmark, level=level, n_resamples=resamples, seed=seed
        )
    except MetabenchError as exc:
        _fail(exc)
        return
    if output == "json":
        out.print(dumps(res, indent=True), markup=False, highlight=False, soft_wrap=True)
        return
    _print_comparison(res)
    for sub in res.get("benchmarks", {}).values():
        _print_comparison(sub, indent="  ")


@app.command(context_settings={"allow_interspersed_args": True})
def subset(
    args: Annotated[
        list[str], typer.Argument(help="PATH... of runs to choose from; or: score DIR RUNS...", show_default=False)
    ],
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", "-b", help="Benchmark to cut (needed when the runs hold several).")
    ] = None,
    size: Annotated[int, typer.Option(help="Items in the subset.")] = 100,
    target_error: Annotated[
        float | None,
        typer.Option(
            "--target-error",
            help="Instead of --size: the smallest validated size whose held-out error (upper 95% bound of the MAE) is at most this, e.g. 0.02.",
        ),
    ] = None,
    selection: Annotated[
        str, typer.Option(help="random, stratified, irt_info, anchor_correctness, anchor_irt.")
    ] = "anchor_irt",
    estimator: Annotated[
        str, typer.Option(help="mean, weighted_mean, irt, pirt, gpirt, ability_regression.")
    ] = "gpirt",
    folds: Annotated[int, typer.Option(help="Folds over models for the held-out validation (0: no validation).")] = 5,
    lm_eval_task: Annotated[
        str | None,
        typer.Option(
            "--lm-eval-task",
            help="Also write an lm-evaluation-harness task that runs only the subset, including this base task (name or YAML path).",
        ),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for the subset (fit), or CSV file for the scores (score)."),
    ] = None,
    task_positions: Annotated[
        bool, typer.Option(help="score: item ids are doc_id-s of the generated lm-eval subset task.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the selection and the folds.")] = 0,
    input_format: FormatOpt = None,
    metric: MetricOpt = None,
    reruns: RerunsOpt = "latest",
) -> None:
    """Choose a compact subset of a benchmark with a validated error, or score new models from it.

    metabench subset runs/ --benchmark mmlu_pro --size 100 --out subset/

    metabench subset runs/ --benchmark mmlu_pro --target-error 0.02 --out subset/

    metabench subset score subset/ new_runs/ --out scores.csv
    """
    from metabench.analysis.subsets import SubsetModel, smallest_size, validate_subset
    from metabench.errors import InputError
    from metabench.runs import Runs

    try:
        if args and args[0] == "score":
            if len(args) < 3 or out_path is None:
                raise InputError(
                    "subset score needs DIR RUNS... and --out FILE.csv",
                    fix="write: metabench subset score subset/ new_runs/ --out scores.csv",
                )
            model = SubsetModel.load(args[1])
            data = [d for d in _load([Path(a) for a in args[2:]], input_format, metric, reruns) if isinstance(d, Runs)]
            if not data:
                raise InputError("no per-item runs to score", fix="give the new models' runs on the subset items")
            scores = model.score(data[0], benchmark=benchmark, task_positions=task_positions)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            scores.write_csv(out_path)
            out.print(scores)
            out.print(f"wrote {out_path}", highlight=False)
            return
        if not args:
            raise InputError(
                "subset needs runs to choose from",
                fix="write: metabench subset runs/ --benchmark NAME --size 100 --out DIR",
            )
        if out_path is None:
            raise InputError("subset needs --out DIR", fix="add --out subset/")
        data = [d for d in _load([Path(a) for a in args], input_format, metric, reruns) if isinstance(d, Runs)]
        if not data:
            raise InputError("subset needs per-item runs, not leaderboard tables", fix="give runs files")
        runs = data[0]
        matrix = runs.matrix(benchmark)
        method = (selection, estimator)
        validation = None
        with err.status("validating subset sizes on held-out models…", spinner="dots"):
            if target_error is not None:
                found = smallest_size(matrix, target_error, methods=[method], folds=max(folds, 2), seed=seed)
                validation = found.validation
                if not found.met or found.size is None:
                    raise InputError(
                        f"no subset size tried meets a held-out error of {target_error:g} "
                        f"(best {found.criterion} {found.value:.4f})",
                        fix="raise --target-error, or use --size",
                    )
                size = found.size
            elif folds >= 2:
                validation = validate_subset(matrix, [size], [method, ("random", "mean")], folds=folds, seed=seed)
            model = SubsetModel.fit(
                matrix, size, selection=selection, estimator=estimator, seed=seed, validation=validation
            )
        where = model.save(out_path)
        if lm_eval_task:
            from metabench.analysis.subsets import write_lm_eval_task

            write_lm_eval_task(model.subset, lm_eval_task, where)
        out.print(
            f"subset of {model.subset.size} of {matrix.n_items} items ({selection} + {estimator}) written to {where}",
            highlight=False,
        )
        if validation is not None:
            import polars as pl

            rows = validation.summary.filter(pl.col("size") == model.subset.size)
            t = RichTable("selection", "estimator", "size", "held-out MAE", "RMSE", "Spearman", "coverage")
            for r in rows.iter_rows(named=True):
                t.add_row(
                    r["selection"],
                    r["estimator"],
                    str(r["size"]),
                    f"{r['mae']:.4f}",
                    f"{r['rmse']:.4f}",
                    f"{r['spearman']:.3f}",
                    f"{r['coverage']:.2f}",
                )
            out.print(t)
    except MetabenchError as exc:
        _fail(exc)


from metabench.run.command import probe_command, run_command  # light: typer and the standard library only

app.command("run")(run_command)
app.command("probe")(probe_command)


def main() -> None:
    """Entry point of the ``metabench`` command."""
    try:
        app()
    except MetabenchError as exc:  # pragma: no cover - commands catch their own
        try:
            _fail(exc)
        except typer.Exit as e:
            sys.exit(e.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
