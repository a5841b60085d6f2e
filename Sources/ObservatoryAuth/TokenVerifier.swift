import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks presented secrets against the token file, re-reading it whenever it changes (a `stat`
/// per check), so `observatory token revoke` takes effect on the next request without a restart.
///
/// Every stored hash is compared, in constant time, whatever matched: how long a check takes says
/// nothing about which bytes of which token were right.
package final class TokenVerifier: Sendable {
    private struct Cache {
        var signature: FileSignature?
        var tokens: [AccessToken] = []
        var digests: [[UInt8]] = []
    }

    private struct FileSignature: Equatable {
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    private let file: TokenFile
    private let cache = Mutex(Cache())

    package init(file: TokenFile) {
        self.file = file
    }

    /// The token whose secret this is, if it exists and has one of `scopes`.
    package func verify(_ secret: String, scopes: Set<TokenScope>) -> AccessToken? {
        guard !secret.isEmpty, secret.utf8.count <= 256 else { return nil }
        let presented = SHA256.hash(Array(secret.utf8))
        let (tokens, digests) = current()
        var match: Int?
        for index in digests.indices where Self.constantTimeEqual(digests[index], presented) {
            match = index
        }
        guard let match, scopes.contains(tokens[match].scope) else { return nil }
        return tokens[match]
    }

    /// The tokens as last read.
    package func tokens() -> [AccessToken] {
        current().0
    }

    private func current() -> ([AccessToken], [[UInt8]]) {
        let signature = Self.signature(of: file.path)
        return cache.withLock { cache in
            if cache.signature != signature || signature == nil {
                let tokens = (try? file.tokens()) ?? []
                cache.tokens = tokens
                cache.digests = tokens.map { Self.bytes(hex: $0.sha256) }
                cache.signature = signature
            }
            return (cache.tokens, cache.digests)
        }
    }

    private static func signature(of path: String) -> FileSignature? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if os(Linux)
        return FileSignature(
            inode: UInt64(info.st_ino), size: Int64(info.st_size), modifiedSeconds: Int(info.st_mtim.tv_sec),
            modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
        #else
        return FileSignature(
            inode: UInt64(info.st_ino), size: Int64(info.st_size), modifiedSeconds: Int(info.st_mtimespec.tv_sec),
            modifiedNanoseconds: Int(info.st_mtimespec.tv_nsec))
        #endif
    }

    /// Compares two byte strings in time that depends only on their lengths.
    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: return []
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}
