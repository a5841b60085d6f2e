import SinkCore

/// A run-time value of the expression language. `unknown` is CEL's `no_such_field` error: what a
/// missing attribute evaluates to, absorbed by `&&`/`||` (Kleene three-valued logic).
package enum ExprValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([ExprValue])
    case map([String: AttributeValue])
    case unknown

    init(_ attribute: AttributeValue) {
        switch attribute {
        case .string(let value): self = .string(value)
        case .int(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .bool(let value): self = .bool(value)
        }
    }

    /// The value as a number (ints, doubles, and strings that spell a number: agents send numbers as
    /// strings).
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        case .string(let value): Double(value.trimmingWhitespace())
        default: nil
        }
    }

    var isNumber: Bool {
        switch self {
        case .int, .double: true
        default: false
        }
    }

    /// How a template shows the value.
    var text: String {
        switch self {
        case .null, .unknown: ""
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value):
            value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): value
        case .list(let items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .map(let map): "{" + map.keys.sorted().joined(separator: ", ") + "}"
        }
    }
}

/// The outcome of a boolean expression under three-valued logic.
package enum Truth: Sendable, Hashable {
    case `true`, `false`, unknown

    init(_ value: ExprValue) {
        switch value {
        case .bool(let value): self = value ? .true : .false
        default: self = .unknown
        }
    }
}
