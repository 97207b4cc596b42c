"""How many rows one batched call may hold: a memory budget over the bytes one row costs.

A row is one input sequence of T tokens fed through the model (an IG node, a SmoothGrad
sample, an occluded copy). What a row costs is read off the model's config:

- with gradients, autograd keeps every layer's activations for the backward pass:
  layers × (a·hidden + b·intermediate) floats per token (q, k, v, norms, residuals and the
  MLP's gate/up/product), and with eager attention also the weights, heads × T floats per
  token per layer (the T² term); sdpa keeps none, but one layer's weights exist at a time;
- without gradients only about one layer is alive at a time;
- every scored position adds its logits and log-softmax, vocabulary wide.

The budget is the memory such a call may use on the model's device: on CPU a fixed default
(2 GiB) so batch sizes, hence results, do not depend on what else runs; on CUDA a fraction
of the free memory; on Apple MPS a fraction of the recommended maximum not yet allocated.
`WHYWORD_MEMORY_BUDGET` (e.g. "3GB", "512MiB") overrides it on any device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from whyword.models.load import LoadedModel
from whyword.runtime import settings

ENV = settings.MEMORY_BUDGET.name
TOKEN_ROWS = 512  # below the budget: about this many (row × token) per call (16 to 64 rows)
# bf16 no-grad calls (the faithfulness curves under precision "auto"): bf16 matrix kernels
# keep getting cheaper per row as a call grows, fp32 ones stop at ~64 rows. SmolLM2-135M,
# 12 tokens, ms per row: fp32 10.6 / 10.4 / 12.0 at 64 / 128 / 256 rows, bf16 4.4 / 3.4 / 3.0
# (benchmarks/calibrate/row_cost.py) — so such calls take up to 4× as many token-rows (8× measured
# no faster under load and held 150 MB more at the peak for 8 requests).
WIDE_TOKEN_ROWS, WIDE_MAX_ROWS = 2048, 256
CPU_BUDGET = 2 * 2**30  # bytes a batched call may use on CPU (fixed: results do not vary)
DEVICE_FRACTION = 0.5  # of a GPU's free memory: the allocator and other requests need room
# Activation floats kept for backward, per token and layer: GRAD_HIDDEN·H + GRAD_INNER·I.
# Calibrated on SmolLM2-135M (H 576, I 1536, 30 layers, sdpa, CPU), one row forward+backward
# measured 282 / 592 / 1248 MB at 256 / 512 / 1024 tokens (≈ 1.2 MB a token): these give
# 1.24 MB a token. Without gradients 4 rows measured 67 / 198 MB at 512 / 1024 tokens: about
# one layer's tensors plus one layer's attention weights (sdpa's CPU kernel builds them).
GRAD_HIDDEN, GRAD_INNER = 10, 3
NOGRAD_HIDDEN, NOGRAD_INNER = 4, 3  # no gradients: about one layer's tensors alive at once
LOGIT_COPIES = 4  # logits, their float copy, the log-softmax and (with gradients) its grad


@dataclass(frozen=True)
class RowShape:
    """What one row of a method's F runs, besides the attributed tokens: what sizes batches."""

    lm: LoadedModel
    sequences_per_row: int = 1  # model calls per row of F (a target and a foil: 2)
    scored_positions: int = 1  # positions whose logits F reads, over those calls
    extra_tokens: int = 0  # fixed ids F inserts beside the attributed ones (continuations)

    def rows(self, tokens: int, *, grad: bool = True, budget: int | None = None) -> int:
        return rows_per_batch(
            self.lm,
            tokens + self.extra_tokens,
            grad=grad,
            sequences_per_row=self.sequences_per_row,
            scored_positions=self.scored_positions,
            budget=budget,
        )


def parse_size(text: str) -> int:
    """Bytes from "2GB", "512 MiB", "1.5g" or "3000000000"; GB is 10⁹, GiB and G are 2³⁰."""
    return settings.MEMORY_BUDGET.convert(text)


def model_device(lm: LoadedModel) -> torch.device:
    param = next(lm.model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def memory_budget(device: torch.device | str | None = None) -> int:
    """Bytes one batched call may use on `device`: the env override, else from the device."""
    chosen = settings.MEMORY_BUDGET.get()
    if chosen is not None:
        return chosen
    device = torch.device(device or "cpu")
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free * DEVICE_FRACTION)
    if device.type == "mps":
        room = torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory()
        return int(max(room, 0) * DEVICE_FRACTION)
    return CPU_BUDGET


@dataclass(frozen=True)
class ModelSize:
    """The config numbers a row's cost depends on."""

    layers: int
    hidden: int
    inner: int
    heads: int
    vocab: int
    dtype_bytes: int
    eager: bool  # attention weights materialised (T × T per head)

    @classmethod
    def of(cls, lm: LoadedModel) -> ModelSize:
        config = lm.model.config
        hidden = _first_int(config, ("hidden_size", "n_embd", "d_model", "dim"), 768)
        param = next(lm.model.parameters(), None)
        return cls(
            layers=_first_int(config, ("num_hidden_layers", "n_layer", "num_layers"), 12),
            hidden=hidden,
            inner=_first_int(config, ("intermediate_size", "n_inner", "ffn_dim"), 4 * hidden),
            heads=_first_int(config, ("num_attention_heads", "n_head"), 12),
            vocab=lm.vocab_size,
            dtype_bytes=param.element_size() if param is not None else 4,
            eager=getattr(config, "_attn_implementation", "eager") == "eager",
        )


def _first_int(config, names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return default


def row_bytes(
    lm: LoadedModel,
    tokens: int,
    *,
    grad: bool = True,
    sequences_per_row: int = 1,
    scored_positions: int = 1,
) -> int:
    """Estimated bytes one row of `tokens` tokens holds at the peak of a batched call."""
    size = ModelSize.of(lm)
    hidden, inner = (GRAD_HIDDEN, GRAD_INNER) if grad else (NOGRAD_HIDDEN, NOGRAD_INNER)
    kept = size.layers if grad else 1  # without gradients layers are freed one by one
    per_layer = hidden * size.hidden + inner * size.inner  # floats per token
    weights = size.heads * tokens  # attention weights per token: one layer's, transient
    attention = (2 * kept if size.eager else 1) * weights  # eager keeps them for backward
    per_token = (kept * per_layer + attention) * size.dtype_bytes
    logits = scored_positions * size.vocab * LOGIT_COPIES * 4  # float32 log-softmax
    return int(sequences_per_row * (tokens * per_token + logits))


def rows_per_batch(
    lm: LoadedModel,
    tokens: int,
    *,
    grad: bool = True,
    sequences_per_row: int = 1,
    scored_positions: int = 1,
    budget: int | None = None,
) -> int:
    """The most rows of `tokens` tokens whose estimated peak fits the budget; at least 1."""
    budget = memory_budget(model_device(lm)) if budget is None else budget
    one = row_bytes(
        lm,
        max(1, tokens),
        grad=grad,
        sequences_per_row=sequences_per_row,
        scored_positions=scored_positions,
    )
    return max(1, math.floor(budget / max(one, 1)))


def batch_rows(
    shape: RowShape,
    tokens: int,
    *,
    grad: bool = True,
    explicit: int | None = None,
    wide: bool = False,
) -> int:
    """Rows per batched call: `explicit` (the user's `internal_batch_size`, capped by nothing)
    when set; else about 512 token-rows (16 to 64 rows: short prompts gain from bigger
    batches, 5 tokens: 64 rows −21 % per row against 16), never more than the memory budget
    allows one row of `shape`: 1 row for a long text, so peak memory does not grow with
    steps, samples or rows. `wide` (a no-grad call under bf16 autocast): about 2,048
    token-rows (16 to 256 rows), still within the budget."""
    if explicit is not None:
        return explicit
    if wide and not grad:
        rows = max(16, min(WIDE_MAX_ROWS, WIDE_TOKEN_ROWS // max(1, tokens)))
        return min(rows, shape.rows(tokens, grad=False))
    rows = max(16, min(64, TOKEN_ROWS // max(1, tokens)))
    return min(rows, shape.rows(tokens, grad=grad))
