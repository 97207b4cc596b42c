"""One factory for the events that explain something: each reads the controls into a `Query`,
calls a handler (whyword.ui.session) and turns its `Outcome` into component updates.

An event is then one line: which triggers, which handler, which extra inputs. The factory
adds what every such event needs: the session state, the progress bar on the results, a value
for every output (gradio shows a bare "Error" badge for a missing one), the share link
written into the page URL afterwards, and the API name (callable, not documented).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from whyword.ui.query import Controls
from whyword.ui.session import Outcome, Progress, State
from whyword.ui.share import Query

PROGRESS = gr.Progress()  # a marker: gradio hands each event its own tracker in its place

# handler(data, query, state, progress) -> Outcome; `data` maps components to their values
Handler = Callable[[dict, Query, "State | None", Progress], Outcome]


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

        def event(data: dict, progress: gr.Progress = PROGRESS) -> dict:
            state = data[self.state]
            outcome = handler(data, self.controls.query(data), state, tracker(progress))
            updates = self.present(outcome, state)
            return {**updates, **(extra(data) if extra else {})}

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
