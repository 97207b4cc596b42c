"""Positions: every row is read off one forward's softmax at the previous position (causal) or at
the masked position (pseudo-log-likelihood), with ranks, surprisal and entropy consistent with it."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest
import torch

from tests.tolerances import DEFAULT_MODEL_FP32, ENTROPY, FP32, TINY_FP32, Tolerance, assert_close
from whyword import InputError, positions
from whyword.tasks.positions import position_table, text_ids

TEXT = "The capital of France is Paris. The capital of Italy is Rome."


def reference_log_probs(lm, ids) -> torch.Tensor:
    """log softmax of one plain forward, float64, row i predicting token i + 1."""
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0, :-1]  # (T-1, V)
    return torch.log_softmax(logits.double()[:, : lm.vocab_size], -1)  # (T-1, V)


def check_rows(frame: pd.DataFrame, ref: torch.Tensor, ids, vocab: int, tol: Tolerance) -> None:
    """Every row against the reference distribution that predicted it."""
    for row in frame.itertuples():
        dist = ref[row.position - 1]  # (V,) the distribution at the previous position
        p = math.exp(float(dist[ids[row.position]]))
        assert row.token_id == ids[row.position]
        assert_close(row.probability, p, tol, "probability")
        assert row.rank == 1 + int((dist > dist[row.token_id] + 1e-9).sum())
        assert (row.rank == 1) == (int(dist.argmax()) == row.token_id)
        assert row.surprisal == pytest.approx(-math.log2(row.probability), rel=1e-9)
        assert 0.0 <= row.entropy <= math.log2(vocab) + 1e-9
        entropy = float(-(dist.exp() * dist).sum()) / math.log(2)
        assert_close(row.entropy, entropy, ENTROPY, "entropy")
        assert row.top_k_ids[0] == int(dist.argmax())
        assert row.top_k_probabilities == sorted(row.top_k_probabilities, reverse=True)
        assert_close(row.top_k_probabilities[0], math.exp(float(dist.max())), tol, "top-1")


@pytest.mark.numerics
def test_causal_rows_are_one_forward_at_the_previous_position(tiny_gpt2):
    ids = text_ids(tiny_gpt2, TEXT)
    frame = positions(TEXT, k=4, model=tiny_gpt2)
    assert list(frame.position) == list(range(1, len(ids)))  # no BOS here: token 0 has no row
    assert frame.attrs["scoring"] == "causal"
    assert all(len(labels) == 4 for labels in frame.top_k)
    check_rows(frame, reference_log_probs(tiny_gpt2, ids), ids, tiny_gpt2.vocab_size, FP32)


@pytest.mark.numerics
def test_total_surprisal_is_the_log_probability_of_the_text(tiny_gpt2):
    ids = text_ids(tiny_gpt2, TEXT)
    table = position_table(tiny_gpt2, ids, k=3)
    ref = reference_log_probs(tiny_gpt2, ids)  # (T-1, V)
    log_p = float(ref.gather(-1, torch.tensor(ids[1:])[:, None]).sum())  # log p(x_1.. | x_0)
    assert_close(table.total_surprisal, -log_p / math.log(2), TINY_FP32)
    assert table.perplexity == pytest.approx(2 ** (table.total_surprisal / (len(ids) - 1)))


def test_dataframe_round_trips_through_json(tiny_gpt2):
    frame = positions(TEXT, k=3, model=tiny_gpt2)
    back = pd.read_json(io.StringIO(frame.to_json(orient="records")), orient="records")
    assert back.top_k.tolist() == frame.top_k.tolist()
    assert back.top_k_ids.tolist() == frame.top_k_ids.tolist()
    table = position_table(tiny_gpt2, text_ids(tiny_gpt2, TEXT), k=3)
    data = json.loads(table.to_json())
    assert [r["token"] for r in data["rows"]] == frame.token.tolist()
    assert len(data["tokens"]) == len(frame) + 1


@pytest.mark.numerics
def test_masked_lm_scores_each_position_masked_in_turn(tiny_bert):
    text = "the cat sat on the table"
    ids = text_ids(tiny_bert, text)
    frame = positions(text, k=3, model=tiny_bert)
    assert frame.attrs["scoring"] == "pseudo_log_likelihood"
    assert list(frame.position) == list(range(1, len(ids) - 1))  # [CLS] and [SEP] not scored
    for row in frame.itertuples():
        masked = list(ids)
        masked[row.position] = tiny_bert.tokenizer.mask_token_id
        with torch.no_grad():
            logits = tiny_bert.model(input_ids=torch.tensor([masked])).logits[0, row.position]
        dist = torch.log_softmax(logits.double()[: tiny_bert.vocab_size], -1)  # (V,)
        assert_close(row.probability, math.exp(float(dist[row.token_id])), FP32)
        assert (row.rank == 1) == (int(dist.argmax()) == row.token_id)


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_bert"])
def test_mask_in_the_text_is_refused(request, fixture):
    lm = request.getfixturevalue(fixture)
    with pytest.raises(InputError, match="remove \\[MASK\\]"):
        positions("the cat [MASK] on the mat", model=lm)


def test_one_token_text_has_no_rows(tiny_gpt2):
    frame = positions("The", model=tiny_gpt2)
    assert len(frame) == 0 and "probability" in frame.columns


@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_bert"])
def test_no_tensor_is_made_off_the_model_device(request, fixture):
    from tests.unit.models.test_devices import DeviceProbe

    lm = request.getfixturevalue(fixture)
    probe = DeviceProbe()
    with probe:
        positions("the cat sat on the table", model=lm)
    assert probe.missing == []


@pytest.mark.numerics
@pytest.mark.slow
def test_default_model_rows_match_one_forward(smol, one_torch_thread):
    ids = text_ids(smol, TEXT)
    frame = positions(TEXT, k=5, model=smol)
    assert len(frame) == len(ids) - 1
    ref = reference_log_probs(smol, ids)
    check_rows(frame, ref, ids, smol.vocab_size, DEFAULT_MODEL_FP32)
    paris = frame[frame.token == "␣Paris"].iloc[0]
    assert paris["rank"] <= 3  # the model knows the capital of France
