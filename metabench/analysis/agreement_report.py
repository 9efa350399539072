"""The agreement section of a report: ``metabench analyze PATH --method agreement``.

Benchmark agreement testing done as Perlitz et al. (2024) recommend: agreement of
every pair of benchmarks on their shared models with bootstrap intervals; each
benchmark's agreement with an aggregate reference (mean win rate over the other
benchmarks, leave-one-out for the aggregate's own members) over random model
subsets of several sizes, and its z-score against all benchmarks; warnings where
few models are shared. With per-item runs, pairs of benchmarks are also compared
item by item: is their disagreement larger than item sampling explains?

Options (``--option key=value``): ``agreement_corr`` (kendall, spearman or pearson;
default kendall), ``agreement_sizes`` (comma-separated subset sizes, 0 = all shared
models; default ``5,10,20``; the table also shows the correlation on all shared models), ``agreement_draws`` (draws per size, default 10),
``agreement_min_models`` (default 5), ``agreement_max_heatmap`` (default 40),
``agreement_min_in_aggregate`` (benchmarks a system needs to enter the aggregate; default 3),
``agreement_bootstrap`` (resamples of the intervals; default 200),
``level`` (default 0.95).
"""

from __future__ import annotations

import itertools
from typing import Any

import altair as alt
import numpy as np
import polars as pl

from metabench.analysis._charts import inline_data
from metabench.analysis.agreement import agreement, bat, item_level_agreement, normalize_model_name
from metabench.analysis.registry import AnalysisContext, register
from metabench.errors import MetabenchError
from metabench.report import Chart, Section, Table, Text
from metabench.runs import Runs, ScoreTable

__all__ = ["agreement_sections", "harmonise_models"]

MAX_ITEM_PAIRS = 21


def harmonise_models(table: ScoreTable) -> tuple[ScoreTable, list[str]]:
    """Merge rows that name the same model differently in different leaderboards.

    Rows whose names agree after :func:`~metabench.analysis.agreement.normalize_model_name`
    are merged when they never disagree on a benchmark both have (different tables
    spell a model differently: ``meta-llama/Meta-Llama-3-8B`` and ``Meta-Llama-3-8B``).
    Rows that would collide on a benchmark with different scores are kept apart, and
    counted in the returned notes.

    Examples
    --------
    >>> t = ScoreTable.from_array([[0.5, float("nan")], [float("nan"), 0.7]],
    ...                           models=["org/Model-7B", "model-7b"], benchmarks=["x", "y"])
    >>> merged, notes = harmonise_models(t)
    >>> merged.models, merged.values.tolist()
    (('org/Model-7B',), [[0.5, 0.7]])
    """
    v = table.values
    groups: dict[str, list[int]] = {}
    for i, m in enumerate(table.models):
        groups.setdefault(normalize_model_name(m) or m, []).append(i)
    rows: list[np.ndarray] = []
    names: list[str] = []
    merged = kept_apart = 0
    for members in groups.values():
        clusters: list[tuple[list[int], np.ndarray]] = []
        for i in members:
            row = v[i]
            for idx, acc in clusters:
                both = ~np.isnan(acc) & ~np.isnan(row)
                if not both.any() or np.allclose(acc[both], row[both]):
                    idx.append(i)
                    np.copyto(acc, row, where=np.isnan(acc))
                    break
            else:
                clusters.append(([i], row.copy()))
        if len(clusters) > 1:
            kept_apart += len(clusters) - 1
        for idx, acc in clusters:
            merged += len(idx) - 1
            rows.append(acc)
            names.append(table.models[idx[0]])
    notes = []
    if merged:
        notes.append(
            f"{merged} row(s) naming the same model differently in different tables were merged (e.g. organisation prefixes)"
        )
    if kept_apart:
        notes.append(f"{kept_apart} row(s) whose names normalise alike but whose scores differ were kept apart")
    if not merged:
        return table, notes
    out = ScoreTable(
        np.vstack(rows),
        tuple(names),
        table.benchmarks,
        table.scales,
        table.lower_is_better,
        table.source,
        table.exclusions,
    )
    return out, notes


def _short_warning(text: str | None) -> str | None:
    """The per-benchmark warning without what holds for every row (aggregate membership), caps condensed."""
    if not text:
        return None
    parts = [p.strip() for p in text.split(";") if p.strip() and not p.strip().startswith("aggregate member")]
    caps = [p for p in parts if p.startswith("subset size")]
    rest = [p for p in parts if not p.startswith("subset size")]
    if caps:
        n = caps[0].split(":")[-1].strip()
        sizes = ", ".join(p.split()[2] for p in caps)
        rest.append(f"sizes {sizes} capped ({n})")
    return "; ".join(rest) or None


def _heatmap(res: Any, benches: list[str], key: str) -> Chart:
    frame = res.to_frame().filter(pl.col("benchmark_a").is_in(benches) & pl.col("benchmark_b").is_in(benches))
    both = pl.concat(
        [
            frame,
            frame.rename({"benchmark_a": "benchmark_b", "benchmark_b": "benchmark_a"}).select(frame.columns),
        ]
    ).drop_nulls("corr")
    size = max(200, min(14 * len(benches), 640))
    chart = (
        alt.Chart(inline_data(both.select("benchmark_a", "benchmark_b", "n_models", "corr", "ci_low", "ci_high")))
        .mark_rect()
        .encode(
            x=alt.X("benchmark_a:N", sort=benches, title=None, axis=alt.Axis(labelAngle=-60, labelLimit=140)),
            y=alt.Y("benchmark_b:N", sort=benches, title=None, axis=alt.Axis(labelLimit=140)),
            color=alt.Color("corr:Q", title=res.method, scale=alt.Scale(scheme="redblue", domain=[-1, 1])),
            tooltip=[
                "benchmark_a:N",
                "benchmark_b:N",
                "n_models:Q",
                alt.Tooltip("corr:Q", format=".3f"),
                alt.Tooltip("ci_low:Q", format=".3f"),
                alt.Tooltip("ci_high:Q", format=".3f"),
            ],
        )
        .properties(width=size, height=size, title="Agreement between benchmarks")
    )
    return Chart(
        chart,
        caption=f"{res.method.capitalize()} correlation on shared models (pairs with at least {res.min_models}); "
        f"hover for the number of models and the {res.level:.0%} bootstrap interval.",
        name=f"{key}-heat",
    )


def _curve_chart(result: Any, show: list[str], key: str) -> Chart:
    curve = result.curve.filter(pl.col("benchmark").is_in(show))
    cols = curve.columns
    size_col = next(c for c in ("size", "n_models", "subset_size") if c in cols)
    mean_col = next(c for c in ("mean", "mean_corr") if c in cols)
    chart = (
        alt.Chart(inline_data(curve))
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{size_col}:Q", title="models in the subset"),
            y=alt.Y(f"{mean_col}:Q", title="mean agreement with the reference"),
            color=alt.Color("benchmark:N", title=None),
            tooltip=["benchmark:N", f"{size_col}:Q", alt.Tooltip(f"{mean_col}:Q", format=".3f")],
        )
        .properties(width=420, height=240, title="Agreement against the number of models")
    )
    return Chart(
        chart,
        caption="Mean agreement with the reference against the size of the model subset (the highest and lowest z-scores).",
        name=f"{key}-curve",
    )


def _table_section(table: ScoreTable, key: str, ctx: AnalysisContext, runs: Runs | None = None) -> Section:
    level = float(ctx.options.get("level", 0.95))
    corr = str(ctx.options.get("agreement_corr", "kendall"))
    sizes = tuple(int(s) for s in str(ctx.options.get("agreement_sizes", "5,10,20")).split(",") if s.strip())
    draws = int(ctx.options.get("agreement_draws", 10))
    min_models = int(ctx.options.get("agreement_min_models", 5))
    max_heat = int(ctx.options.get("agreement_max_heatmap", 40))
    min_in_agg = int(ctx.options.get("agreement_min_in_aggregate", 3))
    n_boot = int(ctx.options.get("agreement_bootstrap", 200))
    blocks: list[Any] = []
    table, notes = harmonise_models(table)
    ctx.notes.extend(f"agreement: {n}" for n in notes)
    obs = table.observed
    if len(table.benchmarks) < 2:
        return Section("Benchmark agreement", [Text("One benchmark only: nothing to compare.")], key=key)
    res = agreement(table, method=corr, level=level, seed=ctx.seed, min_models=min_models, n_bootstrap=n_boot)  # type: ignore[arg-type]
    pairs = res.to_frame()
    computed = pairs.drop_nulls("corr").filter(pl.col("corr").is_not_nan())
    blocks.append(
        Text(
            f"{len(table.benchmarks)} benchmarks, {len(table.models)} systems ({obs.mean():.0%} of cells observed). "
            f"{computed.height} of {pairs.height} benchmark pairs share at least {min_models} systems and get a "
            f"{corr} correlation with a {level:.0%} bootstrap interval over systems."
            + (" " + " ".join(n[0].upper() + n[1:] + "." for n in notes) if notes else "")
        )
    )
    counts = obs.sum(axis=0)
    benches = [table.benchmarks[j] for j in np.argsort(-counts, kind="stable")[:max_heat]]
    if computed.height:
        blocks.append(_heatmap(res, benches, key))
        top = computed.sort("corr", maintain_order=True).head(10)
        blocks.append(Table(top, caption="The ten benchmark pairs that agree least.", label=f"{key}-least"))
    try:
        b = bat(
            table,
            corr=corr,  # type: ignore[arg-type]
            n_models=sizes,
            n_exps=draws,
            seed=ctx.seed,
            min_models=min_models,
            level=level,
            min_benchmarks_in_aggregate=min_in_agg,
            n_bootstrap=n_boot,
        )
    except MetabenchError as exc:
        blocks.append(Text(f"Agreement testing against an aggregate could not run: {exc}"))
        return Section("Benchmark agreement", blocks, key=key)
    frame = b.to_frame()
    blocks.append(
        Text(
            f"Each benchmark against the aggregate reference (mean win rate over the benchmarks, for the "
            f"{b.n_aggregate_models} systems with at least {min_in_agg} of them; a member of the aggregate is "
            f"compared with the aggregate of the others): {corr} correlation on random subsets of "
            f"{', '.join(str(s) if s else 'all' for s in sizes)} shared systems, {draws} draws each. The z-score places a "
            f"benchmark's mean agreement among all {len(b.reference_benchmarks)} benchmarks (mean {b.z_mean:.3f}, "
            f"sd {b.z_sd:.3f}); a low z-score means a benchmark ranks systems unlike the others."
            + (" " + " ".join(b.notes) if b.notes else "")
        )
    )
    if "warning" in frame.columns:
        frame = frame.with_columns(pl.col("warning").map_elements(_short_warning, return_dtype=pl.String))
    keep = [
        c
        for c in (
            "benchmark",
            "n_models_shared",
            "mean_corr",
            "ci_low",
            "ci_high",
            "z_score",
            "corr_all",
            "p_value",
            "warning",
        )
        if c in frame.columns
    ]
    blocks.append(
        Table(
            frame.select(keep),
            caption="Agreement with the aggregate reference and z-scores, best first.",
            label=f"{key}-z",
        )
    )
    ranked = frame.drop_nulls("z_score").filter(pl.col("z_score").is_not_nan())
    show = ranked.head(5).get_column("benchmark").to_list() + ranked.tail(5).get_column("benchmark").to_list()
    if show and b.curve.height:
        blocks.append(_curve_chart(b, list(dict.fromkeys(show)), key))
    if runs is not None:
        blocks.extend(_item_level(runs, ctx, corr, level, min_models, key))
    return Section("Benchmark agreement", blocks, key=key)


def _item_level(runs: Runs, ctx: AnalysisContext, corr: str, level: float, min_models: int, key: str) -> list[Any]:
    ran = runs.frame.select("benchmark", runs._system_expr().alias("system")).unique()
    systems = {b: set(ran.filter(pl.col("benchmark") == b).get_column("system").to_list()) for b in runs.benchmarks}
    pairs = [
        (a, b) for a, b in itertools.combinations(runs.benchmarks, 2) if len(systems[a] & systems[b]) >= min_models
    ]
    if not pairs:
        return []
    cut = len(pairs) > MAX_ITEM_PAIRS
    pairs = pairs[:MAX_ITEM_PAIRS]
    rows, flagged = [], []
    for a, b in pairs:
        try:
            r = item_level_agreement(runs, a, b, method=corr, level=level, n_bootstrap=300, seed=ctx.seed)  # type: ignore[arg-type]
        except MetabenchError as exc:
            ctx.notes.append(f"item-level agreement {a} vs {b}: {exc}")
            continue
        rows.append(r.summary())
        pm = r.to_frame()
        if "differs" in pm.columns:
            for row in pm.filter(pl.col("differs")).iter_rows(named=True):
                flagged.append(f"{row.get('model', '?')} ({a} vs {b})")
    if not rows:
        return []
    out: list[Any] = [
        Text(
            "Item level: each benchmark's items are resampled to see how well it agrees with itself (split halves "
            "stepped up to full length); two benchmarks whose correlation stays below that ceiling rank systems "
            "differently for reasons other than item sampling."
            + (f" The first {MAX_ITEM_PAIRS} pairs are shown." if cut else "")
            + (f" Systems ranked differently beyond their intervals: {', '.join(flagged[:20])}." if flagged else "")
        ),
        Table(
            pl.concat(rows, how="diagonal_relaxed"),
            caption="Item-level agreement of benchmark pairs.",
            label=f"{key}-items",
        ),
    ]
    return out


@register(
    "agreement",
    title="Benchmark agreement",
    description="Agreement between benchmarks with intervals, agreement with an aggregate reference and z-scores (BAT), item-level agreement.",
    accepts=("runs", "scores"),
    order=40,
)
def agreement_sections(data: Runs | ScoreTable, ctx: AnalysisContext) -> list[Section]:
    """Agreement section of a report."""
    if isinstance(data, Runs):
        if len(data.benchmarks) < 2:
            return [Section("Benchmark agreement", [Text("One benchmark only: nothing to compare.")], key="agreement")]
        return [_table_section(data.scores(), "agreement", ctx, runs=data)]
    return [_table_section(data, "agreement", ctx)]
