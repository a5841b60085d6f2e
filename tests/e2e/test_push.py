"""Web Push end to end: the sink sends to a local fake push service (fake_push_service.py) that
checks the VAPID JWT (ES256, aud, exp, sub, k = the subscription's applicationServerKey) and decrypts
the aes128gcm body with the independent http_ece implementation."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import HERE, sink_binary, wait_until

CONTACT = "mailto:ops@example.com"
PUSH_ARGS = ["--push-allow-insecure-localhost", "--push-contact", CONTACT]


class FakePushService:
    def __init__(self, proc: subprocess.Popen, base: str):
        self.proc, self.base = proc, base
        self.http = requests.Session()

    def subscribe(self, application_server_key: str | None = None) -> dict:
        body = {"applicationServerKey": application_server_key} if application_server_key else {}
        r = self.http.post(f"{self.base}/subscribe", json=body, timeout=5)
        assert r.status_code == 201, r.text
        return r.json()

    def messages(self, sub: dict) -> list[dict]:
        sid = sub["endpoint"].rsplit("/", 1)[1]
        return self.http.get(f"{self.base}/__messages", params={"sub": sid}, timeout=5).json()

    def control(self, sub: dict, **script) -> None:
        sid = sub["endpoint"].rsplit("/", 1)[1]
        assert self.http.post(f"{self.base}/__control/{sid}", json=script, timeout=5).status_code == 204


@pytest.fixture
def push_service():
    proc = subprocess.Popen([sys.executable, str(HERE / "fake_push_service.py"), "--port", "0", "--apple"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("LISTENING "), line
        yield FakePushService(proc, line.split(" ", 1)[1])
    finally:
        proc.terminate()  # only the child this fixture started
        proc.wait(timeout=5)


def start_push_sink(sink_factory, **kw):
    return sink_factory.start(extra_args=PUSH_ARGS, **kw)


def vapid_key(sink) -> str:
    return sink.get_json("/api/push/vapid-public-key")["publicKey"]


def register(sink, push_service, label: str = "phone") -> tuple[dict, dict]:
    """A browser-shaped subscription at the fake service (restricted to the sink's VAPID key),
    posted to the sink as the dashboard does."""
    sub = push_service.subscribe(vapid_key(sink))
    r = sink.http.post(sink.api_url + "/api/push/subscriptions", json={**sub, "label": label}, timeout=5)
    assert r.status_code == 201, r.text
    return sub, r.json()


def subscriptions(sink) -> list[dict]:
    return sink.get_json("/api/push/subscriptions")["subscriptions"]


def send_test(sink, **body) -> requests.Response:
    return sink.http.post(sink.api_url + "/api/push/test", json=body, timeout=5)


def metric(sink, name: str) -> float:
    total = 0.0
    for line in sink.metrics_text().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_push_vapid_key_is_made_once_private_and_reused(sink_factory):
    sink = start_push_sink(sink_factory)
    key = vapid_key(sink)
    key_file = sink.data_dir / "vapid-private-key.pem"
    assert key_file.exists()
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert len(key) == 87  # 65 bytes, base64url without padding
    assert sink.stop() == 0
    sink.start(extra_args=PUSH_ARGS)
    assert vapid_key(sink) == key


def test_push_test_notification_arrives_decrypted(sink_factory, push_service):
    sink = start_push_sink(sink_factory)
    sub, created = register(sink, push_service, "iPhone")
    assert created["label"] == "iPhone" and created["delivered"] == 0 and "keys" not in created
    r = send_test(sink, title="Hello phone", body="push works")
    assert r.status_code == 202, r.text
    assert r.json() == {"queued": 1}
    msgs = wait_until(lambda: push_service.messages(sub), desc="the test push at the fake push service")
    assert len(msgs) == 1
    m = msgs[0]
    payload = json.loads(m["plaintext"])
    assert payload["title"] == "Hello phone" and payload["body"] == "push works" and payload["kind"] == "test"
    assert m["claims"]["aud"] == push_service.base
    assert m["claims"]["sub"] == CONTACT
    assert m["claims"]["exp"] <= time.time() + 24 * 3600
    assert m["vapid_k"] == vapid_key(sink)
    assert 0 < m["ttl"] <= 300 and m["urgency"] == "normal"
    (s,) = wait_until(lambda: [x for x in subscriptions(sink) if x["delivered"] == 1], desc="delivery recorded")
    assert s["lastStatus"] == 201 and s["lastSuccessAt"] and s["lastError"] is None
    assert s["pushService"] == push_service.base
    assert metric(sink, 'observatory_push_attempts_total{outcome="delivered"}') == 1
    assert metric(sink, 'observatory_push_requests_total{code="201"}') == 1
    assert metric(sink, "observatory_push_subscriptions") == 1
    # Re-posting the same subscription (the page does it on every load) updates, not duplicates.
    r = sink.http.post(sink.api_url + "/api/push/subscriptions", json=sub, timeout=5)
    assert r.status_code == 200 and r.json()["label"] == "iPhone"
    assert len(subscriptions(sink)) == 1


def test_push_410_deletes_the_subscription(sink_factory, push_service):
    sink = start_push_sink(sink_factory)
    gone, _ = register(sink, push_service, "old phone")
    kept, _ = register(sink, push_service, "new phone")
    push_service.control(gone, status=410)
    assert send_test(sink).json() == {"queued": 2}
    wait_until(lambda: [s["label"] for s in subscriptions(sink)] == ["new phone"], desc="the 410 subscription deleted")
    assert len(push_service.messages(kept)) == 1
    assert metric(sink, 'observatory_push_attempts_total{outcome="gone"}') == 1


def test_push_429_retry_after_is_honoured(sink_factory, push_service):
    sink = start_push_sink(sink_factory)
    sub, _ = register(sink, push_service)
    push_service.control(sub, status=429, retry_after=2, times=1)
    t0 = time.time()
    assert send_test(sink, title="after a pause").status_code == 202
    msgs = wait_until(lambda: push_service.messages(sub), desc="the push after Retry-After")
    waited = msgs[0]["received_at"] - t0
    assert waited >= 1.9, f"delivered {waited:.2f}s after the 429 with Retry-After: 2"
    assert waited < 6, f"took {waited:.2f}s"
    (s,) = subscriptions(sink)
    assert s["delivered"] == 1 and s["failed"] == 1
    assert metric(sink, 'observatory_push_requests_total{code="429"}') == 1


def test_push_kill9_with_a_full_outbox_delivers_after_restart(sink_factory, push_service):
    sink = start_push_sink(sink_factory)
    sub, _ = register(sink, push_service)
    push_service.control(sub, status=429, retry_after=4, times=1)
    assert send_test(sink, title="one").status_code == 202
    wait_until(lambda: metric(sink, 'observatory_push_requests_total{code="429"}') >= 1, desc="the 429")
    # Retry-After holds the subscription: later messages wait too.
    for title in ("two", "three"):
        assert send_test(sink, title=title).status_code == 202
    time.sleep(0.3)
    assert push_service.messages(sub) == []
    assert metric(sink, "observatory_push_requests_total") == 1
    sink.kill()  # kill -9 while the outbox holds three messages
    sink.start(extra_args=PUSH_ARGS)
    msgs = wait_until(lambda: (m := push_service.messages(sub)) and len(m) >= 3 and m, timeout=20,
                      desc="three messages after the restart")
    time.sleep(1)  # nothing more arrives: exactly once
    titles = sorted(json.loads(m["plaintext"])["title"] for m in push_service.messages(sub))
    assert titles == ["one", "three", "two"]
    wait_until(lambda: metric(sink, "observatory_push_outbox_messages") == 0, desc="an empty outbox")


def test_push_subscription_api_refuses_bad_input(sink_factory, push_service):
    sink = sink_factory.start()  # without --push-allow-insecure-localhost
    url = sink.api_url + "/api/push/subscriptions"
    good = push_service.subscribe()
    post = lambda body, **kw: sink.http.post(url, json=body, timeout=5, **kw)

    def refused(body, words, status=400):
        r = post(body)
        assert r.status_code == status, (body, r.status_code, r.text)
        assert words in r.json()["error"], r.json()
        return r

    refused(good, "https")  # http://127.0.0.1 without the opt-in
    https_loopback = {**good, "endpoint": good["endpoint"].replace("http://", "https://")}
    refused(https_loopback, "loopback")
    refused({**good, "endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {**good["keys"], "p256dh": "AAAA"}}, "65-byte")
    refused({**good, "endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {**good["keys"], "auth": "AAAAAAAAAAA"}}, "16 bytes")
    refused({**good, "endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": "B" + "A" * 86, "auth": good["keys"]["auth"]}}, "P-256")
    refused({"keys": good["keys"]}, "endpoint")
    refused({"endpoint": "https://fcm.googleapis.com/fcm/send/x"}, "keys")
    refused({"endpoint": 5, "keys": good["keys"]}, "wrong type")
    r = sink.http.post(url, data=b"not json", headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 400, r.text
    r = sink.http.post(url, data=b"{" + b" " * 40000 + b"}", headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 413, r.text
    assert sink.http.delete(url + "/0123456789abcdef", timeout=5).status_code == 404
    assert send_test(sink).status_code == 404  # no subscriptions yet
    ok = {**good, "endpoint": "https://fcm.googleapis.com/fcm/send/abc"}
    r = post(ok)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert send_test(sink, subscriptionId="nope").status_code == 404
    assert sink.http.delete(f"{url}/{sid}", timeout=5).status_code == 204
    assert subscriptions(sink) == []


def test_push_contact_apple_rejects_is_refused_at_start(tmp_path):
    for contact in ("https://localhost", "mailto:me@localhost", "ops@example.com"):
        r = subprocess.run([str(sink_binary()), "check-config", "--data-dir", str(tmp_path), "--push-contact", contact],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, (contact, r.stdout)
        assert "push.contact" in r.stderr, r.stderr
    r = subprocess.run([str(sink_binary()), "check-config", "--data-dir", str(tmp_path), "--push-contact", CONTACT],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_push_latency_test_push_to_fake_service(sink_factory, push_service):
    """Time from POST /api/push/test to the fake service holding the decrypted message."""
    sink = start_push_sink(sink_factory)
    sub, _ = register(sink, push_service)
    latencies = []
    for i in range(40):
        t0 = time.time()
        assert send_test(sink, title=f"n{i}").status_code == 202
        msgs = wait_until(lambda: len(push_service.messages(sub)) > i and push_service.messages(sub), interval=0.002)
        latencies.append((msgs[-1]["received_at"] - t0) * 1000)
    latencies.sort()
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
    print(f"\npush latency POST /api/push/test -> decrypted at the fake service: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms")
    assert p99 < 1000


RULE = """version: 1
rules:
  - id: api-error-push
    name: API error
    severity: critical
    event:
      kind: api_error
    notify:
      title: "API error {{ event.attrs.status_code }}"
      body: "The model API failed: {{ event.attrs.error }}"
"""


def start_with_rule(sink_factory, tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "push.yaml").write_text(RULE)
    return sink_factory.start(extra_args=PUSH_ARGS + ["--rules-dir", str(rules)])


def test_push_alert_fired_by_a_rule_arrives_decrypted(sink_factory, push_service, tmp_path):
    from otlp_clients import ClaudeSession, encode_logs_request

    sink = start_with_rule(sink_factory, tmp_path)
    sub, _ = register(sink, push_service)
    s = ClaudeSession().api_error(status_code=529)
    r = sink.post_otlp("logs", encode_logs_request([s]))
    assert r.status_code == 200, r.text
    (m,) = wait_until(lambda: push_service.messages(sub), desc="the alert's push")
    payload = json.loads(m["plaintext"])
    assert payload["title"] == "API error 529", payload
    assert payload["body"] == "The model API failed: Overloaded", payload
    assert payload["sessionId"] == s.session_id and payload["kind"] == "firing" and payload["severity"] == "critical"
    assert payload["alertId"].startswith("api-error-push") and payload["url"].startswith("/?alert=")
    assert m["urgency"] == "high" and m["topic"] and len(m["topic"]) == 32
    assert m["claims"]["aud"] == push_service.base and m["claims"]["sub"] == CONTACT


def test_push_latency_otlp_post_to_decrypted_push(sink_factory, push_service, tmp_path):
    """Time from the OTLP POST that triggers an `event` rule to the fake push service holding the
    decrypted notification (issue 9's performance target: p99 under 50 ms on this machine)."""
    from otlp_clients import ClaudeSession, encode_logs_request

    sink = start_with_rule(sink_factory, tmp_path)
    sub, _ = register(sink, push_service)
    latencies = []
    n = int(os.environ.get("PUSH_LATENCY_SAMPLES", "60"))
    for i in range(n):
        body = encode_logs_request([ClaudeSession().api_error()])
        t0 = time.time()
        assert sink.post_otlp("logs", body).status_code == 200
        msgs = wait_until(lambda: len(push_service.messages(sub)) > i and push_service.messages(sub), interval=0.002,
                          desc=f"push #{i}")
        latencies.append((msgs[-1]["received_at"] - t0) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(round(len(latencies) * 0.99)) - 1)]
    print(f"\nOTLP POST -> decrypted push at the fake service, {n} alerts: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {latencies[-1]:.1f} ms")
    assert p99 < 1000, latencies


def test_push_sigterm_with_a_waiting_outbox_exits_cleanly_and_keeps_it(sink_factory, push_service):
    sink = start_push_sink(sink_factory)
    sub, _ = register(sink, push_service)
    push_service.control(sub, status=503, retry_after=30, times=1)
    assert send_test(sink, title="later").status_code == 202
    wait_until(lambda: metric(sink, 'observatory_push_requests_total{code="503"}') >= 1, desc="the 503")
    t0 = time.monotonic()
    assert sink.stop() == 0
    assert time.monotonic() - t0 < 5, "shutdown waited for the retry"
    assert push_service.messages(sub) == []
    sink.start(extra_args=PUSH_ARGS)
    # Retry-After: 30 from the 503 is kept across the restart; the message waits for it.
    time.sleep(1)
    assert push_service.messages(sub) == []
    assert metric(sink, "observatory_push_outbox_messages") == 1
