import Foundation
import Logging
import SinkCore
import SinkSessions
import SinkStore
import SinkTesting
import Synchronization
import Testing

@Suite("Session tracker")
struct SessionTrackerTests {
    func event(_ kind: EventKind, session: String = "s1", key: UInt64, cost: Double? = nil, at offset: TimeInterval = 0) -> SessionEvent {
        SessionEvent(
            sessionID: session, agent: .claudeCode, kind: kind, name: "claude_code.\(kind.rawValue)", source: .logs,
            time: Date.testEpoch.addingTimeInterval(offset), dedupKey: key, facts: EventFacts(costUSD: cost))
    }

    func makeTracker(store: any SessionStore, clock: ManualWallClock = ManualWallClock(.testEpoch), _ configure: (inout SessionTracker.Configuration) -> Void = { _ in })
        async throws -> SessionTracker
    {
        var configuration = SessionTracker.Configuration()
        configure(&configuration)
        return try await SessionTracker(store: store, clock: clock, configuration: configuration, logger: Logger(label: "test"))
    }

    /// Consumes on a child task and flushes until it returns (the tracker's run loop is not running).
    func consume(_ tracker: SessionTracker, _ events: [SessionEvent]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await tracker.consume(events) }
            while await tracker.pendingEvents == 0 { await Task.yield() }
            await tracker.flush()
            try await group.waitForAll()
        }
    }

    @Test("events are committed, counted, and a retried batch is not counted twice")
    func dedup() async throws {
        let store = InMemorySessionStore()
        let tracker = try await makeTracker(store: store)
        let batch = [event(.userPrompt, key: 1), event(.apiRequest, key: 2, cost: 0.5)]
        try await consume(tracker, batch)
        try await consume(tracker, batch)
        let session = try #require(await tracker.session(id: "s1"))
        #expect(session.counters.apiRequests == 1)
        #expect(session.counters.costUSD == 0.5)
        #expect(session.counters.events == 2)
        #expect(store.storedEvents.count == 2)
        #expect(store.storedSessions["s1"] == session)
    }

    @Test("retention deletes sessions that are over and quiet past max_age, with their events; open and recent ones stay")
    func sessionRetention() async throws {
        let store = InMemorySessionStore()
        let clock = ManualWallClock(.testEpoch)
        let tracker = try await makeTracker(store: store, clock: clock) { $0.retention = EventRetention(maxAge: .seconds(3600)) }
        try await consume(tracker, [
            event(.userPrompt, session: "old-ended", key: 1), event(.sessionEnd, session: "old-ended", key: 2, at: 1),
            event(.userPrompt, session: "old-open", key: 3),
        ])
        #expect(await tracker.session(id: "old-ended")?.status == .ended)
        clock.advance(by: .seconds(1800))
        try await consume(tracker, [
            event(.userPrompt, session: "recent-ended", key: 4, at: 1800), event(.sessionEnd, session: "recent-ended", key: 5, at: 1801),
        ])
        clock.advance(by: .seconds(1900))
        await tracker.enforceRetention()
        #expect(await tracker.session(id: "old-ended") == nil)
        #expect(store.storedSessions["old-ended"] == nil)
        #expect(!store.storedEvents.contains { $0.event.sessionID == "old-ended" })
        #expect(await tracker.session(id: "recent-ended") != nil)
        #expect(store.storedSessions["recent-ended"] != nil)
        // Quiet that long but not over: kept (the status machine ends it first, then retention).
        #expect(await tracker.session(id: "old-open") != nil)
    }

    @Test("batches queued during a commit go into one transaction (group commit)")
    func groupCommit() async throws {
        let store = InMemorySessionStore()
        let tracker = try await makeTracker(store: store)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask { try await tracker.consume([self.event(.toolResult, key: UInt64(index))]) }
            }
            while await tracker.pendingEvents < 10 { await Task.yield() }
            await tracker.flush()
            try await group.waitForAll()
        }
        #expect(store.writeCount == 1)
        #expect(await tracker.session(id: "s1")?.counters.toolCalls == 10)
    }

    @Test("a full queue refuses the batch with overloaded (→ 503 Retry-After)")
    func overload() async throws {
        let tracker = try await makeTracker(store: InMemorySessionStore()) { $0.maxPendingEvents = 5 }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await tracker.consume((0..<5).map { self.event(.toolResult, key: UInt64($0)) }) }
            while await tracker.pendingEvents < 5 { await Task.yield() }
            await #expect(throws: PipelineError.overloaded(retryAfterSeconds: 1)) {
                try await tracker.consume([self.event(.toolResult, key: 99)])
            }
            await tracker.flush()
            try await group.waitForAll()
        }
    }

    @Test("a failing store refuses the batch and changes no session")
    func storeFailure() async throws {
        let store = InMemorySessionStore()
        let tracker = try await makeTracker(store: store)
        store.setFailing(true)
        await #expect(throws: PipelineError.self) {
            try await consume(tracker, [event(.userPrompt, key: 1)])
        }
        #expect(await tracker.session(id: "s1") == nil)
        store.setFailing(false)
        try await consume(tracker, [event(.userPrompt, key: 1)])
        #expect(await tracker.session(id: "s1")?.counters.prompts == 1)
    }

    @Test("the clock turns a quiet session idle, persisted")
    func tickIdle() async throws {
        let store = InMemorySessionStore()
        let clock = ManualWallClock(.testEpoch)
        let tracker = try await makeTracker(store: store, clock: clock)
        try await consume(tracker, [event(.userPrompt, key: 1)])
        #expect(await tracker.session(id: "s1")?.status == .working)
        clock.advance(by: .seconds(301))
        await tracker.tick()
        #expect(await tracker.session(id: "s1")?.status == .idle)
        #expect(store.storedSessions["s1"]?.status == .idle)
    }

    @Test("sessions and events survive a restart on SQLite; dedup holds across it")
    func restartOnSQLite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        do {
            let tracker = try await makeTracker(store: try SQLiteSessionStore(path: path))
            try await consume(tracker, [event(.userPrompt, key: 1), event(.apiRequest, key: 2, cost: 1.25, at: 1)])
        }
        let store = try SQLiteSessionStore(path: path)
        let tracker = try await makeTracker(store: store)
        let session = try #require(await tracker.session(id: "s1"))
        #expect(session.counters.costUSD == 1.25)
        #expect(session.status == .working)
        try await consume(tracker, [event(.apiRequest, key: 2, cost: 1.25, at: 1), event(.toolResult, key: 3, at: 2)])
        let after = try #require(await tracker.session(id: "s1"))
        #expect(after.counters.costUSD == 1.25)
        #expect(after.counters.toolCalls == 1)
        let events = try await store.events(sessionID: "s1", after: 0, limit: 10)
        #expect(events.map(\.event.kind) == [.userPrompt, .apiRequest, .toolResult])
        #expect(events.map(\.seq) == events.map(\.seq).sorted())
        #expect(events[1].event.facts.costUSD == 1.25)
    }
}

@Suite("SQLite store")
struct SQLiteSessionStoreTests {
    @Test("retention deletes the oldest events beyond the count and age limits")
    func retention() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteSessionStore(path: directory.appendingPathComponent("db.sqlite").path)
        let old = Date.testEpoch
        let new = old.addingTimeInterval(10 * 86400)
        _ = try await store.write { transaction in
            for index in 0..<3000 {
                let event = SessionEvent(
                    sessionID: "s", agent: .generic, kind: .other, name: "e", source: .logs, time: old,
                    dedupKey: UInt64(index), attributes: ["i": .int(Int64(index))])
                _ = try transaction.insert(event, receivedAt: index < 1000 ? old : new)
            }
        }
        let reported = Mutex(0)
        let pruned = try await store.enforceRetention(EventRetention(maxEvents: 1500, maxAge: .seconds(7 * 86400)), now: new) { chunk in
            reported.withLock { $0 += chunk }
        }
        #expect(pruned == 1500)
        // Told as each chunk commits (the pruned counter), adding up to the whole.
        #expect(reported.withLock { $0 } == 1500)
        let remaining = try await store.events(sessionID: "s", after: 0, limit: 5000)
        #expect(remaining.count == 1500)
        #expect(remaining.first?.event.attributes["i"] == .int(1500))
    }
}
