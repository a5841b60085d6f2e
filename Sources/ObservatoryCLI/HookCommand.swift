import ArgumentParser

/// `observatory hook` — documented here for `--help`; the real work runs before argument parsing
/// (see ``ObservatoryMain``) so that it can never fail the agent.
struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Forward one agent hook payload to the sink (used by agents, not by hand).",
        discussion: """
            Claude Code (and Gemini CLI) hooks: the payload is read from stdin. Codex `notify`: \
            the payload is the last argument (`observatory hook --codex '{...}'`). The record goes \
            to {endpoint}/v1/logs within ~230 ms; if the sink is unreachable it is kept in \
            $XDG_STATE_HOME/observatory/hook-spool.jsonl and sent with the next hook. Always exits \
            0 and prints nothing on stdout. OBSERVATORY_HOOK_DEBUG=1 prints what happened on stderr.
            """
    )

    @Flag(help: "The payload is a Codex notify payload (argument).") var codex = false
    @Option(help: "Agent: claude-code, codex or gemini-cli (default: guessed from the payload).") var agent: String?
    @Option(help: "Sink ingest address (default: $OBSERVATORY_ENDPOINT or http://127.0.0.1:4318).") var endpoint: String?
    @Option(help: "Spool file (default: $XDG_STATE_HOME/observatory/hook-spool.jsonl).") var spool: String?
    @Flag(name: .shortAndLong, help: "Say on stderr what happened.") var verbose = false
    @Argument(help: "A payload given as an argument (Codex notify).") var payload: String?

    func run() {}
}
