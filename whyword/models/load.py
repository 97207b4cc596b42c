"""Loading Hugging Face causal and masked LMs, frozen and cached (bounded LRU)."""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from whyword.errors import ModelLoadError, shown
from whyword.models import default as default_model
from whyword.models.devices import pick_device
from whyword.runtime import settings
from whyword.runtime.bounded import BoundedCache

log = logging.getLogger("whyword.models.load")

Kind = Literal["causal", "masked"]


def max_loaded() -> int:
    """Models kept in memory at once (`WHYWORD_MAX_MODELS`, read now; ≥ 1, a typo: 2)."""
    return settings.MAX_MODELS.get()


HARD_TOKEN_CAP = 4096  # never feed more tokens than this, whatever the model claims


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A frozen model in eval mode with its tokenizer, kind and display name."""

    model: torch.nn.Module
    tokenizer: object
    kind: Kind
    name: str
    source: str  # what was loaded: a Hub id, a folder, or the embedded GGUF's cache folder
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def embedding(self) -> torch.nn.Embedding:
        return self.model.get_input_embeddings()

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Input embeddings exactly as the model computes them from ids (scaled if it scales)."""
        return self.embedding(ids)  # (..., T) -> (..., T, H)

    @property
    def max_tokens(self) -> int:
        """The longest input the model takes (position embeddings and tokenizer limit)."""
        limits = [HARD_TOKEN_CAP]
        for value in (
            getattr(self.model.config, "max_position_embeddings", None),
            getattr(self.tokenizer, "model_max_length", None),
        ):
            if isinstance(value, int) and 0 < value < 10**7:
                limits.append(value)
        if self.kind == "masked" and "roberta" in self.model.config.model_type:
            limits.append(self.model.config.max_position_embeddings - 2)  # padding offset
        return min(limits)

    @property
    def device(self) -> torch.device:
        """Where the model's weights live: every tensor a method makes is made there."""
        return self.embedding.weight.device

    @property
    def vocab_size(self) -> int:
        return int(self.embedding.num_embeddings)


_CACHE: BoundedCache[LoadedModel] = BoundedCache(max_entries=max_loaded)  # name -> model, LRU
_CACHE_LOCK = threading.Lock()  # guards _LOADING (and a look-then-load), never held during a load
_LOADING: dict[str, threading.Lock] = {}  # one lock per model being loaded


def load_model(
    name_or_path: str | LoadedModel | None = None, device: str | None = None
) -> LoadedModel:
    """Load (or fetch from the LRU cache) a causal or masked LM by Hub id or local folder.

    `None`, "" or "default" give the embedded SmolLM2-135M-Instruct. Never runs remote code.
    A slow load (a download, the first GGUF conversion) blocks only requests for that model.
    `device`: auto (CUDA, then MPS, then CPU; `WHYWORD_DEVICE` overrides) or a torch device;
    a model already loaded elsewhere is moved there.
    """
    if isinstance(name_or_path, LoadedModel):
        return name_or_path
    target = pick_device(device) if device is not None else None  # None: keep / auto
    key = (name_or_path or "").strip()
    if key.lower() in default_model.ALIASES:
        key = "default"
    with _CACHE_LOCK:
        if (cached := _cached(key)) is not None:
            return _on(cached, target)
        loading = _LOADING.setdefault(key, threading.Lock())
    with loading:  # a second request for the same model waits here, then finds it cached
        with _CACHE_LOCK:
            if (cached := _cached(key)) is not None:
                return _on(cached, target)
        try:
            loaded = _load_default() if key == "default" else _load(key, display=key)
            loaded = _on(loaded, target or pick_device(None))
            register_model(key, loaded)
        finally:
            with _CACHE_LOCK:
                _LOADING.pop(key, None)
        return loaded


def _on(lm: LoadedModel, device: torch.device | None) -> LoadedModel:
    """The model on `device` (moved under its lock if it is elsewhere); None: where it is."""
    if device is None:
        return lm
    index_differs = device.index is not None and lm.device.index != device.index
    if lm.device.type != device.type or index_differs:
        with lm.lock:
            lm.model.to(device)
    return lm


def _cached(key: str) -> LoadedModel | None:
    """The cached model, marked most recently used."""
    return _CACHE.get(key)


def loaded_models() -> list[str]:
    """Names of the models held in the cache, least recently used first."""
    return _CACHE.keys()


def clear_cache() -> None:
    _CACHE.clear()


def register_model(key: str, loaded: LoadedModel) -> None:
    """Put an already built model in the cache under `key` (tests, notebooks, custom models);
    past `max_loaded()` models, the least recently used is dropped."""
    _CACHE.put(key, loaded)


def _load_default() -> LoadedModel:
    folder = default_model.local_default()
    if folder is None:  # not installed (e.g. on a Space): the same model from the Hub
        return _load(default_model.HUB_ID, display=default_model.DISPLAY_NAME)
    return _load(str(folder), display=default_model.DISPLAY_NAME + " (embedded)")


def _load(source: str, display: str) -> LoadedModel:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=False)
    except Exception as error:  # every failure becomes one sentence
        raise ModelLoadError(_why_not_loadable(source, error)) from None
    kind = model_kind(config)
    if kind is None:
        archs = ", ".join(getattr(config, "architectures", None) or [config.model_type])
        raise ModelLoadError(
            f"Model {shown(source)} is not a causal or masked language model ({archs}); "
            "WhyWord needs a model with a language-modelling head."
        )
    auto = AutoModelForCausalLM if kind == "causal" else AutoModelForMaskedLM
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        model = auto.from_pretrained(source, config=config, trust_remote_code=False)
    except Exception as error:
        raise ModelLoadError(_why_not_loadable(source, error)) from None
    return freeze(model, tokenizer, kind=kind, name=display, source=source)


def freeze(model, tokenizer, kind: Kind, name: str, source: str = "") -> LoadedModel:
    """Eval mode, float32, no parameter gradients: attributions never touch parameters."""
    model.eval()
    model.float()
    model.requires_grad_(False)
    return LoadedModel(
        model=model, tokenizer=tokenizer, kind=kind, name=name, source=source or name
    )


def model_kind(config) -> Kind | None:
    """ "causal" or "masked" from the config's architectures, else from the auto mappings."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    archs = getattr(config, "architectures", None) or []
    if archs:
        if any(a.endswith("ForMaskedLM") for a in archs):
            return "masked"
        if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
            return "causal"
        return None
    if config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES and not getattr(
        config, "is_decoder", False
    ):
        return "masked"
    if config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return "causal"
    return None


@functools.lru_cache(maxsize=64)
def probe_kind(name: str) -> Kind | None:
    """ "causal" / "masked" for a model name from its config only (no weights, cached); None
    when it cannot be told (unknown or unreachable: said when the model is loaded)."""
    name = (name or "").strip()
    if name.lower() in default_model.ALIASES:
        return "causal"
    try:
        from transformers import AutoConfig

        return model_kind(AutoConfig.from_pretrained(name, trust_remote_code=False))
    except Exception:  # any failure here means "not known yet"
        log.debug("no config for %s (loaded: %s)", name, loaded_models())
        return None


def _why_not_loadable(source: str, error: Exception) -> str:
    text = str(error)
    low = text.lower()
    if "trust_remote_code" in low or "custom code" in low:  # a folder or a Hub id alike
        return (
            f"Could not load model {shown(source)}: it needs custom code, which WhyWord never runs."
        )
    if looks_like_path(source) and not _exists(source):
        return f"Could not load model {shown(source)}: there is no such folder."
    first = text.splitlines()[0] if text else ""
    if source:  # the library's message may quote the name whole: quote it as we do
        first = first.replace(source, shown(source, quoted=False))
    first = shown(first, limit=200, quoted=False)
    if _exists(source):
        return f"Could not load model {shown(source)} from that folder: {first}"
    if any(
        s in low for s in ("offline", "connect", "resolve", "network", "timed out", "max retries")
    ):
        return (
            f"Could not load model {shown(source)}: it is not a local folder and the Hugging "
            "Face Hub cannot be reached (no network?)."
        )
    if any(
        s in low
        for s in ("not a valid model identifier", "404", "repository not found", "does not appear")
    ):
        return (
            f"Could not load model {shown(source)}: no such model on the Hugging Face Hub or on "
            "disk."
        )
    why = first if text else type(error).__name__
    return f"Could not load model {shown(source)}: {why}"


def _exists(name: str) -> bool:
    """Whether `name` is a file or folder here; a name the system cannot look up (too long,
    a NUL) is not one."""
    try:
        return Path(name).expanduser().exists()
    except (OSError, ValueError):
        return False


def looks_like_path(name: str) -> bool:
    """A local folder rather than a Hub id ("org/name")."""
    return name.startswith(("/", ".", "~", "\\")) or (len(name) > 1 and name[1] == ":")
