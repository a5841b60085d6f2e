import ObservatoryControl

/// An `observatory.process` OTLP log record from the wrapper: `process.event` = `start`,
/// `sample` or `exit`, with the facts of each (see the sink's `ObservatoryEventAdapter`).
/// The agent's id and name are both on the resource and on the record, so a record sent later
/// from the hook spool (under another resource) still lands in the agent's session.
package struct ProcessRecord: Sendable, Equatable {
    /// Body and event name of every process record.
    package static let bodyName = "observatory.process"

    package var timeUnixNano: UInt64
    package var attributes: [(String, HookRecord.Value)]

    package init(timeUnixNano: UInt64, attributes: [(String, HookRecord.Value)]) {
        self.timeUnixNano = timeUnixNano
        self.attributes = attributes
    }

    package static func == (lhs: ProcessRecord, rhs: ProcessRecord) -> Bool {
        lhs.timeUnixNano == rhs.timeUnixNano && lhs.attributes.count == rhs.attributes.count
            && zip(lhs.attributes, rhs.attributes).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// The attribute `key`, if present.
    package subscript(key: String) -> HookRecord.Value? {
        attributes.first(where: { $0.0 == key })?.1
    }

    /// Who the records are about: the agent.
    package struct Agent: Sendable, Equatable {
        package var id: String
        package var name: String
        /// `claude-code`, `codex`, `gemini-cli` when the command is one of them.
        package var kind: String?

        package init(id: String, name: String, kind: String?) {
            self.id = id
            self.name = name
            self.kind = kind
        }

        var attributes: [(String, HookRecord.Value)] {
            var out: [(String, HookRecord.Value)] = [("observatory.agent.id", .string(id)), ("observatory.agent.name", .string(name))]
            if let kind { out.append(("observatory.agent.kind", .string(kind))) }
            return out
        }
    }

    package static func start(agent: Agent, pid: Int32, argv: [String], cwd: String, restarts: Int, time: UInt64) -> ProcessRecord {
        ProcessRecord(
            timeUnixNano: time,
            attributes: [
                ("process.event", .string("start")), ("process.pid", .int(Int64(pid))),
                ("process.command_line", .string(argv.joined(separator: " ").truncatedUTF8(4096))),
                ("process.executable.name", .string(argv.first.map(AgentProcessKind.basename) ?? "")),
                ("process.cwd", .string(cwd)), ("process.restarts", .int(Int64(restarts))),
            ] + agent.attributes)
    }

    package static func sample(agent: Agent, pid: Int32, cpuPercent: Double, rssBytes: Int64, processes: Int, time: UInt64) -> ProcessRecord {
        ProcessRecord(
            timeUnixNano: time,
            attributes: [
                ("process.event", .string("sample")), ("process.pid", .int(Int64(pid))),
                ("process.cpu_percent", .double((cpuPercent * 10).rounded() / 10)), ("process.rss_bytes", .int(rssBytes)),
                ("process.count", .int(Int64(processes))),
            ] + agent.attributes)
    }

    /// `reason`: `exit` (the agent ended by itself), `kill`, `restart` (stopped through the
    /// helper) or `signal` (the wrapper was told to stop).
    package static func exit(agent: Agent, pid: Int32, status: ExitStatus, reason: String, escalated: Bool, cwd: String, time: UInt64) -> ProcessRecord {
        var attributes: [(String, HookRecord.Value)] = [("process.event", .string("exit")), ("process.pid", .int(Int64(pid)))]
        switch status {
        case .exited(let code): attributes.append(("process.exit_code", .int(Int64(code))))
        case .signaled(let signal): attributes.append(("process.exit_signal", .int(Int64(signal))))
        }
        attributes += [
            ("process.stop_reason", .string(reason)),
            // The sink ends (rather than crashes) a session whose stop was asked for.
            ("process.stop_requested", .bool(reason != "exit")),
            ("process.escalated", .bool(escalated)), ("process.cwd", .string(cwd)),
        ]
        return ProcessRecord(timeUnixNano: time, attributes: attributes + agent.attributes)
    }

    /// The OTLP/JSON `LogRecord`.
    package var otlpJSON: JSONValue {
        let time = JSONValue.string(String(timeUnixNano))
        return .object([
            ("timeUnixNano", time),
            ("observedTimeUnixNano", time),
            ("severityNumber", .number("9")),
            ("severityText", .string("INFO")),
            ("eventName", .string(Self.bodyName)),
            ("body", .object([("stringValue", .string(Self.bodyName))])),
            ("attributes", .array(attributes.map { key, value in .object([("key", .string(key)), ("value", value.otlpJSON)]) })),
        ])
    }

    /// An OTLP/JSON `ExportLogsServiceRequest` with `records` under a resource naming the agent
    /// (`service.name` = `observatory`).
    package static func exportRequestBody(_ records: [ProcessRecord], agent: Agent) -> String {
        let resource: [(String, HookRecord.Value)] = [("service.name", .string("observatory"))] + agent.attributes
        let body = JSONValue.object([
            ("resourceLogs", .array([
                .object([
                    ("resource", .object([("attributes", .array(resource.map { key, value in
                        .object([("key", .string(key)), ("value", value.otlpJSON)])
                    }))])),
                    ("scopeLogs", .array([
                        .object([("scope", .object([("name", .string("observatory"))])), ("logRecords", .array(records.map(\.otlpJSON)))]),
                    ])),
                ]),
            ])),
        ])
        return body.compactText
    }
}

/// How a process ended.
package enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// From a `waitpid` status word (nil if the process did not end: stopped or continued).
    package init?(waitStatus status: Int32) {
        let low = status & 0x7F
        if low == 0 {
            self = .exited((status >> 8) & 0xFF)
        } else if low != 0x7F && status != 0xFFFF {
            self = .signaled(low)
        } else {
            return nil
        }
    }

    /// The status a shell reports: the code, or 128 + the signal.
    package var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    package var exitCode: Int32? {
        if case .exited(let c) = self { return c }
        return nil
    }

    package var signal: Int32? {
        if case .signaled(let s) = self { return s }
        return nil
    }
}

extension String {
    /// At most `limit` UTF-8 bytes, cut at a character boundary.
    func truncatedUTF8(_ limit: Int) -> String {
        guard utf8.count > limit else { return self }
        var out = ""
        for ch in self {
            if out.utf8.count + ch.utf8.count > limit { break }
            out.append(ch)
        }
        return out
    }
}
