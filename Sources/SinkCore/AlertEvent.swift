import Foundation

/// A change of one alert instance, as the rule engine publishes it to the live view and to the
/// notification stage. `notification` is what to push; it is `nil` when the change must not reach
/// the phone now (shadow mode, silenced, inhibited, cooldown, acknowledged, quiet hours, group_wait),
/// and `suppressedBecause` then says why. Notifications held by quiet hours or `group_wait` come
/// later as one event whose notification summarises them (``AlertNotification/count``).
package struct AlertEvent: Sendable, Hashable, Codable {
    /// What happened to the instance.
    package enum Kind: String, Sendable, Hashable, Codable {
        case pending, firing, reminder, resolved
    }

    package var kind: Kind
    package var alert: AlertSnapshot
    package var notification: AlertNotification?
    package var suppressedBecause: String?
    /// Wall-clock time of the change.
    package var at: Date

    package init(kind: Kind, alert: AlertSnapshot, notification: AlertNotification?, suppressedBecause: String?, at: Date) {
        self.kind = kind
        self.alert = alert
        self.notification = notification
        self.suppressedBecause = suppressedBecause
        self.at = at
    }
}

/// One alert instance (rule id + `group_by` values) as the API shows it.
package struct AlertSnapshot: Sendable, Hashable, Codable {
    /// `rule id` + `|` + group values: stable across restarts, used as the push collapse id.
    package var id: String
    package var ruleID: String
    package var ruleName: String
    package var severity: String
    /// `pending`, `firing`, `recovering` or `resolved`.
    package var state: String
    package var sessionID: String?
    package var labels: [String: String]
    /// Increments each time the instance enters `firing`.
    package var episode: Int
    /// Matching events while firing (event rules) or evaluations that held.
    package var count: Int
    package var activeSince: Date?
    package var firingSince: Date?
    package var resolvedAt: Date?
    package var resolveReason: String?
    package var acknowledged: Bool
    package var silenced: Bool
    package var inhibited: Bool
    /// `shadow` rules are evaluated and shown but never notify.
    package var shadow: Bool
    /// The window aggregate or the value the rule compared, when there is one.
    package var value: Double?
    package var title: String
    package var body: String

    package init(
        id: String, ruleID: String, ruleName: String, severity: String, state: String, sessionID: String?,
        labels: [String: String], episode: Int, count: Int, activeSince: Date?, firingSince: Date?, resolvedAt: Date?,
        resolveReason: String?, acknowledged: Bool, silenced: Bool, inhibited: Bool, shadow: Bool, value: Double?,
        title: String, body: String
    ) {
        self.id = id
        self.ruleID = ruleID
        self.ruleName = ruleName
        self.severity = severity
        self.state = state
        self.sessionID = sessionID
        self.labels = labels
        self.episode = episode
        self.count = count
        self.activeSince = activeSince
        self.firingSince = firingSince
        self.resolvedAt = resolvedAt
        self.resolveReason = resolveReason
        self.acknowledged = acknowledged
        self.silenced = silenced
        self.inhibited = inhibited
        self.shadow = shadow
        self.value = value
        self.title = title
        self.body = body
    }
}

/// What the notification stage should deliver.
package struct AlertNotification: Sendable, Hashable, Codable {
    package var title: String
    package var body: String
    /// `info`, `warning` or `critical` (maps to push priority).
    package var severity: String
    /// Replaces an earlier notification with the same key on the phone.
    package var collapseKey: String
    /// Pushes this instance would have sent but did not (cooldown) since its last push.
    package var suppressedSinceLast: Int
    /// Alert notifications this one stands for: more than 1 for a `group_wait` batch or a
    /// quiet-hours summary, whose `title` and `body` then summarise them.
    package var count: Int
    /// The titles of the notifications a batch or summary stands for (empty for a single one).
    package var items: [String]

    package init(
        title: String, body: String, severity: String, collapseKey: String, suppressedSinceLast: Int, count: Int = 1, items: [String] = []
    ) {
        self.title = title
        self.body = body
        self.severity = severity
        self.collapseKey = collapseKey
        self.suppressedSinceLast = suppressedSinceLast
        self.count = count
        self.items = items
    }
}

/// Receives the rule engine's alert changes: the live view and the notification stage (push).
/// Implementations return quickly: they buffer, bounded, and never slow the rule engine.
package protocol AlertConsumer: Sendable {
    func consume(_ alerts: [AlertEvent]) async
}

/// Keeps the rule engine's runtime state across restarts: firing alerts and silences, as JSON
/// documents keyed by kind and id. The SQLite store implements it.
package protocol RuleStateStore: Sendable {
    /// Every stored document of one kind (`alert`, `silence`).
    func loadRuleState(kind: String) async throws -> [String: String]
    /// Writes `upserts` and deletes `deletes` (ids) of one kind in one transaction.
    func saveRuleState(kind: String, upserts: [String: String], deletes: [String]) async throws
}
