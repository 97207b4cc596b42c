"""Faithfulness and faithfulness per second: WhyWord's methods against Captum's and Inseq's.

Every tool's per-token scores for the same prompt and target (the model's top-1) are scored by
the same deletion / insertion curves (whyword/engine/faithfulness.py: tokens removed or re-inserted
in score order, set to the zero embedding, first token never removed, curves normalised
between the full and the emptied input; a random order ≈ 0.50 / 0.50). Cost is each tool's
own attribution time over one raw forward+backward of the same prompt (median of 3).
Faithfulness per second: (insertion − deletion) / seconds — 0 for a random order.
Edit ρ: Spearman's ρ of each tool's |score| and the largest verified |Δ log p(target)| of a
single-token edit at each position (HotFlip at every position, `EDITS_PER_POSITION` candidates
each, every edit run through the model: whyword/results/edit_agreement.py), the first token
left out as in the curves; the same edits for every tool of a prompt.

Tools run interleaved per prompt in one process (result cache off), in a shuffled order per
prompt. Captum: its `LLMGradientAttribution(LayerIntegratedGradients)` on the embedding layer
and `LLMAttribution(FeatureAblation)`, both with their own defaults (token id 0 as baseline;
IG 50 steps). Inseq (optional: requirements-bench.txt): `saliency`, `integrated_gradients`,
`attention`, `occlusion`, `lime` on the same model object with their own defaults, attributing
log p(target), per-token scores by Inseq's default aggregation (what its `show()` draws: the
L2 norm over the hidden size, so unsigned); a method that cannot run gets its reason in the
table. Intervals: 95 % bootstrap (2,000 resamples) of the mean over prompts, and of the paired
difference with WhyWord's default IG (over the prompts both scored).

    HF_HUB_OFFLINE=1 python benchmarks/faithfulness.py [--prompts=24] [--threads=1]
        [--minutes=M]   # start no new prompt after M minutes (a bounded run on a busy machine)
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")

import inseq_peer  # noqa: E402  (benchmarks/, beside this file)
import torch  # noqa: E402
from captum.attr import (  # noqa: E402
    FeatureAblation,
    LayerIntegratedGradients,
    LLMAttribution,
    LLMGradientAttribution,
    TextTokenInput,
)

import whyword  # noqa: E402
from whyword.attr import METHODS as REGISTERED  # noqa: E402
from whyword.engine import faithfulness as faith  # noqa: E402
from whyword.engine import targets  # noqa: E402
from whyword.engine.predict import predictions as top_k  # noqa: E402
from whyword.engine.problems import build_problem  # noqa: E402
from whyword.models.encoding import encode  # noqa: E402
from whyword.results.edit_agreement import agreement, edit_effects  # noqa: E402
from whyword.results.stats import bootstrap_mean  # noqa: E402
from whyword.runtime.options import ExplainOptions  # noqa: E402
from whyword.tasks.explain import row_for  # noqa: E402

METHODS = tuple(REGISTERED)  # every registered method
PROMPTS = Path(__file__).with_name("prompts_faithfulness.json")
EDITS_PER_POSITION = 10  # HotFlip's verified candidates at every position (the page's ~120 rows)


def raw_seconds(problem, target: int, lm) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        x = problem.inputs.detach().clone().requires_grad_()  # (1, T, H)
        mask = torch.ones(x.shape[:2], dtype=torch.long)  # (1, T)
        out = lm.model(inputs_embeds=x, attention_mask=mask, use_cache=False, logits_to_keep=1)
        lp = torch.log_softmax(out.logits[0, -1].float(), -1)[target]  # ()
        torch.autograd.grad(lp, x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def captum_tool(lm, text: str, target: int, kind: str) -> tuple[torch.Tensor, float]:
    if kind == "captum_layer_ig":
        llm = LLMGradientAttribution(
            LayerIntegratedGradients(lm.model, lm.model.get_input_embeddings()), lm.tokenizer
        )
    else:
        llm = LLMAttribution(FeatureAblation(lm.model), lm.tokenizer)
    inp = TextTokenInput(text, lm.tokenizer)
    start = time.perf_counter()
    res = llm.attribute(inp, target=torch.tensor([target]))
    return res.seq_attr.detach().double().cpu(), time.perf_counter() - start  # (T,)


boot = bootstrap_mean  # whyword/results/stats.py: the dataset summary's intervals too


def arg(name: str, default: float) -> float:
    return next(
        (float(a.split("=")[1]) for a in sys.argv[1:] if a.startswith(f"--{name}=")), default
    )


def main() -> None:
    n, minutes = int(arg("prompts", 24)), arg("minutes", 0)
    torch.set_num_threads(int(arg("threads", 1)))
    stop = time.perf_counter() + 60 * minutes if minutes else float("inf")  # no new prompt after
    prompts = json.loads(PROMPTS.read_text())["prompts"][:n]
    lm = whyword.load_model()
    peers = inseq_peer.load(lm)
    failed = {f"inseq_{m}": p.reason for m, p in peers.items() if p.model is None}
    tools = (*METHODS, "captum_layer_ig", "captum_feature_ablation")
    tools += tuple(f"inseq_{m}" for m, p in peers.items() if p.model is not None)
    rows: dict[str, dict[int, tuple[float, float, float, float]]] = {t: {} for t in tools}
    edit_rho: dict[str, dict[int, float]] = {t: {} for t in tools}  # prompts where ρ is defined
    loads = [os.getloadavg()]
    opts = ExplainOptions()
    for i, text in enumerate([prompts[0], *prompts]):  # the first prompt warms up
        if time.perf_counter() > stop:
            print(f"time bound reached after {i - 1} prompts", file=sys.stderr)
            break
        enc = encode(lm, text)
        preds = top_k(lm, enc, opts.k)
        tgt = targets.resolve(lm, enc, None, preds[0].candidates[0].token_id)
        row = row_for(lm, enc, tgt.ids, None, 0, preds[0])
        with torch.enable_grad():
            problem = build_problem(lm, row.target.ids, [row], opts, uses_ig=False)
            raw = raw_seconds(problem, tgt.ids[0], lm)
        scores: dict[str, tuple[torch.Tensor, float]] = {}
        for tool in random.Random(i).sample(tools, len(tools)):  # interleaved, shuffled
            if tool in failed:
                continue
            try:
                scores[tool] = run_tool(tool, lm, text, enc.ids, tgt.ids[0], preds, peers)
            except Exception as error:  # a peer that fails on a prompt: its reason, once
                failed[tool] = f"{type(error).__name__}: {str(error)[:160]}"
                print(f"{tool} fails: {failed[tool]}", file=sys.stderr, flush=True)
        if i == 0:
            continue
        hot = whyword.counterfactuals(
            text, tgt.ids[0], model=lm, positions=100, per_position=EDITS_PER_POSITION
        )
        effects = edit_effects(hot)
        for tool, (s, _) in scores.items():
            rho = agreement(s.tolist(), effects, skip={0}).rho
            if rho is not None:
                edit_rho[tool][i] = rho
        context = torch.ones(1, len(enc.ids), dtype=torch.bool)  # (1, T)
        with torch.no_grad():
            cells = faith.removable(problem, context)  # (1, T)
            f_full = problem.forward(problem.inputs.detach(), *problem.args()).double().cpu()
            base = faith.random_baseline(problem, cells, f_full)
            for tool, (s, seconds) in scores.items():
                if s.shape[0] != len(enc.ids):
                    raise SystemExit(f"{tool}: {s.shape[0]} scores for {len(enc.ids)} tokens")
                (f,) = faith.method_faithfulness(problem, s.view(1, -1), base)
                if f is not None:
                    rows[tool][i] = (f.deletion, f.insertion, seconds / raw, seconds)
        loads.append(os.getloadavg())
        print(f"{i}/{len(prompts)} {len(enc.ids)} tokens, load {loads[-1][0]:.1f}", file=sys.stderr)
    report(rows, failed, len(prompts), loads, edit_rho)


def run_tool(tool, lm, text, ids, target, preds, peers) -> tuple[torch.Tensor, float]:
    """One tool's per-token scores (T,) for `target` and its own attribution seconds."""
    if tool.startswith("captum"):
        return captum_tool(lm, text, target, tool)
    if tool.startswith("inseq_"):
        return inseq_peer.scores(peers[tool.removeprefix("inseq_")], lm, text, ids, target)
    e = whyword.explain(text, target, methods=tool, model=lm, predictions=preds)
    a = e.attributions[0]
    return torch.tensor(a.scores, dtype=torch.double), a.seconds  # (T,)


def fmt(t: tuple[float, float, float]) -> str:
    return f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"


def report(rows, failed: dict[str, str], n_prompts: int, loads, edit_rho) -> None:
    ig = rows["integrated_gradients"]
    one = [x[0] for x in loads]
    print(
        f"{len(ig)} prompts (of {n_prompts}), target = top-1, {torch.get_num_threads()} thread(s); "
        f"1-min load average {min(one):.1f}–{max(one):.1f}; mean [95 % bootstrap]"
    )
    print(
        "| tool | prompts | cost (× fwd+bwd) | s | deletion ↓ | insertion ↑ | Δdel vs IG | Δins vs IG "
        "| (ins − del) / s | edit ρ ↑ |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    out = {}
    for tool, r in rows.items():
        if len(r) < 2 or len(ig) < 2:
            why = failed.get(tool, "fewer than 2 prompts scored")
            print(f"| {tool} | {len(r)} | — | — | — | — | — | — | — | — |  ({why})")
            continue
        dl, ins, cost, s = (list(col) for col in zip(*r.values(), strict=True))
        both = sorted(set(r) & set(ig))
        dd = boot([r[p][0] - ig[p][0] for p in both])
        di = boot([r[p][1] - ig[p][1] for p in both])
        per_s = statistics.mean(b - a for a, b in zip(dl, ins, strict=True)) / statistics.median(s)
        d, n = boot(dl), boot(ins)
        rhos = list(edit_rho[tool].values())
        rho = boot(rhos) if len(rhos) >= 2 else None
        out[tool] = {
            "del": d,
            "ins": n,
            "ddel": dd,
            "dins": di,
            "cost": statistics.median(cost),
            "s": statistics.median(s),
            "per_s": per_s,
            "prompts": len(r),
            "edit_rho": rho,
        }
        print(
            f"| {tool} | {len(r)} | {statistics.median(cost):.1f} | {statistics.median(s):.2f} "
            f"| {fmt(d)} | {fmt(n)} | {fmt(dd)} | {fmt(di)} | {per_s:.2f} "
            f"| {fmt(rho) if rho else '—'} |"
        )
    for tool, why in failed.items():
        print(f"{tool}: {why}")
    out_dir = Path(__file__).with_name("results")
    out_dir.mkdir(exist_ok=True)
    dump = {"rows": rows, "summary": out, "failed": failed, "loads": loads, "edit_rho": edit_rho}
    (out_dir / "faithfulness.json").write_text(json.dumps(dump, indent=1))


if __name__ == "__main__":
    main()
