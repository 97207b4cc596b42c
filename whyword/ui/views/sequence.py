"""The Sequence view: what the model expected at every position, step-through generation with
live temperature / top-k / top-p, the per-step attribution matrix and the transition table.

Components and events only; the logic is in `whyword.ui.sequence_session` (no gradio there).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from whyword.attr import METHODS
from whyword.errors import WhyWordError
from whyword.render.text import esc
from whyword.ui import sequence_session as ss
from whyword.ui.views import ViewContext

TITLE = "Sequence"
TAB_ID = "sequence"
BRIDGE_JS = (Path(__file__).with_name("sequence.js")).read_text(encoding="utf-8")
EXAMPLE = "The capital of France is"

# The page URL describes this view after each of its events (the Explain view writes its own).
URL_JS = """
(query) => {
  if (!query) return query;
  const next = new URLSearchParams(query);
  const theme = new URLSearchParams(window.location.search).get("__theme");
  if (theme) next.set("__theme", theme);
  const url = window.location.pathname + "?" + next.toString() + window.location.hash;
  try { history.replaceState(history.state, "", url); } catch (e) {}
  return query;
}
"""
CSS_NOTE = (
    "Click a bar to append that token; the sliders reshape the warped bars at once "
    "(no new model run). Grey bars: the model's own distribution; teal: what sampling "
    "draws from after temperature, top-k and top-p (✂ cut = can never be drawn)."
)


def build(ctx: ViewContext) -> None:
    gr.Markdown(
        "### What did the model expect at each position, and how would it continue?\n"
        + ss.WHY_NOT_GENERATE
    )
    with gr.Row():
        text = gr.Textbox(
            value=EXAMPLE, label="Text", lines=2, scale=5, elem_id="ww-seq-text-input"
        )
        start = gr.Button("Start", variant="primary", scale=1, elem_id="ww-seq-start")
    status = gr.Markdown("", elem_id="ww-seq-status")
    strip = gr.HTML("", elem_id="ww-seq-strip")
    position = gr.Plot(label="What the model expected there", elem_id="ww-seq-position")
    gr.Markdown("#### Step through the generation")
    so_far = gr.HTML("", elem_id="ww-seq-so-far")
    with gr.Row():
        temperature = gr.Slider(0.05, 3.0, 1.0, step=0.05, label="Temperature", elem_id="ww-seq-t")
        top_k = gr.Slider(0, 100, 0, step=1, label="Top-k (0 = off)", elem_id="ww-seq-k")
        top_p = gr.Slider(0.05, 1.0, 1.0, step=0.05, label="Top-p (1 = off)", elem_id="ww-seq-p")
        seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ww-seq-seed")
    gr.Markdown(CSS_NOTE, elem_classes=["ww-hint"])
    chart = gr.Plot(label="Next token: raw vs warped", elem_id="ww-seq-next")
    with gr.Row():
        undo = gr.Button("Undo", elem_id="ww-seq-undo")
        n = gr.Slider(1, ss.MAX_AUTO, 10, step=1, label="Tokens", elem_id="ww-seq-n")
        strategy = gr.Radio(["sample", "greedy"], value="sample", label="Auto-complete by")
        auto = gr.Button("Auto-complete", elem_id="ww-seq-auto")
    gr.Markdown("#### Why each step? The generated-steps × source-tokens matrix")
    with gr.Row():
        method = gr.Dropdown(
            list(METHODS), value="saliency", label="Method", elem_id="ww-seq-method", scale=2
        )
        explain = gr.Button("Explain the steps", elem_id="ww-seq-explain", scale=1)
    steps = gr.Plot(label="Steps × source tokens (grey: not in context)", elem_id="ww-seq-steps")
    row_heatmap = gr.HTML("", elem_id="ww-seq-row-heatmap")
    gr.Markdown("#### Transition scores")
    table = gr.HTML("", elem_id="ww-seq-table")
    with gr.Row():
        export = gr.Button("Export CSV + JSON", elem_id="ww-seq-export")
        csv_file = gr.File(label="CSV", elem_id="ww-seq-csv")
        json_file = gr.File(label="JSON", elem_id="ww-seq-json")
    click_box = gr.Textbox(visible="hidden", elem_id="ww-seq-click")
    click_btn = gr.Button("bar", visible="hidden", elem_id="ww-seq-click-btn")
    pos_box = gr.Textbox(visible="hidden", elem_id="ww-seq-pos")
    pos_btn = gr.Button("pos", visible="hidden", elem_id="ww-seq-pos-btn")
    row_box = gr.Textbox(visible="hidden", elem_id="ww-seq-row")
    row_btn = gr.Button("row", visible="hidden", elem_id="ww-seq-row-btn")
    share = gr.Textbox(visible="hidden", elem_id="ww-seq-share")
    state = gr.State(None)

    outputs = [state, status, strip, so_far, chart, position, steps, row_heatmap, table, share]
    warp = [temperature, top_k, top_p]
    link = [text, ctx.model, *warp, seed]

    def show(view: ss.SeqView, link_values: list) -> list:
        parts = [
            view.strip,
            view.text_so_far,
            view.step_figure,
            view.position_figure,
            view.steps_figure,
            view.row_heatmap,
            view.table,
        ]
        note = f'<div class="ww-error">{esc(view.status)}</div>' if view.status else ""
        query = ss.share_query(view.state, *link_values)
        return [view.state, note, *(gr.skip() if p is None else p for p in parts), query]

    def wire(trigger, fn, inputs, **kwargs) -> None:
        def run(data: dict):  # a set of inputs: gradio passes {component: value}
            return show(fn(*(data[c] for c in inputs)), [data[c] for c in link])

        event = trigger(run, {*inputs, *link}, outputs, api_visibility="private", **kwargs)
        event.then(None, [share], [share], js=URL_JS, queue=False)

    wire(start.click, ss.start, [state, text, ctx.model, *warp])
    wire(text.submit, ss.start, [state, text, ctx.model, *warp])
    wire(click_btn.click, ss.append, [state, click_box, *warp])
    wire(undo.click, ss.undo, [state, *warp])
    wire(auto.click, ss.auto, [state, n, strategy, *warp, seed])
    wire(pos_btn.click, ss.pick_position, [state, pos_box], concurrency_limit=None)
    wire(explain.click, ss.explain_steps, [state, method])
    wire(row_btn.click, ss.pick_step, [state, row_box], concurrency_limit=None)
    for slider in warp:  # live: only re-warps cached logits
        wire(
            slider.input,
            ss.rewarp,
            [state, *warp],
            trigger_mode="always_last",
            show_progress="hidden",
            concurrency_limit=None,
        )

    def exports(s):
        folder = tempfile.mkdtemp(prefix="whyword-seq-")
        try:
            return ss.export_files(s or ss.SeqState(), folder)
        except WhyWordError as error:
            raise gr.Error(str(error), print_exception=False) from None

    export.click(exports, [state], [csv_file, json_file], api_visibility="private")

    def load(request: gr.Request):
        params = dict(request.query_params) if request is not None else {}
        values = ss.read_link(params)
        keep = [gr.skip()] * (len(outputs) + 5)
        if values is None or not values.text:
            return keep
        model = params.get("model", "default")
        view = ss.from_link(values, model)
        controls = [values.text, values.temperature, values.top_k, values.top_p, values.seed]
        link_values = [values.text, model, values.temperature, values.top_k, values.top_p]
        return [*show(view, [*link_values, values.seed]), *controls]

    ctx.demo.load(None, None, None, js=BRIDGE_JS, queue=False)
    ctx.demo.load(
        load, None, [*outputs, text, temperature, top_k, top_p, seed], api_visibility="private"
    )
