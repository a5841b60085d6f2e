

extension EventFacts: JSONObjectWritable {
    /// The facts as a JSON object with the same keys the synthesized `Codable` uses, written without
    /// `JSONEncoder` (this runs once per stored event).
    package func writeJSON(into writer: inout JSONText) {
        writer.beginObject()
        func put(_ key: String, _ value: String?) {
            if let value { writer.key(key); writer.string(value) }
        }
        func put(_ key: String, _ value: Double?) {
            if let value, value.isFinite { writer.key(key); writer.number(value) }
        }
        func put(_ key: String, _ value: Int?) {
            if let value { writer.key(key); writer.integer(value) }
        }
        put("model", model)
        put("toolName", toolName)
        if let success { writer.key("success"); writer.bool(success) }
        put("durationMs", durationMs)
        put("costUSD", costUSD)
        put("inputTokens", inputTokens)
        put("outputTokens", outputTokens)
        put("cacheReadTokens", cacheReadTokens)
        put("cacheCreationTokens", cacheCreationTokens)
        put("error", error)
        put("statusCode", statusCode)
        put("cwd", cwd)
        put("sessionName", sessionName)
        put("exitCode", exitCode)
        put("exitSignal", exitSignal)
        if let stopRequested { writer.key("stopRequested"); writer.bool(stopRequested) }
        if let metric, metric.value.isFinite {
            writer.key("metric")
            writer.beginObject()
            writer.key("meaning"); writer.string(metric.meaning.rawValue)
            writer.key("temporality"); writer.string(metric.temporality.rawValue)
            writer.key("value"); writer.number(metric.value)
            writer.key("seriesKey"); writer.integer(metric.seriesKey)
            writer.endObject()
        }
        writer.endObject()
    }
}

extension AttributeValue: Codable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}
