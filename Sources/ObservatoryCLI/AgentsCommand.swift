import ArgumentParser
import ObservatoryControl
import ObservatoryTools

/// The helper socket's address, shared by the commands that talk to it.
struct HelperSocketOption: ParsableArguments {
    @Option(help: "The helper's socket (default: $OBSERVATORY_HELPER_SOCKET, else $XDG_RUNTIME_DIR/observatory/helper.sock).")
    var socket: String?

    var client: HelperClient {
        HelperClient(socketPath: socket ?? ControlPaths.helperSocket(environment: ObservatoryPaths.processEnvironment()))
    }
}

/// `observatory agents [--json]`: the agents the helper knows, and unwrapped agent processes.
struct AgentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List agents running under `observatory run` (and agent processes running without it)."
    )

    @OptionGroup var helper: HelperSocketOption
    @Flag(help: "Print the helper's answer as JSON.") var json = false

    func run() throws {
        let list: HelperAgentList
        do {
            list = try helper.client.list(timeout: 5)
        } catch {
            Terminal.error(error.description)
            throw ExitCode(1)
        }
        if json {
            print(ControlMessage.agents(id: "", list: list).json.objectMembers!.filter { $0.0 == "agents" || $0.0 == "unwrapped" }
                .reduce(into: JSONValue.object([])) { $0.set($1.0, $1.1) }.prettyText())
            return
        }
        print(AgentTable.render(list, now: ControlTime.unixSeconds()), terminator: "")
    }
}

/// `observatory kill AGENT`.
struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Stop an agent: SIGTERM to its process group, SIGKILL after the grace period."
    )

    @OptionGroup var helper: HelperSocketOption
    @Option(help: "Seconds between SIGTERM and SIGKILL.") var grace: Double = 5
    @Flag(help: "Print the result as JSON.") var json = false
    @Argument(help: "The agent id (see `observatory agents`).") var agent: String

    func run() throws {
        try AgentTable.perform(json: json) { () throws(HelperClientError) in try helper.client.kill(agent: agent, grace: grace, timeout: grace + 10) }
    }
}

/// `observatory restart AGENT`.
struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart an agent: kill it, then start its command again (same id, same terminal)."
    )

    @OptionGroup var helper: HelperSocketOption
    @Option(help: "Seconds between SIGTERM and SIGKILL.") var grace: Double = 5
    @Flag(help: "Print the result as JSON.") var json = false
    @Argument(help: "The agent id (see `observatory agents`).") var agent: String

    func run() throws {
        try AgentTable.perform(json: json) { () throws(HelperClientError) in try helper.client.restart(agent: agent, grace: grace, timeout: grace + 15) }
    }
}
