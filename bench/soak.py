#!/usr/bin/env python3
"""Soak test: N simulated Claude Code agents against a real observatory-sink for a long time.

    .venv/bin/python bench/soak.py                       # 10 agents, 30 min, real rates
    .venv/bin/python bench/soak.py --agents 10 --duration 60 --speed 25   # compressed (CI-like)
    bench/soak.sh                                        # the same, picking the binary and python

Each agent behaves like a Claude Code session with the Observatory hooks installed:

* a prompt every 30-60 s (`UserPromptSubmit` hook + `claude_code.user_prompt` event); a turn of
  2-5 model calls (`api_request`) and tool calls (`tool_result`) spread over 30-70 % of the gap,
  ended by the `Stop` hook; then idle until the next prompt;
* now and then a permission prompt (`PermissionRequest` hook) answered after a few seconds (with
  `--long-waits`, 1 in 6 answered only after 75 s: that trips the default `agent-needs-approval`
  rule, `for: 1m`, once);
* occasional tool errors (at most 3 per session in any 150 s: never enough for the
  `tool-errors-burst` rule) and, in a fixed share of sessions, one burst of 6 failed tool calls in
  a turn (trips `tool-errors-burst` exactly once: the session has no other error after it);
  likewise occasional API errors (429s, which `api-errors-burst` ignores, and at most one 529 in
  5 min) and, in another share of sessions, 3 x 529 in a turn (trips `api-errors-burst` once);
* log records batched and exported every 5 s (the SDK's BatchLogRecordProcessor), hooks sent at
  once, `claude_code.cost.usage` / `claude_code.token.usage` delta counters every 10 s;
* sessions of 4-12 prompts ending with the `SessionEnd` hook, and a new session starting.

`--speed K` divides every agent interval by K (the 150 s / 5 min error caps are real time, the
alert windows are real time in the sink). Every POST that is not answered 200 is retried (Retry-After
honoured) as an exporter would; records are counted as acknowledged only on 200.

A sampler records every few seconds: RSS (/proc/PID/status), open fds (/proc/PID/fd), the sizes
of observatory.sqlite(-wal,-shm), the events in the database, /metrics counters; a live-feed
client on /ws and a poller of /api/alerts record every alert that fires. The summary compares:
RSS first/last/max and slope, fds, database bound vs store.max_events, alerts expected vs fired
(exactly once each, nothing else), records acknowledged vs received/stored/counted per session.

Exit status: 0 when every check passed, 1 otherwise (the summary says which failed).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

REPO_ROOT = Path(__file__).resolve().parent.parent
LOGS_SCOPE = "com.anthropic.claude_code.events"
METRICS_SCOPE = "com.anthropic.claude_code"
CC_VERSION = "2.1.221"
USER_ID = "5f1c0a6b3e2d4f7a9b8c1d2e3f4a5b6c"
MODEL = "claude-sonnet-4-5-20250929"
TOOLS = ("Bash", "Read", "Edit", "Grep", "Write", "Glob")


# ------------------------------------------------------------------------------------------
# OTLP bodies
# ------------------------------------------------------------------------------------------


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _resource(rl, attrs: dict[str, str]) -> None:
    rl.resource.attributes.extend([_kv(k, v) for k, v in attrs.items()])


CC_RESOURCE = {"service.name": "claude-code", "service.version": CC_VERSION, "os.type": "linux",
               "host.arch": "amd64"}


def logs_body(records: list[tuple[int, str, dict[str, Any]]]) -> bytes:
    """Claude Code events: (time_ns, body, attributes)."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    _resource(rl, CC_RESOURCE)
    sl = rl.scope_logs.add()
    sl.scope.name = LOGS_SCOPE
    sl.scope.version = CC_VERSION
    for t, body, attrs in records:
        rec = sl.log_records.add()
        rec.time_unix_nano = t
        rec.observed_time_unix_nano = t
        rec.body.string_value = body
        rec.attributes.extend([_kv(k, v) for k, v in attrs.items()])
    return req.SerializeToString()


def hook_body(t: int, attrs: dict[str, Any]) -> bytes:
    """What `observatory hook` sends: one `observatory.hook` record (OTLP/JSON there; protobuf
    here, the sink reads both the same)."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    _resource(rl, {"service.name": "observatory-hook"})
    sl = rl.scope_logs.add()
    sl.scope.name = "observatory.hook"
    rec = sl.log_records.add()
    rec.time_unix_nano = t
    rec.observed_time_unix_nano = t
    rec.severity_number = 9
    rec.severity_text = "INFO"
    rec.body.string_value = "observatory.hook"
    rec.attributes.extend([_kv(k, v) for k, v in attrs.items()])
    return req.SerializeToString()


def metrics_body(start_ns: int, end_ns: int, usage: dict[str, dict[str, float]]) -> tuple[bytes, int]:
    """Delta sums for each session with usage in the interval: cost.usage (USD) and token.usage
    by type, values as doubles (Claude Code's instruments have no value type). Returns the body
    and its number of data points."""
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    _resource(rm, CC_RESOURCE)
    sm = rm.scope_metrics.add()
    sm.scope.name = METRICS_SCOPE
    sm.scope.version = CC_VERSION
    cost = sm.metrics.add()
    cost.name, cost.unit = "claude_code.cost.usage", "USD"
    cost.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    cost.sum.is_monotonic = True
    tokens = sm.metrics.add()
    tokens.name, tokens.unit = "claude_code.token.usage", "tokens"
    tokens.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    tokens.sum.is_monotonic = True
    n = 0
    for sid, u in usage.items():
        base = [_kv("session.id", sid), _kv("user.id", USER_ID), _kv("terminal.type", "tmux"), _kv("model", MODEL),
                _kv("query_source", "main")]
        p = cost.sum.data_points.add()
        p.start_time_unix_nano, p.time_unix_nano, p.as_double = start_ns, end_ns, u["cost"]
        p.attributes.extend(base)
        n += 1
        for typ in ("input", "output", "cacheRead", "cacheCreation"):
            if u[typ]:
                p = tokens.sum.data_points.add()
                p.start_time_unix_nano, p.time_unix_nano, p.as_double = start_ns, end_ns, float(u[typ])
                p.attributes.extend(base + [_kv("type", typ)])
                n += 1
    return req.SerializeToString(), n


# ------------------------------------------------------------------------------------------
# Bookkeeping
# ------------------------------------------------------------------------------------------


@dataclass
class SessionBook:
    """What one simulated session sent and had acknowledged."""
    sid: str
    agent: int
    trip_tool: bool = False
    trip_api: bool = False
    expected_alerts: list = field(default_factory=list)  # rule ids, one entry per expected firing
    # acknowledged tallies (the sink's session counters must equal these)
    prompts: int = 0
    api_requests: int = 0
    api_errors: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    cost: float = 0.0
    tokens: Counter = field(default_factory=Counter)
    events: int = 0          # log records + hook records + metric points acknowledged
    metric_points: int = 0
    ended: bool = False


class Ledger:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[str, SessionBook] = {}
        self.statuses: Counter = Counter()
        self.records_acked: Counter = Counter()   # by signal (logs include hooks)
        self.posts_retried = 0
        self.failures: list[str] = []


# ------------------------------------------------------------------------------------------
# One simulated agent
# ------------------------------------------------------------------------------------------


class Agent(threading.Thread):
    def __init__(self, idx: int, ingest_url: str, ledger: Ledger, end_at: float, speed: float, seed: int,
                 long_waits: bool, trip_tool_every: int, trip_api_every: int, counter: "SessionCounter"):
        super().__init__(name=f"agent{idx}", daemon=True)
        self.idx = idx
        self.url = ingest_url
        self.ledger = ledger
        self.end_at = end_at
        self.speed = speed
        self.rng = random.Random(seed * 1000 + idx)
        self.long_waits = long_waits
        self.trip_tool_every = trip_tool_every
        self.trip_api_every = trip_api_every
        self.counter = counter
        self.http = requests.Session()
        self.log_buf: list[tuple[int, str, dict[str, Any], SessionBook, str]] = []
        self.usage: dict[str, dict[str, float]] = {}
        self.usage_books: dict[str, SessionBook] = {}
        self.metric_start_ns = time.time_ns()
        s = speed
        self.log_every = 5.0 / s
        self.metric_every = 10.0 / s
        now = time.monotonic()
        self.next_log_flush = now + self.log_every
        self.next_metric_flush = now + self.rng.uniform(0, self.metric_every)
        self.seq = 0
        self.stop_requested = False
        self.error_times: list[float] = []
        self.api_error_times: list[float] = []

    # -- time ---------------------------------------------------------------------------

    def left(self) -> float:
        return self.end_at - time.monotonic()

    def wait(self, dt: float) -> None:
        """Sleep dt seconds of real time, doing the periodic exports that fall due meanwhile."""
        until = time.monotonic() + max(0.0, dt)
        while True:
            now = time.monotonic()
            if now >= self.next_log_flush:
                self.flush_logs()
                self.next_log_flush = max(now, self.next_log_flush) + self.log_every
            if now >= self.next_metric_flush:
                self.flush_metrics()
                self.next_metric_flush = max(now, self.next_metric_flush) + self.metric_every
            now = time.monotonic()
            if now >= until:
                return
            time.sleep(max(0.0, min(until, self.next_log_flush, self.next_metric_flush) - now))

    # -- posting ------------------------------------------------------------------------

    def post(self, signal_name: str, body: bytes, deadline: float = 120.0) -> bool:
        """POST until answered 200 (as an exporter retries: Retry-After honoured), bounded."""
        give_up = time.monotonic() + deadline
        attempt = 0
        while time.monotonic() < give_up:
            attempt += 1
            try:
                r = self.http.post(f"{self.url}/v1/{signal_name}", data=body, timeout=15,
                                   headers={"Content-Type": "application/x-protobuf"})
                code: Any = r.status_code
            except requests.RequestException as e:
                code = f"error:{type(e).__name__}"
                r = None
                self.http.close()
                self.http = requests.Session()
            with self.ledger.lock:
                self.ledger.statuses[code] += 1
                if attempt > 1:
                    self.ledger.posts_retried += 1
            if code == 200:
                return True
            if code in (429, 503) and r is not None:
                time.sleep(min(float(r.headers.get("Retry-After") or 1), 5.0))
            elif isinstance(code, int):
                with self.ledger.lock:
                    self.ledger.failures.append(f"{signal_name} -> {code}: {r.text[:200] if r is not None else ''}")
                return False
            else:
                time.sleep(0.5)
        with self.ledger.lock:
            self.ledger.failures.append(f"{signal_name}: not acknowledged within {deadline}s")
        return False

    def flush_logs(self) -> None:
        if not self.log_buf:
            return
        buf, self.log_buf = self.log_buf, []
        body = logs_body([(t, b, a) for t, b, a, _, _ in buf])
        if self.post("logs", body):
            with self.ledger.lock:
                self.ledger.records_acked["logs"] += len(buf)
                for _, _, attrs, book, kind in buf:
                    book.events += 1
                    if kind == "user_prompt":
                        book.prompts += 1
                    elif kind == "api_request":
                        book.api_requests += 1
                        book.cost += attrs["cost_usd"]
                        for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens"):
                            book.tokens[k] += attrs[k]
                    elif kind == "api_error":
                        book.api_errors += 1
                    elif kind == "tool_result":
                        book.tool_calls += 1
                        if attrs["success"] == "false":
                            book.tool_errors += 1

    def flush_metrics(self) -> None:
        end_ns = time.time_ns()
        if not self.usage:
            self.metric_start_ns = end_ns
            return
        usage, self.usage = self.usage, {}
        books, self.usage_books = self.usage_books, {}
        body, n = metrics_body(self.metric_start_ns, end_ns, usage)
        self.metric_start_ns = end_ns
        if self.post("metrics", body):
            with self.ledger.lock:
                self.ledger.records_acked["metrics"] += n
                for sid, u in usage.items():
                    pts = 1 + sum(1 for typ in ("input", "output", "cacheRead", "cacheCreation") if u[typ])
                    books[sid].events += pts
                    books[sid].metric_points += pts

    def hook(self, book: SessionBook, event: str, **extra: Any) -> None:
        attrs = {"hook.event": event, "hook.agent": "claude-code", "session.id": book.sid,
                 "cwd": f"/home/dev/project{self.idx}", **extra}
        if self.post("logs", hook_body(time.time_ns(), attrs)):
            with self.ledger.lock:
                self.ledger.records_acked["logs"] += 1
                book.events += 1

    # -- events -------------------------------------------------------------------------

    def event(self, book: SessionBook, kind: str, prompt_id: str, **attrs: Any) -> None:
        self.seq += 1
        base = {"event.name": kind, "event.timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
                "event.sequence": self.seq, "session.id": book.sid, "user.id": USER_ID, "terminal.type": "tmux",
                "prompt.id": prompt_id}
        base.update(attrs)
        self.log_buf.append((time.time_ns(), "claude_code." + kind, base, book, kind))

    def api_request(self, book: SessionBook, pid: str) -> None:
        cost = round(self.rng.uniform(0.002, 0.03), 6)
        inp, out = self.rng.randint(50, 4000), self.rng.randint(20, 1500)
        cr, cc = self.rng.randint(0, 30000), self.rng.choice((0, 0, 0, self.rng.randint(1, 2000)))
        self.event(book, "api_request", pid, model=MODEL, cost_usd=cost, duration_ms=self.rng.randint(800, 9000),
                   input_tokens=inp, output_tokens=out, cache_read_tokens=cr, cache_creation_tokens=cc,
                   request_id="req_" + uuid.uuid4().hex[:24], query_source="main")
        u = self.usage.setdefault(book.sid, {"cost": 0.0, "input": 0, "output": 0, "cacheRead": 0, "cacheCreation": 0})
        self.usage_books[book.sid] = book
        u["cost"] += cost
        u["input"] += inp
        u["output"] += out
        u["cacheRead"] += cr
        u["cacheCreation"] += cc

    def tool_result(self, book: SessionBook, pid: str, success: bool) -> None:
        attrs: dict[str, Any] = {"tool_name": self.rng.choice(TOOLS), "tool_use_id": "toolu_" + uuid.uuid4().hex[:24],
                                 "success": "true" if success else "false",
                                 "duration_ms": self.rng.randint(3, 4000), "decision_type": "accept",
                                 "decision_source": "config", "tool_result_size_bytes": self.rng.randint(10, 9000)}
        if not success:
            attrs["error_type"] = "Error:ENOENT"
            self.error_times.append(time.monotonic())
        self.event(book, "tool_result", pid, **attrs)

    def api_error(self, book: SessionBook, pid: str, status: int) -> None:
        if status != 429:
            self.api_error_times.append(time.monotonic())
        self.event(book, "api_error", pid, model=MODEL, error="Overloaded" if status == 529 else "Rate limited",
                   status_code=status, duration_ms=30000, attempt=11, request_id="req_" + uuid.uuid4().hex[:24],
                   query_source="main")

    def occasional_tool_error_ok(self, book: SessionBook, tripped: bool) -> bool:
        if tripped:  # after its burst a session has no other tool error: the alert fires once
            return False
        now = time.monotonic()
        return sum(1 for t in self.error_times if now - t < 150) < 3

    # -- the agent's life ---------------------------------------------------------------

    def run(self) -> None:
        try:
            self.wait(self.rng.uniform(0, 5.0 / self.speed))
            while self.left() > 0 and not self.stop_requested:
                self.one_session()
                self.wait(self.rng.uniform(5, 20) / self.speed)
            self.flush_logs()
            self.flush_metrics()
        except Exception as e:  # noqa: BLE001 - reported in the summary
            with self.ledger.lock:
                self.ledger.failures.append(f"agent {self.idx} crashed: {e!r}")
            raise
        finally:
            self.http.close()

    def one_session(self) -> None:
        n = self.counter.next()
        book = SessionBook(sid=f"soak-{self.idx}-{uuid.uuid4()}", agent=self.idx)
        book.trip_tool = self.trip_tool_every > 0 and n % self.trip_tool_every == 1
        book.trip_api = self.trip_api_every > 0 and n % self.trip_api_every == 2
        with self.ledger.lock:
            self.ledger.sessions[book.sid] = book
        self.error_times, self.api_error_times = [], []
        self.hook(book, "SessionStart", source="startup")
        prompts = self.rng.randint(4, 12)
        trip_tool_at = self.rng.randint(1, min(3, prompts - 1)) if book.trip_tool else -1
        trip_api_at = self.rng.randint(1, min(3, prompts - 1)) if book.trip_api else -1
        tool_tripped = api_tripped = False
        for p in range(prompts):
            if self.left() <= 0:
                break
            gap = self.rng.uniform(30, 60) / self.speed
            turn = gap * self.rng.uniform(0.3, 0.7)
            t_turn_end = time.monotonic() + turn
            t_next_prompt = time.monotonic() + gap
            pid = str(uuid.uuid4())
            self.event(book, "user_prompt", pid, prompt_length=str(self.rng.randint(5, 800)), prompt="<REDACTED>")
            self.hook(book, "UserPromptSubmit", prompt_length=self.rng.randint(5, 800))
            calls = self.rng.randint(2, 5)
            steps: list[str] = []
            for _ in range(calls):
                steps.append("api")
                steps.extend(["tool"] * self.rng.randint(0, 3))
            permission_at = self.rng.randrange(len(steps)) if self.rng.random() < 0.25 else -1
            if p == trip_tool_at:
                steps[len(steps) // 2:len(steps) // 2] = ["burst"]
            if p == trip_api_at:
                steps[1:1] = ["api-burst"]
            step_dt = turn / (len(steps) + 1)
            for i, step in enumerate(steps):
                self.wait(step_dt)
                if i == permission_at:
                    long = self.long_waits and self.rng.random() < 1 / 6
                    self.hook(book, "PermissionRequest", tool_name="Bash")
                    if long:
                        book.expected_alerts.append("agent-needs-approval")
                        self.wait(75.0)
                        t_turn_end = time.monotonic() + turn / 2
                        t_next_prompt = t_turn_end + gap - turn
                    else:
                        self.wait(self.rng.uniform(2, 12) / self.speed)
                    self.tool_result(book, pid, True)
                    continue
                if step == "api":
                    self.api_request(book, pid)
                    if self.rng.random() < 0.05:
                        self.api_error(book, pid, 429)
                    elif (not book.trip_api or api_tripped) and self.rng.random() < 0.03 and not api_tripped \
                            and sum(1 for t in self.api_error_times if time.monotonic() - t < 330) < 1:
                        self.api_error(book, pid, 529)
                elif step == "tool":
                    fail = self.rng.random() < 0.08 and not tool_tripped and self.occasional_tool_error_ok(book, tool_tripped)
                    self.tool_result(book, pid, not fail)
                elif step == "burst":
                    for _ in range(6):
                        self.tool_result(book, pid, False)
                    tool_tripped = True
                    book.expected_alerts.append("tool-errors-burst")
                elif step == "api-burst":
                    for _ in range(3):
                        self.api_error(book, pid, 529)
                    api_tripped = True
                    book.expected_alerts.append("api-errors-burst")
            self.wait(max(0.0, t_turn_end - time.monotonic()))
            self.hook(book, "Stop")
            self.wait(max(0.0, t_next_prompt - time.monotonic()))
        self.hook(book, "SessionEnd", reason="exit")
        book.ended = True


class SessionCounter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.n = 0

    def next(self) -> int:
        with self.lock:
            self.n += 1
            return self.n


# ------------------------------------------------------------------------------------------
# Live feed (/ws) client: a minimal RFC 6455 client on a socket
# ------------------------------------------------------------------------------------------


class LiveClient(threading.Thread):
    """Keeps a /ws connection, as an open dashboard does, and records every `alert` message."""

    def __init__(self, host: str, port: int, stop: threading.Event):
        super().__init__(name="ws", daemon=True)
        self.host, self.port, self.stop_event = host, port, stop
        self.alert_msgs: list[dict] = []
        self.counts: Counter = Counter()
        self.last_seq = 0
        self.connects = 0
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.session()
            except (OSError, ValueError) as e:
                if self.stop_event.is_set():
                    return
                self.errors.append(repr(e))
                self.stop_event.wait(1.0)

    def session(self) -> None:
        s = socket.create_connection((self.host, self.port), timeout=10)
        s.settimeout(1.0)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            path = "/ws" + (f"?since={self.last_seq}" if self.last_seq else "")
            s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = self._recv(s)
                if chunk is None:
                    continue
                if not chunk:
                    raise ValueError("closed during the handshake")
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            if b" 101 " not in head.split(b"\r\n")[0]:
                raise ValueError(f"upgrade refused: {head[:200]!r}")
            self.connects += 1
            frags: list[bytes] = []
            while not self.stop_event.is_set():
                frame = self._frame(s, buf)
                if frame is None:
                    buf = b""
                    continue
                (fin, opcode, payload), buf = frame
                if opcode == 8:
                    return
                if opcode == 9:
                    self._send(s, 10, payload)
                    continue
                if opcode in (1, 0):
                    frags.append(payload)
                    if fin:
                        self.message(json.loads(b"".join(frags)))
                        frags = []
                        if self._resync:
                            self._resync = False
                            return
        finally:
            s.close()

    _resync = False

    def message(self, m: dict) -> None:
        t = m.get("type")
        if t == "batch":  # several messages in one frame, in order
            for inner in m.get("messages") or []:
                self.message(inner)
            return
        self.counts[t] += 1
        if t in ("event", "session", "snapshot") and isinstance(m.get("seq"), int):
            self.last_seq = max(self.last_seq, m["seq"])
        if t == "alert":
            self.alert_msgs.append(m["alert"])
        elif t == "snapshot":
            self.alert_msgs.extend(m.get("alerts") or [])
        elif t == "resync":
            self._resync = True

    def _recv(self, s: socket.socket) -> bytes | None:
        try:
            return s.recv(65536)
        except socket.timeout:
            return None

    def _read(self, s: socket.socket, buf: bytes, n: int) -> tuple[bytes, bytes] | None:
        while len(buf) < n:
            if self.stop_event.is_set():
                raise OSError("stopped")
            chunk = self._recv(s)
            if chunk is None:
                continue
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
        return buf[:n], buf[n:]

    def _frame(self, s: socket.socket, buf: bytes):
        h, buf = self._read(s, buf, 2)
        fin, opcode, masked, ln = h[0] >> 7, h[0] & 0x0F, h[1] >> 7, h[1] & 0x7F
        if ln == 126:
            x, buf = self._read(s, buf, 2)
            ln = struct.unpack("!H", x)[0]
        elif ln == 127:
            x, buf = self._read(s, buf, 8)
            ln = struct.unpack("!Q", x)[0]
        mask = b""
        if masked:
            mask, buf = self._read(s, buf, 4)
        payload, buf = self._read(s, buf, ln)
        if masked:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return (bool(fin), opcode, payload), buf

    @staticmethod
    def _send(s: socket.socket, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        s.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + data)

    def firings(self) -> set[tuple[str, int]]:
        return {(a["id"], a["episode"]) for a in self.alert_msgs
                if a.get("episode", 0) >= 1 and a.get("state") in ("firing", "recovering", "resolved")
                and a.get("firingSince")}


# ------------------------------------------------------------------------------------------
# Sampling
# ------------------------------------------------------------------------------------------


def prom(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(\S+?)\s+(\S+)$", line) or re.match(r"^(\S+\{.*\})\s+(\S+)$", line)
        if m:
            try:
                out[m.group(1)] = float(m.group(2))
            except ValueError:
                pass
    return out


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    return out


def fd_counts(pid: int) -> tuple[int, int]:
    """(all open fds, sockets among them): sockets follow the clients connected, the rest
    (database files, pipes, event fds) must not grow."""
    d = f"/proc/{pid}/fd"
    total = sockets = 0
    for name in os.listdir(d):
        try:
            target = os.readlink(f"{d}/{name}")
        except OSError:
            continue
        total += 1
        sockets += target.startswith("socket:")
    return total, sockets


def db_sizes(data_dir: Path) -> dict[str, int]:
    out = {}
    for suffix in ("", "-wal", "-shm"):
        p = data_dir / f"observatory.sqlite{suffix}"
        out["db" + suffix] = p.stat().st_size if p.exists() else 0
    return out


def db_event_count(data_dir: Path) -> int | None:
    try:
        con = sqlite3.connect(f"file:{data_dir / 'observatory.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None


class Sampler(threading.Thread):
    def __init__(self, pid: int, api_url: str, data_dir: Path, interval: float, stop: threading.Event,
                 out=None):
        super().__init__(name="sampler", daemon=True)
        self.pid, self.api_url, self.data_dir, self.interval, self.stop_event = pid, api_url, data_dir, interval, stop
        self.samples: list[dict] = []
        self.alerts_seen: dict[tuple[str, int], dict] = {}
        self.http = requests.Session()
        self.t0 = time.monotonic()
        self.out = out
        self.errors: list[str] = []

    def sample(self) -> dict:
        st = proc_status(self.pid)
        m = prom(self.http.get(self.api_url + "/metrics", timeout=10).text)
        alerts = self.http.get(self.api_url + "/api/alerts", timeout=10).json()["alerts"]
        for a in alerts:
            if a.get("episode", 0) >= 1 and a.get("firingSince"):
                self.alerts_seen.setdefault((a["id"], a["episode"]), a)
        fds, sockets = fd_counts(self.pid)
        s = {"t": round(time.monotonic() - self.t0, 2), "rss_mb": st["VmRSS"] / 1024, "hwm_mb": st["VmHWM"] / 1024,
             "threads": st.get("Threads"), "fds": fds, "fd_sockets": sockets, "fd_other": fds - sockets,
             **db_sizes(self.data_dir),
             "db_events": db_event_count(self.data_dir),
             "stored": m.get("observatory_events_stored_total", 0), "pruned": m.get("observatory_events_pruned_total", 0),
             "received_logs": m.get('observatory_records_received_total{signal="logs"}', 0),
             "received_metrics": m.get('observatory_records_received_total{signal="metrics"}', 0),
             "duplicates": m.get("observatory_events_duplicate_total", 0),
             "commit_queue": m.get("observatory_commit_queue_events", 0),
             "alerts_active": m.get("observatory_alerts_active", 0)}
        self.samples.append(s)
        if self.out:
            self.out.write(json.dumps(s) + "\n")
            self.out.flush()
        return s

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.sample()
            except (requests.RequestException, OSError, ValueError, KeyError) as e:
                self.errors.append(repr(e))
            self.stop_event.wait(self.interval)


# ------------------------------------------------------------------------------------------
# The run and its summary
# ------------------------------------------------------------------------------------------


def slope_mb_per_h(samples: list[dict]) -> float:
    if len(samples) < 2:
        return 0.0
    xs = [s["t"] for s in samples]
    ys = [s["rss_mb"] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den * 3600


@dataclass
class SoakConfig:
    agents: int = 10
    duration: float = 1800.0
    speed: float = 1.0
    seed: int = 1
    sample_every: float = 5.0
    long_waits: bool = True
    trip_tool_every: int = 3
    trip_api_every: int = 5
    max_events: int = 5000
    rss_growth_mb: float = 10.0      # bound on RSS growth over the second half
    fd_spread: int = 5


class Soak:
    """Drives the agents against a running sink and checks the outcome."""

    def __init__(self, cfg: SoakConfig, ingest_url: str, api_url: str, pid: int, data_dir: Path,
                 samples_out=None, log=print):
        self.cfg, self.ingest_url, self.api_url, self.pid, self.data_dir = cfg, ingest_url, api_url, pid, data_dir
        self.samples_out = samples_out
        self.log = log
        self.ledger = Ledger()

    def run(self) -> dict:
        cfg = self.cfg
        stop = threading.Event()
        api_port = int(self.api_url.rsplit(":", 1)[1])
        live = LiveClient("127.0.0.1", api_port, stop)
        live.start()
        sampler = Sampler(self.pid, self.api_url, self.data_dir, cfg.sample_every, stop, self.samples_out)
        sampler.start()
        t_start = time.monotonic()
        end_at = t_start + cfg.duration
        counter = SessionCounter()
        agents = [Agent(i, self.ingest_url, self.ledger, end_at, cfg.speed, cfg.seed, cfg.long_waits,
                        cfg.trip_tool_every, cfg.trip_api_every, counter) for i in range(cfg.agents)]
        for a in agents:
            a.start()
        last_report = t_start
        while any(a.is_alive() for a in agents):
            time.sleep(1.0)
            if time.monotonic() - last_report >= 60 and sampler.samples:
                last_report = time.monotonic()
                s = sampler.samples[-1]
                self.log(f"[{s['t']:7.0f}s] rss {s['rss_mb']:.1f} MB, fds {s['fds']}, db events {s['db_events']}, "
                         f"db {s['db'] / 1e6:.2f}+{s['db-wal'] / 1e6:.2f} MB, stored {s['stored']:.0f}, "
                         f"alerts seen {len(sampler.alerts_seen)}, sessions {len(self.ledger.sessions)}")
            if time.monotonic() > end_at + 240:  # a long permission wait plus a slow post, bounded
                for a in agents:
                    a.stop_requested = True
                if time.monotonic() > end_at + 400:
                    self.ledger.failures.append("agents did not finish within 400 s of the end")
                    break
        load_s = time.monotonic() - t_start
        # Let the last commits, the rule engine and a retention pass settle, then sample once more.
        self.settle(sampler)
        stop.set()
        sampler.join(15)
        live.join(15)
        return self.summary(sampler, live, load_s)

    def settle(self, sampler: Sampler) -> None:
        acked = sum(self.ledger.records_acked.values())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            s = sampler.sample()
            if s["received_logs"] + s["received_metrics"] >= acked and s["commit_queue"] == 0:
                break
            time.sleep(0.5)
        # A retention pass after the load (every 60 s in the sink): the database is then at the bound.
        pruned0 = sampler.samples[-1]["pruned"]
        deadline = time.monotonic() + 130  # two intervals: a pass may have run just before the load ended
        while time.monotonic() < deadline:
            s = sampler.sample()
            if s["pruned"] > pruned0 or (s["db_events"] or 0) <= self.cfg.max_events:
                break
            time.sleep(1.0)
        time.sleep(1.5)  # alerts of the last events (the engine runs after the commit)
        sampler.sample()

    def summary(self, sampler: Sampler, live: LiveClient, load_s: float) -> dict:
        cfg, led = self.cfg, self.ledger
        samples = sampler.samples
        load = [s for s in samples if s["t"] <= load_s] or samples
        second_half = [s for s in load if s["t"] >= load_s / 2] or load
        rss = [s["rss_mb"] for s in load]
        fds = [s["fds"] for s in load]
        fds_2 = [s["fds"] for s in second_half]
        other_2 = [s["fd_other"] for s in second_half]
        last = samples[-1]
        http = requests.Session()
        got = {x["id"]: x for x in http.get(self.api_url + "/api/sessions", timeout=30).json()["sessions"]}
        http.close()

        # Records: acknowledged vs received/stored/counted
        acked = dict(led.records_acked)
        acked_total = sum(acked.values())
        received = last["received_logs"] + last["received_metrics"]
        stored = last["stored"]
        missing_sessions, counter_mismatch = [], []
        for sid, b in led.sessions.items():
            s = got.get(sid)
            if s is None:
                missing_sessions.append(sid)
                continue
            c = s["counters"]
            want = {"events": b.events, "prompts": b.prompts, "apiRequests": b.api_requests, "apiErrors": b.api_errors,
                    "toolCalls": b.tool_calls, "toolErrors": b.tool_errors,
                    "inputTokens": b.tokens["input_tokens"], "outputTokens": b.tokens["output_tokens"],
                    "cacheReadTokens": b.tokens["cache_read_tokens"],
                    "cacheCreationTokens": b.tokens["cache_creation_tokens"]}
            bad = {k: (c.get(k), v) for k, v in want.items() if c.get(k) != v}
            if abs((c.get("costUSD") or 0) - b.cost) > 1e-6:
                bad["costUSD"] = (c.get("costUSD"), round(b.cost, 6))
            if bad:
                counter_mismatch.append((sid, bad))
        counted_events = sum(got[sid]["counters"]["events"] for sid in led.sessions if sid in got)

        # Alerts: expected (rule, session) vs fired (id, episode), from /api/alerts polls and /ws
        expected = Counter()
        for sid, b in led.sessions.items():
            for rule in b.expected_alerts:
                expected[f"{rule}|{sid}"] += 1
        fired_api = Counter(aid for aid, _ in sampler.alerts_seen)
        fired_ws = Counter(aid for aid, _ in live.firings())
        missing_alerts = sorted(set(expected) - set(fired_api))
        unexpected_alerts = sorted(set(fired_api) - set(expected))
        repeated = sorted(k for k, v in fired_api.items() if v != expected.get(k, 0) and k in expected)
        ws_diff = sorted(set(fired_ws) ^ set(fired_api))

        db_events_max = max((s["db_events"] or 0) for s in samples)
        retention_slack = None
        out = {
            "agents": cfg.agents, "duration_s": round(load_s, 1), "speed": cfg.speed,
            "sessions": len(led.sessions), "sessions_ended": sum(b.ended for b in led.sessions.values()),
            "samples": len(samples),
            "rss_mb": {"first": round(rss[0], 1), "last": round(rss[-1], 1), "max": round(max(rss), 1),
                       "second_half_growth": round(second_half[-1]["rss_mb"] - second_half[0]["rss_mb"], 2),
                       "second_half_range": round(max(s["rss_mb"] for s in second_half) - min(s["rss_mb"] for s in second_half), 2),
                       "slope_mb_per_h_all": round(slope_mb_per_h(load), 2),
                       "slope_mb_per_h_second_half": round(slope_mb_per_h(second_half), 2),
                       "hwm": round(last["hwm_mb"], 1)},
            "fds": {"min": min(fds), "max": max(fds), "second_half_min": min(fds_2), "second_half_max": max(fds_2),
                    "first": samples[0]["fds"], "last": last["fds"],
                    "other_min": min(s["fd_other"] for s in load), "other_max": max(s["fd_other"] for s in load),
                    "other_second_half_min": min(other_2), "other_second_half_max": max(other_2),
                    "sockets_max": max(s["fd_sockets"] for s in load)},
            "threads": {"min": min(s["threads"] for s in load), "max": max(s["threads"] for s in load)},
            "db": {"max_events": cfg.max_events, "db_events_max": db_events_max, "db_events_end": last["db_events"],
                   "db_bytes_max": max(s["db"] for s in samples), "wal_bytes_max": max(s["db-wal"] for s in samples),
                   "db_bytes_end": last["db"], "wal_bytes_end": last["db-wal"], "pruned": last["pruned"],
                   "stored_total": stored},
            "records": {"acked": acked, "acked_total": acked_total, "received": received, "stored": stored,
                        "duplicates": last["duplicates"], "counted_in_sessions": counted_events,
                        "sessions_missing": len(missing_sessions), "sessions_counter_mismatch": len(counter_mismatch),
                        "posts": dict(led.statuses), "posts_retried": led.posts_retried},
            "alerts": {"expected": sum(expected.values()),
                       "expected_by_rule": dict(Counter(k.split("|")[0] for k in expected.elements())),
                       "fired": sum(fired_api.values()),
                       "fired_by_rule": dict(Counter(k.split("|")[0] for k in fired_api.elements())),
                       "fired_ws": sum(fired_ws.values()), "missing": missing_alerts[:10],
                       "unexpected": unexpected_alerts[:10], "wrong_count": repeated[:10], "ws_vs_api_diff": ws_diff[:10],
                       "ws_connects": live.connects, "ws_messages": dict(live.counts)},
            "failures": led.failures[:10] + sampler.errors[:5],
        }
        checks = {
            "no failed posts": not led.failures,
            "rss growth over 2nd half <= %.0f MB" % cfg.rss_growth_mb:
                out["rss_mb"]["second_half_growth"] <= cfg.rss_growth_mb,
            "non-socket fds flat (2nd half spread <= %d)" % cfg.fd_spread: max(other_2) - min(other_2) <= cfg.fd_spread,
            "fds back to the start once the agents closed (+%d)" % cfg.fd_spread:
                last["fds"] <= samples[0]["fds"] + cfg.fd_spread,
            "sockets bounded by the clients (agents + 2 + %d)" % cfg.fd_spread:
                max(s["fd_sockets"] for s in load) <= cfg.agents + 2 + 4 + cfg.fd_spread,
            "db events <= max_events after retention": (last["db_events"] or 0) <= cfg.max_events,
            "every acked record received": received == acked_total,
            "every acked record stored once": stored == acked_total and last["duplicates"] == 0,
            "every acked record counted in its session": counted_events == acked_total and not counter_mismatch
                                                         and not missing_sessions,
            "every expected alert fired exactly once": not missing_alerts and not repeated,
            "no unexpected alerts": not unexpected_alerts,
            "the live feed saw the same firings": not ws_diff,
        }
        out["checks"] = checks
        out["ok"] = all(checks.values())
        out["counter_mismatch_examples"] = counter_mismatch[:3]
        _ = retention_slack
        return out


def format_summary(s: dict) -> str:
    r, f, d, rec, al = s["rss_mb"], s["fds"], s["db"], s["records"], s["alerts"]
    lines = [
        f"soak: {s['agents']} agents, {s['duration_s']:.0f} s of load (speed x{s['speed']:g}), {s['sessions']} sessions "
        f"({s['sessions_ended']} ended), {s['samples']} samples",
        f"  RSS MB    first {r['first']}  last {r['last']}  max {r['max']}  (HWM {r['hwm']});  2nd half growth "
        f"{r['second_half_growth']:+} (range {r['second_half_range']});  slope {r['slope_mb_per_h_all']:+} MB/h "
        f"(2nd half {r['slope_mb_per_h_second_half']:+} MB/h)",
        f"  fds       min {f['min']}  max {f['max']}  (first {f['first']}, last {f['last']}; non-socket {f['other_min']}-"
        f"{f['other_max']}, 2nd half {f['other_second_half_min']}-{f['other_second_half_max']}; sockets max {f['sockets_max']});"
        f"  threads {s['threads']['min']}-{s['threads']['max']}",
        f"  database  events max {d['db_events_max']} / end {d['db_events_end']} (store.max_events {d['max_events']}), "
        f"pruned {d['pruned']:.0f} of {d['stored_total']:.0f};  file max {d['db_bytes_max'] / 1e6:.2f} MB + WAL max "
        f"{d['wal_bytes_max'] / 1e6:.2f} MB (end {d['db_bytes_end'] / 1e6:.2f} + {d['wal_bytes_end'] / 1e6:.2f})",
        f"  records   acked {rec['acked_total']} {rec['acked']}; received {rec['received']:.0f}; stored {rec['stored']:.0f}; "
        f"duplicates {rec['duplicates']:.0f}; counted in sessions {rec['counted_in_sessions']}; "
        f"sessions missing {rec['sessions_missing']}, counter mismatches {rec['sessions_counter_mismatch']}",
        f"            posts {rec['posts']} (retried {rec['posts_retried']})",
        f"  alerts    expected {al['expected']} {al['expected_by_rule']}; fired {al['fired']} {al['fired_by_rule']}; "
        f"via /ws {al['fired_ws']} ({al['ws_connects']} connection(s))",
    ]
    for k in ("missing", "unexpected", "wrong_count", "ws_vs_api_diff"):
        if al[k]:
            lines.append(f"            {k}: {al[k]}")
    if s["failures"]:
        lines.append(f"  failures  {s['failures']}")
    if s.get("counter_mismatch_examples"):
        lines.append(f"  counter mismatches e.g. {s['counter_mismatch_examples']}")
    for name, ok in s["checks"].items():
        lines.append(f"  [{'ok' if ok else 'FAIL'}] {name}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# Running the sink
# ------------------------------------------------------------------------------------------


def default_binary() -> Path:
    env = os.environ.get("OBSERVATORY_SINK_BIN")
    if env:
        p = Path(env)
        return p if p.is_absolute() else REPO_ROOT / p
    rel = REPO_ROOT / ".build-release/release/observatory-sink"
    return rel if rel.is_file() else REPO_ROOT / ".build/debug/observatory-sink"


def start_sink(binary: Path, workdir: Path, max_events: int, rules_dir: Path) -> tuple[subprocess.Popen, dict, Path]:
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "soak.yaml"
    cfg.write_text(f"store: {{ max_events: {max_events} }}\n")
    ready = workdir / "ready.json"
    log = open(workdir / "sink.log", "ab")
    proc = subprocess.Popen([str(binary), "--config", str(cfg), "--data-dir", str(data), "--ingest-port", "0",
                             "--api-port", "0", "--rules-dir", str(rules_dir), "--ready-file", str(ready)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the sink exited with {proc.returncode}; see {workdir / 'sink.log'}")
        try:
            ports = json.loads(ready.read_text())
            if ports.get("ingest") and ports.get("api"):
                return proc, ports, data
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the sink wrote no ready file within 30 s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--duration", type=float, default=1800, help="seconds of load (default 1800)")
    ap.add_argument("--speed", type=float, default=1.0, help="divide every agent interval by this")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample-every", type=float, default=5.0)
    ap.add_argument("--max-events", type=int, default=5000, help="store.max_events (at least 1000)")
    ap.add_argument("--no-long-waits", action="store_true", help="no 75 s permission waits")
    ap.add_argument("--sink-bin", type=Path, default=None, help="default: release build if present, else debug")
    ap.add_argument("--rules-dir", type=Path, default=REPO_ROOT / "rules")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the summary as JSON here")
    args = ap.parse_args()

    binary = (args.sink_bin or default_binary()).resolve()
    if not binary.is_file():
        print(f"no sink binary at {binary}: swift build", file=sys.stderr)
        return 2
    newest_source = max((f.stat().st_mtime for f in (REPO_ROOT / "Sources").rglob("*.swift")), default=0)
    if binary.stat().st_mtime < newest_source:
        print(f"warning: {binary} is older than the newest file in Sources/ (a stale build?)", file=sys.stderr)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="observatory-soak."))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = SoakConfig(agents=args.agents, duration=args.duration, speed=args.speed, seed=args.seed,
                     sample_every=args.sample_every, max_events=args.max_events,
                     long_waits=not args.no_long_waits and args.speed <= 2)
    print(f"sink {binary} (modified {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}), "
          f"rules {args.rules_dir}, work dir {workdir}", flush=True)
    proc, ports, data = start_sink(binary, workdir, args.max_events, args.rules_dir)
    try:
        with open(workdir / "samples.jsonl", "w") as out:
            soak = Soak(cfg, f"http://127.0.0.1:{ports['ingest']}", f"http://127.0.0.1:{ports['api']}", proc.pid,
                        data, samples_out=out, log=lambda m: print(m, flush=True))
            summary = soak.run()
        summary["binary"] = str(binary)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    print(format_summary(summary), flush=True)
    (workdir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1, default=str))
    print(f"samples: {workdir / 'samples.jsonl'}; summary: {workdir / 'summary.json'}; sink log: {workdir / 'sink.log'}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
