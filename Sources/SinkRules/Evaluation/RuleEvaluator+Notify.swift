import Foundation
import SinkCore

extension RuleEvaluator {
    /// Turns a state-machine action into alert events, deciding whether each notifies.
    mutating func record(_ action: AlertStateMachine.Action, key: String, rule: Rule, now: Duration, wall: Date, into output: inout [AlertEvent]) {
        switch action {
        case .none, .pendingDropped, .backToPending:
            return
        case .pending:
            guard let instance = instances[key] else { return }
            output.append(event(.pending, instance, rule: rule, notification: nil, suppressed: "pending", wall: wall))
        case .firing:
            instances[key]?.resolveReason = nil
            noteStateChange(key: key, now: now)
            publish(.firing, key: key, rule: rule, now: now, wall: wall, into: &output)
        case .resolved:
            instances[key]?.deferredFiring = false
            noteStateChange(key: key, now: now)
            publish(.resolved, key: key, rule: rule, now: now, wall: wall, into: &output)
        }
    }

    /// Renders the instance's notification and sends it unless shadow mode, a silence, an
    /// inhibition, flapping, the cooldown or `send_resolved` holds it back (counted per rule); quiet
    /// hours and `group_wait` hold it for a later summary or batch (``flushHeld(now:wall:into:)``).
    mutating func publish(_ kind: AlertEvent.Kind, key: String, rule: Rule, now: Duration, wall: Date, into output: inout [AlertEvent]) {
        guard var instance = instances[key] else { return }
        render(&instance, rule: rule, wall: wall)
        instance.silenced = isSilenced(instance, rule: rule, wall: wall)
        instance.inhibited = isInhibited(instance, rule: rule, now: now)
        var reason: String?
        if rule.mode == .shadow {
            reason = "shadow"
        } else if instance.silenced {
            reason = "silenced"
        } else if instance.inhibited {
            reason = "inhibited"
        } else if isFlapping(instance, now: now) {
            reason = "flapping"
        }
        switch kind {
        case .firing:
            if reason == "silenced" || reason == "inhibited" || reason == "flapping" {
                instance.deferredFiring = true
            } else if reason == nil, let last = instance.lastNotifiedAt, now - last < rule.notify.cooldown {
                reason = "cooldown"
                instance.suppressedSinceLast += 1
            }
            if reason == nil { instance.deferredFiring = false }
        case .resolved:
            let isEventRule: Bool = if case .event = rule.trigger { true } else { false }
            if reason == nil, !(rule.notify.sendResolved ?? !isEventRule) {
                reason = "send_resolved is false"
            } else if reason == nil, instance.notifiedEpisode != instance.machine.episode {
                reason = "firing was not notified"
            }
        case .reminder:
            if reason == nil, instance.isAcknowledged { reason = "acknowledged" }
        case .pending:
            reason = "pending"
        }
        if reason == nil, kind != .pending {
            reason = holdIfNeeded(kind, instance, rule: rule, now: now, wall: wall)
            // A reminder held by quiet hours counts as this interval's reminder (not one per tick).
            if reason == "quiet hours", kind == .reminder { instance.lastNotifiedAt = now }
        }
        var notification: AlertNotification?
        if let reason {
            // Held back by policy; "send_resolved is false" and the like are not suppressions, nor
            // is group_wait (a delay: the push goes out with its batch).
            if ["shadow", "silenced", "inhibited", "cooldown", "acknowledged", "flapping", "quiet hours"].contains(reason) {
                suppressedNotifications[rule.id, default: 0] += 1
            }
        } else {
            notification = AlertNotification(
                title: instance.title, body: instance.body, severity: rule.severity.rawValue, collapseKey: key,
                suppressedSinceLast: instance.suppressedSinceLast)
            instance.lastNotifiedAt = now
            instance.suppressedSinceLast = 0
            if kind == .firing { instance.notifiedEpisode = instance.machine.episode }
        }
        instances[key] = instance
        output.append(event(kind, instance, rule: rule, notification: notification, suppressed: reason, wall: wall))
    }

    private func render(_ instance: inout AlertInstance, rule: Rule, wall: Date) {
        let session = instance.sessionID.flatMap { sessions[$0] }.map { SessionView($0, now: wall) }
        let context = NotificationTemplate.Context(
            expression: ExprContext(session: session, event: instance.lastEvent, value: instance.value),
            alertCount: instance.machine.count,
            alertActiveFor: instance.machine.activeSince.map { (lastInstant - $0).seconds } ?? 0,
            alertState: instance.machine.state.rawValue, ruleID: rule.id, ruleName: rule.name, severity: rule.severity.rawValue,
            labels: rule.labels)
        instance.title = rule.notify.title.render(context)
        instance.body = rule.notify.body.render(context)
    }

    /// Records a firing or resolution for flap detection.
    mutating func noteStateChange(key: String, now: Duration) {
        guard var instance = instances[key] else { return }
        instance.stateChanges = instance.stateChanges.filter { now - $0 < configuration.flapWindow } + [now]
        if instance.stateChanges.count > configuration.flapMaxChanges { instance.stateChanges.removeFirst() }
        if instance.stateChanges.count >= configuration.flapMaxChanges { instance.flapping = true }
        instances[key] = instance
    }

    /// Flapping until no state change for a whole ``Configuration/flapWindow``.
    func isFlapping(_ instance: AlertInstance, now: Duration) -> Bool {
        guard instance.flapping, let last = instance.stateChanges.last else { return false }
        return now - last < configuration.flapWindow
    }

    func isSilenced(_ instance: AlertInstance, rule: Rule, wall: Date) -> Bool {
        silences.values.contains { $0.isActive(at: wall) && $0.covers(rule: rule, sessionID: instance.sessionID) }
    }

    /// Inhibited while a rule in `inhibited_by` has an active instance for the same session, or
    /// resolved one less than ``Configuration/inhibitionGrace`` ago.
    func isInhibited(_ instance: AlertInstance, rule: Rule, now: Duration) -> Bool {
        guard !rule.inhibitedBy.isEmpty, let sessionID = instance.sessionID else { return false }
        return instances.values.contains { other in
            guard other.sessionID == sessionID, rule.inhibitedBy.contains(other.ruleID) else { return false }
            if other.machine.state.isActive { return true }
            if other.machine.state == .resolved, let resolvedAt = other.machine.resolvedAt {
                return now - resolvedAt < configuration.inhibitionGrace
            }
            return false
        }
    }

    func event(_ kind: AlertEvent.Kind, _ instance: AlertInstance, rule: Rule, notification: AlertNotification?, suppressed: String?, wall: Date)
        -> AlertEvent
    {
        AlertEvent(kind: kind, alert: snapshot(instance, rule: rule, wall: wall), notification: notification, suppressedBecause: suppressed, at: wall)
    }

    func snapshot(_ instance: AlertInstance, rule: Rule, wall: Date) -> AlertSnapshot {
        AlertSnapshot(
            id: instance.key, ruleID: rule.id, ruleName: rule.name, severity: rule.severity.rawValue, state: instance.machine.state.rawValue,
            sessionID: instance.sessionID, labels: rule.labels, episode: instance.machine.episode, count: instance.machine.count,
            activeSince: instance.machine.activeSince.map(wallTime), firingSince: instance.machine.firingSince.map(wallTime),
            resolvedAt: instance.machine.resolvedAt.map(wallTime), resolveReason: instance.resolveReason,
            acknowledged: instance.isAcknowledged, silenced: instance.silenced, inhibited: instance.inhibited, shadow: rule.mode == .shadow,
            value: instance.value, title: instance.title, body: instance.body)
    }
}
