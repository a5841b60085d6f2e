import Foundation
import SinkCore

/// The rule engine's core: a pure state machine over sessions, events and time. The owner feeds it
/// commits (``apply(_:at:wall:)``) and ticks (``tick(at:wall:)``) with the monotonic instant and the
/// wall-clock time, and publishes the ``AlertEvent``s it returns. No clock, no I/O, no concurrency:
/// tests drive it with virtual time.
///
/// Ordering: events of a commit are applied in commit order, each seeing the session state after
/// the commit; a status change the commit caused becomes a synthetic `status_changed` event after
/// them. When an event and a deadline coincide, the event comes first (the caller applies commits
/// before ticking).
package struct RuleEvaluator: Sendable {
    package struct Configuration: Sendable {
        /// A resolved inhibiting alert still inhibits this long (crash and stall come in either order).
        package var inhibitionGrace: Duration = .seconds(30)
        /// Resolved instances stay visible (`GET /api/alerts`) this long.
        package var keepResolvedFor: Duration = .seconds(15 * 60)
        /// Persisted alerts older than this are discarded on restore (Prometheus' for-outage-tolerance).
        package var outageTolerance: Duration = .seconds(3600)
        /// Flap damping (Kibana's model): an alert that fires or resolves this many times within
        /// ``flapWindow`` is flapping; its pushes stop until it has been stable for ``flapWindow``.
        package var flapMaxChanges = 6
        package var flapWindow: Duration = .seconds(15 * 60)

        package init() {}
    }

    package private(set) var ruleSet: RuleSet
    package let configuration: Configuration
    package private(set) var sessions: [String: Session] = [:]
    package internal(set) var instances: [String: AlertInstance] = [:]
    package private(set) var silences: [String: Silence] = [:]
    /// Per rule: evaluations whose result was unknown (a missing field), counted, never an error.
    package private(set) var unknownEvaluations: [String: Int] = [:]
    /// Per rule: notifications held back (cooldown, silence, inhibition, shadow, flapping, quiet hours).
    package internal(set) var suppressedNotifications: [String: Int] = [:]
    /// Per rule: pushes held by quiet hours, sent as one summary when they end.
    var quietHeld: [String: [HeldNotification]] = [:]
    /// Per rule: firing pushes waiting for `group_wait`, sent as one push.
    var groupBatches: [String: GroupBatch] = [:]
    /// When each rule was loaded: absence is never measured from before it.
    private var loadedAt: [String: Duration] = [:]
    /// When the engine first saw each session.
    private var sessionSeenAt: [String: Duration] = [:]
    private(set) var lastNow: Duration = .zero
    private(set) var lastWall = Date(timeIntervalSince1970: 0)

    var lastInstant: Duration { lastNow }

    /// The wall-clock time of a monotonic instant, as of the last input.
    func wallTime(_ instant: Duration) -> Date {
        lastWall.addingTimeInterval(-(lastNow - instant).seconds)
    }

    package init(rules: RuleSet, configuration: Configuration = .init(), at now: Duration = .zero) {
        ruleSet = rules
        self.configuration = configuration
        lastNow = now
        for rule in rules.rules { loadedAt[rule.id] = now }
    }

    // MARK: Inputs

    /// Takes one commit of the session tracker.
    package mutating func apply(_ update: SessionUpdate, at now: Duration, wall: Date) -> [AlertEvent] {
        advance(now, wall)
        var output: [AlertEvent] = []
        var statusChanges: [RuleEvent] = []
        var touched: [String] = []
        for session in update.sessions {
            if let old = sessions[session.id], old.status != session.status {
                statusChanges.append(Self.statusChanged(from: old, to: session))
            }
            if sessions[session.id] == nil { sessionSeenAt[session.id] = now }
            sessions[session.id] = session
            touched.append(session.id)
        }
        var views: [String: SessionView] = [:]
        func view(_ id: String) -> SessionView? {
            if let cached = views[id] { return cached }
            guard let session = sessions[id] else { return nil }
            let made = SessionView(session, now: wall)
            views[id] = made
            return made
        }
        // By index: the events are read in place, not copied out one by one.
        let events = update.events
        for index in events.indices {
            // Most events concern no rule: skip them before making their rule view.
            guard let rules = ruleSet.eachEventByKind[events[index].event.kind.rawValue], let session = view(events[index].event.sessionID)
            else { continue }
            handle(RuleEvent(events[index].event), rules: rules, session: session, now: now, wall: wall, into: &output)
        }
        for index in ruleSet.lastMatchRules {
            applyLastMatches(of: index, update.events, sessionCount: update.sessions.count, now: now, wall: wall)
        }
        for event in statusChanges {
            guard let rules = ruleSet.byKind[event.kind], let session = view(event.sessionID) else { continue }
            handle(event, rules: rules, session: session, now: now, wall: wall, into: &output)
        }
        let allRules = ruleSet.rules  // read in place below, not copied out of `self` per rule
        for id in touched {
            guard let session = view(id) else { continue }
            if session.session.status.isFinal {
                endInstances(ofSession: id, reason: "session_ended", now: now, wall: wall, into: &output)
            } else {
                for index in ruleSet.levelRules { evaluateLevel(allRules[index], session, now: now, wall: wall, into: &output) }
            }
        }
        return output
    }

    /// The passage of time: level rules re-evaluated, event rules expire, reminders, pushes held
    /// back by a silence that ended, clean-up.
    package mutating func tick(at now: Duration, wall: Date) -> [AlertEvent] {
        advance(now, wall)
        var output: [AlertEvent] = []
        silences = silences.filter { $0.value.endsAt > wall }
        let allRules = ruleSet.rules
        for (id, session) in sessions where !session.status.isFinal {
            let view = SessionView(session, now: wall)
            for index in ruleSet.levelRules { evaluateLevel(allRules[index], view, now: now, wall: wall, into: &output) }
            _ = id
        }
        for key in instances.keys.sorted() {
            guard var instance = instances[key], let rule = ruleSet.rule(id: instance.ruleID) else { continue }
            if case .event(let trigger) = rule.trigger {
                let action = instance.machine.expire(at: now, resolveAfter: trigger.resolveAfter ?? rule.notify.cooldown)
                instances[key] = instance
                record(action, key: key, rule: rule, now: now, wall: wall, into: &output)
                instance = instances[key]!
            }
            guard instance.machine.state.isActive else { continue }
            if instance.deferredFiring {
                // Held back by a silence, an inhibition or flapping: sent once that is over.
                if !isSilenced(instance, rule: rule, wall: wall), !isInhibited(instance, rule: rule, now: now), !isFlapping(instance, now: now) {
                    publish(.firing, key: key, rule: rule, now: now, wall: wall, into: &output)
                }
            } else if rule.notify.repeatInterval > .zero, !instance.isAcknowledged, instance.notifiedEpisode == instance.machine.episode,
                let last = instance.lastNotifiedAt, now - last >= rule.notify.repeatInterval
            {
                publish(.reminder, key: key, rule: rule, now: now, wall: wall, into: &output)
            }
        }
        flushHeld(now: now, wall: wall, into: &output)
        collectGarbage(now: now)
        return output
    }

    /// Replaces the rules. Instances of rules whose trigger did not change keep their state (their
    /// timing is recomputed at the next evaluation); the others end silently (`rule_changed`,
    /// `rule_removed`), rules-dsl.md §3.11.
    package mutating func load(_ rules: RuleSet, at now: Duration, wall: Date) -> [AlertEvent] {
        advance(now, wall)
        var output: [AlertEvent] = []
        for key in instances.keys.sorted() {
            guard let instance = instances[key] else { continue }
            let old = ruleSet.rule(id: instance.ruleID)
            let new = rules.rule(id: instance.ruleID)
            guard let old, let new, old.triggerKey == new.triggerKey else {
                var ended = instance
                let action = ended.machine.end(at: now)
                ended.resolveReason = new == nil ? "rule_removed" : "rule_changed"
                if action == .resolved, let rule = old {
                    output.append(event(.resolved, ended, rule: rule, notification: nil, suppressed: ended.resolveReason, wall: wall))
                }
                instances[key] = nil
                continue
            }
        }
        for rule in rules.rules where ruleSet.rule(id: rule.id)?.triggerKey != rule.triggerKey {
            loadedAt[rule.id] = now
        }
        ruleSet = rules
        // Evaluate at once, so timers of new rules start at the load, not at the next tick.
        let allRules = ruleSet.rules
        for (_, session) in sessions where !session.status.isFinal {
            let view = SessionView(session, now: wall)
            for index in ruleSet.levelRules { evaluateLevel(allRules[index], view, now: now, wall: wall, into: &output) }
        }
        return output
    }

    // MARK: Silences and acknowledgements

    package mutating func addSilence(_ silence: Silence) {
        silences[silence.id] = silence
    }

    @discardableResult
    package mutating func removeSilence(id: String) -> Bool {
        silences.removeValue(forKey: id) != nil
    }

    /// Stops reminders for the current episode; the state does not change.
    package mutating func acknowledge(alertID: String) -> Bool {
        guard var instance = instances[alertID], instance.machine.state.isActive else { return false }
        instance.acknowledgedEpisode = instance.machine.episode
        instances[alertID] = instance
        return true
    }

    // MARK: Reading

    /// Active instances and recently resolved ones, most recent first.
    package func alerts() -> [AlertSnapshot] {
        instances.values.filter { $0.machine.state != .inactive && $0.machine.episode > 0 || $0.machine.state == .pending }
            .compactMap { instance in ruleSet.rule(id: instance.ruleID).map { snapshot(instance, rule: $0, wall: lastWall) } }
            .sorted { ($0.firingSince ?? $0.activeSince ?? .distantPast) > ($1.firingSince ?? $1.activeSince ?? .distantPast) }
    }

    /// Firing instances, for persistence.
    package func persistedAlerts() -> [PersistedAlert] {
        instances.values.compactMap { instance in
            guard instance.machine.state.isActive, let rule = ruleSet.rule(id: instance.ruleID),
                let activeSince = instance.machine.activeSince, let firingSince = instance.machine.firingSince
            else { return nil }
            return PersistedAlert(
                key: instance.key, ruleID: instance.ruleID, triggerKey: rule.triggerKey, sessionID: instance.sessionID,
                episode: instance.machine.episode, count: instance.machine.count, activeSince: wallTime(activeSince),
                firingSince: wallTime(firingSince), lastMatch: instance.machine.lastMatch.map(wallTime),
                lastNotifiedAt: instance.lastNotifiedAt.map(wallTime), notifiedEpisode: instance.notifiedEpisode,
                acknowledgedEpisode: instance.acknowledgedEpisode, title: instance.title, body: instance.body, savedAt: lastWall)
        }
    }

    /// Restores firing instances saved by an earlier process: they stay firing without a new push.
    /// Those of rules that changed, and those older than the outage tolerance, are discarded.
    package mutating func restore(_ alerts: [PersistedAlert], sessions known: [Session], at now: Duration, wall: Date) {
        advance(now, wall)
        for session in known where sessions[session.id] == nil {
            sessions[session.id] = session
            sessionSeenAt[session.id] = now
        }
        for alert in alerts {
            guard let rule = ruleSet.rule(id: alert.ruleID), rule.triggerKey == alert.triggerKey,
                wall.timeIntervalSince(alert.savedAt) <= configuration.outageTolerance.seconds
            else { continue }
            func instant(_ date: Date) -> Duration { now - .seconds(max(0, wall.timeIntervalSince(date))) }
            var instance = AlertInstance(key: alert.key, ruleID: alert.ruleID, sessionID: alert.sessionID)
            instance.machine = AlertStateMachine(
                restoredFiring: alert.episode, count: alert.count, activeSince: instant(alert.activeSince),
                firingSince: instant(alert.firingSince), lastMatch: alert.lastMatch.map(instant))
            instance.lastNotifiedAt = alert.lastNotifiedAt.map(instant)
            instance.notifiedEpisode = alert.notifiedEpisode
            instance.acknowledgedEpisode = alert.acknowledgedEpisode
            instance.title = alert.title
            instance.body = alert.body
            instance.guardTrueSince = instant(alert.activeSince)
            var grace = rule.forDuration + rule.keepFiringFor
            if case .window(let trigger) = rule.trigger { grace += trigger.over }
            if case .absence(let trigger) = rule.trigger { grace += trigger.duration }
            instance.restoredGraceUntil = now + grace
            instances[alert.key] = instance
        }
    }

    // MARK: Evaluation

    private mutating func advance(_ now: Duration, _ wall: Date) {
        lastNow = max(lastNow, now)
        lastWall = wall
    }

    static func statusChanged(from old: Session, to new: Session) -> RuleEvent {
        let previousFor = max(0, new.statusMachine.since.timeIntervalSince(old.statusMachine.since))
        return RuleEvent(
            sessionID: new.id, kind: RuleEvent.statusChanged, name: "observatory.status_changed", agent: new.agent.rawValue,
            source: "engine", time: new.statusMachine.since,
            attrs: [
                "from": .string(old.status.rawValue), "to": .string(new.status.rawValue), "previous_for": .double(previousFor),
                "reason": .string(new.statusMachine.reason),
            ])
    }

    private func passesMatch(_ rule: Rule, _ session: Session) -> Bool {
        rule.matchAgents.isEmpty || rule.matchAgents.contains(session.agent.rawValue)
    }

    private func instanceKey(_ rule: Rule, _ session: SessionView) -> String {
        var key = rule.id
        for field in rule.groupBy { key += "|" + session[field].text }
        return key
    }

    private mutating func truth(_ expression: Expression, _ context: ExprContext, rule: Rule) -> Truth {
        let result = expression.truth(in: context)
        if result == .unknown { unknownEvaluations[rule.id, default: 0] += 1 }
        return result
    }

    private mutating func filterMatches(_ filter: EventFilter, _ event: RuleEvent, _ context: ExprContext, rule: Rule) -> Bool {
        guard filter.kinds.contains(event.kind) else { return false }
        guard let condition = filter.where else { return true }
        return truth(condition, context, rule: rule) == .true
    }

    private static func newInstance(_ key: String, rule: Rule, session: SessionView) -> AlertInstance {
        AlertInstance(key: key, ruleID: rule.id, sessionID: rule.groupBy.contains(.id) ? session.session.id : nil)
    }

    /// Changes an instance where it lives, made first if missing. Instances are large values with a
    /// window of buckets: copying one out, changing it and storing it back copied the buckets
    /// (copy-on-write) and retained every field, for every event.
    private mutating func withInstance<Result>(
        _ key: String, default make: @autoclosure () -> AlertInstance, _ body: (inout AlertInstance) -> Result
    ) -> Result {
        body(&instances[key, default: make()])
    }

    /// Changes an existing instance where it lives; `nil` when there is none.
    private mutating func withExistingInstance<Result>(_ key: String, _ body: (inout AlertInstance) -> Result) -> Result? {
        // One lookup; `instances[key] != nil` would copy the instance out just to test it.
        guard let index = instances.index(forKey: key) else { return nil }
        return body(&instances.values[index])
    }

    /// Whether an instance exists, without copying it out of the dictionary.
    private func hasInstance(_ key: String) -> Bool {
        instances.index(forKey: key) != nil
    }

    /// Applies one event to `rules` (the indexes of the rules that consume its kind).
    private mutating func handle(
        _ event: RuleEvent, rules indexes: [Int], session: SessionView, now: Duration, wall: Date, into output: inout [AlertEvent]
    ) {
        let context = ExprContext(session: session, event: event)
        // A local array the loop does not change: its rules are read in place, not copied out of
        // `self` (which the loop changes) for every event and rule.
        let rules = ruleSet.rules
        for index in indexes {
            let rule = rules[index]
            guard passesMatch(rule, session.session) else { continue }
            switch rule.trigger {
            case .event(let trigger):
                guard filterMatches(trigger.filter, event, context, rule: rule) else { continue }
                let key = instanceKey(rule, session)
                let action = withInstance(key, default: Self.newInstance(key, rule: rule, session: session)) { instance in
                    instance.lastEvent = event
                    return instance.machine.matched(at: now)
                }
                record(action, key: key, rule: rule, now: now, wall: wall, into: &output)
            case .window(let trigger):
                let numerator = filterMatches(trigger.filter, event, context, rule: rule)
                let denominator = trigger.denominator.map { filterMatches($0, event, context, rule: rule) } ?? false
                guard numerator || denominator else { continue }
                let key = instanceKey(rule, session)
                let value = numerator ? trigger.field.flatMap { $0.evaluate(in: context).number } : nil
                withInstance(key, default: Self.newInstance(key, rule: rule, session: session)) { instance in
                    if instance.window == nil { instance.window = WindowBuckets(over: trigger.over) }
                    instance.window!.add(at: now, numerator: numerator, value: value, denominator: denominator)
                    if numerator { instance.lastEvent = event }
                }
                evaluateLevel(rule, session, now: now, wall: wall, into: &output)
            case .absence(let trigger):
                guard filterMatches(trigger.filter, event, context, rule: rule) else { continue }
                // Nearly every event matches the stall rule: update the instance in place rather
                // than copying it out of the dictionary and back.
                let key = instanceKey(rule, session)
                withInstance(key, default: Self.newInstance(key, rule: rule, session: session)) { instance in
                    instance.absenceLastMatch = now
                    instance.lastEvent = event
                }
            case .state:
                continue
            }
        }
    }

    /// An absence rule without `where` (``RuleSet/lastMatchRules``) for a commit's events: each
    /// matching event would set the same two fields of its session's instance (when, and which
    /// event), so only the last one per session is applied, found by walking the events backwards.
    /// The same end state as handling every event in order (nothing reads those fields in between);
    /// the stall rule matches nearly every event.
    private mutating func applyLastMatches(
        of index: Int, _ events: [StoredEvent], sessionCount: Int, now: Duration, wall: Date
    ) {
        let rule = ruleSet.rules[index]
        guard case .absence(let trigger) = rule.trigger else { return }
        var settled: Set<String> = []
        for index in events.indices.reversed() where settled.count < sessionCount {
            guard trigger.filter.kinds.contains(events[index].event.kind.rawValue), settled.insert(events[index].event.sessionID).inserted,
                let session = sessions[events[index].event.sessionID].map({ SessionView($0, now: wall) }), passesMatch(rule, session.session)
            else { continue }
            let ruleEvent = RuleEvent(events[index].event)
            let key = instanceKey(rule, session)
            withInstance(key, default: Self.newInstance(key, rule: rule, session: session)) { instance in
                instance.absenceLastMatch = now
                instance.lastEvent = ruleEvent
            }
        }
    }

    /// Evaluates a state, window or absence rule for one session.
    private mutating func evaluateLevel(_ rule: Rule, _ session: SessionView, now: Duration, wall: Date, into output: inout [AlertEvent]) {
        guard passesMatch(rule, session.session) else { return }
        let key = instanceKey(rule, session)
        var condition: Truth
        var resolveAllowed = true
        var value: Double?
        var timing = AlertStateMachine.Timing(forDuration: rule.forDuration, keepFiringFor: rule.keepFiringFor)
        let context = ExprContext(session: session)
        switch rule.trigger {
        case .event:
            return
        case .state(let trigger):
            condition = truth(trigger.when, context, rule: rule)
            if !hasInstance(key), condition != .true { return }
        case .window(let trigger):
            var hasWindow = false
            value = withExistingInstance(key) { instance -> Double? in
                guard instance.window != nil else { return nil }
                hasWindow = true
                instance.window!.prune(at: now)
                return instance.window!.value(trigger.aggregate, minEvents: trigger.minEvents)
            } ?? nil
            guard hasWindow else { return }
            condition = value == nil ? .unknown : truth(trigger.condition, ExprContext(session: session, value: value), rule: rule)
            if let resolveWhen = rule.resolveWhen {
                resolveAllowed = resolveWhen.truth(in: ExprContext(session: session, value: value)) == .true
            }
        case .absence(let trigger):
            let guardTruth = trigger.guardExpression.map { truth($0, context, rule: rule) } ?? .true
            if !hasInstance(key) {
                guard guardTruth == .true else { return }
                instances[key] = Self.newInstance(key, rule: rule, session: session)
            }
            let (lastMatch, guardSince) = withExistingInstance(key) { instance in
                if guardTruth == .true {
                    if instance.guardTrueSince == nil { instance.guardTrueSince = now }
                } else {
                    instance.guardTrueSince = nil
                }
                return (instance.absenceLastMatch, instance.guardTrueSince)
            }!
            // The latest of the reference points (no array: this runs for every event).
            var reference: Duration?
            func consider(_ candidate: Duration?) {
                if let candidate, reference.map({ candidate > $0 }) ?? true { reference = candidate }
            }
            consider(lastMatch)
            consider(guardSince)
            consider(sessionSeenAt[session.session.id])
            consider(loadedAt[rule.id])
            let since = reference ?? now
            condition = guardTruth == .true && now - since >= trigger.duration ? .true : .false
            value = (now - since).seconds
            timing.forDuration = .zero
        }
        if rule.resolveWhen != nil, case .state = rule.trigger {
            resolveAllowed = rule.resolveWhen!.truth(in: context) == .true
        }
        if !hasInstance(key) {
            guard condition == .true else { return }
            instances[key] = Self.newInstance(key, rule: rule, session: session)
        }
        let evaluated = withExistingInstance(key) { instance -> AlertStateMachine.Action? in
            if let grace = instance.restoredGraceUntil {
                if now < grace, condition != .true { return nil }
                instance.restoredGraceUntil = nil
            }
            if let value { instance.value = value }
            return instance.machine.evaluate(condition, resolveAllowed: resolveAllowed, at: now, timing: timing)
        }
        guard let evaluated, let action = evaluated else { return }
        record(action, key: key, rule: rule, now: now, wall: wall, into: &output)
    }

    private mutating func endInstances(ofSession id: String, reason: String, now: Duration, wall: Date, into output: inout [AlertEvent]) {
        for key in instances.keys.sorted() where instances[key]?.sessionID == id {
            guard var instance = instances[key], let rule = ruleSet.rule(id: instance.ruleID) else { continue }
            if case .event = rule.trigger { continue }
            let action = instance.machine.end(at: now)
            instance.resolveReason = reason
            instance.deferredFiring = false
            instances[key] = instance
            if action == .resolved {
                output.append(event(.resolved, instance, rule: rule, notification: nil, suppressed: reason, wall: wall))
            }
        }
    }

    private mutating func collectGarbage(now: Duration) {
        instances = instances.filter { _, instance in
            switch instance.machine.state {
            case .resolved:
                return now - (instance.machine.resolvedAt ?? now) < configuration.keepResolvedFor
            case .inactive:
                // Keep what a trigger remembers: window events, absence reference points.
                if let window = instance.window { return !window.isEmpty }
                return instance.guardTrueSince != nil || instance.absenceLastMatch != nil
            case .pending, .firing, .recovering:
                return true
            }
        }
        let ended = sessions.filter { $0.value.status.isFinal && lastWall.timeIntervalSince($0.value.lastSeen) > 3600 }.map(\.key)
        for id in ended {
            sessions[id] = nil
            sessionSeenAt[id] = nil
            instances = instances.filter { $0.value.sessionID != id || $0.value.machine.state.isActive }
        }
    }
}
