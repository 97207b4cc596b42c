"""The attention view's and component relevance's cost against one plain forward.

Interleaved rounds in one process (default model): a plain forward of the prompt (the
model's own attention implementation, `logits_to_keep=1`), `whyword.attention` (the same
forward with eager attention switched on and the hooks that keep one row per block) and
`whyword.component_relevance` (one forward + one backward under LXT's rules). Medians.

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 python benchmarks/attention.py [--reps=9] [--tokens=12,256]
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

import whyword
from whyword.models import calls as model_calls

TEXT = "The capital of France is Paris. The capital of Italy is"  # 12 tokens (SmolLM2)


def prompt(lm, tokens: int) -> str:
    """TEXT repeated to at least `tokens` tokens, cut to exactly that many."""
    ids = lm.tokenizer((TEXT + " ") * (tokens // 10 + 1))["input_ids"][:tokens]
    return lm.tokenizer.decode(ids)


def measure(lm, tokens: int, reps: int) -> None:
    """Interleaved rounds at one prompt length; prints the medians against the forward."""
    text = prompt(lm, tokens)
    ids = torch.tensor([lm.tokenizer(text)["input_ids"]])  # (1, T)
    where = torch.tensor([ids.shape[1] - 1])  # (1,)

    def forward() -> None:
        with torch.no_grad():
            model_calls.logits_at(lm, where, ids=ids)

    tools = {
        "forward": forward,
        "attention": lambda: whyword.attention(text, 20, 3, model=lm),
        "component_relevance": lambda: whyword.component_relevance(text, model=lm),
    }
    times: dict[str, list[float]] = {name: [] for name in tools}
    for round_ in range(reps + 1):  # round 0 warms up
        for name, run in tools.items():
            start = time.perf_counter()
            run()
            if round_:
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["forward"])
    print(f"{ids.shape[1]} tokens")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:22s} {1000 * median:8.1f} ms  {median / base:5.2f}× forward")


def main() -> None:
    args = dict(a.lstrip("-").split("=") for a in sys.argv[1:] if "=" in a)
    lm = whyword.load_model()
    print(f"threads={torch.get_num_threads()} attn={lm.model.config._attn_implementation}")
    for tokens in args.get("tokens", "12,256").split(","):
        measure(lm, int(tokens), int(args.get("reps", 9)))


if __name__ == "__main__":
    main()
