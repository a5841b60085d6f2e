/// What `observatory-sink` prints when it is ready: where it listens and how to point each agent at it.
package enum StartupBanner {
    /// A token made on this start, shown once.
    package struct NewSecret: Sendable {
        package var name: String
        package var scope: String
        /// `nil` when it must not be printed (stdout is not a terminal).
        package var secret: String?

        package init(name: String, scope: String, secret: String?) {
            self.name = name
            self.scope = scope
            self.secret = secret
        }
    }

    package static func text(ingest: String, api: String, database: String, newSecrets: [NewSecret] = []) -> String {
        secretsText(newSecrets) + """
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

    static func secretsText(_ secrets: [NewSecret]) -> String {
        guard !secrets.isEmpty else { return "" }
        var text = "New tokens (shown this once; only their hashes are stored — keep them in a password manager):\n"
        for secret in secrets {
            let use = secret.scope == "control"
                ? "stops and restarts agents: the dashboard asks for it the first time you press Kill"
                : "logs a browser or phone in from another machine"
            if let value = secret.secret {
                text += "  \(secret.scope) token \"\(secret.name)\"  \(value)\n    (\(use))\n"
            } else {
                let device = secret.scope == "device" ? "--device " : ""
                text += "  a \(secret.scope) token \"\(secret.name)\" was made, but output is not a terminal, so it is not printed"
                    + " (it would stay in the log);\n    make one to use with: observatory token create \(device)NAME   (\(use))\n"
            }
        }
        text += "Manage them with: observatory token list | create | revoke\n\n"
        return text
    }
}
