import ArgumentParser
import Foundation
import SinkRules

/// `observatory-sink rules check|test [DIR]`: the rule tooling, offline (no sink needed).
struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check and test alert rule files.", subcommands: [Check.self, Test.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report every problem in the rule files as file:line:col (exit 1 on errors).")

        @Argument(help: "Directory of rule files (default: rules).")
        var directory = "rules"
        @Option(help: "Output format: text or json.")
        var format = "text"
        @Flag(help: "Exit with status 2 when there are warnings.")
        var warningsAsErrors = false

        func run() throws {
            guard let format = RuleTool.Format(rawValue: format) else {
                throw ValidationError("--format must be text or json")
            }
            let (output, exitCode) = RuleTool.check(directory: directory, format: format, warningsAsErrors: warningsAsErrors)
            FileHandle.standardOutput.write(Data(output.utf8))
            if exitCode != 0 { throw ExitCode(exitCode) }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the rule unit tests in DIR/tests/*_test.yaml on a virtual clock (exit 1 on failures).")

        @Argument(help: "Directory of rule files (default: rules).")
        var directory = "rules"

        func run() throws {
            let (output, exitCode) = RuleTool.test(directory: directory)
            FileHandle.standardOutput.write(Data(output.utf8))
            if exitCode != 0 { throw ExitCode(exitCode) }
        }
    }
}
