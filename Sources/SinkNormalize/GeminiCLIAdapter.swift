import SinkCore

/// Google Gemini CLI: log events `gemini_cli.*`, `session.id` on records and resource;
/// counters `gemini_cli.*`. agent-telemetry.md §3.
enum GeminiCLIAdapter: AgentAdapter {
    static func mapLog(name: String, attributes a: Attributes) -> EventMapping {
        let model = a.string("model")
        switch name.dropPrefix("gemini_cli.") {
        case "config":
            return EventMapping(.sessionStart, EventFacts(model: model))
        case "user_prompt":
            return EventMapping(.userPrompt)
        case "api_request":
            return EventMapping(.activity, EventFacts(model: model))
        case "api_response":
            let thoughts = a.number("thoughts_token_count") ?? 0
            return EventMapping(
                .apiRequest,
                EventFacts(
                    model: model, success: true, durationMs: a.number("duration_ms"),
                    inputTokens: a.number("input_token_count"),
                    outputTokens: a.number("output_token_count").map { $0 + thoughts },
                    cacheReadTokens: a.number("cached_content_token_count"), statusCode: a.integer("status_code")))
        case "api_error":
            return EventMapping(
                .apiError,
                EventFacts(
                    model: model, success: false, durationMs: a.number("duration_ms"),
                    error: a.string("error", "error_type"), statusCode: a.integer("status_code")))
        case "tool_call":
            return EventMapping(
                .toolResult,
                EventFacts(
                    toolName: a.string("function_name", "tool_name"), success: a.bool("success"),
                    durationMs: a.number("duration_ms"), error: a.string("error", "error_type")))
        case "conversation_finished":
            return EventMapping(.sessionEnd)
        default:
            return EventMapping(.other, EventFacts(model: model))
        }
    }

    static func meaning(ofMetric name: String, attributes a: Attributes) -> MetricSample.Meaning {
        guard name == "gemini_cli.token.usage" else {
            return GenAIAdapter.meaning(ofMetric: name, attributes: a)
        }
        switch a.string("type") {
        case "input": return .inputTokens
        case "output", "thought": return .outputTokens
        case "cache": return .cacheReadTokens
        default: return .other
        }
    }
}
