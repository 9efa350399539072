"""Tests of the HELM reader against real helm-run output (tests/fixtures/helm, see its README)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from metabench.errors import InputError
from metabench.io import helm
from metabench.io.detect import discover
from metabench.runs import Runs

SUITE = Path(__file__).resolve().parents[1] / "fixtures" / "helm" / "benchmark_output" / "runs" / "v1"
ECHO = SUITE / "simple_echo:num_input_tokens=2,model=simple_model1"
PARITY = SUITE / "simple_parity:model=simple_model1,data_augmentation=filler0.3"
SIMPLE1 = SUITE / "simple1:model=simple_model1,max_eval_instances=3"
PIS = "per_instance_stats.json"


def _scores(runs: Runs) -> dict[tuple[str, int], float]:
    return {(r["item"], r["seed"]): r["score"] for r in runs.frame.iter_rows(named=True)}


def _copy_run(run: Path, dest: Path) -> Path:
    """Copy one run folder into a fresh suite folder (without the suite's schema.json)."""
    target = dest / "suite" / run.name
    shutil.copytree(run, target)
    return target


# ---------------------------------------------------------------------------
# reading


def test_echo_rows_model_benchmark_seeds() -> None:
    runs = helm.read(ECHO / PIS)
    f = runs.frame
    assert f.height == 8
    assert f["model"].unique().to_list() == ["simple/model1"]
    assert f["benchmark"].unique().to_list() == ["simple_echo:num_input_tokens=2"]
    assert sorted(f["seed"].unique().to_list()) == [0, 1]
    assert "method" not in f.columns
    # exact_match means copied from per_instance_stats.json (the schema's main metric)
    expected = {(i, s): (1.0 if i == "id18" else 0.0) for i in ("id12", "id18", "id14", "id19") for s in (0, 1)}
    assert _scores(runs) == expected
    assert runs.exclusions == ()
    names = [Path(s.path).name for s in runs.sources]
    assert names == [PIS, "run_spec.json", "schema.json"]
    assert all(s.format == "helm" for s in runs.sources)
    assert runs.sources[0].rows == 8


def test_folder_path_reads_the_same_as_the_file() -> None:
    assert helm.read(ECHO).frame.equals(helm.read(ECHO / PIS).frame)


def test_default_metric_comes_from_the_suite_schema() -> None:
    # schema.json names quasi_exact_match as the main metric of group simple_parity
    runs = helm.read(PARITY)
    assert runs.frame["benchmark"].unique().to_list() == ["simple_parity"]
    assert _scores(runs) == {
        ("id60", 0): 0.0,
        ("id38", 0): 0.0,
        ("id41", 0): 1.0,
        ("id74", 0): 0.0,
        ("id56", 0): 0.0,
        ("id80", 0): 0.0,
        ("id85", 0): 1.0,
        ("id87", 0): 1.0,
    }
    [excl] = runs.exclusions
    assert excl.what == "row" and excl.count == 7
    assert "filler_words" in excl.reason and excl.examples == ("id60", "id41", "id74")


def test_default_metric_without_schema_is_exact_match(tmp_path: Path) -> None:
    run = _copy_run(PARITY, tmp_path)
    runs = helm.read(run)
    assert runs.frame.height == 8
    assert set(runs.frame["score"].to_list()) == {0.0}  # exact_match: "odd?" never equals "Odd"
    assert [Path(s.path).name for s in runs.sources] == [PIS, "run_spec.json"]


def test_metric_option() -> None:
    exact = helm.read(PARITY, metric="exact_match")
    assert set(exact.frame["score"].to_list()) == {0.0}
    quasi = helm.read(PARITY, metric="quasi_prefix_exact_match")
    assert sorted(quasi.frame.filter(quasi.frame["score"] == 1.0)["item"].to_list()) == ["id41", "id85", "id87"]


def test_any_unit_metric_can_be_chosen() -> None:
    runs = helm.read(SIMPLE1, metric="finish_reason_unknown")
    assert runs.frame["item"].to_list() == ["id12", "id14", "id18"]  # key order (the file has 12, 18, 14)
    assert runs.frame["score"].to_list() == [1.0, 1.0, 1.0]
    assert runs.frame["benchmark"].unique().to_list() == ["simple1"]


def test_unknown_metric_lists_the_available_ones() -> None:
    with pytest.raises(InputError) as err:
        helm.read(ECHO, metric="accuracy")
    p = err.value.problem
    assert p.kind == "unknown_metric"
    assert p.file == str(ECHO / PIS)
    assert "'accuracy'" in p.message
    for name in ("exact_match", "quasi_exact_match", "prefix_exact_match", "num_prompt_tokens"):
        assert name in p.message


def test_run_without_correctness_metric() -> None:
    with pytest.raises(InputError) as err:
        helm.read(SIMPLE1)
    assert err.value.problem.kind == "unknown_metric"
    assert "finish_reason_unknown" in err.value.problem.message
    assert "metric=" in (err.value.problem.fix or "")


def test_metric_outside_unit_interval() -> None:
    with pytest.raises(InputError) as err:
        helm.read(SIMPLE1, metric="num_prompt_tokens")
    p = err.value.problem
    assert p.kind == "score_out_of_range"
    assert "id12" in p.message and "217.0" in p.message
    assert p.line == 2  # the first element starts on line 2


def test_model_option_overrides_the_run_spec() -> None:
    runs = helm.read(ECHO, model="my-model")
    assert runs.frame["model"].unique().to_list() == ["my-model"]


def test_perturbation_option_reads_the_perturbed_copies() -> None:
    runs = helm.read(PARITY, perturbation="filler_words")
    f = runs.frame
    assert f["method"].unique().to_list() == ["perturbation=filler_words"]
    # id38 was left unchanged by the perturbation, so HELM has no perturbed copy of it
    assert f["item"].to_list() == sorted(["id60", "id41", "id74", "id56", "id80", "id85", "id87"])
    assert _scores(runs)[("id41", 0)] == 1.0 and _scores(runs)[("id74", 0)] == 0.0
    [excl] = runs.exclusions
    assert excl.count == 8 and "unperturbed" in excl.reason
    # the original and the perturbed rows of one model are distinct systems: they merge
    both = Runs.concat([helm.read(PARITY), runs])
    assert both.frame.height == 15


def test_unknown_perturbation() -> None:
    with pytest.raises(InputError) as err:
        helm.read(PARITY, perturbation="typos")
    assert err.value.problem.kind == "unknown_perturbation"
    assert "'filler_words'" in err.value.problem.message
    with pytest.raises(InputError, match="no perturbed instances"):
        helm.read(ECHO, perturbation="typos")


def test_several_run_folders_merge() -> None:
    runs = Runs.concat([helm.read(ECHO), helm.read(PARITY)])
    assert runs.benchmarks == ("simple_echo:num_input_tokens=2", "simple_parity")
    assert runs.frame.height == 16


# ---------------------------------------------------------------------------
# layout variants built from the real files


def test_elements_of_several_metric_classes_are_merged(tmp_path: Path) -> None:
    # HELM concatenates the per-instance stats of each metric class: split every
    # element in two, as a run with two metric classes would have it
    run = _copy_run(ECHO, tmp_path)
    data = json.loads((ECHO / PIS).read_text())
    split = []
    for el in data:
        half = len(el["stats"]) // 2
        split.append({**el, "stats": el["stats"][:half]})
        split.append({**el, "stats": el["stats"][half:]})
    assert any("exact_match" in [s["name"]["name"] for s in e["stats"]] for e in split)
    (run / PIS).write_text(json.dumps(split, indent=2))
    runs = helm.read(run, metric="exact_match")
    assert _scores(runs) == _scores(helm.read(ECHO, metric="exact_match"))
    assert runs.exclusions == ()


def test_repeated_metric_is_counted(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    data = json.loads((ECHO / PIS).read_text())
    data.append(data[1])  # id18, trial 0 again
    (run / PIS).write_text(json.dumps(data, indent=2))
    runs = helm.read(run, metric="exact_match")
    assert runs.frame.height == 8
    assert [(e.what, e.count) for e in runs.exclusions] == [("stat", 1)]


def test_rows_of_another_split_are_counted(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    data = json.loads((ECHO / PIS).read_text())
    for el in data[:2]:  # id12 and id18, trial 0
        for s in el["stats"]:
            s["name"]["split"] = "valid"
    (run / PIS).write_text(json.dumps(data, indent=2))
    runs = helm.read(run, metric="exact_match")
    assert runs.frame.height == 6
    [excl] = runs.exclusions
    assert excl.count == 2 and "valid" in excl.reason and excl.examples == ("id12", "id18")


def test_stat_without_value_is_counted(tmp_path: Path) -> None:
    # a stat HELM could not compute is written with count 0 and no mean
    # (as training_co2_cost is in every element of the fixture)
    run = _copy_run(ECHO, tmp_path)
    data = json.loads((ECHO / PIS).read_text())
    empty = next(s for s in data[0]["stats"] if s["name"]["name"] == "training_co2_cost")
    assert empty == {"name": {"name": "training_co2_cost", "split": "test"}, "count": 0, "sum": 0, "sum_squared": 0}
    for s in data[1]["stats"]:  # id18, trial 0
        if s["name"]["name"] == "exact_match":
            s.clear()
            s.update({"name": {"name": "exact_match", "split": "test"}, "count": 0, "sum": 0, "sum_squared": 0})
    (run / PIS).write_text(json.dumps(data, indent=2))
    runs = helm.read(run, metric="exact_match")
    assert runs.frame.height == 7 and ("id18", 0) not in _scores(runs)
    [excl] = runs.exclusions
    assert excl.count == 1 and excl.examples == ("id18",)


# ---------------------------------------------------------------------------
# broken inputs


def test_truncated_inside_an_element(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    text = (ECHO / PIS).read_text()
    cut = text.index('"mean": ', text.index('"instance_id": "id14"')) + len('"mean": ')
    (run / PIS).write_text(text[:cut])
    with pytest.raises(InputError) as err:
        helm.read(run)
    p = err.value.problem
    assert p.kind == "malformed_json"
    assert p.file == str(run / PIS)
    assert p.line == text[:cut].count("\n") + 1
    assert "truncated" in p.message


def test_truncated_between_elements(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    text = (ECHO / PIS).read_text()
    cut = text.index("\n", text.index('"instance_id": "id14"') - 10)  # the line "  }," before id14
    (run / PIS).write_text(text[:cut])
    with pytest.raises(InputError) as err:
        helm.read(run)
    assert err.value.problem.kind == "malformed_json"
    assert err.value.problem.line == text[:cut].count("\n") + 1


def test_garbage_between_elements(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    text = (ECHO / PIS).read_text()
    pos = text.index('    "instance_id": "id18"') - len("  {\n")
    broken = text[:pos] + "oops\n" + text[pos:]
    (run / PIS).write_text(broken)
    with pytest.raises(InputError) as err:
        helm.read(run)
    assert err.value.problem.kind == "malformed_json"
    assert err.value.problem.line == 320  # "oops" now stands where the element of id18 began


def test_streaming_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = {run: helm.read(run).frame for run in (ECHO, PARITY)}
    monkeypatch.setattr(helm, "_CHUNK", 97)  # every element spans many chunks
    for run, frame in whole.items():
        assert helm.read(run).frame.equals(frame)
    run = _copy_run(ECHO, tmp_path)
    text = (ECHO / PIS).read_text()
    cut = text.index('"mean": ', text.index('"instance_id": "id14"')) + len('"mean": ')
    (run / PIS).write_text(text[:cut])
    with pytest.raises(InputError) as err:
        helm.read(run)
    assert err.value.problem.line == text[:cut].count("\n") + 1


def test_empty_file(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    (run / PIS).write_text("")
    with pytest.raises(InputError) as err:
        helm.read(run)
    assert err.value.problem.kind == "empty"
    (run / PIS).write_text("[]\n")
    with pytest.raises(InputError) as err:
        helm.read(run)
    assert err.value.problem.kind == "empty"


def test_not_a_list(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    (run / PIS).write_text('{"instance_id": "id1"}')
    with pytest.raises(InputError) as err:
        helm.read(run)
    assert err.value.problem.kind == "malformed_json" and err.value.problem.line == 1


def test_element_without_instance_id(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    data = json.loads((ECHO / PIS).read_text())
    del data[1]["instance_id"]
    (run / PIS).write_text(json.dumps(data, indent=2))
    with pytest.raises(InputError) as err:
        helm.read(run)
    assert err.value.problem.kind == "missing_field"
    assert err.value.problem.line == 320  # second element; json.dumps indent=2 of the same data


def test_missing_run_spec(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    (run / "run_spec.json").unlink()
    assert not helm.sniff(run / PIS)
    with pytest.raises(InputError) as err:
        helm.read(run / PIS)
    p = err.value.problem
    assert p.kind == "missing_companion"
    assert "run_spec.json" in p.message and "run_spec.json" in (p.fix or "")


def test_malformed_run_spec(tmp_path: Path) -> None:
    run = _copy_run(ECHO, tmp_path)
    text = (ECHO / "run_spec.json").read_text()
    (run / "run_spec.json").write_text(text[: text.index('"adapter_spec"')])
    with pytest.raises(InputError) as err:
        helm.read(run)
    p = err.value.problem
    assert p.kind == "malformed_json"
    assert p.file == str(run / "run_spec.json")
    assert p.line == text[: text.index('"adapter_spec"')].count("\n") + 1


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        helm.read(tmp_path)
    assert err.value.problem.kind == "not_found"


# ---------------------------------------------------------------------------
# benchmark names


@pytest.mark.parametrize(
    ("name", "benchmark", "method"),
    [
        ("simple1:model=simple_model1,max_eval_instances=3", "simple1", None),
        ("simple_echo:num_input_tokens=2,model=simple_model1", "simple_echo:num_input_tokens=2", None),
        ("simple_parity:model=simple_model1,data_augmentation=filler0.3", "simple_parity", None),
        (
            "mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt2,data_augmentation=canonical",
            "mmlu:subject=anatomy,method=multiple_choice_joint",
            None,
        ),
        ("gsm:model=anthropic_claude-2.0,stop=none", "gsm", None),
        ("wmt_14:language_pair=cs-en,model=openai_gpt-4", "wmt_14:language_pair=cs-en", None),
        (
            "narrative_qa:model=openai_gpt2,eval_split=valid,max_train_instances=0",
            "narrative_qa:eval_split=valid",
            "max_train_instances=0",
        ),
        ("boolq", "boolq", None),
    ],
)
def test_benchmark_and_method(name: str, benchmark: str, method: str | None) -> None:
    assert helm.benchmark_and_method(name) == (benchmark, method)


# ---------------------------------------------------------------------------
# detection


def test_sniff() -> None:
    for run in (ECHO, PARITY, SIMPLE1):
        assert helm.sniff(run / PIS)
        assert not helm.sniff(run / "run_spec.json")
    assert not helm.sniff(SUITE / "schema.json")


def test_companion() -> None:
    for name in ("run_spec.json", "scenario.json", "instances.json", "display_predictions.json"):
        assert helm.companion(ECHO / name), name
    assert helm.companion(SIMPLE1 / "stats.json")
    for name in (
        "schema.json",
        "run_specs.json",
        "runs_to_run_suites.json",
        "groups.json",
        "groups_metadata.json",
        "summary.json",
        "costs.json",
    ):
        assert helm.companion(SUITE / name), name
    assert not helm.companion(ECHO / PIS)


def test_companion_needs_helm_context(tmp_path: Path) -> None:
    for name in ("stats.json", "schema.json", "summary.json", "instances.json", "run_spec.json"):
        (tmp_path / name).write_text("{}")
        assert not helm.companion(tmp_path / name), name


def test_discover_assigns_every_file_of_the_suite() -> None:
    found = discover(SUITE.parent.parent)
    assert sorted(p.parent.name for fmt, p in found.units if fmt == "helm") == sorted(
        [ECHO.name, PARITY.name, SIMPLE1.name]
    )
    assert found.unknown == []
    assert len(found.companions) == 7 + 4 + 4 + 5
