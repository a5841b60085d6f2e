/// The totals of a session as the API and the rules see them.
package struct SessionCounters: Sendable, Hashable, Codable {
    package var costUSD: Double
    package var inputTokens: Int
    package var outputTokens: Int
    package var cacheReadTokens: Int
    package var cacheCreationTokens: Int
    package var toolCalls: Int
    package var toolErrors: Int
    package var apiRequests: Int
    package var apiErrors: Int
    package var prompts: Int
    /// Events stored for this session (every kind, every source).
    package var events: Int

    package init(tally: SessionTally, events: Int) {
        costUSD = tally.costUSD
        inputTokens = Int(tally.inputTokens.rounded())
        outputTokens = Int(tally.outputTokens.rounded())
        cacheReadTokens = Int(tally.cacheReadTokens.rounded())
        cacheCreationTokens = Int(tally.cacheCreationTokens.rounded())
        toolCalls = tally.toolCalls
        toolErrors = tally.toolErrors
        apiRequests = tally.apiRequests
        apiErrors = tally.apiErrors
        prompts = tally.prompts
        self.events = events
    }
}
