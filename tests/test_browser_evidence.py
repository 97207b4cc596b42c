"""The Evidence tab in headless Chromium: the Eiffel example on the example corpus, a bar click
that retargets, the share link, and a screenshot (tests/artifacts; assets/evidence.png only
with WHYWORD_UPDATE_SCREENSHOT=1)."""

from __future__ import annotations

import os
import shutil
from urllib.parse import parse_qs

import pytest

from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, ROOT, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
TIMEOUT = 600_000  # ms: retrieval, six reader passes and their attributions on a shared CPU


@pytest.fixture(scope="module")
def server():
    patch = pytest.MonkeyPatch()
    patch.delenv("WHYWORD_HOSTED", raising=False)
    patch.delenv("SPACE_ID", raising=False)
    from whyword.ui import build_demo

    demo = build_demo()
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_port=port, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()
    patch.undo()


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.set_default_timeout(TIMEOUT)
        page.goto(server)
        yield page
        browser.close()


def test_eiffel_example_ranks_the_eiffel_passage_and_shows_both_paths(page):
    page.get_by_role("tab", name="Evidence").click()
    page.click("#ww-ev-run")
    page.wait_for_selector("#ww-ev-topk .bars .point path")
    page.wait_for_function(
        "() => document.querySelector('#ww-ev-status')?.innerText.includes('p(y | x)')"
    )
    ranked = page.inner_text("#ww-ev-passages-ranked")
    assert ranked.index("Eiffel Tower") < ranked.index("#2")
    heat = page.inner_text("#ww-ev-heatmaps")
    assert "Reader path" in heat and "Retriever path" in heat
    link = page.input_value("#ww-ev-link textarea, #ww-ev-link input")
    params = parse_qs(link.lstrip("?"))
    assert params["tab"] == ["evidence"] and params["ev_corpus"] == ["example"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "evidence.png"
    page.locator("#ww-tab-evidence").screenshot(path=str(shot))
    if os.environ.get("WHYWORD_UPDATE_SCREENSHOT") == "1":
        shutil.copy(shot, ROOT / "assets" / "evidence.png")


def test_clicking_a_bar_retargets(page):
    before = page.inner_text("#ww-ev-status")
    bars = page.locator("#ww-ev-topk .bars .point path")
    bars.nth(1).click(force=True)
    page.wait_for_function(
        "(b) => { const t = document.querySelector('#ww-ev-status')?.innerText;"
        " return t && t !== b && t.includes('p(y | x)'); }",
        arg=before,
    )
    assert page.inner_text("#ww-ev-status") != before
