import Foundation

/// A runtime silence (created through the API): matching alert instances keep being evaluated
/// but do not notify until `endsAt` (rules-dsl.md §3.9). Absolute end times are wall-clock time.
package struct Silence: Sendable, Hashable, Codable {
    /// One Alertmanager-style matcher over `rule`, `session`, `severity` or `labels.<name>`.
    package struct Matcher: Sendable, Hashable, Codable {
        package enum Operator: String, Sendable, Hashable, Codable {
            case equal = "="
            case notEqual = "!="
            case matches = "=~"
            case notMatches = "!~"
        }

        package var name: String
        package var op: Operator
        package var value: String

        package init(name: String, op: Operator, value: String) {
            self.name = name
            self.op = op
            self.value = value
        }

        /// Whether `actual` (nil: the instance has no such field) satisfies the matcher.
        func matches(_ actual: String?) -> Bool {
            let text = actual ?? ""
            switch op {
            case .equal: return text == value
            case .notEqual: return text != value
            case .matches, .notMatches:
                let anchored = "^(?:" + value + ")$"
                let found = text.range(of: anchored, options: .regularExpression) != nil
                return op == .matches ? found : !found
            }
        }

        /// Whether the matcher is usable (a regex that compiles, a known name).
        package var problem: String? {
            guard name == "rule" || name == "session" || name == "severity" || name.hasPrefix("labels.") else {
                return "matcher name must be rule, session, severity or labels.<name>, not '\(name)'"
            }
            if op == .matches || op == .notMatches, (try? NSRegularExpression(pattern: value)) == nil {
                return "invalid regular expression '\(value)'"
            }
            return nil
        }
    }

    package var id: String
    package var matchers: [Matcher]
    package var startsAt: Date
    package var endsAt: Date
    package var comment: String
    package var createdBy: String

    package init(id: String, matchers: [Matcher], startsAt: Date, endsAt: Date, comment: String = "", createdBy: String = "") {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.comment = comment
        self.createdBy = createdBy
    }

    package func isActive(at now: Date) -> Bool { startsAt <= now && now < endsAt }

    /// Whether the silence covers an instance of `rule` for `sessionID`.
    func covers(rule: Rule, sessionID: String?) -> Bool {
        matchers.allSatisfy { matcher in
            switch matcher.name {
            case "rule": matcher.matches(rule.id)
            case "session": matcher.matches(sessionID)
            case "severity": matcher.matches(rule.severity.rawValue)
            default: matcher.matches(rule.labels[String(matcher.name.dropFirst("labels.".count))])
            }
        }
    }
}
