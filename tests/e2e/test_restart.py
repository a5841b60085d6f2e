"""Durability: sessions and events survive a clean restart (SIGTERM) and a crash (kill -9)
right after the sink acknowledged a request."""

from __future__ import annotations

import gzip as gz

from otlp_clients import ClaudeSession, MetricBodies, emit_logs, encode_logs_request, standard_session

STABLE_SESSION_KEYS = ("id", "agent", "name", "model", "cwd", "firstSeen", "counters")


def event_view(evs: list[dict]) -> list[tuple]:
    return [(e["seq"], e["sessionId"], e["kind"], e["name"], e["time"], e["attributes"]) for e in evs]


def log_counters(s: ClaudeSession) -> dict:
    e = s.expected
    return dict(events=len(s.events), prompts=e.prompts, apiRequests=e.api_requests, apiErrors=e.api_errors,
                toolCalls=e.tool_calls, toolErrors=e.tool_errors, costUSD=e.cost_usd,
                inputTokens=e.input_tokens, outputTokens=e.output_tokens,
                cacheReadTokens=e.cache_read_tokens, cacheCreationTokens=e.cache_creation_tokens)


def test_sigterm_restart_keeps_sessions_and_events(sink_factory):
    sink = sink_factory.start()
    a, b = standard_session(), standard_session()
    emit_logs(sink.ingest_url, [a, b])
    before = {s.session_id: sink.wait_counters(s.session_id, **log_counters(s)) for s in (a, b)}
    events_before = {s.session_id: sink.all_events(s.session_id) for s in (a, b)}

    rc = sink.stop()
    assert rc == 0, f"observatory-sink exited with {rc} on SIGTERM"

    sink.start()  # same data dir, new ports
    listed = {x["id"] for x in sink.sessions()}
    assert {a.session_id, b.session_id} <= listed
    for s in (a, b):
        after = sink.session(s.session_id)
        assert after is not None, f"session {s.session_id} lost across the restart"
        assert {k: after.get(k) for k in STABLE_SESSION_KEYS} == \
               {k: before[s.session_id].get(k) for k in STABLE_SESSION_KEYS}
        assert event_view(sink.all_events(s.session_id)) == event_view(events_before[s.session_id])

    # The session goes on after the restart: new events land after the old ones.
    a.tool_result("Grep", True)
    emit_logs(sink.ingest_url, [ClaudeSession(session_id=a.session_id, events=a.events[-1:])])
    sink.wait_counters(a.session_id, **log_counters(a))
    evs = sink.all_events(a.session_id)
    assert evs[-1]["name"] == "claude_code.tool_result" and evs[-1]["attributes"].get("tool_name") == "Grep"
    assert evs[-1]["seq"] > events_before[a.session_id][-1]["seq"]


def test_kill9_right_after_ack_loses_nothing(sink_factory):
    sink = sink_factory.start()
    acknowledged: list[tuple[ClaudeSession, dict]] = []
    for round_no in range(3):
        batch = [standard_session() for _ in range(3)]
        for i, s in enumerate(batch):
            body = encode_logs_request([s])
            headers = {}
            if i == 1:
                body, headers = gz.compress(body), {"Content-Encoding": "gzip"}
            r = sink.post_otlp("logs", body, headers=headers)
            assert r.status_code == 200, (round_no, r.status_code, r.text[:300])
            acknowledged.append((s, log_counters(s)))
        # Metrics for the last session, bigger than its logs: cost comes from this request.
        last = batch[-1]
        mb = MetricBodies()
        body = mb.api_request(last.session_id, last.model, 1.5, 100000, 2000, 0, 0).collect()
        mb.shutdown()
        r = sink.post_otlp("metrics", body)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        want = acknowledged[-1][1]
        del want["events"]  # metric data points may or may not be listed as events
        want.update(costUSD=max(want["costUSD"], 1.5), inputTokens=max(want["inputTokens"], 100000),
                    outputTokens=max(want["outputTokens"], 2000))

        sink.kill()  # kill -9 immediately after the last 200
        sink.start()
        for s, want in acknowledged:
            sess = sink.wait_counters(s.session_id, timeout=10, **want)
            assert sess["agent"] == "claude-code"
            evs = [e for e in sink.all_events(s.session_id) if e["kind"] != "metric"]
            assert [e["kind"] for e in evs] == s.kinds(), f"round {round_no}: events of {s.session_id} differ"
