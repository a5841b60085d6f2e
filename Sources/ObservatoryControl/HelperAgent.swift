/// A running agent as the helper lists it: registered by the `observatory run` wrapper that owns
/// its process.
package struct HelperAgent: Sendable, Equatable {
    /// The agent id (stable across restarts of the agent and of the helper).
    package var id: String
    package var name: String
    /// The agent's process (the wrapper's child) now.
    package var pid: Int32
    /// Its process group (the agent's own; kill signals the whole group).
    package var pgid: Int32
    package var argv: [String]
    package var cwd: String
    /// When the current process started, Unix seconds.
    package var started: Double
    /// How many times the wrapper restarted it.
    package var restarts: Int

    package init(id: String, name: String, pid: Int32, pgid: Int32, argv: [String], cwd: String, started: Double, restarts: Int) {
        self.id = id
        self.name = name
        self.pid = pid
        self.pgid = pgid
        self.argv = argv
        self.cwd = cwd
        self.started = started
        self.restarts = restarts
    }

    /// `{id,name,pid,pgid,argv,cwd,started,restarts}`.
    package var json: JSONValue {
        .object([
            ("id", .string(id)), ("name", .string(name)), ("pid", .integer(pid)), ("pgid", .integer(pgid)),
            ("argv", .strings(argv)), ("cwd", .string(cwd)), ("started", .decimal(started)),
            ("restarts", .integer(restarts)),
        ])
    }

    package init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let pid = json["pid"]?.int32Value else { return nil }
        self.init(
            id: id, name: json["name"]?.stringValue ?? id, pid: pid, pgid: json["pgid"]?.int32Value ?? pid,
            argv: json["argv"]?.stringArray ?? [], cwd: json["cwd"]?.stringValue ?? "",
            started: json["started"]?.doubleValue ?? 0, restarts: json["restarts"]?.int64Value.map { Int($0) } ?? 0)
    }
}
