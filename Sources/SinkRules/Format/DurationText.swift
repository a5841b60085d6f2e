/// Durations in the Prometheus/Alertmanager form `((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?|0`,
/// e.g. `90s`, `1h30m`, `500ms`.
package enum DurationText {
    private static let units: [(String, Int64)] = [
        ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// The duration, or nil when the text is not in the form above.
    package static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        var rest = Substring(text)
        var milliseconds: Int64 = 0
        var nextUnit = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, let number = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix(while: { $0.isASCII && $0.isLetter })
            rest = rest.dropFirst(letters.count)
            guard let index = units.firstIndex(where: { $0.0 == letters }), index >= nextUnit else { return nil }
            nextUnit = index + 1
            let (product, overflow) = number.multipliedReportingOverflow(by: units[index].1)
            guard !overflow else { return nil }
            // The sum can overflow too (`292471208y52w`: a trap before, found reviewing after the fuzzers).
            let (sum, sumOverflow) = milliseconds.addingReportingOverflow(product)
            guard !sumOverflow else { return nil }
            milliseconds = sum
        }
        return .milliseconds(milliseconds)
    }

    /// `2m05s`, `1h`, `45s`, `500ms`: how templates and messages show a duration.
    package static func format(seconds: Double) -> String {
        guard seconds.isFinite else { return "" }
        if seconds < 1, seconds > 0 { return "\(Int((seconds * 1000).rounded()))ms" }
        let total = Int(min(max(seconds, -1e15), 1e15).rounded())  // Int(1e300) would trap
        let (hours, minutes, secs) = (total / 3600, (total % 3600) / 60, total % 60)
        if hours > 0 { return minutes == 0 && secs == 0 ? "\(hours)h" : "\(hours)h\(pad(minutes))m" + (secs > 0 ? "\(pad(secs))s" : "") }
        if minutes > 0 { return secs == 0 ? "\(minutes)m" : "\(minutes)m\(pad(secs))s" }
        return "\(secs)s"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
}
