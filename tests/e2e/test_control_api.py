"""The sink's control API (`POST /control/kill|restart`) end to end with real processes.

A sink pointed at a helper on a temporary socket (`--helper-socket`), `observatory run` wrappers
around tests/e2e/control_agent.py, and HTTP calls with a control token made by
`observatory token create`. Checks that the process group is really gone, restart keeps the agent
id, a crash fires the default `agent-crashed` rule, and the security rules hold: no / wrong token
401 then 429, a device token 403, remote (proxied) callers 403 without --allow-remote-control,
unwrapped sessions 409, and the audit log has every attempt.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import wait_until
from test_wrapper_helper import Control, alive, group_members, read_pids

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(tmp_path, sink_factory):
    """(sink, control, control token): the sink talks to the helper at control.socket."""
    socket_path = tmp_path / "ctl" / "helper.sock"
    sink = sink_factory.start(extra_args=["--helper-socket", str(socket_path), "--rules-dir", str(REPO / "rules")])
    control = Control(tmp_path, sink.ingest_url)
    assert control.socket == socket_path
    control.start_helper()
    made = control.cli("token", "create", "e2e-control", "--data-dir", str(sink.data_dir))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("obsc_"), made.stdout
    yield sink, control, token
    control.close()


def post(sink, path: str, body: dict | str, token: str | None = None, **headers: str) -> requests.Response:
    h = {"Content-Type": "application/json", **headers}
    if token:
        h["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post(sink.api_url + path, data=data, headers=h, timeout=30)


def audit(sink) -> list[dict]:
    return sink.get_json("/api/audit", limit=1000)["entries"]


def test_kill_over_http_stops_the_whole_group(stack):
    sink, control, token = stack
    wrapper, pidfile = control.run("grandchild", "http-k1", grace=1)
    pid, grandchild = read_pids(pidfile)
    control.wait_registered("http-k1", pid)
    sink.wait_session("http-k1", desc="the wrapped agent's session")
    agents = sink.get_json("/api/agents")
    assert agents["helper"] == "running" and [a["id"] for a in agents["agents"]] == ["http-k1"], agents

    started = time.monotonic()
    r = post(sink, "/control/kill", {"session": "http-k1", "grace": 1}, token)
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["pid"] == pid and body["escalated"] is True and body["exitSignal"] == 15, body
    assert 1.0 <= elapsed < 5, elapsed
    assert not alive(pid) and not alive(grandchild) and group_members(pid) == []
    assert wrapper.wait(10) == 128 + signal.SIGTERM
    entry = [e for e in audit(sink) if e["action"] == "control.kill"][-1]
    assert entry["result"] == "ok" and "e2e-control" in entry["actor"] and entry["target"] == "session http-k1", entry
    assert token not in json.dumps(audit(sink)) and token not in sink.log_text()


def test_restart_over_http_new_pid_same_agent(stack):
    sink, control, token = stack
    wrapper, pidfile = control.run("hang", "http-r1", grace=2)
    (pid,) = read_pids(pidfile)
    control.wait_registered("http-r1", pid)
    pidfile.unlink()
    r = post(sink, "/control/restart", {"agent": "http-r1"}, token)
    assert r.status_code == 200, r.text
    new_pid = r.json()["newPid"]
    assert isinstance(new_pid, int) and new_pid != pid and not alive(pid)
    assert read_pids(pidfile) == [new_pid] and alive(new_pid) and wrapper.poll() is None
    agent = control.wait_registered("http-r1", new_pid)
    assert agent["id"] == "http-r1" and agent["restarts"] == 1
    assert post(sink, "/control/kill", {"agent": "http-r1"}, token).status_code == 200
    assert wrapper.wait(10) == 143


def test_crash_turns_the_session_crashed_and_fires_the_default_rule(stack):
    sink, control, _ = stack
    agent_id = f"http-crash-{uuid.uuid4().hex[:6]}"
    wrapper, _ = control.run("exit3", agent_id)
    assert wrapper.wait(20) == 3
    sink.wait_session(agent_id, lambda s: s["status"] == "crashed", desc="crashed session")

    def firing():
        alerts = sink.get_json("/api/alerts")["alerts"]
        return [a for a in alerts if a["ruleID"] == "agent-crashed" and a["state"] == "firing"
                and a.get("sessionID") == agent_id] or None
    wait_until(firing, desc="agent-crashed firing")


def test_tokens_are_required_and_failures_are_rate_limited_and_audited(stack):
    sink, control, token = stack
    wrapper, pidfile = control.run("hang", "http-s1", grace=1)
    (pid,) = read_pids(pidfile)
    control.wait_registered("http-s1", pid)

    assert post(sink, "/control/kill", {"agent": "http-s1"}).status_code == 401
    device = control.cli("token", "create", "--device", "phone", "--data-dir", str(sink.data_dir)).stdout.strip()
    assert device.startswith("obsd_")
    assert post(sink, "/control/kill", {"agent": "http-s1"}, device).status_code == 403
    # Remote (through a proxy) without --allow-remote-control: refused even with the right token.
    r = post(sink, "/control/kill", {"agent": "http-s1"}, token, **{"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 403 and "--allow-remote-control" in r.json()["error"]
    # Cross-site: a page on another origin cannot make the call.
    assert post(sink, "/control/kill", {"agent": "http-s1"}, token, Origin="https://evil.example").status_code == 403
    # Shell metacharacters in ids are just unknown ids.
    assert post(sink, "/control/kill", {"agent": "$(touch /tmp/pwned);x"}, token).status_code == 409
    assert alive(pid)

    statuses = [post(sink, "/control/kill", {"agent": "http-s1"}, "obsc_guess").status_code for _ in range(7)]
    assert statuses[:6] == [401] * 6 and statuses[6] == 429, statuses
    r = post(sink, "/control/kill", {"agent": "http-s1"}, token)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert alive(pid)

    results = [e["result"] for e in audit(sink) if e["action"] == "control.kill"]
    assert results[:5] == ["no_token", "wrong_scope", "remote_refused", "not_controllable", "bad_token"], results
    assert results.count("bad_token") == 6 and results.count("rate_limited") >= 2, results
    control.cli("kill", "http-s1")
    wrapper.wait(10)


def test_unwrapped_sessions_are_not_controllable_and_helper_down_is_503(stack):
    sink, control, token = stack
    body = json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
        "scopeLogs": [{"logRecords": [{
            "timeUnixNano": str(time.time_ns()), "body": {"stringValue": "claude_code.user_prompt"},
            "attributes": [{"key": "event.name", "value": {"stringValue": "user_prompt"}},
                           {"key": "session.id", "value": {"stringValue": "plain-1"}}]}]}]}]}).encode()
    assert sink.post_otlp("logs", body, content_type="application/json").status_code == 200
    sink.wait_session("plain-1")
    r = post(sink, "/control/kill", {"session": "plain-1"}, token)
    assert r.status_code == 409 and "observatory run" in r.json()["error"], r.text
    assert post(sink, "/control/kill", {"session": "no-such-session"}, token).status_code == 404
    control.stop_helper()
    r = post(sink, "/control/kill", {"agent": "anything"}, token)
    assert r.status_code == 503 and "observatory helper" in r.json()["error"], r.text
    assert sink.get_json("/api/agents")["helper"] == "unreachable"


def test_revoked_token_stops_working_at_once(stack):
    sink, control, token = stack
    listed = control.cli("token", "list", "--data-dir", str(sink.data_dir))
    assert "e2e-control" in listed.stdout and token not in listed.stdout
    assert post(sink, "/control/kill", {"agent": "nobody"}, token).status_code == 409
    revoked = control.cli("token", "revoke", "e2e-control", "--data-dir", str(sink.data_dir))
    assert revoked.returncode == 0, revoked.stderr
    assert post(sink, "/control/kill", {"agent": "nobody"}, token).status_code == 401
    actions = [e["action"] for e in audit(sink)]
    assert "token.create" in actions and "token.revoke" in actions
