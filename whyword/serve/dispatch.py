"""The one dispatcher: typed jobs, which of them share calls, and running a group of them.

The in-process scheduler (whyword/serve/scheduler.py) and the Ray Serve worker (whyword/serve/
work.py) both queue `Job`s, group them with `group_key` and run each group with `run_group`,
which reaches the model through the engine (`explain_many` -> whyword/engine/run.py):
- explain jobs whose methods all share calls (`Method.shares_calls`), with the same model,
  methods and options and no predictions of their own, run together, bucketed by length so a
  shared call pads little;
- next-token predictions of one model and k run in one right-padded pass;
- anything else runs alone.

A group that fails as a whole fails only its own requests, each with one sentence, and the
lanes go on: out of memory (`MemoryError`, a device's out-of-memory error) is `MEMORY`, which
suggests a smaller request, logged as one warning line, and the freed memory is handed back at
once; any other `RuntimeError` (a method's or torch's failure) is `FAILED`, its traceback logged
once for the whole group (not once per request).
"""

from __future__ import annotations

import ctypes
import gc
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from whyword.engine.cache import freeze
from whyword.engine.onepass import shared_first_pass
from whyword.engine.predict import predictions
from whyword.errors import WhyWordError
from whyword.models.encoding import Encoded, encode, encode_each
from whyword.models.load import LoadedModel
from whyword.results.explanation import Prediction
from whyword.results.methods import shares_calls
from whyword.runtime.options import ExplainOptions
from whyword.tasks.explain import ExplainRequest, explain_many

log = logging.getLogger("whyword.serve")

BUCKET = 1.5  # a shared call takes inputs up to 1.5× its shortest one's length (+ 4 tokens)


@dataclass(frozen=True)
class ExplainJob:
    """One user's `explain`: the request, and the methods and options it runs with."""

    request: ExplainRequest
    methods: tuple[str, ...]
    options: ExplainOptions


@dataclass(frozen=True)
class PredictJob:
    """One user's top-k predictions."""

    text: str
    k: int
    max_tokens: int | None = None


@dataclass(frozen=True)
class CallJob:
    """Work that is not one explanation (a Sequence tab's steps matrix): `fn(model)`, alone."""

    fn: Callable[[LoadedModel], Any]


Job = ExplainJob | PredictJob | CallJob


def group_key(job: Job, model: Hashable) -> Hashable | None:
    """Jobs with the same key (not None) may run in shared calls; None: alone."""
    if isinstance(job, PredictJob):
        return ("predict", model, job.k, job.max_tokens)
    shared = isinstance(job, ExplainJob) and job.request.predictions is None
    if shared and shares_calls(job.methods):
        return ("explain", model, job.methods, freeze(job.options.to_dict()))
    return None


MEMORY = (
    "The server ran out of memory on this request (and the others computed with it): try "
    "again with a shorter text, fewer methods or fewer IG steps and SmoothGrad samples."
)
FAILED = "The attribution backend failed on this request; the error was logged on the server."
# what running out of memory raises: on the CPU MemoryError, on a GPU torch's own (a RuntimeError)
OUT_OF_MEMORY = (MemoryError, torch.cuda.OutOfMemoryError)


def run_group(lm: LoadedModel, jobs: Sequence[Job]) -> list[Any]:
    """One result per job, in order; a job that fails gets its error (an exception) instead.
    The jobs are of one group (`group_key`), or a single job. When the group fails as a whole
    (out of memory, a RuntimeError), each of its jobs gets one sentence (see the module)."""
    try:
        return _run_group(lm, jobs)
    except OUT_OF_MEMORY:
        log.warning("out of memory on a group of %d request(s): refused with a sentence", len(jobs))
        sentence = MEMORY
    except RuntimeError:
        log.exception("a group of %d request(s) failed", len(jobs))
        sentence = FAILED
    # out of the except block, the failure's frames (and the tensors they held) are gone
    if sentence is MEMORY:
        gc.collect()
        release_freed_memory()
    return [WhyWordError(sentence) for _ in jobs]  # one each: raised on each caller's thread


def _run_group(lm: LoadedModel, jobs: Sequence[Job]) -> list[Any]:
    first = jobs[0]
    if isinstance(first, CallJob):
        assert len(jobs) == 1, "calls run alone"
        return [first.fn(lm)]
    if isinstance(first, PredictJob):
        return _predictions(lm, list(jobs))
    assert all(isinstance(j, ExplainJob) for j in jobs), "one kind of job per group"
    requests = [j.request for j in jobs]
    return explain_many(lm, requests, first.methods, first.options)


def _predictions(lm: LoadedModel, jobs: list[PredictJob]) -> list[Any]:
    out: list[Any] = [None] * len(jobs)
    encs, errors = encode_each(lm, [job.text for job in jobs], jobs[0].max_tokens)
    for i, error in errors.items():
        out[i] = error
    nexts = [i for i, e in encs.items() if e.mode == "next_token" and lm.kind == "causal"]
    with lm.lock, torch.no_grad():
        if len(nexts) > 1:
            shared = next_token_predictions(lm, [encs[i] for i in nexts], jobs[0].k)
            out_by = dict(zip(nexts, shared, strict=True))
        else:
            out_by = {}
        for i, enc in encs.items():
            out[i] = out_by[i] if i in out_by else predictions(lm, enc, jobs[i].k)
    return out


def next_token_predictions(
    lm: LoadedModel, encs: Sequence[Encoded], k: int
) -> list[tuple[Prediction, ...]]:
    """The top-k next tokens of several prompts in one right-padded forward pass."""
    assert all(e.mode == "next_token" for e in encs) and lm.kind == "causal"
    with torch.no_grad():
        return list(shared_first_pass(lm, encs, k).predictions)


def length_buckets(lengths: Sequence[int], most: int) -> list[list[int]]:
    """Indices grouped by input length so padding stays under `BUCKET` × the shortest (+ 4),
    at most `most` per group: shorter groups first."""
    out: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        last = out[-1] if out else None
        if last and len(last) < most and lengths[i] <= BUCKET * lengths[last[0]] + 4:
            last.append(i)
        else:
            out.append([i])
    return out


def job_tokens(lm: LoadedModel, job: Job) -> int:
    """Tokens of a job's text (0 when it cannot be encoded: running it reports that)."""
    if isinstance(job, CallJob):
        return 0
    text = job.request.text if isinstance(job, ExplainJob) else job.text
    most = job.options.max_tokens if isinstance(job, ExplainJob) else job.max_tokens
    try:
        return len(encode(lm, text, most).ids)
    except WhyWordError:
        return 0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        return None


_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Hand the heap's freed pages back to the system (glibc `malloc_trim`) once a lane has
    nothing waiting: a class's calls of ever new shapes otherwise leave the process holding
    every peak it has seen (RSS grew 1.8 → 3.3 GB over five classes without it)."""
    if _TRIM is not None:
        _TRIM(0)
