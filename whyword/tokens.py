"""Token ids to readable text: no raw `Ġ`, `▁` or `##`; a leading space shows as `␣`."""

from __future__ import annotations

from dataclasses import dataclass

SPACE_MARK = "␣"
_VISIBLE = {"\n": "↵", "\t": "⇥", "\r": "⏎"}


@dataclass(frozen=True)
class Token:
    """One input token: its id, exact text, display label and role."""

    id: int
    text: str  # the exact surface text, leading space included
    label: str  # `text` with spaces and control characters made visible
    special: bool = False  # BOS / [CLS] / [SEP] / [MASK] …: greyed, left out of colour scales
    attributed: bool = True  # False for held-fixed pieces (an infill gap) that get no score


def token_text(tokenizer, token_id: int) -> str:
    """The surface text of one token, with a leading space where it starts a new word."""
    piece = tokenizer.convert_ids_to_tokens(int(token_id))
    if piece is None:
        return ""
    if piece in set(tokenizer.all_special_tokens):
        return piece
    if piece.startswith("##"):  # WordPiece continuation: glued to the previous piece
        return piece[2:]
    text = tokenizer.convert_tokens_to_string([piece])
    if "\ufffd" in text:  # a byte-level piece of a multi-byte character: show its bytes
        text = _byte_piece(piece) or text
    if piece.startswith("▁") and not text.startswith(" "):  # SentencePiece strips it
        text = " " + text.lstrip(" ")
    elif _is_wordpiece(tokenizer) and text[:1].isalnum():
        text = " " + text  # WordPiece word start: a new word, as a space would show
    return text


def visible(text: str) -> str:
    """Spaces as `␣`, newlines/tabs as arrows, other control characters as \\uXXXX."""
    out = []
    for ch in text:
        if ch == " ":
            out.append(SPACE_MARK)
        elif ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) or "∅"


def label(tokenizer, token_id: int) -> str:
    return visible(token_text(tokenizer, token_id))


def from_visible(text: str) -> str:
    """Undo `visible` for what a user types: `␣Paris` means " Paris"."""
    return text.replace(SPACE_MARK, " ")


def special_ids(tokenizer) -> set[int]:
    return {int(i) for i in getattr(tokenizer, "all_special_ids", []) if i is not None}


def make_tokens(tokenizer, ids, attributed=None) -> tuple[Token, ...]:
    """Tokens for a sequence of ids; `attributed[i]` False marks held-fixed pieces."""
    specials = special_ids(tokenizer)
    out = []
    for i, token_id in enumerate(ids):
        text = token_text(tokenizer, int(token_id))
        out.append(
            Token(
                id=int(token_id),
                text=text,
                label=visible(text),
                special=int(token_id) in specials,
                attributed=True if attributed is None else bool(attributed[i]),
            )
        )
    return tuple(out)


def _is_wordpiece(tokenizer) -> bool:
    model = getattr(getattr(tokenizer, "backend_tokenizer", None), "model", None)
    return type(model).__name__ == "WordPiece"


def _byte_piece(piece: str) -> str | None:
    """`⟨e5 8c⟩` for a byte-level BPE piece that is part of a character; None if not byte-level."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    decoder = {c: b for b, c in bytes_to_unicode().items()}
    if not all(c in decoder for c in piece):
        return None
    raw = bytes(decoder[c] for c in piece)
    lead = " " if raw.startswith(b" ") else ""
    return lead + "⟨" + raw.lstrip(b" ").hex() + "⟩"
