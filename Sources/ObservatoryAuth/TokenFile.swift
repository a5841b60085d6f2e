import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The tokens of one Observatory: `tokens.json` in the data directory (mode 0600), shared by the
/// sink (which verifies) and `observatory token` / `observatory-sink token` (which issue and
/// revoke). Changes are made under an exclusive `flock` on `tokens.json.lock` and written by
/// rename, so a reader never sees half a file and two writers never lose each other's tokens.
/// Every change is appended to the audit log.
package struct TokenFile: Sendable {
    package static let fileName = "tokens.json"

    package let path: String
    private let audit: AuditLog

    package init(dataDirectory: String) {
        path = dataDirectory + "/" + Self.fileName
        audit = AuditLog(dataDirectory: dataDirectory)
    }

    private struct Contents: Codable {
        var version = 1
        var tokens: [AccessToken] = []
    }

    /// Every token, oldest first. A missing file has none.
    package func tokens() throws(TokenFileError) -> [AccessToken] {
        try read().tokens
    }

    /// Issues a token; returns it with its secret, which is not stored and cannot be shown again.
    package func create(name: String, scope: TokenScope, actor: String, now: Date = Date()) throws(TokenFileError) -> (token: AccessToken, secret: String) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 64 else { throw TokenFileError("a token name must be 1 to 64 characters") }
        let issued = AccessToken.issue(name: trimmed, scope: scope, now: now)
        try update { (contents: inout Contents) throws(TokenFileError) in
            guard !contents.tokens.contains(where: { $0.name == trimmed }) else {
                throw TokenFileError("there is already a token named \(trimmed); revoke it first or pick another name")
            }
            contents.tokens.append(issued.token)
        }
        audit.append(AuditEntry(
            time: now, actor: actor, action: "token.create", target: "\(issued.token.scope.rawValue) token \(issued.token.id) (\(trimmed))",
            result: "ok"))
        return issued
    }

    /// Issues the first control token when there is none yet (the sink's first start); `nil` when
    /// one exists.
    package func createInitialControlToken(actor: String, now: Date = Date()) throws(TokenFileError) -> (token: AccessToken, secret: String)? {
        var issued: (token: AccessToken, secret: String)?
        try update { (contents: inout Contents) throws(TokenFileError) in
            guard !contents.tokens.contains(where: { $0.scope == .control }) else { return }
            var name = "control"
            var n = 2
            while contents.tokens.contains(where: { $0.name == name }) {
                name = "control-\(n)"
                n += 1
            }
            let token = AccessToken.issue(name: name, scope: .control, now: now)
            contents.tokens.append(token.token)
            issued = token
        }
        if let issued {
            audit.append(AuditEntry(
                time: now, actor: actor, action: "token.create", target: "control token \(issued.token.id) (\(issued.token.name))",
                result: "ok"))
        }
        return issued
    }

    /// Revokes the token with this id or name; returns it.
    package func revoke(_ idOrName: String, actor: String, now: Date = Date()) throws(TokenFileError) -> AccessToken {
        var removed: AccessToken?
        try update { (contents: inout Contents) throws(TokenFileError) in
            guard let index = contents.tokens.firstIndex(where: { $0.id == idOrName })
                ?? contents.tokens.firstIndex(where: { $0.name == idOrName })
            else { throw TokenFileError("no token with the id or name \(idOrName) (see `token list`)") }
            removed = contents.tokens.remove(at: index)
        }
        guard let removed else { throw TokenFileError("no token with the id or name \(idOrName)") }
        audit.append(AuditEntry(
            time: now, actor: actor, action: "token.revoke", target: "\(removed.scope.rawValue) token \(removed.id) (\(removed.name))",
            result: "ok"))
        return removed
    }

    // MARK: - File access

    private func read() throws(TokenFileError) -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw TokenFileError("cannot read \(path)") }
            return Contents()
        }
        do {
            return try Self.decoder.decode(Contents.self, from: data)
        } catch {
            throw TokenFileError("\(path) is not a valid token file: \(error)")
        }
    }

    private func update(_ change: (inout Contents) throws(TokenFileError) -> Void) throws(TokenFileError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw TokenFileError("cannot create \(directory): \(error)")
        }
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw TokenFileError("cannot open \(path).lock: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw TokenFileError("cannot lock \(path).lock: \(String(cString: strerror(errno)))") }
        defer { flock(lock, LOCK_UN) }
        var contents = try read()
        try change(&contents)
        let data: Data
        do { data = try Self.encoder.encode(contents) } catch { throw TokenFileError("cannot encode the tokens: \(error)") }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TokenFileError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TokenFileError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// A token file that cannot be read or changed, in words for the user.
package struct TokenFileError: Error, CustomStringConvertible, LocalizedError, Sendable {
    package var description: String
    package var errorDescription: String? { description }
    package init(_ description: String) { self.description = description }
}
