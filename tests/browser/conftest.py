"""Browser tests: the real app served on 127.0.0.1 and driven by Debian's headless Chromium.

Nothing here is skipped: without ``/usr/bin/chromium`` every browser test FAILS with a
message saying how to install it (``.ci/run`` installs it on CI). Playwright never downloads
a browser of its own, and the pages only ever talk to the server on 127.0.0.1.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from cases import config as council_config
from cases.people import create_user, ensure_agency, ensure_area, ensure_team
from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import upgrade
from tasks.demo import DEMO_PATCHES, DEMO_USERS
from tasks.wiring import build_engine
from web import BPMN_DIR, create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "correct horse battery staple"
SECRET_KEY = "browser-tests-only-key-" + "x" * 24
# The 401/403/404 answers of the error pages log a console error for the document itself.
_RESOURCE_STATUS = re.compile(r"Failed to load resource: the server responded with a status")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's headless Chromium (fails, never skips, without it)")
    # When Chromium leaves a page while a large static file (bpmn-js) is still downloading,
    # Werkzeug's development server, which only these tests use, drops the file unclosed;
    # the garbage collector then warns in whichever test runs next. Production serves static
    # files through gunicorn or a proxy. Only that warning, for files under web/static, is let by.
    config.addinivalue_line(
        "filterwarnings",
        r"ignore:unclosed file <_io\.BufferedReader name='[^']*/web/static/:ResourceWarning")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    """The app served over real HTTP on 127.0.0.1."""

    app: Flask
    url: str
    database_url: str

    def at(self, path: str) -> str:
        return self.url + path


def _seed(url: str) -> None:
    """Schema, shipped diagrams, and the demo users (all with ``PASSWORD``) and their wards."""
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        build_engine().definitions.sync_directory(session, BPMN_DIR)
        for entry in council_config.DEFAULTS["partner_directory"]:
            ensure_agency(session, entry["code"], entry["name"])
        wards = {ward: ensure_area(session, ward)
                 for ward in sorted(set(council_config.DEFAULTS["postcode_wards"].values()))}
        for name, role, team, agency, display in DEMO_USERS:
            if team:
                ensure_team(session, team)
            user = create_user(session, name, role, password=PASSWORD, team=team, agency=agency,
                               display_name=display, email=f"{name}@council.example.org",
                               phone="01246 111222")
            user.areas.extend(wards[ward] for ward in DEMO_PATCHES.get(name, ()))
    engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Build the app on a temporary SQLite file and serve it from a daemon thread."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'asb.sqlite'}"
    _seed(url)
    app = create_app({
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": url,
        "START_WORKER": False,
        # Every browser test signs in from 127.0.0.1: lift the per-address throttle only.
        "ASB_SIGN_IN_RATE": "1000 per minute",
        # The password step only; tests/browser/test_two_factor.py turns the code step on.
        "ASB_REQUIRE_TOTP": False,
    })
    # SESSION_COOKIE_SECURE stays as the app configures it (True): Chromium keeps Secure
    # cookies set over plain http by 127.0.0.1, as it does for any loopback origin.
    assert app.config["SESSION_COOKIE_SECURE"] is True
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-live-server",
                              daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}",
                         database_url=url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["asb"]["db"].dispose()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; never a browser Playwright would download."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. "
                    "Run `apt-get install chromium` (.ci/run does this on CI). "
                    "Never `playwright install`.", pytrace=False)
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class Console:
    """The errors the page wrote to its console (CSP violations among them)."""

    errors: list[str] = field(default_factory=list)

    def unexpected(self) -> list[str]:
        return [text for text in self.errors if not _RESOURCE_STATUS.search(text)]


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test; requests leave only for 127.0.0.1."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280,
                                                                        "height": 900})
    context.set_default_timeout(10_000)

    def only_loopback(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(context: BrowserContext, console: Console) -> Page:
    page = context.new_page()

    def note(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.errors.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: console.errors.append(f"page error: {error}"))
    return page


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
