#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ObservatoryControl

/// `observatory helper`: the local control daemon. Listens on a Unix socket (mode 0600 in a 0700
/// directory), refuses peers of another uid (SO_PEERCRED), keeps a registry of live wrappers and
/// relays kill / restart from controllers (the sink, the CLI) to the wrapper that owns the agent,
/// and the wrapper's result back.
///
/// One thread, one poll() loop; signals arrive through a ``SignalPipe``. Nothing here blocks
/// except poll itself and the short /proc scan of `list`.
package final class HelperDaemon {
    /// Connections held at most; more are answered `busy` and closed.
    package static let maxConnections = 256
    /// Unsent bytes held for one peer at most; a peer that does not read is dropped.
    package static let maxOutboxBytes = 1 << 20
    /// Extra time the wrapper gets beyond the grace period.
    package static let wrapperAnswerSlack = 5.0

    private struct Connection {
        var fd: Int32
        var peer: UnixSocket.PeerCredentials
        var framer = LineFramer()
        var outbox: [UInt8] = []
        /// The agent id this connection registered (a wrapper).
        var agentID: String?
        /// Close once the outbox is flushed.
        var closeAfterFlush = false
    }

    private struct Registered {
        var connection: Int
        var registration: AgentRegistration
        /// The wrapper process (its descendants are not listed as unwrapped).
        var wrapperPID: Int32
        /// The helper's command id of a kill / restart under way.
        var inFlight: String?
    }

    private struct Relay {
        var controller: Int
        var controllerRequestID: String
        var agentID: String
        var deadline: UInt64
    }

    package let socketPath: String
    private var listener: Int32 = -1
    private var signals: Int32 = -1
    private var socketIdentity: (dev: UInt64, ino: UInt64)?
    private var connections: [Int: Connection] = [:]
    private var nextConnectionID = 1
    private var registry: [String: Registered] = [:]
    private var relays: [String: Relay] = [:]
    private var nextCommandID = 1
    private var stopping = false
    private let ownUID = getuid()

    package init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// What went wrong starting up.
    package struct StartError: Error, CustomStringConvertible {
        package var description: String
    }

    // MARK: Lifecycle

    /// Binds the socket: a stale socket file (nothing answers) is removed; a live helper, or a
    /// path that is not a socket, is an error.
    package func start() throws(StartError) {
        let directory = POSIXFile.directory(of: socketPath)
        if !POSIXFile.exists(directory) { ControlPaths.makePrivateDirectory(directory) }
        var st = stat()
        if lstat(socketPath, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw StartError(description: "\(socketPath) exists and is not a socket; not touching it")
            }
            if let fd = try? UnixSocket.connect(path: socketPath, deadline: ControlTime.deadline(after: 1)) {
                close(fd)
                throw StartError(description: "another helper is already listening on \(socketPath)")
            }
            log("removing stale socket \(socketPath)")
            unlink(socketPath)
        }
        do {
            listener = try UnixSocket.listen(path: socketPath)
        } catch {
            throw StartError(description: error.reason)
        }
        if lstat(socketPath, &st) == 0 { socketIdentity = (UInt64(st.st_dev), UInt64(st.st_ino)) }
        signals = SignalPipe.install([SIGTERM, SIGINT, SIGHUP])
        signal(SIGPIPE, SIG_IGN)
        log("listening on \(socketPath) (pid \(getpid()))")
    }

    /// Serves until SIGTERM / SIGINT; then closes every connection and removes the socket file.
    package func run() {
        while !stopping {
            step()
        }
        shutdown()
    }

    private func shutdown() {
        for (id, _) in connections { drop(id, reason: nil) }
        if listener >= 0 { close(listener) }
        // Remove the socket only if it is still ours (a newer helper may have replaced it).
        var st = stat()
        if let identity = socketIdentity, lstat(socketPath, &st) == 0, UInt64(st.st_dev) == identity.dev,
            UInt64(st.st_ino) == identity.ino
        {
            unlink(socketPath)
        }
        log("stopped")
    }

    // MARK: The loop

    private func step() {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
        let ids = Array(connections.keys)
        for id in ids {
            guard let c = connections[id] else { continue }
            var events = Int16(POLLIN)
            if !c.outbox.isEmpty { events |= Int16(POLLOUT) }
            fds.append(pollfd(fd: c.fd, events: events, revents: 0))
        }
        var timeout: Int32 = 1000
        for relay in relays.values { timeout = min(timeout, ControlTime.millisecondsLeft(until: relay.deadline)) }
        let n = poll(&fds, nfds_t(fds.count), timeout)
        if n < 0 && errno != EINTR {
            log("poll failed: \(String(cString: strerror(errno)))")
            stopping = true
            return
        }
        if fds[1].revents != 0 {
            for s in SignalPipe.drain(signals) where s == SIGTERM || s == SIGINT || s == SIGHUP {
                log("signal \(s): shutting down")
                stopping = true
            }
        }
        if fds[0].revents & Int16(POLLIN) != 0 { acceptAll() }
        for (index, id) in ids.enumerated() {
            let revents = fds[index + 2].revents
            guard revents != 0, connections[id] != nil else { continue }
            if revents & Int16(POLLOUT) != 0 { flush(id) }
            if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { readFrom(id) }
        }
        expireRelays()
    }

    private func acceptAll() {
        while let fd = UnixSocket.accept(listener) {
            guard let peer = UnixSocket.peerCredentials(fd) else {
                close(fd)
                continue
            }
            guard peer.uid == ownUID else {
                log("refused a connection from uid \(peer.uid) (pid \(peer.pid)): only uid \(ownUID) may connect")
                let line = ControlMessage.error(id: "", code: ControlMessage.ErrorCode.forbidden, message: "uid \(peer.uid) may not use this helper").line
                _ = try? UnixSocket.sendAll(fd, line, deadline: ControlTime.deadline(after: 0.05))
                close(fd)
                continue
            }
            guard connections.count < Self.maxConnections else {
                log("refused a connection: \(Self.maxConnections) connections already")
                let line = ControlMessage.error(id: "", code: ControlMessage.ErrorCode.busy, message: "too many connections").line
                _ = try? UnixSocket.sendAll(fd, line, deadline: ControlTime.deadline(after: 0.05))
                close(fd)
                continue
            }
            let id = nextConnectionID
            nextConnectionID += 1
            connections[id] = Connection(fd: fd, peer: peer)
        }
    }

    private func readFrom(_ id: Int) {
        guard let fd = connections[id]?.fd else { return }
        // A bounded number of reads per wakeup keeps one chatty peer from starving the rest.
        for _ in 0..<16 {
            switch UnixSocket.receive(fd) {
            case .data(let bytes):
                let lines: [[UInt8]]
                do {
                    lines = try connections[id]!.framer.feed(bytes)
                } catch {
                    send(.error(id: "", code: ControlMessage.ErrorCode.badRequest, message: "line longer than 64 KiB"), to: id)
                    connections[id]?.closeAfterFlush = true
                    flush(id)
                    return
                }
                for line in lines where !line.isEmpty {
                    guard connections[id] != nil else { return }
                    handle(line: line, from: id)
                }
            case .wouldBlock:
                return
            case .closed:
                drop(id, reason: nil)
                return
            case .failed(let reason):
                drop(id, reason: reason)
                return
            }
        }
    }

    // MARK: Messages

    private func handle(line: [UInt8], from id: Int) {
        let message: ControlMessage
        do {
            message = try ControlMessage.decode(line: line)
        } catch {
            send(.error(id: error.id ?? "", code: ControlMessage.ErrorCode.badRequest, message: error.message), to: id)
            return
        }
        switch message {
        case .register(let requestID, let registration):
            register(registration, requestID: requestID, connection: id)
        case .list(let requestID):
            send(.agents(id: requestID, list: listing()), to: id)
        case .kill(let requestID, let agent, let grace), .restart(let requestID, let agent, let grace):
            guard let agent else {
                send(.error(id: requestID, code: ControlMessage.ErrorCode.badRequest, message: "which agent?"), to: id)
                return
            }
            relay(message, agent: agent, grace: grace, requestID: requestID, controller: id)
        case .result, .error:
            answerFromWrapper(message, connection: id)
        case .registered, .agents:
            send(.error(id: message.id, code: ControlMessage.ErrorCode.badRequest, message: "not a request"), to: id)
        }
    }

    private func register(_ registration: AgentRegistration, requestID: String, connection id: Int) {
        if let existing = registry[registration.id], existing.connection != id, connections[existing.connection] != nil {
            send(.error(id: requestID, code: ControlMessage.ErrorCode.busy, message: "agent id \(registration.id) is registered by another wrapper"), to: id)
            return
        }
        if let previous = connections[id]?.agentID, previous != registration.id { registry[previous] = nil }
        let inFlight = registry[registration.id]?.inFlight
        let isUpdate = registry[registration.id] != nil
        registry[registration.id] = Registered(
            connection: id, registration: registration, wrapperPID: connections[id]?.peer.pid ?? 0, inFlight: inFlight)
        connections[id]?.agentID = registration.id
        log("\(isUpdate ? "updated" : "registered") agent \(registration.id) (\(registration.name)) pid \(registration.pid)")
        send(.registered(id: requestID), to: id)
    }

    private func relay(_ message: ControlMessage, agent: String, grace: Double, requestID: String, controller: Int) {
        guard var entry = registry[agent], connections[entry.connection] != nil else {
            send(.error(id: requestID, code: ControlMessage.ErrorCode.notFound, message: "no running wrapper has agent \(agent)"), to: controller)
            return
        }
        guard entry.inFlight == nil else {
            send(.error(id: requestID, code: ControlMessage.ErrorCode.busy, message: "a kill or restart of \(agent) is under way"), to: controller)
            return
        }
        let commandID = "h\(nextCommandID)"
        nextCommandID += 1
        entry.inFlight = commandID
        registry[agent] = entry
        relays[commandID] = Relay(
            controller: controller, controllerRequestID: requestID, agentID: agent,
            deadline: ControlTime.deadline(after: grace + Self.wrapperAnswerSlack))
        let forwarded: ControlMessage = if case .kill = message {
            .kill(id: commandID, agent: nil, grace: grace)
        } else {
            .restart(id: commandID, agent: nil, grace: grace)
        }
        log("\(forwarded.json["type"]?.stringValue ?? "?") agent \(agent) (pid \(entry.registration.pid), grace \(grace)s) as \(commandID)")
        send(forwarded, to: entry.connection)
    }

    private func answerFromWrapper(_ message: ControlMessage, connection id: Int) {
        guard let relay = relays.removeValue(forKey: message.id) else { return }
        if registry[relay.agentID]?.inFlight == message.id { registry[relay.agentID]?.inFlight = nil }
        if case .result(_, let result) = message {
            log("agent \(relay.agentID): ok=\(result.ok) pid \(result.pid) new_pid \(result.newPID.map(String.init) ?? "-") escalated=\(result.escalated)")
        }
        guard connections[relay.controller] != nil else { return }
        send(message.withID(relay.controllerRequestID), to: relay.controller)
    }

    private func expireRelays() {
        let now = ControlTime.monotonicNanos()
        for (commandID, relay) in relays where relay.deadline <= now {
            relays[commandID] = nil
            if registry[relay.agentID]?.inFlight == commandID { registry[relay.agentID]?.inFlight = nil }
            log("agent \(relay.agentID): no answer to \(commandID) in time")
            send(.error(id: relay.controllerRequestID, code: ControlMessage.ErrorCode.timeout, message: "the wrapper did not answer in time"), to: relay.controller)
        }
    }

    // MARK: Listing

    private func listing() -> HelperAgentList {
        let agents = registry.values.filter { connections[$0.connection] != nil }.map { entry in
            entry.registration.agent
        }.sorted { $0.started == $1.started ? $0.id < $1.id : $0.started < $1.started }
        let table = ProcessTable.snapshot()
        var owned = Set<Int32>()
        for entry in registry.values {
            owned.insert(entry.wrapperPID)
            owned.formUnion(ProcessTable.descendants(of: entry.wrapperPID, in: table))
            owned.formUnion(ProcessTable.descendants(of: entry.registration.pid, in: table))
            owned.insert(entry.registration.pid)
        }
        var kinds: [Int32: String] = [:]
        var argvs: [Int32: [String]] = [:]
        for process in table where process.pid != getpid() && process.state != "Z" && !owned.contains(process.pid) {
            guard ProcessTable.uid(pid: process.pid) == ownUID else { continue }
            let argv = ProcessTable.argv(pid: process.pid)
            guard let kind = AgentProcessKind.classify(argv: argv) else { continue }
            kinds[process.pid] = kind
            argvs[process.pid] = argv
        }
        let parents = Dictionary(table.map { ($0.pid, $0.ppid) }, uniquingKeysWith: { a, _ in a })
        // A launcher and the process it started (node → native binary) are one agent: list the top one.
        let unwrapped = kinds.keys.sorted().compactMap { pid -> UnwrappedAgentProcess? in
            if let parent = parents[pid], kinds[parent] == kinds[pid] { return nil }
            return UnwrappedAgentProcess(pid: pid, kind: kinds[pid]!, argv: argvs[pid] ?? [], cwd: ProcessTable.cwd(pid: pid))
        }
        return HelperAgentList(agents: agents, unwrapped: unwrapped)
    }

    // MARK: Output

    private func send(_ message: ControlMessage, to id: Int) {
        guard connections[id] != nil else { return }
        connections[id]!.outbox += message.line
        if connections[id]!.outbox.count > Self.maxOutboxBytes {
            drop(id, reason: "peer does not read its answers")
            return
        }
        flush(id)
    }

    private func flush(_ id: Int) {
        guard var c = connections[id] else { return }
        while !c.outbox.isEmpty {
            let n = c.outbox.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                c.outbox.removeFirst(n)
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            connections[id] = c
            drop(id, reason: "send: \(String(cString: strerror(errno)))")
            return
        }
        connections[id] = c
        if c.outbox.isEmpty && c.closeAfterFlush { drop(id, reason: nil) }
    }

    private func drop(_ id: Int, reason: String?) {
        guard let c = connections.removeValue(forKey: id) else { return }
        close(c.fd)
        if let reason { log("connection from pid \(c.peer.pid) closed: \(reason)") }
        guard let agentID = c.agentID, registry[agentID]?.connection == id else { return }
        registry[agentID] = nil
        log("agent \(agentID): wrapper disconnected")
        for (commandID, relay) in relays where relay.agentID == agentID {
            relays[commandID] = nil
            send(.error(id: relay.controllerRequestID, code: ControlMessage.ErrorCode.unavailable, message: "the wrapper went away before it answered"), to: relay.controller)
        }
    }

    private func log(_ message: String) {
        HelperLog.write("observatory helper: " + message)
    }
}

/// Timestamped lines on stderr.
package enum HelperLog {
    package static func write(_ message: String) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var tm = tm()
        var seconds = ts.tv_sec
        localtime_r(&seconds, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let millis = Int(ts.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        var line = "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)).\(ms) \(message)\n"
        line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
