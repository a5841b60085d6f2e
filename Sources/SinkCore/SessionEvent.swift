import Foundation

/// One thing that happened in one agent session: the single vocabulary every stage after the
/// normalizer speaks (sessions, store, rules, live view, push).
package struct SessionEvent: Sendable, Hashable {
    /// The session key: Claude Code and Gemini CLI `session.id`, Codex `conversation.id`,
    /// GenAI `gen_ai.conversation.id`, or a fallback derived from the resource.
    package var sessionID: String
    package var agent: AgentKind
    package var kind: EventKind
    /// The event's own name as the agent sent it (`claude_code.tool_result`, a span name, a metric name).
    package var name: String
    package var source: EventSource
    /// When it happened, by the agent's clock (falls back to the time it was received).
    package var time: Date
    /// Identifies the record, so a batch that an exporter sends again is not counted twice.
    package var dedupKey: UInt64
    /// The record's own timestamp as the exporter sent it (Unix nanoseconds; 0 when it sent none).
    /// Stored with ``dedupKey`` (a retry carries the same one): the store orders its deduplication
    /// index by it, so new records land at the index's end instead of on random pages.
    package var dedupTime: UInt64
    package var facts: EventFacts {
        didSet { encodedPayload = nil }
    }
    /// The record's attributes minus the ones repeated on every record, values capped in length.
    package var attributes: EventAttributes {
        didSet { encodedPayload = nil }
    }
    /// ``facts`` and ``attributes`` as the JSON the store writes, when already encoded (see
    /// ``encodePayload()``); `nil` means "encode when needed". Derived: not part of equality.
    package private(set) var encodedPayload: EncodedPayload?

    /// JSON text of an event's facts and attributes.
    package struct EncodedPayload: Sendable {
        package var facts: String
        package var attributes: String
    }

    /// Encodes ``facts`` and ``attributes`` now, so that whoever stores the event later does not have to.
    package mutating func encodePayload() {
        encodedPayload = EncodedPayload(facts: facts.jsonText, attributes: attributes.jsonText)
    }

    /// The JSON the store writes: the one encoded in advance, or made now.
    package var payload: EncodedPayload {
        encodedPayload ?? EncodedPayload(facts: facts.jsonText, attributes: attributes.jsonText)
    }

    package static func == (lhs: SessionEvent, rhs: SessionEvent) -> Bool {
        lhs.sessionID == rhs.sessionID && lhs.agent == rhs.agent && lhs.kind == rhs.kind && lhs.name == rhs.name
            && lhs.source == rhs.source && lhs.time == rhs.time && lhs.dedupKey == rhs.dedupKey && lhs.facts == rhs.facts
            && lhs.attributes == rhs.attributes
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(dedupKey)
        hasher.combine(sessionID)
    }

    package init(
        sessionID: String, agent: AgentKind, kind: EventKind, name: String, source: EventSource, time: Date,
        dedupKey: UInt64, dedupTime: UInt64 = 0, facts: EventFacts = EventFacts(), attributes: EventAttributes = [:]
    ) {
        self.sessionID = sessionID
        self.agent = agent
        self.kind = kind
        self.name = name
        self.source = source
        self.time = time
        self.dedupKey = dedupKey
        self.dedupTime = dedupTime
        self.facts = facts
        self.attributes = attributes
    }
}

/// An event after the store accepted it: numbered in the order it was committed.
package struct StoredEvent: Sendable, Hashable {
    /// Position in the store's single, gap-tolerant, increasing sequence.
    package var seq: Int64
    package var receivedAt: Date
    package var event: SessionEvent

    package init(seq: Int64, receivedAt: Date, event: SessionEvent) {
        self.seq = seq
        self.receivedAt = receivedAt
        self.event = event
    }
}
