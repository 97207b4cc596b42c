"""Write demo/class_notebook.ipynb (nbformat 4, no outputs) from the cells below.

python scripts/build_class_notebook.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    (
        "md",
        """# What does a language model expect next — and why?

A class walk-through of next-token prediction with WhyWord on the default model
(SmolLM2-135M-Instruct, embedded: it runs offline on a laptop CPU).

1. Tokenize a prompt and look at the raw logits.
2. The top-k predictions at the last position as a table.
3. **Q2** — what does the prediction at an *earlier* position mean?
4. **Q3** — how do you generate a whole sentence? Greedy, sampling, beam search.
5. *Why* was each generated word chosen? A per-step attribution matrix.
6. *Why* " Paris"? The heatmap, drawn in the notebook, and what each layer predicts.""",
    ),
    (
        "code",
        """import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything here runs offline
warnings.filterwarnings("ignore", message="IProgress not found")  # no widgets: plain bars

import pandas as pd  # noqa: E402  (after the environment is set)
import torch  # noqa: E402
from transformers.utils import logging  # noqa: E402

import whyword as ww  # noqa: E402

logging.disable_progress_bar()

pd.set_option("display.width", 160)
lm = ww.load_model()  # the embedded default model, cached after the first call
model, tokenizer = lm.model, lm.tokenizer
print(lm.name)""",
    ),
    ("md", "## 1. Tokens, logits and their shape"),
    (
        "code",
        """prompt = "The capital of France is"
ids = tokenizer(prompt, return_tensors="pt").input_ids  # (1, T)
print(ids.tolist())
print(tokenizer.convert_ids_to_tokens(ids[0]))  # Ġ marks a leading space""",
    ),
    (
        "code",
        """with torch.no_grad():
    logits = model(ids).logits  # (1, T, V): one score per vocabulary entry, at every position
print("logits shape:", tuple(logits.shape), "= (batch, tokens, vocabulary)")

last = logits[0, -1]  # (V,): the scores for the token after the whole prompt
probs = torch.softmax(last, dim=-1)  # (V,)
best = int(last.argmax())
print(f"argmax: {best} {tokenizer.decode(best)!r}  p = {float(probs[best]):.3f}")""",
    ),
    (
        "md",
        """## 2. The top-k table

`ww.predict` does the softmax and the top-k for you and returns a DataFrame.""",
    ),
    (
        "code",
        """top = ww.predict(prompt, k=10, model=lm)
top""",
    ),
    (
        "md",
        """## 3. Q2 — earlier positions

Changing `logits[0, -1]` to `logits[0, -3]` reads the model's guess *after the third-last
token*: every position predicts the token that follows it. `ww.positions` lists them all, with
the token that actually came next, its rank and surprisal (bits: how surprised the model was).""",
    ),
    (
        "code",
        """earlier = logits[0, -3]  # (V,): the guess made after " of"
print("after", repr(tokenizer.decode(ids[0, :-2])), "→", repr(tokenizer.decode(int(earlier.argmax()))))

table = ww.positions(prompt, k=3, model=lm)
table[["position", "token", "probability", "rank", "surprisal", "entropy", "top_k"]]""",
    ),
    (
        "md",
        """## 4. Q3 — three ways to generate

Greedy takes the argmax at every step; sampling draws from the (temperature-scaled) softmax —
the seed makes the draw repeat; beam search keeps the 3 best partial sentences.""",
    ),
    (
        "code",
        """start = "Once upon a time"
runs = {
    "greedy": ww.generate(start, max_new_tokens=6, model=lm),
    "sample (T=0.8, seed 1)": ww.generate(
        start, max_new_tokens=6, strategy="sample", temperature=0.8, seed=1, model=lm
    ),
    "beam (3 beams)": ww.generate(start, max_new_tokens=6, strategy="beam", num_beams=3, model=lm),
}
pd.DataFrame(
    {
        "text": [start + g.text for g in runs.values()],
        "log p(continuation)": [round(g.log_prob, 3) for g in runs.values()],
    },
    index=list(runs),
)""",
    ),
    (
        "md",
        "Every step's transition score (what `compute_transition_scores` prints), for greedy:",
    ),
    (
        "code",
        """runs["greedy"].to_dataframe()[["step", "token_id", "token", "log_prob", "probability", "rank", "entropy"]]""",
    ),
    (
        "md",
        """## 5. Why each generated word? A per-step attribution matrix

`model.generate` picks tokens with argmax or sampling, which has no gradient, so WhyWord re-runs
the chosen sequence teacher-forced through a differentiable forward and attributes each step's
log-probability. Rows are generated steps; columns are the prompt and generated tokens; empty
cells are tokens the step could not see yet.""",
    ),
    (
        "code",
        """gen = ww.generate(prompt, max_new_tokens=4, model=lm)
matrix = gen.attribute("saliency", model=lm)
grid = pd.DataFrame(
    matrix.scores("saliency"),
    index=[f"{s.step}: {s.token.label}" for s in gen.steps],
    columns=[t.label for t in matrix.tokens],
)
grid.round(2)""",
    ),
    (
        "md",
        """The same matrix in colour: a WhyWord result draws itself in the notebook (red: the
word raised that step's token, grey dashed: not seen yet).""",
    ),
    ("code", "matrix"),
    (
        "md",
        """## 6. Why " Paris"? The heatmap

`ww.explain` attributes the top prediction to every prompt token with two methods; the result
shows itself as the page's heatmap. `.show(...)` takes options: `level="word"` merges the
pieces of a word, `methods=[...]` keeps some methods, `predictions=True` adds the top-k table,
`trust=True` the completeness and faithfulness checks.""",
    ),
    (
        "code",
        """why = ww.explain(prompt, model=lm)  # saliency and integrated gradients
why""",
    ),
    ("code", 'why.show(level="word", methods=["integrated_gradients"], predictions=True)'),
    (
        "md",
        """What does each layer predict after " is"? The logit lens reads the stream after every
block through the model's own final norm and head: where does " Paris" reach the top?""",
    ),
    ("code", 'ww.layers(prompt, target=" Paris", model=lm)'),
    (
        "md",
        """Try it: change the prompt, the temperature or the seed, and see which earlier words each
new word leans on. In a terminal the same is
`whyword generate "The capital of France is" -n 4 --method saliency`.""",
    ),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.cells = [new_markdown_cell(s) if k == "md" else new_code_cell(s) for k, s in CELLS]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # stable ids: rebuilding gives the same file
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / "demo" / "class_notebook.ipynb"
    nb = build()
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print("wrote", path)
