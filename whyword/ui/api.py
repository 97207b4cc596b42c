"""The API endpoints for gradio_client: plain values in, JSON-able values out. Both take the
page's route (`session.check` / `session.run`), so the limits and checks are the page's."""

from __future__ import annotations

import logging
from typing import Any

from whyword.errors import InputError, WhyWordError
from whyword.models.limits import current_limits
from whyword.runtime.options import DEFAULT_METHODS
from whyword.ui import session
from whyword.ui.display import heatmap
from whyword.ui.session import GENERIC_ERROR
from whyword.ui.share import Query

log = logging.getLogger("whyword.ui")


def whole(name: str, value: Any) -> int:
    """An API number as an int (3, 3.0 and "3" are fine); anything else is an InputError."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a whole number, got {value!r}.")
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a whole number, got {value!r}.") from None
    if not number.is_integer():
        raise InputError(f"{name} must be a whole number, got {value!r}.")
    return int(number)


def api_explain(
    text: str,
    model: str = "default",
    target: str = "",
    foil: str = "",
    methods: str = ",".join(DEFAULT_METHODS),
    steps: int = 32,
    baseline: str = "zero",
    k: int = 10,
    mask: int = 0,
) -> tuple[dict, str]:
    """Explain why `model` predicts `target` (blank: its top-1) after or inside `text`.

    Returns the explanation as JSON (tokens, predictions, scores per method, IG convergence)
    and the token heatmap as HTML; a request that cannot be explained raises WhyWordError
    with its message.
    """
    names = tuple(m.strip() for m in str(methods or "").split(",") if m.strip())
    query = Query(
        text=text,
        model=model or "default",
        target=target or "",
        foil=foil or "",
        methods=names,
        steps=whole("steps", steps),
        baseline=baseline,
        k=whole("k", k),
        mask=whole("mask", mask),
    )
    outcome = session.run(query)
    if not outcome.ok:
        raise WhyWordError(outcome.error or GENERIC_ERROR)
    return outcome.explanation.to_dict(), heatmap(outcome.explanation, query)


def api_predict(text: str, model: str = "default", k: int = 10) -> list[dict]:
    """The top-k predictions (rank, token, token_id, probability, mask) without attributions."""
    query = Query(text=text, model=model or "default", k=whole("k", k))
    name = session.check(query)  # the page's checks: limits, empty text, k
    try:
        from whyword.serve.backend import backend

        # through the scheduler: concurrent users' predictions share calls
        preds = backend().predictions(name, query.text, query.k, current_limits().max_tokens)
    except WhyWordError:
        raise
    except Exception:
        log.exception("predict failed")
        raise WhyWordError(GENERIC_ERROR) from None
    return [row for p in preds for row in p.rows()]


def api_counterfactuals(
    text: str, model: str = "default", target: str = "", foil: str = ""
) -> dict:
    """What would change the answer of `model` to `text`: HotFlip's single-token edits at every
    position, input reduction and the minimal flip, each edit run through the model (the
    page's panel, through the scheduler). Returns them as JSON (`WhatIf.to_dict()`); a request
    that cannot run raises WhyWordError with its message."""
    from whyword.ui.views.counterfactuals_handlers import Request, compute

    try:
        result = compute(Request(text, target or "", foil or "", model or "default"))
    except WhyWordError:
        raise
    except Exception:
        log.exception("counterfactuals failed")
        raise WhyWordError(GENERIC_ERROR) from None
    return result.to_dict()
