"""Predictions, masks and targets: what `predict` and `explain` read, on the default model and
on tiny random causal and masked models."""

from __future__ import annotations

import pytest

import whyword as ww
from tests.tolerances import TINY_FP32, assert_close
from whyword.models.encoding import encode
from whyword.models.load import load_model

# --- reference numbers on the real default model -------------------------------------------


@pytest.mark.slow
def test_default_model_predicts_paris(smol):
    frame = ww.predict("The capital of France is", k=5, model=smol)
    assert list(frame.columns) == ["rank", "token", "token_id", "probability"]
    assert frame.iloc[0]["token"] == "␣Paris"
    assert frame.iloc[0]["probability"] > 0.5
    assert frame["probability"].is_monotonic_decreasing


@pytest.mark.slow
def test_masked_prompt_on_causal_model_uses_infill_and_finds_paris(smol):
    frame = ww.predict("The capital of France is [MASK].", k=5, model=smol)
    assert frame.iloc[0]["token"] == "␣Paris"
    assert "Infill scoring" in frame.attrs["notes"][0]
    e = ww.explain("The capital of France is [MASK].", methods=("saliency",), model=smol)
    assert e.mode == "infill" and e.target == " Paris"
    assert [t.label for t in e.tokens][-1] == "."  # the right context is attributed too


@pytest.mark.numerics
@pytest.mark.slow
def test_infill_probabilities_form_a_distribution(smol):
    from whyword.engine.predict import predictions

    enc = encode(smol, "The capital of France is [MASK].")
    (pred,) = predictions(smol, enc, k=50, infill_candidates=50)
    assert sum(c.probability for c in pred.candidates) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.online
def test_distilgpt2_reference_from_seed_notebook():
    """Needs distilgpt2's weights from the Hub: runs with HF_HUB_OFFLINE=0 (and fails, not
    skips, when they cannot be fetched then)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained("distilgpt2", add_prefix_space=True)
    model = AutoModelForCausalLM.from_pretrained("distilgpt2")
    from whyword.models.load import freeze

    lm = freeze(model, tokenizer, kind="causal", name="distilgpt2")
    frame = ww.predict("This weekend I plan to", k=5, model=lm)
    expected = {
        "go": 0.059828,
        "take": 0.043880,
        "spend": 0.031570,
        "make": 0.030519,
        "do": 0.029206,
    }
    got = {row.token.lstrip("␣"): row.probability for row in frame.itertuples()}
    for word, p in expected.items():
        assert got[word] == pytest.approx(p, abs=2e-5)
    top = ww.predict("To be or not to", k=1, model=lm).iloc[0]
    assert top["token"] == "␣be" and top["probability"] == pytest.approx(0.648473, abs=2e-5)


# --- masked mode on tiny random BERT / RoBERTa ----------------------------------------------


@pytest.mark.parametrize("model_name, mask_token", [("bert", "[MASK]"), ("roberta", "<mask>")])
def test_literal_mask_maps_to_the_models_mask_token(tiny_paths, model_name, mask_token):
    lm = load_model(tiny_paths[model_name])
    enc = encode(lm, "The capital of [MASK] is Paris.")
    assert enc.mode == "masked" and len(enc.mask_positions) == 1
    assert enc.ids[enc.mask_positions[0]] == lm.tokenizer.mask_token_id
    assert lm.tokenizer.mask_token == mask_token


def test_several_masks_each_get_their_own_top_k(tiny_bert):
    frame = ww.predict("[MASK] capital of [MASK] is [MASK]", k=4, model=tiny_bert)
    assert sorted(frame["mask"].unique()) == [0, 1, 2]
    assert (frame.groupby("mask").size() == 4).all()
    e = ww.explain(
        "[MASK] capital of [MASK] is [MASK]", methods=("saliency",), model=tiny_bert, mask_index=2
    )
    top_of_third = frame[frame["mask"] == 2].iloc[0]["token_id"]
    assert e.target_ids == (top_of_third,) and e.mask == 2


def test_gradients_flow_to_every_token_in_masked_mode(tiny_roberta):
    e = ww.explain(
        "The capital of <mask> is Paris.",
        methods=("saliency", "integrated_gradients"),
        model=tiny_roberta,
        n_steps=8,
    )
    saliency = e.attribution("saliency").scores
    assert all(s > 0 for s in saliency)
    ig = e.attribution("integrated_gradients").scores
    special = [t.special for t in e.tokens]
    assert all((s == 0.0) == sp for s, sp in zip(ig, special, strict=True))  # specials are held


def test_multi_token_target_widens_the_mask(tiny_bert):
    e = ww.explain(
        "The capital of [MASK] is here.", target="zebra", methods=("saliency",), model=tiny_bert
    )
    masks = [t for t in e.tokens if t.id == tiny_bert.tokenizer.mask_token_id]
    assert len(e.target_ids) > 1 and len(masks) == len(e.target_ids)


def test_masked_model_without_mask_is_a_clear_error(tiny_bert):
    with pytest.raises(ww.InputError, match=r"\[MASK\]"):
        ww.predict("no mask here", model=tiny_bert)


def test_infill_allows_one_mask_on_a_causal_model(tiny_gpt2):
    with pytest.raises(ww.InputError, match="one \\[MASK\\]"):
        ww.predict("a [MASK] b [MASK]", model=tiny_gpt2)
    frame = ww.predict(
        "[MASK] capital of France", k=3, model=tiny_gpt2
    )  # mask first: BOS as context
    assert len(frame) == 3


# --- targets --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_word_typed_without_its_space_means_the_next_word(smol):
    e = ww.explain("The capital of France is", target="Paris", methods=("saliency",), model=smol)
    assert e.target == " Paris" and len(e.target_ids) == 1
    by_id = ww.explain(
        "The capital of France is", target=e.target_ids[0], methods=("saliency",), model=smol
    )
    assert by_id.target_ids == e.target_ids and by_id.value == pytest.approx(e.value)
    visible = ww.explain(
        "The capital of France is", target="␣Paris", methods=("saliency",), model=smol
    )
    assert visible.target_ids == e.target_ids


@pytest.mark.parametrize(
    "target, foil, message",
    [
        ("   ", None, "empty"),
        (10**9, None, "out of range"),
        (-1, None, "out of range"),
        (" Paris", " Paris", "same as the target"),
        ("x" * 300, None, "too long"),
    ],
)
def test_unrepresentable_targets_get_clear_messages(tiny_gpt2, target, foil, message):
    with pytest.raises(ww.TargetError, match=message):
        ww.explain("The capital of France is", target=target, foil=foil, model=tiny_gpt2)


@pytest.mark.numerics
def test_contrastive_value_is_the_log_prob_difference(tiny_gpt2):
    a = ww.explain("The capital of France is", target=" is", methods=("saliency",), model=tiny_gpt2)
    b = ww.explain(
        "The capital of France is", target=" the", methods=("saliency",), model=tiny_gpt2
    )
    ab = ww.explain(
        "The capital of France is",
        target=" is",
        foil=" the",
        methods=("saliency",),
        model=tiny_gpt2,
    )
    assert ab.objective == "contrastive"
    # one contrastive pass against two separate ones
    assert_close(ab.value, a.value - b.value, TINY_FP32)
    assert_close(ab.target_log_prob, a.value, TINY_FP32)


# --- options -------------------------------------------------------------------------------


def test_unknown_options_and_methods_are_named(tiny_gpt2):
    with pytest.raises(ww.InputError, match="Unknown option"):
        ww.explain("a b", model=tiny_gpt2, n_stepz=3)
    with pytest.raises(ww.InputError, match="Unknown method"):
        ww.explain("a b", methods=("lime",), model=tiny_gpt2)
    with pytest.raises(ww.InputError, match="between"):
        ww.explain("a b", model=tiny_gpt2, k=0)
