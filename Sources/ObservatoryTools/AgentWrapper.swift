#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ObservatoryControl

/// `observatory run`: owns one agent process. Spawns it in its own process group (the terminal's
/// foreground group when the wrapper has the terminal), reports start / samples / exit to the sink
/// as `observatory.process` records, registers with the helper (reconnecting whenever the helper
/// goes away) and carries out kill and restart: SIGTERM to the group, SIGKILL after the grace
/// period to whatever is left, the result once the group is gone.
///
/// One thread, one poll() loop over the signal pipe and the helper connection.
package final class AgentWrapper {
    package let options: WrapperOptions
    private let agent: ProcessRecord.Agent
    private let environment: [String: String]
    private let endpoint: HTTPEndpoint?
    private let spool: HookSpool
    private let socketPath: String
    private let cwd: String
    private var terminal: Int32 = -1
    private var signals: Int32 = -1

    private struct Child {
        var pid: Int32
        var argv: [String]
        var started: Double
        var status: ExitStatus?
    }
    private var child: Child
    private var restarts = 0

    private enum StopKind: String { case kill, restart, signal }
    private struct Stop {
        var kind: StopKind
        var commandID: String?
        var graceDeadline: UInt64
        var escalated = false
    }
    private var stop: Stop?

    // Helper connection.
    private var helperFD: Int32 = -1
    private var helperFramer = LineFramer()
    private var nextConnectAttempt: UInt64 = 0
    private var backoff = 0.1
    private var registerID = 0
    private var warnedBusy = false

    private var sampler = CPUSampler(ticksPerSecond: ProcessTable.ticksPerSecond, pageSize: ProcessTable.pageSize)
    private var nextSample: UInt64 = 0
    private static let sampleInterval = 5.0

    /// Reads the environment and prepares; nothing starts until ``run()``.
    package init(options: WrapperOptions, processEnvironment: [String: String]) {
        self.options = options
        let paths = ObservatoryPaths(environment: processEnvironment)
        cwd = Self.currentDirectory()
        let id = options.id ?? Self.randomID()
        let name = options.name ?? "\(AgentProcessKind.basename(options.command[0]))@\(AgentProcessKind.basename(cwd))"
        agent = ProcessRecord.Agent(id: id, name: name, kind: AgentProcessKind.classify(argv: options.command))
        let endpointText = options.endpoint ?? paths.ingestEndpoint
        endpoint = HTTPEndpoint(endpointText)
        environment = AgentEnvironment(agentID: id, agentName: name, endpoint: endpointText).applied(to: processEnvironment)
        spool = HookSpool(path: paths.hookSpool)
        socketPath = options.socketPath ?? ControlPaths.helperSocket(environment: processEnvironment)
        child = Child(pid: 0, argv: options.command, started: 0)
    }

    /// Runs the agent until it is gone for good; returns the wrapper's exit status (the agent's:
    /// its code, or 128 + the signal).
    package func run() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGTTOU, SIG_IGN)
        signal(SIGTTIN, SIG_IGN)
        ProcessSpawner.becomeSubreaper()
        signals = SignalPipe.install([SIGCHLD, SIGTERM, SIGHUP, SIGINT, SIGWINCH, SIGQUIT])
        if isatty(0) != 0, tcgetpgrp(0) == getpgrp() { terminal = 0 }
        do {
            try startChild(argv: options.command)
        } catch {
            Self.say("observatory run: \(error.description)")
            return error.status
        }
        while true {
            reap()
            if stop == nil, let status = child.status {
                // The agent ended by itself.
                post([.exit(agent: agent, pid: child.pid, status: status, reason: "exit", escalated: false, cwd: cwd, time: Self.unixNanos())], budgetMs: 1000, spoolOnFailure: true)
                takeTerminalBack()
                return status.shellStatus
            }
            if stop != nil, let exitStatus = progressStop() { return exitStatus }
            if helperFD < 0, ControlTime.monotonicNanos() >= nextConnectAttempt { connectToHelper() }
            if stop == nil, ControlTime.monotonicNanos() >= nextSample { takeSample() }
            waitForEvents()
        }
    }

    // MARK: The child

    private func startChild(argv: [String]) throws(ProcessSpawner.Failure) {
        let pid = try ProcessSpawner.spawn(argv: argv, environment: environment, terminal: terminal)
        child = Child(pid: pid, argv: argv, started: ControlTime.unixSeconds())
        debug("started \(argv.joined(separator: " ")) as pid \(pid)")
        post([.start(agent: agent, pid: pid, argv: argv, cwd: cwd, restarts: restarts, time: Self.unixNanos())], budgetMs: 500, spoolOnFailure: true)
        sampler = CPUSampler(ticksPerSecond: ProcessTable.ticksPerSecond, pageSize: ProcessTable.pageSize)
        _ = sampler.sample(members(in: ProcessTable.snapshot()), now: ControlTime.monotonicNanos())
        nextSample = ControlTime.deadline(after: Self.sampleInterval)
    }

    /// Reaps every child that ended (the agent and reparented orphans); handles the agent stopping
    /// on a terminal signal (job control).
    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG | WUNTRACED)
            if pid <= 0 {
                if pid < 0 && errno == EINTR { continue }
                return
            }
            guard pid == child.pid else { continue }
            if let ended = ExitStatus(waitStatus: status) {
                child.status = ended
            } else if status & 0xFF == 0x7F {
                handleStopped(signal: (status >> 8) & 0xFF)
            }
        }
    }

    /// The agent stopped (Ctrl-Z, or a read from the terminal before it was handed over): like a
    /// shell, give the terminal back and stop too; when continued, hand it over and continue the agent.
    private func handleStopped(signal: Int32) {
        guard stop == nil else { return }
        if signal == SIGTTIN || signal == SIGTTOU, terminal >= 0 {
            _ = tcsetpgrp(terminal, child.pid)
            kill(-child.pid, SIGCONT)
            return
        }
        guard terminal >= 0, signal == SIGTSTP || signal == SIGSTOP else { return }
        takeTerminalBack()
        kill(getpid(), SIGSTOP)
        // Continued (`fg`).
        _ = tcsetpgrp(terminal, child.pid)
        kill(-child.pid, SIGCONT)
    }

    private func takeTerminalBack() {
        if terminal >= 0 { _ = tcsetpgrp(terminal, getpgrp()) }
    }

    /// The agent's processes: its process group and every descendant of the wrapper (the
    /// wrapper is a subreaper, so orphans stay its descendants), zombies excluded.
    private func members(in table: [ProcStat]) -> [ProcStat] {
        let descendants = ProcessTable.descendants(of: getpid(), in: table)
        return table.filter { ($0.pgrp == child.pid || descendants.contains($0.pid)) && $0.state != "Z" }
    }

    private func takeSample() {
        nextSample = ControlTime.deadline(after: Self.sampleInterval)
        let reading = sampler.sample(members(in: ProcessTable.snapshot()), now: ControlTime.monotonicNanos())
        post([.sample(agent: agent, pid: child.pid, cpuPercent: reading.cpuPercent, rssBytes: reading.rssBytes, processes: reading.processes, time: Self.unixNanos())], budgetMs: 300, spoolOnFailure: false)
    }

    // MARK: Kill and restart

    private func beginStop(_ kind: StopKind, commandID: String?, grace: Double) {
        guard stop == nil else {
            if let commandID {
                sendToHelper(.error(id: commandID, code: ControlMessage.ErrorCode.busy, message: "already stopping"))
            }
            return
        }
        stop = Stop(kind: kind, commandID: commandID, graceDeadline: ControlTime.deadline(after: grace))
        debug("\(kind.rawValue): SIGTERM to process group \(child.pid), grace \(grace)s")
        if child.status == nil { kill(child.pid, SIGCONT) }
        kill(-child.pid, SIGTERM)
        kill(-child.pid, SIGCONT)  // a stopped process acts on SIGTERM only once continued
        // Descendants that left the group (setsid) get it too.
        for pid in ProcessTable.livingDescendants(of: getpid()) { kill(pid, SIGTERM) }
    }

    /// Advances a kill / restart; returns the wrapper's exit status when it is time to exit.
    private func progressStop() -> Int32? {
        guard var current = stop else { return nil }
        if !agentGone() {
            if !current.escalated, ControlTime.monotonicNanos() >= current.graceDeadline {
                debug("grace period over: SIGKILL")
                current.escalated = true
                stop = current
                kill(-child.pid, SIGKILL)
                if child.status == nil { kill(child.pid, SIGKILL) }
                for pid in ProcessTable.livingDescendants(of: getpid()) { kill(pid, SIGKILL) }
            }
            return nil
        }
        stop = nil
        let oldPID = child.pid
        let status = child.status ?? .signaled(SIGKILL)
        takeTerminalBack()
        switch current.kind {
        case .kill, .signal:
            if let id = current.commandID {
                sendToHelper(.result(id: id, result: HelperCommandResult(
                    ok: true, pid: oldPID, exitCode: status.exitCode, exitSignal: status.signal, escalated: current.escalated)))
            }
            post([.exit(agent: agent, pid: oldPID, status: status, reason: current.kind.rawValue, escalated: current.escalated, cwd: cwd, time: Self.unixNanos())], budgetMs: 1000, spoolOnFailure: true)
            return status.shellStatus
        case .restart:
            post([.exit(agent: agent, pid: oldPID, status: status, reason: "restart", escalated: current.escalated, cwd: cwd, time: Self.unixNanos())], budgetMs: 500, spoolOnFailure: true)
            do {
                restarts += 1
                try startChild(argv: options.restartWith ?? options.command)
            } catch {
                Self.say("observatory run: restart failed: \(error.description)")
                if let id = current.commandID {
                    sendToHelper(.result(id: id, result: HelperCommandResult(
                        ok: false, pid: oldPID, exitCode: status.exitCode, exitSignal: status.signal, escalated: current.escalated,
                        message: "restart failed: \(error.description)")))
                }
                return error.status
            }
            if let id = current.commandID {
                sendToHelper(.result(id: id, result: HelperCommandResult(
                    ok: true, pid: oldPID, newPID: child.pid, exitCode: status.exitCode, exitSignal: status.signal,
                    escalated: current.escalated)))
            }
            sendRegistration()
            return nil
        }
    }

    /// Whether the agent's process, its group and every descendant of the wrapper are gone.
    private func agentGone() -> Bool {
        guard child.status != nil else { return false }
        if kill(-child.pid, 0) == 0 || errno == EPERM { return false }
        // The group is empty; anything that left it (setsid) and still runs?
        return ProcessTable.livingDescendants(of: getpid()).isEmpty
    }

    // MARK: Events

    private func waitForEvents() {
        var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
        if helperFD >= 0 { fds.append(pollfd(fd: helperFD, events: Int16(POLLIN), revents: 0)) }
        var timeout: Int32
        if stop != nil {
            timeout = 5  // watching the group go away
        } else {
            timeout = ControlTime.millisecondsLeft(until: nextSample)
            if helperFD < 0 { timeout = min(timeout, ControlTime.millisecondsLeft(until: nextConnectAttempt)) }
        }
        let n = poll(&fds, nfds_t(fds.count), max(timeout, 1))
        guard n > 0 else { return }
        if fds[0].revents != 0 {
            for s in SignalPipe.drain(signals) { handleSignal(s) }
        }
        if fds.count > 1, fds[1].revents != 0 { readFromHelper() }
    }

    private func handleSignal(_ s: Int32) {
        switch s {
        case SIGCHLD:
            break  // reaped at the top of the loop
        case SIGTERM, SIGHUP:
            beginStop(.signal, commandID: nil, grace: options.grace)
        case SIGINT, SIGQUIT:
            // With a terminal the agent's group gets Ctrl-C itself; otherwise pass it on.
            if terminal < 0 { kill(-child.pid, s) }
        case SIGWINCH:
            kill(-child.pid, SIGWINCH)
        default:
            break
        }
    }

    // MARK: The helper

    private func connectToHelper() {
        do {
            helperFD = try UnixSocket.connect(path: socketPath, deadline: ControlTime.deadline(after: 0.2))
        } catch {
            debug("helper not reachable (\(error.reason)); retrying in \(backoff)s")
            nextConnectAttempt = ControlTime.deadline(after: backoff)
            backoff = min(backoff * 2, 2)
            return
        }
        helperFramer = LineFramer()
        sendRegistration()
    }

    private func sendRegistration() {
        guard helperFD >= 0, child.status == nil || stop != nil else { return }
        registerID += 1
        let registration = AgentRegistration(
            id: agent.id, name: agent.name, pid: child.pid, pgid: child.pid, argv: child.argv, cwd: cwd,
            started: child.started, restartWith: options.restartWith, restarts: restarts)
        sendToHelper(.register(id: "r\(registerID)", agent: registration))
    }

    private func sendToHelper(_ message: ControlMessage) {
        guard helperFD >= 0 else { return }
        do {
            try UnixSocket.sendAll(helperFD, message.line, deadline: ControlTime.deadline(after: 1))
        } catch {
            disconnectFromHelper("send: \(error.reason)")
        }
    }

    private func disconnectFromHelper(_ reason: String, retryAfter: Double = 0.1) {
        guard helperFD >= 0 else { return }
        close(helperFD)
        helperFD = -1
        debug("helper connection closed: \(reason)")
        nextConnectAttempt = ControlTime.deadline(after: retryAfter)
        backoff = max(retryAfter, 0.1)
    }

    private func readFromHelper() {
        switch UnixSocket.receive(helperFD) {
        case .data(let bytes):
            let lines: [[UInt8]]
            do {
                lines = try helperFramer.feed(bytes)
            } catch {
                disconnectFromHelper("line too long")
                return
            }
            for line in lines where !line.isEmpty { handleHelperLine(line) }
        case .wouldBlock:
            return
        case .closed:
            disconnectFromHelper("closed by the helper")
        case .failed(let reason):
            disconnectFromHelper(reason)
        }
    }

    private func handleHelperLine(_ line: [UInt8]) {
        let message: ControlMessage
        do {
            message = try ControlMessage.decode(line: line)
        } catch {
            if let id = error.id { sendToHelper(.error(id: id, code: ControlMessage.ErrorCode.badRequest, message: error.message)) }
            return
        }
        switch message {
        case .registered:
            backoff = 0.1
            warnedBusy = false
            debug("registered with the helper as \(agent.id)")
        case .kill(let id, _, let grace):
            beginStop(.kill, commandID: id, grace: grace)
        case .restart(let id, _, let grace):
            beginStop(.restart, commandID: id, grace: grace)
        case .error(_, let code, let text):
            if code == ControlMessage.ErrorCode.busy || code == ControlMessage.ErrorCode.forbidden {
                if !warnedBusy { Self.say("observatory run: the helper refused agent \(agent.id): \(text)") }
                warnedBusy = true
                disconnectFromHelper(text, retryAfter: 2)
            }
        case .list(let id):
            sendToHelper(.error(id: id, code: ControlMessage.ErrorCode.badRequest, message: "a wrapper does not list"))
        case .register, .agents, .result:
            break
        }
    }

    // MARK: Reports

    private func post(_ records: [ProcessRecord], budgetMs: UInt64, spoolOnFailure: Bool) {
        guard let endpoint else { return }
        let body = ProcessRecord.exportRequestBody(records, agent: agent)
        let result = TinyHTTP.request(
            "POST", endpoint: endpoint, path: endpoint.path("/v1/logs"), body: Array(body.utf8),
            contentType: "application/json", deadline: ControlTime.monotonicNanos() + budgetMs * 1_000_000)
        switch result {
        case .success(let response) where (200..<300).contains(response.status):
            return
        case .success(let response):
            debug("sink answered \(response.status) to a process report")
        case .failure(let failure):
            debug("process report not delivered: \(failure)")
        }
        // The next `observatory hook` call sends what is spooled; the record names its agent itself.
        if spoolOnFailure { spool.append(records.map { $0.otlpJSON.compactText }) }
    }

    // MARK: Small things

    private func debug(_ message: String) {
        if options.verbose { HelperLog.write("observatory run: " + message) }
    }

    private static func say(_ message: String) {
        var line = message + "\n"
        line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    private static func unixNanos() -> UInt64 { UInt64(ControlTime.unixSeconds() * 1e9) }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// 12 random hex digits.
    static func randomID() -> String {
        var bytes = [UInt8](repeating: 0, count: 6)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            close(fd)
        } else {
            var seed = ControlTime.monotonicNanos() ^ UInt64(getpid())
            for i in bytes.indices {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                bytes[i] = UInt8(truncatingIfNeeded: seed >> 33)
            }
        }
        let hex = Array("0123456789abcdef")
        return "agent-" + String(bytes.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] })
    }
}
