import ObservatoryControl
import ObservatoryTools
import Testing

@Suite struct AgentEnvironmentTests {
    let environment = AgentEnvironment(agentID: "a1", agentName: "fix, the = bug 100%", endpoint: "http://127.0.0.1:4318")

    @Test func defaultsAreAddedWhereMissing() {
        let env = environment.applied(to: ["PATH": "/bin"])
        #expect(env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1")
        #expect(env["OTEL_LOGS_EXPORTER"] == "otlp")
        #expect(env["OTEL_METRICS_EXPORTER"] == "otlp")
        #expect(env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf")
        #expect(env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318")
        #expect(env["OTEL_LOGS_EXPORT_INTERVAL"] == "1000")
        #expect(env["OTEL_METRIC_EXPORT_INTERVAL"] == "10000")
        #expect(env["OBSERVATORY_AGENT_ID"] == "a1")
        #expect(env["OBSERVATORY_AGENT_NAME"] == "fix, the = bug 100%")
        #expect(env["PATH"] == "/bin")
    }

    @Test func userValuesWinEvenEmptyOnes() {
        let env = environment.applied(to: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "CLAUDE_CODE_ENABLE_TELEMETRY": "",
        ])
        #expect(env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318")
        #expect(env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/json")
        #expect(env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "")
    }

    @Test func resourceAttributesAreAppendedAndEncoded() {
        #expect(environment.applied(to: [:])["OTEL_RESOURCE_ATTRIBUTES"]
            == "observatory.agent.id=a1,observatory.agent.name=fix%2C%20the%20%3D%20bug%20100%25")
        #expect(environment.applied(to: ["OTEL_RESOURCE_ATTRIBUTES": "team=core"])["OTEL_RESOURCE_ATTRIBUTES"]
            == "team=core,observatory.agent.id=a1,observatory.agent.name=fix%2C%20the%20%3D%20bug%20100%25")
        #expect(AgentEnvironment.percentEncode("é;\"x\"") == "%C3%A9%3B%22x%22")
        #expect(AgentEnvironment.percentEncode("a-b_c.d~e") == "a-b_c.d~e")
    }
}

@Suite struct ExecutableLookupTests {
    @Test func searchesPathInOrderLikeExecvp() {
        let files: Set<String> = ["/usr/bin/claude", "/opt/bin/claude", "./local"]
        let lookup = ExecutableLookup(path: "/opt/bin:/usr/bin", isExecutable: { files.contains($0) })
        #expect(lookup.resolve("claude") == "/opt/bin/claude")
        #expect(lookup.resolve("missing") == nil)
        #expect(lookup.resolve("./anything") == "./anything")
        #expect(lookup.resolve("/abs/path") == "/abs/path")
        #expect(lookup.resolve("") == nil)
    }

    @Test func emptyEntryIsTheCurrentDirectoryAndDefaultPathApplies() {
        let lookup = ExecutableLookup(path: "/nope::/usr/bin", isExecutable: { $0 == "./local" })
        #expect(lookup.resolve("local") == "./local")
        #expect(ExecutableLookup(path: nil, isExecutable: { _ in false }).path == "/bin:/usr/bin")
    }
}

@Suite struct ProcStatTests {
    @Test func parsesANameWithSpacesAndParentheses() throws {
        let text = "4242 (my (odd) name) S 1 4242 4242 34816 4242 4194304 100 0 0 0 250 75 0 0 20 0 3 0 123456 1000000 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcStat(text: text))
        #expect(stat.pid == 4242)
        #expect(stat.comm == "my (odd) name")
        #expect(stat.state == "S")
        #expect(stat.ppid == 1)
        #expect(stat.pgrp == 4242)
        #expect(stat.utime == 250)
        #expect(stat.stime == 75)
        #expect(stat.cpuTicks == 325)
        #expect(stat.startTime == 123456)
        #expect(stat.rssPages == 2048)
    }

    @Test func rejectsGarbage() {
        #expect(ProcStat(text: "") == nil)
        #expect(ProcStat(text: "12 (x) S 1 2") == nil)
        #expect(ProcStat(text: "x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22") == nil)
    }

    @Test func descendantsFollowParents() {
        func p(_ pid: Int32, _ ppid: Int32) -> ProcStat {
            ProcStat(pid: pid, comm: "x", state: "S", ppid: ppid, pgrp: pid, utime: 0, stime: 0, startTime: 0, rssPages: 0)
        }
        let table = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 1)]
        #expect(ProcessTable.descendants(of: 10, in: table) == [11, 12])
        #expect(ProcessTable.descendants(of: 12, in: table).isEmpty)
    }
}

@Suite struct CPUSamplerTests {
    func p(_ pid: Int32, ticks: UInt64, rss: Int64) -> ProcStat {
        ProcStat(pid: pid, comm: "x", state: "R", ppid: 1, pgrp: 1, utime: ticks, stime: 0, startTime: 0, rssPages: rss)
    }

    @Test func percentOfOneCoreSummedOverProcesses() {
        var sampler = CPUSampler(ticksPerSecond: 100, pageSize: 4096)
        let first = sampler.sample([p(1, ticks: 1000, rss: 10)], now: 0)
        #expect(first.cpuPercent == 0)
        #expect(first.rssBytes == 40960)
        // 5 s later: pid 1 used 500 ticks (one core), new pid 2 used 250 (half a core).
        let second = sampler.sample([p(1, ticks: 1500, rss: 10), p(2, ticks: 250, rss: 5)], now: 5_000_000_000)
        #expect(second.cpuPercent == 150)
        #expect(second.rssBytes == 15 * 4096)
        #expect(second.processes == 2)
    }
}

@Suite struct WrapperOptionsTests {
    @Test func parsesOptionsAndTheCommand() throws {
        let o = try WrapperOptions.parse(["--name", "fix", "--id=a1", "--grace", "2.5", "--", "claude", "--resume", "--", "x"])
        #expect(o.name == "fix")
        #expect(o.id == "a1")
        #expect(o.grace == 2.5)
        #expect(o.command == ["claude", "--resume", "--", "x"])
        #expect(o.restartWith == nil)
    }

    @Test func restartWithTakesWordsUpToTheSeparator() throws {
        let o = try WrapperOptions.parse(["--restart-with", "claude", "--continue", "--", "claude", "-p", "hi"])
        #expect(o.restartWith == ["claude", "--continue"])
        #expect(o.command == ["claude", "-p", "hi"])
    }

    @Test(arguments: [
        [String](), ["--"], ["--name"], ["--grace", "-1", "--", "x"], ["--grace", "abc", "--", "x"], ["--bogus", "--", "x"],
        ["--id", "a b", "--", "x"], ["--restart-with", "--", "x"], ["claude"],
    ])
    func usageErrors(arguments: [String]) {
        #expect(throws: WrapperOptions.UsageError.self) { try WrapperOptions.parse(arguments) }
    }
}

@Suite struct ProcessRecordTests {
    let agent = ProcessRecord.Agent(id: "a1", name: "n", kind: "claude-code")

    @Test func exitRecordCarriesWhatTheSinkMaps() throws {
        let record = ProcessRecord.exit(agent: agent, pid: 7, status: .signaled(9), reason: "kill", escalated: true, cwd: "/w", time: 5)
        #expect(record["process.event"] == .string("exit"))
        #expect(record["process.exit_signal"] == .int(9))
        #expect(record["process.exit_code"] == nil)
        #expect(record["process.cwd"] == .string("/w"))
        #expect(record["process.stop_requested"] == .bool(true))
        #expect(ProcessRecord.exit(agent: agent, pid: 7, status: .exited(3), reason: "exit", escalated: false, cwd: "/w", time: 5)["process.stop_requested"] == .bool(false))
        #expect(record["observatory.agent.id"] == .string("a1"))
        #expect(record["observatory.agent.kind"] == .string("claude-code"))
        let body = try JSONValue.parse(ProcessRecord.exportRequestBody([record], agent: agent)).value
        let resourceLogs = try #require(body["resourceLogs"]?.arrayValue?.first)
        let resource = try #require(resourceLogs["resource"]?["attributes"]?.arrayValue)
        #expect(resource.contains { $0["key"] == .string("service.name") && $0["value"]?["stringValue"] == .string("observatory") })
        #expect(resource.contains { $0["key"] == .string("observatory.agent.id") && $0["value"]?["stringValue"] == .string("a1") })
        let log = try #require(resourceLogs["scopeLogs"]?.arrayValue?.first?["logRecords"]?.arrayValue?.first)
        #expect(log["body"]?["stringValue"] == .string("observatory.process"))
        #expect(log["timeUnixNano"] == .string("5"))
    }

    @Test func exitStatusFromWaitStatusWords() {
        #expect(ExitStatus(waitStatus: 3 << 8) == .exited(3))
        #expect(ExitStatus(waitStatus: 11) == .signaled(11))
        #expect(ExitStatus(waitStatus: 11 | 0x80) == .signaled(11))  // core dumped
        #expect(ExitStatus(waitStatus: (19 << 8) | 0x7F) == nil)  // stopped
        #expect(ExitStatus.signaled(11).shellStatus == 139)
        #expect(ExitStatus.exited(3).shellStatus == 3)
    }
}

@Suite struct AgentProcessKindTests {
    @Test(arguments: [
        (["claude"], "claude-code" as String?),
        (["/usr/local/bin/claude", "--resume"], "claude-code"),
        (["node", "--no-warnings", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"], "claude-code"),
        (["node", "/home/u/.npm/bin/codex"], "codex"),
        (["codex", "exec"], "codex"),
        (["node", "/x/@google/gemini-cli/dist/index.js"], "gemini-cli"),
        (["gemini"], "gemini-cli"),
        (["node", "server.js"], nil),
        (["vim", "claude"], nil),
        ([], nil),
    ])
    func classifies(argv: [String], kind: String?) {
        #expect(AgentProcessKind.classify(argv: argv) == kind)
    }
}

@Suite struct HookAgentAttributesTests {
    @Test func fromTheWrapperEnvironment() {
        #expect(HookRecord.agentAttributes(environment: [:]).isEmpty)
        let pairs = HookRecord.agentAttributes(environment: ["OBSERVATORY_AGENT_ID": "a1", "OBSERVATORY_AGENT_NAME": "n"])
        #expect(pairs.map(\.0) == ["observatory.agent.id", "observatory.agent.name"])
        #expect(pairs.map(\.1) == ["a1", "n"])
        let body = HookRecord.exportRequestBody(encodedRecords: [], resourceAttributes: pairs)
        #expect(body.contains(#"{"key":"observatory.agent.id","value":{"stringValue":"a1"}}"#))
    }
}
