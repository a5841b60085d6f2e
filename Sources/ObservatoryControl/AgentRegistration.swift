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

    /// The listing entry's members (``HelperAgent/json``) plus `restart_with`.
    package var json: JSONValue {
        var value = agent.json
        value.set("restart_with", restartWith.map(JSONValue.strings) ?? .null)
        return value
    }

    /// Reads what ``HelperAgent`` reads, stricter about what a peer may register: a non-empty id
    /// of at most 256 bytes and a real pid.
    package init?(json: JSONValue) {
        guard let agent = HelperAgent(json: json), !agent.id.isEmpty, agent.id.utf8.count <= 256, agent.pid > 0 else {
            return nil
        }
        self.init(
            id: agent.id, name: agent.name, pid: agent.pid, pgid: agent.pgid, argv: agent.argv, cwd: agent.cwd,
            started: agent.started, restartWith: json["restart_with"]?.stringArray, restarts: max(0, agent.restarts))
    }

    /// The listing entry for this registration.
    package var agent: HelperAgent {
        HelperAgent(id: id, name: name, pid: pid, pgid: pgid, argv: argv, cwd: cwd, started: started, restarts: restarts)
    }
}
