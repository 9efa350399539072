"""Tests of the contamination report section (metabench/analysis/contamination_report.py).

References: the date split rows are compared with direct calls of
``metabench.analysis.contamination.date_split_test`` (tested on its own in
test_contamination.py) on one benchmark at a time, and every Holm adjustment with
statsmodels' ``multipletests(method="holm")`` over the rows of one benchmark and
test. The simulated runs have a known truth: one model answers items created before
its training cut-off better than the 2PL model that generated everyone else's
answers. Probe files are written by hand following the probe format.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.multitest import multipletests

import metabench
from metabench.analysis.contamination import date_split_test
from metabench.analysis.contamination_report import date_metadata, find_probes, read_probe
from metabench.errors import InputError
from metabench.report import Chart, Table, Text
from metabench.runs import Runs

FAST = {"contamination_bootstrap": 200, "contamination_sims": 200}
N_MODELS, N_ITEMS = 8, 200
START = dt.date(2023, 1, 1)
CUTOFF = START + dt.timedelta(days=99)  # items q0..q99 were created on or before it


def _sim(seed: int = 4, boost: float = 0.6, benches: tuple[str, ...] = ("main", "other")) -> pl.DataFrame:
    """2PL answers of m0..m7 on dated benchmarks; on "main", m0 gets ``boost`` of its wrong old answers right."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(-1.2, 1.2, N_MODELS)
    parts = []
    for bench in benches:
        a, b = rng.lognormal(0, 0.25, N_ITEMS), rng.normal(0, 1, N_ITEMS)
        y = (rng.random((N_MODELS, N_ITEMS)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
        if bench == "main":
            old_wrong = np.flatnonzero(y[0, :100] == 0)
            y[0, rng.choice(old_wrong, int(boost * old_wrong.size), replace=False)] = 1.0
        parts.append(
            pl.DataFrame(
                {
                    "model": np.repeat([f"m{i}" for i in range(N_MODELS)], N_ITEMS),
                    "benchmark": bench,
                    "item": np.tile([f"q{j}" for j in range(N_ITEMS)], N_MODELS),
                    "score": y.ravel(),
                    "created": [START + dt.timedelta(days=j) for j in range(N_ITEMS)] * N_MODELS,
                }
            )
        )
    frame = pl.concat(parts)
    # m7 has no known cut-off: it is not tested, but serves as another model for the adjusted difference
    return frame.with_columns(
        pl.when(pl.col("model") == "m7").then(None).otherwise(pl.lit(CUTOFF)).alias("training_cutoff")
    )


def _top(rep):
    (sec,) = rep.sections
    assert sec.key == "contamination"
    return sec


def _signals(rep) -> pl.DataFrame:
    return next(b.frame for b in _top(rep).blocks if isinstance(b, Table) and b.label == "contam-signals")


def _sub(rep, name: str):
    return next(s for s in _top(rep).subsections if s.title == name)


def _text(section) -> str:
    return " ".join(b.markdown for b in section.blocks if isinstance(b, Text))


def _holm(p) -> np.ndarray:
    return multipletests(np.asarray(p, dtype=float), method="holm")[1]


def _check_date_rows(rep, runs: Runs) -> pl.DataFrame:
    """The report's date split rows equal direct single-benchmark calls; Holm is within each benchmark."""
    sig = _signals(rep).filter(pl.col("test") == "date_split")
    cutoffs = {f"m{i}": CUTOFF for i in range(N_MODELS - 1)}
    for bench in ("main", "other"):
        direct = date_split_test(runs.filter(benchmark=bench), "created", cutoffs).to_frame()
        assert direct["primary"].to_list() == ["did"] * (N_MODELS - 1)
        mine = sig.filter(pl.col("benchmark") == bench).sort("model")
        assert mine["model"].to_list() == direct["model"].to_list()
        np.testing.assert_allclose(mine["statistic"], direct["did"], rtol=1e-12)
        np.testing.assert_allclose(mine["p_value"], direct["did_p_value"], rtol=1e-12)
        np.testing.assert_allclose(mine["p_adjusted"], direct["p_adjusted"], rtol=1e-12)
        np.testing.assert_allclose(mine["p_adjusted"], _holm(direct["did_p_value"]), rtol=1e-12)
        assert mine["flagged"].to_list() == direct["flagged"].to_list()
        table = next(
            b.frame for b in _sub(rep, bench).blocks if isinstance(b, Table) and b.label.startswith("contam-date")
        )
        assert table.sort("model").equals(direct.drop("benchmark").sort("model"))
    return sig


def test_date_split_from_columns_flags_the_boosted_model():
    runs = Runs(_sim())
    rep = metabench.analyze(runs, ["contamination"], options=FAST)
    sig = _check_date_rows(rep, runs)
    flagged = sig.filter(pl.col("flagged"))
    assert flagged.select("model", "benchmark").rows() == [("m0", "main")]
    m0 = sig.filter((pl.col("model") == "m0") & (pl.col("benchmark") == "main")).row(0, named=True)
    assert m0["statistic"] > 0.1  # true excess: 0.6 of the ~half of old items m0 got wrong
    assert "m7" not in sig["model"].to_list()
    main = _sub(rep, "main")
    assert "m0 scores" in _text(main) and "training cut-off (2023-04-10)" in _text(main)
    assert "date split" in _text(_sub(rep, "other"))  # listed among the tests that ran, nothing flagged
    assert "column `created`" in _text(_top(rep))
    # every test of the section is in the signals table, and the heat map shows each row with a p-value
    sig_all = _signals(rep)
    assert set(sig_all["test"]) == {"constat", "lz_star", "guttman", "date_split"}
    assert sig_all.height == 2 * (N_MODELS * 3 + N_MODELS - 1)
    (chart,) = [b for b in _top(rep).blocks if isinstance(b, Chart)]
    values = (
        chart.spec["layer"][0]["data"]["values"] if "data" in chart.spec["layer"][0] else chart.spec["data"]["values"]
    )
    assert len(values) == sig_all.filter(pl.col("p_value").is_not_nan()).height
    # Holm over the systems of one benchmark and test, for the runs-only tests as well
    for _, g in sig_all.group_by(["benchmark", "test"]):
        assert g["p_value"].is_not_nan().all()
        np.testing.assert_allclose(g["p_adjusted"], _holm(g["p_value"]), rtol=1e-9)


def test_date_split_from_option_files_matches_the_columns(tmp_path):
    frame = _sim()
    with_cols = metabench.analyze(Runs(frame), ["contamination"], options=FAST)
    items = frame.select("benchmark", "item", pl.col("created").cast(pl.String)).unique()
    items.write_csv(tmp_path / "items.csv")
    cutoffs = frame.select("model", "training_cutoff").unique().drop_nulls()
    cutoffs.write_parquet(tmp_path / "cutoffs.parquet")
    runs = Runs(frame.drop("created", "training_cutoff"))
    opts = {**FAST, "item_dates": str(tmp_path / "items.csv"), "model_cutoffs": str(tmp_path / "cutoffs.parquet")}
    rep = metabench.analyze(runs, ["contamination"], options=opts)
    _check_date_rows(rep, Runs(frame))
    assert _signals(rep).equals(_signals(with_cols))
    assert "`items.csv`" in _text(_top(rep)) and "`cutoffs.parquet`" in _text(_top(rep))


def test_no_dates_is_said_in_one_sentence():
    frame = _sim(benches=("main",)).drop("created", "training_cutoff")
    rep = metabench.analyze(Runs(frame), ["contamination"], options=FAST)
    sentences = [t for t in _text(_top(rep)).split(". ") if "No date split" in t]
    assert len(sentences) == 1 and "created" in sentences[0] and "training_cutoff" in sentences[0]
    assert "date_split" not in _signals(rep)["test"].to_list()
    only_items = date_metadata(Runs(_sim(benches=("main",)).drop("training_cutoff")))
    assert not only_items.available and "training_cutoff" in only_items.describe()


def test_dates_must_be_constant_per_item_and_model(tmp_path):
    frame = _sim(benches=("main",))
    bad_item = frame.with_columns(
        pl.when((pl.col("model") == "m2") & (pl.col("item") == "q5"))
        .then(pl.lit(dt.date(2020, 1, 1)))
        .otherwise(pl.col("created"))
        .alias("created")
    )
    with pytest.raises(InputError, match=r"'created'.*item 'q5' of 'main'"):
        date_metadata(Runs(bad_item))
    # in a report, date columns that are not one date per item skip the date split with a note; the rest runs
    rep = metabench.analyze(Runs(bad_item), ["contamination"], options=FAST)
    assert "date_split" not in _signals(rep)["test"].to_list()
    assert len(_signals(rep)) > 0
    assert any("date split was skipped" in n and "q5" in n for n in rep.notes)
    bad_model = frame.with_columns(
        pl.when((pl.col("model") == "m3") & (pl.col("item") == "q9"))
        .then(pl.lit(dt.date(2021, 1, 1)))
        .otherwise(pl.col("training_cutoff"))
        .alias("training_cutoff")
    )
    with pytest.raises(InputError, match=r"'training_cutoff'.*model 'm3'"):
        date_metadata(Runs(bad_model))
    pl.DataFrame({"model": ["m0", "m0"], "cutoff": ["2023-01-01", "2024-01-01"]}).write_csv(tmp_path / "c.csv")
    with pytest.raises(InputError, match="model 'm0'") as err:
        date_metadata(Runs(frame), {"model_cutoffs": str(tmp_path / "c.csv")})
    assert err.value.problem.file == str(tmp_path / "c.csv")
    pl.DataFrame({"benchmark": ["main"], "item": ["q1"], "created": ["soon"]}).write_csv(tmp_path / "d.csv")
    with pytest.raises(InputError, match="'soon'"):
        date_metadata(Runs(frame), {"item_dates": str(tmp_path / "d.csv")})


def _probe(model: str, bench: str, tests: list[dict]) -> dict:
    return {
        "metabench_probe": 1,
        "model": model,
        "benchmark": bench,
        "n_items": 40,
        "n_reference": 40,
        "created": "2026-01-02T03:04:05Z",
        "settings": {"k": 0.2, "seed": 0},
        "tests": tests,
    }


def _probe_tests(p_min_k: float, p_exch: float) -> list[dict]:
    return [
        {"test": "exchangeability", "statistic": 2.1, "p_value": p_exch, "n": 40,
         "detail": {"shards": 10, "permutations": 50, "p_value_t": p_exch, "p_value_permutation": 0.02}},
        {"test": "min_k", "statistic": 0.81, "p_value": p_min_k, "ci_low": 0.7, "ci_high": 0.9, "n": 40},
        {"test": "ts_guessing", "statistic": 0.05, "p_value": None, "n": 40, "detail": {"matches": 2}},
    ]  # fmt: skip


def test_probe_files_beside_the_runs_and_named_by_option(tmp_path):
    runs_dir = tmp_path / "runs"
    Runs(_sim(benches=("main",)).drop("created", "training_cutoff")).write(runs_dir / "runs.parquet")
    p_min_k = {"m0": 0.0004, "m1": 0.2, "m2": 0.03}
    p_exch = {"m0": 0.001, "m1": 0.5, "m2": 0.9}
    (runs_dir / "probe.json").write_text(json.dumps(_probe("m0", "main", _probe_tests(p_min_k["m0"], p_exch["m0"]))))
    pl.DataFrame(
        {"model": ["m0"], "benchmark": ["main"], "item": ["q0"], "set": ["benchmark"], "min_k": [-1.5],
         "min_k_plus_plus": [float("nan")], "zlib_ratio": [0.02]}
    ).write_parquet(runs_dir / "probe_items.parquet")  # fmt: skip
    for m in ("m1", "m2"):
        d = tmp_path / "probes" / m
        d.mkdir(parents=True)
        (d / "probe.json").write_text(json.dumps(_probe(m, "main", _probe_tests(p_min_k[m], p_exch[m]))))
    (tmp_path / "probes" / "probe_unrelated.json").write_text("{}")  # no marker: not a probe file
    # a probe of a benchmark the runs do not hold still shows
    (tmp_path / "probes" / "probe_other.json").write_text(json.dumps(_probe("m5", "medqa", _probe_tests(0.01, 0.2))))

    runs = metabench.load(runs_dir)  # the probe files beside the runs are not runs
    assert runs.benchmarks == ("main",) and len(runs) == N_MODELS * N_ITEMS
    rep = metabench.analyze(runs, ["contamination"], options={**FAST, "contamination_probes": str(tmp_path / "probes")})
    sig = _signals(rep)
    probes = sig.filter(pl.col("test").is_in(["exchangeability", "min_k", "ts_guessing"]))
    main = probes.filter(pl.col("benchmark") == "main")
    assert main.height == 9
    for test, truth in (("min_k", p_min_k), ("exchangeability", p_exch)):
        rows = main.filter(pl.col("test") == test).sort("model")
        assert rows["model"].to_list() == ["m0", "m1", "m2"]
        p = [truth[m] for m in ("m0", "m1", "m2")]
        assert rows["p_value"].to_list() == p
        np.testing.assert_allclose(rows["p_adjusted"], _holm(p), rtol=1e-12)
        assert rows["flagged"].to_list() == list(_holm(p) <= 0.05)
    ts = main.filter(pl.col("test") == "ts_guessing")
    assert ts["p_value"].is_nan().all() and ts["flagged"].is_null().all()
    assert ts["statistic"].to_list() == [0.05] * 3
    other = probes.filter(pl.col("benchmark") == "medqa")
    # one model probed on medqa: nothing to adjust over
    assert other["model"].to_list() == ["m5"] * 3
    assert other.filter(pl.col("test") != "ts_guessing").select("test", "p_value", "p_adjusted").sort(
        "test"
    ).rows() == [
        ("exchangeability", 0.2, 0.2),
        ("min_k", 0.01, 0.01),
    ]
    text = _text(_sub(rep, "main"))
    assert "m0 assigns benchmark items higher likelihood" in text and "exchangeability test" in text
    assert "m1 assigns" not in text
    assert any(s.title == "medqa" for s in _top(rep).subsections)
    table = next(
        b.frame for b in _sub(rep, "main").blocks if isinstance(b, Table) and b.label.startswith("contam-probe")
    )
    assert set(table["file"].to_list()) == {
        str(runs_dir / "probe.json"),
        str(tmp_path / "probes" / "m1" / "probe.json"),
        str(tmp_path / "probes" / "m2" / "probe.json"),
    }
    # without the option, only the file beside the runs is found; a folder the runs were loaded from is searched
    found = find_probes(runs)
    assert found == [runs_dir / "probe.json"]
    assert len(find_probes(runs, search=[tmp_path])) == 4
    via_inputs = _signals(metabench.analyze(runs, ["contamination"], options={**FAST, "input_paths": [str(tmp_path)]}))
    assert via_inputs.filter(pl.col("test") == "min_k").height == 4
    alone = _signals(metabench.analyze(runs, ["contamination"], options=FAST))
    assert alone.filter(pl.col("test") == "min_k").select("model", "p_value", "p_adjusted").rows() == [
        ("m0", 0.0004, 0.0004)
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"metabench_probe": 1, "model": "m0", "benchmark": "main", "tests": [{"test": "min_k", "sta', "not valid JSON"),
        ('{"metabench_probe": 1, "model": "m0", "benchmark": "main", "tests": [{"test": "min_k", "p_value": "low"}]}',
         r"tests\[0\].p_value"),
        ('{"metabench_probe": 1, "model": "m0", "benchmark": "main", "tests": [{"test": "min_k", "p_value": 1.5}]}',
         "outside"),
        ('{"metabench_probe": 1, "benchmark": "main", "tests": []}', "'model'"),
        ('{"metabench_probe": 9, "model": "m0", "benchmark": "main", "tests": []}', "newer"),
    ],
)  # fmt: skip
def test_malformed_probe_file_names_the_file(tmp_path, content, message):
    Runs(_sim(benches=("main",)).drop("created", "training_cutoff")).write(tmp_path / "runs.parquet")
    (tmp_path / "probe.json").write_text(content)
    runs = metabench.load(tmp_path / "runs.parquet")
    with pytest.raises(InputError, match=message) as err:
        metabench.analyze(runs, ["contamination"], options=FAST)
    assert err.value.problem.file == str(tmp_path / "probe.json")
    assert err.value.problem.fix


def test_a_named_file_must_be_a_probe(tmp_path):
    (tmp_path / "notes.json").write_text('{"model": "m0"}')
    with pytest.raises(InputError, match="metabench_probe") as err:
        read_probe(tmp_path / "notes.json")
    assert err.value.problem.file == str(tmp_path / "notes.json")
    with pytest.raises(InputError, match="no such probe"):
        find_probes(paths=[tmp_path / "missing"])


def test_reads_the_file_the_probe_command_writes(tmp_path):
    """The reader against the writer of ``metabench probe`` (its ``ProbeResult.to_dict``, written as the command does)."""
    import orjson

    probe_mod = pytest.importorskip("metabench.run.probe")
    tests = _probe_tests(0.004, float("nan"))
    res = probe_mod.ProbeResult(
        model="m0",
        benchmark="main",
        n_items=40,
        n_reference=40,
        created="2026-01-02T03:04:05Z",
        settings={"k": 0.2, "skipped": {"min_k_plus_plus": "no reference"}},
        tests=tuple(tests),
        items=pl.DataFrame(),
    )
    path = tmp_path / probe_mod.PROBE_NAME
    path.write_bytes(orjson.dumps(res.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    got = read_probe(path)
    assert (got.model, got.benchmark, got.n_items, got.n_reference, got.created) == (
        "m0",
        "main",
        40,
        40,
        "2026-01-02T03:04:05Z",
    )
    assert got.tests.with_columns(pl.col(pl.Float64).fill_nan(None)).equals(res.to_frame())
    assert find_probes(paths=[tmp_path]) == [path]


def test_many_person_fit_flags_are_read_as_model_misfit(monkeypatch):
    """When person fit flags most systems of a benchmark, the section says the IRT model misfits it.

    Person fit is replaced by a stand-in that flags six of eight systems, then two: the
    rule under test is the report's reading of the flags, not the test itself (on
    MMLU-Pro's 12,032 items, which differ in subject, several systems are flagged).
    """
    import metabench.analysis.contamination_report as cr

    class Flags:
        def __init__(self, n_flagged: int) -> None:
            self.n_flagged = n_flagged

        def to_frame(self) -> pl.DataFrame:
            models = [f"m{i}" for i in range(N_MODELS)]
            flagged = [i < self.n_flagged for i in range(N_MODELS)]
            return pl.DataFrame(
                {
                    "model": models,
                    "statistic": ["lz_star"] * N_MODELS,
                    "value": [-5.0 if f else 0.0 for f in flagged],
                    "p_value": [0.001 if f else 0.5 for f in flagged],
                    "p_adjusted": [0.008 if f else 1.0 for f in flagged],
                    "flagged": flagged,
                    "p_mc_se": [0.0005 if f else 0.05 for f in flagged],
                    "decision_stable": [True] * N_MODELS,
                }
            )

    runs = Runs(_sim(benches=("main",)).drop("created", "training_cutoff"))
    monkeypatch.setattr(cr, "person_fit_test", lambda *a, **k: Flags(6))
    text = _text(_sub(metabench.analyze(runs, ["contamination"], options=FAST), "main"))
    assert "6 of 8 systems" in text and "misfits" in text
    # two flags are read as possible contamination, with no such caution
    monkeypatch.setattr(cr, "person_fit_test", lambda *a, **k: Flags(2))
    rep = metabench.analyze(runs, ["contamination"], options=FAST)
    assert "misfits" not in _text(_sub(rep, "main"))
