import ObservatoryControl

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
        let line = Array((entry.json.compactText + "\n").utf8)
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) + line.count > Self.maxBytes {
            rename(path, path + ".1")
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let message = Array("observatory: cannot append to the audit log \(path): \(POSIXFiles.errnoText())\n".utf8)
            _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            return false
        }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == line.count
    }

    /// The last `limit` entries, oldest first (lines that do not parse are skipped).
    package func tail(limit: Int) -> [AuditEntry] {
        guard limit > 0 else { return [] }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return [] }
        var offset = Int(info.st_size)
        var buffer: [UInt8] = []
        let chunk = 64 * 1024
        // Read backwards until enough lines are in hand (or the whole file is read).
        while offset > 0, buffer.lazy.filter({ $0 == UInt8(ascii: "\n") }).count <= limit {
            let start = max(0, offset - chunk)
            var piece = [UInt8](repeating: 0, count: offset - start)
            let count = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard count == piece.count else { break }
            buffer = piece + buffer
            offset = start
        }
        var lines = buffer.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if offset > 0, !lines.isEmpty { lines.removeFirst() }  // possibly cut in the middle
        return lines.suffix(limit).compactMap { line in
            (try? JSONValue.parse(bytes: Array(line)).value).flatMap(AuditEntry.init(json:))
        }
    }
}
