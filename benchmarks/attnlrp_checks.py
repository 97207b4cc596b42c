"""AttnLRP on the default model: conservation, sdpa vs eager, no leak, cost (one process).

PYTHONPATH=. HF_HUB_OFFLINE=1 python benchmarks/attnlrp_checks.py [--threads 1] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from whyword import load_model, lrp
from whyword.models.load import LoadedModel, _load_default

PROMPTS = [
    "The capital of France is",
    "To be or not to be, that is the",
    "The keys to the cabinet",
    "She poured the milk into the",
    "My favourite colour is",
    "Water boils at a temperature of 100",
    "The cat sat on the",
    "Scientists discovered a herd of unicorns living in a remote",
]
COST_TEXT = "The quick brown fox jumps over the lazy dog because it was"  # 12 tokens


def ids_of(lm: LoadedModel, text: str) -> torch.Tensor:
    return torch.tensor([lm.tokenizer(text)["input_ids"]])  # (1, T)


def plain(model, embeds: torch.Tensor, target: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and the plain gradient of the target's logit: one forward + backward."""
    embeds = embeds.detach().requires_grad_(True)  # (1, T, H)
    logits = model(inputs_embeds=embeds, use_cache=False).logits  # (1, T, V)
    (grad,) = torch.autograd.grad(logits[0, -1, target], embeds)  # (1, T, H)
    return logits.detach(), grad


def conservation(lm: LoadedModel) -> None:
    ratios = []
    for text in PROMPTS:
        ids = ids_of(lm, text)  # (1, T)
        with torch.no_grad():
            target = int(lm.model(input_ids=ids).logits[0, -1].argmax())
        result = lrp.attnlrp_relevance(lm, lm.embed(ids), lambda z, t=target: z[0, -1, t])
        ratios.append(result.conserved)
        word = lm.tokenizer.decode([target])
        print(f"  {text!r} -> {word!r}: logit {result.value:.2f}, Σ R {result.scores.sum():.2f}")
    print(
        f"conservation Σ R / logit: min {min(ratios):.3f} mean {statistics.mean(ratios):.3f} "
        f"max {max(ratios):.3f} over {len(ratios)} prompts"
    )


def sdpa_vs_eager(lm: LoadedModel) -> None:
    worst = 0.0
    for text in PROMPTS:
        ids = ids_of(lm, text)  # (1, T)
        with torch.no_grad():
            target = int(lm.model(input_ids=ids).logits[0, -1].argmax())
        impl = lm.model.config._attn_implementation
        a = lrp.attnlrp_scores(lm, ids, target)  # (T,)
        lm.model.config._attn_implementation = "eager"
        try:
            b = lrp.attnlrp_scores(lm, ids, target)  # (T,)
        finally:
            lm.model.config._attn_implementation = impl
        worst = max(worst, float((a - b).abs().max()))
    print(f"sdpa vs eager: max |ΔR| {worst:.2e} over {len(PROMPTS)} prompts")


def no_leak(lm: LoadedModel) -> None:
    ids = ids_of(lm, PROMPTS[0])  # (1, T)
    embeds = lm.embed(ids).detach()  # (1, T, H)
    target = lm.tokenizer(" Paris")["input_ids"][0]
    logits0, grad0 = plain(lm.model, embeds, target)
    for _ in range(2):
        lrp.attnlrp_scores(lm, embeds, target)
    logits1, grad1 = plain(lm.model, embeds, target)
    logits2, grad2 = plain(_load_default().model, embeds, target)  # a fresh, never-patched copy
    print(
        f"no leak: after == before: logits {torch.equal(logits0, logits1)}, gradient "
        f"{torch.equal(grad0, grad1)}; after == fresh model: logits {torch.equal(logits1, logits2)}, "
        f"gradient {torch.equal(grad1, grad2)}"
    )


def cost(lm: LoadedModel, repeats: int) -> None:
    ids = ids_of(lm, COST_TEXT)  # (1, T)
    embeds = lm.embed(ids).detach()  # (1, T, H)
    with torch.no_grad():
        target = int(lm.model(input_ids=ids).logits[0, -1].argmax())
    runs = {"plain": lambda: plain(lm.model, embeds, target)}
    runs["attnlrp"] = lambda: lrp.attnlrp_scores(lm, embeds, target)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():
        fn()  # warm-up
    for i in range(repeats):  # interleaved, the order alternating
        for name in list(runs)[:: 1 if i % 2 == 0 else -1]:
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    paired = sorted(b / a for a, b in zip(times["plain"], times["attnlrp"], strict=True))
    start = time.perf_counter()
    for _ in range(100):
        with lrp.attnlrp(lm):
            pass
    enter_exit = (time.perf_counter() - start) / 100
    print(
        f"cost, {ids.shape[1]} tokens, {torch.get_num_threads()} threads, {repeats} repeats: "
        f"plain fwd+bwd median {statistics.median(times['plain']) * 1e3:.0f} ms, attnlrp "
        f"{statistics.median(times['attnlrp']) * 1e3:.0f} ms; paired ratio median "
        f"{statistics.median(paired):.2f} (quartiles {paired[len(paired) // 4]:.2f}–"
        f"{paired[3 * len(paired) // 4]:.2f}); entering+leaving the context {enter_exit * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lm = load_model()
    conservation(lm)
    sdpa_vs_eager(lm)
    no_leak(lm)
    cost(lm, args.repeats)


if __name__ == "__main__":
    main()
