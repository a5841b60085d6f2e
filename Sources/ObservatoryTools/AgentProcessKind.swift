/// Recognises Claude Code, Codex and Gemini CLI processes by their command line, for the
/// helper's read-only list of agents that run without the wrapper.
package enum AgentProcessKind {
    /// `claude-code`, `codex` or `gemini-cli` if `argv` runs one of them: the executable itself
    /// (`claude`, `codex`, `gemini`) or a JavaScript runtime running their package's script.
    package static func classify(argv: [String]) -> String? {
        guard let first = argv.first, !first.isEmpty else { return nil }
        if let kind = kind(executable: basename(first)) { return kind }
        let runtime = basename(first)
        guard runtime == "node" || runtime.hasPrefix("node") || runtime == "bun" || runtime == "deno" else { return nil }
        // The first argument that is not an option is the script.
        guard let script = argv.dropFirst().first(where: { !$0.hasPrefix("-") }) else { return nil }
        if script.contains("@anthropic-ai/claude-code") { return "claude-code" }
        if script.contains("@openai/codex") { return "codex" }
        if script.contains("@google/gemini-cli") { return "gemini-cli" }
        return kind(executable: basename(script))
    }

    private static func kind(executable name: String) -> String? {
        switch name {
        case "claude": "claude-code"
        case "codex": "codex"
        case "gemini": "gemini-cli"
        default: nil
        }
    }

    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
