/// The environment `observatory run` gives the agent: telemetry pointed at the sink unless the
/// user set it otherwise, and the agent's id and name in `OTEL_RESOURCE_ATTRIBUTES` (so telemetry
/// and process reports land in one session) and in `OBSERVATORY_AGENT_ID` / `_NAME` (for
/// `observatory hook`).
package struct AgentEnvironment: Sendable {
    package var agentID: String
    package var agentName: String
    /// The sink's OTLP/HTTP address.
    package var endpoint: String

    package init(agentID: String, agentName: String, endpoint: String) {
        self.agentID = agentID
        self.agentName = agentName
        self.endpoint = endpoint
    }

    /// The variables set when the user has not set them (docs/agents.md's recommendation).
    package var defaults: [(String, String)] {
        [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_LOGS_EXPORT_INTERVAL", "1000"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "10000"),
        ]
    }

    /// `base` with the defaults added where missing (an empty value counts as set: the user chose
    /// it), the resource attributes appended, and the agent variables set.
    package func applied(to base: [String: String]) -> [String: String] {
        var env = base
        for (key, value) in defaults where env[key] == nil { env[key] = value }
        let ours = "observatory.agent.id=\(Self.percentEncode(agentID)),observatory.agent.name=\(Self.percentEncode(agentName))"
        if let existing = env["OTEL_RESOURCE_ATTRIBUTES"], !existing.isEmpty {
            env["OTEL_RESOURCE_ATTRIBUTES"] = existing + "," + ours
        } else {
            env["OTEL_RESOURCE_ATTRIBUTES"] = ours
        }
        env["OBSERVATORY_AGENT_ID"] = agentID
        env["OBSERVATORY_AGENT_NAME"] = agentName
        return env
    }

    /// Percent-encoding for an `OTEL_RESOURCE_ATTRIBUTES` value (the OTel SDK environment spec
    /// uses the W3C Baggage format): everything but ASCII letters, digits and `-._~` is encoded,
    /// so `,`, `=`, `;`, `%`, spaces and non-ASCII text survive the round trip.
    package static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }
}
