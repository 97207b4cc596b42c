"""The Layers tab in headless Chromium: opened after the Explain tab explained a text, it shows
the lens table, the rank line and the heads grid; a click on a head shows its attention over the
tokens; a bar click in the
Explain tab retargets it; its share link opens it on a phone (nothing sticks out) and in the dark
theme (light chart labels); a screenshot (tests/artifacts; assets/layers.png only with
WHYWORD_UPDATE_SCREENSHOT=1). Prints the click → complete view time."""

from __future__ import annotations

import os
import shutil
import time
from urllib.parse import parse_qs, quote

import pytest

from tests.browser.browser_kit import (
    ARTIFACTS,
    ROOT,
    TIMEOUT,
    chromium,
    page_server,
    require_chromium,
)
from tests.browser.test_browser import click_bar
from tests.browser.test_browser_views import PHONE, STATUS_DONE, STICKING_OUT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()

TEXT = "The capital of France is"
VIEW = "?steps=8&max_steps=0&k=5&methods=saliency&text=" + quote(TEXT)
TABLE = "#ww-ly-table table"
# the view is complete: the legend, the table, the heads grid and the agreement
COMPLETE = """() => {
  const status = document.querySelector('#ww-ly-status')?.innerText || '';
  const grid = document.querySelector('#ww-ly-heads .js-plotly-plot .heatmaplayer');
  const agreement = document.querySelector('#ww-ly-agreement')?.innerText || '';
  return status.includes('top 5') && document.querySelector('#ww-ly-table table')
    && grid && agreement.includes('Spearman');
}"""
HEAD_SHOWN = """() => (document.querySelector('#ww-ly-head-detail')?.innerText || '')
  .includes('moved most from')"""


@pytest.fixture(scope="module")
def server():
    with page_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def open_layers(page) -> float:
    """Click the Layers tab; seconds until the view is complete."""
    start = time.perf_counter()
    page.get_by_role("tab", name="Layers").click()
    page.wait_for_function(COMPLETE, timeout=TIMEOUT)
    return time.perf_counter() - start


def test_the_tab_follows_the_explain_tab(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 1500})
    try:
        page.goto(server + VIEW)
        page.wait_for_function(STATUS_DONE, timeout=TIMEOUT)
        seconds = open_layers(page)
        print(f"\nLayers tab: click → complete view {seconds:.2f} s")
        table = page.inner_text(TABLE)
        assert "embeddings" in table and "layer 30" in table and "◆" in table
        assert page.locator("#ww-ly-rank .js-plotly-plot .scatterlayer .trace").count() >= 1
        legend = page.inner_text("#ww-ly-status")
        assert "␣Paris" in legend, legend
        link = page.input_value("#ww-ly-link textarea, #ww-ly-link input")
        params = parse_qs(link.lstrip("?"))
        assert params["tab"] == ["layers"] and params["layers_text"] == [TEXT]
        # a click on a head of the grid: its numbers, then its attention over the tokens
        page.locator("#ww-ly-heads .nsewdrag").first.click()
        page.wait_for_function(HEAD_SHOWN, timeout=TIMEOUT)
        assert "DLA" in page.inner_text("#ww-ly-head-detail")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "layers.png"
        page.locator("#ww-tab-layers").screenshot(path=str(shot))
        if os.environ.get("WHYWORD_UPDATE_SCREENSHOT") == "1":
            shutil.copy(shot, ROOT / "assets" / "layers.png")
        # a bar click in the Explain tab sets the target there and here
        page.get_by_role("tab", name="Explain").click()
        status = page.inner_text("#ww-status")
        click_bar(page, 2)
        page.wait_for_function(
            "(b) => { const t = document.querySelector('#ww-status')?.innerText || '';"
            " return t.includes('Time') && t !== b; }",
            arg=status,
            timeout=TIMEOUT,
        )
        open_layers(page)
        page.wait_for_function(
            "(b) => (document.querySelector('#ww-ly-status')?.innerText || '') !== b",
            arg=legend,
            timeout=TIMEOUT,
        )
        assert "␣Paris" not in page.inner_text("#ww-ly-status").split(".")[0]
    finally:
        page.close()


def test_the_link_opens_the_tab_on_a_phone_and_in_the_dark(browser, server):
    link = f"?tab=layers&layers_text={quote(TEXT)}&layers_foil={quote(' London')}"
    phone = browser.new_page(viewport={"width": PHONE, "height": 844}, is_mobile=True)
    try:
        phone.goto(server + link)
        phone.wait_for_function(COMPLETE, timeout=TIMEOUT)
        assert "◇" in phone.inner_text(TABLE)  # the foil, marked
        phone.wait_for_timeout(600)
        assert phone.evaluate(STICKING_OUT, PHONE) == []
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE
        assert phone.locator("#ww-notice").is_hidden()  # the link's keys are not "changed"
    finally:
        phone.close()
    dark = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        dark.goto(server + link + "&__theme=dark")
        dark.wait_for_function(COMPLETE, timeout=TIMEOUT)
        dark.wait_for_selector("#ww-ly-rank .ytick text", timeout=TIMEOUT)
        fill = dark.evaluate(
            "getComputedStyle(document.querySelector('#ww-ly-rank .ytick text')).fill"
        )
        assert fill == "rgb(241, 245, 249)", fill
    finally:
        dark.close()
