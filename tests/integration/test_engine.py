"""One engine: every route to the model gives the same scores, precision is entered in one
place, and a method registered by a user is treated like a built-in with no other edit."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import torch

import whyword as ww
from tests.tolerances import BF16_ROUTES, TINY_FP32, Tolerance, assert_close, for_scores
from whyword.engine.cache import RESULTS
from whyword.runtime import precision
from whyword.runtime.options import ExplainOptions
from whyword.serve.dispatch import ExplainJob, group_key
from whyword.serve.scheduler import Scheduler, cost
from whyword.serve.work import Worker
from whyword.tasks.explain import ExplainRequest, explain_many

PACKAGE = Path(__file__).resolve().parents[2] / "whyword"
TEXT = "The keys to the cabinet are on the"
OTHERS = ("The capital of France is", "I plan to go to the beach because it is")
SHARED = ("saliency", "input_x_gradient", "occlusion")  # methods that share calls
ALONE = ("integrated_gradients", "smoothgrad")  # refine per input: never padded with others


@pytest.fixture
def no_caches(monkeypatch):
    """Every route computes (no result or forward cache answers for it)."""
    monkeypatch.setenv("WHYWORD_CACHE_ENTRIES", "0")
    RESULTS.clear()


def _routes(lm, path: str, methods, opts: ExplainOptions) -> dict[str, ww.Explanation]:
    """The same request through every path to the model."""
    req = ExplainRequest(TEXT)
    out = {"explain": ww.explain(TEXT, methods=methods, model=lm, options=opts)}
    out["explain_many alone"] = explain_many(lm, [req], methods, opts)[0]
    many = [ExplainRequest(OTHERS[0]), req, ExplainRequest(OTHERS[1])]
    out["explain_many beside others"] = explain_many(lm, many, methods, opts)[1]
    out["scheduler"] = Scheduler().explain(TEXT, methods=methods, model=lm, options=opts)
    body = {"op": "explain", "text": TEXT, "methods": list(methods), "options": opts.to_dict()}
    answer = Worker(path).answer([body, {**body, "text": OTHERS[0]}])[0]
    assert "result" in answer, answer
    out["ray worker"] = ww.Explanation.from_dict(answer["result"])
    return out


def _assert_same(routes: dict, tol: Tolerance) -> None:
    ref = routes["explain"]
    for name, got in routes.items():
        assert [a.method for a in got.attributions] == [a.method for a in ref.attributions]
        assert got.target_ids == ref.target_ids, name
        assert_close(got.value, ref.value, tol, f"{name}: F")
        for a, b in zip(ref.attributions, got.attributions, strict=True):
            assert_close(b.scores, a.scores, for_scores(a.method, tol), f"{name}: {a.method}")


@pytest.mark.numerics
@pytest.mark.parametrize("methods", [SHARED, ("saliency", *ALONE)])
def test_every_route_gives_the_same_scores_in_fp32(no_caches, tiny_paths, tiny_gpt2, methods):
    """Within 1e-6 (TINY_FP32; occlusion's differences of two F values: 1e-5, `for_scores`).
    Measured at most 6e-8 for the gradient methods, IG and SmoothGrad, and 4.8e-7 for
    occlusion (one float32 ulp of F), under AVX-512, AVX2 and the plain kernels."""
    opts = ExplainOptions(k=5, n_steps=8, max_steps=16, nt_samples=3, precision="fp32")
    _assert_same(_routes(tiny_gpt2, tiny_paths["gpt2"], methods, opts), TINY_FP32)


@pytest.mark.numerics
@pytest.mark.skipif(
    not precision.bf16_native(torch.device("cpu")), reason="this CPU has no native bf16"
)
def test_every_route_gives_the_same_scores_in_bf16(no_caches, tiny_paths, tiny_gpt2):
    """bf16 is entered on every route (it was only on explain's): each route's scores are
    the bf16 ones, not fp32 ones under the same cache key."""
    opts = ExplainOptions(k=5, precision="bf16")
    routes = _routes(tiny_gpt2, tiny_paths["gpt2"], SHARED, opts)
    _assert_same(routes, BF16_ROUTES)
    fp32 = ww.explain(TEXT, methods=SHARED, model=tiny_gpt2, options=opts.with_(precision="fp32"))
    far = [
        max(abs(x - y) for x, y in zip(a.scores, b.scores, strict=True))
        for a, b in zip(fp32.attributions, routes["scheduler"].attributions, strict=True)
    ]
    assert max(far) > 1e-6  # the scheduler's route really ran in bf16


def _autocast_calls(path: Path) -> int:
    return sum(
        isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "autocast"
        for node in ast.walk(ast.parse(path.read_text()))
    )


def test_precision_is_entered_in_one_place(tmp_path):
    """`torch.autocast` appears in precision.py (its definitions) and the engine enters it
    through `precision.autocast` once; no other module does."""
    calls = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in PACKAGE.rglob("*.py")
        if (n := _autocast_calls(p)) and p.name != "precision.py"
    }
    assert calls == {"engine/run.py": 1}
    bad = tmp_path / "route.py"
    bad.write_text(
        "from whyword.runtime.precision import autocast\nwith autocast('bf16', d):\n    pass\n"
    )
    assert _autocast_calls(bad) == 1  # the check sees a second entry where one is added


def _user_method(calls: list):
    def gradient_l1(problem, params):
        from whyword.attr.problem import input_gradients

        calls.append(problem.n_rows)
        values, grads = input_gradients(problem)  # (R,), (R, T, H)
        return ww.attr.MethodOutput(grads.abs().sum(-1), values=values)  # (R, T)

    return gradient_l1


@pytest.fixture
def user_method():
    calls: list[int] = []
    method = ww.register_method(
        "gradient_l1_user",
        _user_method(calls),
        label="Gradient L1 (user)",
        signed=False,
        shares_calls=True,
        reads_gradient=True,
        evaluations=lambda tokens, options: 7,
    )
    yield method, calls
    ww.METHODS.pop(method.name)


def test_a_user_method_shares_calls_in_a_class_of_requests(no_caches, user_method, tiny_paths):
    """Three requests of similar length with the user's method run in one call of it (3 rows)."""
    method, calls = user_method
    opts = ExplainOptions(k=3)
    job = ExplainJob(ExplainRequest(TEXT), (method.name,), opts)
    assert group_key(job, "model") is not None
    body = {"op": "explain", "methods": [method.name], "options": opts.to_dict()}
    texts = (TEXT, "The books on the shelf are in the", "The cups in the kitchen are by the")
    answers = Worker(tiny_paths["gpt2"]).answer([{**body, "text": t} for t in texts])
    assert all("result" in a for a in answers) and calls == [3]
    assert all(not math.isnan(a["result"]["attributions"][0]["scores"][-1]) for a in answers)


def test_a_user_method_is_costed_listed_and_accepted(user_method, capsys):
    method, _ = user_method
    opts = ExplainOptions()
    assert cost(10, (method.name,), opts) == 10 * 7  # its own cost model
    assert cost(10, (method.name, "occlusion"), opts) == 10 * 7 + 10 * 10
    from whyword.cli.main import main

    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    assert method.name in capsys.readouterr().out  # the command line's --method choices
    from whyword.ui import widgets

    boxes = widgets.method_boxes(type("C", (), {"default": ("saliency",)}), None, None)
    assert (method.label, method.name) in boxes.choices  # the page's method list
    from whyword.ui.session import check
    from whyword.ui.share import Query

    check(Query(text="Hello there", methods=(method.name,)))  # the API's validation
    with pytest.raises(ww.InputError, match=method.name):
        check(Query(text="Hello there", methods=("no_such_method",)))


def test_registries_refuse_a_name_that_exists_unless_overwritten(user_method):
    method, _ = user_method
    with pytest.raises(ww.InputError, match="exists: pass overwrite=True"):
        ww.register_method(method.name, method.run)
    again = ww.register_method(method.name, method.run, label="again", overwrite=True)
    assert ww.METHODS[method.name] is again and again.label == "again"
    with pytest.raises(ww.InputError, match="Unknown method trait"):
        ww.register_method("bad_trait", method.run, shares=True)
