#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client over a POSIX socket with one deadline for everything
/// (connect, send, answer). Made for the hook path: no event loop, no Foundation networking, and
/// a hanging or blackholed server costs at most the time left to the deadline.
package enum TinyHTTP {
    /// Why a request got no answer.
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case resolve(String)
        case connect(String)
        case timeout(String)
        case io(String)
        case badResponse

        package var description: String {
            switch self {
            case .resolve(let m): "cannot resolve host: \(m)"
            case .connect(let m): "cannot connect: \(m)"
            case .timeout(let m): "timed out \(m)"
            case .io(let m): "I/O error: \(m)"
            case .badResponse: "not an HTTP response"
            }
        }
    }

    /// An answer: status code and body.
    package struct Response: Sendable {
        package var status: Int
        package var body: [UInt8]
        package var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request and reads the answer, giving up at `deadline` (a `Clock.monotonicNanos()` value).
    package static func request(
        _ method: String, endpoint: HTTPEndpoint, path: String, body: [UInt8] = [],
        contentType: String? = nil, deadline: UInt64
    ) -> Result<Response, Failure> {
        let fd: Int32
        switch connect(endpoint, deadline: deadline) {
        case .success(let s): fd = s
        case .failure(let f): return .failure(f)
        }
        defer { close(fd) }

        let hostHeader = endpoint.host.contains(":") ? "[\(endpoint.host)]:\(endpoint.port)" : "\(endpoint.host):\(endpoint.port)"
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: observatory\r\nConnection: close\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        bytes += body
        if let failure = sendAll(fd, bytes, deadline: deadline) { return .failure(failure) }
        return readResponse(fd, deadline: deadline)
    }

    // MARK: Connecting

    private static func connect(_ endpoint: HTTPEndpoint, deadline: UInt64) -> Result<Int32, Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(.resolve(rc == 0 ? endpoint.host : String(cString: gai_strerror(rc))))
        }
        defer { freeaddrinfo(first) }
        var lastFailure = Failure.connect("no address for \(endpoint.host)")
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var result: Int32 = 0
            repeat {
                #if canImport(Darwin)
                result = Darwin.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
                #elseif canImport(Musl)
                result = Musl.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
                #else
                result = Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
                #endif
            } while result != 0 && errno == EINTR
            if result == 0 { return .success(fd) }
            guard errno == EINPROGRESS else {
                lastFailure = .connect(String(cString: strerror(errno)))
                close(fd)
                continue
            }
            switch wait(fd, events: Int16(POLLOUT), deadline: deadline) {
            case .ready:
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error == 0 { return .success(fd) }
                lastFailure = .connect(String(cString: strerror(error)))
            case .timedOut:
                close(fd)
                return .failure(.timeout("connecting to \(endpoint)"))
            case .failed(let m):
                lastFailure = .connect(m)
            }
            close(fd)
        }
        return .failure(lastFailure)
    }

    // MARK: I/O

    private enum WaitResult { case ready, timedOut, failed(String) }

    private static func wait(_ fd: Int32, events: Int16, deadline: UInt64) -> WaitResult {
        while true {
            let left = Clock.millisecondsLeft(until: deadline)
            if left == 0 { return .timedOut }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, left)
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(String(cString: strerror(errno)))
            }
            if n == 0 { return .timedOut }
            return .ready
        }
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: UInt64) -> Failure? {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                #if canImport(Darwin)
                send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
                #else
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #endif
            }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                switch wait(fd, events: Int16(POLLOUT), deadline: deadline) {
                case .ready: continue
                case .timedOut: return .timeout("sending")
                case .failed(let m): return .io(m)
                }
            }
            return .io(String(cString: strerror(errno)))
        }
        return nil
    }

    private static func readResponse(_ fd: Int32, deadline: UInt64) -> Result<Response, Failure> {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        var headerEnd: Int?
        var status = 0
        var contentLength: Int?
        var chunked = false
        while true {
            if let headerEnd, let contentLength, data.count - headerEnd >= contentLength { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                data += buffer[0..<n]
                if headerEnd == nil, let end = find(crlfcrlf, in: data) {
                    headerEnd = end + 4
                    let head = String(decoding: data[0..<end], as: UTF8.self)
                    let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
                    let parts = lines.first?.split(separator: " ") ?? []
                    guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else {
                        return .failure(.badResponse)
                    }
                    status = code
                    for line in lines.dropFirst() {
                        let pair = line.split(separator: ":", maxSplits: 1)
                        if pair.count == 2, pair[0].lowercased() == "content-length" {
                            contentLength = Int(pair[1].trimmingCharacters())
                        } else if pair.count == 2, pair[0].lowercased() == "transfer-encoding",
                            pair[1].lowercased().contains("chunked")
                        {
                            chunked = true
                        }
                    }
                    if status == 204 || status == 304 { contentLength = 0 }
                }
                continue
            }
            if n == 0 { break }  // EOF
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                switch wait(fd, events: Int16(POLLIN), deadline: deadline) {
                case .ready: continue
                case .timedOut: return .failure(.timeout("waiting for the answer"))
                case .failed(let m): return .failure(.io(m))
                }
            }
            // A reset after a complete header still tells the status.
            if headerEnd != nil { break }
            return .failure(.io(String(cString: strerror(errno))))
        }
        guard let headerEnd else { return .failure(.badResponse) }
        var body = Array(data[headerEnd...])
        if let contentLength, body.count > contentLength { body = Array(body[0..<contentLength]) }
        if chunked, contentLength == nil { body = dechunk(body) }
        return .success(Response(status: status, body: body))
    }

    /// Decodes a `Transfer-Encoding: chunked` body (read to the end of the connection).
    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            guard let lineEnd = find([13, 10], in: Array(data[i...])) else { break }
            let sizeText = String(decoding: data[i..<(i + lineEnd)], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(), radix: 16), size > 0 else { break }
            let start = i + lineEnd + 2
            let end = min(start + size, data.count)
            out += data[start..<end]
            i = end + 2
        }
        return out
    }

    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
