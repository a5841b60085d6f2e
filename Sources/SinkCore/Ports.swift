/// The port between the normalizer and whatever keeps sessions: takes a batch of events and returns
/// once they are durably stored (the receiver acknowledges only then).
package protocol EventConsumer: Sendable {
    /// - Throws: ``PipelineError/overloaded(retryAfterSeconds:)`` when the batch cannot be taken now;
    ///   the receiver turns that into `503` with `Retry-After` so the exporter retries.
    func consume(_ events: [SessionEvent]) async throws
}

/// Errors a pipeline stage reports upstream. Every case is transient: the sender should retry.
package enum PipelineError: Error, Sendable, Hashable {
    /// Too much is queued; try again after the given number of seconds.
    case overloaded(retryAfterSeconds: Int)
    /// The store failed (disk full, locked); nothing of the batch was kept.
    case storeUnavailable(String)
    /// The sink is shutting down.
    case shuttingDown
}
