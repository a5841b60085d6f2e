import Foundation
import ObservatoryControl
import ObservatoryTools
import Testing

@Suite("setup: Claude Code, Codex, Gemini settings")
struct AgentSetupTests {
    static let executable = "/opt/observatory/bin/observatory"

    func setup(_ agent: AgentSetup.Agent, _ home: TemporaryHome, remove: Bool = false, dryRun: Bool = false,
               endpoint: String = "http://127.0.0.1:4318", scope: AgentSetup.Scope = .user) throws -> AgentSetup.Outcome {
        var s = AgentSetup(agent: agent, endpoint: endpoint, executable: Self.executable, projectDirectory: home.path + "/project")
        s.remove = remove
        s.dryRun = dryRun
        s.scope = scope
        return try s.run(paths: home.paths)
    }

    static let claudeExisting = """
        {
          "model": "opus",
          "env": {
            "FOO": "bar",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example:4318"
          },
          "permissions": {
            "allow": [
              "Bash(npm test)"
            ]
          },
          "hooks": {
            "Stop": [
              {
                "hooks": [
                  {
                    "type": "command",
                    "command": "notify-send done"
                  }
                ]
              }
            ],
            "PreToolUse": [
              {
                "matcher": "Bash",
                "hooks": [
                  {
                    "type": "command",
                    "command": "~/bin/guard.sh"
                  }
                ]
              }
            ]
          }
        }

        """

    @Test("Claude Code: merges into existing settings, keeps other hooks, second run changes nothing, remove restores byte for byte")
    func claudeMergeIdempotentRemove() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write(".claude/settings.json", Self.claudeExisting)

        let first = try setup(.claudeCode, home)
        #expect(first.wrote && first.changed)
        #expect(first.notes.contains { $0.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && $0.contains("collector.example") })
        #expect(first.diff.hasPrefix("--- \(home.path)/.claude/settings.json\n+++ "))
        let backup = try #require(first.backupPath)
        #expect(try String(contentsOfFile: backup, encoding: .utf8) == Self.claudeExisting)

        let written = try #require(home.read(".claude/settings.json"))
        let value = try JSONValue.parse(written).value
        #expect(value["model"] == .string("opus"))
        #expect(value["permissions"]?["allow"]?.arrayValue?.count == 1)
        #expect(value["env"]?["FOO"] == .string("bar"))
        #expect(value["env"]?["CLAUDE_CODE_ENABLE_TELEMETRY"] == .string("1"))
        #expect(value["env"]?["OTEL_EXPORTER_OTLP_ENDPOINT"] == .string("http://127.0.0.1:4318"))
        #expect(value["env"]?["OTEL_EXPORTER_OTLP_PROTOCOL"] == .string("http/protobuf"))
        for (event, toolMatcher) in ClaudeCodeSettings.hookEvents {
            let groups = try #require(value["hooks"]?[event]?.arrayValue, "\(event)")
            let ours = groups.filter { $0["hooks"]?.arrayValue?.contains(where: ClaudeCodeSettings.isObservatoryHandler) == true }
            #expect(ours.count == 1, "\(event)")
            #expect(ours.first?["hooks"]?.arrayValue?.first?["command"] == .string(Self.executable + " hook"))
            #expect(ours.first?["matcher"] == (toolMatcher ? .string("*") : nil), "\(event)")
        }
        // The user's hooks are still there, first.
        #expect(value["hooks"]?["Stop"]?.arrayValue?.first?["hooks"]?.arrayValue?.first?["command"] == .string("notify-send done"))
        #expect(value["hooks"]?["PreToolUse"]?.arrayValue?.first?["matcher"] == .string("Bash"))

        let second = try setup(.claudeCode, home)
        #expect(!second.changed && !second.wrote && second.diff.isEmpty && second.backupPath == nil)
        #expect(home.read(".claude/settings.json") == written)

        let removed = try setup(.claudeCode, home, remove: true)
        #expect(removed.wrote)
        #expect(home.read(".claude/settings.json") == Self.claudeExisting)
        #expect(try setup(.claudeCode, home, remove: true).changed == false)
    }

    @Test("Claude Code: no settings file yet → created; remove deletes it again")
    func claudeFreshFile() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let outcome = try setup(.claudeCode, home)
        #expect(outcome.wrote && outcome.backupPath == nil)
        #expect(outcome.diff.hasPrefix("--- /dev/null\n"))
        let text = try #require(home.read(".claude/settings.json"))
        #expect(text.hasPrefix("{\n  \"env\": {\n    \"CLAUDE_CODE_ENABLE_TELEMETRY\": \"1\""))
        #expect(text.hasSuffix("}\n"))
        let removed = try setup(.claudeCode, home, remove: true)
        #expect(removed.deleted)
        #expect(home.read(".claude/settings.json") == nil)
    }

    @Test("--dry-run writes nothing: no file, no backup, no record")
    func dryRun() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write(".claude/settings.json", Self.claudeExisting)
        let outcome = try setup(.claudeCode, home, dryRun: true)
        #expect(outcome.changed && !outcome.wrote && !outcome.diff.isEmpty)
        #expect(home.read(".claude/settings.json") == Self.claudeExisting)
        #expect(home.files(under: ".local/state/observatory").isEmpty)
        let fresh = try TemporaryHome()
        defer { fresh.remove() }
        #expect(try setup(.codex, fresh, dryRun: true).changed)
        #expect(fresh.read(".codex/config.toml") == nil)
    }

    @Test("a settings file with comments is refused and left alone")
    func comments() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let text = "{\n  // my model\n  \"model\": \"opus\"\n}\n"
        try home.write(".gemini/settings.json", text)
        #expect(throws: SetupError.hasComments(path: home.path + "/.gemini/settings.json")) { try setup(.gemini, home) }
        #expect(home.read(".gemini/settings.json") == text)
        try home.write(".claude/settings.json", "{\"model\": }")
        #expect(throws: SetupError.self) { try setup(.claudeCode, home) }
    }

    @Test("remove leaves a value the user changed after setup, and an existing hook command is updated in place")
    func userChangesSurvive() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        _ = try setup(.claudeCode, home)
        let moved = try setup(.claudeCode, home, endpoint: "http://127.0.0.1:5318")
        #expect(moved.notes.contains { $0.contains("updating the observatory hook command") })
        let value = try JSONValue.parse(try #require(home.read(".claude/settings.json"))).value
        #expect(value["hooks"]?["Stop"]?.arrayValue?.first?["hooks"]?.arrayValue?.first?["command"]
            == .string(Self.executable + " hook --endpoint http://127.0.0.1:5318"))
        #expect(value["env"]?["OTEL_EXPORTER_OTLP_ENDPOINT"] == .string("http://127.0.0.1:5318"))
        var text = try #require(home.read(".claude/settings.json"))
        text = text.replacingOccurrences(of: "\"OTEL_LOGS_EXPORT_INTERVAL\": \"1000\"", with: "\"OTEL_LOGS_EXPORT_INTERVAL\": \"250\"")
        try home.write(".claude/settings.json", text)
        let removed = try setup(.claudeCode, home, remove: true, endpoint: "http://127.0.0.1:5318")
        #expect(removed.notes.contains { $0.contains("OTEL_LOGS_EXPORT_INTERVAL") })
        let after = try JSONValue.parse(try #require(home.read(".claude/settings.json"))).value
        #expect(after.compactText == #"{"env":{"OTEL_LOGS_EXPORT_INTERVAL":"250"}}"#)
    }

    @Test("project scope writes .claude/settings.json under the project directory")
    func projectScope() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let outcome = try setup(.claudeCode, home, scope: .project)
        #expect(outcome.path == home.path + "/project/.claude/settings.json")
        #expect(home.read("project/.claude/settings.json") != nil)
        #expect(home.read(".claude/settings.json") == nil)
        #expect(throws: SetupError.unsupportedScope(agent: "codex", scope: "project")) { try setup(.codex, home, scope: .project) }
    }

    static let codexExisting = """
        # my Codex config
        model = "gpt-5-codex"
        approval_policy = "on-request"

        [profiles.fast]
        model = "gpt-5-mini"

        [mcp_servers.docs]
        command = "docs-mcp"
        args = ["--port", "9"]

        """

    @Test("Codex: notify before the first table, [otel] at the end, idempotent, remove restores byte for byte")
    func codex() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write(".codex/config.toml", Self.codexExisting)
        let first = try setup(.codex, home)
        #expect(first.wrote && first.notes.isEmpty)
        let text = try #require(home.read(".codex/config.toml"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let notify = try #require(lines.firstIndex(of: "notify = [\"\(Self.executable)\", \"hook\", \"--codex\"]"))
        let firstTable = try #require(lines.firstIndex(of: "[profiles.fast]"))
        #expect(notify < firstTable)
        #expect(text.contains("[otel]\nexporter = { otlp-http = { endpoint = \"http://127.0.0.1:4318/v1/logs\", protocol = \"binary\" } }\n"))
        #expect(lines.firstIndex(of: "[otel]")! > lines.firstIndex(of: "[mcp_servers.docs]")!)
        #expect(text.hasPrefix("# my Codex config\nmodel = \"gpt-5-codex\""))

        #expect(try setup(.codex, home).changed == false)
        _ = try setup(.codex, home, remove: true)
        #expect(home.read(".codex/config.toml") == Self.codexExisting)
    }

    @Test("Codex: an existing notify or [otel] is not touched, and setup says what to do by hand")
    func codexConflicts() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let existing = "notify = [\"my-notifier\"]\n\n[otel]\nenvironment = \"prod\"\n"
        try home.write(".codex/config.toml", existing)
        let outcome = try setup(.codex, home)
        #expect(outcome.notes.count == 2)
        #expect(outcome.notes[0].contains("my-notifier"))
        #expect(outcome.notes[1].contains("[otel]") && outcome.notes[1].contains("/v1/logs"))
        #expect(!outcome.changed)
        #expect(home.read(".codex/config.toml") == existing)
    }

    @Test("Codex: CODEX_HOME is honoured; no file → created, remove deletes it")
    func codexHome() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        var s = AgentSetup(agent: .codex, endpoint: "http://127.0.0.1:4318", executable: "observatory", projectDirectory: home.path)
        let paths = ObservatoryPaths(environment: ["HOME": home.path, "CODEX_HOME": home.path + "/codex-home"])
        let outcome = try s.run(paths: paths)
        #expect(outcome.path == home.path + "/codex-home/config.toml")
        #expect(home.read("codex-home/config.toml")?.hasPrefix(CodexConfig.notifyBegin + "\nnotify = [\"observatory\", \"hook\", \"--codex\"]\n") == true)
        s.remove = true
        #expect(try s.run(paths: paths).deleted)
    }

    @Test("Gemini: telemetry block merged, replaced values put back on remove")
    func gemini() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let existing = "{\n    \"theme\": \"Dracula\",\n    \"telemetry\": {\n        \"target\": \"gcp\",\n        \"useCollector\": true\n    }\n}"
        try home.write(".gemini/settings.json", existing)
        let outcome = try setup(.gemini, home)
        #expect(outcome.notes.contains { $0.contains("telemetry.target") })
        let value = try JSONValue.parse(try #require(home.read(".gemini/settings.json"))).value
        #expect(value["telemetry"]?.compactText
            == #"{"target":"local","useCollector":true,"enabled":true,"otlpEndpoint":"http://127.0.0.1:4318","otlpProtocol":"http","logPrompts":false}"#)
        #expect(home.read(".gemini/settings.json")?.contains("\n    \"theme\"") == true)  // the file's own indent
        #expect(try setup(.gemini, home).changed == false)
        _ = try setup(.gemini, home, remove: true)
        #expect(home.read(".gemini/settings.json") == existing)
    }

    @Test("hook command recognition", arguments: [
        ("/usr/local/bin/observatory hook", true), ("observatory hook --endpoint http://x:1", true),
        ("'/a b/observatory' hook", true), ("observatory-sink hook", false), ("echo observatory", false),
        ("myobservatory hook", false),
    ])
    func recognition(_ command: String, _ ours: Bool) {
        #expect(ClaudeCodeSettings.isObservatoryHookCommand(command) == ours)
    }

    @Test("unified diff")
    func diff() {
        let d = UnifiedDiff.make(old: "a\nb\nc\n", new: "a\nB\nc\nd\n", oldLabel: "x", newLabel: "y")
        #expect(d == "--- x\n+++ y\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n")
        #expect(UnifiedDiff.make(old: "", new: "a\n", oldLabel: "/dev/null", newLabel: "y") == "--- /dev/null\n+++ y\n@@ -0,0 +1,1 @@\n+a\n")
        #expect(UnifiedDiff.make(old: "same", new: "same", oldLabel: "x", newLabel: "y").isEmpty)
    }
}
