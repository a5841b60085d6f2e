"""Zero loss end to end at about twice the rate the sink sustains (issue 8).

The sink runs with its DEFAULT limits (no configuration file). The test first measures what it
sustains on this machine: 8 concurrent posters of gzip protobuf bodies of 500 Claude-Code-shaped
records (what the collector sends), 6.5 s, the first 1.5 s not counted. Then the real
otelcol-contrib (filelog → batch → otlphttp, gzip protobuf, `retry_on_failure` that never gives
up and a `sending_queue` of 10 consumers) tails a file that the test fills at twice that rate for
15 s. The collector's own metrics (Prometheus pull reader) give the rate it actually read the file
at, which is the rate offered to the sink; the ratio offered / sustainable is printed and must be
at least 1.5 on the debug build CI runs (a faster build can outrun filelog on a small machine: then
the test warns with the ratio it reached, and still requires the sink to have been the bottleneck).

Asserted: every line arrives exactly once (each line has a unique `line.id`; the stored events
are read back from the database), every session's counters are exact, the collector neither
dropped nor permanently failed anything, and (at >= 1.5x) the collector really held a backlog of
more than 10 % of the lines (the sink was the bottleneck). 503/429 answers (the sink's overload answer, which the exporter
retries after Retry-After) and request latency are reported.
"""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
import requests
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from collector import LOGS_SCOPE, config_yaml
from conftest import wait_until
from test_sdk_exporters import _prom_value

N_SESSIONS = 8
FEED_SECONDS = 15
TARGET_RATIO = 2.0
MIN_RATIO = 1.5
MAX_LINES = 400_000  # keeps a fast build's run bounded


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kv(key: str, value) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


# --------------------------------------------------------------------------------------------
# The probe: what the sink sustains
# --------------------------------------------------------------------------------------------


def _probe_template(n: int) -> bytes:
    """One ExportLogsServiceRequest of n tool_result records whose ids all contain the 8-byte
    token PBxxxxxx, replaced per body (same length, so the protobuf stays valid)."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend([_kv("service.name", "claude-code"), _kv("service.version", "2.1.221")])
    sl = rl.scope_logs.add()
    sl.scope.name = LOGS_SCOPE
    now = time.time_ns()
    for i in range(n):
        r = sl.log_records.add()
        r.time_unix_nano = r.observed_time_unix_nano = now + i
        r.body.string_value = "claude_code.tool_result"
        r.attributes.extend([
            _kv("event.name", "tool_result"), _kv("event.timestamp", "2026-11-26T10:00:00.000Z"),
            _kv("event.sequence", i), _kv("session.id", f"probe-PBxxxxxx-{i % 4}"), _kv("user.id", "u1"),
            _kv("terminal.type", "tmux"), _kv("prompt.id", "PBxxxxxx"), _kv("tool_name", "Bash"),
            _kv("tool_use_id", f"toolu_PBxxxxxx_{i:06d}"), _kv("success", "true"), _kv("duration_ms", 12),
            _kv("decision_type", "accept"), _kv("decision_source", "config"), _kv("line.id", f"PBxxxxxx-{i}"),
        ])
    return req.SerializeToString()


def measure_sustainable(sink, seconds: float = 5.0, warmup: float = 1.5, threads: int = 8,
                        per_body: int = 500) -> dict:
    template = _probe_template(per_body)
    counter = iter(range(10 ** 6))
    lock = threading.Lock()
    stop = threading.Event()
    done: list[tuple[float, int]] = []  # (time answered, records)
    codes: Counter = Counter()

    def poster():
        http = requests.Session()
        while not stop.is_set():
            with lock:
                b = next(counter)
            body = gzip.compress(template.replace(b"PBxxxxxx", f"PB{b:06d}".encode()), 1)
            r = http.post(sink.ingest_url + "/v1/logs", data=body, timeout=60,
                          headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"})
            with lock:
                codes[r.status_code] += 1
                if r.status_code == 200:
                    done.append((time.monotonic(), per_body))
        http.close()

    ts = [threading.Thread(target=poster, daemon=True) for _ in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    time.sleep(warmup + seconds)
    stop.set()
    for t in ts:
        t.join(60)
    t1 = t0 + warmup
    t2 = t1 + seconds
    n = sum(k for at, k in done if t1 <= at < t2)
    return {"rate": n / seconds, "records": n, "codes": dict(codes), "total": sum(k for _, k in done)}


# --------------------------------------------------------------------------------------------
# The lines the collector reads
# --------------------------------------------------------------------------------------------


class Lines:
    """Claude-Code-shaped JSON lines (collector.claude_line's shape), made fast from templates;
    keeps what each session should end up with."""

    def __init__(self, run: str):
        self.run = run
        self.sids = [f"x2-{run}-{k}" for k in range(N_SESSIONS)]
        self.expected = {sid: Counter() for sid in self.sids}
        self.cost = {sid: 0.0 for sid in self.sids}
        self.n = 0

    def make(self, count: int) -> list[str]:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        out = []
        for _ in range(count):
            i = self.n
            self.n += 1
            sid = self.sids[i % N_SESSIONS]
            e = self.expected[sid]
            k = (i // N_SESSIONS) % 8
            common = (f'"event.timestamp": "{ts}", "event.sequence": {i}, "session.id": "{sid}", '
                      f'"user.id": "5f1c0a6b", "terminal.type": "tmux", "line.id": "{self.run}-{i}", '
                      f'"scope": "{LOGS_SCOPE}"')
            if k == 0:
                out.append(f'{{"event.name": "user_prompt", {common}, "prompt_length": "42", '
                           f'"prompt": "<REDACTED>", "body": "claude_code.user_prompt"}}')
                e["prompts"] += 1
            elif k in (1, 5):
                cost = 0.001 * (1 + i % 7)
                self.cost[sid] += cost
                out.append(f'{{"event.name": "api_request", {common}, "model": "claude-sonnet-4-5", '
                           f'"cost_usd": {cost}, "duration_ms": 2100, "input_tokens": {100 + i % 50}, '
                           f'"output_tokens": 20, "cache_read_tokens": 1000, "cache_creation_tokens": 0, '
                           f'"request_id": "req_{self.run}_{i}", "body": "claude_code.api_request"}}')
                e["apiRequests"] += 1
                e["inputTokens"] += 100 + i % 50
                e["outputTokens"] += 20
            else:
                ok = i % 13 != 0
                out.append(f'{{"event.name": "tool_result", {common}, "tool_name": "Bash", '
                           f'"tool_use_id": "toolu_{self.run}_{i}", "success": "{"true" if ok else "false"}", '
                           f'"duration_ms": 35, "body": "claude_code.tool_result"}}')
                e["toolCalls"] += 1
                e["toolErrors"] += 0 if ok else 1
            e["events"] += 1
        return out


class Writer(threading.Thread):
    """Appends lines to the file at `rate` lines/s, in slices every 50 ms, for `seconds`."""

    def __init__(self, path: Path, lines: list[str], rate: float, seconds: float):
        super().__init__(daemon=True)
        self.path, self.lines, self.rate, self.seconds = path, lines, rate, seconds
        self.written = 0
        self.elapsed = 0.0

    def run(self) -> None:
        t0 = time.monotonic()
        with open(self.path, "a") as f:
            while self.written < len(self.lines):
                due = min(len(self.lines), int((time.monotonic() - t0) * self.rate) + 1)
                if due > self.written:
                    f.write("".join(line + "\n" for line in self.lines[self.written:due]))
                    f.flush()
                    self.written = due
                if time.monotonic() - t0 > self.seconds + 30:
                    break
                time.sleep(0.05)
        self.elapsed = time.monotonic() - t0


def otelcol_metrics(port: int) -> str:
    return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


@pytest.mark.timeout(150)
def test_collector_delivers_everything_once_at_twice_the_sustainable_rate(sink, collector_factory, tmp_path):
    # 1. What the sink sustains here, at its default limits.
    probe = measure_sustainable(sink)
    sustainable = probe["rate"]
    assert sustainable > 0 and set(probe["codes"]) <= {200, 503, 429}, probe
    target = TARGET_RATIO * sustainable

    # 2. The collector, reporting its own counters.
    mport = _free_port()
    inp = tmp_path / "claude-events.jsonl"
    inp.touch()
    extra = ("    timeout: 30s\n"
             "    retry_on_failure:\n      enabled: true\n      initial_interval: 200ms\n      max_interval: 2s\n"
             "      max_elapsed_time: 0s\n      randomization_factor: 0\n"
             "    sending_queue:\n      enabled: true\n      num_consumers: 10\n      queue_size: 100000\n")
    cfg = config_yaml(inp, sink.ingest_url, batch=True, extra_exporter=extra)
    cfg = cfg.replace("    metrics:\n      level: none\n",
                      "    metrics:\n      level: detailed\n      readers:\n        - pull:\n            exporter:\n"
                      f"              prometheus:\n                host: 127.0.0.1\n                port: {mport}\n")
    col = collector_factory(cfg).start()
    col.wait_log("Everything is ready")

    lines_src = Lines(f"r{int(time.time())}")
    lines = lines_src.make(min(MAX_LINES, int(target * FEED_SECONDS)))
    text0 = sink.metrics_text()
    recv0 = _prom_value(text0, "observatory_records_received_total", signal="logs") or 0

    # 3. Feed at 2x; sample the collector's read count and queue, the sink's receive count.
    w = Writer(inp, lines, target, FEED_SECONDS)
    t0 = time.monotonic()
    w.start()
    samples = []
    while w.is_alive() or time.monotonic() - t0 < FEED_SECONDS:
        m = otelcol_metrics(mport)
        samples.append((time.monotonic() - t0,
                        _prom_value(m, "otelcol_receiver_accepted_log_records_total") or 0,
                        _prom_value(m, "otelcol_exporter_sent_log_records_total") or 0,
                        _prom_value(m, "otelcol_exporter_queue_size") or 0,
                        (_prom_value(sink.metrics_text(), "observatory_records_received_total", signal="logs") or 0) - recv0))
        time.sleep(0.5)
        if time.monotonic() - t0 > FEED_SECONDS + 30:
            break
    w.join(5)
    feed_s = w.elapsed
    assert w.written == len(lines), f"the writer wrote {w.written}/{len(lines)} lines in {feed_s:.1f}s"

    # 4. Everything delivered (bounded wait), then counted.
    n = len(lines)
    wait_until(lambda: (_prom_value(sink.metrics_text(), "observatory_records_received_total", signal="logs") or 0)
               - recv0 >= n, timeout=90, interval=0.5, desc=f"{n} records received by the sink")
    t_done = time.monotonic() - t0
    m = otelcol_metrics(mport)
    col_metrics = {k: _prom_value(m, k) for k in (
        "otelcol_receiver_accepted_log_records_total", "otelcol_receiver_refused_log_records_total",
        "otelcol_exporter_sent_log_records_total", "otelcol_exporter_send_failed_log_records_total",
        "otelcol_exporter_enqueue_failed_log_records_total")}
    assert col.stop() == 0, col.log_text()[-3000:]
    log = col.log_text()
    for bad in ("Permanent error", "Dropping data", "dropped", "enqueue_failed", "queue is full"):
        assert bad not in log, f"collector logged {bad!r}:\n{log[-3000:]}"

    # Exactly once: every line id stored once, nothing else stored for these sessions.
    db = sink.data_dir / "observatory.sqlite"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute(
            "SELECT json_extract(attributes, '$.\"line.id\"') FROM events WHERE session_id IN (%s)"
            % ",".join("?" * N_SESSIONS), lines_src.sids).fetchall()
    finally:
        con.close()
    stored = Counter(r[0] for r in rows)
    want = {f"{lines_src.run}-{i}" for i in range(n)}
    missing = want - stored.keys()
    doubled = [k for k, c in stored.items() if c > 1]
    foreign = stored.keys() - want
    assert not missing, f"{len(missing)} of {n} lines lost, e.g. {sorted(missing)[:5]}"
    assert not doubled, f"{len(doubled)} lines stored twice, e.g. {doubled[:5]}"
    assert not foreign, f"stored ids never written: {sorted(foreign)[:5]}"
    for sid in lines_src.sids:
        want_c = dict(lines_src.expected[sid])
        sess = sink.wait_counters(sid, timeout=15, **want_c)
        assert abs(sess["counters"]["costUSD"] - lines_src.cost[sid]) < 1e-6, (sess, lines_src.cost[sid])

    # The figures.
    text = sink.metrics_text()
    codes = {c: _prom_value(text, "observatory_requests_total", signal="logs", code=c) or 0
             for c in ("200", "429", "503")}
    dupes = _prom_value(text, "observatory_events_duplicate_total") or 0
    # Read rate while the writer was feeding: the collector's accepted count over the feed.
    feed = [s for s in samples if s[0] <= feed_s + 0.5] or samples
    read_rate = (feed[-1][1] - feed[0][1]) / max(0.1, feed[-1][0] - feed[0][0])
    sink_rate_feed = (feed[-1][4] - feed[0][4]) / max(0.1, feed[-1][0] - feed[0][0])
    max_backlog = max(s[1] - s[4] for s in samples)
    max_queue = max(s[3] for s in samples)
    ratio = read_rate / sustainable
    summary = (f"sustainable (probe, 8 posters x 500-record gzip bodies): {sustainable:,.0f} records/s "
               f"{probe['codes']}; target {target:,.0f}/s; file written at {n / feed_s:,.0f}/s ({n:,} lines in "
               f"{feed_s:.1f}s); collector read {read_rate:,.0f}/s = {ratio:.2f}x sustainable; sink received "
               f"{sink_rate_feed:,.0f}/s meanwhile ({read_rate / max(1, sink_rate_feed):.2f}x that); backlog in the collector up to {max_backlog:,.0f} records "
               f"(queue {max_queue:.0f} batches); all {n:,} delivered {t_done:.1f}s after the feed began; "
               f"sink answers {codes}, duplicates dropped {dupes:.0f}; collector {col_metrics}")
    print("\n" + summary)
    if ratio >= MIN_RATIO:
        assert max_backlog > 0.1 * n, f"the sink was never behind: {summary}"
    else:
        warnings.warn(f"filelog read only {ratio:.2f}x the sustainable rate on this machine (wanted "
                      f"{TARGET_RATIO}x): {summary}")
