import Foundation

/// One thing that happened in one agent session: the single vocabulary every stage after the
/// normalizer speaks (sessions, store, rules, live view, push).
package struct SessionEvent: Sendable, Hashable {
    /// The fields, behind one reference that is copied on write: an event is handed from stage to
    /// stage (store, rules, live view) and kept by several, and a copy is then one retain rather
    /// than one per field.
    private final class Storage: @unchecked Sendable {
        // Changed only through `SessionEvent`'s setters, on a storage no other value shares.
        var sessionID: String
        var agent: AgentKind
        var kind: EventKind
        var name: String
        var source: EventSource
        var time: Date
        var dedupKey: UInt64
        var dedupTime: UInt64
        var facts: EventFacts
        var attributes: EventAttributes
        var encodedPayload: EncodedPayload?

        init(
            sessionID: String, agent: AgentKind, kind: EventKind, name: String, source: EventSource, time: Date, dedupKey: UInt64,
            dedupTime: UInt64, facts: EventFacts, attributes: EventAttributes, encodedPayload: EncodedPayload?
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
            self.encodedPayload = encodedPayload
        }

        func copy() -> Storage {
            Storage(
                sessionID: sessionID, agent: agent, kind: kind, name: name, source: source, time: time, dedupKey: dedupKey,
                dedupTime: dedupTime, facts: facts, attributes: attributes, encodedPayload: encodedPayload)
        }
    }

    private var storage: Storage

    /// The storage to change: this value's own (copied first if another value shares it).
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// The session key: Claude Code and Gemini CLI `session.id`, Codex `conversation.id`,
    /// GenAI `gen_ai.conversation.id`, or a fallback derived from the resource.
    package var sessionID: String {
        get { storage.sessionID }
        set { unique().sessionID = newValue }
    }
    package var agent: AgentKind {
        get { storage.agent }
        set { unique().agent = newValue }
    }
    package var kind: EventKind {
        get { storage.kind }
        set { unique().kind = newValue }
    }
    /// The event's own name as the agent sent it (`claude_code.tool_result`, a span name, a metric name).
    package var name: String {
        get { storage.name }
        set { unique().name = newValue }
    }
    package var source: EventSource {
        get { storage.source }
        set { unique().source = newValue }
    }
    /// When it happened, by the agent's clock (falls back to the time it was received).
    package var time: Date {
        get { storage.time }
        set { unique().time = newValue }
    }
    /// Identifies the record, so a batch that an exporter sends again is not counted twice.
    package var dedupKey: UInt64 {
        get { storage.dedupKey }
        set { unique().dedupKey = newValue }
    }
    /// The record's own timestamp as the exporter sent it (Unix nanoseconds; 0 when it sent none).
    /// Stored with ``dedupKey`` (a retry carries the same one): the store orders its deduplication
    /// index by it, so new records land at the index's end instead of on random pages.
    package var dedupTime: UInt64 {
        get { storage.dedupTime }
        set { unique().dedupTime = newValue }
    }
    package var facts: EventFacts {
        get { storage.facts }
        set {
            let storage = unique()
            storage.facts = newValue
            storage.encodedPayload = nil
        }
    }
    /// The record's attributes minus the ones repeated on every record, values capped in length.
    package var attributes: EventAttributes {
        get { storage.attributes }
        set {
            let storage = unique()
            storage.attributes = newValue
            storage.encodedPayload = nil
        }
    }
    /// JSON of an event's facts and attributes: two objects, one after the other in one buffer
    /// (one allocation per event, and no `String` made: the store binds the bytes).
    package struct EncodedPayload: Sendable {
        private let json: [UInt8]
        private let factsCount: Int

        init(facts: EventFacts, attributes: EventAttributes) {
            var writer = JSONText()
            facts.writeJSON(into: &writer)
            factsCount = writer.count
            writer.startNextValue()
            attributes.writeJSON(into: &writer)
            json = writer.utf8
        }

        /// The facts' JSON object, UTF-8.
        package var factsUTF8: ArraySlice<UInt8> { json[..<factsCount] }
        /// The attributes' JSON object, UTF-8.
        package var attributesUTF8: ArraySlice<UInt8> { json[factsCount...] }
    }

    /// Encodes ``facts`` and ``attributes`` now, so that whoever stores the event later does not have to.
    package mutating func encodePayload() {
        let payload = EncodedPayload(facts: facts, attributes: attributes)
        unique().encodedPayload = payload
    }

    /// The JSON the store writes: the one encoded in advance, or made now.
    package var payload: EncodedPayload {
        storage.encodedPayload ?? EncodedPayload(facts: facts, attributes: attributes)
    }

    package static func == (lhs: SessionEvent, rhs: SessionEvent) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.sessionID == rhs.sessionID && lhs.agent == rhs.agent && lhs.kind == rhs.kind && lhs.name == rhs.name
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
        storage = Storage(
            sessionID: sessionID, agent: agent, kind: kind, name: name, source: source, time: time, dedupKey: dedupKey,
            dedupTime: dedupTime, facts: facts, attributes: attributes, encodedPayload: nil)
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
