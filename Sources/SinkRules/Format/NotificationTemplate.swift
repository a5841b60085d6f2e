import Foundation

/// A notification title or body: text with `{{ path }}` and `{{ path | filter(arg) }}` placeholders
/// (rules-dsl.md §3.8). Paths only, no logic; every path and filter is checked at load time, and a
/// missing value renders as `""` unless `default(...)` is given.
package struct NotificationTemplate: Sendable {
    enum Part: Sendable {
        case text(String)
        case placeholder(Source, [Filter])
    }

    enum Source: Sendable {
        case expression(Expression)
        case alertCount, alertActiveFor, alertState, ruleID, ruleName, severity
        case label(String)
    }

    enum Filter: Sendable {
        case `default`(String), duration, usd, percent, round(Int), truncate(Int), upper, lower
    }

    /// What a template is rendered with.
    package struct Context: Sendable {
        package var expression: ExprContext
        package var alertCount: Int
        package var alertActiveFor: Double
        package var alertState: String
        package var ruleID: String
        package var ruleName: String
        package var severity: String
        package var labels: [String: String]

        package init(
            expression: ExprContext, alertCount: Int, alertActiveFor: Double, alertState: String, ruleID: String, ruleName: String,
            severity: String, labels: [String: String]
        ) {
            self.expression = expression
            self.alertCount = alertCount
            self.alertActiveFor = alertActiveFor
            self.alertState = alertState
            self.ruleID = ruleID
            self.ruleName = ruleName
            self.severity = severity
            self.labels = labels
        }
    }

    package let text: String
    let parts: [Part]

    package static let empty = NotificationTemplate(text: "", parts: [])

    /// Parses `text`; errors carry the offset inside `text`.
    package static func parse(_ text: String, scope: ExprScope) throws(ExprError) -> NotificationTemplate {
        var parts: [Part] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var literal = ""
        while index < scalars.count {
            if scalars[index] == "{", index + 1 < scalars.count, scalars[index + 1] == "{" {
                let start = index
                var end = index + 2
                while end + 1 < scalars.count, !(scalars[end] == "}" && scalars[end + 1] == "}") { end += 1 }
                guard end + 1 < scalars.count else {
                    throw ExprError(offset: start, length: 2, code: "E501", message: "'{{' is not closed with '}}'")
                }
                if !literal.isEmpty { parts.append(.text(literal)) }
                literal = ""
                let inner = String(String.UnicodeScalarView(scalars[(start + 2)..<end]))
                parts.append(try placeholder(inner, offset: start + 2, scope: scope))
                index = end + 2
            } else {
                literal.unicodeScalars.append(scalars[index])
                index += 1
            }
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        return NotificationTemplate(text: text, parts: parts)
    }

    private static func placeholder(_ inner: String, offset: Int, scope: ExprScope) throws(ExprError) -> Part {
        let pieces = inner.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let pathText = pieces[0].trimmingCharacters(in: .whitespaces)
        let leading = pieces[0].unicodeScalars.prefix(while: { $0 == " " }).count
        let source: Source
        switch pathText {
        case "alert.count": source = .alertCount
        case "alert.active_for": source = .alertActiveFor
        case "alert.state": source = .alertState
        case "rule.id": source = .ruleID
        case "rule.name": source = .ruleName
        case "severity": source = .severity
        default:
            if pathText.hasPrefix("labels.") {
                source = .label(String(pathText.dropFirst("labels.".count)))
            } else {
                do {
                    source = .expression(try Expression.compile(pathText, scope: scope, expecting: nil))
                } catch {
                    var moved = error
                    moved.offset += offset + leading
                    throw moved
                }
            }
        }
        var filters: [Filter] = []
        var filterOffset = offset + pieces[0].unicodeScalars.count + 1
        for piece in pieces.dropFirst() {
            filters.append(try filter(piece.trimmingCharacters(in: .whitespaces), offset: filterOffset, length: piece.unicodeScalars.count))
            filterOffset += piece.unicodeScalars.count + 1
        }
        return .placeholder(source, filters)
    }

    private static func filter(_ text: String, offset: Int, length: Int) throws(ExprError) -> Filter {
        let name = String(text.prefix(while: { $0 != "(" }))
        var argument: String?
        if let open = text.firstIndex(of: "("), text.hasSuffix(")") {
            argument = String(text[text.index(after: open)..<text.index(before: text.endIndex)]).trimmingCharacters(in: .whitespaces)
        }
        func bad(_ message: String) -> ExprError { ExprError(offset: offset, length: length, code: "E502", message: message) }
        func integer() throws(ExprError) -> Int {
            guard let argument, let value = Int(argument), value >= 0 else { throw bad("\(name)(n) needs a non-negative integer") }
            return value
        }
        switch name {
        case "default":
            guard let argument, argument.count >= 2, let first = argument.first, first == "\"" || first == "'", argument.last == first else {
                throw bad("default(...) needs a quoted string, e.g. default(\"?\")")
            }
            return .default(String(argument.dropFirst().dropLast()))
        case "duration": return .duration
        case "usd": return .usd
        case "percent": return .percent
        case "round": return .round(try integer())
        case "truncate": return .truncate(try integer())
        case "upper": return .upper
        case "lower": return .lower
        default:
            let hint = suggestion(for: name, among: ["default", "duration", "usd", "percent", "round", "truncate", "upper", "lower"])
                .map { "; did you mean '\($0)'?" } ?? ""
            throw bad("unknown filter '\(name)'\(hint)")
        }
    }

    /// The text with every placeholder filled in.
    package func render(_ context: Context) -> String {
        var output = ""
        for part in parts {
            switch part {
            case .text(let text):
                output += text
            case .placeholder(let source, let filters):
                var value: ExprValue
                switch source {
                case .expression(let expression): value = expression.evaluate(in: context.expression)
                case .alertCount: value = .int(Int64(context.alertCount))
                case .alertActiveFor: value = .double(context.alertActiveFor)
                case .alertState: value = .string(context.alertState)
                case .ruleID: value = .string(context.ruleID)
                case .ruleName: value = .string(context.ruleName)
                case .severity: value = .string(context.severity)
                case .label(let name): value = context.labels[name].map(ExprValue.string) ?? .unknown
                }
                output += Self.apply(filters, to: &value)
            }
        }
        return output
    }

    private static func apply(_ filters: [Filter], to value: inout ExprValue) -> String {
        var text: String? = nil
        for filter in filters {
            let present: Bool = { if case .unknown = value { return false }; if case .null = value { return false }; return true }()
            switch filter {
            case .default(let fallback):
                if !present, text == nil { text = fallback }
            case .duration:
                if let seconds = value.number { text = DurationText.format(seconds: seconds) }
            case .usd:
                if let amount = value.number { text = String(format: "$%.2f", amount) }
            case .percent:
                if let fraction = value.number { text = "\(Int((fraction * 100).rounded()))%" }
            case .round(let digits):
                if let number = value.number { text = String(format: "%.\(digits)f", number) }
            case .truncate(let count):
                let current = text ?? value.text
                text = current.count > count ? String(current.prefix(max(0, count - 1))) + "…" : current
            case .upper:
                text = (text ?? value.text).uppercased()
            case .lower:
                text = (text ?? value.text).lowercased()
            }
        }
        return text ?? value.text
    }
}
