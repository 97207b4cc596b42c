"""The attention view's results check themselves: weights that do not sum to 1, a causal head
that looks ahead, a grid that disagrees with its row, neurons out of order are refused; the
exports and rankings read the right cells."""

from __future__ import annotations

from dataclasses import replace

import pytest

from whyword.results.attention import ComponentRelevance, HeadAttention, Neuron
from whyword.text.tokens import Token

TOKENS = tuple(Token(id=i, text=t, label=t) for i, t in enumerate(["The", " cat", " sat"]))


def _seen(**changes) -> HeadAttention:
    base = HeadAttention(
        model="m",
        kind="causal",
        text="The cat sat",
        tokens=TOKENS,
        position=1,
        layer=2,
        head=1,
        weights=(0.25, 0.75, 0.0),
        moved=(0.5, 1.5, 0.0),
        moved_grid=((1.0, 3.0), (0.5, 2.0)),
        layers=2,
        heads=2,
        kv_heads=1,
    )
    return replace(base, **changes)


def test_a_head_attention_row_checks_its_invariants():
    seen = _seen()
    assert seen.top_heads(2) == [(1, 1, 3.0), (2, 1, 2.0)]
    frame = seen.to_dataframe()
    assert list(frame["token"]) == ["The", " cat", " sat"] and frame["moved"].sum() == 2.0
    assert seen.to_dict()["moved_grid"] == ((1.0, 3.0), (0.5, 2.0))
    for bad in (
        {"weights": (0.25, 0.5, 0.0)},  # does not sum to 1
        {"weights": (0.25, 0.5, 0.25)},  # a causal head looking ahead
        {"weights": (1.25, -0.25, 0.0)},  # negative
        {"moved_grid": ((1.0, 3.0), (0.5, 2.5))},  # the grid's cell is not the row's sum
        {"moved_grid": ((1.0, 3.0),)},  # one layer short
        {"layer": 3},
        {"head": 2},
    ):
        with pytest.raises(AssertionError):
            _seen(**bad)
    assert _seen(kind="masked", weights=(0.25, 0.5, 0.25), moved=(0.5, 1.0, 0.5))  # both ways


def _relevance(**changes) -> ComponentRelevance:
    base = ComponentRelevance(
        model="m",
        text="The cat sat",
        tokens=TOKENS,
        position=2,
        target=" on",
        target_id=7,
        foil=None,
        foil_id=None,
        objective="logit",
        value=3.0,
        heads=((0.1, -0.9), (0.4, 0.2)),
        attention=(-0.8, 0.6),
        mlps=(0.3, -0.5),
        neurons=(Neuron(2, 5, -0.4), Neuron(1, 0, 0.2)),
        token_relevance=(0.5, 0.25, 1.0),
        layers=2,
        n_heads=2,
    )
    return replace(base, **changes)


def test_component_relevance_ranks_heads_and_mlps_by_size():
    got = _relevance()
    assert got.top(3) == [("L1.H1", -0.9), ("MLP 2", -0.5), ("L2.H0", 0.4)]
    frame = got.to_dataframe()
    assert len(frame) == 2 * 2 + 2 and frame["relevance"].sum() == pytest.approx(-0.4)
    assert list(frame["head"].fillna(-1)) == [0, 1, 0, 1, -1, -1]  # MLPs have no head
    for bad in (
        {"neurons": (Neuron(1, 0, 0.2), Neuron(2, 5, -0.4))},  # not largest first
        {"objective": "logit difference"},  # without a foil
        {"heads": ((0.1, -0.9),)},
        {"mlps": (0.3,)},
        {"token_relevance": (0.5, 0.25)},
    ):
        with pytest.raises(AssertionError):
            _relevance(**bad)
