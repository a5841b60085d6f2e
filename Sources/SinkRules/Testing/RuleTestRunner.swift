import Foundation
import SinkCore
import Yams

/// Runs rule unit tests (``RuleTestFile``) on a virtual clock: events are fed through the same
/// session model and ``RuleEvaluator`` as in the sink, the clock ticks every `eval_interval`, and
/// the alert states and the exact notifications are compared with the expectations.
package enum RuleTestRunner {
    /// The outcome of one test case.
    package struct CaseResult: Sendable {
        package var file: String
        package var name: String
        package var failures: [String]

        package var passed: Bool { failures.isEmpty }
    }

    /// Runs every `*_test.yaml` under `directory/tests`.
    package static func run(directory: String) -> [CaseResult] {
        let testsDirectory = directory + "/tests"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: testsDirectory)) ?? []).filter {
            $0.hasSuffix("_test.yaml") || $0.hasSuffix("_test.yml")
        }
        return names.sorted().flatMap { run(file: testsDirectory + "/" + $0) }
    }

    /// Runs the cases of one test file.
    package static func run(file: String) -> [CaseResult] {
        let testFile: RuleTestFile
        do {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            testFile = try YAMLDecoder().decode(RuleTestFile.self, from: text)
        } catch {
            return [CaseResult(file: file, name: "(file)", failures: ["cannot read the test file: \(error)"])]
        }
        let base = (file as NSString).deletingLastPathComponent
        let interval = testFile.eval_interval.flatMap(DurationText.parse) ?? .seconds(1)
        return testFile.tests.map { testCase in
            var failures: [String] = []
            let ruleFiles = testCase.rule_files ?? testFile.rule_files ?? []
            var rules: [Rule] = []
            for ruleFile in ruleFiles {
                let path = ruleFile.hasPrefix("/") ? ruleFile : base + "/" + ruleFile
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    failures.append("cannot read rule file \(ruleFile)")
                    continue
                }
                let (parsed, problems) = RuleFileParser.parse(text, file: ruleFile)
                for problem in problems where problem.severity == .error { failures.append(problem.summary) }
                rules += parsed
            }
            if failures.isEmpty {
                failures = run(testCase, rules: rules, interval: interval)
            }
            return CaseResult(file: file, name: testCase.name, failures: failures)
        }
    }

    static let epoch = Date(timeIntervalSince1970: 1_790_000_000)

    private static func seconds(_ text: String?) -> Duration? {
        text.flatMap(DurationText.parse)
    }

    /// Runs one case; returns its failures.
    static func run(_ testCase: RuleTestFile.Case, rules: [Rule], interval: Duration) -> [String] {
        var failures: [String] = []
        var evaluator = RuleEvaluator(rules: RuleSet(rules))
        var sessions: [String: Session] = [:]
        for (id, seed) in testCase.sessions ?? [:] {
            var session = Session(id: id, agent: AgentKind(rawValue: seed.agent ?? "generic") ?? .generic, firstSeen: epoch)
            session.name = seed.name
            sessions[id] = session
        }
        var events: [(Duration, RuleTestFile.Event)] = []
        for event in testCase.events ?? [] {
            guard let t = seconds(event.t) else {
                failures.append("event at '\(event.t)': invalid time")
                continue
            }
            guard EventKind(rawValue: event.kind) != nil else {
                failures.append("event at \(event.t): unknown kind '\(event.kind)'")
                continue
            }
            events.append((t, event))
        }
        events.sort { $0.0 < $1.0 }
        var checks: [(Duration, RuleTestFile.ExpectedAlert)] = []
        for expected in testCase.expect_alerts ?? [] {
            guard let at = seconds(expected.at) else {
                failures.append("expect_alerts at '\(expected.at)': invalid time")
                continue
            }
            checks.append((at, expected))
        }
        guard failures.isEmpty else { return failures }
        let lastExpected = (testCase.expect_notifications ?? []).compactMap { seconds($0.at) }.max() ?? .zero
        let end = seconds(testCase.until) ?? max(events.last?.0 ?? .zero, checks.map(\.0).max() ?? .zero, lastExpected) + interval
        var notifications: [(Duration, AlertEvent)] = []
        func collect(_ output: [AlertEvent], at t: Duration) {
            for event in output where event.notification != nil { notifications.append((t, event)) }
        }
        collect(evaluator.apply(SessionUpdate(events: [], sessions: Array(sessions.values)), at: .zero, wall: epoch), at: .zero)
        var instants = Set(events.map(\.0)).union(checks.map(\.0))
        var tick = Duration.zero
        while tick <= end {
            instants.insert(tick)
            tick += interval
        }
        var nextEvent = 0
        var sequence: Int64 = 0
        for t in instants.sorted() {
            let wall = epoch.addingTimeInterval(t.seconds)
            var batch: [StoredEvent] = []
            var changed: [String: Session] = [:]
            while nextEvent < events.count, events[nextEvent].0 == t {
                let input = events[nextEvent].1
                nextEvent += 1
                var session = sessions[input.session] ?? Session(id: input.session, agent: .generic, firstSeen: wall)
                let event = sessionEvent(input, time: wall)
                session.apply(event, receivedAt: wall)
                sessions[input.session] = session
                changed[input.session] = session
                sequence += 1
                batch.append(StoredEvent(seq: sequence, receivedAt: wall, event: event))
            }
            if !batch.isEmpty {
                collect(evaluator.apply(SessionUpdate(events: batch, sessions: Array(changed.values)), at: t, wall: wall), at: t)
            }
            if t.isMultiple(of: interval) {
                var timeChanged: [Session] = []
                for (id, var session) in sessions where session.statusMachine.tick(now: wall, timeouts: .default) {
                    sessions[id] = session
                    timeChanged.append(session)
                }
                if !timeChanged.isEmpty {
                    collect(evaluator.apply(SessionUpdate(events: [], sessions: timeChanged), at: t, wall: wall), at: t)
                }
                collect(evaluator.tick(at: t, wall: wall), at: t)
            }
            for (at, expected) in checks where at == t {
                failures += check(expected, alerts: evaluator.alerts())
            }
        }
        failures += compare(testCase.expect_notifications ?? [], notifications, partial: testCase.partial ?? false)
        return failures
    }

    private static func sessionEvent(_ input: RuleTestFile.Event, time: Date) -> SessionEvent {
        var facts = EventFacts()
        var attributes: EventAttributes = [:]
        for (key, value) in input.attrs ?? [:] {
            switch key {
            case "exit_code": facts.exitCode = value.number.map { Int($0) }
            case "exit_signal": facts.exitSignal = value.number.map { Int($0) }
            case "stop_requested": facts.stopRequested = value.bool
            case "success": facts.success = value.bool
            case "tool_name": facts.toolName = value.text
            case "cost_usd": facts.costUSD = value.number
            case "status_code": facts.statusCode = value.number.map { Int($0) }
            case "error": facts.error = value.text
            case "model": facts.model = value.text
            case "input_tokens": facts.inputTokens = value.number
            case "output_tokens": facts.outputTokens = value.number
            case "duration_ms": facts.durationMs = value.number
            default: attributes[key] = value
            }
        }
        let kind = EventKind(rawValue: input.kind) ?? .other
        return SessionEvent(
            sessionID: input.session, agent: .generic, kind: kind, name: input.name ?? "test.\(input.kind)", source: .logs, time: time,
            dedupKey: UInt64.random(in: 0...UInt64.max), facts: facts, attributes: attributes)
    }

    private static func check(_ expected: RuleTestFile.ExpectedAlert, alerts: [AlertSnapshot]) -> [String] {
        let active = alerts.filter { $0.state != "resolved" || expected.state == "resolved" }
        if expected.none == true {
            let firing = alerts.filter { ["pending", "firing", "recovering"].contains($0.state) && (expected.rule == nil || $0.ruleID == expected.rule) }
            return firing.isEmpty ? [] : ["at \(expected.at): expected no alerts, found " + firing.map { "\($0.ruleID)(\($0.sessionID ?? "-")) \($0.state)" }.joined(separator: ", ")]
        }
        let match = active.first { alert in
            (expected.rule == nil || alert.ruleID == expected.rule) && (expected.session == nil || alert.sessionID == expected.session)
        }
        let what = "\(expected.rule ?? "*")(\(expected.session ?? "*"))"
        guard let match else {
            return ["at \(expected.at): expected \(what) \(expected.state ?? "active"), found none"]
        }
        var failures: [String] = []
        if let state = expected.state, match.state != state {
            failures.append("at \(expected.at): expected \(what) \(state), found \(match.state)")
        }
        if let inhibited = expected.inhibited, match.inhibited != inhibited {
            failures.append("at \(expected.at): expected \(what) inhibited: \(inhibited), found \(match.inhibited)")
        }
        if let silenced = expected.silenced, match.silenced != silenced {
            failures.append("at \(expected.at): expected \(what) silenced: \(silenced), found \(match.silenced)")
        }
        return failures
    }

    private static func compare(_ expected: [RuleTestFile.ExpectedNotification], _ actual: [(Duration, AlertEvent)], partial: Bool) -> [String] {
        var remaining = actual
        var failures: [String] = []
        func describe(_ item: (Duration, AlertEvent)) -> String {
            "\(DurationText.format(seconds: item.0.seconds)) \(item.1.alert.ruleID) \(item.1.kind.rawValue) \"\(item.1.notification?.title ?? "")\""
        }
        for wanted in expected {
            let index = remaining.firstIndex { (t, event) in
                guard let notification = event.notification else { return false }
                if let at = wanted.at, DurationText.parse(at) != t { return false }
                return event.alert.ruleID == wanted.rule && event.kind.rawValue == wanted.kind
                    && (wanted.session == nil || event.alert.sessionID == wanted.session)
                    && (wanted.title == nil || notification.title == wanted.title)
                    && (wanted.body == nil || notification.body == wanted.body)
                    && (wanted.title_contains == nil || notification.title.contains(wanted.title_contains!))
                    && (wanted.body_contains == nil || notification.body.contains(wanted.body_contains!))
            }
            if let index {
                remaining.remove(at: index)
            } else {
                failures.append(
                    "expected notification \(wanted.at ?? "*") \(wanted.rule) \(wanted.kind)\(wanted.title.map { " \"\($0)\"" } ?? ""), not sent")
            }
        }
        if !partial {
            for extra in remaining { failures.append("unexpected notification \(describe(extra))") }
        }
        if !failures.isEmpty {
            failures.append("notifications sent: " + (actual.isEmpty ? "none" : actual.map(describe).joined(separator: "; ")))
        }
        return failures
    }
}

extension Duration {
    func isMultiple(of other: Duration) -> Bool {
        let ratio = self / other
        return ratio.rounded() == ratio
    }
}
