import Foundation
import SinkCore
import Testing

@Suite("Session status machine")
struct SessionStatusMachineTests {
    let start = Date.testEpoch

    func event(_ kind: EventKind, at offset: TimeInterval, _ facts: EventFacts = EventFacts()) -> SessionEvent {
        SessionEvent(
            sessionID: "s", agent: .claudeCode, kind: kind, name: kind.rawValue, source: .hooks,
            time: start.addingTimeInterval(offset), dedupKey: UInt64(offset * 1000), facts: facts)
    }

    @Test("starting → working → waiting → working → idle (turn finished) → ended")
    func lifecycle() {
        var machine = SessionStatusMachine(firstSeen: start)
        #expect(machine.status == .starting)
        let changed1 = machine.apply(event(.userPrompt, at: 1), receivedAt: start.addingTimeInterval(1))
        #expect(changed1)
        #expect(machine.status == .working)
        let changed2 = machine.apply(event(.permissionRequest, at: 2), receivedAt: start.addingTimeInterval(2))
        #expect(changed2)
        #expect(machine.status == .waiting)
        #expect(machine.reason == "waiting for approval")
        let changed3 = machine.apply(event(.toolResult, at: 3), receivedAt: start.addingTimeInterval(3))
        #expect(changed3)
        #expect(machine.status == .working)
        let changed4 = machine.apply(event(.turnFinished, at: 4), receivedAt: start.addingTimeInterval(4))
        #expect(changed4)
        #expect(machine.status == .idle)
        let changed5 = machine.apply(event(.sessionEnd, at: 5), receivedAt: start.addingTimeInterval(5))
        #expect(changed5)
        #expect(machine.status == .ended)
        #expect(machine.since == start.addingTimeInterval(5))
    }

    @Test("telemetry exported late does not undo a later status change")
    func lateTelemetry() {
        var machine = SessionStatusMachine(firstSeen: start)
        machine.apply(event(.userPrompt, at: 1), receivedAt: start.addingTimeInterval(1))
        machine.apply(event(.turnFinished, at: 10), receivedAt: start.addingTimeInterval(10))
        // A tool result from second 8, exported in a batch that arrives at second 12.
        let changed6 = machine.apply(event(.toolResult, at: 8), receivedAt: start.addingTimeInterval(12))
        #expect(!changed6)
        #expect(machine.status == .idle)
    }

    @Test("process exit: status 0 ends, non-zero or a signal crashes")
    func processExit() {
        var clean = SessionStatusMachine(firstSeen: start)
        clean.apply(event(.processExit, at: 1, EventFacts(exitCode: 0)), receivedAt: start)
        #expect(clean.status == .ended)
        var failed = SessionStatusMachine(firstSeen: start)
        failed.apply(event(.processExit, at: 1, EventFacts(exitCode: 2)), receivedAt: start)
        #expect(failed.status == .crashed)
        #expect(failed.reason == "exited with status 2")
        var killed = SessionStatusMachine(firstSeen: start)
        killed.apply(event(.processExit, at: 1, EventFacts(exitSignal: 9)), receivedAt: start)
        #expect(killed.status == .crashed)
        var stopped = SessionStatusMachine(firstSeen: start)
        stopped.apply(event(.processExit, at: 1, EventFacts(exitSignal: 15, stopRequested: true)), receivedAt: start)
        #expect(stopped.status == .ended)
        #expect(stopped.reason == "stopped on request (signal 15)")
    }

    @Test("work after an end reopens the session")
    func resume() {
        var machine = SessionStatusMachine(firstSeen: start)
        machine.apply(event(.sessionEnd, at: 1), receivedAt: start)
        machine.apply(event(.userPrompt, at: 2), receivedAt: start)
        #expect(machine.status == .working)
    }

    @Test("metrics neither reopen an ended session nor make it work")
    func metricsDoNotChangeStatus() {
        var machine = SessionStatusMachine(firstSeen: start)
        machine.apply(event(.sessionEnd, at: 1), receivedAt: start)
        let changed7 = machine.apply(event(.metric, at: 2), receivedAt: start.addingTimeInterval(2))
        #expect(!changed7)
        #expect(machine.status == .ended)
    }

    @Test("time: quiet working → idle after idleAfter; silent → ended after endAfter; waiting stays waiting")
    func timeouts() {
        let timeouts = SessionTimeouts(idleAfter: .seconds(300), endAfter: .seconds(3600))
        var machine = SessionStatusMachine(firstSeen: start)
        machine.apply(event(.userPrompt, at: 0), receivedAt: start)
        let changed8 = machine.tick(now: start.addingTimeInterval(299), timeouts: timeouts)
        #expect(!changed8)
        let changed9 = machine.tick(now: start.addingTimeInterval(300), timeouts: timeouts)
        #expect(changed9)
        #expect(machine.status == .idle)
        #expect(machine.reason == "no activity for 5m")
        let changed10 = machine.tick(now: start.addingTimeInterval(3600), timeouts: timeouts)
        #expect(changed10)
        #expect(machine.status == .ended)

        var waiting = SessionStatusMachine(firstSeen: start)
        waiting.apply(event(.permissionRequest, at: 0), receivedAt: start)
        let changed11 = waiting.tick(now: start.addingTimeInterval(1000), timeouts: timeouts)
        #expect(!changed11)
        #expect(waiting.status == .waiting)
    }
}

@Suite("Metric totals")
struct MetricTotalsTests {
    @Test("delta points add up")
    func delta() {
        var totals = MetricTotals()
        totals.add(MetricSample(meaning: .costUSD, temporality: .delta, value: 0.5, seriesKey: 1))
        totals.add(MetricSample(meaning: .costUSD, temporality: .delta, value: 0.25, seriesKey: 1))
        #expect(totals.total(.costUSD) == 0.75)
    }

    @Test("cumulative points restate their series; a new start time is a new series")
    func cumulative() {
        var totals = MetricTotals()
        totals.add(MetricSample(meaning: .inputTokens, temporality: .cumulative, value: 100, seriesKey: 1))
        totals.add(MetricSample(meaning: .inputTokens, temporality: .cumulative, value: 150, seriesKey: 1))
        #expect(totals.total(.inputTokens) == 150)
        totals.add(MetricSample(meaning: .inputTokens, temporality: .cumulative, value: 30, seriesKey: 2))
        #expect(totals.total(.inputTokens) == 180)
    }

    @Test("session counters take the larger of what events and metrics report, never the sum")
    func reconcile() {
        var session = Session(id: "s", agent: .claudeCode, firstSeen: .testEpoch)
        session.apply(
            SessionEvent(
                sessionID: "s", agent: .claudeCode, kind: .apiRequest, name: "claude_code.api_request", source: .logs,
                time: .testEpoch, dedupKey: 1, facts: EventFacts(costUSD: 0.4, inputTokens: 100)),
            receivedAt: .testEpoch)
        session.apply(
            SessionEvent(
                sessionID: "s", agent: .claudeCode, kind: .metric, name: "claude_code.cost.usage", source: .metrics,
                time: .testEpoch, dedupKey: 2,
                facts: EventFacts(metric: MetricSample(meaning: .costUSD, temporality: .delta, value: 0.5, seriesKey: 9))),
            receivedAt: .testEpoch)
        #expect(session.counters.costUSD == 0.5)
        #expect(session.counters.inputTokens == 100)
        #expect(session.counters.apiRequests == 1)
        #expect(session.counters.events == 2)
    }
}
