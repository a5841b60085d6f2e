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
        costUSD = tally.costUSD.isNaN ? 0 : min(max(tally.costUSD, -.greatestFiniteMagnitude), .greatestFiniteMagnitude)
        inputTokens = Self.count(tally.inputTokens)
        outputTokens = Self.count(tally.outputTokens)
        cacheReadTokens = Self.count(tally.cacheReadTokens)
        cacheCreationTokens = Self.count(tally.cacheCreationTokens)
        toolCalls = tally.toolCalls
        toolErrors = tally.toolErrors
        apiRequests = tally.apiRequests
        apiErrors = tally.apiErrors
        prompts = tally.prompts
        self.events = events
    }

    /// Largest token total shown: 2^53, the largest integer a Double holds exactly. Totals are sums
    /// of what agents report, and a record claiming 1e300 tokens (or a sum that reaches infinity)
    /// must not trap the `Int` conversion (found by fuzzing: one such request crashed the sink, and
    /// again at every start while the event was stored). Sums of two stay far from `Int.max`.
    package static let maxCount = 1 << 53

    static func count(_ value: Double) -> Int {
        guard !value.isNaN else { return 0 }
        return Int(min(max(value, -Double(maxCount)), Double(maxCount)).rounded())
    }
}
