import SinkCore

/// What the normalizer made of one OTLP request.
package struct NormalizedBatch: Sendable {
    package var events: [SessionEvent] = []
    /// Records refused (invalid ids, data points without a value), with the first reason.
    package var rejected = 0
    package var rejectionReason: String?

    mutating func reject(_ reason: String) {
        rejected += 1
        if rejectionReason == nil { rejectionReason = reason }
    }
}
