/// What one commit changed: the events it stored and the sessions they (or the clock) changed.
package struct SessionUpdate: Sendable {
    package var events: [StoredEvent]
    package var sessions: [Session]

    package init(events: [StoredEvent], sessions: [Session]) {
        self.events = events
        self.sessions = sessions
    }
}

/// Told about every committed change, in commit order (the live view and the rule engine).
/// Implementations must return quickly: they buffer, bounded, and never slow ingest.
package protocol SessionObserver: Sendable {
    func committed(_ update: SessionUpdate) async
}
