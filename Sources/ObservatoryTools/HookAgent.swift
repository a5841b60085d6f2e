/// The agents whose hook payloads `observatory hook` understands. Raw values are the sink's
/// `AgentKind` names, sent as the `hook.agent` attribute.
package enum HookAgent: String, Sendable, CaseIterable {
    case claudeCode = "claude-code"
    case codex = "codex"
    case geminiCLI = "gemini-cli"

    /// Accepts the raw value and the short names `claude` and `gemini`.
    package init?(name: String) {
        switch name.lowercased() {
        case "claude-code", "claude", "claudecode": self = .claudeCode
        case "codex": self = .codex
        case "gemini-cli", "gemini": self = .geminiCLI
        default: return nil
        }
    }
}
