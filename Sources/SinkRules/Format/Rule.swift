import Foundation

/// One alert rule, as loaded and checked from a rule file (rules-dsl.md §3.4).
package struct Rule: Sendable {
    package enum Mode: String, Sendable, Hashable, CaseIterable { case notify, shadow }
    package enum Severity: String, Sendable, Hashable, CaseIterable { case info, warning, critical }

    /// `[a-z0-9][a-z0-9._-]{0,63}`, unique across `rules/`; the identity for state, silences, tests.
    package var id: String
    package var name: String
    package var description: String?
    package var enabled = true
    package var mode = Mode.notify
    package var severity = Severity.warning
    /// Static filter on session fields: only sessions of these agents (empty: all).
    package var matchAgents: Set<String> = []
    package var trigger: Trigger
    /// state/window: how long the condition must hold before firing.
    package var forDuration = Duration.zero
    /// How long a firing instance keeps firing after its condition stops holding.
    package var keepFiringFor = Duration.zero
    /// state/window: an extra condition that must hold to resolve (hysteresis).
    package var resolveWhen: Expression?
    /// Session fields whose values, with the rule id, name an alert instance (default `session.id`).
    package var groupBy: [SessionField] = [.id]
    package var labels: [String: String] = [:]
    package var notify: NotifyPolicy
    package var inhibitedBy: [String] = []
    /// Where the rule is written.
    package var file: String
    package var line: Int
    /// Changes when what the rule matches changes (trigger, group_by, match): state does not carry over.
    package var triggerKey: String
    /// Changes when timing changes (for, keep_firing_for, resolve_when): state is recomputed.
    package var timingKey: String
}

/// The four trigger kinds; the only place time lives (rules-dsl.md §3.5).
package enum Trigger: Sendable {
    case event(EventTrigger)
    case state(StateTrigger)
    case absence(AbsenceTrigger)
    case window(WindowTrigger)

    package var name: String {
        switch self {
        case .event: "event"
        case .state: "state"
        case .absence: "absence"
        case .window: "window"
        }
    }
}

/// Which events a trigger looks at.
package struct EventFilter: Sendable {
    /// Event kinds (``RuleEvent/knownKinds``).
    package var kinds: Set<String>
    package var `where`: Expression?

    /// Whether the event passes; an unknown `where` does not.
    package func matches(_ event: RuleEvent, _ context: ExprContext) -> Bool {
        guard kinds.contains(event.kind) else { return false }
        return `where`.map { $0.truth(in: context) == .true } ?? true
    }
}

/// Edge-triggered: each matching event fires the instance at once.
package struct EventTrigger: Sendable {
    package var filter: EventFilter
    /// The instance resolves this long after the last match (default: the rule's cooldown).
    package var resolveAfter: Duration?
}

/// Level-triggered: fires when `when` has held for the rule's `for`.
package struct StateTrigger: Sendable {
    package var when: Expression
}

/// Fires when no matching event arrived for `for` while `while` held.
package struct AbsenceTrigger: Sendable {
    package var filter: EventFilter
    package var duration: Duration
    package var guardExpression: Expression?
}

/// Count/sum/ratio over a sliding window of matching events.
package struct WindowTrigger: Sendable {
    package enum Aggregate: String, Sendable, CaseIterable { case count, sum, avg, max, min, ratio }

    package var filter: EventFilter
    package var over: Duration
    package var aggregate: Aggregate
    /// For sum/avg/max/min: the number each matching event contributes.
    package var field: Expression?
    /// For ratio: the events counted below the line.
    package var denominator: EventFilter?
    /// For ratio/avg: below this many events the value is unknown.
    package var minEvents: Int
    /// Evaluated with `value` = the aggregate.
    package var condition: Expression
}

/// How and when an instance notifies (rules-dsl.md §3.9).
package struct NotifyPolicy: Sendable {
    package var title: NotificationTemplate
    package var body: NotificationTemplate
    package var channels: [String] = []
    package var priority = "auto"
    /// Minimal gap between two pushes of one instance (firing and resolved alike).
    package var cooldown = Duration.seconds(300)
    /// Reminders while firing and not acknowledged; zero: none.
    package var repeatInterval = Duration.zero
    /// nil: the default (true, false for event rules).
    package var sendResolved: Bool?
    /// Firing pushes of the rule's instances that come within this long of the first are sent as
    /// one push (the first waits this long); zero: each at once.
    package var groupWait = Duration.zero
    /// When pushes are held and then summarised; nil (`respect`, `ignore` or absent): never.
    package var quietHours: QuietHours?
}

/// A daily window in which a rule's pushes are held, then sent as one summary when it ends.
package struct QuietHours: Sendable, Hashable {
    /// Minutes after midnight, in `timeZone`; `end` may be 1440 (`24:00`). `start > end` spans
    /// midnight.
    package var start: Int
    package var end: Int
    package var timeZone: TimeZone
    /// Weekdays (1 = Sunday … 7 = Saturday, as `Calendar`) on which the window *starts*; empty: every day.
    package var days: Set<Int> = []

    package init(start: Int, end: Int, timeZone: TimeZone, days: Set<Int> = []) {
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.days = days
    }

    /// Whether `date` falls inside the window. A window spanning midnight belongs to the day it starts.
    package func contains(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let weekday = parts.weekday ?? 1
        let yesterday = weekday == 1 ? 7 : weekday - 1
        func startsOn(_ day: Int) -> Bool { days.isEmpty || days.contains(day) }
        if start < end { return minute >= start && minute < end && startsOn(weekday) }
        return (minute >= start && startsOn(weekday)) || (minute < end && startsOn(yesterday))
    }
}
