"""Token ids to readable text: no raw `Ġ`, `▁` or `##`; a leading space shows as `␣`."""

from __future__ import annotations

import re
from collections.abc import Sequence
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


BYTE_PIECE = re.compile(r"^( ?)⟨((?:[0-9a-f]{2})+)⟩$")  # what `_byte_piece` makes


@dataclass(frozen=True)
class TokenGroup:
    """Consecutive tokens shown as one chip: byte-level pieces that together make characters
    (`🍕` from ⟨f09f⟩⟨8d⟩⟨95⟩), or a single token."""

    tokens: tuple[int, ...]  # token indices, consecutive
    label: str  # what the chip shows (the characters, made visible)
    pieces: str = ""  # the byte pieces it groups ("" for a single token)

    def __post_init__(self) -> None:
        assert self.tokens and list(self.tokens) == list(
            range(self.tokens[0], self.tokens[0] + len(self.tokens))
        ), "a group covers consecutive tokens"


def byte_groups(tokens: Sequence[Token]) -> tuple[TokenGroup, ...]:
    """The tokens partitioned into chips: each run of byte-level pieces split into the shortest
    stretches that decode to whole UTF-8 characters; every other token on its own (so is a
    byte piece that never completes a character)."""
    raw = [_piece_bytes(t) for t in tokens]
    groups: list[TokenGroup] = []
    i = 0
    while i < len(tokens):
        if raw[i] is None:
            groups.append(TokenGroup((i,), tokens[i].label))
            i += 1
            continue
        end = i + 1
        while end <= len(tokens) and raw[end - 1] is not None:
            text = _utf8(b"".join(raw[i:end]))
            if text is not None:
                break
            end += 1
        else:
            end = None
        if end is None or end - i == 1:  # never completes, or one piece is a whole character
            label = tokens[i].label if end is None else visible(_utf8(raw[i]) or "")
            groups.append(TokenGroup((i,), label))
            i += 1
            continue
        pieces = "".join(tokens[k].label for k in range(i, end))
        groups.append(TokenGroup(tuple(range(i, end)), visible(text), pieces))
        i = end
    return tuple(groups)


def _piece_bytes(token: Token) -> bytes | None:
    if token.special:
        return None
    match = BYTE_PIECE.match(token.text)
    if match is None:
        return None
    return match.group(1).encode() + bytes.fromhex(match.group(2))


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
