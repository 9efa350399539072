"""Run identity: seeds, methods, re-runs, failed runs, and item alignment across harnesses.

The expected values are worked out by hand from the rules in metabench/io/identity.py
(each case is small enough to enumerate); hypothesis checks that the result does not
depend on the order of the inputs.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metabench.io.identity import align_sources, content_key, item_key_table, normalise_text, resolve_runs
from metabench.runs import RunIdentity, Runs, SourceFile


def part(
    *,
    harness="lm_eval",
    model="m",
    task="t",
    shots="0",
    seed=1,
    ts="2026-01-01",
    status="complete",
    items=("0", "1"),
    scores=(1.0, 0.0),
    seeds=None,
    texts=None,
    prompts=False,
    path=None,
):
    ident = RunIdentity(
        harness,
        model,
        task,
        config=(("num_fewshot", shots),),
        seeds=(("random_seed", seed),),
        timestamp=ts,
        status=status,
        reason=None if status == "complete" else "boom",
        run=path or f"{harness}/{model}/{task}/{ts}/{shots}/{seed}",
    )
    frame = {
        "model": [model] * len(items),
        "benchmark": [task] * len(items),
        "item": list(items),
        "score": list(scores),
    }
    if seeds is not None:
        frame["seed"] = list(seeds)
    keys = item_key_table(harness, task, list(items), list(texts), prompts=prompts) if texts is not None else None
    return Runs(
        frame,
        sources=[SourceFile(path or ident.run, harness, rows=len(items), run=ident)],
        item_keys=keys,
    )


def combined(parts):
    return Runs.concat(parts).frame


# --------------------------------------------------------------------------- text keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Which organ produces insulin?", "Question: Which organ produces insulin?\nAnswer:"),
        ("Which organ produces insulin?", "Q: which organ produces   INSULIN ?\nA:"),
        ("Which organ produces insulin?", "Which organ produces insulin?\nA. Liver\nB. Pancreas\nC. Spleen\nAnswer:"),
        ("Which organ produces insulin?", "Which organ produces insulin?\n(A) Liver\n(B) Pancreas"),
        ("café", "cafe\u0301"),  # NFKC composes the accent
    ],
)
def test_template_variants_share_a_key(a, b):
    assert content_key(a) == content_key(b)


def test_different_questions_differ():
    assert content_key("What is 2 + 2?") != content_key("What is 2 + 3?")
    assert content_key("") is None and content_key(None) is None and content_key("?!") is None
    # a lone "A." line is not a choice block (no "B." after it): the text is kept
    assert normalise_text("See part\nA. of the report") == "see part a of the report"


# --------------------------------------------------------------------------- resolve


def test_seed_runs_become_seeds_with_their_seed_values():
    res = resolve_runs([part(seed=1234, ts="a"), part(seed=42, ts="b")])
    frame = combined(res.parts)
    assert sorted(frame["seed"].unique().to_list()) == [42, 1234]
    assert "method" not in frame.columns
    assert not res.exclusions


def test_exact_rerun_keeps_the_latest_and_lists_the_other():
    old = part(ts="2026-01-01", scores=(0.0, 0.0), path="old")
    new = part(ts="2026-02-01", scores=(1.0, 1.0), path="new")
    res = resolve_runs([new, old])
    assert combined(res.parts)["score"].to_list() == [1.0, 1.0]
    (ex,) = res.exclusions
    assert ex.count == 1 and ex.examples == ("old",)
    res = resolve_runs([new, old], reruns="seeds")
    frame = combined(res.parts)
    assert frame.height == 4 and sorted(frame["seed"].unique().to_list()) == [0, 1]
    # the earlier run first: its scores are seed 0
    assert frame.filter(pl.col("seed") == 0)["score"].to_list() == [0.0, 0.0]


def test_prompting_variants_are_methods_for_every_task_of_the_model():
    parts = [
        part(task="t", shots="0", seed=1),
        part(task="t", shots="2", seed=1),
        part(task="u", shots="0", seed=1),
        part(model="other", task="t", shots="0", seed=1),
    ]
    frame = combined(resolve_runs(parts).parts)
    systems = frame.select(
        pl.concat_str(["model", "method", "benchmark"], separator="|", ignore_nulls=True)
    ).to_series()
    assert sorted(systems.unique().to_list()) == ["m|0-shot|t", "m|0-shot|u", "m|2-shot|t", "other|t"]


def test_epochs_of_two_runs_are_stacked():
    one = part(ts="a", seed=None, items=("0", "1"), scores=(1.0, 1.0), seeds=(0, 0))
    three = part(ts="b", seed=None, items=("0", "1") * 3, scores=(0.0,) * 6, seeds=(0, 0, 1, 1, 2, 2))
    frame = combined(resolve_runs([one, three], reruns="seeds").parts)
    assert sorted(frame["seed"].unique().to_list()) == [0, 1, 2, 3]
    # default: the latest complete run (three epochs) only
    frame = combined(resolve_runs([one, three]).parts)
    assert frame.height == 6 and frame["score"].sum() == 0.0


def test_failed_run_is_skipped_with_its_reason_unless_named():
    ok, bad = part(ts="a"), part(ts="b", status="error", seed=2)
    res = resolve_runs([ok, bad])
    assert len(res.parts) == 1
    (ex,) = res.exclusions
    assert "status 'error': boom" in ex.reason
    res = resolve_runs([ok, bad], keep_incomplete={id(bad)})
    assert len(res.parts) == 2


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(6))))
def test_resolution_does_not_depend_on_input_order(order):
    parts = [
        part(ts="1", seed=1, scores=(0.0, 1.0)),
        part(ts="2", seed=1, scores=(1.0, 1.0)),
        part(ts="3", seed=7, scores=(0.0, 0.0)),
        part(ts="4", seed=7, shots="5", scores=(1.0, 0.0)),
        part(ts="5", seed=1, status="cancelled"),
        part(model="b", ts="6", seed=1),
    ]
    want = combined(resolve_runs(parts).parts)
    got = combined(resolve_runs([parts[k] for k in order]).parts)
    assert got.equals(want)


# --------------------------------------------------------------------------- align

QUESTIONS = [f"Question number {k}: which organ does thing {k}?" for k in range(10)]


def test_sources_with_other_ids_are_aligned_on_question_text():
    lm = part(harness="lm_eval", model="a", items=[str(k) for k in range(10)], scores=[1.0] * 10, texts=QUESTIONS)
    ins = part(
        harness="inspect_ai",
        model="b",
        items=[f"mc{k:02d}" for k in range(10)],
        scores=[0.0] * 10,
        texts=[f"Question: {q}\nAnswer:" for q in QUESTIONS],
    )
    res = align_sources([ins, lm], order=("lm_eval", "inspect_ai"))
    frame = combined(res.parts)
    assert frame["benchmark"].unique().to_list() == ["t"]
    assert frame["item"].n_unique() == 10
    assert any("10 of 10 matched (10 under another id)" in n for n in res.notes)


def test_sources_that_do_not_match_stay_apart():
    lm = part(harness="lm_eval", items=["0", "1"], texts=["alpha beta", "gamma delta"])
    other = part(harness="lighteval", model="x", items=["0", "1"], texts=["something else", "entirely"])
    res = align_sources([lm, other], order=("lm_eval", "lighteval"))
    frame = combined(res.parts)
    assert sorted(frame["benchmark"].unique().to_list()) == ["t", "t [lighteval]"]
    assert any("separate benchmark" in n for n in res.notes)


def test_sources_without_text_and_other_ids_stay_apart():
    a = part(harness="lm_eval", items=["0", "1"])
    b = part(harness="helm", model="x", items=["id0", "id1"])
    res = align_sources([a, b], order=("lm_eval", "helm"))
    assert sorted(combined(res.parts)["benchmark"].unique().to_list()) == ["t", "t [helm]"]
    # the same ids without text: merged, with a note that nothing could be checked
    c = part(harness="helm", model="x", items=["0", "1"])
    res = align_sources([a, c], order=("lm_eval", "helm"))
    assert combined(res.parts)["benchmark"].unique().to_list() == ["t"]
    assert any("without a check" in n for n in res.notes)


def test_partly_matching_source_keeps_unmatched_items_apart():
    lm = part(harness="lm_eval", items=["0", "1", "2"], scores=[1.0] * 3, texts=["q zero", "q one", "q two"])
    ins = part(
        harness="inspect_ai", model="b", items=["x", "y", "z"], scores=[0.0] * 3, texts=["q zero", "q one", "new"]
    )
    frame = combined(align_sources([lm, ins], order=("lm_eval", "inspect_ai")).parts)
    assert sorted(frame.filter(pl.col("model") == "b")["item"].to_list()) == ["0", "1", "z [inspect_ai]"]


def test_one_model_through_two_harnesses_is_two_systems():
    texts = ["q zero", "q one"]
    a = part(harness="lm_eval", model="m", items=["0", "1"], scores=[1.0, 0.0], texts=texts)
    b = part(harness="inspect_ai", model="m", items=["x", "y"], scores=[0.0, 0.0], texts=texts)
    other = part(harness="inspect_ai", model="n", task="u", items=["0"], scores=[1.0])
    res = align_sources([a, b, other], order=("lm_eval", "inspect_ai"))
    runs = Runs.concat(res.parts)  # no key clash
    assert runs.systems == ("m|inspect_ai", "m|lm_eval", "n")
    assert runs.matrix("t").n_items == 2
    assert any("separate system" in n for n in res.notes)


def test_runs_a_reader_gave_methods_are_not_reruns_of_each_other():
    # HELM names prompting variants in the run name (rows' method); the identities carry no config
    def helm(method, ts):
        ident = RunIdentity("helm", "m", "t", timestamp=ts, run=ts, repeats="trial")
        return Runs(
            {"model": ["m"], "benchmark": ["t"], "item": ["0"], "score": [1.0], "method": [method]},
            sources=[SourceFile(ts, "helm", rows=1, run=ident)],
        )

    res = resolve_runs([helm("max_train_instances=0", "a"), helm("max_train_instances=5", "b")])
    assert not res.exclusions
    assert sorted(Runs.concat(res.parts).systems) == ["m|max_train_instances=0", "m|max_train_instances=5"]


def test_latest_complete_run_wins_over_a_later_partial_one_kept_by_name():
    done = part(ts="2026-01-01", scores=(1.0, 1.0), path="done")
    later = part(ts="2026-02-01", scores=(0.0, 0.0), status="partial", path="later")
    res = resolve_runs([later, done], keep_incomplete={id(later)})
    assert combined(res.parts)["score"].to_list() == [1.0, 1.0]
    assert res.exclusions[0].examples == ("later",)


# questions worded like MedQA vignettes: several share their last sentence
VIGNETTES = [
    f"A {20 + k}-year-old patient presents with fever for {k + 2} days. Which of the following is the most likely diagnosis?"
    for k in range(12)
]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda q: (
            f"The following are multiple choice questions (with answers) about medicine.\n\n{q}\nA. x\nB. y\nAnswer:"
        ),
        lambda q: f"{q}\n\nAnswer with the letter of the correct option only.",
        lambda q: f"You are a careful physician. Read the question.\n{q}\nThink step by step. Then answer.",
    ],
    ids=["preamble", "instruction", "both"],
)
def test_a_prompt_wrapping_the_question_is_matched_to_it(wrap):
    lm = part(harness="lm_eval", items=[str(k) for k in range(12)], scores=[1.0] * 12, texts=VIGNETTES)
    prompts = [wrap(q) for q in VIGNETTES]
    le = part(
        harness="lighteval",
        model="b",
        items=[f"q{k}" for k in range(12)],
        scores=[0.0] * 12,
        texts=prompts,
        prompts=True,
    )
    frame = combined(align_sources([lm, le], order=("lm_eval", "lighteval")).parts)
    got = dict(frame.filter(pl.col("model") == "b").select("item", "score").rows())
    assert sorted(got, key=int) == [str(k) for k in range(12)]  # q{k} -> k, every one


def test_shared_sentences_alone_do_not_match():
    # the vignettes share their last sentence: a prompt holding only that sentence matches none of them
    lm = part(harness="lm_eval", items=[str(k) for k in range(12)], scores=[1.0] * 12, texts=VIGNETTES)
    odd = "Context first.\nWhich of the following is the most likely diagnosis?"
    x = part(harness="inspect_ai", model="b", items=["z"], scores=[0.0], texts=[odd], prompts=True)
    res = align_sources([lm, x], order=("lm_eval", "inspect_ai"))
    assert sorted(combined(res.parts)["benchmark"].unique().to_list()) == ["t", "t [inspect_ai]"]


def test_raw_questions_match_a_reference_that_logs_prompts():
    prompts = [f"Answer as a doctor would.\n{q}\nAnswer:" for q in VIGNETTES]
    le = part(
        harness="lighteval",
        model="b",
        items=[f"q{k}" for k in range(12)],
        scores=[0.0] * 12,
        texts=prompts,
        prompts=True,
    )
    lm = part(harness="lm_eval", items=[str(k) for k in range(6)], scores=[1.0] * 6, texts=VIGNETTES[:6])
    frame = combined(align_sources([lm, le], order=("lm_eval", "lighteval")).parts)  # lighteval has more items
    got = sorted(frame.filter(pl.col("model") == "m")["item"].to_list())
    assert got == sorted(f"q{k}" for k in range(6))
