import ArgumentParser
import ObservatoryTools

/// `observatory doctor`: checks the sink, the agents' settings, and one test event end to end.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that the sink is reachable, the agents are set up, and a test event arrives.",
        discussion: """
            The test event is a hook record for a session named observatory-doctor-…, which is \
            ended right away. Exit status 1 if a check fails.
            """
    )

    @Option(help: "The sink's OTLP/HTTP address (default: $OBSERVATORY_ENDPOINT or http://127.0.0.1:4318).")
    var endpoint: String?

    @Option(help: "The sink's API address (default: $OBSERVATORY_API or http://127.0.0.1:4320).")
    var api: String?

    @Option(help: "An agent whose settings must be in place (claude-code, codex, gemini); repeatable.")
    var agent: [String] = []

    @Option(help: "The project directory whose settings are checked too (default: the current directory).")
    var projectDir: String?

    @Flag(help: "Do not send the end-to-end test event.")
    var noTestEvent = false

    func run() throws {
        let paths = ObservatoryPaths(environment: ObservatoryPaths.processEnvironment())
        var doctor = Doctor(
            ingest: endpoint ?? paths.ingestEndpoint, api: api ?? paths.apiEndpoint,
            projectDirectory: projectDir ?? Terminal.currentDirectory())
        doctor.sendTestEvent = !noTestEvent
        doctor.requiredAgents = try agent.map {
            guard let a = AgentSetup.Agent(name: $0) else { throw ValidationError("unknown agent \($0)") }
            return a
        }
        let checks = doctor.run(paths: paths)
        for check in checks {
            let tag = switch check.level {
            case .ok: "ok  "
            case .info: "info"
            case .warn: "warn"
            case .fail: "FAIL"
            }
            print("\(tag) \(check.title)")
            if let detail = check.detail { print("     \(detail)") }
        }
        if checks.contains(where: { $0.level == .fail }) { throw ExitCode(1) }
    }
}
