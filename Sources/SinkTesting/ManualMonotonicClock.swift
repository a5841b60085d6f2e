import SinkCore
import Synchronization

/// A monotonic clock that moves only when told, for tests of timers. `sleep` returns at once
/// (tests drive the engine's rounds themselves).
package final class ManualMonotonicClock: MonotonicClock {
    private let current = Mutex(Duration.zero)

    package init() {}

    package func now() -> Duration { current.withLock { $0 } }

    package func advance(by duration: Duration) {
        current.withLock { $0 += duration }
    }

    package func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: .milliseconds(1))
    }
}
