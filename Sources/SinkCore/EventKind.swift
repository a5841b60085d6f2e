/// What a session event means to the Observatory, independent of the agent that sent it.
///
/// The normalizer maps each vendor's event names onto these; anything it does not recognise is
/// `.other` and is kept with its original name.
package enum EventKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A session began (Claude `SessionStart` hook, `codex.conversation_starts`, `gemini_cli.config`).
    case sessionStart = "session_start"
    case userPrompt = "user_prompt"
    case assistantResponse = "assistant_response"
    /// A model API call completed; carries model, cost and token usage when known.
    case apiRequest = "api_request"
    /// A model API call failed (after the agent's own retries).
    case apiError = "api_error"
    /// Token usage reported apart from a request (Codex `sse_event` `response.completed`).
    case usage = "usage"
    case toolDecision = "tool_decision"
    /// A tool call finished; `facts.success` tells whether it failed.
    case toolResult = "tool_result"
    /// The agent is blocked on the human (permission prompt).
    case permissionRequest = "permission_request"
    /// The agent finished its turn and waits for the next prompt.
    case turnFinished = "turn_finished"
    case sessionEnd = "session_end"
    case processStart = "process_start"
    case processExit = "process_exit"
    /// A metric data point (cost and token counters feed the session totals).
    case metric = "metric"
    /// Progress that carries nothing to count: a span that is none of the above, a streamed chunk,
    /// the start of an API call.
    case activity = "activity"
    /// Any other event, kept with its original name.
    case other = "other"

    /// Whether the event shows the agent making progress (drives `lastProgress` and idle detection).
    package var isProgress: Bool {
        switch self {
        case .userPrompt, .assistantResponse, .apiRequest, .apiError, .usage, .toolDecision, .toolResult, .activity:
            true
        case .sessionStart, .permissionRequest, .turnFinished, .sessionEnd, .processStart, .processExit, .metric,
            .other:
            false
        }
    }
}
