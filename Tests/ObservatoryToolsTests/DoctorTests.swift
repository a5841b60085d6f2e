import Foundation
import ObservatoryTools
import Testing

@Suite("doctor: reading the agents' settings")
struct DoctorTests {
    static let ingest = "http://127.0.0.1:4318"

    @Test("a settings file written by setup passes; nothing of ours is 'not set up'")
    func setupOutputPasses() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write("bin/observatory", "#!/bin/sh\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: home.path + "/bin/observatory")
        for agent in AgentSetup.Agent.allCases {
            var setup = AgentSetup(agent: agent, endpoint: Self.ingest, executable: home.path + "/bin/observatory", projectDirectory: home.path)
            setup.scope = .user
            _ = try setup.run(paths: home.paths)
        }
        var doctor = Doctor(ingest: Self.ingest, api: "http://127.0.0.1:4320", projectDirectory: home.path + "/nowhere")
        doctor.requiredAgents = AgentSetup.Agent.allCases
        for agent in AgentSetup.Agent.allCases {
            let checks = doctor.settingsChecks(agent, paths: home.paths)
            #expect(checks.map(\.level) == [.ok], "\(agent): \(checks)")
        }
        #expect(Doctor.problems(agent: .claudeCode, text: #"{"model":"x"}"#, ingest: Self.ingest) == ["not set up"])
        #expect(Doctor.problems(agent: .codex, text: "model = \"x\"\n", ingest: Self.ingest) == ["not set up"])
        #expect(Doctor.problems(agent: .gemini, text: "{}", ingest: Self.ingest) == ["not set up"])
    }

    @Test("partial or stale settings are named")
    func partial() {
        let claude = Doctor.problems(agent: .claudeCode, text: """
            {"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_LOGS_EXPORTER": "otlp",
                     "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9999"},
             "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "/nonexistent/observatory hook"}]}]}}
            """, ingest: Self.ingest)
        #expect(claude.contains { $0.contains("http://127.0.0.1:9999") })
        #expect(claude.contains { $0.hasPrefix("no observatory hook for SessionStart") })
        #expect(claude.contains { $0.contains("/nonexistent/observatory is not an executable") })

        let codex = Doctor.problems(agent: .codex, text: "notify = [\"my-notifier\"]\n[otel]\nexporter = { otlp-http = { endpoint = \"http://127.0.0.1:4318/v1/logs\" } }\n", ingest: Self.ingest)
        #expect(codex == ["notify does not run observatory hook --codex"])

        let gemini = Doctor.problems(agent: .gemini, text: #"{"telemetry":{"enabled":true,"otlpEndpoint":"http://x:1","otlpProtocol":"grpc"}}"#, ingest: Self.ingest)
        #expect(gemini == ["telemetry.otlpEndpoint is not http://127.0.0.1:4318", "telemetry.otlpProtocol is not http"])
    }
}
