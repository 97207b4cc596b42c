"""AttnLRP's latent relevance of heads, MLPs and neurons (`whyword.component_relevance`):
the parts add up where the rules make them linear, the last MLP's relevance is its direct
contribution through the final norm (whose scale LXT's identity rule freezes), the token
relevances are AttnLRP's own, and swapping target and foil negates everything."""

from __future__ import annotations

import pytest
import torch

import whyword as ww
from tests.tiny import llama_family
from tests.tolerances import DEFAULT_MODEL_FP32, TINY_FP32, assert_close
from whyword.attr import attnlrp as lrp
from whyword.attr.attnlrp import attnlrp_relevance
from whyword.models.encoding import encode

pytestmark = pytest.mark.skipif(
    not lrp.lxt_installed(), reason="AttnLRP needs lxt: pip install --no-deps lxt==2.1"
)
TEXT = "The keys to the cabinet are on the"




@pytest.fixture(params=["tiny_gpt2", "tiny_llama"])
def causal(request):
    return request.getfixturevalue(request.param)


def _last_block_by_hand(lm, target: int, foil: int, text: str = TEXT) -> float:
    """The last MLP's output at the read position through the final norm with its scale
    frozen, against the unembedding's target − foil row: what LRP's identity rule gives."""
    if lm.model.config.model_type == "gpt2":
        block, norm = lm.model.transformer.h[-1], lm.model.transformer.ln_f
    else:
        block, norm = lm.model.model.layers[-1], lm.model.model.norm
    kept: dict[str, torch.Tensor] = {}
    handles = [
        block.mlp.register_forward_hook(lambda m, a, out: kept.__setitem__("mlp", out)),
        block.register_forward_hook(lambda m, a, out: kept.__setitem__("stream", out)),
    ]
    ids = torch.tensor([encode(lm, text).ids])  # (1, T)
    try:
        with torch.no_grad():
            lm.model(input_ids=ids)
    finally:
        for handle in handles:
            handle.remove()
    stream = kept["stream"]
    h = (stream[0] if isinstance(stream, tuple) else stream)[0, -1]  # (H,)
    m = kept["mlp"][0, -1]  # (H,)
    u = lm.model.lm_head.weight[target] - lm.model.lm_head.weight[foil]  # (H,)
    if isinstance(norm, torch.nn.LayerNorm):  # centring is linear; 1/std is frozen
        scale = torch.rsqrt(h.var(unbiased=False) + norm.eps)
        m = m - m.mean()
    else:
        scale = torch.rsqrt(h.pow(2).mean() + norm.variance_epsilon)
    return float((m * scale * norm.weight) @ u)


@pytest.mark.numerics
def test_the_last_mlp_is_its_direct_contribution_through_the_frozen_norm(causal):
    got = ww.component_relevance(TEXT, foil=5, model=causal)
    assert got.objective == "logit difference" and got.foil_id == 5
    assert_close(got.mlps[-1], _last_block_by_hand(causal, got.target_id, 5), TINY_FP32)


@pytest.mark.numerics
def test_heads_add_up_to_their_attention_and_neurons_to_their_mlp(tiny_llama):
    """The Llama family's output and down projections have no bias: linear, so conserved."""
    width = tiny_llama.model.config.intermediate_size
    got = ww.component_relevance(TEXT, model=tiny_llama, neurons=2 * width)
    assert len(got.neurons) == 2 * width
    assert_close([sum(row) for row in got.heads], got.attention, TINY_FP32)
    for layer in (1, 2):
        cells = sum(n.relevance for n in got.neurons if n.layer == layer)
        assert_close(cells, got.mlps[layer - 1], TINY_FP32)
    assert max(abs(x) for row in got.heads for x in row) > 1e-4, "not all zero"


@pytest.mark.numerics
def test_token_relevance_is_attnlrps_and_swapping_target_and_foil_negates(causal):
    """The taps change nothing of the backward: the input tokens get AttnLRP's own scores."""
    got = ww.component_relevance(TEXT, target=7, foil=9, model=causal)
    ids = torch.tensor([encode(causal, TEXT).ids])  # (1, T)
    own = attnlrp_relevance(causal, ids, lambda z: z[0, -1, 7] - z[0, -1, 9])
    assert_close(got.token_relevance, own.scores, TINY_FP32)
    assert_close(got.value, own.value, TINY_FP32)
    swapped = ww.component_relevance(TEXT, target=9, foil=7, model=causal)
    assert_close(swapped.mlps, [-x for x in got.mlps], TINY_FP32)
    assert_close(swapped.heads, [[-x for x in row] for row in got.heads], TINY_FP32)


def test_a_model_without_lxt_rules_gets_one_sentence(tiny_bert):
    with pytest.raises(ww.InputError) as caught:
        ww.component_relevance("the capital of [MASK] is paris", model=tiny_bert)
    assert "\n" not in str(caught.value) and "bert" in str(caught.value)


@pytest.mark.numerics
def test_a_head_whose_output_projection_is_zero_gets_no_relevance(tiny_gpt2):
    """Head 1 of block 2 writes nothing (its slice of o_proj zeroed): its gradient, and so its
    relevance, is 0, while its neighbours keep theirs — the grid's cells are the right heads."""
    lm = llama_family(vocab_size=len(tiny_gpt2.tokenizer), tokenizer=tiny_gpt2.tokenizer)
    d = lm.model.config.hidden_size // lm.model.config.num_attention_heads
    with torch.no_grad():
        lm.model.model.layers[1].self_attn.o_proj.weight[:, d : 2 * d] = 0.0
    got = ww.component_relevance(TEXT, target=7, model=lm)
    assert abs(got.heads[1][1]) <= TINY_FP32.atol
    assert all(abs(x) > 10 * TINY_FP32.atol for i, x in enumerate(got.heads[1]) if i != 1)


@pytest.mark.slow
@pytest.mark.numerics
def test_default_model_paris_against_london(smol):
    """On SmolLM2: the last MLP is its frozen-norm direct contribution, the heads add up to
    their attention, and head 4 of block 24 — the head that reads ␣France from ␣is
    (docs/guide/layers.md) — is among the three most relevant components."""
    text = "The capital of France is"
    got = ww.component_relevance(text, target=" Paris", foil=" London", model=smol)
    by_hand = _last_block_by_hand(smol, got.target_id, got.foil_id, text)
    assert_close(got.mlps[-1], by_hand, DEFAULT_MODEL_FP32)
    assert_close([sum(row) for row in got.heads], got.attention, DEFAULT_MODEL_FP32)
    assert "L24.H4" in [name for name, _ in got.top(3)]
