import Foundation
import SinkCore
import Testing

@testable import SinkRules

@Suite("Expression language")
struct ExpressionTests {
    static let epoch = Date(timeIntervalSince1970: 1_790_000_000)

    static func event(_ attrs: [String: AttributeValue], kind: String = "api_error") -> RuleEvent {
        RuleEvent(sessionID: "s1", kind: kind, name: "codex.api_request", agent: "codex", source: "logs", time: epoch, attrs: attrs)
    }

    static func context(_ attrs: [String: AttributeValue] = [:], value: Double? = nil) -> ExprContext {
        var session = Session(id: "s1", agent: .codex, firstSeen: epoch)
        session.name = "web"
        return ExprContext(session: SessionView(session, now: epoch.addingTimeInterval(30)), event: event(attrs), value: value)
    }

    static func eval(_ text: String, _ attrs: [String: AttributeValue] = [:], value: Double? = nil) throws -> Truth {
        let scope = ExprScope(event: true, value: true)
        return try Expression.compile(text, scope: scope).truth(in: context(attrs, value: value))
    }

    static func error(_ text: String, scope: ExprScope = ExprScope(event: true, value: false)) -> ExprError? {
        do {
            _ = try Expression.compile(text, scope: scope)
            return nil
        } catch {
            return error
        }
    }

    @Test("three-valued logic: unknown is absorbed by && and || in either order")
    func threeValuedLogic() throws {
        #expect(try Self.eval("false && event.attrs.missing == 1") == .false)
        #expect(try Self.eval("event.attrs.missing == 1 && false") == .false)
        #expect(try Self.eval("true || event.attrs.missing == 1") == .true)
        #expect(try Self.eval("event.attrs.missing == 1 || true") == .true)
        #expect(try Self.eval("true && event.attrs.missing == 1") == .unknown)
        #expect(try Self.eval("!(event.attrs.missing == 1)") == .unknown)
        #expect(try Self.eval("event.attrs.missing == null") == .unknown)
        #expect(try Self.eval("has(event.attrs.missing)") == .false)
        #expect(try Self.eval("has(event.attrs.status_code) && event.attrs.status_code >= 500") == .false)
        #expect(try Self.eval("has(event.attrs.status_code) && event.attrs.status_code >= 500", ["status_code": .int(502)]) == .true)
        #expect(try Self.eval("coalesce(event.attrs.attempt, 1) >= 3") == .false)
        #expect(try Self.eval("coalesce(event.attrs.attempt, 1) >= 3", ["attempt": .int(3)]) == .true)
    }

    @Test("numbers compare across int and double; overflow and division by zero are unknown")
    func numbers() throws {
        #expect(try Self.eval("1 == 1.0") == .true)
        #expect(try Self.eval("2 < 2.5") == .true)
        #expect(try Self.eval("9223372036854775807 + 1 > 0") == .unknown)
        #expect(try Self.eval("1 / 0 == 1") == .unknown)
        #expect(try Self.eval("1.0 / 0.0 == 1.0") == .unknown)
        #expect(try Self.eval("7 % 4 == 3 && 7 / 2 == 3 && -3 < 0") == .true)
        #expect(try Self.eval("event.attrs.code == 500", ["code": .string("500")]) == .true)
        #expect(try Self.eval("event.attrs.ok == false", ["ok": .string("false")]) == .true)
        #expect(try Self.eval("value > 5", value: 6) == .true)
        #expect(try Self.eval("value > 5") == .unknown)
    }

    @Test("strings, lists, maps and functions")
    func functions() throws {
        #expect(try Self.eval("session.name == 'web' && session.agent == \"codex\"") == .true)
        #expect(try Self.eval("event.attrs.status_code in [401, 403]", ["status_code": .int(403)]) == .true)
        #expect(try Self.eval("event.attrs.status_code in [401, 403]", ["status_code": .int(500)]) == .false)
        #expect(try Self.eval("'http.status_code' in event.attrs", ["http.status_code": .int(1)]) == .true)
        #expect(try Self.eval("event.attrs[\"http.status_code\"] == 1", ["http.status_code": .int(1)]) == .true)
        #expect(try Self.eval("event.name.startsWith('codex.') && event.name.endsWith('request') && event.name.contains('api')") == .true)
        #expect(try Self.eval("event.name.matches('^codex\\\\.api_.*$')") == .true)
        #expect(try Self.eval("'ABC'.lowerAscii() == 'abc' && size('abc') == 3 && int('42') == 42 && double(1) == 1.0 && string(5) == '5'") == .true)
        #expect(try Self.eval("session.status_age >= 30 && session.age < 31") == .true)
        #expect(try Self.eval("session.model == 'x'") == .unknown)
    }

    @Test("load-time errors carry the offset of the offending text")
    func errors() {
        let unknown = Self.error("sesion.status == \"working\"")
        #expect(unknown?.code == "E204")
        #expect(unknown?.offset == 0)
        #expect(unknown?.message == "unknown name 'sesion'; did you mean 'session'?")
        #expect(Self.error("session.stauts == 'x'")?.message == "unknown field 'session.stauts'; did you mean 'session.status'?")
        #expect(Self.error("session.cost_usd == 'x'")?.code == "E302")
        #expect(Self.error("session.status > 1")?.code == "E302")
        #expect(Self.error("session.cost_usd")?.code == "E301")
        #expect(Self.error("1 < 2 < 3")?.code == "E202")
        #expect(Self.error("a = 1")?.code == "E201")
        let unterminated = Self.error("session.name == 'web")
        #expect(unterminated?.offset == 16)
        #expect(Self.error("event.kind == 'x'", scope: .sessionOnly)?.code == "E204")
        #expect(Self.error("value > 1", scope: .withEvent)?.code == "E204")
        #expect(Self.error("event.name.matches('(')")?.code == "E206")
        #expect(Self.error("frobnicate(1)")?.code == "E205")
        let warned = try? Expression.compile("!session.name == 'x'", scope: .sessionOnly)
        #expect(warned == nil)  // bool == string is a type error
        let warning = try? Expression.compile("!has(session.model) == true", scope: .sessionOnly)
        #expect(warning?.warnings.first?.code == "W302")
    }

    @Test("limits: depth, nodes, text size, list items, regex length")
    func limits() {
        let deep = String(repeating: "(", count: 33) + "true" + String(repeating: ")", count: 33)
        #expect(Self.error(deep)?.code == "E403")
        let many = Array(repeating: "1 + ", count: 130).joined() + "1 > 0"
        #expect(Self.error(many)?.code == "E402")
        #expect(Self.error("'" + String(repeating: "a", count: 2050) + "' == 'a'")?.code == "E401")
        let list = "1 in [" + (0..<65).map(String.init).joined(separator: ",") + "]"
        #expect(Self.error(list)?.code == "E404")
        #expect(Self.error("event.name.matches('" + String(repeating: "a", count: 257) + "')")?.code == "E405")
        #expect(Self.error("1 in [" + (0..<64).map(String.init).joined(separator: ",") + "]") == nil)
    }
}

@Suite("RuleEvent: the facts laid over the attributes")
struct RuleEventOverlayTests {
    @Test("one attribute looked up equals the same key of the whole map, for every fact and for plain attributes")
    func attributeMatchesAttrs() {
        let facts = EventFacts(
            model: "m", toolName: "Bash", success: false, durationMs: 12.5, costUSD: 0.25, inputTokens: 1e300, outputTokens: 42,
            error: "boom", statusCode: 529, exitCode: 1, exitSignal: 9,
            metric: MetricSample(meaning: .costUSD, temporality: .delta, value: 3, seriesKey: 1), stopRequested: true)
        let event = SessionEvent(
            sessionID: "s1", agent: .claudeCode, kind: .toolResult, name: "claude_code.tool_result", source: .logs,
            time: Date(timeIntervalSince1970: 1), dedupKey: 1, facts: facts,
            attributes: ["tool_name": .string("Edit"), "custom": .int(3), "model": .string("attribute model")])
        let ruleEvent = RuleEvent(event)
        let attrs = ruleEvent.attrs
        for key in RuleEvent.factKeys + ["custom", "missing"] {
            #expect(ruleEvent.attribute(key) == attrs[key], "\(key)")
        }
        #expect(attrs["tool_name"] == .string("Bash"))
        #expect(attrs["input_tokens"] == .double(1e300))
        #expect(attrs["output_tokens"] == .int(42))
        #expect(attrs["value"] == .double(3))
        #expect(attrs["custom"] == .int(3))
        #expect(attrs.count == RuleEvent.factKeys.count + 1)
    }
}
