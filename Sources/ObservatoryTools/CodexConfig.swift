/// What `setup codex` writes into `~/.codex/config.toml`: `notify` running `observatory hook
/// --codex` (turn-finished signals) and an `[otel]` table exporting logs and traces to the sink.
///
/// There is no TOML parser here: setup edits only its own blocks, between marker comments, and
/// leaves every other line byte for byte. `notify` is a top-level key, so its block goes before
/// the first table header; `[otel]` goes at the end. Limits, stated plainly: if the file already
/// has its own `notify` or `otel` settings, setup does not touch them (TOML forbids a second
/// definition) and says so, with the lines to merge by hand; a table header is recognised by a
/// line starting with `[`.
package struct CodexConfig: Sendable {
    package static let notifyBegin = "# >>> observatory setup: notify (remove with `observatory setup codex --remove`)"
    package static let notifyEnd = "# <<< observatory setup: notify"
    package static let otelBegin = "# >>> observatory setup: otel (remove with `observatory setup codex --remove`)"
    package static let otelEnd = "# <<< observatory setup: otel"

    package var endpoint: String
    /// The program and arguments of `notify`.
    package var notifyCommand: [String]

    package init(endpoint: String, notifyCommand: [String]) {
        self.endpoint = endpoint
        self.notifyCommand = notifyCommand
    }

    /// The `notify = [...]` line.
    package var notifyLine: String {
        "notify = [" + notifyCommand.map(Self.tomlString).joined(separator: ", ") + "]"
    }

    /// The `[otel]` table's lines.
    package var otelLines: [String] {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        return [
            "[otel]",
            "exporter = { otlp-http = { endpoint = \(Self.tomlString(base + "/v1/logs")), protocol = \"binary\" } }",
            "trace_exporter = { otlp-http = { endpoint = \(Self.tomlString(base + "/v1/traces")), protocol = \"binary\" } }",
        ]
    }

    /// Adds (or refreshes) setup's blocks. Idempotent.
    package func apply(to text: String) -> (text: String, notes: [String]) {
        var notes: [String] = []
        var lines = Self.lines(text)
        let own = Self.ownLineIndices(lines)

        // notify: a top-level key, so before the first table header.
        let notifyBlock = [Self.notifyBegin, notifyLine, Self.notifyEnd]
        if let range = Self.block(lines, Self.notifyBegin, Self.notifyEnd) {
            lines.replaceSubrange(range, with: notifyBlock)
        } else if let line = lines.indices.first(where: { !own.contains($0) && Self.isKey(lines[$0], "notify") && Self.isTopLevel(lines, $0) }) {
            notes.append("not setting notify: the file already has `\(lines[line].trimmingSpaces)` (Codex runs one notify "
                + "program). To get turn-finished signals, make that program also run: \(notifyCommand.joined(separator: " ")) <payload>")
        } else {
            let header = lines.indices.first(where: { Self.isTableHeader(lines[$0]) }) ?? lines.count
            var insert = notifyBlock
            if header < lines.count { insert.append("") }
            lines.insert(contentsOf: insert, at: header)
        }

        let otelBlock = [Self.otelBegin] + otelLines + [Self.otelEnd]
        let ownNow = Self.ownLineIndices(lines)
        let existingOtel = lines.indices.first(where: { !ownNow.contains($0) && Self.mentionsOtel(lines[$0]) })
        if let range = Self.block(lines, Self.otelBegin, Self.otelEnd) {
            lines.replaceSubrange(range, with: otelBlock)
        } else if let line = existingOtel {
            notes.append("not adding [otel]: the file already configures it (`\(lines[line].trimmingSpaces)`). Set these "
                + "by hand in that table:\n  " + otelLines.dropFirst().joined(separator: "\n  "))
        } else {
            if let last = lines.last, !last.trimmingSpaces.isEmpty { lines.append("") }
            lines += otelBlock
        }
        return (Self.join(lines), notes)
    }

    /// Removes setup's blocks (and the blank line setup put after the notify block).
    package func remove(from text: String) -> String {
        var lines = Self.lines(text)
        for (begin, end) in [(Self.notifyBegin, Self.notifyEnd), (Self.otelBegin, Self.otelEnd)] {
            guard let range = Self.block(lines, begin, end) else { continue }
            var upper = range.upperBound
            var lower = range.lowerBound
            if begin == Self.notifyBegin, upper + 1 < lines.count, lines[upper + 1].trimmingSpaces.isEmpty {
                upper += 1
            } else if begin == Self.otelBegin, lower > 0, lines[lower - 1].trimmingSpaces.isEmpty, upper == lines.count - 1 {
                lower -= 1
            }
            lines.removeSubrange(lower...upper)
        }
        return Self.join(lines)
    }

    // MARK: Lines

    static func lines(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    static func join(_ lines: [String]) -> String {
        lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    static func block(_ lines: [String], _ begin: String, _ end: String) -> ClosedRange<Int>? {
        guard let b = lines.firstIndex(of: begin), let e = lines[b...].firstIndex(of: end) else { return nil }
        return b...e
    }

    static func ownLineIndices(_ lines: [String]) -> Set<Int> {
        var out = Set<Int>()
        for (begin, end) in [(notifyBegin, notifyEnd), (otelBegin, otelEnd)] {
            if let range = block(lines, begin, end) { out.formUnion(range) }
        }
        return out
    }

    static func isTableHeader(_ line: String) -> Bool {
        let t = line.trimmingSpaces
        guard t.hasPrefix("["), let close = t.lastIndex(of: "]") else { return false }
        let name = t[t.index(after: t.startIndex)..<close]
        let rest = String(t[t.index(after: close)...]).trimmingSpaces
        return !name.contains(",") && (rest.isEmpty || rest.hasPrefix("#"))
    }

    static func isKey(_ line: String, _ key: String) -> Bool {
        let t = line.trimmingSpaces
        guard t.hasPrefix(key) else { return false }
        return String(t.dropFirst(key.count)).trimmingSpaces.hasPrefix("=")
    }

    static func isTopLevel(_ lines: [String], _ index: Int) -> Bool {
        !lines[..<index].contains(where: isTableHeader)
    }

    /// `[otel]`, `[otel.…]`, or a top-level `otel = …` / `otel.… = …`.
    static func mentionsOtel(_ line: String) -> Bool {
        let t = line.trimmingSpaces
        return t.hasPrefix("[otel]") || t.hasPrefix("[otel.") || isKey(t, "otel")
            || (t.hasPrefix("otel.") && t.contains("="))
    }

    /// A TOML basic string.
    static func tomlString(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}
