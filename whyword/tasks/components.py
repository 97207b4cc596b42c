"""Which heads and MLPs wrote the target: direct logit attribution, checked by ablation.

The stream a pre-norm model reads out at a position is a sum: the embeddings, plus what every
attention head (through its slice of the output projection) and every MLP added, plus
constant biases. With the final norm's scale frozen at its value on the full pass
(whyword/models/norms.py) the read-out is linear, so the target's logit — or the target − foil
logit difference — splits exactly into one share per writer (its DLA). The frozen scale is
the one assumption: `DirectLogits.gap` states how far the frozen sum is from the logit the
model computed (float rounding; Gemma 2's softcap bends it).

DLA says what a part wrote *directly*; removing the part also changes what later parts read.
`check` measures that for the top-n parts by |DLA|: each is zeroed, or replaced by its mean
over the prompt's positions, everywhere in the prompt, as its own row of one batched call
(whyword/models/calls.py: patched), and the real Δ log p(target) is compared with DLA by rank.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from whyword.models import calls as model_calls
from whyword.models.anatomy import Anatomy
from whyword.models.budget import rows_per_batch
from whyword.models.hooks import Patch, Tap
from whyword.models.load import LoadedModel
from whyword.models.norms import freeze
from whyword.results.components import Ablation, Component, DirectLogits
from whyword.results.ranks import spearman


@dataclass(frozen=True, eq=False)
class Probe:
    """The taps of one layers-view call: the stream before and after every block and, for
    DLA, what the heads (the output projections' inputs) and the MLPs wrote."""

    stream_in: Tap  # the first block's input: the embeddings' stream
    outputs: tuple[Tap, ...]  # every block's output
    heads: tuple[Tap, ...] = ()  # every block's output projection input (heads side by side)
    mlps: tuple[Tap, ...] = ()  # every block's MLP output
    final: Tap | None = None  # the final norm's input

    def taps(self) -> list[Tap]:
        rest = [*self.heads, *self.mlps] + ([self.final] if self.final else [])
        return [self.stream_in, *self.outputs, *rest]

    def stream(self, index: int = 0) -> torch.Tensor:
        """The residual stream (L + 1, H) at the `index`-th tapped position."""
        return torch.stack([t.kept[0][index] for t in (self.stream_in, *self.outputs)])


def probe(body: Anatomy, components: bool) -> Probe:
    blocks = body.blocks
    first, outputs = Tap(blocks[0], "input"), tuple(Tap(b, "output") for b in blocks)
    if not components:
        return Probe(first, outputs)
    parts = [body.block(i) for i in range(len(blocks))]
    heads = tuple(Tap(p.out_proj, "input") for p in parts)
    mlps = tuple(Tap(p.mlp, "output") for p in parts)
    return Probe(first, outputs, heads, mlps, Tap(body.final_norm, "input"))


def direct_logits(
    body: Anatomy, taps: Probe, own: torch.Tensor, target: int, foil: int | None
) -> DirectLogits:
    """The objective at the first tapped position split over every writer; `own` (V',) are
    the model's logits there."""
    n_heads, dim = body.heads, body.head_dim
    parts: list[torch.Tensor] = [taps.stream_in.kept[0][0].float()[None]]  # [(1, H)]
    bias = torch.zeros_like(parts[0][0])  # (H,)
    has_bias = False
    for i in range(len(body.blocks)):
        block = body.block(i)
        z = taps.heads[i].kept[0][0].float().view(n_heads, dim)  # (nH, d)
        w = block.out_weight.float().view(-1, n_heads, dim)  # (H, nH, d)
        per_head = torch.einsum("nd,hnd->nh", z, w)  # (nH, H)
        b = block.out_bias.float() if block.out_bias is not None else torch.zeros_like(bias)
        mlp = taps.mlps[i].kept[0][0].float()  # (H,)
        if block.post_attention is not None:  # Gemma 2/3: the branch is normed before the add
            gain = freeze(block.post_attention, (per_head.sum(0) + b)[None]).gain[0]  # (H,)
            per_head, b = per_head * gain, b * gain
        if block.post_mlp is not None:
            mlp = mlp * freeze(block.post_mlp, mlp[None]).gain[0]  # (H,)
        parts += [per_head, mlp[None]]
        bias, has_bias = bias + b, has_bias or block.out_bias is not None
    norm = freeze(body.final_norm, taps.final.kept[0][0].float()[None])
    direction = body.unembed[target].float()  # (H,)
    if foil is not None:
        direction = direction - body.unembed[foil].float()  # (H,)
    vectors = torch.cat(parts + ([bias[None]] if has_bias or norm.bias is not None else []))
    shares = norm.apply(vectors[None])[0] @ direction  # (N,)
    if norm.bias is not None:
        shares[-1] += norm.bias @ direction
    real = own[target] - (own[foil] if foil is not None else 0.0)
    return DirectLogits(
        objective="logit" if foil is None else "logit difference",
        layers=len(body.blocks),
        heads=n_heads,
        components=_components(shares.tolist(), len(body.blocks), n_heads),
        frozen_total=float(shares.sum()),
        real=float(real),
        scale=float(norm.scale[0]),
    )


def _components(shares: list[float], layers: int, heads: int) -> tuple[Component, ...]:
    out = [Component("embeddings", 0, None, shares[0])]
    at = 1
    for layer in range(1, layers + 1):
        out += [Component("head", layer, h, shares[at + h]) for h in range(heads)]
        out.append(Component("mlp", layer, None, shares[at + heads]))
        at += heads + 1
    return tuple(out + [Component("biases", 0, None, s) for s in shares[at:]])


def check(
    lm: LoadedModel,
    body: Anatomy,
    taps: Probe,
    ids: torch.Tensor,
    at: int,
    found: DirectLogits,
    own: torch.Tensor,
    target: int,
    foil: int | None,
    n: int,
) -> DirectLogits:
    """`found` with its top-`n` heads and MLPs (by |DLA|) ablated — zeroed and mean-replaced,
    one row each of batched calls — and DLA's rank agreement with the real effects."""
    chosen = found.top(n)
    if not chosen:
        return found
    # rows (component, how) in the order of the first block they change, so that at every
    # block the rows not reached yet come last and are computed once (hooks.sharing)
    plan = sorted(
        [(c, how) for how in (None, "mean") for c in chosen], key=lambda pair: pair[0].layer
    )
    patches = [_patch(body, taps, c, row, how) for row, (c, how) in enumerate(plan)]
    rows = len(plan)
    per_call = rows_per_batch(lm, ids.shape[1], grad=False)
    where = torch.tensor([at], device=ids.device)  # (1,)
    logits = []
    for start in range(0, rows, per_call):
        stop = min(rows, start + per_call)
        mine = [dataclasses.replace(p, row=p.row - start) for p in patches if start <= p.row < stop]
        layers = [c.layer for c, _ in plan[start:stop]]
        changed = [sum(first <= i + 1 for first in layers) for i in range(len(body.blocks))]
        logits.append(  # (r, V')
            model_calls.patched(lm, ids, where, mine, stop - start, body.blocks, changed)[:, 0]
        )
    order = {(c, how): row for row, (c, how) in enumerate(plan)}
    picked = [order[(c, None)] for c in chosen] + [order[(c, "mean")] for c in chosen]
    log_probs = torch.log_softmax(torch.cat(logits).float()[picked, : lm.vocab_size], -1)  # (2n, V)
    clean = torch.log_softmax(own[: lm.vocab_size].float(), -1)  # (V,)
    delta = log_probs[:, target] - clean[target]  # (2n,)
    diff = None
    if foil is not None:
        diff = delta - (log_probs[:, foil] - clean[foil])  # (2n,)
    k = len(chosen)
    ablations = tuple(
        Ablation(
            component=c,
            zero_log_prob=float(delta[i]),
            mean_log_prob=float(delta[k + i]),
            zero_difference=None if diff is None else float(diff[i]),
            mean_difference=None if diff is None else float(diff[k + i]),
        )
        for i, c in enumerate(chosen)
    )
    shares = [c.dla for c in chosen]
    with_foil = foil is not None
    zero = [a.effect("zero", with_foil) for a in ablations]
    mean = [a.effect("mean", with_foil) for a in ablations]
    agree = len(chosen) >= 2
    return dataclasses.replace(
        found,
        ablations=ablations,
        zero_agreement=spearman(shares, zero) if agree else None,
        mean_agreement=spearman(shares, mean) if agree else None,
    )


def _patch(body: Anatomy, taps: Probe, c: Component, row: int, how: str | None) -> Patch:
    block = body.block(c.layer - 1)
    if c.kind == "head":
        cols = slice(c.head * body.head_dim, (c.head + 1) * body.head_dim)
        mean = taps.heads[c.layer - 1].kept[1][cols] if how == "mean" else None  # (d,)
        return Patch(row, block.out_proj, "input", cols, mean)
    mean = taps.mlps[c.layer - 1].kept[1] if how == "mean" else None  # (H,)
    return Patch(row, block.mlp, "output", slice(None), mean)
