"""What a Ray Serve replica does with a batch of JSON requests, without Ray."""

from __future__ import annotations

import pytest

from tests.tolerances import TINY_FP32, assert_close
from whyword.engine.cache import RESULTS
from whyword.runtime.options import ExplainOptions
from whyword.serve.work import Worker
from whyword.tasks.explain import explain

METHODS = ["saliency", "input_x_gradient"]


@pytest.mark.numerics
def test_a_batch_of_requests_gets_the_answers_of_each_alone(tiny_paths, tiny_gpt2):
    opts = ExplainOptions(faithfulness=True, k=5)
    worker = Worker(tiny_paths["gpt2"])
    texts = ["The capital of France is", "The keys to the cabinet are on the", "I plan to go"]
    reqs = [
        {
            "op": "explain",
            "text": t,
            "target": None,
            "foil": None,
            "methods": METHODS,
            "model": "default",
            "options": opts.to_dict(),
        }
        for t in texts + texts[:1]  # a duplicate runs once
    ]
    reqs += [
        {"op": "predict", "text": texts[0], "model": "default", "k": 3},
        {"op": "explain", "text": "  ", "methods": METHODS, "model": "default"},
        {"op": "nonsense"},
    ]
    RESULTS.clear()
    answers = worker.answer(reqs)
    for text, answer in zip(texts + texts[:1], answers, strict=False):
        RESULTS.clear()
        alone = explain(text, methods=METHODS, model=tiny_gpt2, options=opts)
        got = answer["result"]["attributions"]
        for a, b in zip(alone.attributions, got, strict=True):
            assert_close(b["scores"], a.scores, TINY_FP32, a.method)  # batched vs alone
    assert len(answers[4]["result"][0]["candidates"]) == 3
    assert "error" in answers[5] and "error" in answers[6] and "nonsense" in answers[6]["error"]
