"""Debian's headless Chromium through Playwright: one browser for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
APP_ORIGIN = "https://app.example"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, closed when the session ends."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile; the application at app.example is stubbed to show its URL."""
    context: BrowserContext = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(20_000)

    def application(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<h1>back at the app</h1>")

    context.route(f"{APP_ORIGIN}/**", application)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Save a screenshot of the page as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
