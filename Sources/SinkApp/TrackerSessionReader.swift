import SinkCore
import SinkSessions

/// Reads live sessions from the tracker and events from the store.
struct TrackerSessionReader: SessionReader {
    let tracker: SessionTracker
    let store: any SessionStore

    func sessions() async -> [Session] { await tracker.allSessions() }
    func session(id: String) async -> Session? { await tracker.session(id: id) }
    func events(sessionID: String, after: Int64, limit: Int) async throws -> [StoredEvent] {
        try await store.events(sessionID: sessionID, after: after, limit: limit)
    }
    func events(after: Int64, limit: Int) async throws -> [StoredEvent] {
        try await store.events(after: after, limit: limit)
    }
}
