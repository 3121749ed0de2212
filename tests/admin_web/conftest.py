"""The admin web's browser: Debian's Chromium driven by Playwright (never a downloaded one),
and where a run keeps its screenshots."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Sibling hosts of one site, both served from this machine: an attacker on a same-site
    # subdomain is exactly what SameSite=Strict does not stop.
    "--host-resolver-rules=MAP *.example.com 127.0.0.1",
]


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    playwright_api = pytest.importorskip("playwright.async_api")
    if not shutil.which("chromium"):
        if IN_CI:
            pytest.fail("chromium is not installed; CI requires it", pytrace=False)
        pytest.skip("chromium not installed (apt-get install chromium)")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
def shots() -> Path:
    """Where the run keeps its screenshots (artifacts/screenshots, not committed)."""
    folder = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
