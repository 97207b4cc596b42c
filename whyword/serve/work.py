"""A batch of JSON requests (what `@serve.batch` hands a replica) answered in shared calls.

A request is {"op": "explain", "text", "target", "foil", "methods", "model", "options"} or
{"op": "predict", "text", "model", "k", "max_tokens"}; the answer is {"result": ...} or
{"error": one sentence}. The dispatcher (whyword/serve/dispatch.py), the one the in-process
scheduler uses, says which requests share calls and runs them.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import asdict
from typing import Any

from whyword.engine.cache import RESULTS, model_key, request_key
from whyword.errors import WhyWordError, shown
from whyword.models.load import LoadedModel, load_model
from whyword.results.explanation import Explanation
from whyword.results.methods import method_names
from whyword.runtime.options import ExplainOptions
from whyword.serve.dispatch import (
    FAILED,
    ExplainJob,
    Job,
    PredictJob,
    group_key,
    job_tokens,
    length_buckets,
    release_freed_memory,
    run_group,
)
from whyword.tasks.explain import ExplainRequest

log = logging.getLogger("whyword.serve")


class Worker:
    """One replica's state: its default model (a name or a folder; None: the embedded one)."""

    def __init__(self, model: str | None = None) -> None:
        self.default = model
        self.batch_sizes: list[int] = []
        load_model(model)  # loaded once, before the first request

    def model(self, name: str | None) -> LoadedModel:
        return load_model(self.default if name in (None, "", "default") else name)

    def answer(self, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """One answer per request, in order; a failing group fails only its own requests."""
        self.batch_sizes.append(len(requests))
        answers: list[dict[str, Any] | None] = [None] * len(requests)
        groups: dict[Hashable, list[tuple[int, LoadedModel, Job]]] = {}
        for i, req in enumerate(requests):
            try:
                lm, job = self.model(req.get("model")), _job(req)
            except WhyWordError as error:
                answers[i] = {"error": str(error)}
                continue
            group = group_key(job, model_key(lm))
            groups.setdefault(("alone", i) if group is None else group, []).append((i, lm, job))
        for members in groups.values():
            try:
                results = self._run(members)
            except WhyWordError as error:
                results = [{"error": str(error)}] * len(members)
            except Exception:  # noqa: BLE001 — one sentence to the user, the trace in the log
                log.exception("backend batch failed")
                results = [{"error": FAILED}] * len(members)
            for (i, _, _), result in zip(members, results, strict=True):
                answers[i] = result
        release_freed_memory()  # as the in-process lanes do: RSS stays level over classes
        return answers  # type: ignore[return-value]

    def _run(self, members: list[tuple[int, LoadedModel, Job]]) -> list[dict[str, Any]]:
        """A group's answers: repeats and cached results are not computed again; the rest run
        through the dispatcher in buckets of similar length."""
        lm = members[0][1]
        keys = [_key(lm, job, i) for i, _, job in members]
        out: list[Any] = [
            RESULTS.get(key) if isinstance(job, ExplainJob) else None
            for key, (_, _, job) in zip(keys, members, strict=True)
        ]
        first = {key: i for i, key in reversed(list(enumerate(keys)))}  # duplicates run once
        todo = [i for i, found in enumerate(out) if found is None and first[keys[i]] == i]
        sizes = [job_tokens(lm, members[i][2]) for i in todo]
        for bucket in length_buckets(sizes, max(1, len(todo))):
            picked = [todo[b] for b in bucket]
            for i, result in zip(
                picked, run_group(lm, [members[i][2] for i in picked]), strict=True
            ):
                out[i] = result
        out = [
            found if found is not None else out[first[key]]
            for key, found in zip(keys, out, strict=True)
        ]
        return [_answer(key, result) for key, result in zip(keys, out, strict=True)]


def _job(req: dict[str, Any]) -> Job:
    """A JSON request as a typed job; an unknown operation is one sentence."""
    op = req.get("op")
    if op == "predict":
        return PredictJob(req["text"], int(req["k"]), req.get("max_tokens"))
    if op != "explain":
        raise WhyWordError(f"Unknown request {shown(op)}: use explain or predict.")
    options = ExplainOptions.build(**(req.get("options") or {}))
    request = ExplainRequest(req["text"], req.get("target"), req.get("foil"))
    return ExplainJob(request, method_names(req["methods"]), options)


def _key(lm: LoadedModel, job: Job, i: int):
    """The result cache's key of an explain job; the request's place for others (not cached)."""
    if not isinstance(job, ExplainJob):
        return ("request", i)
    r = job.request
    return request_key(
        "explain", lm, r.text, r.target, r.foil, None, options=job.options, methods=job.methods
    )


def _answer(key, result: Any) -> dict[str, Any]:
    if isinstance(result, BaseException):
        if isinstance(result, WhyWordError):
            return {"error": str(result)}
        raise result
    if isinstance(result, Explanation):
        RESULTS.put(key, result)
        return {"result": result.to_dict()}
    return {"result": [asdict(p) for p in result]}  # the slots' predictions
