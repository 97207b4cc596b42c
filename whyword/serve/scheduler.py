"""A small scheduler in front of the models, for a class using one server at once.

Requests wait in two lanes, each with one worker thread:
- the light lane takes everything up to `HEAVY_COST` (tokens × gradient evaluations); each
  turn it takes every waiting request, and requests that can share calls (same model, methods
  that all share calls, same options; predictions with the same k) run together, the rest
  one by one;
- the heavy lane (a 1,024-token IG, 200 SmoothGrad samples) runs one request at a time on its
  own copy of the model, so it never holds the light lane's model: 29 cheap requests keep
  going beside it. At most `HEAVY_WAITING` heavy requests wait; one more is refused with a
  sentence.
Identical requests in flight share one computation, and the result cache (whyword/engine/cache.py)
answers repeats. Which jobs share calls and how a group runs is the dispatcher's
(whyword/serve/dispatch.py), shared with the Ray Serve worker (whyword/serve/work.py).
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from whyword.engine.cache import RESULTS, model_key, request_key
from whyword.errors import InputError
from whyword.models.load import LoadedModel, load_model
from whyword.results.explanation import Explanation, Prediction
from whyword.results.methods import get_method, method_names
from whyword.runtime import settings
from whyword.runtime.options import DEFAULT_METHODS, ExplainOptions
from whyword.serve.dispatch import (
    CallJob,
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

HEAVY_COST = 4096  # tokens × gradient evaluations: 64 tokens × 64 IG steps still count as light
HEAVY_WAITING = 4  # heavy requests that may wait for the heavy lane; more are refused
MAX_BATCH = 16  # requests in one shared call (each call is also sized by the memory budget)
BUSY = (
    "The server is already running {n} long explanations: try again in a minute, or use a "
    "shorter text or fewer IG steps."
)


@dataclass
class _Job:
    work: Job  # what to compute (whyword/serve/dispatch.py)
    lm: LoadedModel
    group: Hashable  # jobs with equal groups share calls (None: alone)
    tokens: int = 0  # input length: a shared call pads to its longest member
    future: Future = field(default_factory=Future)


def cost(tokens: int, methods: Sequence[str], opts: ExplainOptions) -> int:
    """Tokens × gradient evaluations a request may take, at most: each method's own cost
    model (`Method.evaluations`: IG's refinement cap, SmoothGrad's samples, occlusion's
    tokens; one forward + backward for the rest)."""
    return sum(get_method(m).cost(tokens, opts) for m in methods)


def buckets(jobs: list[_Job], most: int) -> list[list[_Job]]:
    """Jobs by input length, so a shared call pads little (whyword/serve/dispatch.py)."""
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
        opts = options or ExplainOptions()
        methods = method_names(methods)
        lm = load_model(model)
        key = request_key(
            "explain", lm, text, target, foil, predictions, options=opts, methods=methods
        )
        preds = tuple(predictions) if predictions else None
        work = ExplainJob(ExplainRequest(text, target, foil, preds), methods, opts)
        group = group_key(work, model_key(lm)) if self.batching else None

        def submit() -> Explanation:
            tokens = job_tokens(lm, work)
            heavy = self.lanes and cost(tokens, methods, opts) > self.heavy_cost
            return self._once(key, lambda: _Job(work, lm, group, tokens), heavy)

        return RESULTS.get_or_compute(key, submit)

    def predictions(
        self, model: str | LoadedModel | None, text: str, k: int, max_tokens: int | None = None
    ) -> tuple[Prediction, ...]:
        """The top-k predictions for `text`; next-token prompts of one model share a call."""
        lm = load_model(model)
        work = PredictJob(text, k, max_tokens)
        group = group_key(work, model_key(lm)) if self.batching else None
        key = ("predict", model_key(lm), text, k, max_tokens)
        return self._once(key, lambda: _Job(work, lm, group), False)

    def call(self, lm: LoadedModel, work: int, fn: Callable[[LoadedModel], Any]) -> Any:
        """`fn(model)` in the lane its `work` (tokens × gradient evaluations, all rows) picks,
        alone: for work that is not one explanation (a Sequence tab's steps matrix). In the
        heavy lane `fn` gets the lane's own copy of the model; it must use that one."""
        heavy = self.lanes and work > self.heavy_cost
        key = ("call", next(self._singles))
        return self._once(key, lambda: _Job(CallJob(fn), lm, None), heavy)

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
            if isinstance(result, BaseException):  # a request's own error (explain_many)
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _compute(self, jobs: list[_Job], heavy: bool) -> list[Any]:
        lm = self._heavy_copy(jobs[0].lm) if heavy else jobs[0].lm
        self.batch_sizes.append(len(jobs))
        return run_group(lm, [job.work for job in jobs])

    def _heavy_copy(self, lm: LoadedModel) -> LoadedModel:
        """The heavy lane's own copy of the model (made once): the light lane keeps its own."""
        found = self._copies.get(lm.model)
        if found is None:
            with lm.lock:
                weights = copy.deepcopy(lm.model)
            found = LoadedModel(weights, lm.tokenizer, lm.kind, lm.name, lm.source)
            self._copies[lm.model] = found
        return found


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
