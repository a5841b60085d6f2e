import Foundation
import SinkCore
import SinkNormalize
import SinkOTLP
import SinkTesting
import SwiftProtobuf
import Testing

@Suite("Normalizer")
struct NormalizerTests {
    @Test("Claude Code events: kinds, facts, drifted names, string-typed numbers and booleans")
    func claudeCodeEvents() throws {
        let events = try Fixture.events("claude-code-logs.json", signal: .logs)
        #expect(events.map(\.kind) == [.userPrompt, .apiRequest, .toolResult, .toolResult, .apiError, .other])
        #expect(events.allSatisfy { $0.agent == .claudeCode && $0.sessionID == "cc-session-1" && $0.source == .logs })
        let api = events[1].facts
        #expect(api.model == "claude-sonnet-5")
        #expect(api.costUSD == 0.0125)
        #expect(api.inputTokens == 1200)
        #expect(api.outputTokens == 350)  // sent as a string
        #expect(api.cacheReadTokens == 8000)
        #expect(api.cacheCreationTokens == 500)
        #expect(events[2].facts.success == false)  // "false" as a string
        #expect(events[2].facts.toolName == "Bash")
        #expect(events[2].facts.durationMs == 125)
        #expect(events[3].facts.toolName == "Edit")  // older attribute name `tool`
        #expect(events[3].facts.success == true)
        #expect(events[4].facts.statusCode == 529)
        #expect(events[4].facts.error == "Overloaded")
        #expect(events[0].time == Date(timeIntervalSince1970: 1_790_000_000))
    }

    @Test("unknown events are kept with their name and attributes; repeated attributes are not stored")
    func unknownEventKept() throws {
        let events = try Fixture.events("claude-code-logs.json", signal: .logs)
        let unknown = try #require(events.last)
        #expect(unknown.name == "claude_code.some_future_event")
        #expect(unknown.kind == .other)
        #expect(unknown.attributes["new_attribute"] == .string(#"["a",2]"#))
        #expect(unknown.attributes["session.id"] == nil)
        #expect(events[0].attributes["prompt_length"] == .string("42"))
    }

    @Test("Codex: conversation.id is the session; usage from sse_event response.completed")
    func codex() throws {
        let events = try Fixture.events("codex-logs.json", signal: .logs)
        #expect(events.allSatisfy { $0.agent == .codex && $0.sessionID == "cx-thread-7" })
        #expect(events.map(\.kind) == [.sessionStart, .userPrompt, .apiRequest, .usage, .toolResult, .apiError])
        #expect(events[0].facts.model == "gpt-5-codex")
        #expect(events[3].facts.inputTokens == 5000)
        #expect(events[3].facts.cacheReadTokens == 4000)
        #expect(events[5].facts.statusCode == 429)
    }

    @Test("Gemini CLI: session.id on the resource; thoughts count as output; conversation_finished ends")
    func gemini() throws {
        let events = try Fixture.events("gemini-cli-logs.json", signal: .logs)
        #expect(events.allSatisfy { $0.agent == .geminiCLI && $0.sessionID == "gm-session-3" })
        #expect(events.map(\.kind) == [.sessionStart, .userPrompt, .apiRequest, .toolResult, .sessionEnd])
        #expect(events[2].facts.outputTokens == 150)
        #expect(events[3].facts.toolName == "read_file")
        #expect(events[3].facts.success == false)
    }

    @Test("GenAI spans: inference and tool spans keyed by gen_ai.conversation.id")
    func genAISpans() throws {
        let events = try Fixture.events("genai-traces.json", signal: .traces)
        #expect(events.map(\.kind) == [.apiRequest, .toolResult])
        #expect(events.allSatisfy { $0.agent == .genAI && $0.sessionID == "conv-42" && $0.source == .traces })
        #expect(events[0].facts.inputTokens == 100)
        #expect(events[0].facts.durationMs == 2000)
        #expect(events[1].facts.success == false)
        #expect(events[1].facts.error == "timeout")
        #expect(events[1].attributes["parent_span_id"] == .string("b7ad6b7169203331"))
    }

    @Test("Claude Code beta spans: llm_request, tool, interaction")
    func claudeSpans() throws {
        let request = OTLPBuilders.traceRequest(
            resource: [("service.name", "claude-code")],
            spans: [
                OTLPBuilders.span("claude_code.llm_request", spanByte: 1, [("session.id", "s"), ("model", "m"), ("input_tokens", 10)]),
                OTLPBuilders.span("claude_code.tool", spanByte: 2, failed: true, [("session.id", "s"), ("tool_name", "Bash")]),
                OTLPBuilders.span("claude_code.interaction", spanByte: 3, [("session.id", "s")]),
            ])
        let events = Normalizer().normalize(.traces(request), receivedAt: .testEpoch).events
        #expect(events.map(\.kind) == [.apiRequest, .toolResult, .turnFinished])
        #expect(events[1].facts.success == false)
    }

    @Test("generic fallback: no session key → one session per service and host, kept")
    func genericFallback() {
        let request = OTLPBuilders.logsRequest(
            resource: [("service.name", "my-script"), ("host.name", "box")], scope: "x",
            records: [{
                var record = OTLPLogRecord()
                record.body.stringValue = "hello world"
                return record
            }()])
        let events = Normalizer().normalize(.logs(request), receivedAt: .testEpoch).events
        #expect(events.count == 1)
        #expect(events[0].agent == .generic)
        #expect(events[0].sessionID == "my-script@box")
        #expect(events[0].name == "log")
        #expect(events[0].attributes["body"] == .string("hello world"))
        #expect(events[0].time == .testEpoch)
    }

    @Test("service.name overridden by the user: the scope and event names still identify Claude Code")
    func overriddenServiceName() {
        let request = OTLPBuilders.logsRequest(
            resource: [("service.name", "claude-code-host")], records: [OTLPBuilders.claudeEvent("user_prompt", session: "s", sequence: 1)])
        let events = Normalizer().normalize(.logs(request), receivedAt: .testEpoch).events
        #expect(events[0].agent == .claudeCode)
    }

    @Test("metrics: Claude Code cost and token counters with their temporality")
    func metrics() {
        let request = OTLPBuilders.metricsRequest(metrics: [
            OTLPBuilders.sumMetric("claude_code.cost.usage", points: [([("session.id", "s"), ("model", "m")], 0.25)]),
            OTLPBuilders.sumMetric(
                "claude_code.token.usage", temporality: .cumulative,
                points: [([("session.id", "s"), ("type", "input")], 1000), ([("session.id", "s"), ("type", "cacheRead")], 50)]),
        ])
        let events = Normalizer().normalize(.metrics(request), receivedAt: .testEpoch).events
        #expect(events.count == 3)
        #expect(events.allSatisfy { $0.kind == .metric && $0.source == .metrics && $0.sessionID == "s" })
        #expect(events[0].facts.metric?.meaning == .costUSD)
        #expect(events[0].facts.metric?.temporality == .delta)
        #expect(events[1].facts.metric?.meaning == .inputTokens)
        #expect(events[1].facts.metric?.temporality == .cumulative)
        #expect(events[2].facts.metric?.meaning == .cacheReadTokens)
    }

    @Test("the same record sent as protobuf and as JSON has the same dedup key; different records differ")
    func dedupKeys() throws {
        let json = try Fixture.request("claude-code-logs.json", signal: .logs)
        let logs = try Fixture.logsMessage("claude-code-logs.json")
        let protobuf = try OTLPRequest(signal: .logs, encoding: .protobuf, body: try logs.serializedData())
        let fromJSON = Normalizer().normalize(json, receivedAt: .testEpoch).events.map(\.dedupKey)
        let fromProtobuf = Normalizer().normalize(protobuf, receivedAt: .testEpoch).events.map(\.dedupKey)
        #expect(fromJSON == fromProtobuf)
        #expect(Set(fromJSON).count == fromJSON.count)
    }

    @Test("invalid ids and value-less data points are rejected, the rest kept")
    func rejections() {
        var bad = OTLPBuilders.claudeEvent("user_prompt", session: "s", sequence: 1)
        bad.traceID = Data([1, 2, 3])
        let request = OTLPBuilders.logsRequest(records: [bad, OTLPBuilders.claudeEvent("user_prompt", session: "s", sequence: 2)])
        let batch = Normalizer().normalize(.logs(request), receivedAt: .testEpoch)
        #expect(batch.events.count == 1)
        #expect(batch.rejected == 1)
        #expect(batch.rejectionReason?.contains("trace_id") == true)

        var metric = OTLPBuilders.sumMetric("x", points: [([], 1)])
        metric.sum.dataPoints[0].value = nil
        let metricBatch = Normalizer().normalize(.metrics(OTLPBuilders.metricsRequest(metrics: [metric])), receivedAt: .testEpoch)
        #expect(metricBatch.rejected == 1)
    }

    @Test("huge attribute values are cut")
    func hugeAttribute() {
        let request = OTLPBuilders.logsRequest(records: [
            OTLPBuilders.claudeEvent("tool_result", session: "s", sequence: 1, [("tool_input", String(repeating: "x", count: 1_000_000))])
        ])
        let event = Normalizer().normalize(.logs(request), receivedAt: .testEpoch).events[0]
        guard case .string(let text) = event.attributes["tool_input"] else { Issue.record("missing"); return }
        #expect(text.utf8.count < 5000)
        #expect(text.hasSuffix("…[truncated]"))
    }

    @Test("hook and process records from the Observatory's own tools")
    func observatoryRecords() {
        func record(_ name: String, _ attributes: [(String, Any)]) -> OTLPLogRecord {
            var record = OTLPLogRecord()
            record.body.stringValue = name
            record.timeUnixNano = 1_790_000_000_000_000_000
            record.attributes = OTLPBuilders.attributes(attributes)
            return record
        }
        let request = OTLPBuilders.logsRequest(
            resource: [("service.name", "observatory")], scope: "observatory",
            records: [
                record("observatory.hook", [("hook.event", "PermissionRequest"), ("hook.agent", "claude-code"), ("session.id", "s"), ("cwd", "/src/app")]),
                record("observatory.hook", [("hook.event", "Notification"), ("notification_type", "permission_prompt"), ("session.id", "s")]),
                record("observatory.hook", [("hook.event", "Stop"), ("session.id", "s")]),
                record("observatory.process", [("process.event", "exit"), ("process.exit_signal", 9), ("observatory.agent.id", "a1")]),
            ])
        let events = Normalizer().normalize(.logs(request), receivedAt: .testEpoch).events
        #expect(events.map(\.kind) == [.permissionRequest, .permissionRequest, .turnFinished, .processExit])
        #expect(events[0].agent == .claudeCode)
        #expect(events[0].source == .hooks)
        #expect(events[0].facts.cwd == "/src/app")
        #expect(events[3].facts.exitSignal == 9)
        #expect(events[3].sessionID == "a1")
    }

    @Test("a wrapped agent's telemetry is keyed by its observatory.agent.id, not the agent's own session id")
    func wrappedAgentSession() {
        var record = OTLPLogRecord()
        record.body.stringValue = "claude_code.user_prompt"
        record.timeUnixNano = 1_790_000_000_000_000_000
        record.attributes = OTLPBuilders.attributes([("event.name", "user_prompt"), ("session.id", "claude-session-9")])
        let request = OTLPBuilders.logsRequest(
            resource: [("service.name", "claude-code"), ("observatory.agent.id", "agent-7"), ("observatory.agent.name", "api")],
            scope: "com.anthropic.claude_code.events", records: [record])
        let events = Normalizer().normalize(.logs(request), receivedAt: .testEpoch).events
        #expect(events.map(\.sessionID) == ["agent-7"])
    }
}
