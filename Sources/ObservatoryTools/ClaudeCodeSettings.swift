import ObservatoryControl
/// What `setup claude-code` writes into a Claude Code `settings.json`: the telemetry environment
/// (`env`) and one `observatory hook` handler per lifecycle hook event (`hooks`). Everything else
/// in the file — other env variables, other hooks, other settings — stays as it is.
package struct ClaudeCodeSettings: Sendable {
    /// Hook events the Observatory listens to, and whether they take a tool-name matcher.
    package static let hookEvents: [(name: String, toolMatcher: Bool)] = [
        ("SessionStart", false), ("UserPromptSubmit", false), ("PreToolUse", true), ("PermissionRequest", true),
        ("PostToolUse", true), ("PostToolUseFailure", true), ("Notification", false), ("Stop", false),
        ("StopFailure", false), ("SubagentStart", false), ("SubagentStop", false), ("PreCompact", false),
        ("SessionEnd", false),
    ]
    /// Seconds Claude Code waits for the hook (it returns in well under a second).
    package static let hookTimeout = 5

    /// The sink's ingest address.
    package var endpoint: String
    /// The command line the hooks run (`/path/to/observatory hook`).
    package var hookCommand: String

    package init(endpoint: String, hookCommand: String) {
        self.endpoint = endpoint
        self.hookCommand = hookCommand
    }

    /// The `env` block: telemetry on, OTLP/HTTP to the sink, export intervals for live monitoring.
    package var environment: [(String, JSONValue)] {
        [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", .string("1")),
            ("OTEL_LOGS_EXPORTER", .string("otlp")),
            ("OTEL_METRICS_EXPORTER", .string("otlp")),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", .string("http/protobuf")),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", .string(endpoint)),
            ("OTEL_LOGS_EXPORT_INTERVAL", .string("1000")),
            ("OTEL_METRIC_EXPORT_INTERVAL", .string("10000")),
        ]
    }

    /// Adds the environment and the hooks. Idempotent: a second run changes nothing.
    package func apply(to document: inout JSONSettingsDocument, path: String, record: inout SetupRecord) throws(SetupError) -> [String] {
        var notes: [String] = []
        try document.assign(environment, in: "env", path: path, record: &record, notes: &notes)

        var hooks = document.value["hooks"] ?? .object([])
        if document.value["hooks"] == nil, !record.createdKeys.contains("hooks") { record.createdKeys.append("hooks") }
        guard case .object = hooks else { throw .unexpectedShape(path: path, key: "hooks", expected: "an object") }
        for (event, toolMatcher) in Self.hookEvents {
            var groups: [JSONValue]
            switch hooks[event] {
            case nil: groups = []
            case .array(let items)?: groups = items
            default: throw .unexpectedShape(path: path, key: "hooks.\(event)", expected: "an array")
            }
            var found = false
            for g in groups.indices {
                guard var handlers = groups[g]["hooks"]?.arrayValue else { continue }
                for h in handlers.indices where Self.isObservatoryHandler(handlers[h]) {
                    found = true
                    if handlers[h]["command"]?.stringValue != hookCommand {
                        handlers[h].set("command", .string(hookCommand))
                        notes.append("updating the observatory hook command of \(event)")
                    }
                }
                groups[g].set("hooks", .array(handlers))
            }
            if !found {
                var group: [(String, JSONValue)] = []
                if toolMatcher { group.append(("matcher", .string("*"))) }
                group.append(("hooks", .array([.object([
                    ("type", .string("command")),
                    ("command", .string(hookCommand)),
                    ("timeout", .number(String(Self.hookTimeout))),
                ])])))
                groups.append(.object(group))
            }
            hooks.set(event, .array(groups))
        }
        document.value.set("hooks", hooks)
        return notes
    }

    /// Takes out what ``apply(to:path:record:)`` added: every `observatory hook` handler (and a
    /// matcher group or event left empty by that), and the environment values it set.
    package func remove(from document: inout JSONSettingsDocument, record: SetupRecord) -> [String] {
        var notes: [String] = []
        let fallback = Dictionary(environment, uniquingKeysWith: { a, _ in a })
        document.unassign(environment.map(\.0), fallback: fallback, in: "env", record: record, notes: &notes)

        guard var hooks = document.value["hooks"], let events = hooks.objectMembers else { return notes }
        for (event, value) in events {
            guard let groups = value.arrayValue else { continue }
            var kept: [JSONValue] = []
            for var group in groups {
                guard let handlers = group["hooks"]?.arrayValue else { kept.append(group); continue }
                let others = handlers.filter { !Self.isObservatoryHandler($0) }
                if others.count == handlers.count { kept.append(group); continue }
                if others.isEmpty { continue }
                group.set("hooks", .array(others))
                kept.append(group)
            }
            if kept.isEmpty, !groups.isEmpty {
                hooks.remove(event)
            } else {
                hooks.set(event, .array(kept))
            }
        }
        if hooks.objectMembers?.isEmpty == true, record.createdKeys.contains("hooks") || record.assigned.isEmpty {
            document.value.remove("hooks")
        } else {
            document.value.set("hooks", hooks)
        }
        return notes
    }

    /// Whether a hook handler runs `observatory hook` (any path to the binary, any flags).
    package static func isObservatoryHandler(_ handler: JSONValue) -> Bool {
        guard let command = handler["command"]?.stringValue else { return false }
        return isObservatoryHookCommand(command)
    }

    /// `… observatory hook …` with `observatory` as a program name or path.
    package static func isObservatoryHookCommand(_ command: String) -> Bool {
        let tokens = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map {
            $0.trimmingCharacters(in: "'\"")
        }
        for (i, token) in tokens.enumerated().dropLast() where tokens[i + 1] == "hook" {
            if token == "observatory" || token.hasSuffix("/observatory") { return true }
        }
        return false
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
