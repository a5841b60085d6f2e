"""Attacks on the API port, written as an attacker would try them (docs/security.md has the table).

"Remote" requests are made remote the way a tunnel or reverse proxy on the same machine makes
them: with a proxy header (`X-Forwarded-For`), which the sink never treats as local. Every API,
WebSocket and control route is tried without a token, with a wrong one, with a revoked one and with
a valid device token; then DNS rebinding (foreign `Host`), cross-origin WebSocket and control,
path traversal on the static files, and secrets in the sink's log.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import requests

REMOTE = {"X-Forwarded-For": "203.0.113.50"}

# (method, path, body) for every route of the API port that reads or changes data.
DATA_ROUTES = [
    ("GET", "/api/sessions", None),
    ("GET", "/api/sessions/s1", None),
    ("GET", "/api/sessions/s1/events", None),
    ("GET", "/api/alerts", None),
    ("POST", "/api/alerts/a1/ack", "{}"),
    ("GET", "/api/rules", None),
    ("GET", "/api/silences", None),
    ("POST", "/api/silences", '{"rule":"agent-stalled","for":"1h"}'),
    ("DELETE", "/api/silences/x", None),
    ("GET", "/api/push/vapid-public-key", None),
    ("GET", "/api/push/subscriptions", None),
    ("POST", "/api/push/subscriptions", "{}"),
    ("DELETE", "/api/push/subscriptions/x", None),
    ("POST", "/api/push/test", "{}"),
    ("GET", "/api/agents", None),
    ("GET", "/api/audit", None),
    ("GET", "/metrics", None),
]
CONTROL_ROUTES = [("POST", "/control/kill", '{"agent":"a"}'), ("POST", "/control/restart", '{"agent":"a"}')]


def token(sink, *args: str) -> str:
    r = subprocess.run([str(sink.binary), "token", "create", *args, "--data-dir", str(sink.data_dir)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def revoke(sink, name: str) -> None:
    r = subprocess.run([str(sink.binary), "token", "revoke", name, "--data-dir", str(sink.data_dir)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def call(sink, method: str, path: str, body: str | None, bearer: str | None = None, cookie: str | None = None,
         **headers: str) -> requests.Response:
    h = dict(headers)
    if body is not None:
        h["Content-Type"] = "application/json"
    if bearer:
        h["Authorization"] = f"Bearer {bearer}"
    if cookie:
        h["Cookie"] = f"observatory_token={cookie}"
    return requests.request(method, sink.api_url + path, data=body, headers=h, timeout=10)


def ws_status(sink, host: str | None = None, origin: str | None = None, **headers: str) -> int:
    """The HTTP status of a WebSocket upgrade of /ws (101 when accepted)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET /ws HTTP/1.1", f"Host: {host or f'127.0.0.1:{sink.api_port}'}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin:
        lines.append(f"Origin: {origin}")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", sink.api_port), timeout=5) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = s.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def raw_get(sink, target: str, host: str | None = None) -> tuple[int, bytes]:
    """A GET with the request target sent exactly as given (no client-side normalisation)."""
    with socket.create_connection(("127.0.0.1", sink.api_port), timeout=5) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{sink.api_port}'}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture
def secured(sink_factory, tmp_path):
    sink = sink_factory.start(extra_args=["--helper-socket", str(tmp_path / "no-helper.sock")])
    device = token(sink, "--device", "phone")
    revoked = token(sink, "--device", "old-phone")
    revoke(sink, "old-phone")
    control = token(sink, "ops")
    return sink, device, revoked, control


def test_every_data_route_needs_a_valid_token_from_remote(secured):
    sink, device, revoked, control = secured
    for method, path, body in DATA_ROUTES:
        for label, bearer in [("no token", None), ("wrong token", "obsd_" + "A" * 43), ("revoked token", revoked)]:
            r = call(sink, method, path, body, bearer, **REMOTE)
            assert r.status_code == 401, f"{method} {path} with {label}: {r.status_code} {r.text}"
            assert "observatory_token" not in r.headers.get("Set-Cookie", "")
        for label, credentials in [("device bearer", {"bearer": device}), ("device cookie", {"cookie": device}),
                                   ("control bearer", {"bearer": control})]:
            r = call(sink, method, path, body, **credentials, **REMOTE)
            assert r.status_code not in (401, 403), f"{method} {path} with {label}: {r.status_code} {r.text}"
        # The machine's own user reads without a token.
        assert call(sink, method, path, body).status_code not in (401, 403), f"{method} {path} locally"


def test_websocket_needs_a_token_from_remote_and_the_same_origin(secured):
    # Hummingbird's WebSocket upgrade answers every refused upgrade with an empty 400, whatever
    # the middleware said (401, 403): what matters is that it is not 101. The dashboard asks
    # /api/auth first, which gives the reason.
    sink, device, revoked, _ = secured
    refused = 400
    assert ws_status(sink, **REMOTE) == refused
    assert ws_status(sink, Authorization=f"Bearer {revoked}", **REMOTE) == refused
    assert ws_status(sink, Cookie=f"observatory_token={device}", **REMOTE) == 101
    assert ws_status(sink, Authorization=f"Bearer {device}", **REMOTE) == 101
    assert ws_status(sink) == 101
    assert ws_status(sink, origin=f"http://127.0.0.1:{sink.api_port}") == 101
    assert ws_status(sink, origin="https://evil.example") == refused
    assert ws_status(sink, origin="null") == refused
    assert ws_status(sink, host="evil.example") == refused


def test_control_rules(secured):
    sink, device, revoked, control = secured
    for method, path, body in CONTROL_ROUTES:
        assert call(sink, method, path, body).status_code == 401                      # local, no token
        assert call(sink, method, path, body, "obsc_" + "B" * 43).status_code == 401  # wrong
        assert call(sink, method, path, body, device).status_code == 403              # device token
        assert call(sink, method, path, body, cookie=control).status_code == 401      # cookie is not enough
        assert call(sink, method, path, body, control, **REMOTE).status_code == 403   # remote, no flag
        assert call(sink, method, path, body, control, Origin="https://evil.example").status_code == 403
        assert call(sink, method, path, body, control).status_code == 503             # allowed; no helper here


def test_dns_rebinding_is_refused(secured):
    sink, device, _, _ = secured
    for target in ["/", "/api/sessions", "/healthz", "/metrics"]:
        status, _ = raw_get(sink, target, host=f"evil.example:{sink.api_port}")
        assert status == 403, target
    assert raw_get(sink, "/api/sessions", host=f"localhost:{sink.api_port}")[0] == 200


@pytest.mark.parametrize("target", [
    "/../../../../etc/passwd", "/assets/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/..%2f..%2f..%2fetc/passwd", "/assets/..\\..\\etc\\passwd",
])
def test_path_traversal_on_static_files(secured, target):
    sink, *_ = secured
    status, body = raw_get(sink, target)
    assert b"root:" not in body, target
    assert status in (200, 400, 404), (target, status)
    if status == 200:  # the single-page fallback serves index.html, never the file
        assert b"<!doctype html" in body.lower()[:200], target


def test_login_cookie_flags_and_failed_logins_are_limited(secured):
    sink, device, _, _ = secured
    r = call(sink, "POST", "/api/login", json.dumps({"token": device}), **REMOTE, **{"X-Forwarded-Proto": "https"})
    assert r.status_code == 204
    cookie = r.headers["Set-Cookie"]
    assert all(flag in cookie for flag in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/")), cookie
    other = {"X-Forwarded-For": "198.51.100.77"}
    statuses = [call(sink, "POST", "/api/login", json.dumps({"token": "obsd_nope"}), **other).status_code for _ in range(7)]
    assert statuses[:6] == [401] * 6 and statuses[6] == 429, statuses
    # The lockout is per client: the first client still logs in.
    assert call(sink, "POST", "/api/login", json.dumps({"token": device}), **REMOTE).status_code == 204


def test_secrets_never_reach_the_log_or_the_audit(secured):
    sink, device, revoked, control = secured
    call(sink, "GET", "/api/sessions", None, device, **REMOTE)
    call(sink, "POST", "/control/kill", '{"agent":"a"}', control)
    call(sink, "POST", "/api/login", json.dumps({"token": device}), **REMOTE)
    sink.stop()
    text = sink.log_text() + (sink.data_dir / "audit.jsonl").read_text()
    for secret in (device, revoked, control):
        assert secret not in text
    assert "obsc_" not in sink.log_text() and "obsd_" not in sink.log_text()
    tokens = json.loads((sink.data_dir / "tokens.json").read_text())
    assert all(len(t["sha256"]) == 64 for t in tokens["tokens"])
    for name in ("tokens.json", "audit.jsonl", "vapid-private-key.pem"):
        assert (sink.data_dir / name).stat().st_mode & 0o777 == 0o600, name
