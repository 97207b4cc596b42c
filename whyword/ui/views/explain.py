"""The "Explain" view: the text, the top-k chart, the token heatmaps, the trust panel and the
method × token matrix, the target / foil pickers, the share link and the downloads.

Its settings (model, k, methods, IG…) sit in the page's shared sidebar (whyword.ui.app); its
events are wired in `explain_events`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from whyword.ui import display
from whyword.ui.query import Controls, make
from whyword.ui.views import ViewContext

TITLE = "Explain"
TAB_ID = "explain"
EXAMPLES_FILE = Path(__file__).resolve().parents[2] / "assets" / "examples.json"  # package data


@dataclass
class Results:
    """The output components every explaining event updates."""

    chart: gr.Plot
    heatmap: gr.HTML
    trust: gr.HTML
    matrix: gr.Plot
    status: gr.Markdown
    error: gr.Markdown
    mode: gr.Markdown
    notice: gr.Markdown
    share_query: gr.Textbox
    state: gr.State

    def all(self) -> list[gr.components.Component]:
        return [getattr(self, name) for name in self.__dataclass_fields__]


def load_examples(path: Path = EXAMPLES_FILE) -> list[dict[str, str]]:
    """The example rows: text, and optionally target, foil and a note."""
    if not path.is_file():
        return []
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        {key: str(row.get(key, "") or "") for key in ("text", "target", "foil", "note")}
        for row in rows
    ]


def build(ctx: ViewContext) -> Controls:
    """The view's components inside the current tab, then its events; its controls, whose
    text, target and foil the other views share (`ViewContext`)."""
    from whyword.ui.views import explain_events

    examples = load_examples()
    widgets, parts = _components(ctx, examples)
    controls = Controls({**ctx.settings, **widgets})
    explain_events.wire(ctx, controls, parts["results"], parts, examples)
    return controls


def _components(ctx: ViewContext, examples: list[dict]) -> tuple[dict, dict[str, Any]]:
    limits = ctx.limits
    gr.Markdown(
        "# WhyWord: why does the model predict this word?\n"
        "The model's top guesses for the next word (or a `[MASK]`), and which words of your text "
        "make the **target** more likely (red) or less likely (blue). Click a bar to explain "
        "that word.",
        elem_id="ww-title",
    )
    widgets: dict[str, Any] = {}
    x: dict[str, Any] = {}
    with gr.Row(equal_height=True):
        widgets["text"] = make("text", limits)
        with gr.Column(scale=1, min_width=180):
            x["explain_btn"] = gr.Button("Explain", variant="primary", elem_id="ww-explain")
            x["mask_btn"] = gr.Button("Insert [MASK]", size="md", elem_id="ww-insert-mask")
            widgets["presenter"] = make("presenter", limits)
    mode = gr.Markdown(display.mode_note("", limits.models[0]), elem_id="ww-mode")
    with gr.Accordion("Examples, including teaching cases with a foil", open=False):
        x["dataset"] = gr.Dataset(
            components=["textbox", "textbox", "textbox"],
            headers=["Example", "Target", "Foil"],
            samples=[[row["text"], row["target"], row["foil"]] for row in examples],
            type="index",
            label="Click an example",
            samples_per_page=12,
            elem_id="ww-examples",
        )
    status = gr.Markdown("", elem_id="ww-status")
    error = gr.Markdown("", visible=False, elem_classes=["ww-error"], elem_id="ww-error")
    notice = gr.Markdown("", visible=False, elem_classes=["ww-notice"], elem_id="ww-notice")
    with gr.Row(equal_height=False, elem_id="ww-results"):
        with gr.Column(scale=1, min_width=280):
            chart = gr.Plot(show_label=False, elem_id="ww-topk")
            _pickers(limits, widgets, x)
        with gr.Column(scale=1, min_width=280):
            widgets["numbers"] = make("numbers", limits)
            heatmap = gr.HTML(
                "<p class='ww-hint'>Type a sentence and press Enter: the heatmap appears here.</p>",
                elem_id="ww-heatmap",
            )
            x["cf_run"] = gr.Button(
                "What would change the answer?", size="md", elem_id="ww-cf-run"
            )
            x["cf_panel"] = gr.HTML("", elem_id="ww-cf-panel")
            trust = gr.HTML("", elem_id="ww-trust")
    matrix = gr.Plot(show_label=False, elem_id="ww-matrix")
    _share_and_exports(x)
    x["click_box"] = gr.Textbox(visible="hidden", elem_id="ww-click")
    x["click_btn"] = gr.Button("bar clicked", visible="hidden", elem_id="ww-click-btn")
    x["results"] = Results(
        chart=chart,
        heatmap=heatmap,
        trust=trust,
        matrix=matrix,
        status=status,
        error=error,
        mode=mode,
        notice=notice,
        share_query=gr.Textbox(visible="hidden", elem_id="ww-share-query"),
        state=gr.State(None),
    )
    return widgets, x


def _pickers(limits, widgets: dict[str, Any], x: dict[str, Any]) -> None:
    """Target and foil: by click, from the top-k, or any word; the [MASK] selector."""
    with gr.Row():
        x["click_role"] = gr.Radio(
            ["target", "foil"],
            value="target",
            label="Clicking a bar sets the",
            elem_id="ww-click-role",
        )
        widgets["mask"] = make("mask", limits)
    with gr.Row():
        widgets["target"] = make("target", limits)
        widgets["foil"] = make("foil", limits)
    with gr.Row(equal_height=True):
        x["word"] = gr.Textbox(
            label="Any word as target", placeholder="are", elem_id="ww-word", scale=3
        )
        x["word_btn"] = gr.Button("Explain word", elem_id="ww-word-btn", scale=2)
    with gr.Row(equal_height=True):
        x["foil_word"] = gr.Textbox(
            label="Any word as foil", placeholder="is", elem_id="ww-foil-word", scale=3
        )
        x["foil_btn"] = gr.Button("Set foil", elem_id="ww-foil-btn", scale=1)
        x["clear_foil"] = gr.Button("Clear foil", elem_id="ww-clear-foil", scale=1)


def _share_and_exports(x: dict[str, Any]) -> None:
    with gr.Row(equal_height=True):
        x["share_link"] = gr.Textbox(
            label="Share link (reproduces this view)",
            interactive=False,
            elem_id="ww-share",
            scale=4,
        )
        x["copy_btn"] = gr.Button("Copy share link", elem_id="ww-copy", scale=1)
    with gr.Row():  # each writes its file when pressed (whyword.ui.exports)
        x["csv"] = gr.Button("Download CSV", interactive=False, elem_id="ww-csv")
        x["json"] = gr.Button("Download JSON", interactive=False, elem_id="ww-json")
        x["html"] = gr.Button("Download HTML (heatmaps)", interactive=False, elem_id="ww-html")
    x["download"] = gr.DownloadButton("download", visible="hidden", elem_id="ww-download")
    gr.Markdown("PNG: the camera icon in a chart's toolbar.", elem_classes=["ww-hint"])
