"""The bad and odd inputs, one table: each case's text, model, target and options, and the message
it must end in or the check its result must pass; how a case runs through the library and as
the page's query."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import whyword as ww
from tests.tolerances import TINY_FP32, assert_close
from whyword.results.explanation import Explanation

SAME: Any = object()  # the app gives the same answer as the library
LONG_TEXT = "The capital of France is Paris. " * 625  # 20 000 characters, ~4 400 tokens on SmolLM2
SCRIPT = "<script>alert(1)</script> The capital of France is"
IMG = '<img src=x onerror="alert(1)"> The capital of France is'
ENTITIES = "Fish &amp; chips &lt;b&gt; &#x27;quoted&#x27; &nbsp; is"
MARKDOWN = "**bold** _it_ [link](javascript:alert(1)) `code` # The capital is"


@dataclass(frozen=True)
class Case:
    """One input; `lib`/`app` is the expected message fragment, or None for a result."""

    name: str
    text: Any
    model: str = "gpt2"  # a key of the `models` fixture, or a model name as typed
    target: int | str | None = None
    foil: int | str | None = None
    methods: tuple[str, ...] = ("saliency",)
    options: dict[str, Any] = field(default_factory=dict)
    lib: str | None = None
    app: Any = SAME
    check: Callable[[Explanation], None] | None = None


# --- checks of a correct result -------------------------------------------------------------


def no_raw_control_characters(e: Explanation) -> None:
    assert all(ch == " " or ord(ch) >= 32 for t in e.tokens for ch in t.label), [
        t.label for t in e.tokens
    ]


def nul_is_dropped(e: Explanation) -> None:
    assert all("\x00" not in t.text for t in e.tokens)
    no_raw_control_characters(e)


def masks(n: int) -> Callable[[Explanation], None]:
    def check(e: Explanation) -> None:
        assert e.mode == "masked" and len(e.predictions) == n

    return check


def mode(name: str) -> Callable[[Explanation], None]:
    def check(e: Explanation) -> None:
        assert e.mode == name

    return check


def top1(e: Explanation) -> None:
    assert e.target_ids == (e.predictions[0].candidates[0].token_id,)


def several_tokens(e: Explanation) -> None:
    assert len(e.target_ids) > 1


def smoothgrad_without_noise_is_input_x_gradient(e: Explanation) -> None:
    scores = {a.method: a.scores for a in e.attributions}
    # the mean of identical noiseless samples, computed as a batch of rows: another route
    assert_close(scores["smoothgrad"], scores["input_x_gradient"], TINY_FP32)


CASES = [
    # text
    Case("empty text", "", lib="The text is empty"),
    Case("whitespace only", "  \n\t  ", lib="The text is empty"),
    Case("NUL only", "\x00\x00", lib="The text is empty"),
    Case("not a string (bytes)", b"The capital", lib="must be a string"),
    Case("20 000 characters, tiny model", LONG_TEXT, lib="at most 128 can be explained"),
    Case(
        "20 000 characters, default model",
        LONG_TEXT,
        model="default",
        lib="at most 4096 can be explained",
        app="at most 1024 can be explained",
    ),
    Case("emoji", "I love 🙂🎉 and 👩‍👩‍👧 so", model="default"),
    Case("CJK", "北京是中国的首都，东京是", model="default"),
    Case("right-to-left", "مرحبا بالعالم שלום עולם", model="default"),
    Case("combining marks", "cafe\u0301 nai\u0308ve Zalgo z\u0336\u0335a"),
    Case("control characters", "a\x01b\x07c\x1b[31m red\x7f", check=no_raw_control_characters),
    Case("NUL inside", "The\x00 capital\x00 of", check=nul_is_dropped),
    Case("unpaired surrogate", "The capital \ud800 of", lib="invalid character"),
    Case("<script>", SCRIPT),
    Case("<img onerror>", IMG),
    Case("HTML entities", ENTITIES),
    Case("Markdown", MARKDOWN),
    Case("zero-width and BOM only", "\u200b\ufeff\u200d"),
    # masks
    Case("masked model, no mask", "The capital of France is Paris.", "bert", lib="put [MASK]"),
    Case("masked model, ten masks", " ".join(["[MASK]"] * 10), "bert", check=masks(10)),
    Case(
        "ten masks, the tenth explained",
        "the [MASK] " * 10,
        "bert",
        options={"mask_index": 9},
        check=masks(10),
    ),
    Case("mask first", "[MASK] is the capital of france.", "bert", check=masks(1)),
    Case("mask last", "the capital of france is [MASK]", "bert", check=masks(1)),
    Case("[MASK] glued to a word", "the capital is paris[MASK].", "bert", check=masks(1)),
    Case("<mask> glued (RoBERTa)", "The capital is Paris<mask>.", "roberta", check=masks(1)),
    Case(
        "mask number out of range",
        "the [MASK] is",
        "bert",
        options={"mask_index": 3},
        lib="There is no mask number 4",
    ),
    Case("two masks on a next-token model", "a [MASK] b [MASK]", lib="one [MASK] at a time"),
    Case("mask first on a next-token model", "[MASK] is the capital", check=mode("infill")),
    Case(
        "[MASK] glued, next-token model",
        "The capital of France is Paris[MASK].",
        check=mode("infill"),
    ),
    # targets and foils
    Case("target empty (top-1)", "The capital of", target="", check=top1),
    Case(
        "target whitespace",
        "The capital of",
        target="   ",
        lib="empty or only spaces",
        app=None,  # the page sends a blank target for top-1; spaces count as blank
        check=top1,
    ),
    Case(
        "target of several tokens", "The capital of", target="France is Paris", check=several_tokens
    ),
    Case(
        "target out of vocabulary",
        "the [MASK] is",
        "bert",
        target="北京",
        lib="not in this model's vocabulary",
    ),
    Case("target OOV on byte-level BPE", "The capital of", target="zqxj", check=several_tokens),
    Case("target id out of range", "The capital of", target=10**9, lib="out of range"),
    Case("target id 10^8, out of range", "The capital of", target=10**8, lib="out of range"),
    Case("target id negative", "The capital of", target=-1, lib="out of range"),
    Case("target longer than 200 characters", "The capital of", target="x" * 300, lib="too long"),
    Case(
        "foil equal to target",
        "The capital of",
        target=" France",
        foil=" France",
        lib="same as the target",
    ),
    Case(
        "foil equal to target, spelled without space",
        "The capital of",
        target="France",
        foil=" France",
        lib="same as the target",
    ),
    Case(
        "foil of another length in a mask",
        "the [MASK] is",
        "bert",
        target="the",
        foil="the capital",
        lib="same number of tokens",
    ),
    # numbers
    Case("k = 0", "The capital", options={"k": 0}, lib="k must be"),
    Case("k negative", "The capital", options={"k": -5}, lib="k must be"),
    Case(
        "k = 10^6",
        "The capital",
        options={"k": 10**6},
        lib="k must be between 1 and 1000",
        app="this server allows at most 100",
    ),
    Case(
        "IG steps = 0",
        "The capital",
        methods=("integrated_gradients",),
        options={"n_steps": 0},
        lib="n_steps must be between",
        app="IG steps must be at least 1",
    ),
    Case(
        "IG steps = 10^6",
        "The capital",
        methods=("integrated_gradients",),
        options={"n_steps": 10**6},
        lib="n_steps must be between 1 and 4096",
        app="IG steps is 1000000; this server allows at most 1024",
    ),
    Case(
        "SmoothGrad noise 0",
        "The capital of",
        methods=("smoothgrad", "input_x_gradient"),
        options={"noise": 0.0},
        check=smoothgrad_without_noise_is_input_x_gradient,
    ),
    Case(
        "SmoothGrad noise 10 (the largest)",
        "The capital of",
        methods=("smoothgrad",),
        options={"noise": 10.0},
    ),
    Case(
        "SmoothGrad noise 10^9",
        "The capital of",
        methods=("smoothgrad",),
        options={"noise": 1e9},
        lib="noise must be between 0.0 and 10.0",
    ),
    Case(
        "SmoothGrad noise NaN",
        "The capital of",
        methods=("smoothgrad",),
        options={"noise": math.nan},
        lib="noise must be a number",
    ),
    Case(
        "SmoothGrad samples 10^6",
        "The capital of",
        methods=("smoothgrad",),
        options={"nt_samples": 10**6},
        lib="nt_samples must be between 1 and 1000",
        app="SmoothGrad samples is 1000000",
    ),
    Case("unknown method", "The capital", methods=("magic",), lib="Unknown method 'magic'"),
    Case(
        "unknown baseline",
        "The capital",
        methods=("integrated_gradients",),
        options={"baseline": "evil"},
        lib="Unknown baseline",
    ),
    # models
    Case(
        "unknown model id",
        "The capital",
        model="nobody/no-such-model-xyz",
        lib="Could not load model 'nobody/no-such-model-xyz'",
    ),
    Case(
        "model without an LM head",
        "The capital",
        model="classifier",
        lib="not a causal or masked language model",
    ),
    Case(
        "local path that does not exist",
        "The capital",
        model="/no/such/folder",
        lib="there is no such folder",
    ),
    Case("local path (a tiny model's folder)", "The capital of", model="gpt2"),
]
# Known app bugs, skipped with their reason until fixed (none open; the id:-1 / 10-digit id bug in
# whyword/ui/share.py was fixed in 51b031d).
APP_SKIP: dict[str, str] = {}


def case_params(cases: list[Case], skips: dict[str, str] | None = None) -> list[Any]:
    """The cases as params: those on the real default model marked slow, known bugs skipped
    with their reason (never hidden)."""
    params = []
    for c in cases:
        marks = [pytest.mark.slow] if c.model == "default" else []
        if c.check is smoothgrad_without_noise_is_input_x_gradient:
            marks.append(pytest.mark.numerics)  # two routes compared
        if skips and c.name in skips:
            marks.append(pytest.mark.skip(reason=skips[c.name]))
        params.append(pytest.param(c, id=c.name, marks=marks))
    return params


def app_params(cases: list[Case]) -> list[Any]:
    """The cases for the app tests; a known app bug is skipped with its reason, never hidden."""
    return case_params(cases, APP_SKIP)


# --- a case through the library --------------------------------------------------------------


def run_library(case: Case, models: dict[str, str]) -> Explanation:
    options = {"n_steps": 4, "max_steps": 8, **case.options}  # few IG steps: fast
    return ww.explain(
        case.text,
        target=case.target,
        foil=case.foil,
        methods=case.methods,
        model=models.get(case.model, case.model),
        **options,
    )


# --- a case as the page's query --------------------------------------------------------------


def query_for(case: Case, models: dict[str, str]):
    from whyword.ui.share import Query

    def ref(value: int | str | None) -> str:  # a token id as the page sends it: "id:<n>"
        return "" if value is None else f"id:{value}" if isinstance(value, int) else value

    o = case.options
    steps = o.get("n_steps", 4)
    return Query(
        text=case.text,
        model=models.get(case.model, case.model),
        target=ref(case.target),
        foil=ref(case.foil),
        methods=case.methods,
        steps=steps,
        max_steps=steps,
        baseline=o.get("baseline", "zero"),
        k=o.get("k", 10),
        mask=o.get("mask_index", 0),
        samples=o.get("nt_samples", 10),
        noise=o.get("noise", 0.1),
    )


def app_expected(case: Case) -> str | None:
    return case.lib if case.app is SAME else case.app
