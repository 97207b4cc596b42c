"""The Sequence tab in headless Chromium: opened from a link, step by clicking bars, undo, a
live temperature slider, explain the steps, click a generated token, screenshots.

Server and browser fixtures as in test_browser.py; the tests share one page and run in order.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.browser_kit import (
    ARTIFACTS,
    CHROMIUM,
    ROOT,
    TIMEOUT,
    chromium,
    page_server,
    require_chromium,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()

BARS = "#ww-seq-next .bars .point path"
SO_FAR = "#ww-seq-so-far .ww-seq-text"


@pytest.fixture(scope="module")
def server():
    with page_server() as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    assert CHROMIUM is not None
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server + "?tab=sequence")
        page.wait_for_selector("#ww-seq-start", state="visible", timeout=TIMEOUT)
        yield page


def text_so_far(page) -> str:
    return page.evaluate(f"document.querySelector('{SO_FAR}')?.innerText || ''")


def wait_text_change(page, before: str) -> None:
    page.wait_for_function(
        f"(b) => (document.querySelector('{SO_FAR}')?.innerText || '') !== b",
        arg=before,
        timeout=TIMEOUT,
    )


def click_bar(page, index: int) -> None:
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#ww-seq-next .js-plotly-plot'))"
        ".some(p => p._ev && p.__wwSeqEmitter === p._ev)"
    )
    bar = page.locator(BARS).nth(index)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + max(2, box["width"] / 2), box["y"] + box["height"] / 2)


def chart_title(page) -> str:
    return page.evaluate("document.querySelector('#ww-seq-next .gtitle')?.textContent || ''")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)
    if os.environ.get("WHYWORD_UPDATE_SCREENSHOT") == "1":
        shutil.copy(ARTIFACTS / name, ROOT / "assets" / name)


def test_start_shows_strip_and_chart(page):
    page.click("#ww-seq-start")
    page.wait_for_selector(BARS, timeout=TIMEOUT)
    page.wait_for_selector("#ww-seq-strip .ww-seq-pos")
    assert "capital" in text_so_far(page)
    assert "tab=sequence" in page.url and "seq_text=" in page.url


def test_click_bars_to_append_and_undo(page):
    start = text_so_far(page)
    click_bar(page, 0)
    wait_text_change(page, start)
    one = text_so_far(page)
    click_bar(page, 1)
    wait_text_change(page, one)
    two = text_so_far(page)
    assert len(two) > len(one) > len(start)
    assert "seq_ids=" in page.url
    page.click("#ww-seq-undo")
    wait_text_change(page, two)
    assert text_so_far(page) == one
    assert page.locator("#ww-seq-table tbody tr").count() == 1


def test_temperature_slider_reshapes_the_warped_bars(page):
    before = chart_title(page)
    slider = page.locator("#ww-seq-t input[type=range]")
    slider.fill("2")
    page.wait_for_function(
        "(b) => (document.querySelector('#ww-seq-next .gtitle')?.textContent || '') !== b",
        arg=before,
        timeout=TIMEOUT,
    )
    assert "temperature 2" in chart_title(page)
    hot = chart_title(page)
    slider.fill("0.8")  # back to a class's usual setting before auto-complete
    page.wait_for_function(
        "(b) => (document.querySelector('#ww-seq-next .gtitle')?.textContent || '') !== b",
        arg=hot,
        timeout=TIMEOUT,
    )
    page.evaluate("document.querySelector('#ww-seq-next').scrollIntoView()")
    screenshot(page, "sequence.png")


def test_explain_the_steps_and_click_a_generated_token(page):
    page.fill("#ww-seq-n input[type=number]", "5")
    before = text_so_far(page)
    page.click("#ww-seq-auto")
    wait_text_change(page, before)
    page.click("#ww-seq-explain")
    page.wait_for_selector("#ww-seq-steps .heatmaplayer", timeout=TIMEOUT)
    page.wait_for_selector("#ww-seq-row-heatmap div[dir=ltr]", timeout=TIMEOUT)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#ww-seq-steps .js-plotly-plot'))"
        ".some(p => p._ev && p.__wwSeqEmitter === p._ev)"
    )
    layer = page.locator("#ww-seq-steps .nsewdrag").first
    layer.scroll_into_view_if_needed()
    box = layer.bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + 5)  # the top-left cell: step 1
    page.wait_for_function(
        "() => document.querySelector('#ww-seq-row-heatmap')?.innerText.includes('Step 1')",
        timeout=TIMEOUT,
    )
    page.evaluate("document.querySelector('#ww-seq-steps').scrollIntoView()")
    screenshot(page, "sequence-steps.png")


def test_strip_click_shows_what_the_model_expected(page):
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#ww-seq-strip .ww-seq-pos").nth(2).click()
    page.wait_for_function(
        "() => (document.querySelector('#ww-seq-position .gtitle')?.textContent || '')"
        ".includes('ranked')",
        timeout=TIMEOUT,
    )
    assert not page.locator("#ww-seq-status .ww-error").count()
