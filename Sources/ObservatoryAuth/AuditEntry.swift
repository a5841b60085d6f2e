import Foundation

/// One line of the audit log: who did what to which target, and how it ended.
package struct AuditEntry: Codable, Sendable, Equatable {
    package var time: Date
    /// Who: `token <id> (<name>)`, `anonymous`, or `cli (uid N)` for the command line.
    package var actor: String
    /// Where from: the client's address (and a forwarded-for address behind a proxy); `nil` for the CLI.
    package var client: String?
    /// `control.kill`, `control.restart`, `token.create`, `token.revoke`, `auth.login`, `auth.failed`.
    package var action: String
    /// The session, agent or token acted on.
    package var target: String?
    /// `ok`, `denied`, `rate_limited`, `not_controllable`, `error`…
    package var result: String
    /// Details: the error, the new pid, whether SIGKILL was needed.
    package var detail: String?

    package init(
        time: Date, actor: String, client: String? = nil, action: String, target: String? = nil, result: String,
        detail: String? = nil
    ) {
        self.time = time
        self.actor = actor
        self.client = client
        self.action = action
        self.target = target
        self.result = result
        self.detail = detail
    }
}
