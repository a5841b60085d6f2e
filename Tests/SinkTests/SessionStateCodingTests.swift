import Foundation
import GRDB
import SinkCore
import SinkStore
import Testing

@Suite("Session state coding")
struct SessionStateCodingTests {
    /// A session shaped by `count` random events of every kind, source and fact.
    static func randomSession(_ generator: inout SplitMix64, index: Int, events count: Int) -> Session {
        let epoch = Date(timeIntervalSince1970: 1_790_000_000)
        let agent = AgentKind.allCases.randomElement(using: &generator)!
        var session = Session(id: "session-\(index)-é✓", agent: agent, firstSeen: epoch.addingTimeInterval(Double(index)))
        for step in 0..<count {
            let kind = EventKind.allCases.randomElement(using: &generator)!
            var facts = EventFacts(
                model: Bool.random(using: &generator) ? "claude-\(step % 3)" : nil,
                costUSD: Bool.random(using: &generator) ? Double.random(in: 0...2, using: &generator) : nil,
                inputTokens: Bool.random(using: &generator) ? Double(Int.random(in: 0...5000, using: &generator)) : nil,
                outputTokens: Bool.random(using: &generator) ? Double(Int.random(in: 0...5000, using: &generator)) : nil,
                error: Bool.random(using: &generator) ? "boom \"quoted\"\n" : nil,
                cwd: step % 5 == 0 ? "/home/dev/project \(index)" : nil,
                sessionName: step % 7 == 0 ? "agent \(index)" : nil,
                exitCode: kind == .processExit ? Int.random(in: 0...2, using: &generator) : nil)
            if kind == .metric {
                facts.metric = MetricSample(
                    meaning: [.costUSD, .inputTokens, .outputTokens, .cacheReadTokens, .cacheCreationTokens, .other]
                        .randomElement(using: &generator)!,
                    temporality: [.delta, .cumulative, .gauge].randomElement(using: &generator)!,
                    value: Double.random(in: 0...100, using: &generator), seriesKey: UInt64.random(in: 0...3, using: &generator))
            }
            let event = SessionEvent(
                sessionID: session.id, agent: agent, kind: kind, name: "event.\(kind.rawValue)",
                source: EventSource.allCases.randomElement(using: &generator)!,
                time: epoch.addingTimeInterval(Double(step) * 1.5), dedupKey: UInt64(step), facts: facts)
            session.apply(event, receivedAt: epoch.addingTimeInterval(Double(step) * 1.5 + 0.25))
        }
        return session
    }

    @Test("every session survives the binary round trip exactly")
    func roundTrip() throws {
        var generator = SplitMix64(seed: 42)
        for index in 0..<300 {
            let session = Self.randomSession(&generator, index: index, events: index % 40)
            let bytes = session.binaryState
            #expect(bytes.first == SessionStateCoding.formatVersion)
            let decoded = try Session(binaryState: bytes)
            #expect(decoded == session)
            #expect(decoded.binaryState == bytes, "the same state encodes to the same bytes")
        }
    }

    @Test("truncated or corrupted state is an error, never a crash")
    func malformed() throws {
        var generator = SplitMix64(seed: 7)
        let session = Self.randomSession(&generator, index: 1, events: 60)
        let bytes = session.binaryState
        for length in 0..<bytes.count {
            #expect(throws: SessionStateCoding.DecodingError.self) { try Session(binaryState: Array(bytes[..<length])) }
        }
        #expect(throws: SessionStateCoding.DecodingError.self) { try Session(binaryState: bytes + [0]) }
        #expect(throws: SessionStateCoding.DecodingError.self) { try Session(binaryState: [2] + bytes.dropFirst()) }
        for _ in 0..<2000 {
            var corrupted = bytes
            corrupted[Int.random(in: 1..<corrupted.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            _ = try? Session(binaryState: corrupted)
        }
        // A huge count or string length is refused before anything is allocated for it.
        #expect(throws: SessionStateCoding.DecodingError.self) {
            try Session(binaryState: [SessionStateCoding.formatVersion, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        }
    }

    @Test("sessions saved as JSON by an earlier version load, and are rewritten in the binary form")
    func legacyJSONRows() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        _ = try SQLiteSessionStore(path: path)
        var generator = SplitMix64(seed: 3)
        let sessions = (0..<20).map { Self.randomSession(&generator, index: $0, events: 12) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                for session in sessions {
                    try db.execute(
                        sql: "INSERT INTO sessions (id, agent, status, last_seen, state) VALUES (?, ?, ?, ?, ?)",
                        arguments: [
                            session.id, session.agent.rawValue, session.status.rawValue, session.lastSeen.timeIntervalSince1970,
                            String(decoding: try encoder.encode(session), as: UTF8.self),
                        ])
                }
            }
        }
        let loaded = try await SQLiteSessionStore(path: path).loadSessions()
        #expect(Set(loaded) == Set(sessions))
        let types = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT typeof(state) FROM sessions")
        }
        #expect(types == ["blob"])
        #expect(Set(try await SQLiteSessionStore(path: path).loadSessions()) == Set(sessions))
    }

    @Test("a database from before the time-ordered dedup index is migrated, and dedup still holds")
    func dedupIndexMigration() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        let event = SessionEvent(
            sessionID: "s1", agent: .claudeCode, kind: .userPrompt, name: "claude_code.user_prompt", source: .logs,
            time: Date(timeIntervalSince1970: 1_790_000_000), dedupKey: 99, dedupTime: 1_790_000_000_000_000_000)
        do {
            let store = try SQLiteSessionStore(path: path)
            #expect(try await store.write { try $0.insert(event, receivedAt: Date()) } != nil)
        }
        // Turn the file back into the earlier schema: the old index, no dedup_time, migration not applied.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    DROP INDEX events_by_dedup;
                    ALTER TABLE events DROP COLUMN dedup_time;
                    CREATE UNIQUE INDEX events_by_dedup_key ON events(dedup_key);
                    DELETE FROM grdb_migrations WHERE identifier = 'v2-dedup-by-time';
                    """)
        }
        try await queue.close()
        let store = try SQLiteSessionStore(path: path)
        let indexes = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name")
        }
        #expect(indexes.contains("events_by_dedup"))
        #expect(!indexes.contains("events_by_dedup_key"))
        // Old rows keep dedup_time 0; new ones dedup on (time, key).
        #expect(try await store.write { try $0.insert(event, receivedAt: Date()) } != nil)
        #expect(try await store.write { try $0.insert(event, receivedAt: Date()) } == nil)
        #expect(try await store.eventCount() == 2)
    }
}
