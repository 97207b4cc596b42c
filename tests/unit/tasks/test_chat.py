"""`chat` and span targets on a tiny Llama whose tokenizer has a chat template: the ids are
`apply_chat_template`'s, each token's role, the span's objective against the generation's
transition table and a hand-written autograd, the foil and the mean, template tokens held
and left out of the message scores (whyword/tasks/chat.py, chat_result.py,
whyword/engine/outputs.py: SpanTarget)."""

from __future__ import annotations

import math

import pytest
import torch

import whyword as ww
from tests.tiny import CHAT_TEMPLATE
from tests.tolerances import TINY_FP32, assert_close
from whyword.models import calls as model_calls
from whyword.tasks.chat import chat

MESSAGES = [
    {"role": "system", "content": "the cat."},
    {"role": "user", "content": "the dog? the mat."},
]


@pytest.fixture(scope="module")
def chat_llama(tiny_paths):
    """A tiny random Llama reading the tiny GPT-2 tokenizer, given a small chat template."""
    from transformers import AutoTokenizer

    from tests.tiny import llama_family

    tok = AutoTokenizer.from_pretrained(tiny_paths["gpt2"])
    tok.chat_template = CHAT_TEMPLATE
    return llama_family(vocab_size=len(tok), tokenizer=tok, seed=3)


@pytest.fixture(scope="module")
def answered(chat_llama):
    return chat(MESSAGES, model=chat_llama, max_new_tokens=6)


def test_the_ids_are_apply_chat_template_s_then_the_reply(chat_llama, answered):
    ref = chat_llama.tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True)
    ref = ref["input_ids"] if isinstance(ref, dict) or hasattr(ref, "keys") else ref
    assert answered.ids[: answered.prompt_length] == tuple(ref)
    assert answered.reply_ids == answered.generation.token_ids
    typed = chat(MESSAGES, model=chat_llama, reply=" the dog.")
    assert typed.ids[: typed.prompt_length] == tuple(ref) and typed.generation is None


def test_each_message_s_tokens_spell_its_content_and_the_rest_is_template(chat_llama):
    typed = chat(MESSAGES, model=chat_llama, reply="the dog.")
    tok = chat_llama.tokenizer
    for k, m in enumerate(MESSAGES):
        mine = [t.id for t, o in zip(typed.tokens, typed.owners, strict=True) if o == k]
        assert tok.decode(mine).strip() == m["content"].strip()
        assert {typed.roles[i] for i, o in enumerate(typed.owners) if o == k} == {m["role"]}
    template = tok.decode([typed.ids[i] for i in typed.template_positions])
    assert "<|system|>" in template.replace(" ", "") and "<|assistant|>" in template
    assert typed.roles[typed.prompt_length :] == ("assistant",) * len(typed.reply_ids)


def test_a_model_without_a_template_gets_one_sentence(tiny_gpt2):
    with pytest.raises(ww.InputError, match="has no chat template"):
        chat(MESSAGES, model=tiny_gpt2)


@pytest.mark.numerics
def test_the_span_objective_is_the_transition_table_s_sum(chat_llama, answered):
    steps = answered.generation.steps
    for (a, b), mean in (((0, len(steps)), False), ((2, 5), True)):
        e = answered.explain(span=(a, b), methods=["saliency"], mean=mean, model=chat_llama)
        table = sum(s.raw_log_prob for s in steps[a:b])
        assert_close(e.value, table / (b - a) if mean else table, TINY_FP32)
        assert_close(e.matrix.outputs[0].target_log_prob, table, TINY_FP32)


def _by_hand(lm, ids, start, end, foil=None):
    """Σ log p(ids[start:end]) (− Σ log p(foil) read from start) and its gradient (T, H)."""
    x = lm.embed(torch.tensor(ids)).unsqueeze(0).detach().requires_grad_()  # (1, T, H)
    lp = torch.log_softmax(model_calls.logits(lm, embeds=x)[0].float(), -1)  # (T, V)
    f = sum(lp[j - 1, ids[j]] for j in range(start, end))
    if foil is not None:
        fx = torch.cat([x[0, :start], lm.embed(torch.tensor(foil[:-1]))])  # (start + F − 1, H)
        flp = torch.log_softmax(model_calls.logits(lm, embeds=fx[None])[0].float(), -1)
        f = f - sum(flp[start - 1 + k, t] for k, t in enumerate(foil))
    (grad,) = torch.autograd.grad(f, x)  # (1, T, H)
    return float(f.detach()), x[0].detach(), grad[0]


@pytest.mark.numerics
@pytest.mark.parametrize("foil", [None, " the mat"])
def test_saliency_and_input_x_gradient_are_the_hand_written_gradient(chat_llama, answered, foil):
    e = answered.explain(
        span=(1, 4), foil=foil, methods=["saliency", "input_x_gradient"], model=chat_llama
    )
    start, end = e.start, e.end
    foil_ids = e.matrix.outputs[0].foil_ids
    assert (foil is None) == (foil_ids is None)
    f, x, grad = _by_hand(chat_llama, answered.ids, start, end, foil_ids)
    assert_close(e.value, f, TINY_FP32)
    seen = slice(0, end - 1)  # the span's last token is out of its own context
    assert_close(e.token_scores("saliency")[seen], grad.norm(dim=-1)[seen].tolist(), TINY_FP32)
    ixg = (x * grad).sum(-1)  # (T,)
    assert_close(e.token_scores("input_x_gradient")[seen], ixg[seen].tolist(), TINY_FP32)
    assert all(math.isnan(v) for v in e.token_scores("saliency")[end - 1 :])


def test_every_method_explains_a_span_and_template_tokens_are_held(chat_llama, answered):
    e = answered.explain(methods=list(ww.METHODS), model=chat_llama)
    assert [m.method for m in e.matrix.methods] == list(ww.METHODS)
    for m in e.matrix.methods:
        assert math.isnan(m.scores[0][e.end - 1]) and not math.isnan(m.scores[0][e.end - 2])
    (done,) = e.matrix.method("integrated_gradients").completeness
    assert done.relative_error is None or done.relative_error < 0.05
    held = set(e.matrix.held)
    assert set(answered.template_positions) <= held
    ig = e.token_scores("integrated_gradients")
    assert all(ig[i] == 0.0 for i in answered.template_positions if i < e.end - 1)
    assert any("chat template's tokens" in n for n in e.matrix.notes)
    ixg = e.token_scores("input_x_gradient")
    for unit, k in zip(e.messages("input_x_gradient"), range(3), strict=True):
        mine = [v for v, o in zip(ixg, answered.owners, strict=True) if o == k and v == v]
        assert unit.score == pytest.approx(sum(mine)), unit.label
    assert [u.label for u in e.messages("input_x_gradient")] == ["system", "user", "reply"]
    free = answered.explain(methods=["integrated_gradients"], model=chat_llama, hold_template=False)
    assert not set(answered.template_positions[1:]) & set(free.matrix.held)
    assert "not held" in free.note
    labels = [u.label for u in e.sentences("input_x_gradient")]
    assert labels[:3] == ["the cat.", "the dog?", "the mat."]


def test_a_phrase_names_its_tokens_and_bad_spans_are_one_sentence(chat_llama):
    typed = chat(MESSAGES, model=chat_llama, reply="the dog sat.")
    start, end = typed.span("dog sat")
    assert chat_llama.tokenizer.decode(list(typed.ids[start:end])).strip() == "dog sat"
    for bad, match in (("zebra", "not in the reply"), ((3, 2), "not inside the reply")):
        with pytest.raises(ww.InputError, match=match):
            typed.span(bad)
    with pytest.raises(ww.WhyWordError, match="same as the target"):
        typed.explain(span="dog", foil=" dog", methods=["saliency"], model=chat_llama)
