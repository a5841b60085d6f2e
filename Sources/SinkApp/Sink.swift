import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import SinkAPI
import SinkCore
import SinkIngest
import SinkNormalize
import SinkOTLP
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
    private let logger: Logger

    /// Opens the store and builds the stages (nothing listens yet).
    package init(configuration: SinkConfiguration, clock: any WallClock = SystemWallClock(), logger: Logger) async throws {
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
        liveRoutes = LiveRoutes(hub: live, reader: reader, alerts: nil, logger: logger.with(component: "live"))
    }

    /// The OTLP/HTTP receiver's router.
    package func ingestRouter() -> Router<BasicRequestContext> {
        let router = Router()
        receiver.addRoutes(to: router)
        router.get("/healthz") { _, _ in "ok" }
        return router
    }

    /// The API's router: REST, the live WebSocket feed, and the dashboard's files.
    package func apiRouter() -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.add(middleware: DashboardHeaders())
        if let dashboard = configuration.dashboardDirectory {
            router.add(middleware: FileMiddleware(dashboard, searchForIndexHtml: true, logger: logger.with(component: "dashboard")))
        }
        api.addRoutes(to: router)
        liveRoutes.addRoutes(to: router)
        return router
    }

    /// Runs everything until SIGINT/SIGTERM: the servers stop taking requests first, then the tracker
    /// commits what is queued.
    /// - Parameter onReady: called once both servers listen, with the ports they bound.
    package func run(onReady: @escaping @Sendable (BoundPorts) async -> Void = { _ in }) async throws {
        let readiness = Readiness(onReady: onReady)
        let ingestApp = Application(
            router: ingestRouter(),
            configuration: .init(address: .hostname(configuration.ingestHost, port: configuration.ingestPort), serverName: "observatory-sink"),
            onServerRunning: { channel in await readiness.bound(ingest: channel.localAddress?.port ?? 0) },
            logger: logger.with(component: "ingest-http"))
        let apiRouter = apiRouter()
        let apiApp = Application(
            router: apiRouter,
            server: .http1WebSocketUpgrade(
                webSocketRouter: apiRouter, configuration: .init(ws: .init(autoPing: .enabled(timePeriod: .seconds(15))))),
            configuration: .init(address: .hostname(configuration.apiHost, port: configuration.apiPort), serverName: "observatory-sink"),
            onServerRunning: { channel in await readiness.bound(api: channel.localAddress?.port ?? 0) },
            logger: logger.with(component: "api-http"))
        // Services shut down in reverse order: ingest first, the tracker (which flushes) last.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: tracker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: apiApp, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: ingestApp, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger.with(component: "lifecycle")))
        try await group.run()
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
