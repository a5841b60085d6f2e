import ObservatoryControl

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

    /// Every token, oldest first. A missing file has none.
    package func tokens() throws(TokenFileError) -> [AccessToken] {
        try read()
    }

    /// Issues a token; returns it with its secret, which is not stored and cannot be shown again.
    package func create(name: String, scope: TokenScope, actor: String) throws(TokenFileError) -> (token: AccessToken, secret: String) {
        let trimmed = Self.trimmed(name)
        guard !trimmed.isEmpty, trimmed.count <= 64 else { throw TokenFileError("a token name must be 1 to 64 characters") }
        let issued = AccessToken.issue(name: trimmed, scope: scope)
        try update { (tokens: inout [AccessToken]) throws(TokenFileError) in
            guard !tokens.contains(where: { $0.name == trimmed }) else {
                throw TokenFileError("there is already a token named \(trimmed); revoke it first or pick another name")
            }
            tokens.append(issued.token)
        }
        audit.append(AuditEntry(
            actor: actor, action: "token.create", target: "\(issued.token.scope.rawValue) token \(issued.token.id) (\(trimmed))",
            result: "ok"))
        return issued
    }

    /// Issues the first control token when there is none yet (the sink's first start); `nil` when
    /// one exists.
    package func createInitialControlToken(actor: String) throws(TokenFileError) -> (token: AccessToken, secret: String)? {
        var issued: (token: AccessToken, secret: String)?
        try update { (tokens: inout [AccessToken]) throws(TokenFileError) in
            guard !tokens.contains(where: { $0.scope == .control }) else { return }
            var name = "control"
            var n = 2
            while tokens.contains(where: { $0.name == name }) {
                name = "control-\(n)"
                n += 1
            }
            let token = AccessToken.issue(name: name, scope: .control)
            tokens.append(token.token)
            issued = token
        }
        if let issued {
            audit.append(AuditEntry(
                actor: actor, action: "token.create", target: "control token \(issued.token.id) (\(issued.token.name))", result: "ok"))
        }
        return issued
    }

    /// Revokes the token with this id or name; returns it.
    package func revoke(_ idOrName: String, actor: String) throws(TokenFileError) -> AccessToken {
        var removed: AccessToken?
        try update { (tokens: inout [AccessToken]) throws(TokenFileError) in
            guard let index = tokens.firstIndex(where: { $0.id == idOrName }) ?? tokens.firstIndex(where: { $0.name == idOrName })
            else { throw TokenFileError("no token with the id or name \(idOrName) (see `token list`)") }
            removed = tokens.remove(at: index)
        }
        guard let removed else { throw TokenFileError("no token with the id or name \(idOrName)") }
        audit.append(AuditEntry(
            actor: actor, action: "token.revoke", target: "\(removed.scope.rawValue) token \(removed.id) (\(removed.name))", result: "ok"))
        return removed
    }

    // MARK: - File access

    private func read() throws(TokenFileError) -> [AccessToken] {
        guard let bytes = try POSIXFiles.contents(of: path) else { return [] }
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes: bytes).value
        } catch {
            throw TokenFileError("\(path) is not a valid token file: \(error)")
        }
        guard let items = root["tokens"]?.arrayValue else { throw TokenFileError("\(path) is not a valid token file: no tokens list") }
        var tokens: [AccessToken] = []
        for item in items {
            guard let token = AccessToken(json: item) else { throw TokenFileError("\(path) has a token entry that cannot be read") }
            tokens.append(token)
        }
        return tokens
    }

    private func update(_ change: (inout [AccessToken]) throws(TokenFileError) -> Void) throws(TokenFileError) {
        let directory = POSIXFile.directory(of: path)
        guard ControlPaths.makePrivateDirectory(directory) else {
            throw TokenFileError("cannot create \(directory): \(POSIXFiles.errnoText())")
        }
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw TokenFileError("cannot open \(path).lock: \(POSIXFiles.errnoText())") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw TokenFileError("cannot lock \(path).lock: \(POSIXFiles.errnoText())") }
        defer { flock(lock, LOCK_UN) }
        var tokens = try read()
        try change(&tokens)
        let document = JSONValue.object([("version", .integer(1)), ("tokens", .array(tokens.map(\.json)))])
        try POSIXFiles.writeAtomically(Array((document.prettyText() + "\n").utf8), to: path)
    }

    private static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(scalars[first...last])
    }
}

/// A token file that cannot be read or changed, in words for the user.
package struct TokenFileError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
