/// The kind of coding agent a session belongs to, decided by the normalizer from the
/// telemetry's resource, scope and event names.
package enum AgentKind: String, Sendable, Hashable, Codable, CaseIterable {
    case claudeCode = "claude-code"
    case codex = "codex"
    case geminiCLI = "gemini-cli"
    /// Any agent that follows the OpenTelemetry GenAI conventions (`gen_ai.conversation.id`).
    case genAI = "genai"
    /// Telemetry from something the Observatory has no adapter for. Kept, never dropped.
    case generic = "generic"
}
