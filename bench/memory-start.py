#!/usr/bin/env python3
"""Memory per session and cold start of observatory-sink.

    bench/memory-start.py --sink PATH [--sessions 100 10000] [--reps 5] [--settle 3]

1. Cold start on a fresh data directory, --reps times (a new directory each time): time from
   exec to the `--ready-file` appearing and to `GET /healthz` answering 200 (polled every ~1 ms
   on fixed free ports, both watched in the same loop). The process is stopped with SIGTERM after
   each start.
2. RSS: one sink on a fresh data directory; VmRSS (and RssAnon / RssFile) from /proc/PID/status
   at idle after --settle s, then after sessions are created: OTLP log records (protobuf, 100 per
   request), each carrying a distinct `session.id`, until the sink's `observatory_sessions` gauge
   says 100, then 10,000 sessions (by default); each time after the commit queue is empty plus
   --settle s.
3. Cold start on the data directory that now holds 10,000 sessions, --reps times, then its RSS
   after --settle s (what the sink holds after loading the sessions back).

Prints the figures and a last line `RESULT {json}`. Targets (issue 8): 10,000 sessions < 150 MB;
ready within 300 ms of start.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _field(num, payload):
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _kv(key, value):
    return _field(1, key.encode()) + _field(2, _field(1, value.encode()))


def body(first_session: int, count: int, prefix: str) -> bytes:
    """ExportLogsServiceRequest: `count` Claude-Code-shaped `user_prompt` records, record k with
    session.id PREFIX-(first_session+k) (hand-encoded protobuf)."""
    now = time.time_ns()
    records = b""
    for k in range(count):
        sid = f"{prefix}-{first_session + k:06d}"
        rec = _varint(1 << 3 | 1) + (now + k).to_bytes(8, "little") + _field(5, _field(1, b"claude_code.user_prompt"))
        for key, value in (("event.name", "user_prompt"), ("event.timestamp", "2026-11-26T12:00:00.000Z"),
                           ("session.id", sid), ("user.id", "bench-user"), ("terminal.type", "xterm-256color"),
                           ("prompt_length", "42"), ("prompt", "<REDACTED>")):
            rec += _field(6, _kv(key, value))
        records += _field(2, rec)
    scope = _field(1, _field(1, b"com.anthropic.claude_code.events")) + records
    res = _field(1, _kv("service.name", "claude-code")) + _field(1, _kv("service.version", "2.0.0"))
    return _field(1, _field(1, res) + _field(2, scope))


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    return out


def rss(pid):
    s = status(pid)
    return {"rss_mb": round(s["VmRSS"] / 1024, 1), "anon_mb": round(s["RssAnon"] / 1024, 1),
            "file_mb": round(s["RssFile"] / 1024, 1), "hwm_mb": round(s["VmHWM"] / 1024, 1), "threads": s["Threads"]}


def metrics(api):
    with urllib.request.urlopen(f"http://127.0.0.1:{api}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                m[k] = float(v)
            except ValueError:
                pass
    return m


def gauge(m, name):
    return sum(v for k, v in m.items() if k == name or k.startswith(name + "{"))


class Sink:
    def __init__(self, binary, data, workdir, tag):
        self.ready = workdir / f"ready-{tag}.json"
        self.ingest, self.api = free_ports(2)
        self.log = workdir / f"sink-{tag}.log"
        self.ready.unlink(missing_ok=True)
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([binary, "--data-dir", str(data), "--ingest-port", str(self.ingest),
                                      "--api-port", str(self.api), "--ready-file", str(self.ready),
                                      "--rules-dir", str(workdir / "no-rules")],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_ready(self, limit=60.0):
        """(ms to the ready file, ms to /healthz 200), polled in one loop."""
        t_ready = t_health = None
        deadline = self.t0 + limit
        while (t_ready is None or t_health is None) and time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("sink exited: " + self.log.read_text()[-2000:])
            if t_ready is None and self.ready.exists():
                t_ready = time.perf_counter()
            if t_health is None:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.api, timeout=2)
                    c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        t_health = time.perf_counter()
                    c.close()
                except OSError:
                    pass
            time.sleep(0.001)
        if t_ready is None or t_health is None:
            raise SystemExit(f"sink not ready within {limit} s")
        return round((t_ready - self.t0) * 1000, 1), round((t_health - self.t0) * 1000, 1)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def wait_quiet(api, limit=120.0):
    t0 = time.time()
    last = None
    while time.time() - t0 < limit:
        m = metrics(api)
        snap = (m.get("observatory_events_stored_total"), gauge(m, "observatory_sessions"))
        if m.get("observatory_commit_queue_events", 0) == 0 and snap == last:
            return m
        last = snap
        time.sleep(0.3)
    return metrics(api)


def cold_starts(binary, workdir, reps, data_for, tag):
    rows = []
    for i in range(reps):
        s = Sink(binary, data_for(i), workdir, f"{tag}{i}")
        try:
            rows.append(s.wait_ready())
        finally:
            s.stop()
        time.sleep(0.3)
    ready = [r[0] for r in rows]
    health = [r[1] for r in rows]
    return {"ready_file_ms": ready, "healthz_ms": health,
            "ready_file_median_ms": statistics.median(ready), "healthz_median_ms": statistics.median(health),
            "ready_file_max_ms": max(ready), "healthz_max_ms": max(health)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sink", default=os.environ.get("OBSERVATORY_SINK_BIN", ".build-release/release/observatory-sink"))
    ap.add_argument("--sessions", type=int, nargs="+", default=[100, 10000])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="obs-mem-start-"))
    (work / "no-rules").mkdir()
    result = {"reps": a.reps, "settle_s": a.settle}
    try:
        # 1. cold start, fresh data directory each time
        result["cold_fresh"] = cold_starts(a.sink, work, a.reps, lambda i: work / f"fresh{i}", "fresh")
        print("cold start, fresh data dir (%d): ready file median %.0f ms (max %.0f), /healthz median %.0f ms (max %.0f)"
              % (a.reps, result["cold_fresh"]["ready_file_median_ms"], result["cold_fresh"]["ready_file_max_ms"],
                 result["cold_fresh"]["healthz_median_ms"], result["cold_fresh"]["healthz_max_ms"]), flush=True)

        # 2. RSS at idle and with N sessions
        data = work / "data"
        s = Sink(a.sink, data, work, "mem")
        try:
            s.wait_ready()
            time.sleep(a.settle)
            result["idle"] = rss(s.proc.pid)
            print("RSS idle: %(rss_mb).1f MB (anon %(anon_mb).1f + file %(file_mb).1f)" % result["idle"], flush=True)
            conn = http.client.HTTPConnection("127.0.0.1", s.ingest, timeout=60)
            made = 0
            result["sessions"] = {}
            t_post = 0.0
            for target in sorted(a.sessions):
                t0 = time.perf_counter()
                while made < target:
                    n = min(100, target - made)
                    conn.request("POST", "/v1/logs", body=body(made, n, "mem"), headers={"Content-Type": "application/x-protobuf"})
                    r = conn.getresponse()
                    r.read()
                    if r.status == 503:
                        time.sleep(float(r.getheader("Retry-After", "1")))
                        continue
                    assert r.status == 200, r.status
                    made += n
                t_post += time.perf_counter() - t0
                m = wait_quiet(s.api)
                time.sleep(a.settle)
                m = metrics(s.api)
                row = rss(s.proc.pid)
                row["sessions_gauge"] = gauge(m, "observatory_sessions")
                row["events_stored"] = m.get("observatory_events_stored_total")
                result["sessions"][str(target)] = row
                print("RSS with %d sessions (gauge %d): %.1f MB (anon %.1f + file %.1f), peak %.1f MB"
                      % (target, row["sessions_gauge"], row["rss_mb"], row["anon_mb"], row["file_mb"], row["hwm_mb"]),
                      flush=True)
        finally:
            s.stop()
        biggest = max(a.sessions)
        db = data / "observatory.sqlite"
        result["db_mb"] = round(sum(p.stat().st_size for p in data.glob("observatory.sqlite*")) / 1e6, 1) if db.exists() else None

        # 3. cold start with the sessions in the data directory, then RSS after loading them
        result["cold_existing"] = cold_starts(a.sink, work, a.reps, lambda i: data, "existing")
        result["cold_existing"]["sessions"] = biggest
        print("cold start, data dir with %d sessions (%s MB): ready file median %.0f ms (max %.0f), /healthz median %.0f ms (max %.0f)"
              % (biggest, result["db_mb"], result["cold_existing"]["ready_file_median_ms"], result["cold_existing"]["ready_file_max_ms"],
                 result["cold_existing"]["healthz_median_ms"], result["cold_existing"]["healthz_max_ms"]), flush=True)
        s = Sink(a.sink, data, work, "reload")
        try:
            s.wait_ready()
            time.sleep(a.settle)
            result["restarted"] = rss(s.proc.pid)
            result["restarted"]["sessions_gauge"] = gauge(metrics(s.api), "observatory_sessions")
        finally:
            s.stop()
        print("RSS after a restart with %d sessions (gauge %d): %.1f MB (anon %.1f + file %.1f)"
              % (biggest, result["restarted"]["sessions_gauge"], result["restarted"]["rss_mb"],
                 result["restarted"]["anon_mb"], result["restarted"]["file_mb"]), flush=True)
        result["loadavg"] = open("/proc/loadavg").read().split()[0]
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
