/// A clock for timers: `for:` periods, windows, absence, cooldowns. It never goes backwards and
/// does not count time the machine spends asleep, so closing a laptop lid for two hours does not
/// turn every working session into a "stalled" alert on wake (rules-dsl.md §3.6a).
///
/// Instants are durations since an arbitrary origin; only differences mean anything.
package protocol MonotonicClock: Sendable {
    /// The current instant.
    func now() -> Duration
    /// Suspends until `duration` has passed on this clock (or the task is cancelled).
    func sleep(for duration: Duration) async throws
}

/// The system's suspending clock (`SuspendingClock`: stops while the machine sleeps).
package struct SystemMonotonicClock: MonotonicClock {
    private let origin: SuspendingClock.Instant

    package init() {
        origin = SuspendingClock().now
    }

    package func now() -> Duration {
        origin.duration(to: SuspendingClock().now)
    }

    package func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration, clock: SuspendingClock())
    }
}
