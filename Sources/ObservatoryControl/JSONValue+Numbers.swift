/// Number and boolean access for the control protocol's messages.
extension JSONValue {
    /// A whole number (`5`, `-1`, also `5.0`), nil for anything else or out of range.
    package var int64Value: Int64? {
        guard case .number(let text) = self else { return nil }
        if let exact = Int64(text) { return exact }
        if let d = Double(text), d.isFinite, d.rounded() == d, abs(d) < 9.0e18 { return Int64(d) }
        return nil
    }

    /// A 32-bit whole number (pids, exit codes, signals).
    package var int32Value: Int32? { int64Value.flatMap { Int32(exactly: $0) } }

    /// Any finite number.
    package var doubleValue: Double? {
        guard case .number(let text) = self, let d = Double(text), d.isFinite else { return nil }
        return d
    }

    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// A whole number.
    package static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// A number; whole values are written without a fraction, non-finite ones as 0.
    package static func decimal(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .number("0") }
        if value.rounded() == value, abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number(String(value))
    }

    /// An array of strings.
    package static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    /// The value as an array of strings, nil if it is not one.
    package var stringArray: [String]? {
        guard let items = arrayValue else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let s = item.stringValue else { return nil }
            out.append(s)
        }
        return out
    }
}
