#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Finds the program to exec the way `execvp` does: a name with a `/` is taken as a path; any
/// other name is looked up in each `PATH` entry in order (an empty entry is the current
/// directory), the first executable regular file wins. Never a shell.
package struct ExecutableLookup: Sendable {
    /// `PATH` when the environment has none (glibc's default).
    package static let defaultPath = "/bin:/usr/bin"

    package var path: String
    /// Whether a file is an executable regular file (injected for tests).
    package var isExecutable: @Sendable (String) -> Bool

    package init(path: String?, isExecutable: @escaping @Sendable (String) -> Bool = ExecutableLookup.executableFile) {
        self.path = path ?? Self.defaultPath
        self.isExecutable = isExecutable
    }

    /// The path to exec for `command`, nil if there is none.
    package func resolve(_ command: String) -> String? {
        guard !command.isEmpty else { return nil }
        if command.contains("/") { return command }
        for entry in path.split(separator: ":", omittingEmptySubsequences: false) {
            let directory = entry.isEmpty ? "." : String(entry)
            let candidate = directory.hasSuffix("/") ? directory + command : directory + "/" + command
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    @Sendable package static func executableFile(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
