"""Real OTLP/HTTP clients for the end-to-end tests: the OpenTelemetry Python SDK with its
OTLP/HTTP exporters (http/protobuf and http/json), emitting data shaped like Claude Code's
telemetry (shared/reference/agent-telemetry.md §1.2-§1.5).

Both exporters are the OpenTelemetry project's own packages:
  * http/protobuf: opentelemetry-exporter-otlp-proto-http
  * http/json:     opentelemetry-exporter-otlp-json-http (a real JSON exporter exists on PyPI,
                   so nothing here hand-builds OTLP JSON).

Export results are checked: a subclass of each exporter records what `export` returned, and the
emit helpers raise if any export failed, so a test never asserts on data the sink refused.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

CLAUDE_CODE_VERSION = "2.1.221"
LOGS_SCOPE = "com.anthropic.claude_code.events"
METRICS_SCOPE = "com.anthropic.claude_code"

PROTOCOLS = ("http/protobuf", "http/json")


def claude_code_resource() -> Resource:
    # Resource.create would merge in telemetry.sdk.* and OTEL_RESOURCE_ATTRIBUTES from the
    # environment; Claude Code's resource is exactly these keys (§1.2).
    return Resource(
        {
            "service.name": "claude-code",
            "service.version": CLAUDE_CODE_VERSION,
            "os.type": "linux",
            "os.version": "6.8.0",
            "host.arch": "amd64",
        }
    )


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------
# A scripted Claude Code session and the counters it should produce
# --------------------------------------------------------------------------------------------


@dataclass
class Expected:
    prompts: int = 0
    api_requests: int = 0
    api_errors: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


@dataclass
class ClaudeSession:
    """Builds the events of one Claude Code session, as (body, attributes) pairs with
    `event.name`, `event.timestamp`, `event.sequence` and `session.id` filled in."""

    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    model: str = "claude-sonnet-4-5-20250929"
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    expected: Expected = field(default_factory=Expected)
    prompt_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def _add(self, short: str, attrs: dict[str, Any]) -> None:
        base = {
            "event.name": short,
            "event.timestamp": iso_now(),
            "event.sequence": len(self.events) + 1,
            "session.id": self.session_id,
            "user.id": "5f1c0a6b3e2d4f7a9b8c1d2e3f4a5b6c",
            "terminal.type": "tmux",
            "prompt.id": self.prompt_id,
        }
        base.update(attrs)
        self.events.append(("claude_code." + short, base))

    def user_prompt(self, length: int = 42) -> "ClaudeSession":
        self.prompt_id = str(uuid.uuid4())
        # prompt_length has been seen on the wire as a string (§1.5).
        self._add("user_prompt", {"prompt_length": str(length), "prompt": "<REDACTED>"})
        self.expected.prompts += 1
        return self

    def api_request(self, cost: float, inp: int, out: int, cache_read: int = 0, cache_creation: int = 0,
                    duration_ms: int = 2100) -> "ClaudeSession":
        self._add(
            "api_request",
            {
                "model": self.model,
                "cost_usd": cost,
                "duration_ms": duration_ms,
                "input_tokens": inp,
                "output_tokens": out,
                "cache_read_tokens": cache_read,
                "cache_creation_tokens": cache_creation,
                "request_id": "req_" + uuid.uuid4().hex[:24],
                "query_source": "main",
            },
        )
        e = self.expected
        e.api_requests += 1
        e.cost_usd += cost
        e.input_tokens += inp
        e.output_tokens += out
        e.cache_read_tokens += cache_read
        e.cache_creation_tokens += cache_creation
        return self

    def tool_result(self, tool: str, success: bool, duration_ms: int = 35) -> "ClaudeSession":
        attrs: dict[str, Any] = {
            "tool_name": tool,
            "tool_use_id": "toolu_" + uuid.uuid4().hex[:24],
            "success": "true" if success else "false",  # a STRING on the wire (§1.5)
            "duration_ms": duration_ms,
            "decision_type": "accept",
            "decision_source": "config",
            "tool_result_size_bytes": 512,
        }
        if not success:
            attrs["error_type"] = "Error:ENOENT"
        self._add("tool_result", attrs)
        self.expected.tool_calls += 1
        if not success:
            self.expected.tool_errors += 1
        return self

    def api_error(self, status_code: int = 529, attempt: int = 11) -> "ClaudeSession":
        self._add(
            "api_error",
            {
                "model": self.model,
                "error": "Overloaded",
                "status_code": status_code,
                "duration_ms": 30000,
                "attempt": attempt,
                "request_id": "req_" + uuid.uuid4().hex[:24],
                "query_source": "main",
            },
        )
        self.expected.api_errors += 1
        return self

    def kinds(self) -> list[str]:
        return [body.split(".", 1)[1] for body, _ in self.events]

    def bodies(self) -> list[str]:
        return [body for body, _ in self.events]


def standard_session(session_id: str | None = None) -> ClaudeSession:
    """One prompt, two API requests, three tool calls (one failed), one API error."""
    s = ClaudeSession(session_id=session_id) if session_id else ClaudeSession()
    return (
        s.user_prompt(57)
        .api_request(0.0123, 1200, 340, cache_read=5000, cache_creation=100)
        .tool_result("Bash", True, 812)
        .tool_result("Read", False, 4)
        .api_request(0.0045, 300, 80, cache_read=6100, cache_creation=0)
        .api_error(529, 11)
        .tool_result("Edit", True, 17)
    )


# --------------------------------------------------------------------------------------------
# Exporters
# --------------------------------------------------------------------------------------------


def _log_exporter(base_url: str, protocol: str, gzip: bool):
    endpoint = base_url.rstrip("/") + "/v1/logs"
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        comp = Compression.Gzip if gzip else Compression.NoCompression
    elif protocol == "http/json":
        from opentelemetry.exporter.otlp.common.http import Compression
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter

        comp = Compression.GZIP if gzip else Compression.NONE
    else:
        raise ValueError(protocol)

    class Checked(OTLPLogExporter):
        results: list = []

        def export(self, batch):
            r = super().export(batch)
            self.results.append((len(batch), r))
            return r

    Checked.results = []
    return Checked(endpoint=endpoint, compression=comp, timeout=10)


def _metric_exporter(base_url: str, protocol: str, gzip: bool):
    endpoint = base_url.rstrip("/") + "/v1/metrics"
    # Claude Code's default temporality preference is delta (§1.1); the SDK default is cumulative.
    delta = {Counter: AggregationTemporality.DELTA}
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        comp = Compression.Gzip if gzip else Compression.NoCompression
    elif protocol == "http/json":
        from opentelemetry.exporter.otlp.common.http import Compression
        from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter

        comp = Compression.GZIP if gzip else Compression.NONE
    else:
        raise ValueError(protocol)

    class Checked(OTLPMetricExporter):
        results: list = []

        def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
            r = super().export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            self.results.append(r)
            return r

    Checked.results = []
    return Checked(endpoint=endpoint, compression=comp, timeout=10, preferred_temporality=delta)


class ExportFailed(AssertionError):
    pass


def emit_logs(base_url: str, sessions: list[ClaudeSession], protocol: str = "http/protobuf",
              gzip: bool = False, batch: bool = True) -> None:
    """Emit every event of `sessions` through LoggerProvider → (Batch|Simple)LogRecordProcessor →
    OTLPLogExporter, flush and shut down; raise ExportFailed unless every export succeeded."""
    exporter = _log_exporter(base_url, protocol, gzip)
    provider = LoggerProvider(resource=claude_code_resource())
    if batch:
        proc = BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000, max_export_batch_size=512)
    else:
        proc = SimpleLogRecordProcessor(exporter)
    provider.add_log_record_processor(proc)
    logger = provider.get_logger(LOGS_SCOPE, CLAUDE_CODE_VERSION)
    n = 0
    for s in sessions:
        for body, attrs in s.events:
            logger.emit(timestamp=time.time_ns(), body=body, attributes=attrs)
            n += 1
    ok = provider.force_flush(15_000)
    provider.shutdown()
    results = type(exporter).results
    sent = sum(k for k, r in results if r == LogRecordExportResult.SUCCESS)
    if not ok or sent != n or any(r != LogRecordExportResult.SUCCESS for _, r in results):
        raise ExportFailed(f"{protocol} log export: flushed={ok}, {sent}/{n} records acknowledged, "
                           f"results={results}")


class MetricEmitter:
    """claude_code.cost.usage and claude_code.token.usage as monotonic counters exported with
    DELTA temporality; `flush()` collects and exports one delta."""

    def __init__(self, base_url: str, protocol: str = "http/protobuf", gzip: bool = False):
        self.exporter = _metric_exporter(base_url, protocol, gzip)
        self.reader = PeriodicExportingMetricReader(self.exporter, export_interval_millis=math.inf)
        self.provider = MeterProvider(resource=claude_code_resource(), metric_readers=[self.reader])
        meter = self.provider.get_meter(METRICS_SCOPE, CLAUDE_CODE_VERSION)
        self.cost = meter.create_counter("claude_code.cost.usage", unit="USD",
                                         description="Cost of the Claude Code session")
        self.tokens = meter.create_counter("claude_code.token.usage", unit="tokens",
                                           description="Number of tokens used")
        self.flushes = 0

    def api_request(self, session_id: str, model: str, cost: float, inp: int, out: int,
                    cache_read: int = 0, cache_creation: int = 0) -> None:
        base = {"session.id": session_id, "user.id": "5f1c0a6b3e2d4f7a9b8c1d2e3f4a5b6c",
                "terminal.type": "tmux", "model": model, "query_source": "main"}
        # Claude Code creates its instruments without a value type: values go out as doubles.
        self.cost.add(float(cost), base)
        for typ, v in (("input", inp), ("output", out), ("cacheRead", cache_read),
                       ("cacheCreation", cache_creation)):
            if v:
                self.tokens.add(float(v), {**base, "type": typ})

    def flush(self) -> None:
        ok = self.reader.force_flush(15_000)
        self.flushes += 1
        results = type(self.exporter).results
        if not ok or not results or any(r != MetricExportResult.SUCCESS for r in results):
            raise ExportFailed(f"metric export: flushed={ok}, results={results}")

    def shutdown(self) -> None:
        self.provider.shutdown()


# --------------------------------------------------------------------------------------------
# Raw request bodies made by the SDK's own encoders (for replay / dedup / crash tests)
# --------------------------------------------------------------------------------------------


def encode_logs_request(sessions: list[ClaudeSession]) -> bytes:
    """The exact ExportLogsServiceRequest protobuf the OTLP/HTTP exporter would POST: records go
    through the SDK (LoggerProvider → InMemoryLogRecordExporter) and the exporter's encoder."""
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

    mem = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=claude_code_resource())
    provider.add_log_record_processor(SimpleLogRecordProcessor(mem))
    logger = provider.get_logger(LOGS_SCOPE, CLAUDE_CODE_VERSION)
    for s in sessions:
        for body, attrs in s.events:
            logger.emit(timestamp=time.time_ns(), body=body, attributes=attrs)
    provider.shutdown()
    return encode_logs(mem.get_finished_logs()).SerializeToString()


class MetricBodies:
    """Delta-temporality ExportMetricsServiceRequest protobufs made by the SDK (MeterProvider →
    InMemoryMetricReader → the OTLP exporter's encoder): record api requests, then `collect()`
    returns the body for everything recorded since the previous collect."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader(preferred_temporality={Counter: AggregationTemporality.DELTA})
        self.provider = MeterProvider(resource=claude_code_resource(), metric_readers=[self.reader])
        meter = self.provider.get_meter(METRICS_SCOPE, CLAUDE_CODE_VERSION)
        self.cost = meter.create_counter("claude_code.cost.usage", unit="USD")
        self.tokens = meter.create_counter("claude_code.token.usage", unit="tokens")

    def api_request(self, session_id: str, model: str, cost: float, inp: int, out: int,
                    cache_read: int = 0, cache_creation: int = 0) -> "MetricBodies":
        base = {"session.id": session_id, "model": model, "query_source": "main"}
        self.cost.add(float(cost), base)
        for typ, v in (("input", inp), ("output", out), ("cacheRead", cache_read),
                       ("cacheCreation", cache_creation)):
            if v:
                self.tokens.add(float(v), {**base, "type": typ})
        return self

    def collect(self) -> bytes:
        from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics

        data = self.reader.get_metrics_data()
        assert data is not None and data.resource_metrics, "nothing recorded since the last collect"
        return encode_metrics(data).SerializeToString()

    def shutdown(self) -> None:
        self.provider.shutdown()
