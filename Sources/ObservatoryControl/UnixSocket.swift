#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Unix stream socket plumbing on the C library: listen, accept, connect and line I/O with
/// poll()-based deadlines (monotonic nanoseconds, see ``ControlTime``), and the peer's
/// credentials (SO_PEERCRED). Every descriptor is close-on-exec (an agent spawned by the wrapper
/// inherits none of them) and non-blocking.
package enum UnixSocket {
    /// Why a socket call failed.
    package struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        package var reason: String
        /// The errno behind it (0 for failures that are not a system call's).
        package var code: Int32
        package var description: String { reason }

        package init(_ reason: String, code: Int32 = 0) {
            self.reason = reason
            self.code = code
        }

        static func errno(_ what: String) -> Failure {
            let e = Glibc.errno
            return Failure("\(what): \(String(cString: strerror(e)))", code: e)
        }
    }

    /// The process at the other end of a connection.
    package struct PeerCredentials: Sendable, Equatable {
        package var pid: Int32
        package var uid: UInt32
        package var gid: UInt32
    }

    /// The longest socket path the kernel takes (sun_path less its terminating NUL).
    package static let maxPathBytes = 107

    // MARK: Setup

    private static func newSocket() throws(Failure) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .errno("socket") }
        setNonBlocking(fd)
        return fd
    }

    /// Fills a `sockaddr_un` for `path` and calls `body` with it.
    private static func withAddress<R>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R
    ) throws(Failure) -> R {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPathBytes, !bytes.contains(0) else {
            throw Failure("socket path must be 1…\(maxPathBytes) bytes: \(path)")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// A listening socket at `path` with file mode 0600 (set by the umask while binding, so it
    /// is never reachable with wider permissions). The path must not exist.
    package static func listen(path: String, backlog: Int32 = 64) throws(Failure) -> Int32 {
        let fd = try newSocket()
        let oldMask = umask(0o177)
        let bound = try withAddress(path) { bind(fd, $0, $1) }
        let bindErrno = errno
        umask(oldMask)
        guard bound == 0 else {
            close(fd)
            errno = bindErrno
            throw .errno("bind \(path)")
        }
        chmod(path, 0o600)
        guard Glibc.listen(fd, backlog) == 0 else {
            let failure = Failure.errno("listen")
            close(fd)
            throw failure
        }
        return fd
    }

    /// Accepts one pending connection (non-blocking, close-on-exec); nil if none is pending.
    package static func accept(_ listener: Int32) -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                setNonBlocking(fd)
                return fd
            }
            if errno == EINTR { continue }
            return nil
        }
    }

    /// Connects to the socket at `path`, waiting until `deadline` at most.
    package static func connect(path: String, deadline: UInt64) throws(Failure) -> Int32 {
        let fd = try newSocket()
        var result: Int32 = -1
        do {
            result = try withAddress(path) { Glibc.connect(fd, $0, $1) }
        } catch {
            close(fd)
            throw error
        }
        if result == 0 { return fd }
        guard errno == EINPROGRESS || errno == EAGAIN || errno == EINTR else {
            let failure = Failure.errno("connect \(path)")
            close(fd)
            throw failure
        }
        // A Unix socket whose backlog is full answers EAGAIN: wait for it to become writable.
        guard wait(fd, events: Int16(POLLOUT), deadline: deadline) else {
            close(fd)
            throw Failure("connect \(path): timed out", code: ETIMEDOUT)
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
            close(fd)
            throw Failure("connect \(path): \(String(cString: strerror(error)))", code: error)
        }
        return fd
    }

    package static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL, 0)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// The credentials of the process at the other end (as of connect), from SO_PEERCRED.
    package static func peerCredentials(_ fd: Int32) -> PeerCredentials? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } — three 32-bit fields.
        var raw: (Int32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &raw, &length) == 0, length >= 12 else { return nil }
        return PeerCredentials(pid: raw.0, uid: raw.1, gid: raw.2)
    }

    // MARK: I/O

    /// Waits until `fd` is ready for `events` or the deadline passes; false on timeout or error.
    package static func wait(_ fd: Int32, events: Int16, deadline: UInt64) -> Bool {
        while true {
            let left = ControlTime.millisecondsLeft(until: deadline)
            if left == 0 { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, left)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            if n == 0 { return false }
            return true
        }
    }

    /// Sends all of `bytes` before `deadline` (no SIGPIPE).
    package static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: UInt64) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(fd, events: Int16(POLLOUT), deadline: deadline) else {
                    throw Failure("send: timed out", code: ETIMEDOUT)
                }
                continue
            }
            throw .errno("send")
        }
    }

    /// What one non-blocking read gave.
    package enum ReadOutcome: Sendable, Equatable {
        case data([UInt8])
        case wouldBlock
        case closed
        case failed(String)
    }

    /// One non-blocking read of up to `maxBytes`.
    package static func receive(_ fd: Int32, maxBytes: Int = 16384) -> ReadOutcome {
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { return .data(Array(buffer[0..<n])) }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .failed(String(cString: strerror(errno)))
        }
    }

    /// Reads the next line (blocking until `deadline`), using `framer` for what is left over
    /// between calls (`pending` holds complete lines not yet returned).
    package static func readLine(
        _ fd: Int32, framer: inout LineFramer, pending: inout [[UInt8]], deadline: UInt64
    ) throws(Failure) -> [UInt8] {
        while true {
            if !pending.isEmpty { return pending.removeFirst() }
            switch receive(fd) {
            case .data(let bytes):
                do {
                    pending += try framer.feed(bytes)
                } catch {
                    throw Failure("line longer than \(framer.maxLineBytes) bytes")
                }
            case .wouldBlock:
                guard wait(fd, events: Int16(POLLIN), deadline: deadline) else {
                    throw Failure("timed out waiting for an answer", code: ETIMEDOUT)
                }
            case .closed:
                throw Failure("the other side closed the connection", code: ECONNRESET)
            case .failed(let reason):
                throw Failure("receive: \(reason)")
            }
        }
    }
}
