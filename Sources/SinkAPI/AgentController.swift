import Foundation

/// The port through which the control API reaches the agents: in the sink, the local-socket helper
/// (`observatory helper`) and the `observatory run` wrappers registered with it.
package protocol AgentController: Sendable {
    /// The wrapped agents (controllable) and agent processes found running unwrapped (read-only).
    func roster() async throws(AgentControlError) -> AgentRoster
    /// SIGTERM to the agent's process group, SIGKILL after `grace`; returns when the group is gone.
    func kill(agent: String, grace: Duration) async throws(AgentControlError) -> AgentControlOutcome
    /// Kill, then start the same command (or its `--restart-with` command) again, same agent id.
    func restart(agent: String, grace: Duration) async throws(AgentControlError) -> AgentControlOutcome
}

/// What the helper knows of running agents.
package struct AgentRoster: Sendable, Equatable, Encodable {
    package var agents: [ControlledAgent]
    package var unwrapped: [UnwrappedAgent]

    package init(agents: [ControlledAgent], unwrapped: [UnwrappedAgent]) {
        self.agents = agents
        self.unwrapped = unwrapped
    }
}

/// An agent started with `observatory run`: its id is the session id of its telemetry.
package struct ControlledAgent: Sendable, Equatable, Encodable {
    package var id: String
    package var name: String
    package var pid: Int
    package var argv: [String]
    package var cwd: String
    package var started: Date?
    package var restarts: Int

    package init(id: String, name: String, pid: Int, argv: [String], cwd: String, started: Date?, restarts: Int) {
        self.id = id
        self.name = name
        self.pid = pid
        self.argv = argv
        self.cwd = cwd
        self.started = started
        self.restarts = restarts
    }
}

/// An agent process running without the wrapper: shown, never controlled.
package struct UnwrappedAgent: Sendable, Equatable, Encodable {
    package var pid: Int
    package var kind: String
    package var argv: [String]
    package var cwd: String?

    package init(pid: Int, kind: String, argv: [String], cwd: String?) {
        self.pid = pid
        self.kind = kind
        self.argv = argv
        self.cwd = cwd
    }
}

/// How a kill or restart ended.
package struct AgentControlOutcome: Sendable, Equatable, Encodable {
    /// The process that was stopped.
    package var pid: Int?
    /// After a restart: the new process.
    package var newPid: Int?
    package var exitCode: Int?
    package var exitSignal: Int?
    /// SIGKILL was needed after the grace period.
    package var escalated: Bool

    package init(pid: Int?, newPid: Int? = nil, exitCode: Int? = nil, exitSignal: Int? = nil, escalated: Bool) {
        self.pid = pid
        self.newPid = newPid
        self.exitCode = exitCode
        self.exitSignal = exitSignal
        self.escalated = escalated
    }
}

/// Why a control call did not happen.
package enum AgentControlError: Error, Sendable, Equatable {
    /// The helper is not running or not reachable (its socket path and the reason).
    case unavailable(String)
    /// No wrapper of that agent is registered: it was not started with `observatory run`, or it ended.
    case notControllable(String)
    /// The helper or the wrapper did not answer in time.
    case timeout
    /// The helper or wrapper refused or failed.
    case failed(String)
}
