import Foundation
import Logging
import SinkCore
import SinkTesting
import Testing

@testable import SinkRules

/// The rule engine service: hot reload with last-good files, persistence across restarts, the
/// bounded commit queue.
@Suite("Rule engine service")
struct RuleEngineTests {
    static let crash = """
        version: 1
        rules:
          - id: crashed
            event: { kind: process_exit, where: 'has(event.attrs.exit_code) && event.attrs.exit_code != 0' }
            notify: { title: "{{ session.name }} crashed" }
        """

    static func directory(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
        return path
    }

    static func crashUpdate(session: String = "s1") -> SessionUpdate {
        var state = Session(id: session, agent: .codex, firstSeen: Date(timeIntervalSince1970: 1_790_000_000))
        state.name = "web"
        let event = SessionEvent(
            sessionID: session, agent: .codex, kind: .processExit, name: "observatory.process", source: .process,
            time: Date(timeIntervalSince1970: 1_790_000_001), dedupKey: 1, facts: EventFacts(exitCode: 1))
        state.apply(event, receivedAt: event.time)
        return SessionUpdate(events: [StoredEvent(seq: 1, receivedAt: event.time, event: event)], sessions: [state])
    }

    @Test("hot reload: an edit takes effect; a broken file keeps its last good version and reports file:line:col")
    func hotReload() async throws {
        let path = try Self.directory(["crash.yaml": Self.crash])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = await RuleEngine(directory: path, clock: ManualMonotonicClock(), wallClock: ManualWallClock(), logger: Logger(label: "test"))
        #expect(await engine.rulesStatus().rules.map(\.id) == ["crashed"])

        try Self.crash.replacingOccurrences(of: "crashed\" }", with: "died\" }").write(toFile: path + "/crash.yaml", atomically: true, encoding: .utf8)
        try "version: 1\nrules:\n  - id: broken\n    state: { when: 'session.stauts == 1' }\n    notify: { title: x }\n"
            .write(toFile: path + "/broken.yaml", atomically: true, encoding: .utf8)
        await engine.reloadIfChanged()
        await engine.reloadIfChanged()
        var status = await engine.rulesStatus()
        #expect(status.rules.map(\.id) == ["crashed"])
        #expect(status.diagnostics.map(\.summary) == ["\(path)/broken.yaml:4:21: error[E204]: unknown field 'session.stauts'; did you mean 'session.status'?"])

        // Break the good file: its last good version stays in force.
        try "version: 1\nrules:\n  - id: crashed\n    event: { kind: process_exit\n".write(toFile: path + "/crash.yaml", atomically: true, encoding: .utf8)
        await engine.reloadIfChanged()
        await engine.reloadIfChanged()
        status = await engine.rulesStatus()
        #expect(status.rules.map(\.id) == ["crashed"])
        #expect(status.files.first { $0.path.hasSuffix("crash.yaml") }?.usingLastGood == true)
        await engine.committed(Self.crashUpdate())
        await engine.drain()
        #expect(await engine.alerts().first?.title == "web died")

        // Deleting the file removes its rules.
        try FileManager.default.removeItem(atPath: path + "/crash.yaml")
        await engine.reloadIfChanged()
        await engine.reloadIfChanged()
        #expect(await engine.rulesStatus().rules.isEmpty)
        #expect(await engine.alerts().isEmpty)
    }

    @Test("editor saves: a change is applied once it has been stable for one check")
    func debounce() async throws {
        let path = try Self.directory(["crash.yaml": Self.crash])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = await RuleEngine(directory: path, clock: ManualMonotonicClock(), wallClock: ManualWallClock(), logger: Logger(label: "test"))
        try "version: 1\nrules:\n".write(toFile: path + "/crash.yaml", atomically: true, encoding: .utf8)
        await engine.reloadIfChanged()
        try Self.crash.replacingOccurrences(of: "id: crashed", with: "id: died").write(toFile: path + "/crash.yaml", atomically: true, encoding: .utf8)
        await engine.reloadIfChanged()
        #expect(await engine.rulesStatus().rules.map(\.id) == ["crashed"])
        await engine.reloadIfChanged()
        let status = await engine.rulesStatus()
        #expect(status.rules.map(\.id) == ["died"])
        #expect(status.diagnostics.isEmpty)
    }

    @Test("restart: firing alerts and silences come back from the state store, without a second push")
    func persistence() async throws {
        let path = try Self.directory(["crash.yaml": Self.crash])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = InMemoryRuleStateStore()
        let consumer = RecordingAlertConsumer()
        let wall = ManualWallClock()
        let first = await RuleEngine(directory: path, clock: ManualMonotonicClock(), wallClock: wall, consumers: [consumer], stateStore: store, logger: Logger(label: "test"))
        await first.committed(Self.crashUpdate())
        await first.drain()
        await first.addSilence(Silence(id: "mute", matchers: [.init(name: "session", op: .equal, value: "s9")], startsAt: wall.now(), endsAt: wall.now() + 3600))
        #expect(consumer.notifications.count == 1)
        #expect(try await store.loadRuleState(kind: "alert").count == 1)

        wall.advance(by: .seconds(30))
        let secondConsumer = RecordingAlertConsumer()
        let second = await RuleEngine(
            directory: path, clock: ManualMonotonicClock(), wallClock: wall, consumers: [secondConsumer], stateStore: store,
            sessions: Self.crashUpdate().sessions, logger: Logger(label: "test"))
        #expect(await second.alerts().map(\.state) == ["firing"])
        #expect(await second.silences().map(\.id) == ["mute"])
        await second.tick()
        #expect(secondConsumer.notifications.isEmpty)
    }

    @Test("the commit queue is bounded; drops are counted")
    func boundedQueue() async throws {
        var configuration = RuleEngine.Configuration()
        configuration.maxQueuedUpdates = 3
        let metrics = SinkMetrics()
        let engine = await RuleEngine(
            directory: "/nonexistent", configuration: configuration, clock: ManualMonotonicClock(), wallClock: ManualWallClock(), metrics: metrics,
            logger: Logger(label: "test"))
        for _ in 0..<5 { await engine.committed(SessionUpdate(events: [], sessions: [])) }
        #expect(metrics.value(of: .init("observatory_rule_updates_dropped_total")) == 2)
    }
}
