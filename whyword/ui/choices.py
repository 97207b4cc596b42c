"""The values the page's pickers offer and show: top-k targets and foils, the [MASK]s, and the
target/foil of a result as the controls (and a share link) hold them. No gradio here."""

from __future__ import annotations

import logging

from whyword.models.limits import current_limits
from whyword.results.explanation import Explanation, Prediction
from whyword.ui.outcome import Outcome
from whyword.ui.share import Query, token_ref

log = logging.getLogger("whyword.ui")


def slot(explanation: Explanation) -> Prediction:
    """The prediction the target belongs to (the selected mask's in masked mode)."""
    index = explanation.mask if explanation.mode == "masked" and explanation.mask else 0
    return explanation.predictions[min(index, len(explanation.predictions) - 1)]


def single_id(ids: tuple[int, ...] | None) -> int | None:
    return ids[0] if ids and len(ids) == 1 else None


def target_choices(explanation: Explanation) -> list[tuple[str, str]]:
    return [
        (f"{c.label}   {100 * c.probability:.1f} %", token_ref(c.token_id))
        for c in slot(explanation).candidates
    ]


def foil_choices(explanation: Explanation) -> list[tuple[str, str]]:
    return [("— no foil —", ""), *target_choices(explanation)]


def mask_choices(explanation: Explanation) -> list[tuple[str, int]]:
    """One entry per [MASK] in masked mode; empty otherwise (the selector is hidden)."""
    if explanation.mode != "masked" or len(explanation.predictions) < 2:
        return []
    return [
        (f"[MASK] {i + 1} — top: {p.candidates[0].label}", i)
        for i, p in enumerate(explanation.predictions)
    ]


def control_value(
    requested: str, ids: tuple[int, ...] | None, choices: list[tuple[str, str]]
) -> str:
    """What the target/foil control shows: the top-k entry when it is one, else the word."""
    one = single_id(ids)
    if one is not None and token_ref(one) in {value for _, value in choices}:
        return token_ref(one)
    return requested


def effective_query(outcome: Outcome) -> Query:
    """The query with target and foil as the controls show them (what a share link holds)."""
    e = outcome.explanation
    if e is None:
        return outcome.query
    choices = target_choices(e)
    target = control_value(outcome.query.target, e.target_ids, choices)
    foil = control_value(outcome.query.foil, e.foil_ids, choices) if e.foil_ids else ""
    return outcome.query.with_(target=target, foil=foil, mask=e.mask or 0)


def shareable_query(outcome: Outcome) -> Query:
    """`effective_query` with token ids as readable text (`␣Paris`) where that text gives
    back the same single id on this model; `id:N` stays otherwise."""
    query = effective_query(outcome)
    e = outcome.explanation
    if e is None:
        return query
    texts = {token_ref(c.token_id): (c.token_id, c.text) for c in slot(e).candidates}
    readable = {}
    for role in ("target", "foil"):
        ref = getattr(query, role)
        if ref in texts:
            readable[role] = readable_ref(query.model, *texts[ref]) or ref
    return query.with_(**readable)


def readable_ref(model: str, token_id: int, text: str) -> str | None:
    """`text` as a visible label when typing it resolves to exactly `token_id`, else None."""
    from whyword.models.load import load_model
    from whyword.text.tokens import from_visible, visible

    label = visible(text)
    # a leading space or a non-letter start is taken as typed by the core (no space added)
    if not text or text[0].isalnum() or from_visible(label) != text:
        return None
    try:
        tokenizer = load_model(current_limits().check_model(model)).tokenizer  # cached
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    except Exception:  # no tokenizer at hand: keep the id
        log.debug("no readable ref for %s on %s", token_id, model, exc_info=True)
        return None
    return label if list(ids) == [token_id] else None
