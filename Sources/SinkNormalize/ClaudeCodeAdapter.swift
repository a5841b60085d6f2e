import SinkCore

/// Claude Code: log events `claude_code.*` (`body` is the full name, `event.name` the short one),
/// counters `claude_code.*` (delta temporality by default), beta spans `claude_code.*`.
/// Names and attributes: agent-telemetry.md §1.4–1.7 (Claude Code monitoring docs).
enum ClaudeCodeAdapter: AgentAdapter {
    static func mapLog(name: String, attributes a: Attributes) -> EventMapping {
        switch name.dropPrefix("claude_code.") {
        case "user_prompt":
            return EventMapping(.userPrompt)
        case "assistant_response":
            return EventMapping(.assistantResponse, EventFacts(model: a.string("model")))
        case "api_request":
            return EventMapping(.apiRequest, usage(a))
        case "api_error":
            var facts = usage(a)
            facts.error = a.string("error")
            facts.statusCode = a.integer("status_code")
            facts.success = false
            return EventMapping(.apiError, facts)
        case "tool_result":
            var facts = EventFacts(
                toolName: a.string("tool_name", "tool"), success: a.bool("success"),
                durationMs: a.number("duration_ms"))
            facts.error = a.string("error", "error_type")
            return EventMapping(.toolResult, facts)
        case "tool_decision":
            let decision = a.string("decision")
            return EventMapping(
                .toolDecision,
                EventFacts(toolName: a.string("tool_name", "tool"), success: decision.map { $0 == "accept" }))
        case "internal_error":
            return EventMapping(.other, EventFacts(error: a.string("error_name", "error")))
        default:
            return EventMapping(.other)
        }
    }

    static func mapSpan(name: String, attributes a: Attributes, failed: Bool) -> EventMapping {
        switch name {
        case "claude_code.interaction":
            // Arrives when the turn ends: the "turn completed" signal of Claude Code tracing.
            return EventMapping(.turnFinished, EventFacts(durationMs: a.number("interaction.duration_ms")))
        case "claude_code.llm_request":
            var facts = usage(a)
            let success = a.bool("success") ?? !failed
            facts.success = success
            facts.statusCode = a.integer("status_code")
            facts.error = a.string("error")
            return EventMapping(success ? .apiRequest : .apiError, facts)
        case "claude_code.tool":
            return EventMapping(
                .toolResult,
                EventFacts(
                    toolName: a.string("tool_name", "gen_ai.tool.name"), success: a.bool("success") ?? !failed,
                    durationMs: a.number("duration_ms")))
        case "claude_code.tool.blocked_on_user":
            let decision = a.string("decision")
            return EventMapping(.toolDecision, EventFacts(success: decision.map { $0 == "accept" }))
        default:
            return EventMapping(.activity)
        }
    }

    static func meaning(ofMetric name: String, attributes a: Attributes) -> MetricSample.Meaning {
        switch name {
        case "claude_code.cost.usage":
            return .costUSD
        case "claude_code.token.usage":
            switch a.string("type") {
            case "input": return .inputTokens
            case "output": return .outputTokens
            case "cacheRead", "cache_read": return .cacheReadTokens
            case "cacheCreation", "cache_creation": return .cacheCreationTokens
            default: return .other
            }
        default:
            return .other
        }
    }

    /// Model, cost and tokens of an API request (event or span).
    private static func usage(_ a: Attributes) -> EventFacts {
        var cost = a.number("cost_usd")
        if cost == nil, let micros = a.number("cost_usd_micros") { cost = micros / 1_000_000 }
        return EventFacts(
            model: a.string("model", "gen_ai.request.model"), durationMs: a.number("duration_ms"), costUSD: cost,
            inputTokens: a.number("input_tokens", "gen_ai.usage.input_tokens"),
            outputTokens: a.number("output_tokens", "gen_ai.usage.output_tokens"),
            cacheReadTokens: a.number("cache_read_tokens", "gen_ai.usage.cache_read.input_tokens"),
            cacheCreationTokens: a.number("cache_creation_tokens", "gen_ai.usage.cache_creation.input_tokens"))
    }
}

extension String {
    /// The string without `prefix`, or the whole string if it does not start with it.
    func dropPrefix(_ prefix: String) -> Substring {
        hasPrefix(prefix) ? self.dropFirst(prefix.count) : Substring(self)
    }
}
