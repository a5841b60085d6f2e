#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts the agent with `posix_spawn`: argv exec'd directly (PATH lookup like `execvp`, never a
/// shell), in a process group of its own, signal dispositions and mask reset, and — when the
/// wrapper holds the terminal — that group made the terminal's foreground group before exec.
package enum ProcessSpawner {
    /// Why a spawn failed; `status` is the shell's status for it (127 not found, 126 not executable).
    package struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        package var description: String
        package var status: Int32
    }

    /// Signals whose disposition the child gets back to default (the wrapper ignores or handles them).
    static let resetSignals: [Int32] = [SIGPIPE, SIGTTOU, SIGTTIN, SIGTSTP, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGWINCH, SIGUSR1, SIGUSR2]

    /// glibc ≥ 2.35's `posix_spawn_file_actions_addtcsetpgrp_np`, looked up at run time (Swift's
    /// Glibc module does not export it).
    private static let addTcsetpgrp: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "posix_spawn_file_actions_addtcsetpgrp_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
    }()

    /// Spawns `argv` with `environment`; `terminal` is the descriptor of the controlling terminal
    /// to hand to the new group, or -1.
    package static func spawn(argv: [String], environment: [String: String], terminal: Int32) throws(Failure) -> Int32 {
        guard let command = argv.first, !command.isEmpty else { throw Failure(description: "empty command", status: 127) }
        let lookup = ExecutableLookup(path: environment["PATH"])
        guard let executable = lookup.resolve(command) else {
            throw Failure(description: "\(command): command not found", status: 127)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in resetSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if terminal >= 0, let addTcsetpgrp { _ = addTcsetpgrp(&actions, terminal) }

        let argvC = argv.map { strdup($0) } + [nil]
        let envC = environment.sorted(by: { $0.key < $1.key }).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argvC { free(p) }
            for p in envC { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argvC, envC)
        guard rc == 0 else {
            let status: Int32 = rc == ENOENT ? 127 : 126
            throw Failure(description: "\(command): \(String(cString: strerror(rc)))", status: status)
        }
        // Also from this side: on a glibc without addtcsetpgrp_np this is the only hand-over (the
        // child may then stop on SIGTTIN once; the wrapper continues it).
        if terminal >= 0 { _ = tcsetpgrp(terminal, pid) }
        return pid
    }

    /// Marks this process a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): orphaned
    /// descendants of the agent are reparented to the wrapper, which reaps them and can signal them.
    @discardableResult
    package static func becomeSubreaper() -> Bool {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "prctl") else { return false }
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        return prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0) == 0
    }
}
