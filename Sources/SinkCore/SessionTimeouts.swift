/// The quiet periods after which time alone changes a session's status.
package struct SessionTimeouts: Sendable, Hashable, Codable {
    /// A starting or working session with no progress for this long becomes idle. Telemetry cannot
    /// tell a finished turn from a long think; hooks make this exact.
    package var idleAfter: Duration
    /// A session with no telemetry at all for this long is considered ended.
    package var endAfter: Duration

    package init(idleAfter: Duration = .seconds(300), endAfter: Duration = .seconds(4 * 3600)) {
        self.idleAfter = idleAfter
        self.endAfter = endAfter
    }

    package static let `default` = SessionTimeouts()
}
