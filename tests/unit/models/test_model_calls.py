"""whyword/models/calls.py is the only module that runs a model, and its calls read the same
numbers as the model's own full forward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from whyword.models import calls as model_calls

PACKAGE = Path(__file__).resolve().parents[3] / "whyword"
LAYER = PACKAGE / "models" / "calls.py"
RUNS = ("generate", "forward", "__call__")  # x.model.generate(...) runs the model too


def model_calls_in(source: str) -> list[int]:
    """Lines where `source` runs a model itself: `x.model(...)`, `x.model.generate(...)`,
    `x.model.forward(...)`, or a name bound to `x.model` called. `self.model(...)` inside a
    class that defines a `model` method calls that method (a loader), not a model."""
    tree = ast.parse(source)
    loaders: set[int] = set()  # call nodes of self.model(...) where the class has def model
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and any(
            isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name == "model"
            for f in cls.body
        ):
            for node in ast.walk(cls):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "self"
                ):
                    loaders.add(id(node))
    aliases = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "model"
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in loaders:
            continue
        f = node.func
        direct = isinstance(f, ast.Attribute) and f.attr == "model"
        method = (
            isinstance(f, ast.Attribute)
            and f.attr in RUNS
            and isinstance(f.value, ast.Attribute)
            and f.value.attr == "model"
        )
        alias = isinstance(f, ast.Name) and f.id in aliases
        if direct or method or alias:
            lines.append(node.lineno)
    return sorted(lines)


def test_only_the_model_call_layer_runs_a_model():
    found = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != LAYER and (lines := model_calls_in(path.read_text(encoding="utf-8")))
    }
    assert not found, f"call the model through whyword/models/calls.py, not here: {found}"
    assert model_calls_in(LAYER.read_text(encoding="utf-8"))  # the layer itself does


def test_the_check_catches_each_way_of_running_a_model():
    source = """
def a(lm, x):
    return lm.model(input_ids=x).logits
def b(lm, x):
    return lm.model.generate(input_ids=x)
def c(retriever, x):
    return retriever.model.forward(x)
def d(lm, x):
    net = lm.model
    return net(x)
class Worker:
    def model(self, name):
        return name
    def run(self):
        return self.model("gpt2")
def e(lm):
    return lm.model.config, lm.model.parameters()
"""
    assert model_calls_in(source) == [3, 5, 7, 10]


def test_whether_a_model_takes_logits_to_keep_is_asked_once_per_class(tiny_gpt2, tiny_bert):
    model_calls._class_takes_keep.cache_clear()
    assert model_calls.takes_keep(tiny_gpt2) and not model_calls.takes_keep(tiny_bert)
    assert model_calls.takes_keep(tiny_gpt2) and not model_calls.takes_keep(tiny_bert)
    info = model_calls._class_takes_keep.cache_info()
    assert (info.misses, info.hits) == (2, 2)


@pytest.mark.parametrize("name", ["tiny_gpt2", "tiny_bert"])
def test_logits_at_the_kept_positions_are_the_full_forwards(name, request):
    """Two routes: the LM head at the kept positions only (causal) and every position."""
    lm = request.getfixturevalue(name)
    ids = torch.tensor([[5, 9, 14, 3, 7, 11], [8, 2, 6, 10, 4, 12]])  # (2, T)
    keep = torch.tensor([1, 4, 5])  # (P,)
    with torch.no_grad():
        full = lm.model(input_ids=ids).logits  # (2, T, V)
        kept = model_calls.logits_at(lm, keep, ids=ids)  # (2, P, V)
        every = model_calls.logits(lm, ids=ids)  # (2, T, V)
    torch.testing.assert_close(kept, full[:, keep], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(every, full, rtol=1e-5, atol=1e-5)


def test_a_cached_call_continues_as_one_call_would(tiny_gpt2):
    """The KV cache of a prefix, extended by one token, gives the last position's logits of
    the whole sequence run at once."""
    ids = torch.tensor([[5, 9, 14, 3, 7]])  # (1, T)
    with torch.no_grad():
        _, cache = model_calls.cached_call(tiny_gpt2, ids=ids[:, :-1])
        step, _ = model_calls.cached_call(tiny_gpt2, ids=ids[:, -1:], past=cache)  # (1, 1, V)
        whole = model_calls.logits(tiny_gpt2, ids=ids)  # (1, T, V)
    torch.testing.assert_close(step[0, -1], whole[0, -1], rtol=1e-5, atol=1e-5)
