"""The Gradio web app. `build_demo()` returns the page; importing this package loads no model."""

from __future__ import annotations

from typing import Any

__all__ = ["build_demo"]


def build_demo() -> Any:
    """The WhyWord page (a gr.Blocks); gradio is imported only when this is called."""
    from whyword.extras import require

    require("app", "gradio")
    require("app", "plotly")
    from whyword.ui.app import build_demo as build

    return build()
