/// What a wrapper tells the helper about its agent in a `register` message (sent on connect,
/// and again on the same connection after the agent was restarted).
package struct AgentRegistration: Sendable, Equatable {
    package var id: String
    package var name: String
    package var pid: Int32
    package var pgid: Int32
    package var argv: [String]
    package var cwd: String
    /// Unix seconds.
    package var started: Double
    /// The `--restart-with` command, if any.
    package var restartWith: [String]?
    /// Restarts so far (kept by the wrapper, so it survives a helper restart).
    package var restarts: Int

    package init(
        id: String, name: String, pid: Int32, pgid: Int32, argv: [String], cwd: String, started: Double,
        restartWith: [String]? = nil, restarts: Int = 0
    ) {
        self.id = id
        self.name = name
        self.pid = pid
        self.pgid = pgid
        self.argv = argv
        self.cwd = cwd
        self.started = started
        self.restartWith = restartWith
        self.restarts = restarts
    }

    package var json: JSONValue {
        .object([
            ("id", .string(id)), ("name", .string(name)), ("pid", .integer(pid)), ("pgid", .integer(pgid)),
            ("argv", .strings(argv)), ("cwd", .string(cwd)), ("started", .decimal(started)),
            ("restart_with", restartWith.map(JSONValue.strings) ?? .null), ("restarts", .integer(restarts)),
        ])
    }

    package init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, !id.isEmpty, id.utf8.count <= 256,
            let pid = json["pid"]?.int32Value, pid > 0
        else { return nil }
        self.init(
            id: id, name: json["name"]?.stringValue ?? id, pid: pid, pgid: json["pgid"]?.int32Value ?? pid,
            argv: json["argv"]?.stringArray ?? [], cwd: json["cwd"]?.stringValue ?? "",
            started: json["started"]?.doubleValue ?? 0, restartWith: json["restart_with"]?.stringArray,
            restarts: json["restarts"]?.int64Value.map { Int(max(0, $0)) } ?? 0)
    }

    /// The listing entry for this registration.
    package var agent: HelperAgent {
        HelperAgent(id: id, name: name, pid: pid, pgid: pgid, argv: argv, cwd: cwd, started: started, restarts: restarts)
    }
}
