import SinkCore

/// A rule unit-test file, `rules/tests/*_test.yaml` (rules-dsl.md §3.14, promtool style):
///
/// ```yaml
/// rule_files: [../stall.yaml]        # relative to this file
/// eval_interval: 1s
/// tests:
///   - name: stall fires 120s after the last progress
///     sessions: { s1: { agent: claude-code, name: api-refactor } }
///     events:                          # t is relative to the test start
///       - { t: 0s, session: s1, kind: user_prompt }
///       - { t: 200s, session: s1, kind: tool_result, attrs: { tool_name: Edit, success: true } }
///     expect_alerts:
///       - { at: 119s, none: true }
///       - { at: 120s, rule: agent-stalled, session: s1, state: firing }
///     expect_notifications:            # exhaustive unless `partial: true`
///       - { at: 120s, rule: agent-stalled, kind: firing, title: "⏸ api-refactor stalled" }
/// ```
struct RuleTestFile: Decodable {
    var rule_files: [String]?
    var eval_interval: String?
    var tests: [Case]

    struct Case: Decodable {
        var name: String
        var rule_files: [String]?
        var sessions: [String: SessionSeed]?
        var events: [Event]?
        var until: String?
        var expect_alerts: [ExpectedAlert]?
        var expect_notifications: [ExpectedNotification]?
        var partial: Bool?
    }

    struct SessionSeed: Decodable {
        var agent: String?
        var name: String?
    }

    struct Event: Decodable {
        var t: String
        var session: String
        var kind: String
        var name: String?
        /// Scalar attribute values as YAML spells them (decoded as bool, integer, number, else text).
        var attrs: [String: AttributeValue]?
    }

    struct ExpectedAlert: Decodable {
        var at: String
        var none: Bool?
        var rule: String?
        var session: String?
        var state: String?
        var inhibited: Bool?
        var silenced: Bool?
    }

    struct ExpectedNotification: Decodable {
        var at: String?
        var rule: String
        var kind: String
        var session: String?
        var title: String?
        var body: String?
        var title_contains: String?
        var body_contains: String?
    }
}
