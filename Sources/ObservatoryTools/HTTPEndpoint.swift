/// An `http://host:port[/prefix]` address (the sink's ingest or API address). HTTPS is not
/// spoken: the sink listens on loopback.
package struct HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int
    /// Path prefix without a trailing slash ("" for none).
    package var basePath: String

    /// Parses `http://host[:port][/path]`; also accepts `host:port` without a scheme.
    package init?(_ text: String) {
        var rest = Substring(text.trimmingSpaces)
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.contains("://") {
            return nil
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        var host = String(authority)
        var port = 80
        if authority.hasPrefix("[") {  // [::1]:4318
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = host
        self.port = port
        self.basePath = path
    }

    package var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(h):\(port)\(basePath)"
    }

    /// The path `suffix` (starting with `/`) under this endpoint's prefix.
    package func path(_ suffix: String) -> String { basePath + suffix }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
