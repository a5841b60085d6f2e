import Foundation
import GRDB
import SinkCore

/// The sessions and events of the Observatory in one SQLite database (WAL mode) in the data directory.
///
/// Durability: every ``write(_:)`` is one transaction, committed before the sink acknowledges the
/// request that brought its events. With `synchronous = NORMAL` (the default) a commit survives the
/// sink's process being killed at any moment (`kill -9`); `synchronous = FULL` also survives a power
/// loss, at the price of an fsync per commit.
package final class SQLiteSessionStore: SessionStore {
    /// How hard SQLite works to keep a commit through a crash (SQLite `PRAGMA synchronous`).
    package enum Synchronous: String, Sendable, Codable, CaseIterable {
        /// Survives a crash of the process; a power loss may lose the last commits.
        case normal
        /// Survives a power loss too.
        case full
    }

    /// Shared with the other stores of the same database file (``SQLitePushStore``).
    let pool: DatabasePool
    private let decoder = JSONDecoder()

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    package init(path: String, synchronous: Synchronous = .normal) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
        }
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY NOT NULL,
                        agent TEXT NOT NULL,
                        status TEXT NOT NULL,
                        last_seen REAL NOT NULL,
                        state TEXT NOT NULL
                    );
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        session_id TEXT NOT NULL,
                        received_at REAL NOT NULL,
                        time REAL NOT NULL,
                        agent TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        source TEXT NOT NULL,
                        dedup_key INTEGER NOT NULL,
                        facts TEXT NOT NULL,
                        attributes TEXT NOT NULL
                    );
                    CREATE UNIQUE INDEX events_by_dedup_key ON events(dedup_key);
                    CREATE INDEX events_by_session ON events(session_id, seq);
                    """)
        }
        // Web Push subscriptions and the push outbox (SQLitePushStore).
        migrator.registerMigration("push-v1", migrate: SQLitePushStore.migrateV1)
        migrator.registerMigration("push-v2", migrate: SQLitePushStore.migrateV2)
        // Firing alerts and silences of the rule engine (SQLiteRuleStateStore).
        migrator.registerMigration("rules-v1", migrate: SQLiteRuleStateStore.migrateV1)
        return migrator
    }

    // MARK: SessionStore

    package func loadSessions() async throws -> [Session] {
        let states = try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT state FROM sessions")
        }
        // Decoding is most of a cold start with many sessions (10,000: ~200 ms on one core), so it
        // is spread over the cores, in order.
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, states.count / 500))
        guard workers > 1 else { return try states.map { try decoder.decode(Session.self, from: Data($0.utf8)) } }
        let chunk = (states.count + workers - 1) / workers
        return try await withThrowingTaskGroup(of: (Int, [Session]).self) { group in
            for start in stride(from: 0, to: states.count, by: chunk) {
                let slice = Array(states[start..<min(start + chunk, states.count)])
                group.addTask {
                    let decoder = JSONDecoder()
                    return (start, try slice.map { try decoder.decode(Session.self, from: Data($0.utf8)) })
                }
            }
            var parts: [(Int, [Session])] = []
            for try await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    package func write<Result: Sendable>(
        _ body: @escaping @Sendable (any SessionStoreTransaction) throws -> Result
    ) async throws -> Result {
        try await pool.write { db in
            try body(Transaction(db: db))
        }
    }

    package func events(sessionID: String, after: Int64, limit: Int) async throws -> [StoredEvent] {
        let rows = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, session_id, received_at, time, agent, kind, name, source, dedup_key, facts, attributes
                    FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [sessionID, after, limit])
        }
        return try rows.map(storedEvent(from:))
    }

    package func events(after: Int64, limit: Int) async throws -> [StoredEvent] {
        let rows = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, session_id, received_at, time, agent, kind, name, source, dedup_key, facts, attributes
                    FROM events WHERE seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [after, limit])
        }
        return try rows.map(storedEvent(from:))
    }

    package func latestSeq() async throws -> Int64 {
        // sqlite_sequence remembers the highest seq ever given, even after retention emptied the table.
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'events'") ?? 0
        }
    }

    /// Number of events stored.
    package func eventCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }

    package func enforceRetention(_ retention: EventRetention, now: Date) async throws -> Int {
        let oldestKept = now.timeIntervalSince1970 - retention.maxAge.seconds
        let maxEvents = retention.maxEvents
        // Over the count limit: everything below the newest `maxEvents` sequence numbers.
        let countBoundary = try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?", arguments: [maxEvents])
        }
        // Deleted in chunks, each its own short transaction, so commits of new events are never held
        // up for long behind a large clean-up. Received times grow with seq, so the oldest come first.
        var deleted = 0
        while true {
            let changes = try await pool.write { db in
                try db.execute(
                    sql: """
                        DELETE FROM events
                        WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?) AND (seq <= ? OR received_at < ?)
                        """,
                    arguments: [Self.retentionChunk, countBoundary ?? 0, oldestKept])
                return db.changesCount
            }
            deleted += changes
            if changes < Self.retentionChunk { return deleted }
        }
    }

    /// Events deleted per retention transaction.
    private static let retentionChunk = 10_000

    // MARK: Rows

    private func storedEvent(from row: Row) throws -> StoredEvent {
        let factsText: String = row["facts"]
        let attributesText: String = row["attributes"]
        let facts = try decoder.decode(EventFacts.self, from: Data(factsText.utf8))
        let attributes = try decoder.decode([String: AttributeValue].self, from: Data(attributesText.utf8))
        let dedupKey: Int64 = row["dedup_key"]
        let event = SessionEvent(
            sessionID: row["session_id"],
            agent: AgentKind(rawValue: row["agent"]) ?? .generic,
            kind: EventKind(rawValue: row["kind"]) ?? .other,
            name: row["name"],
            source: EventSource(rawValue: row["source"]) ?? .logs,
            time: Date(timeIntervalSince1970: row["time"]),
            dedupKey: UInt64(bitPattern: dedupKey),
            facts: facts,
            attributes: attributes)
        return StoredEvent(seq: row["seq"], receivedAt: Date(timeIntervalSince1970: row["received_at"]), event: event)
    }

    /// One write transaction; lives only inside ``write(_:)``.
    private struct Transaction: SessionStoreTransaction {
        let db: Database
        private static let encoder: JSONEncoder = {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return encoder
        }()

        func insert(_ event: SessionEvent, receivedAt: Date) throws -> StoredEvent? {
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO events
                        (session_id, received_at, time, agent, kind, name, source, dedup_key, facts, attributes)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let payload = event.payload
            try statement.execute(arguments: [
                event.sessionID, receivedAt.timeIntervalSince1970, event.time.timeIntervalSince1970,
                event.agent.rawValue, event.kind.rawValue, event.name, event.source.rawValue,
                Int64(bitPattern: event.dedupKey), payload.facts, payload.attributes,
            ])
            guard db.changesCount > 0 else { return nil }
            return StoredEvent(seq: db.lastInsertedRowID, receivedAt: receivedAt, event: event)
        }

        func save(_ session: Session) throws {
            let state = String(decoding: try Self.encoder.encode(session), as: UTF8.self)
            let statement = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO sessions (id, agent, status, last_seen, state) VALUES (?, ?, ?, ?, ?)")
            try statement.execute(arguments: [
                session.id, session.agent.rawValue, session.status.rawValue,
                session.lastSeen.timeIntervalSince1970, state,
            ])
        }
    }
}
