import ArgumentParser
import Foundation
import Logging
import ObservatoryAuth
import SinkApp
import SinkNotify

/// `observatory-sink`: receives agents' OpenTelemetry, keeps live sessions, serves the API.
@main
struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observatory-sink",
        abstract: "Receives coding agents' OpenTelemetry and keeps live per-session state.",
        subcommands: [Serve.self, CheckConfig.self, Rules.self, Token.self],
        defaultSubcommand: Serve.self)
}

/// Flags shared by the subcommands; each overrides the YAML file and the environment.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "YAML configuration file (default: $OBSERVATORY_CONFIG, else none).")
    var config: String?
    @Option(help: "Data directory for the database (default: $OBSERVATORY_DATA_DIR or ~/.local/share/observatory).")
    var dataDir: String?
    @Option(help: "Address the OTLP/HTTP receiver binds (default 127.0.0.1).")
    var ingestHost: String?
    @Option(help: "Port of the OTLP/HTTP receiver (default 4318; 0 picks a free one).")
    var ingestPort: Int?
    @Option(help: "Address the API binds (default 127.0.0.1).")
    var apiHost: String?
    @Option(help: "Port of the API (default 4320; 0 picks a free one).")
    var apiPort: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?
    @Option(help: "Directory of the built dashboard served at / on the API port (default: dashboard/dist).")
    var dashboardDir: String?
    @Option(help: "Directory of alert rule files, hot-reloaded (default: rules).")
    var rulesDir: String?
    @Option(help: "Web Push contact (VAPID sub): mailto:you@example.com or an https URL (default: $OBSERVATORY_PUSH_CONTACT).")
    var pushContact: String?
    @Flag(help: "Accept push subscriptions at http://127.0.0.1 (a local test push service). Off by default.")
    var pushAllowInsecureLocalhost = false
    @Option(name: .customLong("allowed-host"), help: "A Host name the API answers to besides loopback (a tunnel's hostname); repeatable.")
    var allowedHosts: [String] = []
    @Flag(help: "Allow control (kill/restart) from other machines and through proxies or tunnels; a control token is still required.")
    var allowRemoteControl = false
    @Option(help: "The control helper's socket (default: $XDG_RUNTIME_DIR/observatory/helper.sock).")
    var helperSocket: String?

    /// Defaults < YAML file < environment < flags, then validated.
    func load() throws -> SinkConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var configuration = SinkConfiguration(environment: environment)
        if let path = config ?? environment["OBSERVATORY_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read the configuration file \(path)")
            }
            try configuration.apply(yaml: text, file: path)
        }
        try configuration.apply(environment: environment)
        if let dataDir { configuration.dataDirectory = dataDir }
        if let ingestHost { configuration.ingestHost = ingestHost }
        if let ingestPort { configuration.ingestPort = ingestPort }
        if let apiHost { configuration.apiHost = apiHost }
        if let apiPort { configuration.apiPort = apiPort }
        if let logLevel { configuration.logLevel = logLevel }
        if let dashboardDir { configuration.dashboardDirectory = dashboardDir }
        if let rulesDir { configuration.rulesDirectory = rulesDir }
        if let pushContact { configuration.push.contact = pushContact }
        if pushAllowInsecureLocalhost { configuration.push.allowInsecureLocalhost = true }
        if !allowedHosts.isEmpty { configuration.allowedHosts += allowedHosts }
        if allowRemoteControl { configuration.control.allowRemote = true }
        if let helperSocket { configuration.control.helperSocket = helperSocket }
        let problems = configuration.validate()
        guard problems.isEmpty else {
            throw ValidationError("invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
        }
        return configuration
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the sink (the default).")

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "Write {\"ingest\": PORT, \"api\": PORT} to this file once both servers listen.")
    var readyFile: String?

    func run() async throws {
        let configuration = try options.load()
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "observatory-sink")
        let sink = try await Sink(configuration: configuration, logger: logger)
        let readyFile = readyFile
        let databasePath = configuration.databasePath
        let ingestHost = configuration.ingestHost
        let apiHost = configuration.apiHost
        // Secrets go to a terminal only: when stdout is a log (systemd, docker logs, a file), the
        // banner says how to make a token instead of leaving one in the log.
        let onTerminal = isatty(STDOUT_FILENO) != 0
        let secrets = sink.newSecrets.map {
            StartupBanner.NewSecret(name: $0.token.name, scope: $0.token.scope.rawValue, secret: onTerminal ? $0.secret : nil)
        }
        try await sink.run { ports in
            let banner = StartupBanner.text(
                ingest: "http://\(ingestHost):\(ports.ingest)", api: "http://\(apiHost):\(ports.api)", database: databasePath,
                newSecrets: secrets)
            FileHandle.standardOutput.write(Data(banner.utf8))
            if let readyFile {
                let temporary = readyFile + ".tmp"
                let json = "{\"ingest\": \(ports.ingest), \"api\": \(ports.api)}\n"
                FileManager.default.createFile(atPath: temporary, contents: Data(json.utf8))
                _ = try? FileManager.default.replaceItemAt(URL(fileURLWithPath: readyFile), withItemAt: URL(fileURLWithPath: temporary))
                if !FileManager.default.fileExists(atPath: readyFile) {
                    try? FileManager.default.moveItem(atPath: temporary, toPath: readyFile)
                }
            }
        }
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration (file, environment, flags) and exit.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.load()
        print("configuration OK: ingest \(configuration.ingestHost):\(configuration.ingestPort), api \(configuration.apiHost):\(configuration.apiPort), data \(configuration.dataDirectory)")
    }
}
