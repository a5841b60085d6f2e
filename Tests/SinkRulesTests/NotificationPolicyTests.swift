import Foundation
import Logging
import SinkCore
import SinkTesting
import Testing

@testable import SinkRules

/// Quiet hours and `group_wait`: pushes held and then sent as one summary or batch.
@Suite("Notification policy: quiet hours and group_wait")
struct NotificationPolicyTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static let quietEvents = """
        version: 1
        rules:
          - id: finished
            name: Agent finished
            event: { kind: api_error, resolve_after: 0s }
            notify:
              title: "{{ session.name }} finished"
              cooldown: 0s
              quiet_hours: { start: "22:00", end: "07:00", timezone: Europe/Berlin }
          - id: crashed
            severity: critical
            event: { kind: process_exit, resolve_after: 0s }
            notify: { title: "{{ session.name }} crashed", quiet_hours: ignore }
        """

    @Test("quiet hours window: across midnight, in its time zone (CET and CEST), on the days it starts")
    func quietHoursWindow() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let night = QuietHours(start: 22 * 60, end: 7 * 60, timeZone: berlin)
        #expect(!night.contains(Self.date("2026-11-26T20:59:59Z")))  // 21:59:59 CET
        #expect(night.contains(Self.date("2026-11-26T21:00:00Z")))  // 22:00 CET
        #expect(night.contains(Self.date("2026-11-26T23:30:00Z")))  // 00:30 CET, next day
        #expect(night.contains(Self.date("2026-11-27T05:59:59Z")))  // 06:59:59 CET
        #expect(!night.contains(Self.date("2026-11-27T06:00:00Z")))  // 07:00 CET
        #expect(night.contains(Self.date("2026-07-01T20:30:00Z")))  // 22:30 CEST
        #expect(!night.contains(Self.date("2026-07-01T05:00:00Z")))  // 07:00 CEST
        // Windows starting Friday only (fri): Saturday 02:00 belongs to Friday's night; Saturday 23:00 does not.
        let friday = QuietHours(start: 22 * 60, end: 7 * 60, timeZone: berlin, days: [6])
        #expect(friday.contains(Self.date("2026-11-28T01:00:00Z")))  // Sat 02:00 CET
        #expect(!friday.contains(Self.date("2026-11-28T22:00:00Z")))  // Sat 23:00 CET
        #expect(!friday.contains(Self.date("2026-11-27T01:00:00Z")))  // Fri 02:00 CET (Thursday's night)
        let day = QuietHours(start: 9 * 60, end: 17 * 60, timeZone: TimeZone(identifier: "UTC")!)
        #expect(day.contains(Self.date("2026-11-26T09:00:00Z")) && !day.contains(Self.date("2026-11-26T17:00:00Z")))
    }

    @Test("quiet hours: pushes are held (recorded as 'quiet hours') and sent as one summary when they end; quiet_hours: ignore pushes at once")
    func quietHoursSummary() throws {
        var h = try EvaluatorHarness(Self.quietEvents)
        h.wall = Self.date("2026-11-26T20:50:00Z")  // 21:50 in Berlin
        h.event(.apiError, "s1")
        #expect(h.sent == ["0 finished firing"])
        h.advance(to: 1200)  // 22:10 in Berlin
        h.event(.apiError, "s2")
        #expect(h.output.last?.1.suppressedBecause == "quiet hours")
        #expect(h.output.last?.1.notification == nil)
        h.advance(to: 6000)  // 23:30
        h.event(.apiError, "s3")
        h.event(.apiError, "s2")
        h.event(.processExit, "s4", facts: EventFacts(exitCode: 1))
        #expect(h.sent == ["0 finished firing", "6000 crashed firing"])
        #expect(h.evaluator.suppressedNotifications["finished"] == 3)
        h.advance(to: 32999)  // 06:59:59
        #expect(h.sent.count == 2)
        h.advance(to: 33000)  // 07:00 in Berlin: the summary
        #expect(h.sent == ["0 finished firing", "6000 crashed firing", "33000 finished firing"])
        let summary = try #require(h.notifications.last?.notification)
        #expect(summary.count == 2)
        #expect(summary.title == "While you were away: 2 × Agent finished: agent-s2, agent-s3")
        #expect(summary.body == "agent-s2 finished (×2)\nagent-s3 finished")
        #expect(summary.items == ["agent-s2 finished", "agent-s3 finished"])
        #expect(summary.collapseKey == "finished|summary")
        h.advance(to: 33100)
        #expect(h.sent.count == 3)
    }

    @Test("quiet hours: a state alert that fired and cleared during quiet hours sends nothing; one still firing is summarised")
    func quietHoursResolvedMeanwhile() throws {
        let yaml = """
            version: 1
            rules:
              - id: stalled
                state: { when: 'session.status == "working"' }
                for: 120s
                notify:
                  title: "{{ session.name }} stalled"
                  quiet_hours: { start: "23:00", end: "06:00", timezone: UTC }
            """
        var h = try EvaluatorHarness(yaml)
        h.wall = Self.date("2026-11-26T22:59:00Z")
        h.event(.userPrompt, "s1")
        h.event(.userPrompt, "s2")
        h.advance(to: 120)  // 23:01: both stall, both held
        #expect(h.sent.isEmpty)
        #expect(h.output.filter { $0.1.kind == .firing }.map(\.1.suppressedBecause) == ["quiet hours", "quiet hours"])
        h.advance(to: 600)
        h.event(.turnFinished, "s1")  // s1 recovers during the night: no resolved push, nothing in the summary
        #expect(h.alert("stalled", "s1")?.state == "resolved")
        h.advance(to: 25260)  // 06:00
        #expect(h.sent == ["25260 stalled firing"])
        let summary = try #require(h.notifications.last?.notification)
        #expect(summary.title == "While you were away: agent-s2 stalled")
        #expect(summary.count == 1)
        // The summary counts as the episode's firing push: the resolution is pushed.
        h.advance(to: 25300)
        h.event(.turnFinished, "s2")
        #expect(h.sent == ["25260 stalled firing", "25300 stalled resolved"])

        // Everything cleared before the morning: no push at all.
        var quiet = try EvaluatorHarness(yaml)
        quiet.wall = Self.date("2026-11-26T22:59:00Z")
        quiet.event(.userPrompt, "s1")
        quiet.advance(to: 200)
        quiet.event(.turnFinished, "s1")
        quiet.advance(to: 25300)
        #expect(quiet.sent.isEmpty)
    }

    @Test("quiet hours through the engine service, on its injected wall clock")
    func quietHoursEngine() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            version: 1
            rules:
              - id: crashed
                event: { kind: process_exit, resolve_after: 0s }
                notify: { title: "{{ session.name }} crashed", quiet_hours: { start: "00:00", end: "08:00", timezone: UTC } }
            """.write(toFile: path + "/crash.yaml", atomically: true, encoding: .utf8)
        let wall = ManualWallClock(Self.date("2026-11-26T07:59:00Z"))
        let clock = ManualMonotonicClock()
        let consumer = RecordingAlertConsumer()
        let engine = await RuleEngine(directory: path, clock: clock, wallClock: wall, consumers: [consumer], logger: Logger(label: "test"))
        await engine.committed(RuleEngineTests.crashUpdate())
        await engine.drain()
        #expect(consumer.notifications.isEmpty)
        #expect(await engine.rulesStatus().suppressedNotifications["crashed"] == 1)
        wall.advance(by: .seconds(59))
        clock.advance(by: .seconds(59))
        await engine.tick()
        #expect(consumer.notifications.isEmpty)
        wall.advance(by: .seconds(1))
        clock.advance(by: .seconds(1))
        await engine.tick()
        #expect(consumer.notifications.compactMap(\.notification?.title) == ["While you were away: web crashed"])
    }

    static let finished = """
        version: 1
        rules:
          - id: finished
            name: Agent finished
            event: { kind: api_error, resolve_after: 0s }
            notify: { title: "{{ session.name }} finished", body: "done", group_wait: 10s, cooldown: 0s }
          - id: failed
            name: Agent failed
            event: { kind: process_exit, resolve_after: 0s }
            notify: { title: "{{ session.name }} failed", group_wait: 10s }
        """

    @Test("group_wait: three sessions finishing within the window → one push at the first one's deadline")
    func groupWaitBatch() throws {
        var h = try EvaluatorHarness(Self.finished)
        h.event(.apiError, "api")
        #expect(h.output.last?.1.suppressedBecause == "group_wait")
        h.advance(to: 4)
        h.event(.apiError, "web")
        h.advance(to: 9)
        h.event(.apiError, "docs")
        #expect(h.sent.isEmpty)
        #expect(h.evaluator.suppressedNotifications["finished"] == nil)  // a delay, not a suppression
        h.advance(to: 10)
        #expect(h.sent == ["10 finished firing"])
        let batch = try #require(h.notifications.last?.notification)
        #expect(batch.title == "3 × Agent finished: agent-api, agent-web, agent-docs")
        #expect(batch.body == "agent-api finished\nagent-web finished\nagent-docs finished")
        #expect(batch.count == 3)
        #expect(batch.collapseKey == "finished|summary")
        // A lone one, later: delivered as itself, group_wait after it arrived.
        h.advance(to: 30)
        h.event(.apiError, "api")
        h.advance(to: 39)
        #expect(h.sent == ["10 finished firing"])
        h.advance(to: 40)
        #expect(h.sent == ["10 finished firing", "40 finished firing"])
        let lone = try #require(h.notifications.last?.notification)
        #expect(lone.title == "agent-api finished")
        #expect(lone.body == "done")
        #expect(lone.count == 1)
        #expect(lone.collapseKey == "finished|api")
    }

    @Test("group_wait: an alert silenced while its batch waits is left out, and pushed when the silence ends")
    func groupWaitSilenced() throws {
        let yaml = """
            version: 1
            rules:
              - id: stalled
                state: { when: 'session.status == "working"' }
                notify: { title: "{{ session.name }} stalled", group_wait: 30s }
            """
        var h = try EvaluatorHarness(yaml)
        h.event(.userPrompt, "s1")
        h.event(.userPrompt, "s2")
        #expect(h.output.filter { $0.1.kind == .firing }.map(\.1.suppressedBecause) == ["group_wait", "group_wait"])
        h.advance(to: 10)
        h.evaluator.addSilence(
            Silence(id: "m", matchers: [.init(name: "session", op: .equal, value: "s2")], startsAt: h.wall, endsAt: h.wall + 50))
        h.advance(to: 30)
        #expect(h.sent == ["30 stalled firing"])
        #expect(h.notifications.last?.notification?.title == "agent-s1 stalled")
        h.advance(to: 60)
        h.advance(to: 90)  // the silence ended at 60: s2 goes out after its own group_wait
        #expect(h.sent == ["30 stalled firing", "90 stalled firing"])
        #expect(h.notifications.last?.notification?.title == "agent-s2 stalled")
    }

    @Test("group_wait: no batching across rules; each rule's batch has its own deadline")
    func groupWaitPerRule() throws {
        var h = try EvaluatorHarness(Self.finished)
        h.event(.apiError, "api")
        h.advance(to: 2)
        h.event(.processExit, "web", facts: EventFacts(exitCode: 1))
        h.advance(to: 3)
        h.event(.apiError, "docs")
        h.advance(to: 20)
        #expect(h.sent == ["10 finished firing", "12 failed firing"])
        #expect(h.notifications.map { $0.notification!.count } == [2, 1])
        #expect(h.notifications.last?.notification?.title == "agent-web failed")
    }

    @Test("group_wait: a state alert that resolves within group_wait sends nothing (as Alertmanager)")
    func groupWaitResolvedMeanwhile() throws {
        let yaml = """
            version: 1
            rules:
              - id: stalled
                state: { when: 'session.status == "working"' }
                for: 60s
                notify: { title: "{{ session.name }} stalled", group_wait: 30s }
            """
        var h = try EvaluatorHarness(yaml)
        h.event(.userPrompt)
        h.advance(to: 70)
        #expect(h.output.contains { $0.1.kind == .firing && $0.1.suppressedBecause == "group_wait" })
        h.event(.turnFinished)
        h.advance(to: 200)
        #expect(h.sent.isEmpty)
    }

    @Test("quiet hours: reminders are held once per repeat_interval, not once per tick, and summarised")
    func quietHoursReminders() throws {
        let yaml = """
            version: 1
            rules:
              - id: waiting
                state: { when: 'session.status == "working"' }
                notify:
                  title: "{{ session.name }} waiting"
                  repeat_interval: 10m
                  cooldown: 1m
                  quiet_hours: { start: "23:00", end: "00:00", timezone: UTC }
            """
        var h = try EvaluatorHarness(yaml)
        h.wall = Self.date("2026-11-26T22:55:00Z")
        h.event(.userPrompt)
        #expect(h.sent == ["0 waiting firing"])
        h.advance(to: 3900)  // 00:00 at 3900
        #expect(h.evaluator.suppressedNotifications["waiting"] == 6)  // 23:05, 23:15 … 23:55
        #expect(h.sent == ["0 waiting firing", "3900 waiting reminder"])
        #expect(h.notifications.last?.notification?.title == "While you were away: agent-s1 waiting")
        h.advance(to: 3900 + 599)
        #expect(h.sent.count == 2)
        h.advance(to: 3900 + 600)
        #expect(h.sent == ["0 waiting firing", "3900 waiting reminder", "4500 waiting reminder"])
    }

    @Test("rules check: quiet_hours shape and group_wait are validated with positions; no 'not implemented' warning")
    func check() {
        let yaml = """
            version: 1
            rules:
              - id: a
                event: { kind: api_error }
                notify:
                  title: x
                  group_wait: 10s
                  quiet_hours: { start: "25:00", end: "07:00", timezone: Mars/Olympus, days: [mon, funday] }
              - id: b
                event: { kind: api_error }
                notify:
                  title: x
                  group_wait: 2h
                  quiet_hours: sometimes
              - id: c
                event: { kind: api_error }
                notify:
                  title: x
                  quiet_hours: { start: "07:00", end: "07:00", when: never }
            """
        let problems = RuleFileParser.parse(yaml, file: "q.yaml").diagnostics.map(\.summary)
        #expect(problems.count == 7, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("q.yaml:8:29: error[E105]") && $0.contains("invalid time '25:00'") })
        #expect(problems.contains { $0.hasPrefix("q.yaml:8:62: error[E104]") && $0.contains("unknown time zone 'Mars/Olympus'") })
        #expect(problems.contains { $0.hasPrefix("q.yaml:8:88: error[E104]") && $0.contains("unknown day 'funday'") })
        #expect(problems.contains { $0.hasPrefix("q.yaml:13:19: error[E105]") && $0.contains("group_wait must be at most 1h") })
        #expect(problems.contains { $0.hasPrefix("q.yaml:14:20: error[E104]") && $0.contains("quiet_hours is respect, ignore or a mapping") })
        #expect(problems.contains { $0.hasPrefix("q.yaml:19:52: error[E110]") && $0.contains("unknown key 'when' in quiet_hours") })
        #expect(problems.contains { $0.hasPrefix("q.yaml:19:43: error[E105]") && $0.contains("start and end are the same time") })
        #expect(!problems.contains { $0.contains("W901") })

        let good = RuleFileParser.parse(
            "version: 1\nrules:\n  - id: a\n    event: { kind: api_error }\n    notify: { title: x, group_wait: 10s, quiet_hours: { start: \"22:00\", end: \"24:00\", days: [\"mon:fri\"] } }\n",
            file: "g.yaml")
        #expect(good.diagnostics.isEmpty, "\(good.diagnostics.map(\.summary))")
        #expect(good.rules.first?.notify.quietHours?.days == [2, 3, 4, 5, 6])
        #expect(good.rules.first?.notify.quietHours?.end == 1440)
    }
}
