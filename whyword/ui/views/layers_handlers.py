"""The Layers view's logic, gradio-free: run a request (the Explain tab's text, target and foil),
render it, pick a head, read / write share links, write the downloads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from whyword.errors import InputError, WhyWordError
from whyword.render import components as parts
from whyword.render import layers as draw
from whyword.render.text import esc
from whyword.results.layers import LayerLens

TAB = "layers"
PREFIX = "layers_"  # this view's URL parameters: its TAB_ID, then the name
DEFAULT_K = 5
MAX_K = 20
EMPTY = "Type a text in the Explain tab first: this tab looks inside the model at its last token."
WAITING = (
    "Explain a text in the Explain tab, then open this tab: it reads the same text and target."
)
GENERIC = "Something went wrong while reading the layers; the error was logged on the server."
ATTENTION_ROOM = "Reading its attention over the tokens…"
ATTENTION_FAILED = "Its attention could not be read; the error was logged on the server."
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What the view reads: the Explain tab's text, target and foil, the model, k."""

    text: str
    target: str  # "" = the model's top-1, "id:<token id>", or a word
    foil: str  # "" = no foil
    model: str
    k: int = DEFAULT_K


@dataclass(frozen=True)
class Shown:
    """What the view shows after a request; figures are plotly objects or None."""

    status: str  # markdown: the legend, or one escaped sentence saying what went wrong
    table: str
    rank: Any
    heads: Any
    mlps: Any
    agreement: str
    note: str  # the one line shown instead of the grid when there are no components
    head_choices: list[tuple[str, str]]
    link: str
    lens: LayerLens | None
    request: Request | None  # what `lens` answers (None after a failure)


def run(req: Request) -> Shown:
    """Compute and render; a user's mistake is one sentence in the status line."""
    from whyword.models.limits import current_limits
    from whyword.serve.backend import scheduled_layers
    from whyword.ui.share import parse_target

    try:
        if not (req.text or "").strip():
            raise InputError(EMPTY)
        limits = current_limits()
        name = limits.check_model(req.model)
        limits.check_text(req.text)
        lens = scheduled_layers(
            req.text,
            target=parse_target(req.target),
            foil=parse_target(req.foil),
            k=int(req.k),
            model=name,
            max_tokens=limits.max_tokens,
        )
    except WhyWordError as error:
        return failed(req, str(error))
    except Exception:  # logged for the operator; the page stays up
        log.exception("layers request failed")
        return failed(req, GENERIC)
    return show(lens, req)


def failed(req: Request, message: str) -> Shown:
    return Shown(f"⚠️ {esc(message)}", "", None, None, None, "", "", [], share_link(req), None, None)


def show(lens: LayerLens, req: Request) -> Shown:
    """The view of a lens: the legend, table and rank line, and the grid when it has components."""
    notes = " ".join(esc(n) for n in lens.notes)
    status = esc(draw.legend_text(lens, req.k)) + (f" {notes}" if notes else "")
    d = lens.components
    agreement = parts.agreement_html(d, lens.target, lens.foil) if d is not None else ""
    return Shown(
        status=status,
        table=draw.lens_table_html(lens),
        rank=draw.rank_figure(lens, req.k),
        heads=parts.heads_figure(d) if d is not None else None,
        mlps=parts.mlp_figure(d) if d is not None else None,
        agreement=agreement,
        note="" if d is not None else esc(parts.NO_COMPONENTS),
        head_choices=parts.head_choices(d) if d is not None else [],
        link=share_link(req),
        lens=lens,
        request=req,
    )


def pick_head(lens: LayerLens | None, value: str | None) -> str:
    """The picked head's numbers (a grid click "layer.head:nonce", or the picker's value)."""
    if lens is None or lens.components is None:
        return ""
    head = parts.parse_head(value, lens.components)
    if head is None:
        return ""
    html = parts.head_html(lens.components, head, lens.foil is not None)
    return html.replace('<div class="ww-ly-attention"></div>', _attention_room())


def _attention_room() -> str:
    return f'<div class="ww-ly-attention ww-hint">{esc(ATTENTION_ROOM)}</div>'


def head_attention(lens: LayerLens | None, req: Request | None, value: str | None) -> str:
    """The picked head's numbers and its attention from the lens position over the tokens
    (one eager forward through the scheduler); a failure is one sentence in its place."""
    from whyword.models.limits import current_limits
    from whyword.serve.backend import scheduled_attention

    if lens is None or lens.components is None or req is None:
        return ""
    head = parts.parse_head(value, lens.components)
    if head is None:
        return ""
    html = parts.head_html(lens.components, head, lens.foil is not None)
    try:
        limits = current_limits()
        seen = scheduled_attention(
            lens.text,
            head.layer,
            head.head,
            position=lens.position,
            model=limits.check_model(req.model),
            max_tokens=limits.max_tokens,
        )
        strip = parts.attention_html(seen)
    except WhyWordError as error:
        strip = f'<div class="ww-ly-attention ww-error">{esc(str(error))}</div>'
    except Exception:  # logged for the operator; the page stays up
        log.exception("attention request failed")
        strip = f'<div class="ww-ly-attention ww-error">{esc(ATTENTION_FAILED)}</div>'
    return html.replace('<div class="ww-ly-attention"></div>', strip)


def share_link(req: Request) -> str:
    """The URL query that reproduces the view: tab=layers, the model and this view's params."""
    params = {"tab": TAB, "model": req.model or "default", f"{PREFIX}text": req.text}
    if req.target:
        params[f"{PREFIX}target"] = req.target
    if req.foil:
        params[f"{PREFIX}foil"] = req.foil
    if req.k != DEFAULT_K:
        params[f"{PREFIX}k"] = str(req.k)
    return "?" + urlencode(params)


def from_params(params: dict[str, str]) -> Request | None:
    """The request a share link holds, or None when it holds none (no layers_text)."""
    text = params.get(f"{PREFIX}text")
    if params.get("tab") != TAB or not text:
        return None
    try:
        k = min(MAX_K, max(1, int(params.get(f"{PREFIX}k", DEFAULT_K))))
    except ValueError:
        k = DEFAULT_K
    return Request(
        text,
        params.get(f"{PREFIX}target", ""),
        params.get(f"{PREFIX}foil", ""),
        params.get("model", "default") or "default",
        k,
    )


def export_files(lens: LayerLens | None) -> list[str]:
    """The lens (and its components) as CSV, and the whole result as JSON: their paths."""
    from whyword.ui.exports import export_stem, write_files

    if lens is None:
        raise InputError("Run the Layers view first: there is nothing to download yet.")
    stem = export_stem(lens).replace("whyword", "whyword-layers", 1)
    files = {f"{stem}.csv": draw.lens_csv(lens), f"{stem}.json": draw.lens_json(lens)}
    table = draw.components_csv(lens)
    if table is not None:
        files[f"{stem}-components.csv"] = table
    return write_files(files)
