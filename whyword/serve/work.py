"""A batch of JSON requests (what `@serve.batch` hands a replica) answered in shared calls.

A request is {"op": "explain", "text", "target", "foil", "methods", "model", "options"} or
{"op": "predict", "text", "model", "k", "max_tokens"}; the answer is {"result": ...} or
{"error": one sentence}. Explain requests with the same model, methods and options that can
share calls (whyword/batch.py) run together, as do next-token predictions with the same k.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import asdict
from typing import Any

import torch

from whyword.cache import RESULTS, freeze, request_key
from whyword.errors import WhyWordError
from whyword.models import LoadedModel, load_model
from whyword.options import ExplainOptions
from whyword.scheduler import release_freed_memory

log = logging.getLogger("whyword.serve")
FAILED = "The attribution backend failed on this request; the error was logged on the server."


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
        groups: dict[Hashable, list[int]] = {}
        for i, req in enumerate(requests):
            try:
                groups.setdefault(self._group(i, req), []).append(i)
            except WhyWordError as error:
                answers[i] = {"error": str(error)}
        for members in groups.values():
            try:
                results = self._run([requests[i] for i in members])
            except WhyWordError as error:
                results = [{"error": str(error)}] * len(members)
            except Exception:  # noqa: BLE001 — one sentence to the user, the trace in the log
                log.exception("backend batch failed")
                results = [{"error": FAILED}] * len(members)
            for i, result in zip(members, results, strict=True):
                answers[i] = result
        release_freed_memory()  # as the in-process lanes do: RSS stays level over classes
        return answers  # type: ignore[return-value]

    def _group(self, i: int, req: dict[str, Any]) -> Hashable:
        from whyword.batch import can_batch

        op = req.get("op")
        if op == "predict":
            return ("predict", req.get("model"), req.get("k"), req.get("max_tokens"))
        if op != "explain":
            raise WhyWordError(f"Unknown request {op!r}: use explain or predict.")
        methods = tuple(req["methods"])
        if can_batch(methods):
            return ("explain", req.get("model"), methods, freeze(req.get("options") or {}))
        return ("alone", i)

    def _run(self, reqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from whyword import batch
        from whyword.encoding import encode
        from whyword.explain import _explain
        from whyword.predict import predictions

        lm = self.model(reqs[0].get("model"))
        if reqs[0]["op"] == "predict":
            k, max_tokens = reqs[0]["k"], reqs[0].get("max_tokens")
            encs = [encode(lm, r["text"], max_tokens) for r in reqs]
            with lm.lock, torch.no_grad():
                if (
                    len(encs) > 1
                    and lm.kind == "causal"
                    and all(e.mode == "next_token" for e in encs)
                ):
                    preds = batch.next_token_predictions(lm, encs, k)
                else:
                    preds = [predictions(lm, e, k) for e in encs]
            return [{"result": [asdict(p) for p in ps]} for ps in preds]
        opts = ExplainOptions.build(**(reqs[0].get("options") or {}))
        methods = tuple(reqs[0]["methods"])
        keys = [
            request_key(
                "explain",
                lm,
                r["text"],
                r.get("target"),
                r.get("foil"),
                None,
                options=opts,
                methods=methods,
            )
            for r in reqs
        ]
        out: list[Any] = [RESULTS.get(key) for key in keys]
        first = {key: i for i, key in reversed(list(enumerate(keys)))}  # duplicates run once
        todo = [i for i, found in enumerate(out) if found is None and first[keys[i]] == i]
        if len(todo) == 1 or (todo and not batch.can_batch(methods)):
            with lm.lock, torch.enable_grad():
                for i in todo:
                    r = reqs[i]
                    out[i] = _explain(
                        lm, r["text"], r.get("target"), r.get("foil"), methods, None, opts
                    )
        elif todo:
            sizes = [_length(lm, reqs[i]["text"], opts.max_tokens) for i in todo]
            for group in batch.length_buckets(sizes, len(todo)):
                members = [todo[g] for g in group]
                wanted = [
                    batch.ExplainRequest(
                        reqs[i]["text"], reqs[i].get("target"), reqs[i].get("foil")
                    )
                    for i in members
                ]
                with lm.lock:
                    results = batch.explain_many(lm, wanted, methods, opts)
                for i, result in zip(members, results, strict=True):
                    out[i] = result
        out = [
            found if found is not None else out[first[key]]
            for key, found in zip(keys, out, strict=True)
        ]
        answers = []
        for key, i_result in zip(keys, out, strict=True):
            if isinstance(i_result, WhyWordError):
                answers.append({"error": str(i_result)})
            else:
                RESULTS.put(key, i_result)
                answers.append({"result": i_result.to_dict()})
        return answers


def _length(lm: LoadedModel, text: str, max_tokens: int) -> int:
    """Tokens of `text`; 0 when it cannot be encoded (explain_many reports that request)."""
    from whyword.encoding import encode

    try:
        return len(encode(lm, text, max_tokens).ids)
    except WhyWordError:
        return 0
