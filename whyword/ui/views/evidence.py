"""The Evidence tab: REALM-style retrieval-augmented fill-mask, with passage and token
attributions. Logic in evidence_handlers.py (gradio-free); pictures in whyword/render/evidence.py."""

from __future__ import annotations

import gradio as gr

from whyword.ui.views import ViewContext
from whyword.ui.views import evidence_handlers as h

TITLE = "Evidence"
TAB_ID = "evidence"
EXAMPLE = "example"
TYPED = "my passages"


def build(ctx: ViewContext) -> None:
    from whyword.evidence import DEFAULT_K, DEFAULT_TEMPERATURE

    gr.Markdown(
        "Retrieve passages for a query, read each one with the model, and combine the answers "
        "as REALM does: **p(y | x) = Σ p(y | x, z) · p(z | x)**. Which passages were picked "
        "(p(z | x)), which carried the answer (share), and which tokens mattered — through the "
        "reader and through the retriever."
    )
    with gr.Row():
        with gr.Column(scale=2):
            query = gr.Textbox(h.EXAMPLE_QUERY, label="Query", elem_id="ww-ev-query")
            source = gr.Radio(
                [EXAMPLE, TYPED], value=EXAMPLE, label="Passages from", elem_id="ww-ev-source"
            )
            passages = gr.Textbox(
                "",
                lines=6,
                label="Your passages (one per paragraph)",
                elem_id="ww-ev-passages",
            )
        with gr.Column(scale=1):
            k = gr.Slider(1, 20, value=DEFAULT_K, step=1, label="Top-k passages", elem_id="ww-ev-k")
            temperature = gr.Slider(
                0.01,
                1.0,
                value=DEFAULT_TEMPERATURE,
                step=0.01,
                label="Retrieval temperature τ (p(z|x) = softmax(relevance / τ))",
                elem_id="ww-ev-temperature",
            )
            run = gr.Button("Retrieve and explain", variant="primary", elem_id="ww-ev-run")
    status = gr.Markdown("", elem_id="ww-ev-status")
    ranked = gr.HTML("", elem_id="ww-ev-passages-ranked")
    with gr.Row():
        marginal = gr.Plot(show_label=False, elem_id="ww-ev-topk")
        none = gr.Plot(show_label=False, elem_id="ww-ev-none")
    heatmaps = gr.HTML("", elem_id="ww-ev-heatmaps")
    link = gr.Textbox("", label="Share link (add to the page's address)", elem_id="ww-ev-link")
    click_box = gr.Textbox(visible="hidden", elem_id="ww-ev-click")
    click_btn = gr.Button("bar clicked", visible="hidden", elem_id="ww-ev-click-btn")
    target = gr.State(None)

    inputs = [query, source, passages, k, temperature, ctx.model]
    outputs = [ranked, marginal, none, heatmaps, status, link, target]

    def request(q, src, text, kk, t, tgt) -> h.Request:
        corpus = EXAMPLE if src == EXAMPLE else ""
        return h.Request(q, text or "", corpus, int(kk), float(t), tgt)

    def show(shown: h.Shown) -> list:
        return [
            shown.passages_html,
            shown.marginal,
            shown.no_evidence,
            shown.heatmaps_html,
            shown.status,
            shown.link,
            shown.target,
        ]

    def submit(q, src, text, kk, t, model):
        return show(h.run(request(q, src, text, kk, t, None), model))

    def retarget(value, q, src, text, kk, t, model):
        token = h.clicked_id(value)
        return show(h.run(request(q, src, text, kk, t, token), model))

    def load(request_: gr.Request, model_value):
        params = dict(request_.query_params) if request_ is not None else {}
        req = h.from_params(params, DEFAULT_K, DEFAULT_TEMPERATURE)
        if req is None:
            return [gr.update()] * (len(outputs) + 5)
        src = EXAMPLE if req.corpus else TYPED
        return [
            req.query,
            src,
            req.passages,
            req.k,
            req.temperature,
            *show(h.run(req, model_value)),
        ]

    run.click(submit, inputs, outputs, api_visibility="private")  # the API: /evidence (api.py)
    query.submit(submit, inputs, outputs, api_name=False)
    click_btn.click(retarget, [click_box, *inputs], outputs, api_name=False)
    ctx.demo.load(
        load, [ctx.model], [query, source, passages, k, temperature, *outputs], api_name=False
    )
