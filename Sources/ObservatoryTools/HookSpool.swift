import ObservatoryControl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Hook records that could not be delivered, one OTLP/JSON `LogRecord` per line, in a file only
/// the user can read (mode 0600). The next hook call takes them all and sends them with its own
/// record; whatever fails again goes back.
///
/// Bounded: past ``maxBytes`` the oldest lines are dropped (a sink that stays down for days must
/// not fill the disk). Several hooks run at once (Claude Code runs matching hooks in parallel,
/// several sessions share the file), so every read-modify-write holds an exclusive `flock`; the
/// network request happens outside the lock.
package struct HookSpool: Sendable {
    package let path: String
    package var maxBytes: Int

    package init(path: String, maxBytes: Int = 1 << 20) {
        self.path = path
        self.maxBytes = maxBytes
    }

    /// Takes every spooled record out of the file (leaving it empty). Lines that are not
    /// complete JSON objects (a torn write) are dropped.
    package func takeAll() -> [String] {
        withLockedFile(create: false) { fd in
            guard let bytes = POSIXFile.readAll(fd), !bytes.isEmpty else { return [] }
            _ = ftruncate(fd, 0)
            return Self.validLines(bytes)
        } ?? []
    }

    /// The records currently waiting, without taking them.
    package func peek() -> [String] {
        guard let bytes = POSIXFile.read(path) else { return [] }
        return Self.validLines(bytes)
    }

    /// Appends `lines`; drops the oldest lines if the file would grow past ``maxBytes``.
    /// Returns false if the spool could not be written at all.
    @discardableResult
    package func append(_ lines: [String]) -> Bool {
        guard !lines.isEmpty else { return true }
        _ = POSIXFile.makeDirectories(POSIXFile.directory(of: path))
        return withLockedFile(create: true) { fd -> Bool in
            let existing = POSIXFile.readAll(fd).map(Self.validLines) ?? []
            var all = existing + lines
            var size = all.reduce(0) { $0 + $1.utf8.count + 1 }
            var dropFrom = 0
            while size > maxBytes, dropFrom < all.count {
                size -= all[dropFrom].utf8.count + 1
                dropFrom += 1
            }
            all.removeFirst(dropFrom)
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { return false }
            var text = ""
            for line in all { text += line + "\n" }
            return POSIXFile.writeAll(fd, Array(text.utf8))
        } ?? false
    }

    private static func validLines(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { line -> String? in
            guard line.first == UInt8(ascii: "{"), line.last == UInt8(ascii: "}"),
                (try? JSONValue.parse(bytes: Array(line))) != nil
            else { return nil }
            return String(decoding: line, as: UTF8.self)
        }
    }

    /// Opens the spool (0600), takes an exclusive lock (waiting at most 100 ms, then going on
    /// without one rather than stalling the agent), runs `body`, unlocks.
    private func withLockedFile<T>(create: Bool, _ body: (Int32) -> T) -> T? {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        let giveUp = Clock.monotonicNanos() + 100_000_000
        var locked = false
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                locked = true
                break
            }
            if Clock.monotonicNanos() >= giveUp { break }
            usleep(2000)
        }
        defer { if locked { _ = flock(fd, LOCK_UN) } }
        return body(fd)
    }
}
