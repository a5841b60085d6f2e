import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ObservatoryAuth
import ServiceLifecycle
import SinkAPI
import SinkCore
import SinkIngest
import SinkNormalize
import SinkNotify
import SinkOTLP
import SinkRules
import SinkSessions
import SinkStore
import UnixSignals

/// The composition root: builds every stage of `observatory-sink` from a configuration and wires
/// them. Nothing else knows the graph.
///
/// ```
/// OTLPReceiver ─▶ NormalizeProcessor ─▶ SessionTracker ─▶ SQLiteSessionStore
///                                            ▲
/// APIRoutes ─────────────────────────────────┘ (reads sessions; events from the store)
/// ```
package struct Sink: Sendable {
    /// Ports actually bound (useful with port 0).
    package struct BoundPorts: Sendable, Hashable, Codable {
        package var ingest: Int
        package var api: Int
    }

    package let configuration: SinkConfiguration
    package let tracker: SessionTracker
    package let store: SQLiteSessionStore
    package let metrics: SinkMetrics
    package let receiver: OTLPReceiver
    package let api: APIRoutes
    /// Fans committed changes out to WebSocket clients.
    package let live: LiveHub
    package let liveRoutes: LiveRoutes
    /// Web Push: an ``AlertConsumer`` (feed it the rule engine's alert changes) and the service
    /// that delivers the push outbox.
    package let push: PushNotifier
    package let pushRoutes: PushRoutes
    /// Alert rules: observes the tracker's commits, publishes alert changes to the live view and push.
    package let rules: RuleEngine
    package let rulesRoutes: RulesRoutes
    /// Tokens, the audit log and the access rules of the API port.
    package let authenticator: Authenticator
    package let accessPolicy: AccessPolicy
    /// `POST /control/…`, `/api/agents`, `/api/audit` (through ``controller``).
    package let controlRoutes: ControlRoutes
    package let authRoutes: AuthRoutes
    /// Secrets made on this start (the first control token; a first device token when the API
    /// listens beyond loopback), to show the user once. Only their hashes are kept.
    package let newSecrets: [(token: AccessToken, secret: String)]
    private let logger: Logger

    /// Opens the store and builds the stages (nothing listens yet).
    /// - Parameter controller: how control calls reach agents; by default the helper at
    ///   `control.helper_socket`.
    package init(
        configuration: SinkConfiguration, clock: any WallClock = SystemWallClock(),
        monotonicClock: any MonotonicClock = SystemMonotonicClock(), controller: (any AgentController)? = nil, logger: Logger
    ) async throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        metrics = SinkMetrics()
        store = try SQLiteSessionStore(path: configuration.databasePath, synchronous: configuration.synchronous)
        var trackerConfiguration = SessionTracker.Configuration()
        trackerConfiguration.timeouts = configuration.timeouts
        trackerConfiguration.retention = configuration.retention
        trackerConfiguration.maxPendingEvents = configuration.maxPendingEvents
        tracker = try await SessionTracker(
            store: store, clock: clock, configuration: trackerConfiguration, metrics: metrics,
            logger: logger.with(component: "sessions"))
        let processor = NormalizeProcessor(next: tracker, clock: clock, metrics: metrics)
        receiver = OTLPReceiver(
            consumer: processor, configuration: configuration.receiver, metrics: metrics,
            logger: logger.with(component: "ingest"))
        let reader = TrackerSessionReader(tracker: tracker, store: store)
        api = APIRoutes(reader: reader, metrics: metrics)
        live = LiveHub(latestSeq: try await store.latestSeq(), metrics: metrics)
        await tracker.addObserver(live)
        (push, pushRoutes) = try Self.makePush(configuration: configuration, store: store, metrics: metrics, logger: logger)
        rules = await RuleEngine(
            directory: configuration.rulesDirectory, clock: monotonicClock, wallClock: clock, consumers: [live, push],
            stateStore: SQLiteRuleStateStore(sharing: store), sessions: await tracker.allSessions(), metrics: metrics,
            logger: logger.with(component: "rules"))
        await tracker.addObserver(rules)
        rulesRoutes = RulesRoutes(engine: rules)
        liveRoutes = LiveRoutes(
            hub: live, reader: reader, alerts: rules, maxClients: configuration.maxLiveClients, logger: logger.with(component: "live"))

        let tokenFile = TokenFile(dataDirectory: configuration.dataDirectory)
        var newSecrets: [(token: AccessToken, secret: String)] = []
        if let first = try tokenFile.createInitialControlToken(actor: "observatory-sink (first start)") { newSecrets.append(first) }
        if !SinkConfiguration.isLoopback(configuration.apiHost), !(try tokenFile.tokens()).contains(where: { $0.scope == .device }) {
            newSecrets.append(try tokenFile.create(name: "first-device", scope: .device, actor: "observatory-sink (first remote start)"))
        }
        self.newSecrets = newSecrets
        authenticator = Authenticator(
            verifier: TokenVerifier(file: tokenFile), audit: AuditLog(dataDirectory: configuration.dataDirectory),
            clock: monotonicClock, wallClock: clock)
        accessPolicy = AccessPolicy(
            allowedHosts: configuration.allowedHosts, allowRemoteControl: configuration.control.allowRemote,
            localNetworks: configuration.localNetworks.compactMap(IPNetwork.init))
        controlRoutes = ControlRoutes(
            controller: controller ?? HelperAgentController(socketPath: configuration.control.helperSocket), reader: reader,
            authenticator: authenticator, policy: accessPolicy, defaultGrace: configuration.control.grace)
        authRoutes = AuthRoutes(authenticator: authenticator, policy: accessPolicy)
    }

    /// The OTLP/HTTP receiver's router.
    package func ingestRouter() -> Router<BasicRequestContext> {
        let router = Router()
        if let token = configuration.ingestToken, !token.isEmpty { router.add(middleware: IngestTokenMiddleware(token: token)) }
        receiver.addRoutes(to: router)
        router.get("/healthz") { _, _ in "ok" }
        return router
    }

    /// The API's router: REST, the live WebSocket feed, and the dashboard's files.
    package func apiRouter() -> Router<ObservatoryRequestContext> {
        let router = Router(context: ObservatoryRequestContext.self)
        router.add(middleware: DashboardHeaders())
        router.add(middleware: AccessMiddleware(policy: accessPolicy, authenticator: authenticator))
        if let dashboard = configuration.dashboardDirectory {
            router.add(middleware: SinglePageFallback())
            router.add(middleware: FileMiddleware(dashboard, searchForIndexHtml: true, logger: logger.with(component: "dashboard")))
        }
        api.addRoutes(to: router)
        liveRoutes.addRoutes(to: router)
        pushRoutes.addRoutes(to: router)
        rulesRoutes.addRoutes(to: router)
        controlRoutes.addRoutes(to: router)
        authRoutes.addRoutes(to: router)
        return router
    }

    /// Runs everything until SIGINT/SIGTERM: the servers stop taking requests first, then the tracker
    /// commits what is queued.
    /// - Parameter onReady: called once both servers listen, with the ports they bound.
    package func run(onReady: @escaping @Sendable (BoundPorts) async -> Void = { _ in }) async throws {
        let readiness = Readiness(onReady: onReady)
        let ingestApp = Application(
            router: ingestRouter(),
            // The idle timeout also bounds a slowloris client: the request head must arrive within it.
            server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.ingestIdleTimeout))),
            configuration: .init(address: .hostname(configuration.ingestHost, port: configuration.ingestPort), serverName: "observatory-sink"),
            onServerRunning: { channel in await readiness.bound(ingest: channel.localAddress?.port ?? 0) },
            logger: logger.with(component: "ingest-http"))
        let apiRouter = apiRouter()
        let apiApp = Application(
            router: apiRouter,
            server: .http1WebSocketUpgrade(
                webSocketResponder: apiRouter.buildResponder(), idleTimeout: configuration.apiIdleTimeout,
                pingInterval: configuration.pingInterval),
            configuration: .init(address: .hostname(configuration.apiHost, port: configuration.apiPort), serverName: "observatory-sink"),
            onServerRunning: { channel in await readiness.bound(api: channel.localAddress?.port ?? 0) },
            logger: logger.with(component: "api-http"))
        // Services shut down in reverse order: ingest first, the tracker (which flushes) last.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    // First to start, last to stop: pushes queued during shutdown still go out.
                    .init(service: push, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    // Stops after the tracker, so the commits it flushes are still evaluated.
                    .init(service: rules, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: tracker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: IdleMemoryTrimmer(metrics: metrics, interval: .seconds(10), logger: logger.with(component: "memory"))),
                    .init(service: apiApp, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: ingestApp, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger.with(component: "lifecycle")))
        try await group.run()
    }
}

extension Sink {
    /// The VAPID key (made on first start), the push outbox (in the sink's database) and its
    /// delivery service. `PushNotifier` is one of the rule engine's `AlertConsumer`s and pushes every
    /// `AlertEvent` whose `notification` is non-nil.
    static func makePush(
        configuration: SinkConfiguration, store: SQLiteSessionStore, metrics: SinkMetrics, logger: Logger
    ) throws -> (PushNotifier, PushRoutes) {
        let (key, created) = try VAPIDKeyFile.loadOrCreate(path: configuration.vapidKeyPath)
        let signer = VAPIDSigner(privateKey: key, contact: configuration.push.contact)
        let pushLogger = logger.with(component: "push")
        if created { pushLogger.notice("push: made a VAPID key", metadata: ["path": "\(configuration.vapidKeyPath)"]) }
        if configuration.push.contact == nil {
            pushLogger.notice("push: no push.contact set; Apple (iPhone) subscriptions are refused until one is")
        }
        let pushStore = SQLitePushStore(sharing: store)
        let notifier = PushNotifier(
            store: pushStore, transport: HTTPClientPushTransport(), signer: signer, configuration: configuration.push,
            metrics: metrics, logger: pushLogger)
        return (notifier, PushRoutes(store: pushStore, notifier: notifier, signer: signer, configuration: configuration.push))
    }
}

/// Collects the two bound ports and reports once both are known.
private actor Readiness {
    private var ingest: Int?
    private var api: Int?
    private let onReady: @Sendable (Sink.BoundPorts) async -> Void

    init(onReady: @escaping @Sendable (Sink.BoundPorts) async -> Void) {
        self.onReady = onReady
    }

    func bound(ingest port: Int) async {
        ingest = port
        await reportIfReady()
    }

    func bound(api port: Int) async {
        api = port
        await reportIfReady()
    }

    private func reportIfReady() async {
        guard let ingest, let api else { return }
        await onReady(Sink.BoundPorts(ingest: ingest, api: api))
    }
}

extension Logger {
    func with(component: String) -> Logger {
        var copy = self
        copy[metadataKey: "component"] = "\(component)"
        return copy
    }
}
