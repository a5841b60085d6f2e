import Foundation
import Synchronization

/// The time of day, injected so tests control it.
package protocol WallClock: Sendable {
    func now() -> Date
}

/// The system's clock.
package struct SystemWallClock: WallClock {
    package init() {}
    package func now() -> Date { Date() }
}

/// A clock that moves only when told: for tests of anything that depends on time.
package final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    package init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        current = Mutex(start)
    }

    package func now() -> Date { current.withLock { $0 } }

    package func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(duration.seconds) }
    }
}
