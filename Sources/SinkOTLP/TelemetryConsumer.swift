/// The port between the OTLP/HTTP receiver and what processes telemetry (the normalizer).
package protocol TelemetryConsumer: Sendable {
    /// Processes a decoded request and returns once its records are durably stored.
    /// - Returns: the records that were rejected, if any (answered as a partial success).
    /// - Throws: a transient error (answered 503 with `Retry-After`, so the exporter retries).
    func consume(_ request: OTLPRequest) async throws -> OTLPPartialSuccess?
}
