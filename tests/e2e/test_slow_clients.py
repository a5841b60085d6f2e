"""Slow and oversized clients are bounded and timed out, and never stop other clients being served.

The sink runs with `ingest.idle_timeout` and `api.idle_timeout` of 2 s and `api.max_live_clients`
of 4 (defaults 60 s and 64), so the limits show within a short test:

* slowloris: request heads trickled a byte at a time, connections that send nothing, and a
  keep-alive connection trickling its second request are closed after the idle timeout, on both
  ports, while ordinary requests keep being answered promptly;
* an oversized header block is refused without being read to its end;
* more WebSocket clients than allowed are closed at once with 1013 (try again later), and a
  slot freed is usable again.
"""

from __future__ import annotations

import base64
import os
import select
import socket
import threading
import time

import pytest

from otlp_clients import ClaudeSession, encode_logs_request
from conftest import wait_until

IDLE = 2.0
MAX_LIVE = 4


@pytest.fixture
def limited_sink(sink_factory, tmp_path):
    cfg = tmp_path / "limits.yaml"
    cfg.write_text(f"ingest: {{ idle_timeout: {IDLE:g}s }}\napi: {{ idle_timeout: {IDLE:g}s, max_live_clients: {MAX_LIVE} }}\n")
    s = sink_factory.new()
    s.start(extra_args=["--config", str(cfg)])
    return s


def _connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _closed_by_peer(s: socket.socket) -> bool:
    """True once the server has closed (EOF or reset); never blocks."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False


class Trickler(threading.Thread):
    """Sends `payload` one byte every `interval` seconds until the server closes the connection or
    `limit` seconds pass; records when the server closed it."""

    def __init__(self, sock: socket.socket, payload: bytes, interval: float = 0.2, limit: float = 10.0):
        super().__init__(daemon=True)
        self.sock, self.payload, self.interval, self.limit = sock, payload, interval, limit
        self.start_time = time.monotonic()
        self.closed_after: float | None = None

    def run(self) -> None:
        i = 0
        while time.monotonic() - self.start_time < self.limit:
            if _closed_by_peer(self.sock):
                break
            if self.payload:
                try:
                    self.sock.send(self.payload[i % len(self.payload):i % len(self.payload) + 1])
                except OSError:
                    break
                i += 1
            time.sleep(self.interval)
        else:
            return
        self.closed_after = time.monotonic() - self.start_time


def _post_ok(sink) -> float:
    s = ClaudeSession().user_prompt()
    t = time.monotonic()
    r = sink.post_otlp("logs", encode_logs_request([s]))
    assert r.status_code == 200, r.text[:300]
    return time.monotonic() - t


def _get_ok(sink) -> float:
    t = time.monotonic()
    r = sink.get("/api/sessions")
    assert r.status_code == 200, r.text[:300]
    return time.monotonic() - t


def test_slowloris_is_timed_out_and_others_are_served(limited_sink):
    sink = limited_sink
    head = b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nX-Pad: " + b"a" * 4000
    api_head = b"GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 4000
    ws_head = b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Pad: " + b"a" * 4000
    tricklers: list[tuple[str, Trickler]] = []
    for i in range(20):
        tricklers.append(("ingest trickle", Trickler(_connect(sink.ingest_port), head)))
        tricklers.append(("api trickle", Trickler(_connect(sink.api_port), api_head if i % 2 else ws_head)))
    for port, name in ((sink.ingest_port, "ingest silent"), (sink.api_port, "api silent")):
        for _ in range(5):
            tricklers.append((name, Trickler(_connect(port), b"")))
    # A keep-alive connection whose first request is whole, then trickles the second one.
    ka = _connect(sink.api_port)
    ka.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert b" 200 " in ka.recv(65536).split(b"\r\n")[0] + b" "
    tricklers.append(("api keep-alive trickle", Trickler(ka, api_head)))
    for _, t in tricklers:
        t.start()

    # While 52 slow connections are open, ordinary clients are answered promptly.
    worst = 0.0
    t_end = time.monotonic() + 1.5
    while time.monotonic() < t_end:
        worst = max(worst, _post_ok(sink), _get_ok(sink))
    assert worst < 1.0, f"an ordinary request took {worst:.2f} s beside the slow clients"

    for _, t in tricklers:
        t.join(IDLE + 6)
    late = [(n, t.closed_after) for n, t in tricklers if t.closed_after is None or t.closed_after > IDLE + 2.5]
    early = [(n, t.closed_after) for n, t in tricklers if t.closed_after is not None and t.closed_after < IDLE - 0.5]
    assert not late, f"slow connections not closed within {IDLE + 2.5}s: {late}"
    assert not early, f"closed before the idle timeout: {early}"
    for _, t in tricklers:
        t.sock.close()
    assert sink.running()
    _post_ok(sink)
    _get_ok(sink)
    closed = sorted(t.closed_after for _, t in tricklers)
    print(f"\n{len(closed)} slow connections closed after {closed[0]:.2f}-{closed[-1]:.2f} s (idle_timeout {IDLE}s)")


@pytest.mark.parametrize("port_name", ["ingest", "api"])
def test_oversized_header_block_is_refused_without_reading_it_all(limited_sink, port_name):
    """An 8 MB header line: the server answers 431/400 or closes long before it has all been sent
    (the HTTP decoder's limit is 80 KB), and keeps serving everyone else."""
    sink = limited_sink
    port = sink.ingest_port if port_name == "ingest" else sink.api_port
    s = _connect(port)
    s.settimeout(5)
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    sent = 0
    refused = False
    t0 = time.monotonic()
    try:
        s.sendall(head)
        chunk = b"b" * 65536
        while sent < 8 * 1024 * 1024 and time.monotonic() - t0 < 10:
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        refused = True  # reset or broken pipe: the server stopped reading and closed
    answer = b""
    try:
        answer = s.recv(65536)
    except OSError:
        pass
    s.close()
    status = answer.split(b"\r\n", 1)[0]
    assert refused or status.split(b" ")[1:2] in ([b"431"], [b"400"]), (sent, status)
    assert sent < 8 * 1024 * 1024 or status, "the server read an 8 MB header block"
    assert sink.running()
    _post_ok(sink)
    _get_ok(sink)
    print(f"\n{port_name}: oversized header refused after {sent // 1024} KB sent, answer {status!r}")


def _ws_handshake(port: int) -> tuple[socket.socket, bytes, bytes]:
    s = _connect(port)
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (port, key))
    data = b""
    deadline = time.monotonic() + 5
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        part = s.recv(65536)
        if not part:
            break
        data += part
    head, _, rest = data.partition(b"\r\n\r\n")
    return s, head, rest


def _read_close_code(s: socket.socket, rest: bytes, timeout: float = 5) -> int | None:
    """Reads server frames (unmasked) until a close frame; returns its status code."""
    buf = rest
    deadline = time.monotonic() + timeout
    s.settimeout(timeout)
    while time.monotonic() < deadline:
        while len(buf) >= 2:
            opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
            hdr = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, hdr = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, hdr = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < hdr + n:
                break
            payload, buf = buf[hdr:hdr + n], buf[hdr + n:]
            if opcode == 0x8:
                return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
        part = s.recv(65536)
        if not part:
            return None
        buf += part
    return None


def test_too_many_websocket_clients_are_closed_with_1013_and_a_freed_slot_is_reused(limited_sink):
    """Beyond api.max_live_clients a client is accepted and closed at once with 1013 (try again
    later); the connected clients keep their feed, REST and ingest are unaffected, and once a
    client leaves a new one gets in."""
    sink = limited_sink
    live = []
    for _ in range(MAX_LIVE):
        s, head, _ = _ws_handshake(sink.api_port)
        assert head.startswith(b"HTTP/1.1 101"), head
        live.append(s)
    wait_until(lambda: f"observatory_live_clients {MAX_LIVE}" in sink.metrics_text(), timeout=5,
               desc=f"{MAX_LIVE} live clients")

    for _ in range(3):
        s, head, rest = _ws_handshake(sink.api_port)
        assert head.startswith(b"HTTP/1.1 101"), head
        assert _read_close_code(s, rest) == 1013
        s.close()
    assert f"observatory_live_clients {MAX_LIVE}" in sink.metrics_text()
    _post_ok(sink)
    _get_ok(sink)

    live.pop().close()
    wait_until(lambda: f"observatory_live_clients {MAX_LIVE - 1}" in sink.metrics_text(), timeout=10,
               desc="a slot freed")
    s, head, rest = _ws_handshake(sink.api_port)
    assert head.startswith(b"HTTP/1.1 101"), head
    s.settimeout(1)
    first = rest or s.recv(65536)
    assert first[:1] == b"\x81", first[:40]  # a text frame (the snapshot), not a close
    live.append(s)
    for s in live:
        s.close()
