"""`whyword.counterfactuals`: every reported Δ is a forward of the edited input, HotFlip's
estimate is ∂F/∂e · (e_new − e_old) by hand, reduction keeps the target top-1 at every step
(scores recomputed), a flip really flips, candidates are readable, budgets hold."""

from __future__ import annotations

import pytest
import torch

import whyword as ww
from tests.tiny import Forwards
from tests.tolerances import DEFAULT_MODEL_LOG_PROB, LOG_PROB, TINY_FP32, assert_close
from whyword.errors import InputError, TargetError
from whyword.models import calls as model_calls
from whyword.models.vocabulary import candidate_ids
from whyword.text.tokens import BYTE_PIECE, special_ids, token_text

TEXT = "The capital of France is"
LONG = "This weekend I plan to go to the beach and take a walk with my"
SHORTENS = "The keys to the cabinet are on the table."  # the tiny model keeps its top-1 to "."

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def no_forward_cache(monkeypatch):
    """Forward counts and direct forwards are exact only when no reading comes from the
    forward cache (a sequence an earlier test ran)."""
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "0")


def direct(lm, ids, target, foil=None):
    """log p(target), log p(foil) (teacher-forced sums) and the top-1, by a plain forward."""
    read = len(ids) - 1 if lm.kind == "causal" else ids.index(lm.tokenizer.mask_token_id)

    def log_p(word):
        if lm.kind == "masked":
            seq, at = list(ids), [read]
        else:
            seq, at = list(ids) + list(word[:-1]), [read + j for j in range(len(word))]
        with torch.no_grad():
            logits = model_calls.logits(lm, ids=torch.tensor([seq]))[0].float()  # (T', V)
        lp = torch.log_softmax(logits[:, : lm.vocab_size], -1)  # (T', V)
        return float(sum(lp[p, t] for p, t in zip(at, word, strict=True))), int(lp[read].argmax())

    t, top = log_p(target)
    return t, None if foil is None else log_p(foil)[0], top


def edited(result, c):
    ids = [t.id for t in result.subject.tokens]
    for s in c.substitutions:
        assert ids[s.position] == s.old_id
        ids[s.position] = s.new_id
    return ids


@pytest.mark.numerics
@pytest.mark.parametrize(
    ("model", "text", "target", "foil"),
    [
        ("tiny_gpt2", TEXT, None, None),
        ("tiny_gpt2", TEXT, " Paris", " Rome"),  # two tokens each here: teacher-forced
        ("tiny_bert", "The capital of [MASK] is paris.", None, "rome"),
    ],
)
def test_every_reported_delta_is_a_forward_of_the_edited_input(model, text, target, foil, request):
    lm = request.getfixturevalue(model)
    hot = ww.counterfactuals(text, target, foil, model=lm, positions=3, per_position=4)
    s = hot.subject
    t0, f0, top0 = direct(lm, [t.id for t in s.tokens], s.target_ids, s.foil_ids)
    assert_close(s.original.target_log_prob, t0, LOG_PROB)
    assert len(hot.edits) == hot.forwards == 12 and len(set(hot.positions)) == 3
    specials = special_ids(lm.tokenizer)
    for c in hot.edits:
        (sub,) = c.substitutions
        assert sub.old_id not in specials, "specials (the [MASK] included) are never edited"
        t, f, top = direct(lm, edited(hot, c), s.target_ids, s.foil_ids)
        assert_close(c.reading.target_log_prob, t, LOG_PROB)
        assert_close(c.delta_log_prob, t - t0, LOG_PROB)
        assert c.reading.top1_id == top
        if foil is None:
            assert c.delta_contrast is None and c.flipped == (top != s.target_ids[0])
        else:
            assert_close(c.delta_contrast, (t - f) - (t0 - f0), LOG_PROB)
            assert c.flipped == (t < f)
    frame = hot.to_dataframe()
    assert list(frame["delta_log_prob"]) == [c.delta_log_prob for c in hot.edits]
    assert hot.to_dict()["subject"]["target_ids"] == hot.subject.target_ids
    real = [c.delta_log_prob if foil is None else c.delta_contrast for c in hot.edits]
    best = hot.best()
    assert best in hot.edits and (
        best.delta_log_prob if foil is None else best.delta_contrast
    ) == min(real)


@pytest.mark.numerics
@pytest.mark.parametrize("with_foil", [False, True])
def test_hotflip_estimate_is_the_hand_written_gradient_dot_product(tiny_gpt2, with_foil):
    lm = tiny_gpt2
    foil = None
    if with_foil:  # a one-token foil: any readable token but the top-1
        top = ww.counterfactuals(TEXT, model=lm, positions=1, per_position=1).subject
        foil = next(i for i in candidate_ids(lm).tolist() if i != top.target_ids[0])
    hot = ww.counterfactuals(TEXT, None, foil, model=lm, positions=5, per_position=3)
    assert len(hot.subject.target_ids) == 1, "the top-1: one token, F read at one position"
    ids = torch.tensor([t.id for t in hot.subject.tokens])  # (T,)
    x = lm.embed(ids).detach().unsqueeze(0).requires_grad_()  # (1, T, H)
    lp = torch.log_softmax(model_calls.logits(lm, embeds=x)[0, -1].float(), -1)  # (V,)
    f = lp[hot.subject.target_ids[0]]
    if foil is not None:
        f = f - lp[hot.subject.foil_ids[0]]
    (grad,) = torch.autograd.grad(f, x)  # (1, T, H)
    with torch.no_grad():
        for c in hot.edits:
            (s,) = c.substitutions
            new, old = lm.embed(torch.tensor([s.new_id, s.old_id]))  # (H,) each
            assert_close(s.estimate, float(grad[0, s.position] @ (new - old)), TINY_FP32)
    # positions ranked by their best estimate, candidates within a position by estimate
    firsts = [next(c for c in hot.edits if c.substitutions[0].position == p) for p in hot.positions]
    assert [c.estimate for c in firsts] == sorted(c.estimate for c in firsts)


def test_candidates_are_readable_words_never_specials_or_byte_pieces(tiny_gpt2, tiny_bert):
    for lm in (tiny_gpt2, tiny_bert):
        ids = candidate_ids(lm)
        assert ids.numel() > 10
        assert candidate_ids(lm) is ids, "computed once per tokenizer"
        specials = special_ids(lm.tokenizer)
        for i in ids.tolist():
            text = token_text(lm.tokenizer, i)
            piece = lm.tokenizer.convert_ids_to_tokens(i)
            assert i not in specials and not piece.startswith("##")
            assert BYTE_PIECE.match(text) is None and "\ufffd" not in text
            assert text[0] == " " and text[1:].isalpha()
    hot = ww.counterfactuals(TEXT, model=tiny_gpt2, positions=5, per_position=5)
    allowed = set(candidate_ids(tiny_gpt2).tolist())
    assert all(c.substitutions[0].new_id in allowed for c in hot.edits)
    assert "word-initial" in hot.vocabulary and hot.vocabulary_size == len(allowed)


def test_reduction_keeps_the_target_top1_at_every_verified_step(tiny_gpt2):
    lm = tiny_gpt2
    red = ww.counterfactuals(SHORTENS, kind="reduce", model=lm, method="saliency")
    s = red.subject
    ids = [t.id for t in s.tokens]
    assert red.recomputed and len(red.steps) >= 3, "the random tiny model lets tokens go"
    assert red.forwards >= len(red.steps)
    before = list(range(len(ids)))
    for step in red.steps:
        now = [ids[i] for i in step.kept]
        t, _, top = direct(lm, now, s.target_ids)
        assert top == s.target_ids[0] and step.reading.top1_id == top
        assert_close(step.reading.target_log_prob, t, LOG_PROB)
        # the score that chose it was recomputed on the input it was removed from
        m = ww.attribute(
            lm, [ids[i] for i in before], ww.Output(target=s.target_ids), methods=["saliency"]
        )
        scores = m.methods[0].scores[0]
        k = before.index(step.removed)
        assert_close(step.score, scores[k], TINY_FP32)
        removable = [j for j, i in enumerate(before) if ids[i] not in special_ids(lm.tokenizer)]
        assert sum(abs(scores[j]) < abs(scores[k]) for j in removable) < 3, "among the 3 least"
        before = list(step.kept)
    assert len(red.kept) == len(red.steps[-1].kept) < len(ids) and red.stopped


@pytest.mark.parametrize("foil", [None, " Rome"])
def test_a_flip_really_flips_and_the_budget_holds(tiny_gpt2, foil):
    lm = tiny_gpt2
    budget = 40
    with Forwards(lm.model) as seen:
        flip = ww.counterfactuals(
            LONG, None, foil, kind="flip", model=lm, budget=budget, per_position=6
        )
    sequences = 1 if foil is None else 2  # a foil is a second sequence per input
    # predictions (1) + the unedited reading + the gradient pass + every edited input
    assert seen.rows == 1 + 2 * sequences + sequences * flip.forwards
    assert flip.forwards <= budget and sum(flip.tried) == flip.forwards
    if flip.found is None:
        assert flip.message.startswith("No flip found within the budget")
        return
    s, c = flip.subject, flip.found
    t, f, top = direct(lm, edited(flip, c), s.target_ids, s.foil_ids)
    assert (t < f) if foil is not None else (top != s.target_ids[0])
    assert len(c.substitutions) == len(flip.tried), "found at the step it stopped"


def test_not_found_within_the_budget_is_said(tiny_gpt2):
    flip = ww.counterfactuals(LONG, kind="flip", model=tiny_gpt2, budget=1, per_position=1)
    assert flip.forwards == 1 and flip.tried == (1,)
    if flip.found is None:
        assert flip.message.startswith("No flip found within the budget (1 of 1")
    frame = flip.to_dataframe()
    assert len(frame) == (flip.found is not None)
    assert flip.to_dict()["message"] == flip.message


@pytest.mark.parametrize(
    ("model", "text", "kwargs", "error"),
    [
        ("tiny_gpt2", "The capital of [MASK] is Paris.", {}, InputError),
        ("tiny_gpt2", TEXT, {"kind": "swap"}, InputError),
        ("tiny_gpt2", TEXT, {"budget": 0}, InputError),
        ("tiny_gpt2", TEXT, {"target": " Paris", "foil": " Paris"}, TargetError),
        ("tiny_bert", "The capital of [MASK] is paris.", {"target": "capitalcapital"}, TargetError),
    ],
)
def test_refused_in_one_sentence(model, text, kwargs, error, request):
    lm = request.getfixturevalue(model)
    with pytest.raises(error) as caught:
        ww.counterfactuals(text, model=lm, **kwargs)
    assert str(caught.value).count(". ") <= 1 and "\n" not in str(caught.value)


def test_reduction_and_flip_refuse_a_target_that_is_not_the_answer(tiny_gpt2):
    top = ww.predict(TEXT, k=1, model=tiny_gpt2)["token_id"][0]
    other = next(i for i in candidate_ids(tiny_gpt2).tolist() if i != top)
    for kind in ("reduce", "flip"):
        with pytest.raises(InputError, match="top-1"):
            ww.counterfactuals(TEXT, other, kind=kind, model=tiny_gpt2)


@pytest.mark.slow
@pytest.mark.numerics
def test_default_model_paris(smol):
    """SmolLM2-135M: HotFlip's Δs are forwards of the edited inputs; one substitution makes
    ␣Berlin beat ␣Paris (France → Berlin), found within the budget, and it really does."""
    hot = ww.counterfactuals(TEXT, " Paris", model=smol)
    assert hot.forwards == 100 and hot.subject.original.top1 == "␣Paris"
    t0 = direct(smol, [t.id for t in hot.subject.tokens], hot.subject.target_ids)[0]
    for c in hot.edits[::10]:
        t, _, top = direct(smol, edited(hot, c), hot.subject.target_ids)
        assert_close(c.delta_log_prob, t - t0, DEFAULT_MODEL_LOG_PROB)
        assert c.reading.top1_id == top
    flip = ww.counterfactuals(TEXT, " Paris", " Berlin", kind="flip", model=smol)
    assert flip.found is not None and len(flip.found.substitutions) == 1
    t, f, _ = direct(smol, edited(flip, flip.found), flip.subject.target_ids, flip.subject.foil_ids)
    assert f > t and flip.forwards <= flip.budget
