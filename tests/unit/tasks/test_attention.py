"""`whyword.attention`: one head's attention row at a position (eager attention for that call
only) and the norms of what each head moved from each token, checked against transformers'
own `output_attentions` and against a hand computation from the value and output weights."""

from __future__ import annotations

import pytest
import torch

import whyword as ww
from tests.tolerances import DEFAULT_MODEL_FP32, TINY_FP32, assert_close
from whyword.models.encoding import encode

TEXT = "The keys to the cabinet are on the"




def _eager_reference(lm, text: str):
    """transformers' own attention weights and hidden states from an eager forward (the test
    switches it, and switches it back)."""
    ids = torch.tensor([encode(lm, text).ids])  # (1, T)
    before = lm.model.config._attn_implementation
    lm.model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = lm.model(input_ids=ids, output_attentions=True, output_hidden_states=True)
    finally:
        lm.model.set_attn_implementation(before)
    return out.attentions, out.hidden_states  # L × (1, heads, T, T), (L + 1) × (1, T, H)


def _moved_by_hand(lm, hidden: torch.Tensor, alpha: torch.Tensor, layer: int, head: int):
    """α_{p,j} ‖v_j W_O,h‖ from the block's input (1, T, H) and its weights, written out."""
    if lm.model.config.model_type == "gpt2":
        block = lm.model.transformer.h[layer]
        width = lm.model.config.n_embd
        d = width // lm.model.config.n_head
        v = block.attn.c_attn(block.ln_1(hidden))[0, :, 2 * width :]  # (T, width)
        v_h = v[:, head * d : (head + 1) * d]  # (T, d)
        w_h = block.attn.c_proj.weight[head * d : (head + 1) * d]  # (d, H): Conv1D is (in, out)
        written = v_h @ w_h  # (T, H)
    else:
        block = lm.model.model.layers[layer]
        config = lm.model.config
        d = config.hidden_size // config.num_attention_heads
        group = config.num_attention_heads // config.num_key_value_heads
        v = block.self_attn.v_proj(block.input_layernorm(hidden))[0]  # (T, kv · d)
        kv = head // group  # grouped-query attention: the value head this head reads
        v_h = v[:, kv * d : (kv + 1) * d]  # (T, d)
        w_h = block.self_attn.o_proj.weight[:, head * d : (head + 1) * d]  # (H, d)
        written = v_h @ w_h.T  # (T, H)
    return alpha * written.norm(dim=-1)  # (T,)


@pytest.mark.numerics
@pytest.mark.parametrize("name", ["tiny_gpt2", "tiny_llama"])
def test_weights_and_moved_norms_match_transformers_and_a_hand_computation(name, request):
    lm = request.getfixturevalue(name)
    attentions, hidden = _eager_reference(lm, TEXT)
    position = 4  # a middle token: the causal mask must zero what follows it
    grid = None
    for layer in range(len(attentions)):
        for head in range(attentions[0].shape[1]):
            got = ww.attention(TEXT, layer + 1, head, position=position, model=lm)
            alpha = attentions[layer][0, head, position]  # (T,)
            assert_close(got.weights, alpha, TINY_FP32, f"weights L{layer + 1}.H{head}")
            with torch.no_grad():
                moved = _moved_by_hand(lm, hidden[layer], alpha, layer, head)  # (T,)
            assert_close(got.moved, moved, TINY_FP32, f"moved L{layer + 1}.H{head}")
            assert_close(sum(got.weights), 1.0, TINY_FP32)
            assert all(w == 0.0 for w in got.weights[position + 1 :]), "causal: no look ahead"
            assert got.kv_heads == (2 if name == "tiny_llama" else got.heads)
            assert_close(got.moved_grid[layer][head], float(moved.sum()), TINY_FP32)
            grid = grid or got.moved_grid
            assert got.moved_grid == grid, "every call gives the same grid"


@pytest.mark.numerics
def test_a_masked_model_attends_both_ways_from_its_mask(tiny_bert):
    text = "the capital of [MASK] is paris"
    attentions, _ = _eager_reference(tiny_bert, text)
    got = ww.attention(text, 2, 1, model=tiny_bert)
    at = encode(tiny_bert, text).mask_positions[0]
    assert got.position == at and got.kind == "masked"
    assert_close(got.weights, attentions[1][0, 1, at], TINY_FP32)
    assert sum(w > 0 for w in got.weights[at + 1 :]) > 0, "a masked model reads what follows"


def test_the_attention_implementation_is_restored_even_after_a_failure(tiny_llama):
    model = tiny_llama.model
    before = model.config._attn_implementation
    assert before != "eager", "the test needs a model that is not eager already"
    attention = model.model.layers[0].self_attn
    hooks = (len(attention._forward_hooks), len(attention.v_proj._forward_hooks))
    seen: list[str] = []

    def spy(module, args):
        seen.append(model.config._attn_implementation)

    handle = model.model.layers[0].register_forward_pre_hook(spy)
    try:
        ww.attention(TEXT, 1, 0, model=tiny_llama)
    finally:
        handle.remove()
    assert seen == ["eager"] and model.config._attn_implementation == before

    def boom(module, args):
        raise RuntimeError("a failure inside the forward")

    handle = model.model.layers[1].register_forward_pre_hook(boom)
    try:
        with pytest.raises(RuntimeError, match="inside the forward"):
            ww.attention(TEXT, 1, 0, model=tiny_llama)
    finally:
        handle.remove()
    assert model.config._attn_implementation == before
    after = (len(attention._forward_hooks), len(attention.v_proj._forward_hooks))
    assert after == hooks, "WhyWord's hooks are removed (transformers' own stay)"


@pytest.mark.parametrize(
    ("layer", "head", "position"), [(0, 0, None), (3, 0, None), (1, 4, None), (1, 0, 99)]
)
def test_a_layer_head_or_position_outside_the_model_is_one_sentence(
    tiny_llama, layer, head, position
):
    with pytest.raises(ww.InputError) as caught:
        ww.attention(TEXT, layer, head, position=position, model=tiny_llama)
    assert "\n" not in str(caught.value)


@pytest.mark.slow
@pytest.mark.numerics
def test_default_model_a_head_reads_france_from_is(smol):
    """SmolLM2, "The capital of France is": head 4 of block 24 puts most of its weight on
    ␣France and moves more of it than any head moves of any token (docs/guide/layers.md)."""
    text = "The capital of France is"
    attentions, hidden = _eager_reference(smol, text)
    got = ww.attention(text, 24, 4, model=smol)
    alpha = attentions[23][0, 4, got.position]  # (T,)
    assert_close(got.weights, alpha, DEFAULT_MODEL_FP32)
    with torch.no_grad():
        moved = _moved_by_hand(smol, hidden[23], alpha, 23, 4)  # (T,)
    assert_close(got.moved, moved, DEFAULT_MODEL_FP32)
    assert got.tokens[max(range(5), key=got.weights.__getitem__)].text == " France"
    assert got.top_heads(1)[0][:2] == (24, 4)


def test_concurrent_calls_on_one_model_see_their_own_implementation(tiny_llama):
    """Attention rows and logit lenses at once on the shared model: each answer is the one it
    gets alone (the switch to eager happens under the model's lock) and sdpa is back after."""
    from concurrent.futures import ThreadPoolExecutor

    before = tiny_llama.model.config._attn_implementation
    alone = ww.attention(TEXT, 2, 3, model=tiny_llama)
    lens = ww.layers(TEXT, model=tiny_llama)
    with ThreadPoolExecutor(4) as pool:
        seen = [pool.submit(ww.attention, TEXT, 2, 3, model=tiny_llama) for _ in range(2)]
        lenses = [pool.submit(ww.layers, TEXT, model=tiny_llama) for _ in range(2)]
        for future in seen:
            assert_close(future.result().weights, alone.weights, TINY_FP32)
        for future in lenses:
            got = future.result().rows[-1]
            assert_close(got.target_probability, lens.rows[-1].target_probability, TINY_FP32)
    assert tiny_llama.model.config._attn_implementation == before
