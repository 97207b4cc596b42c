"""Every knob of `explain`, with its default and the reason for it, validated in one place."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from whyword.errors import InputError, shown

BASELINES = ("zero", "pad", "mask")
PRECISIONS = ("fp32", "bf16", "auto")  # whyword/runtime/precision.py
# The largest |area_bf16 − area_fp32| of a deletion / insertion curve (0–1 scale) that lets
# "auto" run the curves in bf16: measured in benchmarks/calibrate/curve_precision.py (docs/performance.md)
CURVE_BOUND = 0.05  # half the page's ±0.1 margin for "no better than random" (render/trust.py)
DEFAULT_METHODS = ("saliency", "integrated_gradients")  # the library, the CLI and the API
# The page's default (issue 12, benchmarks/faithfulness.py, 14 prompts): occlusion beat IG on
# deletion and insertion (paired 95 % intervals exclude 0) at 1.7× one forward+backward
# against IG's 12.8×; saliency (1.1×) is the first heatmap and could not be told apart from
# IG. Both run on every architecture without the optional lxt (AttnLRP). docs/performance.md.
PAGE_METHODS = ("saliency", "occlusion")
# The page's IG refinement cap: lower than the library's `max_steps` (256) so a click stays
# interactive; the page says when a result missed the tolerance and how to raise the cap.
PAGE_MAX_STEPS = 96


@dataclass(frozen=True)
class ExplainOptions:
    k: int = 10  # top-k predictions shown
    mask_index: int = 0  # which [MASK] (0-based) the target belongs to
    baseline: str = "zero"  # IG/occlusion reference embedding: zero, pad (pad/eos) or mask
    hold_first: bool = True  # IG keeps the first token (the attention sink) real: smooth path
    n_steps: int = 32  # IG: gradient evaluations of the first pass (8 intervals × 4 nodes)
    adaptive: bool = True  # IG: halve the worst sub-intervals until the tolerance is met
    ig_tolerance: float = 0.05  # IG: stop at |completeness error| ≤ this × |F(x) − F(baseline)|
    max_steps: int = 256  # IG: cap on gradient evaluations (time grows linearly with it)
    nodes_per_interval: int = 4  # IG: Gauss–Legendre nodes per sub-interval (finer refinement)
    ig_grading: float = 3.0  # IG: interval edges at α = t**grading, denser near the baseline
    internal_batch_size: int | None = None  # rows per forward/backward (None: memory budget)
    nt_samples: int = 10  # SmoothGrad: noisy samples
    noise: float = 0.1  # SmoothGrad: noise stdev as a fraction of the embeddings' stdev
    seed: int = 0  # SmoothGrad: the noise is seeded, so results repeat
    infill_candidates: int = 20  # infill on causal LMs: left-context top-N rescored; the
    # probabilities (bars, status, the attributed infill_posterior) are normalised over them
    # deletion / insertion curves: a batched no-grad pass of 2(T−1) rows per method and row,
    # plus a random-order baseline; off by default in the library (a matrix of R rows pays it
    # R times), on in the page, its API and `whyword explain --faithfulness`
    faithfulness: bool = False
    max_tokens: int | None = None  # refuse longer input (None: the model's own limit)
    # fp32, bf16 (torch.autocast; only where the device has native bf16) or auto: per stage,
    # bf16 only where native and its measured error is within the stage's bound
    # (whyword/runtime/precision.py: the heatmaps stay fp32, the faithfulness curves run in bf16)
    precision: str = "auto"
    progress: Callable[[float, str], None] | None = None  # called as IG refines (UI progress)
    # called with a refining method's scores so far (a whyword.results.matrix.Stage: IG after its
    # first pass, each round of halving, and at its end), on the computing thread with the
    # model's lock held: keep it short (e.g. put the stage in a queue). Not part of the request
    on_stage: Callable[[Any], None] | None = None

    def __post_init__(self) -> None:
        _check_int("k", self.k, 1, 1000)
        _check_int("mask_index", self.mask_index, 0, 10_000)
        _check_int("n_steps", self.n_steps, 1, 4096)
        _check_int("max_steps", self.max_steps, 1, 4096)
        _check_int("nodes_per_interval", self.nodes_per_interval, 1, 1024)
        if self.internal_batch_size is not None:
            _check_int("internal_batch_size", self.internal_batch_size, 1, 1024)
        _check_int("nt_samples", self.nt_samples, 1, 1000)
        _check_int("infill_candidates", self.infill_candidates, 1, 1000)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        if self.max_tokens is not None:
            _check_int("max_tokens", self.max_tokens, 1, 10**6)
        _check_float("ig_tolerance", self.ig_tolerance, 1e-6, 10.0)
        _check_float("noise", self.noise, 0.0, 10.0)
        _check_float("ig_grading", self.ig_grading, 1.0, 8.0)
        if not isinstance(self.faithfulness, bool):
            raise InputError(f"faithfulness must be True or False, got {shown(self.faithfulness)}.")
        if self.precision not in PRECISIONS:
            raise InputError(
                f"Unknown precision {shown(self.precision)}. Choose from: {', '.join(PRECISIONS)}."
            )
        if self.baseline not in BASELINES:
            raise InputError(
                f"Unknown baseline {shown(self.baseline)}. Choose from: {', '.join(BASELINES)}."
            )
        if self.max_steps < self.n_steps:
            object.__setattr__(self, "max_steps", self.n_steps)

    @classmethod
    def build(cls, **options: Any) -> ExplainOptions:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise InputError(
                f"Unknown option(s): {', '.join(unknown)}. Known: {', '.join(sorted(names))}."
            )
        return cls(**options)

    def with_(self, **changes: Any) -> ExplainOptions:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(replace(self, progress=None, on_stage=None))  # callbacks: not copied
        data.pop("progress")
        data.pop("on_stage")
        return data


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, got {shown(value)}.")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high}, got {shown(value)}.")


def _check_float(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name} must be a number, got {shown(value)}.")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high}, got {shown(value)}.")


STRATEGIES = ("greedy", "sample", "beam")


@dataclass(frozen=True)
class GenerateOptions:
    """How `generate` picks tokens; temperature / top-k / top-p shape sampling only."""

    max_new_tokens: int = 20  # tokens to generate at most (fewer if the model ends the text)
    strategy: str = "greedy"  # greedy (argmax), sample (draw from the warped softmax) or beam
    temperature: float = 1.0  # sample: divide the logits by this (< 1 sharper, > 1 flatter)
    top_k: int | None = None  # sample: keep only the k most probable tokens (None: all)
    top_p: float | None = None  # sample: keep the smallest set with this much mass (None: all)
    num_beams: int = 4  # beam: hypotheses kept at every step
    seed: int = 0  # sample: the draw is seeded in a forked RNG, so results repeat

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InputError(
                f"Unknown strategy {shown(self.strategy)}. Choose from: {', '.join(STRATEGIES)}."
            )
        _check_int("max_new_tokens", self.max_new_tokens, 1, 1024)
        _check_float("temperature", self.temperature, 0.0, 100.0)
        if self.temperature == 0.0:
            raise InputError("temperature must be above 0 (for the argmax use strategy 'greedy').")
        if self.top_k is not None:
            _check_int("top_k", self.top_k, 1, 10**7)
        if self.top_p is not None:
            _check_float("top_p", self.top_p, 0.0, 1.0)
            if self.top_p == 0.0:
                raise InputError("top_p must be above 0 (1 keeps every token), got 0.")
        _check_int("num_beams", self.num_beams, 2 if self.strategy == "beam" else 1, 64)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        warps = self.temperature != 1.0 or self.top_k is not None or self.top_p is not None
        if self.strategy != "sample" and warps:
            raise InputError(
                f"temperature, top_k and top_p shape sampling only ({self.strategy} ignores "
                "them): use strategy 'sample' or leave them at 1.0 / None / None."
            )
