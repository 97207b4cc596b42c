"""One factory for the events that explain something: each reads the controls into a `Query`,
calls a handler (whyword.ui.session) and turns its `Outcome` into component updates.

An event is then one line: which triggers, which handler, which extra inputs. The factory
adds what every such event needs: the session state, the progress bar on the results, a value
for every output (gradio shows a bare "Error" badge for a missing one), the share link
written into the page URL afterwards, and the API name (callable, not documented).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr

from whyword.results.matrix import Stage
from whyword.results.methods import METHODS
from whyword.tasks.explain import with_stage
from whyword.ui.outcome import Tracker
from whyword.ui.query import Controls
from whyword.ui.session import Outcome, Progress, State
from whyword.ui.share import Query

PROGRESS = gr.Progress()  # a marker: gradio hands each event its own tracker in its place

# handler(data, query, state, progress) -> Outcome; `data` maps components to their values
Handler = Callable[[dict, Query, "State | None", Progress], Outcome]


def early_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """The methods to show first when `methods` mix one-pass (one forward + backward) and
    slower ones; () otherwise."""
    early = tuple(m for m in methods if m in METHODS and METHODS[m].one_pass)
    return early if early and len(early) < len(methods) else ()


def progressive(
    handler: Handler, data: dict, query: Query, state: State | None, progress: Progress
) -> Iterator[Outcome]:
    """The outcomes an event shows in turn: with one-pass and slower methods mixed, first the
    one-pass heatmap (marked `pending` with what is still running; a preview, without the
    faithfulness curves the whole result computes), then IG's scores after its first pass and
    each round of refinement (`Outcome.stage`), then the whole result."""
    early = early_methods(query.methods)
    if not early:
        yield handler(data, query, state, progress)
        return
    bar = progress.bar if isinstance(progress, Tracker) else progress
    first = handler(data, replace(query, methods=early), state, Tracker(bar, preview=True))
    yield replace(first, pending=tuple(m for m in query.methods if m not in early))
    if not first.ok:  # the same request would fail again: say it once
        return
    # a refining method's scores show after each of its rounds (its `Stage`s)
    if not any(m in METHODS and METHODS[m].refines for m in query.methods):
        yield handler(data, query, state, progress)
        return
    for item in _with_stages(handler, data, query, state, progress):
        outcome = item if isinstance(item, Outcome) else staged(first, item, query)
        if outcome.ok and not outcome.pending and outcome.stage is not None:
            continue  # the method's last stage and nothing else left: the whole result is next
        yield outcome


def staged(first: Outcome, stage: Stage, query: Query) -> Outcome:
    """The early outcome with a refining method's scores so far beside the one-pass ones."""
    explanation = with_stage(first.explanation, stage, query.methods)
    shown = {a.method for a in explanation.attributions}
    pending = tuple(
        m for m in query.methods if m not in shown or (m == stage.method and not stage.final)
    )
    methods = tuple(m for m in query.methods if m in shown)
    return replace(
        first,
        query=replace(first.query, methods=methods),
        explanation=explanation,
        pending=pending,
        stage=stage,
    )


def _with_stages(
    handler: Handler, data: dict, query: Query, state: State | None, progress: Progress
) -> Iterator[Stage | Outcome]:
    """Run the handler on its own thread and pass on each stage as it arrives, then the
    outcome. The stages come from numbers the request computes anyway (no extra model call)."""
    arrived: queue.SimpleQueue = queue.SimpleQueue()
    reporting = Tracker(progress.bar if isinstance(progress, Tracker) else progress, arrived.put)

    def work() -> None:
        try:
            arrived.put(handler(data, query, state, reporting))
        except BaseException as error:  # noqa: BLE001 — raised again on the event's thread
            arrived.put(error)

    context = contextvars.copy_context()  # gradio's per-event context, for the progress bar
    threading.Thread(target=context.run, args=(work,), daemon=True).start()
    while True:
        item = arrived.get()
        if isinstance(item, BaseException):
            raise item
        yield item
        if isinstance(item, Outcome):
            return


def every_output(updates: dict, outputs: Sequence) -> list:
    """A value for every declared output, in order (gr.skip() where nothing changes): gradio
    takes an empty dict for one missing value and shows a bare "Error" badge."""
    return [updates.get(component, gr.skip()) for component in outputs]


def tracker(progress: gr.Progress) -> Progress:
    """The session's progress callback on gradio's tracker."""
    return lambda fraction, desc: progress(fraction, desc=desc)


@dataclass
class EventFactory:
    """Makes the view's explaining events. `present(outcome, state)` gives the updates of an
    outcome; `after(event)` is chained after each event (the share link into the URL)."""

    controls: Controls
    state: gr.State
    outputs: list
    present: Callable[[Outcome, State | None], dict]
    busy: list = field(default_factory=list)  # where the progress bar shows
    after: Callable[[Any], None] | None = None

    def explaining(
        self,
        triggers: Iterable[Callable[..., Any]],
        handler: Handler,
        *,
        inputs: Iterable[gr.components.Component] = (),
        outputs: Iterable[gr.components.Component] = (),
        extra: Callable[[dict], dict] | None = None,
        api_name: str | None = None,
    ) -> None:
        """Wire `handler` to each trigger (e.g. `button.click`). `inputs`/`outputs` are read and
        written besides the controls and results; `extra(data)` adds updates of its own."""
        all_inputs = {*self.controls.all(), self.state, *inputs}
        all_outputs = [*self.outputs, *outputs]

        def event(data: dict, progress: gr.Progress = PROGRESS) -> Iterator[dict]:
            state = data[self.state]
            query = self.controls.query(data)
            more = {**(extra(data) if extra else {})}
            for outcome in progressive(handler, data, query, state, tracker(progress)):
                yield {**self.present(outcome, state), **more}

        for index, trigger in enumerate(triggers):
            named = api_name is not None and index == 0
            # the page's own events are callable by name but left out of the API page: their
            # inputs are the page's controls and state (clients use `explain` / `predict`)
            visibility = {"api_name": api_name, "api_visibility": "undocumented"}
            handle = trigger(
                event,
                all_inputs,
                all_outputs,
                show_progress_on=self.busy or None,
                **(visibility if named else {"api_visibility": "private"}),
            )
            if self.after is not None:
                self.after(handle)
