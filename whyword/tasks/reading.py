"""What the views inside the model read: one position of the text, and the one token of a
target or foil whose logit they follow there (a word of several tokens: its first, said in a
note). Shared by the logit lens and DLA (layers.py), attention.py and relevance.py."""

from __future__ import annotations

from whyword.engine import targets
from whyword.errors import InputError, shown
from whyword.models.encoding import Encoded
from whyword.models.load import LoadedModel
from whyword.text.tokens import token_text

MULTI_TOKEN = "{role} {text!r} has {n} tokens; {what} its first, {first!r}."


def read_position(enc: Encoded, position: int | None) -> int:
    """`position` of the text (negative: from the end); default the last token of a causal
    model (it predicts the next one), the first `[MASK]` of a masked one."""
    n = len(enc.ids)
    if position is None:
        return enc.mask_positions[0] if enc.mode == "masked" else n - 1
    if isinstance(position, bool) or not isinstance(position, int):
        raise InputError(f"The position must be a whole number, got {shown(position)}.")
    at = position + n if position < 0 else position
    if not 0 <= at < n:
        raise InputError(f"Position {shown(position)} is outside the text (0 to {n - 1}).")
    return at


def first_token(
    lm: LoadedModel,
    enc: Encoded,
    wanted,
    top1: int,
    role: str,
    notes: list[str],
    what: str = "a layer predicts one token at a time, so the view follows",
) -> tuple[int, str]:
    """The token id and text a target or foil is followed by: its first token; a note says
    so when it has more."""
    found = targets.resolve(lm, enc, wanted, top1, role)
    first = found.ids[0]
    text = token_text(lm.tokenizer, first)
    if len(found.ids) > 1:
        notes.append(
            MULTI_TOKEN.format(
                role=role.capitalize(), text=found.text, n=len(found.ids), what=what, first=text
            )
        )
    return first, text
