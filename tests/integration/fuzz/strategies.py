"""What the fuzz sends: Hypothesis strategies for texts, names, numbers and argument lists."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from whyword.models.default import ALIASES

RTL = "مرحبا بالعالم שלום \u202eevil\u202c"
COMBINING = "cafe\u0301 Z\u0336\u0335a\u0337l\u0338g\u0334o"
SPECIMENS = (
    "",
    " ",
    "\x00",
    "The\x00 capital",
    "\ud800",
    "a \udfff b",
    RTL,
    COMBINING,
    "👩‍👩‍👧 🙂",
    "[MASK]",
    "the [MASK] is [MASK]",
    "<script>alert(1)</script>",
    "\u200b\ufeff",
)
LONG = st.sampled_from([("x", 20_000), ("The capital of France is ", 800), ("y", 20_001)]).map(
    lambda piece: piece[0] * piece[1]  # 20,000 characters and one more (made here: short reprs)
)
# every code point, surrogates included (Hypothesis leaves them out unless asked)
CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
TEXT = st.one_of(
    st.text(CHAR, max_size=30),
    st.sampled_from(SPECIMENS),
    LONG,
    st.builds(
        lambda s, n: (s or "z") * n, st.text(CHAR, min_size=1, max_size=3), st.integers(1, 7000)
    ),
)
NUMBER_TEXT = st.sampled_from(
    ["3", " 7 ", "-1", "0", "1e400", "-inf", "nan", "3.5", "three", "9" * 300, "9" * 5000, "0x10"]
)
EDGES = (0, -1, -(10**9), 10**9, 2**31, 2**63, 10**300)
NUMBER = st.one_of(
    st.integers(-5, 12),
    st.sampled_from(EDGES),
    st.just(5000).map(lambda digits: 10**digits),  # str() refuses it (Hypothesis prints this)
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 2.5, 1e308]),
    NUMBER_TEXT,
)
WRONG = st.one_of(
    st.none(), st.booleans(), st.just([1, "a"]), st.just({"a": 1}), st.just(b"bytes"), st.just(())
)


def anything(usual) -> st.SearchStrategy:
    """Mostly the usual kind of value; sometimes a number, a text or a wrong type."""
    return st.one_of(usual, usual, usual, NUMBER, TEXT, WRONG)


def unknown_names() -> st.SearchStrategy:
    """Names no registry holds, never blank or "default" (that loads the real default model,
    which fast tests must not) and never an existing path."""

    return st.one_of(
        st.sampled_from(["magic", "nobody/no-such-model", "ZERO", "\x00", "id:3"]),
        st.just(5000).map(lambda n: "a" * n),
        st.text(CHAR, min_size=1, max_size=12),
    ).filter(safe)


def safe(name: Any) -> bool:
    """A model argument that does not load the real default model (None, blank, "default",
    "SmolLM2" in any case) or a folder that happens to exist here."""
    if name is None or (isinstance(name, str) and name.strip().lower() in ALIASES):
        return False
    try:
        return not (isinstance(name, str) and Path(name).expanduser().exists())
    except (OSError, ValueError):
        return True


def mostly(usual: st.SearchStrategy, odd: st.SearchStrategy, every: int = 4):
    """`usual`, and `odd` one draw in `every` (chosen by sampled_from, whose first element is
    Hypothesis's simplest: one_of and integers() lean to their ends)."""
    return st.tuples(st.sampled_from(range(every)), usual, odd).map(
        lambda d: d[2] if d[0] == every - 1 else d[1]
    )


def model(tiny: str) -> st.SearchStrategy:
    """The tiny model mostly; a number, a wrong type or an unknown name sometimes."""
    return mostly(
        st.just(tiny), st.one_of(NUMBER.filter(safe), WRONG.filter(safe), unknown_names())
    )


def arguments(call: st.SearchStrategy) -> st.SearchStrategy:
    """(args, kwargs) as drawn, or with the first argument missing, ten too many, or an unknown
    one (made in a map: Hypothesis never prints a 20,000-character value in a strategy)."""
    return st.tuples(call, st.sampled_from(range(10))).map(lambda drawn: _variant(*drawn))


def _variant(call: tuple[tuple, dict], which: int) -> tuple[tuple, dict]:
    args, kwargs = call
    if which == 7:
        return (), kwargs  # the required first argument missing
    if which == 8:
        return args + ("extra",) * 10, kwargs
    if which == 9:
        return args, {**kwargs, "unknown\x00" * 9: 1}
    return args, kwargs


# --- each route's calls: (args, kwargs), broken by `arguments` ---------------------------------

SMALL = st.integers(1, 6)  # in-range values that keep a tiny model's work small
METHODS = st.sampled_from(["saliency", "input_x_gradient", "occlusion", "saliency,occlusion"])
QUERY = "The capital of France is [MASK]."
PASSAGES = st.sampled_from(["", "Paris is in France.\n\nRome is in Italy.", "x\n" * 3000])


def calls(route: str, causal: str, masked: str) -> st.SearchStrategy:
    """The calls of `route` (explain, predict, positions, generate, evidence, layers,
    attention, counterfactuals, chat) on these models (chat: a chat model, then one without
    a template):
    every argument a usual value, then at most one of them replaced by an odd one (a number, a
    text, a wrong type), then the arguments themselves perhaps broken (`arguments`)."""
    sizes = st.sampled_from([1, 5, 5, 100, 101])
    options = {
        "explain": {
            "model": model(causal),
            "target": st.sampled_from(["", "", "", " capital", "id:3", "zz", "id:-1"]),
            "foil": st.sampled_from(["", "", "", " of", "id:10000000"]),
            "methods": mostly(METHODS, unknown_names()),
            "steps": SMALL,
            "baseline": st.sampled_from(["zero", "zero", "zero", "pad", "mask", "evil"]),
            "k": st.sampled_from([1, 3, 5, 10, 100, 101]),
            "mask": st.sampled_from([0, 0, 0, 1]),
        },
        "predict": {"model": mostly(model(causal), st.just(masked)), "k": sizes},
        "positions": {"model": mostly(model(causal), st.just(masked)), "k": sizes},
        "generate": {
            "model": model(causal),
            "max_new_tokens": st.sampled_from([1, 5, 5, 50, 51]),
            "strategy": st.sampled_from(["sample", "sample", "greedy", "greedy", "beam"]),
            "temperature": st.sampled_from([0.05, 1.0, 1.0, 3.0, 100.0, 101.0]),
            "top_k": st.sampled_from([0, 1, 40]),
            "top_p": st.sampled_from([0.05, 0.9, 1.0]),
            "seed": st.sampled_from([0, 7, 2**31 - 1, 2**31]),
        },
        "layers": {
            "model": mostly(model(causal), st.just(masked)),
            "target": st.sampled_from(["", "", " capital", "id:3", "id:-1"]),
            "foil": st.sampled_from(["", "", " of", "id:10000000"]),
            "k": st.sampled_from([1, 5, 5, 20, 21]),
            "check": st.sampled_from([0, 2, 2, 50, 51]),
        },
        "counterfactuals": {
            "model": mostly(model(causal), st.just(masked)),
            "target": st.sampled_from(["", "", " capital", "id:3", "id:-1"]),
            "foil": st.sampled_from(["", "", " of", "id:10000000"]),
        },
        "attention": {
            "layer": st.sampled_from([1, 1, 2, 0, 3]),
            "head": st.sampled_from([0, 0, 1, -1, 99]),
            "model": mostly(model(causal), st.just(masked)),
        },
        "chat": {
            "system": st.sampled_from(["", "", "Be brief.", "<script>x</script>"]),
            "model": mostly(model(causal), st.just(masked)),  # masked: a model with no template
            "reply": st.sampled_from(["", "", " Paris.", "   "]),
            "span": st.sampled_from(["", "", "0:1", "Paris", "5:1", "0:999", "zz"]),
            "foil": st.sampled_from(["", "", " Rome", " "]),
            "methods": mostly(st.sampled_from(["saliency", "saliency,occlusion"]), unknown_names()),
            "max_new_tokens": st.sampled_from([1, 3, 3, 64, 65, 0]),
            "strategy": st.sampled_from(["greedy", "greedy", "sample", "beam"]),
            "seed": st.sampled_from([0, 7, -1]),
        },
        "evidence": {
            "passages": PASSAGES,
            "corpus": st.sampled_from(["example", "example", "example", "", "evil"]),
            "k": st.sampled_from([1, 2, 2, 20, 21]),
            "temperature": st.sampled_from([0.001, 0.1, 0.1, 100.0, 0.0]),
            "model": model(causal),
            "target": st.sampled_from(["", "", " Paris", "id:5"]),
        },
    }[route]
    sentence = st.sampled_from([QUERY, "The capital of France is", "the [MASK] is"])
    first = mostly(sentence, TEXT, every=3)
    odd = st.one_of(NUMBER, TEXT, WRONG)
    # < 0: none; 0: the first; i: option i (sampled_from: evenly, where integers() favour ends)
    broken = st.sampled_from(range(-2 * len(options), len(options) + 1))
    drawn = st.tuples(first, st.fixed_dictionaries(options), broken, odd)
    return arguments(drawn.map(lambda d: _one_odd(*d)))


def _one_odd(first: Any, options: dict, which: int, odd: Any) -> tuple[tuple, dict]:
    if which == 0:
        return (odd,), options
    if which > 0 and (list(options)[which - 1] != "model" or safe(odd)):
        return (first,), {**options, list(options)[which - 1]: odd}
    return (first,), options
