"""The IRT section of a report: ``metabench analyze PATH --method irt``.

For every benchmark: which model fits best on held-out cells, item parameters
(most and least informative items, flagged items), abilities with intervals,
test and item information curves, a Wright map, and aberrant models.

Options (``--option key=value``): ``irt_model`` (default ``"auto"``),
``irt_candidates`` (comma-separated, default ``1pl,2pl,3pl,mirt2``; 3pl and 4pl
only with at least 100 models, below which guessing is barely identified),
``irt_top`` (rows in the item tables, default 10), ``level`` (default 0.95).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import polars as pl
from scipy import stats

from metabench.analysis._charts import inline_data, section_slug
from metabench.analysis.registry import AnalysisContext, register
from metabench.errors import MetabenchError
from metabench.irt.diagnostics import flag_items, flag_persons, person_fit
from metabench.irt.estimator import IRT
from metabench.irt.information import item_information, marginal_reliability, test_information
from metabench.report import Chart, Section, Table, Text
from metabench.runs import Exclusion, ResponseMatrix, Runs

__all__ = ["irt_sections", "fit_matrix"]

DEFAULT_CANDIDATES = ("1pl", "2pl", "3pl", "mirt2")
MIN_MODELS_3PL = 100  # below this, guessing is barely identified and EM crawls: 3pl is not tried
GRID = np.linspace(-4, 4, 81)


def fit_matrix(matrix: ResponseMatrix, model: str = "auto", candidates: tuple[str, ...] = DEFAULT_CANDIDATES, seed: int = 0) -> IRT:
    """Fit the report's IRT model to one benchmark's matrix."""
    binary = matrix.is_binary()
    if model == "auto":
        cands = tuple(c for c in candidates if binary or c == "continuous") or ("continuous",)
        if matrix.n_models < MIN_MODELS_3PL:
            cands = tuple(c for c in cands if c not in ("3pl", "4pl")) or cands
        if not binary and "continuous" not in cands:
            cands = ("continuous",)
        if len(cands) == 1:
            return IRT(model=cands[0], seed=seed).fit(matrix)
        return IRT(model="auto", candidates=cands, seed=seed).fit(matrix)
    if not binary and model != "continuous":
        model = "continuous"
    return IRT(model=model, seed=seed).fit(matrix)


def _benchmark_section(name: str, slug: str, matrix: ResponseMatrix, ctx: AnalysisContext) -> Section:
    level = float(ctx.options.get("level", 0.95))
    top = int(ctx.options.get("irt_top", 10))
    model = str(ctx.options.get("irt_model", "auto"))
    cands = ctx.options.get("irt_candidates", ",".join(DEFAULT_CANDIDATES))
    candidates = tuple(c.strip() for c in str(cands).split(",") if c.strip())
    kept, excl = matrix.drop_empty()
    for e in excl:
        ctx.exclude(Exclusion(e.what, f"{name}: {e.reason} (IRT)", e.count, e.examples))
    blocks: list = []
    if kept.n_models < 3 or kept.n_items < 3:
        return Section(name, [Text(f"Too few models ({kept.n_models}) or items ({kept.n_items}) to fit an IRT model.")], key=f"irt-{slug}")
    fit = fit_matrix(kept, model, candidates, ctx.seed)
    multi = fit.spec_.n_dims > 1
    intro = (
        f"**{fit.model_}** fitted to {kept.n_models} systems × {kept.n_items} items "
        f"({kept.coverage:.0%} of cells observed) by marginal MAP (EM with adaptive quadrature): "
        f"{fit.n_iter_} iterations, "
        f"{'converged' if fit.converged_ else '**not converged** (' + (fit.convergence_note_ or 'max_iter reached') + ')'}, "
        f"log-likelihood {fit.loglik_:,.1f}, AIC {fit.aic_:,.1f}, BIC {fit.bic_:,.1f}."
    )
    if not kept.is_binary():
        intro += " Scores are partial credit, so the bounded continuous (fractional logistic) model is used."
    blocks.append(Text(intro))
    if fit.selection_ is not None:
        blocks.append(
            Text(
                f"The model was chosen by log-loss on {fit.holdout:.0%} of the observed cells held out at random "
                "(every candidate fitted on the rest); lower is better."
            )
        )
        blocks.append(Table(fit.selection_, caption=f"{name}: held-out log-loss of the candidate models.", label=f"irt-sel-{slug}"))
    items = fit.item_table()
    items = items.drop([col for col in ("guessing", "slipping") if not (items.get_column(col) != 0).any()])
    a, b, c, s = fit.discrimination_, fit.difficulty_, fit.guessing_, fit.slipping_
    d = 1 - s
    if not multi:
        info = item_information(GRID, a, b, c, d)
        items = items.with_columns(pl.Series("max_information", info.max(axis=0)))
        rel = marginal_reliability(a, b, c, d, sigma=fit.latent_sd_)
        blocks.append(Text(f"Marginal reliability of the whole benchmark: **{rel:.3f}** (latent sd {fit.latent_sd_:.2f})."))
        order = "max_information"
    else:
        order = "discrimination"
        blocks.append(
            Text(
                f"{fit.spec_.n_dims} latent dimensions: discrimination is the multidimensional discrimination ‖a‖ "
                "and difficulty −δ/‖a‖; loadings are identified up to a rotation."
            )
        )
    ranked = items.sort(order, descending=True, maintain_order=True)
    blocks.append(Table(ranked.head(top), caption=f"{name}: the {top} most informative items.", label=f"irt-top-{slug}"))
    blocks.append(Table(ranked.tail(top).reverse(), caption=f"{name}: the {top} least informative items.", label=f"irt-low-{slug}"))
    # wrong answer keys show as negative slopes: judge items by a model that estimates slopes
    slope_fit = fit if fit.spec_.free_slope else IRT(model="2pl" if kept.is_binary() else "continuous").fit(kept)
    flags = flag_items(slope_fit.discrimination_, slope_fit.difficulty_, Y=kept, items=list(kept.items))
    if flags.height:
        reasons = flags.group_by("reason").len().sort(["len", "reason"], descending=[True, False])
        counts = "; ".join(f"{r} {n}" for r, n in reasons.iter_rows())
        shown = flags.sort("discrimination", maintain_order=True).head(20)
        blocks.append(
            Table(
                shown,
                caption=f"{name}: flagged items ({flags.height}: {counts}; the 20 with the lowest discrimination shown"
                + ("" if slope_fit is fit else "; discriminations from a 2PL fit, since the chosen model fixes them")
                + "). "
                "Negative discrimination often means a wrong answer key; near-zero discrimination, an item that does "
                "not separate the systems; items every system (or no system) solves carry no information here.",
                label=f"irt-flag-{slug}",
            )
        )
    else:
        blocks.append(Text("No item has a negative or near-zero discrimination."))
    z = float(stats.norm.ppf(0.5 + level / 2))
    th = np.asarray(fit.abilities_).reshape(kept.n_models, -1)
    se = np.asarray(fit.ability_se_).reshape(kept.n_models, -1)
    abil = pl.DataFrame(
        {
            "system": list(kept.models),
            "theta": th[:, 0],
            "se": se[:, 0],
            "ci_low": th[:, 0] - z * se[:, 0],
            "ci_high": th[:, 0] + z * se[:, 0],
            "mean_score": kept.mean_scores(),
        }
    ).sort("theta", descending=True, maintain_order=True)
    cap = f"{name}: abilities (EAP) with {level:.0%} intervals" + (" on the first dimension." if multi else ".")
    blocks.append(Table(abil, caption=cap, label=f"irt-abil-{slug}"))
    if not multi:
        tinfo = test_information(GRID, a, b, c, d)
        best = np.argsort(-info.max(axis=0))[: min(5, kept.n_items)]
        curves = pl.DataFrame(
            {
                "theta": np.tile(GRID, 1 + len(best)),
                "information": np.concatenate([tinfo] + [info[:, j] for j in best]),
                "curve": ["test"] * len(GRID) + [f"item {kept.items[j]}" for j in best for _ in GRID],
            }
        )
        chart = (
            alt.Chart(inline_data(curves))
            .mark_line()
            .encode(
                x=alt.X("theta:Q", title="ability θ"),
                y=alt.Y("information:Q", title="Fisher information", scale=alt.Scale(type="sqrt")),
                color=alt.Color("curve:N", title=None),
            )
            .properties(width=420, height=220, title=f"{name}: test and item information")
        )
        blocks.append(Chart(chart, caption="Test information and the five most informative items (sqrt scale).", name=f"irt-info-{slug}"))
        wright = pl.concat(
            [
                pl.DataFrame({"value": th[:, 0], "kind": ["systems (ability)"] * kept.n_models}),
                pl.DataFrame({"value": np.clip(b, -6, 6), "kind": ["items (difficulty)"] * kept.n_items}),
            ]
        )
        wchart = (
            alt.Chart(inline_data(wright))
            .mark_bar(opacity=0.8)
            .encode(
                x=alt.X("value:Q", bin=alt.Bin(maxbins=40), title="logit scale (θ and b)"),
                y=alt.Y("count():Q", title="count"),
                row=alt.Row("kind:N", title=None),
                color=alt.Color("kind:N", legend=None),
            )
            .properties(width=420, height=110)
            .resolve_scale(y="independent")
        )
        blocks.append(Chart(wchart, caption=f"{name}: Wright map — items' difficulties above, systems' abilities below, on one logit scale (difficulties clipped to ±6).", name=f"irt-wright-{slug}"))
        pf = person_fit(kept, th[:, 0], a, b, c, d, estimator="map", prior_sd=fit.latent_sd_)
        flagged = flag_persons(pf.get_column("lz_star").to_numpy(), alpha=1 - level, method="holm", persons=list(kept.models))
        bad = flagged.filter(pl.col("aberrant").fill_null(False))
        blocks.append(
            Text(
                f"Person fit (lz*, Snijders 2001; Holm-adjusted at α = {1 - level:.2f}): "
                + (f"{bad.height} system(s) with an aberrant response pattern." if bad.height else "no system has an aberrant response pattern.")
            )
        )
        if bad.height:
            blocks.append(Table(bad, caption=f"{name}: systems whose response patterns do not fit the model.", label=f"irt-pf-{slug}"))
    return Section(name, blocks, key=f"irt-{slug}")


@register(
    "irt",
    title="Item response theory",
    description="IRT per benchmark: model choice by held-out log-loss, item parameters and flags, abilities, information, Wright map.",
    accepts=("runs",),
    order=20,
)
def irt_sections(data: Runs, ctx: AnalysisContext) -> list[Section]:
    """IRT section of a report (one subsection per benchmark)."""
    subs = []
    for k, bench in enumerate(data.benchmarks):
        matrix = data.matrix(bench)
        try:
            subs.append(_benchmark_section(bench, section_slug(k, bench), matrix, ctx))
        except MetabenchError as exc:
            ctx.notes.append(f"IRT on {bench!r} failed: {exc}")
            subs.append(Section(bench, [Text(f"IRT could not be fitted: {exc}")], key=f"irt-{section_slug(k, bench)}"))
    intro = Text(
        "Item response theory places systems and items on one logit scale: P(correct) = c + (d − c)·σ(a(θ − b)). "
        "Models are fitted by marginal MAP with adaptive Gauss–Hermite quadrature, which stays accurate when "
        "every system answers thousands of items, and mild normal priors on item parameters."
    )
    return [Section("Item response theory", [intro], key="irt", subsections=subs)]
