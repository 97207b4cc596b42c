"""The Explain tab's "What would change the answer?" panel, under the heatmap: a button runs it
on demand (never on every explanation) through the scheduler; a click on an edit loads its
sentence into the text box and explains it as the Explain button does (counterfactuals.js).
The logic is in counterfactuals_handlers.py, the HTML in whyword/render/counterfactuals.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from whyword.ui.query import Controls
from whyword.ui.views import ViewContext
from whyword.ui.views import counterfactuals_handlers as h

LOAD_JS = Path(__file__).with_name("counterfactuals.js").read_text(encoding="utf-8")


def wire(ctx: ViewContext, c: Controls, r: Any, x: dict[str, Any]) -> None:
    """The button's event (the panel, the trust panel and the state it adds the agreement
    to), and the click-to-load script."""

    def look(text, target, foil, model, state):
        shown = h.run(h.Request(text or "", target or "", foil or "", model or "default"), state)
        return (
            shown.panel,
            gr.skip() if shown.trust is None else shown.trust,
            gr.skip() if shown.state is None else shown.state,
        )

    x["cf_run"].click(
        look,
        [c.text, c.target, c.foil, c.model, r.state],
        [x["cf_panel"], r.trust, r.state],
        api_visibility="private",  # gradio_client: the `counterfactuals` endpoint (app.py)
        show_progress_on=[x["cf_panel"]],
    )
    ctx.demo.load(None, None, None, js=LOAD_JS, queue=False)
