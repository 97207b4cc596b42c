"""What every browser test file shares: Debian's Chromium and its flags, the page on a free
loopback port, and where screenshots go. Never `playwright install` (no internet here)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
TIMEOUT = 240_000  # ms: a loaded 2-core machine can take a while for the first model load


def require_chromium() -> None:
    """Skip the calling test module where this machine has no Chromium or no playwright."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def page_server() -> Iterator[str]:
    """The whole page (every tab), local mode, on a free port: yields its URL."""
    patch = pytest.MonkeyPatch()
    patch.delenv("WHYWORD_HOSTED", raising=False)
    patch.delenv("SPACE_ID", raising=False)
    from whyword.ui import build_demo

    demo = build_demo()
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        patch.undo()


@contextmanager
def chromium():
    """A headless Chromium browser (playwright's sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
