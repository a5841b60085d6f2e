import Crypto
import Foundation
import SinkCore

/// `POST /api/push/subscriptions` body: what `PushSubscription.toJSON()` gives, plus an optional label.
package struct PushSubscriptionInput: Decodable, Sendable {
    package struct Keys: Decodable, Sendable {
        package var p256dh: String?
        package var auth: String?
    }

    package var endpoint: String?
    /// Milliseconds since 1970, or `null`.
    package var expirationTime: Double?
    package var keys: Keys?
    package var label: String?

    /// The subscription, or the reason it is refused (for a 400).
    package func validated(configuration: PushConfiguration, now: Date) -> Result<PushSubscription, PushInputError> {
        guard let endpoint, !endpoint.isEmpty else { return .failure("endpoint is required") }
        if let problem = Self.endpointProblem(endpoint, configuration: configuration) { return .failure(PushInputError(problem)) }
        guard let keys else { return .failure("keys is required ({\"p256dh\": …, \"auth\": …})") }
        guard let p256dhText = keys.p256dh, let p256dh = Base64URL.decode(p256dhText) else {
            return .failure("keys.p256dh must be base64url (the browser's subscription key)")
        }
        guard p256dh.count == 65, p256dh.first == 0x04 else {
            return .failure("keys.p256dh must be a 65-byte uncompressed P-256 point, got \(p256dh.count) bytes")
        }
        guard (try? P256.KeyAgreement.PublicKey(x963Representation: p256dh)) != nil else {
            return .failure("keys.p256dh is not a point on the P-256 curve")
        }
        guard let authText = keys.auth, let auth = Base64URL.decode(authText) else {
            return .failure("keys.auth must be base64url (the browser's 16-byte auth secret)")
        }
        guard auth.count == 16 else { return .failure("keys.auth must be 16 bytes, got \(auth.count)") }
        var expiresAt: Date?
        if let expirationTime {
            let date = Date(timeIntervalSince1970: expirationTime / 1000)
            guard date > now else { return .failure("expirationTime is in the past: the subscription has expired") }
            expiresAt = date
        }
        var label: String?
        if let raw = self.label?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty {
            guard raw.count <= 64, !raw.contains(where: { $0.isNewline }) else { return .failure("label must be one line of at most 64 characters") }
            label = raw
        }
        return .success(
            PushSubscription(
                id: Self.id(endpoint: endpoint), endpoint: endpoint, p256dh: p256dh, auth: auth, label: label, createdAt: now,
                expiresAt: expiresAt))
    }

    /// A stable id for an endpoint: 16 hex characters of its SHA-256.
    package static func id(endpoint: String) -> String {
        SHA256.hash(data: Data(endpoint.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    package static func endpointProblem(_ endpoint: String, configuration: PushConfiguration, what: String = "endpoint") -> String? {
        let problem = endpointProblemText(endpoint, configuration: configuration, checkApple: what == "endpoint")
        guard let problem, what != "endpoint" else { return problem }
        return what + problem.dropFirst("endpoint".count)
    }

    private static func endpointProblemText(_ endpoint: String, configuration: PushConfiguration, checkApple: Bool) -> String? {
        guard endpoint.utf8.count <= 2048 else { return "endpoint is longer than 2048 bytes" }
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty
        else { return "endpoint must be an absolute https URL" }
        guard url.user == nil, url.password == nil else { return "endpoint must not hold a user name or password" }
        let local = isLocal(host)
        switch scheme {
        case "https":
            if local && !configuration.allowInsecureLocalhost {
                return "endpoint \(host) is a loopback or private address; push endpoints are public https URLs"
            }
        case "http":
            guard configuration.allowInsecureLocalhost, isLoopback(host) else {
                return "endpoint must be an https URL (http is allowed only for 127.0.0.1 with push.allow_insecure_localhost)"
            }
        default:
            return "endpoint must be an https URL, not \(scheme):"
        }
        if checkApple, configuration.contact == nil, host == "push.apple.com" || host.hasSuffix(".push.apple.com") {
            return "Apple's push service needs a contact: set push.contact (mailto:you@example.com) and restart the sink"
        }
        return nil
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare.hasSuffix(".localhost") || bare == "::1" || bare.hasPrefix("127.")
    }

    static func isLocal(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if isLoopback(bare) || bare == "0.0.0.0" || bare == "::" || bare.hasSuffix(".local") || bare.hasSuffix(".internal") {
            return true
        }
        let octets = bare.split(separator: ".").compactMap { Int($0) }
        if octets.count == 4 {
            if octets[0] == 10 || (octets[0] == 172 && (16...31).contains(octets[1])) || (octets[0] == 192 && octets[1] == 168)
                || (octets[0] == 169 && octets[1] == 254) || octets[0] == 0
            {
                return true
            }
        }
        if bare.hasPrefix("fe80:") || bare.hasPrefix("fc") || bare.hasPrefix("fd") { return bare.contains(":") }
        return false
    }
}

/// Why a subscription is refused.
package struct PushInputError: Error, Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }

    package init(stringLiteral value: String) {
        description = value
    }
}
