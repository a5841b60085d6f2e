import Foundation
import SinkAPI
import SinkCore
import SinkIngest
import SinkNotify
import SinkStore

/// Everything `observatory-sink` can be told. Defaults, then the YAML file (`--config`), then
/// `OBSERVATORY_*` environment variables, then command-line flags; ``validate()`` before start.
package struct SinkConfiguration: Sendable {
    /// Where the database (and, later, keys and tokens) live. YAML `data_dir`, env
    /// `OBSERVATORY_DATA_DIR`, flag `--data-dir`; default `$XDG_DATA_HOME/observatory` or
    /// `~/.local/share/observatory`.
    package var dataDirectory: String
    /// OTLP/HTTP receiver address. YAML `ingest.host`/`ingest.port`, default 127.0.0.1:4318.
    package var ingestHost = "127.0.0.1"
    package var ingestPort = 4318
    package var receiver = OTLPReceiverConfiguration()
    /// REST API address. YAML `api.host`/`api.port`, default 127.0.0.1:4320.
    package var apiHost = "127.0.0.1"
    package var apiPort = 4320
    /// A connection that sends nothing for this long, or has not sent a whole request head this
    /// long after connecting (slowloris), is closed. YAML `ingest.idle_timeout` / `api.idle_timeout`,
    /// default 60s each.
    package var ingestIdleTimeout: Duration = .seconds(60)
    package var apiIdleTimeout: Duration = .seconds(60)
    /// Live (`/ws`) clients at once; one more is closed at once with 1013 (try again later). YAML
    /// `api.max_live_clients`, default 64.
    package var maxLiveClients = 64
    /// Live (`/ws`) clients get a WebSocket ping this often; one that has not answered the previous
    /// ping by the next is dropped. YAML `api.ping_interval`, default 15s.
    package var pingInterval: Duration = .seconds(15)
    /// `Host` names the API answers to besides loopback ones (DNS-rebinding defence), e.g. a
    /// tunnel's hostname. YAML `api.allowed_hosts`, env `OBSERVATORY_ALLOWED_HOSTS` (comma-separated),
    /// flag `--allowed-host` (repeatable).
    package var allowedHosts: [String] = []
    /// Networks (CIDR) whose peers count as this machine, like loopback: for Docker's port
    /// forwarding, which connects from the container network's gateway. YAML `api.local_networks`,
    /// env `OBSERVATORY_LOCAL_NETWORKS` (comma-separated). Default none.
    package var localNetworks: [String] = []
    /// A shared secret the OTLP receiver requires as `Authorization: Bearer …`; required when ingest
    /// listens on a non-loopback address. YAML `ingest.token`, env `OBSERVATORY_INGEST_TOKEN`.
    package var ingestToken: String?
    /// The control path: YAML `control.*`.
    package var control = ControlConfiguration()
    /// YAML `sessions.idle_after` (default 5m) and `sessions.end_after` (default 4h).
    package var timeouts = SessionTimeouts.default
    /// YAML `store.max_events` (default 1,000,000) and `store.max_age` (default 7d).
    package var retention = EventRetention.default
    /// YAML `store.synchronous`: `normal` (default; survives a crash of the sink) or `full`
    /// (also survives power loss).
    package var synchronous = SQLiteSessionStore.Synchronous.normal
    /// YAML `store.max_pending_events`: events queued for a commit before ingest answers 503.
    package var maxPendingEvents = 250_000
    /// The built dashboard served at `/` on the API port. YAML `dashboard_dir`, env
    /// `OBSERVATORY_DASHBOARD_DIR`, flag `--dashboard-dir`; by default `dashboard/dist` in the
    /// working directory or next to the package the executable was built in; `nil` serves none.
    package var dashboardDirectory: String?
    /// Web Push: YAML `push.contact`, `push.ttl`, `push.allow_insecure_localhost`; env
    /// `OBSERVATORY_PUSH_CONTACT`; flags `--push-contact`, `--push-allow-insecure-localhost`.
    package var push = PushConfiguration()
    /// YAML `log_level`: trace, debug, info, notice, warning, error, critical.
    package var logLevel = "info"
    /// The alert rule files (`*.yaml`), hot-reloaded. YAML `rules_dir`, env `OBSERVATORY_RULES_DIR`,
    /// flag `--rules-dir`; default `rules` in the working directory (no rules when it is missing).
    package var rulesDirectory = "rules"

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        dataDirectory = Self.defaultDataDirectory(environment: environment)
        control = ControlConfiguration(environment: environment)
        dashboardDirectory = Self.defaultDashboardDirectory()
    }

    /// `dashboard/dist` in the working directory, else in the package the executable was built in
    /// (`.build/<config>/observatory-sink` → `../../dashboard/dist`), else next to the executable.
    package static func defaultDashboardDirectory() -> String? {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("dashboard/dist"),
            executable.deletingLastPathComponent().appendingPathComponent("../../../dashboard/dist").standardized,
            executable.deletingLastPathComponent().appendingPathComponent("../../dashboard/dist").standardized,
            executable.deletingLastPathComponent().appendingPathComponent("dashboard").standardized,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }?.path
    }

    package static func defaultDataDirectory(environment: [String: String]) -> String {
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/observatory" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/observatory"
    }

    /// The SQLite database file.
    package var databasePath: String { dataDirectory + "/observatory.sqlite" }

    /// Every problem with the configuration, in words for the user; empty when it is usable.
    package func validate() -> [String] {
        var problems: [String] = []
        for (name, port) in [("ingest.port", ingestPort), ("api.port", apiPort)] where !(0...65535).contains(port) {
            problems.append("\(name) must be between 0 and 65535, not \(port)")
        }
        if ingestPort != 0, ingestPort == apiPort, ingestHost == apiHost {
            problems.append("ingest and api cannot share the address \(apiHost):\(apiPort)")
        }
        if !Self.isLoopback(ingestHost), (ingestToken ?? "").isEmpty {
            problems.append(
                "ingest.host is \(ingestHost): OTLP ingest has no authentication of its own, so a non-loopback address needs ingest.token (OBSERVATORY_INGEST_TOKEN), sent by the exporter as Authorization: Bearer"
            )
        }
        if let ingestToken, !ingestToken.isEmpty, ingestToken.count < 16 {
            problems.append("ingest.token must be at least 16 characters")
        }
        for network in localNetworks where IPNetwork(network) == nil {
            problems.append("api.local_networks: \(network) is not an address or a network in CIDR notation (172.30.44.1/32)")
        }
        if control.grace < .zero || control.grace > .seconds(300) { problems.append("control.grace must be between 0s and 300s") }
        if dataDirectory.isEmpty { problems.append("data_dir must not be empty") }
        if let dashboardDirectory, !FileManager.default.fileExists(atPath: dashboardDirectory + "/index.html") {
            problems.append("dashboard_dir \(dashboardDirectory) has no index.html (build it with dashboard/build.sh)")
        }
        if receiver.maxRequestBytes < 1024 { problems.append("ingest.max_request_bytes must be at least 1024") }
        if receiver.maxConcurrentRequests < 1 { problems.append("ingest.max_concurrent_requests must be at least 1") }
        for (name, timeout) in [("ingest.idle_timeout", ingestIdleTimeout), ("api.idle_timeout", apiIdleTimeout)] where timeout < .seconds(1) {
            problems.append("\(name) must be at least 1s")
        }
        if pingInterval < .seconds(1) || pingInterval > .seconds(300) { problems.append("api.ping_interval must be between 1s and 5m") }
        if maxLiveClients < 1 { problems.append("api.max_live_clients must be at least 1") }
        if timeouts.idleAfter <= .zero { problems.append("sessions.idle_after must be positive") }
        if timeouts.endAfter <= timeouts.idleAfter { problems.append("sessions.end_after must be longer than sessions.idle_after") }
        if retention.maxEvents < 1000 { problems.append("store.max_events must be at least 1000") }
        if retention.maxAge < .seconds(3600) { problems.append("store.max_age must be at least 1h") }
        if maxPendingEvents < 10_000 { problems.append("store.max_pending_events must be at least 10000") }
        if !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) {
            problems.append("log_level must be one of trace, debug, info, notice, warning, error, critical, not \(logLevel)")
        }
        problems += push.validate()
        return problems
    }

    /// The VAPID private key (PEM, mode 0600), made on first start.
    package var vapidKeyPath: String { dataDirectory + "/" + VAPIDKeyFile.fileName }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Applies `OBSERVATORY_*` environment variables.
    package mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        if let value = environment["OBSERVATORY_DATA_DIR"], !value.isEmpty { dataDirectory = value }
        if let value = environment["OBSERVATORY_INGEST_HOST"], !value.isEmpty { ingestHost = value }
        if let value = environment["OBSERVATORY_API_HOST"], !value.isEmpty { apiHost = value }
        if let value = environment["OBSERVATORY_INGEST_PORT"], !value.isEmpty {
            guard let port = Int(value) else { throw ConfigurationError("OBSERVATORY_INGEST_PORT is not a number: \(value)") }
            ingestPort = port
        }
        if let value = environment["OBSERVATORY_API_PORT"], !value.isEmpty {
            guard let port = Int(value) else { throw ConfigurationError("OBSERVATORY_API_PORT is not a number: \(value)") }
            apiPort = port
        }
        if let value = environment["OBSERVATORY_LOG_LEVEL"], !value.isEmpty { logLevel = value }
        if let value = environment["OBSERVATORY_DASHBOARD_DIR"], !value.isEmpty { dashboardDirectory = value }
        if let value = environment["OBSERVATORY_RULES_DIR"], !value.isEmpty { rulesDirectory = value }
        if let value = environment["OBSERVATORY_PUSH_CONTACT"], !value.isEmpty { push.contact = value }
        if let value = environment["OBSERVATORY_PUSH_FALLBACK_SECRET"], !value.isEmpty { push.fallbackSecret = value }
        if let value = environment["OBSERVATORY_INGEST_TOKEN"], !value.isEmpty { ingestToken = value }
        if let value = environment["OBSERVATORY_ALLOWED_HOSTS"], !value.isEmpty {
            allowedHosts = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let value = environment["OBSERVATORY_HELPER_SOCKET"], !value.isEmpty { control.helperSocket = value }
        if let value = environment["OBSERVATORY_LOCAL_NETWORKS"] {
            localNetworks = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let value = environment["OBSERVATORY_ALLOW_REMOTE_CONTROL"], !value.isEmpty {
            guard let flag = ["1": true, "true": true, "yes": true, "0": false, "false": false, "no": false][value.lowercased()] else {
                throw ConfigurationError("OBSERVATORY_ALLOW_REMOTE_CONTROL must be true or false, not \(value)")
            }
            control.allowRemote = flag
        }
    }
}

/// A configuration that cannot be used, with where and why.
package struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
