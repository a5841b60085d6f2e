/// Where a session stands. Derived only by ``SessionStatusMachine``.
package enum SessionStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Seen a start signal, no work yet.
    case starting
    /// Making progress: prompts, API calls, tool calls.
    case working
    /// Blocked on the human: a permission prompt (known from hooks).
    case waiting
    /// Finished its turn (hook) or quiet for longer than the idle threshold.
    case idle
    /// Ended cleanly (hook, agent event, process exit 0) or silent past the end threshold.
    case ended
    /// The agent process died with a non-zero status or a signal.
    case crashed

    /// Ended or crashed: nothing more is expected.
    package var isFinal: Bool { self == .ended || self == .crashed }
}
