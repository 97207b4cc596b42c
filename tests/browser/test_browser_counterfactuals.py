"""The "What would change the answer?" panel in headless Chromium: after an explanation, the
button shows verified edits (the changed word highlighted, old → new probability, flipped or
not) and adds the methods' agreement with them to the trust panel; a click on an edit loads
its sentence into the text box and explains it (the page URL follows). On a phone in the dark
theme nothing sticks out and the highlight keeps its dark colours. Screenshots in
tests/artifacts. Prints the click → panel time."""

from __future__ import annotations

import time

import pytest

from tests.browser.browser_kit import ARTIFACTS, TIMEOUT, chromium, page_server, require_chromium
from tests.browser.test_browser_views import PARIS, PHONE, STICKING_OUT, open_view

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()

PANEL = "#ww-cf-panel .ww-cf-load"
TEXT_BOX = "#ww-text textarea, #ww-text input"


@pytest.fixture(scope="module")
def server():
    with page_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def look(page) -> float:
    """Press the button; seconds until the panel shows its edits."""
    start = time.perf_counter()
    page.click("#ww-cf-run")
    page.wait_for_selector(PANEL, timeout=TIMEOUT)
    return time.perf_counter() - start


def test_the_panel_shows_verified_edits_and_a_click_loads_one(browser, server):
    page = open_view(browser, server + PARIS, 1280, 1500)
    try:
        assert page.locator(PANEL).count() == 0  # not run on every explanation
        print(f"\nWhat would change the answer?: click → panel {look(page):.2f} s")
        panel = page.inner_text("#ww-cf-panel")
        assert "One word changed" in panel and "p(␣Paris)" in panel and "→" in panel
        assert "flipped" in panel and "Shortest input" in panel and "flip the answer" in panel
        assert page.locator("#ww-cf-panel .ww-cf-edits mark.ww-cf-new").count() >= 1
        trust = page.inner_text("#ww-trust")
        assert "Do the scores match verified edits?" in trust
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#ww-cf-panel").screenshot(path=str(ARTIFACTS / "counterfactuals.png"))
        first = page.locator("#ww-cf-panel .ww-cf-edits .ww-cf-load").first
        edited = first.get_attribute("data-text")
        assert edited and edited != "The capital of France is"
        first.click()
        page.wait_for_function(
            "(t) => new URLSearchParams(location.search).get('text') === t",
            arg=edited,
            timeout=TIMEOUT,
        )  # explained: the page URL holds the new view
        assert page.input_value(TEXT_BOX) == edited
        page.wait_for_function(
            "() => (document.querySelector('#ww-status')?.innerText || '').includes('Time')",
            timeout=TIMEOUT,
        )
    finally:
        page.close()


def test_on_a_phone_in_the_dark_nothing_sticks_out(browser, server):
    url = server + PARIS + "&__theme=dark"
    page = open_view(browser, url, PHONE, 844, is_mobile=True, has_touch=True)
    try:
        look(page)
        page.locator("#ww-cf-panel").scroll_into_view_if_needed()
        assert page.evaluate(STICKING_OUT, PHONE) == []
        mark = page.locator("#ww-cf-panel mark.ww-cf-new").first
        background = mark.evaluate("m => getComputedStyle(m).backgroundColor")
        assert background == "rgb(180, 83, 9)", background  # the dark theme's highlight
        page.locator("#ww-cf-panel").screenshot(path=str(ARTIFACTS / "counterfactuals-phone.png"))
    finally:
        page.close()
