import ObservatoryControl
/// One hook invocation as the sink receives it: an OTLP log record whose body is
/// `observatory.hook`, with the hook's event name, agent, session id and the payload's small
/// scalar fields as attributes. The sink's `ObservatoryEventAdapter` maps it to a status change.
package struct HookRecord: Sendable, Hashable {
    /// An attribute value, typed as OTLP's `AnyValue`.
    package enum Value: Sendable, Hashable {
        case string(String)
        case int(Int64)
        case double(Double)
        case bool(Bool)
    }

    /// Body of every hook record; the sink recognises hook records by it.
    package static let bodyName = "observatory.hook"
    /// Strings longer than this (UTF-8 bytes) are cut: a hook record stays small.
    package static let maxValueLength = 512

    /// When the hook ran (Unix nanoseconds). The sink orders status changes by it.
    package var timeUnixNano: UInt64
    /// Attributes in a stable order: `hook.event`, `hook.agent`, `session.id`, then the payload's.
    package var attributes: [(String, Value)]

    package init(timeUnixNano: UInt64, attributes: [(String, Value)]) {
        self.timeUnixNano = timeUnixNano
        self.attributes = attributes
    }

    package static func == (lhs: HookRecord, rhs: HookRecord) -> Bool {
        lhs.timeUnixNano == rhs.timeUnixNano && lhs.attributes.count == rhs.attributes.count
            && zip(lhs.attributes, rhs.attributes).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(timeUnixNano)
        for (key, value) in attributes {
            hasher.combine(key)
            hasher.combine(value)
        }
    }

    /// The attribute `key`, if present.
    package subscript(key: String) -> Value? {
        attributes.first(where: { $0.0 == key })?.1
    }

    /// The string attribute `key`, if present.
    package func string(_ key: String) -> String? {
        if case .string(let s)? = self[key] { return s }
        return nil
    }

    // MARK: OTLP/JSON

    /// The record as an OTLP/JSON `LogRecord` object (camelCase, 64-bit integers as strings).
    package var otlpJSON: JSONValue {
        let time = JSONValue.string(String(timeUnixNano))
        return .object([
            ("timeUnixNano", time),
            ("observedTimeUnixNano", time),
            ("severityNumber", .number("9")),
            ("severityText", .string("INFO")),
            ("body", .object([("stringValue", .string(Self.bodyName))])),
            ("attributes", .array(attributes.map { key, value in
                .object([("key", .string(key)), ("value", value.otlpJSON)])
            })),
        ])
    }

    /// An OTLP/JSON `ExportLogsServiceRequest` carrying already-encoded log records (compact
    /// JSON objects, as the spool keeps them), under a resource with `service.name` =
    /// `observatory-hook` and `resourceAttributes` (the `observatory run` agent's id and name).
    package static func exportRequestBody(encodedRecords: [String], resourceAttributes: [(String, String)] = []) -> String {
        var resource = ""
        let attributes = [("service.name", "observatory-hook")] + resourceAttributes
        JSONPrinter.write(
            .object([("attributes", .array(attributes.map { key, value in
                .object([("key", .string(key)), ("value", .object([("stringValue", .string(value))]))])
            }))]),
            into: &resource, indent: nil, level: 0)
        return "{\"resourceLogs\":[{\"resource\":" + resource
            + ",\"scopeLogs\":[{\"scope\":{\"name\":\"observatory.hook\"},\"logRecords\":["
            + encodedRecords.joined(separator: ",") + "]}]}]}"
    }

    /// The agent's id and name that `observatory run` puts in the environment
    /// (`OBSERVATORY_AGENT_ID`, `OBSERVATORY_AGENT_NAME`), as attribute pairs; empty outside a wrapper.
    package static func agentAttributes(environment: [String: String]) -> [(String, String)] {
        guard let id = environment["OBSERVATORY_AGENT_ID"], !id.isEmpty else { return [] }
        var out = [("observatory.agent.id", id)]
        if let name = environment["OBSERVATORY_AGENT_NAME"], !name.isEmpty { out.append(("observatory.agent.name", name)) }
        return out
    }

    /// Reads back a record from its OTLP/JSON `LogRecord` (as written by ``otlpJSON``).
    package init?(otlpJSON json: JSONValue) {
        guard let time = json["timeUnixNano"]?.stringValue.flatMap(UInt64.init),
            let items = json["attributes"]?.arrayValue
        else { return nil }
        var attributes: [(String, Value)] = []
        for item in items {
            guard let key = item["key"]?.stringValue, let value = item["value"].flatMap(Value.init(otlpJSON:)) else { continue }
            attributes.append((key, value))
        }
        self.init(timeUnixNano: time, attributes: attributes)
    }
}

extension HookRecord.Value {
    /// OTLP/JSON `AnyValue`.
    var otlpJSON: JSONValue {
        switch self {
        case .string(let s): .object([("stringValue", .string(s))])
        case .int(let i): .object([("intValue", .string(String(i)))])
        case .double(let d): .object([("doubleValue", .number(d.isFinite ? "\(d)" : "0"))])
        case .bool(let b): .object([("boolValue", .bool(b))])
        }
    }

    init?(otlpJSON json: JSONValue) {
        if let s = json["stringValue"]?.stringValue {
            self = .string(s)
        } else if let i = json["intValue"]?.stringValue.flatMap(Int64.init) {
            self = .int(i)
        } else if case .number(let n)? = json["doubleValue"], let d = Double(n) {
            self = .double(d)
        } else if case .bool(let b)? = json["boolValue"] {
            self = .bool(b)
        } else {
            return nil
        }
    }
}
