import Crypto
import Foundation

/// What a token may do.
///
/// - `control`: stop and restart agents (`POST /control/…`); also reads, like a device token.
/// - `device`: read the dashboard, API and live feed from a non-loopback client (a phone behind a
///   tunnel). Never control.
package enum TokenScope: String, Codable, Sendable, CaseIterable {
    case control
    case device

    /// The prefix of this scope's secrets (`obsc_…`, `obsd_…`), so a leaked one is recognisable by
    /// secret scanners and by eye.
    var secretPrefix: String {
        switch self {
        case .control: "obsc_"
        case .device: "obsd_"
        }
    }
}

/// One issued token as stored: never the secret, only its SHA-256.
///
/// A token secret is 32 random bytes (256 bits), so a plain SHA-256 is enough to store it: there is
/// nothing to brute-force that a slow password hash would protect.
package struct AccessToken: Codable, Sendable, Equatable {
    /// A short random id, shown by `token list` and used to revoke.
    package var id: String
    package var name: String
    package var scope: TokenScope
    /// Lowercase hex SHA-256 of the secret.
    package var sha256: String
    package var created: Date

    package init(id: String, name: String, scope: TokenScope, sha256: String, created: Date) {
        self.id = id
        self.name = name
        self.scope = scope
        self.sha256 = sha256
        self.created = created
    }

    /// A new token and its secret (shown once; only the hash is kept).
    package static func issue(name: String, scope: TokenScope, now: Date = Date()) -> (token: AccessToken, secret: String) {
        var generator = SystemRandomNumberGenerator()
        let secretBytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let idBytes = (0..<4).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = scope.secretPrefix + Base64URL.encode(secretBytes)
        let token = AccessToken(
            id: idBytes.map { String(format: "%02x", $0) }.joined(), name: name, scope: scope,
            sha256: digest(of: secret), created: now)
        return (token, secret)
    }

    /// Lowercase hex SHA-256 of a presented secret.
    package static func digest(of secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// RFC 4648 §5 base64url without padding.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
