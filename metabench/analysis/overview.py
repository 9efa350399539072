"""The data overview: what was loaded, how complete it is, and each model's score with its interval."""

from __future__ import annotations

import altair as alt
import numpy as np
import polars as pl

from metabench.analysis._charts import inline_data, section_slug
from metabench.analysis.registry import AnalysisContext, register
from metabench.analysis.variance import score_intervals
from metabench.report import Chart, Section, Table, Text
from metabench.runs import Runs, ScoreTable

__all__ = ["coverage_frame", "overview"]

MAX_HEATMAP_MODELS = 100
MAX_HEATMAP_BENCHMARKS = 40
MAX_CHART_ROWS = 5000  # data rows per chart: keeps the HTML light and the page quick


def coverage_frame(runs: Runs) -> pl.DataFrame:
    """Fraction of each benchmark's items that each system ran.

    Returns
    -------
    polars.DataFrame
        Columns ``system, benchmark, items_run, items, coverage`` for every
        (system, benchmark) pair, zero where a system did not run a benchmark.

    Examples
    --------
    >>> r = Runs({"model": ["a", "a", "b"], "benchmark": ["x"] * 3,
    ...           "item": ["1", "2", "1"], "score": [1.0, 0.0, 1.0]})
    >>> coverage_frame(r).select("system", "coverage").rows()
    [('a', 1.0), ('b', 0.5)]
    """
    df = runs.frame.with_columns(runs._system_expr().alias("system"))
    items = df.group_by("benchmark").agg(pl.col("item").n_unique().alias("items"))
    ran = df.group_by("system", "benchmark").agg(pl.col("item").n_unique().alias("items_run"))
    grid = (
        pl.DataFrame({"system": list(runs.systems)})
        .join(pl.DataFrame({"benchmark": list(runs.benchmarks)}), how="cross")
        .join(ran, on=["system", "benchmark"], how="left")
        .join(items, on="benchmark", how="left")
        .with_columns(pl.col("items_run").fill_null(0))
        .with_columns((pl.col("items_run") / pl.col("items")).alias("coverage"))
    )
    return grid.sort("benchmark", "system").select("system", "benchmark", "items_run", "items", "coverage")


def _top_systems(frame: pl.DataFrame, by: str, limit: int) -> tuple[pl.DataFrame, str]:
    """Keep the ``limit`` systems with the largest total ``by``; say so in a note when some are cut."""
    n = frame.get_column("system").n_unique()
    if n <= limit:
        return frame, ""
    top = frame.group_by("system").agg(pl.col(by).sum()).sort([by, "system"], descending=[True, False]).head(limit)
    kept = frame.filter(pl.col("system").is_in(top.get_column("system").implode()))
    return (
        kept,
        f" The {limit} systems with the largest total {by.replace('_', ' ')} are shown of {n}; the tables list all.",
    )


def _coverage_chart(cov: pl.DataFrame, row: str, col: str, title: str) -> alt.Chart:
    n_rows = cov.get_column(row).n_unique()
    n_cols = cov.get_column(col).n_unique()
    return (
        alt.Chart(inline_data(cov))
        .mark_rect()
        .encode(
            x=alt.X(f"{col}:N", title=col, axis=alt.Axis(labelAngle=-40, labelLimit=160)),
            y=alt.Y(f"{row}:N", title=row, axis=alt.Axis(labelLimit=220)),
            color=alt.Color("coverage:Q", scale=alt.Scale(domain=[0, 1], scheme="blues"), title="coverage"),
            tooltip=[f"{row}:N", f"{col}:N", alt.Tooltip("coverage:Q", format=".1%")]
            + ([alt.Tooltip("items_run:Q"), alt.Tooltip("items:Q")] if "items_run" in cov.columns else []),
        )
        .properties(title=title, width=max(160, 28 * n_cols), height=max(120, 14 * n_rows))
    )


def _interval_chart(scores: pl.DataFrame) -> alt.Chart:
    # data goes on the layer only: the facet then splits it, each panel drawing its own benchmark
    base = alt.Chart().encode(
        y=alt.Y("system:N", title=None, sort="-x", axis=alt.Axis(labelLimit=220)),
    )
    rules = base.mark_rule().encode(
        x=alt.X("ci_low:Q", title="mean score (95% CI)", scale=alt.Scale(domain=[0, 1])), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=40).encode(
        x="mean:Q",
        tooltip=[
            "system:N",
            "benchmark:N",
            alt.Tooltip("mean:Q", format=".3f"),
            alt.Tooltip("ci_low:Q", format=".3f"),
            alt.Tooltip("ci_high:Q", format=".3f"),
            "n_items:Q",
            "interval:N",
        ],
    )
    n_sys = scores.get_column("system").n_unique()
    return (
        alt.layer(rules, points, data=inline_data(scores))
        .properties(width=220, height=max(80, 13 * n_sys))
        .facet(facet=alt.Facet("benchmark:N", title=None), columns=3)
        .resolve_scale(y="independent")
    )


def _overview_runs(runs: Runs, ctx: AnalysisContext) -> list[Section]:
    level = float(ctx.options.get("level", 0.95))
    summary = runs.summary()
    n_items = int(runs.frame.select(pl.struct("benchmark", "item").n_unique()).item())
    seeds = runs.seeds
    intro = (
        f"{len(runs):,} scored rows: **{len(runs.systems)}** systems on **{len(runs.benchmarks)}** benchmarks "
        f"({n_items:,} distinct items), {len(seeds)} seed(s)."
    )
    if runs.has_methods:
        intro += " Systems are `model|method` where a prompting method is given."
    if runs.has_steps:
        intro += " Runs carry training steps; scores below use each model's last step."
    described = runs.describe_sources()
    if described:
        intro += " " + described
    blocks: list = [Text(intro)]
    blocks.append(
        Table(
            summary.rename({"systems": "systems", "mean_score": "mean score"}),
            caption="Benchmarks: systems, items, rows, seeds, coverage of the systems × items grid, mean score.",
            label="benchmarks",
        )
    )
    cov = coverage_frame(runs)
    n_bench = max(1, len(runs.benchmarks))
    limit = max(1, min(MAX_HEATMAP_MODELS, MAX_CHART_ROWS // n_bench))
    shown, note = _top_systems(cov, "coverage", limit)
    blocks.append(
        Chart(
            _coverage_chart(shown, "system", "benchmark", "Coverage: share of each benchmark's items run"),
            caption="Coverage heat-map, systems × benchmarks." + note,
            name="coverage",
        )
    )
    scores = score_intervals(runs, level)
    reasons = scores.group_by("interval", "reason").len().sort(
        ["len", "interval", "reason"], descending=[True, False, False]
    )
    why = "; ".join(f"{r['interval']} for {r['len']} — {r['reason']}" for r in reasons.iter_rows(named=True))
    blocks.append(
        Text(
            f"Mean score per system and benchmark with {level:.0%} confidence intervals over items "
            f"(the interval chosen for each, and why: {why}). Seeds are averaged per item first, so the interval "
            "reflects item sampling; seed variance and paired comparisons are in the significance analysis."
        )
    )
    shown_scores, note = _top_systems(scores, "mean", limit)
    blocks.append(
        Chart(
            _interval_chart(shown_scores),
            caption=f"Mean score with {level:.0%} CI, by benchmark." + note,
            name="scores",
        )
    )
    subsections = []
    for k, bench in enumerate(runs.benchmarks):
        slug = section_slug(k, bench)
        part = (
            scores.filter(pl.col("benchmark") == bench)
            .sort(["mean", "system"], descending=[True, False])
            .select("system", "n_items", "mean", "ci_low", "ci_high", "interval")
        )
        subsections.append(
            Section(
                bench,
                [Table(part, caption=f"{bench}: mean score with {level:.0%} CI, best first.", label=f"scores-{slug}")],
                key=f"overview-scores-{slug}",
            )
        )
    return [Section("Data overview", blocks, key="overview", subsections=subsections)]


def _overview_scores(table: ScoreTable, ctx: AnalysisContext) -> list[Section]:
    obs = table.observed
    per_bench = pl.DataFrame(
        {
            "benchmark": list(table.benchmarks),
            "models": obs.sum(axis=0).astype(np.int64),
            "scale": [table.scales[b] for b in table.benchmarks],
            "lower_is_better": [b in table.lower_is_better for b in table.benchmarks],
            "min": np.where(obs.any(axis=0), np.nanmin(np.where(obs, table.values, np.inf), axis=0), np.nan),
            "max": np.where(obs.any(axis=0), np.nanmax(np.where(obs, table.values, -np.inf), axis=0), np.nan),
        }
    )
    intro = (
        f"A leaderboard table of **{len(table.models)}** models × **{len(table.benchmarks)}** benchmark columns, "
        f"{obs.mean():.1%} of cells observed. Scales are detected per column (unit [0, 1], percent, or raw such as Elo)."
    )
    blocks: list = [
        Text(intro),
        Table(per_bench, caption="Benchmark columns: models with a score, scale, range.", label="columns"),
    ]
    counts = obs.sum(axis=1)
    order = np.argsort(-counts, kind="stable")[:MAX_HEATMAP_MODELS]
    bench_order = np.argsort(-obs.sum(axis=0), kind="stable")[:MAX_HEATMAP_BENCHMARKS]
    sub = obs[np.ix_(order, bench_order)]
    mi, bj = np.meshgrid(order, bench_order, indexing="ij")
    cov = pl.DataFrame(
        {
            "model": [table.models[i] for i in mi.ravel()],
            "benchmark": [table.benchmarks[j] for j in bj.ravel()],
            "coverage": sub.ravel().astype(float),
        }
    )
    note = ""
    if len(table.models) > MAX_HEATMAP_MODELS or len(table.benchmarks) > MAX_HEATMAP_BENCHMARKS:
        note = (
            f" The {min(MAX_HEATMAP_MODELS, len(table.models))} models and {min(MAX_HEATMAP_BENCHMARKS, len(table.benchmarks))}"
            " columns with the most scores are shown."
        )
    blocks.append(
        Chart(
            _coverage_chart(cov, "model", "benchmark", "Which models have a score on which benchmark"),
            caption="Coverage of the leaderboard table." + note,
            name="table_coverage",
        )
    )
    return [Section("Data overview", blocks, key="overview")]


@register(
    "overview",
    title="Data overview",
    description="What was loaded: coverage heat-map, items per benchmark, per-model scores with 95% CIs.",
    order=0,
)
def overview(data: Runs | ScoreTable, ctx: AnalysisContext) -> list[Section]:
    """Data overview section of a report.

    Examples
    --------
    >>> r = Runs({"model": ["a", "b"], "benchmark": ["x", "x"], "item": ["1", "1"], "score": [1.0, 0.0]})
    >>> [s.title for s in overview(r, AnalysisContext())]
    ['Data overview']
    """
    if isinstance(data, Runs):
        return _overview_runs(data, ctx)
    return _overview_scores(data, ctx)
