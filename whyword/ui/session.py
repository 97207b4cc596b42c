"""What each page event does, as plain functions: values in, an `Outcome` out. No gradio here.

Every handler goes through `run`, which enforces the server's limits (`check`, shared with the
API), reuses the previous predictions when only the target, foil or mask changes, and turns any
failure into a message (a `WhyWordError`'s own sentence, or a generic one that is logged with
its stack trace). The per-session state is a plain dict (`State`) kept in a `gr.State`.
"""

from __future__ import annotations

import logging
import time

from whyword.errors import InputError, WhyWordError
from whyword.models.devices import on_gpu_space
from whyword.models.limits import current_limits
from whyword.results.explanation import Explanation, Prediction
from whyword.results.methods import method_names
from whyword.runtime.options import ExplainOptions
from whyword.serve.backend import scheduled_explain
from whyword.ui.choices import effective_query
from whyword.ui.mistakes import user_mistake
from whyword.ui.outcome import Outcome, Progress, State, Tracker
from whyword.ui.params import number_in
from whyword.ui.share import (
    PAGE_BOUNDS,
    Bounds,
    Query,
    decode_with_changes,
    encode,
    parse_target,
    token_ref,
)

log = logging.getLogger("whyword.ui")


GENERIC_ERROR = (
    "Something went wrong while explaining this text. The error was logged on the server; "
    "try again, or try a shorter text or another model."
)

explain = on_gpu_space(scheduled_explain)  # on a ZeroGPU Space the GPU work runs in @spaces.GPU


# --- the one route every event takes -------------------------------------------------------


def run(
    query: Query, state: State | None = None, progress: Progress = None, where: str | None = "page"
) -> Outcome:
    """Explain `query`; on any failure return the message instead of raising. A user's mistake
    is logged as one line naming `where` (None: the caller logs it), anything else with its
    traceback."""
    start = time.perf_counter()
    try:
        explanation, reused = _explain(query, state, progress)
    except WhyWordError as error:
        if where is not None:
            user_mistake(where, error)
        return Outcome(query, error=str(error), seconds=time.perf_counter() - start)
    except Exception:  # never a stack trace in the page
        log.exception("explain failed for %s", encode(query))
        return Outcome(query, error=GENERIC_ERROR, seconds=time.perf_counter() - start)
    return Outcome(query, explanation, seconds=time.perf_counter() - start, reused=reused)


def _explain(query: Query, state: State | None, progress: Progress) -> tuple[Explanation, bool]:
    limits = current_limits()
    model = check(query)
    previous = reusable_predictions(query, state)
    if progress is not None:
        progress(0.0, "Loading the model and predicting…" if previous is None else "Attributing…")
    explanation = explain(
        query.text,
        target=parse_target(query.target),
        foil=parse_target(query.foil),
        methods=query.methods,
        model=model,
        predictions=previous,
        options=options_for(query, limits.max_tokens, progress),
    )
    return explanation, previous is not None


def check(query: Query) -> str:
    """The server's limits and the query's own sense, before anything loads: the model's name
    to load, or a WhyWordError saying what is wrong (the page and both API endpoints)."""
    limits = current_limits()
    model = limits.check_model(query.model)
    limits.check_text(query.text)
    for steps in (query.steps, max(query.steps, query.max_steps)):  # the first pass, the cap
        limits.check_numbers(k=query.k, steps=steps, samples=query.samples)
    if isinstance(query.text, str) and not query.text.strip():  # at once, before loading
        raise InputError("The text is empty: type a sentence to see what the model predicts next.")
    if not query.methods:
        raise InputError("Pick at least one attribution method.")
    method_names(query.methods)  # an unknown name: one sentence naming the registered ones
    ExplainOptions(k=query.k)  # checks k with a clear message
    return model


def options_for(query: Query, max_tokens: int, progress: Progress = None) -> ExplainOptions:
    """The library options for a query: refinement only when the budget exceeds the steps."""
    return ExplainOptions(
        k=query.k,
        mask_index=query.mask,
        baseline=query.baseline,
        n_steps=query.steps,
        adaptive=query.max_steps > query.steps,
        max_steps=max(query.steps, query.max_steps),
        nt_samples=query.samples,
        noise=float(query.noise),
        max_tokens=max_tokens,
        # the trust panel shows it beside every heatmap of the whole result
        faithfulness=not (isinstance(progress, Tracker) and progress.preview),
        progress=progress,
        on_stage=progress.stage if isinstance(progress, Tracker) else None,  # IG's refinement
    )


def reusable_predictions(query: Query, state: State | None) -> tuple[Prediction, ...] | None:
    """The previous predictions when they answer the same text, model and k."""
    previous = previous_query(state)
    if previous is None or not state or not state.get("explanation"):
        return None
    if (previous.text, previous.model, previous.k) != (query.text, query.model, query.k):
        return None
    return Explanation.from_dict(state["explanation"]).predictions


def previous_query(state: State | None) -> Query | None:
    return Query.from_dict(state["query"]) if state and state.get("query") else None


def previous_explanation(state: State | None) -> Explanation | None:
    return (
        Explanation.from_dict(state["explanation"]) if state and state.get("explanation") else None
    )


def next_state(outcome: Outcome, state: State | None) -> State | None:
    """The session state after an event: unchanged when it failed."""
    if not outcome.ok:
        return state
    query = effective_query(outcome)
    targets: dict[str, str] = {}
    previous = previous_query(state)
    if previous is not None and (previous.text, previous.model) == (query.text, query.model):
        targets = dict(state.get("targets") or {})
    targets[str(query.mask)] = query.target
    return {
        "query": query.to_dict(),
        "explanation": outcome.explanation.to_dict(),
        "targets": targets,
    }


# --- one handler per page event --------------------------------------------------------------


def on_submit(query: Query, state: State | None = None, progress: Progress = None) -> Outcome:
    """Enter / Explain: new text or model starts from the top-1 target with no foil."""
    previous = previous_query(state)
    if previous is None or (previous.text, previous.model) != (query.text, query.model):
        query = query.with_(target="", foil="", mask=0)
    return run(query, state, progress)


def on_example(
    text: str,
    target: str,
    foil: str,
    query: Query,
    state: State | None = None,
    progress: Progress = None,
) -> Outcome:
    """An example row: its text, target and foil (blank: top-1, no foil)."""
    return run(
        query.with_(text=text, target=target or "", foil=foil or "", mask=0), state, progress
    )


def on_bar_click(
    payload: str, role: str, query: Query, state: State | None = None, progress: Progress = None
) -> Outcome:
    """A click on a bar: `payload` is "<token id>" or "<token id>:<nonce>" from the JS bridge."""
    head = number_in(payload)
    if head is None:
        return Outcome(query, error="That click did not carry a token id; click on a bar.")
    ref = token_ref(head)
    if role == "foil":
        return retarget(query.with_(foil=ref), state, progress)
    return retarget(query.with_(target=ref), state, progress)


def on_pick_target(
    value: str, query: Query, state: State | None = None, progress: Progress = None
) -> Outcome:
    """The target dropdown (a top-k entry, or a value typed into it)."""
    return retarget(query.with_(target=value or ""), state, progress)


def on_word(
    word: str, query: Query, state: State | None = None, progress: Progress = None
) -> Outcome:
    """The free-text "any word" target box."""
    if not (word or "").strip():
        return Outcome(query, error="Type a word to explain, e.g. ␣Paris or are.")
    return retarget(query.with_(target=word), state, progress)


def on_foil(
    value: str, query: Query, state: State | None = None, progress: Progress = None
) -> Outcome:
    """The foil dropdown or the foil word box: explain log p(target) − log p(foil)."""
    return retarget(query.with_(foil=value or ""), state, progress)


def on_clear_foil(query: Query, state: State | None = None, progress: Progress = None) -> Outcome:
    return retarget(query.with_(foil=""), state, progress)


def on_mask(
    mask: int | None, query: Query, state: State | None = None, progress: Progress = None
) -> Outcome:
    """Another [MASK]: its own remembered target (else its top-1), no foil."""
    mask = int(mask or 0)
    remembered = (state or {}).get("targets", {}).get(str(mask), "")
    return retarget(query.with_(mask=mask, target=remembered, foil=""), state, progress)


def on_load(
    params: dict[str, str], progress: Progress = None, bounds: Bounds = PAGE_BOUNDS
) -> tuple[Query | None, Outcome | None, tuple[str, ...]]:
    """Opening the page: the controls a URL sets (None: a plain visit), the view it describes
    when it carries a text, and what of the URL was changed to fit the page (said, not silent)."""
    if not params:
        return None, None, ()
    query, changes = decode_with_changes(params, bounds)
    return query, (run(query, None, progress) if query.text.strip() else None), changes


def retarget(query: Query, state: State | None, progress: Progress = None) -> Outcome:
    """Same text, model and k as the view on screen, so its predictions are reused."""
    previous = previous_query(state)
    if previous is not None:
        query = query.with_(text=previous.text, model=previous.model, k=previous.k)
    return run(query, state, progress)
