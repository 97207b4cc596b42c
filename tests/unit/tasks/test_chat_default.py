"""`chat` on the default model (SmolLM2-135M-Instruct, whose tokenizer has a chat template):
the ids are `apply_chat_template`'s, and the system prompt its template adds when there is
none is template, not a message."""

from __future__ import annotations

import pytest

from whyword.tasks.chat import chat

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is the capital of France? Answer in one word."},
]


@pytest.mark.slow
def test_the_ids_and_roles_on_the_default_model(smol):
    ref = smol.tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True)["input_ids"]
    typed = chat(MESSAGES, model=smol, reply="Paris.")
    assert typed.ids[: typed.prompt_length] == tuple(ref)
    for k, m in enumerate(MESSAGES):
        mine = [t.id for t, o in zip(typed.tokens, typed.owners, strict=True) if o == k]
        assert smol.tokenizer.decode(mine) == m["content"]
    assert typed.roles[typed.prompt_length :] == ("assistant",) * len(typed.reply_ids)
    alone = chat(MESSAGES[1:], model=smol, reply="Paris.")  # the template adds a system prompt
    ref = smol.tokenizer.apply_chat_template(MESSAGES[1:], add_generation_prompt=True)
    assert alone.ids[: alone.prompt_length] == tuple(ref["input_ids"])
    assert "system" not in alone.roles and "SmolLM" in alone.text
    generated = chat(MESSAGES, model=smol, max_new_tokens=8)
    assert generated.ids[: generated.prompt_length] == typed.ids[: typed.prompt_length]
    assert generated.reply_ids == generated.generation.token_ids
