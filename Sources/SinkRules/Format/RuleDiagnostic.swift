/// One problem in a rule file, GCC/Clang style: `file:line:col: severity[code]: message`, with the
/// offending source line and a caret underline (rules-dsl.md §3.13).
package struct RuleDiagnostic: Sendable, Hashable, Codable {
    package enum Severity: String, Sendable, Hashable, Codable {
        case error, warning
    }

    package var file: String
    /// 1-based.
    package var line: Int
    /// 1-based, in Unicode scalars (the unit YAML marks use).
    package var column: Int
    /// Columns the caret underline spans.
    package var length: Int
    package var severity: Severity
    package var code: String
    package var message: String
    /// The source line, for the snippet.
    package var sourceLine: String

    package init(file: String, line: Int, column: Int, length: Int = 1, severity: Severity, code: String, message: String, sourceLine: String) {
        self.file = file
        self.line = line
        self.column = column
        self.length = max(1, length)
        self.severity = severity
        self.code = code
        self.message = message
        self.sourceLine = sourceLine
    }

    /// `rules/stall.yaml:9:15: error[E204]: unknown field …` — the first line of ``rendered``.
    package var summary: String {
        "\(file):\(line):\(column): \(severity.rawValue)[\(code)]: \(message)"
    }

    /// The summary, the source line and a caret under the offending text.
    package var rendered: String {
        guard !sourceLine.isEmpty || line > 0 else { return summary }
        let number = String(line)
        let gutter = String(repeating: " ", count: number.count)
        let visibleLength = max(1, min(length, sourceLine.unicodeScalars.count - column + 1))
        let caret = "^" + String(repeating: "~", count: max(0, visibleLength - 1))
        return """
            \(summary)
            \(number) | \(sourceLine)
            \(gutter) | \(String(repeating: " ", count: max(0, column - 1)))\(caret)
            """
    }
}
