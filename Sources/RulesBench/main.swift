import Foundation
import Logging
import SinkCore
import SinkTesting
import Synchronization
import Testing

@testable import SinkRules

/// Benchmarks, run on demand: `RULES_BENCH=1 swift test -c release --filter RuleBenchmark`.
/// Prints evaluation cost per event with 10 and 200 rules, and how late a `for: 30s` alert fires
/// under 1,000 events/s (targets: < 5 µs per event per rule; within 1 s of the deadline).
@Suite("Rule engine benchmark", .enabled(if: ProcessInfo.processInfo.environment["RULES_BENCH"] != nil))
struct RuleBenchmarkTests {
    static let pack = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("rules").path

    /// `count` rules: copies of the default pack under new ids.
    static func rules(_ count: Int) -> [Rule] {
        var loader = RuleLoader(directory: pack)
        let base = loader.load().rules
        return (0..<count).map { index in
            var rule = base[index % base.count]
            rule.id += "-\(index)"
            rule.inhibitedBy = []
            return rule
        }
    }

    static func events(_ count: Int, sessions: Int) -> [SessionUpdate] {
        let epoch = Date(timeIntervalSince1970: 1_790_000_000)
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

    @Test("evaluation cost per event with 10 and 200 rules")
    func evaluationCost() {
        let updates = Self.events(100_000, sessions: 50)
        for count in [10, 200] {
            var evaluator = RuleEvaluator(rules: RuleSet(Self.rules(count)))
            let clock = ContinuousClock()
            var now = Duration.zero
            let started = clock.now
            for update in updates {
                now += .milliseconds(100)
                _ = evaluator.apply(update, at: now, wall: Date(timeIntervalSince1970: 1_790_000_000) + now.seconds)
                if now.components.attoseconds == 0 { _ = evaluator.tick(at: now, wall: Date(timeIntervalSince1970: 1_790_000_000) + now.seconds) }
            }
            let elapsed = (clock.now - started).seconds
            let perEvent = elapsed / 100_000 * 1e6
            print(String(format: "rules bench: %3d rules: %.2f µs per event, %.3f µs per event per rule (100,000 events, 50 sessions, ticks included)", count, perEvent, perEvent / Double(count)))
        }
    }

    @Test("timer accuracy: a `for: 30s` alert under 1,000 events/s")
    func timerAccuracy() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)").path
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
        final class FiringTime: AlertConsumer {
            let fired = Mutex<ContinuousClock.Instant?>(nil)
            func consume(_ alerts: [AlertEvent]) async {
                if alerts.contains(where: { $0.kind == .firing && $0.alert.ruleID == "held" }) {
                    fired.withLock { $0 = $0 ?? ContinuousClock.now }
                }
            }
        }
        let consumer = FiringTime()
        let engine = await RuleEngine(directory: directory, consumers: [consumer], logger: Logger(label: "bench"))
        let updates = Self.events(33_000, sessions: 1)
        let runner = Task { try await engine.run() }
        let start = ContinuousClock.now
        for (index, update) in updates.enumerated() {
            // 100 events every 100 ms = 1,000 events/s.
            try await Task.sleep(until: start + .milliseconds(100 * index), clock: .continuous)
            await engine.committed(update)
        }
        runner.cancel()
        let fired = try #require(consumer.fired.withLock { $0 })
        let late = (fired - (start + .seconds(30))).seconds
        print(String(format: "rules bench: for: 30s alert fired %.3f s after its deadline under 1,000 events/s", late))
        #expect(late < 1)
    }
}
