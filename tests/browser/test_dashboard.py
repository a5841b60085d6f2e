"""The dashboard in Debian chromium against the real observatory-sink, fed with OTLP from the
OpenTelemetry Python SDK."""

from __future__ import annotations

import json
import time

from conftest import DESKTOP, PHONE, Front, card, new_session_id, wait_js, wait_link, wait_status
from otlp import hook, send_logs, send_session
from otlp_clients import ClaudeSession, standard_session


def claude(sid: str) -> ClaudeSession:
    return ClaudeSession(session_id=sid)


def test_session_card_appears_and_changes_status_live(sink, front, new_page):
    ctx, page, watch = new_page(**DESKTOP)
    page.goto(front.origin + "/")
    assert wait_link(page, "live") == "live"

    a, b = new_session_id(), new_session_id()
    send_session(sink.ingest_url, claude(a).user_prompt().api_request(0.25, 1200, 300).tool_result("Bash", True, 120))
    wait_status(page, a, "working")
    c = card(page, a)
    assert "Working" in c.inner_text()
    assert c.get_by_test_id("cost").inner_text() == "$0.25"

    # A second session, then the first one asks for permission: it needs the user, so it sorts first.
    send_session(sink.ingest_url, claude(b).user_prompt())
    wait_status(page, b, "working")
    send_logs(sink.ingest_url, [hook(a, "PermissionRequest", tool_name="Bash")])
    wait_status(page, a, "waiting")
    first = page.get_by_test_id("session-card").first
    assert first.get_attribute("data-session-id") == a
    assert "Waiting for you" in first.inner_text()
    assert page.locator('[data-testid="tab-sessions"] .nav-badge').inner_text() == "1"

    # It finishes its turn (Stop hook) → idle; the session ends → ended, sorted last.
    send_logs(sink.ingest_url, [hook(a, "Stop")])
    wait_status(page, a, "idle")
    send_logs(sink.ingest_url, [hook(a, "SessionEnd")])
    wait_status(page, a, "ended")
    ids = [e.get_attribute("data-session-id") for e in page.get_by_test_id("session-card").all()]
    assert ids == [b, a]

    # Filters: by status.
    page.get_by_test_id("filter-ended").click()
    assert [e.get_attribute("data-session-id") for e in page.get_by_test_id("session-card").all()] == [a]
    page.get_by_test_id("filter-all").click()
    assert page.get_by_test_id("session-card").count() == 2
    watch.assert_clean()


def test_session_detail_timeline_pages_and_goes_live(sink, front, new_page):
    sid = new_session_id()
    s = claude(sid)
    # 250 events before the page opens: the timeline must page through ?after=…&nextAfter.
    for i in range(120):
        s.tool_result("Read", True, 3 + i)
        s.api_request(0.001, 10, 5)
    s.tool_result("Bash", False, 4)
    send_session(sink.ingest_url, s)
    sink.wait_counters_min(sid, toolCalls=121)

    ctx, page, watch = new_page(**DESKTOP)
    page.goto(front.origin + "/")
    card(page, sid).click()
    page.get_by_test_id("session-detail").wait_for()
    assert page.url == front.origin + f"/sessions/{sid}"
    wait_js(page, "document.querySelectorAll('[data-testid=event]').length >= 200")
    page.get_by_role("button", name="Show older").click()
    wait_js(page, "document.querySelectorAll('[data-testid=event]').length === 241")
    newest = page.get_by_test_id("event").first
    assert newest.get_attribute("data-kind") == "tool_result"
    assert "Bash failed" in newest.inner_text()
    assert "ev-fail" in newest.get_attribute("class")
    counters = page.get_by_test_id("counters").inner_text()
    assert "121" in counters  # tool calls

    # Live: a new event appears at the top without a reload.
    send_session(sink.ingest_url, claude(sid).api_error(529, 3))
    page.wait_for_selector('[data-testid="event"][data-kind="api_error"]')
    assert page.get_by_test_id("event").first.get_attribute("data-kind") == "api_error"
    # Errors filter.
    page.get_by_role("radio", name="Errors").click()
    kinds = {e.get_attribute("data-kind") for e in page.get_by_test_id("event").all()}
    assert kinds == {"api_error", "tool_result"}
    # No control block without "control": {"available": true}.
    assert page.get_by_test_id("control").count() == 0
    watch.assert_clean()


def test_phone_layout_screenshot_touch_targets(sink, front, new_page, artifacts):
    for i, s in enumerate([standard_session(), claude(new_session_id()).user_prompt(), claude(new_session_id()).user_prompt()]):
        send_session(sink.ingest_url, s)
    sids = [x["id"] for x in sink.sessions()]
    send_logs(sink.ingest_url, [hook(sids[0], "PermissionRequest", tool_name="Bash"), hook(sids[1], "Stop")])

    ctx, page, watch = new_page(**PHONE)
    page.goto(front.origin + "/")
    wait_link(page, "live")
    wait_js(page, "document.querySelectorAll('[data-testid=session-card]').length === 3")
    wait_status(page, sids[0], "waiting")
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "phone-sessions.png"))

    info = page.evaluate("""() => {
      const vis = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
      const small = [...document.querySelectorAll('button, a, select, input, summary')].filter(vis).map(e => {
        const r = e.getBoundingClientRect(); return {t: (e.innerText || e.getAttribute('aria-label') || e.tagName).slice(0, 30), w: r.width, h: r.height};
      }).filter(x => x.w < 44 || x.h < 44);
      const nav = document.querySelector('.nav').getBoundingClientRect();
      return {small, scrollW: document.scrollingElement.scrollWidth, innerW: innerWidth,
              navTop: nav.top, navBottom: nav.bottom, innerH: innerHeight,
              sidebar: getComputedStyle(document.querySelector('.nav .brand')).display};
    }""")
    assert info["small"] == [], f"touch targets under 44px: {info['small']}"
    assert info["scrollW"] <= info["innerW"], "horizontal scrolling at 390px"
    assert info["navBottom"] == info["innerH"] and info["navTop"] > info["innerH"] - 100, "no bottom tab bar"
    assert info["sidebar"] == "none"

    # Detail and alerts on the phone, dark mode.
    card(page, sids[0]).click()
    page.get_by_test_id("timeline").wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "phone-detail.png"))
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.get_by_test_id("tab-sessions").click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "phone-sessions-dark.png"))
    page.get_by_test_id("tab-settings").click()
    page.get_by_test_id("notifications").wait_for()
    page.screenshot(path=str(artifacts / "phone-settings-dark.png"))
    watch.assert_clean()


def test_wide_screen_has_a_sidebar_and_dark_mode_follows_the_system(sink, front, new_page, artifacts):
    send_session(sink.ingest_url, standard_session())
    ctx, page, watch = new_page(**DESKTOP, color_scheme="dark")
    page.goto(front.origin + "/")
    page.get_by_test_id("session-card").first.wait_for()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    box = page.locator(".nav").bounding_box()
    assert box["x"] == 0 and box["height"] >= 790 and box["width"] < 300, box
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "desktop-dark.png"))
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.get_by_test_id("session-card").first.click()
    page.get_by_test_id("timeline").wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "desktop-detail.png"))
    watch.assert_clean()


def test_service_worker_registers_caches_the_shell_and_manifest_is_valid(sink, front, new_page):
    ctx, page, watch = new_page(**DESKTOP)
    cdp = ctx.new_cdp_session(page)
    page.goto(front.origin + "/")
    wait_js(page, "navigator.serviceWorker.controller !== null")
    reg = page.evaluate("navigator.serviceWorker.ready.then(r => ({scope: r.scope, state: r.active && r.active.state}))")
    assert reg == {"scope": front.origin + "/", "state": "activated"}
    manifest = cdp.send("Page.getAppManifest")
    assert manifest.get("errors") == [], manifest.get("errors")
    parsed = json.loads(manifest["data"])
    assert parsed["display"] == "standalone" and {i["sizes"] for i in parsed["icons"]} >= {"192x192", "512x512"}
    cached = page.evaluate("caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys())"
                           ".then(rs => rs.map(r => new URL(r.url).pathname))))).then(a => a.flat())")
    assert "/index.html" in cached and any(p.startswith("/assets/main-") and p.endswith(".js") for p in cached)
    watch.assert_clean()


def test_push_over_cdp_shows_a_notification_and_clicking_it_opens_the_session(sink, front, new_page):
    sid = new_session_id()
    send_session(sink.ingest_url, claude(sid).user_prompt())
    ctx, page, watch = new_page(**DESKTOP)
    cdp = ctx.new_cdp_session(page)
    regs: dict[str, str] = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda ev: regs.update({r["scopeURL"]: r["registrationId"] for r in ev["registrations"]}))
    cdp.send("ServiceWorker.enable")
    ctx.grant_permissions(["notifications"], origin=front.origin)
    page.goto(front.origin + "/")
    wait_js(page, "navigator.serviceWorker.controller !== null")
    deadline = time.monotonic() + 10
    while front.origin + "/" not in regs and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    payload = {"title": "Agent waiting", "body": "Bash needs approval", "tag": f"alert-{sid}",
               "data": {"url": f"/sessions/{sid}"}}
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": front.origin, "registrationId": regs[front.origin + "/"], "data": json.dumps(payload)})
    wait_js(page, "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.length > 0)")
    shown = page.evaluate("navigator.serviceWorker.ready.then(r => r.getNotifications())"
                          ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))")
    assert shown == [{"title": "Agent waiting", "body": "Bash needs approval", "tag": f"alert-{sid}",
                      "url": f"/sessions/{sid}"}]

    # Headless chromium cannot click a system notification: dispatch the same notificationclick
    # event the browser would, with the real Notification object, inside the service worker.
    sw = ctx.service_workers[0]
    sw.evaluate("""async () => {
      const [n] = await self.registration.getNotifications();
      self.dispatchEvent(new NotificationEvent('notificationclick', {notification: n}));
    }""")
    page.wait_for_url(f"**/sessions/{sid}")
    page.get_by_test_id("session-detail").wait_for()
    assert page.get_by_test_id("session-detail").get_attribute("data-session-id") == sid
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.length)") == 0
    watch.assert_clean()


def test_reconnects_after_the_sink_restarts_and_resumes(sink, new_page, tmp_path):
    # Through the dev proxy, so the page's origin survives the sink going away.
    front = Front(sink) if False else None
    from conftest import DevServer, DIST
    proxy = DevServer(DIST, sink.api_port).start()
    try:
        sid = new_session_id()
        send_session(sink.ingest_url, claude(sid).user_prompt())
        ctx, page, watch = new_page(**DESKTOP)
        page.goto(proxy.origin + "/")
        wait_link(page, "live")
        wait_status(page, sid, "working")

        ingest, api = sink.ingest_port, sink.api_port
        assert sink.stop() == 0
        wait_link(page, "offline", "connecting")
        sink.start(ingest_port=ingest, api_port=api)
        # Backoff is capped, and a visibilitychange/online retries at once; within 15 s it is back.
        wait_link(page, "live", timeout_ms=20_000)
        send_logs(sink.ingest_url, [hook(sid, "PermissionRequest", tool_name="Edit")])
        wait_status(page, sid, "waiting")
        watch.assert_clean()
    finally:
        proxy.stop()


def test_polls_the_rest_api_when_the_websocket_is_unavailable(sink, new_page):
    front = Front(sink, block_ws=True)
    try:
        sid = new_session_id()
        ctx, page, watch = new_page(**DESKTOP)
        page.goto(front.origin + "/")
        assert wait_link(page, "polling") == "polling"
        send_session(sink.ingest_url, claude(sid).user_prompt().tool_result("Bash", True))
        wait_status(page, sid, "working")
        send_logs(sink.ingest_url, [hook(sid, "Stop")])
        wait_status(page, sid, "idle")
        # The detail view polls the events API too.
        card(page, sid).click()
        page.wait_for_selector('[data-testid="event"][data-kind="tool_result"]')
        send_session(sink.ingest_url, claude(sid).api_error())
        page.wait_for_selector('[data-testid="event"][data-kind="api_error"]', timeout=10_000)
        watch.assert_clean()
    finally:
        front.close()


def test_deep_link_to_a_session_loads_the_app(sink, front, new_page):
    """The sink answers unknown paths with index.html (the app routes on the client), so a
    bookmarked /sessions/ID or a notification's URL opens straight onto the session."""
    sid = new_session_id()
    send_session(sink.ingest_url, claude(sid).user_prompt())
    ctx, page, watch = new_page(**PHONE)
    page.goto(front.origin + f"/sessions/{sid}")
    page.get_by_test_id("session-detail").wait_for()
    page.get_by_role("button", name="Back").wait_for()
    watch.assert_clean()


def test_the_cached_shell_opens_while_the_sink_is_down_and_goes_live_when_it_is_back(sink, front, new_page):
    import pytest

    if front.proxy is not None:
        pytest.skip("the sink does not serve the dashboard itself")
    sid = new_session_id()
    send_session(sink.ingest_url, claude(sid).user_prompt())
    ctx, page, watch = new_page(**PHONE)
    page.goto(front.origin + "/")
    wait_js(page, "navigator.serviceWorker.controller !== null")
    wait_status(page, sid, "working")
    ingest, api = sink.ingest_port, sink.api_port
    assert sink.stop() == 0
    page.reload()
    page.get_by_test_id("tab-sessions").wait_for()  # served by the service worker
    assert wait_link(page, "offline", "connecting") in ("offline", "connecting")
    sink.start(ingest_port=ingest, api_port=api)
    wait_link(page, "live", timeout_ms=20_000)
    wait_status(page, sid, "working")
    send_logs(sink.ingest_url, [hook(sid, "Stop")])
    wait_status(page, sid, "idle")
    watch.assert_clean()


def test_keeps_up_with_a_burst_of_events_from_many_sessions(sink, front, new_page):
    ctx, page, watch = new_page(**PHONE)
    page.goto(front.origin + "/")
    wait_link(page, "live")
    sessions = [claude(new_session_id()) for _ in range(20)]
    for s in sessions:
        s.user_prompt()
        for i in range(50):
            s.tool_result("Read", i % 10 != 0, 5)
            s.api_request(0.01, 100, 10)
    t0 = time.monotonic()
    send_logs(sink.ingest_url, [e for s in sessions for e in s.events])  # 2,020 events in one request
    wait_js(page, "document.querySelectorAll('[data-testid=session-card]').length === 20")
    # Every card shows its final cost ($0.50) once the burst has been applied.
    wait_js(page, "[...document.querySelectorAll('[data-testid=cost]')].every(e => e.textContent === '$0.50')")
    elapsed = time.monotonic() - t0
    assert elapsed < 10, elapsed
    # The page stays responsive: a tab switch renders at once.
    t1 = time.monotonic()
    page.get_by_test_id("tab-alerts").click()
    page.get_by_role("heading", name="Alerts").wait_for()
    assert time.monotonic() - t1 < 2
    watch.assert_clean()
