"""Passages to retrieve from: typed text (one per paragraph), a .txt or .jsonl file, or a
named corpus shipped with the package (`example`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from whyword.errors import InputError, shown
from whyword.models.encoding import has_surrogate

ASSETS = Path(__file__).resolve().parents[1] / "assets"
CORPORA = {"example": ASSETS / "evidence_corpus.txt"}  # name -> file (package data)
MAX_PASSAGES = 2000  # a corpus is embedded in one go; more belongs in a real index
MAX_PASSAGE_CHARS = 4000
_BLANK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Corpus:
    """Passages in order; `name` says where they came from ("typed", a file, "example")."""

    name: str
    passages: tuple[str, ...]

    def __post_init__(self) -> None:
        assert self.passages and all(p.strip() for p in self.passages), "non-empty passages"


def split_passages(text: str) -> tuple[str, ...]:
    """One passage per paragraph (blank lines separate them). Text without a blank line but with
    several lines gives one passage per line."""
    text = str(text or "").replace("\r\n", "\n").replace("\x00", "")
    parts = _BLANK.split(text) if _BLANK.search(text) else text.split("\n")
    return tuple(" ".join(p.split()) for p in parts if p.strip())


def from_text(text: str, name: str = "typed") -> Corpus:
    passages = split_passages(text)
    if not passages:
        raise InputError(
            "Give at least one passage (one per paragraph) or pick the example corpus."
        )
    return _checked(Corpus(name, passages))


def read_file(path: str | Path) -> Corpus:
    """A .txt file (one passage per paragraph) or a .jsonl file (one object with "text" a line)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"There is no passages file {shown(str(path))}.")
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() != ".jsonl":
        return from_text(raw, name=path.name)
    passages = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{path.name} line {number} is not JSON.") from None
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise InputError(f'{path.name} line {number} has no "text" string.')
        passages.append(" ".join(text.split()))
    if not passages:
        raise InputError(f"{path.name} holds no passages.")
    return _checked(Corpus(path.name, tuple(passages)))


def named(name: str) -> Corpus:
    """A corpus shipped with WhyWord, by name."""
    if name not in CORPORA:
        raise InputError(f"Unknown corpus {shown(name)}. Choose from: {', '.join(CORPORA)}.")
    return from_text(CORPORA[name].read_text(encoding="utf-8"), name=name)


def resolve(passages=None, corpus: str | Corpus | None = None) -> Corpus:
    """`passages` (a string, a list of strings, or a Corpus) or a named `corpus`; not both."""
    if isinstance(passages, Corpus):
        return passages
    if passages is not None and corpus is not None:
        raise InputError("Give passages or a corpus name, not both.")
    if isinstance(corpus, Corpus):
        return corpus
    if corpus is not None:
        return named(corpus)
    if passages is None:
        raise InputError("Give passages (one per paragraph) or a corpus name such as 'example'.")
    if isinstance(passages, str):
        return from_text(passages)
    items = [" ".join(str(p).split()) for p in passages]
    if not items or not all(items):
        raise InputError("Every passage must hold some text.")
    return _checked(Corpus("typed", tuple(items)))


def _checked(corpus: Corpus) -> Corpus:
    if any(has_surrogate(p) for p in corpus.passages):
        raise InputError(
            "The passages contain an invalid character (an unpaired UTF-16 surrogate); remove it."
        )
    if len(corpus.passages) > MAX_PASSAGES:
        raise InputError(
            f"The corpus has {len(corpus.passages)} passages; at most {MAX_PASSAGES} fit here."
        )
    longest = max(len(p) for p in corpus.passages)
    if longest > MAX_PASSAGE_CHARS:
        raise InputError(
            f"A passage is {longest} characters long; at most {MAX_PASSAGE_CHARS} fit here. "
            "Split it into paragraphs."
        )
    return corpus
