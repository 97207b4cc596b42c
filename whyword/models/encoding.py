"""Text to the token ids a model reads, with mask slots (masked LMs) or an infill gap (causal LMs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from whyword.errors import InputError, WhyWordError
from whyword.models.load import LoadedModel
from whyword.text.offsets import MASK_LITERALS  # what users may type; mapped to the mask token

Mode = Literal["next_token", "masked", "infill"]
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Encoded:
    """The attributed input sequence and where its prediction slots are."""

    text: str
    ids: tuple[int, ...]  # token ids of the input (specials included)
    mode: Mode
    mask_positions: tuple[int, ...] = ()  # masked: index of each mask token in `ids`
    gap: int | None = None  # infill: index in `ids` where a candidate is inserted

    def __post_init__(self) -> None:
        assert all(0 <= p < len(self.ids) for p in self.mask_positions)
        assert self.gap is None or 0 < self.gap <= len(self.ids)

    @property
    def slots(self) -> int:
        """How many predictions the text asks for (one per mask; one otherwise)."""
        return len(self.mask_positions) if self.mode == "masked" else 1

    def check_slot(self, mask_index: int) -> None:
        """Refuse a mask number (0-based) the text does not have, in one sentence."""
        if not 0 <= mask_index < self.slots:
            raise InputError(
                f"There is no mask number {mask_index + 1}: the text has {self.slots}."
            )


def has_mask(text: str) -> bool:
    return any(literal in text for literal in MASK_LITERALS)


def encode_each(
    lm: LoadedModel, texts: list[str], max_tokens: int | None = None
) -> tuple[dict[int, Encoded], dict[int, WhyWordError]]:
    """Several users' texts: each encoded, or the one-sentence error it gets (the others go
    on); both by the text's index."""
    encs: dict[int, Encoded] = {}
    errors: dict[int, WhyWordError] = {}
    for i, text in enumerate(texts):
        try:
            encs[i] = encode(lm, text, max_tokens)
        except WhyWordError as error:
            errors[i] = error
    return encs, errors


def encode(lm: LoadedModel, text: str, max_tokens: int | None = None) -> Encoded:
    """Tokenize `text` for `lm`; refuse (never silently cut) input longer than the limit."""
    text = clean_text(text)
    if lm.kind == "masked":
        encoded = _encode_masked(lm, text)
    elif has_mask(text):
        encoded = _encode_infill(lm, text)
    else:
        ids = lm.tokenizer(text, add_special_tokens=True)["input_ids"]
        encoded = Encoded(text=text, ids=tuple(ids), mode="next_token")
    if not encoded.ids:
        raise InputError("The text gives no tokens for this model: type a sentence.")
    limit = min(max_tokens or lm.max_tokens, lm.max_tokens)
    if len(encoded.ids) > limit:
        raise InputError(
            f"The text is {len(encoded.ids)} tokens long; at most {limit} can be explained here. "
            "Shorten it."
        )
    return encoded


def clean_text(text: object) -> str:
    """The text to tokenize: a non-empty string, NUL characters dropped, valid Unicode only."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError(f"The text must be a string, not {type(text).__name__}.")
    text = text.replace("\x00", "")  # NUL: dropped (tokenizers and C code treat it as an end)
    if not text.strip():
        raise InputError("The text is empty: type a sentence to see what the model predicts next.")
    if has_surrogate(text):
        raise InputError(
            "The text contains an invalid character (an unpaired UTF-16 surrogate); remove it."
        )
    return text


def has_surrogate(text: str) -> bool:
    """True when `text` holds a lone surrogate (possible from JSON "\\ud800"): not encodable."""
    return _SURROGATE.search(text) is not None


def _encode_masked(lm: LoadedModel, text: str) -> Encoded:
    mask_token = lm.tokenizer.mask_token
    if mask_token is None:
        raise InputError(f"Model '{lm.name}' has no mask token.")
    for literal in MASK_LITERALS:
        text = text.replace(literal, mask_token)
    ids = lm.tokenizer(text, add_special_tokens=True)["input_ids"]
    mask_id = lm.tokenizer.mask_token_id
    positions = tuple(i for i, token_id in enumerate(ids) if token_id == mask_id)
    if not positions:
        raise InputError(
            f"'{lm.name}' is a masked language model: put [MASK] where the word to predict goes."
        )
    return Encoded(text=text, ids=tuple(ids), mode="masked", mask_positions=positions)


def _encode_infill(lm: LoadedModel, text: str) -> Encoded:
    literal = next(lit for lit in MASK_LITERALS if lit in text)
    if sum(text.count(lit) for lit in MASK_LITERALS) > 1:
        raise InputError(
            "A next-token model can fill one [MASK] at a time (infill scoring); "
            "remove the others or choose a masked model such as bert-base-uncased."
        )
    left, right = text.split(literal)
    left = left.rstrip()  # the candidate brings its own leading space
    tokenizer = lm.tokenizer
    left_ids = tokenizer(left, add_special_tokens=True)["input_ids"] if left else []
    if not left_ids:
        bos = (
            tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        )
        if bos is None:
            raise InputError("Put some words before [MASK]: this model has no start token.")
        left_ids = [bos]
    right_ids = tokenizer(right, add_special_tokens=False)["input_ids"] if right else []
    ids = tuple(left_ids) + tuple(right_ids)
    return Encoded(text=text, ids=ids, mode="infill", gap=len(left_ids))
