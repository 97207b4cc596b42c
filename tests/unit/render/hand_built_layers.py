"""Hand-built logit lenses and direct logit attributions for the Layers render and view tests
(no model is loaded): three layers of two heads, a `<script>` token among the candidates."""

from __future__ import annotations

from tests.unit.render.hand_built import cand, tok
from whyword.results.components import Ablation, Component, DirectLogits
from whyword.results.layers import LayerLens, LayerRow

SCRIPT = "<script>alert(1)</script>"
PARIS, LONDON, THE, EVIL = 5, 6, 7, 8


def lens(foil: bool = True, components: DirectLogits | None = None) -> LayerLens:
    """Embeddings and three blocks: ␣Paris climbs from rank 40 to the top; the script token
    is the embeddings' top-1."""
    tops = (
        (cand(EVIL, SCRIPT, 0.30), cand(THE, " the", 0.20)),
        (cand(THE, " the", 0.50), cand(LONDON, " London", 0.10)),
        (cand(THE, " the", 0.40), cand(PARIS, " Paris", 0.35)),
        (cand(PARIS, " Paris", 0.80), cand(LONDON, " London", 0.05)),
    )
    target = ((0.001, 40), (0.02, 3), (0.35, 2), (0.80, 1))
    london = ((0.002, 20), (0.10, 2), (0.03, 4), (0.05, 2))
    rows = tuple(
        LayerRow(
            layer=i,
            label="embeddings" if i == 0 else f"layer {i}",
            top=tops[i],
            target_probability=target[i][0],
            target_rank=target[i][1],
            foil_probability=london[i][0] if foil else None,
            foil_rank=london[i][1] if foil else None,
        )
        for i in range(4)
    )
    return LayerLens(
        model="tiny/<b>model</b>",
        kind="causal",
        text="The capital of France is",
        tokens=tuple(tok(i, t) for i, t in enumerate(["The", " capital", " of", " France", " is"])),
        position=4,
        target=" Paris",
        target_id=PARIS,
        foil=" London" if foil else None,
        foil_id=LONDON if foil else None,
        rows=rows,
        max_error=1e-6,
        components=components,
    )


def direct_logits(checked: bool = True) -> DirectLogits:
    """Three blocks of two heads: L3.H1 wrote +2.5 logits, L2.H0 −1.5; MLP 3 +1.0."""
    heads = {(1, 0): 0.1, (1, 1): -0.2, (2, 0): -1.5, (2, 1): 0.3, (3, 0): 0.4, (3, 1): 2.5}
    mlps = {1: 0.05, 2: -0.3, 3: 1.0}
    parts = [Component("embeddings", 0, None, 0.2)]
    for layer in (1, 2, 3):
        parts += [Component("head", layer, h, heads[(layer, h)]) for h in (0, 1)]
        parts.append(Component("mlp", layer, None, mlps[layer]))
    total = sum(c.dla for c in parts)
    ablations = ()
    if checked:
        top = sorted((c for c in parts if c.kind != "embeddings"), key=lambda c: -abs(c.dla))[:3]
        effects = {c.label: -0.8 * c.dla for c in top}  # removing a writer lowers log p
        ablations = tuple(
            Ablation(
                c,
                effects[c.label],
                0.5 * effects[c.label],
                effects[c.label],
                0.5 * effects[c.label],
            )
            for c in top
        )
    return DirectLogits(
        objective="logit difference",
        layers=3,
        heads=2,
        components=tuple(parts),
        frozen_total=total,
        real=total + 0.01,
        scale=0.25,
        ablations=ablations,
        zero_agreement=1.0 if checked else None,
        mean_agreement=1.0 if checked else None,
    )
