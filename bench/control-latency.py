#!/usr/bin/env python3
"""Control latency: kill request → agent process gone, through the helper socket.

Starts `observatory helper` on a temporary socket, then N times: `observatory run` with an agent
that exits on SIGTERM (`sleep`, default disposition), waits for it to register, sends
`{"type":"kill"}` on the helper socket and measures until the agent's pid is gone from /proc
(checked every 0.5 ms in a tight loop) and until the helper's answer arrives. Prints p50/p99.
No sink is needed (process reports go to an unreachable endpoint and are spooled to a temp dir).

    bench/control-latency.py [--n 50] [--bin PATH]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def request(path: str, message: dict, timeout: float = 20) -> dict:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall((json.dumps(message) + "\n").encode())
        data = b""
        while b"\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data.split(b"\n")[0])


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--bin", default=os.environ.get("OBSERVATORY_BIN", ".build/debug/observatory"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="obs-bench-"))
    sock = str(tmp / "helper.sock")
    env = {**os.environ, "OBSERVATORY_HELPER_SOCKET": sock, "OBSERVATORY_ENDPOINT": "http://127.0.0.1:9",
           "HOME": str(tmp), "XDG_STATE_HOME": str(tmp / "state")}
    helper = subprocess.Popen([args.bin, "helper"], env=env, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    gone_ms: list[float] = []
    answer_ms: list[float] = []
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            assert time.monotonic() < deadline, "helper did not start"
            time.sleep(0.02)
        for i in range(args.n):
            agent_id = f"bench{i}"
            wrapper = subprocess.Popen([args.bin, "run", "--id", agent_id, "--", "sleep", "300"], env=env,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pid = None
            deadline = time.monotonic() + 10
            while pid is None:
                assert time.monotonic() < deadline, "wrapper did not register"
                for a in request(sock, {"id": "l", "type": "list"})["agents"]:
                    if a["id"] == agent_id:
                        pid = a["pid"]
                if pid is None:
                    time.sleep(0.01)
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
                start = time.perf_counter()
                s.sendall(json.dumps({"id": "k", "type": "kill", "agent": agent_id, "grace": 5}).encode() + b"\n")
                while not gone(pid):
                    time.sleep(0.0005)
                t_gone = time.perf_counter()
                s.settimeout(20)
                reply = s.recv(65536)
                t_answer = time.perf_counter()
            assert json.loads(reply.split(b"\n")[0])["type"] == "result", reply
            gone_ms.append((t_gone - start) * 1000)
            answer_ms.append((t_answer - start) * 1000)
            wrapper.wait(10)
    finally:
        helper.send_signal(signal.SIGTERM)
        helper.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"control latency through the helper socket, N={args.n} (agent exits on SIGTERM)")
    print(f"  kill sent → process gone:   p50 {statistics.median(gone_ms):6.1f} ms   p99 {pct(gone_ms, 99):6.1f} ms   max {max(gone_ms):6.1f} ms")
    print(f"  kill sent → result answered: p50 {statistics.median(answer_ms):6.1f} ms   p99 {pct(answer_ms, 99):6.1f} ms   max {max(answer_ms):6.1f} ms")


if __name__ == "__main__":
    main()
