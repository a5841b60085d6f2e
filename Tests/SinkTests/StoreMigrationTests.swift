import Foundation
import GRDB
import SinkCore
import Testing

@testable import SinkStore

@Suite("SQLite store migrations")
struct StoreMigrationTests {
    /// The events table and indexes as the migrations before `v3-session-key` left them.
    static let schemaBeforeSessionKey = """
        CREATE TABLE sessions (id TEXT PRIMARY KEY NOT NULL, agent TEXT NOT NULL, status TEXT NOT NULL, last_seen REAL NOT NULL, state TEXT NOT NULL);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, received_at REAL NOT NULL, time REAL NOT NULL,
            agent TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, dedup_key INTEGER NOT NULL,
            facts TEXT NOT NULL, attributes TEXT NOT NULL, dedup_time INTEGER NOT NULL DEFAULT 0);
        CREATE UNIQUE INDEX events_by_dedup ON events(dedup_time, dedup_key);
        CREATE INDEX events_by_session ON events(session_id, seq);
        CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
        INSERT INTO grdb_migrations VALUES ('v1'), ('v2-dedup-by-time');
        """

    @Test("events stored before the session key are found by session afterwards, and new ones join them")
    func sessionKeyMigration() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        let sessions = ["s-1", "7f1c2a9e-55d2-4c1b-9d0e-2f6b3c7a9e11", "séance 🙂"]
        do {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: Self.schemaBeforeSessionKey)
                for index in 0..<30 {
                    try db.execute(
                        sql: """
                            INSERT INTO events (session_id, received_at, time, agent, kind, name, source, dedup_key, facts, attributes, dedup_time)
                            VALUES (?, 1, 1, 'generic', 'other', 'e', 'logs', ?, '{}', '{}', ?)
                            """,
                        arguments: [sessions[index % 3], index, index])
                }
            }
        }
        let store = try SQLiteSessionStore(path: path)
        _ = try await store.write { transaction in
            _ = try transaction.insert(
                SessionEvent(
                    sessionID: sessions[1], agent: .generic, kind: .other, name: "new", source: .logs, time: .testEpoch, dedupKey: 99,
                    dedupTime: 99), receivedAt: .testEpoch)
        }
        for (position, session) in sessions.enumerated() {
            let events = try await store.events(sessionID: session, after: 0, limit: 100)
            #expect(events.count == (position == 1 ? 11 : 10))
            #expect(events.allSatisfy { $0.event.sessionID == session })
            #expect(events.map(\.seq) == events.map(\.seq).sorted())
        }
        #expect(try await store.events(sessionID: sessions[1], after: 0, limit: 100).last?.event.name == "new")
        let (keys, runs) = try await DatabaseQueue(path: path).read { db in
            (
                try Row.fetchAll(db, sql: "SELECT DISTINCT session_id, session_key FROM events"),
                try Row.fetchAll(db, sql: "SELECT first_seq, session_key FROM session_runs ORDER BY first_seq")
            )
        }
        #expect(keys.count == 3)
        for row in keys {
            let id: String = row["session_id"]
            let key: Int64 = row["session_key"]
            #expect(key == SQLiteSessionStore.sessionKey(id))
            #expect(key >= 0)
        }
        // The old events alternate sessions (1, 2, 3, 1, ...): each is a run of its own; the new
        // event, in a transaction of its own, starts one too.
        #expect(runs.map { $0["first_seq"] as Int64 } == Array(1...31))
        #expect(runs.map { $0["session_key"] as Int64 } == (0..<30).map { SQLiteSessionStore.sessionKey(sessions[$0 % 3]) } + [SQLiteSessionStore.sessionKey(sessions[1])])
    }

    @Test("numbering goes on past every seq ever given: across the rebuild without AUTOINCREMENT, deletions and restarts")
    func numberingContinues() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        do {
            // An AUTOINCREMENT table that gave 1...20 and then lost 11...20 (its sqlite_sequence says 20).
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: Self.schemaBeforeSessionKey)
                for index in 1...20 {
                    try db.execute(
                        sql: """
                            INSERT INTO events (session_id, received_at, time, agent, kind, name, source, dedup_key, facts, attributes, dedup_time)
                            VALUES ('s', 1, 1, 'generic', 'other', 'e', 'logs', ?, '{}', '{"i":\(index)}', ?)
                            """,
                        arguments: [index, index])
                }
                try db.execute(sql: "DELETE FROM events WHERE seq > 10")
            }
        }
        func insert(_ store: SQLiteSessionStore, keys: [UInt64]) async throws -> [Int64?] {
            try await store.write { transaction in
                try keys.map { key in
                    try transaction.insert(
                        SessionEvent(
                            sessionID: "s", agent: .generic, kind: .other, name: "new", source: .logs, time: .testEpoch,
                            dedupKey: key, dedupTime: key), receivedAt: .testEpoch)?.seq
                }
            }
        }
        do {
            let store = try SQLiteSessionStore(path: path)
            #expect(try await store.latestSeq() == 20)
            let old = try await store.events(after: 0, limit: 100)
            #expect(old.map(\.seq) == Array(1...10))
            #expect(old.last?.event.attributes["i"] == .int(10))
            // 5 is stored already (a duplicate takes no number); 1000 twice in one transaction.
            #expect(try await insert(store, keys: [1000, 5, 1001, 1000]) == [21, nil, 22, nil])
            #expect(try await store.latestSeq() == 22)
            // Retention empties the table; the numbering does not start over.
            _ = try await store.enforceRetention(EventRetention(maxEvents: 1_000_000, maxAge: .seconds(1)), now: Date())
            #expect(try await store.eventCount() == 0)
            #expect(try await insert(store, keys: [2000]) == [23])
        }
        let reopened = try SQLiteSessionStore(path: path)
        #expect(try await reopened.latestSeq() == 23)
        #expect(try await insert(reopened, keys: [3000]) == [24])
        let schema = try await DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'events'")
        }
        #expect(schema?.contains("AUTOINCREMENT") == false)
    }

    @Test("the session key is FNV-1a of the id's bytes, shifted to 63 bits (stored: it must never change)")
    func sessionKeyIsStable() {
        #expect(SQLiteSessionStore.sessionKey("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325 >> 1))
        #expect(SQLiteSessionStore.sessionKey("a") == Int64(bitPattern: 0xaf63_dc4c_8601_ec8c >> 1))
        #expect(SQLiteSessionStore.sessionKey("foobar") == Int64(bitPattern: 0x8594_4171_f739_67e8 >> 1))
    }
}
