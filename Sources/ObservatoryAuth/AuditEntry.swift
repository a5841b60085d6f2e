import ObservatoryControl

/// One line of the audit log: who did what to which target, and how it ended.
package struct AuditEntry: Sendable, Equatable, Encodable {
    /// ISO 8601 UTC with milliseconds.
    package var time: String
    /// Who: `token <id> (<name>)`, `local`, `anonymous`, or `cli (uid N)` for the command line.
    package var actor: String
    /// Where from: the client's address (and a forwarded-for address behind a proxy); `nil` for the CLI.
    package var client: String?
    /// `control.kill`, `control.restart`, `token.create`, `token.revoke`, `auth.login`, `auth.read`…
    package var action: String
    /// The session, agent or token acted on.
    package var target: String?
    /// `ok`, `no_token`, `bad_token`, `wrong_scope`, `rate_limited`, `remote_refused`, `not_controllable`…
    package var result: String
    /// Details: the error, the new pid, whether SIGKILL was needed.
    package var detail: String?

    package init(
        time secondsSince1970: Double = UTCTime.now(), actor: String, client: String? = nil, action: String, target: String? = nil,
        result: String, detail: String? = nil
    ) {
        time = UTCTime.iso8601(secondsSince1970)
        self.actor = actor
        self.client = client
        self.action = action
        self.target = target
        self.result = result
        self.detail = detail
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("time", .string(time)), ("actor", .string(actor))]
        if let client { members.append(("client", .string(client))) }
        members.append(("action", .string(action)))
        if let target { members.append(("target", .string(target))) }
        members.append(("result", .string(result)))
        if let detail { members.append(("detail", .string(detail))) }
        return .object(members)
    }

    init?(json: JSONValue) {
        guard let time = json["time"]?.stringValue, let actor = json["actor"]?.stringValue, let action = json["action"]?.stringValue,
            let result = json["result"]?.stringValue
        else { return nil }
        self.time = time
        self.actor = actor
        client = json["client"]?.stringValue
        self.action = action
        target = json["target"]?.stringValue
        self.result = result
        detail = json["detail"]?.stringValue
    }
}
