"""Headless Chromium for browser tests: Debian's `chromium` driven by Playwright for Python.

Playwright's own browser download does not work on these machines, so the test launches the system
browser by path. Skips with the reason when Playwright or the browser is missing, except in CI
(CI=true), where a missing browser fails the test instead (as tests/support/pg.py does for PostgreSQL).
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("STRANGLER_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which this
# machine's closed network refuses (see the machine notes).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[browser]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def require_browser() -> None:
    reason = _missing_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"a browser is required here but {reason}")
    pytest.skip(f"needs a browser: {reason}")


@pytest.fixture
def browser_page(tmp_path):
    """A fresh page in headless Chromium with an empty profile of its own; closed afterwards."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
