"""The page: gr.Blocks with its theme, CSS and scripts, the shared settings sidebar, one tab per
view (the Explain view, then `views.EXTRA_VIEWS`), the API endpoints and the queue.

Builds no model: the first request loads one (lazily, cached).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import gradio as gr

from whyword._version import __version__
from whyword.errors import WhyWordError
from whyword.models.limits import Limits, current_limits
from whyword.ui import api, display
from whyword.ui.query import CONTROLS, make
from whyword.ui.static import read, script
from whyword.ui.views import ViewContext, explain, extra_views
from whyword.ui.views.explain import EXAMPLES_FILE, load_examples

__all__ = ["CONCURRENCY", "EXAMPLES_FILE", "QUEUE_SIZE", "THEME", "build_demo", "load_examples"]

# Concurrency: up to 16 events wait inside the scheduler (whyword/serve/scheduler.py), which runs
# the model work in two lanes (light, batched across users; heavy, one at a time) — so
# concurrent requests can share calls. Beyond that, gradio's queue shows each student their
# position and an estimate; it is bounded so a crowded classroom gets "queue full", not a stall.
CONCURRENCY = 16
QUEUE_SIZE = 64
SIDEBAR_PX = 310  # static/sidebar_head.html keeps the page clear of a sidebar this wide

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


class WhyWordBlocks(gr.Blocks):
    """gr.Blocks whose launch() brings the page's theme, CSS and click bridge (gradio 6 takes
    them in launch, and `app.py` stays a bare `demo.launch()`)."""

    def launch(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("theme", THEME)
        kwargs.setdefault("css", read("style.css"))
        kwargs.setdefault("js", script("bridge"))
        # gradio scopes `css` rules inside @media to `.contain`: the sidebar floor and the phone
        # layout go in <head>
        kwargs.setdefault("head", read("sidebar_head.html"))
        return super().launch(*args, **kwargs)


def build_demo() -> gr.Blocks:
    """The WhyWord page. Loads no model: the first request does (lazily, cached)."""
    limits = current_limits()
    with WhyWordBlocks(title="WhyWord", fill_width=True, delete_cache=(3600, 3600)) as demo:
        settings = _sidebar(limits)
        context = ViewContext(model=settings["model"], demo=demo, settings=settings, limits=limits)
        with gr.Tabs(elem_id="ww-tabs"):
            with gr.Tab(explain.TITLE, id=explain.TAB_ID, elem_id="ww-tab-explain"):
                c = explain.build(context)  # the other views read its text, target and foil
                context = replace(context, text=c.text, target=c.target, foil=c.foil)
            views = extra_views()
            for view in views:
                with gr.Tab(view.TITLE, id=view.TAB_ID, elem_id=f"ww-tab-{view.TAB_ID}") as tab:
                    view.build(replace(context, tab=tab))
        gr.Markdown(f"WhyWord {__version__}", elem_id="ww-version")  # the page's footer
        demo.load(None, None, None, js=open_tab_script(views), queue=False)
        _api()
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def open_tab_script(views) -> str:
    """The page-load script that opens the tab a share link names (`tab=<TAB_ID>`), for every
    extra view."""
    tabs = {view.TAB_ID: view.TITLE for view in views}
    return script("open_tab").replace("__TABS__", json.dumps(tabs))


def _sidebar(limits: Limits) -> dict[str, Any]:
    """The shared settings: the model (every view explains it) and the Explain view's knobs,
    so the results sit right under the text on a projector."""
    out: dict[str, Any] = {}
    with gr.Sidebar(label="Settings", open=True, width=SIDEBAR_PX, elem_id="ww-sidebar"):
        for control in CONTROLS:
            if control.place == "sidebar":
                out[control.key] = make(control.key, limits)
        with gr.Accordion("Advanced", open=False, elem_id="ww-advanced"):
            for control in CONTROLS:
                if control.place == "advanced":
                    out[control.key] = make(control.key, limits)
        gr.Markdown(display.escape_markdown(limits.describe()), elem_id="ww-limits")
    return out


# the page's API, one route per question a view answers (docs/guide/page.md): api.api_<route>
API_ROUTES = (
    "explain",
    "predict",
    "positions",
    "generate",
    "evidence",
    "layers",
    "attention",
    "counterfactuals",
    "chat",
)


def _api() -> None:
    """Endpoints for gradio_client with plain values (see docs/guide/page.md, API); each
    function is looked up when the page is built."""
    for route in API_ROUTES:
        gr.api(_gradio_errors(getattr(api, f"api_{route}")), api_name=route)


def _gradio_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with its signature and docs (gradio reads both), a WhyWordError as the gr.Error a
    client reads; gradio prints no traceback for it (the endpoint logged the one line)."""

    @functools.wraps(fn)
    def endpoint(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WhyWordError as error:
            raise gr.Error(str(error), print_exception=False) from None

    return endpoint
