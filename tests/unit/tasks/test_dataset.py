"""`explain_dataset` (whyword/tasks/dataset.py): every row's records equal `explain` of that
row alone; bad rows are failed records with their reason while the others go on; results are
written batch by batch, and a run interrupted after k rows resumes to the file an
uninterrupted run writes, computing no row twice."""

from __future__ import annotations

import json

import pytest

from tests.tolerances import LOG_PROB, PADDED_CURVE, TINY_FP32, assert_close, for_scores
from whyword.engine.cache import RESULTS
from whyword.errors import InputError
from whyword.tasks import dataset as dataset_task
from whyword.tasks.dataset import explain_dataset
from whyword.tasks.explain import explain
from whyword.tasks.rows import rows_of

METHODS = ("saliency", "occlusion")
ROWS = [
    {"text": "The capital of France is"},
    {"text": "The keys to the cabinet are on the", "target": " the"},
    {"text": "I plan to go", "foil": " to"},
    {"text": ""},
    {"id": "long", "text": "one two three four five six seven eight nine ten eleven twelve"},
    {"text": "the cat sat on the"},
]
pytestmark = pytest.mark.usefixtures("one_torch_thread")
OPTIONS = {"faithfulness": True, "k": 5, "max_tokens": 16}


@pytest.fixture
def calls(monkeypatch) -> list[list[str]]:
    """The texts of every `explain_many` call a run makes (the real engine, counted)."""
    seen: list[list[str]] = []
    real = dataset_task.explain_many

    def counted(lm, requests, methods, opts):
        seen.append([r.text for r in requests])
        return real(lm, requests, methods, opts)

    monkeypatch.setattr(dataset_task, "explain_many", counted)
    return seen


@pytest.mark.numerics
def test_each_row_equals_explain_alone_and_bad_rows_fail_with_a_reason(tiny_gpt2, calls):
    results = explain_dataset(ROWS, METHODS, tiny_gpt2, batch_size=4, progress=False, **OPTIONS)
    ids = ("0", "1", "2", "3", "long", "5")
    assert [(r.id, r.method) for r in results] == [(i, m) for i in ids for m in METHODS]
    assert len(calls) == 2  # 6 rows in batches of 4; the empty row never reaches the engine
    assert sum(map(len, calls)) == 5
    failed = {r.id: r.reason for r in results if r.status == "failed"}
    assert failed["3"] == "Row 3's text is empty."
    assert "long" in failed and "16" in failed["long"]  # the engine's own sentence for the row
    assert set(failed) == {"3", "long"}
    for number, row in enumerate(ROWS):
        records = [r for r in results if r.id == row.get("id", str(number)) and r.status == "ok"]
        if not records:
            continue
        RESULTS.clear()
        alone = explain(
            row["text"], row.get("target"), row.get("foil"), METHODS, model=tiny_gpt2, **OPTIONS
        )
        for record, a in zip(records, alone.attributions, strict=True):
            assert record.method == a.method and record.model == tiny_gpt2.name
            assert (record.target, record.foil) == (alone.target, alone.foil)
            assert record.tokens == tuple(t.text for t in alone.tokens)
            assert record.objective == alone.formula
            assert_close(record.value, alone.value, LOG_PROB, "value")
            assert_close(record.scores, a.scores, for_scores(a.method, TINY_FP32), a.method)
            for field in ("deletion", "insertion", "random_deletion", "random_insertion"):
                assert_close(getattr(record, field), getattr(a, field), PADDED_CURVE, field)


def test_an_interrupted_run_resumes_to_the_uninterrupted_file(tiny_gpt2, calls, tmp_path):
    rows = [r for r in ROWS if r["text"]]
    whole = tmp_path / "whole.jsonl"
    explain_dataset(rows, METHODS, tiny_gpt2, out=whole, batch_size=2, progress=False)
    assert sum(map(len, calls)) == len(rows)
    calls.clear()

    def stop(_records):
        raise KeyboardInterrupt  # as if the process were stopped after the first batch

    part = tmp_path / "part.jsonl"
    with pytest.raises(KeyboardInterrupt):
        explain_dataset(
            rows, METHODS, tiny_gpt2, out=part, batch_size=2, progress=False, on_batch=stop
        )
    assert len(part.read_text().splitlines()) == 2 * len(METHODS)  # the first batch, written
    with part.open("a") as f:
        f.write('{"id": "2", "text": "I pla')  # a line cut short by a kill: dropped on resume
    resumed = explain_dataset(
        rows, METHODS, tiny_gpt2, out=part, resume=True, batch_size=2, progress=False
    )
    texts = [t for call in calls for t in call]
    assert sorted(texts) == sorted(r["text"] for r in rows)  # every row computed exactly once
    assert part.read_text() == whole.read_text()  # the same batches: the same records
    assert [r.id for r in resumed] == [json.loads(x)["id"] for x in whole.read_text().splitlines()]
    calls.clear()
    again = explain_dataset(rows, METHODS, tiny_gpt2, out=part, resume=True, progress=False)
    assert calls == [] and again == resumed  # nothing left to do


def test_an_existing_file_needs_resume_or_overwrite_and_the_same_methods(tiny_gpt2, tmp_path):
    out = tmp_path / "r.jsonl"
    explain_dataset(["the cat"], ["saliency"], tiny_gpt2, out=out, progress=False)
    with pytest.raises(InputError, match="already exists: pass --resume"):
        explain_dataset(["the cat"], ["saliency"], tiny_gpt2, out=out, progress=False)
    with pytest.raises(InputError, match="holds saliency on"):
        explain_dataset(["the cat"], ["occlusion"], tiny_gpt2, out=out, resume=True, progress=False)
    replaced = explain_dataset(
        ["a dog"], ["occlusion"], tiny_gpt2, out=out, overwrite=True, progress=False
    )
    assert [(r.text, r.method) for r in replaced] == [("a dog", "occlusion")]
    assert len(out.read_text().splitlines()) == 1
    with pytest.raises(InputError, match=r"\.jsonl or \.parquet"):
        explain_dataset(["x"], ["saliency"], tiny_gpt2, out=tmp_path / "r.csv", progress=False)


def test_parquet_holds_the_same_records_as_jsonl(tiny_gpt2, tmp_path):
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the optional `data` extra)")
    rows = ["the cat sat", "", "a dog ran"]
    jsonl = explain_dataset(rows, METHODS, tiny_gpt2, out=tmp_path / "r.jsonl", progress=False)
    parquet = explain_dataset(rows, METHODS, tiny_gpt2, out=tmp_path / "r.parquet", progress=False)
    assert parquet == jsonl
    assert not (tmp_path / "r.parquet.partial.jsonl").exists()
    more = explain_dataset(
        [*rows, "one more"],
        METHODS,
        tiny_gpt2,
        out=tmp_path / "r.parquet",
        resume=True,
        progress=False,
    )
    assert more[: len(jsonl)] == jsonl and [r.text for r in more[len(jsonl) :]] == ["one more"] * 2


def test_batches_hold_prompts_of_similar_length_within_a_window(tiny_gpt2, monkeypatch):
    monkeypatch.setattr(dataset_task, "WINDOW", 2)
    texts = ["a b c d e f", "a", "a b c", "a b", "a b c d", "a b c d e f g h", "x"]
    rows = rows_of(texts)
    batches = [[r.text for r in b] for b in dataset_task.plan(tiny_gpt2, rows, 2)]
    # windows of 2 × 2 rows in input order, each sorted by token count, cut into pairs
    assert batches == [["a", "a b"], ["a b c", "a b c d e f"], ["x", "a b c d"], ["a b c d e f g h"]]
