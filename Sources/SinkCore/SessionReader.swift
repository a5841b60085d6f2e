/// Read access to sessions and their events: the port the API and the live view read through.
package protocol SessionReader: Sendable {
    /// Every session, most recently seen first.
    func sessions() async -> [Session]
    func session(id: String) async -> Session?
    /// Events of one session with `seq > after`, oldest first, at most `limit`.
    func events(sessionID: String, after: Int64, limit: Int) async throws -> [StoredEvent]
    /// Events of every session with `seq > after`, oldest first, at most `limit`.
    func events(after: Int64, limit: Int) async throws -> [StoredEvent]
}

/// Read access to the alert instances that are active now (the live view's snapshot).
package protocol AlertReader: Sendable {
    func activeAlerts() async -> [AlertSnapshot]
}
