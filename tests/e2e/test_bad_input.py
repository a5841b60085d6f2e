"""Bad input never crashes the sink and never loses what it already accepted: each malformed
request gets its documented status, and afterwards the process is up and earlier data intact."""

from __future__ import annotations

import gzip
import json

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from otlp_clients import ClaudeSession, encode_logs_request


def _accepted_session(sink) -> ClaudeSession:
    s = ClaudeSession().user_prompt().api_request(cost=0.25, inp=100, out=10)
    r = sink.post_otlp("logs", encode_logs_request([s]))
    assert r.status_code == 200, r.text[:300]
    sink.wait_counters(s.session_id, prompts=1, apiRequests=1)
    return s


def _still_intact(sink, s: ClaudeSession) -> None:
    assert sink.running(), sink.log_text()
    assert sink.get("/healthz").status_code == 200
    session = sink.session(s.session_id)
    assert session is not None and session["counters"]["apiRequests"] == 1
    assert session["counters"]["costUSD"] == 0.25


def test_ten_megabyte_body_is_413(sink):
    s = _accepted_session(sink)
    r = sink.post_otlp("logs", b"\x0a" * (10 * 1024 * 1024))
    assert r.status_code == 413, r.status_code
    _still_intact(sink, s)


def test_gzip_bomb_is_413_not_oom(sink):
    s = _accepted_session(sink)
    bomb = gzip.compress(b"\x00" * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 300 * 1024
    r = sink.post_otlp("logs", bomb, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 413, r.status_code
    _still_intact(sink, s)


def test_truncated_garbage_and_wrong_types_are_400(sink):
    s = _accepted_session(sink)
    valid = encode_logs_request([ClaudeSession().user_prompt()])
    for body, ctype in [
        (valid[: len(valid) // 2], "application/x-protobuf"),
        (b"\xde\xad\xbe\xef" * 1000, "application/x-protobuf"),
        (b'{"resourceLogs": [{"scopeLogs": "not a list"}]}', "application/json"),
        (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": {"x": 1}}]}]}]}', "application/json"),
        (b"\xff\xfe not utf-8 json", "application/json"),
    ]:
        r = sink.post_otlp("logs", body, content_type=ctype)
        assert r.status_code == 400, (body[:40], r.status_code, r.text[:200])
    _still_intact(sink, s)


def test_unknown_fields_are_ignored_and_huge_attributes_cut(sink):
    s = _accepted_session(sink)
    big = ClaudeSession()
    big.tool_result("Bash", success=True)
    req = ExportLogsServiceRequest()
    req.ParseFromString(encode_logs_request([big]))
    record = req.resource_logs[0].scope_logs[0].log_records[0]
    attr = record.attributes.add()
    attr.key = "tool_input"
    attr.value.string_value = "x" * (2 * 1024 * 1024)
    r = sink.post_otlp("logs", req.SerializeToString())
    assert r.status_code == 200, r.text[:300]
    sink.wait_counters(big.session_id, toolCalls=1)
    events = sink.all_events(big.session_id)
    stored = [e for e in events if e["kind"] == "tool_result"][0]["attributes"]["tool_input"]
    assert len(stored.encode()) < 8192 and stored.endswith("…[truncated]")

    from google.protobuf.json_format import MessageToDict
    doc = MessageToDict(encode_and_parse(ClaudeSession().user_prompt()))
    doc["someFutureField"] = {"nested": [1, 2, 3]}
    doc["resourceLogs"][0]["anotherNewField"] = "x"
    r = sink.post_otlp("logs", json.dumps(doc).encode(), content_type="application/json")
    assert r.status_code == 200, r.text[:300]
    _still_intact(sink, s)


def encode_and_parse(session: ClaudeSession) -> ExportLogsServiceRequest:
    req = ExportLogsServiceRequest()
    req.ParseFromString(encode_logs_request([session]))
    return req


def test_absurd_token_counts_neither_crash_nor_crash_loop(sink):
    """A record claiming 1e300 tokens (found by fuzzing) once crashed the sink, and again at every
    start once it was stored. Now the totals saturate, the API answers, and a restart works."""
    s = _accepted_session(sink)
    huge = ClaudeSession().api_request(cost=0.5, inp=1, out=1)
    req = ExportLogsServiceRequest()
    req.ParseFromString(encode_logs_request([huge]))
    for attr in req.resource_logs[0].scope_logs[0].log_records[0].attributes:
        if attr.key in ("input_tokens", "output_tokens"):
            attr.value.double_value = 1e300
    r = sink.post_otlp("logs", req.SerializeToString())
    assert r.status_code == 200, r.text[:300]
    got = sink.wait_counters(huge.session_id, apiRequests=1)["counters"]
    assert got["inputTokens"] == got["outputTokens"] == 2 ** 53, got
    _still_intact(sink, s)
    assert sink.stop() == 0
    sink.start()
    assert sink.session(huge.session_id)["counters"]["inputTokens"] == 2 ** 53
    _still_intact(sink, s)
