import Foundation
import SinkCore

/// An event as rules see it: the session event's kind and name, and its attributes overlaid with
/// the normalized facts under snake_case names, so rules need not know each agent's spelling.
package struct RuleEvent: Sendable, Hashable {
    /// Synthetic kind the engine emits when a session's status changes (attributes `from`, `to`,
    /// `previous_for` = seconds the previous status lasted).
    package static let statusChanged = "status_changed"
    /// Every kind a trigger may name: the sink's ``EventKind`` values and ``statusChanged``.
    package static let knownKinds: Set<String> = Set(EventKind.allCases.map(\.rawValue)).union([statusChanged])

    /// A stored event, shared (one reference) rather than copied field by field, or one the
    /// engine makes (status changes, tests).
    private enum Origin: Sendable {
        case stored(SessionEvent)
        case made(Made)
    }

    private struct Made: Sendable {
        var sessionID: String
        var kind: String
        var name: String
        var agent: String
        var source: String
        var time: Date
        var attributes: EventAttributes
    }

    private let origin: Origin

    package var sessionID: String {
        switch origin {
        case .stored(let event): event.sessionID
        case .made(let made): made.sessionID
        }
    }

    package var kind: String {
        switch origin {
        case .stored(let event): event.kind.rawValue
        case .made(let made): made.kind
        }
    }

    package var name: String {
        switch origin {
        case .stored(let event): event.name
        case .made(let made): made.name
        }
    }

    package var agent: String {
        switch origin {
        case .stored(let event): event.agent.rawValue
        case .made(let made): made.agent
        }
    }

    package var source: String {
        switch origin {
        case .stored(let event): event.source.rawValue
        case .made(let made): made.source
        }
    }

    /// The agent's timestamp: display only; timing uses receive order and the monotonic clock.
    package var time: Date {
        switch origin {
        case .stored(let event): event.time
        case .made(let made): made.time
        }
    }

    /// The record's attributes, without the facts overlay.
    private var base: EventAttributes {
        switch origin {
        case .stored(let event): event.attributes
        case .made(let made): made.attributes
        }
    }

    package init(sessionID: String, kind: String, name: String, agent: String, source: String, time: Date, attrs: [String: AttributeValue]) {
        origin = .made(
            Made(sessionID: sessionID, kind: kind, name: name, agent: agent, source: source, time: time, attributes: EventAttributes(attrs)))
    }

    /// The rules' view of a stored event. Cheap: the event is shared, and its facts are laid over
    /// its attributes only when a rule reads one (nearly every event reaches the stall rule,
    /// which reads none).
    package init(_ event: SessionEvent) {
        origin = .stored(event)
    }

    /// The attributes with the facts laid over them: `event.attrs` of a rule.
    package var attrs: [String: AttributeValue] {
        var all = base.dictionary
        guard case .stored(let event) = origin else { return all }
        let facts = event.facts
        for key in Self.factKeys {
            if let value = Self.fact(key, of: facts) { all[key] = value }
        }
        return all
    }

    /// One attribute of ``attrs`` (`event.attrs.cost_usd`), without building the whole map.
    package func attribute(_ key: String) -> AttributeValue? {
        switch origin {
        case .stored(let event):
            if let value = Self.fact(key, of: event.facts) { return value }
            return event.attributes[key]
        case .made(let made):
            return made.attributes[key]
        }
    }

    /// The names under which facts appear in ``attrs``.
    package static let factKeys = [
        "model", "tool_name", "success", "duration_ms", "cost_usd", "input_tokens", "output_tokens", "error",
        "status_code", "exit_code", "exit_signal", "stop_requested", "value",
    ]

    private static func fact(_ key: String, of facts: EventFacts) -> AttributeValue? {
        switch key {
        case "model": facts.model.map(AttributeValue.string)
        case "tool_name": facts.toolName.map(AttributeValue.string)
        case "success": facts.success.map(AttributeValue.bool)
        case "duration_ms": facts.durationMs.map(AttributeValue.double)
        case "cost_usd": facts.costUSD.map(AttributeValue.double)
        // A count beyond Int64 (a record claiming 1e300 tokens) stays a double: Int64(1e300) traps.
        case "input_tokens": facts.inputTokens.map { Int64(exactly: $0.rounded(.towardZero)).map(AttributeValue.int) ?? .double($0) }
        case "output_tokens": facts.outputTokens.map { Int64(exactly: $0.rounded(.towardZero)).map(AttributeValue.int) ?? .double($0) }
        case "error": facts.error.map(AttributeValue.string)
        case "status_code": facts.statusCode.map { .int(Int64($0)) }
        case "exit_code": facts.exitCode.map { .int(Int64($0)) }
        case "exit_signal": facts.exitSignal.map { .int(Int64($0)) }
        case "stop_requested": facts.stopRequested.map(AttributeValue.bool)
        case "value": facts.metric.map { .double($0.value) }
        default: nil
        }
    }

    package static func == (lhs: RuleEvent, rhs: RuleEvent) -> Bool {
        lhs.sessionID == rhs.sessionID && lhs.kind == rhs.kind && lhs.name == rhs.name && lhs.agent == rhs.agent
            && lhs.source == rhs.source && lhs.time == rhs.time && lhs.attrs == rhs.attrs
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(sessionID)
        hasher.combine(kind)
        hasher.combine(name)
        hasher.combine(time)
    }
}

/// A session's fields as rules see them, computed once per evaluation round. A class: every
/// rule context of the round shares it instead of copying the session.
package final class SessionView: Sendable {
    package let session: Session
    private let counters: SessionCounters
    private let now: Date

    package init(_ session: Session, now: Date) {
        self.session = session
        counters = session.counters
        self.now = now
    }

    package subscript(field: SessionField) -> ExprValue {
        switch field {
        case .id: .string(session.id)
        case .name: .string(session.name ?? session.id)
        case .agent: .string(session.agent.rawValue)
        case .model: session.model.map(ExprValue.string) ?? .unknown
        case .cwd: session.cwd.map(ExprValue.string) ?? .unknown
        case .status: .string(session.status.rawValue)
        case .statusReason: .string(session.statusMachine.reason)
        case .statusAge: .double(max(0, now.timeIntervalSince(session.statusMachine.since)))
        case .age: .double(max(0, now.timeIntervalSince(session.firstSeen)))
        case .idleFor: .double(max(0, now.timeIntervalSince(session.lastSeen)))
        case .progressAge: session.statusMachine.lastProgress.map { .double(max(0, now.timeIntervalSince($0))) } ?? .unknown
        case .costUSD: .double(counters.costUSD)
        case .tokensInput: .int(Int64(counters.inputTokens))
        case .tokensOutput: .int(Int64(counters.outputTokens))
        case .tokensTotal: .int(Int64(counters.inputTokens + counters.outputTokens))
        case .apiRequests: .int(Int64(counters.apiRequests))
        case .apiErrors: .int(Int64(counters.apiErrors))
        case .toolCalls: .int(Int64(counters.toolCalls))
        case .toolErrors: .int(Int64(counters.toolErrors))
        case .prompts: .int(Int64(counters.prompts))
        case .events: .int(Int64(counters.events))
        }
    }
}

/// What an expression is evaluated against.
package struct ExprContext: Sendable {
    package var session: SessionView?
    package var event: RuleEvent?
    package var value: Double?

    package init(session: SessionView?, event: RuleEvent? = nil, value: Double? = nil) {
        self.session = session
        self.event = event
        self.value = value
    }
}
