/// A flattened OpenTelemetry attribute value. Arrays and maps are kept as their JSON text, so every
/// value fits one column of the store and one JSON scalar of the API.
package enum AttributeValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)

    /// The value as text, the way a user would type it in a filter.
    package var text: String {
        switch self {
        case .string(let value): value
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        }
    }

    /// The value as a number when it is one or is a string that spells one: agents send numbers
    /// as strings (Claude Code's `prompt_length`, `cost_usd` in some versions).
    package var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value.isFinite ? value : nil
        case .string(let value): (Double(value) ?? Double(value.trimmingWhitespace())).flatMap { $0.isFinite ? $0 : nil }
        case .bool: nil
        }
    }

    /// The value as a boolean when it is one or is a string/number that spells one (`"true"`,
    /// `"false"`, `"1"`, `"0"`): Claude Code sends `success` as a string.
    package var bool: Bool? {
        switch self {
        case .bool(let value): value
        case .int(let value): value == 0 ? false : value == 1 ? true : nil
        case .double: nil
        case .string("true"), .string("1"): true
        case .string("false"), .string("0"): false
        case .string(let value):
            switch value.trimmingWhitespace().lowercased() {
            case "true", "1", "yes": true
            case "false", "0", "no": false
            default: nil
            }
        }
    }
}

extension String {
    package func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
