import CSQLiteTuning
import Foundation
import GRDB
import GRDBSQLite
import SinkCore

/// The sessions and events of the Observatory in one SQLite database (WAL mode) in the data directory.
///
/// Durability: every ``write(_:)`` is one transaction, committed before the sink acknowledges the
/// request that brought its events. With `synchronous = NORMAL` (the default) a commit survives the
/// sink's process being killed at any moment (`kill -9`); `synchronous = FULL` also survives a power
/// loss, at the price of an fsync per commit.
///
/// A session's events are found through its runs (`session_runs`): the events a transaction
/// stores one after another for the same session have consecutive `seq`s, so the store records
/// only where each such run starts (`first_seq`, and the session's key) and reads a session's
/// events from its run starts onward, until another session's event or the session's next run.
/// Runs divide the sequence between them; retention and session deletion keep that true.
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
    package init(path: String, synchronous: Synchronous = .normal, checkpoints: WALCheckpointer.Policy = .init()) throws {
        _ = Self.allocationStatisticsOff
        let checkpointer = WALCheckpointer(path: path, synchronous: synchronous.rawValue.uppercased(), policy: checkpoints)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
            if !db.configuration.readonly {
                // The writer keeps the hot pages of the indexes in its own cache (16 MiB, filled only
                // as pages are used) instead of reading them back from the kernel for every commit.
                try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)")
                // Checkpoints run beside the writer, not on it (WALCheckpointer). The configuration
                // keeps the checkpointer alive as long as the pool and its writer.
                checkpointer.install(onWriter: db.sqliteConnection!)
            }
        }
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        self.checkpointer = checkpointer
        try Self.migrator.migrate(pool)
    }

    /// SQLite's allocation statistics off, once, before the first connection opens: they take a
    /// process-wide mutex on every SQLite allocation, and cost about 7 % of ingest throughput.
    /// False if SQLite was initialized before (the statistics then stay on; nothing else changes).
    static let allocationStatisticsOff: Bool = observatory_sqlite_disable_memory_statistics() == SQLITE_OK

    /// Moves the WAL into the database beside the writer.
    package let checkpointer: WALCheckpointer

    /// The writer's page cache, KiB.
    static let writerCacheKiB = 16 * 1024

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
        // Deduplication ordered by the record's time: a unique index on the hash alone put every
        // insert on a random page of an index as large as the table, and each commit rewrote
        // about one 4 KiB page per event. Rows from before keep dedup_time 0 (a retry of one of
        // them across the upgrade would be stored again: an exporter retries within minutes).
        migrator.registerMigration("v2-dedup-by-time") { db in
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN dedup_time INTEGER NOT NULL DEFAULT 0;
                    DROP INDEX events_by_dedup_key;
                    CREATE UNIQUE INDEX events_by_dedup ON events(dedup_time, dedup_key);
                    """)
        }
        // Events of a session found by a 63-bit hash of its id (`sessionKey(_:)`) instead of the id
        // text: the index entries are two integers rather than a 36-byte UUID and an integer, so
        // each insert compares and rewrites less (about 3 % of ingest throughput).
        migrator.registerMigration("v3-session-key") { db in
            db.add(function: DatabaseFunction("observatory_session_key", argumentCount: 1, pure: true) { values in
                String.fromDatabaseValue(values[0]).map(Self.sessionKey)
            })
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN session_key INTEGER NOT NULL DEFAULT 0;
                    UPDATE events SET session_key = observatory_session_key(session_id);
                    DROP INDEX events_by_session;
                    CREATE INDEX events_by_session_key ON events(session_key, seq);
                    """)
        }
        // `seq` given by the store (`event_sequence`, advanced once per transaction) instead of
        // AUTOINCREMENT, which read and rewrote `sqlite_sequence` at the end of every INSERT
        // statement, one per event: a sixth of SQLite's time per event. And a session's events
        // found through its runs (`session_runs`, see ``SQLiteSessionStore``) instead of an index
        // entry per event, which cost each insert a descent into a second index (another 7 % of
        // ingest throughput). AUTOINCREMENT cannot be dropped in place, so the table is rebuilt
        // (once; about 9 s per million events here).
        migrator.registerMigration("v4-store-given-seq") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events_v4 (
                        seq INTEGER PRIMARY KEY NOT NULL,
                        session_id TEXT NOT NULL,
                        received_at REAL NOT NULL,
                        time REAL NOT NULL,
                        agent TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        source TEXT NOT NULL,
                        dedup_key INTEGER NOT NULL,
                        facts TEXT NOT NULL,
                        attributes TEXT NOT NULL,
                        dedup_time INTEGER NOT NULL DEFAULT 0,
                        session_key INTEGER NOT NULL DEFAULT 0
                    );
                    INSERT INTO events_v4
                        SELECT seq, session_id, received_at, time, agent, kind, name, source, dedup_key, facts, attributes,
                            dedup_time, session_key
                        FROM events ORDER BY seq;
                    CREATE TABLE event_sequence (last INTEGER NOT NULL);
                    INSERT INTO event_sequence (last) VALUES (MAX(
                        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
                        COALESCE((SELECT MAX(seq) FROM events), 0)));
                    CREATE TABLE session_runs (first_seq INTEGER PRIMARY KEY NOT NULL, session_key INTEGER NOT NULL);
                    INSERT INTO session_runs (first_seq, session_key)
                        SELECT seq, session_key FROM (
                            SELECT seq, session_key, session_id, LAG(session_id) OVER (ORDER BY seq) AS previous FROM events_v4)
                        WHERE previous IS NULL OR previous <> session_id;
                    CREATE INDEX session_runs_by_key ON session_runs(session_key, first_seq);
                    DROP TABLE events;
                    ALTER TABLE events_v4 RENAME TO events;
                    CREATE UNIQUE INDEX events_by_dedup ON events(dedup_time, dedup_key);
                    """)
        }
        return migrator
    }

    /// The `session_key` column: FNV-1a (64 bits) of the session id's UTF-8 bytes, shifted to 63
    /// bits so it is a non-negative SQLite integer. Stored: never change it. Queries match the id
    /// too, so a collision costs nothing but a row skipped.
    static func sessionKey(_ sessionID: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sessionID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: hash >> 1)
    }

    // MARK: SessionStore

    package func loadSessions() async throws -> [Session] {
        let states = try await pool.read { db in
            try DatabaseValue.fetchAll(db, sql: "SELECT state FROM sessions")
        }
        var sessions: [Session] = []
        sessions.reserveCapacity(states.count)
        var fromJSON: [Session] = []
        for state in states {
            switch state.storage {
            case .blob(let data):
                sessions.append(try Session(binaryState: [UInt8](data)))
            case .string(let text):
                // Written by a version before the binary state: read once, then rewritten below.
                fromJSON.append(try decoder.decode(Session.self, from: Data(text.utf8)))
            default:
                throw SessionStateCoding.DecodingError(description: "a session row has no state")
            }
        }
        if !fromJSON.isEmpty {
            let rewritten = fromJSON
            try await pool.write { db in
                for session in rewritten { try Transaction(db: db).save(session) }
            }
            sessions += fromJSON
        }
        return sessions
    }

    package func write<Result: Sendable>(
        _ body: @escaping @Sendable (any SessionStoreTransaction) throws -> Result
    ) async throws -> Result {
        try await pool.write { db in
            let transaction = try Transaction(db: db)
            let result = try body(transaction)
            try transaction.finish()
            return result
        }
    }

    package func events(sessionID: String, after: Int64, limit: Int) async throws -> [StoredEvent] {
        guard limit > 0 else { return [] }
        let rows = try await pool.read { db in
            try Self.sessionRows(db, sessionID: sessionID, after: after, limit: limit)
        }
        return try rows.map(storedEvent(from:))
    }

    /// A session's events after `after`, through its runs: from each run's first seq (or
    /// `after + 1`), rows in seq order until one of another session (the run ended) or the
    /// session's next run. Rows deleted from a run leave gaps that are simply skipped.
    private static func sessionRows(_ db: Database, sessionID: String, after: Int64, limit: Int) throws -> [Row] {
        let key = sessionKey(sessionID)
        var rows: [Row] = []
        // The run holding `after + 1` may have begun at or before `after`.
        var pending = try Int64.fetchOne(
            db, sql: "SELECT first_seq FROM session_runs WHERE session_key = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1",
            arguments: [key, after])
        var cursor = pending ?? after
        let pageSize = 64
        while rows.count < limit {
            let page = try Int64.fetchAll(
                db, sql: "SELECT first_seq FROM session_runs WHERE session_key = ? AND first_seq > ? ORDER BY first_seq LIMIT ?",
                arguments: [key, cursor, pageSize])
            let starts = (pending.map { [$0] } ?? []) + page
            guard let last = starts.last else { break }
            let complete = page.count < pageSize
            // A run ends where the session's next one starts; the last run of a page ends only
            // where its rows do when no page follows, so otherwise it waits for the next page.
            for position in starts.indices where complete || position < starts.count - 1 {
                let end = position + 1 < starts.count ? starts[position + 1] : Int64.max
                let from = max(starts[position], after + 1)
                guard from < end else { continue }
                let scan = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT seq, session_id, received_at, time, agent, kind, name, source, dedup_key, dedup_time, facts, attributes
                        FROM events WHERE seq >= ? AND seq < ? ORDER BY seq
                        """,
                    arguments: [from, end])
                while rows.count < limit, let row = try scan.next() {
                    guard row["session_id"] as String == sessionID else { break }
                    rows.append(row.copy())
                }
                if rows.count >= limit { break }
            }
            if complete { break }
            pending = last
            cursor = last
        }
        return rows
    }

    package func events(after: Int64, limit: Int) async throws -> [StoredEvent] {
        let rows = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, session_id, received_at, time, agent, kind, name, source, dedup_key, dedup_time, facts, attributes
                    FROM events WHERE seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [after, limit])
        }
        return try rows.map(storedEvent(from:))
    }

    package func latestSeq() async throws -> Int64 {
        // event_sequence remembers the highest seq ever given, even after retention emptied the table.
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT last FROM event_sequence") ?? 0
        }
    }

    /// Number of events stored.
    package func eventCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }

    package func enforceRetention(
        _ retention: EventRetention, now: Date, deleted report: @escaping @Sendable (Int) -> Void
    ) async throws -> Int {
        let oldestKept = now.timeIntervalSince1970 - retention.maxAge.seconds
        let maxEvents = retention.maxEvents
        // Over the count limit: everything below the newest `maxEvents` sequence numbers.
        let countBoundary = try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?", arguments: [maxEvents])
        }
        // Deleted in chunks of consecutive seqs from the oldest, each its own transaction, so
        // commits of new events are never held up for long behind a large clean-up. Received
        // times grow with seq, so the oldest come first; a chunk with nothing to delete ends it.
        var deleted = 0
        while true {
            let changes = try await pool.write { db in
                guard let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM events") else { return 0 }
                try db.execute(
                    sql: """
                        DELETE FROM events
                        WHERE seq >= ? AND seq < ? AND (seq <= ? OR received_at < ?)
                        """,
                    arguments: [oldest, oldest + Int64(Self.retentionChunk), countBoundary ?? 0, oldestKept])
                let changes = db.changesCount
                if changes > 0 { try Self.trimRuns(db) }
                return changes
            }
            deleted += changes
            if changes == 0 { return deleted }
            report(changes)
        }
    }

    /// Consecutive seqs per retention transaction: about 50 ms of the writer's time. Larger
    /// chunks cost less per event (a deletion rewrites the pages of the deduplication index it
    /// touches once per transaction): 2.4 µs per event at 10,000, 2.0 at 25,000.
    private static let retentionChunk = 25_000

    /// After the oldest events went: runs that began before the oldest event left are dropped,
    /// and the run that holds that event starts at it.
    private static func trimRuns(_ db: Database) throws {
        guard let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM events") else {
            try db.execute(sql: "DELETE FROM session_runs")
            return
        }
        if let holding = try Int64.fetchOne(db, sql: "SELECT MAX(first_seq) FROM session_runs WHERE first_seq <= ?", arguments: [oldest]),
            holding < oldest
        {
            try db.execute(sql: "UPDATE session_runs SET first_seq = ? WHERE first_seq = ?", arguments: [oldest, holding])
        }
        try db.execute(sql: "DELETE FROM session_runs WHERE first_seq < ?", arguments: [oldest])
    }

    // MARK: Rows

    private func storedEvent(from row: Row) throws -> StoredEvent {
        let factsText: String = row["facts"]
        let attributesText: String = row["attributes"]
        let facts = try decoder.decode(EventFacts.self, from: Data(factsText.utf8))
        let attributes = try decoder.decode(EventAttributes.self, from: Data(attributesText.utf8))
        let dedupKey: Int64 = row["dedup_key"]
        let dedupTime: Int64 = row["dedup_time"]
        let event = SessionEvent(
            sessionID: row["session_id"],
            agent: AgentKind(rawValue: row["agent"]) ?? .generic,
            kind: EventKind(rawValue: row["kind"]) ?? .other,
            name: row["name"],
            source: EventSource(rawValue: row["source"]) ?? .logs,
            time: Date(timeIntervalSince1970: row["time"]),
            dedupKey: UInt64(bitPattern: dedupKey),
            dedupTime: UInt64(bitPattern: dedupTime),
            facts: facts,
            attributes: attributes)
        return StoredEvent(seq: row["seq"], receivedAt: Date(timeIntervalSince1970: row["received_at"]), event: event)
    }

    /// One write transaction; lives only inside ``write(_:)``.
    private struct Transaction: SessionStoreTransaction {
        let db: Database
        /// Looked up once per transaction: GRDB's statement cache hashes the SQL text per lookup.
        private let insertStatement: Statement
        private let runStatement: Statement
        /// The last `seq` given: read at the first insert, written back by ``finish()``.
        private let numbering = Numbering()

        /// The store's event numbering within one transaction.
        private final class Numbering {
            var last: Int64?
            var advanced = false
            /// The session of the last event inserted: an event of another starts a run.
            var previousSessionID: String?
            /// ``SQLiteSessionStore/sessionKey(_:)`` of ``previousSessionID``.
            var previousKey: Int64 = 0
        }

        init(db: Database) throws {
            self.db = db
            insertStatement = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO events
                        (session_id, received_at, time, agent, kind, name, source, dedup_key, dedup_time, facts, attributes, session_key, seq)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            runStatement = try db.cachedStatement(sql: "INSERT INTO session_runs (first_seq, session_key) VALUES (?, ?)")
        }

        /// Records that the run of events of one session starting at `seq` has begun.
        private func startRun(at seq: Int64, key: Int64) throws {
            let handle = runStatement.sqliteStatement
            sqlite3_bind_int64(handle, 1, seq)
            sqlite3_bind_int64(handle, 2, key)
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: runStatement.sql)
            }
        }

        /// The next `seq`: one past both the last ever given and the largest stored, so a number
        /// is never given twice, whatever retention deleted.
        private func nextSeq() throws -> Int64 {
            if let last = numbering.last { return last + 1 }
            let last = try Int64.fetchOne(
                db, sql: "SELECT MAX(COALESCE((SELECT last FROM event_sequence), 0), COALESCE((SELECT MAX(seq) FROM events), 0))") ?? 0
            numbering.last = last
            return last + 1
        }

        /// Records the last `seq` given, in the same transaction as the events.
        func finish() throws {
            guard numbering.advanced, let last = numbering.last else { return }
            try db.execute(sql: "UPDATE event_sequence SET last = ?", arguments: [last])
        }

        func insert(_ event: SessionEvent, receivedAt: Date) throws -> StoredEvent? {
            let statement = insertStatement
            // The hot path binds with SQLite's C API: GRDB's `StatementArguments` boxes each of the
            // eleven values in an existential, a fifth of the single writer's time per event.
            // Left reset after every step below, so it is ready for the next bind.
            let handle = statement.sqliteStatement
            let payload = event.payload
            Self.bind(event.sessionID, at: 1, of: handle)
            sqlite3_bind_double(handle, 2, receivedAt.timeIntervalSince1970)
            sqlite3_bind_double(handle, 3, event.time.timeIntervalSince1970)
            Self.bind(event.agent.rawValue, at: 4, of: handle)
            Self.bind(event.kind.rawValue, at: 5, of: handle)
            Self.bind(event.name, at: 6, of: handle)
            Self.bind(event.source.rawValue, at: 7, of: handle)
            sqlite3_bind_int64(handle, 8, Int64(bitPattern: event.dedupKey))
            sqlite3_bind_int64(handle, 9, Int64(bitPattern: event.dedupTime))
            Self.bind(utf8: payload.factsUTF8, at: 10, of: handle)
            Self.bind(utf8: payload.attributesUTF8, at: 11, of: handle)
            let sameRun = numbering.previousSessionID == event.sessionID
            let key = sameRun ? numbering.previousKey : SQLiteSessionStore.sessionKey(event.sessionID)
            sqlite3_bind_int64(handle, 12, key)
            let seq = try nextSeq()
            sqlite3_bind_int64(handle, 13, seq)
            let code = sqlite3_step(handle)
            guard code == SQLITE_DONE else {
                let message = db.lastErrorMessage
                sqlite3_reset(handle)
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
            }
            sqlite3_reset(handle)
            // Ignored: a record stored before (the deduplication index). `seq` cannot collide:
            // `nextSeq()` is past every stored one.
            guard sqlite3_changes(db.sqliteConnection) > 0 else { return nil }
            numbering.last = seq
            numbering.advanced = true
            if !sameRun {
                try startRun(at: seq, key: key)
                numbering.previousSessionID = event.sessionID
                numbering.previousKey = key
            }
            return StoredEvent(seq: seq, receivedAt: receivedAt, event: event)
        }

        func deleteSession(id: String) throws {
            let starts = try Int64.fetchAll(
                db, sql: "SELECT first_seq FROM session_runs WHERE session_key = ? ORDER BY first_seq",
                arguments: [SQLiteSessionStore.sessionKey(id)])
            for start in starts {
                // Runs divide the sequence: this one ends where the next run of any session starts.
                let end = try Int64.fetchOne(db, sql: "SELECT MIN(first_seq) FROM session_runs WHERE first_seq > ?", arguments: [start])
                    ?? Int64.max
                try db.execute(sql: "DELETE FROM events WHERE seq >= ? AND seq < ? AND session_id = ?", arguments: [start, end, id])
                // Gone once its range is empty (a session whose id has the same key keeps its runs).
                try db.execute(
                    sql: "DELETE FROM session_runs WHERE first_seq = ? AND NOT EXISTS (SELECT 1 FROM events WHERE seq >= ? AND seq < ?)",
                    arguments: [start, start, end])
            }
            try db.execute(sql: "DELETE FROM sessions WHERE id = ?", arguments: [id])
        }

        /// SQLite copies the text (`SQLITE_TRANSIENT`): the Swift string's buffer does not outlive the call.
        private static func bind(_ text: String, at index: Int32, of handle: OpaquePointer) {
            var text = text
            text.withUTF8 { bind(utf8: $0, at: index, of: handle) }
        }

        /// Text from UTF-8 bytes, copied by SQLite.
        private static func bind(utf8: ArraySlice<UInt8>, at index: Int32, of handle: OpaquePointer) {
            utf8.withUnsafeBufferPointer { bind(utf8: $0, at: index, of: handle) }
        }

        private static func bind(utf8 bytes: UnsafeBufferPointer<UInt8>, at index: Int32, of handle: OpaquePointer) {
            if let base = bytes.baseAddress, bytes.count > 0 {
                _ = UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                    sqlite3_bind_text(handle, index, chars, Int32(bytes.count), transient)
                }
            } else {
                _ = sqlite3_bind_text(handle, index, "", 0, transient)
            }
        }

        private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

        func save(_ session: Session) throws {
            // Binary (SessionStateCoding): a cold start decodes it ~20x faster than JSON.
            let state = Data(session.binaryState)
            let statement = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO sessions (id, agent, status, last_seen, state) VALUES (?, ?, ?, ?, ?)")
            try statement.execute(arguments: [
                session.id, session.agent.rawValue, session.status.rawValue,
                session.lastSeen.timeIntervalSince1970, state,
            ])
        }
    }
}
