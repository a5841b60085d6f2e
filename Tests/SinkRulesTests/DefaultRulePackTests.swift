import Foundation
import Testing

@testable import SinkRules

/// The default rules in `rules/`: they load without a problem and their unit tests pass.
@Suite("Default rule pack")
struct DefaultRulePackTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("rules").path

    @Test("rules/ checks clean")
    func checksClean() {
        let (output, exitCode) = RuleTool.check(directory: Self.directory, format: .text)
        #expect(exitCode == 0, "\(output)")
        #expect(output.hasSuffix("0 errors, 0 warnings in 7 files (9 rules)\n"), "\(output)")
    }

    @Test("every default rule has tests, and they pass")
    func unitTestsPass() {
        let results = RuleTestRunner.run(directory: Self.directory)
        for result in results where !result.passed {
            let message = "\(result.file): \(result.name)\n" + result.failures.joined(separator: "\n")
            Issue.record(Comment(rawValue: message))
        }
        #expect(results.count >= 20)
        var loader = RuleLoader(directory: Self.directory)
        var tested: Set<String> = []
        for path in RuleLoader.ruleFiles(in: Self.directory + "/tests") {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            for part in text.components(separatedBy: "rule: ").dropFirst() {
                tested.insert(String(part.prefix { $0 != "," && $0 != " " && $0 != "}" }))
            }
        }
        for rule in loader.load().rules {
            #expect(tested.contains(rule.id), "rule \(rule.id) has no test expecting it")
        }
    }
}
