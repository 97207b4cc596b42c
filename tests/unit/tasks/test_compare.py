"""Two models side by side (`whyword.compare`): each side is `explain` of that model alone, the
agreement is Spearman's ρ worked out by hand, tokenizers that differ are compared word by word,
causal and masked models are not mixed, one model at a time runs them in turn, and the command
line runs (the display and the pairing by hand: tests/unit/results/test_compare.py)."""

from __future__ import annotations

import json
import math

import pytest

import whyword as ww
from tests.tolerances import SAME_ARITHMETIC, assert_close
from tests.unit.cli.test_cli import run
from whyword.engine.cache import RESULTS
from whyword.results.compare import Comparison

TEXT = "the cat sat on the mat"
METHODS = ["saliency", "input_x_gradient"]


@pytest.fixture(scope="module")
def gpt2_seed1(tiny_paths, tmp_path_factory) -> str:
    """A second tiny GPT-2 on disk: the same tokenizer (same ids), other random weights."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    tok = AutoTokenizer.from_pretrained(tiny_paths["gpt2"])
    torch.manual_seed(1)
    config = GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=32, n_layer=2, n_head=2)
    folder = tmp_path_factory.mktemp("gpt2-seed1")
    GPT2LMHeadModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def llama_wordpiece(tiny_bert):
    """A causal tiny Llama reading the tiny BERT's WordPiece tokenizer: tokens unlike GPT-2's."""
    from tests.tiny import llama_family

    return llama_family(vocab_size=len(tiny_bert.tokenizer), tokenizer=tiny_bert.tokenizer, seed=3)


def hand_spearman(a: list[float], b: list[float]) -> float:
    """1 − 6 Σ d² / (n (n² − 1)), for values without ties."""
    assert len(set(a)) == len(a) and len(set(b)) == len(b), "the formula needs no ties"
    rank = lambda v: {i: r for r, i in enumerate(sorted(range(len(v)), key=v.__getitem__))}  # noqa: E731
    ra, rb = rank(a), rank(b)
    n = len(a)
    return 1 - 6 * sum((ra[i] - rb[i]) ** 2 for i in range(n)) / (n * (n * n - 1))


def test_one_tokenizer_each_side_is_explain_alone_and_rho_is_by_hand(tiny_gpt2, tiny_llama):
    RESULTS.clear()  # so the sides below are computed again, not handed back from the cache
    c = ww.compare(TEXT, models=(tiny_gpt2, tiny_llama), methods=METHODS)
    RESULTS.clear()
    alone_a = ww.explain(TEXT, methods=METHODS, model=tiny_gpt2)
    RESULTS.clear()
    alone_b = ww.explain(TEXT, target=alone_a.target, methods=METHODS, model=tiny_llama)
    assert isinstance(c, Comparison) and c.level == "token"
    assert c.explanations[1].target == c.explanations[0].target == alone_a.target  # A's top-1
    for side, alone in zip(c.explanations, (alone_a, alone_b), strict=True):
        assert side.target_ids == alone.target_ids and side.tokens == alone.tokens
        assert_close(side.target_log_prob, alone.target_log_prob, SAME_ARITHMETIC)
        for m in METHODS:
            assert_close(side.attribution(m).scores, alone.attribution(m).scores, SAME_ARITHMETIC)
    assert c.target_rank(0) == 1  # the target is A's top-1
    assert_close(c.target_probability(1), alone_b.target_probability, SAME_ARITHMETIC)
    keep = [i for i, t in enumerate(alone_a.tokens) if not t.special and t.attributed]
    for m in METHODS:
        a = [alone_a.attribution(m).scores[i] for i in keep]
        b = [alone_b.attribution(m).scores[i] for i in keep]
        assert c.agreement(m).compared == tuple(keep)
        assert_close(c.agreement(m).rho, hand_spearman(a, b), SAME_ARITHMETIC)
    frame = c.to_dataframe()
    assert_close(
        frame["input_x_gradient_diff"].to_numpy(),
        [y - x for x, y in zip(*(c.scores("input_x_gradient", s) for s in (0, 1)), strict=True)],
        SAME_ARITHMETIC,
    )
    data = json.loads(json.dumps(c.to_dict()))
    assert data["level"] == "token" and data["models"][0]["target_rank"] == 1
    assert set(data["agreement"]) == set(METHODS)


def test_two_tokenizers_compare_word_by_word_with_a_target_word_each(tiny_gpt2, llama_wordpiece):
    c = ww.compare(TEXT, models=(tiny_gpt2, llama_wordpiece), target="mat", methods=METHODS)
    assert c.level == "word" and any("word by word" in n for n in c.notes)
    a, b = c.explanations
    assert a.tokens != b.tokens  # really two tokenizations
    for e, lm in ((a, tiny_gpt2), (b, llama_wordpiece)):  # "mat" resolved by each tokenizer
        assert e.target.strip() == "mat"
        assert lm.tokenizer.decode(list(e.target_ids)).strip() == "mat"
    assert [u.label for u in c.units] == TEXT.split()
    for side, e in enumerate(c.explanations):
        words = e.segmentation("word").segments
        for u in c.units:  # a word's score: its tokens' input × gradient summed, by hand
            seg = words[u.positions[side]]
            assert TEXT[seg.start : seg.end] == u.label == TEXT[u.start : u.end]
            by_hand = sum(e.attribution("input_x_gradient").scores[t] for t in seg.tokens)
            k = c.units.index(u)
            assert_close(c.scores("input_x_gradient", side)[k], by_hand, SAME_ARITHMETIC)
    for m in METHODS:
        want = hand_spearman(*(list(c.scores(m, s)) for s in (0, 1)))
        assert_close(c.agreement(m).rho, want, SAME_ARITHMETIC)


def test_refusals_are_one_sentence(tiny_paths, tiny_gpt2, tiny_bert, tiny_llama):
    from whyword.models.load import loaded_models

    with pytest.raises(ww.InputError, match="causal model and .* masked"):
        ww.compare("the cat [MASK] on the mat", models=(tiny_gpt2, tiny_bert), methods=METHODS)
    before = loaded_models()
    with pytest.raises(ww.InputError, match="causal model and .* masked"):  # told by the configs
        ww.compare("the cat [MASK] on the mat", models=(tiny_paths["gpt2"], tiny_paths["bert"]))
    assert loaded_models() == before  # refused before loading or explaining anything
    with pytest.raises(ww.InputError, match="two models"):
        ww.compare(TEXT, models=(tiny_gpt2,), methods=METHODS)
    with pytest.raises(ww.InputError, match="as a word"):
        ww.compare(TEXT, models=(tiny_gpt2, tiny_llama), target=5, methods=METHODS)


def test_one_model_at_a_time_runs_them_one_after_another(tiny_paths, gpt2_seed1, monkeypatch):
    from whyword.models.load import loaded_models

    monkeypatch.setenv("WHYWORD_MAX_MODELS", "1")
    c = ww.compare(TEXT, models=(tiny_paths["gpt2"], gpt2_seed1), methods=["saliency"])
    assert any("one after another" in n for n in c.notes)
    assert loaded_models() == [gpt2_seed1]  # the first left when the second came in
    assert c.level == "token" and not math.isnan(c.agreement("saliency").rho)


def test_cli_compare_end_to_end(capsys, tiny_paths, gpt2_seed1):
    models = ["--model", tiny_paths["gpt2"], "--model", gpt2_seed1]
    code, out, _ = run(capsys, "compare", TEXT, *models, "--method", "saliency", "--json")
    data = json.loads(out)
    assert code == 0 and data["level"] == "token" and len(data["models"]) == 2
    assert data["models"][1]["target"] == data["models"][0]["target"]
    code, out, _ = run(capsys, "compare", TEXT, *models, "--target", "mat", "--method", "saliency")
    assert code == 0 and "agreement (Spearman ρ over tokens" in out and "'␣mat'" not in out
    assert "target ' mat'" in out
    code, _, err = run(capsys, "compare", TEXT, "--model", gpt2_seed1, "--method", "saliency")
    assert code == 2 and err.count("\n") == 1 and "two models" in err
