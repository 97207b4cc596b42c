"""The Layers tab: inside the model, for the Explain tab's text, target and foil — what each layer
predicts (the logit lens), the target's rank across layers, and which heads and MLPs wrote it
(direct logit attribution, checked by ablation) when the result carries them.

Components and events only: the logic is in layers_handlers.py (no gradio there), the pictures
in whyword/render/layers.py and whyword/render/components.py.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from whyword.errors import WhyWordError
from whyword.ui.views import ViewContext
from whyword.ui.views import layers_handlers as h
from whyword.ui.views.sequence import URL_JS

TITLE = "Layers"
TAB_ID = h.TAB
BRIDGE_JS = (Path(__file__).with_name("layers.js")).read_text(encoding="utf-8")
INTRO = (
    "### Where inside the model does the answer form?\n"
    "For the text, target and foil of the **Explain** tab (a bar click there sets them): what "
    "each layer would predict if the model stopped there (the *logit lens*: the layer's "
    "stream through the model's own final norm and unembedding), and which attention heads "
    "and MLPs wrote the target into the last token's stream."
)
HINT = (
    "Darker cells: likelier tokens. ◆ the target, ◇ the foil. Grid and bars: red wrote the "
    "target up, blue down (in logits, the final norm's scale frozen); ✓ heads were checked by "
    "removing them. Pick a head (or click one in the grid) to see its numbers."
)


def build(ctx: ViewContext) -> None:
    gr.Markdown(INTRO)
    with gr.Row(equal_height=True):
        k = gr.Slider(1, h.MAX_K, h.DEFAULT_K, step=1, label="Top-k per layer", elem_id="ww-ly-k")
        run = gr.Button("Look inside", variant="primary", elem_id="ww-ly-run")
    status = gr.HTML(f'<p class="ww-hint">{h.WAITING}</p>', elem_id="ww-ly-status")
    gr.Markdown(HINT, elem_classes=["ww-hint"])
    table = gr.HTML("", elem_id="ww-ly-table")
    rank = gr.Plot(label="The target's rank after each layer", elem_id="ww-ly-rank")
    note = gr.HTML("", elem_id="ww-ly-note")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            heads = gr.Plot(label="Heads × layers: DLA", elem_id="ww-ly-heads", visible=False)
        with gr.Column(scale=1, min_width=260):
            agreement = gr.HTML("", elem_id="ww-ly-agreement")
            picker = gr.Dropdown(
                choices=[], value=None, label="A head", elem_id="ww-ly-head", visible=False
            )
            detail = gr.HTML("", elem_id="ww-ly-head-detail")
    mlps = gr.Plot(label="MLPs: DLA per layer", elem_id="ww-ly-mlp", visible=False)
    link = gr.Textbox("", label="Share link (add to the page's address)", elem_id="ww-ly-link")
    with gr.Row():
        export = gr.Button("Download CSV + JSON", elem_id="ww-ly-export")
        files = gr.File(label="Downloads", file_count="multiple", elem_id="ww-ly-files")
    click_box = gr.Textbox(visible="hidden", elem_id="ww-ly-click")
    click_btn = gr.Button("head clicked", visible="hidden", elem_id="ww-ly-click-btn")
    lens = gr.State(None)
    asked = gr.State(None)  # the Request `lens` answers

    outputs = [status, table, rank, note, heads, agreement, mlps, picker, detail, link, lens, asked]
    shared = [ctx.text, ctx.target, ctx.foil, ctx.model, k]

    def show(shown: h.Shown) -> list:
        ok = shown.lens is not None
        grid = ok and shown.heads is not None
        status_html = shown.status if ok else f'<div class="ww-error">{shown.status}</div>'
        return [
            status_html,
            shown.table,
            gr.update(value=shown.rank, visible=ok),
            shown.note,
            gr.update(value=shown.heads, visible=grid),
            shown.agreement,
            gr.update(value=shown.mlps, visible=grid),
            gr.update(choices=shown.head_choices, value=None, visible=grid),
            "",
            shown.link,
            shown.lens,
            shown.request,
        ]

    def request(text, target, foil, model, kk) -> h.Request:
        return h.Request(text or "", target or "", foil or "", model or "default", int(kk))

    def submit(text, target, foil, model, kk):
        return show(h.run(request(text, target, foil, model, kk)))

    def opened(text, target, foil, model, kk, last):
        """Opening the tab: run unless the view already answers these values, or the Explain
        tab has no text yet (the hint stays, or a share link's view: the link opened the tab
        while it was computing)."""
        req = request(text, target, foil, model, kk)
        if req == last or not req.text.strip():
            return [gr.skip()] * len(outputs)
        return show(h.run(req))

    def wire(event) -> None:
        event.then(None, [link], [link], js=URL_JS, queue=False)

    wire(run.click(submit, shared, outputs, api_visibility="private"))  # the API: /layers
    if ctx.tab is not None:
        wire(ctx.tab.select(opened, [*shared, asked], outputs, api_visibility="private"))

    cheap = {"api_visibility": "private", "concurrency_limit": None, "show_progress": "hidden"}
    # the head's numbers at once, then its attention row (a model call, through the scheduler)
    picked = picker.input(h.pick_head, [lens, picker], [detail], **cheap)
    picked.then(h.head_attention, [lens, asked, picker], [detail], api_visibility="private")

    def clicked(state, value):
        head = str(value or "").split(":", 1)[0]
        return h.pick_head(state, value), gr.update(value=head or None)

    chosen = click_btn.click(clicked, [lens, click_box], [detail, picker], **cheap)
    chosen.then(h.head_attention, [lens, asked, click_box], [detail], api_visibility="private")

    def download(state):
        try:
            return h.export_files(state)
        except WhyWordError as error:
            raise gr.Error(str(error)) from None

    export.click(download, [lens], [files], **cheap)

    def load(request_: gr.Request):
        params = dict(request_.query_params) if request_ is not None else {}
        req = h.from_params(params)
        if req is None:
            return [gr.skip()] * (len(outputs) + 1)
        return [*show(h.run(req)), req.k]

    ctx.demo.load(None, None, None, js=BRIDGE_JS, queue=False)
    ctx.demo.load(load, None, [*outputs, k], api_visibility="private")
