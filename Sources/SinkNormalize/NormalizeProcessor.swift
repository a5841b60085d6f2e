import Foundation
import SinkCore
import SinkOTLP

/// The receiver's consumer: normalizes each request and passes its events on, returning once the
/// next stage has stored them.
package struct NormalizeProcessor: TelemetryConsumer {
    private let normalizer: Normalizer
    private let next: any EventConsumer
    private let clock: any WallClock
    private let metrics: SinkMetrics

    package init(normalizer: Normalizer = Normalizer(), next: any EventConsumer, clock: any WallClock, metrics: SinkMetrics) {
        self.normalizer = normalizer
        self.next = next
        self.clock = clock
        self.metrics = metrics
        metrics.describe("observatory_records_rejected_total", help: "Records refused as invalid (partial success), by signal.")
    }

    package func consume(_ request: OTLPRequest) async throws -> OTLPPartialSuccess? {
        let batch = normalizer.normalize(request, receivedAt: clock.now())
        try await next.consume(batch.events)
        guard batch.rejected > 0 else { return nil }
        metrics.add(Double(batch.rejected), to: .init("observatory_records_rejected_total", [("signal", request.signal.rawValue)]))
        return OTLPPartialSuccess(
            rejected: batch.rejected,
            message: "\(batch.rejected) \(request.signal.recordNoun) rejected: \(batch.rejectionReason ?? "invalid")")
    }
}
