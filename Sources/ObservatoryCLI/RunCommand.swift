import ArgumentParser

/// `observatory run` — documented here for `--help`; the real parsing is ``WrapperOptions`` (run
/// before the argument parser, see ``ObservatoryMain``) because both the agent's command and
/// `--restart-with`'s are open-ended.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an agent under the Observatory: process reports, and kill / restart from the dashboard.",
        discussion: """
            observatory run [--name NAME] [--id ID] [--grace SECONDS] [--restart-with CMD… --] -- CMD ARGS…

            CMD is exec'd directly (PATH lookup, never a shell) in its own process group, in this \
            terminal. Telemetry variables pointing at the sink are added unless already set, and \
            OTEL_RESOURCE_ATTRIBUTES gets observatory.agent.id/name. The wrapper reports start, \
            exit and CPU/RSS samples (every 5 s) to the sink, registers with `observatory helper` \
            (reconnecting if it restarts), and carries out kill (SIGTERM to the group, SIGKILL \
            after --grace) and restart (the same command, or the --restart-with one, which takes \
            every word up to the next --). Exits with the agent's status (128+signal for a signal).
            """
    )

    @Option(help: "The agent's name on the dashboard (default: COMMAND@DIRECTORY).") var name: String?
    @Option(help: "The agent id (default: random; kept across restarts).") var id: String?
    @Option(help: "Seconds between SIGTERM and SIGKILL when the wrapper itself is told to stop (default 5).") var grace: Double?
    @Option(help: "The command a restart runs instead (words up to the next --), e.g. a resume command.") var restartWith: String?
    @Option(help: "The helper's socket (default: $OBSERVATORY_HELPER_SOCKET, $XDG_RUNTIME_DIR/observatory/helper.sock).") var socket: String?
    @Option(help: "The sink's OTLP/HTTP address (default: $OBSERVATORY_ENDPOINT or http://127.0.0.1:4318).") var endpoint: String?
    @Flag(name: .shortAndLong, help: "Say on stderr what the wrapper does (mixes with the agent's output).") var verbose = false
    @Argument(help: "-- COMMAND ARGS…") var command: [String] = []

    func run() {}
}
