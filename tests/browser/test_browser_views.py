"""The page as a phone, a projector and a class see it: phone layout, presenter mode, byte
pieces grouped into characters, numbers on the chips, downloads written on demand; and the
README's screenshots (light, dark, phone, presenter), copied to assets/ only when
WHYWORD_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import quote

import pytest

from tests.browser.browser_kit import (
    ARTIFACTS,
    ROOT,
    TIMEOUT,
    chromium,
    page_server,
    require_chromium,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()

VIEW = "?steps=8&max_steps=0&k=8&methods=saliency,integrated_gradients&text="
PARIS = VIEW + quote("The capital of France is")
STATUS_DONE = "() => (document.querySelector('#ww-status')?.innerText || '').includes('Time')"


@pytest.fixture(scope="module")
def server():
    with page_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def open_view(browser, url: str, width: int, height: int, **kwargs):
    page = browser.new_page(viewport={"width": width, "height": height}, **kwargs)
    page.goto(url)
    page.wait_for_function(STATUS_DONE, timeout=TIMEOUT)
    page.wait_for_selector("#ww-topk .bars .point path")
    page.wait_for_timeout(800)  # the sidebar's animation, plotly's resize
    return page


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / name))
    if os.environ.get("WHYWORD_UPDATE_SCREENSHOT") == "1":
        shutil.copy(ARTIFACTS / name, ROOT / "assets" / name)


def sidebar_open(page) -> bool:
    return page.evaluate("document.querySelector('#ww-sidebar').classList.contains('open')")


def test_light_and_dark_screenshots(browser, server):
    for theme, name in (("", "screenshot-light.png"), ("&__theme=dark", "screenshot-dark.png")):
        page = open_view(browser, server + PARIS + theme, 1280, 800)
        try:
            assert sidebar_open(page)  # a laptop keeps the settings beside the results
            if theme:
                fill = page.evaluate(
                    "getComputedStyle(document.querySelector('#ww-topk .ytick text')).fill"
                )
                assert fill == "rgb(241, 245, 249)", fill  # light labels on the dark chart
            screenshot(page, name)
        finally:
            page.close()


PHONE = 390  # px: the phone's width (390 × 844)
# Every element's right edge that sticks out past the phone's width, unless a scrolling box
# that fits holds it (the charts and tables scroll sideways inside the page, by design).
STICKING_OUT = """(width) => {
  const held = el => { for (let a = el.parentElement; a; a = a.parentElement)
    if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= width + 0.5)
      return true;
    return false; };
  return Array.from(document.querySelectorAll('body *')).filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > width + 0.5 && !held(el);
  }).map(el => `${el.tagName}#${el.id} ${Math.round(el.getBoundingClientRect().right)}`);
}"""
BOXES = """() => Object.fromEntries(Object.entries({
  handle: '#ww-sidebar button.toggle-button', tab: '#ww-tab-explain-button'
}).map(([k, s]) => { const r = document.querySelector(s).getBoundingClientRect();
  return [k, {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}]; }))"""


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


@pytest.mark.parametrize("mode", ["", "&presenter=1"])
def test_phone_layout(browser, server, mode):
    page = open_view(browser, server + PARIS + mode, PHONE, 844, is_mobile=True, has_touch=True)
    try:
        assert not sidebar_open(page), "the settings cover the page on a phone"
        layout = page.evaluate(
            """() => {
              const m = document.querySelector('#ww-matrix');
              const texts = Array.from(document.querySelectorAll('#ww-topk svg text'));
              const mark = texts.find(t => t.textContent.includes('· target'));
              const svg = document.querySelector('#ww-topk svg.main-svg').getBoundingClientRect();
              const right = mark ? mark.getBoundingClientRect().right : null;
              return {scrolls: getComputedStyle(m).overflowX, target: !!mark,
                      cut: right === null || right > svg.right + 1, right, svg: svg.right,
                      page: document.scrollingElement.scrollWidth,
                      text: document.querySelector('#ww-text').getBoundingClientRect().width,
                      rows: document.querySelectorAll('#ww-results input').length};
            }"""
        )
        assert layout["scrolls"] == "auto" and layout["target"], layout
        assert layout["rows"] >= 2, layout  # the result's target / foil rows are on the page
        assert not layout["cut"], f"a bar label is cut off on a phone: {layout}"
        # The phone's own width, not the browser's (a phone browser widens itself to the page).
        assert layout["page"] <= PHONE, f"the page is wider than a phone: {layout}"
        assert page.evaluate(STICKING_OUT, PHONE) == []
        assert layout["text"] >= PHONE - 40, layout  # the text box: the phone's whole width
        boxes = page.evaluate(BOXES)  # the settings handle: a thumb-sized target, off the tabs
        assert not overlap(boxes["handle"], boxes["tab"]), boxes
        assert boxes["handle"]["width"] >= 40 and boxes["handle"]["height"] >= 40, boxes
        page.click("#ww-sidebar button.toggle-button")
        page.wait_for_function(
            "() => document.querySelector('#ww-sidebar').classList.contains('open')"
        )
        if not mode:
            page.click("#ww-sidebar button.toggle-button")  # closed again for the screenshot
            page.wait_for_timeout(600)
            screenshot(page, "screenshot-phone.png")
    finally:
        page.close()


PRESENTER_SIZES = """() => {
  // Every visible text of the Explain tab smaller than `least`, but for the method × token
  // matrix below the fold (plotly draws it at its own sizes; larger ones get cut).
  const smaller = least => {
    const out = [], tab = document.querySelector('#ww-tab-explain');
    const walk = document.createTreeWalker(tab, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const e = n.parentElement, size = parseFloat(getComputedStyle(e).fontSize);
      if (n.textContent.trim() && e.getBoundingClientRect().width > 0 && size < least
          && !e.closest('#ww-matrix')) out.push(`${size}px: ${n.textContent.trim().slice(0, 30)}`);
    }
    return out;
  };
  const least = parseFloat(getComputedStyle(document.body).getPropertyValue('--ww-presenter-text'));
  const sizes = s => Array.from(document.querySelectorAll(s))
    .filter(e => e.getBoundingClientRect().width > 0 && e.textContent.trim())
    .map(e => parseFloat(getComputedStyle(e).fontSize));
  return {
    least,
    label: sizes('#ww-topk .ytick text'), status: sizes('#ww-status .prose *'),
    trust: sizes('#ww-trust td, #ww-trust th, #ww-trust .prose div'),
    legend: sizes('#ww-heatmap .prose > div > div:first-child'),
    chips: sizes('#ww-heatmap span[title]'), labels: sizes('label span'),
    smaller: smaller(least),
    heatmap_top: document.querySelector('#ww-heatmap').getBoundingClientRect().top,
    chart_bottom: document.querySelector('#ww-topk').getBoundingClientRect().bottom,
  };
}"""


def test_presenter_mode(browser, server):
    page = open_view(browser, server + PARIS + "&presenter=1", 1920, 1080)
    try:
        assert page.evaluate("document.body.classList.contains('ww-presenter')")
        assert not sidebar_open(page)
        sizes = page.evaluate(PRESENTER_SIZES)
        least = sizes["least"]
        assert least >= 22, sizes  # presenter mode's smallest text: its labels' size
        for part in ("label", "status", "trust", "legend", "chips", "labels"):
            assert sizes[part], f"no {part} on the page"
            assert min(sizes[part]) >= least, (part, sizes[part])
        assert sizes["smaller"] == [], sizes["smaller"]  # nor any other text of the view
        assert sizes["heatmap_top"] < 1080 and sizes["chart_bottom"] <= 1080, sizes
        assert page.is_checked("#ww-presenter input")
        screenshot(page, "screenshot-presenter.png")
    finally:
        page.close()


def test_byte_pieces_show_as_one_character(browser, server):
    page = open_view(browser, server + VIEW + quote("I ate a 🍕 and"), 1280, 800)
    try:
        chips = page.evaluate(
            "Array.from(document.querySelectorAll('#ww-heatmap span[title]'))"
            ".map(s => [s.childNodes[0].textContent, s.title])"
        )
        pizza = [title for text, title in chips if "🍕" in text]
        assert pizza and all("byte pieces: " in title for title in pizza), chips
        assert not any("⟨" in text for text, _ in chips), chips
    finally:
        page.close()


def test_numbers_toggle_and_download_on_demand(browser, server):
    page = open_view(browser, server + PARIS, 1280, 800, accept_downloads=True)
    try:
        before = page.inner_text("#ww-heatmap")
        chip = page.locator("#ww-heatmap span[title]").nth(1)
        score = chip.get_attribute("title").split("score ")[1].split(" ")[0]
        assert score not in chip.inner_text()  # scores on hover only, until asked for
        page.locator("#ww-numbers input").check()
        page.wait_for_function(  # the re-rendered heatmap: a number inside each chip
            "() => !!document.querySelector('#ww-heatmap span[title] > span')", timeout=TIMEOUT
        )
        assert page.inner_text("#ww-heatmap") != before
        chip = page.locator("#ww-heatmap span[title]").nth(1)
        score = chip.get_attribute("title").split("score ")[1].split(" ")[0]
        assert score in chip.inner_text()  # the chip writes its own score
        with page.expect_download(timeout=60_000) as download:
            page.click("#ww-csv")
        name = download.value.suggested_filename
        assert name == "whyword-the-capital-of-france-is-paris.csv", name
    finally:
        page.close()
