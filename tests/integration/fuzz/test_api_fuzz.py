"""Every API route (/explain, /predict, /positions, /generate, /evidence) fuzzed in process on
the tiny models: each case ends in a result or one WhyWord sentence quoting at most 60
characters of what was sent; user mistakes are one log line each and no traceback; afterwards
a normal request answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.integration.fuzz import strategies as s
from tests.integration.fuzz.kit import FAST, answer
from whyword.errors import WhyWordError
from whyword.ui import api

pytestmark = pytest.mark.usefixtures("one_torch_thread", "local")
CASES: dict[str, int] = {}  # cases run per route (printed by test_after_the_fuzz)
SMALL = st.integers(1, 6)  # in-range values that keep a tiny model's work small
METHODS = st.sampled_from(["saliency", "input_x_gradient", "occlusion", "saliency,occlusion"])


def fuzz(route: str, call, log) -> None:
    """One case: `call` is (args, kwargs) for `route`'s function."""
    CASES[route] = CASES.get(route, 0) + 1
    args, kwargs = call
    answer(getattr(api, f"api_{route}"), *args, **kwargs)
    assert not log.tracebacks(), log.tracebacks()


def explain_calls(tiny: str):
    return st.builds(
        lambda text, kw: ((text,), kw),
        s.anything(s.TEXT),
        st.fixed_dictionaries(
            {
                "model": s.model(tiny),
                "target": s.anything(st.sampled_from(["", " capital", "id:3", "id:-1", "zz"])),
                "foil": s.anything(st.sampled_from(["", " of", "id:10000000"])),
                "methods": s.anything(st.one_of(METHODS, s.unknown_names())),
                "steps": s.anything(SMALL),
                "baseline": s.anything(
                    st.one_of(st.sampled_from(["zero", "pad"]), s.unknown_names())
                ),
                "k": s.anything(st.one_of(SMALL, st.sampled_from([100, 101]))),
                "mask": s.anything(st.sampled_from([0, 1, 9])),
            }
        ),
    )


@settings(FAST, max_examples=40)
@given(data=st.data())
def test_explain(data, tiny_paths, log) -> None:
    fuzz("explain", data.draw(s.arguments(explain_calls(tiny_paths["gpt2"]))), log)


@settings(FAST, max_examples=30)
@given(data=st.data())
def test_predict(data, tiny_paths, log) -> None:
    model = st.one_of(st.just(tiny_paths["bert"]), s.model(tiny_paths["gpt2"]))
    calls = st.builds(
        lambda text, kw: ((text,), kw),
        s.anything(s.TEXT),
        st.fixed_dictionaries({"model": model, "k": s.anything(st.sampled_from([1, 5, 100, 101]))}),
    )
    fuzz("predict", data.draw(s.arguments(calls)), log)


@settings(FAST, max_examples=30)
@given(data=st.data())
def test_positions(data, tiny_paths, log) -> None:
    model = st.one_of(st.just(tiny_paths["bert"]), s.model(tiny_paths["gpt2"]))
    calls = st.builds(
        lambda text, kw: ((text,), kw),
        s.anything(s.TEXT),
        st.fixed_dictionaries({"model": model, "k": s.anything(st.sampled_from([1, 5, 100, 101]))}),
    )
    fuzz("positions", data.draw(s.arguments(calls)), log)


@settings(FAST, max_examples=30)
@given(data=st.data())
def test_generate(data, tiny_paths, log) -> None:
    calls = st.builds(
        lambda text, kw: ((text,), kw),
        s.anything(s.TEXT),
        st.fixed_dictionaries(
            {
                "model": s.model(tiny_paths["gpt2"]),
                "max_new_tokens": s.anything(st.sampled_from([1, 5, 50, 51])),
                "strategy": s.anything(st.sampled_from(["sample", "greedy", "beam"])),
                "temperature": s.anything(st.sampled_from([0.05, 1.0, 3.0, 100.0, 101.0])),
                "top_k": s.anything(st.sampled_from([0, 1, 40])),
                "top_p": s.anything(st.sampled_from([0.05, 0.9, 1.0])),
                "seed": s.anything(st.sampled_from([0, 7, 2**31 - 1, 2**31])),
            }
        ),
    )
    fuzz("generate", data.draw(s.arguments(calls)), log)


@settings(FAST, max_examples=20)
@given(data=st.data())
def test_evidence(data, tiny_paths, tiny_retriever_as_default, log) -> None:
    passages = st.sampled_from(["", "Paris is in France.\n\nRome is in Italy.", "x\n" * 3000])
    calls = st.builds(
        lambda query, kw: ((query,), kw),
        s.anything(st.one_of(st.just("The capital of France is [MASK]."), s.TEXT)),
        st.fixed_dictionaries(
            {
                "passages": s.anything(passages),
                "corpus": s.anything(
                    st.one_of(st.sampled_from(["example", ""]), s.unknown_names())
                ),
                "k": s.anything(st.sampled_from([1, 2, 20, 21])),
                "temperature": s.anything(st.sampled_from([0.001, 0.1, 100.0, 0.0])),
                "model": s.model(tiny_paths["gpt2"]),
                "target": s.anything(st.sampled_from(["", " Paris", "id:5"])),
            }
        ),
    )
    fuzz("evidence", data.draw(s.arguments(calls)), log)


def test_after_the_fuzz_a_normal_request_answers(tiny_paths, tiny_retriever_as_default, log):
    gpt2 = tiny_paths["gpt2"]
    data, page = api.api_explain("The capital of France is", gpt2, methods="saliency", k=3)
    assert len(data["attributions"][0]["scores"]) == len(data["tokens"]) and "capital" in page
    assert [r["rank"] for r in api.api_predict("The capital of", gpt2, 3)] == [1, 2, 3]
    table = api.api_positions("The capital of France is", gpt2, 3)
    assert len(table["rows"]) == len(table["tokens"]) - 1  # GPT-2: no row for the first token
    made = api.api_generate("The capital of", gpt2, 4, "greedy")
    assert len(made["steps"]) == len(made["token_ids"]) <= 4
    found = api.api_evidence("The capital of France is [MASK].", k=2, model=gpt2)
    assert len(found["retrieved"]) == 2
    with pytest.raises(WhyWordError):
        api.api_predict("", gpt2)
    assert log.mistakes() and not log.tracebacks()  # the mistake above: one line, no trace
    assert all("\n" not in line for line in log.mistakes())
    print("fuzz cases per route:", CASES)
