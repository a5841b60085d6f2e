/// How a kill or restart went, as the wrapper reports it once the agent's whole process group is
/// gone (and, for a restart, the new process has started).
package struct HelperCommandResult: Sendable, Equatable {
    package var ok: Bool
    /// The process that was stopped.
    package var pid: Int32
    /// The new process after a restart; nil for a kill (or a restart whose spawn failed).
    package var newPID: Int32?
    /// The stopped process's exit status, if it exited…
    package var exitCode: Int32?
    /// …or the signal that ended it.
    package var exitSignal: Int32?
    /// Whether SIGKILL was needed (something in the group outlived the grace period).
    package var escalated: Bool
    /// Why `ok` is false (for example the restart command could not be started).
    package var message: String?

    package init(
        ok: Bool, pid: Int32, newPID: Int32? = nil, exitCode: Int32? = nil, exitSignal: Int32? = nil,
        escalated: Bool = false, message: String? = nil
    ) {
        self.ok = ok
        self.pid = pid
        self.newPID = newPID
        self.exitCode = exitCode
        self.exitSignal = exitSignal
        self.escalated = escalated
        self.message = message
    }

    /// The members after `id` and `type` in a `result` message.
    package var jsonMembers: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [
            ("ok", .bool(ok)), ("pid", .integer(pid)), ("new_pid", newPID.map { .integer($0) } ?? .null),
            ("exit_code", exitCode.map { .integer($0) } ?? .null),
            ("exit_signal", exitSignal.map { .integer($0) } ?? .null), ("escalated", .bool(escalated)),
        ]
        if let message { members.append(("message", .string(message))) }
        return members
    }

    package init?(json: JSONValue) {
        guard let ok = json["ok"]?.boolValue, let pid = json["pid"]?.int32Value else { return nil }
        self.init(
            ok: ok, pid: pid, newPID: json["new_pid"]?.int32Value, exitCode: json["exit_code"]?.int32Value,
            exitSignal: json["exit_signal"]?.int32Value, escalated: json["escalated"]?.boolValue ?? false,
            message: json["message"]?.stringValue)
    }
}
