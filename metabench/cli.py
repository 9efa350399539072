"""Command-line interface: ``metabench validate | info | analyze | methods``.

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

PathsArg = Annotated[list[Path], typer.Argument(help="Files or directories of runs (searched recursively).", show_default=False)]
FormatOpt = Annotated[
    str | None,
    typer.Option("--input-format", help="Force a reader: canonical, lm_eval, helm, inspect_ai, lighteval, leaderboard."),
]
MetricOpt = Annotated[str | None, typer.Option("--metric", help="Per-item metric where a harness records several (e.g. acc, acc_norm).")]


def _fail(exc: BaseException) -> None:
    if _STATE["verbose"]:
        err.print(traceback.format_exc(), markup=False, highlight=False)
    msg = str(exc).splitlines()
    err.print(f"error: {msg[0] if msg else type(exc).__name__}", markup=False, highlight=False)
    for line in msg[1:]:
        err.print(line, markup=False, highlight=False)
    raise typer.Exit(2)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and details.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True)] = False,
) -> None:
    if version:
        out.print(f"metabench {__version__}")
        raise typer.Exit(0)
    _STATE["verbose"] = verbose


@app.command()
def validate(
    paths: PathsArg,
    input_format: FormatOpt = None,
    metric: MetricOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check inputs: exit 0 when valid, 2 when not, listing each problem with its file, line and fix."""
    from metabench.io.detect import validate as run_validate

    try:
        report = run_validate(paths, format=input_format, metric=metric)
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


def _load(paths: list[Path], input_format: str | None, metric: str | None) -> list[Any]:
    """Load paths; runs and leaderboard tables are kept apart."""
    from metabench.io.detect import load

    items: list[Any] = []
    runs_paths, table_data = [], []
    from metabench.runs import ScoreTable

    for p in paths:
        got = load(p, format=input_format, metric=metric)
        (table_data if isinstance(got, ScoreTable) else runs_paths).append(got)
    if runs_paths:
        from metabench.runs import Runs

        items.append(Runs.concat(runs_paths))
    if table_data:
        from metabench.io.leaderboard import merge_tables

        items.append(merge_tables(table_data))
    return items


@app.command()
def info(paths: PathsArg, input_format: FormatOpt = None, metric: MetricOpt = None) -> None:
    """Summarise inputs: models, benchmarks, items, coverage, seeds."""
    from metabench.runs import Runs

    try:
        data = _load(paths, input_format, metric)
    except MetabenchError as exc:
        _fail(exc)
        return
    for d in data:
        out.print(repr(d), style="bold")
        if isinstance(d, Runs):
            t = RichTable("benchmark", "systems", "items", "rows", "seeds", "coverage", "mean score")
            for row in d.summary().iter_rows(named=True):
                t.add_row(
                    row["benchmark"], str(row["systems"]), f"{row['items']:,}", f"{row['rows']:,}", str(row["seeds"]),
                    f"{row['coverage']:.1%}", f"{row['mean_score']:.3f}",
                )
            out.print(t)
            out.print(f"systems: {', '.join(d.systems)}", highlight=False)
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
        typer.Option("--method", "-m", help="Analysis to run (repeatable or comma-separated); 'all' runs every one that applies. See `metabench methods`."),
    ] = ["all"],  # noqa: B006 - typer needs a literal default
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report files.")] = Path("reports"),
    formats: Annotated[str, typer.Option("--format", "-f", help="Comma-separated: html, md, tex, json.")] = "html,md,tex,json",
    seed: Annotated[int, typer.Option(help="Seed for every random step (bootstrap, splits).")] = 0,
    title: Annotated[str, typer.Option(help="Report title.")] = "metabench report",
    option: Annotated[list[str], typer.Option("--option", help="Method option key=value (repeatable), e.g. level=0.9.")] = [],  # noqa: B006
    input_format: FormatOpt = None,
    metric: MetricOpt = None,
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
        data = _load(paths, input_format, metric)
        command = "metabench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
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
