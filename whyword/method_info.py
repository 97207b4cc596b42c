"""What each attribution method is and how to read it: metadata only, no torch, no Captum.

Rendering and the UI read these; `whyword.attr` pairs each with its runner.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodInfo:
    name: str
    label: str
    signed: bool  # False: magnitudes only, no "against" direction
    description: str
    completeness: bool = False  # scores add up to F(input) − F(baseline): a trust panel applies


METHOD_INFO: dict[str, MethodInfo] = {
    m.name: m
    for m in (
        MethodInfo(
            "saliency",
            "Saliency (gradient norm)",
            False,
            "L2 norm of the gradient of F at each token's embedding. Unsigned: it shows how "
            "sensitive the prediction is to a token, not in which direction.",
        ),
        MethodInfo(
            "input_x_gradient",
            "Input × gradient",
            True,
            "Embedding · gradient summed over the hidden size: a first-order estimate of what "
            "the token contributes. Red supports the target, blue speaks against it.",
        ),
        MethodInfo(
            "integrated_gradients",
            "Integrated gradients",
            True,
            "Gradients averaged along a path from a baseline to the real embeddings; the "
            "scores add up to F(input) − F(baseline) (completeness).",
            completeness=True,
        ),
        MethodInfo(
            "smoothgrad",
            "SmoothGrad (input × gradient)",
            True,
            "Input × gradient averaged over noisy copies of the embeddings: less jagged.",
        ),
        MethodInfo(
            "occlusion",
            "Occlusion (leave one out)",
            True,
            "Drop in F when one token's embedding is replaced by the baseline embedding; "
            "no gradients, one forward pass per token.",
        ),
        MethodInfo(
            "attnlrp",
            "AttnLRP (LXT)",
            True,
            "Layer-wise relevance propagation for transformers (Achtibat et al., 2024) through "
            "LXT's rules: gradient × input on a model whose attention and norms pass relevance "
            "on, in one forward and one backward pass. It explains the same objective as the "
            "other methods (log p of the target unless another is chosen; with the logit "
            "objective its relevances are LRP's shares of the logit); the shares are not "
            "conserved exactly (on the default model they summed to 0.14–0.47 of the logit).",
        ),
    )
}
