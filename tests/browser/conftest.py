"""What the browser tests share: Debian's chromium driven by Playwright (``executable_path``:
no browser is downloaded), skipped without it unless ``REQUIRE_BROWSER`` is set (CI sets it:
there a missing browser fails the run instead of hiding it), and a screenshot of a page when
``SCREENSHOT_DIR`` is set (the README's pictures)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")

needs_browser = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed (apt-get install chromium); "
    "set REQUIRE_BROWSER=1 to fail instead of skipping",
)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    assert CHROMIUM is not None, "REQUIRE_BROWSER is set but chromium is not installed"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            yield context.new_page()
        finally:
            browser.close()


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"operator-{name}.png"), full_page=True)
