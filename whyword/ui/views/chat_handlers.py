"""The Chat view's logic, gradio-free: a conversation (system, user, an optional typed reply)
-> `whyword.chat` and `ChatResult.explain` of a span of the reply, both through the scheduler's
`call` -> the picture; share links; the JSON download."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from whyword.errors import InputError, WhyWordError
from whyword.render import chat as draw
from whyword.render.text import esc

TAB = "chat"
PREFIX = "chat_"  # this view's URL parameters: its TAB_ID, then the name
METHOD_CHOICES = ("saliency", "input_x_gradient", "integrated_gradients", "occlusion")
DEFAULT_METHODS = ("saliency", "occlusion")
LEVELS = ("message", "sentence")
STRATEGIES = ("greedy", "sample")
DEFAULT_NEW = 24
MAX_NEW = 64
WAITING = (
    "Type a user message (and a system message if you like), then press Explain: the model "
    "answers, and the whole answer is explained; then pick a span of it."
)
EMPTY = "Type a user message first: the model answers it."
GENERIC = "Something went wrong while explaining the chat; the error was logged on the server."
NUMBERS = re.compile(r"\s*(\d+)\s*:\s*(\d+)\s*")  # as the CLI's --span: FIRST:END
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What the view reads: the messages, the reply (typed or generated), the span and foil."""

    system: str
    user: str
    model: str
    reply: str = ""  # "" = the model generates it
    span: str = ""  # "" = the whole answer; "a:b" = reply tokens a..b−1 (the CLI's); a phrase
    foil: str = ""  # "" = no foil
    methods: tuple[str, ...] = DEFAULT_METHODS
    level: str = "message"
    max_new_tokens: int = DEFAULT_NEW
    strategy: str = "greedy"
    seed: int = 0

    def messages(self) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system}] if self.system.strip() else []
        return [*system, {"role": "user", "content": self.user}]

    def chat_key(self) -> tuple:
        """What the conversation and its reply depend on (not the span, foil or methods)."""
        return (self.system, self.user, self.model, self.reply, self.max_new_tokens,
                self.strategy, self.seed)


@dataclass(frozen=True)
class Shown:
    """What the view shows; `explanation` is the `ChatExplanation` (None after a failure)."""

    status: str  # one escaped line: the legend, or what went wrong
    conversation: str
    bars: Any  # a plotly figure or None
    link: str
    explanation: Any
    request: Request | None
    method: str = ""  # the method shown


def parse_span(text: str):
    """None (the whole answer), reply tokens (a, b) from "a:b" (b excluded, as the CLI's
    `--span`), or the phrase as typed."""
    if not (text or "").strip():
        return None
    found = NUMBERS.fullmatch(text)
    return (int(found[1]), int(found[2])) if found else text


def compute(req: Request, previous: Any = None, last: Request | None = None) -> Any:
    """The `ChatExplanation` of the request, after the page's checks (a WhyWordError says what
    is wrong): the reply is made again unless `previous`, the explanation `last` asked for,
    already holds this conversation and reply; then the span is explained."""
    from whyword.models.limits import current_limits
    from whyword.serve.backend import scheduled_chat, scheduled_chat_explain

    if not (req.user or "").strip():
        raise InputError(EMPTY)
    limits = current_limits()
    name = limits.check_model(req.model)
    for text in (req.system, req.user, req.reply, req.span, req.foil):
        limits.check_text(text)
    methods = tuple(m for m in req.methods if m in METHOD_CHOICES)
    if not methods or len(methods) != len(req.methods):
        raise InputError(f"Choose methods among {', '.join(METHOD_CHOICES)}.")
    if req.level not in LEVELS:
        raise InputError(f"The level is one of {', '.join(LEVELS)}, not {req.level!r}.")
    if req.strategy not in STRATEGIES:
        raise InputError(f"The decoding is one of {', '.join(STRATEGIES)}, not {req.strategy!r}.")
    if not 1 <= req.max_new_tokens <= MAX_NEW:
        raise InputError(f"Generate from 1 to {MAX_NEW} new tokens, not {req.max_new_tokens}.")
    if previous is not None and last is not None and last.chat_key() == req.chat_key():
        result = previous.chat
    else:
        result = scheduled_chat(
            req.messages(), model=name, max_new_tokens=req.max_new_tokens,
            strategy=req.strategy, seed=req.seed, reply=req.reply or None,
            max_tokens=limits.max_tokens,
        )
    return scheduled_chat_explain(
        result, span=parse_span(req.span), foil=req.foil or None, methods=methods, model=name
    )


def run(req: Request, previous: Any = None, last: Request | None = None) -> Shown:
    """`compute`, rendered; a mistake is one sentence in the status line."""
    try:
        explanation = compute(req, previous, last)
    except WhyWordError as error:
        return failed(req, str(error))
    except Exception:  # logged for the operator; the page stays up
        log.exception("chat request failed")
        return failed(req, GENERIC)
    return show(explanation, req, req.methods[0])


def failed(req: Request, message: str) -> Shown:
    return Shown(f"⚠️ {esc(message)}", "", None, share_link(req), None, None)


def picture(explanation: Any, method: str) -> draw.ChatPicture:
    """The render's plain data from a `ChatExplanation`, for one method."""
    chat = explanation.chat
    m = explanation.matrix.method(method)
    return draw.ChatPicture(
        tokens=chat.tokens,
        roles=chat.roles,
        owners=chat.owners,
        labels=chat.unit_labels,
        scores=tuple(float(s) for s in m.scores[0]),
        signed=m.signed,
        method=method,
        prompt_length=chat.prompt_length,
        start=explanation.start,
        end=explanation.end,
    )


def objective(req: Request) -> str:
    """The objective's name, as the legend says it."""
    return "Σ log p of the span's tokens" + (" − Σ log p of the foil's" if req.foil else "")


def show(explanation: Any, req: Request, method: str) -> Shown:
    """The view of an explanation for one of its methods, at the request's level."""
    p = picture(explanation, method)
    units = explanation.messages(method) if req.level == "message" else explanation.sentences(method)
    title = f"Per {req.level}: {method} (template tokens left out)"
    status = draw.legend_text(p, explanation.span_text, explanation.value, objective(req))
    status += f" {esc(explanation.note)}"
    return Shown(
        status=status,
        conversation=draw.conversation_html(p),
        bars=draw.units_figure(units, title, p.signed),
        link=share_link(req),
        explanation=explanation,
        request=req,
        method=method,
    )


def reshow(explanation: Any, req: Request | None, method: str | None, level: str | None) -> Shown | None:
    """The same explanation for another method or level: no model call (None: nothing to show)."""
    if explanation is None or req is None:
        return None
    names = [m.method for m in explanation.matrix.methods]
    chosen = method if method in names else names[0]
    return show(explanation, replace(req, level=level if level in LEVELS else req.level), chosen)


def share_link(req: Request) -> str:
    """The URL query that reproduces the view: tab=chat, the model and this view's params."""
    params = {"tab": TAB, "model": req.model or "default", f"{PREFIX}user": req.user}
    optional = {
        "system": (req.system, ""), "reply": (req.reply, ""), "span": (req.span, ""),
        "foil": (req.foil, ""), "methods": (",".join(req.methods), ",".join(DEFAULT_METHODS)),
        "level": (req.level, "message"), "new": (str(req.max_new_tokens), str(DEFAULT_NEW)),
        "strategy": (req.strategy, "greedy"), "seed": (str(req.seed), "0"),
    }
    for key, (value, default) in optional.items():
        if value != default:
            params[f"{PREFIX}{key}"] = value
    return "?" + urlencode(params)


def from_params(params: dict[str, str]) -> Request | None:
    """The request a share link holds, or None when it holds none (no chat_user)."""
    user = params.get(f"{PREFIX}user")
    if params.get("tab") != TAB or not user:
        return None

    def number(key: str, default: int, low: int, high: int) -> int:
        try:
            return min(high, max(low, int(params.get(f"{PREFIX}{key}", default))))
        except ValueError:
            return default

    methods = tuple(
        m for m in params.get(f"{PREFIX}methods", ",".join(DEFAULT_METHODS)).split(",")
        if m in METHOD_CHOICES
    )
    level = params.get(f"{PREFIX}level", "message")
    strategy = params.get(f"{PREFIX}strategy", "greedy")
    return Request(
        system=params.get(f"{PREFIX}system", ""),
        user=user,
        model=params.get("model", "default") or "default",
        reply=params.get(f"{PREFIX}reply", ""),
        span=params.get(f"{PREFIX}span", ""),
        foil=params.get(f"{PREFIX}foil", ""),
        methods=methods or DEFAULT_METHODS,
        level=level if level in LEVELS else "message",
        max_new_tokens=number("new", DEFAULT_NEW, 1, MAX_NEW),
        strategy=strategy if strategy in STRATEGIES else "greedy",
        seed=number("seed", 0, 0, 2**31 - 1),
    )


def export_files(explanation: Any) -> list[str]:
    """The explanation as JSON (`ChatExplanation.to_dict`): its path."""
    from whyword.ui.exports import write_files

    if explanation is None:
        raise InputError("Explain a chat first: there is nothing to download yet.")
    slug = re.sub(r"[^a-z0-9]+", "-", explanation.span_text.lower()).strip("-")[:40]
    stem = "-".join(p for p in ("whyword-chat", slug) if p)
    return write_files({f"{stem}.json": explanation.to_json(indent=2)})
