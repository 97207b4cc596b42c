"""Inseq 0.7.1 as a peer in the benchmarks: its per-token scores on a WhyWord model, or why not.

Inseq is optional (requirements-bench.txt, installed with --no-deps so that pip never moves
torch or transformers). With transformers 5.23 one shim is needed, here and nowhere else: its
`attention` method reads the attention weights, which sdpa attention does not return, so that
call runs the model with eager attention (restored after; the benchmark is single-threaded).
"""

from __future__ import annotations

import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch

INSEQ_METHODS = ("saliency", "integrated_gradients", "attention", "occlusion", "lime")


@dataclass(frozen=True)
class InseqPeer:
    """One Inseq method bound to the model, or the one-sentence reason it cannot run."""

    method: str
    model: object | None  # inseq's AttributionModel; None when it cannot run
    reason: str = ""

    def __post_init__(self) -> None:
        assert (self.model is None) == bool(self.reason), "a peer runs or says why not"


def load(lm) -> dict[str, InseqPeer]:
    """Every Inseq method on `lm`'s model and tokenizer (no second copy of the weights)."""
    try:
        import inseq
    except Exception as error:  # an optional peer: say why, do not fail the benchmark
        why = f"Inseq does not import here ({type(error).__name__}: {error})."
        return {m: InseqPeer(m, None, why) for m in INSEQ_METHODS}
    out = {}
    for m in INSEQ_METHODS:
        try:
            out[m] = InseqPeer(m, inseq.load_model(lm.model, m, tokenizer=lm.tokenizer))
        except Exception as error:
            out[m] = InseqPeer(m, None, f"inseq.load_model fails: {type(error).__name__}.")
    return out


@contextmanager
def eager_attention(model):
    """Eager attention for the duration (sdpa returns no attention weights)."""
    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        yield
    finally:
        model.set_attn_implementation(before)


def scores(peer: InseqPeer, lm, text: str, ids, target: int) -> tuple[torch.Tensor, float]:
    """Inseq's per-token scores (T,) of `text` for the next token `target`, and its seconds.

    The target is given as text (Inseq's interface); a prompt whose text + target Inseq
    tokenizes differently from `ids` + `target` raises ValueError rather than misalign."""
    generated = text + lm.tokenizer.decode([target])
    switch = eager_attention(lm.model) if peer.method == "attention" else nullcontext()
    with switch:
        start = time.perf_counter()
        out = peer.model.attribute(
            text,
            generated_texts=generated,
            attributed_fn="probability",
            logprob=True,
            show_progress=False,
        )
        seq = out.aggregate().sequence_attributions[0]  # Inseq's default aggregation
        seconds = time.perf_counter() - start
    got = [t.id for t in seq.target]
    if got != [*ids, target]:
        raise ValueError(f"Inseq tokenized text + target as {got}, not {[*ids, target]}.")
    s = seq.target_attributions[: len(ids), 0].double()  # (T,) the prompt's tokens
    return s, seconds
