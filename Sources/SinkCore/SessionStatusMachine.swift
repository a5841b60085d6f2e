import Foundation

/// Derives a session's status from its events and the passage of time. Pure: no clock, no I/O;
/// the caller passes the time of every input.
///
/// ```
///  (new) ─start─▶ starting ─work─▶ working ◀─work─┐
///                    │               │  ▲          │
///                    │      permission  work     idle (turn finished / quiet)
///                    │               ▼  │          │
///                    └────────────▶ waiting ───────┘
///  any ─end / exit 0 / silent too long─▶ ended     any ─exit ≠ 0 / signal─▶ crashed
///  ended / crashed ─start or work─▶ starting / working (the agent resumed the session)
/// ```
///
/// Telemetry arrives late (logs are batched for seconds), so an event that happened before the
/// current status began does not change it: a tool result exported after the `Stop` hook does not
/// turn a finished session back into a working one.
package struct SessionStatusMachine: Sendable, Hashable, Codable {
    package private(set) var status: SessionStatus
    /// When the current status began (event time for event-driven changes, the tick's time otherwise).
    package private(set) var since: Date
    /// Why the session has this status, in words for the user.
    package private(set) var reason: String
    /// Time of the last event that showed progress.
    package private(set) var lastProgress: Date?
    /// Time of the last event of any kind (receive time).
    package private(set) var lastSeen: Date

    package init(firstSeen: Date) {
        status = .starting
        since = firstSeen
        reason = "first telemetry"
        lastSeen = firstSeen
    }

    /// Feeds one event; returns whether the status changed.
    @discardableResult
    package mutating func apply(_ event: SessionEvent, receivedAt: Date) -> Bool {
        lastSeen = max(lastSeen, receivedAt)
        if event.kind.isProgress || (event.kind == .metric && (event.facts.metric?.value ?? 0) > 0) {
            lastProgress = max(lastProgress ?? receivedAt, receivedAt)
        }
        // Late telemetry does not undo a change that happened after it.
        guard event.time >= since else { return false }
        switch event.kind {
        case .sessionStart, .processStart:
            return status.isFinal ? change(to: .starting, at: event.time, reason: "session started") : false
        case .userPrompt:
            return change(to: .working, at: event.time, reason: "prompt received")
        case .assistantResponse, .apiRequest, .apiError, .usage, .toolDecision, .toolResult, .activity:
            return change(to: .working, at: event.time, reason: "agent activity")
        case .permissionRequest:
            return change(to: .waiting, at: event.time, reason: "waiting for approval")
        case .turnFinished:
            return change(to: .idle, at: event.time, reason: "turn finished")
        case .sessionEnd:
            return change(to: .ended, at: event.time, reason: "session ended")
        case .processExit:
            if event.facts.stopRequested == true {
                let how = event.facts.exitSignal.map { "signal \($0)" } ?? "status \(event.facts.exitCode ?? 0)"
                return change(to: .ended, at: event.time, reason: "stopped on request (\(how))")
            }
            if let signal = event.facts.exitSignal {
                return change(to: .crashed, at: event.time, reason: "killed by signal \(signal)")
            }
            if let code = event.facts.exitCode, code != 0 {
                return change(to: .crashed, at: event.time, reason: "exited with status \(code)")
            }
            return change(to: .ended, at: event.time, reason: "process exited")
        case .other:
            return status.isFinal ? change(to: .starting, at: event.time, reason: "activity after end") : false
        case .metric:
            return false
        }
    }

    /// Applies the passage of time; returns whether the status changed.
    @discardableResult
    package mutating func tick(now: Date, timeouts: SessionTimeouts) -> Bool {
        if !status.isFinal, now.timeIntervalSince(lastSeen) >= timeouts.endAfter.seconds {
            return change(to: .ended, at: now, reason: "no telemetry for \(timeouts.endAfter.spoken)")
        }
        if status == .starting || status == .working {
            let quietSince = max(lastProgress ?? since, since)
            if now.timeIntervalSince(quietSince) >= timeouts.idleAfter.seconds {
                return change(to: .idle, at: now, reason: "no activity for \(timeouts.idleAfter.spoken)")
            }
        }
        return false
    }

    private mutating func change(to newStatus: SessionStatus, at time: Date, reason: String) -> Bool {
        guard newStatus != status else { return false }
        status = newStatus
        since = time
        self.reason = reason
        return true
    }
}

extension Duration {
    /// Whole and fractional seconds.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// "90s", "5m", "4h".
    package var spoken: String {
        let total = Int(seconds.rounded())
        if total % 3600 == 0, total >= 3600 { return "\(total / 3600)h" }
        if total % 60 == 0, total >= 60 { return "\(total / 60)m" }
        return "\(total)s"
    }
}

extension SessionStatusMachine {
    /// ``SessionStateCoding``: the fields in declaration order.
    func write(to writer: inout SessionStateCoding.Writer) {
        writer.string(status.rawValue)
        writer.date(since)
        writer.string(reason)
        writer.optional(lastProgress) { $0.date($1) }
        writer.date(lastSeen)
    }

    init(reading reader: inout SessionStateCoding.Reader) throws(SessionStateCoding.DecodingError) {
        status = try reader.rawValue(SessionStatus.self)
        since = try reader.date()
        reason = try reader.string()
        lastProgress = try reader.optional { reader throws(SessionStateCoding.DecodingError) in try reader.date() }
        lastSeen = try reader.date()
    }
}
