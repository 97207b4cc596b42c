"""AttnLRP through LXT: same numbers as LXT's own patching, LRP conservation where the rules
promise it, nothing left patched after the context, safe beside other threads."""

from __future__ import annotations

import copy
import threading

import pytest
import torch

from tests.tiny import llama_family
from tests.tolerances import SAME_ARITHMETIC, TINY_FP32, assert_close
from whyword.attr import attnlrp as lrp
from whyword.errors import InputError
from whyword.models.load import LoadedModel, freeze

needs_lxt = pytest.mark.skipif(
    not lrp.lxt_installed(), reason="AttnLRP needs lxt: pip install --no-deps lxt==2.1"
)


def tiny(arch: str, seed: int = 0) -> LoadedModel:
    """A tiny random causal LM of a Llama-family architecture (no tokenizer: ids only)."""
    return llama_family(arch, seed)


@pytest.fixture(params=["llama", "qwen2", "qwen3", "gpt2"])
def causal(request, tiny_gpt2) -> LoadedModel:
    return tiny_gpt2 if request.param == "gpt2" else tiny(request.param)


def ids_for(lm: LoadedModel, length: int = 9) -> torch.Tensor:
    return torch.randint(3, lm.vocab_size, (1, length), generator=torch.Generator().manual_seed(1))


def top(lm: LoadedModel, ids: torch.Tensor) -> tuple[int, float]:
    with torch.no_grad():
        row = lm.model(input_ids=ids).logits[0, -1]  # (V,)
    return int(row.argmax()), float(row.max())


def plain_gradient(lm: LoadedModel, ids: torch.Tensor, target: int) -> torch.Tensor:
    embeds = lm.embed(ids).detach().requires_grad_(True)  # (1, T, H)
    (grad,) = torch.autograd.grad(lm.model(inputs_embeds=embeds).logits[0, -1, target], embeds)
    return grad  # (1, T, H)


def blocks(model) -> tuple[list, list, torch.nn.Module]:
    """(decoder blocks, the norm before each block's MLP, the final norm)."""
    if hasattr(model, "transformer"):  # GPT-2
        layers = list(model.transformer.h)
        return layers, [b.ln_2 for b in layers], model.transformer.ln_f
    layers = list(model.model.layers)
    return layers, [b.post_attention_layernorm for b in layers], model.model.norm


def relevance_chain(lm: LoadedModel, ids: torch.Tensor, target: int) -> list[tuple[str, float]]:
    """Σ relevance (x · ∂logit/∂x) on the residual stream at each block's input ("in"), before
    its MLP ("mid") and before the final norm, inside the AttnLRP context."""
    layers, mids, final = blocks(lm.model)
    seen: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module, args, kwargs) -> None:
            seen[name] = args[0] if args else kwargs["hidden_states"]

        return hook

    handles = [
        m.register_forward_pre_hook(keep(f"in{i}"), with_kwargs=True) for i, m in enumerate(layers)
    ]
    handles += [
        m.register_forward_pre_hook(keep(f"mid{i}"), with_kwargs=True) for i, m in enumerate(mids)
    ]
    handles.append(final.register_forward_pre_hook(keep("final"), with_kwargs=True))
    try:
        with lrp.attnlrp(lm):
            embeds = lm.embed(ids).detach().requires_grad_(True)  # (1, T, H)
            logit = lm.model(inputs_embeds=embeds).logits[0, -1, target]
            names = list(seen)  # in forward order: in0, mid0, in1, ..., final
            grads = torch.autograd.grad(logit, [seen[n] for n in names])
    finally:
        for handle in handles:
            handle.remove()
    return [
        (n, float((seen[n].detach() * g).sum() / logit.detach()))
        for n, g in zip(names, grads, strict=True)
    ]


@pytest.mark.numerics
@needs_lxt
def test_forward_unchanged_inside_and_everything_restored_after(causal) -> None:
    ids = ids_for(causal)
    target, _ = top(causal, ids)
    impl = causal.model.config._attn_implementation
    with torch.no_grad():
        before = causal.model(input_ids=ids).logits  # (1, T, V)
    grad_before = plain_gradient(causal, ids, target)  # (1, T, H)
    with lrp.attnlrp(causal):
        assert causal.model.config._attn_implementation != impl  # the LXT-wrapped attention
        with torch.no_grad():
            inside = causal.model(input_ids=ids).logits  # (1, T, V)
    assert_close(inside, before, TINY_FP32)  # the rules change gradients only
    assert causal.model.config._attn_implementation == impl
    assert not [m for m in causal.model.modules() if "forward" in m.__dict__]
    assert torch.equal(plain_gradient(causal, ids, target), grad_before)


@needs_lxt
def test_restored_when_the_body_raises() -> None:
    lm = tiny("llama")
    with pytest.raises(RuntimeError), lrp.attnlrp(lm):
        raise RuntimeError("boom")
    assert lm.model.config._attn_implementation == "sdpa"
    assert not [m for m in lm.model.modules() if "forward" in m.__dict__]


@pytest.mark.numerics
@needs_lxt
def test_same_relevances_as_lxts_own_global_patch(monkeypatch) -> None:
    """LXT's documented route (patch the classes and the module's attention functions) and the
    per-instance route give the same numbers. The global patch is undone by monkeypatch."""

    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.models.llama import modeling_llama

    lm = tiny("llama")
    ids = ids_for(lm)
    target, _ = top(lm, ids)
    ours = lrp.attnlrp_scores(lm, ids, target)  # (T,)
    patches = lrp._load_lxt()
    rules = lrp._lxt_module("models.llama").attnLRP
    for name in ("eager_attention_forward", "ALL_ATTENTION_FUNCTIONS"):
        monkeypatch.setattr(modeling_llama, name, getattr(modeling_llama, name))
    for cls in (c for c in rules if isinstance(c, type)):
        monkeypatch.setattr(cls, "forward", cls.forward)
        assert rules[cls](cls)  # LXT's patch_method on the class
    monkeypatch.setattr(modeling_llama, "ALL_ATTENTION_FUNCTIONS", {"sdpa": sdpa_attention_forward})
    assert patches.patch_attention(modeling_llama)  # leaves a plain dict: the transformers 5 fix
    fixed = AttentionInterface()
    fixed["sdpa"] = modeling_llama.ALL_ATTENTION_FUNCTIONS["sdpa"]
    modeling_llama.ALL_ATTENTION_FUNCTIONS = fixed
    grad = plain_gradient(lm, ids, target)  # (1, T, H) now LXT's relevance gradient
    theirs = (lm.embed(ids) * grad)[0].sum(-1)  # (T,)
    assert_close(ours, theirs, TINY_FP32)


@pytest.mark.numerics
@needs_lxt
def test_relevance_is_conserved_where_the_rules_promise_it(causal) -> None:
    """Through the LM head and final norm, and across every MLP block, the sum is conserved
    exactly; only attention (its softmax) loses some, so the input sum is near the logit."""
    ids = ids_for(causal)
    target, logit = top(causal, ids)
    chain = dict(relevance_chain(causal, ids, target))
    assert chain["final"] == pytest.approx(1.0, abs=1e-4)
    layers = len(blocks(causal.model)[0])
    for i in range(layers):
        after = chain[f"in{i + 1}"] if i + 1 < layers else chain["final"]
        assert chain[f"mid{i}"] == pytest.approx(after, abs=1e-4), f"MLP block {i}"
    assert 0.8 < chain["in0"] < 1.15  # tiny random models: 0.89–0.98 measured
    scores = lrp.attnlrp_scores(causal, ids, target)  # (T,)
    if lrp.architecture(causal) != "gpt2":  # GPT-2's learned position embeddings take a share
        assert float(scores.sum()) / logit == pytest.approx(chain["in0"], abs=1e-4)
    plain = (causal.embed(ids) * plain_gradient(causal, ids, target))[0].sum(-1)  # (T,)
    assert (scores - plain).abs().max() > 0.1 * scores.abs().max()  # the rules took effect


@pytest.mark.numerics
@needs_lxt
def test_ids_and_embeddings_give_the_same_relevances() -> None:
    lm = tiny("llama")
    ids = ids_for(lm)
    assert_close(
        lrp.attnlrp_scores(lm, ids, 7), lrp.attnlrp_scores(lm, lm.embed(ids), 7), SAME_ARITHMETIC
    )


@pytest.mark.numerics
@needs_lxt
def test_logprob_relevance_is_the_logit_relevance_minus_its_expectation() -> None:
    """∂ log p_t = ∂ z_t − Σ_j p_j ∂ z_j, and relevance is linear in the gradient."""
    lm = tiny("llama")
    ids = ids_for(lm, 5)
    with torch.no_grad():
        probs = lm.model(input_ids=ids).logits[0, -1].softmax(-1)  # (V,)
    per_logit = torch.stack(
        [lrp.attnlrp_scores(lm, ids, j) for j in range(lm.vocab_size)]
    )  # (V, T)
    expected = per_logit[3] - probs @ per_logit  # (T,)
    got = lrp.attnlrp_scores(lm, ids, 3, objective="logprob")  # (T,)
    assert_close(got, expected, TINY_FP32)


@pytest.mark.numerics
@needs_lxt
def test_a_contrast_is_the_difference_of_relevances_and_the_logits_come_free() -> None:
    lm = tiny("llama")
    ids = ids_for(lm)
    leaf = lm.embed(ids).detach().requires_grad_(True)  # (1, T, H) a caller's leaf
    result = lrp.attnlrp_relevance(lm, leaf, lambda z: z[0, -1, 5] - z[0, -1, 9])
    expected = lrp.attnlrp_scores(lm, ids, 5) - lrp.attnlrp_scores(lm, ids, 9)  # (T,)
    assert_close(result.scores, expected, TINY_FP32)
    with torch.no_grad():
        logits = lm.model(input_ids=ids).logits  # (1, T, V)
    assert_close(result.logits, logits, TINY_FP32)
    assert_close(result.value, float(logits[0, -1, 5] - logits[0, -1, 9]), TINY_FP32)
    assert result.conserved == pytest.approx(float(expected.sum()) / result.value, rel=1e-5)
    assert leaf.grad is None


@pytest.mark.numerics
@needs_lxt
def test_sdpa_and_eager_attention_agree() -> None:
    lm = tiny("llama")
    eager = freeze(copy.deepcopy(lm.model), None, kind="causal", name="tiny-eager")
    eager.model.config._attn_implementation = "eager"
    ids = ids_for(lm)
    a, b = lrp.attnlrp_scores(lm, ids, 5), lrp.attnlrp_scores(eager, ids, 5)  # (T,) each
    assert_close(a, b, TINY_FP32)


@needs_lxt
def test_other_models_of_the_same_architecture_are_untouched_meanwhile(one_torch_thread) -> None:
    """A thread runs AttnLRP on model A while another takes plain gradients of B, a copy of A
    with the same weights: B's gradients stay bit-equal to the single-threaded ones."""
    a = tiny("llama")
    b = freeze(copy.deepcopy(a.model), None, kind="causal", name="tiny-b")
    ids = ids_for(a)
    reference = plain_gradient(b, ids, 5)  # (1, T, H)
    lrp_grad_like = lrp.attnlrp_scores(a, ids, 5)  # (T,)
    assert not torch.allclose(lrp_grad_like, (b.embed(ids) * reference)[0].sum(-1), atol=1e-3)
    stop, failures = threading.Event(), []

    def run_lrp() -> None:
        while not stop.is_set():
            lrp.attnlrp_scores(a, ids, 5)

    worker = threading.Thread(target=run_lrp)
    worker.start()
    try:
        for _ in range(40):
            if not torch.equal(plain_gradient(b, ids, 5), reference):
                failures.append(1)
    finally:
        stop.set()
        worker.join()
    assert not failures


def test_support_decision(tiny_gpt2, tiny_bert, tiny_roberta) -> None:
    assert lrp.architecture(tiny_bert) == "bert"
    assert lrp.why_not(tiny_gpt2) is None or not lrp.lxt_installed()
    for lm, sentence in (
        (tiny_bert, lrp.BROKEN["bert"]),
        (tiny_roberta, "AttnLRP has no rules for roberta models in LXT; pick another method."),
    ):
        assert lrp.why_not(lm) == sentence
        assert not lrp.supported(lm)
        with pytest.raises(InputError, match="pick another method"):
            lrp.attnlrp_scores(lm, torch.tensor([[5, 6, 7]]), 3)


def test_missing_lxt_is_one_sentence_naming_the_install(monkeypatch) -> None:
    monkeypatch.setattr(lrp, "lxt_installed", lambda: False)
    lm = tiny("llama")
    assert lrp.why_not(lm) == (
        "AttnLRP needs LXT, which is not installed: run `pip install --no-deps lxt==2.1`."
    )
    with pytest.raises(InputError, match=r"pip install --no-deps lxt==2\.1"):
        lrp.attnlrp_scores(lm, ids_for(lm), 3)


@needs_lxt
@pytest.mark.slow
def test_default_model_paris(smol) -> None:
    tok = smol.tokenizer
    ids = torch.tensor([tok("The capital of France is")["input_ids"]])  # (1, T)
    paris, rome = (tok(w)["input_ids"][0] for w in (" Paris", " Rome"))
    with torch.no_grad():
        logit = float(smol.model(input_ids=ids).logits[0, -1, paris])
    scores = lrp.attnlrp_scores(smol, smol.embed(ids), paris)  # (T,)
    assert 0.25 < float(scores.sum()) / logit < 0.55  # 0.37 measured; 0.14–0.47 on 8 prompts
    assert float(scores[scores.abs().argmax()]) > 0  # the most relevant token supports Paris
    france = tok.convert_ids_to_tokens(ids[0]).index("ĠFrance")
    assert float(scores[france]) > 0
    assert float(scores[france]) > float(lrp.attnlrp_scores(smol, ids, rome)[france])


@pytest.mark.numerics
def test_the_registered_method_equals_the_direct_route(tiny_paths):
    """`attnlrp` in the matrix (batched rows, logit objective) = attnlrp_scores one by one."""
    import whyword as ww
    from whyword.models.encoding import encode

    lm = ww.load_model(tiny_paths["gpt2"])
    ids = encode(lm, "The capital of France is").ids
    rows = [ww.Output(position=p, target=7, objective="logit") for p in (2, len(ids) - 1)]
    m = ww.attribute(lm, ids, rows, "attnlrp")
    for r, p in enumerate((2, len(ids) - 1)):
        direct = lrp.attnlrp_scores(lm, torch.tensor([ids]), 7, position=p).numpy()  # (T,)
        assert_close(m.scores("attnlrp")[r][: p + 1], direct[: p + 1], TINY_FP32)


def test_the_registered_method_refuses_a_model_without_rules(tiny_paths):
    import whyword as ww

    with pytest.raises(ww.InputError, match="pick another method"):
        ww.explain("the capital of [MASK] is paris .", methods="attnlrp", model=tiny_paths["bert"])
