import Foundation
import GRDB
import SinkCore

/// The rule engine's runtime state (firing alerts, silences) in the sink's database file, as JSON
/// documents keyed by kind and id, so alerts that were firing stay firing across a restart without
/// a second push.
package final class SQLiteRuleStateStore: RuleStateStore {
    private let pool: DatabasePool

    /// Uses the database (and connection pool) of `store`; its migrator made the table.
    package init(sharing store: SQLiteSessionStore) {
        pool = store.pool
    }

    static func migrateV1(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE rule_state (
                    kind TEXT NOT NULL,
                    id TEXT NOT NULL,
                    document TEXT NOT NULL,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (kind, id)
                );
                """)
    }

    package func loadRuleState(kind: String) async throws -> [String: String] {
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, document FROM rule_state WHERE kind = ?", arguments: [kind])
        }
        var result: [String: String] = [:]
        for row in rows { result[row["id"]] = row["document"] }
        return result
    }

    package func saveRuleState(kind: String, upserts: [String: String], deletes: [String]) async throws {
        guard !upserts.isEmpty || !deletes.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try await pool.write { db in
            for id in deletes {
                try db.execute(sql: "DELETE FROM rule_state WHERE kind = ? AND id = ?", arguments: [kind, id])
            }
            for (id, document) in upserts {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO rule_state (kind, id, document, updated_at) VALUES (?, ?, ?, ?)",
                    arguments: [kind, id, document, now])
            }
        }
    }
}
