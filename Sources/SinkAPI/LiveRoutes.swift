import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import SinkCore

/// `GET /ws`: the live feed.
///
/// On connect the client gets a `snapshot` (sessions, active alerts); with `?since=SEQ` the events it
/// missed are then replayed from the store (at most ``maxReplay``; `replayTruncated` says when more
/// were skipped); then live messages follow, in commit order. WebSocket pings go out every 15 s and a
/// peer that does not answer is dropped (the server's auto-ping). Cross-site pages cannot connect:
/// the `Origin`, when a browser sends one, must name this server (no cross-site WebSocket hijacking).
/// At most `maxClients` clients at once: one more is accepted and at once closed with 1013 (try
/// again later). A refused upgrade could only be answered with a bare 400 (Hummingbird's answer to
/// any failed upgrade), which would tell the client its request was wrong.
package struct LiveRoutes: Sendable {
    private let hub: LiveHub
    private let reader: any SessionReader
    private let alerts: (any AlertReader)?
    private let logger: Logger
    private let maxClients: Int
    /// Most events one reconnecting client is sent from the store.
    package static let maxReplay = 10_000

    package init(hub: LiveHub, reader: any SessionReader, alerts: (any AlertReader)?, maxClients: Int = 64, logger: Logger) {
        self.hub = hub
        self.maxClients = maxClients
        self.reader = reader
        self.alerts = alerts
        self.logger = logger
    }

    package func addRoutes<Context: WebSocketRequestContext>(to router: Router<Context>) {
        router.ws(
            "/ws",
            shouldUpgrade: { request, _ in
                guard Self.originAllowed(request) else {
                    throw HTTPError(.forbidden, message: "cross-origin WebSocket connections are not allowed")
                }
                if let since = request.uri.queryParameters["since"], Int64(since) == nil {
                    throw HTTPError(.badRequest, message: "since must be an integer")
                }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                let since = context.request.uri.queryParameters["since"].flatMap { Int64($0) }
                try await serve(since: since, inbound: inbound, outbound: outbound)
            })
    }

    /// A browser's `Origin` (`http(s)://host:port` of the page) must name exactly the host and port
    /// the client connected to. Clients that are not browsers send no `Origin`, or a `ws(s)://host`
    /// one (swift-websocket's client does), which only has to name the same host; neither can be a
    /// victim's browser, since browsers always send the page's http(s) origin.
    package static func originAllowed(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        let lowered = origin.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            return AccessPolicy.sameOrigin(origin: origin, authority: request.head.authority)
        }
        guard lowered.hasPrefix("ws://") || lowered.hasPrefix("wss://"),
            let originHost = URLComponents(string: lowered)?.host.map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }),
            let host = request.head.authority.flatMap(AccessPolicy.hostName(authority:))
        else { return false }
        return host == originHost
    }

    private func serve(since: Int64?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        guard let subscription = await hub.subscribe(ifFewerThan: maxClients) else {
            try? await outbound.close(.unknown(1013), reason: "too many live clients")
            return
        }
        do {
            try await sendSnapshotAndReplay(since: since, upTo: subscription.seq, outbound: outbound)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Client frames are not commands; read them so close frames and pongs are handled.
                    for try await _ in inbound {}
                }
                group.addTask {
                    // Everything waiting goes out at once, as few frames as possible (each frame is
                    // a flushed write): a busy feed costs one write per batch, not per message.
                    while let messages = await subscription.mailbox.take() {
                        let fresh = messages.filter { message in message.eventSeq.map { $0 > subscription.seq } ?? true }
                        for frame in LiveMessage.frames(fresh) {
                            try await outbound.write(.text(frame))
                        }
                    }
                    if subscription.mailbox.overflowed {
                        try await outbound.write(.text(LiveMessage.resync(reason: "client fell behind").text))
                        try await outbound.close(.goingAway, reason: "resync")
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            logger.debug("live client ended", metadata: ["error": "\(error)"])
        }
        await hub.unsubscribe(subscription.id)
    }

    private func sendSnapshotAndReplay(since: Int64?, upTo latest: Int64, outbound: WebSocketOutboundWriter) async throws {
        var replayFrom = since ?? latest
        var truncated = false
        if latest - replayFrom > Int64(Self.maxReplay) {
            replayFrom = latest - Int64(Self.maxReplay)
            truncated = true
        }
        let sessions = await reader.sessions()
        let active = await alerts?.activeAlerts() ?? []
        try await outbound.write(
            .text(LiveMessage.snapshot(seq: latest, sessions: sessions, alerts: active, replayTruncated: truncated).text))
        var after = max(replayFrom, 0)
        while after < latest {
            let page = try await reader.events(after: after, limit: 1000)
            guard !page.isEmpty else { break }
            for stored in page where stored.seq <= latest {
                try await outbound.write(.text(LiveMessage.event(stored).text))
            }
            after = page.last!.seq
        }
    }
}
