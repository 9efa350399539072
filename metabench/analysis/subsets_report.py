"""The subsets section of a report: ``metabench analyze PATH --method subset``.

For every benchmark with enough systems and items: the held-out error of a compact
subset against its size (k-fold over systems: the subset is chosen and the estimator
fitted on the training systems only), for random items with their mean as the
baseline and for the IRT-based methods, with interval coverage and the cost saved.

Options (``--option key=value``): ``subset_sizes`` (default ``25,50,100,200``),
``subset_methods`` (``selection:estimator`` pairs, comma-separated; default
``random:mean,anchor_irt:gpirt``), ``subset_folds`` (default 5), ``subset_inner_folds``
(default 3), ``subset_min_models`` (default 10), ``subset_min_items`` (default 200),
``subset_max_items`` (default 5000: larger benchmarks take minutes and are left to
``metabench subset``), ``level``.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import polars as pl

from metabench.analysis._charts import inline_data, section_slug
from metabench.analysis.registry import AnalysisContext, register
from metabench.analysis.subsets import validate_subset
from metabench.errors import MetabenchError
from metabench.report import Chart, Section, Table, Text
from metabench.runs import Runs

__all__ = ["subset_sections"]

DEFAULT_METHODS = "random:mean,anchor_irt:gpirt"


def _curve(summary: pl.DataFrame, name: str, slug: str) -> Chart:
    frame = summary.with_columns(
        (pl.col("mae") * 100).alias("mae_points"),
        (pl.col("selection") + " + " + pl.col("estimator")).alias("method"),
    )
    chart = (
        alt.Chart(inline_data(frame.select("method", "size", "mae_points", "spearman", "coverage", "cost_saved")))
        .mark_line(point=True)
        .encode(
            x=alt.X("size:Q", title="items in the subset", scale=alt.Scale(type="log")),
            y=alt.Y("mae_points:Q", title="held-out mean absolute error (points)"),
            color=alt.Color("method:N", title=None),
            tooltip=[
                "method:N",
                "size:Q",
                alt.Tooltip("mae_points:Q", format=".2f"),
                alt.Tooltip("spearman:Q", format=".3f"),
                alt.Tooltip("coverage:Q", format=".2f"),
            ],
        )
        .properties(width=420, height=240, title=f"{name}: error against subset size")
    )
    return Chart(
        chart,
        caption=f"{name}: held-out error of the full-benchmark score predicted from a subset.",
        name=f"subset-curve-{slug}",
    )


def _benchmark(name: str, slug: str, runs: Runs, ctx: AnalysisContext) -> Section | None:
    sizes = [int(s) for s in str(ctx.options.get("subset_sizes", "25,50,100,200")).split(",") if s.strip()]
    inner = int(ctx.options.get("subset_inner_folds", 3))
    max_items = int(ctx.options.get("subset_max_items", 5000))
    pairs = [
        tuple(p.split(":", 1)) for p in str(ctx.options.get("subset_methods", DEFAULT_METHODS)).split(",") if ":" in p
    ]
    folds = int(ctx.options.get("subset_folds", 5))
    level = float(ctx.options.get("level", 0.95))
    matrix, _ = runs.matrix(name).drop_empty()
    full = ~np.isnan(matrix.values).any(axis=1)
    if not full.all():
        # subsets are chosen and checked on systems that ran every item
        ctx.notes.append(f"subsets on {name!r}: {int((~full).sum())} system(s) that skipped items are left out")
        matrix = matrix.take(models=np.flatnonzero(full))
    if matrix.n_models < int(ctx.options.get("subset_min_models", 10)) or matrix.n_items < int(
        ctx.options.get("subset_min_items", 200)
    ):
        return None
    if matrix.n_items > max_items:
        ctx.notes.append(
            f"subsets on {name!r}: {matrix.n_items} items is above subset_max_items={max_items}; validating there takes "
            "minutes: run `metabench subset` on it, or raise the option"
        )
        return None
    sizes = [s for s in sizes if s < matrix.n_items]
    res = validate_subset(
        matrix,
        sizes,
        pairs,
        folds=min(folds, matrix.n_models),
        inner_folds=inner,
        seed=ctx.seed,
        level=level,
        benchmark=name,
    )
    summary = res.summary
    blocks: list[Any] = [
        Text(
            f"{matrix.n_models} systems × {matrix.n_items} items; {res.folds}-fold over systems: in each fold the subset "
            "is chosen and the estimator fitted on the training systems only, and the held-out systems' full scores are "
            f"predicted from their answers on the subset. Coverage is the share of held-out systems whose full score lies "
            f"in the {level:.0%} interval. Random items with their mean are the baseline."
        ),
        _curve(summary, name, slug),
        Table(
            summary.select(
                "selection",
                "estimator",
                "size",
                "cost_saved",
                "mae",
                "mae_upper",
                "rmse",
                "spearman",
                "coverage",
                "mean_width",
            ).sort("size", "mae", maintain_order=True),
            caption=f"{name}: held-out error (score units) by method and subset size.",
            label=f"subset-{slug}",
        ),
    ]
    best = summary.sort("mae", maintain_order=True).row(0, named=True)
    blocks.append(
        Text(
            f"Best: **{best['selection']} + {best['estimator']}** at {best['size']} items "
            f"({best['cost_saved']:.1%} of the cost saved): held-out MAE {best['mae'] * 100:.2f} points, "
            f"Spearman {best['spearman']:.3f}, coverage {best['coverage']:.0%}. "
            "`metabench subset PATH --benchmark NAME --size N --out DIR` writes such a subset with its estimator."
        )
    )
    return Section(name, blocks, key=f"subset-{slug}")


@register(
    "subset",
    title="Compact subsets",
    description="Held-out error of small item subsets against size (random vs IRT-based selection and estimators).",
    accepts=("runs",),
    order=50,
)
def subset_sections(data: Runs, ctx: AnalysisContext) -> list[Section]:
    """Subsets section of a report (one subsection per benchmark with enough systems and items)."""
    subs = []
    for k, bench in enumerate(data.benchmarks):
        try:
            sec = _benchmark(bench, section_slug(k, bench), data, ctx)
        except MetabenchError as exc:
            ctx.notes.append(f"subsets on {bench!r}: {exc}")
            continue
        if sec is not None:
            subs.append(sec)
    intro = Text(
        "Which few items predict the full score? A subset is useful only with a stated error for systems it was not "
        "chosen on; the curves below give that error against the number of items."
        if subs
        else "No benchmark has enough systems (10) and items (200) to choose and validate a subset."
    )
    return [Section("Compact subsets", [intro], key="subsets", subsections=subs)]
