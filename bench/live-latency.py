#!/usr/bin/env python3
"""Live-feed latency: time from an OTLP POST being acknowledged (200) to a WebSocket client of
`GET /ws` receiving the event, p50/p99, at a fixed event rate with N connected clients.

    bench/live-latency.sh [--clients 10] [--rate 1000] [--duration 10]

Every event carries a unique `bench.id` attribute; each client notes when it sees it, and the
latency is that moment minus when the POST that carried it was answered. The clients run in this
one Python process: the script reports its own CPU use, because past about 20-30k frames/s a
Python client (not the sink) becomes the bottleneck on a 2-core machine — the figures are then an
upper bound of the sink's latency. Resyncs (a client that fell behind) are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import websockets
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

MARK = '"bench.id":"'


def build_body(request_index: int, per_request: int, sessions: int) -> bytes:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    kv = rl.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "claude-code"
    sl = rl.scope_logs.add()
    sl.scope.name = "com.anthropic.claude_code.events"
    now = time.time_ns()
    for j in range(per_request):
        rec = sl.log_records.add()
        rec.time_unix_nano = now + j
        rec.body.string_value = "claude_code.tool_result"
        for key, value in (("event.name", "tool_result"), ("session.id", f"bench-{(request_index + j) % sessions}"),
                           ("tool_name", "Bash"), ("success", "true"), ("bench.id", f"{request_index}-{j}")):
            a = rec.attributes.add()
            a.key, a.value.string_value = key, value
    return req.SerializeToString()


def start_sink(binary: str, workdir: Path) -> tuple[subprocess.Popen, int, int]:
    ready = workdir / "ready.json"
    log = open(workdir / "sink.log", "wb")
    proc = subprocess.Popen([binary, "--data-dir", str(workdir / "data"), "--ingest-port", "0", "--api-port", "0",
                             "--ready-file", str(ready), "--rules-dir", str(workdir / "no-rules")],
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


async def client(url: str, seen: dict, resyncs: list, stop: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=1 << 24, max_queue=None) as ws:
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except asyncio.TimeoutError:
                continue
            except websockets.ConnectionClosed:
                resyncs.append(1)
                return
            now = time.perf_counter()
            # A frame may be a `batch` of several messages: take every marked event in it.
            i = text.find(MARK)
            while i >= 0:
                j = text.find('"', i + len(MARK))
                seen.setdefault(text[i + len(MARK):j], []).append(now)
                i = text.find(MARK, j)
            if '"type":"resync"' in text:
                resyncs.append(1)


def sender(ingest: int, rate: int, per_request: int, duration: float, acked: dict, errors: list) -> None:
    session = requests.Session()
    url = f"http://127.0.0.1:{ingest}/v1/logs"
    interval = per_request / rate
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < duration:
        body = build_body(i, per_request, 10)
        r = session.post(url, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=10)
        t = time.perf_counter()
        if r.status_code == 200:
            for j in range(per_request):
                acked[f"{i}-{j}"] = t
        else:
            errors.append(r.status_code)
        i += 1
        next_at = start + i * interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


async def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="live-latency-"))
    (workdir / "no-rules").mkdir()
    proc, ingest, api = start_sink(args.sink, workdir)
    try:
        seen: dict[str, list[float]] = {}
        resyncs: list[int] = []
        stop = asyncio.Event()
        url = f"ws://127.0.0.1:{api}/ws"
        tasks = [asyncio.create_task(client(url, seen, resyncs, stop)) for _ in range(args.clients)]
        await asyncio.sleep(1.0)  # connected, snapshot read
        acked: dict[str, float] = {}
        errors: list[int] = []
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        thread = threading.Thread(target=sender, args=(ingest, args.rate, args.per_request, args.duration, acked, errors))
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)  # drain
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        latencies = sorted((t - acked[k]) * 1000 for k, ts in seen.items() if k in acked for t in ts)
        expected = len(acked) * args.clients
        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")
        client_cpu = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) / (args.duration + 2) * 100
        return dict(clients=args.clients, rate=args.rate, duration=args.duration, events_acked=len(acked),
                    deliveries=len(latencies), expected=expected, resyncs=len(resyncs), post_errors=len(errors),
                    p50_ms=round(pct(0.50), 2), p99_ms=round(pct(0.99), 2), max_ms=round(latencies[-1], 2) if latencies else None,
                    client_cpu_percent=round(client_cpu))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sink", default=os.environ.get("OBSERVATORY_SINK_BIN", ".build/debug/observatory-sink"))
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--per-request", type=int, default=10, help="events per OTLP request")
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result))
    print(f"live feed latency, {result['clients']} clients, {result['rate']} events/s for {result['duration']:.0f} s: "
          f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms; "
          f"{result['deliveries']}/{result['expected']} deliveries, {result['resyncs']} resyncs, "
          f"{result['post_errors']} POST errors; client CPU {result['client_cpu_percent']}% "
          f"(near 100% means the Python client, not the sink, is the limit)")


if __name__ == "__main__":
    main()
