"""Generation with transition scores: the tokens a strategy picked and how probable each was.

Every step carries two distributions over the vocabulary:
- warped (`log_prob`, `rank`, `entropy`): the softmax of `out.scores`, i.e. after temperature,
  top-k and top-p — the distribution sampling drew from; its log-probs equal transformers'
  `compute_transition_scores(out.sequences, out.scores, beam_indices, normalize_logits=True)`;
- raw (`raw_log_prob`, `raw_rank`, `raw_entropy`): the model's own softmax of `out.logits`.
For greedy and beam search no warping is applied, so both agree.

`model.generate` picks tokens with an argmax or a draw, which has no gradient: explaining a
generated token needs a teacher-forced forward over the finished sequence: `Generation.attribute`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch

from whyword.errors import InputError
from whyword.models import calls as model_calls
from whyword.models.encoding import encode
from whyword.models.load import LoadedModel
from whyword.results.display import Displayable
from whyword.runtime.options import DEFAULT_METHODS, GenerateOptions
from whyword.text.tokens import Token, make_tokens

LN2 = math.log(2.0)
SCORES_FROM = (
    "log_prob, probability, rank and entropy are from the warped distribution (softmax of "
    "out.scores: after temperature / top-k / top-p, what the strategy picked from); raw_* "
    "columns are from the model's own softmax (out.logits). Entropies are in bits."
)


@dataclass(frozen=True)
class Step:
    """One generated token with its log-prob, rank and entropy in both distributions."""

    step: int  # 1-based
    token: Token
    log_prob: float  # warped distribution (natural log)
    rank: int  # 1 = the most probable token of the warped distribution
    entropy: float  # bits
    raw_log_prob: float  # the model's softmax before temperature / top-k / top-p
    raw_rank: int
    raw_entropy: float  # bits

    def __post_init__(self) -> None:
        assert self.step >= 1 and self.rank >= 1 and self.raw_rank >= 1
        assert self.log_prob <= 1e-5 and self.raw_log_prob <= 1e-5
        assert self.entropy >= 0.0 and self.raw_entropy >= 0.0

    @property
    def probability(self) -> float:
        return math.exp(self.log_prob)

    @property
    def raw_probability(self) -> float:
        return math.exp(self.raw_log_prob)

    def row(self) -> dict[str, Any]:
        """The step as one row of the transition table (warped columns, then raw)."""
        return {
            "step": self.step,
            "token_id": self.token.id,
            "token": self.token.label,
            "log_prob": self.log_prob,
            "probability": self.probability,
            "rank": self.rank,
            "entropy": self.entropy,
            "raw_log_prob": self.raw_log_prob,
            "raw_probability": self.raw_probability,
            "raw_rank": self.raw_rank,
            "raw_entropy": self.raw_entropy,
        }


@dataclass(frozen=True)
class Generation(Displayable):
    """A prompt, the tokens generated after it, and the per-step transition scores; in a
    notebook, the tokens shaded by surprisal and the table (`show(table=False)`)."""

    display_as: ClassVar[str] = "generation"

    model: str
    options: GenerateOptions
    prompt: tuple[Token, ...]
    steps: tuple[Step, ...]
    text: str  # the generated text (special tokens left out)
    stopped: Literal["eos", "length"]  # the model ended the text, or max_new_tokens was reached
    scores_from: str = SCORES_FROM

    def __post_init__(self) -> None:
        assert [s.step for s in self.steps] == list(range(1, len(self.steps) + 1))
        assert 1 <= len(self.steps) <= self.options.max_new_tokens
        assert self.stopped == "eos" or len(self.steps) == self.options.max_new_tokens

    @property
    def token_ids(self) -> tuple[int, ...]:
        return tuple(s.token.id for s in self.steps)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.token.label for s in self.steps)

    @property
    def log_prob(self) -> float:
        """Sum of the steps' warped log-probs: log p(generated tokens | prompt) as sampled."""
        return sum(s.log_prob for s in self.steps)

    def attribute(self, methods=DEFAULT_METHODS, model=None, **options):
        """The steps × (prompt + generated tokens) `AttributionMatrix`: one teacher-forced
        differentiable forward per batch, never a re-run of generate (see `whyword.tasks.steps`).
        `model`: the model that generated this (default: the default model)."""
        from whyword.tasks.steps import attribute_steps

        prompt = tuple(t.id for t in self.prompt)
        return attribute_steps(prompt, self.token_ids, self.model, methods, model, **options)

    def rows(self) -> list[dict[str, Any]]:
        return [s.row() for s in self.steps]

    def to_dataframe(self):
        import pandas as pd

        frame = pd.DataFrame(self.rows())
        frame.attrs.update(model=self.model, text=self.text, scores_from=self.scores_from)
        return frame

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = self.rows()
        return data

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def generate(
    text: str,
    max_new_tokens: int = 20,
    strategy: str = "greedy",
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    num_beams: int = 4,
    seed: int = 0,
    model=None,
) -> Generation:
    """Continue `text` with greedy decoding, seeded sampling or beam search; see `Generation`.

    temperature / top_k / top_p apply to `strategy="sample"` only (refused otherwise); the same
    seed gives the same tokens. Masked LMs are refused: they fill gaps, they do not continue text.
    """
    from whyword.models.load import load_model

    opts = GenerateOptions(
        max_new_tokens=max_new_tokens,
        strategy=strategy,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        num_beams=num_beams,
        seed=seed,
    )
    lm = load_model(model)
    ids = prompt_ids(lm, text, opts.max_new_tokens)
    with lm.lock:
        out = run_generate(lm, ids, opts)
    return generation_from_output(lm, ids, out, opts)


def prompt_ids(lm: LoadedModel, text: str, max_new_tokens: int) -> tuple[int, ...]:
    """The prompt's ids (as the tokenizer gives them), leaving room for the new tokens."""
    if lm.kind != "causal":
        raise InputError(
            f"'{lm.name}' is a masked language model: it fills gaps and cannot generate text; "
            "choose a causal model."
        )
    enc = encode(lm, text)
    if enc.mode != "next_token":
        raise InputError("generate continues the text as written: remove [MASK] from it.")
    if len(enc.ids) + max_new_tokens > lm.max_tokens:
        raise InputError(
            f"The prompt ({len(enc.ids)} tokens) plus {max_new_tokens} new tokens exceeds the "
            f"model's limit of {lm.max_tokens}: shorten the prompt or generate fewer tokens."
        )
    return enc.ids


@torch.no_grad()
def run_generate(lm: LoadedModel, ids: tuple[int, ...], opts: GenerateOptions):
    """`model.generate` with scores and raw logits, seeded in a forked RNG; hold `lm.lock`."""
    tokenizer = lm.tokenizer
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.tensor([ids], device=lm.device)  # (1, T)
    kwargs: dict[str, Any] = {
        "max_new_tokens": opts.max_new_tokens,
        "do_sample": opts.strategy == "sample",
        "num_beams": opts.num_beams if opts.strategy == "beam" else 1,
        "num_return_sequences": 1,
    }
    if opts.strategy == "sample":  # explicit values: the model's own defaults never leak in
        kwargs.update(temperature=opts.temperature, top_k=opts.top_k or 0, top_p=opts.top_p or 1.0)
    with torch.random.fork_rng(devices=[lm.device] if lm.device.type == "cuda" else []):
        torch.manual_seed(opts.seed)
        return model_calls.generate(
            lm,
            input_ids,
            attention_mask=torch.ones_like(input_ids),  # (1, T)
            pad_token_id=pad,
            output_scores=True,
            output_logits=True,
            return_dict_in_generate=True,
            **kwargs,
        )


def generation_from_output(
    lm: LoadedModel, ids: tuple[int, ...], out, opts: GenerateOptions
) -> Generation:
    """The `Generation` of one `model.generate` output (`run_generate`)."""
    new_ids = out.sequences[0, len(ids) :].cpu()  # (S,)
    beams = getattr(out, "beam_indices", None)
    beams = beams.cpu() if beams is not None else None
    warped = step_scores(new_ids, out.scores, beams)
    raw = step_scores(new_ids, out.logits, beams)
    tokens = make_tokens(lm.tokenizer, new_ids.tolist())
    steps = tuple(
        Step(
            step=i + 1,
            token=tokens[i],
            log_prob=float(warped[0][i]),
            rank=int(warped[1][i]),
            entropy=float(warped[2][i]),
            raw_log_prob=float(raw[0][i]),
            raw_rank=int(raw[1][i]),
            raw_entropy=float(raw[2][i]),
        )
        for i in range(len(tokens))
    )
    eos = lm.model.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
    ended = bool(tokens) and tokens[-1].id in eos_ids
    return Generation(
        model=lm.name,
        options=opts,
        prompt=make_tokens(lm.tokenizer, ids),
        steps=steps,
        text=lm.tokenizer.decode(new_ids.tolist(), skip_special_tokens=True),
        stopped="eos" if ended else "length",
    )


def step_scores(
    new_ids: torch.Tensor, scores: tuple[torch.Tensor, ...], beam_indices: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Log-prob, rank and entropy (bits) of each new token in its step's normalised scores.

    Step t reads the row of `scores[t]` that produced the kept sequence (`beam_indices[0, t]`
    for beam search, row 0 otherwise), as `compute_transition_scores` does. The softmax runs in
    float64: torch's float32 log-softmax across a strided dimension (what
    `compute_transition_scores` does) is off by up to ~2e-4 over a 49k vocabulary.
    """
    n = new_ids.shape[0]
    rows = (
        beam_indices[0, :n]
        if beam_indices is not None
        else torch.zeros(n, dtype=torch.long, device="cpu")
    )
    dist = torch.stack([scores[t][int(rows[t])].cpu() for t in range(n)]).double()  # (S, V)
    log_probs = torch.log_softmax(dist, dim=-1)  # (S, V)
    picked = log_probs.gather(-1, new_ids[:, None]).squeeze(-1)  # (S,)
    ranks = 1 + (log_probs > picked[:, None]).sum(-1)  # (S,)
    entropy = (-(log_probs.exp() * log_probs).nansum(-1) / LN2).clamp(min=0.0) + 0.0  # (S,) bits
    return picked, ranks, entropy
