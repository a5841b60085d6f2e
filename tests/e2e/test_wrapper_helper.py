"""`observatory run` (the wrapper) and `observatory helper` with real processes.

A helper on a temporary socket, a real sink, and `observatory run -- python3 control_agent.py
MODE` as the agent (it emits an OTLP log with the Python SDK, then hangs, works, exits 3, dies by
SIGSEGV, or starts a grandchild that ignores SIGTERM). Kill and restart go through
`observatory kill` / `observatory restart` (the helper socket); process groups are checked in
/proc. The sink's session id is the agent id (the wrapper's records and the agent's telemetry
both carry observatory.agent.id and no other session key).

The binary is $OBSERVATORY_BIN (default `.build/debug/observatory`, next to the sink binary).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import wait_until

HERE = Path(__file__).resolve().parent
AGENT = HERE / "control_agent.py"


def observatory_binary() -> Path:
    from test_hooks import observatory_binary as find
    return find()


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def group_members(pgid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d))
    return out


class Control:
    """A helper on a temp socket plus wrappers started against it; everything stopped by PID."""

    def __init__(self, tmp_path: Path, ingest_url: str):
        self.bin = observatory_binary()
        self.dir = tmp_path / "ctl"
        self.dir.mkdir(mode=0o700)
        self.socket = self.dir / "helper.sock"
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        self.env = {**os.environ, "OBSERVATORY_HELPER_SOCKET": str(self.socket), "OBSERVATORY_ENDPOINT": ingest_url,
                    "HOME": str(home), "XDG_STATE_HOME": str(home / "state")}
        for k in list(self.env):
            if k.startswith("OTEL_") or k in ("CLAUDE_CODE_ENABLE_TELEMETRY", "OBSERVATORY_AGENT_ID", "OBSERVATORY_AGENT_NAME"):
                del self.env[k]
        self.helper: subprocess.Popen | None = None
        self.helper_log = tmp_path / "helper.log"
        self.wrappers: list[subprocess.Popen] = []
        self.tmp = tmp_path

    def start_helper(self) -> subprocess.Popen:
        log = open(self.helper_log, "ab")
        self.helper = subprocess.Popen([str(self.bin), "helper", "--socket", str(self.socket)], stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        log.close()
        wait_until(lambda: self.cli("agents", "--json").returncode == 0, timeout=10, desc="helper answering")
        return self.helper

    def stop_helper(self, sig: int = signal.SIGTERM) -> int:
        assert self.helper is not None
        self.helper.send_signal(sig)
        return self.helper.wait(10)

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin), *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def agents(self) -> dict:
        r = self.cli("agents", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def run(self, mode: str, agent_id: str, *extra: str, grace: float = 1, agent_args: tuple[str, ...] = ()) -> tuple[subprocess.Popen, Path]:
        pidfile = self.tmp / f"{agent_id}.pid"
        args = [str(self.bin), "run", "--id", agent_id, "--name", f"name-{agent_id}", "--grace", str(grace), *extra,
                "--", sys.executable, str(AGENT), mode, str(pidfile), *agent_args]
        log = open(self.tmp / f"wrapper-{agent_id}.log", "ab")
        p = subprocess.Popen(args, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wrappers.append(p)
        return p, pidfile

    def wait_registered(self, agent_id: str, pid: int | None = None, timeout: float = 10) -> dict:
        def check():
            for a in self.agents()["agents"]:
                if a["id"] == agent_id and (pid is None or a["pid"] == pid):
                    return a
            return None
        return wait_until(check, timeout=timeout, desc=f"agent {agent_id} registered")

    def close(self) -> None:
        for p in self.wrappers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        if self.helper is not None and self.helper.poll() is None:
            self.helper.terminate()
            try:
                self.helper.wait(10)
            except subprocess.TimeoutExpired:
                self.helper.kill()


@pytest.fixture
def control(tmp_path, sink):
    c = Control(tmp_path, sink.ingest_url)
    c.start_helper()
    yield c
    c.close()


def read_pids(pidfile: Path, timeout: float = 15) -> list[int]:
    text = wait_until(lambda: pidfile.exists() and pidfile.read_text(), timeout=timeout, desc=f"{pidfile}")
    return [int(x) for x in text.split()]


def test_kill_stops_the_whole_group_and_escalates_for_a_grandchild_ignoring_sigterm(control, sink):
    wrapper, pidfile = control.run("grandchild", "gc1", grace=1)
    pid, grandchild = read_pids(pidfile)
    control.wait_registered("gc1", pid)
    assert set(group_members(pid)) >= {pid, grandchild}
    started = time.monotonic()
    r = control.cli("kill", "gc1", "--grace", "1", "--json")
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["ok"] is True and result["pid"] == pid and result["escalated"] is True, result
    assert result["exit_signal"] == signal.SIGTERM, result
    assert 1.0 <= elapsed < 4, elapsed
    assert not alive(pid) and not alive(grandchild)
    assert group_members(pid) == []
    assert wrapper.wait(10) == 128 + signal.SIGTERM
    assert control.agents()["agents"] == []
    # A stop that was asked for ends the session (process.stop_requested), it is not a crash.
    s = sink.wait_session("gc1", lambda s: s["status"] == "ended", desc="session ended after the kill")
    assert s["name"] == "name-gc1"


def test_kill_of_an_agent_that_exits_on_sigterm_needs_no_sigkill(control):
    wrapper, pidfile = control.run("hang", "k1", grace=5)
    (pid,) = read_pids(pidfile)
    control.wait_registered("k1", pid)
    started = time.monotonic()
    r = control.cli("kill", "k1", "--json")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - started < 2
    result = json.loads(r.stdout)
    assert result == {"ok": True, "pid": pid, "new_pid": None, "exit_code": None, "exit_signal": 15, "escalated": False}
    assert not alive(pid)
    assert wrapper.wait(10) == 143


def test_restart_gives_a_new_pid_and_keeps_the_agent_id(control, sink):
    wrapper, pidfile = control.run("hang", "r1", grace=2)
    (pid,) = read_pids(pidfile)
    control.wait_registered("r1", pid)
    pidfile.unlink()
    r = control.cli("restart", "r1", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["ok"] is True and result["pid"] == pid and isinstance(result["new_pid"], int), result
    new_pid = result["new_pid"]
    assert new_pid != pid and not alive(pid)
    assert read_pids(pidfile) == [new_pid]
    assert alive(new_pid) and wrapper.poll() is None
    agent = control.wait_registered("r1", new_pid)
    assert agent["restarts"] == 1 and agent["name"] == "name-r1"
    # Process reports of both runs landed in the agent's session.
    events = wait_until(lambda: [e for e in sink.all_events("r1") if e["name"] == "observatory.process"
                                 and e["attributes"].get("process.event") == "start"] if sink.session("r1") else None,
                        desc="start events")
    wait_until(lambda: len([e for e in sink.all_events("r1") if e["name"] == "observatory.process"
                            and e["attributes"].get("process.event") == "start"]) == 2, desc="two start events")
    r = control.cli("kill", "r1", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["pid"] == new_pid
    assert wrapper.wait(10) == 143
    assert events


@pytest.mark.parametrize("mode,status,signal_no", [("exit3", 3, None), ("segv", 139, signal.SIGSEGV)])
def test_crash_exit_status_and_crashed_session(control, sink, mode, status, signal_no):
    agent_id = f"crash-{mode}-{uuid.uuid4().hex[:6]}"
    wrapper, _ = control.run(mode, agent_id)
    assert wrapper.wait(20) == status
    s = sink.wait_session(agent_id, lambda s: s["status"] == "crashed", desc=f"{mode}: session crashed")
    assert s["name"] == f"name-{agent_id}"
    exits = [e for e in sink.all_events(agent_id) if e["attributes"].get("process.event") == "exit"]
    assert len(exits) == 1
    if signal_no:
        assert int(exits[0]["attributes"]["process.exit_signal"]) == signal_no
    else:
        assert int(exits[0]["attributes"]["process.exit_code"]) == 3
    # The agent's own telemetry (Python SDK, resource attributes from the injected environment)
    # is in the same session.
    wait_until(lambda: any(e["name"] == "agent.started" for e in sink.all_events(agent_id)), desc="agent's own log record")


def test_argv_with_shell_metacharacters_runs_literally(control, tmp_path):
    marker = tmp_path / "pwned"
    args = (f"$(touch {marker})", ";", "|", "&&", f"`touch {marker}`", "*", "a b")
    wrapper, pidfile = control.run("argv", "lit1", agent_args=args)
    read_pids(pidfile)
    argv = json.loads(Path(str(pidfile) + ".argv").read_text())
    assert argv[3:] == list(args)
    assert not marker.exists()
    r = control.cli("kill", "lit1")
    assert r.returncode == 0, r.stderr
    wrapper.wait(10)


def test_cpu_samples_reach_the_sink(control, sink):
    wrapper, pidfile = control.run("work", "cpu1")
    read_pids(pidfile)

    def sample():
        for e in sink.all_events("cpu1"):
            if e["attributes"].get("process.event") == "sample" and float(e["attributes"]["process.cpu_percent"]) > 50:
                return e
        return None

    # A busy loop on one core: a sample above 50% within a few 5 s intervals (the first interval
    # also covers the interpreter's start).
    e = wait_until(sample, timeout=30, interval=0.5, desc="a CPU sample above 50%")
    assert float(e["attributes"]["process.cpu_percent"]) < 250, e
    assert int(e["attributes"]["process.rss_bytes"]) > 1_000_000, e
    control.cli("kill", "cpu1")
    wrapper.wait(10)


UID_PROBE = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("EACCES")
    sys.exit(0)
try:
    s.sendall(b'{"id":"x","type":"list"}\\n')
except BrokenPipeError:
    pass
s.settimeout(5)
data = b""
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        break
    if not b:
        break
    data += b
print(data.decode())
"""


def test_socket_is_private_and_another_uid_is_refused(control):
    st = os.stat(control.socket)
    assert st.st_mode & 0o777 == 0o600
    assert os.stat(control.dir).st_mode & 0o777 == 0o700
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to connect as another uid")
    def as_nobody(path: Path) -> str:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", UID_PROBE,
                            str(path)], capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    # A helper in a directory another user can reach: the socket's mode 0600 keeps it out…
    shared = Path(tempfile.mkdtemp(prefix="obs-uid-", dir="/tmp"))
    try:
        os.chmod(shared, 0o755)
        path = shared / "helper.sock"
        log = open(control.tmp / "helper-uid.log", "ab")
        helper = subprocess.Popen([str(control.bin), "helper", "--socket", str(path)], env=control.env, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        try:
            wait_until(lambda: path.exists(), timeout=10, desc="uid-test helper socket")
            assert as_nobody(path) == "EACCES"
            # …and with the file mode opened, SO_PEERCRED still refuses the other uid.
            os.chmod(path, 0o777)
            reply = json.loads(as_nobody(path).splitlines()[0])
            assert reply["type"] == "error" and reply["code"] == "forbidden", reply
            assert HelperProbe(path).list()["type"] == "agents"  # its own user is served
        finally:
            helper.terminate()
            helper.wait(10)
        assert "refused a connection from uid 65534" in (control.tmp / "helper-uid.log").read_text()
    finally:
        shutil.rmtree(shared, ignore_errors=True)


class HelperProbe:
    def __init__(self, path: Path):
        self.path = path

    def list(self) -> dict:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.path))
            s.settimeout(5)
            s.sendall(b'{"id":"p","type":"list"}\n')
            data = b""
            while b"\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data.split(b"\n")[0])


def test_helper_restart_wrapper_reregisters_and_kill_works_again(control):
    wrapper, pidfile = control.run("hang", "hr1")
    (pid,) = read_pids(pidfile)
    control.wait_registered("hr1", pid)
    assert control.stop_helper() == 0
    assert not control.socket.exists()
    r = control.cli("kill", "hr1")
    assert r.returncode == 1 and "not reachable" in r.stderr
    time.sleep(0.5)
    assert alive(pid) and wrapper.poll() is None  # the agent kept running
    control.start_helper()
    control.wait_registered("hr1", pid, timeout=5)
    r = control.cli("kill", "hr1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["pid"] == pid
    assert wrapper.wait(10) == 143


def test_second_helper_refused_and_stale_socket_replaced(control):
    r = subprocess.run([str(control.bin), "helper", "--socket", str(control.socket)], env=control.env,
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "already listening" in r.stderr
    control.stop_helper(signal.SIGKILL)  # leaves the socket file behind
    assert control.socket.exists()
    control.start_helper()
    assert "removing stale socket" in control.helper_log.read_text()


def test_unknown_agent_and_bad_requests(control):
    r = control.cli("kill", "nobody")
    assert r.returncode == 1 and "not_found" in r.stderr
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(control.socket))
        s.settimeout(5)
        s.sendall(b'not json\n{"id":"q","type":"kill"}\n' + b"x" * (70 * 1024) + b"\n")
        data = b""
        while data.count(b"\n") < 3:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    lines = [json.loads(x) for x in data.splitlines()]
    assert [x["code"] for x in lines] == ["bad_request", "bad_request", "bad_request"], lines
    assert lines[1]["id"] == "q"
