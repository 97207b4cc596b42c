"""Token scores gathered into words, sentences or character spans the user chooses.

Where a token is comes from the tokenizer's own offset mapping (see `whyword.text.offsets`), never
from `Ġ` / `##` markers. Which characters form a unit is a rule on the text:

- `token`: every token is its own segment.
- `word`: a maximal run of non-space characters; punctuation at its edges (Unicode category P*)
  is split off as a word of its own, so `Paris.` is `Paris` + `.`, while `don't` or `U.S` stay
  whole. Emoji are symbols, not punctuation: `emojis🙂🙂` is one word.
- `sentence`: text up to `.`, `!`, `?` or `…` (closing quotes/brackets included) followed by
  whitespace or the end, or up to a blank line. Abbreviations such as `Dr.` end a sentence too.
- `spans`: the character spans `[(start, end), ...]` given by the user; the text between them
  forms segments of its own.

A token belongs to the units its characters overlap; a token that overlaps several units joins
them into one segment (its score cannot be divided), so byte pieces of one emoji, which share
characters, always end up together. A token made only of whitespace (GPT-2's lone `Ġ`, a newline)
joins the segment that follows it (where the tokenizer itself puts a leading space), else the one
before it. A typed `[MASK]` / `<mask>` is a word of its own. Special tokens with no characters in
the text (BOS, [CLS], [SEP], a mask a multi-token target adds) and tokens that cannot be located
are segments of their own, labelled as tokens are.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from whyword.errors import InputError, shown
from whyword.text.offsets import MASK_LITERALS, locate
from whyword.text.tokens import label as token_label
from whyword.text.tokens import visible

LEVELS = ("token", "word", "sentence", "spans")
RULES = (
    "Segment scores: signed methods (input × gradient, integrated gradients, occlusion) are "
    "summed over the segment's tokens, so the total over segments equals the total over "
    "tokens. Saliency (the L2 norm of the gradient at each token's embedding) combines them as "
    "the L2 norm √(Σ score²): the norm of the gradient with respect to the segment's embeddings "
    "taken together. Tokens not in a row's context are left out; a segment with none of its "
    "tokens in context has no score. Words come from the tokenizer's character offsets; "
    "punctuation at a word's edges counts as a word of its own; a token shared by two words "
    "joins them."
)
_WORD = re.compile(r"\[MASK\]|<mask>|(?:(?!\[MASK\]|<mask>)\S)+")  # a typed mask: a word
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$)|\n[ \t]*\n")


@dataclass(frozen=True)
class Segment:
    """Consecutive tokens shown and scored as one unit."""

    label: str  # the text as typed (specials: the token's readable label)
    start: int | None  # character offsets into the text; None for tokens not in it (BOS, [CLS])
    end: int | None
    tokens: tuple[int, ...]  # indices of the tokens it covers, consecutive

    def __post_init__(self) -> None:
        assert self.tokens, "a segment covers at least one token"
        assert (self.start is None) == (self.end is None)
        assert self.start is None or 0 <= self.start <= self.end


@dataclass(frozen=True)
class Segmentation:
    """A partition of the tokens 0..T-1 into segments, in token order."""

    level: str  # one of LEVELS
    segments: tuple[Segment, ...]
    unaligned: tuple[int, ...] = ()  # tokens whose characters could not be found (own segment)

    def __post_init__(self) -> None:
        assert self.level in LEVELS, self.level
        flat = [t for s in self.segments for t in s.tokens]
        assert flat == list(range(len(flat))), "every token in exactly one segment, in order"

    @property
    def n_tokens(self) -> int:
        return sum(len(s.tokens) for s in self.segments)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.segments)

    def segment_of(self) -> tuple[int, ...]:
        """For each token, the index of its segment."""
        return tuple(k for k, s in enumerate(self.segments) for _ in s.tokens)


def segment(
    tokenizer,
    text: str,
    ids: Sequence[int],
    level: str = "word",
    spans: Sequence[tuple[int, int]] | None = None,
) -> Segmentation:
    """Group the tokens `ids` (read from `text`) into segments; `spans` implies level "spans".

    `text` is the text the ids were made from (`Encoded.text`; a typed `[MASK]` may stand where
    a RoBERTa-style model reads `<mask>`). Tokens that cannot be matched to the text become
    segments of their own; this never fails on a tokenization mismatch.
    """
    if spans is not None and level in ("word", "spans"):
        level = "spans"
    elif spans is not None:
        raise InputError(f"Character spans go with level 'spans', not {shown(level)}.")
    if level not in LEVELS:
        raise InputError(f"Unknown level {shown(level)}: choose one of {', '.join(LEVELS)}.")
    if level == "spans" and spans is None:
        raise InputError("Level 'spans' needs the character spans: [(start, end), ...].")
    ids = [int(i) for i in ids]
    where = locate(tokenizer, text, ids)
    if level == "token":
        segments = tuple(
            Segment(token_label(tokenizer, i), *(where.spans[k] or (None, None)), (k,))
            for k, i in enumerate(ids)
        )
        return Segmentation(level, segments, where.unaligned)
    units = _units(text, level, spans)
    keys = _unit_keys(where, units)
    groups: list[list[int]] = []
    group_units: set[int] = set()
    for k, key in enumerate(keys):
        if key is not None and groups and group_units & key:
            groups[-1].append(k)
            group_units |= key
        else:
            groups.append([k])
            group_units = set(key or ())
    segments = tuple(_make(tokenizer, text, ids, where.spans, g, keys[g[0]]) for g in groups)
    return Segmentation(level, segments, where.unaligned)


def aggregate(scores, segmentation: Segmentation, signed: bool) -> np.ndarray:
    """Token scores (R, T) or (T,) → segment scores (R, S) or (S,); NaN = not in context.

    Signed: the sum of the in-context token scores. Unsigned (saliency norms): their L2 norm.
    A segment whose tokens are all NaN is NaN.
    """
    values = np.asarray(scores, dtype=np.float64)
    one_row = values.ndim == 1
    values = np.atleast_2d(values)  # (R, T)
    if values.ndim != 2 or values.shape[1] != segmentation.n_tokens:
        raise ValueError(
            f"scores of shape {np.shape(scores)} do not match {segmentation.n_tokens} tokens"
        )
    if not signed and bool(np.any(values < 0)):
        raise ValueError("unsigned scores (norms) cannot be negative")
    if not segmentation.segments:
        return np.zeros(values.shape[:1] + (0,))[0 if one_row else slice(None)]  # (R, 0)
    present = ~np.isnan(values)  # (R, T)
    terms = np.where(present, values if signed else values**2, 0.0)  # (R, T)
    starts = [s.tokens[0] for s in segmentation.segments]
    sums = np.add.reduceat(terms, starts, axis=1)  # (R, S)
    counts = np.add.reduceat(present.astype(np.int64), starts, axis=1)  # (R, S)
    out = np.where(counts > 0, sums if signed else np.sqrt(sums), np.nan)  # (R, S)
    return out[0] if one_row else out


def _units(text: str, level: str, spans) -> list[tuple[int, int]]:
    """The character intervals (sorted, disjoint) that make segments at `level`."""
    if level == "word":
        out = []
        for m in _WORD.finditer(text):
            start, end = m.span()
            if m.group() in MASK_LITERALS:
                out.append((start, end))
                continue
            a, b = start, end
            while a < end and _punct(text[a]):
                a += 1
            while b > a and _punct(text[b - 1]):
                b -= 1
            if a == end:  # all punctuation (`...`, `—`): one word
                out.append((start, end))
                continue
            out += [(x, y) for x, y in ((start, a), (a, b), (b, end)) if y > x]
        return out
    if level == "sentence":
        out, cursor = [], 0
        for m in _SENTENCE_END.finditer(text):
            end = m.start() if m.group().startswith("\n") else m.end()
            out += _stripped(text, cursor, end)
            cursor = m.end()
        return out + _stripped(text, cursor, len(text))
    return _user_units(text, spans)


def _user_units(text: str, spans) -> list[tuple[int, int]]:
    try:
        given = sorted((int(a), int(b)) for a, b in spans)
    except (TypeError, ValueError):
        raise InputError("Spans must be pairs of character offsets: [(start, end), ...].") from None
    out, cursor = [], 0
    for a, b in given:
        if not 0 <= a < b <= len(text):
            raise InputError(
                f"Span ({shown(a)}, {shown(b)}) is not inside the text of {len(text)} characters."
            )
        if a < cursor:
            raise InputError(
                f"Span ({shown(a)}, {shown(b)}) overlaps another span; spans must be disjoint."
            )
        out += _stripped(text, cursor, a) + [(a, b)]  # the text between spans: its own segment
        cursor = b
    return out + _stripped(text, cursor, len(text))


def _unit_keys(where, units) -> list[frozenset[int] | None]:
    """Per token, the units it overlaps; None: a segment of its own."""
    starts = [a for a, _ in units]
    keys: list[frozenset[int] | None] = []
    loose = []
    for k, span in enumerate(where.spans):
        if span is None:
            keys.append(None)
            continue
        a, b = span
        hit = []
        j = bisect_right(starts, b - 1) - 1
        while j >= 0 and units[j][1] > a and a < b:
            hit.append(j)
            j -= 1
        keys.append(frozenset(hit))
        if not hit:
            loose.append(k)
    for k in loose:  # whitespace only: join the next located token's units, else the previous
        keys[k] = _neighbour(keys, k, +1) or _neighbour(keys, k, -1)
    return keys


def _neighbour(keys, k: int, step: int) -> frozenset[int] | None:
    j = k + step
    while 0 <= j < len(keys) and keys[j] is not None and not keys[j]:
        j += step  # over other whitespace tokens
    if 0 <= j < len(keys) and keys[j]:
        return keys[j]
    return None


def _make(tokenizer, text, ids, spans, group: list[int], key) -> Segment:
    located = [spans[k] for k in group if spans[k] is not None]
    if key is None and not (located and located[0][0] < located[0][1]):
        return Segment(token_label(tokenizer, ids[group[0]]), None, None, tuple(group))
    a = min(s for s, _ in located)
    b = max(e for _, e in located)
    inner = _stripped(text, a, b)
    if not inner:  # whitespace only (a newline with no word to join): show it visibly
        return Segment(visible(text[a:b]), a, b, tuple(group))
    (a, _), (_, b) = inner[0], inner[-1]
    return Segment(text[a:b], a, b, tuple(group))


def _stripped(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """[(a', b')] for text[a:b] without surrounding whitespace; [] when only whitespace."""
    piece = text[a:b]
    core = piece.strip()
    if not core:
        return []
    left = a + len(piece) - len(piece.lstrip())
    return [(left, left + len(core))]


def _punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def segmentation_from_dict(data: dict) -> Segmentation:
    """Rebuild a Segmentation from `dataclasses.asdict` output (JSON round trip)."""
    segments = tuple(
        Segment(s["label"], s["start"], s["end"], tuple(s["tokens"])) for s in data["segments"]
    )
    return Segmentation(data["level"], segments, tuple(data.get("unaligned", ())))
