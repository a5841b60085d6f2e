import Foundation
import SinkCore
import SinkIngest
import SinkNotify
import SinkStore
import Yams

extension SinkConfiguration {
    /// Applies a YAML configuration file. Unknown keys and wrong types are errors that name the file,
    /// line and column, so a typo never silently falls back to a default.
    ///
    /// ```yaml
    /// data_dir: ~/.local/share/observatory
    /// ingest: { host: 127.0.0.1, port: 4318, max_request_bytes: 8388608, max_concurrent_requests: 64, idle_timeout: 60s }
    /// api: { host: 127.0.0.1, port: 4320, idle_timeout: 60s, max_live_clients: 64, allowed_hosts: [obs.example.com] }
    /// control: { allow_remote: false, helper_socket: /run/user/1000/observatory/helper.sock, grace: 5s }
    /// sessions: { idle_after: 5m, end_after: 4h }
    /// store: { max_events: 1000000, max_age: 7d, synchronous: normal, max_pending_events: 250000 }
    /// log_level: info
    /// ```
    package mutating func apply(yaml text: String, file: String) throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError("\(file): not valid YAML: \(error)")
        }
        guard let root else { return }
        var reader = YAMLReader(file: file)
        try reader.mapping(root, path: "") { key, value, reader throws(ConfigurationError) in
            switch key {
            case "data_dir":
                dataDirectory = Self.expandingTilde(try reader.string(value, path: key))
            case "log_level":
                logLevel = try reader.string(value, path: key)
            case "dashboard_dir":
                dashboardDirectory = Self.expandingTilde(try reader.string(value, path: key))
            case "rules_dir":
                rulesDirectory = Self.expandingTilde(try reader.string(value, path: key))
            case "ingest":
                try reader.mapping(value, path: key) { key, value, reader throws(ConfigurationError) in
                    switch key {
                    case "host": ingestHost = try reader.string(value, path: "ingest.host")
                    case "port": ingestPort = try reader.integer(value, path: "ingest.port")
                    case "max_request_bytes": receiver.maxRequestBytes = try reader.integer(value, path: "ingest.max_request_bytes")
                    case "max_concurrent_requests":
                        receiver.maxConcurrentRequests = try reader.integer(value, path: "ingest.max_concurrent_requests")
                    case "idle_timeout": ingestIdleTimeout = try reader.duration(value, path: "ingest.idle_timeout")
                    case "token": ingestToken = try reader.string(value, path: "ingest.token")
                    default:
                        throw reader.unknown(
                            key, in: "ingest", at: value, known: "host, port, max_request_bytes, max_concurrent_requests, idle_timeout, token")
                    }
                }
            case "api":
                try reader.mapping(value, path: key) { key, value, reader throws(ConfigurationError) in
                    switch key {
                    case "host": apiHost = try reader.string(value, path: "api.host")
                    case "port": apiPort = try reader.integer(value, path: "api.port")
                    case "idle_timeout": apiIdleTimeout = try reader.duration(value, path: "api.idle_timeout")
                    case "max_live_clients": maxLiveClients = try reader.integer(value, path: "api.max_live_clients")
                    case "allowed_hosts": allowedHosts = try reader.strings(value, path: "api.allowed_hosts")
                    case "local_networks": localNetworks = try reader.strings(value, path: "api.local_networks")
                    case "ping_interval": pingInterval = try reader.duration(value, path: "api.ping_interval")
                    default:
                        throw reader.unknown(
                            key, in: "api", at: value,
                            known: "host, port, idle_timeout, max_live_clients, ping_interval, allowed_hosts, local_networks")
                    }
                }
            case "sessions":
                try reader.mapping(value, path: key) { key, value, reader throws(ConfigurationError) in
                    switch key {
                    case "idle_after": timeouts.idleAfter = try reader.duration(value, path: "sessions.idle_after")
                    case "end_after": timeouts.endAfter = try reader.duration(value, path: "sessions.end_after")
                    default: throw reader.unknown(key, in: "sessions", at: value, known: "idle_after, end_after")
                    }
                }
            case "push":
                try reader.mapping(value, path: key) { key, value, reader throws(ConfigurationError) in
                    switch key {
                    case "contact": push.contact = try reader.string(value, path: "push.contact")
                    case "ttl": push.ttl = try reader.duration(value, path: "push.ttl")
                    case "fallback_url": push.fallbackURL = try reader.string(value, path: "push.fallback_url")
                    case "fallback_secret": push.fallbackSecret = try reader.string(value, path: "push.fallback_secret")
                    case "allow_insecure_localhost":
                        let text = try reader.string(value, path: "push.allow_insecure_localhost")
                        guard let flag = ["true": true, "false": false][text.lowercased()] else {
                            throw reader.error("push.allow_insecure_localhost must be true or false, not \(text)", at: value)
                        }
                        push.allowInsecureLocalhost = flag
                    default: throw reader.unknown(key, in: "push", at: value, known: "contact, ttl, allow_insecure_localhost, fallback_url, fallback_secret")
                    }
                }
            case "store":
                try reader.mapping(value, path: key) { key, value, reader throws(ConfigurationError) in
                    switch key {
                    case "max_events": retention.maxEvents = try reader.integer(value, path: "store.max_events")
                    case "max_age": retention.maxAge = try reader.duration(value, path: "store.max_age")
                    case "max_pending_events": maxPendingEvents = try reader.integer(value, path: "store.max_pending_events")
                    case "synchronous":
                        let text = try reader.string(value, path: "store.synchronous")
                        guard let mode = SQLiteSessionStore.Synchronous(rawValue: text) else {
                            throw reader.error("store.synchronous must be normal or full, not \(text)", at: value)
                        }
                        synchronous = mode
                    default:
                        throw reader.unknown(key, in: "store", at: value, known: "max_events, max_age, max_pending_events, synchronous")
                    }
                }
            case "control":
                try reader.mapping(value, path: key) { key, value, reader throws(ConfigurationError) in
                    switch key {
                    case "allow_remote": control.allowRemote = try reader.boolean(value, path: "control.allow_remote")
                    case "helper_socket": control.helperSocket = Self.expandingTilde(try reader.string(value, path: "control.helper_socket"))
                    case "grace": control.grace = try reader.duration(value, path: "control.grace")
                    default: throw reader.unknown(key, in: "control", at: value, known: "allow_remote, helper_socket, grace")
                    }
                }
            default:
                throw reader.unknown(
                    key, in: "the top level", at: value,
                    known: "data_dir, dashboard_dir, rules_dir, ingest, api, control, sessions, store, push, log_level")
            }
        }
    }

    static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + path.dropFirst()
    }
}

/// Reads typed values out of YAML nodes, with positions in errors.
private struct YAMLReader {
    let file: String

    func error(_ message: String, at node: Node) -> ConfigurationError {
        if let mark = node.mark { return ConfigurationError("\(file):\(mark.line):\(mark.column): \(message)") }
        return ConfigurationError("\(file): \(message)")
    }

    func unknown(_ key: String, in section: String, at node: Node, known: String) -> ConfigurationError {
        error("unknown key \"\(key)\" in \(section) (known keys: \(known))", at: node)
    }

    func mapping(
        _ node: Node, path: String, _ body: (String, Node, YAMLReader) throws(ConfigurationError) -> Void
    ) throws(ConfigurationError) {
        guard let mapping = node.mapping else {
            throw error("\(path.isEmpty ? "the file" : path) must be a mapping", at: node)
        }
        for (key, value) in mapping {
            guard let name = key.string else { throw error("keys must be strings", at: key) }
            try body(name, value, self)
        }
    }

    func string(_ node: Node, path: String) throws(ConfigurationError) -> String {
        guard let scalar = node.scalar else { throw error("\(path) must be a single value", at: node) }
        return scalar.string
    }

    func strings(_ node: Node, path: String) throws(ConfigurationError) -> [String] {
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else { throw error("\(path) must be a list of values", at: node) }
        var out: [String] = []
        for item in sequence { out.append(try string(item, path: path)) }
        return out
    }

    func boolean(_ node: Node, path: String) throws(ConfigurationError) -> Bool {
        let text = try string(node, path: path)
        guard let flag = ["true": true, "false": false, "yes": true, "no": false][text.lowercased()] else {
            throw error("\(path) must be true or false, not \(text)", at: node)
        }
        return flag
    }

    func integer(_ node: Node, path: String) throws(ConfigurationError) -> Int {
        let text = try string(node, path: path)
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("\(path) must be a whole number, not \(text)", at: node)
        }
        return value
    }

    func duration(_ node: Node, path: String) throws(ConfigurationError) -> Duration {
        let text = try string(node, path: path)
        guard let value = DurationText.parse(text) else {
            throw error("\(path) must be a duration such as 90s, 5m, 4h or 7d, not \(text)", at: node)
        }
        return value
    }
}
