"""Browser tests: the page in headless Chromium through Playwright (marker: browser)."""
