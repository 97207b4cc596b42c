"""IG completeness error on the default model: fixed Gauss–Legendre steps vs the adaptive default.

    HF_HUB_OFFLINE=1 python benchmarks/calibrate/ig_errors.py

Prints, per prompt and setting, the steps used, the relative completeness error
|sum(scores) − (F(x) − F(baseline))| / |F(x) − F(baseline)| and the wall time.
"""

from __future__ import annotations

import time

import whyword as ww

PROMPTS = (
    "The capital of France is",
    "This weekend I plan to",
    "In a shocking finding, scientists discovered a herd of unicorns living in",
)
SETTINGS = (
    ("fixed 32", {"n_steps": 32, "adaptive": False}),
    ("fixed 64", {"n_steps": 64, "adaptive": False}),
    ("adaptive default", {}),
)


def main() -> None:
    lm = ww.load_model()
    print("| prompt | setting | steps | relative error | seconds |\n|---|---|---|---|---|")
    for text in PROMPTS:
        for label, options in SETTINGS:
            start = time.perf_counter()
            e = ww.explain(text, methods=("integrated_gradients",), model=lm, **options)
            a = e.attribution("integrated_gradients")
            seconds = time.perf_counter() - start
            print(
                f"| {text[:24]}… | {label} | {a.steps} | {100 * a.relative_error:.2f} % | {seconds:.1f} |"
            )


if __name__ == "__main__":
    main()
