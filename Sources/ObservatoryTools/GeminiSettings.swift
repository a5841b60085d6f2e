import ObservatoryControl
/// What `setup gemini` writes into a Gemini CLI `settings.json`: the `telemetry` block (on,
/// local target, OTLP/HTTP to the sink, prompts not logged). Other settings stay as they are.
package struct GeminiSettings: Sendable {
    package var endpoint: String

    package init(endpoint: String) {
        self.endpoint = endpoint
    }

    /// The `telemetry` members. `logPrompts` is false: Gemini logs prompt text by default, and the
    /// Observatory does not need it (agent-telemetry.md §3.1).
    package var telemetry: [(String, JSONValue)] {
        [
            ("enabled", .bool(true)),
            ("target", .string("local")),
            ("otlpEndpoint", .string(endpoint)),
            ("otlpProtocol", .string("http")),
            ("logPrompts", .bool(false)),
        ]
    }

    package func apply(to document: inout JSONSettingsDocument, path: String, record: inout SetupRecord) throws(SetupError) -> [String] {
        var notes: [String] = []
        try document.assign(telemetry, in: "telemetry", path: path, record: &record, notes: &notes)
        return notes
    }

    package func remove(from document: inout JSONSettingsDocument, record: SetupRecord) -> [String] {
        var notes: [String] = []
        let fallback = Dictionary(telemetry, uniquingKeysWith: { a, _ in a })
        document.unassign(telemetry.map(\.0), fallback: fallback, in: "telemetry", record: record, notes: &notes)
        return notes
    }
}
