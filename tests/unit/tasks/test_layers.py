"""The logit lens (`whyword.layers`): every block's residual stream read out by the model's own
final norm and unembedding; the last layer is the model's logits."""

from __future__ import annotations

import math

import pytest
import torch

import whyword as ww
from tests.tolerances import DISTRIBUTION, DLA, TINY_FP32, Tolerance, assert_close
from whyword.models import calls as model_calls
from whyword.models.anatomy import anatomy
from whyword.models.encoding import encode
from whyword.models.load import freeze

TEXT = "The keys to the cabinet are on the"
# The lens's last row against the model's own logits: the same norm and head on one
# position instead of the whole call's, so float32 rounding of logits of magnitude ~1-30.
OWN_LOGITS = Tolerance("lens vs own logits", rtol=1e-5, atol=1e-5)




def _own_log_probs(lm, text: str, position: int) -> torch.Tensor:
    ids = torch.tensor([encode(lm, text).ids])  # (1, T)
    with torch.no_grad():
        logits = model_calls.logits(lm, ids=ids)[0, position].float()  # (V,)
    return torch.log_softmax(logits[: lm.vocab_size], -1)  # (V,)


@pytest.mark.numerics
@pytest.mark.parametrize("name", ["tiny_gpt2", "tiny_llama3"])
def test_the_last_layer_is_the_models_own_prediction(name, request):
    lm = request.getfixturevalue(name)
    lens = ww.layers(TEXT, model=lm, k=5)
    n = len(anatomy(lm).blocks)
    assert [r.layer for r in lens.rows] == list(range(n + 1)) and lens.rows[0].label == "embeddings"
    assert lens.max_error <= OWN_LOGITS.atol + OWN_LOGITS.rtol * 30
    own = _own_log_probs(lm, TEXT, lens.position)
    last = lens.rows[-1]
    assert lens.target_id == int(own.argmax()) and last.target_rank == 1  # default: the top-1
    assert_close([c.log_prob for c in last.top], torch.topk(own, 5).values, DISTRIBUTION)
    assert [c.token_id for c in last.top] == torch.topk(own, 5).indices.tolist()


@pytest.mark.numerics
def test_a_middle_row_is_the_stream_through_the_final_norm_and_head(tiny_llama3):
    """Row 1 by hand: the first block's output at the last position, RMSNorm, lm_head."""
    lm = tiny_llama3
    ids = torch.tensor([encode(lm, TEXT).ids])  # (1, T)
    with torch.no_grad():
        hidden = lm.model.model(input_ids=ids, output_hidden_states=True).hidden_states
        logits = lm.model.lm_head(lm.model.model.norm(hidden[1][0, -1]))  # (V,)
    want = torch.log_softmax(logits, -1)  # (V,)
    row = ww.layers(TEXT, target=" the", foil=" table", model=lm, k=3).rows[1]
    assert_close([c.log_prob for c in row.top], torch.topk(want, 3).values, TINY_FP32)
    the, table = lm.tokenizer.encode(" the")[0], lm.tokenizer.encode(" table")[0]
    assert_close(row.target_probability, want[the].exp(), TINY_FP32)
    assert row.target_rank == int((want > want[the]).sum()) + 1
    assert row.foil_rank == int((want > want[table]).sum()) + 1


@pytest.mark.numerics
def test_a_masked_model_reads_its_mask(tiny_bert):
    lens = ww.layers("The capital of France is [MASK].", model=tiny_bert, k=4)
    assert (
        lens.kind == "masked" and lens.tokens[lens.position].id == tiny_bert.tokenizer.mask_token_id
    )
    own = _own_log_probs(tiny_bert, "The capital of France is [MASK].", lens.position)
    assert [c.token_id for c in lens.rows[-1].top] == torch.topk(own, 4).indices.tolist()
    assert lens.max_error <= OWN_LOGITS.atol + OWN_LOGITS.rtol * 30


def test_results_check_themselves_and_say_where_the_target_enters(tiny_gpt2):
    lens = ww.layers(TEXT, target=" the", foil=" table", model=tiny_gpt2, k=3)
    assert lens.foil is not None and all(r.foil_rank >= 1 for r in lens.rows)
    first = lens.first_layer_in_top(3)
    assert first is None or lens.rows[first].target_rank <= 3
    assert all(lens.rows[i].target_rank > 3 for i in range(first if first is not None else 0))
    frame = lens.to_dataframe()
    assert list(frame.columns)[:6] == [
        "layer", "label", "target_probability", "target_rank", "foil_probability", "foil_rank"
    ]  # fmt: skip
    assert all(0 <= p <= 1 for p in frame.target_probability)
    assert (
        sum(math.exp(c.log_prob) for c in lens.rows[-1].top) <= 1 + 1e-6
    )  # a top-k of one distribution


def test_a_word_of_several_tokens_is_followed_by_its_first(tiny_gpt2):
    lens = ww.layers(TEXT, target=" cabinetry", model=tiny_gpt2)
    pieces = tiny_gpt2.tokenizer.encode(" cabinetry")
    assert lens.target_id == pieces[0]
    assert (len(pieces) > 1) == any("first" in n for n in lens.notes)


def test_bad_requests_are_one_sentence(tiny_gpt2):
    with pytest.raises(ww.InputError, match="outside the text"):
        ww.layers(TEXT, position=99, model=tiny_gpt2)
    with pytest.raises(ww.InputError, match="k must"):
        ww.layers(TEXT, k=0, model=tiny_gpt2)


def test_another_architecture_gets_one_sentence(tiny_gpt2):
    class Odd(torch.nn.Module):
        config = None

        def forward(self, **kwargs):  # pragma: no cover - never run
            raise AssertionError

    lm = freeze(Odd(), tiny_gpt2.tokenizer, "causal", "odd")
    with pytest.raises(ww.InputError, match=r"knows the Llama .* 'odd' \(Odd\)"):
        anatomy(lm)


@pytest.mark.slow
@pytest.mark.numerics
def test_default_model_paris_forms_in_the_last_layers(smol):
    """SmolLM2-135M: ␣Paris is the last layer's top-1, enters the top 5 late (the lens of a
    small model reads little before its last blocks), and ␣London stays behind it."""
    lens = ww.layers("The capital of France is", target=" Paris", foil=" London", model=smol)
    assert lens.max_error <= OWN_LOGITS.atol + OWN_LOGITS.rtol * 30
    last = lens.rows[-1]
    assert last.target_rank == 1 and last.foil_rank > 1
    entered = lens.first_layer_in_top(5)
    assert entered is not None and entered >= len(lens.rows) // 2
    dla = lens.components
    assert dla.objective == "logit difference" and len(dla.ablations) == 10
    assert_close(dla.frozen_total, dla.real, DLA)  # RMSNorm frozen at its own scale: exact
    # the head that writes most of ␣Paris − ␣London is the one whose removal costs most
    top = dla.top(1)[0]
    strongest = max(dla.ablations, key=lambda a: a.effect("zero", foil=True))
    assert top.kind == "head" and strongest.component == top
