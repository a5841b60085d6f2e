#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) from the project's own test
inputs. Run from the repository root with the e2e venv (it needs opentelemetry-proto and the
OpenTelemetry SDK): `.venv/bin/python fuzz/make_corpus.py`.

* otlp-protobuf, otlp-json: first byte = signal (0 logs, 1 metrics, 2 traces), then the body.
  JSON: Tests/SinkTests/Fixtures/*.json (shaped after each agent's telemetry); protobuf: bodies
  made by the OpenTelemetry SDK's encoders (tests/e2e/otlp_clients.py), a metrics body, a span
  body, the benchmark's 100-record template (bench/gen_bodies.py).
* rules: rules/*.yaml, Tests/SinkRulesTests/Fixtures/{good,bad}/*.yaml.
* expr: every expression in those rule files, and the expressions of the expression tests.

Also writes the dictionaries fuzz/otlp.dict and fuzz/rules.dict: the string literals of the code
under test (attribute keys, event names, keywords, functions), which libFuzzer cannot learn from
Swift string comparisons by itself.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

SIGNALS = {"logs": 0, "metrics": 1, "traces": 2}


def put(target: str, data: bytes) -> None:
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def otlp_json() -> None:
    for f in sorted((ROOT / "Tests" / "SinkTests" / "Fixtures").glob("*.json")):
        signal = "traces" if "traces" in f.name else "metrics" if "metrics" in f.name else "logs"
        put("otlp-json", bytes([SIGNALS[signal]]) + f.read_bytes())


def otlp_protobuf() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from otlp_clients import MetricBodies, encode_logs_request, standard_session

    put("otlp-protobuf", bytes([0]) + encode_logs_request([standard_session(), standard_session()]))
    mb = MetricBodies()
    put("otlp-protobuf", bytes([1]) + mb.api_request("s-1", "claude-sonnet-4-5", 0.5, 1000, 200, 30, 4).collect())
    mb.shutdown()
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "my-agent"
    span = rs.scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes(range(16)), bytes(range(8)), "chat gpt-5"
    span.start_time_unix_nano, span.end_time_unix_nano = 1_790_000_000_000_000_000, 1_790_000_001_000_000_000
    for k, v in (("gen_ai.operation.name", "chat"), ("gen_ai.conversation.id", "conv-1"), ("gen_ai.request.model", "gpt-5")):
        a = span.attributes.add()
        a.key, a.value.string_value = k, v
    a = span.attributes.add()
    a.key, a.value.int_value = "gen_ai.usage.input_tokens", 1200
    ev = span.events.add()
    ev.name, ev.time_unix_nano = "gen_ai.tool.message", 1_790_000_000_500_000_000
    put("otlp-protobuf", bytes([2]) + req.SerializeToString())
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_bodies.py"), tmp, "--records", "20", "--sessions", "3"],
                       check=True, stdout=subprocess.DEVNULL)
        for f in Path(tmp).glob("logs_*_uniq.pb"):
            put("otlp-protobuf", bytes([0]) + f.read_bytes())


def rule_files() -> list[Path]:
    files = sorted((ROOT / "rules").glob("*.yaml"))
    for kind in ("good", "bad"):
        files += sorted((ROOT / "Tests" / "SinkRulesTests" / "Fixtures" / kind).glob("*.yaml"))
    return files


EXPR_KEYS = re.compile(r"^\s*-?\s*(when|condition|resolve_when|match|filter|where|value|expr)\s*:\s*(.+?)\s*$")


def rules_and_exprs() -> None:
    for f in rule_files():
        text = f.read_text()
        put("rules", text.encode())
        for line in text.splitlines():
            m = EXPR_KEYS.match(line)
            if m:
                e = m.group(2)
                if len(e) >= 2 and e[0] == e[-1] and e[0] in "'\"":
                    e = e[1:-1]
                if e and e not in ("|", ">"):
                    put("expr", e.encode())
    tests = (ROOT / "Tests" / "SinkRulesTests" / "ExpressionTests.swift").read_text()
    for m in re.finditer(r'(?:eval|error|compile)\("((?:[^"\\]|\\.)*)"', tests):
        put("expr", m.group(1).encode().decode("unicode_escape").encode())


def literals(globs: list[str]) -> list[str]:
    out: set[str] = set()
    for g in globs:
        for f in ROOT.glob(g):
            for m in re.finditer(r'"([A-Za-z0-9_.:/<>=!&|+*-]{2,40})"', f.read_text()):
                out.add(m.group(1))
    return sorted(out)


def dictionaries() -> None:
    otlp = literals(["Sources/SinkNormalize/**/*.swift", "Sources/SinkOTLP/OTLP*.swift"])
    otlp += ["resourceLogs", "scopeLogs", "logRecords", "attributes", "stringValue", "intValue", "doubleValue",
             "boolValue", "timeUnixNano", "traceId", "spanId", "resourceMetrics", "scopeMetrics", "dataPoints",
             "asDouble", "asInt", "resourceSpans", "scopeSpans", "1e300", "-1e308", "NaN", "Infinity"]
    rules = literals(["Sources/SinkRules/Format/*.swift", "Sources/SinkRules/Expression/*.swift"])
    rules += ["292471208y", "9223372036854775807", "1e308", "-0.0"]
    for name, words in (("otlp", otlp), ("rules", rules)):
        body = "".join(f'"{w}"\n' for w in words)
        (ROOT / "fuzz" / f"{name}.dict").write_text(f"# libFuzzer dictionary, made by fuzz/make_corpus.py\n{body}")


if __name__ == "__main__":
    dictionaries()
    otlp_json()
    otlp_protobuf()
    rules_and_exprs()
    for d in sorted(OUT.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} seeds")
