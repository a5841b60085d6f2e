"""OTLP/HTTP answers as architecture.md's receiver contract states (the OTLP spec): 200 with an
Export…ServiceResponse in the request's encoding, 400 for an undecodable body, 415 for an unknown
content type."""

from __future__ import annotations

import json

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from otlp_clients import ClaudeSession, encode_logs_request


def test_success_answer_uses_the_request_encoding(sink):
    s = ClaudeSession().user_prompt()
    r = sink.post_otlp("logs", encode_logs_request([s]))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/x-protobuf"), r.headers
    ExportLogsServiceResponse().ParseFromString(r.content)  # raises if not a valid response message

    from google.protobuf.json_format import MessageToJson
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    req = ExportLogsServiceRequest()
    s2 = ClaudeSession().user_prompt()
    req.ParseFromString(encode_logs_request([s2]))
    r = sink.post_otlp("logs", MessageToJson(req).encode(), content_type="application/json")
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert isinstance(json.loads(r.content or b"{}"), dict)
    sink.wait_counters(s.session_id, prompts=1)
    sink.wait_counters(s2.session_id, prompts=1)


def test_undecodable_body_is_400(sink):
    r = sink.post_otlp("logs", b"\xff\xff\xff\xff not protobuf")
    assert r.status_code == 400, (r.status_code, r.text[:300])
    r = sink.post_otlp("logs", b"{not json", content_type="application/json")
    assert r.status_code == 400, (r.status_code, r.text[:300])


def test_unknown_content_type_is_415(sink):
    r = sink.post_otlp("logs", b"hello", content_type="text/plain")
    assert r.status_code == 415, (r.status_code, r.text[:300])
