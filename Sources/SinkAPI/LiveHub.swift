import Foundation
import SinkCore

/// Fans committed changes out to every connected live client.
///
/// Each client has a bounded buffer. A client that cannot keep up (a phone on a bad network) loses
/// its place instead of slowing anyone down: its feed is ended, it is told to resync, and it
/// reconnects with `?since=` to catch up from the store. Ingest never waits for a client.
package actor LiveHub: SessionObserver, AlertConsumer {
    /// A client's place in the feed.
    package struct Subscription: Sendable {
        package var id: Int
        package var mailbox: LiveMailbox
        /// The latest event seq when the client subscribed: later events come through `messages`,
        /// earlier ones from the snapshot and the store.
        package var seq: Int64
    }

    private var mailboxes: [Int: LiveMailbox] = [:]
    private var nextID = 0
    private var latestSeq: Int64
    private let bufferSize: Int
    private let metrics: SinkMetrics

    /// - Parameters:
    ///   - latestSeq: the store's latest event seq at start.
    ///   - bufferSize: messages a client may fall behind before it must resync.
    package init(latestSeq: Int64, bufferSize: Int = 2048, metrics: SinkMetrics) {
        self.latestSeq = latestSeq
        self.bufferSize = bufferSize
        self.metrics = metrics
        metrics.describe("observatory_live_clients", help: "Connected live (WebSocket) clients.")
        metrics.describe("observatory_live_resyncs_total", help: "Live clients told to resync because they fell behind.")
        metrics.set(0, for: .init("observatory_live_clients"))
    }

    package func subscribe() -> Subscription {
        let mailbox = LiveMailbox(capacity: bufferSize)
        let id = nextID
        nextID += 1
        mailboxes[id] = mailbox
        metrics.set(Double(mailboxes.count), for: .init("observatory_live_clients"))
        return Subscription(id: id, mailbox: mailbox, seq: latestSeq)
    }

    /// Subscribes unless `limit` clients are connected already (then `nil`).
    package func subscribe(ifFewerThan limit: Int) -> Subscription? {
        mailboxes.count < limit ? subscribe() : nil
    }

    package func unsubscribe(_ id: Int) {
        mailboxes.removeValue(forKey: id)?.finish()
        metrics.set(Double(mailboxes.count), for: .init("observatory_live_clients"))
    }

    package var clientCount: Int { mailboxes.count }

    // MARK: SessionObserver, AlertConsumer

    package func committed(_ update: SessionUpdate) {
        if let last = update.events.last?.seq { latestSeq = max(latestSeq, last) }
        guard !mailboxes.isEmpty else { return }
        var messages = update.events.map(LiveMessage.event)
        messages += update.sessions.map { LiveMessage.session($0, seq: latestSeq) }
        broadcast(messages)
    }

    package func consume(_ alerts: [AlertEvent]) {
        guard !mailboxes.isEmpty else { return }
        broadcast(alerts.map { LiveMessage.alert($0.alert) })
    }

    private func broadcast(_ messages: [LiveMessage]) {
        // A mailbox that cannot take them has ended itself (``LiveMailbox/overflowed``): its writer
        // tells the client to resync; the hub stops feeding it.
        for (id, mailbox) in mailboxes where !mailbox.post(messages) {
            mailboxes.removeValue(forKey: id)
            metrics.add(to: .init("observatory_live_resyncs_total"))
        }
    }
}
