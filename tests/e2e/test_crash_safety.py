"""Crash safety and overload, proved by counting.

* kill -9 at random moments under concurrent load, several times, restarting on the same data
  directory and port: every record the sink answered 200 for is stored, exactly once.
* Overload: with a small in-flight limit the receiver answers 503 with Retry-After instead of
  holding more bodies, memory stays bounded, and clients that honour Retry-After get everything
  stored exactly once.

Records are Claude-Code-shaped `claude_code.tool_result` log records, each with a unique
`tool_use_id`, encoded with the opentelemetry-proto classes the OTLP/HTTP exporter serializes with.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from conftest import wait_until

LOGS_SCOPE = "com.anthropic.claude_code.events"


def _kv(key: str, value) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def tool_results_body(session_id: str, ids: list[str], first_seq: int) -> bytes:
    """One ExportLogsServiceRequest with a `claude_code.tool_result` record per id."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend([_kv("service.name", "claude-code"), _kv("service.version", "2.1.221")])
    sl = rl.scope_logs.add()
    sl.scope.name = LOGS_SCOPE
    now = time.time_ns()
    for i, rid in enumerate(ids):
        rec = sl.log_records.add()
        rec.time_unix_nano = now + i
        rec.observed_time_unix_nano = now + i
        rec.body.string_value = "claude_code.tool_result"
        rec.attributes.extend([
            _kv("event.name", "tool_result"), _kv("session.id", session_id), _kv("event.sequence", first_seq + i),
            _kv("tool_name", "Bash"), _kv("tool_use_id", rid), _kv("success", "true"), _kv("duration_ms", 12),
        ])
    return req.SerializeToString()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Ledger:
    """What the posters sent and what the sink acknowledged, by record id."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempted: set = field(default_factory=set)
    acked: set = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    retry_after: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)


class Poster(threading.Thread):
    """Posts bodies of `per_request` unique records for one session until told to stop. A body that
    is not answered 200 (connection refused or reset by the kill, 503) is posted again, as an
    exporter would, so an unacknowledged body that was stored before the kill exercises the
    deduplication; an acknowledged body is never posted again."""

    def __init__(self, name: str, url_of, ledger: Ledger, stop: threading.Event, per_request: int,
                 honour_retry_after: bool = False, deadline: float = 60.0):
        super().__init__(name=name, daemon=True)
        self.session_id = f"crash-{name}-{os.urandom(4).hex()}"
        self.url_of = url_of
        self.ledger = ledger
        self.stop_event = stop
        self.per_request = per_request
        self.honour_retry_after = honour_retry_after
        self.deadline = time.monotonic() + deadline
        self.sent = 0

    def run(self) -> None:
        http = requests.Session()
        n = 0
        try:
            while not self.stop_event.is_set() and time.monotonic() < self.deadline:
                ids = [f"{self.name}-{n + i}" for i in range(self.per_request)]
                body = tool_results_body(self.session_id, ids, n + 1)
                n += self.per_request
                with self.ledger.lock:
                    self.ledger.attempted.update(ids)
                # Retry this body until acknowledged; bounded by the poster's deadline.
                while time.monotonic() < self.deadline:
                    try:
                        r = http.post(self.url_of() + "/v1/logs", data=body, timeout=10,
                                      headers={"Content-Type": "application/x-protobuf"})
                    except requests.RequestException:
                        with self.ledger.lock:
                            self.ledger.statuses["conn-error"] += 1
                        http.close()
                        http = requests.Session()
                        time.sleep(0.02)
                        continue
                    with self.ledger.lock:
                        self.ledger.statuses[r.status_code] += 1
                    if r.status_code == 200:
                        with self.ledger.lock:
                            self.ledger.acked.update(ids)
                        self.sent += 1
                        break
                    if r.status_code in (429, 503):
                        ra = r.headers.get("Retry-After")
                        with self.ledger.lock:
                            self.ledger.retry_after[ra] += 1
                        time.sleep(min(float(ra), 1.0) if self.honour_retry_after and ra else 0.01)
                        continue
                    with self.ledger.lock:
                        self.ledger.errors.append((r.status_code, r.text[:200]))
                    return
        finally:
            http.close()


def stored_ids(sink, session_id: str) -> list[str]:
    return [e["attributes"]["tool_use_id"] for e in sink.all_events(session_id, limit=1000, max_pages=200)]


def check_ledger(sink, posters: list[Poster], ledger: Ledger) -> dict:
    """Every acknowledged id stored, nothing stored twice, nothing stored that was never sent."""
    stored: Counter = Counter()
    for p in posters:
        stored.update(stored_ids(sink, p.session_id))
    dupes = [k for k, c in stored.items() if c > 1]
    missing = ledger.acked - stored.keys()
    unknown = stored.keys() - ledger.attempted
    assert not ledger.errors, f"unexpected answers: {ledger.errors[:5]}"
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:10]}"
    assert not dupes, f"{len(dupes)} records stored more than once, e.g. {dupes[:10]}"
    assert not unknown, f"stored records that were never sent: {sorted(unknown)[:10]}"
    for p in posters:  # the session's counter agrees with its events
        ids = [i for i in stored if i.startswith(p.name + "-")]
        sess = sink.session(p.session_id)
        assert sess is not None and sess["counters"]["toolCalls"] == len(ids), (p.session_id, sess, len(ids))
    return dict(acked=len(ledger.acked), stored=sum(stored.values()), attempted=len(ledger.attempted))


def test_kill9_under_concurrent_load_loses_no_acknowledged_record(sink_factory):
    """6 posters × 25-record bodies against one sink; 5 times: run 0.4–2 s, kill -9, restart on the
    same data dir and port. Then every acknowledged record is stored exactly once."""
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    port = _free_port()
    sink = sink_factory.new()
    sink.start(ingest_port=port)
    url = f"http://127.0.0.1:{port}"
    ledger, stop = Ledger(), threading.Event()
    posters = [Poster(f"w{i}", lambda: url, ledger, stop, per_request=25, deadline=45) for i in range(6)]
    for p in posters:
        p.start()
    acked_at_kill = []
    try:
        wait_until(lambda: len(ledger.acked) > 0, timeout=15, desc="the first acknowledgement")
        for _cycle in range(5):
            time.sleep(rng.uniform(0.4, 2.0))
            with ledger.lock:
                acked_at_kill.append(len(ledger.acked))
            sink.kill()
            sink.start(ingest_port=port)
        time.sleep(0.5)  # load on the last incarnation too
    finally:
        stop.set()
        for p in posters:
            p.join(20)
    assert not any(p.is_alive() for p in posters), "a poster did not finish"
    # Every kill landed while records were being acknowledged.
    assert all(b > a for a, b in zip([0] + acked_at_kill, acked_at_kill)), acked_at_kill
    assert ledger.statuses["conn-error"] > 0, ledger.statuses  # the kills interrupted requests

    figures = check_ledger(sink, posters, ledger)
    print(f"\nkill -9 x{len(acked_at_kill)}: {figures}, answers {dict(ledger.statuses)}, acked at each kill "
          f"{acked_at_kill}")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_overload_is_503_with_retry_after_and_bounded_memory(sink_factory, tmp_path):
    """max_concurrent_requests: 2 and 12 posters of 1,000-record bodies (~190 KB): most requests
    find the receiver full and get 503 + Retry-After without their bodies being read; RSS stays
    bounded; posters that honour Retry-After get every record stored exactly once."""
    cfg = tmp_path / "overload.yaml"
    cfg.write_text("ingest: { max_concurrent_requests: 2 }\n")
    sink = sink_factory.new()
    sink.start(extra_args=["--config", str(cfg)])
    url = sink.ingest_url
    ledger, stop = Ledger(), threading.Event()
    posters = [Poster(f"o{i}", lambda: url, ledger, stop, per_request=1000, honour_retry_after=True, deadline=40)
               for i in range(12)]
    rss_start = _rss_mb(sink.proc.pid)
    peak = rss_start
    for p in posters:
        p.start()
    try:
        t_end = time.monotonic() + 6
        while time.monotonic() < t_end:
            peak = max(peak, _rss_mb(sink.proc.pid))
            time.sleep(0.05)
    finally:
        stop.set()
        for p in posters:
            p.join(30)
    assert not any(p.is_alive() for p in posters)
    assert ledger.statuses[503] > 0, ledger.statuses
    assert set(ledger.retry_after) == {"1"}, ledger.retry_after  # every 503 carries Retry-After: 1
    assert sink.running()
    # 12 bodies of ~190 KB are 2.3 MB; with 2 decoded at a time the rest wait in socket buffers.
    assert peak < 250, f"peak RSS {peak:.0f} MB (start {rss_start:.0f} MB)"
    figures = check_ledger(sink, posters, ledger)
    print(f"\noverload: {figures}, answers {dict(ledger.statuses)}, RSS {rss_start:.0f} -> peak {peak:.0f} MB")
