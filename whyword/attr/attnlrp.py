"""AttnLRP (Achtibat et al., ICML 2024) through LXT 2.1's "efficient" rules, per model instance.

LXT implements AttnLRP as Gradient × Input on a model whose forward is rewritten: the identity
rule on activations and norms (their non-linear factor is detached), the uniform rule on
products (the gradient is halved at a gated MLP's product, quartered at attention's query and
key, halved at its value). LXT installs these by patching *classes and module globals* —
process-wide, irreversible, and its package `__init__`s import a BERT copy that needs
`transformers.pytorch_utils.find_pruneable_heads_and_indices` (gone in transformers 5), torchvision
and zennit. So this module:

- loads only LXT's rule files (`lxt.efficient.rules`, `.patches`, `.models.<arch>`), never the
  package `__init__`s, so nothing of transformers is shimmed;
- applies LXT's per-class forwards to *this model's module instances* (an instance attribute
  `forward` shadows the class's), and LXT's attention wrapper through a name registered in
  transformers' `AttentionInterface` (and the original's mask function under the same name)
  that only this model's config points to inside the context.

Other models of the same architecture, in other threads, never see a patched class or global:
the only process-wide change is the registration of extra attention names, which nothing else
uses. The model itself is guarded by `lm.lock`, held for the whole context.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from whyword.attr.objectives import get_objective
from whyword.attr.scoring import Reads, row_values
from whyword.errors import InputError
from whyword.models import calls as model_calls
from whyword.models.load import LoadedModel
from whyword.results.methods import Method

LXT_VERSION = "2.1"
INSTALL_HINT = f"pip install --no-deps lxt=={LXT_VERSION}"
VERIFIED = ("llama", "qwen2", "qwen3", "gpt2")  # LXT maps checked here against transformers 5.23
BROKEN = {  # LXT has rules, but they do not apply to transformers 5 models (see `why_not`)
    "bert": "LXT's AttnLRP rules for bert models are a copy of transformers 4's BERT code, "
    "which does not run on this transformers version; pick another method."
}
LXT_ONLY = ("gemma3",)  # LXT has a map; not checked here (no tiny test yet), so refused
ALIASES = {"logprob": "log_prob"}  # attnlrp_scores' earlier name for the log_prob objective

NOTE = (
    "AttnLRP (LXT's rules) explains the target's logit, the score before the softmax, not its "
    "probability: each token's relevance is its share of that logit, found in one forward and "
    "one backward pass. The shares do not add up to the logit: the attention softmax does not "
    "conserve relevance, and on the default model the sum was 0.14–0.47 of the logit (mean "
    "0.36 over 8 prompts), so compare tokens with each other, not with the logit."
)

_REGISTER_LOCK = threading.RLock()  # guards LXT imports and the attention registrations
_STUBS = (("lxt.efficient", "efficient"), ("lxt.efficient.models", "efficient/models"))


def _lxt_module(name: str) -> types.ModuleType:
    """An LXT rule file (`patches`, `models.llama`, ...) imported without running the package
    `__init__`s of lxt.efficient and lxt.efficient.models (BERT copy, torchvision, zennit):
    bare stand-ins for those two packages exist only while the file is imported."""
    full = f"lxt.efficient.{name}"
    with _REGISTER_LOCK:
        if full in sys.modules:
            return sys.modules[full]
        spec = importlib.util.find_spec("lxt")
        if spec is None or not spec.submodule_search_locations:
            raise InputError(f"AttnLRP needs LXT, which is not installed: run `{INSTALL_HINT}`.")
        root = Path(next(iter(spec.submodule_search_locations)))
        added = [package for package, _ in _STUBS if package not in sys.modules]
        for package, folder in _STUBS:
            if package in added:
                stub = types.ModuleType(package)
                stub.__path__ = [str(root / folder)]  # submodules load from here
                sys.modules[package] = stub
        try:
            return importlib.import_module(full)
        finally:
            for package in added:  # a later `import lxt.efficient` runs the real __init__
                sys.modules.pop(package, None)


def _load_lxt() -> types.ModuleType:
    return _lxt_module("patches")


def lxt_installed() -> bool:
    return importlib.util.find_spec("lxt") is not None


def architecture(lm: LoadedModel) -> str:
    """The transformers model type of `lm` ("llama", "gpt2", ...), from its modeling module."""
    module = type(lm.model).__module__  # e.g. transformers.models.llama.modeling_llama
    if module.startswith("transformers.models.") and ".modeling_" in module:
        return module.rsplit(".modeling_", 1)[1]
    return str(getattr(lm.model.config, "model_type", type(lm.model).__name__))


def why_not(lm: LoadedModel) -> str | None:
    """None if AttnLRP works on this model here, else one sentence saying why not."""
    arch = architecture(lm)
    if arch in BROKEN:
        return BROKEN[arch]
    if arch in LXT_ONLY:
        return f"LXT's AttnLRP rules for {arch} models are not verified in WhyWord; pick another method."
    if arch not in VERIFIED:
        return f"AttnLRP has no rules for {arch} models in LXT; pick another method."
    if not lxt_installed():
        return f"AttnLRP needs LXT, which is not installed: run `{INSTALL_HINT}`."
    return None


def supported(lm: LoadedModel) -> bool:
    return why_not(lm) is None


def _rule_map(arch: str) -> dict:
    patches = _load_lxt()
    rules = _lxt_module(f"models.{arch}")
    modeling = importlib.import_module(f"transformers.models.{arch}.modeling_{arch}")
    out = {}
    for target, patch in rules.attnLRP.items():
        if target is modeling and patch is patches.patch_attention:
            out[target] = patch
        elif (
            isinstance(target, type)
            and isinstance(patch, functools.partial)
            and patch.func is patches.patch_method
        ):
            out[target] = (patch.args[0], patch.keywords.get("method_name", "forward"))
        else:  # a rule this module cannot apply per instance: refuse rather than half-patch
            raise InputError(f"AttnLRP has no rules for {arch} models in LXT; pick another method.")
    return out


def _attention_name(arch: str, impl: str) -> str:
    """Register (once) LXT's wrapper around the model's attention under a private name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    name = f"whyword_attnlrp_{arch}_{impl}"
    with _REGISTER_LOCK:
        if name not in AttentionInterface._global_mapping:
            modeling = importlib.import_module(f"transformers.models.{arch}.modeling_{arch}")
            original = ALL_ATTENTION_FUNCTIONS.get_interface(impl, modeling.eager_attention_forward)
            AttentionMaskInterface.register(name, ALL_MASK_ATTENTION_FUNCTIONS[impl])
            AttentionInterface.register(name, _load_lxt().wrap_attention_forward(original))
    return name


@contextmanager
def attnlrp(lm: LoadedModel) -> Iterator[LoadedModel]:
    """Inside: `lm.model` propagates AttnLRP relevance as its gradient. Restored on exit."""
    reason = why_not(lm)
    if reason is not None:
        raise InputError(reason)
    arch = architecture(lm)
    rule_map = _rule_map(arch)
    config = lm.model.config
    with lm.lock:
        impl = config._attn_implementation or "eager"
        attention = _attention_name(arch, impl)
        saved: list[tuple[torch.nn.Module, str, object]] = []  # (module, attribute, previous)
        try:
            for target, rule in rule_map.items():
                if not isinstance(target, type):
                    continue
                fn, method = rule
                for module in lm.model.modules():
                    if isinstance(module, target) and getattr(type(module), method) is getattr(
                        target, method
                    ):  # subclasses that override the method are left alone, as LXT does
                        saved.append((module, method, module.__dict__.get(method)))
                        setattr(module, method, types.MethodType(fn, module))
            config._attn_implementation = attention
            yield lm
        finally:
            config._attn_implementation = impl
            for module, method, previous in reversed(saved):
                if previous is None:
                    delattr(module, method)
                else:
                    setattr(module, method, previous)


@dataclass(frozen=True, eq=False)
class Relevance:
    """AttnLRP's answer for one input: a relevance per token and what it explains."""

    scores: torch.Tensor  # (T,) relevance per input token: embedding · relevance-gradient
    value: float  # the explained quantity (e.g. the target's logit) at the input
    logits: torch.Tensor  # (1, T, V) the same forward's logits, detached (unchanged by the rules)

    def __post_init__(self) -> None:
        assert self.scores.dim() == 1, "one relevance per token"
        assert self.logits.dim() == 3 and self.logits.shape[1] == self.scores.shape[0]
        assert not self.scores.requires_grad and not self.logits.requires_grad

    @property
    def conserved(self) -> float:
        """Σ relevance / explained value: 1 for exact LRP conservation (AttnLRP: less)."""
        return float(self.scores.sum()) / self.value


def attnlrp_relevance(
    lm: LoadedModel,
    inputs: torch.Tensor,
    score: Callable[[torch.Tensor], torch.Tensor],
    attention_mask: torch.Tensor | None = None,
) -> Relevance:
    """AttnLRP relevance of each input token for `score(logits (1, T, V)) -> scalar`.

    `inputs` are ids (1, T) or input embeddings (1, T, H), fed as `inputs_embeds` (a detached
    copy: the caller's tensor and its `.grad` are untouched). Relevance is conserved for a score
    that is linear in the logits (a logit, a logit difference); one forward, one backward.
    """
    with attnlrp(lm), torch.enable_grad():
        embeds = inputs if inputs.is_floating_point() else lm.embed(inputs)  # (1, T, H)
        embeds = embeds.detach().clone().requires_grad_(True)  # (1, T, H) the leaf
        ones = torch.ones(embeds.shape[:2], device=embeds.device)  # (1, T)
        mask = attention_mask if attention_mask is not None else ones
        logits = model_calls.logits(lm, embeds=embeds, mask=mask.long())  # (1, T, V)
        value = score(logits)  # ()
        (grad,) = torch.autograd.grad(value, embeds)  # (1, T, H)
    scores = (embeds.detach() * grad)[0].sum(-1)  # (T,)
    return Relevance(scores, float(value.detach()), logits.detach())


def attnlrp_scores(
    lm: LoadedModel,
    inputs: torch.Tensor,
    target: int,
    *,
    position: int = -1,
    objective: str = "logit",
    attention_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """AttnLRP relevance of each input token for `target` at `position`: (T,).

    `objective="logit"` (default) explains the target's logit, the quantity LRP rules conserve
    (here only in part: the attention softmax does not). `"logprob"` (or `"log_prob"`)
    explains log p = logit − logsumexp: its relevances are the target logit's minus the
    p-weighted mean of every logit's (the gradient is linear), so they do not add up to log p.
    Any registered objective that needs neither a foil nor a pool works (`entropy`, `margin`):
    F is computed by the same function as everywhere (whyword/attr/scoring.py).
    """
    found = get_objective(ALIASES.get(objective, objective))
    if found.needs_foil or found.needs_pool:
        raise InputError(f"The objective '{objective}' needs more than one target's logits.")
    reads = Reads(found, (int(target),))

    def score(logits: torch.Tensor) -> torch.Tensor:
        picked = logits[0, position].float()[None, None]  # (1, 1, V)
        return row_values([reads], picked)[0]  # ()

    return attnlrp_relevance(lm, inputs, score, attention_mask).scores


def attnlrp_method(problem, params: None):
    """The registered method: Gradient × Input of each row's objective under the rules, the
    rows in budget-sized batches (one forward and one backward each)."""
    from whyword.attr.registry import MethodOutput

    parts, values = [], []
    with attnlrp(problem.model), torch.enable_grad():
        for _, chunk in problem.chunks():
            x = chunk.inputs.detach().clone().requires_grad_(True)  # (r, T, H)
            out = chunk.forward(x, *chunk.args())  # (r,) F: the rules change only the backward
            (grad,) = torch.autograd.grad(out.sum(), x)  # (r, T, H)
            parts.append((x.detach() * grad).sum(-1))  # (r, T)
            values.append(out.detach())
    return MethodOutput(torch.cat(parts), values=torch.cat(values))  # (R, T), (R,)


ATTNLRP = Method(
    "attnlrp",
    attnlrp_method,
    label="AttnLRP (LXT)",
    short_label="AttnLRP",
    description="Layer-wise relevance propagation for transformers (Achtibat et al., 2024) "
    "through LXT's rules: gradient × input on a model whose attention and norms pass relevance "
    "on, in one forward and one backward pass. It explains the same objective as the other "
    "methods (log p of the target unless another is chosen; with the logit objective its "
    "relevances are LRP's shares of the logit); the shares are not conserved exactly (on the "
    "default model they summed to 0.14–0.47 of the logit).",
    one_pass=True,
    extra="lxt",
)
