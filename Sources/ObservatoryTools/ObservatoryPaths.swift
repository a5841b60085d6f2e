#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the Observatory's tools keep and find things, from an environment (the process's, or a
/// test's with its own `HOME`).
package struct ObservatoryPaths: Sendable {
    package var environment: [String: String]

    package init(environment: [String: String]) {
        self.environment = environment
    }

    /// The running process's environment.
    package static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                out[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            cursor += 1
        }
        return out
    }

    /// `$HOME` (or the password database's home directory).
    package var home: String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// `$XDG_STATE_HOME/observatory`, default `~/.local/state/observatory`.
    package var stateDirectory: String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/observatory" }
        return home + "/.local/state/observatory"
    }

    /// The hook spool: `OBSERVATORY_HOOK_SPOOL`, default `<state>/hook-spool.jsonl`.
    package var hookSpool: String {
        if let path = environment["OBSERVATORY_HOOK_SPOOL"], !path.isEmpty { return path }
        return stateDirectory + "/hook-spool.jsonl"
    }

    /// Backups of settings files that `setup` changed.
    package var backupDirectory: String { stateDirectory + "/backups" }

    /// What `setup` remembers about each file it changed (values it replaced).
    package var setupRecordDirectory: String { stateDirectory + "/setup" }

    /// The sink's ingest address: `OBSERVATORY_ENDPOINT`, default `http://127.0.0.1:4318`.
    package var ingestEndpoint: String {
        environment["OBSERVATORY_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:4318"
    }

    /// The sink's API address: `OBSERVATORY_API`, default `http://127.0.0.1:4320`.
    package var apiEndpoint: String {
        environment["OBSERVATORY_API"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:4320"
    }

    /// Codex's home: `$CODEX_HOME`, default `~/.codex`.
    package var codexHome: String {
        environment["CODEX_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.codex"
    }

    /// The absolute path of the running executable, if the system tells it.
    package static func currentExecutable() -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        let arg0 = CommandLine.arguments.first ?? ""
        guard arg0.hasPrefix("/") else { return nil }
        return arg0
        #endif
    }
}
