import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The append-only audit log, `audit.jsonl` in the data directory (mode 0600): one JSON object per
/// line, written with a single `write` on an `O_APPEND` descriptor so lines of concurrent writers
/// (the sink and the CLI) never interleave. At ``maxBytes`` the file is renamed to `audit.jsonl.1`
/// (one previous file is kept), so the log is bounded.
package struct AuditLog: Sendable {
    package static let fileName = "audit.jsonl"
    /// Size at which the log is rotated.
    package static let maxBytes = 8 * 1024 * 1024

    package let path: String

    package init(dataDirectory: String) {
        path = dataDirectory + "/" + Self.fileName
    }

    /// Appends an entry. An audit write that fails is reported on stderr and never fails the caller's
    /// action after the fact (the action has already happened).
    @discardableResult
    package func append(_ entry: AuditEntry) -> Bool {
        guard var line = try? Self.encoder.encode(entry) else { return false }
        line.append(UInt8(ascii: "\n"))
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) + line.count > Self.maxBytes {
            rename(path, path + ".1")
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            FileHandle.standardError.write(
                Data("observatory: cannot append to the audit log \(path): \(String(cString: strerror(errno)))\n".utf8))
            return false
        }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == line.count
    }

    /// The last `limit` entries, oldest first (lines that do not parse are skipped).
    package func tail(limit: Int) -> [AuditEntry] {
        guard limit > 0, let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        var offset = size
        var buffer = Data()
        let chunk: UInt64 = 64 * 1024
        // Read backwards until enough lines are in hand (or the file is read).
        while offset > 0, buffer.count(of: UInt8(ascii: "\n")) <= limit {
            let start = offset > chunk ? offset - chunk : 0
            try? handle.seek(toOffset: start)
            let data = (try? handle.read(upToCount: Int(offset - start))) ?? Data()
            buffer = data + buffer
            offset = start
        }
        var lines = buffer.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if offset > 0, !lines.isEmpty { lines.removeFirst() }  // possibly cut in the middle
        return lines.suffix(limit).compactMap { try? Self.decoder.decode(AuditEntry.self, from: Data($0)) }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

extension Data {
    fileprivate func count(of byte: UInt8) -> Int {
        reduce(0) { $1 == byte ? $0 + 1 : $0 }
    }
}
