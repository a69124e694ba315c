"""A real browser: Debian's chromium driven by Playwright (no browser download)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=["ja", "en"])
def locale(request: pytest.FixtureRequest) -> str:
    return request.param


def _new_context(chromium: Browser, locale: str) -> BrowserContext:
    ctx = chromium.new_context(locale="ja-JP" if locale == "ja" else "en-US")
    ctx.set_default_timeout(10_000)
    return ctx


@pytest.fixture
def context(chromium: Browser, locale: str) -> Iterator[BrowserContext]:
    ctx = _new_context(chromium, locale)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def new_page(chromium: Browser, locale: str) -> Iterator[Callable[[], Page]]:
    """Pages in fresh contexts: other browsers of the same person, same language."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        contexts.append(_new_context(chromium, locale))
        return contexts[-1].new_page()

    yield make
    for ctx in contexts:
        ctx.close()
