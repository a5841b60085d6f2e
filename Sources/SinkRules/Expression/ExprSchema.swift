/// The static type of an expression, known at load time where it can be.
package enum ExprType: String, Sendable, Hashable {
    case bool, int, double, string, list, map, null
    /// Not known before run time (an event attribute).
    case dyn

    var isNumeric: Bool { self == .int || self == .double }
    var isKnown: Bool { self != .dyn }
}

/// Session fields the rules see (rules-dsl.md §3.3, adapted to the sink's session model). Ages are
/// numbers of seconds, so rules need no time arithmetic.
package enum SessionField: String, Sendable, Hashable, CaseIterable {
    case id, name, agent, model, cwd, status
    case statusReason = "status_reason"
    /// Seconds since the status last changed.
    case statusAge = "status_age"
    /// Seconds since the session was first seen.
    case age
    /// Seconds since any telemetry.
    case idleFor = "idle_for"
    /// Seconds since the last progress event.
    case progressAge = "progress_age"
    case costUSD = "cost_usd"
    case tokensInput = "tokens.input"
    case tokensOutput = "tokens.output"
    case tokensTotal = "tokens.total"
    case apiRequests = "api_requests"
    case apiErrors = "api_errors"
    case toolCalls = "tool_calls"
    case toolErrors = "tool_errors"
    case prompts
    case events

    var type: ExprType {
        switch self {
        case .id, .name, .agent, .model, .cwd, .status, .statusReason: .string
        case .statusAge, .age, .idleFor, .progressAge, .costUSD: .double
        case .tokensInput, .tokensOutput, .tokensTotal, .apiRequests, .apiErrors, .toolCalls, .toolErrors, .prompts, .events: .int
        }
    }

    /// Whether the field can be absent (then it evaluates to unknown).
    var isOptional: Bool { self == .model || self == .cwd || self == .progressAge }
}

/// Event fields the rules see. `event.attrs` holds the record's attributes (dotted OTel keys via
/// `event.attrs["http.status_code"]`) overlaid with the normalized facts under snake_case names
/// (`tool_name`, `success`, `cost_usd`, `status_code`, `exit_code`, `exit_signal`, …).
package enum EventField: String, Sendable, Hashable, CaseIterable {
    case kind, name, agent, source, time, attrs

    var type: ExprType {
        switch self {
        case .kind, .name, .agent, .source: .string
        case .time: .double
        case .attrs: .map
        }
    }
}

/// Which roots an expression may use, by where it appears in a rule.
package struct ExprScope: Sendable, Hashable {
    /// `event.*` is available (event filters, and templates of rules that have a last event).
    package var event: Bool
    /// `value` is available (window conditions and `resolve_when` of window rules).
    package var value: Bool

    package init(event: Bool, value: Bool) {
        self.event = event
        self.value = value
    }

    package static let sessionOnly = ExprScope(event: false, value: false)
    package static let withEvent = ExprScope(event: true, value: false)
    package static let withValue = ExprScope(event: false, value: true)
}

/// Edit distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// The closest candidate within a small edit distance, for "did you mean '…'?".
func suggestion(for name: String, among candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(name, candidate)
        if distance <= max(2, name.count / 3), distance < (best?.1 ?? .max) { best = (candidate, distance) }
    }
    return best?.0
}
