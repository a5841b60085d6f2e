/// A Claude Code, Codex or Gemini CLI process of this user that no `observatory run` wrapper
/// owns: listed read-only (nobody kills a process it did not start).
package struct UnwrappedAgentProcess: Sendable, Equatable {
    package var pid: Int32
    /// `claude-code`, `codex` or `gemini-cli` (the sink's agent kind names).
    package var kind: String
    package var argv: [String]
    package var cwd: String?

    package init(pid: Int32, kind: String, argv: [String], cwd: String?) {
        self.pid = pid
        self.kind = kind
        self.argv = argv
        self.cwd = cwd
    }

    package var json: JSONValue {
        .object([("pid", .integer(pid)), ("kind", .string(kind)), ("argv", .strings(argv)), ("cwd", cwd.map(JSONValue.string) ?? .null)])
    }

    package init?(json: JSONValue) {
        guard let pid = json["pid"]?.int32Value, let kind = json["kind"]?.stringValue else { return nil }
        self.init(pid: pid, kind: kind, argv: json["argv"]?.stringArray ?? [], cwd: json["cwd"]?.stringValue)
    }
}
