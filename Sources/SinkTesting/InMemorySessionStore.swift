import Foundation
import SinkCore
import Synchronization

/// A ``SessionStore`` in memory with the same semantics as the SQLite one (deduplication by key,
/// all-or-nothing transactions), and a switch to make writes fail.
package final class InMemorySessionStore: SessionStore {
    private struct State {
        var sessions: [String: Session] = [:]
        var events: [StoredEvent] = []
        var dedupKeys: Set<UInt64> = []
        var nextSeq: Int64 = 1
        var failWrites = false
        var writeCount = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Makes every following write throw until set back to `false`.
    package func setFailing(_ failing: Bool) {
        state.withLock { $0.failWrites = failing }
    }

    /// Transactions committed so far.
    package var writeCount: Int { state.withLock { $0.writeCount } }
    package var storedEvents: [StoredEvent] { state.withLock { $0.events } }
    package var storedSessions: [String: Session] { state.withLock { $0.sessions } }

    package func loadSessions() async throws -> [Session] {
        state.withLock { Array($0.sessions.values) }
    }

    package func write<Result: Sendable>(
        _ body: @escaping @Sendable (any SessionStoreTransaction) throws -> Result
    ) async throws -> Result {
        try state.withLock { state in
            if state.failWrites { throw FakeStoreError.writeFailed }
            let transaction = Transaction(draft: state)
            let result = try body(transaction)
            state = transaction.draft
            state.writeCount += 1
            return result
        }
    }

    package func events(sessionID: String, after: Int64, limit: Int) async throws -> [StoredEvent] {
        state.withLock { state in
            Array(state.events.filter { $0.event.sessionID == sessionID && $0.seq > after }.prefix(limit))
        }
    }

    package func events(after: Int64, limit: Int) async throws -> [StoredEvent] {
        state.withLock { state in Array(state.events.filter { $0.seq > after }.prefix(limit)) }
    }

    package func latestSeq() async throws -> Int64 {
        state.withLock { $0.events.last?.seq ?? 0 }
    }

    package func enforceRetention(_ retention: EventRetention, now: Date, deleted: @escaping @Sendable (Int) -> Void) async throws -> Int {
        let count = state.withLock { state in
            let before = state.events.count
            let oldest = now.addingTimeInterval(-retention.maxAge.seconds)
            state.events.removeAll { $0.receivedAt < oldest }
            if state.events.count > retention.maxEvents { state.events.removeFirst(state.events.count - retention.maxEvents) }
            return before - state.events.count
        }
        if count > 0 { deleted(count) }
        return count
    }

    private final class Transaction: SessionStoreTransaction {
        var draft: State

        init(draft: State) {
            self.draft = draft
        }

        func insert(_ event: SessionEvent, receivedAt: Date) throws -> StoredEvent? {
            guard draft.dedupKeys.insert(event.dedupKey).inserted else { return nil }
            let stored = StoredEvent(seq: draft.nextSeq, receivedAt: receivedAt, event: event)
            draft.nextSeq += 1
            draft.events.append(stored)
            return stored
        }

        func save(_ session: Session) throws {
            draft.sessions[session.id] = session
        }

        func deleteSession(id: String) throws {
            draft.sessions[id] = nil
            draft.events.removeAll { $0.event.sessionID == id }
        }
    }
}

package enum FakeStoreError: Error {
    case writeFailed
}
