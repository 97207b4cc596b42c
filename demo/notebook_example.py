# %% [markdown]
# # WhyWord from Python
# The same library the web app calls. Run it as a script (`python demo/notebook_example.py`)
# or open it in Jupyter / VS Code: each `# %%` is a cell. Offline, the default model is the
# embedded SmolLM2-135M-Instruct.

# %%
from pathlib import Path

from whyword import explain, load_model, predict

model = load_model()  # cached: later calls reuse it

# %% [markdown]
# ## 1. What does the model predict next?

# %%
print(predict("The capital of France is", k=5, model=model))

# %% [markdown]
# ## 2. Why " Paris"? Scores per input token (positive: supports the target)

# %%
e = explain(
    "The capital of France is",
    methods=["saliency", "integrated_gradients"],
    model=model,
    n_steps=32,
)
print(e.formula, "for", repr(e.target), f"= {e.value:+.3f}")
print(e.to_dataframe())
ig = e.attribution("integrated_gradients")
print(f"IG completeness: delta {ig.convergence_delta:+.4f}, relative error {ig.relative_error:.1%}")

# %% [markdown]
# ## 3. Retarget without recomputing the predictions, and contrast with a foil

# %%
london = explain(
    e.text, target=" London", methods=["saliency"], model=model, predictions=e.predictions
)
print(london.target, f"p = {london.target_probability:.2%}")

agreement = explain(
    "The keys to the cabinet", target=" are", foil=" is", methods=["input_x_gradient"], model=model
)
print(agreement.formula, f"= {agreement.value:+.3f}")
print(agreement.to_dataframe())

# %% [markdown]
# ## 4. A [MASK] on a next-token model: infill scoring

# %%
infill = explain("The capital of France is [MASK].", methods=["saliency"], model=model)
print(infill.mode, infill.target, infill.notes[0][:120], "…")

# %% [markdown]
# ## 5. The app's pictures, as files (plotly figure, self-contained HTML)

# %%
from whyword.render import export_html, topk_figure  # noqa: E402

out = Path("whyword-demo")
out.mkdir(exist_ok=True)
(out / "explanation.html").write_text(export_html(e), encoding="utf-8")
(out / "explanation.json").write_text(e.to_json(indent=2), encoding="utf-8")
topk_figure(e.predictions[0], target_id=e.target_ids[0]).write_html(out / "topk.html")
print("wrote", sorted(p.name for p in out.iterdir()))
