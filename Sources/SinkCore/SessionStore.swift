import Foundation

/// Persistence of sessions and events: the port the session tracker writes through and the API
/// reads through. The SQLite store implements it; tests use an in-memory one.
package protocol SessionStore: Sendable {
    /// All sessions, as last committed.
    func loadSessions() async throws -> [Session]

    /// Runs `body` in one write transaction: everything it writes is committed together or not at all.
    func write<Result: Sendable>(_ body: @escaping @Sendable (any SessionStoreTransaction) throws -> Result)
        async throws -> Result

    /// Events of one session with `seq > after`, oldest first.
    func events(sessionID: String, after: Int64, limit: Int) async throws -> [StoredEvent]

    /// Events of every session with `seq > after`, oldest first (for clients catching up).
    func events(after: Int64, limit: Int) async throws -> [StoredEvent]

    /// The highest sequence number stored so far (0 when empty).
    func latestSeq() async throws -> Int64

    /// Deletes events beyond the retention limits; returns how many were deleted. `deleted` is
    /// told each committed part of that (a store deletes in several transactions), as it happens.
    func enforceRetention(_ retention: EventRetention, now: Date, deleted: @escaping @Sendable (Int) -> Void) async throws -> Int
}

extension SessionStore {
    /// Deletes events beyond the retention limits; returns how many were deleted.
    package func enforceRetention(_ retention: EventRetention, now: Date) async throws -> Int {
        try await enforceRetention(retention, now: now, deleted: { _ in })
    }
}

/// What can be done inside one write transaction of a ``SessionStore``.
package protocol SessionStoreTransaction {
    /// Stores the event unless one with the same ``SessionEvent/dedupKey`` is already stored.
    /// - Returns: the stored event, or `nil` for a duplicate.
    func insert(_ event: SessionEvent, receivedAt: Date) throws -> StoredEvent?
    /// Creates or replaces a session.
    func save(_ session: Session) throws
    /// Deletes a session and whatever events of it are left (retention).
    func deleteSession(id: String) throws
}

/// How many events the store keeps, and for how long it keeps sessions that are over: a session
/// that ended or crashed and has been quiet for longer than ``maxAge`` is deleted.
package struct EventRetention: Sendable, Hashable, Codable {
    /// At most this many events in all; the oldest go first.
    package var maxEvents: Int
    /// Events older than this go (by receive time).
    package var maxAge: Duration

    package init(maxEvents: Int = 1_000_000, maxAge: Duration = .seconds(7 * 24 * 3600)) {
        self.maxEvents = maxEvents
        self.maxAge = maxAge
    }

    package static let `default` = EventRetention()
}
