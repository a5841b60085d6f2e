import Foundation
import SinkCore
import Testing

@testable import SinkRules

/// Drives a ``RuleEvaluator`` on virtual time: events go through the real session model, the clock
/// ticks every second.
struct EvaluatorHarness {
    var evaluator: RuleEvaluator
    var sessions: [String: Session] = [:]
    var now = Duration.zero
    var wall = Date(timeIntervalSince1970: 1_790_000_000)
    var output: [(Duration, AlertEvent)] = []
    private var sequence: Int64 = 0

    init(_ yaml: String, at start: Duration = .zero) throws {
        let (rules, problems) = RuleFileParser.parse(yaml, file: "test.yaml")
        try #require(problems.filter { $0.severity == .error }.isEmpty, "\(problems.map(\.summary))")
        evaluator = RuleEvaluator(rules: RuleSet(rules), at: start)
        now = start
    }

    static func rules(_ yaml: String) -> RuleSet {
        RuleSet(RuleFileParser.parse(yaml, file: "test.yaml").rules)
    }

    var notifications: [AlertEvent] { output.map(\.1).filter { $0.notification != nil } }
    var sent: [String] { output.filter { $0.1.notification != nil }.map { "\(Int($0.0.seconds)) \($0.1.alert.ruleID) \($0.1.kind.rawValue)" } }

    func alert(_ rule: String, _ session: String = "s1") -> AlertSnapshot? {
        evaluator.alerts().first { $0.ruleID == rule && $0.sessionID == session }
    }

    mutating func record(_ events: [AlertEvent]) {
        output += events.map { (now, $0) }
    }

    /// One event for `session`, applied now.
    mutating func event(_ kind: EventKind, _ session: String = "s1", facts: EventFacts = EventFacts(), attributes: [String: AttributeValue] = [:]) {
        var state = sessions[session] ?? {
            var new = Session(id: session, agent: .claudeCode, firstSeen: wall)
            new.name = "agent-\(session)"
            return new
        }()
        let event = SessionEvent(
            sessionID: session, agent: .claudeCode, kind: kind, name: "test.\(kind.rawValue)", source: .logs, time: wall, dedupKey: UInt64(sequence),
            facts: facts, attributes: EventAttributes(attributes))
        state.apply(event, receivedAt: wall)
        sessions[session] = state
        sequence += 1
        record(evaluator.apply(SessionUpdate(events: [StoredEvent(seq: sequence, receivedAt: wall, event: event)], sessions: [state]), at: now, wall: wall))
    }

    /// Several events applied as one commit (one update), the way the tracker hands them over.
    mutating func commit(_ events: [(kind: EventKind, session: String, attributes: [String: AttributeValue])]) {
        var stored: [StoredEvent] = []
        var changed: [String] = []
        for (kind, session, attributes) in events {
            var state = sessions[session] ?? {
                var new = Session(id: session, agent: .claudeCode, firstSeen: wall)
                new.name = "agent-\(session)"
                return new
            }()
            let event = SessionEvent(
                sessionID: session, agent: .claudeCode, kind: kind, name: "test.\(kind.rawValue)", source: .logs, time: wall,
                dedupKey: UInt64(sequence), attributes: EventAttributes(attributes))
            state.apply(event, receivedAt: wall)
            sessions[session] = state
            sequence += 1
            stored.append(StoredEvent(seq: sequence, receivedAt: wall, event: event))
            if !changed.contains(session) { changed.append(session) }
        }
        record(evaluator.apply(SessionUpdate(events: stored, sessions: changed.map { sessions[$0]! }), at: now, wall: wall))
    }

    /// Advances both clocks, ticking every second on the way.
    mutating func advance(to seconds: Int, wallJump: TimeInterval = 0) {
        wall += wallJump
        while now < .seconds(seconds) {
            now += .seconds(1)
            wall += 1
            record(evaluator.tick(at: now, wall: wall))
        }
    }

    mutating func reload(_ yaml: String) {
        record(evaluator.load(Self.rules(yaml), at: now, wall: wall))
    }
}

@Suite("Rule evaluator")
struct RuleEvaluatorTests {
    static let stall = """
        version: 1
        rules:
          - id: stalled
            absence:
              kind: [tool_result, api_request, user_prompt]
              for: 120s
              while: 'session.status == "working"'
            notify: { title: "{{ session.name }} stalled", send_resolved: true }
        """

    @Test("absence: fires `for` after the last progress; an event resolves it")
    func absence() throws {
        var h = try EvaluatorHarness(Self.stall)
        h.event(.userPrompt)
        h.advance(to: 119)
        #expect(h.sent.isEmpty)
        h.advance(to: 120)
        #expect(h.sent == ["120 stalled firing"])
        #expect(h.notifications.first?.notification?.title == "agent-s1 stalled")
        h.advance(to: 130)
        h.event(.toolResult)
        #expect(h.sent == ["120 stalled firing", "130 stalled resolved"])
    }

    @Test("absence: a rule loaded while a session has been silent fires `for` after the load, not at once")
    func absenceAfterLoad() throws {
        var h = try EvaluatorHarness("version: 1\nrules:\n  - id: other\n    event: { kind: api_error }\n    notify: { title: x }\n")
        h.event(.userPrompt)
        h.advance(to: 600)
        h.reload(Self.stall)
        h.advance(to: 601)
        #expect(h.sent.isEmpty)
        h.advance(to: 719)
        #expect(h.sent.isEmpty)
        h.advance(to: 720)
        #expect(h.sent == ["720 stalled firing"])
    }

    @Test("clocks: a wall-clock jump of an hour or a two-hour sleep (monotonic time stands still) fires nothing")
    func clockJumps() throws {
        var h = try EvaluatorHarness(Self.stall)
        h.event(.userPrompt)
        h.advance(to: 10, wallJump: 3600)
        h.advance(to: 20, wallJump: -3600)
        // Asleep: the suspending clock does not move while the wall clock moves 2h.
        h.wall += 7200
        h.record(h.evaluator.tick(at: h.now, wall: h.wall))
        #expect(h.sent.isEmpty)
        h.advance(to: 120)
        #expect(h.sent == ["120 stalled firing"])
    }

    @Test("session ends while pending → dropped silently; while firing → resolved `session_ended` without a push")
    func sessionEnds() throws {
        let yaml = """
            version: 1
            rules:
              - id: costly
                state: { when: 'session.cost_usd > 1.0' }
                for: 60s
                notify: { title: costly }
            """
        var h = try EvaluatorHarness(yaml)
        h.event(.apiRequest, facts: EventFacts(costUSD: 2))
        #expect(h.alert("costly")?.state == "pending")
        h.advance(to: 30)
        h.event(.sessionEnd)
        h.advance(to: 120)
        #expect(h.sent.isEmpty)
        #expect(h.alert("costly") == nil)

        var firing = try EvaluatorHarness(Self.stall)
        firing.event(.userPrompt)
        firing.advance(to: 125)
        firing.event(.processExit, facts: EventFacts(exitCode: 1))
        #expect(firing.sent == ["120 stalled firing"])
        #expect(firing.alert("stalled")?.state == "resolved")
        #expect(firing.alert("stalled")?.resolveReason == "session_ended")
    }

    @Test("event rule: ten matches in a minute → one push with count 10; resolves resolve_after after the last")
    func eventRule() throws {
        let yaml = """
            version: 1
            rules:
              - id: api-error
                event: { kind: api_error, resolve_after: 10m }
                notify: { title: "{{ alert.count }} errors", send_resolved: true }
            """
        var h = try EvaluatorHarness(yaml)
        for second in stride(from: 0, to: 60, by: 6) {
            h.advance(to: second)
            h.event(.apiError)
        }
        #expect(h.sent == ["0 api-error firing"])
        #expect(h.alert("api-error")?.count == 10)
        h.advance(to: 54 + 599)
        #expect(h.alert("api-error")?.state == "firing")
        h.advance(to: 54 + 600)
        #expect(h.sent == ["0 api-error firing", "654 api-error resolved"])
    }

    @Test("cooldown: firing → resolved → firing within the cooldown suppresses the second push, counted")
    func cooldown() throws {
        let yaml = """
            version: 1
            rules:
              - id: burst
                event: { kind: api_error, resolve_after: 10s }
                notify: { title: burst, cooldown: 5m }
            """
        var h = try EvaluatorHarness(yaml)
        h.event(.apiError)
        h.advance(to: 20)
        h.event(.apiError)
        #expect(h.sent == ["0 burst firing"])
        #expect(h.output.last?.1.suppressedBecause == "cooldown")
        #expect(h.evaluator.suppressedNotifications["burst"] == 1)
        h.advance(to: 400)
        h.event(.apiError)
        #expect(h.sent == ["0 burst firing", "400 burst firing"])
        #expect(h.notifications.last?.notification?.suppressedSinceLast == 1)
    }

    @Test("ratio below min_events is unknown: no firing")
    func ratioMinEvents() throws {
        let yaml = """
            version: 1
            rules:
              - id: failing
                window:
                  kind: tool_result
                  where: 'event.attrs.success == false'
                  denominator: { kind: tool_result }
                  over: 10m
                  agg: ratio
                  min_events: 10
                  condition: 'value >= 0.5'
                notify: { title: "{{ value | percent }} failing" }
            """
        var h = try EvaluatorHarness(yaml)
        for _ in 0..<9 { h.event(.toolResult, facts: EventFacts(success: false)) }
        h.advance(to: 5)
        #expect(h.sent.isEmpty)
        h.event(.toolResult, facts: EventFacts(success: true))
        #expect(h.sent == ["5 failing firing"])
        #expect(h.notifications.first?.notification?.title == "90% failing")
    }

    @Test("reload: a title-only edit keeps a firing alert without a push; a trigger change ends it silently; removal ends it `rule_removed`")
    func reload() throws {
        var h = try EvaluatorHarness(Self.stall)
        h.event(.userPrompt)
        h.advance(to: 120)
        #expect(h.sent == ["120 stalled firing"])
        h.reload(Self.stall.replacingOccurrences(of: "{{ session.name }} stalled", with: "{{ session.name }} is stuck"))
        h.advance(to: 130)
        #expect(h.sent == ["120 stalled firing"])
        #expect(h.alert("stalled")?.state == "firing")
        #expect(h.alert("stalled")?.episode == 1)

        h.reload("version: 1\nrules:\n  - id: other\n    event: { kind: api_error }\n    notify: { title: x }\n")
        #expect(h.alert("stalled") == nil)
        #expect(h.output.last?.1.alert.resolveReason == "rule_removed")
        #expect(h.output.last?.1.notification == nil)
        h.reload(Self.stall)
        h.advance(to: 200)
        #expect(h.alert("stalled") == nil)
        #expect(h.sent == ["120 stalled firing"])
    }

    @Test("reload: `for` raised while firing → back to pending silently; lowered → a pending instance that qualifies fires at the reload")
    func reloadTiming() throws {
        let yaml = { (duration: String) in
            """
            version: 1
            rules:
              - id: costly
                state: { when: 'session.cost_usd > 1.0' }
                for: \(duration)
                notify: { title: costly, send_resolved: true }
            """
        }
        var h = try EvaluatorHarness(yaml("15s"))
        h.event(.apiRequest, facts: EventFacts(costUSD: 2))
        h.advance(to: 40)
        #expect(h.sent == ["15 costly firing"])
        h.reload(yaml("1h"))
        h.advance(to: 41)
        #expect(h.alert("costly")?.state == "pending")
        #expect(h.sent == ["15 costly firing"])
        h.advance(to: 3600)
        #expect(h.sent == ["15 costly firing", "3600 costly firing"])
        h.reload(yaml("1h"))

        var lowered = try EvaluatorHarness(yaml("1h"))
        lowered.event(.apiRequest, facts: EventFacts(costUSD: 2))
        lowered.advance(to: 100)
        lowered.reload(yaml("30s"))
        lowered.advance(to: 101)
        #expect(lowered.sent == ["100 costly firing"])
    }

    @Test("silence: no push while silenced; when it expires and the alert still fires unnotified, the push goes out at once")
    func silenceExpiry() throws {
        var h = try EvaluatorHarness(Self.stall)
        h.evaluator.addSilence(
            Silence(id: "s", matchers: [.init(name: "rule", op: .equal, value: "stalled")], startsAt: h.wall, endsAt: h.wall + 200))
        h.event(.userPrompt)
        h.advance(to: 150)
        #expect(h.sent.isEmpty)
        #expect(h.alert("stalled")?.silenced == true)
        h.advance(to: 200)
        #expect(h.sent == ["200 stalled firing"])
    }

    @Test("acknowledgement stops reminders, keeps the state")
    func acknowledge() throws {
        let yaml = """
            version: 1
            rules:
              - id: waiting
                state: { when: 'session.status == "waiting"' }
                notify: { title: waiting, repeat_interval: 10m, cooldown: 1m }
            """
        var h = try EvaluatorHarness(yaml)
        h.event(.permissionRequest)
        h.advance(to: 600)
        #expect(h.sent == ["0 waiting firing", "600 waiting reminder"])
        let acknowledged = h.evaluator.acknowledge(alertID: "waiting|s1")
        #expect(acknowledged)
        h.advance(to: 1800)
        #expect(h.sent == ["0 waiting firing", "600 waiting reminder"])
        #expect(h.alert("waiting")?.state == "firing")
        #expect(h.alert("waiting")?.acknowledged == true)
    }

    @Test("inhibition: a firing inhibitor mutes the push; a crash after a stall suppresses the stall's resolved push")
    func inhibition() throws {
        let yaml = Self.stall + """

              - id: crashed
                event: { kind: process_exit, where: 'has(event.attrs.exit_code) && event.attrs.exit_code != 0' }
                notify: { title: crashed }
            """
        let inhibited = yaml.replacingOccurrences(of: "notify: { title: \"{{ session.name }} stalled\"", with: "inhibited_by: [crashed]\n    notify: { title: \"{{ session.name }} stalled\"")
        var h = try EvaluatorHarness(inhibited)
        h.event(.userPrompt)
        h.advance(to: 120)
        h.event(.processExit, facts: EventFacts(exitCode: 1))
        #expect(h.sent == ["120 stalled firing", "120 crashed firing"])
        #expect(h.alert("stalled")?.state == "resolved")
    }

    @Test("shadow rules are evaluated and visible but never notify; unknown evaluations are counted")
    func shadowAndUnknown() throws {
        let yaml = """
            version: 1
            rules:
              - id: shadowed
                mode: shadow
                event: { kind: api_error, where: 'event.attrs.status_code >= 500' }
                notify: { title: x }
            """
        var h = try EvaluatorHarness(yaml)
        h.event(.apiError)
        h.event(.apiError, facts: EventFacts(statusCode: 503))
        #expect(h.sent.isEmpty)
        #expect(h.alert("shadowed")?.state == "firing")
        #expect(h.alert("shadowed")?.shadow == true)
        #expect(h.evaluator.unknownEvaluations["shadowed"] == 1)
    }

    @Test("restore: a firing alert survives a restart without a second push; older than the outage tolerance it is dropped")
    func restore() throws {
        var h = try EvaluatorHarness(Self.stall)
        h.event(.userPrompt)
        h.advance(to: 130)
        let saved = h.evaluator.persistedAlerts()
        #expect(saved.count == 1)

        var restarted = try EvaluatorHarness(Self.stall, at: .seconds(5))
        restarted.wall = h.wall + 10
        restarted.evaluator.restore(saved, sessions: Array(h.sessions.values), at: restarted.now, wall: restarted.wall)
        #expect(restarted.alert("stalled")?.state == "firing")
        restarted.advance(to: 400)
        #expect(restarted.sent.isEmpty)
        #expect(restarted.alert("stalled")?.state == "firing")

        var late = try EvaluatorHarness(Self.stall)
        late.wall = h.wall + 7200
        late.evaluator.restore(saved, sessions: [], at: .zero, wall: late.wall)
        #expect(late.evaluator.alerts().isEmpty)
    }

    @Test("two sessions with the same name are separate instances")
    func instancesPerSession() throws {
        var h = try EvaluatorHarness(Self.stall)
        h.event(.userPrompt, "a")
        h.event(.userPrompt, "b")
        h.advance(to: 120)
        #expect(h.sent == ["120 stalled firing", "120 stalled firing"])
        #expect(Set(h.notifications.compactMap(\.alert.sessionID)) == ["a", "b"])
    }
}

@Suite("Rule evaluator: flapping")
struct FlappingTests {
    @Test("an alert toggling every 30s for 10 min pushes a bounded number of times, then once more when stable")
    func flapping() throws {
        let yaml = """
            version: 1
            rules:
              - id: flappy
                state: { when: 'session.status == "waiting"' }
                notify: { title: flappy, cooldown: 0s }
            """
        var h = try EvaluatorHarness(yaml)
        for step in 0..<20 {
            h.advance(to: step * 30)
            h.event(step.isMultiple(of: 2) ? .permissionRequest : .toolDecision)
        }
        // Stays waiting from here on.
        h.advance(to: 19 * 30)
        h.event(.permissionRequest)
        let duringFlapping = h.sent.count
        #expect(duringFlapping <= 6)
        #expect(h.evaluator.suppressedNotifications["flappy", default: 0] > 0)
        h.advance(to: 19 * 30 + 15 * 60 + 1)
        #expect(h.sent.count == duringFlapping + 1)
        #expect(h.sent.last?.hasSuffix("flappy firing") == true)
    }

    @Test("absence without where: a commit of many events ends as if each event came alone (only the last per session counts)")
    func absenceLastMatchPerCommit() throws {
        let yaml = """
            version: 1
            rules:
              - id: quiet
                absence:
                  kind: [tool_result, user_prompt]
                  for: 120s
                notify: { title: "{{ session.name }} quiet after {{ event.attrs.marker }}", send_resolved: true }
            """
        let kinds: [EventKind] = [.toolResult, .userPrompt, .apiRequest, .toolDecision]
        var events: [(kind: EventKind, session: String, attributes: [String: AttributeValue])] = []
        for index in 0..<300 {
            // A scrambled but fixed order of kinds and sessions.
            let kind = kinds[(index * 7919 + index / 3) % kinds.count]
            let session = "s\((index * 104_729 + index / 7) % 5)"
            events.append((kind, session, ["marker": .string("m\(index)")]))
        }
        var oneByOne = try EvaluatorHarness(yaml)
        var together = try EvaluatorHarness(yaml)
        oneByOne.advance(to: 10)
        together.advance(to: 10)
        for event in events { oneByOne.commit([event]) }
        together.commit(events)
        oneByOne.advance(to: 200)
        together.advance(to: 200)

        #expect(together.sent.count == 5)
        #expect(together.sent == oneByOne.sent)
        let titlesTogether: [String] = together.notifications.compactMap { $0.notification?.title }.sorted()
        let titlesOneByOne: [String] = oneByOne.notifications.compactMap { $0.notification?.title }.sorted()
        #expect(titlesTogether == titlesOneByOne)
        for session in (0..<5).map({ "s\($0)" }) {
            let last = events.lastIndex { $0.session == session && ($0.kind == .toolResult || $0.kind == .userPrompt) }!
            #expect(titlesTogether.contains("agent-\(session) quiet after m\(last)"))
        }
    }
}
