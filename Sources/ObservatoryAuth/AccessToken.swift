import ObservatoryControl

/// What a token may do.
///
/// - `control`: stop and restart agents (`POST /control/…`); also reads, like a device token.
/// - `device`: read the dashboard, API and live feed from a non-loopback client (a phone behind a
///   tunnel). Never control.
package enum TokenScope: String, Sendable, CaseIterable {
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
package struct AccessToken: Sendable, Equatable {
    /// A short random id, shown by `token list` and used to revoke.
    package var id: String
    package var name: String
    package var scope: TokenScope
    /// Lowercase hex SHA-256 of the secret.
    package var sha256: String
    /// When it was issued, ISO 8601 UTC.
    package var created: String

    package init(id: String, name: String, scope: TokenScope, sha256: String, created: String) {
        self.id = id
        self.name = name
        self.scope = scope
        self.sha256 = sha256
        self.created = created
    }

    /// A new token and its secret (shown once; only the hash is kept).
    package static func issue(name: String, scope: TokenScope, now: Double = UTCTime.now()) -> (token: AccessToken, secret: String) {
        var generator = SystemRandomNumberGenerator()
        let secretBytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let idBytes = (0..<4).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = scope.secretPrefix + Base64URL.encode(secretBytes)
        let token = AccessToken(
            id: Hex.encode(idBytes), name: name, scope: scope, sha256: digest(of: secret), created: UTCTime.iso8601(now))
        return (token, secret)
    }

    /// Lowercase hex SHA-256 of a presented secret.
    package static func digest(of secret: String) -> String {
        SHA256.hex(of: secret)
    }

    var json: JSONValue {
        .object([
            ("id", .string(id)), ("name", .string(name)), ("scope", .string(scope.rawValue)), ("sha256", .string(sha256)),
            ("created", .string(created)),
        ])
    }

    init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let name = json["name"]?.stringValue,
            let scope = json["scope"]?.stringValue.flatMap(TokenScope.init(rawValue:)), let sha256 = json["sha256"]?.stringValue,
            sha256.utf8.count == 64
        else { return nil }
        self.init(id: id, name: name, scope: scope, sha256: sha256, created: json["created"]?.stringValue ?? "")
    }
}

/// RFC 4648 §5 base64url without padding.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(16 - 8 * $1.offset) }
            for position in 0..<(chunk.count + 1) {
                out.append(alphabet[Int((value >> UInt32(18 - 6 * position)) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Lowercase hex.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
