"""The page: components, their events, and the glue from handler `Outcome`s to component updates.

The only module that imports gradio. Handlers (plain functions) do the work; this file reads the
controls into a `Query`, calls a handler, and turns its `Outcome` into updates.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from whyword import render
from whyword._version import __version__
from whyword.attr import METHODS
from whyword.errors import WhyWordError
from whyword.limits import current_limits
from whyword.options import BASELINES
from whyword.ui import handlers
from whyword.ui.handlers import Outcome
from whyword.ui.share import DEFAULT_METHODS, NORMALISATIONS, Bounds, Query, encode, page_bounds
from whyword.ui.views import ViewContext, extra_views

HERE = Path(__file__).resolve().parent
EXAMPLES_FILE = HERE.parent / "assets" / "examples.json"  # package data: in the wheel
BRIDGE_JS = (HERE / "bridge.js").read_text(encoding="utf-8")

# Concurrency: up to 16 events wait inside the scheduler (whyword/scheduler.py), which runs
# the model work in two lanes (light, batched across users; heavy, one at a time) — so
# concurrent requests can share calls. Beyond that, gradio's queue shows each student their
# position and an estimate; it is bounded so a crowded classroom gets "queue full", not a stall.
CONCURRENCY = 16
QUEUE_SIZE = 64

THEME = gr.themes.Soft(
    primary_hue="teal",  # not red or blue: those mean "for" and "against" the target
    secondary_hue="slate",
    neutral_hue="slate",
    text_size=gr.themes.sizes.text_lg,  # classroom projection
    spacing_size=gr.themes.sizes.spacing_md,
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],  # no web fonts
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
).set(
    block_label_background_fill="*neutral_100",
    block_label_background_fill_dark="*neutral_800",
    block_label_text_color="*neutral_800",
    block_label_text_color_dark="*neutral_100",
    block_title_text_color="*neutral_800",
    block_title_text_color_dark="*neutral_100",
)

SIDEBAR_PX = 310
# gradio's Sidebar pushes the page right by an amount it measures once, when it mounts; on a
# slow first load it can measure before the page is laid out and push by ~0, so the settings
# cover the chart and the click-role radio (seen in CI). The floor keeps the page clear of it.
# It goes in <head>: gradio scopes `css` rules inside @media to `.contain`, below this wrapper.
SIDEBAR_HEAD = f"""<style>
@media (width > 768px) {{
  .wrap:has(#ww-sidebar.open) {{
    padding-left: max(var(--overlap-amount, 0px), {SIDEBAR_PX}px) !important;
  }}
}}
</style>"""
CSS = """
.gradio-container { max-width: 1560px !important; margin: 0 auto !important; }
#ww-title h1 { font-size: 1.75rem; margin: 0; }
#ww-title p { font-size: 1.05rem; margin-top: 2px; opacity: 0.85; }
#ww-text textarea, #ww-text input { font-size: 1.65rem !important; line-height: 1.35 !important; }
#ww-mode { font-size: 1.1rem; }
#ww-status { font-size: 1.2rem; min-height: 2.6em; }
.ww-error { border-left: 6px solid #ca0020; padding: 10px 16px !important;
  background: rgba(202, 0, 32, 0.10); border-radius: 6px; font-size: 1.2rem; }
#ww-topk .nsewdrag, #ww-topk .bars path, #ww-topk .ytick text { cursor: pointer !important; }
#ww-heatmap { min-height: 140px; }
#ww-limits { font-size: 0.95rem; opacity: 0.8; }
#ww-version { font-size: 0.85rem; opacity: 0.7; text-align: right; }
.ww-hint { font-size: 1rem; opacity: 0.8; }
.ww-notice { border-left: 6px solid #b8860b; padding: 8px 16px !important;
  background: rgba(184, 134, 11, 0.12); border-radius: 6px; font-size: 1.1rem; }
.ww-stale { opacity: 0.35; filter: grayscale(0.8); }
#ww-stale-note { font-size: 1.1rem; }
"""

INSERT_MASK_JS = """
(text) => {
  const el = document.querySelector("#ww-text textarea, #ww-text input");
  const value = text || "";
  const start = el && el.selectionStart != null ? el.selectionStart : value.length;
  const end = el && el.selectionEnd != null ? el.selectionEnd : start;
  const before = value.slice(0, start), after = value.slice(end);
  const pad = before && !/\\s$/.test(before) ? " " : "";
  return before + pad + "[MASK]" + after;
}
"""

# After each result: the page URL carries the view (relative, so it works behind any host).
UPDATE_URL_JS = """
(query) => {
  if (!query) return window.location.href;
  const next = new URLSearchParams(query);
  const theme = new URLSearchParams(window.location.search).get("__theme");
  if (theme) next.set("__theme", theme);  // gradio's own light/dark switch survives
  const url = window.location.pathname + "?" + next.toString() + window.location.hash;
  try { history.replaceState(history.state, "", url); } catch (e) {}
  return window.location.href;
}
"""

COPY_LINK_JS = """
(link) => {
  const url = link || window.location.href;
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).catch(() => {});
  }
  const button = document.querySelector("#ww-copy");
  if (button) {
    const label = button.textContent;
    button.textContent = "Copied ✓";
    setTimeout(() => { button.textContent = label; }, 1500);
  }
  return url;
}
"""


PROGRESS = gr.Progress()  # a marker: gradio hands each event its own tracker in its place


class WhyWordBlocks(gr.Blocks):
    """gr.Blocks whose launch() brings the page's theme, CSS and click bridge (gradio 6 takes
    them in launch, and `app.py` stays a bare `demo.launch()`)."""

    def launch(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("theme", THEME)
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("js", BRIDGE_JS)
        kwargs.setdefault("head", SIDEBAR_HEAD)
        return super().launch(*args, **kwargs)


@dataclass
class Controls:
    """The input components a `Query` is read from (and written back to on a share link)."""

    text: gr.Textbox
    model: gr.Dropdown
    target: gr.Dropdown
    foil: gr.Dropdown
    methods: gr.CheckboxGroup
    steps: gr.Slider
    max_steps: gr.Slider
    baseline: gr.Radio
    k: gr.Slider
    mask: gr.Dropdown
    samples: gr.Slider
    noise: gr.Slider
    special: gr.Checkbox
    normalise: gr.Radio
    level: gr.Radio

    def all(self) -> list[gr.components.Component]:
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def query(self, data: dict) -> Query:
        return Query(
            text=data[self.text] or "",
            model=(data[self.model] or "default").strip() or "default",
            target=data[self.target] or "",
            foil=data[self.foil] or "",
            methods=tuple(data[self.methods] or ()),
            steps=int(data[self.steps]),
            max_steps=int(data[self.max_steps]),
            baseline=data[self.baseline] or "zero",
            k=int(data[self.k]),
            mask=int(data[self.mask] or 0),
            samples=int(data[self.samples]),
            noise=float(data[self.noise]),
            special=bool(data[self.special]),
            normalise=data[self.normalise] or "per_method",
            level=data[self.level] or "token",
        )

    def values(self, query: Query, keys: Iterable[str] | None = None) -> dict:
        """Updates that show `query` in the controls; only `keys` (a share link's) if given."""
        shown = {
            "text": self.text,
            "model": self.model,
            "methods": self.methods,
            "steps": self.steps,
            "max_steps": self.max_steps,
            "baseline": self.baseline,
            "k": self.k,
            "samples": self.samples,
            "noise": self.noise,
            "special": self.special,
            "normalise": self.normalise,
            "level": self.level,
        }
        wanted = shown.keys() if keys is None else set(keys) & shown.keys()
        data = query.to_dict()
        return {shown[key]: data[key] for key in wanted}


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
    csv: gr.DownloadButton
    json: gr.DownloadButton
    html: gr.DownloadButton
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


def present(outcome: Outcome, state: dict | None, c: Controls, r: Results) -> dict:
    """Component updates for an event's outcome; a failure leaves the last view in place,
    faded and labelled as the previous text's."""
    shown = (r.chart, r.heatmap, r.trust, r.matrix, r.status)
    if not outcome.ok:
        # Both render markup, and messages quote what the user (or a share link) typed.
        gr.Warning(html.escape(outcome.error or "", quote=False))
        message = f"⚠ {handlers.escape_markdown(outcome.error or '')}"
        stale = handlers.stale_note(state)
        faded = {part: gr.update(elem_classes=["ww-stale"]) for part in shown} if stale else {}
        return {r.error: gr.update(value=message + stale, visible=True), **faded}
    e = outcome.explanation
    query = handlers.effective_query(outcome)
    csv_path, json_path, html_path = handlers.write_exports(e)
    masks = handlers.mask_choices(e)
    return {
        # elem_classes=[]: no longer faded as a previous result
        r.chart: gr.update(value=handlers.topk_figure(e), elem_classes=[]),
        r.heatmap: gr.update(value=handlers.heatmap(e, query), elem_classes=[]),
        r.trust: gr.update(value=render.trust_html(e), elem_classes=[]),
        r.matrix: gr.update(value=handlers.matrix_figure(e, query), elem_classes=[]),
        r.status: gr.update(value=handlers.status_markdown(outcome), elem_classes=[]),
        r.error: gr.update(value="", visible=False),
        r.mode: handlers.result_mode_note(e),
        r.notice: gr.update(value="", visible=False),
        r.share_query: encode(handlers.shareable_query(outcome)),
        r.csv: gr.update(value=csv_path, interactive=True),
        r.json: gr.update(value=json_path, interactive=True),
        r.html: gr.update(value=html_path, interactive=True),
        r.state: handlers.next_state(outcome, state),
        c.target: gr.update(choices=handlers.target_choices(e), value=query.target),
        c.foil: gr.update(choices=handlers.foil_choices(e), value=query.foil),
        c.mask: gr.update(
            choices=masks or [("[MASK] 1", 0)], value=query.mask, visible=bool(masks)
        ),
    }


def every_output(updates: dict, outputs: list) -> list:
    """A value for every declared output, in order (gr.skip() where nothing changes): gradio
    takes an empty dict for one missing value and shows a bare "Error" badge."""
    return [updates.get(component, gr.skip()) for component in outputs]


def _progress(progress: gr.Progress):
    return lambda fraction, desc: progress(fraction, desc=desc)


def build_demo() -> gr.Blocks:
    """The WhyWord page. Loads no model: the first request does (lazily, cached)."""
    limits = current_limits()
    examples = load_examples()
    with WhyWordBlocks(title="WhyWord", fill_width=True, delete_cache=(3600, 3600)) as demo:
        with gr.Tabs(elem_id="ww-tabs"):
            with gr.Tab("Explain", id="explain", elem_id="ww-tab-explain"):
                c, r, extra = _components(limits, examples)
            context = ViewContext(model=c.model, demo=demo)
            for view in extra_views():
                with gr.Tab(view.TITLE, id=view.TAB_ID, elem_id=f"ww-tab-{view.TAB_ID}"):
                    view.build(context)
        gr.Markdown(f"WhyWord {__version__}", elem_id="ww-version")  # the page's footer
        _wire(demo, c, r, extra, examples)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


SHORT_LABELS = {
    "saliency": "Saliency",
    "input_x_gradient": "Input × gradient",
    "integrated_gradients": "Integrated gradients",
    "smoothgrad": "SmoothGrad",
    "occlusion": "Occlusion",
    "attnlrp": "AttnLRP",
}


def _components(limits, examples) -> tuple[Controls, Results, dict[str, Any]]:
    gr.Markdown(
        "# WhyWord: why does the model predict this word?\n"
        "The model's top guesses for the next word (or a `[MASK]`), and which input tokens push "
        "it towards the **target** (red) or against it (blue). Click a bar to explain that word.",
        elem_id="ww-title",
    )
    top = _inputs(limits, examples)
    status = gr.Markdown("", elem_id="ww-status")
    error = gr.Markdown("", visible=False, elem_classes=["ww-error"], elem_id="ww-error")
    notice = gr.Markdown("", visible=False, elem_classes=["ww-notice"], elem_id="ww-notice")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            chart = gr.Plot(show_label=False, elem_id="ww-topk")
            pickers = _target_controls()
        with gr.Column(scale=1, min_width=400):
            heatmap = gr.HTML(
                "<p class='ww-hint'>Type a sentence and press Enter: the token heatmap appears here.</p>",
                elem_id="ww-heatmap",
            )
            trust = gr.HTML("", elem_id="ww-trust")
    matrix = gr.Plot(show_label=False, elem_id="ww-matrix")
    bottom = _share_and_exports()
    hidden = {
        "click_box": gr.Textbox(visible="hidden", elem_id="ww-click"),
        "click_btn": gr.Button("bar clicked", visible="hidden", elem_id="ww-click-btn"),
    }
    share_query = gr.Textbox(visible="hidden", elem_id="ww-share-query")
    state = gr.State(None)
    c = Controls(
        **{k: top[k] for k in ("text", "model", "methods", "steps", "max_steps", "baseline", "k")},
        **{k: top[k] for k in ("samples", "noise", "special", "normalise", "level")},
        target=pickers["target"],
        foil=pickers["foil"],
        mask=pickers["mask"],
    )
    r = Results(
        chart=chart,
        heatmap=heatmap,
        trust=trust,
        matrix=matrix,
        status=status,
        error=error,
        mode=top["mode"],
        notice=notice,
        share_query=share_query,
        csv=bottom["csv"],
        json=bottom["json"],
        html=bottom["html"],
        state=state,
    )
    return c, r, {**top, **pickers, **bottom, **hidden}


def _inputs(limits, examples) -> dict[str, Any]:
    """The text with its buttons; model, k, methods, IG steps, baseline and the advanced
    knobs in the sidebar, so the results sit right under the text on a projector."""
    out: dict[str, Any] = {}
    with gr.Sidebar(label="Settings", open=True, width=SIDEBAR_PX, elem_id="ww-sidebar"):
        out.update(_settings(limits))
    with gr.Row(equal_height=True):
        out["text"] = gr.Textbox(
            label="Text (press Enter to explain)",
            placeholder="The capital of France is",
            lines=1,
            max_lines=1,
            elem_id="ww-text",
            autofocus=True,
            scale=6,
        )
        with gr.Column(scale=1, min_width=180):
            out["explain_btn"] = gr.Button("Explain", variant="primary", elem_id="ww-explain")
            out["mask_btn"] = gr.Button("Insert [MASK]", size="md", elem_id="ww-insert-mask")
    out["mode"] = gr.Markdown(handlers.mode_note("", limits.models[0]), elem_id="ww-mode")
    with gr.Accordion("Examples, including teaching cases with a foil", open=False):
        out["dataset"] = gr.Dataset(
            components=["textbox", "textbox", "textbox"],
            headers=["Example", "Target", "Foil"],
            samples=[[row["text"], row["target"], row["foil"]] for row in examples],
            type="index",
            label="Click an example",
            samples_per_page=12,
            elem_id="ww-examples",
        )
    return out


def bounds_for(limits) -> Bounds:
    """The sliders' ranges under this server's limits (a share link is fitted to them)."""
    return page_bounds(limits.max_k, limits.max_steps, limits.max_samples)


def _settings(limits) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["model"] = gr.Dropdown(
        choices=[("SmolLM2-135M (default)", "default")]
        + [(m, m) for m in limits.models if m != "default"],
        value=limits.models[0],  # the first listed (`whyword app --model`); "default" otherwise
        label="Model" + (" (or type a Hub id / folder)" if limits.any_model else ""),
        allow_custom_value=limits.any_model,
        elem_id="ww-model",
    )
    bounds = bounds_for(limits)
    out["k"] = gr.Slider(*bounds.k, value=Query().k, step=1, label="Top-k", elem_id="ww-k")
    out["methods"] = gr.CheckboxGroup(
        choices=[(SHORT_LABELS.get(name, m.label), name) for name, m in METHODS.items()],
        value=list(DEFAULT_METHODS),
        label="Attribution methods",
        elem_id="ww-methods",
    )
    out["steps"] = gr.Slider(
        *bounds.steps,
        value=Query().steps,
        step=4,
        label="IG steps",
        elem_id="ww-steps",
    )
    out["baseline"] = gr.Radio(
        list(BASELINES), value="zero", label="IG / occlusion baseline", elem_id="ww-baseline"
    )
    with gr.Accordion("Advanced", open=False, elem_id="ww-advanced"):
        out["max_steps"] = gr.Slider(
            *bounds.max_steps,
            value=Query().max_steps,
            step=16,
            label="IG refinement: up to this many steps until the error ≤ 5 % (≤ IG steps: off)",
            elem_id="ww-max-steps",
        )
        out["samples"] = gr.Slider(
            *bounds.samples,
            value=Query().samples,
            step=1,
            label="SmoothGrad samples",
        )
        out["noise"] = gr.Slider(
            *bounds.noise,
            value=Query().noise,
            step=0.05,
            label="SmoothGrad noise (× embedding stdev)",
        )
        out["special"] = gr.Checkbox(False, label="Include special tokens in the colour scale")
        out["normalise"] = gr.Radio(
            list(NORMALISATIONS), value="per_method", label="Colour scale (normalisation)"
        )
        out["level"] = gr.Radio(
            [("tokens", "token"), ("words", "word")],
            value=Query().level,
            label="Heatmap chips: tokens or whole words",
            info="Words add up their tokens' scores (saliency: the L2 norm).",
            elem_id="ww-level",
        )
    gr.Markdown(handlers.escape_markdown(limits.describe()), elem_id="ww-limits")
    return out


def _target_controls() -> dict[str, Any]:
    """Target and foil: by click, from the top-k, or any word; the [MASK] selector."""
    out: dict[str, Any] = {}
    with gr.Row():
        out["click_role"] = gr.Radio(
            ["target", "foil"],
            value="target",
            label="Clicking a bar sets the",
            elem_id="ww-click-role",
        )
        out["mask"] = gr.Dropdown(
            choices=[("[MASK] 1", 0)],
            value=0,
            label="Which [MASK]",
            visible=False,
            elem_id="ww-mask",
        )
    with gr.Row():
        out["target"] = gr.Dropdown(
            choices=[], value=None, label="Target", allow_custom_value=True, elem_id="ww-target"
        )
        out["foil"] = gr.Dropdown(
            choices=[("— no foil —", "")],
            value="",
            label="Foil: log p(target) − log p(foil)",
            allow_custom_value=True,
            elem_id="ww-foil",
        )
    with gr.Row(equal_height=True):
        out["word"] = gr.Textbox(
            label="Any word as target", placeholder="are", elem_id="ww-word", scale=3
        )
        out["word_btn"] = gr.Button("Explain word", elem_id="ww-word-btn", scale=2)
    with gr.Row(equal_height=True):
        out["foil_word"] = gr.Textbox(
            label="Any word as foil", placeholder="is", elem_id="ww-foil-word", scale=3
        )
        out["foil_btn"] = gr.Button("Set foil", elem_id="ww-foil-btn", scale=1)
        out["clear_foil"] = gr.Button("Clear foil", elem_id="ww-clear-foil", scale=1)
    return out


def _share_and_exports() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with gr.Row(equal_height=True):
        out["share_link"] = gr.Textbox(
            label="Share link (reproduces this view)",
            interactive=False,
            elem_id="ww-share",
            scale=4,
        )
        out["copy_btn"] = gr.Button("Copy share link", elem_id="ww-copy", scale=1)
    with gr.Row():
        out["csv"] = gr.DownloadButton("Download CSV", interactive=False, elem_id="ww-csv")
        out["json"] = gr.DownloadButton("Download JSON", interactive=False, elem_id="ww-json")
        out["html"] = gr.DownloadButton(
            "Download HTML (heatmaps)", interactive=False, elem_id="ww-html"
        )
    gr.Markdown("PNG: the camera icon in a chart's toolbar.", elem_classes=["ww-hint"])
    return out


def _wire(
    demo: gr.Blocks, c: Controls, r: Results, x: dict[str, Any], examples: list[dict]
) -> None:
    inputs = {*c.all(), r.state}
    outputs = [*r.all(), c.target, c.foil, c.mask]
    busy = {"outputs": outputs, "show_progress_on": [r.chart, r.heatmap]}
    # The page's own events are callable by name but left out of the API page: their inputs are
    # the page's controls and session state. Clients use the plain `explain` / `predict` (_api).
    named = {"api_visibility": "undocumented"}

    def after(event) -> None:
        """Write the view into the page URL after every explaining event."""
        event.then(None, [r.share_query], [x["share_link"]], js=UPDATE_URL_JS, queue=False)

    def submit(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_submit(c.query(data), data[r.state], _progress(progress))
        return present(outcome, data[r.state], c, r)

    after(x["explain_btn"].click(submit, inputs, api_name="submit", **named, **busy))
    after(c.text.submit(submit, inputs, api_visibility="private", **busy))

    def bar_click(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_bar_click(
            data[x["click_box"]],
            data[x["click_role"]],
            c.query(data),
            data[r.state],
            _progress(progress),
        )
        return present(outcome, data[r.state], c, r)

    after(
        x["click_btn"].click(
            bar_click,
            {*inputs, x["click_box"], x["click_role"]},
            api_name="click_bar",
            **named,
            **busy,
        )
    )

    def pick_target(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_pick_target(
            data[c.target], c.query(data), data[r.state], _progress(progress)
        )
        return present(outcome, data[r.state], c, r)

    after(c.target.input(pick_target, inputs, api_name="pick_target", **named, **busy))

    def any_word(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_word(
            data[x["word"]], c.query(data), data[r.state], _progress(progress)
        )
        return present(outcome, data[r.state], c, r)

    for event in (x["word_btn"].click, x["word"].submit):
        after(event(any_word, {*inputs, x["word"]}, api_visibility="private", **busy))

    def pick_foil(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_foil(data[c.foil], c.query(data), data[r.state], _progress(progress))
        return present(outcome, data[r.state], c, r)

    after(c.foil.input(pick_foil, inputs, api_name="pick_foil", **named, **busy))

    def foil_word(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_foil(
            data[x["foil_word"]], c.query(data), data[r.state], _progress(progress)
        )
        return present(outcome, data[r.state], c, r)

    for event in (x["foil_btn"].click, x["foil_word"].submit):
        after(event(foil_word, {*inputs, x["foil_word"]}, api_visibility="private", **busy))

    def clear_foil(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_clear_foil(c.query(data), data[r.state], _progress(progress))
        # with no foil left to pick, a click sets the target again
        return {**present(outcome, data[r.state], c, r), x["click_role"]: "target"}

    after(
        x["clear_foil"].click(
            clear_foil,
            inputs,
            api_name="clear_foil",
            **named,
            **{**busy, "outputs": [*outputs, x["click_role"]]},
        )
    )

    def pick_mask(data: dict, progress: gr.Progress = PROGRESS):
        outcome = handlers.on_mask(data[c.mask], c.query(data), data[r.state], _progress(progress))
        return present(outcome, data[r.state], c, r)

    after(c.mask.input(pick_mask, inputs, api_name="pick_mask", **named, **busy))

    def example(data: dict, progress: gr.Progress = PROGRESS):
        row = examples[int(data[x["dataset"]])]
        outcome = handlers.on_example(
            row["text"],
            row["target"],
            row["foil"],
            c.query(data),
            data[r.state],
            _progress(progress),
        )
        return {c.text: row["text"], **present(outcome, data[r.state], c, r)}

    after(
        x["dataset"].click(
            example,
            {*inputs, x["dataset"]},
            [c.text, *outputs],
            api_visibility="private",
            show_progress_on=[r.chart, r.heatmap],
        )
    )

    on_load = [*c.all(), *outputs]
    bounds = bounds_for(current_limits())

    def load(request: gr.Request, progress: gr.Progress = PROGRESS):
        params = dict(request.query_params) if request is not None else {}
        query, outcome, changes = handlers.on_load(params, _progress(progress), bounds)
        if query is None:  # a plain visit: nothing to reproduce
            return every_output({}, on_load)
        shown = c.values(query, params.keys())
        updates = shown if outcome is None else {**shown, **present(outcome, None, c, r)}
        notice = handlers.changes_markdown(changes)
        updates[r.notice] = gr.update(value=notice, visible=bool(notice))
        return every_output(updates, on_load)

    after(
        demo.load(
            load,
            None,
            on_load,
            api_visibility="private",
            show_progress_on=[r.chart, r.heatmap],
        )
    )

    def rerender(data: dict):
        e = handlers.previous_explanation(data[r.state])
        if e is None:
            return {r.heatmap: gr.skip()}
        query = c.query(data)
        return {r.heatmap: handlers.heatmap(e, query), r.matrix: handlers.matrix_figure(e, query)}

    for control in (c.special, c.normalise, c.level):
        control.change(
            rerender,
            inputs,
            [r.heatmap, r.matrix],
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )

    def mode_note(text: str, model: str) -> str:
        return handlers.mode_note(text or "", model or "default")

    for control in (c.text, c.model):
        control.change(
            mode_note,
            [c.text, c.model],
            [r.mode],
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
            trigger_mode="always_last",
        )

    x["mask_btn"].click(None, [c.text], [c.text], js=INSERT_MASK_JS, queue=False)
    x["copy_btn"].click(None, [x["share_link"]], [x["share_link"]], js=COPY_LINK_JS, queue=False)
    _api(demo)


def _api(demo: gr.Blocks) -> None:
    """Endpoints for gradio_client with plain values (see the README's client example)."""
    gr.api(_gradio_errors(handlers.api_explain), api_name="explain")
    gr.api(_gradio_errors(handlers.api_predict), api_name="predict")


def _gradio_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with its signature and docs (gradio reads both), a WhyWordError as gr.Error."""

    @functools.wraps(fn)
    def endpoint(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WhyWordError as error:
            raise gr.Error(str(error)) from None

    return endpoint
