import ObservatoryControl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `observatory setup <agent>`: points an agent's settings file at the sink, or (`remove`) takes
/// that out again. Computes the new text, shows it as a diff, and — unless it is a dry run or
/// nothing changes — backs the old file up and writes the new one in place (atomically, keeping
/// the file's mode).
package struct AgentSetup: Sendable {
    package enum Agent: String, Sendable, CaseIterable {
        case claudeCode = "claude-code"
        case codex = "codex"
        case gemini = "gemini"

        package init?(name: String) {
            switch name.lowercased() {
            case "claude-code", "claude": self = .claudeCode
            case "codex": self = .codex
            case "gemini", "gemini-cli": self = .gemini
            default: return nil
            }
        }
    }

    package enum Scope: String, Sendable, CaseIterable {
        case user
        case project
    }

    package var agent: Agent
    package var scope: Scope = .user
    /// The sink's ingest address written into the settings.
    package var endpoint: String
    /// The `observatory` executable the hooks run (absolute path, or a name found on PATH).
    package var executable: String
    /// The project directory for `--scope project`.
    package var projectDirectory: String
    package var remove = false
    package var dryRun = false

    package init(agent: Agent, endpoint: String, executable: String, projectDirectory: String) {
        self.agent = agent
        self.endpoint = endpoint
        self.executable = executable
        self.projectDirectory = projectDirectory
    }

    /// What one run did (or, in a dry run, would do).
    package struct Outcome: Sendable {
        package var path: String
        package var oldText: String
        package var newText: String
        /// The unified diff; "" if nothing changes.
        package var diff: String
        package var notes: [String]
        /// Where the old file was copied to (nil: nothing written, or there was no old file).
        package var backupPath: String?
        package var wrote: Bool
        /// The file was deleted (remove, when setup had created it and nothing else is in it).
        package var deleted: Bool
        package var changed: Bool { oldText != newText }
    }

    /// The settings file this setup edits.
    package func settingsPath(paths: ObservatoryPaths) throws(SetupError) -> String {
        switch (agent, scope) {
        case (.claudeCode, .user): return paths.home + "/.claude/settings.json"
        case (.claudeCode, .project): return projectDirectory + "/.claude/settings.json"
        case (.gemini, .user): return paths.home + "/.gemini/settings.json"
        case (.gemini, .project): return projectDirectory + "/.gemini/settings.json"
        case (.codex, .user): return paths.codexHome + "/config.toml"
        case (.codex, .project):
            // Project-level .codex/config.toml is reported not to redirect telemetry (agent-telemetry.md §2.1).
            throw .unsupportedScope(agent: "codex", scope: "project")
        }
    }

    /// The command line Claude Code runs for each hook.
    package var hookCommand: String {
        var command = Self.shellQuote(executable) + " hook"
        if endpoint != Self.defaultEndpoint { command += " --endpoint " + Self.shellQuote(endpoint) }
        return command
    }

    /// The program and arguments Codex's `notify` runs (it appends the payload).
    package var notifyCommand: [String] {
        var command = [executable, "hook", "--codex"]
        if endpoint != Self.defaultEndpoint { command += ["--endpoint", endpoint] }
        return command
    }

    package static let defaultEndpoint = "http://127.0.0.1:4318"

    /// Computes the change and, unless dry-running, makes it.
    package func run(paths: ObservatoryPaths) throws(SetupError) -> Outcome {
        let path = try settingsPath(paths: paths)
        let existed = POSIXFile.exists(path)
        let oldText = existed ? String(decoding: POSIXFile.read(path) ?? [], as: UTF8.self) : ""
        if existed && POSIXFile.read(path) == nil { throw .io("cannot read \(path)") }
        var record = SetupRecord.load(for: path, paths: paths)
        if !existed && !remove {
            record = SetupRecord()
            record.createdFile = true
        }

        var notes: [String] = []
        var newText: String
        switch agent {
        case .claudeCode, .gemini:
            var document = try JSONSettingsDocument(text: oldText, path: path)
            if agent == .claudeCode {
                let settings = ClaudeCodeSettings(endpoint: endpoint, hookCommand: hookCommand)
                notes = remove ? settings.remove(from: &document, record: record)
                    : try settings.apply(to: &document, path: path, record: &record)
            } else {
                let settings = GeminiSettings(endpoint: endpoint)
                notes = remove ? settings.remove(from: &document, record: record)
                    : try settings.apply(to: &document, path: path, record: &record)
            }
            newText = existed || !remove ? document.text : ""
        case .codex:
            let config = CodexConfig(endpoint: endpoint, notifyCommand: notifyCommand)
            if remove {
                newText = config.remove(from: oldText)
            } else {
                (newText, notes) = config.apply(to: oldText)
            }
        }

        // Remove deletes a file that setup created and that holds nothing else now.
        var deleteFile = false
        if remove && existed && record.createdFile {
            let trimmed = newText.trimmingSpaces
            if trimmed.isEmpty || trimmed == "{}" {
                deleteFile = true
                newText = ""
            }
        }

        let diff = UnifiedDiff.make(
            old: oldText, new: newText, oldLabel: existed ? path : "/dev/null", newLabel: deleteFile ? "/dev/null" : path)
        var outcome = Outcome(
            path: path, oldText: oldText, newText: newText, diff: diff, notes: notes, backupPath: nil, wrote: false,
            deleted: false)
        guard !dryRun, oldText != newText || deleteFile else { return outcome }

        if existed {
            let backup = paths.backupDirectory + "/" + SetupRecord.escape(path) + "." + Self.timestamp()
            guard POSIXFile.makeDirectories(paths.backupDirectory),
                Self.writeFile(backup, Array(oldText.utf8), mode: 0o600)
            else { throw .io("cannot write the backup \(backup); nothing was changed") }
            outcome.backupPath = backup
        }
        let recordPath = SetupRecord.path(for: path, paths: paths)
        if deleteFile {
            guard unlink(path) == 0 else { throw .io("cannot delete \(path): \(String(cString: strerror(errno)))") }
            outcome.deleted = true
        } else {
            guard POSIXFile.makeDirectories(POSIXFile.directory(of: path), mode: 0o755),
                Self.writeFile(path, Array(newText.utf8), mode: Self.mode(of: path) ?? 0o644)
            else { throw .io("cannot write \(path)") }
        }
        outcome.wrote = true
        if remove {
            _ = unlink(recordPath)
        } else {
            _ = POSIXFile.makeDirectories(paths.setupRecordDirectory)
            _ = Self.writeFile(recordPath, Array((record.json.prettyText() + "\n").utf8), mode: 0o600)
        }
        return outcome
    }

    // MARK: Files

    /// Writes `bytes` to a temporary file next to `path` and renames it over `path`.
    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) -> Bool {
        let temporary = path + ".observatory-tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        _ = fchmod(fd, mode)
        let ok = POSIXFile.writeAll(fd, bytes) && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    static func mode(of path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// `20261126T101500.123456789Z` (UTC), unique enough for backups.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = time_t(ts.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y%m%dT%H%M%S", &parts)
        let base = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let nanos = String(ts.tv_nsec)
        return base + "." + String(repeating: "0", count: 9 - nanos.count) + nanos + "Z"
    }

    /// Quotes `s` for `sh` if it needs it.
    package static func shellQuote(_ s: String) -> String {
        let safe = s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:=@%,".contains($0) }
        return safe && !s.isEmpty ? s : "'" + s.replacingAll("'", "'\\''") + "'"
    }
}
