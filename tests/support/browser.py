"""Headless system Chromium through Playwright: pages that record console errors.

Screens are checked the way a user meets them, in a real browser; every console error or
uncaught exception is collected so a test can assert there were none.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def chromium_path() -> str:
    """Debian's chromium (scripts/ensure-browser.sh installs it); PULSE_CHROMIUM overrides."""
    found = os.environ.get("PULSE_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise RuntimeError("no chromium: run `make browser` (apt package `chromium`)")
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class WatchedPage:
    """A page and every console error and uncaught page error it produced."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def screenshot_path(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return ARTIFACTS / f"{name}.png"


@asynccontextmanager
async def watched_page(
    browser: Browser, *, viewport: tuple[int, int] = (1440, 900), base_url: str | None = None
) -> AsyncIterator[WatchedPage]:
    context = await browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, base_url=base_url
    )
    page = await context.new_page()
    watched = WatchedPage(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def on_page_error(error: Error) -> None:
        watched.errors.append(f"page error: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        yield watched
    finally:
        await context.close()
