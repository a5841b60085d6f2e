import Foundation
import GRDB
import SinkCore

/// Push subscriptions and the push outbox, in the sink's database file (same pool as the sessions).
package final class SQLitePushStore: PushStore {
    private let pool: DatabasePool

    /// Uses the database (and connection pool) of `store`; its migrator made the tables.
    package init(sharing store: SQLiteSessionStore) {
        pool = store.pool
    }

    static func migrateV1(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE push_subscriptions (
                    id TEXT PRIMARY KEY NOT NULL,
                    endpoint TEXT NOT NULL UNIQUE,
                    p256dh BLOB NOT NULL,
                    auth BLOB NOT NULL,
                    label TEXT,
                    created_at REAL NOT NULL,
                    expires_at REAL,
                    last_attempt_at REAL,
                    last_success_at REAL,
                    last_status INTEGER,
                    last_error TEXT,
                    delivered INTEGER NOT NULL DEFAULT 0,
                    failed INTEGER NOT NULL DEFAULT 0,
                    consecutive_failures INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE push_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    subscription_id TEXT NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
                    payload BLOB NOT NULL,
                    ttl INTEGER NOT NULL,
                    urgency TEXT NOT NULL,
                    topic TEXT,
                    created_at REAL NOT NULL,
                    not_before REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_payload_bytes INTEGER NOT NULL
                );
                CREATE INDEX push_outbox_due ON push_outbox(not_before, id);
                CREATE INDEX push_outbox_by_subscription ON push_outbox(subscription_id);
                """)
    }

    /// `held_until`: a 429's `Retry-After` holds every message of the subscription, later ones too.
    static func migrateV2(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE push_subscriptions ADD COLUMN held_until REAL")
    }

    /// Plaintext limit a new outbox entry starts with (RFC 8291: 3993 keeps the body ≤ 4096).
    package static let defaultMaxPayloadBytes = 3993

    package func savePushSubscription(_ subscription: PushSubscription) async throws -> Bool {
        try await pool.write { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM push_subscriptions WHERE id = ?", arguments: [subscription.id]) ?? false
            if exists {
                try db.execute(
                    sql: "UPDATE push_subscriptions SET endpoint = ?, p256dh = ?, auth = ?, label = COALESCE(?, label), expires_at = ? WHERE id = ?",
                    arguments: [
                        subscription.endpoint, subscription.p256dh, subscription.auth, subscription.label,
                        subscription.expiresAt?.timeIntervalSince1970, subscription.id,
                    ])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO push_subscriptions (id, endpoint, p256dh, auth, label, created_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        subscription.id, subscription.endpoint, subscription.p256dh, subscription.auth, subscription.label,
                        subscription.createdAt.timeIntervalSince1970, subscription.expiresAt?.timeIntervalSince1970,
                    ])
            }
            return !exists
        }
    }

    package func deletePushSubscription(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM push_subscriptions WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    package func pushSubscriptions() async throws -> [PushSubscription] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM push_subscriptions ORDER BY created_at, id").map(Self.subscription(from:))
        }
    }

    package func enqueuePush(_ messages: [NewPushMessage], now: Date) async throws -> Int {
        try await pool.write { db in
            var made = 0
            for message in messages {
                var sql = """
                    INSERT INTO push_outbox (subscription_id, payload, ttl, urgency, topic, created_at, not_before, max_payload_bytes)
                    SELECT id, ?, ?, ?, ?, ?, ?, ? FROM push_subscriptions
                    """
                var arguments: StatementArguments = [
                    message.payload, message.ttl, message.urgency, message.topic, now.timeIntervalSince1970,
                    now.timeIntervalSince1970, Self.defaultMaxPayloadBytes,
                ]
                if let id = message.subscriptionID {
                    sql += " WHERE id = ?"
                    arguments += [id]
                }
                try db.execute(sql: sql, arguments: arguments)
                made += db.changesCount
            }
            return made
        }
    }

    package func duePushMessages(now: Date, limit: Int) async throws -> [PushMessage] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.* FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id
                    WHERE o.not_before <= ? AND COALESCE(s.held_until, 0) <= ? ORDER BY o.not_before, o.id LIMIT ?
                    """,
                arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, limit]
            ).map(Self.message(from:))
        }
    }

    package func nextPushDue(after: Date) async throws -> Date? {
        try await pool.read { db in
            try Double.fetchOne(
                db,
                sql: """
                    SELECT MIN(MAX(o.not_before, COALESCE(s.held_until, 0))) FROM push_outbox o
                    JOIN push_subscriptions s ON s.id = o.subscription_id
                    WHERE MAX(o.not_before, COALESCE(s.held_until, 0)) > ?
                    """,
                arguments: [after.timeIntervalSince1970])
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    package func pushOutboxCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM push_outbox") ?? 0 }
    }

    package func recordPushAttempt(messageID: Int64, subscriptionID: String, result: PushAttemptResult, at: Date) async throws {
        let time = at.timeIntervalSince1970
        try await pool.write { db in
            switch result {
            case .delivered(let status):
                try db.execute(sql: "DELETE FROM push_outbox WHERE id = ?", arguments: [messageID])
                try db.execute(
                    sql: """
                        UPDATE push_subscriptions SET last_attempt_at = ?, last_success_at = ?, last_status = ?, last_error = NULL,
                            delivered = delivered + 1, consecutive_failures = 0 WHERE id = ?
                        """,
                    arguments: [time, time, status, subscriptionID])
            case .retry(let next, let status, let error, let maxPayloadBytes, let holdSubscription):
                try db.execute(
                    sql: "UPDATE push_outbox SET attempts = attempts + 1, not_before = ?, max_payload_bytes = ? WHERE id = ?",
                    arguments: [next.timeIntervalSince1970, maxPayloadBytes, messageID])
                if holdSubscription {
                    try db.execute(
                        sql: "UPDATE push_subscriptions SET held_until = MAX(COALESCE(held_until, 0), ?) WHERE id = ?",
                        arguments: [next.timeIntervalSince1970, subscriptionID])
                }
                try Self.recordFailure(db, subscriptionID: subscriptionID, time: time, status: status, error: error)
            case .dropped(let status, let error):
                try db.execute(sql: "DELETE FROM push_outbox WHERE id = ?", arguments: [messageID])
                try Self.recordFailure(db, subscriptionID: subscriptionID, time: time, status: status, error: error)
            case .subscriptionGone:
                try db.execute(sql: "DELETE FROM push_subscriptions WHERE id = ?", arguments: [subscriptionID])
                try db.execute(sql: "DELETE FROM push_outbox WHERE subscription_id = ?", arguments: [subscriptionID])
            }
        }
    }

    private static func recordFailure(_ db: Database, subscriptionID: String, time: Double, status: Int?, error: String) throws {
        try db.execute(
            sql: """
                UPDATE push_subscriptions SET last_attempt_at = ?, last_status = ?, last_error = ?,
                    failed = failed + 1, consecutive_failures = consecutive_failures + 1 WHERE id = ?
                """,
            arguments: [time, status, error, subscriptionID])
    }

    private static func subscription(from row: Row) -> PushSubscription {
        let date: (String) -> Date? = { column in (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        return PushSubscription(
            id: row["id"], endpoint: row["endpoint"], p256dh: row["p256dh"], auth: row["auth"], label: row["label"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), expiresAt: date("expires_at"),
            delivery: PushDeliveryState(
                lastAttemptAt: date("last_attempt_at"), lastSuccessAt: date("last_success_at"), lastStatus: row["last_status"],
                lastError: row["last_error"], delivered: row["delivered"], failed: row["failed"],
                consecutiveFailures: row["consecutive_failures"]))
    }

    private static func message(from row: Row) -> PushMessage {
        PushMessage(
            id: row["id"], subscriptionID: row["subscription_id"], payload: row["payload"], ttl: row["ttl"],
            urgency: row["urgency"], topic: row["topic"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
            notBefore: Date(timeIntervalSince1970: row["not_before"]), attempts: row["attempts"],
            maxPayloadBytes: row["max_payload_bytes"])
    }
}
