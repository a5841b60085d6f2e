import Foundation
import Logging
import SinkCore
import SinkRules
import Synchronization

// The rule engine benchmark, run by `bench/rules.sh` (a release build): evaluation cost per event
// with 10 and 200 rules loaded, and how late a `for: 30s` alert fires under 1,000 events/s
// (issue 3's targets: < 5 µs per event per rule on average; alerts within 1 s of their deadline).
//
//     rules-bench [--rules DIR] [--events N] [--skip-timer]

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let pack = option("--rules") ?? "rules"
let eventCount = option("--events").flatMap(Int.init) ?? 100_000
let epoch = Date(timeIntervalSince1970: 1_790_000_000)

/// `count` rules: copies of the default pack under new ids.
func rules(_ count: Int) -> [Rule] {
    var loader = RuleLoader(directory: pack)
    let base = loader.load().rules
    guard !base.isEmpty else {
        FileHandle.standardError.write(Data("rules-bench: no rules in \(pack)\n".utf8))
        exit(2)
    }
    return (0..<count).map { index in
        var rule = base[index % base.count]
        rule.id += "-\(index)"
        rule.inhibitedBy = []
        return rule
    }
}

/// Commits of 100 events each, spread over `sessions` sessions (a third API requests, the rest tool
/// results, one in seven failing).
func events(_ count: Int, sessions: Int) -> [SessionUpdate] {
    var states = (0..<sessions).map { Session(id: "s\($0)", agent: .claudeCode, firstSeen: epoch) }
    var updates: [SessionUpdate] = []
    var batch: [StoredEvent] = []
    for index in 0..<count {
        let sessionIndex = index % sessions
        let kind: EventKind = index % 3 == 0 ? .apiRequest : .toolResult
        let event = SessionEvent(
            sessionID: states[sessionIndex].id, agent: .claudeCode, kind: kind, name: "claude_code.\(kind.rawValue)", source: .logs,
            time: epoch + Double(index) / 1000, dedupKey: UInt64(index),
            facts: EventFacts(toolName: "Bash", success: index % 7 != 0, costUSD: 0.001),
            attributes: ["tool_input": .string("ls -la")])
        states[sessionIndex].apply(event, receivedAt: event.time)
        batch.append(StoredEvent(seq: Int64(index), receivedAt: event.time, event: event))
        if batch.count == 100 {
            let touched = Set(batch.map(\.event.sessionID))
            updates.append(SessionUpdate(events: batch, sessions: states.filter { touched.contains($0.id) }))
            batch = []
        }
    }
    return updates
}

/// Evaluation cost: the pure evaluator on virtual time (a commit every 100 ms, a tick every second).
func evaluationCost() {
    let updates = events(eventCount, sessions: 50)
    for count in [10, 200] {
        var evaluator = RuleEvaluator(rules: RuleSet(rules(count)))
        let clock = ContinuousClock()
        var now = Duration.zero
        let started = clock.now
        for update in updates {
            now += .milliseconds(100)
            _ = evaluator.apply(update, at: now, wall: epoch + now.seconds)
            if now.components.attoseconds == 0 { _ = evaluator.tick(at: now, wall: epoch + now.seconds) }
        }
        let elapsed = (clock.now - started).seconds
        let perEvent = elapsed / Double(updates.count * 100) * 1e6
        print(
            String(
                format: "rules bench: %3d rules: %.2f µs per event, %.3f µs per event per rule (%d events, 50 sessions, ticks included)", count,
                perEvent, perEvent / Double(count), updates.count * 100))
    }
}

/// Collects the instant the `held` rule fired.
final class FiringTime: AlertConsumer {
    let fired = Mutex<ContinuousClock.Instant?>(nil)
    func consume(_ alerts: [AlertEvent]) async {
        if alerts.contains(where: { $0.kind == .firing && $0.alert.ruleID == "held" }) {
            fired.withLock { $0 = $0 ?? ContinuousClock.now }
        }
    }
}

/// Timer accuracy: the engine service on real clocks, fed 1,000 events/s; a `for: 30s` rule.
func timerAccuracy() async throws -> Double {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-bench-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try """
        version: 1
        rules:
          - id: held
            state: { when: 'session.tool_calls >= 1' }
            for: 30s
            notify: { title: held }
        """.write(toFile: directory + "/held.yaml", atomically: true, encoding: .utf8)
    let consumer = FiringTime()
    let engine = await RuleEngine(directory: directory, consumers: [consumer], logger: Logger(label: "bench"))
    let updates = events(33_000, sessions: 1)
    let runner = Task { try await engine.run() }
    let start = ContinuousClock.now
    for (index, update) in updates.enumerated() {
        // 100 events every 100 ms = 1,000 events/s.
        try await Task.sleep(until: start + .milliseconds(100 * index), clock: .continuous)
        await engine.committed(update)
    }
    runner.cancel()
    guard let fired = consumer.fired.withLock({ $0 }) else { return .infinity }
    return (fired - (start + .seconds(30))).seconds
}

evaluationCost()
if !arguments.contains("--skip-timer") {
    let late = try await timerAccuracy()
    print(String(format: "rules bench: for: 30s alert fired %.3f s after its deadline under 1,000 events/s", late))
    if late >= 1 { exit(1) }
}
