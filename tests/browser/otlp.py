"""OTLP for the browser tests, made by the OpenTelemetry Python SDK (LoggerProvider → in-memory
exporter → the OTLP/HTTP exporter's own protobuf encoder) and POSTed to the sink's receiver.

Besides Claude Code's telemetry events (tests/e2e/otlp_clients.py), it sends the Observatory's own
`observatory.hook` records — what `observatory hook` bridges from Claude Code's hooks — because
telemetry alone never says "waiting for you" or "finished" (docs/sessions.md)."""

from __future__ import annotations

import time
from typing import Any

import requests
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from otlp_clients import CLAUDE_CODE_VERSION, LOGS_SCOPE, ClaudeSession, claude_code_resource


def encode(records: list[tuple[str, dict[str, Any]]]) -> bytes:
    mem = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=claude_code_resource())
    provider.add_log_record_processor(SimpleLogRecordProcessor(mem))
    logger = provider.get_logger(LOGS_SCOPE, CLAUDE_CODE_VERSION)
    for body, attrs in records:
        logger.emit(timestamp=time.time_ns(), body=body, attributes=attrs)
    provider.shutdown()
    return encode_logs(mem.get_finished_logs()).SerializeToString()


def send_logs(ingest_url: str, records: list[tuple[str, dict[str, Any]]]) -> None:
    r = requests.post(ingest_url.rstrip("/") + "/v1/logs", data=encode(records),
                      headers={"Content-Type": "application/x-protobuf"}, timeout=10)
    assert r.status_code == 200, f"OTLP logs → {r.status_code}: {r.text[:300]}"


def send_session(ingest_url: str, s: ClaudeSession) -> None:
    send_logs(ingest_url, s.events)
    s.events.clear()


def hook(sid: str, event: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    """One `observatory.hook` record, as `observatory hook` sends it for Claude Code."""
    attrs: dict[str, Any] = {"hook.event": event, "hook.agent": "claude-code", "session.id": sid,
                             "event.name": "observatory.hook"}
    attrs.update(extra)
    return ("observatory.hook", attrs)
