import SinkCore
import Synchronization

/// A ``RuleStateStore`` in memory, for tests of alert persistence across restarts.
package final class InMemoryRuleStateStore: RuleStateStore {
    private let documents = Mutex<[String: [String: String]]>([:])

    package init() {}

    package func loadRuleState(kind: String) async throws -> [String: String] {
        documents.withLock { $0[kind] ?? [:] }
    }

    package func saveRuleState(kind: String, upserts: [String: String], deletes: [String]) async throws {
        documents.withLock { all in
            for id in deletes { all[kind]?[id] = nil }
            for (id, document) in upserts { all[kind, default: [:]][id] = document }
        }
    }
}
