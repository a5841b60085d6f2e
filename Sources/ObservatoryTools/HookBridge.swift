import ObservatoryControl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `observatory hook`: one hook payload in, one OTLP log record out to the sink, within a fixed
/// time budget, never failing the agent.
///
/// Flow: read the payload (stdin for Claude Code and Gemini CLI, the last argument for Codex's
/// `notify`), stamp it with the current time, take whatever the spool holds, POST all of it to
/// `{endpoint}/v1/logs` as OTLP/JSON, and put it back in the spool unless the sink stored it
/// (2xx) or refused it for good (4xx other than 408/429: sending it again cannot help).
package struct HookBridge: Sendable {
    /// What the command line said.
    package struct Invocation: Sendable, Equatable {
        package var agent: HookAgent?
        package var endpoint: String?
        package var spoolPath: String?
        /// A payload given as an argument (Codex `notify` appends it as the last one).
        package var argumentPayload: String?
        /// Diagnostics on stderr (`--verbose` or `OBSERVATORY_HOOK_DEBUG=1`).
        package var verbose = false

        package init() {}

        /// Reads `[--codex] [--agent NAME] [--endpoint URL] [--spool PATH] [--verbose] [JSON]`
        /// (the arguments after `hook`). Unknown flags are ignored rather than refused: a hook
        /// must not fail because an agent passes something new.
        package init(arguments: [String]) {
            var i = 0
            while i < arguments.count {
                let arg = arguments[i]
                func value() -> String? {
                    if let eq = arg.firstIndex(of: "=") { return String(arg[arg.index(after: eq)...]) }
                    i += 1
                    return i < arguments.count ? arguments[i] : nil
                }
                switch arg.split(separator: "=", maxSplits: 1).first.map(String.init) ?? arg {
                case "--codex": agent = .codex
                case "--claude-code", "--claude": agent = .claudeCode
                case "--gemini", "--gemini-cli": agent = .geminiCLI
                case "--agent": agent = value().flatMap(HookAgent.init(name:)) ?? agent
                case "--endpoint": endpoint = value()
                case "--spool": spoolPath = value()
                case "--verbose", "-v": verbose = true
                default:
                    if arg.hasPrefix("{") { argumentPayload = arg }
                }
                i += 1
            }
        }
    }

    /// What happened to the records of one call.
    package enum Outcome: Sendable, Equatable {
        /// The sink stored `count` records (this call's and spooled ones).
        case delivered(count: Int)
        /// The sink could not be reached or answered with a temporary error; `count` records are in the spool.
        case spooled(count: Int, reason: String)
        /// The sink refused the records for good (status); they were dropped.
        case refused(status: Int, count: Int)
    }

    package var endpoint: HTTPEndpoint
    package var spool: HookSpool
    /// Time allowed for the request (connect, send, answer), in milliseconds.
    package var requestBudgetMs: UInt64
    /// Resource attributes of the request besides `service.name` (the wrapper's agent id and name).
    package var resourceAttributes: [(String, String)] = []

    package init(endpoint: HTTPEndpoint, spool: HookSpool, requestBudgetMs: UInt64 = 150) {
        self.endpoint = endpoint
        self.spool = spool
        self.requestBudgetMs = requestBudgetMs
    }

    /// Spooled records sent per call at most (bytes of OTLP/JSON); the rest waits for the next
    /// call. Keeps each request small and far below the sink's request size limit (8 MiB).
    package static let maxBatchBytes = 256 * 1024

    /// Sends `record` with what is spooled (oldest first, up to ``maxBatchBytes``); spools what
    /// was not delivered.
    package func deliver(_ record: HookRecord?, deadline: UInt64? = nil) -> Outcome {
        var lines = spool.takeAll()
        var size = 0
        if let cut = lines.firstIndex(where: { size += $0.utf8.count + 1; return size > Self.maxBatchBytes }) {
            spool.append(Array(lines[cut...]))
            lines.removeSubrange(cut...)
        }
        if let record { lines.append(record.otlpJSON.compactText) }
        guard !lines.isEmpty else { return .delivered(count: 0) }
        let body = HookRecord.exportRequestBody(encodedRecords: lines, resourceAttributes: resourceAttributes)
        let until = deadline ?? Clock.monotonicNanos() + requestBudgetMs * 1_000_000
        let result = TinyHTTP.request(
            "POST", endpoint: endpoint, path: endpoint.path("/v1/logs"), body: Array(body.utf8),
            contentType: "application/json", deadline: until)
        switch result {
        case .success(let response) where (200..<300).contains(response.status):
            return .delivered(count: lines.count)
        case .success(let response) where (400..<500).contains(response.status) && response.status != 408 && response.status != 429:
            return .refused(status: response.status, count: lines.count)
        case .success(let response):
            spool.append(lines)
            return .spooled(count: lines.count, reason: "HTTP \(response.status)")
        case .failure(let failure):
            spool.append(lines)
            return .spooled(count: lines.count, reason: failure.description)
        }
    }

    // MARK: The command

    /// Runs `observatory hook` for this process: reads the payload, delivers, and returns; the
    /// caller exits 0 whatever happens. Nothing is written to stdout.
    package static func runCommand(arguments: [String], environment: [String: String]) {
        let started = Clock.monotonicNanos()
        var invocation = Invocation(arguments: arguments)
        if environment["OBSERVATORY_HOOK_DEBUG"] == "1" { invocation.verbose = true }
        let paths = ObservatoryPaths(environment: environment)

        let payloadText: [UInt8]?
        if let argument = invocation.argumentPayload {
            payloadText = Array(argument.utf8)
        } else {
            payloadText = readStandardInput(until: started + 100_000_000)
        }
        let payload = payloadText.flatMap { try? JSONValue.parse(bytes: $0).value }
        let agent = invocation.agent ?? guessAgent(payload: payload, fromArgument: invocation.argumentPayload != nil)
        // A payload without a session (none at all when run by hand, or unreadable) says nothing
        // about any session: only the spool is flushed.
        var record: HookRecord? = HookPayload.record(payload: payload, agent: agent, timeUnixNano: Clock.unixNanos())
        // Under `observatory run` the record names its agent too (spooled records are sent later,
        // possibly under another resource).
        for (key, value) in HookRecord.agentAttributes(environment: environment) where record != nil {
            record?.attributes.append((key, .string(value)))
        }
        if record?.string("session.id") == nil {
            if payloadText?.isEmpty == false { debug(invocation.verbose, "observatory hook: no session id in the payload; not sent") }
            record = nil
        }

        let endpointText = invocation.endpoint ?? paths.ingestEndpoint
        guard let endpoint = HTTPEndpoint(endpointText) else {
            debug(invocation.verbose, "observatory hook: invalid endpoint \(endpointText)")
            if let record { HookSpool(path: invocation.spoolPath ?? paths.hookSpool).append([record.otlpJSON.compactText]) }
            return
        }
        var bridge = HookBridge(endpoint: endpoint, spool: HookSpool(path: invocation.spoolPath ?? paths.hookSpool))
        bridge.resourceAttributes = HookRecord.agentAttributes(environment: environment)
        // Whatever reading stdin took, the request ends 230 ms after start at the latest.
        let deadline = max(started + 230_000_000, Clock.monotonicNanos() + 30_000_000)
        let outcome = bridge.deliver(record, deadline: min(deadline, Clock.monotonicNanos() + bridge.requestBudgetMs * 1_000_000))
        debug(invocation.verbose, "observatory hook: \(record?.string("hook.event") ?? "-") → \(outcome)")
    }

    /// Claude Code and Gemini CLI write JSON objects with `hook_event_name` on stdin; Codex's
    /// `notify` passes `type` as an argument.
    static func guessAgent(payload: JSONValue?, fromArgument: Bool) -> HookAgent {
        if payload?["thread-id"] != nil || (fromArgument && payload?["type"] != nil) { return .codex }
        return .claudeCode
    }

    /// Reads stdin until end of file, a complete JSON document, or `deadline`. Some agents keep
    /// stdin open after writing the payload (Claude Code on `/clear`, agent-telemetry.md §6), so
    /// end of file is not waited for once the document is complete. A terminal is not read.
    static func readStandardInput(until deadline: UInt64) -> [UInt8]? {
        if isatty(0) != 0 { return nil }
        // Non-blocking for the deadline; the flags are put back (the descriptor may be shared).
        let flags = fcntl(0, F_GETFL, 0)
        _ = fcntl(0, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(0, F_SETFL, flags) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count < 8 << 20 {
            let n = buffer.withUnsafeMutableBytes { Glibc_read(0, $0.baseAddress, $0.count) }
            if n > 0 {
                data += buffer[0..<n]
                if let last = data.last(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
                    last == UInt8(ascii: "}"), (try? JSONValue.parse(bytes: data)) != nil
                {
                    return data
                }
                continue
            }
            if n == 0 { return data }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return data }
            let left = Clock.millisecondsLeft(until: deadline)
            if left == 0 { return data }
            var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, left)
        }
        return data
    }

    private static func debug(_ on: Bool, _ message: String) {
        guard on else { return }
        var line = message + "\n"
        line.withUTF8 { _ = Glibc_write(2, $0.baseAddress, $0.count) }
    }
}
