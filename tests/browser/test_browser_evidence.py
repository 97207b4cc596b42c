"""The Evidence tab in headless Chromium: the Eiffel example on the example corpus, a bar click
that retargets, the share link, and a screenshot (tests/artifacts; assets/evidence.png only
with WHYWORD_UPDATE_SCREENSHOT=1)."""

from __future__ import annotations

import os
import shutil
from urllib.parse import parse_qs

import pytest

from tests.browser.browser_kit import ARTIFACTS, ROOT, chromium, page_server, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()
TIMEOUT = 600_000  # ms: retrieval, six reader passes and their attributions on a shared CPU


@pytest.fixture(scope="module")
def server():
    with page_server() as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.set_default_timeout(TIMEOUT)
        page.goto(server)
        yield page


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
