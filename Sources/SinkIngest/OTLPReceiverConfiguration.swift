/// Settings of the OTLP/HTTP receiver.
package struct OTLPReceiverConfiguration: Sendable, Hashable, Codable {
    /// Largest request body accepted, compressed or not, and again after decompression (HTTP 413
    /// above it). The collector's batch processor sends up to ~8,200 records, ~3.7 MB decoded,
    /// per request (perf-anchors.md §6); the default leaves twice that.
    package var maxRequestBytes: Int = 8 * 1024 * 1024
    /// Requests decoded at the same time; past it the receiver answers 503 with `Retry-After`
    /// instead of holding more bodies in memory.
    package var maxConcurrentRequests: Int = 64
    /// `Retry-After` seconds sent with 503 when the receiver is saturated.
    package var retryAfterSeconds: Int = 1

    package init() {}
}
