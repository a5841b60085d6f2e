import SinkCore
import Synchronization

/// An ``AlertConsumer`` that records what it is given.
package final class RecordingAlertConsumer: AlertConsumer {
    private let recorded = Mutex<[AlertEvent]>([])

    package init() {}

    package var events: [AlertEvent] { recorded.withLock { $0 } }
    /// The alert changes that were to be pushed.
    package var notifications: [AlertEvent] { events.filter { $0.notification != nil } }

    package func consume(_ alerts: [AlertEvent]) async {
        recorded.withLock { $0 += alerts }
    }
}
