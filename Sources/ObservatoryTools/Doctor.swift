import ObservatoryControl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `observatory doctor`: is the sink reachable, are the agents' settings in place, and does a
/// test event make it from the hook bridge into a session?
package struct Doctor: Sendable {
    /// One finding.
    package struct Check: Sendable, Equatable {
        package enum Level: String, Sendable { case ok, info, warn, fail }
        package var level: Level
        package var title: String
        package var detail: String?

        package init(_ level: Level, _ title: String, _ detail: String? = nil) {
            self.level = level
            self.title = title
            self.detail = detail
        }
    }

    package var ingest: String
    package var api: String
    package var projectDirectory: String
    /// Agents whose settings must be in place (missing ones fail); the others are only reported.
    package var requiredAgents: [AgentSetup.Agent] = []
    /// Send the end-to-end test event.
    package var sendTestEvent = true
    /// How long to wait for the test event to show up.
    package var waitSeconds: Double = 5

    package init(ingest: String, api: String, projectDirectory: String) {
        self.ingest = ingest
        self.api = api
        self.projectDirectory = projectDirectory
    }

    package func run(paths: ObservatoryPaths) -> [Check] {
        var checks: [Check] = []
        let ingestEndpoint = HTTPEndpoint(ingest)
        let apiEndpoint = HTTPEndpoint(api)

        // 1. The sink.
        var ingestUp = false
        if let ingestEndpoint {
            let started = Clock.monotonicNanos()
            let result = TinyHTTP.request(
                "POST", endpoint: ingestEndpoint, path: ingestEndpoint.path("/v1/logs"), body: Array(#"{"resourceLogs":[]}"#.utf8),
                contentType: "application/json", deadline: started + 2_000_000_000)
            let ms = (Clock.monotonicNanos() - started) / 1_000_000
            switch result {
            case .success(let r) where r.status == 200:
                ingestUp = true
                checks.append(Check(.ok, "sink ingest \(ingestEndpoint) answers OTLP/HTTP (\(ms) ms)"))
            case .success(let r):
                checks.append(Check(.fail, "sink ingest \(ingestEndpoint) answered HTTP \(r.status) to an empty OTLP request", r.text))
            case .failure(let f):
                checks.append(Check(.fail, "sink ingest \(ingestEndpoint) unreachable: \(f)", "start it: swift run -c release observatory-sink"))
            }
        } else {
            checks.append(Check(.fail, "invalid ingest address \(ingest)"))
        }
        var apiUp = false
        if let apiEndpoint {
            switch get(apiEndpoint, "/healthz", seconds: 2) {
            case .success(let r) where r.status == 200:
                apiUp = true
                checks.append(Check(.ok, "sink API \(apiEndpoint) is healthy"))
            case .success(let r):
                checks.append(Check(.fail, "sink API \(apiEndpoint)/healthz answered HTTP \(r.status)", r.text))
            case .failure(let f):
                checks.append(Check(.fail, "sink API \(apiEndpoint) unreachable: \(f)"))
            }
        } else {
            checks.append(Check(.fail, "invalid API address \(api)"))
        }

        // 2. The agents' settings.
        for agent in AgentSetup.Agent.allCases {
            checks += settingsChecks(agent, paths: paths)
        }

        // 3. Undelivered hook records.
        let spool = HookSpool(path: paths.hookSpool)
        let pending = spool.peek().count
        if pending > 0 {
            checks.append(Check(
                ingestUp ? .info : .warn, "\(pending) hook record(s) waiting in \(spool.path)",
                ingestUp ? "sent now with the test event" : "they go out with the next hook call once the sink is up"))
        }

        // 4. End to end: a hook record in, a session out.
        if sendTestEvent, ingestUp, apiUp, let ingestEndpoint, let apiEndpoint {
            checks.append(endToEnd(ingestEndpoint, apiEndpoint, spool: spool))
        }
        return checks
    }

    private func get(_ endpoint: HTTPEndpoint, _ path: String, seconds: Double) -> Result<TinyHTTP.Response, TinyHTTP.Failure> {
        TinyHTTP.request("GET", endpoint: endpoint, path: endpoint.path(path),
                         deadline: Clock.monotonicNanos() + UInt64(seconds * 1e9))
    }

    /// Sends a `SessionStart` hook record through the real bridge (flushing the spool with it),
    /// waits until the API shows its session, then ends that session.
    private func endToEnd(_ ingest: HTTPEndpoint, _ api: HTTPEndpoint, spool: HookSpool) -> Check {
        let session = "observatory-doctor-\(getpid())-\(Clock.unixNanos() / 1_000_000)"
        func record(_ event: String) -> HookRecord {
            HookRecord(timeUnixNano: Clock.unixNanos(), attributes: [
                ("hook.event", .string(event)), ("session.id", .string(session)), ("observatory.doctor", .bool(true)),
            ])
        }
        let bridge = HookBridge(endpoint: ingest, spool: spool, requestBudgetMs: 2000)
        let started = Clock.monotonicNanos()
        switch bridge.deliver(record("SessionStart")) {
        case .delivered: break
        case .spooled(_, let reason): return Check(.fail, "test event not accepted by the sink: \(reason)")
        case .refused(let status, _): return Check(.fail, "test event refused by the sink (HTTP \(status))")
        }
        let giveUp = started + UInt64(waitSeconds * 1e9)
        while Clock.monotonicNanos() < giveUp {
            if case .success(let r) = get(api, "/api/sessions/\(session)", seconds: 1), r.status == 200 {
                let ms = (Clock.monotonicNanos() - started) / 1_000_000
                _ = bridge.deliver(record("SessionEnd"))
                return Check(.ok, "test event arrived end to end in \(ms) ms (session \(session), now ended)")
            }
            usleep(100_000)
        }
        return Check(.fail, "test event was accepted but session \(session) did not appear in the API within \(waitSeconds) s",
                     "is \(api) the API of the sink behind \(ingest)?")
    }

    // MARK: Settings

    package func settingsChecks(_ agent: AgentSetup.Agent, paths: ObservatoryPaths) -> [Check] {
        let required = requiredAgents.contains(agent)
        let scopes: [AgentSetup.Scope] = agent == .codex ? [.user] : [.user, .project]
        var found: [Check] = []
        var anyConfigured = false
        var seen = Set<String>()
        for scope in scopes {
            var setup = AgentSetup(agent: agent, endpoint: ingest, executable: "observatory", projectDirectory: projectDirectory)
            setup.scope = scope
            guard let path = try? setup.settingsPath(paths: paths), POSIXFile.exists(path), seen.insert(path).inserted else { continue }
            let text = String(decoding: POSIXFile.read(path) ?? [], as: UTF8.self)
            let problems = Self.problems(agent: agent, text: text, ingest: ingest)
            if problems.isEmpty {
                anyConfigured = true
                found.append(Check(.ok, "\(agent.rawValue): \(path) points at the Observatory"))
            } else if problems != ["not set up"] {
                anyConfigured = true
                found.append(Check(.warn, "\(agent.rawValue): \(path) is partly set up", problems.joined(separator: "; ")))
            }
        }
        if !anyConfigured {
            found.append(Check(required ? .fail : .info, "\(agent.rawValue): not set up",
                               "run: observatory setup \(agent.rawValue)"))
        }
        return found
    }

    /// What is missing or wrong in an agent's settings text; `["not set up"]` if nothing of the
    /// Observatory's is there at all.
    package static func problems(agent: AgentSetup.Agent, text: String, ingest: String) -> [String] {
        var problems: [String] = []
        switch agent {
        case .claudeCode:
            guard let value = try? JSONValue.parse(text).value else { return ["not valid JSON"] }
            let env = value["env"]
            let hooks = value["hooks"]
            var commands: [String] = []
            var missingEvents: [String] = []
            for (event, _) in ClaudeCodeSettings.hookEvents {
                let handlers = (hooks?[event]?.arrayValue ?? []).flatMap { $0["hooks"]?.arrayValue ?? [] }
                let ours = handlers.filter(ClaudeCodeSettings.isObservatoryHandler).compactMap { $0["command"]?.stringValue }
                if ours.isEmpty { missingEvents.append(event) }
                commands += ours
            }
            if env?["CLAUDE_CODE_ENABLE_TELEMETRY"] == nil && commands.isEmpty { return ["not set up"] }
            if env?["CLAUDE_CODE_ENABLE_TELEMETRY"] != .string("1") { problems.append("CLAUDE_CODE_ENABLE_TELEMETRY is not 1") }
            if let endpoint = env?["OTEL_EXPORTER_OTLP_ENDPOINT"]?.stringValue, endpoint != ingest {
                problems.append("OTEL_EXPORTER_OTLP_ENDPOINT is \(endpoint), not \(ingest)")
            } else if env?["OTEL_EXPORTER_OTLP_ENDPOINT"] == nil {
                problems.append("OTEL_EXPORTER_OTLP_ENDPOINT is not set")
            }
            if env?["OTEL_LOGS_EXPORTER"]?.stringValue?.contains("otlp") != true { problems.append("OTEL_LOGS_EXPORTER is not otlp") }
            if !missingEvents.isEmpty { problems.append("no observatory hook for " + missingEvents.joined(separator: ", ")) }
            for command in Set(commands) {
                if let program = executableOf(command), !isExecutable(program) {
                    problems.append("the hook program \(program) is not an executable file")
                }
            }
        case .codex:
            let lines = CodexConfig.lines(text)
            let notify = lines.first { CodexConfig.isKey($0, "notify") }
            let hasOtel = lines.contains { CodexConfig.mentionsOtel($0) }
            let notifyOurs = notify.map { $0.contains("observatory") && $0.contains("\"hook\"") } ?? false
            if !notifyOurs && !text.contains(CodexConfig.otelBegin) && !(hasOtel && text.contains(ingest)) { return ["not set up"] }
            if !notifyOurs { problems.append(notify == nil ? "no notify" : "notify does not run observatory hook --codex") }
            if !hasOtel { problems.append("no [otel] exporter") } else if !text.contains(ingest) {
                problems.append("the [otel] exporter does not point at \(ingest)")
            }
            if let notify, notifyOurs, let program = notifyProgram(notify), program.hasPrefix("/"), !isExecutable(program) {
                problems.append("the notify program \(program) is not an executable file")
            }
        case .gemini:
            guard let value = try? JSONValue.parse(text).value else { return ["not valid JSON"] }
            guard let telemetry = value["telemetry"], telemetry["otlpEndpoint"] != nil || telemetry["enabled"] != nil else {
                return ["not set up"]
            }
            if telemetry["enabled"] != .bool(true) { problems.append("telemetry.enabled is not true") }
            if telemetry["otlpEndpoint"]?.stringValue != ingest { problems.append("telemetry.otlpEndpoint is not \(ingest)") }
            if telemetry["otlpProtocol"]?.stringValue != "http" { problems.append("telemetry.otlpProtocol is not http") }
            if let target = telemetry["target"]?.stringValue, target != "local" { problems.append("telemetry.target is \(target)") }
        }
        return problems
    }

    static func executableOf(_ command: String) -> String? {
        let first: Substring
        if command.hasPrefix("'") {
            let rest = command.dropFirst()
            first = rest.prefix(while: { $0 != "'" })
        } else {
            first = command.prefix(while: { $0 != " " })
        }
        return first.hasPrefix("/") ? String(first) : nil
    }

    static func notifyProgram(_ line: String) -> String? {
        guard let open = line.firstIndex(of: "\"") else { return nil }
        let rest = line[line.index(after: open)...]
        return String(rest.prefix(while: { $0 != "\"" }))
    }

    static func isExecutable(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}
