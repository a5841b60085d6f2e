import SinkCore
import Synchronization

/// An ``EventConsumer`` that records what it is given, or fails on demand.
package final class RecordingEventConsumer: EventConsumer {
    private let recorded = Mutex<[[SessionEvent]]>([])
    private let failure = Mutex<PipelineError?>(nil)

    package init() {}

    package var batches: [[SessionEvent]] { recorded.withLock { $0 } }
    package var events: [SessionEvent] { batches.flatMap { $0 } }

    /// Makes every following call throw `error` (nil: succeed again).
    package func fail(with error: PipelineError?) {
        failure.withLock { $0 = error }
    }

    package func consume(_ events: [SessionEvent]) async throws {
        if let error = failure.withLock({ $0 }) { throw error }
        recorded.withLock { $0.append(events) }
    }
}
