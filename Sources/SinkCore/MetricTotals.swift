/// Adds up metric data points into session totals, honouring each point's temporality
/// (OTLP metrics data model, "Sums": delta points add, cumulative points restate the total of
/// their series since its start time).
package struct MetricTotals: Sendable, Hashable, Codable {
    private var deltas: [MetricSample.Meaning: Double] = [:]
    /// Latest value of each cumulative series, keyed by ``MetricSample/seriesKey``.
    private var cumulative: [String: CumulativeSeries] = [:]

    private struct CumulativeSeries: Sendable, Hashable, Codable {
        var meaning: MetricSample.Meaning
        var value: Double
    }

    package init() {}

    /// Takes one sample; returns how much the total of its meaning grew (0 for a repeated
    /// cumulative value, negative never: a cumulative series that goes down is a reset).
    @discardableResult
    package mutating func add(_ sample: MetricSample) -> Double {
        guard sample.meaning != .other, sample.value.isFinite else { return 0 }
        switch sample.temporality {
        case .delta:
            guard sample.value > 0 else { return 0 }
            deltas[sample.meaning, default: 0] += sample.value
            return sample.value
        case .cumulative:
            let key = String(sample.seriesKey)
            let previous = cumulative[key]?.value ?? 0
            let growth = sample.value >= previous ? sample.value - previous : sample.value
            cumulative[key] = CumulativeSeries(meaning: sample.meaning, value: sample.value)
            return growth
        case .gauge:
            return 0
        }
    }

    /// The total of one meaning over every series.
    package func total(_ meaning: MetricSample.Meaning) -> Double {
        var sum = deltas[meaning] ?? 0
        for series in cumulative.values where series.meaning == meaning { sum += series.value }
        return sum
    }

    /// The totals as a tally, so they can be reconciled with the other sources.
    package var tally: SessionTally {
        var tally = SessionTally()
        tally.costUSD = total(.costUSD)
        tally.inputTokens = total(.inputTokens)
        tally.outputTokens = total(.outputTokens)
        tally.cacheReadTokens = total(.cacheReadTokens)
        tally.cacheCreationTokens = total(.cacheCreationTokens)
        return tally
    }
}

extension MetricTotals {
    /// ``SessionStateCoding``: the fields in declaration order, dictionaries sorted by key.
    func write(to writer: inout SessionStateCoding.Writer) {
        writer.unsigned(UInt64(deltas.count))
        for (meaning, value) in deltas.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            writer.string(meaning.rawValue)
            writer.double(value)
        }
        writer.unsigned(UInt64(cumulative.count))
        for (key, series) in cumulative.sorted(by: { $0.key < $1.key }) {
            writer.string(key)
            writer.string(series.meaning.rawValue)
            writer.double(series.value)
        }
    }

    init(reading reader: inout SessionStateCoding.Reader) throws(SessionStateCoding.DecodingError) {
        self.init()
        for _ in 0..<(try reader.count()) {
            let meaning = try reader.rawValue(MetricSample.Meaning.self)
            deltas[meaning] = try reader.double()
        }
        for _ in 0..<(try reader.count()) {
            let key = try reader.string()
            let meaning = try reader.rawValue(MetricSample.Meaning.self)
            cumulative[key] = CumulativeSeries(meaning: meaning, value: try reader.double())
        }
    }
}
