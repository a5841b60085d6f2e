import Foundation

/// One alert instance: rule id + `group_by` values (rules-dsl.md §3.6), its state machine, what its
/// trigger remembers (window buckets, absence reference points) and its notification bookkeeping.
package struct AlertInstance: Sendable {
    package var key: String
    package var ruleID: String
    package var sessionID: String?
    package var machine = AlertStateMachine()
    /// The triggering event (event rules) or last matching event (window and absence rules).
    package var lastEvent: RuleEvent?
    /// The window aggregate or the last value compared.
    package var value: Double?
    var window: WindowBuckets?
    /// Absence: since when the `while` guard holds, and the last matching event.
    var guardTrueSince: Duration?
    var absenceLastMatch: Duration?
    /// After a restart, evaluations that would resolve are ignored until this instant (window
    /// buckets and absence reference points are rebuilt first).
    var restoredGraceUntil: Duration?

    // Notification bookkeeping.
    var lastNotifiedAt: Duration?
    /// The episode whose firing notification went out.
    var notifiedEpisode = 0
    var acknowledgedEpisode = 0
    /// Pushes suppressed by cooldown since the last push.
    var suppressedSinceLast = 0
    /// A firing push held back by a silence or an inhibition, sent when that ends.
    var deferredFiring = false
    var silenced = false
    /// When the instance last fired or resolved (at most ``RuleEvaluator/Configuration/flapMaxChanges``).
    var stateChanges: [Duration] = []
    var flapping = false
    var inhibited = false
    var resolveReason: String?
    var title = ""
    var body = ""

    init(key: String, ruleID: String, sessionID: String?) {
        self.key = key
        self.ruleID = ruleID
        self.sessionID = sessionID
    }

    var isAcknowledged: Bool { machine.episode > 0 && acknowledgedEpisode == machine.episode }
}

/// A firing instance as persisted across restarts (times as wall-clock, since monotonic instants
/// mean nothing to the next process).
package struct PersistedAlert: Sendable, Hashable, Codable {
    package var key: String
    package var ruleID: String
    package var triggerKey: String
    package var sessionID: String?
    package var episode: Int
    package var count: Int
    package var activeSince: Date
    package var firingSince: Date
    package var lastMatch: Date?
    package var lastNotifiedAt: Date?
    package var notifiedEpisode: Int
    package var acknowledgedEpisode: Int
    package var title: String
    package var body: String
    package var savedAt: Date
}
