"""Browser fixtures: Playwright driving the system Chromium (never a downloaded browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.server import Server
from tests.conftest import require

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module."""
    require(CHROMIUM.exists(), "chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def live_server():
    """The real server (python app.py) on a free loopback port."""
    with Server() as srv:
        yield srv
