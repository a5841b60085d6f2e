import Foundation
import Synchronization

/// Counters every stage adds to, rendered as Prometheus text by `/metrics`.
/// Thread-safe; one instance per sink, created by the composition root.
package final class SinkMetrics: Sendable {
    /// A counter name with its labels, e.g. `observatory_records_received_total{signal="logs"}`.
    package struct Key: Hashable, Sendable, Comparable {
        package var name: String
        package var labels: [(String, String)]

        package init(_ name: String, _ labels: [(String, String)] = []) {
            self.name = name
            self.labels = labels
        }

        package static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.name == rhs.name && lhs.labels.elementsEqual(rhs.labels, by: { $0 == $1 })
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            for (key, value) in labels {
                hasher.combine(key)
                hasher.combine(value)
            }
        }

        package static func < (lhs: Key, rhs: Key) -> Bool { lhs.rendered < rhs.rendered }

        var rendered: String {
            guard !labels.isEmpty else { return name }
            let inner = labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
            return "\(name){\(inner)}"
        }

        private static func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
    }

    private struct State {
        var counters: [Key: Double] = [:]
        var help: [String: String] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Adds `amount` to a counter.
    package func add(_ amount: Double = 1, to key: Key) {
        state.withLock { $0.counters[key, default: 0] += amount }
    }

    /// Sets a gauge.
    package func set(_ value: Double, for key: Key) {
        state.withLock { $0.counters[key] = value }
    }

    package func value(of key: Key) -> Double {
        state.withLock { $0.counters[key] ?? 0 }
    }

    /// Describes a metric name for the `# HELP` and `# TYPE` lines.
    package func describe(_ name: String, help: String) {
        state.withLock { $0.help[name] = help }
    }

    /// Prometheus text exposition format 0.0.4.
    package func render() -> String {
        let (counters, help) = state.withLock { ($0.counters, $0.help) }
        var byName: [String: [(Key, Double)]] = [:]
        for (key, value) in counters { byName[key.name, default: []].append((key, value)) }
        var lines: [String] = []
        for name in byName.keys.sorted() {
            if let text = help[name] { lines.append("# HELP \(name) \(text)") }
            lines.append("# TYPE \(name) \(name.hasSuffix("_total") ? "counter" : "gauge")")
            for (key, value) in byName[name]!.sorted(by: { $0.0 < $1.0 }) {
                let number = value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
                lines.append("\(key.rendered) \(number)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
