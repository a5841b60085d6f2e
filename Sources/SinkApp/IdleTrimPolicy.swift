/// Decides when the sink gives freed memory back to the system: once ingest has been quiet for a
/// whole interval after some work, and only once per quiet spell. Pure: the owner feeds it a
/// counter of work done (events stored) at every interval.
struct IdleTrimPolicy {
    private var lastSeen: Double?
    private var trimmedAt: Double?

    /// Takes the counter's value at the end of an interval; returns whether to trim now.
    mutating func observe(workDone: Double) -> Bool {
        defer { lastSeen = workDone }
        guard let lastSeen else {
            // The first observation: nothing to give back for the start itself.
            trimmedAt = workDone
            return false
        }
        guard workDone == lastSeen, trimmedAt != workDone else { return false }
        trimmedAt = workDone
        return true
    }
}
