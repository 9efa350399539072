"""Shared fixtures for the report tests: one report that exercises every block type."""

from __future__ import annotations

import altair as alt
import polars as pl
import pytest

from metabench.report import Chart, Provenance, Report, Section, Table, Text

MODELS = ["llama-3-8b", "mistral_7b", "qwen2-7b"]
BENCHMARKS = ["arc", "hellaswag", "mmlu", "gsm8k"]

# A models x benchmarks accuracy grid, deterministic, with one cell missing.
ACCURACY = {
    ("llama-3-8b", "arc"): 0.5981, ("llama-3-8b", "hellaswag"): 0.8212,
    ("llama-3-8b", "mmlu"): 0.6651, ("llama-3-8b", "gsm8k"): 0.4511,
    ("mistral_7b", "arc"): 0.6143, ("mistral_7b", "hellaswag"): 0.8335,
    ("mistral_7b", "mmlu"): 0.6410, ("mistral_7b", "gsm8k"): None,
    ("qwen2-7b", "arc"): 0.6015, ("qwen2-7b", "hellaswag"): 0.8087,
    ("qwen2-7b", "mmlu"): 0.7049, ("qwen2-7b", "gsm8k"): 0.7923,
}  # fmt: skip


def heatmap() -> alt.Chart:
    """Accuracy of every model on every benchmark."""
    data = pl.DataFrame(
        {
            "model": [m for m, _ in ACCURACY],
            "benchmark": [b for _, b in ACCURACY],
            "accuracy": list(ACCURACY.values()),
        }
    )
    return (
        alt.Chart(data, title="Accuracy by model and benchmark")
        .mark_rect()
        .properties(width=240, height=120)
        .encode(
            x=alt.X("benchmark:N", title="Benchmark"),
            y=alt.Y("model:N", title="Model"),
            color=alt.Color("accuracy:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]), title="Accuracy"),
            tooltip=["model", "benchmark", alt.Tooltip("accuracy:Q", format=".3f")],
        )
    )


def bars_with_error_bars() -> alt.LayerChart:
    """Mean accuracy with a 95% interval per model."""
    data = pl.DataFrame(
        {
            "model": MODELS,
            "mean": [0.6339, 0.6963, 0.7269],
            "lo": [0.6012, 0.6611, 0.6950],
            "hi": [0.6666, 0.7315, 0.7588],
        }
    )
    base = alt.Chart(data).encode(x=alt.X("model:N", title="Model"))
    bars = base.mark_bar(color="#4c78a8").encode(
        y=alt.Y("mean:Q", title="Mean accuracy", scale=alt.Scale(domain=[0, 1]))
    )
    errors = base.mark_errorbar(ticks={"size": 16}, color="black").encode(
        y=alt.Y("lo:Q", title="Mean accuracy"), y2="hi:Q"
    )
    return alt.layer(bars, errors).properties(title="Mean accuracy with 95% intervals", width=300)


def make_results_frame() -> pl.DataFrame:
    """Scores with a NaN, a null, floats of very different sizes and LaTeX specials."""
    return pl.DataFrame(
        {
            "model": ["llama-3-8b", "mistral_7b", "qwen2-7b", "gpt_4 & co"],
            "benchmark": ["mmlu_5%", "arc#1", "{gsm8k}", "cost: $5 ~ ^x \\ y"],
            "accuracy": [0.6651234, float("nan"), 0.7049, None],
            "p_value": [3.2e-08, 0.0451, 0.5, 1.0],
            "n_items": [14042, 1172, 1319, 0],
        },
        schema_overrides={"accuracy": pl.Float64},
    )


# A fixed environment as metabench._environment.environment() records it (LaTeX and markdown specials included).
ENVIRONMENT = {
    "python": "3.11.7",
    "python_implementation": "CPython",
    "platform": "Linux-6.1.0-x86_64-with-glibc2.36",
    "machine": "x86_64",
    "metabench": "0.1.0",
    "git_commit": "0123456789abcdef0123456789abcdef01234567",
    "git_dirty": True,
    "packages": {"numpy": "2.4.6", "scikit-learn": "1.9.1", "pyarrow": None, "torch": "2.13.0+cpu"},
    "blas": [
        {
            "library": "openblas",
            "prefix": "libscipy_openblas",
            "version": "0.3.30",
            "threading_layer": "pthreads",
            "num_threads": 2,
        }
    ],
}


def make_provenance() -> Provenance:
    """Fixed provenance with two inputs and some parameters."""
    return Provenance(
        metabench_version="0.1.0",
        command="metabench analyze data/runs --method all",
        created="2024-05-01T12:00:00Z",
        seed=42,
        inputs=[
            {"path": "data/runs/lm_eval_results.jsonl", "format": "lm-eval", "sha256": "ab" * 32, "rows": 12345},
            {"path": "data/leaderboard.csv", "format": "leaderboard", "sha256": "cd" * 32, "rows": 3},
        ],
        parameters={"alpha": 0.05, "bootstrap": 1000, "methods": ["irt", "significance"]},
        environment=ENVIRONMENT,
    )


def make_report(results_frame: pl.DataFrame, provenance: Provenance) -> Report:
    """A report with text, a table with missing values and specials, and two charts."""
    overview = Section(
        "Overview",
        [
            Text(
                "We compare **three** models on *four* benchmarks; see `metabench analyze` and the "
                "[docs](https://example.org/docs).\n\n- accuracy is the mean item score\n- intervals are 95%"
            ),
            Table(
                results_frame,
                caption="Scores and *p*-values",
                notes="NaN and null are both missing; p_value < 0.05 is significant.",
                digits=3,
                label="scores",
            ),
        ],
        key="overview",
    )
    charts = Section(
        "Charts",
        [
            Chart(heatmap(), caption="Accuracy heat-map", name="heatmap"),
            Chart(bars_with_error_bars(), caption="Mean accuracy with 95% intervals"),
        ],
        key="charts",
        subsections=[Section("Details", [Text("Nothing else to see.")], key="charts-details")],
    )
    return Report(
        "Model comparison: 50% & more",
        provenance,
        [overview, charts],
        notes=["1 item excluded from `mmlu`: nobody answered it.", "Model mistral_7b has no gsm8k runs."],
    )


@pytest.fixture
def results_frame() -> pl.DataFrame:
    return make_results_frame()


@pytest.fixture
def provenance() -> Provenance:
    return make_provenance()


@pytest.fixture
def report(results_frame: pl.DataFrame, provenance: Provenance) -> Report:
    return make_report(results_frame, provenance)
