"""Every API route (/explain, /predict, /positions, /generate, /evidence, /layers, /attention,
/counterfactuals, /chat) fuzzed in process on
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
RESULTS: dict[str, int] = {}  # of which ended in a result (the rest: one sentence)


def fuzz(route: str, call, log) -> None:
    """One case: `call` is (args, kwargs) for `route`'s function."""
    CASES[route] = CASES.get(route, 0) + 1
    args, kwargs = call
    if not isinstance(answer(getattr(api, f"api_{route}"), *args, **kwargs), WhyWordError):
        RESULTS[route] = RESULTS.get(route, 0) + 1
    assert not log.tracebacks(), log.tracebacks()


@settings(FAST, max_examples=20)
@given(data=st.data())
def test_explain(data, tiny_paths, log) -> None:
    fuzz("explain", data.draw(s.calls("explain", tiny_paths["gpt2"], tiny_paths["bert"])), log)


@settings(FAST, max_examples=20)
@given(data=st.data())
def test_predict(data, tiny_paths, log) -> None:
    fuzz("predict", data.draw(s.calls("predict", tiny_paths["gpt2"], tiny_paths["bert"])), log)


@settings(FAST, max_examples=20)
@given(data=st.data())
def test_positions(data, tiny_paths, log) -> None:
    fuzz("positions", data.draw(s.calls("positions", tiny_paths["gpt2"], tiny_paths["bert"])), log)


@settings(FAST, max_examples=20)
@given(data=st.data())
def test_generate(data, tiny_paths, log) -> None:
    fuzz("generate", data.draw(s.calls("generate", tiny_paths["gpt2"], tiny_paths["bert"])), log)


@settings(FAST, max_examples=15)
@given(data=st.data())
def test_evidence(data, tiny_paths, tiny_retriever_as_default, log) -> None:
    fuzz("evidence", data.draw(s.calls("evidence", tiny_paths["gpt2"], tiny_paths["bert"])), log)


@settings(FAST, max_examples=15)
@given(data=st.data())
def test_layers(data, tiny_paths, log) -> None:
    fuzz("layers", data.draw(s.calls("layers", tiny_paths["gpt2"], tiny_paths["bert"])), log)


@settings(FAST, max_examples=10)
@given(data=st.data())
def test_attention(data, tiny_paths, log) -> None:
    fuzz("attention", data.draw(s.calls("attention", tiny_paths["gpt2"], tiny_paths["bert"])), log)


@settings(FAST, max_examples=8)
@given(data=st.data())
def test_counterfactuals(data, tiny_paths, log) -> None:
    drawn = s.calls("counterfactuals", tiny_paths["gpt2"], tiny_paths["bert"])
    fuzz("counterfactuals", data.draw(drawn), log)


@settings(FAST, max_examples=6)
@given(data=st.data())
def test_chat(data, tiny_paths, tiny_chat_path, log) -> None:
    fuzz("chat", data.draw(s.calls("chat", tiny_chat_path, tiny_paths["gpt2"])), log)


def test_after_the_fuzz_a_normal_request_answers(
    tiny_paths, tiny_chat_path, tiny_retriever_as_default, log
):
    gpt2 = tiny_paths["gpt2"]
    data, page = api.api_explain("The capital of France is", gpt2, methods="saliency", k=3)
    assert len(data["attributions"][0]["scores"]) == len(data["tokens"]) and "capital" in page
    assert [r["rank"] for r in api.api_predict("The capital of", gpt2, 3)] == [1, 2, 3]
    table = api.api_positions("The capital of France is", gpt2, 3)
    assert len(table["rows"]) == len(table["tokens"]) - 1  # GPT-2: no row for the first token
    made = api.api_generate("The capital of", gpt2, 4, "greedy")
    assert len(made["steps"]) == len(made["token_ids"]) <= 4
    lens = api.api_layers("The capital of France is", gpt2, foil=" of", k=3, check=2)
    assert len(lens["rows"]) >= 2 and len(lens["components"]["ablations"]) == 2
    seen = api.api_attention("The capital of France is", 1, 0, gpt2)
    assert abs(sum(seen["weights"]) - 1) < 1e-4
    edits = api.api_counterfactuals("The capital of France is", gpt2, foil=" of")
    assert edits["hotflip"]["edits"], "verified edits"
    found = api.api_evidence("The capital of France is [MASK].", k=2, model=gpt2)
    assert len(found["retrieved"]) == 2
    talk = api.api_chat("the dog?", "the cat.", tiny_chat_path, max_new_tokens=3)
    assert talk["span"][1] - talk["span"][0] >= 1 and talk["messages"]["occlusion"]
    with pytest.raises(WhyWordError):
        api.api_predict("", gpt2)
    assert log.mistakes() and not log.tracebacks()  # the mistake above: one line, no trace
    assert all("\n" not in line for line in log.mistakes())
    print("fuzz cases per route:", CASES, "of which results:", RESULTS)
