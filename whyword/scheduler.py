"""A small scheduler in front of the models, for a class using one server at once.

Requests wait in two lanes, each with one worker thread:
- the light lane takes everything up to `HEAVY_COST` (tokens × gradient evaluations); each
  turn it takes every waiting request, and requests that can share calls (same model, methods
  ⊆ saliency / input × gradient, same options; predictions with the same k) run together
  (whyword/batch.py), the rest one by one;
- the heavy lane (a 1,024-token IG, 200 SmoothGrad samples) runs one request at a time on its
  own copy of the model, so it never holds the light lane's model: 29 cheap requests keep
  going beside it. At most `HEAVY_WAITING` heavy requests wait; one more is refused with a
  sentence.
Identical requests in flight share one computation, and the result cache (whyword/cache.py)
answers repeats. `backend()` is what the page calls: this scheduler, or a Ray Serve
deployment when `WHYWORD_BACKEND` names one (whyword/serve/).
"""

from __future__ import annotations

import copy
import ctypes
import itertools
import queue
import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import torch

from whyword import settings
from whyword.cache import RESULTS, freeze, model_key, request_key
from whyword.errors import InputError
from whyword.explanation import Explanation, Prediction
from whyword.models import LoadedModel, load_model
from whyword.options import DEFAULT_METHODS, ExplainOptions

HEAVY_COST = 4096  # tokens × gradient evaluations: 64 tokens × 64 IG steps still count as light
HEAVY_WAITING = 4  # heavy requests that may wait for the heavy lane; more are refused
MAX_BATCH = 16  # requests in one shared call (each call is also sized by the memory budget)
BUSY = (
    "The server is already running {n} long explanations: try again in a minute, or use a "
    "shorter text or fewer IG steps."
)


@dataclass
class _Job:
    kind: str  # "explain" | "predict" | "call"
    lm: LoadedModel
    group: Hashable  # jobs with equal groups share calls
    args: tuple
    tokens: int = 0  # input length: a shared call pads to its longest member
    future: Future = field(default_factory=Future)


def cost(tokens: int, methods: Sequence[str], opts: ExplainOptions) -> int:
    """Tokens × gradient evaluations a request may take, at most (its IG refinement cap)."""
    per = {
        "integrated_gradients": max(opts.n_steps, opts.max_steps if opts.adaptive else 0),
        "smoothgrad": opts.nt_samples,
        "occlusion": tokens,
    }
    return tokens * sum(per.get(m, 1) for m in methods)


def buckets(jobs: list[_Job], most: int) -> list[list[_Job]]:
    """Jobs by input length, so a shared call pads little (whyword/batch.py)."""
    from whyword.batch import length_buckets

    return [[jobs[i] for i in group] for group in length_buckets([j.tokens for j in jobs], most)]


class Scheduler:
    """Lanes, batching across users and one flight per identical request (see the module)."""

    def __init__(
        self,
        heavy_cost: int = HEAVY_COST,
        heavy_waiting: int = HEAVY_WAITING,
        batching: bool = True,
        lanes: bool = True,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.heavy_cost, self.heavy_waiting = heavy_cost, heavy_waiting
        self.batching, self.lanes, self.max_batch = batching, lanes, max_batch
        self._light: queue.Queue[_Job] = queue.Queue()
        self._heavy: queue.Queue[_Job] = queue.Queue()
        self._flights: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self._copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.batch_sizes: list[int] = []  # requests per shared call, for the load test
        self._singles = itertools.count()
        for lane in (self._light, self._heavy):
            threading.Thread(target=self._work, args=(lane,), daemon=True).start()

    def explain(
        self,
        text: str,
        target: int | str | None = None,
        foil: int | str | None = None,
        methods: Sequence[str] | str = DEFAULT_METHODS,
        model: str | LoadedModel | None = None,
        *,
        predictions: Sequence[Prediction] | None = None,
        options: ExplainOptions | None = None,
    ) -> Explanation:
        """`whyword.explain`, scheduled: same arguments, same result, same cache."""
        from whyword.attribute import _method_names
        from whyword.batch import can_batch
        from whyword.encoding import encode

        opts = options or ExplainOptions()
        methods = _method_names(methods)
        lm = load_model(model)
        key = request_key(
            "explain", lm, text, target, foil, predictions, options=opts, methods=methods
        )
        shared = self.batching and predictions is None and can_batch(methods)
        group = ("explain", model_key(lm), methods, freeze(opts.to_dict())) if shared else None

        def submit() -> Explanation:
            tokens = len(encode(lm, text, opts.max_tokens).ids)
            heavy = self.lanes and cost(tokens, methods, opts) > self.heavy_cost
            args = (text, target, foil, methods, predictions, opts)
            return self._once(key, lambda: _Job("explain", lm, group, args, tokens), heavy)

        return RESULTS.get_or_compute(key, submit)

    def predictions(
        self, model: str | LoadedModel | None, text: str, k: int, max_tokens: int | None = None
    ) -> tuple[Prediction, ...]:
        """The top-k predictions for `text`; next-token prompts of one model share a call."""
        lm = load_model(model)
        group = ("predict", model_key(lm), k) if self.batching and lm.kind == "causal" else None
        key = ("predict", model_key(lm), text, k, max_tokens)
        return self._once(key, lambda: _Job("predict", lm, group, (text, k, max_tokens)), False)

    def call(self, lm: LoadedModel, work: int, fn: Callable[[LoadedModel], Any]) -> Any:
        """`fn(model)` in the lane its `work` (tokens × gradient evaluations, all rows) picks,
        alone: for work that is not one explanation (a Sequence tab's steps matrix). In the
        heavy lane `fn` gets the lane's own copy of the model; it must use that one."""
        heavy = self.lanes and work > self.heavy_cost
        key = ("call", next(self._singles))
        return self._once(key, lambda: _Job("call", lm, None, (fn,)), heavy)

    def _once(self, key: Hashable, job, heavy: bool):
        """Run the job (made by `job()`) unless the same request is already in flight."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                lane = self._heavy if heavy else self._light
                if heavy and lane.qsize() >= self.heavy_waiting:
                    raise InputError(BUSY.format(n=lane.qsize() + 1))
                made = job()
                flight = self._flights[key] = made.future
                flight.add_done_callback(lambda _: self._land(key))
                lane.put(made)
        return flight.result()

    def _land(self, key: Hashable) -> None:
        with self._lock:
            self._flights.pop(key, None)

    def _work(self, lane: queue.Queue) -> None:
        while True:
            jobs = [lane.get()]
            while lane is self._light:  # take everything waiting; the heavy lane: one at a time
                try:
                    jobs.append(lane.get_nowait())
                except queue.Empty:
                    break
            groups: dict[Hashable, list[_Job]] = {}
            for job in jobs:
                group = job.group if job.group is not None else ("single", next(self._singles))
                groups.setdefault(group, []).append(job)
            for members in groups.values():
                for bucket in buckets(members, self.max_batch):
                    self._run(bucket, lane is self._heavy)
            if lane.empty():
                release_freed_memory()

    def _run(self, jobs: list[_Job], heavy: bool) -> None:
        try:
            results = self._compute(jobs, heavy)
        except BaseException as error:  # noqa: BLE001 — handed to the waiting callers
            results = [error] * len(jobs)
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _compute(self, jobs: list[_Job], heavy: bool) -> list[Any]:
        from whyword import batch
        from whyword.encoding import encode
        from whyword.explain import _explain
        from whyword.predict import predictions

        lm = self._heavy_copy(jobs[0].lm) if heavy else jobs[0].lm
        self.batch_sizes.append(len(jobs))
        with lm.lock, torch.enable_grad():
            if jobs[0].kind == "call":
                return [jobs[0].args[0](lm)]
            if jobs[0].kind == "predict":
                encs = [encode(lm, j.args[0], j.args[2]) for j in jobs]
                k = jobs[0].args[1]
                if len(jobs) > 1 and all(e.mode == "next_token" for e in encs):
                    return batch.next_token_predictions(lm, encs, k)
                with torch.no_grad():
                    return [predictions(lm, e, j.args[1]) for e, j in zip(encs, jobs, strict=True)]
            if len(jobs) == 1:
                text, target, foil, methods, preds, opts = jobs[0].args
                return [_explain(lm, text, target, foil, methods, preds, opts)]
            methods, opts = jobs[0].args[3], jobs[0].args[5]
            reqs = [batch.ExplainRequest(*j.args[:3]) for j in jobs]
            return batch.explain_many(lm, reqs, methods, opts)

    def _heavy_copy(self, lm: LoadedModel) -> LoadedModel:
        """The heavy lane's own copy of the model (made once): the light lane keeps its own."""
        found = self._copies.get(lm.model)
        if found is None:
            with lm.lock:
                weights = copy.deepcopy(lm.model)
            found = LoadedModel(weights, lm.tokenizer, lm.kind, lm.name, lm.source)
            self._copies[lm.model] = found
        return found


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


_SCHEDULER: list[Scheduler] = []
_MADE = threading.Lock()


def scheduler() -> Scheduler:
    """The process's scheduler; `WHYWORD_BATCHING=0` / `WHYWORD_LANES=0` turn its parts off."""
    with _MADE:
        if not _SCHEDULER:
            _SCHEDULER.append(
                Scheduler(
                    batching=settings.BATCHING.get(),
                    lanes=settings.LANES.get(),
                )
            )
        return _SCHEDULER[0]


def backend():
    """What serves explain / predictions: a Ray Serve deployment when `WHYWORD_BACKEND` is its
    address (http://host:port), else this process's scheduler."""
    address = settings.BACKEND.get()
    if address:
        from whyword.serve.client import RayBackend

        return RayBackend.at(address)
    return scheduler()


def scheduled_explain(*args: Any, **kwargs: Any) -> Explanation:
    """`whyword.explain` through `backend()`: lanes and batching, or Ray Serve."""
    return backend().explain(*args, **kwargs)
