"""Batching across users: several inputs right-padded into one Problem give each request
exactly the result it gets alone (whyword/engine/run.py)."""

from __future__ import annotations

import pytest

from tests.tolerances import LOG_PROB, TINY_FP32, Tolerance, assert_close, for_scores
from whyword.engine.cache import RESULTS
from whyword.engine.predict import predictions
from whyword.models.encoding import encode
from whyword.runtime.options import ExplainOptions
from whyword.serve.dispatch import next_token_predictions
from whyword.tasks.explain import ExplainRequest, explain, explain_many

METHODS = ("saliency", "input_x_gradient", "occlusion")
TEXTS = {
    "gpt2": ["The capital of France is", "The keys to the cabinet are on the", "I plan to go"],
    "bert": ["The capital of [MASK] is Paris.", "The keys to the [MASK] are here.", "go [MASK]"],
}


def close(a: float | None, b: float | None, tol: Tolerance, what: str = "") -> None:
    """Right-padded rows against one prompt alone: two routes (None: a row without curves)."""
    assert (a is None) == (b is None), what
    if a is not None:
        assert_close(a, b, tol, what)


@pytest.mark.numerics
@pytest.mark.parametrize("kind", ["gpt2", "bert"])
def test_each_request_in_a_batch_equals_it_alone(kind, request):
    lm = request.getfixturevalue(f"tiny_{kind}")
    opts = ExplainOptions(faithfulness=True, k=5)
    texts = TEXTS[kind]
    reqs = [
        ExplainRequest(texts[0]),
        ExplainRequest(texts[1], target=2),
        ExplainRequest(texts[2], foil=1),
    ]
    together = explain_many(lm, reqs, METHODS, opts)
    for req, got in zip(reqs, together, strict=True):
        RESULTS.clear()
        alone = explain(req.text, req.target, req.foil, METHODS, model=lm, options=opts)
        assert (got.target, got.foil, got.tokens) == (alone.target, alone.foil, alone.tokens)
        close(got.value, alone.value, LOG_PROB, "value")
        want = [c.token_id for c in alone.predictions[0].candidates]
        assert [c.token_id for c in got.predictions[0].candidates] == want
        for a, b in zip(alone.attributions, got.attributions, strict=True):
            assert len(a.scores) == len(b.scores) == len(alone.tokens)
            assert a.steps == b.steps, a.method
            close(b.scores, a.scores, for_scores(a.method, TINY_FP32), a.method)
            for field in ("deletion", "insertion", "random_deletion"):
                close(getattr(b, field), getattr(a, field), TINY_FP32, f"{a.method} {field}")


@pytest.mark.numerics
def test_padded_predictions_equal_one_prompt_at_a_time(tiny_gpt2):
    encs = [encode(tiny_gpt2, t) for t in TEXTS["gpt2"]]
    together = next_token_predictions(tiny_gpt2, encs, 5)
    for enc, got in zip(encs, together, strict=True):
        (alone,) = predictions(tiny_gpt2, enc, 5)
        assert [c.token_id for c in got[0].candidates] == [c.token_id for c in alone.candidates]
        for a, b in zip(alone.candidates, got[0].candidates, strict=True):
            close(b.log_prob, a.log_prob, LOG_PROB)


def test_a_bad_request_fails_alone(tiny_gpt2):
    opts = ExplainOptions(faithfulness=False)
    reqs = [ExplainRequest("The capital of France is"), ExplainRequest("", target=1)]
    good, bad = explain_many(tiny_gpt2, reqs, METHODS, opts)
    assert good.attributions[0].method == "saliency"
    assert isinstance(bad, Exception) and str(bad)


@pytest.mark.numerics
def test_the_shared_predictions_pass_gives_the_gradients_too(tiny_gpt2):
    """Saliency and input × gradient of several users' prompts (a target, a foil) read their
    gradient off the shared predictions pass, as `explain` does alone: one model call, and
    one more no-grad pass for the foil's row, whose value is not log p(target) (as alone)."""
    from tests.tiny import count_forwards

    opts = ExplainOptions(faithfulness=False, k=5)
    texts = TEXTS["gpt2"]
    reqs = [ExplainRequest(texts[0]), ExplainRequest(texts[1], 2), ExplainRequest(texts[2], foil=1)]
    methods = ("saliency", "input_x_gradient")
    got, calls = count_forwards(tiny_gpt2, lambda: explain_many(tiny_gpt2, reqs, methods, opts))
    assert calls == 2
    top = reqs[:2]
    assert count_forwards(tiny_gpt2, lambda: explain_many(tiny_gpt2, top, methods, opts))[1] == 1
    for req, one in zip(reqs, got, strict=True):
        RESULTS.clear()
        alone = explain(req.text, req.target, req.foil, methods, model=tiny_gpt2, options=opts)
        close(one.value, alone.value, LOG_PROB, "value")
        for a, b in zip(alone.attributions, one.attributions, strict=True):
            close(b.scores, a.scores, TINY_FP32, a.method)
