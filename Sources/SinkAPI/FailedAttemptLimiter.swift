/// Counts failed token attempts per client and locks a client out after too many, with a lockout
/// that doubles while the failures go on. A pure state machine: the caller passes the monotonic
/// time, so it is tested without waiting.
///
/// Policy: ``freeFailures`` failures are allowed; each one after that locks the client out for
/// ``baseLockout`` × 2^(n−1), at most ``maxLockout``. Failures older than ``forgetAfter`` are
/// forgotten. At most ``maxClients`` clients are tracked (the oldest is dropped), so the table is
/// bounded whatever an attacker does.
package struct FailedAttemptLimiter: Sendable {
    package static let freeFailures = 5
    package static let baseLockout: Duration = .seconds(30)
    package static let maxLockout: Duration = .seconds(15 * 60)
    package static let forgetAfter: Duration = .seconds(15 * 60)
    package static let maxClients = 4096

    private struct Record {
        var failures: Int
        var lastFailure: Duration
        var lockedUntil: Duration
    }

    private var records: [String: Record] = [:]

    package init() {}

    /// How long `client` must still wait, or `nil` when it may try.
    package func retryAfter(client: String, now: Duration) -> Duration? {
        guard let record = records[client], record.lockedUntil > now else { return nil }
        return record.lockedUntil - now
    }

    /// Records a failed attempt; returns the lockout it started, if any.
    @discardableResult
    package mutating func recordFailure(client: String, now: Duration) -> Duration? {
        var record = records[client] ?? Record(failures: 0, lastFailure: now, lockedUntil: .zero)
        if now - record.lastFailure > Self.forgetAfter { record.failures = 0 }
        record.failures += 1
        record.lastFailure = now
        var lockout: Duration?
        if record.failures > Self.freeFailures {
            let doublings = min(record.failures - Self.freeFailures - 1, 10)
            let length = min(Self.baseLockout * (1 << doublings), Self.maxLockout)
            record.lockedUntil = now + length
            lockout = length
        }
        if records[client] == nil, records.count >= Self.maxClients { evictOldest() }
        records[client] = record
        return lockout
    }

    /// A successful attempt clears the client's record.
    package mutating func recordSuccess(client: String) {
        records[client] = nil
    }

    /// Clients currently tracked.
    package var trackedClients: Int { records.count }

    private mutating func evictOldest() {
        if let oldest = records.min(by: { $0.value.lastFailure < $1.value.lastFailure })?.key {
            records[oldest] = nil
        }
    }
}
