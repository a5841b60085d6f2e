import ObservatoryControl
import ObservatoryTools
import Testing

@Suite("Hook payloads → records")
struct HookPayloadTests {
    @Test("every fixture maps to a record with its event, agent and session")
    func everyFixture() throws {
        let names = try HookFixtures.names()
        #expect(names.count >= 16)
        for name in names {
            let codex = name.hasPrefix("codex-")
            let payload = try HookFixtures.payload(name)
            let record = HookPayload.record(payload: payload, agent: codex ? .codex : .claudeCode, timeUnixNano: 42)
            #expect(record.timeUnixNano == 42)
            #expect(record.string("hook.agent") == (codex ? "codex" : "claude-code"))
            let event = codex ? payload["type"]?.stringValue : payload["hook_event_name"]?.stringValue
            #expect(record.string("hook.event") == event, "\(name)")
            let session = codex ? payload["thread-id"]?.stringValue : payload["session_id"]?.stringValue
            #expect(record.string("session.id") == session, "\(name)")
            #expect(record.string("cwd") == "/home/user/demo", "\(name)")
            #expect(record.attributes.allSatisfy { $0.0 != "session_id" && $0.0 != "hook_event_name" })
        }
    }

    @Test("conversation text is never sent, only its length")
    func noConversationText() throws {
        let prompt = HookPayload.record(payload: try HookFixtures.payload("claude-UserPromptSubmit"), agent: .claudeCode, timeUnixNano: 1)
        #expect(prompt["prompt"] == nil)
        #expect(prompt["prompt_length"] == .int(57))
        let stop = HookPayload.record(payload: try HookFixtures.payload("claude-Stop"), agent: .claudeCode, timeUnixNano: 1)
        #expect(stop["last_assistant_message"] == nil)
        #expect(stop["stop_hook_active"] == .bool(false))
        let codex = HookPayload.record(payload: try HookFixtures.payload("codex-agent-turn-complete"), agent: .codex, timeUnixNano: 1)
        #expect(codex["input-messages"] == nil && codex["input-messages_count"] == .int(1))
        #expect(codex["last-assistant-message"] == nil && codex["last-assistant-message_length"] != nil)
        #expect(codex["turn.id"] == .string("12345"))
        let text = codex.otlpJSON.compactText + prompt.otlpJSON.compactText
        #expect(!text.contains("Rename") && !text.contains("secret"))
    }

    @Test("nested objects are left out, scalars kept, long strings cut")
    func shapes() throws {
        let pre = HookPayload.record(payload: try HookFixtures.payload("claude-PreToolUse"), agent: .claudeCode, timeUnixNano: 1)
        #expect(pre["tool_input"] == nil)
        #expect(pre.string("tool_name") == "Bash")
        let future = HookPayload.record(payload: try HookFixtures.payload("claude-FutureEvent"), agent: .claudeCode, timeUnixNano: 1)
        #expect(future.string("hook.event") == "TeammateIdle")
        #expect(future["count"] == .int(3))
        #expect(future["some_new_field"] == nil)
        let long = HookPayload.record(
            payload: .object([("hook_event_name", .string("Notification")), ("message", .string(String(repeating: "é", count: 1000)))]),
            agent: .claudeCode, timeUnixNano: 1)
        let message = try #require(long.string("message"))
        #expect(message.utf8.count <= HookRecord.maxValueLength)
        #expect(message.hasSuffix("…"))
    }

    @Test("an unreadable payload still gives a record")
    func unreadable() {
        let record = HookPayload.record(payload: nil, agent: .claudeCode, timeUnixNano: 1)
        #expect(record.string("hook.event") == "unknown")
        #expect(record.string("session.id") == nil)
    }

    @Test("OTLP/JSON: body, time as string, typed values, and back")
    func otlpJSON() throws {
        let record = HookRecord(timeUnixNano: 1_795_000_000_123_456_789, attributes: [
            ("hook.event", .string("Stop")), ("n", .int(-3)), ("b", .bool(true)), ("d", .double(0.5)),
        ])
        let json = record.otlpJSON
        #expect(json["timeUnixNano"] == .string("1795000000123456789"))
        #expect(json["body"]?["stringValue"] == .string("observatory.hook"))
        #expect(HookRecord(otlpJSON: json) == record)
        let body = HookRecord.exportRequestBody(encodedRecords: [json.compactText, json.compactText])
        let request = try JSONValue.parse(body).value
        let logs = request["resourceLogs"]?.arrayValue?.first?["scopeLogs"]?.arrayValue?.first?["logRecords"]?.arrayValue
        #expect(logs?.count == 2)
    }
}
