import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// VAPID (RFC 8292): the sink's long-lived P-256 signing key and the ES256 JWTs it signs for each
/// push service.
package final class VAPIDSigner: Sendable {
    /// How long a JWT is valid (push services refuse more than 24 h; 12 h is what the libraries use).
    package static let tokenLifetime: TimeInterval = 12 * 3600
    /// A cached JWT is replaced when it has less than this left.
    package static let renewBefore: TimeInterval = 3600

    package let privateKey: P256.Signing.PrivateKey
    /// `sub`: a `mailto:` or `https:` contact, or `nil` (then Apple endpoints cannot be used).
    package let contact: String?
    /// The 65-byte uncompressed public key, base64url: the browser's `applicationServerKey` and `k=`.
    package let publicKeyBase64URL: String
    private let cache = Mutex<[String: (token: String, expires: TimeInterval)]>([:])

    package init(privateKey: P256.Signing.PrivateKey, contact: String?) {
        self.privateKey = privateKey
        self.contact = contact
        publicKeyBase64URL = Base64URL.encode(privateKey.publicKey.x963Representation)
    }

    /// The `Authorization` header value for a push to `endpoint`: `vapid t=<JWT>, k=<public key>`.
    package func authorization(for endpoint: URL, now: Date = Date()) throws -> String {
        guard let audience = Self.audience(of: endpoint) else { throw VAPIDError.noOrigin(endpoint.absoluteString) }
        return "vapid t=\(try token(audience: audience, now: now)), k=\(publicKeyBase64URL)"
    }

    /// A JWT for `audience`, from the cache while it has more than ``renewBefore`` left.
    package func token(audience: String, now: Date = Date()) throws -> String {
        let nowSeconds = now.timeIntervalSince1970
        if let cached = cache.withLock({ $0[audience] }), cached.expires - nowSeconds > Self.renewBefore {
            return cached.token
        }
        let expires = (nowSeconds + Self.tokenLifetime).rounded(.down)
        let token = try sign(audience: audience, expires: Int(expires))
        cache.withLock { $0[audience] = (token, expires) }
        return token
    }

    /// Signs a fresh JWT: header `{"typ":"JWT","alg":"ES256"}`, claims `aud`, `exp`, `sub`;
    /// signature raw `r || s` (64 bytes), all base64url without padding.
    package func sign(audience: String, expires: Int) throws -> String {
        let header = Base64URL.encode(Data(#"{"typ":"JWT","alg":"ES256"}"#.utf8))
        var claims = "{\"aud\":\(Self.jsonString(audience)),\"exp\":\(expires)"
        if let contact { claims += ",\"sub\":\(Self.jsonString(contact))" }
        claims += "}"
        let signingInput = header + "." + Base64URL.encode(Data(claims.utf8))
        let signature = try privateKey.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// RFC 6454 origin of a push resource: `scheme://host[:port]` (port only when not the default).
    package static func audience(of url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else { return nil }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host.lowercased()
        if let port = url.port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) {
            return "\(scheme)://\(shownHost):\(port)"
        }
        return "\(scheme)://\(shownHost)"
    }

    private static func jsonString(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Contact (`sub`)

    /// Why a `sub` contact is refused, or `nil` when it is one every push service (Apple included)
    /// accepts: `mailto:` with an address at a real domain, or an `https:` URL of a public host.
    /// Apple answers 403 BadJwtToken for `https://localhost…`, `mailto:…@localhost`, `….invalid` and
    /// addresses without `mailto:`.
    package static func contactProblem(_ contact: String) -> String? {
        let lower = contact.lowercased()
        if lower.hasPrefix("mailto:") {
            let address = String(contact.dropFirst("mailto:".count))
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
                !address.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," })
            else { return "push.contact \(contact) is not a mailto: with one e-mail address (mailto:you@example.com)" }
            if let problem = hostProblem(String(parts[1])) { return "push.contact \(contact): \(problem)" }
            return nil
        }
        if lower.hasPrefix("https://") {
            guard let url = URL(string: contact), let host = url.host, !host.isEmpty else {
                return "push.contact \(contact) is not a valid https: URL"
            }
            if let problem = hostProblem(host) { return "push.contact \(contact): \(problem)" }
            return nil
        }
        return "push.contact must start with mailto: or https: (Apple refuses anything else), not \(contact)"
    }

    private static func hostProblem(_ rawHost: String) -> String? {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
        if host == "localhost" || host.hasSuffix(".localhost") { return "Apple refuses localhost contacts" }
        for suffix in [".invalid", ".local", ".test", ".example", ".internal", ".lan", ".home.arpa"]
        where host.hasSuffix(suffix) || host == String(suffix.dropFirst()) {
            return "Apple refuses contacts under \(suffix) (not a public domain)"
        }
        if host.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) || host.contains(":") {
            return "use a domain name, not an IP address"
        }
        guard host.contains(".") else { return "\(rawHost) is not a public domain name" }
        return nil
    }
}

package enum VAPIDError: Error, CustomStringConvertible {
    case noOrigin(String)
    case keyFile(String)

    package var description: String {
        switch self {
        case .noOrigin(let url): "endpoint \(url) has no origin"
        case .keyFile(let message): message
        }
    }
}

/// The VAPID key file in the data directory: PEM (PKCS#8), mode 0600, made on first start.
package enum VAPIDKeyFile {
    package static let fileName = "vapid-private-key.pem"

    /// Loads the key at `path`, or makes one and writes it there (created with mode 0600, never
    /// replacing a file another process wrote first). Refuses a key file others can read.
    package static func loadOrCreate(path: String) throws -> (key: P256.Signing.PrivateKey, created: Bool) {
        if let key = try load(path: path) { return (key, false) }
        let key = P256.Signing.PrivateKey()
        let pem = key.pemRepresentation + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            if errno == EEXIST, let key = try load(path: path) { return (key, false) }
            throw VAPIDError.keyFile("cannot create the VAPID key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(pem.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw VAPIDError.keyFile("cannot write the VAPID key file \(path)")
        }
        return (key, true)
    }

    private static func load(path: String) throws -> P256.Signing.PrivateKey? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw VAPIDError.keyFile(
                "the VAPID key file \(path) is readable by others (mode \(String(mode & 0o777, radix: 8))): chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VAPIDError.keyFile("cannot read the VAPID key file \(path)")
        }
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw VAPIDError.keyFile("the VAPID key file \(path) does not hold a P-256 private key in PEM: \(error)")
        }
    }
}
