#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the helper's socket is.
package enum ControlPaths {
    /// `$OBSERVATORY_HELPER_SOCKET`, else `$XDG_RUNTIME_DIR/observatory/helper.sock`, else
    /// `/tmp/observatory-<uid>/helper.sock`. The default directory is created with mode 0700 (an
    /// explicit `OBSERVATORY_HELPER_SOCKET` is taken as given).
    package static func helperSocket(environment: [String: String]) -> String {
        if let explicit = environment["OBSERVATORY_HELPER_SOCKET"], !explicit.isEmpty { return explicit }
        let directory: String
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            directory = runtime + "/observatory"
        } else {
            directory = "/tmp/observatory-\(getuid())"
        }
        makePrivateDirectory(directory)
        return directory + "/helper.sock"
    }

    /// Creates `path` (and missing parents) with mode 0700; the last component is set to 0700
    /// even if it existed, when it belongs to this user.
    @discardableResult
    package static func makePrivateDirectory(_ path: String) -> Bool {
        guard POSIXFile.makeDirectories(path, mode: 0o700) else { return false }
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return false }
        if st.st_uid == getuid(), st.st_mode & 0o777 != 0o700 { chmod(path, 0o700) }
        return true
    }
}
