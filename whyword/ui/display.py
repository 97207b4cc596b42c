"""What the page shows for a result, as text and figures: the chart, heatmaps, status line,
mode notes and messages. No gradio here; Markdown is escaped once, for where it lands."""

from __future__ import annotations

from whyword import render
from whyword.errors import WhyWordError
from whyword.models.encoding import MASK_LITERALS
from whyword.models.limits import current_limits
from whyword.models.load import probe_kind
from whyword.results.explanation import Explanation
from whyword.ui.choices import single_id, slot
from whyword.ui.session import Outcome, State, previous_query
from whyword.ui.share import Query


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
    return render.heatmap_html(
        shown, include_special=query.special, normalise=query.normalise, numbers=query.numbers
    )


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
    if outcome.pending:  # an early result: say what is still coming (and no "Time" yet)
        running = ", ".join(name.replace("_", " ") for name in outcome.pending)
        return (
            f"{what} = {e.value:+.3f} · p(target) = {100 * e.target_probability:.1f} %  \n"
            + refining_sentence(outcome)
            + f"Still running: {running} … (first heatmap after {outcome.seconds:.1f} s)"
        )
    return (
        f"{what} = {e.value:+.3f} · p(target) = {100 * e.target_probability:.1f} %  \n"
        f"Time: {outcome.seconds:.1f} s{reuse} ({times})"
    )


def refining_sentence(outcome: Outcome) -> str:
    """E.g. "Integrated gradients: refining (error 7 % → target ≤ 5 %)…" with a line break,
    while an early result shows a refining method's scores so far ("" otherwise)."""
    stage = outcome.stage
    if stage is None or stage.final or stage.method not in outcome.pending:
        return ""
    name = stage.method.replace("_", " ").capitalize()
    error, target = stage.relative_error, stage.tolerance
    if error is None or target is None:
        return f"{name}: refining…  \n"
    return f"{name}: refining (error {percent(error)} → target ≤ {percent(target)})…  \n"


def percent(fraction: float) -> str:
    """A share as a plain percentage: 7 %, 0.35 %, 0.0001 %."""
    value = 100 * fraction
    return f"{value:.0f} %" if value >= 1 else f"{value:.2g} %"


def slot_label(text: str) -> str:
    from whyword.text.tokens import visible

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
    kind = _kind(model)
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


def _kind(model: str) -> str | None:
    """The model's kind when this server allows it (the config only; None when unknown)."""
    try:
        name = current_limits().check_model((model or "").strip())
    except WhyWordError:  # said when it is run
        return None
    return probe_kind(name)


def limits_line() -> str:
    return current_limits().describe()


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
