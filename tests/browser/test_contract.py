"""The dashboard's side of the contracts it is built against, with the sink's answers scripted:
the /ws message protocol (Playwright's route_web_socket stands in for the server), the alerts
and silences API, the push subscription flow and the control buttons. The page itself comes from
the real sink (or the dev proxy), so the CSP and the service worker are the real ones."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from conftest import DESKTOP, PHONE, card, wait_js, wait_link, wait_status


def iso(delta_s: float = 0) -> str:
    t = datetime.now(timezone.utc) + timedelta(seconds=delta_s)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session(sid: str, status: str = "working", **kw) -> dict:
    s = {"id": sid, "agent": "claude-code", "name": None, "model": "claude-sonnet-5", "cwd": "/home/u/src/project-" + sid[:4],
         "status": status, "statusReason": "agent activity", "statusSince": iso(-30), "firstSeen": iso(-600),
         "lastSeen": iso(-1), "lastProgress": iso(-1),
         "counters": {"costUSD": 0.41, "inputTokens": 12000, "outputTokens": 3100, "cacheReadTokens": 80000,
                      "cacheCreationTokens": 5000, "toolCalls": 14, "toolErrors": 1, "apiRequests": 9, "apiErrors": 0,
                      "prompts": 2, "events": 41}}
    s.update(kw)
    return s


def event(seq: int, sid: str, kind: str = "tool_result", **facts) -> dict:
    return {"seq": seq, "sessionId": sid, "agent": "claude-code", "kind": kind, "name": "claude_code." + kind,
            "source": "logs", "time": iso(), "receivedAt": iso(), "facts": facts, "attributes": {}}


def alert(aid: str, sid: str | None, state: str = "firing", **kw) -> dict:
    a = {"id": aid, "ruleID": "waiting", "ruleName": "Waiting for you", "severity": "warning", "state": state,
         "sessionID": sid, "labels": {"agent": "claude-code"}, "episode": 1, "count": 1, "activeSince": iso(-60),
         "firingSince": iso(-60), "resolvedAt": None, "acknowledged": False, "silenced": False,
         "title": "Claude Code is waiting for you", "body": "Bash needs approval in project"}
    a.update(kw)
    return a


class FakeFeed:
    """Stands in for the sink's /ws: records every connection's URL and lets the test send."""

    def __init__(self, page, on_connect=None):
        self.conns: list = []
        self.urls: list[str] = []
        self.on_connect = on_connect
        page.route_web_socket("**/ws*", self._handler)

    def _handler(self, ws) -> None:
        self.conns.append(ws)
        self.urls.append(ws.url)
        if self.on_connect:
            self.on_connect(self, ws)

    def send(self, msg: dict, conn: int = -1) -> None:
        self.conns[conn].send(json.dumps(msg))


def test_ws_protocol_snapshot_events_sessions_alerts_unknown_and_resync(front, new_page):
    ctx, page, watch = new_page(**DESKTOP)
    a, b = "aaaaaaaa-1111", "bbbbbbbb-2222"
    feed = FakeFeed(page)
    page.goto(front.origin + "/")
    wait_js(page, "true")
    page.wait_for_timeout(200)
    assert feed.urls and feed.urls[0].endswith("/ws"), feed.urls  # first connection: no ?since
    feed.send({"type": "snapshot", "seq": 40, "sessions": [session(a), session(b, "idle")], "alerts": [], "replayTruncated": False})
    wait_link(page, "live")
    wait_status(page, a, "working")
    wait_status(page, b, "idle")
    # idle (just finished) sorts before working
    assert page.get_by_test_id("session-card").first.get_attribute("data-session-id") == b

    feed.send({"type": "hello-from-the-future", "seq": 9999, "whatever": True})  # ignored
    feed.send({"type": "event", "seq": 41, "event": event(41, a, "tool_result", toolName="Bash", success=False, durationMs=125)})
    feed.send({"type": "session", "seq": 41, "session": session(a, "waiting", statusReason="waiting for approval")})
    wait_status(page, a, "waiting")
    assert "Bash failed" in card(page, a).inner_text()
    feed.send({"type": "alert", "alert": alert("waiting|" + a, a)})
    card(page, a).get_by_test_id("alert-badge").wait_for()
    assert page.locator('[data-testid="tab-alerts"] .nav-badge').inner_text() == "1"

    # resync: the client reconnects at once, resuming after the last seq it saw (41, not 9999).
    feed.send({"type": "resync", "reason": "client too slow"})
    wait_js(page, "true")
    for _ in range(100):
        if len(feed.urls) >= 2:
            break
        page.wait_for_timeout(50)
    assert feed.urls[1].endswith("/ws?since=41"), feed.urls
    # Replay (41, 45] after the snapshot, then live.
    feed.send({"type": "snapshot", "seq": 45, "sessions": [session(a, "working"), session(b, "idle")],
               "alerts": [alert("waiting|" + a, a, state="resolved", resolvedAt=iso())], "replayTruncated": False})
    for seq in (42, 43, 44, 45):
        feed.send({"type": "event", "seq": seq, "event": event(seq, a, "api_request", costUSD=0.01, model="m")})
    wait_status(page, a, "working")
    assert card(page, a).get_by_test_id("alert-badge").count() == 0

    # The connection drops mid-way: the next connection resumes from the last event (45).
    feed.conns[-1].close()
    for _ in range(200):
        if len(feed.urls) >= 3:
            break
        page.wait_for_timeout(50)
    assert feed.urls[2].endswith("/ws?since=45"), feed.urls
    watch.assert_clean()


def test_a_replay_cut_short_by_a_dropped_socket_resumes_from_the_last_replayed_event(front, new_page):
    ctx, page, watch = new_page(**DESKTOP)
    a = "cccccccc-3333"
    feed = FakeFeed(page)
    page.goto(front.origin + "/")
    for _ in range(100):
        if feed.conns:
            break
        page.wait_for_timeout(50)
    feed.send({"type": "snapshot", "seq": 10, "sessions": [session(a)], "alerts": []})
    wait_link(page, "live")
    feed.conns[-1].close()
    for _ in range(200):
        if len(feed.urls) >= 2:
            break
        page.wait_for_timeout(50)
    assert feed.urls[1].endswith("?since=10")
    feed.send({"type": "snapshot", "seq": 20, "sessions": [session(a)], "alerts": []})
    feed.send({"type": "event", "seq": 11, "event": event(11, a)})
    feed.send({"type": "event", "seq": 12, "event": event(12, a)})
    page.wait_for_timeout(300)
    feed.conns[-1].close()  # before events 13..20 arrived
    for _ in range(200):
        if len(feed.urls) >= 3:
            break
        page.wait_for_timeout(50)
    assert feed.urls[2].endswith("?since=12"), feed.urls
    watch.assert_clean()


def test_alerts_view_ack_and_silence(front, new_page):
    ctx, page, watch = new_page(**PHONE)
    sid = "dddddddd-4444"
    a1 = alert("waiting|" + sid, sid)
    a2 = alert("cost|" + sid, sid, ruleID="cost", ruleName="Runaway cost", severity="critical", title="$12 in 10 minutes")
    old = alert("crash|x", None, state="resolved", ruleID="crash", ruleName="Crashed", resolvedAt=iso(-3600))
    posted: list[tuple[str, dict]] = []

    def alerts_api(route):
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"alerts": [a1, a2, old]}))

    def post_api(route):
        req = route.request
        posted.append((req.url.split("/", 3)[3], json.loads(req.post_data or "{}")))
        if "/ack" in req.url:
            route.fulfill(status=200, content_type="application/json", body=json.dumps({**a1, "acknowledged": True}))
        else:
            route.fulfill(status=201, content_type="application/json", body=json.dumps({"id": "s1"}))

    page.route("**/api/alerts", alerts_api)
    page.route("**/api/alerts/*/ack", post_api)
    page.route("**/api/silences", post_api)
    feed = FakeFeed(page, lambda f, ws: ws.send(json.dumps({"type": "snapshot", "seq": 1, "sessions": [session(sid, "waiting")], "alerts": [a1, a2]})))
    page.goto(front.origin + "/")
    page.get_by_test_id("tab-alerts").click()
    page.get_by_test_id("alert-list").wait_for()
    items = page.get_by_test_id("alert").all()
    assert [i.get_attribute("data-alert-id") for i in items] == [a2["id"], a1["id"]]  # critical first
    page.wait_for_timeout(200)
    page.screenshot(path=str(__import__("conftest").ARTIFACTS / "phone-alerts.png"))

    first = page.locator(f'[data-alert-id="{a1["id"]}"]')
    first.get_by_test_id("ack").click()
    first.get_by_text("Acknowledged", exact=True).first.wait_for()
    assert posted[0] == (f"api/alerts/{a1['id'].replace('|', '%7C')}/ack", {})
    page.locator(f'[data-alert-id="{a2["id"]}"]').get_by_test_id("silence-1h").click()
    page.get_by_text("Silenced for 1 hour").wait_for()
    path, body = posted[1]
    assert path == "api/silences" and body["alertID"] == a2["id"] and body["untilResolved"] is False
    assert body["matchers"] == [{"name": "rule", "op": "=", "value": "cost"}, {"name": "session", "op": "=", "value": sid}]
    ends = datetime.fromisoformat(body["endsAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < ends - datetime.now(timezone.utc) < timedelta(minutes=61)
    page.get_by_role("button", name="Show 1 resolved").click()
    page.locator('[data-alert-id="crash|x"]').wait_for()
    watch.assert_clean()


def test_alerts_view_without_the_alerts_api(sink, front, new_page):
    ctx, page, watch = new_page(**PHONE)
    page.route("**/api/alerts", lambda r: r.fulfill(status=404, body=""))
    page.goto(front.origin + "/")
    page.get_by_test_id("tab-alerts").click()
    page.get_by_text("no alert rules API yet").wait_for()
    page.get_by_text("No active alerts").wait_for()


def roster(*agents: dict, helper: str = "running", unwrapped: list | None = None) -> dict:
    return {"helper": helper, "agents": list(agents), "unwrapped": unwrapped or []}


def wrapped(aid: str, name: str = "build-bot", pid: int = 4242) -> dict:
    return {"id": aid, "name": name, "pid": pid, "argv": ["claude", "--continue"], "cwd": "/home/u/src/bot",
            "started": iso(-120), "restarts": 0}


def test_control_buttons_only_for_wrapped_agents_after_confirmation_and_token(front, new_page):
    ctx, page, watch = new_page(**PHONE)
    a, b = "eeeeeeee-5555", "ffffffff-6666"
    calls: list[tuple[str, dict, str | None]] = []
    answers: list[tuple[int, dict]] = []

    def control(route):
        req = route.request
        calls.append((req.url.rsplit("/", 1)[1], json.loads(req.post_data or "{}"), req.headers.get("authorization")))
        if answers:
            status, body = answers.pop(0)
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body),
                          headers={"Retry-After": "7"} if status == 429 else {})
        elif req.headers.get("authorization") != "Bearer s3cret":
            route.fulfill(status=401, content_type="application/json", body='{"error":"this token is not valid (revoked, or mistyped)"}')
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(
                {"ok": True, "action": "kill", "agent": a, "pid": 4242, "newPid": None, "exitCode": None,
                 "exitSignal": 15, "escalated": False}))

    agents_calls: list[str] = []

    def agents(route):
        agents_calls.append(route.request.url)
        # Once killed, the agent is back under a new pid (restarted from a terminal): buttons again.
        killed = any(c[2] == "Bearer s3cret" for c in calls)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(roster(wrapped(a, pid=4300 if killed else 4242))))

    page.route("**/control/*", control)
    page.route("**/api/agents", agents)
    page.route("**/api/sessions/*/events*", lambda r: r.fulfill(status=200, content_type="application/json",
                                                                 body='{"events":[],"nextAfter":0}'))
    FakeFeed(page, lambda f, ws: ws.send(json.dumps({"type": "snapshot", "seq": 1, "alerts": [], "sessions": [
        session(a, "working"), session(b, "working")]})))
    page.goto(front.origin + "/")

    # b was not started with `observatory run`: a hint, no buttons.
    card(page, b).click()
    hint = page.get_by_test_id("control-hint")
    hint.wait_for()
    assert hint.get_attribute("data-kind") == "read-only"
    assert "observatory run" in hint.inner_text() and "read-only" in hint.inner_text()
    assert page.get_by_test_id("kill").count() == 0
    page.get_by_role("button", name="Back").click()

    card(page, a).click()
    kill = page.get_by_role("button", name="Kill build-bot")
    kill.click()
    dialog = page.get_by_test_id("confirm")
    dialog.wait_for()
    assert "Kill build-bot?" in dialog.inner_text()
    assert "SIGTERM" in dialog.inner_text() and "SIGKILL" in dialog.inner_text() and "4242" in dialog.inner_text()
    # Focus is in the dialog (on Cancel); Escape closes it and nothing was sent.
    assert page.evaluate("document.activeElement && document.activeElement.dataset.testid") == "confirm-no"
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert calls == []
    assert page.evaluate("document.activeElement && document.activeElement.dataset.testid") == "kill"

    # Confirm → no token yet → the token dialog; a wrong token → 401 → asked again, with the reason.
    kill.click()
    page.get_by_test_id("confirm-yes").click()
    page.get_by_test_id("token-dialog").wait_for()
    assert calls == []
    page.get_by_test_id("token-input").fill("wrong")
    page.get_by_test_id("token-submit").click()
    page.get_by_text("The sink refused the token: this token is not valid").wait_for()
    page.get_by_test_id("token-input").fill("s3cret")
    assert not page.get_by_test_id("token-remember").is_checked()
    page.get_by_test_id("token-submit").click()
    toast = page.get_by_test_id("toast")
    toast.wait_for()
    assert toast.inner_text().startswith("Killed build-bot (pid 4242): ended by SIGTERM.")
    assert calls == [("kill", {"session": a}, "Bearer wrong"), ("kill", {"session": a}, "Bearer s3cret")]
    # Not remembered: memory only.
    assert page.evaluate("localStorage.getItem('observatory.controlToken')") is None

    # The killed pid gets no buttons; the roster (fetched again after the call) has a new pid: buttons again.
    page.get_by_test_id("restart").wait_for()
    assert "pid 4300" in page.get_by_test_id("control").inner_text()

    # The server's error text for 409 / 429 / 503 / 504, and the token is kept (no dialog).
    for status, text in [(409, "eeeeeeee-5555 was not started with `observatory run` (or has ended)"),
                         (429, "too many failed attempts; try again later"),
                         (503, "the control helper is not reachable (no socket); start it with `observatory helper`"),
                         (504, "the helper did not answer in time")]:
        answers.append((status, {"error": text}))
        page.get_by_test_id("restart").click()
        d = page.get_by_test_id("confirm")
        assert "Restart build-bot?" in d.inner_text() and "keeps its agent id" in d.inner_text()
        page.get_by_test_id("confirm-yes").click()
        err = page.get_by_test_id("control-error")
        err.wait_for()
        page.get_by_test_id("control-error").get_by_text(text, exact=False).wait_for()
        if status == 429:
            assert "retry in 7 s" in err.inner_text()
        assert page.get_by_test_id("token-dialog").count() == 0
    assert [c[2] for c in calls[2:]] == ["Bearer s3cret"] * 4
    assert len(agents_calls) >= 2  # on open, and again after each control call
    watch.assert_clean()


def test_agents_view_lists_wrapped_and_unwrapped(front, new_page, artifacts):
    ctx, page, watch = new_page(**PHONE)
    a = "abababab-1111"
    page.route("**/api/agents", lambda r: r.fulfill(status=200, content_type="application/json", body=json.dumps(roster(
        wrapped(a, name="reviewer", pid=777), unwrapped=[{"pid": 31337, "kind": "codex", "argv": ["codex", "exec"], "cwd": "/srv/x"}]))))
    page.route("**/api/sessions/*/events*", lambda r: r.fulfill(status=200, content_type="application/json",
                                                                 body='{"events":[],"nextAfter":0}'))
    FakeFeed(page, lambda f, ws: ws.send(json.dumps({"type": "snapshot", "seq": 1, "alerts": [], "sessions": [session(a)]})))
    page.goto(front.origin + "/agents")
    w = page.get_by_test_id("wrapped-agent")
    w.wait_for()
    assert w.get_attribute("data-agent-id") == a
    t = w.inner_text()
    assert "reviewer" in t and "777" in t and "claude --continue" in t
    u = page.get_by_test_id("unwrapped-agent")
    assert u.get_attribute("data-pid") == "31337" and "read-only" in u.inner_text().lower()
    page.screenshot(path=str(artifacts / "phone-agents.png"))
    w.get_by_test_id("agent-session-link").click()
    page.get_by_test_id("session-detail").wait_for()
    assert page.url.endswith(f"/sessions/{a}")
    page.get_by_test_id("kill").wait_for()
    watch.assert_clean()


STUB_SUBSCRIBE = """
PushManager.prototype.subscribe = async function (opts) {
  window.__subscribeOpts = {userVisibleOnly: opts.userVisibleOnly, keyLength: new Uint8Array(opts.applicationServerKey).length};
  return { endpoint: "https://push.example/sub/abc", expirationTime: null, options: opts,
           getKey: () => new ArrayBuffer(65), unsubscribe: async () => true,
           toJSON() { return { endpoint: this.endpoint, keys: { p256dh: "BPk-p256dh", auth: "auth-secret" } }; } };
};
PushManager.prototype.getSubscription = async function () { return null; };
"""

VAPID = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"


def test_enable_notifications_flow_and_test_button(sink, front, new_page):
    ctx, page, watch = new_page(**PHONE)
    ctx.add_init_script(STUB_SUBSCRIBE)
    ctx.grant_permissions(["notifications"], origin=front.origin)
    subs: list[dict] = []
    page.route("**/api/push/vapid-public-key", lambda r: r.fulfill(status=200, content_type="application/json",
                                                                   body=json.dumps({"publicKey": VAPID})))

    def subscriptions(route):
        subs.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(status=201, content_type="application/json", body='{"id":"sub-1"}')

    page.route("**/api/push/subscriptions", subscriptions)
    page.goto(front.origin + "/")
    page.get_by_test_id("tab-settings").click()
    page.get_by_test_id("enable-notifications").click()
    page.get_by_text("Notifications are on for this device.").wait_for()
    assert subs == [{"endpoint": "https://push.example/sub/abc", "keys": {"p256dh": "BPk-p256dh", "auth": "auth-secret"},
                     "label": "Chrome on Linux"}]
    assert page.evaluate("window.__subscribeOpts") == {"userVisibleOnly": True, "keyLength": 65}
    # The sink has no /api/push/test yet (404): a calm note, not an error.
    page.unroute("**/api/push/subscriptions")
    page.get_by_test_id("test-notification").click()
    msg = page.get_by_test_id("notif-msg")
    msg.wait_for()
    text = msg.inner_text()
    # Depending on the sink: no push routes (404, no body), or the routes but no real subscription.
    assert any(t in text for t in ("Test notification sent", "cannot send test notifications yet",
                                   "enable notifications on a device first")), text
    watch.assert_clean()


def test_enable_notifications_without_push_endpoints(sink, front, new_page):
    ctx, page, watch = new_page(**DESKTOP)
    ctx.grant_permissions(["notifications"], origin=front.origin)
    page.route("**/api/push/**", lambda r: r.fulfill(status=404, body=""))
    page.goto(front.origin + "/")
    page.get_by_test_id("tab-settings").click()
    page.get_by_test_id("enable-notifications").click()
    page.get_by_text("does not offer push notifications yet").wait_for()


IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")


def test_iphone_safari_is_told_to_add_to_home_screen_first(sink, front, new_page, artifacts):
    ctx, page, watch = new_page(**PHONE, user_agent=IPHONE_SAFARI)
    page.goto(front.origin + "/")
    page.get_by_test_id("tab-settings").click()
    page.get_by_text("add the Observatory to your Home Screen first").wait_for()
    assert page.get_by_test_id("enable-notifications").is_disabled()
    page.screenshot(path=str(artifacts / "phone-iphone-notifications.png"))


def test_backoff_grows_with_jitter_and_online_or_wake_retries_at_once(front, new_page):
    ctx, page, watch = new_page(**DESKTOP)
    times: list[float] = []
    accept = {"on": False}

    def refuse_or_accept(feed, ws):
        times.append(time.monotonic())
        if accept["on"]:
            ws.send(json.dumps({"type": "snapshot", "seq": 5, "sessions": [], "alerts": []}))
        else:
            ws.close()

    feed = FakeFeed(page, refuse_or_accept)
    page.goto(front.origin + "/")
    # Refused again and again: the gaps grow (0.25-0.5, 0.5-1, 1-2, 2-4 s …).
    deadline = time.monotonic() + 12
    while len(times) < 5 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) >= 4, times
    assert gaps[3] > gaps[0] and gaps[3] >= 1.5, gaps
    # The page says it is polling the REST API meanwhile (the sink is up, only /ws is refused).
    assert wait_link(page, "polling") == "polling"
    # The next retry is seconds away; "online" (or the phone waking up) retries now.
    accept["on"] = True
    n = len(times)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_link(page, "live", timeout_ms=1500)
    assert len(times) == n + 1
    # Hidden for a while, then visible again: a fresh socket resuming from lastSeq.
    page.evaluate("""() => {
      Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(5200)
    page.evaluate("""() => {
      Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    wait_js(page, "true")
    for _ in range(40):
        if len(feed.urls) >= n + 2:
            break
        page.wait_for_timeout(50)
    assert feed.urls[-1].endswith("/ws?since=5"), feed.urls
    watch.assert_clean()


def test_an_alert_notification_url_opens_the_alerts_view_on_that_alert(front, new_page):
    """The sink's alert pushes carry url "/?alert=<id, percent-encoded>"."""
    ctx, page, watch = new_page(**PHONE)
    sid = "abababab-7777"
    a1, a2 = alert("waiting|" + sid, sid), alert("cost|" + sid, sid, ruleID="cost", state="resolved", resolvedAt=iso(-5))
    page.route("**/api/alerts", lambda r: r.fulfill(status=200, content_type="application/json",
                                                    body=json.dumps({"alerts": [a1, a2]})))
    FakeFeed(page, lambda f, ws: ws.send(json.dumps({"type": "snapshot", "seq": 1, "sessions": [session(sid, "waiting")], "alerts": [a1]})))
    page.goto(front.origin + "/?alert=cost%7C" + sid)
    focused = page.locator('[data-testid="alert"][data-focused="true"]')
    focused.wait_for()
    assert focused.get_attribute("data-alert-id") == a2["id"]  # a resolved one: the resolved list unfolds
    page.get_by_role("heading", name="Alerts").wait_for()
    watch.assert_clean()
