import ArgumentParser
import ObservatoryTools

/// `observatory setup claude-code|codex|gemini [--scope user|project] [--dry-run] [--remove]`.
struct SetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Point an agent's settings at the Observatory (or, with --remove, undo that).",
        discussion: """
            claude-code: ~/.claude/settings.json (or .claude/settings.json with --scope project) gets \
            the telemetry variables in "env" and an `observatory hook` handler for each lifecycle hook.
            codex: ~/.codex/config.toml gets `notify = [".../observatory", "hook", "--codex"]` and an \
            [otel] table exporting to the sink, between marker comments.
            gemini: ~/.gemini/settings.json (or .gemini/settings.json) gets a "telemetry" block.
            Everything else in the file is kept. The old file is backed up under \
            $XDG_STATE_HOME/observatory/backups and the change is printed as a diff. Running it \
            again changes nothing. --remove takes out only what setup added and puts back values \
            it replaced; without an agent it undoes all three.
            """
    )

    @Argument(help: "claude-code, codex or gemini (optional with --remove: all of them).")
    var agent: String?

    @Option(help: "user (your home directory) or project (the current directory).")
    var scope: String = "user"

    @Flag(help: "Show the change without writing anything.")
    var dryRun = false

    @Flag(help: "Undo what setup added.")
    var remove = false

    @Option(help: "The sink's OTLP/HTTP address (default: $OBSERVATORY_ENDPOINT or http://127.0.0.1:4318).")
    var endpoint: String?

    @Option(help: "The observatory executable the hooks run (default: this one, by absolute path).")
    var executable: String?

    @Option(help: "The project directory for --scope project (default: the current directory).")
    var projectDir: String?

    func run() throws {
        let paths = ObservatoryPaths(environment: ObservatoryPaths.processEnvironment())
        guard let scope = AgentSetup.Scope(rawValue: scope) else {
            throw ValidationError("--scope must be user or project")
        }
        let agents: [AgentSetup.Agent]
        if let agent {
            guard let one = AgentSetup.Agent(name: agent) else {
                throw ValidationError("unknown agent \(agent): use claude-code, codex or gemini")
            }
            agents = [one]
        } else if remove {
            agents = scope == .project ? [.claudeCode, .gemini] : AgentSetup.Agent.allCases
        } else {
            throw ValidationError("which agent? claude-code, codex or gemini")
        }
        let endpoint = endpoint ?? paths.ingestEndpoint
        guard HTTPEndpoint(endpoint) != nil else { throw ValidationError("--endpoint must be http://host:port") }
        let executable = executable ?? ObservatoryPaths.currentExecutable() ?? "observatory"
        let projectDirectory = projectDir ?? Terminal.currentDirectory()
        if !remove, agents.contains(where: { $0 != .gemini }), executable.contains("/.build/") {
            print("note: the hooks will run \(executable), inside a build directory; `swift package clean` "
                + "would break them. Copy the binary somewhere stable and run setup from there, or pass --executable.")
        }

        var failed = false
        for agent in agents {
            var setup = AgentSetup(agent: agent, endpoint: endpoint, executable: executable, projectDirectory: projectDirectory)
            setup.scope = scope
            setup.remove = remove
            setup.dryRun = dryRun
            do {
                let outcome = try setup.run(paths: paths)
                report(agent: agent, outcome: outcome)
            } catch {
                Terminal.error("\(agent.rawValue): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    private func report(agent: AgentSetup.Agent, outcome: AgentSetup.Outcome) {
        print("== \(agent.rawValue): \(outcome.path)")
        for note in outcome.notes { print("note: \(note)") }
        guard outcome.changed || outcome.deleted else {
            print(remove ? "nothing of observatory's in it: nothing to change" : "already set up: nothing to change")
            return
        }
        print(outcome.diff, terminator: "")
        if dryRun {
            print("dry run: nothing written")
            return
        }
        if let backup = outcome.backupPath { print("backup: \(backup)") }
        if outcome.deleted {
            print("deleted (setup had created it and nothing else is in it)")
        } else {
            print("written")
        }
        if !remove {
            switch agent {
            case .claudeCode: print("Claude Code reads its settings at start: restart running sessions.")
            case .codex: print("Codex reads config.toml at start: restart running sessions.")
            case .gemini: print("Gemini CLI reads its settings at start: restart running sessions.")
            }
        }
    }
}
