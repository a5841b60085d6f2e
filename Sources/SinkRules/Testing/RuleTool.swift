import Foundation

/// What `observatory-sink rules check` and `rules test` print and exit with; the executable only
/// parses arguments and calls these.
package enum RuleTool {
    /// Output formats of `rules check`.
    package enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    /// Checks every rule file of `directory` with the validator the sink uses.
    /// - Returns: the report and the exit code: 0 clean, 1 errors, 2 warnings with `warningsAsErrors`.
    package static func check(directory: String, format: Format, warningsAsErrors: Bool = false) -> (output: String, exitCode: Int32) {
        var loader = RuleLoader(directory: directory)
        let outcome = loader.load()
        let exitCode: Int32 = outcome.errorCount > 0 ? 1 : (warningsAsErrors && outcome.warningCount > 0 ? 2 : 0)
        switch format {
        case .json:
            struct Report: Encodable {
                var diagnostics: [RuleDiagnostic]
                var files: [RuleLoader.FileReport]
                var errors: Int
                var warnings: Int
                var rules: Int
            }
            let report = Report(
                diagnostics: outcome.diagnostics, files: outcome.files, errors: outcome.errorCount, warnings: outcome.warningCount,
                rules: outcome.rules.count)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
            return (String(decoding: data, as: UTF8.self) + "\n", exitCode)
        case .text:
            var lines = outcome.diagnostics.map(\.rendered)
            let fileCount = outcome.files.count
            let ruleCount = outcome.files.reduce(0) { $0 + ($1.errors == 0 ? $1.rules.count : 0) }
            if fileCount == 0 { lines.append("no rule files (*.yaml, *.yml) in \(directory)") }
            lines.append(
                "\(plural(outcome.errorCount, "error")), \(plural(outcome.warningCount, "warning")) in \(plural(fileCount, "file")) (\(plural(ruleCount, "rule")))")
            return (lines.joined(separator: "\n") + "\n", exitCode)
        }
    }

    /// Runs the rule unit tests in `directory/tests`.
    package static func test(directory: String) -> (output: String, exitCode: Int32) {
        let results = RuleTestRunner.run(directory: directory)
        var lines: [String] = []
        for result in results {
            let file = (result.file as NSString).lastPathComponent
            if result.passed {
                lines.append("PASS \(file): \(result.name)")
            } else {
                lines.append("FAIL \(file): \(result.name)")
                lines += result.failures.map { "    \($0)" }
            }
        }
        let failed = results.count { !$0.passed }
        if results.isEmpty { lines.append("no rule tests (tests/*_test.yaml) in \(directory)") }
        lines.append("\(results.count - failed) passed, \(failed) failed")
        return (lines.joined(separator: "\n") + "\n", failed > 0 ? 1 : 0)
    }

    private static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
