import ObservatoryAuth

/// Who is calling, as far as the sink can tell.
package struct RequestAccess: Sendable, Equatable {
    /// The request came from this machine directly: a loopback peer and no proxy headers. Local
    /// callers read without a token (the machine's user is trusted, as with any local dev server).
    package var isLocal: Bool
    /// The token the request presented and the sink accepted, if any.
    package var token: AccessToken?
    /// The client for logs and the audit log: the peer address, and the forwarded-for address
    /// behind a proxy.
    package var client: String
    /// Key for counting failed attempts: the forwarded client behind a local proxy, else the peer.
    package var limiterKey: String

    package init(isLocal: Bool, token: AccessToken? = nil, client: String, limiterKey: String) {
        self.isLocal = isLocal
        self.token = token
        self.client = client
        self.limiterKey = limiterKey
    }

    /// `token <id> (<name>)`, `local`, or `anonymous` — for the audit log.
    package var actor: String {
        if let token { return "token \(token.id) (\(token.name))" }
        return isLocal ? "local" : "anonymous"
    }
}
