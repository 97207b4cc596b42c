"""The command line: predictions, explanations and their options, and one-line failures."""

from __future__ import annotations

import json

import pytest

from whyword import cli

TEXT = "the cat sat on the"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_predict_json_lists_k_rows(capsys, tiny_paths):
    code, out, _ = run(capsys, "predict", TEXT, "--model", tiny_paths["gpt2"], "-k", "3", "--json")
    assert code == 0
    assert len(json.loads(out)["rows"]) == 3


def ig_of(out: str) -> dict:
    attributions = json.loads(out)["attributions"]
    return next(a for a in attributions if a["method"] == "integrated_gradients")


def test_explain_passes_ig_options_through(capsys, tiny_paths):
    """Each IG option changes the run the way it says; every branch is forced, none assumed."""
    model = ["--model", tiny_paths["gpt2"], "--method", "integrated_gradients"]
    args = ["explain", TEXT, *model, "--json", "--steps", "8"]
    code, out, _ = run(capsys, *args, "--fixed")
    fixed = ig_of(out)
    assert code == 0 and fixed["params"]["adaptive"] is False and fixed["steps"] == 8
    # loose: the first pass (8 steps) already meets it, so nothing is refined
    code, out, _ = run(capsys, *args, "--tolerance", "0.01", "--max-steps", "64")
    loose = ig_of(out)
    assert code == 0 and loose["params"]["tolerance"] == 0.01
    assert loose["steps"] == 8 and loose["relative_error"] <= 0.01
    assert loose["relative_error"] > 1e-6  # so the tight runs below must refine or stop short
    # tight with room: refined until met, within the cap
    code, out, _ = run(capsys, *args, "--tolerance", "0.000001", "--max-steps", "256")
    tight = ig_of(out)
    assert code == 0 and tight["params"]["max_steps"] == 256
    assert 8 < tight["steps"] <= 256 and tight["relative_error"] <= 1e-6
    # tight with no room (a refinement pass adds 8 steps; 8 + 8 > 12): the cap wins
    code, out, _ = run(capsys, *args, "--tolerance", "0.000001", "--max-steps", "12")
    capped = ig_of(out)
    assert code == 0 and capped["params"]["max_steps"] == 12
    assert capped["steps"] == 8 and capped["relative_error"] > 1e-6


@pytest.mark.parametrize(
    "argv, words",
    [
        (["explain", TEXT, "--tolerance", "-1"], "ig_tolerance"),
        (["explain", TEXT, "--steps", "0"], "n_steps"),
        (["explain", "   "], "text"),
    ],
)
def test_bad_options_are_one_line_on_stderr(capsys, tiny_paths, argv, words):
    code, out, err = run(capsys, *argv, "--model", tiny_paths["gpt2"])
    assert code == 2 and out == ""
    assert err.startswith("whyword: ") and words in err and "Traceback" not in err
