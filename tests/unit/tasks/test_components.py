"""Direct logit attribution (`LayerLens.components`): the shares of the embeddings, every head
and every MLP add up to the logit (difference) the model computed, a head's share is its slice
of the output projection by hand, and the ablation check's rows are real forwards."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

import whyword as ww
from tests.tiny import llama_family
from tests.tolerances import DLA, LOG_PROB, TINY_FP32, assert_close
from whyword.models import budget
from whyword.models.encoding import encode
from whyword.results.ranks import spearman

TEXT = "The keys to the cabinet are on the"




@pytest.fixture(scope="module")
def tiny_qwen(tiny_gpt2):
    return llama_family(
        "qwen2", seed=1, vocab_size=len(tiny_gpt2.tokenizer), layers=2, tokenizer=tiny_gpt2.tokenizer
    )


@pytest.mark.numerics
@pytest.mark.parametrize("name", ["tiny_llama3", "tiny_qwen", "tiny_gpt2"])
@pytest.mark.parametrize("foil", [None, " table"])
def test_the_shares_add_up_to_the_models_own_logit_difference(name, foil, request):
    lm = request.getfixturevalue(name)
    lens = ww.layers(TEXT, target=" the", foil=foil, model=lm, check=0)
    dla = lens.components
    assert dla.objective == ("logit" if foil is None else "logit difference")
    assert_close(sum(c.dla for c in dla.components), dla.frozen_total, DLA)
    assert_close(dla.frozen_total, dla.real, DLA)  # no softcap: the frozen scale is exact
    ids = torch.tensor([encode(lm, TEXT).ids])  # (1, T)
    with torch.no_grad():
        logits = lm.model(input_ids=ids).logits[0, -1]  # (V,)
    the = lm.tokenizer.encode(" the")[0]
    want = logits[the] - (logits[lm.tokenizer.encode(foil)[0]] if foil else 0.0)
    assert_close(dla.real, want, DLA)
    kinds = [c.kind for c in dla.components]
    assert kinds[0] == "embeddings" and kinds.count("mlp") == dla.layers
    assert ("biases" in kinds) == (name == "tiny_gpt2")  # GPT-2's projections have biases
    assert len(dla.grid()) == dla.layers and len(dla.grid()[0]) == dla.heads


@pytest.mark.numerics
def test_a_heads_share_is_its_slice_of_the_output_projection_by_hand(tiny_llama3):
    """Layer 2, head 1: its slice of o_proj's input, through its columns of o_proj, the final
    RMSNorm at the full stream's scale, and the target's row of the unembedding."""
    lm, layer, head = tiny_llama3, 2, 1
    model = lm.model
    attn = model.model.layers[layer - 1].self_attn
    d = model.config.hidden_size // model.config.num_attention_heads
    seen = {}

    def keep(name):
        def hook(module, args, out) -> None:
            seen[name] = args[0][0, -1]  # (W,): the module's input at the last position

        return hook

    handles = [
        attn.o_proj.register_forward_hook(keep("z")),
        model.model.norm.register_forward_hook(keep("x")),
    ]
    ids = torch.tensor([encode(lm, TEXT).ids])  # (1, T)
    with torch.no_grad():
        model(input_ids=ids)
    for h in handles:
        h.remove()
    cols = slice(head * d, (head + 1) * d)
    written = attn.o_proj.weight[:, cols] @ seen["z"][cols]  # (H,)
    x, norm = seen["x"], model.model.norm
    scale = torch.rsqrt(x.pow(2).mean() + norm.variance_epsilon)
    the, table = lm.tokenizer.encode(" the")[0], lm.tokenizer.encode(" table")[0]
    row = model.lm_head.weight[the] - model.lm_head.weight[table]  # (H,)
    want = float((norm.weight * written * scale) @ row)
    dla = ww.layers(TEXT, target=" the", foil=" table", model=lm, check=0).components
    got = next(c.dla for c in dla.components if c.kind == "head" and (c.layer, c.head) == (2, 1))
    assert_close(got, want, DLA)
    assert_close(dla.scale, scale, DLA)


def _zeroed_head(lm, layer: int, head: int, text: str) -> torch.Tensor:
    """log p at the last position with one head's columns of o_proj set to zero (a weight edit:
    another route than the check's hook on the projection's input)."""
    proj = lm.model.model.layers[layer - 1].self_attn.o_proj
    d = lm.model.config.hidden_size // lm.model.config.num_attention_heads
    kept = proj.weight.detach().clone()
    try:
        with torch.no_grad():
            proj.weight[:, head * d : (head + 1) * d] = 0.0
            logits = lm.model(input_ids=torch.tensor([encode(lm, text).ids])).logits[0, -1]
    finally:
        with torch.no_grad():
            proj.weight.copy_(kept)
    return torch.log_softmax(logits.float(), -1)  # (V,)


def _mean_mlp(lm, layer: int, text: str) -> torch.Tensor:
    """log p at the last position with one MLP's output replaced by its mean over positions."""
    mlp = lm.model.model.layers[layer - 1].mlp
    handle = mlp.register_forward_hook(lambda m, a, o: o.mean(1, keepdim=True).expand_as(o))
    try:
        with torch.no_grad():
            logits = lm.model(input_ids=torch.tensor([encode(lm, text).ids])).logits[0, -1]
    finally:
        handle.remove()
    return torch.log_softmax(logits.float(), -1)  # (V,)


@pytest.mark.numerics
def test_every_ablation_row_is_a_real_forward_of_the_ablated_model(tiny_llama3, monkeypatch):
    lm = tiny_llama3
    # two rows a call: the 2 × 15 ablation rows (every head and MLP) take 15 calls, as a long
    # prompt would
    monkeypatch.setattr("whyword.tasks.components.rows_per_batch", lambda *a, **k: 2)
    dla = ww.layers(TEXT, target=" the", foil=" table", model=lm, check=15).components
    assert [a.component for a in dla.ablations] == list(dla.top(15))
    with torch.no_grad():
        clean = torch.log_softmax(lm.model(input_ids=torch.tensor([encode(lm, TEXT).ids])).logits[0, -1], -1)
    the, table = lm.tokenizer.encode(" the")[0], lm.tokenizer.encode(" table")[0]
    for a in dla.ablations:
        c = a.component
        if c.kind == "head":
            lp = _zeroed_head(lm, c.layer, c.head, TEXT)
            assert_close(a.zero_log_prob, lp[the] - clean[the], LOG_PROB)
            want = (lp[the] - lp[table]) - (clean[the] - clean[table])
            assert_close(a.zero_difference, want, LOG_PROB)
        else:
            lp = _mean_mlp(lm, c.layer, TEXT)
            assert_close(a.mean_log_prob, lp[the] - clean[the], LOG_PROB)
    assert {a.component.kind for a in dla.ablations} == {"head", "mlp"}, "both kinds checked"
    effects = [a.effect("zero", foil=True) for a in dla.ablations]
    assert_close(dla.zero_agreement, spearman([c.dla for c in dla.top(15)], effects), LOG_PROB)


def test_spearman_is_pearson_of_average_ranks():
    a, b = [0.3, -1.0, 2.0, 2.0, 0.1], [1.0, 0.0, 5.0, 3.0, 3.0]
    ra, rb = pd.Series(a).rank(), pd.Series(b).rank()  # average ranks for ties
    assert_close(spearman(a, b), float(ra.corr(rb)), LOG_PROB)
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)  # 1 − 6·2 / (4·15)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))  # a constant side: no ranking


def test_a_post_norm_model_gets_the_lens_and_one_sentence(tiny_bert):
    lens = ww.layers("The capital of France is [MASK].", model=tiny_bert)
    assert lens.components is None
    assert any("pre-norm model" in n for n in lens.notes)


def test_check_is_bounded(tiny_gpt2):
    with pytest.raises(ww.InputError, match="check must be a whole number from 0 to 50"):
        ww.layers(TEXT, model=tiny_gpt2, check=51)
    assert budget  # the check's batches are sized by the budget (patched above)


@pytest.mark.numerics
@pytest.mark.parametrize("name", ["tiny_llama3", "tiny_gpt2"])
def test_rows_share_the_blocks_their_patches_have_not_reached(name, request):
    """Rows sorted by the first block they patch: at each block the rows not reached yet are
    the plain prompt, run once and handed to each — every row still gets its own forward."""
    from whyword.models import calls as model_calls
    from whyword.models.anatomy import anatomy
    from whyword.models.hooks import Patch

    lm = request.getfixturevalue(name)
    body = anatomy(lm)
    last = len(body.blocks) - 1
    ids = torch.tensor([encode(lm, TEXT).ids])  # (1, T)
    where = torch.tensor([ids.shape[1] - 1])  # (1,)
    ones = torch.ones(lm.model.config.hidden_size)  # (H,)
    patches = [
        Patch(0, body.block(1).out_proj, "input", slice(0, body.head_dim)),  # block 2's head 0
        Patch(1, body.block(last).mlp, "output", slice(None), ones),  # the last MLP
    ]  # row 2: no patch, the plain prompt
    changed = [int(i >= 1) + int(i >= last) for i in range(last + 1)]
    calls = []
    handles = [
        module.register_forward_hook(lambda m, a, o: calls.append(_batch(a, o)))
        for module in body.blocks
    ]
    try:
        with torch.no_grad():
            alone = model_calls.patched(lm, ids, where, patches, 3)  # (3, 1, V')
            calls.clear()
            shared = model_calls.patched(lm, ids, where, patches, 3, body.blocks, changed)
    finally:
        for handle in handles:
            handle.remove()
    assert_close(shared, alone, TINY_FP32)
    assert calls == [min(c + 1, 3) for c in changed], "each block ran the rows it changes + 1"
    with torch.no_grad():
        clean = lm.model(input_ids=ids).logits[:, -1]  # (1, V')
    assert_close(shared[2], clean, TINY_FP32)
    assert (shared[0] - clean).abs().max() > 1e-4 and (shared[1] - clean).abs().max() > 1e-4


def _batch(args, out) -> int:
    hidden = args[0] if args else out  # (B, T, H)
    return int(hidden.shape[0])


@pytest.mark.numerics
@pytest.mark.parametrize("foil", [None, " table"])
def test_lrp_of_the_last_mlp_is_its_dla(tiny_llama3, foil):
    """Two routes to the last MLP's share: AttnLRP's relevance (LXT holds the norm's scale
    fixed, and only the read-out lies after the last MLP) and DLA. Every other part differs
    (relevance also counts what later parts did with it); the agreement says by how much."""
    lens = ww.layers(TEXT, target=" the", foil=foil, model=tiny_llama3, check=6)
    rel = ww.component_relevance(TEXT, target=" the", foil=foil, model=tiny_llama3)
    dla = lens.components
    last = next(c for c in dla.components if c.kind == "mlp" and c.layer == dla.layers)
    assert_close(rel.of(last), last.dla, DLA)
    agreement = rel.agreement(dla)
    inside = [c for c in dla.components if c.kind in ("head", "mlp")]
    want = spearman([rel.of(c) for c in inside], [c.dla for c in inside])
    assert agreement.components == len(inside) and agreement.checked == 6
    assert_close(agreement.dla, want, LOG_PROB)
    assert -1 <= agreement.zero_ablation <= 1 and -1 <= agreement.mean_ablation <= 1
