"""The command line: predictions, explanations, positions, generation, and one-line failures."""

from __future__ import annotations

import json
import math

import pytest

from tests.tolerances import CHAINED_LOG_PROB, assert_close
from whyword import AttributionMatrix
from whyword.cli import main as cli

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
        (["positions", "the [MASK] sat"], "[MASK]"),
        (["positions", TEXT, "-k", "0"], "k must"),
        (["generate", TEXT, "--strategy", "nucleus"], "strategy"),
        (["generate", TEXT, "--strategy", "sample", "--temperature", "0"], "temperature"),
        (["generate", TEXT, "--top-p", "0.9"], "sampling only"),
        (["generate", TEXT, "-n", "0"], "max_new_tokens"),
    ],
)
def test_bad_options_are_one_line_on_stderr(capsys, tiny_paths, argv, words):
    code, out, err = run(capsys, *argv, "--model", tiny_paths["gpt2"])
    assert code == 2 and out == ""
    assert err.startswith("whyword: ") and words in err and "Traceback" not in err


def test_positions_json_has_one_row_per_predicted_token(capsys, tiny_paths):
    code, out, _ = run(
        capsys, "positions", TEXT, "--model", tiny_paths["gpt2"], "-k", "3", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["scoring"] == "causal" and data["k"] == 3
    assert [r["position"] for r in data["rows"]] == list(range(1, len(data["rows"]) + 1))
    for r in data["rows"]:
        assert len(r["top_k"]) == 3 and (r["rank"] == 1) == (r["top_k_ids"][0] == r["token_id"])


def test_positions_table_prints_the_columns_and_perplexity(capsys, tiny_paths):
    code, out, _ = run(capsys, "positions", TEXT, "--model", tiny_paths["gpt2"])
    assert code == 0
    assert "| position | token id | token" in out and "| top-5" in out
    assert "perplexity: " in out


def test_generate_json_repeats_with_the_seed(capsys, tiny_paths):
    args = ["generate", TEXT, "--model", tiny_paths["gpt2"], "-n", "6", "--json"]
    args += ["--strategy", "sample", "--temperature", "0.8", "--top-k", "50", "--top-p", "0.9"]
    runs = [json.loads(run(capsys, *args, "--seed", "1")[1]) for _ in range(2)]
    assert runs[0]["steps"] == runs[1]["steps"] and len(runs[0]["steps"]) == 6
    assert runs[0]["options"]["top_k"] == 50 and runs[0]["options"]["seed"] == 1
    step = runs[0]["steps"][0]
    assert step["probability"] == pytest.approx(math.exp(step["log_prob"]))


@pytest.mark.parametrize("strategy, raw", [("greedy", False), ("sample", True), ("beam", False)])
def test_generate_prints_the_transition_table(capsys, tiny_paths, strategy, raw):
    argv = ["generate", TEXT, "--model", tiny_paths["gpt2"], "-n", "4", "--strategy", strategy]
    code, out, _ = run(capsys, *argv, "--num-beams", "3")
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("| step"))
    cells = [c.strip() for c in header.strip("| ").split("|")]
    assert code == 0
    assert cells[:7] == ["step", "token id", "token", "log-prob", "probability", "rank", "entropy"]
    assert ("raw log-prob" in header) == raw
    assert sum(line.startswith("| ") for line in lines) == 1 + 4  # header and four steps


@pytest.mark.numerics
def test_generate_json_carries_the_step_matrix(capsys, tiny_paths):
    args = ["generate", TEXT, "--model", tiny_paths["gpt2"], "-n", "4", "--json"]
    plain = json.loads(run(capsys, *args)[1])
    assert "attribution" not in plain
    code, out, _ = run(capsys, *args, "--method", "saliency,integrated_gradients")
    data = json.loads(out)
    matrix = AttributionMatrix.from_dict(data["attribution"])
    p = len(data["prompt"])
    assert code == 0 and data["steps"] == plain["steps"]
    assert matrix.shape == (4, p + 4)
    assert [m.method for m in matrix.methods] == ["saliency", "integrated_gradients"]
    for s, (row, step) in enumerate(zip(matrix.outputs, data["steps"], strict=True)):
        assert row.target_ids == (step["token_id"],)
        # teacher-forced against generate's own step-by-step log-prob
        assert_close(row.value, step["raw_log_prob"], CHAINED_LOG_PROB)
        cells = data["attribution"]["methods"][0]["scores"][s]
        assert [c is None for c in cells] == [i >= p + s for i in range(p + 4)]


def test_generate_prints_one_steps_by_tokens_table_per_method(capsys, tiny_paths):
    args = ["generate", TEXT, "--model", tiny_paths["gpt2"], "-n", "3", "--seed", "2"]
    _, js, _ = run(capsys, *args, "--json", "--method", "saliency")
    matrix = AttributionMatrix.from_dict(json.loads(js)["attribution"])
    code, out, _ = run(capsys, *args, "--method", "saliency", "--method", "input_x_gradient")
    lines = out.splitlines()
    heads = [i for i, line in enumerate(lines) if cells_of(line)[:2] == ["step", "token"]]
    assert code == 0 and len(heads) == 2  # one table per method
    assert lines[heads[0] - 1].startswith("saliency (")
    head = cells_of(lines[heads[0]])
    assert head[2:] == [t.label for t in matrix.tokens]
    p = len(matrix.tokens) - 3
    for s in range(3):
        cells = cells_of(lines[heads[0] + 2 + s])
        assert cells[0] == str(s + 1) and cells[1] == matrix.tokens[p + s].label
        assert cells[2:].count("·") == 3 - s  # the step's own token and those after it
        shown = float(cells[2].replace(".", "0.", 1) if cells[2].startswith(".") else cells[2])
        assert shown == pytest.approx(matrix.scores("saliency")[s, 0], abs=5e-3)
    assert "no gradient" in out


def cells_of(line: str) -> list[str]:
    return [c.strip() for c in line.strip()[1:-1].split("|")] if line.startswith("|") else []


def test_generate_refuses_an_unknown_method(capsys, tiny_paths):
    args = ["generate", TEXT, "--model", tiny_paths["gpt2"], "-n", "2", "--method", "magic"]
    code, _, err = run(capsys, *args)
    assert code == 2 and err.startswith("whyword: ") and "magic" in err


def test_layers_prints_the_lens_and_its_json_round_trips(capsys, tiny_paths):
    path = tiny_paths["gpt2"]
    code, out, _ = run(capsys, "layers", TEXT, "--model", path, "--target", " the", "-k", "3")
    assert code == 0 and "| embeddings " in out and "reaches the top 5" in out
    assert "the last row is the model's own prediction" in out
    code, out, _ = run(capsys, "layers", TEXT, "--model", path, "--foil", " cat", "--json")
    data = json.loads(out)
    assert code == 0 and data["rows"][0]["label"] == "embeddings" and data["foil_id"] is not None
    assert all(row["foil_rank"] >= 1 for row in data["rows"])
    shares = data["components"]["components"]
    assert abs(sum(c["dla"] for c in shares) - data["components"]["frozen_total"]) < 1e-4
    inside = [c for c in shares if c["kind"] in ("head", "mlp")]  # 10 checked, or all if fewer
    assert len(data["components"]["ablations"]) == min(10, len(inside)) and data["whyword_version"]
    code, out, _ = run(capsys, "layers", TEXT, "--model", path, "--top", "3", "--check", "2")
    table = out.split("which parts wrote")[1]
    assert code == 0 and table.count("| L") + table.count("| MLP") == 3  # the top 3 by |DLA|
    assert "rank agreement over the 2 checked" in out
    code, _, err = run(capsys, "layers", TEXT, "--model", path, "--position", "40")
    assert code == 2 and err.startswith("whyword: ") and "outside the text" in err


def test_flip_hotflip_json_and_table(capsys, tiny_paths):
    model = ["--model", tiny_paths["gpt2"], "--positions", "2", "--per-position", "2"]
    code, out, _ = run(capsys, "flip", TEXT, *model, "--json")
    data = json.loads(out)
    assert code == 0 and len(data["edits"]) == data["forwards"] == 4
    code, out, _ = run(capsys, "flip", TEXT, *model, "--foil", " dog")
    assert code == 0 and "Δ(target − foil)" in out and "word-initial" in out


def test_flip_reduce_and_refusal(capsys, tiny_paths):
    code, out, _ = run(capsys, "flip", TEXT, "--model", tiny_paths["gpt2"], "--kind", "reduce")
    assert code == 0 and "scores recomputed after each removal" in out and "stopped:" in out
    code, _, err = run(capsys, "flip", TEXT, "--model", tiny_paths["gpt2"], "--budget", "0")
    assert code == 2 and err.count("\n") == 1 and "budget" in err
