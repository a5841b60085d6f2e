#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The write end of the self-pipe: set once by ``SignalPipe/install(_:)`` before any handler is
/// installed, then only read (by the signal handler). `nonisolated(unsafe)` because a C signal
/// handler cannot capture context; the handler does nothing but `write(2)`, which is
/// async-signal-safe.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// Signals turned into bytes on a pipe, so a poll() loop sees them as one more readable
/// descriptor (the self-pipe trick; Swift's Glibc module does not expose signalfd).
package enum SignalPipe {
    /// Installs handlers for `signals` (SA_RESTART) and returns the pipe's read end (non-blocking,
    /// close-on-exec). Each delivered signal appends its number as one byte. Call once per process.
    package static func install(_ signals: [Int32]) -> Int32 {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        }
        signalPipeWriteEnd = fds[1]
        for signalNumber in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                let saved = errno
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWriteEnd, &byte, 1)
                errno = saved
            }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, nil)
        }
        return fds[0]
    }

    /// The signals delivered since the last call (drains the pipe).
    package static func drain(_ readEnd: Int32) -> [Int32] {
        var out: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, $0.count) }
            if n > 0 {
                out += buffer[0..<n].map { Int32($0) }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return out
        }
    }
}
