/// What `observatory-sink` prints when it is ready: where it listens and how to point each agent at it.
package enum StartupBanner {
    package static func text(ingest: String, api: String, database: String) -> String {
        """
        observatory-sink is running
          OTLP/HTTP ingest  \(ingest)   (POST /v1/logs, /v1/metrics, /v1/traces)
          API               \(api)   (GET /api/sessions, /healthz, /metrics)
          database          \(database)

        Point an agent at it (no collector needed):

          Claude Code (shell or the "env" block of ~/.claude/settings.json):
            export CLAUDE_CODE_ENABLE_TELEMETRY=1
            export OTEL_LOGS_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp
            export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
            export OTEL_EXPORTER_OTLP_ENDPOINT=\(ingest)
            export OTEL_LOGS_EXPORT_INTERVAL=1000 OTEL_METRIC_EXPORT_INTERVAL=10000

          Codex CLI (~/.codex/config.toml):
            [otel]
            exporter = { otlp-http = { endpoint = "\(ingest)/v1/logs", protocol = "binary" } }
            trace_exporter = { otlp-http = { endpoint = "\(ingest)/v1/traces", protocol = "binary" } }

          Gemini CLI:
            export GEMINI_TELEMETRY_ENABLED=true GEMINI_TELEMETRY_TARGET=local
            export GEMINI_TELEMETRY_OTLP_PROTOCOL=http GEMINI_TELEMETRY_OTLP_ENDPOINT=\(ingest)

        Then watch: curl -s \(api)/api/sessions

        """
    }
}
