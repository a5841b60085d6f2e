import Foundation

/// One alert rule, as loaded and checked from a rule file (rules-dsl.md §3.4).
package struct Rule: Sendable {
    package enum Mode: String, Sendable, Hashable, CaseIterable { case notify, shadow }
    package enum Severity: String, Sendable, Hashable, CaseIterable { case info, warning, critical }

    /// What a rule file says of one rule.
    package struct Definition: Sendable {
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

    /// The definition behind one immutable reference: the evaluator copies rules in its
    /// per-event loop, and a copy is then one retain rather than one per field.
    private final class Box: Sendable {
        let definition: Definition
        init(_ definition: Definition) { self.definition = definition }
    }

    private var box: Box

    package init(id: String, name: String, trigger: Trigger, notify: NotifyPolicy, file: String, line: Int, triggerKey: String, timingKey: String) {
        box = Box(Definition(id: id, name: name, trigger: trigger, notify: notify, file: file, line: line, triggerKey: triggerKey, timingKey: timingKey))
    }

    /// Changes the definition (while parsing): a new box, so copies made before keep theirs.
    private mutating func update(_ change: (inout Definition) -> Void) {
        var definition = box.definition
        change(&definition)
        box = Box(definition)
    }

    package var id: String {
        get { box.definition.id }
        set { update { $0.id = newValue } }
    }
    package var name: String {
        get { box.definition.name }
        set { update { $0.name = newValue } }
    }
    package var description: String? {
        get { box.definition.description }
        set { update { $0.description = newValue } }
    }
    package var enabled: Bool {
        get { box.definition.enabled }
        set { update { $0.enabled = newValue } }
    }
    package var mode: Mode {
        get { box.definition.mode }
        set { update { $0.mode = newValue } }
    }
    package var severity: Severity {
        get { box.definition.severity }
        set { update { $0.severity = newValue } }
    }
    package var matchAgents: Set<String> {
        get { box.definition.matchAgents }
        set { update { $0.matchAgents = newValue } }
    }
    package var trigger: Trigger {
        get { box.definition.trigger }
        set { update { $0.trigger = newValue } }
    }
    package var forDuration: Duration {
        get { box.definition.forDuration }
        set { update { $0.forDuration = newValue } }
    }
    package var keepFiringFor: Duration {
        get { box.definition.keepFiringFor }
        set { update { $0.keepFiringFor = newValue } }
    }
    package var resolveWhen: Expression? {
        get { box.definition.resolveWhen }
        set { update { $0.resolveWhen = newValue } }
    }
    package var groupBy: [SessionField] {
        get { box.definition.groupBy }
        set { update { $0.groupBy = newValue } }
    }
    package var labels: [String: String] {
        get { box.definition.labels }
        set { update { $0.labels = newValue } }
    }
    package var notify: NotifyPolicy {
        get { box.definition.notify }
        set { update { $0.notify = newValue } }
    }
    package var inhibitedBy: [String] {
        get { box.definition.inhibitedBy }
        set { update { $0.inhibitedBy = newValue } }
    }
    package var file: String {
        get { box.definition.file }
        set { update { $0.file = newValue } }
    }
    package var line: Int {
        get { box.definition.line }
        set { update { $0.line = newValue } }
    }
    package var triggerKey: String {
        get { box.definition.triggerKey }
        set { update { $0.triggerKey = newValue } }
    }
    package var timingKey: String {
        get { box.definition.timingKey }
        set { update { $0.timingKey = newValue } }
    }
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
