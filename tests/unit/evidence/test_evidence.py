"""Evidence (REALM): the marginal, its passage attributions and the retriever path's gradient,
on tiny random models (a BERT encoder as retriever, tests/tiny.py LMs as readers)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tests.tolerances import (
    CHAINED_LOG_PROB,
    FLOAT64,
    LOG_PROB,
    PROBABILITY,
    TINY_FP32,
    assert_close,
)
from whyword import predict
from whyword.errors import InputError
from whyword.evidence import corpus as corpora
from whyword.evidence import explain_with_evidence
from whyword.evidence import marginal as mg
from whyword.evidence.gradients import encoder_inputs, log_marginal_through_retriever
from whyword.evidence.reader import joined
from whyword.evidence.retriever import Retriever, block_embeddings, fingerprint

PASSAGES = [
    "The capital of France is Paris.",
    "The capital of Italy is Rome.",
    "This weekend I plan to go to the beach.",
    "The keys to the cabinet are on the table.",
]
QUERY = "The capital of France is"


@pytest.fixture(scope="module")
def retriever(tiny_paths):
    from tests.tiny import build_retriever

    return build_retriever(tiny_paths["bert"])


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WHYWORD_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def run(lm, retriever, **kw):
    kw.setdefault("passages", PASSAGES)
    kw.setdefault("methods", ())
    return explain_with_evidence(kw.pop("query", QUERY), model=lm, retriever=retriever, **kw)


@pytest.mark.numerics
def test_marginal_is_the_retrieval_weighted_sum_of_readers(tiny_gpt2, retriever):
    r = run(tiny_gpt2, retriever, k=3)
    y = r.target.token_id
    total = 0.0
    for p in r.retrieved:  # each p(y | x, z) recomputed by the plain reader on passage + query
        frame = predict(joined(p.text, QUERY), k=tiny_gpt2.vocab_size, model=tiny_gpt2)
        reader = float(frame.loc[frame.token_id == y, "probability"].iloc[0])
        assert_close(reader, p.reader_probability, PROBABILITY)
        total += p.retrieval_probability * reader
    assert_close(r.target.probability, total, PROBABILITY)
    assert sum(p.share for p in r.retrieved) == pytest.approx(1.0, abs=1e-9)
    assert sum(p.retrieval_probability for p in r.retrieved) == pytest.approx(1.0, abs=1e-9)
    assert r.marginal.probability.iloc[0] == pytest.approx(r.target.probability, rel=1e-6)


@pytest.mark.numerics
@pytest.mark.parametrize("name", ["tiny_gpt2", "tiny_bert"])
def test_one_passage_equals_the_plain_reader_on_it(name, request, retriever):
    lm = request.getfixturevalue(name)
    query = QUERY if name == "tiny_gpt2" else "The capital of France is [MASK]."
    r = run(lm, retriever, query=query, k=1)
    frame = predict(joined(r.retrieved[0].text, query), k=10, model=lm)
    assert list(r.marginal.token_id) == list(frame.token_id)
    assert_close(list(r.marginal.probability), list(frame.probability), PROBABILITY)
    assert r.retrieved[0].retrieval_probability == 1.0 and r.retrieved[0].share == 1.0
    none = predict(query, k=10, model=lm)
    assert_close(list(r.no_evidence.probability), list(none.probability), PROBABILITY)


@pytest.mark.numerics
def test_leave_one_out_matches_recomputing_without_the_passage(tiny_gpt2, retriever):
    r = run(tiny_gpt2, retriever, k=len(PASSAGES))
    y = r.target.token_id
    for p in r.retrieved:
        rest = [t for t in PASSAGES if t != p.text]
        without = run(tiny_gpt2, retriever, passages=rest, k=len(rest), target=y)
        delta = math.log(r.target.probability) - math.log(without.target.probability)
        assert_close(p.leave_one_out, delta, LOG_PROB)


@pytest.mark.numerics
def test_leave_one_out_of_the_only_passage_is_the_no_evidence_value(tiny_gpt2, retriever):
    r = run(tiny_gpt2, retriever, k=1)
    want = math.log(r.target.probability) - math.log(r.target_probability_no_evidence)
    assert r.retrieved[0].leave_one_out == pytest.approx(want, abs=1e-6)


@pytest.mark.numerics
def test_relevance_gradient_analytic_equals_autograd():
    torch.manual_seed(0)
    s = torch.randn(5, dtype=torch.double, requires_grad=True)
    log_py_z = torch.log_softmax(torch.randn(5, 7, dtype=torch.double), -1)[:, 2]  # (K,)
    value = mg.log_marginal(mg.retrieval_log_probs(s, 0.3), log_py_z)
    (auto,) = torch.autograd.grad(value, s)
    analytic = mg.relevance_gradient(s.detach(), log_py_z, 0.3)
    assert_close(analytic, auto, FLOAT64)


@pytest.mark.numerics
def test_retriever_path_gradient_matches_a_finite_difference(retriever):
    import copy

    enc = Retriever(copy.deepcopy(retriever.model).double(), retriever.tokenizer, "tiny-64")
    q = encoder_inputs(enc, [QUERY], dtype=torch.double)
    b = encoder_inputs(enc, PASSAGES[:3], dtype=torch.double)
    log_py_z = torch.tensor([-0.5, -2.0, -4.0], dtype=torch.double)
    with torch.enable_grad():
        value = log_marginal_through_retriever(enc, q, b, log_py_z, 0.2)
        (grad,) = torch.autograd.grad(value, q.embeds)  # (1, Tq, H)
    torch.manual_seed(3)
    direction = torch.randn_like(q.embeds)  # (1, Tq, H)
    h = 1e-5
    with torch.no_grad():
        up = log_marginal_through_retriever(enc, q, b, log_py_z, 0.2, q.embeds + h * direction)
        down = log_marginal_through_retriever(enc, q, b, log_py_z, 0.2, q.embeds - h * direction)
    numeric = (up - down) / (2 * h)
    assert float((grad * direction).sum()) == pytest.approx(float(numeric), rel=1e-6, abs=1e-9)
    assert float(grad.abs().sum()) > 0  # the path carries a signal


def test_token_attributions_say_their_path_and_align(tiny_gpt2, retriever):
    r = run(tiny_gpt2, retriever, k=2, methods=("saliency",))
    paths = {(a.path, a.passage) for a in r.token_attributions}
    assert paths == {
        ("retriever", None),
        ("retriever", 1),
        ("retriever", 2),
        ("reader", 1),
        ("reader", 2),
        ("reader", None),
    }
    for a in r.attributions("reader"):
        assert "query" in a.parts and len(a.tokens) == len(a.scores)
        assert ("passage" in a.parts) == (a.passage is not None)
    assert len(r.reader) == 3 and r.reader[0].target_ids == (r.target.token_id,)
    data = json.loads(r.to_json())
    assert data["retrieved"][0]["rank"] == 1 and data["path_notes"]["retriever"]


def test_surrogate_is_seeded_and_reports_its_cost(tiny_gpt2, retriever):
    a = run(tiny_gpt2, retriever, k=4, ablations=32, seed=5).surrogate
    b = run(tiny_gpt2, retriever, k=4, ablations=32, seed=5).surrogate
    assert a.weights == b.weights and a.ablations == 32 and a.forward_passes == 0
    assert a.rank_agreement is None or -1 <= a.rank_agreement <= 1


def test_surrogate_recovers_an_additive_effect():
    # with equal relevance and log p(y|x,z) chosen so that removing blocks changes little,
    # the fit's weights rank the blocks as leave-one-out does
    relevance = torch.zeros(4, dtype=torch.double)
    log_py_z = torch.tensor([-0.1, -1.0, -2.0, -3.0], dtype=torch.double)
    loo = mg.leave_one_out(relevance, log_py_z, 1.0, -5.0)
    fit = mg.fit_surrogate(relevance, log_py_z, 1.0, -5.0, loo, ablations=256, seed=0)
    assert fit.rank_agreement == pytest.approx(1.0)


def test_block_embeddings_are_cached_on_disk_by_content(retriever, cache_dir):
    first = block_embeddings(retriever, PASSAGES)
    files = list((cache_dir / "evidence").glob("*.pt"))
    assert len(files) == 1
    torch.testing.assert_close(block_embeddings(retriever, PASSAGES), first)
    block_embeddings(retriever, PASSAGES[:2])
    assert len(list((cache_dir / "evidence").glob("*.pt"))) == 2
    assert "tiny-encoder" in fingerprint(retriever)


def test_corpus_sources(tmp_path):
    assert corpora.split_passages("a b\n\n c\nd \n\n\n") == ("a b", "c d")
    assert corpora.split_passages("one\ntwo\n") == ("one", "two")
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"text": "x y"}) + "\n" + json.dumps({"text": "z"}) + "\n")
    assert corpora.read_file(path).passages == ("x y", "z")
    example = corpora.named("example")
    assert len(example.passages) >= 30 and any("Eiffel" in p for p in example.passages)
    with pytest.raises(InputError):
        corpora.resolve(None, None)
    with pytest.raises(InputError):
        corpora.named("nope")


def test_bad_options_are_one_sentence(tiny_gpt2, retriever):
    with pytest.raises(InputError, match="k must"):
        run(tiny_gpt2, retriever, k=0)
    with pytest.raises(InputError, match="temperature"):
        run(tiny_gpt2, retriever, temperature=0)


@pytest.mark.numerics
def test_infill_query_on_a_causal_reader_shares_one_pool(tiny_gpt2, retriever):
    r = run(
        tiny_gpt2, retriever, query="The capital of [MASK] is Paris.", k=2, methods=("saliency",)
    )
    assert r.mode == "infill" and any("pool" in n for n in r.notes)
    pool = set(r.reader[0].predictions[0].pool)
    assert pool == set(r.reader[1].predictions[0].pool) and r.target.token_id in pool
    assert_close(
        math.exp(r.reader[0].target_log_prob), r.retrieved[0].reader_probability, PROBABILITY
    )


def test_cli_evidence_table_and_json(tiny_paths, retriever, tmp_path, capsys):
    from whyword.cli.main import main

    folder = tmp_path / "encoder"
    retriever.model.save_pretrained(folder)
    retriever.tokenizer.save_pretrained(folder)
    passages = tmp_path / "p.txt"
    passages.write_text("\n\n".join(PASSAGES))
    base = [
        QUERY,
        "--passages",
        str(passages),
        "--model",
        tiny_paths["gpt2"],
        "--retriever",
        str(folder),
    ]
    assert main(["evidence", *base, "-k", "2", "--method", "none"]) == 0
    out = capsys.readouterr().out
    assert "p(z|x)" in out and "surrogate: 64 ablations" in out
    assert main(["evidence", *base, "-k", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["retrieved"]) == 2 and data["token_attributions"]
    assert main(["evidence", QUERY, "--model", tiny_paths["gpt2"]]) == 2
    assert "--passages" in capsys.readouterr().err


@pytest.mark.numerics
def test_cached_infill_equals_the_core_infill_scores(tiny_gpt2, monkeypatch):
    from whyword.engine.predict import infill_scores
    from whyword.evidence import reader
    from whyword.evidence.reader import encode_context, read

    query = "The capital of [MASK] is Paris."
    monkeypatch.setattr(reader, "infill_scores", lambda *a: pytest.fail("cache not used"))
    scores = read(tiny_gpt2, query, [PASSAGES[1], None])
    for row, passage in enumerate([PASSAGES[1], None]):
        enc = encode_context(tiny_gpt2, passage, query)
        core = infill_scores(tiny_gpt2, enc, [(c,) for c in scores.candidate_ids])
        assert_close(scores.log_probs[row], torch.log_softmax(core, -1), CHAINED_LOG_PROB)


@pytest.mark.numerics
def test_the_reader_path_runs_through_the_given_explainer(tiny_gpt2, retriever):
    """The page passes its scheduler's explain: the same explanations, through the lanes."""
    from whyword.serve.scheduler import Scheduler

    lanes, calls = Scheduler(), []

    def scheduled(*args, **kwargs):
        calls.append(args[0])
        return lanes.explain(*args, **kwargs)

    direct = run(tiny_gpt2, retriever, k=2, methods=("saliency",))
    via = run(tiny_gpt2, retriever, k=2, methods=("saliency",), explainer=scheduled)
    assert len(calls) == 3  # two passages + the query alone
    for a, b in zip(direct.token_attributions, via.token_attributions, strict=True):
        assert (a.path, a.passage, a.tokens) == (b.path, b.passage, b.tokens)
        assert_close(a.scores, b.scores, TINY_FP32)
