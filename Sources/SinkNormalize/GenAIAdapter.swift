import SinkCore

/// The OpenTelemetry GenAI semantic conventions (agent-telemetry.md §4): inference spans
/// (`gen_ai.operation.name` = chat, generate_content, text_completion), `execute_tool` spans,
/// `gen_ai.client.token.usage`. Also the fallback for spans and metrics of every other adapter.
enum GenAIAdapter: AgentAdapter {
    static func mapLog(name: String, attributes a: Attributes) -> EventMapping {
        switch name {
        case "session.start": EventMapping(.sessionStart)
        case "session.end": EventMapping(.sessionEnd)
        default: EventMapping(.other, EventFacts(model: a.string("gen_ai.response.model", "gen_ai.request.model")))
        }
    }

    static func mapSpan(name: String, attributes a: Attributes, failed: Bool) -> EventMapping {
        let operation = a.string("gen_ai.operation.name") ?? name.split(separator: " ").first.map(String.init) ?? ""
        switch operation {
        case "chat", "generate_content", "text_completion", "embeddings", "llm_call":
            var facts = usage(a)
            facts.success = !failed
            facts.error = a.string("error.type")
            return EventMapping(failed ? .apiError : .apiRequest, facts)
        case "execute_tool", "tool_call":
            return EventMapping(
                .toolResult,
                EventFacts(toolName: a.string("gen_ai.tool.name"), success: !failed, error: a.string("error.type")))
        default:
            let facts = usage(a)
            let hasUsage = facts.inputTokens != nil || facts.outputTokens != nil
            return EventMapping(hasUsage ? .usage : .activity, facts)
        }
    }

    static func meaning(ofMetric name: String, attributes a: Attributes) -> MetricSample.Meaning {
        guard name == "gen_ai.client.token.usage" else { return .other }
        switch a.string("gen_ai.token.type") {
        case "input": return .inputTokens
        case "output": return .outputTokens
        default: return .other
        }
    }

    private static func usage(_ a: Attributes) -> EventFacts {
        EventFacts(
            model: a.string("gen_ai.response.model", "gen_ai.request.model"),
            inputTokens: a.number("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
            outputTokens: a.number("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
            cacheReadTokens: a.number("gen_ai.usage.cache_read.input_tokens"),
            cacheCreationTokens: a.number("gen_ai.usage.cache_creation.input_tokens"))
    }
}
