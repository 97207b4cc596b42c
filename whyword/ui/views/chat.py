"""The Chat tab: a system and a user message, the model's reply (generated, or typed), and any
span of the reply explained by the conversation's tokens, messages and sentences — the chat
template's own tokens greyed and held, never attributed as words.

Components and events only: the logic is in chat_handlers.py (no gradio there), the pictures
in whyword/render/chat.py.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from whyword.errors import WhyWordError
from whyword.render.text import method_label
from whyword.ui.views import ViewContext
from whyword.ui.views import chat_handlers as h
from whyword.ui.views.sequence import URL_JS

TITLE = "Chat"
TAB_ID = h.TAB
BRIDGE_JS = (Path(__file__).with_name("chat.js")).read_text(encoding="utf-8")
INTRO = (
    "### Why did the assistant answer that?\n"
    "The messages go through the model's own chat template; it answers (or you type its "
    "answer), and a span of the answer — all of it, a phrase, or tokens you click or drag "
    "across — is explained by every token, message and sentence before it."
)
HINT = (
    "Greyed dashed tokens are the chat template's (turn markers, role names): held, never "
    "attributed. The outlined tokens are the span. Click a reply token, or drag from a first "
    "to a last one, to explain that span; or type a phrase of the reply, or 3:7 (reply tokens 3 to 6)."
)


def build(ctx: ViewContext) -> None:
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False):
        system = gr.Textbox("", label="System message (optional)", lines=2, elem_id="ww-chat-system")
        user = gr.Textbox("", label="User message", lines=2, elem_id="ww-chat-user")
    reply = gr.Textbox(
        "", label="The assistant's reply (blank: the model writes it)", elem_id="ww-chat-reply"
    )
    with gr.Row(equal_height=True):
        new = gr.Slider(1, h.MAX_NEW, h.DEFAULT_NEW, step=1, label="Max new tokens", elem_id="ww-chat-new")
        strategy = gr.Radio(list(h.STRATEGIES), value="greedy", label="Decoding", elem_id="ww-chat-strategy")
        seed = gr.Number(0, precision=0, minimum=0, label="Seed (sampling)", elem_id="ww-chat-seed")
    with gr.Row(equal_height=True):
        methods = gr.CheckboxGroup(
            [(method_label(m), m) for m in h.METHOD_CHOICES], value=list(h.DEFAULT_METHODS),
            label="Methods", elem_id="ww-chat-methods",
        )
        level = gr.Radio(list(h.LEVELS), value="message", label="Bars per", elem_id="ww-chat-level")
    with gr.Row(equal_height=True):
        span = gr.Textbox("", label="Span of the reply (blank: all of it)", elem_id="ww-chat-span")
        foil = gr.Textbox("", label="Foil: an alternative answer (optional)", elem_id="ww-chat-foil")
        run = gr.Button("Explain", variant="primary", elem_id="ww-chat-run")
    status = gr.HTML(f'<p class="ww-hint">{h.WAITING}</p>', elem_id="ww-chat-status")
    gr.Markdown(HINT, elem_classes=["ww-hint"])
    shown_method = gr.Radio([], value=None, label="Show", elem_id="ww-chat-show", visible=False)
    conversation = gr.HTML("", elem_id="ww-chat-conversation")
    bars = gr.Plot(label="Per message or sentence", elem_id="ww-chat-bars", visible=False)
    link = gr.Textbox("", label="Share link (add to the page's address)", elem_id="ww-chat-link")
    with gr.Row():
        export = gr.Button("Download JSON", elem_id="ww-chat-export")
        files = gr.File(label="Downloads", file_count="multiple", elem_id="ww-chat-files")
    click_btn = gr.Button("span chosen", visible="hidden", elem_id="ww-chat-click-btn")
    result = gr.State(None)  # the ChatExplanation shown
    asked = gr.State(None)  # the Request it answers

    outputs = [status, conversation, bars, shown_method, link, result, asked]
    fields = [system, user, reply, span, foil, methods, level, new, strategy, seed]

    def show(shown: h.Shown | None) -> list:
        if shown is None:
            return [gr.skip()] * len(outputs)
        ok = shown.explanation is not None
        names = [m.method for m in shown.explanation.matrix.methods] if ok else []
        return [
            shown.status if ok else f'<div class="ww-error">{shown.status}</div>',
            shown.conversation,
            gr.update(value=shown.bars, visible=ok),
            gr.update(
                choices=[(method_label(m), m) for m in names], value=shown.method or None,
                visible=len(names) > 1,
            ),
            shown.link,
            shown.explanation,
            shown.request,
        ]

    def request(model, sys_, usr, rep, sp, fo, ms, lv, n, st, sd) -> h.Request:
        return h.Request(
            system=sys_ or "", user=usr or "", model=model or "default", reply=rep or "",
            span=sp or "", foil=fo or "", methods=tuple(ms or ()), level=lv or "message",
            max_new_tokens=int(n or h.DEFAULT_NEW), strategy=st or "greedy", seed=int(sd or 0),
        )

    def submit(model, *values):
        *fields_, state, last = values
        return show(h.run(request(model, *fields_), state, last))

    def wire(event) -> None:
        event.then(None, [link], [link], js=URL_JS, queue=False)

    inputs = [ctx.model, *fields, result, asked]
    wire(run.click(submit, inputs, outputs, api_visibility="private"))  # the API: /chat
    wire(user.submit(submit, inputs, outputs, api_visibility="private"))
    wire(span.submit(submit, inputs, outputs, api_visibility="private"))
    wire(click_btn.click(submit, inputs, outputs, api_visibility="private"))

    cheap = {"api_visibility": "private", "concurrency_limit": None, "show_progress": "hidden"}

    def again(state, last, method, lv):  # another method or level: no model call
        return show(h.reshow(state, last, method, lv))

    shown_method.input(again, [result, asked, shown_method, level], outputs, **cheap)
    level.input(again, [result, asked, shown_method, level], outputs, **cheap)

    def download(state):
        try:
            return h.export_files(state)
        except WhyWordError as error:
            raise gr.Error(str(error)) from None

    export.click(download, [result], [files], **cheap)

    def load(request_: gr.Request):
        params = dict(request_.query_params) if request_ is not None else {}
        req = h.from_params(params)
        if req is None:
            return [gr.skip()] * (len(outputs) + len(fields))
        values = [req.system, req.user, req.reply, req.span, req.foil, list(req.methods),
                  req.level, req.max_new_tokens, req.strategy, req.seed]
        return [*show(h.run(req)), *values]

    ctx.demo.load(None, None, None, js=BRIDGE_JS, queue=False)
    ctx.demo.load(load, None, [*outputs, *fields], api_visibility="private")
