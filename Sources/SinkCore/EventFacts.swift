/// The facts the Observatory understands in an event, pulled out of vendor-specific attributes by
/// the normalizer. Every field is optional: agents leave things out and rename them across versions.
package struct EventFacts: Sendable, Hashable, Codable {
    package var model: String?
    package var toolName: String?
    /// Whether a tool call or API call succeeded.
    package var success: Bool?
    package var durationMs: Double?
    package var costUSD: Double?
    package var inputTokens: Double?
    package var outputTokens: Double?
    package var cacheReadTokens: Double?
    package var cacheCreationTokens: Double?
    package var error: String?
    package var statusCode: Int?
    /// Working directory of the agent, when an event tells it.
    package var cwd: String?
    /// A human name for the session (from `observatory run --name` or the agent).
    package var sessionName: String?
    /// Process exit code, or the signal that ended it.
    package var exitCode: Int?
    package var exitSignal: Int?
    /// The process was stopped on purpose (a control kill or restart, or the wrapper itself was
    /// told to stop): its end is not a crash, whatever the signal.
    package var stopRequested: Bool?
    /// For `.metric` events: how the value adds up over time.
    package var metric: MetricSample?

    package init(
        model: String? = nil, toolName: String? = nil, success: Bool? = nil, durationMs: Double? = nil,
        costUSD: Double? = nil, inputTokens: Double? = nil, outputTokens: Double? = nil,
        cacheReadTokens: Double? = nil, cacheCreationTokens: Double? = nil, error: String? = nil,
        statusCode: Int? = nil, cwd: String? = nil, sessionName: String? = nil, exitCode: Int? = nil,
        exitSignal: Int? = nil, metric: MetricSample? = nil, stopRequested: Bool? = nil
    ) {
        self.model = model
        self.toolName = toolName
        self.success = success
        self.durationMs = durationMs
        self.costUSD = costUSD
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheCreationTokens = cacheCreationTokens
        self.error = error
        self.statusCode = statusCode
        self.cwd = cwd
        self.sessionName = sessionName
        self.exitCode = exitCode
        self.exitSignal = exitSignal
        self.metric = metric
        self.stopRequested = stopRequested
    }
}

/// One metric data point that feeds a session total.
package struct MetricSample: Sendable, Hashable, Codable {
    /// What the value counts.
    package enum Meaning: String, Sendable, Hashable, Codable {
        case costUSD, inputTokens, outputTokens, cacheReadTokens, cacheCreationTokens, other
    }
    /// OTLP `AggregationTemporality`: a delta is added to the total; a cumulative value replaces the
    /// last value of its series (a series restarts when its start time changes).
    package enum Temporality: String, Sendable, Hashable, Codable {
        case delta, cumulative, gauge
    }
    package var meaning: Meaning
    package var temporality: Temporality
    package var value: Double
    /// Identifies the cumulative series: metric name, data point attributes and start time.
    package var seriesKey: UInt64

    package init(meaning: Meaning, temporality: Temporality, value: Double, seriesKey: UInt64) {
        self.meaning = meaning
        self.temporality = temporality
        self.value = value
        self.seriesKey = seriesKey
    }
}
