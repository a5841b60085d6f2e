#!/usr/bin/env python3
"""OTLP → WebSocket latency with many clients and a light client: time from an OTLP POST being
answered 200 to each `/ws` client receiving the event, p50/p99, at a fixed event rate.

    bench/ws-latency.py --sink PATH [--clients 100] [--procs 1] [--rate 1000] [--duration 10]

Why not bench/live-latency.py: its clients use the `websockets` library, whose per-frame cost
made one Python process the bottleneck at 100 clients (~7k of the 100k frames/s needed). Here:

* the clients are raw sockets under asyncio (`asyncio.Protocol`), the WebSocket handshake written
  by hand and the frames parsed by hand: a frame's header is read to find its end, its payload is
  never decoded or copied; the event ids are found with `bytearray.find` over the complete frames
  of each read (server frames are unmasked, so the JSON text is in the byte stream as is). Pings
  are answered with a masked pong, a close frame or a `resync` message is counted;
* the clients can be split over `--procs` processes (default 1);
* the sender (one POST of `--per-request` events every per_request/rate seconds, spread over
  `--senders` keep-alive connections so that one slow answer does not lower the rate;
  http.client) runs in its own process, so the clients' work cannot delay its timestamps; both
  use time.perf_counter (CLOCK_MONOTONIC, the same clock in every process);
* each client process reports its own CPU (rusage) over the sending window; the table says
  "client-bound" when one of them used more than 80 % of a core, and the machine's idle time is
  reported, so a saturated machine is visible too.

Every event carries a unique `bench.id` attribute. Latency = receive time (when the read that
completed the frame returned) − the time the POST that carried it was answered. A negative value
means the frame arrived before the HTTP answer was read (the sink publishes after the commit, in
parallel with writing the 200); they are kept in the percentiles as they are. The same
percentiles from the moment the POST was sent (decode, commit and fan-out included) are reported
too.

The sink is started by this script (fresh data directory, no rules) with `api.max_live_clients`
raised above --clients (the default 64 would refuse the 65th client with 1013).
Prints one human line and a last line `RESULT {json}`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import multiprocessing as mp
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

MARK = b'"bench.id":"'
RESYNC = b'"type":"resync"'


# --- the sender -------------------------------------------------------------------------------

def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:  # length-delimited field
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _kv(key: str, value: str) -> bytes:  # KeyValue{key, AnyValue{string_value}}
    return _field(1, key.encode()) + _field(2, _field(1, value.encode()))


def build_body(request_index: int, per_request: int, sessions: int) -> bytes:
    """ExportLogsServiceRequest with one resource, `per_request` tool_result records, each with a
    unique `bench.id` (encoded by hand: no protobuf package needed)."""
    now = time.time_ns()
    records = b""
    for j in range(per_request):
        rec = (_varint(1 << 3 | 1) + (now + j).to_bytes(8, "little")  # time_unix_nano, fixed64
               + _field(5, _field(1, b"claude_code.tool_result")))      # body
        for key, value in (("event.name", "tool_result"), ("session.id", f"bench-{(request_index + j) % sessions}"),
                           ("tool_name", "Bash"), ("success", "true"), ("bench.id", f"{request_index}-{j}")):
            rec += _field(6, _kv(key, value))
        records += _field(2, rec)  # ScopeLogs.log_records
    scope_logs = _field(1, _field(1, b"com.anthropic.claude_code.events")) + records
    resource_ = _field(1, _kv("service.name", "claude-code"))
    resource_logs = _field(1, resource_) + _field(2, scope_logs)
    return _field(1, resource_logs)


def sender(ingest: int, rate: int, per_request: int, duration: float, senders: int, conn) -> None:
    """Process: POST at the given event rate from `senders` threads (one keep-alive connection
    each; request i goes out at start + i * per_request / rate, so a slow answer on one
    connection does not lower the rate); sends back {bench.id: (ack time, send time)}, errors,
    requests sent late, requests."""
    import threading
    interval = per_request / rate
    acked: dict[bytes, tuple[float, float]] = {}
    errors: list[int] = []
    behind = [0]
    counter = [0]
    lock = threading.Lock()
    start = time.perf_counter() + 0.05

    def run():
        c = http.client.HTTPConnection("127.0.0.1", ingest, timeout=10)
        while True:
            with lock:
                i = counter[0]
                counter[0] += 1
            at = start + i * interval
            if at - start >= duration:
                return
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -interval:
                with lock:
                    behind[0] += 1
            body = build_body(i, per_request, 10)
            t_send = time.perf_counter()
            c.request("POST", "/v1/logs", body=body, headers={"Content-Type": "application/x-protobuf"})
            r = c.getresponse()
            r.read()
            t = time.perf_counter()
            with lock:
                if r.status == 200:
                    for j in range(per_request):
                        acked[f"{i}-{j}".encode()] = (t, t_send)
                else:
                    errors.append(r.status)

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    conn.send((acked, errors, behind[0], min(counter[0], int(duration / interval))))
    conn.close()


# --- the clients ------------------------------------------------------------------------------

class WSClient(asyncio.Protocol):
    def __init__(self, port: int, shared: dict):
        self.port = port
        self.shared = shared
        self.buf = bytearray()
        self.open = False
        self.seen: list[tuple[bytes, float]] = []
        self.frames = 0
        self.connected = asyncio.get_running_loop().create_future()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())

    def data_received(self, data):
        now = time.perf_counter()
        buf = self.buf
        buf += data
        if not self.open:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                return
            status = bytes(buf[:12])
            if not status.startswith(b"HTTP/1.1 101"):
                if not self.connected.done():
                    self.connected.set_exception(RuntimeError(bytes(buf[:200]).decode(errors="replace")))
                self.transport.close()
                return
            del buf[:i + 4]
            self.open = True
            if not self.connected.done():
                self.connected.set_result(None)
        n = len(buf)
        pos = 0
        frames = 0
        while n - pos >= 2:
            b1 = buf[pos + 1]
            ln = b1 & 0x7F
            hdr = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln = (buf[pos + 2] << 8) | buf[pos + 3]
                hdr = 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln = int.from_bytes(buf[pos + 2:pos + 10], "big")
                hdr = 10
            if b1 & 0x80:
                hdr += 4  # servers do not mask, but be safe
            end = pos + hdr + ln
            if end > n:
                break
            op = buf[pos] & 0x0F
            if op == 0x9:  # ping → masked pong with the same payload
                payload = bytes(buf[pos + hdr:end])
                mask = os.urandom(4)
                masked = bytes(b ^ mask[k & 3] for k, b in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
                self.shared["pings"] += 1
            elif op == 0x8:
                self.shared["closes"] += 1
            else:
                frames += 1
            pos = end
        if pos:
            self.frames += frames
            L = len(MARK)
            i = buf.find(MARK, 0, pos)
            seen = self.seen
            while i >= 0:
                j = buf.find(b'"', i + L, pos)
                seen.append((bytes(buf[i + L:j]), now))
                i = buf.find(MARK, j, pos)
            if buf.find(RESYNC, 0, pos) >= 0:
                self.shared["resyncs"] += 1
            del buf[:pos]

    def connection_lost(self, exc):
        self.shared["lost"] += 1
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(str(exc)))


def client_proc(port: int, count: int, conn) -> None:
    """Process: `count` WebSocket clients; 'ready' once all are connected; on 'start'/'stop'
    notes its CPU; then gets the ack times and sends back latencies (array of ms)."""
    async def main():
        loop = asyncio.get_running_loop()
        shared = {"pings": 0, "closes": 0, "resyncs": 0, "lost": 0}
        clients = []
        for _ in range(count):
            _, proto = await loop.create_connection(lambda: WSClient(port, shared), "127.0.0.1", port)
            await asyncio.wait_for(proto.connected, 10)
            clients.append(proto)
        await asyncio.sleep(0.3)  # snapshots read
        conn.send("ready")
        inbox: asyncio.Queue = asyncio.Queue()
        loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
        assert await inbox.get() == "start"
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        w0 = time.perf_counter()
        for c in clients:
            c.seen.clear()
        assert await inbox.get() == "stop"
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        w1 = time.perf_counter()
        loop.remove_reader(conn.fileno())
        lost = shared["lost"]
        for c in clients:
            c.transport.close()
        shared["lost"] = lost
        cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / (w1 - w0) * 100
        conn.send({"cpu_pct": cpu, "frames": sum(c.frames for c in clients), **shared})
        acked = conn.recv()
        lat, from_send = array("d"), array("d")
        missing = 0
        for c in clients:
            got = set()
            for key, t in c.seen:
                a = acked.get(key)
                if a is not None and key not in got:
                    got.add(key)
                    lat.append((t - a[0]) * 1000)
                    from_send.append((t - a[1]) * 1000)
            missing += sum(1 for k in acked if k not in got)
        conn.send((lat, from_send, missing))

    asyncio.run(main())
    conn.close()


# --- the sink ---------------------------------------------------------------------------------

def start_sink(binary: str, workdir: Path, max_clients: int):
    ready = workdir / "ready.json"
    (workdir / "no-rules").mkdir(exist_ok=True)
    config = workdir / "config.yaml"
    config.write_text(f"api:\n  max_live_clients: {max_clients}\n")
    log = open(workdir / "sink.log", "wb")
    proc = subprocess.Popen([binary, "--config", str(config), "--data-dir", str(workdir / "data"),
                             "--ingest-port", "0", "--api-port", "0", "--ready-file", str(ready),
                             "--rules-dir", str(workdir / "no-rules")],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready.exists():
            ports = json.loads(ready.read_text())
            return proc, ports["ingest"], ports["api"]
        if proc.poll() is not None:
            raise SystemExit(f"sink exited: {(workdir / 'sink.log').read_text()[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("sink did not become ready in 60 s")


def proc_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_busy() -> tuple[int, int]:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def pct(values, p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="ws-latency-"))
    proc, ingest, api = start_sink(args.sink, workdir, max(64, args.clients + 8))
    ctx = mp.get_context("fork")
    procs = []
    try:
        per = [args.clients // args.procs + (1 if k < args.clients % args.procs else 0) for k in range(args.procs)]
        for count in per:
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_proc, args=(api, count, child), daemon=True)
            p.start()
            procs.append((p, parent))
        for p, c in procs:
            if not c.poll(30):
                raise SystemExit("clients did not connect within 30 s")
            assert c.recv() == "ready"
        hz = os.sysconf("SC_CLK_TCK")
        s0, (b0, t0), w0 = proc_ticks(proc.pid), machine_busy(), time.perf_counter()
        for _, c in procs:
            c.send("start")
        sparent, schild = ctx.Pipe()
        sp = ctx.Process(target=sender, args=(ingest, args.rate, args.per_request, args.duration, args.senders, schild), daemon=True)
        sp.start()
        if not sparent.poll(args.duration + 60):
            raise SystemExit("sender did not finish")
        acked, errors, behind, posts = sparent.recv()
        sp.join(10)
        time.sleep(args.drain)
        s1, (b1, t1), w1 = proc_ticks(proc.pid), machine_busy(), time.perf_counter()
        stats = []
        for _, c in procs:
            c.send("stop")
        for _, c in procs:
            if not c.poll(30):
                raise SystemExit("a client process did not answer")
            stats.append(c.recv())
        for _, c in procs:
            c.send(acked)
        lat, from_send = array("d"), array("d")
        missing = 0
        for _, c in procs:
            if not c.poll(120):
                raise SystemExit("a client process did not send its latencies")
            l, f, m = c.recv()
            lat.extend(l)
            from_send.extend(f)
            missing += m
        for p, _ in procs:
            p.join(10)
        ncpu = os.cpu_count() or 1
        client_cpu = [round(s["cpu_pct"]) for s in stats]
        window = w1 - w0
        result = dict(
            clients=args.clients, client_procs=args.procs, rate=args.rate, per_request=args.per_request,
            duration=args.duration, posts=posts, sender_behind=behind, post_errors=len(errors),
            events_acked=len(acked), deliveries=len(lat), expected=len(acked) * args.clients, missing=missing,
            frames=sum(s["frames"] for s in stats), resyncs=sum(s["resyncs"] for s in stats),
            closes=sum(s["closes"] for s in stats), lost=sum(s["lost"] for s in stats),
            pings=sum(s["pings"] for s in stats),
            p50_ms=round(statistics.median(lat), 2) if lat else None, p99_ms=round(pct(lat, 99), 2) if lat else None,
            max_ms=round(max(lat), 2) if lat else None, negative=sum(1 for x in lat if x < 0),
            from_send_p50_ms=round(statistics.median(from_send), 2) if lat else None,
            from_send_p99_ms=round(pct(from_send, 99), 2) if lat else None,
            client_cpu_pct=client_cpu, client_bound=any(c > 80 for c in client_cpu),
            sink_cpu_pct=round(100.0 * (s1 - s0) / hz / window),
            machine_busy_pct=round(100.0 * (b1 - b0) / max(1, t1 - t0) * ncpu), machine_pct_of=100 * ncpu,
            loadavg=open("/proc/loadavg").read().split()[0])
        return result
    finally:
        for p, _ in procs:
            if p.is_alive():
                p.kill()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not args.keep:
            import shutil
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sink", default=os.environ.get("OBSERVATORY_SINK_BIN", ".build-release/release/observatory-sink"))
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--procs", type=int, default=1, help="client processes (the clients are split over them)")
    ap.add_argument("--rate", type=int, default=1000, help="events per second")
    ap.add_argument("--per-request", type=int, default=10, help="events per OTLP request")
    ap.add_argument("--senders", type=int, default=4, help="sender threads (connections) sharing the rate")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--drain", type=float, default=1.0, help="seconds to wait for the last frames")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (sink log, database)")
    args = ap.parse_args()
    r = run(args)
    print(f"OTLP→WebSocket, {r['clients']} clients in {r['client_procs']} process(es), {r['rate']} events/s for "
          f"{r['duration']:.0f} s: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms after the 200 "
          f"({r['negative']} before it); from the POST sent p50 {r['from_send_p50_ms']} ms, p99 {r['from_send_p99_ms']} ms; "
          f"{r['deliveries']}/{r['expected']} deliveries, {r['resyncs']} resyncs, {r['post_errors']} POST errors; "
          f"client CPU {r['client_cpu_pct']}% of a core{' (CLIENT-BOUND)' if r['client_bound'] else ''}, "
          f"sink CPU {r['sink_cpu_pct']}%, machine busy {r['machine_busy_pct']}/{r['machine_pct_of']}%")
    print("RESULT " + json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
