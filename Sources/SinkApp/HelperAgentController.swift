import Foundation
import ObservatoryControl
import SinkAPI
import SinkCore

/// The control API's ``AgentController``: the local-socket helper (`observatory helper`), reached
/// with the blocking ``HelperClient`` on a thread of its own per call — a kill can take the whole
/// grace period, and must not hold one of the few threads that serve ingest.
struct HelperAgentController: AgentController {
    let client: HelperClient
    /// How long a roster request may take.
    var listTimeout: Double = 2

    init(socketPath: String) {
        client = HelperClient(socketPath: socketPath)
    }

    func roster() async throws(AgentControlError) -> AgentRoster {
        let client = client
        let timeout = listTimeout
        let list = try await Self.onThread { () throws(HelperClientError) in try client.list(timeout: timeout) }
        return AgentRoster(
            agents: list.agents.map {
                ControlledAgent(
                    id: $0.id, name: $0.name, pid: Int($0.pid), argv: $0.argv, cwd: $0.cwd,
                    started: $0.started > 0 ? Date(timeIntervalSince1970: $0.started) : nil, restarts: $0.restarts)
            },
            unwrapped: list.unwrapped.map { UnwrappedAgent(pid: Int($0.pid), kind: $0.kind, argv: $0.argv, cwd: $0.cwd) })
    }

    func kill(agent: String, grace: Duration) async throws(AgentControlError) -> AgentControlOutcome {
        let client = client
        let seconds = grace.seconds
        let result = try await Self.onThread { () throws(HelperClientError) in
            try client.kill(agent: agent, grace: seconds, timeout: seconds + 8)
        }
        return try Self.outcome(result)
    }

    func restart(agent: String, grace: Duration) async throws(AgentControlError) -> AgentControlOutcome {
        let client = client
        let seconds = grace.seconds
        let result = try await Self.onThread { () throws(HelperClientError) in
            try client.restart(agent: agent, grace: seconds, timeout: seconds + 15)
        }
        return try Self.outcome(result)
    }

    private static func outcome(_ result: HelperCommandResult) throws(AgentControlError) -> AgentControlOutcome {
        guard result.ok else { throw .failed(result.message ?? "the wrapper could not do it") }
        return AgentControlOutcome(
            pid: Int(result.pid), newPid: result.newPID.map(Int.init), exitCode: result.exitCode.map(Int.init),
            exitSignal: result.exitSignal.map(Int.init), escalated: result.escalated)
    }

    /// Runs a blocking helper call on a new thread and maps its error.
    private static func onThread<T: Sendable>(
        _ body: @escaping @Sendable () throws(HelperClientError) -> T
    ) async throws(AgentControlError) -> T {
        let result: Result<T, HelperClientError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(HelperClientError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = "observatory-control"
            thread.start()
        }
        switch result {
        case .success(let value):
            return value
        case .failure(let error):
            switch error {
            case .unreachable(let path, let reason): throw .unavailable("\(path): \(reason)")
            case .timeout: throw .timeout
            case .refused(let code, let message):
                switch code {
                case "not_found": throw .notControllable(message)
                case "timeout": throw .timeout
                default: throw .failed("\(code): \(message)")
                }
            case .protocolError(let message): throw .failed(message)
            }
        }
    }
}
