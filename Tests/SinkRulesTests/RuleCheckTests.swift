import Foundation
import Testing

@testable import SinkRules

/// `rules check` against good and bad fixture files: exact `file:line:col` messages, every problem
/// of a file reported, positions inside folded block scalars and quoted strings.
@Suite("rules check")
struct RuleCheckTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    @Test("good files check clean, exit 0")
    func good() {
        let (output, exitCode) = RuleTool.check(directory: Self.fixtures + "/good", format: .text)
        #expect(exitCode == 0)
        #expect(output == "0 errors, 0 warnings in 7 files (9 rules)\n")
    }

    @Test("bad files: every problem, exact positions, exit 1")
    func bad() {
        let directory = Self.fixtures + "/bad"
        let (output, exitCode) = RuleTool.check(directory: directory, format: .text)
        #expect(exitCode == 1)
        let summaries = output.split(separator: "\n").filter { $0.hasPrefix(directory) }.map { $0.dropFirst(directory.count + 1) }
        #expect(
            summaries == [
                "stall.yaml:8:15: error[E204]: unknown name 'sesion'; did you mean 'session'?",
                "stall.yaml:11:9: error[E113]: rule id 'Bad_ID' must match [a-z0-9][a-z0-9._-]{0,63}",
                // Inside a `>` folded block scalar: the second line of the expression.
                "stall.yaml:16:12: error[E302]: '>' compares double with string",
                "stall.yaml:19:32: error[E502]: unknown filter 'upcase'",
                "stall.yaml:12:15: error[E104]: 'loud' is not one of: info, warning, critical",
                "stall.yaml:17:10: error[E105]: invalid duration '10 minutes'; use a form like 90s, 5m, 1h30m, 500ms",
                "stall.yaml:25:7: error[E110]: unknown key 'conditon' in window; did you mean 'condition'? expected one of: kind, where, over, agg, field, denominator, min_events, condition",
                "stall.yaml:22:7: error[E102]: window needs 'condition', e.g. 'value > 5'",
                "stall.yaml:30:13: error[E107]: unknown event kind 'tool_reslt'; did you mean 'tool_result'?",
                // Inside a double-quoted string after escapes.
                "stall.yaml:33:29: error[E204]: unknown name 'sesion'; did you mean 'session'?",
                // The mis-indented key (prometheus#7042).
                "syntax.yaml:6:6: error[E100]: YAML syntax: did not find expected key while parsing a block mapping",
                "cycle.yaml:7:5: error[E112]: inhibited_by names 'nowhere', which is no rule",
                "cycle.yaml:3:5: error[E112]: inhibition cycle: first → second → first",
            ])
        #expect(output.contains("""
            8 |       while: 'sesion.status == "working"'
              |               ^~~~~~~~~~~~~
            """))
        #expect(output.hasSuffix("13 errors, 0 warnings in 3 files (2 rules)\n"))
    }

    @Test("--format json lists the same diagnostics")
    func json() throws {
        let (output, exitCode) = RuleTool.check(directory: Self.fixtures + "/bad", format: .json)
        #expect(exitCode == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.count == 13)
        #expect(diagnostics[0]["line"] as? Int == 8)
        #expect(diagnostics[0]["column"] as? Int == 15)
        #expect(diagnostics[0]["code"] as? String == "E204")
        #expect(object["errors"] as? Int == 13)
    }

    @Test("warnings: absence without a guard; --warnings-as-errors exits 2")
    func warnings() {
        let text = """
            version: 1
            rules:
              - id: quiet
                absence: { kind: tool_result, for: 2m }
                notify: { title: quiet }
            """
        let (rules, diagnostics) = RuleFileParser.parse(text, file: "quiet.yaml")
        #expect(rules.count == 1)
        #expect(diagnostics.map(\.summary) == ["quiet.yaml:4:5: warning[W203]: absence trigger without 'while:' guard; it will also fire for idle sessions"])
    }

    @Test("structural errors: version, empty rules, two triggers, for on an event rule")
    func structure() {
        let text = """
            version: 2
            rules:
              - id: both
                event: { kind: api_error }
                state: { when: 'true' }
                notify: { title: x }
              - id: edge
                event: { kind: api_error }
                for: 1m
                notify: { title: x }
            """
        let summaries = RuleFileParser.parse(text, file: "f.yaml").diagnostics.map(\.summary)
        #expect(
            summaries == [
                "f.yaml:1:10: error[E101]: unsupported version '2'; this sink reads version 1",
                "f.yaml:5:5: error[E106]: rule 'both' has more than one trigger ('event' and 'state')",
                "f.yaml:9:5: error[E109]: 'for' applies to state and window rules; event rules fire on each event",
            ])
    }
}
