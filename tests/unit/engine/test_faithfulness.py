"""Deletion / insertion curves: batched = a loop of single forwards, the maths on a known F."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

import whyword as ww
from tests.tolerances import CURVE, SAME_ARITHMETIC, assert_close
from whyword.attr.problem import Problem, fixed_rows
from whyword.engine import faithfulness as faith
from whyword.engine.problems import build_problem
from whyword.runtime.options import ExplainOptions
from whyword.tasks.attribute import _rows

TEXT = "The capital of France is Paris. The capital of Italy is"


def _hand_curves(problem: Problem, row: int, scores: list[float], cells: list[int]):
    """Deletion and insertion curves with one forward per point (the slow definition)."""
    order = sorted(cells, key=lambda i: (-scores[i], i))  # most supporting first, ties by index
    n = len(order)

    def f(at_ref: set[int]) -> float:
        x = problem.inputs[row].detach().clone()  # (T, H)
        for i in at_ref:
            x[i] = problem.reference[row, i]
        mask, rows = problem.args(slice(row, row + 1))  # (1, T), (1,)
        with torch.no_grad():
            return float(problem.forward(x.unsqueeze(0), mask, rows)[0])  # (1,) -> scalar

    full, empty = f(set()), f(set(order))
    deletion = [f(set(order[:k])) for k in range(n + 1)]
    insertion = [f(set(order[k:])) for k in range(n + 1)]
    return [(v - empty) / (full - empty) for v in deletion], [
        (v - empty) / (full - empty) for v in insertion
    ]


CURVE_FIELDS = (
    "deletion",
    "insertion",
    "deletion_curve",
    "insertion_curve",
    "random_deletion",
    "random_insertion",
)


def _area(curve) -> float:
    n = len(curve) - 1
    return sum((a + b) / 2 for a, b in zip(curve[:-1], curve[1:], strict=False)) / n


@pytest.mark.numerics
@pytest.mark.parametrize("which", ["tiny_gpt2", "tiny_bert"])
def test_batched_curves_equal_a_loop_of_single_forwards(which, request):
    lm = request.getfixturevalue(which)
    if lm.kind == "causal":
        ids = tuple(lm.tokenizer(TEXT)["input_ids"])
        outputs = [ww.Output(position=p) for p in (3, 7, len(ids) - 1)]
    else:
        ids = tuple(lm.tokenizer("the capital of france is [MASK] .")["input_ids"])
        outputs = [ww.Output()]
    m = ww.attribute(
        lm, ids, outputs, ("saliency", "occlusion"), faithfulness=True, precision="fp32"
    )
    rows, _ = _rows(lm, ids, outputs)
    problem = build_problem(lm, ids, rows, ExplainOptions())
    held = set(problem.anchors[0].nonzero().flatten().tolist()) | (  # every row holds the same
        {0} if lm.kind == "causal" else set()
    )
    for method in m.methods:
        assert method.faithfulness is not None and len(method.faithfulness) == len(outputs)
        for r, result in enumerate(method.faithfulness):
            cells = [i for i, c in enumerate(m.context[r]) if c and i not in held]
            deletion, insertion = _hand_curves(problem, r, list(method.scores[r]), cells)
            assert_close(result.deletion_curve, deletion, CURVE, "deletion")
            assert_close(result.insertion_curve, insertion, CURVE, "insertion")
            assert_close(result.deletion, _area(deletion), CURVE, "deletion area")
            assert_close(result.insertion, _area(insertion), CURVE, "insertion area")
            assert len(result.deletion_curve) == len(cells) + 1  # held / NaN cells never removed


class Recorder:
    """F = Σ_t w_t·x_t[0] per example; remembers every input it was given."""

    def __init__(self, weights: list[float]) -> None:
        self.w = torch.tensor(weights)  # (T,)
        self.seen: list[torch.Tensor] = []
        self.calls = 0

    def __call__(self, embeds, mask, rows):
        self.calls += 1
        self.seen.append(embeds.detach().clone())  # (B, T, H)
        return (embeds[..., 0] * self.w).sum(-1)  # (B,)


def _problem(forward, t: int, anchors=(), rows: int = 1, budget: int = 1000) -> Problem:
    x = torch.ones(rows, t, 2)  # (R, T, H): token t contributes w_t at the real input
    held = torch.zeros(t, dtype=torch.bool)  # (T,)
    held[list(anchors)] = True
    return Problem(
        forward=forward,
        inputs=x,
        rows=torch.arange(rows),  # (R,)
        attention_mask=torch.ones(rows, t, dtype=torch.long),  # (R, T)
        reference=torch.zeros(rows, t, 2),  # (R, T, H)
        anchors=held,
        batch_rows=fixed_rows(budget),
    )


def _run(problem: Problem, scores, context):
    cells = faith.removable(problem, torch.tensor(context))  # (R, T)
    with torch.no_grad():
        f_full = problem.forward(problem.inputs, *problem.args()).double()  # (R,)
    base = faith.random_baseline(problem, cells, f_full)
    return faith.method_faithfulness(problem, torch.tensor(scores, dtype=torch.double), base)


@pytest.mark.numerics
def test_a_perfect_order_on_an_additive_f_gives_the_exact_areas():
    forward = Recorder([3.0, 2.0, 1.0])
    (result,) = _run(_problem(forward, 3), [[3.0, 2.0, 1.0]], [[True] * 3])
    # deletion: F = 6, 3, 1, 0 -> 1, 1/2, 1/6, 0; insertion: 0, 1/2, 5/6, 1
    assert result.deletion_curve == pytest.approx((1, 1 / 2, 1 / 6, 0))
    assert result.insertion_curve == pytest.approx((0, 1 / 2, 5 / 6, 1))
    assert result.deletion == pytest.approx(7 / 18)
    assert result.insertion == pytest.approx(11 / 18)


@pytest.mark.numerics
def test_perfect_order_beats_random_beats_reversed_order():
    weights = [5.0, -1.0, 4.0, 0.5, 3.0, 2.0, 0.0, 1.0]
    forward = Recorder(weights)
    problem = _problem(forward, len(weights), rows=2)
    perfect, reverse = weights, [-w for w in weights]
    good, bad = _run(problem, [perfect, reverse], [[True] * len(weights)] * 2)
    assert good.deletion < good.random_deletion < good.insertion
    assert good.random_insertion < good.insertion
    assert bad.deletion > bad.random_deletion and bad.insertion < bad.random_insertion
    # an additive F: a random order's expected area is 1/2 exactly; RANDOM_ORDERS estimate it
    assert good.random_deletion == pytest.approx(0.5, abs=0.15)


@pytest.mark.numerics
def test_an_unsigned_method_removes_the_largest_magnitude_first():
    forward = Recorder([1.0, 1.0, 1.0])
    (result,) = _run(_problem(forward, 3), [[0.0, 5.0, 2.0]], [[True] * 3])
    deleted = [s[0, :, 0].tolist() for s in forward.seen[-1:]][0]  # the last batch's first input
    assert result.deletion_curve == pytest.approx((1, 2 / 3, 1 / 3, 0))
    assert deleted == [1.0, 0.0, 1.0]  # token 1 (score 5) went first


@pytest.mark.numerics
def test_held_tokens_and_out_of_context_cells_are_never_removed():
    forward = Recorder([10.0, 1.0, 2.0, 3.0, 4.0])
    problem = _problem(forward, 5, anchors=(0,))
    context = [[True, True, True, True, False]]  # token 4 is NaN for this row
    (result,) = _run(problem, [[9.0, 1.0, 2.0, 3.0, 0.0]], context)
    assert len(result.deletion_curve) == 4  # 3 removable tokens: 1, 2, 3
    for batch in forward.seen:
        assert torch.all(batch[:, 0] == 1) and torch.all(batch[:, 4] == 1)  # held, NaN: real
    # order 3, 2, 1: F = 20, 17, 15, 14 between F(full) = 20 and F(empty) = 14
    assert result.deletion_curve == pytest.approx((1, 0.5, 1 / 6, 0))


def test_one_batched_call_per_method_within_the_budget():
    forward = Recorder([float(i) for i in range(10)])
    problem = _problem(forward, 10, rows=3)
    cells = faith.removable(problem, torch.ones(3, 10, dtype=torch.bool))  # (R, T)
    f_full = torch.full((3,), 45.0, dtype=torch.double)  # (R,)
    base = faith.random_baseline(problem, cells, f_full)
    before = forward.calls
    faith.method_faithfulness(problem, torch.rand(3, 10, dtype=torch.double), base)
    assert forward.calls - before == 1  # 3 rows × 2 curves × 9 points in one call
    small = _problem(forward, 10, rows=3, budget=10)
    before = forward.calls
    faith.method_faithfulness(small, torch.rand(3, 10, dtype=torch.double), base)
    assert forward.calls - before == math.ceil(3 * 2 * 9 / 10)  # chunks of the budget


def test_a_row_whose_f_does_not_move_has_no_score():
    forward = Recorder([0.0, 0.0, 0.0])
    (result,) = _run(_problem(forward, 3), [[1.0, 2.0, 3.0]], [[True] * 3])
    assert result is None


def test_explanation_carries_the_scores_through_json(tiny_gpt2):
    e = ww.explain(TEXT, methods=("saliency", "occlusion"), model=tiny_gpt2, faithfulness=True)
    for a in e.attributions:
        assert a.deletion is not None and 0 <= a.random_deletion <= 1
        assert len(a.deletion_curve) == len(e.tokens)  # all but the held first token, plus k=0
        assert a.deletion == pytest.approx(_area(a.deletion_curve))
    assert ww.Explanation.from_json(e.to_json()) == e
    old = json.loads(e.to_json())  # a file written before faithfulness existed
    for a in old["attributions"]:
        for key in ("deletion", "insertion", "deletion_curve", "insertion_curve"):
            a.pop(key)
        a.pop("random_deletion"), a.pop("random_insertion")
    back = ww.Explanation.from_dict(old)
    assert (
        back.attributions[0].deletion is None
        and back.attributions[0].scores == e.attributions[0].scores
    )


def test_matrix_json_round_trip_and_the_option_off(tiny_gpt2):
    ids = tiny_gpt2.tokenizer(TEXT)["input_ids"]
    outputs = [ww.Output(position=0), ww.Output(position=5)]
    m = ww.attribute(tiny_gpt2, ids, outputs, ("saliency",), faithfulness=True)
    assert m.methods[0].faithfulness[0] is None  # position 0: only the held first token
    back = ww.AttributionMatrix.from_json(m.to_json())  # NaN cells: compare the JSON
    assert back.methods[0].faithfulness == m.methods[0].faithfulness
    assert back.to_json() == m.to_json()
    off = ww.attribute(tiny_gpt2, ids, outputs, ("saliency",), faithfulness=False)
    assert off.methods[0].faithfulness is None and off.methods[0].scores == m.methods[0].scores


def test_trust_panel_csv_and_cli_show_it(tiny_gpt2):
    import io

    import pandas as pd

    from whyword.cli.explain import explanation_table
    from whyword.render import export_csv, trust_html

    e = ww.explain(TEXT, methods=("saliency", "occlusion"), model=tiny_gpt2, faithfulness=True)
    a = e.attribution("occlusion")
    panel = trust_html(e)
    assert "Faithfulness: deletion ↓ / insertion ↑" in panel and f"{a.deletion:.2f}" in panel
    frame = pd.read_csv(io.StringIO(export_csv(e)), skiprows=1)  # the version comment
    assert list(frame["occlusion deletion"].unique()) == [a.deletion]
    assert list(frame["random insertion"].unique()) == [a.random_insertion]
    table = explanation_table(e)
    assert f"occlusion: deletion {a.deletion:.3f}, insertion {a.insertion:.3f}" in table


@pytest.mark.numerics
def test_all_curves_in_one_pass_equal_the_step_by_step_route_and_share_points():
    weights = [5.0, -1.0, 4.0, 0.5, 3.0, 2.0, 0.0, 1.0]
    forward = Recorder(weights)
    problem = _problem(forward, len(weights), rows=2)
    cells = faith.removable(problem, torch.ones(2, len(weights), dtype=torch.bool))  # (R, T)
    a = torch.tensor([weights, weights], dtype=torch.double)  # (R, T)
    b = a.clone()  # (R, T): the same first token, then another order
    b[:, 4] = 10.0
    base = faith.random_baseline(problem, cells)  # F(real input) in the same pass
    want = {"a": faith.method_faithfulness(problem, a, base)}
    want["b"] = faith.method_faithfulness(problem, b, base)
    before, seen = forward.calls, len(forward.seen)
    got = faith.all_curves(problem, cells, {"a": a, "b": b})
    assert forward.calls - before == 1  # the baseline and both methods: one call
    assert got.keys() == want.keys()
    for name in want:  # two routes to the same curves
        for g, w in zip(got[name], want[name], strict=True):
            assert (g is None) == (w is None)
            assert g is None or g.curve_precision == w.curve_precision
            for field in () if w is None else CURVE_FIELDS:
                assert_close(getattr(g, field), getattr(w, field), SAME_ARITHMETIC, field)
    planned = 2 * (2 + 2 * 7 + 2 * 2 * 7)  # per row: ends, 2 random orders, 2 methods × 2 curves
    assert sum(x.shape[0] for x in forward.seen[seen:]) < planned  # shared points once


@pytest.mark.parametrize(("precision", "calls"), [("bf16", 1), ("fp32", 4)])
def test_bf16_curves_run_in_wide_calls(precision: str, calls: int) -> None:
    """The curves' rows go in calls of `call_rows(wide=True)` under bf16 (cheaper per row
    as a call grows), of the plain budget in fp32."""
    forward = Recorder([1.0] * 8)
    problem = replace(
        _problem(forward, 8),
        batch_rows=lambda tokens, grad=True, wide=False: 64 if wide else 4,
    )
    at_ref = [torch.arange(8) < k for k in range(16)]  # 16 rows, (T,) each
    out = faith._evaluate(problem, torch.zeros(16, dtype=torch.long), at_ref, precision)
    assert forward.calls == calls and out.shape == (16,)
