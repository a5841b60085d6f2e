import SinkCore

/// OpenAI Codex CLI: log events `codex.*` keyed by `conversation.id`; token usage on
/// `codex.sse_event` of kind `response.completed`. agent-telemetry.md §2.
enum CodexAdapter: AgentAdapter {
    static func mapLog(name: String, attributes a: Attributes) -> EventMapping {
        let model = a.string("model")
        switch name.dropPrefix("codex.") {
        case "conversation_starts":
            return EventMapping(.sessionStart, EventFacts(model: model))
        case "user_prompt":
            return EventMapping(.userPrompt, EventFacts(model: model))
        case "api_request":
            let status = a.integer("http.response.status_code", "http.status_code", "status_code")
            let error = a.string("error.message", "error")
            var facts = EventFacts(model: model, durationMs: a.number("duration_ms"), error: error, statusCode: status)
            let failed = error != nil || (status ?? 0) >= 400
            facts.success = !failed
            return EventMapping(failed ? .apiError : .apiRequest, facts)
        case "sse_event":
            guard a.string("event.kind", "kind") == "response.completed" else {
                return EventMapping(.activity, EventFacts(model: model))
            }
            return EventMapping(
                .usage,
                EventFacts(
                    model: model, inputTokens: a.number("input_token_count"),
                    outputTokens: a.number("output_token_count"), cacheReadTokens: a.number("cached_token_count")))
        case "tool_decision":
            let decision = a.string("decision")
            return EventMapping(
                .toolDecision,
                EventFacts(model: model, toolName: a.string("tool_name"), success: decision.map { $0.hasPrefix("approved") }))
        case "tool_result":
            return EventMapping(
                .toolResult,
                EventFacts(
                    model: model, toolName: a.string("tool_name"), success: a.bool("success"),
                    durationMs: a.number("duration_ms")))
        default:
            return EventMapping(.other, EventFacts(model: model))
        }
    }
}
