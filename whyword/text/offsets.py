"""Where each attributed token sits in the text: character offsets from the tokenizer itself.

The ids a method attributes are not always what `tokenizer(text)` returns: a masked model reads
its own mask token where the user typed `[MASK]` or `<mask>`, an infill prompt drops the
`[MASK]` literal and tokenizes the two sides apart, a multi-token masked target widens one mask
into several. So the text is re-tokenized with `return_offsets_mapping` (fast tokenizers) and
matched to the ids (difflib); a block that does not match is re-tokenized on its own stretch of
text, then tried as its tokens' decoded texts laid end to end (a non-canonical split such as
` ca` + `pital`); masks a multi-token target adds stand where the typed mask is; a token that
still does not match gets no offsets and is reported as unaligned. Nothing here guesses from `Ġ`, `▁` or `##` markers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from whyword.text.tokens import special_ids

MASK_LITERALS = ("[MASK]", "<mask>")  # what users may type; encoding maps them to the mask token
Span = tuple[int, int]


@dataclass(frozen=True)
class Located:
    """Per token: its character span in the text (None: no characters there) and its kind."""

    spans: tuple[Span | None, ...]  # (start, end) into the text; may be empty (start == end)
    special: tuple[bool, ...]  # the token id is one of the tokenizer's special ids
    unaligned: tuple[int, ...]  # non-special tokens whose characters could not be found

    def __post_init__(self) -> None:
        assert len(self.spans) == len(self.special)
        assert all(s is None or 0 <= s[0] <= s[1] for s in self.spans)
        assert all(self.spans[i] is None and not self.special[i] for i in self.unaligned)


def locate(tokenizer, text: str, ids: Sequence[int]) -> Located:
    """Character spans of `ids` in `text`; never raises on a mismatch (tokens stay unlocated)."""
    ids = [int(i) for i in ids]
    specials = special_ids(tokenizer)
    best = None
    for norm, starts, ends in _readings(tokenizer, text):
        spans = _match(tokenizer, norm, ids, specials)
        found = sum(s is not None for s in spans)
        if best is None or found > best[0]:
            best = (found, spans, starts, ends)
        if found == len(ids):
            break
    _, spans, starts, ends = best
    located: list[Span | None] = []
    for token_id, span in zip(ids, spans, strict=True):
        if span is None or (token_id in specials and span[0] == span[1]):
            located.append(None)  # BOS / [CLS] / [SEP]: no characters in the text
        else:
            located.append(_back(span, starts, ends, len(text)))
    special = tuple(i in specials for i in ids)
    unaligned = tuple(k for k, s in enumerate(located) if s is None and not special[k])
    return Located(spans=tuple(located), special=special, unaligned=unaligned)


def _match(tokenizer, norm: str, ids: list[int], specials) -> list[Span | None]:
    """Spans of `ids` in `norm`: the whole text re-tokenized and aligned, then unmatched blocks."""
    spans: list[Span | None] = [None] * len(ids)
    ref = _tokenize(tokenizer, norm, with_specials=True)
    if ref is None:
        return spans
    ref_ids = [i for i, _ in ref]
    if ref_ids == ids:
        return [span for _, span in ref]
    blocks = []
    matcher = SequenceMatcher(None, ids, ref_ids, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            spans[i1:i2] = [span for _, span in ref[j1 : j1 + i2 - i1]]
        elif i2 > i1:
            blocks.append((i1, i2))
    for i1, i2 in blocks:
        _fill(tokenizer, norm, ids, specials, spans, i1, i2)
    _widen_masks(tokenizer, ids, spans)
    return spans


def _widen_masks(tokenizer, ids: list[int], spans: list[Span | None]) -> None:
    """Masks a multi-token target added next to a typed mask stand at that mask's characters."""
    mask_id = getattr(tokenizer, "mask_token_id", None)
    if mask_id is None:
        return
    for order, step in ((range(1, len(ids)), -1), (range(len(ids) - 2, -1, -1), +1)):
        for k in order:
            if ids[k] == mask_id and spans[k] is None and ids[k + step] == mask_id:
                spans[k] = spans[k + step]


def _tokenize(tokenizer, text: str, with_specials: bool) -> list[tuple[int, Span]] | None:
    """(id, span) pairs of `text`; None when the tokenizer gives no offsets (slow tokenizers)."""
    try:
        enc = tokenizer(text, add_special_tokens=with_specials, return_offsets_mapping=True)
    except (NotImplementedError, ValueError, TypeError, KeyError):
        return None
    pairs = []
    for token_id, (start, end) in zip(enc["input_ids"], enc["offset_mapping"], strict=True):
        if not 0 <= start <= end <= len(text):
            return None
        pairs.append((int(token_id), (int(start), int(end))))
    return pairs


def _fill(tokenizer, norm: str, ids, specials, spans, i1: int, i2: int) -> None:
    """Locate the unmatched ids[i1:i2] by re-tokenizing the stretch of text between neighbours."""
    lo = max((s[1] for s in spans[:i1] if s is not None and s[0] < s[1]), default=0)
    hi = min((s[0] for s in spans[i2:] if s is not None and s[0] < s[1]), default=len(norm))
    if hi < lo:
        return
    wanted = [k for k in range(i1, i2) if ids[k] not in specials]
    for pieces in (
        _tokenize_at(tokenizer, norm, [(lo, hi)]),
        _decoded_pieces(tokenizer, norm, [ids[k] for k in wanted], lo, hi),
    ):
        if pieces is not None and [i for i, _ in pieces] == [ids[k] for k in wanted]:
            for k, (_, span) in zip(wanted, pieces, strict=True):
                spans[k] = span
            return


def _decoded_pieces(tokenizer, norm: str, ids, lo: int, hi: int) -> list[tuple[int, Span]] | None:
    """A non-canonical split (` ca` + `pital`): each token's decoded text, laid end to end."""
    pieces = [tokenizer.decode([i]) for i in ids]
    region = norm[lo:hi]
    if not ids or "".join(pieces) not in (region, region.rstrip()):
        return None  # byte pieces of one character decode to U+FFFD and never match: unaligned
    out, start = [], lo
    for i, piece in zip(ids, pieces, strict=True):
        out.append((i, (start, start + len(piece))))
        start += len(piece)
    return out


def _tokenize_at(tokenizer, norm: str, parts) -> list[tuple[int, Span]] | None:
    out = []
    for a, b in parts:
        if b <= a:
            continue
        pairs = _tokenize(tokenizer, norm[a:b], with_specials=False)
        if pairs is None:
            return None
        out += [(i, (a + s, a + e)) for i, (s, e) in pairs]
    return out


def _readings(tokenizer, text: str):
    """The text as typed, then (if it differs) with typed mask literals replaced by the model's
    mask token as masked encoding does, with each new character's start and end in the text."""
    yield text, None, None
    mask = getattr(tokenizer, "mask_token", None)
    others = [m for m in MASK_LITERALS if m != mask and m in text]
    if not isinstance(mask, str) or not others:
        return
    pattern = re.compile("|".join(re.escape(m) for m in others))
    pieces, starts, ends, cursor = [], [], [], 0
    for m in pattern.finditer(text):
        pieces += [text[cursor : m.start()], mask]
        starts += list(range(cursor, m.start())) + [m.start()] * len(mask)
        ends += list(range(cursor + 1, m.start() + 1)) + [m.end()] * len(mask)
        cursor = m.end()
    pieces.append(text[cursor:])
    starts += list(range(cursor, len(text)))
    ends += list(range(cursor + 1, len(text) + 1))
    yield "".join(pieces), starts, ends


def _back(span: Span, starts, ends, length: int) -> Span:
    """A span of the normalised text as a span of the text the user typed."""
    if starts is None:
        return span
    a, b = span
    if a == b:
        pos = starts[a] if a < len(starts) else length
        return (pos, pos)
    return (starts[a], ends[b - 1])
