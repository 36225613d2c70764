"""Browser harness: a live server on a free port with the demo loaded, headless Chromium.

Fixtures for any issue's browser tests:
- ``live_server``: ``.url`` of a running app (its own SQLite file, demo data, CSRF on,
  background jobs in threads), shared by the session;
- ``browser``: Debian's /usr/bin/chromium driven by Playwright (never `playwright install`);
- ``browser_page``: a fresh context and page; ``browser_page.console_errors`` collects console
  errors and page errors (CSP violations included) and the test checks it is empty;
- ``phone_page`` / ``desktop_page``: the same at 390x844 (touch) and 1366x900;
- helpers in browser_harness.py: ``login(page, base_url, login, password)``,
  ``open_menu(page)``, ``screenshot(page, name)`` (into test-output/screenshots/).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

# builders (tests/) and browser_harness (here) importable whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: E402
from builders import app_config  # noqa: E402


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in item.nodeid.replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            # werkzeug's development server leaves a static file open when the browser drops
            # the connection mid-response (a page closed while its favicon streams); the
            # garbage collector then reports it in whichever test runs next. It is the test
            # server's leak, not the app's: don't let it fail an unrelated browser test.
            item.add_marker(pytest.mark.filterwarnings(
                "ignore:Exception ignored in. <_io.FileIO name=.*/static/"
                ":pytest.PytestUnraisableExceptionWarning"))


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.services.demo import load_demo

    folder = tmp_path_factory.mktemp("live")
    app = create_app(app_config(f"sqlite:///{folder / 'live.sqlite3'}", TESTING=False,
                                WTF_CSRF_ENABLED=True, JOB_RUNNER="thread"))
    with app.app_context():
        upgrade()
        load_demo()
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser, options):
    context = browser.new_context(locale="vi-VN", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return context, page


@pytest.fixture
def browser_page(browser):
    context, page = _page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context, page = _page(browser, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser_page):
    return browser_page
