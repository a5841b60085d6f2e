import ObservatoryControl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The token file's reads and writes, with ``TokenFileError``s that say what failed (this module
/// does without Foundation, see ``SHA256``; the plain helpers are ``POSIXFile``'s).
enum POSIXFiles {
    /// The whole file, `nil` if it does not exist; throws the errno text for other failures.
    static func contents(of path: String, limit: Int = 16 * 1024 * 1024) throws(TokenFileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw TokenFileError("cannot read \(path): \(errnoText())")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, Int(info.st_size) > limit { throw TokenFileError("\(path) is larger than \(limit) bytes") }
        guard let bytes = POSIXFile.readAll(fd) else { throw TokenFileError("cannot read \(path): \(errnoText())") }
        return bytes
    }

    /// Writes `bytes` to `path` with mode 0600 through a temporary file and a rename, fsynced.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(TokenFileError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TokenFileError("cannot write \(temporary): \(errnoText())") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw TokenFileError("cannot write \(path): \(reason)")
        }
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
