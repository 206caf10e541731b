"""Debian's Chromium (``/usr/bin/chromium``, headless) driven by Playwright, for the browser tests
(marker ``browser``), and where their screenshots go (a plugin of the root conftest).

The browser is never downloaded: without ``/usr/bin/chromium`` or the playwright package the
tests skip locally and fail when ``CI`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """A headless Chromium for one test module."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: apt-get install chromium")
        pytest.skip("/usr/bin/chromium is not installed")
    if os.environ.get("CI"):
        from playwright import sync_api  # in CI a missing package is a failure, not a skip
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser(chromium: object) -> object:
    """The same Chromium, under the name the first browser tests gave it."""
    return chromium


@pytest.fixture
def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a test writes its screenshots: ``$ATLAS_TEST_ARTIFACTS/<test name>`` when set (CI
    keeps that directory), else the test's temporary directory."""
    root = os.environ.get("ATLAS_TEST_ARTIFACTS")
    if not root:
        return tmp_path
    out = Path(root) / request.node.name.replace("/", "_")
    out.mkdir(parents=True, exist_ok=True)
    return out


class Watch:
    """A page's requests (all kept in order), those to another origin (refused and kept), and
    its console and script errors: what every browser test asserts is empty or local."""

    def __init__(self, page, netloc: str) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.errors: list[str] = []
        page.route("**/*", self._route(netloc))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, netloc: str):  # type: ignore[no-untyped-def]
        def route(r) -> None:  # type: ignore[no-untyped-def]
            self.requests.append(r.request.url)
            if urlsplit(r.request.url).netloc != netloc:
                self.outside.append(r.request.url)
                r.abort()
            else:
                r.continue_()

        return route
