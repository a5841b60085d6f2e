import Foundation

/// Loads every rule file of a directory (`*.yaml`, `*.yml`; not `tests/`, not editor temp files),
/// checks each file on its own and then the set (duplicate ids, `inhibited_by` targets and cycles).
///
/// A file with errors keeps its **last good version** in force (rules-dsl.md §3.11): what the
/// loader returns is always a usable rule set, and the problems are reported next to it.
package struct RuleLoader: Sendable {
    /// What became of one file.
    package struct FileReport: Sendable, Hashable, Codable {
        package var path: String
        package var rules: [String]
        package var errors: Int
        package var warnings: Int
        /// The file has errors and an earlier good version of it is in force.
        package var usingLastGood: Bool
    }

    /// The outcome of a load.
    package struct Outcome: Sendable {
        package var rules: [Rule]
        package var files: [FileReport]
        package var diagnostics: [RuleDiagnostic]

        package var errorCount: Int { diagnostics.count { $0.severity == .error } }
        package var warningCount: Int { diagnostics.count { $0.severity == .warning } }
    }

    package let directory: String
    private var lastGood: [String: [Rule]] = [:]

    package init(directory: String) {
        self.directory = directory
    }

    /// The rule files of `directory`, sorted by name, as paths that start with `directory`.
    package static func ruleFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { name in
            (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && !name.hasPrefix(".") && !name.hasPrefix("_")
        }
        .sorted()
        .map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 }
    }

    /// Reads and checks every file; files with errors fall back to their last good version.
    package mutating func load() -> Outcome {
        var rules: [Rule] = []
        var files: [FileReport] = []
        var diagnostics: [RuleDiagnostic] = []
        var seenPaths: Set<String> = []
        for path in Self.ruleFiles(in: directory) {
            seenPaths.insert(path)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(RuleDiagnostic(file: path, line: 1, column: 1, severity: .error, code: "E100", message: "cannot read the file as UTF-8", sourceLine: ""))
                files.append(FileReport(path: path, rules: lastGood[path]?.map(\.id) ?? [], errors: 1, warnings: 0, usingLastGood: lastGood[path] != nil))
                rules += lastGood[path] ?? []
                continue
            }
            let (parsed, problems) = RuleFileParser.parse(text, file: path)
            diagnostics += problems
            let errors = problems.count { $0.severity == .error }
            var inForce = parsed
            if errors > 0 {
                inForce = lastGood[path] ?? []
            } else {
                lastGood[path] = parsed
            }
            files.append(
                FileReport(
                    path: path, rules: inForce.map(\.id), errors: errors, warnings: problems.count - errors,
                    usingLastGood: errors > 0 && lastGood[path] != nil))
            rules += inForce
        }
        lastGood = lastGood.filter { seenPaths.contains($0.key) }
        let (accepted, crossProblems) = Self.checkSet(rules)
        diagnostics += crossProblems
        return Outcome(rules: accepted, files: files, diagnostics: diagnostics)
    }

    /// Cross-file checks: a duplicate id rejects the later rule; `inhibited_by` must name existing
    /// rules and form no cycle.
    static func checkSet(_ rules: [Rule]) -> ([Rule], [RuleDiagnostic]) {
        var problems: [RuleDiagnostic] = []
        var byID: [String: Rule] = [:]
        var accepted: [Rule] = []
        func line(_ rule: Rule) -> String {
            guard let text = try? String(contentsOfFile: rule.file, encoding: .utf8) else { return "" }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            return rule.line <= lines.count ? String(lines[rule.line - 1]) : ""
        }
        func problem(_ rule: Rule, _ code: String, _ message: String) {
            let source = line(rule)
            let column = (source.unicodeScalars.firstIndex { $0 != " " && $0 != "-" }).map { source.unicodeScalars.distance(from: source.unicodeScalars.startIndex, to: $0) + 1 } ?? 1
            problems.append(RuleDiagnostic(file: rule.file, line: rule.line, column: column, severity: .error, code: code, message: message, sourceLine: source))
        }
        for rule in rules {
            if let first = byID[rule.id] {
                if first.file != rule.file {
                    problem(rule, "E111", "duplicate rule id '\(rule.id)' (also in \(first.file):\(first.line)); this one is ignored")
                }
                continue
            }
            byID[rule.id] = rule
            accepted.append(rule)
        }
        for rule in accepted {
            for target in rule.inhibitedBy where byID[target] == nil {
                let hint = suggestion(for: target, among: byID.keys).map { "; did you mean '\($0)'?" } ?? ""
                problem(rule, "E112", "inhibited_by names '\(target)', which is no rule\(hint)")
            }
        }
        // Cycles: depth-first search over inhibited_by edges.
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var reported: Set<String> = []
        func visit(_ id: String, path: [String]) {
            if state[id] == 2 { return }
            if state[id] == 1 {
                let cycle = path.drop { $0 != id } + [id]
                if let rule = byID[id], !reported.contains(id) {
                    reported.formUnion(cycle)
                    problem(rule, "E112", "inhibition cycle: \(cycle.joined(separator: " → "))")
                }
                return
            }
            state[id] = 1
            for next in byID[id]?.inhibitedBy ?? [] where byID[next] != nil { visit(next, path: path + [id]) }
            state[id] = 2
        }
        for rule in accepted { visit(rule.id, path: []) }
        return (accepted, problems)
    }
}
