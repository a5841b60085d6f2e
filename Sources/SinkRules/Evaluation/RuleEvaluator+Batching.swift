import Foundation
import SinkCore

/// A push the rule engine holds back for now and sends later as part of one notification: a
/// `group_wait` batch or a quiet-hours summary.
struct HeldNotification: Sendable {
    var key: String
    var kind: AlertEvent.Kind
    var episode: Int
    var title: String
    var body: String
    /// The session's name (or the instance's group value): what a summary lists.
    var label: String
    var snapshot: AlertSnapshot
    /// How many pushes of this instance it stands for.
    var times = 1
}

/// The firing pushes of one rule waiting for `group_wait` to pass.
struct GroupBatch: Sendable {
    var deadline: Duration
    var items: [HeldNotification] = []
}

extension RuleEvaluator {
    /// Quiet hours and `group_wait`, applied to a push that every other policy let through.
    /// Returns the reason it is not sent now, or nil to send it.
    mutating func holdIfNeeded(_ kind: AlertEvent.Kind, _ instance: AlertInstance, rule: Rule, now: Duration, wall: Date) -> String? {
        if let quiet = rule.notify.quietHours, quiet.contains(wall) {
            add(held(kind, instance, rule: rule, wall: wall), to: &quietHeld[rule.id, default: []])
            return "quiet hours"
        }
        if kind == .firing, rule.notify.groupWait > .zero {
            var batch = groupBatches[rule.id] ?? GroupBatch(deadline: now + rule.notify.groupWait)
            add(held(kind, instance, rule: rule, wall: wall), to: &batch.items)
            groupBatches[rule.id] = batch
            return "group_wait"
        }
        return nil
    }

    /// Sends the `group_wait` batches whose time has come and the quiet-hours summaries of rules
    /// whose quiet hours are over (called on every tick).
    mutating func flushHeld(now: Duration, wall: Date, into output: inout [AlertEvent]) {
        for ruleID in groupBatches.keys.sorted() {
            guard let batch = groupBatches[ruleID], now >= batch.deadline else { continue }
            groupBatches[ruleID] = nil
            guard let rule = ruleSet.rule(id: ruleID), rule.mode == .notify else { continue }
            let items = releasable(batch.items, rule: rule, now: now, wall: wall)
            guard !items.isEmpty else { continue }
            if let quiet = rule.notify.quietHours, quiet.contains(wall) {
                // Quiet hours began while the batch waited: it joins the summary.
                for item in items { add(item, to: &quietHeld[ruleID, default: []]) }
                suppressedNotifications[ruleID, default: 0] += items.count
                continue
            }
            send(items, rule: rule, summary: false, now: now, wall: wall, into: &output)
        }
        for ruleID in quietHeld.keys.sorted() {
            guard let rule = ruleSet.rule(id: ruleID), rule.mode == .notify else {
                quietHeld[ruleID] = nil
                continue
            }
            if let quiet = rule.notify.quietHours, quiet.contains(wall) { continue }
            let items = releasable(quietHeld[ruleID]!, rule: rule, now: now, wall: wall)
            quietHeld[ruleID] = nil
            guard !items.isEmpty else { continue }
            send(items, rule: rule, summary: true, now: now, wall: wall, into: &output)
        }
    }

    /// The held pushes still worth sending; a firing one whose alert got silenced or inhibited
    /// meanwhile waits for that to end instead, like any firing push held by a silence.
    private mutating func releasable(_ items: [HeldNotification], rule: Rule, now: Duration, wall: Date) -> [HeldNotification] {
        items.filter { item in
            guard stillWorthSending(item, rule: rule) else { return false }
            guard var instance = instances[item.key] else { return true }
            guard isSilenced(instance, rule: rule, wall: wall) || isInhibited(instance, rule: rule, now: now) else { return true }
            if item.kind == .firing, instance.machine.state.isActive, instance.machine.episode == item.episode {
                instance.deferredFiring = true
                instances[item.key] = instance
            }
            suppressedNotifications[rule.id, default: 0] += 1
            return false
        }
    }

    /// A held push of an event rule always goes out (it happened; its instance resolving is only
    /// the `resolve_after` expiry). A held firing push or reminder of a state, window or absence
    /// rule goes out only if that episode is still active: a condition that cleared before the
    /// push could go out is not worth a push (Alertmanager drops an alert that resolves within
    /// `group_wait` the same way). A held resolved push goes out if the instance is still resolved.
    func stillWorthSending(_ item: HeldNotification, rule: Rule) -> Bool {
        if case .event = rule.trigger { return true }
        guard let instance = instances[item.key] else { return false }
        if item.kind == .resolved { return !instance.machine.state.isActive }
        return instance.machine.state.isActive && instance.machine.episode == item.episode
    }

    private func held(_ kind: AlertEvent.Kind, _ instance: AlertInstance, rule: Rule, wall: Date) -> HeldNotification {
        let label = instance.sessionID.flatMap { sessions[$0]?.name } ?? instance.sessionID
            ?? String(instance.key.dropFirst(rule.id.count + 1))
        return HeldNotification(
            key: instance.key, kind: kind, episode: instance.machine.episode, title: instance.title, body: instance.body,
            label: label.isEmpty ? rule.name : label, snapshot: snapshot(instance, rule: rule, wall: wall))
    }

    /// Keeps one entry per instance (the latest), in the order instances first arrived.
    private func add(_ item: HeldNotification, to items: inout [HeldNotification]) {
        if let index = items.firstIndex(where: { $0.key == item.key }) {
            var updated = item
            updated.times = items[index].times + 1
            items[index] = updated
        } else {
            items.append(item)
        }
    }

    /// One notification for `items`: a lone batched push unchanged, otherwise a summary.
    private mutating func send(_ items: [HeldNotification], rule: Rule, summary: Bool, now: Duration, wall: Date, into output: inout [AlertEvent]) {
        var suppressed = 0
        for item in items {
            guard var instance = instances[item.key] else { continue }
            suppressed += instance.suppressedSinceLast
            instance.lastNotifiedAt = now
            instance.suppressedSinceLast = 0
            if item.kind == .firing { instance.notifiedEpisode = max(instance.notifiedEpisode, item.episode) }
            instances[item.key] = instance
        }
        let last = items.last!
        let title: String
        let body: String
        if items.count == 1 {
            title = summary ? "While you were away: \(last.title)" : last.title
            body = last.body
        } else {
            let shown = items.prefix(10).map(\.label)
            let more = items.count > shown.count ? ", +\(items.count - shown.count) more" : ""
            let heading = "\(items.count) × \(rule.name): \(shown.joined(separator: ", "))\(more)"
            title = summary ? "While you were away: \(heading)" : heading
            body = items.prefix(10).map { item in
                let times = item.times > 1 ? " (×\(item.times))" : ""
                return (item.kind == .resolved ? "✓ " : "") + item.title + times
            }.joined(separator: "\n")
        }
        let notification = AlertNotification(
            title: title, body: body, severity: rule.severity.rawValue, collapseKey: items.count == 1 ? last.key : "\(rule.id)|summary",
            suppressedSinceLast: suppressed, count: items.count, items: items.map(\.title))
        let kind: AlertEvent.Kind = items.contains { $0.kind == .firing } ? .firing : last.kind
        let alert = instances[last.key].map { snapshot($0, rule: rule, wall: wall) } ?? last.snapshot
        output.append(AlertEvent(kind: kind, alert: alert, notification: notification, suppressedBecause: nil, at: wall))
    }
}
