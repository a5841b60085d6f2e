#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A blocking client of the helper's socket, one connection per call. Meant for a background
/// thread (the sink) or a command-line tool; every call ends by `timeout` seconds.
///
/// For kill and restart the helper waits up to grace + 5 s for the wrapper, so pass a `timeout`
/// of at least grace + 6 s to see the helper's own `timeout` error instead of ``HelperClientError/timeout``.
package struct HelperClient: Sendable {
    package let socketPath: String

    package init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// The registered agents and the unwrapped agent processes.
    package func list(timeout: Double) throws(HelperClientError) -> HelperAgentList {
        let id = Self.requestID()
        switch try exchange(.list(id: id), timeout: timeout) {
        case .agents(_, let list): return list
        case let other: throw Self.unexpected(other)
        }
    }

    /// SIGTERM to the agent's process group, SIGKILL after `grace` seconds; answers once the group
    /// is gone.
    package func kill(agent: String, grace: Double, timeout: Double) throws(HelperClientError) -> HelperCommandResult {
        try command(.kill(id: Self.requestID(), agent: agent, grace: grace), timeout: timeout)
    }

    /// Kill as above, then the same command again (or its `--restart-with` command); answers once
    /// the new process started.
    package func restart(agent: String, grace: Double, timeout: Double) throws(HelperClientError) -> HelperCommandResult {
        try command(.restart(id: Self.requestID(), agent: agent, grace: grace), timeout: timeout)
    }

    // MARK: Internals

    private func command(_ request: ControlMessage, timeout: Double) throws(HelperClientError) -> HelperCommandResult {
        switch try exchange(request, timeout: timeout) {
        case .result(_, let result): return result
        case let other: throw Self.unexpected(other)
        }
    }

    private static func unexpected(_ message: ControlMessage) -> HelperClientError {
        if case .error(_, let code, let text) = message { return .refused(code: code, message: text) }
        return .protocolError("unexpected answer: \(message.json.compactText)")
    }

    /// Sends `request` and returns the answer carrying its id (other lines are skipped).
    package func exchange(_ request: ControlMessage, timeout: Double) throws(HelperClientError) -> ControlMessage {
        let deadline = ControlTime.deadline(after: timeout)
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: socketPath, deadline: deadline)
        } catch {
            if error.code == ETIMEDOUT { throw .timeout }
            throw .unreachable(path: socketPath, reason: error.reason)
        }
        defer { close(fd) }
        do {
            try UnixSocket.sendAll(fd, request.line, deadline: deadline)
        } catch {
            if error.code == ETIMEDOUT { throw .timeout }
            throw .unreachable(path: socketPath, reason: error.reason)
        }
        var framer = LineFramer()
        var pending: [[UInt8]] = []
        while true {
            let line: [UInt8]
            do {
                line = try UnixSocket.readLine(fd, framer: &framer, pending: &pending, deadline: deadline)
            } catch {
                if error.code == ETIMEDOUT { throw .timeout }
                throw .protocolError(error.reason)
            }
            let message: ControlMessage
            do {
                message = try ControlMessage.decode(line: line)
            } catch {
                throw .protocolError(error.message)
            }
            // An error without our id (the helper refusing the connection) is still the answer.
            if message.id == request.id { return message }
            if case .error = message, message.id.isEmpty { return message }
        }
    }

    /// A request id unique enough for one connection's lifetime.
    static func requestID() -> String {
        "c\(getpid())-" + String(ControlTime.monotonicNanos(), radix: 36)
    }
}
