import Foundation
import SinkCore
import SinkStore
import Testing

@Suite("WAL checkpoints beside the writer")
struct WALCheckpointerTests {
    /// 200 commits of 50 events with 1 KiB of attributes each: about 3,000 WAL pages in all.
    private func writeCommits(_ store: SQLiteSessionStore, commits: Int = 200, perCommit: Int = 50) async throws {
        let padding = String(repeating: "x", count: 1024)
        for commit in 0..<commits {
            _ = try await store.write { transaction in
                for index in 0..<perCommit {
                    let key = UInt64(commit * perCommit + index)
                    let event = SessionEvent(
                        sessionID: "s\(key % 7)", agent: .generic, kind: .other, name: "e", source: .logs, time: .testEpoch,
                        dedupKey: key, dedupTime: key, attributes: ["padding": .string(padding)])
                    _ = try transaction.insert(event, receivedAt: .testEpoch)
                }
            }
        }
    }

    @Test("the background copies the WAL, the writer lets it start over: the WAL stays bounded and nothing is lost")
    func boundedWAL() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        do {
            let store = try SQLiteSessionStore(path: path, checkpoints: .init(backgroundPages: 20, restartPages: 200))
            try await writeCommits(store)
            store.checkpointer.waitUntilIdle()
            let counts = store.checkpointer.counts
            #expect(counts.background > 0)
            #expect(counts.onWriter > 3)
            // Without restarts the WAL would hold every page written (> 3,000 pages, ~12 MB).
            let walBytes = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0
            #expect(walBytes > 0)
            // At most twice 200 pages (commits whose step met a running background checkpoint
            // leave it to the next one; at 400 the writer waits) and the commit that passed them.
            #expect(walBytes < 500 * 4120)
            #expect(try await store.eventCount() == 10_000)
        }
        #expect(try await SQLiteSessionStore(path: path).eventCount() == 10_000)
    }
}
