"""Browser fixtures: Debian's Chromium through Playwright, and an article site on localhost.

The app runs on 127.0.0.1 (the `live_server` fixture) and the article page on localhost: two
different sites, so the widget's frame lives under the browser's real third-party rules.
Without Chromium the tests skip loudly on a developer machine and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.widget_support import fresh_widget_cache  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _why_no_browser() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing (make install)"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the run."""
    reason = _why_no_browser()
    if reason:
        message = f"BROWSER TESTS DID NOT RUN: {reason}."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " They must run in CI.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class BrowserPages:
    """Open pages at a chosen width; remember console errors; close everything at the end."""

    def __init__(self, browser) -> None:  # noqa: ANN001
        self.browser = browser
        self.contexts: list = []
        self.console_errors: list[str] = []

    def open(self, width: int = 1280, height: int = 900):  # noqa: ANN201
        context = self.browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(chromium) -> Iterator[BrowserPages]:  # noqa: ANN001
    """A factory of fresh browser pages (each in its own context, so no shared cache)."""
    opened = BrowserPages(chromium)
    try:
        yield opened
    finally:
        opened.close()


class ArticleSite:
    """Pages of a news site on http://localhost:PORT, published by the test."""

    def __init__(self) -> None:
        from werkzeug.serving import make_server
        from werkzeug.wrappers import Request, Response

        self.pages: dict[str, str] = {}

        @Request.application
        def serve(request: Request) -> Response:
            html = self.pages.get(request.path)
            if html is None:
                return Response("No such article.", status=404)
            return Response(html, mimetype="text/html")

        self.server = make_server("127.0.0.1", 0, serve, threaded=True)
        self.origin = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, path: str, body: str, title: str = "Council votes on the budget") -> str:
        """Serve an article page that contains `body`; return its URL."""
        self.pages[path] = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{title}</title><style>body{{font:16px/1.5 Georgia,serif;margin:0 auto;"
            "max-width:42rem;padding:16px}</style></head><body>"
            f"<h1>{title}</h1><p>The council met on Tuesday to vote on next year's budget.</p>"
            f"{body}<p>More reporting follows.</p></body></html>"
        )
        return self.origin + path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def article_site() -> Iterator[ArticleSite]:
    """The third-party site that embeds our widget."""
    site = ArticleSite()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def artifacts() -> Callable[[str], Path]:
    """Where screenshots go (git-ignored), kept after the run for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return lambda name: ARTIFACTS / name
