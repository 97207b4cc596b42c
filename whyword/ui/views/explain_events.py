"""The Explain view's events: an `Outcome` as component updates (`present`), and the wiring,
one line per explaining event through `whyword.ui.events.EventFactory`."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from whyword import render
from whyword.ui import display, session
from whyword.ui.choices import (
    effective_query,
    foil_choices,
    mask_choices,
    shareable_query,
    target_choices,
)
from whyword.ui.events import PROGRESS, EventFactory, every_output, tracker
from whyword.ui.exports import write_export
from whyword.ui.query import Controls, bounds_for
from whyword.ui.session import Outcome, State
from whyword.ui.share import encode
from whyword.ui.static import script
from whyword.ui.views import ViewContext, counterfactuals

EXPORTS = ("csv", "json", "html")


def present(outcome: Outcome, state: State | None, c: Controls, r: Any, x: dict) -> dict:
    """Component updates for an event's outcome; a failure leaves the last view in place,
    faded and labelled as the previous text's."""
    shown = (r.chart, r.heatmap, r.trust, r.matrix, r.status)
    if not outcome.ok:
        # Both render markup, and messages quote what the user (or a share link) typed.
        gr.Warning(html.escape(outcome.error or "", quote=False))
        message = f"⚠ {display.escape_markdown(outcome.error or '')}"
        stale = display.stale_note(state)
        faded = {part: gr.update(elem_classes=["ww-stale"]) for part in shown} if stale else {}
        return {r.error: gr.update(value=message + stale, visible=True), **faded}
    e = outcome.explanation
    query = effective_query(outcome)
    masks = mask_choices(e)
    partial = bool(outcome.pending)  # an early result: keep the state, link and exports
    updates = {
        # elem_classes=[]: no longer faded as a previous result
        r.chart: gr.update(value=display.topk_figure(e), elem_classes=[]),
        r.heatmap: gr.update(value=display.heatmap(e, query), elem_classes=[]),
        r.trust: gr.update(value=render.trust_html(e), elem_classes=[]),
        r.matrix: gr.update(value=display.matrix_figure(e, query), elem_classes=[]),
        r.status: gr.update(value=display.status_markdown(outcome), elem_classes=[]),
        r.error: gr.update(value="", visible=False),
        r.mode: display.result_mode_note(e),
        r.notice: gr.update(value="", visible=False),
        r.share_query: encode(shareable_query(outcome)),
        r.state: session.next_state(outcome, state),
        c.target: gr.update(choices=target_choices(e), value=query.target),
        c.foil: gr.update(choices=foil_choices(e), value=query.foil),
        c.mask: gr.update(
            choices=masks or [("[MASK] 1", 0)], value=query.mask, visible=bool(masks)
        ),
        **{x[kind]: gr.update(interactive=True) for kind in EXPORTS},
    }
    if partial:
        for later in (r.share_query, r.state, *(x[kind] for kind in EXPORTS)):
            updates.pop(later)
    if outcome.stage is not None and not outcome.stage.final:
        updates.pop(r.trust)  # its completeness check warns until refined: the status says it
    return updates


def wire(ctx: ViewContext, c: Controls, r: Any, x: dict[str, Any], examples: list) -> None:
    outputs = [*r.all(), c.target, c.foil, c.mask, *(x[kind] for kind in EXPORTS)]

    def after(event) -> None:
        """Write the view into the page URL after every explaining event."""
        event.then(None, [r.share_query], [x["share_link"]], js=script("update_url"), queue=False)

    events = EventFactory(
        controls=c,
        state=r.state,
        outputs=outputs,
        present=lambda outcome, state: present(outcome, state, c, r, x),
        busy=[r.chart, r.heatmap],
        after=after,
    )
    explaining = events.explaining
    explaining(
        [x["explain_btn"].click, c.text.submit],
        lambda d, q, s, p: session.on_submit(q, s, p),
        api_name="submit",
    )
    explaining(
        [x["click_btn"].click],
        lambda d, q, s, p: session.on_bar_click(d[x["click_box"]], d[x["click_role"]], q, s, p),
        inputs=[x["click_box"], x["click_role"]],
        api_name="click_bar",
    )
    explaining(
        [c.target.input],
        lambda d, q, s, p: session.on_pick_target(d[c.target], q, s, p),
        api_name="pick_target",
    )
    explaining(
        [x["word_btn"].click, x["word"].submit],
        lambda d, q, s, p: session.on_word(d[x["word"]], q, s, p),
        inputs=[x["word"]],
    )
    explaining(
        [c.foil.input], lambda d, q, s, p: session.on_foil(d[c.foil], q, s, p), api_name="pick_foil"
    )
    explaining(
        [x["foil_btn"].click, x["foil_word"].submit],
        lambda d, q, s, p: session.on_foil(d[x["foil_word"]], q, s, p),
        inputs=[x["foil_word"]],
    )
    explaining(  # with no foil left to pick, a click sets the target again
        [x["clear_foil"].click],
        lambda d, q, s, p: session.on_clear_foil(q, s, p),
        outputs=[x["click_role"]],
        extra=lambda d: {x["click_role"]: "target"},
        api_name="clear_foil",
    )
    explaining(
        [c.mask.input], lambda d, q, s, p: session.on_mask(d[c.mask], q, s, p), api_name="pick_mask"
    )

    def example(d: dict, q, s, p) -> Outcome:
        row = examples[int(d[x["dataset"]])]
        return session.on_example(row["text"], row["target"], row["foil"], q, s, p)

    explaining(
        [x["dataset"].click],
        example,
        inputs=[x["dataset"]],
        outputs=[c.text],
        extra=lambda d: {c.text: examples[int(d[x["dataset"]])]["text"]},
    )
    _wire_load(ctx, c, r, x, outputs, after)
    _wire_cheap(c, r, x)
    counterfactuals.wire(ctx, c, r, x)


def _wire_load(ctx: ViewContext, c: Controls, r: Any, x: dict, outputs: list, after) -> None:
    on_load = [*c.all(), *outputs]
    bounds = bounds_for(ctx.limits)

    def load(request: gr.Request, progress: gr.Progress = PROGRESS):
        params = dict(request.query_params) if request is not None else {}
        query, outcome, changes = session.on_load(params, tracker(progress), bounds)
        if query is None:  # a plain visit: nothing to reproduce
            return every_output({}, on_load)
        shown = c.values(query, params.keys())
        updates = shown if outcome is None else {**shown, **present(outcome, None, c, r, x)}
        notice = display.changes_markdown(changes)
        updates[r.notice] = gr.update(value=notice, visible=bool(notice))
        return every_output(updates, on_load)

    after(
        ctx.demo.load(
            load, None, on_load, api_visibility="private", show_progress_on=[r.chart, r.heatmap]
        )
    )


def _wire_cheap(c: Controls, r: Any, x: dict) -> None:
    """Events that run no model: re-rendering, the mode note, downloads, page scripts."""
    cheap = {"api_visibility": "private", "concurrency_limit": None, "show_progress": "hidden"}

    def rerender(data: dict):
        e = session.previous_explanation(data[r.state])
        if e is None:
            return {r.heatmap: gr.skip()}
        query = c.query(data)
        return {r.heatmap: display.heatmap(e, query), r.matrix: display.matrix_figure(e, query)}

    for control in (c.special, c.normalise, c.level, c.numbers):
        control.change(rerender, {*c.all(), r.state}, [r.heatmap, r.matrix], **cheap)

    def mode_note(text: str, model: str) -> str:
        return display.mode_note(text or "", model or "default")

    for control in (c.text, c.model):
        control.change(mode_note, [c.text, c.model], [r.mode], trigger_mode="always_last", **cheap)

    for kind in EXPORTS:

        def download(state: State | None, kind: str = kind):
            e = session.previous_explanation(state)
            return gr.skip() if e is None else write_export(e, kind)

        x[kind].click(download, [r.state], [x["download"]], **cheap).then(
            None, None, None, js=script("download"), queue=False
        )

    c.presenter.change(None, [c.presenter], None, js=script("presenter"), queue=False)
    x["mask_btn"].click(None, [c.text], [c.text], js=script("insert_mask"), queue=False)
    x["copy_btn"].click(
        None, [x["share_link"]], [x["share_link"]], js=script("copy_link"), queue=False
    )
