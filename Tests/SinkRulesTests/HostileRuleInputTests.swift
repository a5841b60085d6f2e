import Foundation
import SinkCore
import Testing

@testable import SinkRules

/// Regression tests for rule-file inputs that trapped the parser (an overflow found reviewing the
/// conversions after the OTLP fuzzer's find; scripts/fuzz.sh covers the parser from now on).
@Suite("Hostile rule input")
struct HostileRuleInputTests {
    @Test("a duration whose parts overflow when added is invalid, not a trap")
    func durationSumOverflow() {
        #expect(DurationText.parse("292471208y") != nil)
        #expect(DurationText.parse("292471208y52w") == nil)
        #expect(DurationText.parse("106751991167d7h") != nil)
        #expect(DurationText.parse("106751991167d8h") == nil)
        #expect(DurationText.parse("9223372036854775807ms") == .milliseconds(Int64.max))
    }

    @Test("a rule with such a duration gets a diagnostic")
    func ruleFileWithOverflowingDuration() {
        let text = """
            version: 1
            rules:
              - id: stalled
                name: Stalled
                severity: warning
                absence:
                  kind: [tool_result]
                  for: 292471208y52w
            """
        let (rules, diagnostics) = RuleFileParser.parse(text, file: "overflow.yaml")
        #expect(rules.isEmpty)
        #expect(!diagnostics.isEmpty)
    }

    @Test("formatting an absurd number of seconds does not trap")
    func formatHugeSeconds() {
        #expect(!DurationText.format(seconds: 1e300).isEmpty)
        #expect(!DurationText.format(seconds: -1e300).isEmpty)
        #expect(DurationText.format(seconds: .infinity) == "")
        #expect(DurationText.format(seconds: 3723) == "1h02m03s")
    }

    @Test("the rules' session view of saturated token totals (tokens.total adds two of them)")
    func sessionViewOfHugeTotals() {
        var session = Session(id: "s", agent: .claudeCode, firstSeen: Date(timeIntervalSince1970: 1_790_000_000))
        var tally = SessionTally()
        tally.inputTokens = 1e300
        tally.outputTokens = .infinity
        session.tallies[.logs] = tally
        let view = SessionView(session, now: Date(timeIntervalSince1970: 1_790_000_060))
        #expect(view[.tokensTotal] == .int(Int64(2 * SessionCounters.maxCount)))
    }

    @Test("an event claiming 1e300 tokens becomes a rule event (the count stays a double) without trapping")
    func ruleEventOfHugeTokens() {
        let event = SessionEvent(
            sessionID: "s", agent: .claudeCode, kind: .apiRequest, name: "claude_code.api_request", source: .logs,
            time: Date(timeIntervalSince1970: 1_790_000_000), dedupKey: 1,
            facts: EventFacts(inputTokens: 1e300, outputTokens: 1234.9))
        let ruleEvent = RuleEvent(event)
        #expect(ruleEvent.attrs["input_tokens"] == .double(1e300))
        #expect(ruleEvent.attrs["output_tokens"] == .int(1234))
    }
}
