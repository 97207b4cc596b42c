"""The Explain tab's "What would change the answer?" panel, gradio-free: run it on demand for
the text, target and foil of the Explain tab through the scheduler, render it, and set each
method's counterfactual agreement on the heatmap's explanation (the trust panel shows it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from whyword.errors import InputError, WhyWordError
from whyword.render import counterfactuals as draw
from whyword.render.text import esc
from whyword.render.trust import trust_html
from whyword.results.counterfactuals import WhatIf
from whyword.results.explained_edits import answers_same, with_edit_agreement
from whyword.ui.session import State, previous_explanation

EMPTY = "Type a sentence first: the edits change the words of the text in the box."
GENERIC = "Something went wrong while looking for edits; the error was logged on the server."
OTHER = (
    "The trust panel's agreement with these edits needs the heatmap of the same text and "
    "target: press Explain, then look again."
)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """The Explain tab's text, target ("" = top-1, "id:<token id>", or a word), foil, model."""

    text: str
    target: str
    foil: str
    model: str


@dataclass(frozen=True)
class Shown:
    panel: str  # the panel's HTML, or one escaped sentence
    trust: str | None  # the trust panel again, with the agreement; None: leave it
    state: State | None  # the session state whose explanation carries it; None: leave it
    result: WhatIf | None


def compute(req: Request) -> WhatIf:
    """The panel's edits for `req`, through the scheduler (the page's limits first)."""
    from whyword.models.limits import current_limits
    from whyword.serve.backend import scheduled_what_if
    from whyword.ui.share import parse_target

    if not (req.text or "").strip():
        raise InputError(EMPTY)
    limits = current_limits()
    name = limits.check_model(req.model)
    limits.check_text(req.text)
    return scheduled_what_if(
        req.text,
        target=parse_target(req.target),
        foil=parse_target(req.foil),
        model=name,
        max_tokens=limits.max_tokens,
    )


def run(req: Request, state: State | None) -> Shown:
    """Compute and render; a failure is one sentence in the panel and the rest stays."""
    try:
        result = compute(req)
    except WhyWordError as error:
        return Shown(draw.failed_html(str(error)), None, None, None)
    except Exception:  # logged for the operator; the page stays up
        log.exception("counterfactuals request failed")
        return Shown(draw.failed_html(GENERIC), None, None, None)
    panel = draw.counterfactuals_html(result)
    e = previous_explanation(state)
    if e is None or answers_same(e, result.hotflip) is not None:
        return Shown(panel + f'<p class="ww-hint">{esc(OTHER)}</p>', None, None, result)
    e = with_edit_agreement(e, result.hotflip)
    return Shown(panel, trust_html(e), {**state, "explanation": e.to_dict()}, result)
