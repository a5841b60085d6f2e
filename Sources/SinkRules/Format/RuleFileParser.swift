import Foundation
import Yams

/// Reads one rule file into checked ``Rule``s and reports **every** problem with its position
/// (rules-dsl.md §3.13): YAML syntax, `version`, unknown keys at every level (with "did you mean"),
/// types, enums, durations, exactly one trigger, trigger-specific keys, expressions and templates.
///
/// It walks Yams' node tree rather than decoding with `Codable`, because nodes keep their marks
/// (line and column) and decoding stops at the first error.
package struct RuleFileParser {
    private let file: String
    private let lines: [Substring]
    package private(set) var diagnostics: [RuleDiagnostic] = []

    private init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// Parses the text of one rule file; `file` is the name used in diagnostics.
    package static func parse(_ text: String, file: String) -> (rules: [Rule], diagnostics: [RuleDiagnostic]) {
        var parser = RuleFileParser(file: file, text: text)
        let rules = parser.parseFile(text)
        return (rules, parser.diagnostics)
    }

    static let ruleKeys = [
        "id", "name", "description", "enabled", "mode", "severity", "scope", "match", "event", "state", "absence", "window", "for",
        "keep_firing_for", "resolve_when", "group_by", "labels", "notify", "inhibited_by",
    ]
    static let notifyKeys = ["title", "body", "channels", "priority", "cooldown", "repeat_interval", "send_resolved", "group_wait", "quiet_hours"]

    // MARK: File and rule

    private mutating func parseFile(_ text: String) -> [Rule] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            report(error)
            return []
        } catch {
            add(line: 1, column: 1, code: "E100", "not valid YAML: \(error)")
            return []
        }
        guard let root else {
            add(line: 1, column: 1, code: "E101", "the file is empty; it needs 'version: 1' and 'rules:'")
            return []
        }
        guard let entries = entries(root, in: "the file", allowed: ["version", "rules"]) else { return [] }
        var rules: [Rule] = []
        let version = entries.first { $0.key == "version" }
        if let version {
            if version.value.scalar?.string != "1" {
                add(version.value, code: "E101", "unsupported version '\(version.value.scalar?.string ?? "?")'; this sink reads version 1")
            }
        } else {
            add(root, code: "E102", "missing 'version: 1'")
        }
        guard let rulesEntry = entries.first(where: { $0.key == "rules" }) else {
            add(root, code: "E102", "missing 'rules:' (a list of rules)")
            return []
        }
        guard let sequence = rulesEntry.value.sequence, !sequence.isEmpty else {
            add(rulesEntry.value, code: "E103", "'rules' must be a non-empty list of rules")
            return []
        }
        for node in sequence {
            if let rule = parseRule(node) { rules.append(rule) }
        }
        var seen: [String: Int] = [:]
        for rule in rules {
            if let first = seen[rule.id] {
                add(line: rule.line, column: 1, code: "E111", "duplicate rule id '\(rule.id)' (first at line \(first))")
            }
            seen[rule.id] = seen[rule.id] ?? rule.line
        }
        return rules
    }

    private mutating func parseRule(_ node: Node) -> Rule? {
        let errorsBefore = errorCount
        guard let entries = entries(node, in: "a rule", allowed: Self.ruleKeys) else { return nil }
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        var id = ""
        if let idNode = value("id"), let text = string(idNode) {
            id = text
            if !Self.isValidID(text) {
                add(idNode, code: "E113", "rule id '\(text)' must match [a-z0-9][a-z0-9._-]{0,63}")
            }
        } else if value("id") == nil {
            add(node, code: "E102", "a rule needs an 'id'")
        }
        let triggers = entries.filter { ["event", "state", "absence", "window"].contains($0.key) }
        if triggers.isEmpty {
            add(node, code: "E106", "rule '\(id)' needs exactly one trigger: event, state, absence or window")
        }
        for extra in triggers.dropFirst() {
            add(extra.keyNode, code: "E106", "rule '\(id)' has more than one trigger ('\(triggers[0].key)' and '\(extra.key)')")
        }
        let trigger = triggers.first.flatMap { parseTrigger($0.key, $0.value) }
        let isEventRule: Bool = if case .event = trigger { true } else { false }
        let isWindowRule: Bool = if case .window = trigger { true } else { false }

        var notify = NotifyPolicy(title: .empty, body: .empty)
        if let notifyNode = value("notify") {
            notify = parseNotify(notifyNode, event: isEventRule || triggerUsesEvents(trigger), value: isWindowRule)
        } else {
            add(node, code: "E102", "rule '\(id)' needs 'notify' with at least a 'title'")
        }
        // Keep checking the other keys when the trigger is broken; the rule is rejected at the end.
        let placeholder = try? Expression.compile("true", scope: .sessionOnly)
        guard let trigger = trigger ?? placeholder.map({ .state(StateTrigger(when: $0)) }) else { return nil }
        var rule = Rule(
            id: id, name: value("name").flatMap { string($0) } ?? id, trigger: trigger, notify: notify, file: file,
            line: node.mark?.line ?? 1, triggerKey: "", timingKey: "")
        rule.description = value("description").flatMap { string($0) }
        if let enabled = value("enabled") { rule.enabled = bool(enabled) ?? true }
        if let mode = value("mode") { rule.mode = enumeration(mode, Rule.Mode.self) ?? .notify }
        if let severity = value("severity") { rule.severity = enumeration(severity, Rule.Severity.self) ?? .warning }
        if let scope = value("scope"), let text = string(scope), text != "session" {
            add(scope, code: "E104", "scope '\(text)' is not supported yet; rules are evaluated per session")
        }
        if let match = value("match") {
            for entry in self.entries(match, in: "match", allowed: ["agent"]) ?? [] {
                let agents = stringList(entry.value)
                for agent in agents where !["claude-code", "codex", "gemini-cli", "genai", "generic"].contains(agent) {
                    add(entry.value, code: "E104", "unknown agent '\(agent)'; expected one of: claude-code, codex, gemini-cli, genai, generic")
                }
                rule.matchAgents = Set(agents)
            }
        }
        let forNode = value("for")
        if let forNode {
            if isEventRule || triggerIsAbsence(trigger) {
                add(entries.first { $0.key == "for" }!.keyNode, code: "E109", "'for' applies to state and window rules; \(trigger.name) rules \(isEventRule ? "fire on each event" : "take 'for' inside 'absence:'")")
            } else {
                rule.forDuration = duration(forNode) ?? .zero
            }
        }
        if let keep = value("keep_firing_for") {
            if isEventRule {
                add(entries.first { $0.key == "keep_firing_for" }!.keyNode, code: "E109", "'keep_firing_for' does not apply to event rules; use 'resolve_after' in 'event:'")
            } else {
                rule.keepFiringFor = duration(keep) ?? .zero
            }
        }
        if let resolve = value("resolve_when") {
            if isEventRule || triggerIsAbsence(trigger) {
                add(entries.first { $0.key == "resolve_when" }!.keyNode, code: "E109", "'resolve_when' applies to state and window rules")
            } else {
                rule.resolveWhen = expression(resolve, scope: isWindowRule ? .withValue : .sessionOnly)
            }
        }
        if let groupBy = value("group_by") {
            var fields: [SessionField] = []
            for path in stringList(groupBy) {
                if path.hasPrefix("session."), let field = SessionField(rawValue: String(path.dropFirst(8))) {
                    fields.append(field)
                } else {
                    add(groupBy, code: "E108", "group_by takes session fields such as session.id or session.agent, not '\(path)'")
                }
            }
            rule.groupBy = fields
        }
        if let labels = value("labels") {
            for entry in self.entries(labels, in: "labels", allowed: nil) ?? [] {
                if let text = string(entry.value) { rule.labels[entry.key] = text }
            }
        }
        if let inhibited = value("inhibited_by") { rule.inhibitedBy = stringList(inhibited) }
        if case .absence = trigger, let absence = value("absence")?.mapping, absence["while"] == nil {
            add(entries.first { $0.key == "absence" }!.keyNode, severity: .warning, code: "W203", "absence trigger without 'while:' guard; it will also fire for idle sessions")
        }
        if notify.repeatInterval > .zero, notify.repeatInterval < notify.cooldown, let node = value("notify")?.mapping?["repeat_interval"] {
            add(node, severity: .warning, code: "W404", "repeat_interval is shorter than cooldown; reminders come every cooldown")
        }
        let canonical = { (node: Node?) in node.flatMap { try? Yams.serialize(node: $0) } ?? "" }
        rule.triggerKey = [triggers.first?.key ?? "", canonical(triggers.first?.value), canonical(value("group_by")), canonical(value("match"))]
            .joined(separator: "\u{1}")
        rule.timingKey = [canonical(forNode), canonical(value("keep_firing_for")), canonical(value("resolve_when"))].joined(separator: "\u{1}")
        return errorCount == errorsBefore ? rule : nil
    }

    private func triggerUsesEvents(_ trigger: Trigger?) -> Bool {
        switch trigger {
        case .window, .absence: true
        default: false
        }
    }

    private func triggerIsAbsence(_ trigger: Trigger?) -> Bool {
        if case .absence = trigger { return true }
        return false
    }

    static func isValidID(_ id: String) -> Bool {
        let scalars = Array(id.unicodeScalars)
        guard (1...64).contains(scalars.count) else { return false }
        func allowed(_ c: Unicode.Scalar, first: Bool) -> Bool {
            ("a"..."z").contains(c) || ("0"..."9").contains(c) || (!first && (c == "." || c == "_" || c == "-"))
        }
        return scalars.enumerated().allSatisfy { allowed($0.element, first: $0.offset == 0) }
    }

    // MARK: Triggers

    private mutating func parseTrigger(_ kind: String, _ node: Node) -> Trigger? {
        switch kind {
        case "event":
            guard let entries = entries(node, in: "event", allowed: ["kind", "where", "resolve_after"]) else { return nil }
            guard let filter = eventFilter(entries, node, in: "event") else { return nil }
            let resolveAfter = entries.first { $0.key == "resolve_after" }.flatMap { duration($0.value) }
            return .event(EventTrigger(filter: filter, resolveAfter: resolveAfter))
        case "state":
            guard let entries = entries(node, in: "state", allowed: ["when"]) else { return nil }
            guard let when = entries.first(where: { $0.key == "when" }) else {
                add(node, code: "E102", "state needs 'when' (an expression)")
                return nil
            }
            return expression(when.value, scope: .sessionOnly).map { .state(StateTrigger(when: $0)) }
        case "absence":
            guard let entries = entries(node, in: "absence", allowed: ["kind", "where", "for", "while"]) else { return nil }
            let filter = eventFilter(entries, node, in: "absence")
            guard let forEntry = entries.first(where: { $0.key == "for" }) else {
                add(node, code: "E102", "absence needs 'for' (how long nothing must happen)")
                return nil
            }
            let span = duration(forEntry.value)
            let guardExpression = entries.first { $0.key == "while" }.flatMap { expression($0.value, scope: .sessionOnly) }
            guard let filter, let span else { return nil }
            return .absence(AbsenceTrigger(filter: filter, duration: span, guardExpression: guardExpression))
        default:
            let allowed = ["kind", "where", "over", "agg", "field", "denominator", "min_events", "condition"]
            guard let entries = entries(node, in: "window", allowed: allowed) else { return nil }
            func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
            let filter = eventFilter(entries, node, in: "window")
            var over: Duration?
            if let overNode = value("over") {
                over = duration(overNode)
                if let span = over, span > .seconds(86_400) || span <= .zero {
                    add(overNode, code: "E105", "window 'over' must be between 1s and 24h")
                    over = nil
                }
            } else {
                add(node, code: "E102", "window needs 'over' (the window length)")
            }
            var aggregate = WindowTrigger.Aggregate.count
            if let agg = value("agg") { aggregate = enumeration(agg, WindowTrigger.Aggregate.self) ?? .count }
            var field: Expression?
            if let fieldNode = value("field") {
                if [.count, .ratio].contains(aggregate) {
                    add(entries.first { $0.key == "field" }!.keyNode, code: "E109", "'field' is for sum, avg, max and min, not \(aggregate.rawValue)")
                }
                field = expression(fieldNode, scope: .withEvent, expecting: nil)
            } else if ![.count, .ratio].contains(aggregate) {
                add(node, code: "E102", "agg \(aggregate.rawValue) needs 'field' (e.g. event.attrs.cost_usd)")
            }
            var denominator: EventFilter?
            if let denominatorNode = value("denominator") {
                if aggregate != .ratio {
                    add(entries.first { $0.key == "denominator" }!.keyNode, code: "E109", "'denominator' is only for agg: ratio")
                }
                if let inner = self.entries(denominatorNode, in: "denominator", allowed: ["kind", "where"]) {
                    denominator = eventFilter(inner, denominatorNode, in: "denominator")
                }
            } else if aggregate == .ratio {
                add(node, code: "E102", "agg ratio needs 'denominator'")
            }
            let minEvents = value("min_events").flatMap { integer($0) } ?? 0
            guard let conditionNode = value("condition") else {
                add(node, code: "E102", "window needs 'condition', e.g. 'value > 5'")
                return nil
            }
            guard let condition = expression(conditionNode, scope: .withValue), let filter, let over else { return nil }
            return .window(
                WindowTrigger(
                    filter: filter, over: over, aggregate: aggregate, field: field, denominator: denominator, minEvents: minEvents,
                    condition: condition))
        }
    }

    private mutating func eventFilter(_ entries: [Entry], _ node: Node, in context: String) -> EventFilter? {
        guard let kindEntry = entries.first(where: { $0.key == "kind" }) else {
            add(node, code: "E102", "\(context) needs 'kind' (an event kind or a list of them)")
            return nil
        }
        let kinds = stringList(kindEntry.value)
        var ok = !kinds.isEmpty
        for kind in kinds where !RuleEvent.knownKinds.contains(kind) {
            let hint = suggestion(for: kind, among: RuleEvent.knownKinds).map { "; did you mean '\($0)'?" } ?? ""
            add(kindEntry.value, code: "E107", "unknown event kind '\(kind)'\(hint)")
            ok = false
        }
        let condition = entries.first { $0.key == "where" }.map { expression($0.value, scope: .withEvent) }
        if case .some(.none) = condition { ok = false }
        guard ok else { return nil }
        return EventFilter(kinds: Set(kinds), where: condition ?? nil)
    }

    private mutating func parseNotify(_ node: Node, event: Bool, value: Bool) -> NotifyPolicy {
        var policy = NotifyPolicy(title: .empty, body: .empty)
        guard let entries = entries(node, in: "notify", allowed: Self.notifyKeys) else { return policy }
        let scope = ExprScope(event: event, value: value)
        var hasTitle = false
        for entry in entries {
            switch entry.key {
            case "title":
                hasTitle = true
                if let template = template(entry.value, scope: scope) { policy.title = template }
            case "body": if let template = template(entry.value, scope: scope) { policy.body = template }
            case "channels": policy.channels = stringList(entry.value)
            case "priority":
                if let text = string(entry.value) {
                    if ["auto", "low", "normal", "high", "critical"].contains(text) {
                        policy.priority = text
                    } else {
                        add(entry.value, code: "E104", "priority must be one of: auto, low, normal, high, critical")
                    }
                }
            case "cooldown": policy.cooldown = duration(entry.value) ?? policy.cooldown
            case "repeat_interval": policy.repeatInterval = duration(entry.value) ?? .zero
            case "send_resolved": policy.sendResolved = bool(entry.value)
            case "group_wait":
                policy.groupWait = duration(entry.value) ?? .zero
                if policy.groupWait > .seconds(3600) {
                    add(entry.value, code: "E105", "group_wait must be at most 1h (the first push waits this long)")
                }
            default: policy.quietHours = quietHours(entry.value)
            }
        }
        if !hasTitle { add(node, code: "E102", "notify needs a 'title'") }
        return policy
    }

    static let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// `respect` | `ignore` (no window of the rule's own) or `{start, end, timezone, days}`.
    private mutating func quietHours(_ node: Node) -> QuietHours? {
        if let text = node.scalar?.string {
            if !["respect", "ignore"].contains(text) {
                add(node, code: "E104", "quiet_hours is respect, ignore or a mapping {start: \"22:00\", end: \"07:00\", timezone: Europe/Berlin, days: [mon, fri]}")
            }
            return nil
        }
        guard let entries = entries(node, in: "quiet_hours", allowed: ["start", "end", "timezone", "days"]) else { return nil }
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        var ok = true
        func time(_ key: String) -> Int? {
            guard let valueNode = value(key) else {
                add(node, code: "E102", "quiet_hours needs '\(key)' (a time like \"07:00\")")
                ok = false
                return nil
            }
            guard let text = string(valueNode) else {
                ok = false
                return nil
            }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
                (0...59).contains(minute), (0...23).contains(hour) || (hour == 24 && minute == 0)
            {
                return hour * 60 + minute
            }
            add(valueNode, code: "E105", "invalid time '\(text)' in quiet_hours; use HH:MM from 00:00 to 24:00")
            ok = false
            return nil
        }
        let start = time("start")
        let end = time("end")
        if let start, let end, start % 1440 == end % 1440 {
            add(value("end")!, code: "E105", "quiet_hours start and end are the same time; the window would be empty or the whole day")
            ok = false
        }
        var timeZone = TimeZone.current
        if let zoneNode = value("timezone"), let text = string(zoneNode), text != "local" {
            if let zone = TimeZone(identifier: text) {
                timeZone = zone
            } else {
                add(zoneNode, code: "E104", "unknown time zone '\(text)'; use an IANA name such as Europe/Berlin, UTC, or local")
                ok = false
            }
        }
        var days: Set<Int> = []
        if let daysNode = value("days") {
            for dayNode in daysNode.sequence ?? [daysNode] {
                guard let text = string(dayNode) else {
                    ok = false
                    continue
                }
                let bounds = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                let numbers = bounds.map { bound in Self.weekdays.firstIndex { $0 == bound || (bound.count == 3 && $0.hasPrefix(bound)) } }
                guard (1...2).contains(numbers.count), let first = numbers.first!, let last = numbers.last! else {
                    add(dayNode, code: "E104", "unknown day '\(text)' in quiet_hours; use mon, tue, … or a range like mon:fri")
                    ok = false
                    continue
                }
                var day = first
                while true {
                    days.insert(day + 1)
                    if day == last { break }
                    day = (day + 1) % 7
                }
            }
        }
        guard ok, let start, let end else { return nil }
        return QuietHours(start: start, end: end, timeZone: timeZone, days: days)
    }

    // MARK: Values

    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    /// The entries of a mapping; unknown keys are reported (and skipped) when `allowed` is given.
    private mutating func entries(_ node: Node, in context: String, allowed: [String]?) -> [Entry]? {
        guard let mapping = node.mapping else {
            add(node, code: "E103", "\(context) must be a mapping of keys to values")
            return nil
        }
        var result: [Entry] = []
        for (keyNode, value) in mapping {
            let key = keyNode.scalar?.string ?? ""
            if let allowed, !allowed.contains(key) {
                let hint = suggestion(for: key, among: allowed).map { "did you mean '\($0)'? " } ?? ""
                add(keyNode, code: "E110", "unknown key '\(key)' in \(context); \(hint)expected one of: \(allowed.joined(separator: ", "))")
                continue
            }
            result.append(Entry(key: key, keyNode: keyNode, value: value))
        }
        return result
    }

    private mutating func string(_ node: Node) -> String? {
        guard let scalar = node.scalar else {
            add(node, code: "E103", "expected a text value, found a \(node.mapping != nil ? "mapping" : "list")")
            return nil
        }
        return scalar.string
    }

    private mutating func stringList(_ node: Node) -> [String] {
        if let sequence = node.sequence { return sequence.compactMap { string($0) } }
        return string(node).map { [$0] } ?? []
    }

    private mutating func bool(_ node: Node) -> Bool? {
        switch node.scalar?.string {
        case "true": return true
        case "false": return false
        default:
            add(node, code: "E103", "expected true or false")
            return nil
        }
    }

    private mutating func integer(_ node: Node) -> Int? {
        guard let text = node.scalar?.string, let value = Int(text), value >= 0 else {
            add(node, code: "E103", "expected a non-negative integer")
            return nil
        }
        return value
    }

    private mutating func duration(_ node: Node) -> Duration? {
        guard let text = node.scalar?.string, let value = DurationText.parse(text) else {
            add(node, code: "E105", "invalid duration '\(node.scalar?.string ?? "")'; use a form like 90s, 5m, 1h30m, 500ms")
            return nil
        }
        return value
    }

    private mutating func enumeration<E: RawRepresentable & CaseIterable>(_ node: Node, _: E.Type) -> E? where E.RawValue == String {
        guard let text = string(node) else { return nil }
        guard let value = E(rawValue: text) else {
            add(node, code: "E104", "'\(text)' is not one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    private mutating func expression(_ node: Node, scope: ExprScope, expecting: ExprType? = .bool) -> Expression? {
        guard let text = string(node), let scalar = node.scalar else { return nil }
        do {
            let compiled = try Expression.compile(text, scope: scope, expecting: expecting)
            for warning in compiled.warnings { add(scalar, warning, severity: .warning) }
            return compiled
        } catch {
            add(scalar, error, severity: .error)
            return nil
        }
    }

    private mutating func template(_ node: Node, scope: ExprScope) -> NotificationTemplate? {
        guard let text = string(node), let scalar = node.scalar else { return nil }
        do {
            return try NotificationTemplate.parse(text, scope: scope)
        } catch {
            add(scalar, error, severity: .error)
            return nil
        }
    }

    // MARK: Diagnostics

    private var errorCount: Int { diagnostics.count { $0.severity == .error } }

    private func sourceLine(_ line: Int) -> String {
        line >= 1 && line <= lines.count ? String(lines[line - 1]) : ""
    }

    private mutating func add(line: Int, column: Int, length: Int = 1, severity: RuleDiagnostic.Severity = .error, code: String, _ message: String) {
        diagnostics.append(
            RuleDiagnostic(
                file: file, line: line, column: column, length: length, severity: severity, code: code, message: message,
                sourceLine: sourceLine(line)))
    }

    private mutating func add(_ node: Node, severity: RuleDiagnostic.Severity = .error, code: String, _ message: String) {
        let mark = node.mark
        let length = node.scalar.map { max(1, $0.string.unicodeScalars.count) } ?? 1
        add(line: mark?.line ?? 1, column: mark?.column ?? 1, length: length, severity: severity, code: code, message)
    }

    /// An expression error, placed at its offset inside the scalar's source text.
    private mutating func add(_ scalar: Node.Scalar, _ error: ExprError, severity: RuleDiagnostic.Severity) {
        let (line, column) = SourcePosition.locate(offset: error.offset, in: scalar, lines: lines)
        add(line: line, column: column, length: error.length, severity: error.isWarning ? .warning : severity, code: error.code, error.message)
    }

    private mutating func report(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            add(line: mark.line, column: mark.column, code: "E100", "YAML syntax: \(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            add(line: 1, column: 1, code: "E100", "YAML: duplicate keys \(duplicates.joined(separator: ", ")) \(context)")
        default:
            add(line: 1, column: 1, code: "E100", "not valid YAML: \(error)")
        }
    }
}
