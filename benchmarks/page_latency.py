"""The page's latency in a real browser: click on *Explain* → first heatmap, and → complete.

The app runs in this process (the whole page, local mode, result cache off so every click
computes); headless Chromium (Debian's, launched as tests/browser/browser_kit.py does — never
`playwright install`) opens a fresh page per measurement, types the prompt and clicks
*Explain*. The page itself timestamps, with `performance.now()` in a MutationObserver: the
click (a capture listener on the button), the first heatmap in the DOM (the one-pass
methods' early result) and the status line finished ("Time:" in it, no "Still running"). The
DOM change precedes its paint by at most a frame. Interleaved: one warm-up round (model load),
then `--reps` rounds, each running every (prompt, method set) once; medians and ranges.

    HF_HUB_OFFLINE=1 python benchmarks/page_latency.py [--reps=5] [--tokens=5,12,16]

Method sets: the page's default (whyword.runtime.options.PAGE_METHODS) and saliency + IG (the page's
IG settings: 32-step first pass, refinement up to PAGE_MAX_STEPS). Targets (issue 12): first
heatmap ≤ 0.5 s for ≤ 16 tokens; the default view complete ≤ 1.5 s at 12–14 tokens.

`--layers` also times the Layers tab (issue 22): a click on the *Layers* tab → its view
complete (the legend, the lens table, and the heads grid or its one-line note), twice per
prompt: on a fresh page with the prompt typed into the Explain tab's text box (the page's
first chart: plotly.js starts inside the measurement), and after the Explain tab explained the
prompt (saliency), the class's usual path. Target: ≤ 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("WHYWORD_CACHE_ENTRIES", "0")  # every click computes
os.environ.pop("WHYWORD_HOSTED", None)  # local mode, as the browser tests
os.environ.pop("SPACE_ID", None)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from tests.browser.browser_kit import ARGS, CHROMIUM, free_port  # noqa: E402
from whyword.runtime.options import PAGE_METHODS  # noqa: E402

PROMPTS = {  # SmolLM2's tokens
    5: "The capital of France is",
    12: "In a shocking finding, scientists discovered a herd of unicorns",
    16: "After the long winter, the farmers in the valley finally planted their first crops of",
}
METHOD_SETS = {
    "page default (" + " + ".join(PAGE_METHODS) + ")": PAGE_METHODS,
    "saliency + IG": ("saliency", "integrated_gradients"),
}
FIRST_TARGET, COMPLETE_TARGET = 0.5, 1.5  # seconds (issue 12)
TEXT_BOX = "#ww-text textarea, #ww-text input"
K = "9"  # a k the page does not start with: shows that the URL's settings have landed
TIMEOUT = 300_000  # ms

WATCH_JS = """() => {
  const w = window.__ww = {click: null, first: null, done: null, statuses: [], times: []};
  document.querySelector('#ww-explain').addEventListener(
    'click', () => { if (w.click === null) w.click = performance.now(); }, {capture: true});
  const check = () => {
    if (w.click === null || w.done !== null) return;
    const now = performance.now();
    const heat = document.querySelector('#ww-heatmap div[dir=ltr]');
    if (w.first === null && heat && heat.innerText.trim()) w.first = now;
    const status = document.querySelector('#ww-status')?.innerText || '';
    if (status && status !== w.statuses[w.statuses.length - 1]) {
      w.statuses.push(status);
      w.times.push(now);
    }
    if (status.includes('Time:') && !status.includes('Still running')) w.done = now;
  };
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def measure(browser, url: str, text: str, methods: tuple[str, ...]) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(url + "?" + urlencode({"methods": ",".join(methods), "k": K}))
        page.wait_for_function(
            "(k) => document.querySelector('#ww-k input[type=number]')?.value === k", arg=K
        )
        page.locator(TEXT_BOX).first.fill(text)
        page.evaluate(WATCH_JS)
        page.click("#ww-explain")
        page.wait_for_function("() => window.__ww.done !== null", timeout=TIMEOUT)
        w = page.evaluate("window.__ww")
    finally:
        page.close()
    first_status = next((s for s in w["statuses"] if "first heatmap after" in s), "")
    refining = [t for s, t in zip(w["statuses"], w["times"], strict=True) if "refining" in s]
    return {
        "first": (w["first"] - w["click"]) / 1000,
        "complete": (w["done"] - w["click"]) / 1000,
        "server_first": _seconds(r"first heatmap after ([\d.]+) s", first_status),
        "server_complete": _seconds(r"Time: ([\d.]+) s", w["statuses"][-1]),
        "statuses": len(w["statuses"]),
        "ig_first_pass": (refining[0] - w["click"]) / 1000 if refining else None,  # shown
        "final_status": w["statuses"][-1],
    }


LAYERS_TARGET = 1.0  # seconds (issue 22)
LAYERS_JS = """() => {
  const w = window.__wwly = {click: null, done: null};
  document.querySelector('#ww-tab-layers-button').addEventListener(
    'click', () => { if (w.click === null) w.click = performance.now(); }, {capture: true});
  const check = () => {
    if (w.click === null || w.done !== null) return;
    const status = document.querySelector('#ww-ly-status')?.innerText || '';
    const table = document.querySelector('#ww-ly-table table');
    const grid = document.querySelector('#ww-ly-heads .js-plotly-plot .heatmaplayer');
    const note = document.querySelector('#ww-ly-note')?.innerText || '';
    if (status.includes('top ') && table && (grid || note.trim())) w.done = performance.now();
  };
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def measure_layers(browser, url: str, text: str, explained: bool) -> float:
    """Seconds from a click on the Layers tab to its complete view, the prompt in the text box
    (`explained`: after the Explain tab's view of it is complete)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        if explained:
            page.goto(url + "?" + urlencode({"methods": "saliency", "text": text}))
            page.wait_for_selector("#ww-topk .bars .point path", timeout=TIMEOUT)
        else:
            page.goto(url)
            page.locator(TEXT_BOX).first.fill(text)
        page.evaluate(LAYERS_JS)
        page.click("#ww-tab-layers-button")
        page.wait_for_function("() => window.__wwly.done !== null", timeout=TIMEOUT)
        w = page.evaluate("window.__wwly")
    finally:
        page.close()
    return (w["done"] - w["click"]) / 1000


def _seconds(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tokens", default="5,12,16", help="prompt sizes among 5,12,16")
    parser.add_argument("--layers", action="store_true", help="also time the Layers tab")
    parser.add_argument("--only-layers", action="store_true", help="time the Layers tab only")
    args = parser.parse_args()
    sizes = [int(t) for t in args.tokens.split(",")]
    if CHROMIUM is None:
        sys.exit("Chromium is not installed (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    import whyword
    from whyword.ui import build_demo

    load_start, clock = os.getloadavg(), time.perf_counter()
    whyword.load_model()  # before the clock of any click: the warm-up round covers the rest
    demo = build_demo()
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_port=port, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    sets = {} if args.only_layers else METHOD_SETS
    runs: dict[tuple[str, int], list[dict]] = {(m, t): [] for m in sets for t in sizes}
    layer_runs: dict[tuple[int, bool], list[float]] = {
        (t, explained): [] for t in sizes for explained in (False, True)
    }
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for round_ in range(args.reps + 1):  # round 0 warms up
                for tokens in sizes:
                    for name, methods in sets.items():
                        result = measure(browser, url, PROMPTS[tokens], methods)
                        if round_:
                            runs[(name, tokens)].append(result)
                    for explained in (False, True) if args.layers or args.only_layers else ():
                        seconds = measure_layers(browser, url, PROMPTS[tokens], explained)
                        if round_:
                            layer_runs[(tokens, explained)].append(seconds)
                print(f"round {round_} done ({time.perf_counter() - clock:.0f} s)", flush=True)
            version = browser.version
            browser.close()
    finally:
        demo.close()
    load_end = os.getloadavg()
    if runs:
        report(runs, args.reps, version, load_start, load_end)
    if any(layer_runs.values()):
        report_layers(layer_runs, load_start, load_end)
    out = ROOT / "benchmarks" / "results" / "page_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = {f"{name} | {tokens}": r for (name, tokens), r in runs.items()}
    layers = {f"{t} | {'explained' if e else 'fresh'}": v for (t, e), v in layer_runs.items() if v}
    out.write_text(
        json.dumps({"load": [load_start, load_end], "runs": rows, "layers": layers}, indent=1)
    )


def report_layers(layer_runs: dict[tuple[int, bool], list[float]], load_start, load_end) -> None:
    print(
        f"\nLayers tab, click → complete view (s, median (range)); load "
        f"{'/'.join(f'{v:.1f}' for v in load_start)} → {'/'.join(f'{v:.1f}' for v in load_end)}"
    )
    print("| tokens | page | click → complete |\n|---|---|---|")
    for (tokens, explained), values in layer_runs.items():
        if values:
            page = "after Explain" if explained else "fresh page"
            print(f"| {tokens} | {page} | {summary(values)} |")
    worst = max(statistics.median(v) for (_, e), v in layer_runs.items() if v and e)
    verdict = "met" if worst <= LAYERS_TARGET else "not met"
    print(
        f"Layers tab complete ≤ {LAYERS_TARGET} s after Explain: {verdict} "
        f"(worst median {worst:.2f} s)"
    )


def report(runs, reps: int, version: str, load_start, load_end) -> None:
    print(
        f"\nChromium {version}, torch {torch.__version__} with {torch.get_num_threads()} "
        f"threads, {reps} interleaved rounds after a warm-up; load average (1/5/15 min) "
        f"{'/'.join(f'{v:.1f}' for v in load_start)} at the start, "
        f"{'/'.join(f'{v:.1f}' for v in load_end)} at the end. Seconds: median (range).\n"
    )
    print(
        "| methods | tokens | click → first heatmap | click → complete "
        "| server: first / whole (median) |\n|---|---|---|---|---|"
    )
    for (name, tokens), rs in runs.items():
        server = [
            statistics.median(v) if (v := [r[key] for r in rs if r[key] is not None]) else None
            for key in ("server_first", "server_complete")
        ]
        shown = " / ".join("n/a" if s is None else f"{s:.1f}" for s in server)
        print(
            f"| {name} | {tokens} | {summary([r['first'] for r in rs])} "
            f"| {summary([r['complete'] for r in rs])} | {shown} |"
        )
    for (name, tokens), rs in runs.items():
        shown = [r["ig_first_pass"] for r in rs if r["ig_first_pass"] is not None]
        if shown:
            print(
                f"\n{name}, {tokens} tokens: IG's first-pass heatmap ('refining') shown after "
                f"{summary(shown)} s in {len(shown)} of {len(rs)} clicks"
            )
    print("\nThe last round's final status lines (the server's own split of the time):")
    for (name, tokens), rs in runs.items():
        print(f"- {name}, {tokens} tokens: {rs[-1]['final_status'].splitlines()[-1]}")
    firsts = [statistics.median([r["first"] for r in rs]) for rs in runs.values()]
    default = next(iter(METHOD_SETS))
    at_12 = [
        statistics.median([r["complete"] for r in rs])
        for (m, t), rs in runs.items()
        if m == default and 12 <= t <= 14
    ]
    print(
        f"\nFirst heatmap ≤ {FIRST_TARGET} s (≤ 16 tokens): "
        f"{'met' if max(firsts) <= FIRST_TARGET else 'not met'} (worst median {max(firsts):.2f} s)"
    )
    if at_12:
        print(
            f"Default view complete ≤ {COMPLETE_TARGET} s at 12–14 tokens: "
            f"{'met' if max(at_12) <= COMPLETE_TARGET else 'not met'} ({max(at_12):.2f} s)"
        )


if __name__ == "__main__":
    main()
