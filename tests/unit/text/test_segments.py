"""Segments: words, sentences and user spans from tokenizer offsets; segment scores by rule."""

from __future__ import annotations

import numpy as np
import pytest

from whyword.engine.forward import layout_for
from whyword.errors import InputError
from whyword.models.encoding import encode
from whyword.text.segments import Segmentation, aggregate, segment
from whyword.text.tokens import make_tokens

TEXTS = [
    "The capital of France is",
    "I love 🙂 emojis🙂🙂 and café 北京.",
    '  two  spaces\n\nnewline "Hi," he said. Done!',
    "<script>alert(1)</script> &amp; **bold** مرحبا",
]


def words(tokenizer, text, ids=None):
    ids = tokenizer(text)["input_ids"] if ids is None else ids
    return segment(tokenizer, text, ids, "word")


def labels(seg: Segmentation) -> list[str]:
    return [s.label for s in seg.segments]


@pytest.mark.parametrize("level", ["token", "word", "sentence"])
@pytest.mark.parametrize("name", ["tiny_gpt2", "tiny_bert", "tiny_roberta"])
def test_every_token_is_in_exactly_one_segment(request, name, level):
    tok = request.getfixturevalue(name).tokenizer
    for text in TEXTS:
        ids = tok(text)["input_ids"]
        seg = segment(tok, text, ids, level)
        assert [t for s in seg.segments for t in s.tokens] == list(range(len(ids)))
        assert seg.unaligned == ()  # the ids are the text's own: every token is found
        for s in seg.segments:
            if s.start is not None and level != "token":
                assert text[s.start : s.end] == s.label  # labels are the text as typed


def test_the_capital_of_france_is_five_words_and_a_split_word_is_one(tiny_gpt2):
    tok = tiny_gpt2.tokenizer
    seg = words(tok, "The capital of France is")
    assert labels(seg) == ["The", "capital", "of", "France", "is"]
    france = seg.segments[3]
    assert len(france.tokens) == 3  # the tiny BPE splits it: ␣F ran ce
    assert (france.start, france.end) == (15, 21)


def test_token_level_is_the_identity_with_token_labels(tiny_gpt2):
    tok = tiny_gpt2.tokenizer
    ids = tok("The capital of France is")["input_ids"]
    seg = segment(tok, "The capital of France is", ids, "token")
    assert [s.tokens for s in seg.segments] == [(i,) for i in range(len(ids))]
    assert labels(seg) == [t.label for t in make_tokens(tok, ids)]


@pytest.mark.parametrize("name", ["tiny_gpt2", "tiny_roberta"])
def test_emoji_byte_pieces_stay_in_their_word(request, name):
    tok = request.getfixturevalue(name).tokenizer
    text = "I love 🙂 emojis🙂🙂 and café"
    seg = words(tok, text)
    text_labels = [s.label for s in seg.segments if s.start is not None]
    assert text_labels == ["I", "love", "🙂", "emojis🙂🙂", "and", "café"]
    emoji = next(s for s in seg.segments if s.label == "🙂")
    assert len(emoji.tokens) == 2  # two byte-level pieces with the same character offsets
    assert len(next(s for s in seg.segments if s.label == "emojis🙂🙂").tokens) >= 5


def test_bert_word_pieces_and_cls_sep(tiny_bert):
    enc = encode(tiny_bert, "Walking [MASK] is fun.")
    seg = words(tiny_bert.tokenizer, enc.text, enc.ids)
    assert labels(seg) == ["[CLS]", "Walking", "[MASK]", "is", "fun", ".", "[SEP]"]
    first, walking, mask = seg.segments[:3]
    assert (first.start, first.end) == (None, None) and first.tokens == (0,)
    assert walking.tokens == (1, 2)  # walk ##ing
    assert mask.start == 8 and seg.segments[-1].start is None


def test_widened_masks_and_typed_mask_of_roberta(tiny_roberta):
    """A multi-token masked target widens the mask: the masks together are the typed word."""
    tok = tiny_roberta.tokenizer
    typed = "The capital of [MASK] is Paris."
    enc = encode(tiny_roberta, typed)
    layout = layout_for(tiny_roberta, enc, tok(" Paris", add_special_tokens=False)["input_ids"])
    assert len(layout.ids) == len(enc.ids) + 1  # two masks for ␣Pa ris
    seg = words(tok, typed, layout.ids)  # the text as typed: [MASK], not <mask>
    assert labels(seg) == ["<s>", "The", "capital", "of", "[MASK]", "is", "Paris", ".", "</s>"]
    assert seg.segments[4].tokens == (4, 5) and seg.segments[4].start == 15
    assert seg.unaligned == ()
    one = segment(tok, typed, layout.ids, "token")
    assert [s.start for s in one.segments[4:6]] == [15, 15]


def test_infill_ids_skip_the_mask_literal(tiny_gpt2):
    enc = encode(tiny_gpt2, "The capital of [MASK] is Paris.")
    assert enc.mode == "infill"
    seg = words(tiny_gpt2.tokenizer, enc.text, enc.ids)
    assert labels(seg) == ["The", "capital", "of", "is", "Paris", "."] and seg.unaligned == ()


def test_mismatched_ids_fall_back_to_one_segment_per_token(tiny_gpt2):
    tok = tiny_gpt2.tokenizer
    ids = tok("The capital of France is")["input_ids"]
    seg = words(tok, "something else entirely", ids)
    assert [s.tokens for s in seg.segments] == [(i,) for i in range(len(ids))]
    assert seg.unaligned == tuple(range(len(ids)))
    assert all(s.start is None for s in seg.segments)


@pytest.mark.parametrize("name", ["tiny_gpt2", "tiny_roberta"])
def test_a_non_canonical_split_is_located_by_its_decoded_pieces(request, name):
    tok = request.getfixturevalue(name).tokenizer
    pieces = [tok(p, add_special_tokens=False)["input_ids"] for p in ("The", " ca", "pital", " of")]
    full = tok("The capital of")["input_ids"]
    head = [i for i in full[:1] if i in tok.all_special_ids]  # <s> (RoBERTa)
    tail = [i for i in full[-1:] if i in tok.all_special_ids]  # </s>
    ids = head + [i for p in pieces for i in p] + tail
    assert ids != full
    seg = words(tok, "The capital of", ids)
    text_labels = [s.label for s in seg.segments if s.start is not None]
    assert text_labels == ["The", "capital", "of"] and seg.unaligned == ()
    capital = next(s for s in seg.segments if s.label == "capital")
    assert len(capital.tokens) == len(pieces[1]) + len(pieces[2])


def test_a_tokenizer_without_offsets_falls_back(tiny_gpt2):
    class NoOffsets:
        def __init__(self, inner):
            self.inner = inner
            self.all_special_ids = inner.all_special_ids
            self.all_special_tokens = inner.all_special_tokens

        def __call__(self, text, **kw):
            if kw.get("return_offsets_mapping"):
                raise NotImplementedError("slow tokenizer")
            return self.inner(text, **kw)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    tok = NoOffsets(tiny_gpt2.tokenizer)
    ids = tok("The capital")["input_ids"]
    seg = words(tok, "The capital", ids)
    assert len(seg.segments) == len(ids) and seg.unaligned == tuple(range(len(ids)))


def test_sentences_end_at_punctuation_and_blank_lines(tiny_gpt2):
    text = "The capital of France is Paris. Is it?  Yes! It is\n\nthe key is here"
    ids = tiny_gpt2.tokenizer(text)["input_ids"]
    seg = segment(tiny_gpt2.tokenizer, text, ids, "sentence")
    assert labels(seg) == [
        "The capital of France is Paris.",
        "Is it?",
        "Yes!",
        "It is",
        "the key is here",
    ]


def test_user_spans_and_the_text_between_them(tiny_gpt2):
    text = "The capital of France is"
    ids = tiny_gpt2.tokenizer(text)["input_ids"]
    seg = segment(tiny_gpt2.tokenizer, text, ids, spans=[(15, 24), (4, 14)])
    assert seg.level == "spans"
    assert labels(seg) == ["The", "capital of", "France is"]
    # a span that cuts a token joins the segments that token touches: its score is not divisible
    cut = segment(tiny_gpt2.tokenizer, text, ids, spans=[(5, 14)])
    assert labels(cut) == ["The capital of", "France is"]


@pytest.mark.parametrize(
    "spans, words_",
    [
        ([(0, 99)], "inside"),
        ([(0, 5), (3, 8)], "overlaps"),
        ([(4, 4)], "inside"),
        ([(1,)], "pairs"),
    ],
)
def test_bad_spans_are_named(tiny_gpt2, spans, words_):
    ids = tiny_gpt2.tokenizer("The capital")["input_ids"]
    with pytest.raises(InputError, match=words_):
        segment(tiny_gpt2.tokenizer, "The capital", ids, spans=spans)


def test_unknown_level_is_named(tiny_gpt2):
    with pytest.raises(InputError, match="Unknown level"):
        segment(tiny_gpt2.tokenizer, "The", [0], "paragraph")


def test_word_scores_sum_signed_scores_and_take_the_l2_norm_of_unsigned_ones(tiny_gpt2):
    """Unsigned word score = ‖gradient w.r.t. the word's concatenated embeddings‖."""
    text = "The capital of France is"
    seg = words(tiny_gpt2.tokenizer, text)
    n = seg.n_tokens
    rng = np.random.default_rng(0)
    signed = rng.normal(size=(3, n))  # (R, T)
    grads = rng.normal(size=(3, n, 8))  # (R, T, H): a gradient per token embedding
    saliency = np.linalg.norm(grads, axis=-1)  # (R, T)
    summed = aggregate(signed, seg, signed=True)  # (R, S)
    normed = aggregate(saliency, seg, signed=False)  # (R, S)
    assert summed.shape == normed.shape == (3, 5)
    for k, s in enumerate(seg.segments):
        idx = list(s.tokens)
        assert np.allclose(summed[:, k], signed[:, idx].sum(axis=1))
        concat = grads[:, idx, :].reshape(3, -1)  # (R, len(idx) * H)
        assert np.allclose(normed[:, k], np.linalg.norm(concat, axis=1))
    assert np.allclose(summed.sum(axis=1), signed.sum(axis=1))  # totals are kept
    assert not np.allclose(normed[:, 3], saliency[:, 3:6].sum(axis=1))  # a norm, not a sum
    assert np.allclose(aggregate(signed[0], seg, signed=True), summed[0])  # one row: 1-D


def test_not_in_context_cells_are_left_out_and_all_missing_is_missing(tiny_gpt2):
    seg = words(tiny_gpt2.tokenizer, "The capital of France is")  # France = tokens 3, 4, 5
    nan = float("nan")
    row = [[1.0, 2.0, 3.0, 4.0, nan, nan, nan], [nan, nan, nan, nan, nan, nan, nan]]
    summed = aggregate(row, seg, signed=True)
    assert summed[0, :4].tolist() == [1.0, 2.0, 3.0, 4.0]  # France: only its in-context token
    assert np.isnan(summed[0, 4]) and np.isnan(summed[1]).all()
    normed = aggregate(np.abs(np.array(row)), seg, signed=False)
    assert normed[0, 3] == 4.0 and np.isnan(normed[0, 4])


def test_aggregate_checks_its_input(tiny_gpt2):
    seg = words(tiny_gpt2.tokenizer, "The capital")
    with pytest.raises(ValueError, match="match"):
        aggregate(np.zeros((1, seg.n_tokens + 1)), seg, signed=True)
    with pytest.raises(ValueError, match="negative"):
        aggregate(-np.ones(seg.n_tokens), seg, signed=False)


@pytest.mark.slow
def test_default_tokenizer_words_and_emoji(smol):
    tok = smol.tokenizer
    assert labels(words(tok, "The capital of France is")) == [
        "The",
        "capital",
        "of",
        "France",
        "is",
    ]
    seg = words(tok, "I love emojis🙂🙂 and 北京.")
    assert labels(seg) == ["I", "love", "emojis🙂🙂", "and", "北京", "."]
    assert len(seg.segments[2].tokens) >= 5  # `is` plus byte pieces of two emoji
