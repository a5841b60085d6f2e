import Foundation
import Logging
import ServiceLifecycle
import SinkCore

/// Keeps the live state of every session and commits events to the store in groups.
///
/// Requests call ``consume(_:)`` concurrently; each waits until its events are committed. While one
/// transaction is being written the next batches queue up and go into the next transaction together
/// (group commit), so SQLite sees a few large transactions instead of many small ones. The queue is
/// bounded: past ``Configuration/maxPendingEvents`` a batch is refused with
/// ``PipelineError/overloaded(retryAfterSeconds:)`` and the exporter retries later.
///
/// Deduplication and session updates happen inside the store's transaction, so a record an exporter
/// sends twice is counted once, and what the store holds always matches the session totals, even
/// after `kill -9`.
package actor SessionTracker: EventConsumer, Service {
    package struct Configuration: Sendable {
        /// Events waiting for a commit before new batches are refused (503 + Retry-After).
        package var maxPendingEvents: Int = 250_000
        /// At most this many events in one transaction.
        package var maxEventsPerCommit: Int = 50_000
        package var timeouts: SessionTimeouts = .default
        /// How often time-driven status changes are evaluated.
        package var tickInterval: Duration = .seconds(1)
        package var retention: EventRetention = .default
        /// How often old events are deleted.
        package var retentionInterval: Duration = .seconds(60)

        package init() {}
    }

    private struct PendingBatch {
        var events: [SessionEvent]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let store: any SessionStore
    private let clock: any WallClock
    private let configuration: Configuration
    private let metrics: SinkMetrics
    private let logger: Logger
    private var sessions: [String: Session]
    private var observers: [any SessionObserver] = []
    private var pending: [PendingBatch] = []
    private var pendingEventCount = 0
    private var accepting = true
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    /// Loads the sessions the store holds.
    package init(
        store: any SessionStore, clock: any WallClock = SystemWallClock(), configuration: Configuration = .init(),
        metrics: SinkMetrics = SinkMetrics(), logger: Logger
    ) async throws {
        self.store = store
        self.clock = clock
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let loaded = try await store.loadSessions()
        sessions = Dictionary(loaded.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        metrics.describe("observatory_events_stored_total", help: "Session events committed to the store.")
        metrics.describe("observatory_events_duplicate_total", help: "Records dropped as duplicates of stored ones (exporter retries).")
        metrics.describe("observatory_ingest_overload_total", help: "Batches refused with 503 because the commit queue was full.")
        metrics.describe("observatory_commit_queue_events", help: "Events waiting for a commit.")
        metrics.describe("observatory_sessions", help: "Sessions known, by status.")
        metrics.describe("observatory_events_pruned_total", help: "Events deleted by retention.")
        metrics.describe("observatory_sessions_pruned_total", help: "Sessions deleted by retention (over and quiet past store.max_age).")
        publishSessionGauges()
    }

    /// Adds an observer that is told about every commit.
    package func addObserver(_ observer: any SessionObserver) {
        observers.append(observer)
    }

    // MARK: Reading

    /// Every session, most recently seen first.
    package func allSessions() -> [Session] {
        // Sorts (time, id) pairs and gathers: sorting the sessions themselves moves large values
        // (a tenth of a cold start with 10,000 sessions).
        sessions.map { ($0.value.lastSeen, $0.key) }.sorted { $0.0 > $1.0 }.map { sessions[$0.1]! }
    }

    package func session(id: String) -> Session? {
        sessions[id]
    }

    package var pendingEvents: Int { pendingEventCount }

    // MARK: Writing

    /// Commits `events`; returns once they are durably stored.
    package func consume(_ events: [SessionEvent]) async throws {
        guard !events.isEmpty else { return }
        guard accepting else { throw PipelineError.shuttingDown }
        guard pendingEventCount + events.count <= configuration.maxPendingEvents || pendingEventCount == 0 else {
            metrics.add(to: .init("observatory_ingest_overload_total"))
            throw PipelineError.overloaded(retryAfterSeconds: 1)
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            pending.append(PendingBatch(events: events, continuation: continuation))
            pendingEventCount += events.count
            metrics.set(Double(pendingEventCount), for: .init("observatory_commit_queue_events"))
            wakeupContinuation.yield()
        }
    }

    /// Applies the passage of time to every open session and persists what changed.
    package func tick() async {
        let now = clock.now()
        var changed: [Session] = []
        for (id, var session) in sessions where !session.status.isFinal {
            if session.statusMachine.tick(now: now, timeouts: configuration.timeouts) {
                sessions[id] = session
                changed.append(session)
            }
        }
        guard !changed.isEmpty else { return }
        do {
            let toSave = changed
            try await store.write { transaction in
                for session in toSave { try transaction.save(session) }
            }
        } catch {
            logger.warning("could not persist status changes", metadata: ["error": "\(error)"])
        }
        publishSessionGauges()
        await notify(SessionUpdate(events: [], sessions: changed))
    }

    /// Deletes events past the retention limits, and sessions that are over (ended or crashed)
    /// and have been quiet for longer than the retention age.
    package func enforceRetention() async {
        let now = clock.now()
        do {
            // Counted as each chunk commits, so the counter matches the database during a long pass.
            let metrics = metrics
            _ = try await store.enforceRetention(configuration.retention, now: now) { pruned in
                metrics.add(Double(pruned), to: .init("observatory_events_pruned_total"))
            }
        } catch {
            logger.warning("retention failed", metadata: ["error": "\(error)"])
        }
        let oldest = now.addingTimeInterval(-configuration.retention.maxAge.seconds)
        let expired = sessions.values.filter { $0.status.isFinal && $0.lastSeen < oldest }.map(\.id)
        guard !expired.isEmpty else { return }
        do {
            try await store.write { transaction in
                for id in expired { try transaction.deleteSession(id: id) }
            }
            for id in expired { sessions[id] = nil }
            metrics.add(Double(expired.count), to: .init("observatory_sessions_pruned_total"))
            publishSessionGauges()
        } catch {
            logger.warning("session retention failed", metadata: ["error": "\(error)"])
        }
    }

    /// Commits everything queued so far (in groups of at most ``Configuration/maxEventsPerCommit``).
    package func flush() async {
        while !pending.isEmpty {
            await commitNextGroup()
        }
    }

    // MARK: Service

    /// Commits queued batches as they come, ticks the clock, enforces retention; on graceful
    /// shutdown stops taking batches and commits what is queued before returning.
    package func run() async throws {
        let tickInterval = configuration.tickInterval
        let retentionInterval = configuration.retentionInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in self.wakeups.cancelOnGracefulShutdown() {
                    await self.flush()
                }
            }
            group.addTask {
                var sinceRetention = Duration.zero
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: tickInterval)
                    await self.tick()
                    sinceRetention += tickInterval
                    if sinceRetention >= retentionInterval {
                        sinceRetention = .zero
                        await self.enforceRetention()
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        accepting = false
        await flush()
        wakeupContinuation.finish()
    }

    // MARK: Private

    private func commitNextGroup() async {
        var batches: [PendingBatch] = []
        var count = 0
        while let first = pending.first, batches.isEmpty || count + first.events.count <= configuration.maxEventsPerCommit {
            batches.append(pending.removeFirst())
            count += first.events.count
        }
        pendingEventCount -= count
        let eventCount = count
        metrics.set(Double(pendingEventCount), for: .init("observatory_commit_queue_events"))
        // The batches' event arrays, not one flattened copy of every event.
        let eventLists = batches.map(\.events)
        let receivedAt = clock.now()
        var touched: [String: Session] = [:]
        var lastID: String?
        for events in eventLists {
            for event in events where event.sessionID != lastID {
                lastID = event.sessionID
                if touched[event.sessionID] == nil, let session = sessions[event.sessionID] { touched[event.sessionID] = session }
            }
        }
        let before = touched
        do {
            let outcome = try await store.write { transaction in
                var working = before
                var stored: [StoredEvent] = []
                stored.reserveCapacity(eventCount)
                var changedIDs: [String] = []
                // A request's events come grouped by session: the session being updated is kept
                // out of `working` until the next event names another one (one lookup per run of
                // events, not three per event).
                var currentID: String?
                var current: Session?
                for events in eventLists {
                    for event in events {
                        guard let storedEvent = try transaction.insert(event, receivedAt: receivedAt) else { continue }
                        stored.append(storedEvent)
                        if event.sessionID != currentID {
                            if let currentID, let current { working[currentID] = current }
                            currentID = event.sessionID
                            current = working.removeValue(forKey: event.sessionID)
                                ?? Session(id: event.sessionID, agent: event.agent, firstSeen: min(event.time, receivedAt))
                            if !changedIDs.contains(event.sessionID) { changedIDs.append(event.sessionID) }
                        }
                        current!.apply(event, receivedAt: receivedAt)
                    }
                }
                if let currentID, let current { working[currentID] = current }
                let changed = changedIDs.map { working[$0]! }
                for session in changed { try transaction.save(session) }
                return SessionUpdate(events: stored, sessions: changed)
            }
            for session in outcome.sessions { sessions[session.id] = session }
            metrics.add(Double(outcome.events.count), to: .init("observatory_events_stored_total"))
            let duplicates = eventCount - outcome.events.count
            if duplicates > 0 { metrics.add(Double(duplicates), to: .init("observatory_events_duplicate_total")) }
            for batch in batches { batch.continuation.resume() }
            publishSessionGauges()
            if !outcome.events.isEmpty { await notify(outcome) }
        } catch {
            logger.error("commit failed; the batches are refused with 503", metadata: ["error": "\(error)"])
            for batch in batches { batch.continuation.resume(throwing: PipelineError.storeUnavailable("\(error)")) }
        }
    }

    private func notify(_ update: SessionUpdate) async {
        for observer in observers { await observer.committed(update) }
    }

    private func publishSessionGauges() {
        var byStatus: [SessionStatus: Int] = [:]
        for session in sessions.values { byStatus[session.status, default: 0] += 1 }
        for status in SessionStatus.allCases {
            metrics.set(Double(byStatus[status] ?? 0), for: .init("observatory_sessions", [("status", status.rawValue)]))
        }
    }
}
