"""What each page event does, as plain functions: values in, an `Outcome` out. No gradio here.

Every handler goes through `run`, which enforces the server's limits, reuses the previous
predictions when only the target, foil or mask changes, and turns any failure into a message
(a `WhyWordError`'s own sentence, or a generic one that is logged with its stack trace).
The per-session state is a plain dict (`State`) that gradio keeps in a `gr.State`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from whyword import render
from whyword.devices import on_gpu_space
from whyword.encoding import MASK_LITERALS
from whyword.errors import InputError, WhyWordError
from whyword.explanation import Explanation, Prediction
from whyword.limits import current_limits
from whyword.options import ExplainOptions
from whyword.scheduler import backend, scheduled_explain
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

Progress = Callable[[float, str], None] | None
State = dict[str, Any]  # {"query": Query dict, "explanation": Explanation dict, "targets": {...}}

GENERIC_ERROR = (
    "Something went wrong while explaining this text. The error was logged on the server; "
    "try again, or try a shorter text or another model."
)
EXPORT_ROOT = Path(tempfile.gettempdir()) / "whyword-exports"
EXPORT_MAX_AGE = 3600.0  # seconds an export file is kept (a long-running server must not fill up)

explain = on_gpu_space(scheduled_explain)  # on a ZeroGPU Space the GPU work runs in @spaces.GPU


@dataclass(frozen=True)
class Outcome:
    """The result of one event: the query as explained, and its explanation or a message."""

    query: Query
    explanation: Explanation | None = None
    error: str | None = None
    seconds: float = 0.0  # wall-clock time of the whole event (model load included)
    reused: bool = False  # the predictions came from the previous result (a retarget)

    @property
    def ok(self) -> bool:
        return self.explanation is not None and self.error is None


# --- the one route every event takes -------------------------------------------------------


def run(query: Query, state: State | None = None, progress: Progress = None) -> Outcome:
    """Explain `query`; on any failure return the message instead of raising."""
    start = time.perf_counter()
    try:
        explanation, reused = _explain(query, state, progress)
    except WhyWordError as error:
        return Outcome(query, error=str(error), seconds=time.perf_counter() - start)
    except Exception:  # never a stack trace in the page
        log.exception("explain failed for %s", encode(query))
        return Outcome(query, error=GENERIC_ERROR, seconds=time.perf_counter() - start)
    return Outcome(query, explanation, seconds=time.perf_counter() - start, reused=reused)


def _explain(query: Query, state: State | None, progress: Progress) -> tuple[Explanation, bool]:
    limits = current_limits()
    model = limits.check_model(query.model)
    limits.check_text(query.text)
    for steps in (query.steps, max(query.steps, query.max_steps)):  # the first pass, the cap
        limits.check_numbers(k=query.k, steps=steps, samples=query.samples)
    if isinstance(query.text, str) and not query.text.strip():  # at once, before loading
        raise InputError("The text is empty: type a sentence to see what the model predicts next.")
    if not query.methods:
        raise InputError("Pick at least one attribution method.")
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
        faithfulness=True,  # the trust panel shows it beside every heatmap
        progress=progress,
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
    head = str(payload or "").split(":", 1)[0].strip()
    if not head.isdigit():
        return Outcome(query, error="That click did not carry a token id; click on a bar.")
    ref = token_ref(int(head))
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


def stale_note(state: State | None) -> str:
    """Under an error: whose results still show below ("" when there are none)."""
    previous = previous_query(state)
    if previous is None or not (state or {}).get("explanation"):
        return ""
    text = previous.text if len(previous.text) <= 80 else previous.text[:79] + "…"
    return (
        "  \nThe faded results below are still those for the previous text: "
        f"“{escape_markdown(text)}”."
    )


def changes_markdown(changes: tuple[str, ...]) -> str:
    """The notice over the results listing what of a link was changed ("" when nothing)."""
    if not changes:
        return ""
    items = "\n".join(f"- {escape_markdown(change)}" for change in changes)
    return f"**This link was changed to fit the page:**\n\n{items}"


def retarget(query: Query, state: State | None, progress: Progress = None) -> Outcome:
    """Same text, model and k as the view on screen, so its predictions are reused."""
    previous = previous_query(state)
    if previous is not None:
        query = query.with_(text=previous.text, model=previous.model, k=previous.k)
    return run(query, state, progress)


# --- what the page shows ---------------------------------------------------------------------


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
    from whyword.models import load_model
    from whyword.tokens import from_visible, visible

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


def chart_title(explanation: Explanation) -> str:
    if explanation.mode == "next_token":
        return "Next token (click a bar)"
    if explanation.mode == "infill":
        return "[MASK], infill scoring (click a bar)"
    return f"[MASK] {(explanation.mask or 0) + 1} (click a bar)"


def topk_figure(explanation: Explanation):
    return render.topk_figure(
        slot(explanation),
        target_id=single_id(explanation.target_ids),
        foil_id=single_id(explanation.foil_ids),
        title=chart_title(explanation),
    )


def heatmap(explanation: Explanation, query: Query) -> str:
    shown = explanation.at_level(query.level) if explanation.segmentations else explanation
    return render.heatmap_html(shown, include_special=query.special, normalise=query.normalise)


def matrix_figure(explanation: Explanation, query: Query):
    return render.method_matrix_figure(explanation, include_special=query.special)


def status_markdown(outcome: Outcome) -> str:
    """One line: what was explained, its value, and how long it took."""
    e = outcome.explanation
    if e is None:
        return ""
    target = escape_markdown(slot_label(e.target))
    what = f"**{e.formula}** for target **{target}**"
    if e.foil:
        what += f" vs foil **{escape_markdown(slot_label(e.foil))}**"
    times = " · ".join(
        f"{name.replace('_', ' ')} {seconds:.1f} s"
        for name, seconds in e.timings.items()
        if name != "total" and not (outcome.reused and name == "predictions")
    )
    reuse = " (predictions reused)" if outcome.reused else ""
    return (
        f"{what} = {e.value:+.3f} · p(target) = {100 * e.target_probability:.1f} %  \n"
        f"Time: {outcome.seconds:.1f} s{reuse} ({times})"
    )


def slot_label(text: str) -> str:
    from whyword.tokens import visible

    return visible(text)


MARKDOWN_PUNCTUATION = "\\`*_{}[]()#+-.!|~$:"


def escape_markdown(text: str) -> str:
    """Text for a gr.Markdown, shown as typed: Markdown's punctuation backslash-escaped, then
    only `& < >` as entities (once: escaping the `#` of `&#x27;` afterwards showed it
    literally; quotes need no entity in Markdown text)."""
    import html

    out = "".join("\\" + ch if ch in MARKDOWN_PUNCTUATION else ch for ch in text)
    return html.escape(out, quote=False)


def result_mode_note(explanation: Explanation) -> str:
    """The mode as the model and text turned out (after a result)."""
    e = explanation
    model = escape_markdown(e.model)
    if e.mode == "next_token":
        return f"**Mode: next token** (causal model {model})."
    if e.mode == "infill":
        return (
            f"**Mode: fill mask on a next-token model** ({model}): infill scoring, i.e. the top "
            "next tokens rescored with the words after [MASK] (details under the trust panel)."
        )
    n = len(e.predictions)
    return f"**Mode: fill mask** (masked model {model}, {n} mask{'s' if n > 1 else ''})."


def mode_note(text: str, model: str) -> str:
    """The mode detected from the model and the text, shown before anything runs."""
    masks = sum((text or "").count(literal) for literal in MASK_LITERALS)
    kind = model_kind(model)
    if kind == "masked":
        if masks == 0:
            return "**Mode: fill mask** (masked model): put [MASK] where the word goes."
        return f"**Mode: fill mask** (masked model, {masks} mask{'s' if masks > 1 else ''})."
    if kind == "causal":
        if masks:
            return (
                "**Mode: fill mask on a next-token model**: infill scoring rescores the top "
                "next tokens with the words after [MASK] (one mask at a time)."
            )
        return "**Mode: next token** (causal model)."
    return "**Mode:** detected when the model loads."


@lru_cache(maxsize=64)
def model_kind(model: str) -> str | None:
    """ "causal" / "masked" from the model's config only (no weights); None when unknown."""
    from whyword import default_model
    from whyword.models import loaded_models
    from whyword.models import model_kind as kind_of_config

    name = (model or "").strip()
    if name.lower() in default_model.ALIASES:
        return "causal"
    try:
        current_limits().check_model(name)
        from transformers import AutoConfig

        return kind_of_config(AutoConfig.from_pretrained(name, trust_remote_code=False))
    except Exception:  # unknown or unreachable: said when it is run
        log.debug("no config for %s (loaded: %s)", name, loaded_models())
        return None


def write_exports(explanation: Explanation) -> tuple[str, str, str]:
    """CSV, JSON and a self-contained HTML file in a fresh temp folder; old folders pruned."""
    prune_exports()
    folder = Path(tempfile.mkdtemp(prefix="x-", dir=_export_root()))
    paths = []
    for suffix, text in (
        ("csv", render.export_csv(explanation)),
        ("json", render.export_json(explanation)),
        ("html", render.export_html(explanation)),
    ):
        path = folder / f"{export_stem(explanation)}.{suffix}"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths[0], paths[1], paths[2]


def export_stem(explanation: Explanation, most: int = 60) -> str:
    """A download's file name without suffix: `whyword-the-capital-of-france-is-paris`, from
    the text and target in ASCII letters, digits and dashes (safe on every system)."""
    import re
    import unicodedata

    def slug(text: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")

    parts = [part for part in (slug(explanation.text), slug(explanation.target)) if part]
    stem = "-".join(["whyword", *parts])[:most].rstrip("-")
    return stem if parts else "whyword-explanation"


def _export_root() -> Path:
    EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    return EXPORT_ROOT


def prune_exports(max_age: float = EXPORT_MAX_AGE) -> None:
    if not EXPORT_ROOT.is_dir():
        return
    cutoff = time.time() - max_age
    for folder in EXPORT_ROOT.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def limits_line() -> str:
    return current_limits().describe()


# --- API endpoints (plain values in, JSON-able values out) ----------------------------------


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
    methods: str = "saliency,integrated_gradients",
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
    steps = whole("steps", steps)
    query = Query(
        text=text,
        model=model or "default",
        target=target or "",
        foil=foil or "",
        methods=names,
        steps=steps,
        baseline=baseline,
        k=whole("k", k),
        mask=whole("mask", mask),
    )
    outcome = run(query)
    if not outcome.ok:
        raise WhyWordError(outcome.error or GENERIC_ERROR)
    return outcome.explanation.to_dict(), heatmap(outcome.explanation, query)


def api_predict(text: str, model: str = "default", k: int = 10) -> list[dict]:
    """The top-k predictions (rank, token, token_id, probability, mask) without attributions."""
    limits = current_limits()
    try:
        k = whole("k", k)
        name = limits.check_model(model)
        limits.check_text(text)
        limits.check_numbers(k=k, steps=1, samples=1)
        ExplainOptions(k=k)  # validates k with a clear message
        preds = backend().predictions(name, text, k, limits.max_tokens)  # shares calls
    except WhyWordError:
        raise
    except Exception:
        log.exception("predict failed")
        raise WhyWordError(GENERIC_ERROR) from None
    return [row for p in preds for row in p.rows()]
