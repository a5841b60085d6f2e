import SinkCore

/// What an adapter decides about one record: its kind and the facts it carries.
struct EventMapping {
    var kind: EventKind
    var facts: EventFacts

    init(_ kind: EventKind, _ facts: EventFacts = EventFacts()) {
        self.kind = kind
        self.facts = facts
    }
}

/// One agent vendor's knowledge: how its log events, spans and metrics map to session events.
/// Supporting a new agent means one more conforming type plus fixtures.
protocol AgentAdapter {
    /// Maps a log event, by its full name (`claude_code.tool_result`).
    static func mapLog(name: String, attributes: Attributes) -> EventMapping
    /// Maps a span.
    static func mapSpan(name: String, attributes: Attributes, failed: Bool) -> EventMapping
    /// What a metric's data point counts.
    static func meaning(ofMetric name: String, attributes: Attributes) -> MetricSample.Meaning
}

extension AgentAdapter {
    static func mapSpan(name: String, attributes: Attributes, failed: Bool) -> EventMapping {
        GenAIAdapter.mapSpan(name: name, attributes: attributes, failed: failed)
    }

    static func meaning(ofMetric name: String, attributes: Attributes) -> MetricSample.Meaning {
        GenAIAdapter.meaning(ofMetric: name, attributes: attributes)
    }
}
