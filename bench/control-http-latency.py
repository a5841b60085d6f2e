#!/usr/bin/env python3
"""Control kill latency over HTTP: `POST /control/kill` with a control token → the agent's process
gone, p50/p99, through the whole chain: sink API → helper socket → `observatory run` wrapper →
SIGTERM to the agent's process group.

    bench/control-http-latency.py --sink PATH --observatory PATH [--n 50]

Starts a sink (fresh data directory, no rules) with `--helper-socket`, makes a control token with
`observatory-sink token create NAME --data-dir DIR`, starts `observatory helper --socket PATH`,
then N times: `observatory run --id benchI -- sleep 300` (the agent exits on SIGTERM by the default
disposition), waits until the helper lists it, and sends the kill from a thread while the main
thread polls /proc/PID every 0.5 ms: "gone" = the pid is gone or a zombie; "answered" = the HTTP
200 read. The wrappers report to the sink (OBSERVATORY_ENDPOINT), as in real use.
Prints one line per figure and a last line `RESULT {json}`. Target: gone within 100 ms (p99).
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
import threading
import time
from pathlib import Path


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def helper_list(path: str) -> list:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b'{"id":"l","type":"list"}\n')
        data = b""
        while b"\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data.split(b"\n")[0]).get("agents", [])


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--sink", default=os.environ.get("OBSERVATORY_SINK_BIN", ".build-release/release/observatory-sink"))
    ap.add_argument("--observatory", default=os.environ.get("OBSERVATORY_BIN", ".build-release/release/observatory"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="obs-ctl-http-"))
    sock = str(tmp / "ctl" / "helper.sock")
    (tmp / "ctl").mkdir(mode=0o700)
    (tmp / "no-rules").mkdir()
    data = tmp / "data"
    procs = []
    gone_ms, answer_ms = [], []
    try:
        sink = subprocess.Popen([args.sink, "--data-dir", str(data), "--ingest-port", "0", "--api-port", "0",
                                 "--ready-file", str(tmp / "ready.json"), "--rules-dir", str(tmp / "no-rules"),
                                 "--helper-socket", sock],
                                stdout=open(tmp / "sink.log", "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        procs.append(sink)
        deadline = time.monotonic() + 60
        while not (tmp / "ready.json").exists():
            assert sink.poll() is None, (tmp / "sink.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "sink not ready in 60 s"
            time.sleep(0.05)
        ports = json.loads((tmp / "ready.json").read_text())
        made = subprocess.run([args.sink, "token", "create", "bench-control", "--data-dir", str(data)],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        token = made.stdout.strip()
        assert made.returncode == 0 and token.startswith("obsc_"), (made.stdout, made.stderr)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(OBSERVATORY_HELPER_SOCKET=sock, OBSERVATORY_ENDPOINT=f"http://127.0.0.1:{ports['ingest']}",
                   HOME=str(tmp), XDG_STATE_HOME=str(tmp / "state"))
        helper = subprocess.Popen([args.observatory, "helper", "--socket", sock], env=env, stdin=subprocess.DEVNULL,
                                  stdout=open(tmp / "helper.log", "wb"), stderr=subprocess.STDOUT)
        procs.append(helper)
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            assert time.monotonic() < deadline, "helper did not start"
            time.sleep(0.02)
        conn = http.client.HTTPConnection("127.0.0.1", ports["api"], timeout=30)
        for i in range(args.n):
            agent_id = f"bench{i}"
            wrapper = subprocess.Popen([args.observatory, "run", "--id", agent_id, "--grace", "5", "--", "sleep", "300"],
                                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(wrapper)
            pid = None
            deadline = time.monotonic() + 10
            while pid is None:
                assert time.monotonic() < deadline, "wrapper did not register"
                pid = next((a["pid"] for a in helper_list(sock) if a["id"] == agent_id), None)
                if pid is None:
                    time.sleep(0.01)
            time.sleep(0.02)  # let the wrapper's own start-up reports go out
            answer = {}

            def call():
                conn.request("POST", "/control/kill", body=json.dumps({"agent": agent_id, "grace": 5}),
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                r = conn.getresponse()
                answer["body"] = r.read()
                answer["status"] = r.status
                answer["t"] = time.perf_counter()
            th = threading.Thread(target=call)
            start = time.perf_counter()
            th.start()
            while not gone(pid):
                time.sleep(0.0005)
            t_gone = time.perf_counter()
            th.join(30)
            assert answer.get("status") == 200, answer
            gone_ms.append((t_gone - start) * 1000)
            answer_ms.append((answer["t"] - start) * 1000)
            wrapper.wait(10)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    r = dict(n=args.n, gone_p50_ms=round(statistics.median(gone_ms), 1), gone_p99_ms=round(pct(gone_ms, 99), 1),
             gone_max_ms=round(max(gone_ms), 1), answer_p50_ms=round(statistics.median(answer_ms), 1),
             answer_p99_ms=round(pct(answer_ms, 99), 1), answer_max_ms=round(max(answer_ms), 1),
             loadavg=open("/proc/loadavg").read().split()[0])
    print(f"control kill over HTTP, N={args.n} (POST /control/kill → sink → helper → wrapper → SIGTERM; agent `sleep`)")
    print(f"  POST sent → process gone:  p50 {r['gone_p50_ms']:6.1f} ms   p99 {r['gone_p99_ms']:6.1f} ms   max {r['gone_max_ms']:6.1f} ms")
    print(f"  POST sent → 200 answered:  p50 {r['answer_p50_ms']:6.1f} ms   p99 {r['answer_p99_ms']:6.1f} ms   max {r['answer_max_ms']:6.1f} ms")
    print("RESULT " + json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
