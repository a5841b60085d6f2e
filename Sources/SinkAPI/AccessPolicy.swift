import Foundation
import HTTPTypes
import NIOCore

/// The sink's rules for who may do what (docs/security.md), as pure functions of the request:
///
/// - **Host allowlist** (DNS rebinding): the `Host` must be a loopback name or address, or one of
///   ``allowedHosts`` — a page on `evil.example` that re-points its name at 127.0.0.1 is refused.
/// - **Local or remote**: a request is local when the TCP peer is a loopback address (or in
///   ``localNetworks``: Docker's port forwarding, see docs/security.md) and it carries no proxy
///   header (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`, `CF-Connecting-IP`): a tunnel or reverse
///   proxy on this machine connects from loopback, but its requests are remote.
/// - **Same origin** for anything that changes state: a browser's `Origin`, when sent, must name
///   the host the request was sent to (no CSRF, no cross-site WebSocket hijacking).
package struct AccessPolicy: Sendable {
    /// Extra `Host` names (without port) accepted besides loopback ones, e.g. a tunnel's hostname.
    package var allowedHosts: Set<String>
    /// Whether control calls from remote clients are allowed at all (`--allow-remote-control`).
    package var allowRemoteControl: Bool
    /// Peers that count as this machine besides loopback (`api.local_networks`): in the compose
    /// stack, the Docker network's gateway, from which the host's published port forwards.
    package var localNetworks: [IPNetwork]

    package init(allowedHosts: some Sequence<String> = [], allowRemoteControl: Bool = false, localNetworks: [IPNetwork] = []) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.allowRemoteControl = allowRemoteControl
        self.localNetworks = localNetworks
    }

    static let proxyHeaders: [HTTPField.Name] = [
        HTTPField.Name("Forwarded")!, HTTPField.Name("X-Forwarded-For")!, HTTPField.Name("X-Real-IP")!,
        HTTPField.Name("CF-Connecting-IP")!,
    ]

    /// Classifies a request by its peer and headers.
    package func access(peer: SocketAddress?, headers: HTTPFields) -> RequestAccess {
        let peerText = peer?.ipAddress ?? "unknown"
        let forwarded = Self.forwardedClient(headers)
        let peerIsLoopback = peer.map { address in
            Self.isLoopback(address) || address.ipAddress.map { ip in localNetworks.contains { $0.contains(ip) } } ?? false
        } ?? false
        let isLocal = peerIsLoopback && forwarded == nil
        let client = forwarded.map { "\(peerText) for \($0)" } ?? peerText
        // Behind a proxy on this machine every client shares the proxy's address; count each
        // forwarded client on its own. A remote peer cannot choose its key by sending the header.
        let limiterKey = peerIsLoopback ? (forwarded ?? peerText) : peerText
        return RequestAccess(isLocal: isLocal, client: client, limiterKey: limiterKey)
    }

    /// Whether the `Host` header names this server under a name we accept.
    package func hostAllowed(_ authority: String?) -> Bool {
        guard let authority, let host = Self.hostName(authority: authority) else { return false }
        if Self.isLoopbackName(host) { return true }
        return allowedHosts.contains(host)
    }

    /// Whether a browser's `Origin` (when present) names the host and port the request was sent to.
    package static func sameOrigin(origin: String?, authority: String?) -> Bool {
        guard let origin else { return true }
        guard let authority = authority?.lowercased() else { return false }
        let lowered = origin.lowercased()
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            let rest = String(lowered.dropFirst(scheme.count))
            let defaultPort = scheme == "https://" ? "443" : "80"
            if rest == authority { return true }
            // `Host` omits a default port that the `Origin` may name, and the other way round.
            if rest == authority + ":" + defaultPort || rest + ":" + defaultPort == authority { return true }
            return false
        }
        return false
    }

    // MARK: - Helpers

    static func forwardedClient(_ headers: HTTPFields) -> String? {
        for name in proxyHeaders {
            if let value = headers[name] {
                let first = value.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? value
                return first.isEmpty ? "unknown" : String(first.prefix(100))
            }
        }
        return nil
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4:
            return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6:
            guard let ip = address.ipAddress else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket:
            return true
        }
    }

    /// The host part of an authority (`host`, `host:port`, `[v6]:port`), lowercased.
    static func hostName(authority: String) -> String? {
        let lowered = authority.lowercased()
        if lowered.hasPrefix("[") {
            guard let end = lowered.firstIndex(of: "]") else { return nil }
            return String(lowered[lowered.index(after: lowered.startIndex)..<end])
        }
        let host = lowered.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return host.isEmpty ? nil : host
    }

    static func isLoopbackName(_ host: String) -> Bool {
        if host == "localhost" || host.hasSuffix(".localhost") || host == "::1" { return true }
        let parts = host.split(separator: ".")
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
