"""Login and agent control in the dashboard against the real sink: a browser that looks remote
(X-Forwarded-For: the sink treats proxied requests as remote) must log in with a device token;
Kill/Restart go through the real /control API, with the helper missing, and end to end through
`observatory helper` and `observatory run` when the built `observatory` has them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import DESKTOP, PHONE, Front, card, e2e, new_session_id, wait_link, wait_status
from otlp import send_session
from otlp_clients import ClaudeSession

REMOTE = {"X-Forwarded-For": "203.0.113.1"}


def sink_bin() -> Path:
    return e2e.sink_binary()


def observatory_bin() -> Path:
    return sink_bin().with_name("observatory")


def make_token(data_dir: Path, name: str, device: bool) -> str:
    """`observatory-sink token create [--device] NAME --data-dir DIR` → the secret (stdout)."""
    args = [str(sink_bin()), "token", "create", *(["--device"] if device else []), name, "--data-dir", str(data_dir)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    assert out.startswith("obsd_" if device else "obsc_"), out
    return out


def start_sink(sink_factory, *extra: str, device: str | None = None, control: str | None = None):
    """A sink whose data directory already holds the named tokens; returns (sink, {name: secret})."""
    s = sink_factory.new()
    tokens = {}
    if device:
        tokens[device] = make_token(s.data_dir, device, device=True)
    if control:
        tokens[control] = make_token(s.data_dir, control, device=False)
    s.start(extra_args=list(extra))
    return s, tokens


def claude(sid: str) -> ClaudeSession:
    return ClaudeSession(session_id=sid)


# -- login ----------------------------------------------------------------------------------------


def test_remote_browser_logs_in_with_a_device_token_and_out_again(sink_factory, new_page, artifacts):
    sink, tokens = start_sink(sink_factory, device="phone")
    front = Front(sink)
    try:
        sid = new_session_id()
        send_session(sink.ingest_url, claude(sid).user_prompt())
        sink.wait_counters_min(sid, prompts=1)

        ctx, page, watch = new_page(**PHONE, extra_http_headers=REMOTE)
        page.goto(front.origin + "/")
        login = page.get_by_test_id("login")
        login.wait_for()
        assert "observatory token create --device NAME" in login.inner_text()
        assert page.get_by_test_id("session-card").count() == 0
        # The login field is focused and named.
        assert page.evaluate("document.activeElement && document.activeElement.dataset.testid") == "login-token"
        page.screenshot(path=str(artifacts / "phone-login.png"))

        # A bad token: the server's reason, still on the login screen.
        page.get_by_label("Device token").fill("obsd_not-a-real-token")
        page.get_by_test_id("login-submit").click()
        err = page.get_by_test_id("login-error")
        err.wait_for()
        assert "not valid" in err.inner_text()
        assert page.get_by_test_id("session-card").count() == 0

        # The right one: the sessions, and the live feed over the WebSocket (the cookie carries it).
        page.get_by_label("Device token").fill(tokens["phone"])
        page.get_by_test_id("login-submit").click()
        card(page, sid).wait_for()
        assert wait_link(page, "live") == "live"
        assert [c["name"] for c in ctx.cookies()] and all(c["httpOnly"] for c in ctx.cookies())
        sid2 = new_session_id()
        send_session(sink.ingest_url, claude(sid2).user_prompt())
        wait_status(page, sid2, "working")

        # Settings names the token and logs out: back to the login screen.
        page.get_by_test_id("tab-settings").click()
        access = page.get_by_test_id("access")
        access.wait_for()
        assert "phone" in access.inner_text()
        page.get_by_test_id("logout").click()
        page.get_by_test_id("login").wait_for()
        assert page.get_by_test_id("session-card").count() == 0
        assert requests.get(sink.api_url + "/api/sessions", headers=REMOTE, timeout=5).status_code == 401

        # Log in again, then lose the cookie: the next 401 (the Agents view's fetch) brings the login back.
        page.get_by_label("Device token").fill(tokens["phone"])
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("tab-sessions").wait_for()
        ctx.clear_cookies()
        page.get_by_test_id("tab-agents").click()
        page.get_by_test_id("login").wait_for()
        assert "log in with a device token" in page.get_by_test_id("login").inner_text()
        watch.assert_clean()
    finally:
        front.close()


def test_local_browser_needs_no_login(sink, front, new_page):
    ctx, page, watch = new_page(**DESKTOP)
    page.goto(front.origin + "/")
    assert wait_link(page, "live") == "live"
    assert page.get_by_test_id("login").count() == 0
    page.get_by_test_id("tab-settings").click()
    assert "no login needed" in page.get_by_test_id("access").inner_text()
    assert page.get_by_test_id("logout").count() == 0
    watch.assert_clean()


# -- control without a helper ----------------------------------------------------------------------


def test_helper_unreachable_hint_and_503_text(sink_factory, new_page, tmp_path):
    nowhere = tmp_path / "no-helper.sock"
    sink, tokens = start_sink(sink_factory, "--helper-socket", str(nowhere), control="ctl")
    front = Front(sink)
    try:
        sid = new_session_id()
        send_session(sink.ingest_url, claude(sid).user_prompt())
        sink.wait_counters_min(sid, prompts=1)
        roster = sink.get_json("/api/agents")
        assert roster["helper"] == "unreachable" and roster["agents"] == []

        ctx, page, watch = new_page(**PHONE)
        page.goto(front.origin + f"/sessions/{sid}")
        hint = page.get_by_test_id("control-hint")
        hint.wait_for()
        assert hint.get_attribute("data-kind") == "helper-down"
        assert "observatory helper" in hint.inner_text()
        assert page.get_by_test_id("kill").count() == 0
        page.get_by_test_id("tab-agents").click()
        page.get_by_test_id("helper-down").wait_for()
        assert "observatory helper" in page.get_by_test_id("helper-down").inner_text()

        # The helper went away after the roster said the agent was wrapped: the sink's 503 text is shown.
        ctx2, page2, watch2 = new_page(**PHONE)
        page2.route("**/api/agents", lambda r: r.fulfill(status=200, content_type="application/json", body=(
            '{"helper":"running","agents":[{"id":"%s","name":"ghost","pid":1,"argv":["x"],"cwd":"/","started":null,'
            '"restarts":0}],"unwrapped":[]}' % sid)))
        page2.goto(front.origin + f"/sessions/{sid}")
        page2.get_by_test_id("kill").click()
        page2.get_by_test_id("confirm-yes").click()
        page2.get_by_test_id("token-input").fill(tokens["ctl"])
        page2.get_by_test_id("token-remember").check()
        page2.get_by_test_id("token-submit").click()
        err = page2.get_by_test_id("control-error")
        err.wait_for()
        assert "the control helper is not reachable" in err.inner_text()
        assert "observatory helper" in err.inner_text()
        assert page2.evaluate("localStorage.getItem('observatory.controlToken')") == tokens["ctl"]
        watch.assert_clean()
        watch2.assert_clean()
    finally:
        front.close()


# -- end to end: observatory helper + observatory run ------------------------------------------------


def wrapper_available() -> str | None:
    obs = observatory_bin()
    if not obs.is_file():
        return f"{obs} not built"
    help_text = subprocess.run([str(obs), "--help"], capture_output=True, text=True, timeout=30).stdout
    if " helper " not in help_text or " run " not in help_text:
        return "the built `observatory` has no `helper`/`run` subcommands yet"
    return None


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(fn, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop_process(p: subprocess.Popen | None) -> None:
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


def test_kill_and_restart_a_real_wrapped_agent(sink_factory, new_page, artifacts):
    reason = wrapper_available()
    if reason:
        pytest.skip(reason)
    sockdir = Path(tempfile.mkdtemp(prefix="obs-ui-"))  # short: a Unix socket path has ~108 bytes
    sock = sockdir / "helper.sock"
    helper = run = None
    helper_log = open(sockdir / "helper.log", "wb")
    run_log = open(sockdir / "run.log", "wb")
    front = None
    try:
        sink, tokens = start_sink(sink_factory, "--helper-socket", str(sock), control="ctl")
        front = Front(sink)
        helper = subprocess.Popen([str(observatory_bin()), "helper", "--socket", str(sock)],
                                  stdout=helper_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(lambda: sock.exists() or helper.poll() is not None, what="the helper's socket")
        assert helper.poll() is None, (sockdir / "helper.log").read_text()

        agent_id = str(uuid.uuid4())
        env = {**os.environ, "OBSERVATORY_HELPER_SOCKET": str(sock), "OBSERVATORY_ENDPOINT": sink.ingest_url}
        run = subprocess.Popen([str(observatory_bin()), "run", "--name", "t", "--id", agent_id, "--",
                                "python3", "-c", "import time; time.sleep(600)"],
                               stdout=run_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                               start_new_session=True)

        def wrapped():
            if run.poll() is not None:
                raise AssertionError(f"observatory run exited {run.returncode}: {(sockdir / 'run.log').read_text()}")
            r = sink.get_json("/api/agents")
            return next((a for a in r.get("agents", []) if a["id"] == agent_id), None)

        agent = wait_for(wrapped, what="the agent in /api/agents")
        first_pid = agent["pid"]
        assert pid_alive(first_pid)
        wait_for(lambda: sink.session(agent_id) is not None, what="the agent's session")

        ctx, page, watch = new_page(**PHONE)
        page.goto(front.origin + "/agents")
        row = page.locator(f'[data-testid="wrapped-agent"][data-agent-id="{agent_id}"]')
        row.wait_for()
        assert str(first_pid) in row.inner_text()
        row.get_by_test_id("agent-session-link").click()
        page.get_by_test_id("session-detail").wait_for()

        # Restart: same agent id, a new process.
        page.get_by_role("button", name="Restart t").click()
        d = page.get_by_test_id("confirm")
        assert "Restart t?" in d.inner_text()
        page.get_by_test_id("confirm-yes").click()
        page.get_by_test_id("token-input").fill(tokens["ctl"])
        page.get_by_test_id("token-submit").click()
        toast = page.get_by_test_id("toast").last
        toast.wait_for(timeout=30_000)
        assert toast.inner_text().startswith(f"Restarted t (pid {first_pid}"), toast.inner_text()
        agent = wait_for(lambda: (a := wrapped()) and a["pid"] != first_pid and a, what="the restarted agent")
        second_pid = agent["pid"]
        assert not pid_alive(first_pid) and pid_alive(second_pid)
        assert agent["restarts"] == 1

        # Kill: the process is gone; the token is still in memory, so no token dialog.
        page.get_by_role("button", name="Kill t").click()
        d = page.get_by_test_id("confirm")
        assert "Kill t?" in d.inner_text() and str(second_pid) in d.inner_text()
        page.screenshot(path=str(artifacts / "phone-control-confirm.png"))
        page.get_by_test_id("confirm-yes").click()
        page.get_by_text(f"Killed t (pid {second_pid})").wait_for(timeout=30_000)
        assert page.get_by_test_id("token-dialog").count() == 0
        # No buttons for the process that is gone.
        page.locator('[data-testid="control-hint"][data-kind="killed"]').wait_for()
        assert page.get_by_test_id("kill").count() == 0
        wait_for(lambda: not pid_alive(second_pid), timeout=15, what="the killed agent to exit")
        wait_for(lambda: run.poll() is not None, timeout=15, what="observatory run to exit")
        page.screenshot(path=str(artifacts / "phone-control-killed.png"))
        watch.assert_clean()
    finally:
        if front:
            front.close()
        if run is not None and run.poll() is None:
            try:
                os.killpg(run.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                run.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
        stop_process(helper)
        helper_log.close()
        run_log.close()
        shutil.rmtree(sockdir, ignore_errors=True)
