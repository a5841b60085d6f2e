/// Running totals of one session as reported by one ``EventSource``.
package struct SessionTally: Sendable, Hashable, Codable {
    package var costUSD: Double = 0
    package var inputTokens: Double = 0
    package var outputTokens: Double = 0
    package var cacheReadTokens: Double = 0
    package var cacheCreationTokens: Double = 0
    package var toolCalls: Int = 0
    package var toolErrors: Int = 0
    package var apiRequests: Int = 0
    package var apiErrors: Int = 0
    package var prompts: Int = 0

    package init() {}

    /// Field by field, the larger of two tallies: how the totals of different sources are
    /// reconciled. Sources report the same facts; whichever has seen more of them is closer to the truth.
    package func fieldwiseMax(_ other: SessionTally) -> SessionTally {
        var result = SessionTally()
        result.costUSD = max(costUSD, other.costUSD)
        result.inputTokens = max(inputTokens, other.inputTokens)
        result.outputTokens = max(outputTokens, other.outputTokens)
        result.cacheReadTokens = max(cacheReadTokens, other.cacheReadTokens)
        result.cacheCreationTokens = max(cacheCreationTokens, other.cacheCreationTokens)
        result.toolCalls = max(toolCalls, other.toolCalls)
        result.toolErrors = max(toolErrors, other.toolErrors)
        result.apiRequests = max(apiRequests, other.apiRequests)
        result.apiErrors = max(apiErrors, other.apiErrors)
        result.prompts = max(prompts, other.prompts)
        return result
    }

    /// Adds what one event reports.
    package mutating func add(_ event: SessionEvent) {
        let facts = event.facts
        switch event.kind {
        case .userPrompt:
            prompts += 1
        case .apiRequest:
            apiRequests += 1
            addUsage(facts)
        case .apiError:
            apiErrors += 1
            addUsage(facts)
        case .usage:
            addUsage(facts)
        case .toolResult:
            toolCalls += 1
            if facts.success == false { toolErrors += 1 }
        case .turnFinished:
            // A turn that ended on an API failure (Claude Code's `StopFailure` hook).
            if facts.success == false { apiErrors += 1 }
        default:
            break
        }
    }

    private mutating func addUsage(_ facts: EventFacts) {
        costUSD += facts.costUSD ?? 0
        inputTokens += facts.inputTokens ?? 0
        outputTokens += facts.outputTokens ?? 0
        cacheReadTokens += facts.cacheReadTokens ?? 0
        cacheCreationTokens += facts.cacheCreationTokens ?? 0
    }
}

extension SessionTally {
    /// ``SessionStateCoding``: the fields in declaration order.
    func write(to writer: inout SessionStateCoding.Writer) {
        for value in [costUSD, inputTokens, outputTokens, cacheReadTokens, cacheCreationTokens] { writer.double(value) }
        for value in [toolCalls, toolErrors, apiRequests, apiErrors, prompts] { writer.integer(value) }
    }

    init(reading reader: inout SessionStateCoding.Reader) throws(SessionStateCoding.DecodingError) {
        costUSD = try reader.double()
        inputTokens = try reader.double()
        outputTokens = try reader.double()
        cacheReadTokens = try reader.double()
        cacheCreationTokens = try reader.double()
        toolCalls = try reader.integer()
        toolErrors = try reader.integer()
        apiRequests = try reader.integer()
        apiErrors = try reader.integer()
        prompts = try reader.integer()
    }
}
