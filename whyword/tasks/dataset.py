"""`explain_dataset`: many prompts through the one engine, in batches, saved as they complete.

Rows go to `explain_many` (whyword/tasks/explain.py) `batch_size` at a time: one model load,
shared calls across the batch (each call sized by the memory budget, whyword/models/budget.py),
each failed row kept with its one-sentence reason while the others go on. Records are written
after each batch (whyword/tasks/store.py), so a resumed run skips the ids already written and
computes no row twice. The records and the summary: whyword/results/dataset.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from whyword.errors import InputError, WhyWordError
from whyword.models.load import load_model
from whyword.results.dataset import DatasetRow, RowResult
from whyword.results.explanation import Explanation
from whyword.results.methods import method_names
from whyword.runtime.options import DEFAULT_METHODS, ExplainOptions
from whyword.tasks.explain import ExplainRequest, explain_many
from whyword.tasks.rows import read_rows, rows_of
from whyword.tasks.store import ResultStore

# Requests in one explain_many call: the scheduler's batch (whyword/serve/scheduler.py
# MAX_BATCH). Larger batches pad every prompt to the batch's longest and keep more in flight
# when a run is killed; each call within is split further by the memory budget.
BATCH_SIZE = 16
# Batches are cut from windows of this many batches' rows sorted by length: less padding; a
# window (not the whole input) so a run's first results arrive early and in roughly input order.
WINDOW = 8


def explain_dataset(
    rows: str | Path | Iterable[DatasetRow | dict | str],
    methods: Sequence[str] | str = DEFAULT_METHODS,
    model=None,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
    on_batch: Callable[[list[RowResult]], None] | None = None,
    **options,
) -> list[RowResult]:
    """Explain every row of a dataset; one record per row and method, in input order.

    `rows`: a path or `hf:NAME[:SPLIT[:N]]` (whyword/tasks/rows.py), or rows in Python
    (`DatasetRow`s, dicts with `text` and optional `target`, `foil`, `id`, or strings).
    `out`: a `.jsonl` or `.parquet` file written as batches complete; `resume=True` continues
    it, skipping ids already there. `options` are `explain`'s (e.g. `faithfulness=True` for
    deletion / insertion areas). `progress`: a bar on stderr with rate and time left.
    `on_batch` is called with each batch's records once they are written.
    """
    rows = read_rows(rows) if isinstance(rows, (str, Path)) else rows_of(rows)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a whole number ≥ 1, got {batch_size!r}.")
    opts = options.pop("options", None) or ExplainOptions.build(**options)
    methods = tuple(method_names(methods))
    store = ResultStore(out, resume=resume, overwrite=overwrite) if out is not None else None
    lm = load_model(model)  # the run's one model load
    done: list[RowResult] = list(store.done) if store else []
    if store:
        store.check(lm.name, methods)
    skip = {r.id for r in done}
    bar = _bar(len(rows), sum(r.id in skip for r in rows), progress)
    try:
        for planned in plan(lm, rows, batch_size):
            batch = [r for r in planned if r.id not in skip]
            if not batch:
                continue
            records = [
                record
                for row, result in _explain(lm, batch, methods, opts)
                for record in _records(row, result, lm.name, methods)
            ]
            if store:
                store.append(records)
            done += records
            if on_batch:
                on_batch(records)
            bar.update(len(batch))
    finally:
        bar.close()
    order = {r.id: i for i, r in enumerate(rows)}
    done = store.finish(order) if store else done
    return sorted(done, key=lambda r: order.get(r.id, len(order)))


def plan(lm, rows: list[DatasetRow], batch_size: int) -> list[list[DatasetRow]]:
    """The run's batches: each window of `WINDOW` × `batch_size` rows (in input order) sorted
    by token count, then cut into batches, so a batch's prompts are padded to a similar length
    (as the scheduler's length buckets do). Planned over all rows, resumed or not, so a resumed
    run puts each remaining row in the batch an uninterrupted run would have."""
    batches: list[list[DatasetRow]] = []
    step = WINDOW * batch_size
    for start in range(0, len(rows), step):
        window = sorted(rows[start : start + step], key=lambda r: _length(lm, r))
        batches += [window[i : i + batch_size] for i in range(0, len(window), batch_size)]
    return batches


def _length(lm, row: DatasetRow) -> int:
    """Tokens of a row's text (a bad row: 0, it never reaches the model)."""
    return 0 if row.problem else len(lm.tokenizer(row.text)["input_ids"])


def _explain(lm, batch: list[DatasetRow], methods, opts) -> list[tuple[DatasetRow, object]]:
    """Each row with its Explanation or its failure's one sentence."""
    results: dict[int, object] = {i: row.problem for i, row in enumerate(batch) if row.problem}
    asked = [i for i in range(len(batch)) if i not in results]
    requests = [ExplainRequest(batch[i].text, batch[i].target, batch[i].foil) for i in asked]
    try:
        answers = explain_many(lm, requests, methods, opts) if requests else []
    except WhyWordError:  # something the batch shares failed: find the rows that cause it
        answers = [_alone(lm, r, methods, opts) for r in requests]
    for i, answer in zip(asked, answers, strict=True):
        results[i] = str(answer) if isinstance(answer, WhyWordError) else answer
    return [(row, results[i]) for i, row in enumerate(batch)]


def _alone(lm, request: ExplainRequest, methods, opts):
    try:
        (answer,) = explain_many(lm, [request], methods, opts)
    except WhyWordError as error:
        return error
    return answer


def _records(row: DatasetRow, result, model: str, methods) -> list[RowResult]:
    if not isinstance(result, Explanation):
        reason = str(result).strip() or "The row failed without a reason."
        return [RowResult.failed(row, model, m, reason) for m in methods]
    tokens = tuple(t.text for t in result.tokens)
    return [
        RowResult(
            row.id,
            row.text,
            result.target,
            result.foil,
            model,
            a.method,
            tokens,
            tuple(float(s) for s in a.scores),
            result.formula,
            float(result.value),
            a.deletion,
            a.insertion,
            a.random_deletion,
            a.random_insertion,
            "ok",
            None,
        )  # fmt: skip
        for a in result.attributions
    ]


def _bar(total: int, initial: int, enabled: bool):
    """tqdm on stderr: rows done, rows/s and time left (tqdm comes with transformers)."""
    from tqdm import tqdm

    return tqdm(
        total=total, initial=initial, unit="row", desc="explaining", file=sys.stderr,
        disable=not enabled, dynamic_ncols=True,
    )  # fmt: skip
