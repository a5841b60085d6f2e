/// The events of one window-rule instance, in time buckets of `max(1s, over/600)`: bounded memory
/// (at most ~600 buckets), and the window edge exact to within one bucket (rules-dsl.md §3.5).
package struct WindowBuckets: Sendable {
    struct Bucket: Sendable {
        var index: Int64
        var count = 0
        var sum = 0.0
        var minimum = Double.infinity
        var maximum = -Double.infinity
        var denominator = 0
    }

    package let over: Duration
    private let width: Duration
    private var buckets: [Bucket] = []

    package init(over: Duration) {
        self.over = over
        width = max(.seconds(1), over / 600)
    }

    private func index(_ instant: Duration) -> Int64 {
        Int64((instant / width).rounded(.down))
    }

    /// Adds one event: to the numerator (with its field value, if any) and/or the denominator.
    package mutating func add(at now: Duration, numerator: Bool, value: Double?, denominator: Bool) {
        prune(at: now)
        let index = index(now)
        if buckets.last?.index != index { buckets.append(Bucket(index: index)) }
        if numerator {
            buckets[buckets.count - 1].count += 1
            if let value {
                buckets[buckets.count - 1].sum += value
                buckets[buckets.count - 1].minimum = min(buckets[buckets.count - 1].minimum, value)
                buckets[buckets.count - 1].maximum = max(buckets[buckets.count - 1].maximum, value)
            }
        }
        if denominator { buckets[buckets.count - 1].denominator += 1 }
    }

    /// Drops buckets that left the window: an event at `t` counts during `[t, t + over)`.
    package mutating func prune(at now: Duration) {
        let cutoff = index(now - over)
        let keepFrom = buckets.firstIndex { $0.index > cutoff } ?? buckets.count
        if keepFrom > 0 { buckets.removeFirst(keepFrom) }
    }

    package var isEmpty: Bool { buckets.isEmpty }

    /// The aggregate over the window, nil (unknown) when it is undefined: no events for avg, max and
    /// min; fewer than `minEvents` for ratio and avg.
    package func value(_ aggregate: WindowTrigger.Aggregate, minEvents: Int) -> Double? {
        var count = 0, denominator = 0
        var sum = 0.0, minimum = Double.infinity, maximum = -Double.infinity
        for bucket in buckets {
            count += bucket.count
            denominator += bucket.denominator
            sum += bucket.sum
            minimum = min(minimum, bucket.minimum)
            maximum = max(maximum, bucket.maximum)
        }
        switch aggregate {
        case .count: return Double(count)
        case .sum: return sum
        case .avg: return count == 0 || count < minEvents ? nil : sum / Double(count)
        case .max: return maximum.isFinite ? maximum : nil
        case .min: return minimum.isFinite ? minimum : nil
        case .ratio: return denominator == 0 || denominator < minEvents ? nil : Double(count) / Double(denominator)
        }
    }
}
