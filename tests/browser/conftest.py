"""Fixtures for the dashboard's browser tests: the real observatory-sink (the e2e tests' `Sink`),
Debian chromium driven by Playwright, OTLP sent with the OpenTelemetry Python SDK.

The dashboard is loaded from the sink's API port when the sink serves it (it serves
dashboard/dist at `/`); otherwise, or with DASHBOARD_VIA=proxy, from devserver.py, which serves
dashboard/dist and passes /api/* and /ws through to the sink.

Artifacts (screenshots, console logs of failed tests) go to $BROWSER_ARTIFACTS, default
tests/browser/artifacts/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
E2E = REPO / "tests" / "e2e"
DIST = REPO / "dashboard" / "dist"
sys.path.insert(0, str(E2E))
sys.path.insert(0, str(HERE))

# The e2e conftest's Sink/SinkFactory, loaded under another name (its fixtures stay unregistered).
_spec = importlib.util.spec_from_file_location("e2e_conftest", E2E / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)  # type: ignore[union-attr]

from devserver import DevServer  # noqa: E402
from otlp import send_logs  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", HERE / "artifacts"))
UI_TIMEOUT_MS = int(float(os.environ.get("BROWSER_UI_TIMEOUT", "15")) * 1000)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTIFACTS.glob("*.failed.png"), *ARTIFACTS.glob("*.console.txt")]:
        old.unlink()  # failures of an earlier run
    return ARTIFACTS


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_BIN)", pytrace=False)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=["--disable-dev-shm-usage"])
    yield b
    b.close()


@pytest.fixture
def sink_factory(tmp_path):
    f = e2e.SinkFactory(tmp_path, [])
    yield f
    f.close()


@pytest.fixture
def sink(sink_factory):
    return sink_factory.start()


def sink_serves_dashboard(api_url: str) -> bool:
    try:
        r = requests.get(api_url + "/", timeout=5)
        return r.status_code == 200 and "/assets/main-" in r.text
    except requests.RequestException:
        return False


class Front:
    """Where the browser loads the dashboard from, in front of one sink."""

    def __init__(self, sink, block_ws: bool = False):
        self.sink = sink
        self.proxy: DevServer | None = None
        via = os.environ.get("DASHBOARD_VIA", "auto")
        if block_ws or via == "proxy" or (via == "auto" and not sink_serves_dashboard(sink.api_url)):
            self.proxy = DevServer(DIST, sink.api_port, block_ws=block_ws).start()
            self.origin = self.proxy.origin
        else:
            self.origin = sink.api_url

    def close(self) -> None:
        if self.proxy:
            self.proxy.stop()


@pytest.fixture
def front(sink):
    f = Front(sink)
    yield f
    f.close()


class PageWatch:
    """Collects console errors and uncaught page errors; the test fails on any of them."""

    def __init__(self, page, name: str):
        self.page = page
        self.name = name
        self.errors: list[str] = []
        self.console: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def _on_console(self, m) -> None:
        line = f"{m.type}: {m.text}"
        self.console.append(line)
        text = m.text
        # A failed WebSocket handshake or a refused fetch while the sink restarts is expected noise.
        expected = ("WebSocket connection to" in text or "Failed to load resource" in text
                    or "net::ERR_CONNECTION_REFUSED" in text)
        if m.type == "error" and not expected:
            self.errors.append(line)

    def assert_clean(self) -> None:
        csp = [e for e in self.console if "Content Security Policy" in e or "Refused to" in e]
        assert not csp, f"CSP violations: {csp}"
        assert not self.errors, f"errors in the page: {self.errors}"


@pytest.fixture
def new_page(browser, artifacts, request):
    """new_page(**context_options) → (context, page, watch). Contexts close at teardown; the
    console of a failed test is written to the artifacts directory."""
    made: list[tuple[Any, Any, PageWatch]] = []

    def make(**opts):
        ctx = browser.new_context(**opts)
        ctx.set_default_timeout(UI_TIMEOUT_MS)
        page = ctx.new_page()
        w = PageWatch(page, request.node.name)
        made.append((ctx, page, w))
        return ctx, page, w

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, (ctx, page, w) in enumerate(made):
        if failed:
            safe = request.node.name.replace("/", "_").replace("[", "_").replace("]", "")
            (artifacts / f"{safe}-{i}.console.txt").write_text("\n".join(w.console))
            try:
                page.screenshot(path=str(artifacts / f"{safe}-{i}.failed.png"))
            except Exception:
                pass
        ctx.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == "call":
        item.rep_call = rep
    return rep


PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True)
DESKTOP = dict(viewport={"width": 1280, "height": 800})


def new_session_id() -> str:
    return str(uuid.uuid4())


def card(page, sid: str):
    return page.locator(f'[data-testid="session-card"][data-session-id="{sid}"]')


def wait_status(page, sid: str, status: str, timeout_ms: int = UI_TIMEOUT_MS) -> None:
    page.wait_for_selector(f'[data-testid="session-card"][data-session-id="{sid}"][data-status="{status}"]',
                           timeout=timeout_ms)


def wait_link(page, *states: str, timeout_ms: int = UI_TIMEOUT_MS) -> str:
    sel = ", ".join(f'.topbar [data-testid="connection"][data-state="{s}"], '
                    f'.nav [data-testid="connection"][data-state="{s}"]' for s in states)
    page.wait_for_selector(sel, timeout=timeout_ms, state="attached")
    return page.locator('[data-testid="connection"]').first.get_attribute("data-state")


def wait_js(page, expression: str, timeout_ms: int = UI_TIMEOUT_MS, interval_ms: int = 50) -> Any:
    """Poll a JS expression (or `() => …`/async function source) with page.evaluate until it is truthy.
    page.wait_for_function evaluates strings with eval(), which the dashboard's CSP (no
    'unsafe-eval') rightly refuses; page.evaluate goes through CDP and is not affected."""
    deadline = time.monotonic() + timeout_ms / 1000
    last: Any = None
    while True:
        last = page.evaluate(expression)
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_ms} ms waiting for {expression!r}; last: {last!r}")
        page.wait_for_timeout(interval_ms)
