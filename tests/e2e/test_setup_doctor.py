"""`observatory setup` and `observatory doctor` as a user runs them, against a real sink.

HOME is a temporary directory in every test: the real home is never read or written.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import uuid
from pathlib import Path

from test_hooks import FIXTURES, observatory_binary


def run(home: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OBSERVATORY_", "XDG_", "CODEX_"))}
    e["HOME"] = str(home)
    e.update(env or {})
    return subprocess.run([str(observatory_binary()), *args], capture_output=True, text=True, env=e,
                          cwd=cwd or home, input=stdin, timeout=30)


def test_setup_claude_code_hooks_reach_the_sink(sink, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    p = run(home, "setup", "claude-code", "--endpoint", sink.ingest_url)
    assert p.returncode == 0, p.stderr
    assert "+++ " in p.stdout and "written" in p.stdout
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == sink.ingest_url
    # Run the hook command exactly as Claude Code would: through the shell, payload on stdin.
    command = settings["hooks"]["PermissionRequest"][0]["hooks"][0]["command"]
    assert f"--endpoint {sink.ingest_url}" in command
    sid = f"setup-{uuid.uuid4()}"
    payload = json.loads((FIXTURES / "claude-PermissionRequest.json").read_text())
    payload["session_id"] = sid
    r = subprocess.run(["sh", "-c", command], input=json.dumps(payload).encode(), capture_output=True,
                       env={"HOME": str(home), "PATH": os.environ.get("PATH", "")}, timeout=10)
    assert r.returncode == 0 and r.stdout == b""
    sink.wait_session(sid, lambda s: s["status"] == "waiting")

    again = run(home, "setup", "claude-code", "--endpoint", sink.ingest_url)
    assert "already set up: nothing to change" in again.stdout
    removed = run(home, "setup", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert not (home / ".claude" / "settings.json").exists()  # setup had created it


def test_setup_codex_notify_reaches_the_sink(sink, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    p = run(home, "setup", "codex", "--endpoint", sink.ingest_url)
    assert p.returncode == 0, p.stderr
    config = (home / ".codex" / "config.toml").read_text()
    notify_line = next(line for line in config.splitlines() if line.startswith("notify = "))
    argv = json.loads(notify_line.split("=", 1)[1])  # a TOML array of basic strings reads as JSON
    thread = str(uuid.uuid4())
    payload = json.loads((FIXTURES / "codex-agent-turn-complete.json").read_text())
    payload["thread-id"] = thread
    r = subprocess.run(argv + [json.dumps(payload)], capture_output=True, env={"HOME": str(home)}, timeout=10)
    assert r.returncode == 0 and r.stdout == b""
    s = sink.wait_session(thread, lambda s: s["status"] == "idle")
    assert s["agent"] == "codex"
    assert f'endpoint = "{sink.ingest_url}/v1/logs"' in config


def test_setup_dry_run_and_refusal(tmp_path):
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    p = run(home, "setup", "gemini", "--dry-run")
    assert p.returncode == 0 and "dry run: nothing written" in p.stdout
    assert not (home / ".gemini" / "settings.json").exists()
    (home / ".gemini" / "settings.json").write_text('{\n  // keep me\n  "theme": "x"\n}\n')
    p = run(home, "setup", "gemini")
    assert p.returncode == 1 and "comments" in p.stderr
    assert "keep me" in (home / ".gemini" / "settings.json").read_text()
    assert run(home, "setup", "nonsense").returncode != 0
    assert run(home, "setup", "codex", "--scope", "project").returncode == 1


def test_doctor_with_the_sink_up_and_down(sink, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"OBSERVATORY_ENDPOINT": sink.ingest_url, "OBSERVATORY_API": sink.api_url}
    p = run(home, "doctor", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "test event arrived end to end" in p.stdout
    doctor_sessions = [s for s in sink.sessions() if s["id"].startswith("observatory-doctor-")]
    assert len(doctor_sessions) == 1
    sink.wait_session(doctor_sessions[0]["id"], lambda s: s["status"] == "ended")

    p = run(home, "doctor", "--agent", "claude-code", env=env)
    assert p.returncode == 1 and "FAIL claude-code: not set up" in p.stdout
    run(home, "setup", "claude-code", "--endpoint", sink.ingest_url)
    p = run(home, "doctor", "--agent", "claude-code", env=env)
    assert p.returncode == 0, p.stdout
    assert "ok   claude-code:" in p.stdout

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    p = run(home, "doctor", env={"OBSERVATORY_ENDPOINT": dead, "OBSERVATORY_API": dead})
    assert p.returncode == 1 and "FAIL sink ingest" in p.stdout
    # The settings point at the live sink, not the address doctor was given: said so.
    assert "OTEL_EXPORTER_OTLP_ENDPOINT is" in p.stdout
