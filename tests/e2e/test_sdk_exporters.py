"""The OpenTelemetry Python SDK's own OTLP/HTTP exporters (http/protobuf and http/json, plain and
gzip) sending Claude-Code-shaped logs and delta metrics to a real observatory-sink."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from conftest import wait_until
from otlp_clients import (
    PROTOCOLS,
    ClaudeSession,
    MetricEmitter,
    emit_logs,
    standard_session,
)

AGENT = "claude-code"


def counters_of(exp) -> dict:
    return {
        "prompts": exp.prompts,
        "apiRequests": exp.api_requests,
        "apiErrors": exp.api_errors,
        "toolCalls": exp.tool_calls,
        "toolErrors": exp.tool_errors,
        "costUSD": exp.cost_usd,
        "inputTokens": exp.input_tokens,
        "outputTokens": exp.output_tokens,
        "cacheReadTokens": exp.cache_read_tokens,
        "cacheCreationTokens": exp.cache_creation_tokens,
    }


def parse_time(v: str) -> datetime:
    assert isinstance(v, str) and v, f"not an ISO-8601 string: {v!r}"
    return datetime.fromisoformat(v.replace("Z", "+00:00"))


SESSION_FIELDS = ("id", "agent", "name", "model", "cwd", "status", "firstSeen", "lastSeen", "lastProgress",
                  "statusSince", "counters")
COUNTER_FIELDS = ("costUSD", "inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens",
                  "toolCalls", "toolErrors", "apiRequests", "apiErrors", "prompts", "events")


def check_session_shape(sess: dict, s: ClaudeSession) -> None:
    # Keys that must have a value here; name/cwd/lastProgress may be null (see the test below).
    required = ("id", "agent", "model", "status", "firstSeen", "lastSeen", "statusSince", "counters")
    missing = [k for k in required if sess.get(k) is None] + [
        "counters." + k for k in COUNTER_FIELDS if k not in (sess.get("counters") or {})]
    assert not missing, f"session JSON lacks {missing}: {sess}"
    assert sess["id"] == s.session_id
    assert sess["agent"] == AGENT, sess
    assert sess["model"] == s.model, sess
    assert sess["status"] in ("starting", "working", "waiting", "idle", "ended", "crashed"), sess
    first, last = parse_time(sess["firstSeen"]), parse_time(sess["lastSeen"])
    assert first <= last, sess
    for k in ("lastProgress", "statusSince"):
        if sess.get(k) is not None:
            parse_time(sess[k])
    c = sess["counters"]
    for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "toolCalls",
              "toolErrors", "apiRequests", "apiErrors", "prompts", "events"):
        assert isinstance(c[k], int) and not isinstance(c[k], bool), f"counters.{k} is not an integer: {c!r}"
    assert isinstance(c["costUSD"], (int, float)), c


def check_events(sink, s: ClaudeSession) -> list[dict]:
    evs = sink.all_events(s.session_id)
    log_evs = [e for e in evs if e["kind"] != "metric"]
    assert [e["kind"] for e in log_evs] == s.kinds(), [(e["seq"], e["kind"], e["name"]) for e in evs]
    assert [e["name"] for e in log_evs] == s.bodies()
    seqs = [e["seq"] for e in evs]
    assert all(isinstance(q, int) for q in seqs) and seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    for e, (body, attrs) in zip(log_evs, s.events):
        assert e["sessionId"] == s.session_id, e
        parse_time(e["time"])
        parse_time(e["receivedAt"])
        a = e["attributes"]
        assert isinstance(a, dict), e
        # (The sink may fold the standard keys - session.id, event.name, event.sequence,
        # event.timestamp - into sessionId/name/time; the per-event attributes must be there.)
        if body == "claude_code.tool_result":
            assert a.get("tool_name") == attrs["tool_name"], e
            assert str(a.get("success")).lower() == attrs["success"], e
        if body == "claude_code.api_request":
            assert a.get("model") == s.model, e
    return evs


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_claude_code_logs_then_metrics(sink, protocol, gzip):
    s = standard_session()
    exp = counters_of(s.expected)
    emit_logs(sink.ingest_url, [s], protocol=protocol, gzip=gzip)

    sess = sink.wait_counters(s.session_id, **exp, events=len(s.events))
    check_session_shape(sess, s)
    assert sess["status"] == "working", sess

    listed = {x["id"]: x for x in sink.sessions()}
    assert s.session_id in listed, list(listed)
    assert listed[s.session_id]["agent"] == AGENT

    evs = check_events(sink, s)
    assert len(evs) == len(s.events), [(e["seq"], e["kind"]) for e in evs]
    # Paging with a small limit walks the same events in the same order.
    assert [e["seq"] for e in sink.all_events(s.session_id, limit=2)] == [e["seq"] for e in evs]
    page = sink.events(s.session_id, after=evs[2]["seq"], limit=3)
    assert [e["seq"] for e in page["events"]] == [e["seq"] for e in evs[3:6]], page

    # The same two API requests reported again as DELTA metrics, in two exports: the sink takes
    # per session max(logs, metrics), so totals must not change (and certainly not double).
    m = MetricEmitter(sink.ingest_url, protocol=protocol, gzip=gzip)
    for body, a in s.events:
        if body == "claude_code.api_request":
            m.api_request(s.session_id, s.model, a["cost_usd"], a["input_tokens"], a["output_tokens"],
                          a["cache_read_tokens"], a["cache_creation_tokens"])
            m.flush()
    m.shutdown()
    # Barrier: one more prompt over the same protocol; once it shows, the metrics before it have
    # been taken in too.
    s2 = ClaudeSession(session_id=s.session_id, model=s.model, events=list(s.events))
    s2.user_prompt(9)
    emit_logs(sink.ingest_url, [ClaudeSession(session_id=s.session_id, events=s2.events[-1:])],
              protocol=protocol, gzip=gzip)
    sess = sink.wait_counters_min(s.session_id, prompts=2)
    got = {k: sess["counters"][k] for k in exp if k != "prompts"}
    want = {k: v for k, v in exp.items() if k != "prompts"}
    assert got == pytest.approx(want), "metrics equal to the log totals changed the counters"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cost_is_max_of_logs_and_delta_metrics(sink, protocol):
    """Logs report two API requests; metrics report those two plus one more (its log event
    lost). Metric deltas from separate exports are summed; the session shows the larger total."""
    s = ClaudeSession().user_prompt().api_request(0.0123, 1200, 340, 5000, 100).api_request(0.0045, 300, 80, 6100, 0)
    emit_logs(sink.ingest_url, [s], protocol=protocol)
    e = s.expected
    sink.wait_counters(s.session_id, costUSD=e.cost_usd, inputTokens=e.input_tokens, apiRequests=2)

    m = MetricEmitter(sink.ingest_url, protocol=protocol)
    # export 1: only the first request; metrics total < logs total → counters stay at the logs' values
    m.api_request(s.session_id, s.model, 0.0123, 1200, 340, 5000, 100)
    m.flush()
    # export 2: the second request and an extra one (delta 0.0245 → metrics total 0.0368)
    m.api_request(s.session_id, s.model, 0.0045, 300, 80, 6100, 0)
    m.api_request(s.session_id, s.model, 0.0200, 1000, 500, 7000, 50)
    m.flush()
    m.shutdown()
    want = dict(costUSD=0.0123 + 0.0045 + 0.0200, inputTokens=2500, outputTokens=920,
                cacheReadTokens=18100, cacheCreationTokens=150)
    # sum of deltas = want; last delta only = 0.0245; logs + metrics = 0.0536: only max(logs, Σdeltas) matches
    sess = sink.wait_counters(s.session_id, **want)
    assert sess["agent"] == AGENT


def _prom_value(text: str, name: str, **labels: str) -> float | None:
    total = None
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m or m.group(1) != name:
            continue
        lab = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(lab.get(k) == v for k, v in labels.items()):
            total = (total or 0.0) + float(m.group(3))
    return total


def test_health_metrics_and_unknown_session(sink):
    r = sink.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}, (r.status_code, r.text)

    s = standard_session()
    emit_logs(sink.ingest_url, [s])
    sink.wait_counters(s.session_id, events=len(s.events))
    v = wait_until(lambda: (_prom_value(sink.metrics_text(), "observatory_records_received_total",
                                        signal="logs") or 0) >= len(s.events),
                   desc='observatory_records_received_total{signal="logs"} >= 7')
    assert v

    r = sink.get("/api/sessions/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404, (r.status_code, r.text[:300])


def test_session_json_has_every_contract_field(sink):
    """The contract lists name, cwd and lastProgress as Session fields: present (null allowed)
    even when the agent has not told them."""
    s = ClaudeSession().user_prompt()
    emit_logs(sink.ingest_url, [s])
    sess = sink.wait_session(s.session_id)
    missing = [k for k in SESSION_FIELDS if k not in sess]
    assert not missing, f"keys missing from GET /api/sessions/{{id}}: {missing} in {sess}"
    listed = [x for x in sink.sessions() if x["id"] == s.session_id]
    missing = [k for k in SESSION_FIELDS if k not in listed[0]]
    assert not missing, f"keys missing from GET /api/sessions: {missing} in {listed[0]}"
