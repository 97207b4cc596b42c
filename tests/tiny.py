"""Tiny random causal and masked LMs with real tokenizers, built offline in seconds.

No masked LM with an MLM head can be downloaded here, so masked mode is tested on these;
they are saved to folders so tests go through the real `load_model(path)` route.
"""

from __future__ import annotations

from pathlib import Path

import torch

CORPUS = [
    "The capital of France is Paris. The capital of Italy is Rome.",
    "This weekend I plan to go to the beach and take a walk with my dog.",
    "To be or not to be, that is the question. For God so loved the world.",
    "The keys to the cabinet are on the table. The key is here.",
    "Scientists discovered a herd of unicorns living in a remote valley.",
    "café 北京 🙂 <script>alert(1)</script> &amp; **bold** مرحبا",
]
WORDS = sorted({w.strip(".,!?").lower() for line in CORPUS for w in line.split()})


def bpe_files(folder: Path, specials: list[str]) -> tuple[str, str]:
    """A byte-level BPE trained on CORPUS; returns (vocab.json, merges.txt)."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 4, vocab_size=400, min_frequency=1, special_tokens=specials)
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = bpe.save_model(str(folder))
    return vocab, merges


def build_gpt2(folder: Path) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    vocab, merges = bpe_files(folder / "bpe", ["<|endoftext|>"])
    tok = GPT2TokenizerFast(vocab=vocab, merges=merges)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=128,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    return _save(GPT2LMHeadModel(config), tok, folder)


def build_bert(folder: Path) -> Path:
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz.,!?<>()&*"]
    pieces += WORDS + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"] + ["##s", "##ing"]
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(dict.fromkeys(pieces)) + "\n")
    tok = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    return _save(BertForMaskedLM(config), tok, folder)


def build_roberta(folder: Path) -> Path:
    from tokenizers import AddedToken
    from transformers import RobertaConfig, RobertaForMaskedLM, RobertaTokenizerFast

    vocab, merges = bpe_files(folder / "bpe", ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok = RobertaTokenizerFast(
        vocab=vocab, merges=merges, mask_token=AddedToken("<mask>", lstrip=True, rstrip=False)
    )
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    return _save(RobertaForMaskedLM(config), tok, folder)


def build_retriever(bert_folder: str | Path):
    """A tiny random sentence encoder (two BERT blocks, width 32) that reads the tiny BERT's
    tokenizer: the Evidence retriever of the fast tests and the fuzz benchmark."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from whyword.evidence.retriever import Retriever

    tok = BertTokenizerFast.from_pretrained(str(bert_folder))
    torch.manual_seed(1)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    model = BertModel(config).eval().requires_grad_(False)
    return Retriever(model=model, tokenizer=tok, name="tiny-encoder")


def build_classifier(folder: Path) -> Path:
    """A model with no LM head: loading it must fail with a clear message."""
    from transformers import BertConfig, BertForSequenceClassification

    bert = build_bert(folder / "tok")
    from transformers import BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(bert)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    return _save(BertForSequenceClassification(config), tok, folder)


def _save(model, tok, folder: Path) -> Path:
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def llama_family(
    arch: str = "llama", seed: int = 0, vocab_size: int = 100, layers: int = 2, tokenizer=None
):
    """A tiny random causal LM of the Llama family (grouped-query attention and RMSNorm, as the
    default model), frozen as a LoadedModel; without a tokenizer it reads ids only."""
    import transformers as tf

    from whyword.models.load import freeze

    common = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,  # grouped-query attention, as in the default model
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    model = {
        "llama": lambda: tf.LlamaForCausalLM(tf.LlamaConfig(**common)),
        "qwen2": lambda: tf.Qwen2ForCausalLM(tf.Qwen2Config(**common)),
        "qwen3": lambda: tf.Qwen3ForCausalLM(tf.Qwen3Config(**common, head_dim=8)),
    }[arch]()
    return freeze(model, tokenizer, kind="causal", name=f"tiny-{arch}")


# A small chat template (trims each message, as many do) for the tiny tokenizers: chat tests
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] | trim }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


BUILDERS = {"gpt2": build_gpt2, "bert": build_bert, "roberta": build_roberta}


def build_chat_llama(folder: Path) -> Path:
    """A folder holding a tiny random Llama that reads the tiny GPT-2 tokenizer given
    `CHAT_TEMPLATE`: a chat model the page and the API can load by path."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(build_gpt2(folder / "tok"))
    tok.chat_template = CHAT_TEMPLATE
    lm = llama_family(vocab_size=len(tok), tokenizer=tok, seed=3)
    return _save(lm.model, tok, folder)


class Forwards:
    """Counts a model's forward calls and the sequences they run, while in a `with` block."""

    def __init__(self, model) -> None:
        self.model, self.calls, self.rows = model, 0, 0

    def __enter__(self) -> Forwards:
        self._hook = self.model.register_forward_pre_hook(self._count, with_kwargs=True)
        return self

    def __exit__(self, *exc) -> None:
        self._hook.remove()

    def _count(self, module, args, kwargs) -> None:
        self.calls += 1
        x = kwargs.get("inputs_embeds", kwargs.get("input_ids", args[0] if args else None))
        self.rows += 0 if x is None else x.shape[0]


def count_forwards(lm, run):
    """`run()`'s result and how many times it ran the model."""
    with Forwards(lm.model) as seen:
        result = run()
    return result, seen.calls
