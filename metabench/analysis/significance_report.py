"""The significance section of a report: ``metabench analyze PATH --method significance``.

For every benchmark: each system's score with an interval (and why that interval),
markers against a baseline, a compact letter display of the systems that cannot
be told apart, all pairwise paired comparisons with Holm and Benjamini–Hochberg
corrections, a heat-map of differences, the minimum detectable effect of the
benchmark, seed variance where runs repeat seeds, and training dynamics where
runs carry steps.

Options (``--option key=value``): ``level`` (default 0.95), ``alpha`` (default
0.05), ``baseline`` (a system name; default the best system of each benchmark),
``correction`` (``holm`` or ``bh`` for markers and letters; default ``holm``),
``power`` (default 0.8), ``seed_reduction`` (default 0.1: the fraction by which
more seeds should cut the standard error), ``max_pairs_shown`` (default 60).
"""

from __future__ import annotations

import itertools
from typing import Any

import altair as alt
import numpy as np
import polars as pl
from statsmodels.stats.multitest import multipletests

from metabench.analysis._charts import inline_data, section_slug
from metabench.analysis.compare import usable_clusters
from metabench.analysis.dynamics import signal_to_noise, training_dynamics
from metabench.analysis.letters import compact_letter_display
from metabench.analysis.power import power_analysis
from metabench.analysis.registry import AnalysisContext, register
from metabench.analysis.significance import PairwiseResult, compare_all
from metabench.analysis.variance import score_intervals, seed_variance_frame
from metabench.errors import InputError, MetabenchError
from metabench.report import Chart, Section, Table, Text
from metabench.runs import Exclusion, ResponseMatrix, Runs

__all__ = ["significance_sections", "stars"]

MAX_HEATMAP_SYSTEMS = 40
MAX_LISTED_PAIRS = 15


def stars(p: float | None) -> str:
    """Significance marker of a (corrected) p-value: ``***`` < 0.001, ``**`` < 0.01, ``*`` < 0.05.

    Examples
    --------
    >>> [stars(p) for p in (0.0004, 0.004, 0.04, 0.4, None)]
    ['***', '**', '*', '', '']
    """
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _clusters(matrix: ResponseMatrix) -> np.ndarray | None:
    """Subject labels as clusters where a cluster-robust SE is worth using (see :func:`usable_clusters`)."""
    if matrix.subjects is None:
        return None
    return usable_clusters(np.array(matrix.subjects, dtype=object))


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:+.{digits}f}" if np.isfinite(x) else "—"


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "—"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


MIN_SHARED_ITEMS = 2
"""Pairs sharing fewer items are not compared (a paired test needs two shared items)."""

FEW_SHARED_ITEMS = 30
"""Pairs sharing fewer items are marked ``few_items``: below this the normal approximation of the paired
tests is rough and even large differences go undetected."""


def _pairs_text(name: str, pw: PairwiseResult, correction: str, alpha: float) -> str:
    frame = pw.to_frame().filter(pl.col("n_items") >= MIN_SHARED_ITEMS)
    col = "p_holm" if correction == "holm" else "p_bh"
    label = "Holm" if correction == "holm" else "Benjamini–Hochberg"
    sig = frame.filter(pl.col(col) < alpha).sort(col, maintain_order=True)
    n_pairs = frame.height
    if not sig.height:
        return (
            f"On **{name}**, no pair of the {len(pw.models)} systems differs significantly after {label} correction "
            f"(α = {alpha:g}, {n_pairs} pairs, paired test on shared items)."
        )
    lines = []
    for r in sig.head(MAX_LISTED_PAIRS).iter_rows(named=True):
        a, b, d = r["model_a"], r["model_b"], r["difference"]
        if d < 0:
            a, b, d, lo, hi = b, a, -d, -r["ci_high"], -r["ci_low"]
        else:
            lo, hi = r["ci_low"], r["ci_high"]
        lines.append(
            f"{a} > {b} by {d:.3f} ({pw.level:.0%} CI {lo:.3f} to {hi:.3f}, {r['n_items']} items, "
            f"p = {_fmt_p(r['p_value'])}, {label} p = {_fmt_p(r[col])})"
        )
    more = (
        f" The other {sig.height - MAX_LISTED_PAIRS} are in the table below." if sig.height > MAX_LISTED_PAIRS else ""
    )
    return (
        f"On **{name}**, {sig.height} of {n_pairs} pairs differ significantly after {label} correction "
        f"(α = {alpha:g}; {pw.test.replace('_', ' ')} test on shared items): " + "; ".join(lines) + "." + more
    )


def _heatmap(name: str, slug: str, pw: PairwiseResult, order: list[str], correction: str) -> Chart:
    idx = {m: i for i, m in enumerate(pw.models)}
    shown = order[:MAX_HEATMAP_SYSTEMS]
    padj = pw.p_holm if correction == "holm" else pw.p_bh
    rows = []
    for a in shown:
        for b in shown:
            i, j = idx[a], idx[b]
            if i == j:
                continue
            rows.append(
                {
                    "row": a,
                    "column": b,
                    "difference": float(pw.difference[i, j]),
                    "p_adjusted": float(padj[i, j]),
                    "marker": stars(float(padj[i, j])),
                }
            )
    frame = pl.DataFrame(rows)
    lim = float(np.nanmax(np.abs(frame.get_column("difference").to_numpy()))) if frame.height else 1.0
    base = alt.Chart(inline_data(frame)).encode(
        x=alt.X("column:N", sort=shown, title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("row:N", sort=shown, title=None),
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            "difference:Q",
            title="row − column",
            scale=alt.Scale(scheme="redblue", domain=[-lim, lim], reverse=True),
        ),
        tooltip=[
            "row:N",
            "column:N",
            alt.Tooltip("difference:Q", format="+.3f"),
            alt.Tooltip("p_adjusted:Q", format=".2g"),
        ],
    )
    text = base.mark_text(fontSize=9).encode(text="marker:N")
    size = max(160, min(16 * len(shown), 640))
    chart = (rect + text).properties(width=size, height=size, title=f"{name}: paired differences")
    cut = f" The {len(shown)} best of {len(order)} systems are shown." if len(order) > len(shown) else ""
    return Chart(
        chart,
        caption=(
            f"Difference in mean score (row minus column) on shared items; markers: "
            f"{'Holm' if correction == 'holm' else 'Benjamini–Hochberg'}-adjusted p < 0.05 (*), 0.01 (**), 0.001 (***)."
            + cut
        ),
        name=f"sig-heat-{slug}",
    )


def _power_table(
    name: str,
    slug: str,
    matrix: ResponseMatrix,
    order: list[str],
    clusters: np.ndarray | None,
    alpha: float,
    power: float,
) -> tuple[Table | None, str]:
    """Minimum detectable effect between systems adjacent in the ranking."""
    idx = {m: i for i, m in enumerate(matrix.models)}
    values = matrix.values
    rows = []
    for a, b in itertools.pairwise(order):
        va, vb = values[idx[a]], values[idx[b]]
        try:
            res = power_analysis(va, vb, clusters=clusters, alpha=alpha, power=power)
        except MetabenchError:
            continue
        both = ~np.isnan(va if va.ndim == 1 else np.nanmean(va, axis=-1)) & ~np.isnan(
            vb if vb.ndim == 1 else np.nanmean(vb, axis=-1)
        )
        diff = float(np.nanmean(va[both]) - np.nanmean(vb[both])) if both.any() else float("nan")
        try:
            need = res.items_needed(abs(diff)) if np.isfinite(diff) and abs(diff) > 0 else None
        except MetabenchError:
            need = None
        rows.append(
            {
                "system_a": a,
                "system_b": b,
                "n_items": res.n_items,
                "difference": diff,
                "sd_diff": res.sd_diff,
                "mde": res.mde,
                "items_needed": need,
            }
        )
    if not rows:
        return None, ""
    frame = pl.DataFrame(rows, schema_overrides={"items_needed": pl.Int64})
    mde = frame.get_column("mde").drop_nans().drop_nulls()
    text = (
        f"With the items of {name}, a paired difference of **{float(mde.median()):.3f}** (median over adjacent systems; "
        f"range {float(mde.min()):.3f}–{float(mde.max()):.3f}) is detected with {power:.0%} power at α = {alpha:g} "
        "(two-sided paired t-test; the correlation between the two systems' item scores and, where present, "
        "clustering and seed noise are taken into account). `items_needed` is the number of items that would detect "
        "the observed difference with that power."
        if mde.len()
        else ""
    )
    table = Table(
        frame,
        caption=f"{name}: minimum detectable effect (MDE) between systems adjacent in the ranking.",
        label=f"sig-power-{slug}",
    )
    return table, text


def _benchmark_section(name: str, slug: str, runs: Runs, intervals: pl.DataFrame, ctx: AnalysisContext) -> Section:
    level = float(ctx.options.get("level", 0.95))
    alpha = float(ctx.options.get("alpha", 0.05))
    power = float(ctx.options.get("power", 0.8))
    reduction = float(ctx.options.get("seed_reduction", 0.1))
    correction = str(ctx.options.get("correction", "holm")).lower()
    if correction not in ("holm", "bh"):
        raise InputError(f"correction {correction!r} is not known", fix="use --option correction=holm or correction=bh")
    max_pairs = int(ctx.options.get("max_pairs_shown", 60))

    matrix = runs.matrix(name)
    kept, excl = matrix.drop_empty()
    for e in excl:
        ctx.exclude(Exclusion(e.what, f"{name}: {e.reason} (significance)", e.count, e.examples))
    blocks: list[Any] = []
    ivals = intervals.filter(pl.col("benchmark") == name).sort(
        ["mean", "system"], descending=[True, False], maintain_order=True
    )
    order = [s for s in ivals.get_column("system").to_list() if s in kept.models]
    reasons = ivals.group_by("interval", "reason").len().sort(
        ["len", "interval", "reason"], descending=[True, False, False]
    )
    how = "; ".join(f"{r['interval']} for {r['len']} system(s) — {r['reason']}" for r in reasons.iter_rows(named=True))
    blocks.append(Text(f"Intervals ({level:.0%}): {how}."))
    if kept.n_models < 2 or kept.n_items < 2:
        blocks.append(Table(ivals, caption=f"{name}: scores with {level:.0%} intervals.", label=f"sig-scores-{slug}"))
        blocks.append(Text("Fewer than two systems or items: no comparisons."))
        return Section(name, blocks, key=f"sig-{slug}")

    clusters = _clusters(kept)
    pw = compare_all(kept, clusters=clusters, alpha=alpha, level=level, seed=ctx.seed, benchmark=name)
    idx = {m: i for i, m in enumerate(pw.models)}
    baseline = ctx.options.get("baseline")
    if baseline is not None and str(baseline) not in idx:
        ctx.notes.append(f"significance: baseline {baseline!r} did not run {name}; the best system is used there")
        baseline = None
    base = str(baseline) if baseline is not None else order[0]
    others = [s for s in order if s != base]
    b = idx[base]
    raw = np.array([pw.p_value[idx[s], b] for s in others], dtype=float)
    adj = np.full_like(raw, np.nan)
    ok = np.isfinite(raw)
    if ok.any():
        adj[ok] = multipletests(raw[ok], method="holm" if correction == "holm" else "fdr_bh")[1]
    vs = {s: (float(pw.difference[idx[s], b]), float(adj[k])) for k, s in enumerate(others)}
    letters = compact_letter_display(
        order, pw.significant(correction)[np.ix_([idx[s] for s in order], [idx[s] for s in order])]
    )

    score_rows = []
    for r in ivals.iter_rows(named=True):
        s = r["system"]
        d, p = vs.get(s, (float("nan"), float("nan")))
        score_rows.append(
            {
                "system": s,
                "n_items": r["n_items"],
                "score": r["mean"],
                "ci": f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
                "interval": r["interval"],
                f"vs {base}": _fmt(d) if s != base else "(baseline)",
                "p_adjusted": p if s != base else None,
                "sig": stars(p) if s != base else "",
                "group": letters.get(s, ""),
            }
        )
    label = "Holm" if correction == "holm" else "Benjamini–Hochberg"
    blocks.append(
        Table(
            pl.DataFrame(score_rows, schema_overrides={"p_adjusted": pl.Float64}),
            caption=(
                f"{name}: scores with {level:.0%} intervals, the paired difference from {base} "
                f"({label}-adjusted over the {len(others)} comparisons with it), and groups."
            ),
            notes=(
                "Markers: * p < 0.05, ** p < 0.01, *** p < 0.001 after correction. Systems that share a letter in "
                f"`group` do not differ significantly ({label}-adjusted over all pairs, α = {alpha:g})."
            ),
            label=f"sig-scores-{slug}",
        )
    )
    blocks.append(Text(_pairs_text(name, pw, correction, alpha)))
    raw_pairs = pw.to_frame()
    unshared = raw_pairs.filter(pl.col("n_items") < MIN_SHARED_ITEMS)
    raw_pairs = raw_pairs.filter(pl.col("n_items") >= MIN_SHARED_ITEMS).with_columns(
        (pl.col("n_items") < FEW_SHARED_ITEMS).alias("few_items")
    )
    few = int(raw_pairs.get_column("few_items").sum())
    if unshared.height or few:
        ex = ", ".join(f"{a}–{b}" for a, b in unshared.select("model_a", "model_b").head(3).iter_rows())
        msg = []
        if unshared.height:
            msg.append(
                f"{unshared.height} pair(s) share fewer than {MIN_SHARED_ITEMS} items and are not compared "
                f"(e.g. {ex}); their systems ran different items of {name}"
            )
            ctx.notes.append(f"significance: {name}: " + msg[-1])
        if few:
            msg.append(
                f"{few} pair(s) share fewer than {FEW_SHARED_ITEMS} items (`few_items`): their tests rest on few items"
            )
        blocks.append(Text("; ".join(msg) + "."))
    neg = pl.col("difference") < 0
    pairs = raw_pairs.with_columns(  # the better system first: differences read as "a beats b by"
        pl.when(neg).then(pl.col("model_b")).otherwise(pl.col("model_a")).alias("model_a"),
        pl.when(neg).then(pl.col("model_a")).otherwise(pl.col("model_b")).alias("model_b"),
        pl.when(neg).then(-pl.col("difference")).otherwise(pl.col("difference")).alias("difference"),
        pl.when(neg).then(-pl.col("ci_high")).otherwise(pl.col("ci_low")).alias("ci_low"),
        pl.when(neg).then(-pl.col("ci_low")).otherwise(pl.col("ci_high")).alias("ci_high"),
    ).sort("p_value", maintain_order=True)
    if pairs.height > max_pairs:
        col = "significant_holm" if correction == "holm" else "significant_bh"
        pairs_shown = pairs.filter(pl.col(col)).head(max_pairs)
        cap = f"{name}: the {pairs_shown.height} most significant of {pairs.height} pairs (the JSON report lists all)."
    else:
        pairs_shown = pairs
        cap = f"{name}: all {pairs.height} pairwise paired comparisons (difference = model_a − model_b, better system first)."
    if pairs_shown.height:
        blocks.append(Table(pairs_shown, caption=cap, label=f"sig-pairs-{slug}"))
    if len(order) >= 3:
        blocks.append(_heatmap(name, slug, pw, order, correction))
    table, text = _power_table(name, slug, kept, order, clusters, alpha, power)
    if table is not None:
        if text:
            blocks.append(Text(text))
        blocks.append(table)
    bench_runs = runs.filter(benchmark=name)
    if len(bench_runs.seeds) > 1:
        sv = seed_variance_frame(bench_runs, reduction=reduction)
        if sv.height:
            blocks.append(
                Text(
                    f"Runs repeat seeds on {name}: the standard error of each score splits into item sampling and "
                    f"seed noise; `seeds_needed` is the number of seeds that would cut the total standard error by "
                    f"{reduction:.0%} (empty where item sampling alone already exceeds that)."
                )
            )
            blocks.append(Table(sv, caption=f"{name}: seed variance.", label=f"sig-seeds-{slug}"))
    return Section(name, blocks, key=f"sig-{slug}")


def _dynamics_section(runs: Runs, ctx: AnalysisContext) -> Section | None:
    last_n = int(ctx.options.get("last_n", 5))
    try:
        dyn = training_dynamics(runs, last_n=last_n)
        snr = signal_to_noise(runs, last_n=last_n)
    except InputError as exc:
        ctx.notes.append(f"training dynamics skipped: {exc}")
        return None
    blocks = [
        Text(
            "Runs carry training steps. Kendall's τ of the score on the step measures monotone improvement; "
            "checkpoint noise is the spread of scores around a smooth trend; the signal-to-noise ratio "
            "(Heineman et al. 2025) divides the spread of the systems' final scores by the noise of their last "
            f"{last_n} checkpoints. Benchmarks with a higher ratio separate systems more reliably."
        ),
        Table(dyn, caption="Training dynamics per system and benchmark.", label="sig-dynamics"),
        Table(snr, caption="Signal-to-noise ratio per benchmark.", label="sig-snr"),
    ]
    return Section("Training dynamics", blocks, key="sig-dynamics")


@register(
    "significance",
    title="Significance",
    description="Scores with intervals, paired tests of all pairs (Holm, BH), letters, minimum detectable effects, seed variance.",
    accepts=("runs",),
    order=15,
)
def significance_sections(data: Runs, ctx: AnalysisContext) -> list[Section]:
    """Significance section of a report (one subsection per benchmark)."""
    level = float(ctx.options.get("level", 0.95))
    intervals = score_intervals(data, level, seed=ctx.seed)
    subs = []
    for k, bench in enumerate(data.benchmarks):
        try:
            subs.append(_benchmark_section(bench, section_slug(k, bench), data, intervals, ctx))
        except MetabenchError as exc:
            ctx.notes.append(f"significance on {bench!r} failed: {exc}")
            subs.append(Section(bench, [Text(f"Could not be analysed: {exc}")], key=f"sig-{section_slug(k, bench)}"))
    if data.has_steps and data.frame.get_column("step").n_unique() >= 3:
        dyn = _dynamics_section(data, ctx)
        if dyn is not None:
            subs.append(dyn)
    intro = Text(
        "Is a difference real or noise? Each benchmark's items are treated as a sample from the population of "
        "items it stands for. Systems are compared on the items both ran, with paired tests (the per-item "
        "difference removes what the items share), standard errors clustered by subject where items come in "
        "groups, and corrections for the many comparisons."
    )
    return [Section("Significance", [intro], key="significance", subsections=subs)]
