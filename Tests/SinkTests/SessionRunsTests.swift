import Foundation
import SinkCore
import SinkStore
import Testing

/// The store finds a session's events through its runs (``SQLiteSessionStore``): checked here
/// against a plain list of what was stored, with sessions interleaved within and across
/// transactions, paging by `after` and `limit`, session deletion and retention.
@Suite("SQLite store: a session's events through its runs")
struct SessionRunsTests {
    struct Stored: Equatable {
        var seq: Int64
        var session: String
        var index: Int
    }

    /// Events of `sessions` in `transactions` transactions; within each, runs of 1-12 events of
    /// one session at a time, in a random order (seeded).
    static func fill(
        _ store: SQLiteSessionStore, sessions: [String], transactions: Int, seed: UInt64, firstIndex: Int = 0
    ) async throws -> [Stored] {
        var random = SplitMix64(seed: seed)
        var model: [Stored] = []
        var next = firstIndex
        for _ in 0..<transactions {
            var plan: [String] = []
            for _ in 0..<(1 + Int(random.next() % 6)) {
                let session = sessions[Int(random.next() % UInt64(sessions.count))]
                plan += Array(repeating: session, count: 1 + Int(random.next() % 12))
            }
            let first = next
            next += plan.count
            let planned = plan
            let stored = try await store.write { transaction in
                try planned.enumerated().map { offset, session in
                    let index = first + offset
                    let event = SessionEvent(
                        sessionID: session, agent: .generic, kind: .other, name: "e", source: .logs, time: .testEpoch,
                        dedupKey: UInt64(index), dedupTime: UInt64(index), attributes: ["i": .int(Int64(index))])
                    return try transaction.insert(event, receivedAt: .testEpoch.addingTimeInterval(Double(index)))?.seq
                }
            }
            for (offset, seq) in stored.enumerated() {
                model.append(Stored(seq: try #require(seq), session: planned[offset], index: first + offset))
            }
        }
        return model
    }

    /// Every session's events, whole and in pages of several sizes from several starting points.
    static func expectAgreement(_ store: SQLiteSessionStore, _ model: [Stored], sessions: [String], seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        for session in sessions + ["never seen"] {
            let expected = model.filter { $0.session == session }
            let whole = try await store.events(sessionID: session, after: 0, limit: 100_000)
            #expect(whole.map(\.seq) == expected.map(\.seq), "\(session)")
            #expect(whole.map { $0.event.attributes["i"] } == expected.map { .int(Int64($0.index)) })
            for limit in [1, 7, 64, 65, 200] {
                var pages: [Int64] = []
                var after: Int64 = 0
                while true {
                    let page = try await store.events(sessionID: session, after: after, limit: limit)
                    #expect(page.count <= limit)
                    pages += page.map(\.seq)
                    guard page.count == limit, let last = page.last else { break }
                    after = last.seq
                }
                #expect(pages == expected.map(\.seq), "\(session) in pages of \(limit)")
            }
            if let last = model.last?.seq {
                for _ in 0..<10 {
                    let after = Int64(random.next() % UInt64(last + 2))
                    let page = try await store.events(sessionID: session, after: after, limit: 10)
                    #expect(page.map(\.seq) == Array(expected.filter { $0.seq > after }.prefix(10).map(\.seq)), "\(session) after \(after)")
                }
            }
        }
    }

    @Test("interleaved sessions: every session's events in order, whole and paged, from any point", arguments: [1, 2, 3])
    func interleaved(seed: UInt64) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteSessionStore(path: directory.appendingPathComponent("db.sqlite").path)
        let sessions = ["a", "b", "c", "7f1c2a9e-55d2-4c1b-9d0e-2f6b3c7a9e11"]
        // Enough transactions that sessions have more than one page (64) of runs.
        let model = try await Self.fill(store, sessions: sessions, transactions: 120, seed: seed)
        try await Self.expectAgreement(store, model, sessions: sessions, seed: seed)
    }

    @Test("after deleting sessions and the oldest events, the rest is found as before, and new events join", arguments: [4, 5])
    func deletions(seed: UInt64) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteSessionStore(path: directory.appendingPathComponent("db.sqlite").path)
        let sessions = ["a", "b", "c", "d"]
        var model = try await Self.fill(store, sessions: sessions, transactions: 60, seed: seed)

        _ = try await store.write { transaction in try transaction.deleteSession(id: "b") }
        model.removeAll { $0.session == "b" }
        try await Self.expectAgreement(store, model, sessions: sessions, seed: seed)

        // Retention by count: probably mid-run.
        let keep = model.count * 2 / 3
        let pruned = try await store.enforceRetention(EventRetention(maxEvents: keep, maxAge: .seconds(1e9)), now: .testEpoch)
        #expect(pruned == model.count - keep)
        model.removeFirst(model.count - keep)
        try await Self.expectAgreement(store, model, sessions: sessions, seed: seed)

        model += try await Self.fill(store, sessions: ["a", "b", "e"], transactions: 20, seed: seed + 100, firstIndex: 100_000)
        try await Self.expectAgreement(store, model, sessions: sessions + ["e"], seed: seed)

        // Everything goes: nothing is found, and the numbering goes on.
        _ = try await store.enforceRetention(EventRetention(maxEvents: 0, maxAge: .seconds(1e9)), now: .testEpoch)
        try await Self.expectAgreement(store, [], sessions: sessions + ["e"], seed: seed)
        let more = try await Self.fill(store, sessions: ["a"], transactions: 1, seed: seed, firstIndex: 200_000)
        #expect(more.first!.seq > model.last!.seq)
        try await Self.expectAgreement(store, more, sessions: ["a"], seed: seed)
    }
}
