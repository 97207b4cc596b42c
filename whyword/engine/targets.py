"""Target and foil resolution: None (top-1), a token id, or a typed word -> the ids to score.

The objectives that turn scored ids into the attributed scalar are in `whyword.attr.objectives`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whyword.errors import TargetError, shown
from whyword.models.encoding import Encoded, has_surrogate
from whyword.models.load import LoadedModel
from whyword.text.tokens import from_visible, visible

TargetLike = int | str | None


@dataclass(frozen=True)
class Target:
    """A resolved target or foil: the ids scored and how to show them."""

    ids: tuple[int, ...]
    text: str  # the exact text the ids decode to (leading space included)
    requested: str  # what the user asked for ("top-1", an id, a word)

    @property
    def label(self) -> str:
        return visible(self.text)


def resolve(
    lm: LoadedModel,
    enc: Encoded,
    wanted: TargetLike,
    top1: int,
    role: str = "target",
    mask_index: int = 0,
) -> Target:
    """Turn None (top-1), a token id, or a token/word string into the ids to score."""
    tokenizer = lm.tokenizer
    if wanted is None or (isinstance(wanted, str) and wanted == "" and role == "target"):
        return Target((top1,), _decode(tokenizer, [top1]), "top-1")
    if isinstance(wanted, bool):
        raise TargetError(f"The {role} must be a token, a word or a token id.")
    if isinstance(wanted, int):
        check_id(lm, wanted)
        return Target((wanted,), _decode(tokenizer, [wanted]), str(wanted))
    if not isinstance(wanted, str):
        raise TargetError(f"The {role} must be a token, a word or a token id.")
    raw = from_visible(wanted)
    if has_surrogate(raw):
        raise TargetError(f"The {role} contains an invalid character (an unpaired surrogate).")
    if not raw.strip():
        raise TargetError(f"The {role} is empty or only spaces: type a word or pick a bar.")
    if len(raw) > 200:
        raise TargetError(f"The {role} is too long: give a word or a short phrase.")
    text = _with_word_space(enc, raw, mask_index)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise TargetError(f"The {role} {shown(wanted)} gives no tokens for this model.")
    if tokenizer.unk_token_id is not None and tokenizer.unk_token_id in ids:
        raise TargetError(f"The {role} {shown(wanted)} is not in this model's vocabulary.")
    if len(ids) > 16:
        raise TargetError(
            f"The {role} {shown(wanted)} is {len(ids)} tokens long; at most 16 are scored."
        )
    return Target(tuple(ids), text, wanted)


def check_id(lm: LoadedModel, token_id: int) -> None:
    """Refuse a token id outside the model's vocabulary, in one sentence."""
    if not 0 <= token_id < lm.vocab_size:
        raise TargetError(
            f"Token id {shown(token_id)} is out of range: this model's ids go from 0 to "
            f"{lm.vocab_size - 1}."
        )


def _with_word_space(enc: Encoded, raw: str, mask_index: int) -> str:
    """A word typed without its leading space means the next *word*: " Paris", not "Paris".

    Only where a space belongs: after text that does not end in one, in a slot that follows a
    space (masks absorb it), and for words that start with a letter or digit.
    """
    if raw[:1].isspace() or not raw[:1].isalnum():
        return raw
    before = _text_before_slot(enc, mask_index)
    if enc.mode == "next_token":
        return raw if before[-1:].isspace() else " " + raw
    if not before.strip():
        return raw  # the slot starts the text
    return " " + raw if before[-1:].isspace() else raw  # glued to a word: "Paris[MASK]"


def _text_before_slot(enc: Encoded, mask_index: int) -> str:
    if enc.mode == "next_token":
        return enc.text
    if enc.mode == "infill":
        return re.split(r"\[MASK\]|<mask>", enc.text, maxsplit=1)[0]
    pieces = re.split(r"\[MASK\]|<mask>", enc.text)
    return "[MASK]".join(pieces[: mask_index + 1])


def _decode(tokenizer, ids) -> str:
    from whyword.text.tokens import token_text

    return "".join(token_text(tokenizer, i) for i in ids)
