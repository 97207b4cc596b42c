"""The Sequence view's logic, without gradio: every event is a function of the typed per-user
state (`SeqState`, kept in gr.State: token ids and small results, never a KV cache) and the
controls, returning a `SeqView` the view turns into component updates.

The KV caches live in `whyword.tasks.stepper.STORE`, a bounded LRU shared by all users and keyed by
(model, ids); a miss recomputes, so nothing a user does can grow the server's memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from whyword.errors import InputError, WhyWordError, shown
from whyword.models.limits import current_limits
from whyword.models.load import LoadedModel
from whyword.render import sequence as seq
from whyword.render import transitions
from whyword.render.text import esc
from whyword.results.matrix import AttributionMatrix
from whyword.tasks.generate import Step
from whyword.tasks.positions import PositionTable
from whyword.tasks.stepper import Session, Warp
from whyword.tasks.steps import WHY_TEACHER_FORCED
from whyword.ui.mistakes import user_mistake
from whyword.ui.params import number_in

# The view reaches the link and the matrix rows through this module (they live beside it).
from whyword.ui.sequence_link import PREFIX, LinkValues, read_link, share_query  # noqa: F401
from whyword.ui.sequence_rows import row_explanation, row_heatmap  # noqa: F401

log = logging.getLogger(__name__)
K = 10  # bars in the next-step chart
MAX_AUTO = 50  # auto-complete at most this many tokens per click
GENERIC = "Something went wrong on the server; try again, or a shorter text."
WHY_NOT_GENERATE = (
    "Why re-run? `model.generate` picks each token with an argmax or a random draw, and neither "
    "has a gradient, so to explain the steps WhyWord feeds the finished text back through one "
    "teacher-forced forward and differentiates that."
)


@dataclass(frozen=True)
class SeqState:
    """One user's Sequence view: the session (ids) and what was last computed from it."""

    session: Session | None = None
    table: PositionTable | None = None  # the typed text's positions (the surprisal strip)
    matrix: AttributionMatrix | None = None  # the steps × source matrix of `matrix_ids`
    matrix_ids: tuple[int, ...] = ()
    steps: tuple[Step, ...] = ()  # one row per appended token, as it was picked

    def __post_init__(self) -> None:
        assert self.session is None or len(self.steps) == len(self.session.appended)


@dataclass(frozen=True)
class SeqView:
    """What an event changes; None = leave that part as it is."""

    state: SeqState
    status: str = ""  # one sentence; "" when all went well
    strip: str | None = None
    text_so_far: str | None = None
    step_figure: Any = None
    position_figure: Any = None
    steps_figure: Any = None
    row_heatmap: str | None = None
    table: str | None = None


def _lm(model: str):
    from whyword.models.load import load_model

    return load_model(current_limits().check_model(model))


def guarded(fn):
    """An event handler whose failures become one sentence in the view (never a stack trace)."""

    def run(state: SeqState | None, *args: Any) -> SeqView:
        state = state or SeqState()
        try:
            return fn(state, *args)
        except WhyWordError as error:
            user_mistake(f"sequence {fn.__name__}", error)
            return SeqView(state, status=str(error))
        except Exception:
            log.exception("sequence view failed")
            return SeqView(state, status=GENERIC)

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def warp_of(temperature: float, top_k: float | None, top_p: float | None) -> Warp:
    """The sliders' values as a `Warp`; top-k 0 and top-p 1 mean off."""
    k = int(top_k or 0)
    p = float(top_p) if top_p is not None else 1.0
    return Warp(float(temperature), k if k > 0 else None, p if p < 1.0 else None)


def _stepped(state: SeqState, warp: Warp, status: str = "") -> SeqView:
    """The chart and the text so far for the state's session (one token's forward at most)."""
    from whyword.tasks.stepper import next_step

    s = state.session
    lm = _lm(s.model)
    step = next_step(lm, s.ids, warp, K)
    decode = lm.tokenizer.decode
    return SeqView(
        state,
        status=status,
        text_so_far=text_so_far_html(decode(s.prompt), decode(s.appended)),
        step_figure=seq.next_step_figure(step),
        table=transitions.transition_table_html(state.steps),
    )


def text_so_far_html(prompt: str, appended: str) -> str:
    """The typed text, then the appended tokens highlighted (each escaped once)."""
    new = f'<span style="{_APPENDED}">{esc(appended)}</span>' if appended else ""
    return (
        '<div class="ww-seq-text" style="font-size:24px;white-space:pre-wrap;">'
        f"{esc(prompt)}{new}</div>"
    )


_APPENDED = "background:rgba(15,118,110,0.18);border-bottom:3px solid #0f766e;"


def begin(text: str, model: str) -> tuple[LoadedModel, str, tuple[int, ...]]:
    """The checks of a new text (Start, and the /positions and /generate endpoints): the loaded
    model, the key the session keeps (not lm.name) and the text's ids; or a WhyWordError."""
    from whyword.tasks.positions import text_ids

    current_limits().check_text(text)
    if not (text or "").strip():
        raise InputError("Type a text to continue first.")
    name = current_limits().check_model(model)
    lm = _lm(name)
    if lm.kind != "causal":
        raise InputError(f"'{lm.name}' is a masked model: it cannot continue a text.")
    return lm, name, text_ids(lm, text)


@guarded
def start(state: SeqState, text: str, model: str, t: float, k: float, p: float) -> SeqView:
    """A new session from the typed text: the surprisal strip and the first next-step chart."""
    from whyword.tasks.positions import position_table

    current_limits().check_text(text)
    warp = warp_of(t, k, p)
    lm, name, ids = begin(text, model)
    with lm.lock:
        table = position_table(lm, ids, 5)
    new = SeqState(session=Session(name, ids, ids), table=table)
    view = _stepped(new, warp)
    return replace(view, strip=seq.surprisal_strip_html(table), steps_figure=None, row_heatmap="")


def _need_session(state: SeqState) -> Session:
    if state.session is None:
        raise WhyWordError("Press Start first: there is no text to continue yet.")
    return state.session


@guarded
def append(state: SeqState, token_id: str | int, t: float, k: float, p: float) -> SeqView:
    """A bar was clicked: append its token (the click bridge sends "id:nonce")."""
    s = _need_session(state)
    raw = number_in(token_id)
    if raw is None:
        return SeqView(state)
    from whyword.tasks.stepper import last_logits
    from whyword.tasks.transitions import step_from_logits

    lm, warp = _lm(s.model), warp_of(t, k, p)
    if raw >= lm.vocab_size:
        raise WhyWordError(f"Token id {shown(raw)} is not in this model's vocabulary.")
    with lm.lock:
        logits = last_logits(lm, s.ids)  # (V,) the chart's own logits: cached
    row = step_from_logits(lm, logits, raw, warp, len(s.appended) + 1)
    new = replace(state, session=s.append(raw), steps=(*state.steps, row))
    return _stepped(new, warp)


@guarded
def undo(state: SeqState, t: float, k: float, p: float) -> SeqView:
    s = _need_session(state)
    note = "" if s.appended else "Nothing to undo: the typed text is never removed."
    new = replace(state, session=s.undo(), steps=state.steps[: len(s.undo().appended)])
    return _stepped(new, warp_of(t, k, p), note)


@guarded
def rewarp(state: SeqState, t: float, k: float, p: float) -> SeqView:
    """A slider moved: re-warp the cached logits (a model call only on a cache miss)."""
    if state.session is None:
        return SeqView(state)
    return _stepped(state, warp_of(t, k, p))


@guarded
def auto(state: SeqState, n: float, strategy: str, t, k, p, seed: float) -> SeqView:
    from whyword.tasks.stepper import auto_complete

    s = _need_session(state)
    n = int(n)
    if not 1 <= n <= MAX_AUTO:
        raise WhyWordError(f"Auto-complete takes 1 to {MAX_AUTO} tokens, got {shown(n)}.")
    warp = warp_of(t, k, p) if strategy == "sample" else Warp()
    lm = _lm(s.model)
    ids = auto_complete(lm, s.ids, n, strategy, warp, int(seed))
    return _stepped(_with_ids(lm, state, ids, warp), warp_of(t, k, p))


def _with_ids(lm, state: SeqState, ids: tuple[int, ...], warp: Warp) -> SeqState:
    """The state with the session's ids set to `ids`; the new tokens' rows from one forward."""
    from whyword.tasks.transitions import transition_steps

    s = state.session
    if any(i >= lm.vocab_size for i in ids):
        raise WhyWordError("The link's token ids are not in this model's vocabulary.")
    new = Session(s.model, s.prompt, ids)
    kept = len(s.appended)
    rows = transition_steps(lm, new, warp)[kept:] if len(new.appended) > kept else ()
    renumbered = tuple(replace(r, step=kept + i + 1) for i, r in enumerate(rows))
    return replace(state, session=new, steps=(*state.steps, *renumbered))


@guarded
def pick_position(state: SeqState, position: str) -> SeqView:
    """A token of the strip was clicked: what the model expected there."""
    raw = number_in(position)
    if state.table is None or raw is None:
        return SeqView(state)
    row = next((r for r in state.table.rows if r.position == raw), None)
    if row is None:
        return SeqView(state, status="The first token has no prediction: nothing comes before it.")
    return SeqView(
        state,
        strip=seq.surprisal_strip_html(state.table, row.position),
        position_figure=seq.position_figure(row),
    )


@guarded
def explain_steps(state: SeqState, method: str) -> SeqView:
    """The generated-steps × source-tokens matrix (one teacher-forced forward per batch)."""
    from whyword.runtime.options import ExplainOptions
    from whyword.serve.scheduler import cost, scheduler
    from whyword.tasks.steps import attribute_steps

    s = _need_session(state)
    if not s.appended:
        raise WhyWordError("Append or auto-complete some tokens first: there are no steps yet.")
    lm = _lm(s.model)
    # through the scheduler's lanes: a long IG matrix takes the heavy lane's own model copy
    work = cost(len(s.ids), [method], ExplainOptions()) * len(s.appended)  # all rows
    matrix = scheduler().call(
        lm, work, lambda m: attribute_steps(s.prompt, s.appended, lm.name, [method], m)
    )
    new = replace(state, matrix=matrix, matrix_ids=s.ids)
    return SeqView(
        new,
        steps_figure=seq.steps_heatmap_figure(matrix, method),
        row_heatmap=row_heatmap(matrix, len(s.appended) - 1),
    )


@guarded
def pick_step(state: SeqState, row: str) -> SeqView:
    raw = number_in(row)
    if state.matrix is None or raw is None or raw >= len(state.matrix.outputs):
        return SeqView(state)
    return SeqView(state, row_heatmap=row_heatmap(state.matrix, raw))


def export_files(state: SeqState, folder: str) -> tuple[str, str]:
    """The transition table as CSV and JSON files in `folder` (paths)."""
    from pathlib import Path

    from whyword.tasks.generate import SCORES_FROM

    s = _need_session(state)
    steps = state.steps
    base = Path(folder)
    csv_path, json_path = base / "whyword-transitions.csv", base / "whyword-transitions.json"
    csv_path.write_text(transitions.transitions_csv(steps), encoding="utf-8")
    json_path.write_text(transitions.transitions_json(steps, s.model, SCORES_FROM), encoding="utf-8")
    return str(csv_path), str(json_path)


def from_link(values: LinkValues, model: str) -> SeqView:
    """Rebuild the session a link describes: start, then append its ids."""
    view = start(SeqState(), values.text, model, values.temperature, values.top_k, values.top_p)
    if view.status or not values.ids:
        return view
    warp = warp_of(values.temperature, values.top_k, values.top_p)

    @guarded
    def rebuild(state: SeqState) -> SeqView:
        s = state.session
        return _stepped(_with_ids(_lm(s.model), state, (*s.prompt, *values.ids), warp), warp)

    return replace(rebuild(view.state), strip=view.strip)


WHY = WHY_TEACHER_FORCED
