import Foundation
import Logging
import ServiceLifecycle
import SinkCore
import Synchronization

/// The rule engine as a service: observes the session tracker's commits, evaluates the rules on
/// them and on a timer, hot-reloads `rules/`, keeps firing alerts and silences in a
/// ``RuleStateStore``, and publishes alert changes to its ``AlertConsumer``s (live view, push).
///
/// ```swift
/// let engine = try await RuleEngine(directory: "rules", consumers: [liveHub, notifier], stateStore: store, logger: logger)
/// await tracker.addObserver(engine)
/// // ServiceGroup(services: [engine, …]).run()
/// ```
///
/// ``committed(_:)`` only appends to a bounded queue (drops are counted in
/// `observatory_rule_updates_dropped_total`), so ingest never waits on rule evaluation.
package actor RuleEngine: SessionObserver, Service {
    package struct Configuration: Sendable {
        /// How often level rules are evaluated and timers checked (alerts fire at most this late).
        package var tickInterval: Duration = .milliseconds(500)
        /// How often the rules directory is checked for changes (reload within 2 s of an edit).
        package var reloadInterval: Duration = .milliseconds(500)
        /// Commits waiting for evaluation before new ones are dropped.
        package var maxQueuedUpdates = 10_000
        package var evaluator = RuleEvaluator.Configuration()

        package init() {}
    }

    /// The rules in force and the problems of the last load, for `GET /api/rules`.
    package struct RulesStatus: Sendable {
        package var directory: String
        package var rules: [Rule]
        package var files: [RuleLoader.FileReport]
        package var diagnostics: [RuleDiagnostic]
        package var loadedAt: Date
        /// Per rule: evaluations whose result was unknown (a missing field).
        package var unknownEvaluations: [String: Int] = [:]
        /// Per rule: pushes held back (shadow, silenced, inhibited, flapping, cooldown, acknowledged, quiet hours).
        package var suppressedNotifications: [String: Int] = [:]
    }

    private let configuration: Configuration
    private let clock: any MonotonicClock
    private let wallClock: any WallClock
    private let consumers: [any AlertConsumer]
    private let stateStore: (any RuleStateStore)?
    private let metrics: SinkMetrics
    private let logger: Logger
    private var loader: RuleLoader
    private var evaluator: RuleEvaluator
    private var status: RulesStatus
    private var directorySignature: [String: String] = [:]
    /// A changed signature seen once; reloaded when the next check finds it unchanged, so an
    /// editor's save (temporary file, rename, second write) causes one reload, not two.
    private var pendingSignature: [String: String]?
    private var reportedProblems: Set<String> = []
    private var savedAlerts: [String: String] = [:]
    private var recent: [AlertEvent] = []

    private let queue = Mutex(Queue())
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    private struct Queue {
        var updates: [SessionUpdate] = []
        var dropped = 0
    }

    /// Loads the rules of `directory` and restores persisted alerts and silences.
    package init(
        directory: String, configuration: Configuration = .init(), clock: any MonotonicClock = SystemMonotonicClock(),
        wallClock: any WallClock = SystemWallClock(), consumers: [any AlertConsumer] = [], stateStore: (any RuleStateStore)? = nil,
        sessions: [Session] = [], metrics: SinkMetrics = SinkMetrics(), logger: Logger
    ) async {
        self.configuration = configuration
        self.clock = clock
        self.wallClock = wallClock
        self.consumers = consumers
        self.stateStore = stateStore
        self.metrics = metrics
        self.logger = logger
        loader = RuleLoader(directory: directory)
        let outcome = loader.load()
        let now = clock.now()
        evaluator = RuleEvaluator(rules: RuleSet(outcome.rules), configuration: configuration.evaluator, at: now)
        status = RulesStatus(directory: directory, rules: outcome.rules, files: outcome.files, diagnostics: outcome.diagnostics, loadedAt: wallClock.now())
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        directorySignature = Self.signature(of: directory)
        metrics.describe("observatory_rules_loaded", help: "Alert rules in force.")
        metrics.describe("observatory_rule_load_errors", help: "Errors in the rule files at the last load (their last good version stays in force).")
        metrics.describe("observatory_rule_updates_dropped_total", help: "Session commits the rule engine dropped because its queue was full.")
        metrics.describe("observatory_alerts_active", help: "Alert instances pending or firing.")
        metrics.describe("observatory_alert_notifications_total", help: "Alert changes by kind and whether they were sent to the notification stage.")
        await restore(sessions: sessions)
        reportLoad(outcome)
    }

    // MARK: SessionObserver

    /// Queues the commit; returns at once.
    package nonisolated func committed(_ update: SessionUpdate) async {
        let accepted = queue.withLock { queue -> Bool in
            guard queue.updates.count < configuration.maxQueuedUpdates else {
                queue.dropped += 1
                return false
            }
            queue.updates.append(update)
            return true
        }
        if accepted {
            wakeupContinuation.yield()
        } else {
            metrics.add(to: .init("observatory_rule_updates_dropped_total"))
        }
    }

    // MARK: Service

    /// Evaluates queued commits as they come; ticks and checks the rules directory on a timer.
    package func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in self.wakeups.cancelOnGracefulShutdown() {
                    await self.drain()
                }
            }
            group.addTask {
                var sinceReload = Duration.zero
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await self.clock.sleep(for: self.configuration.tickInterval)
                    await self.drain()
                    await self.tick()
                    sinceReload += self.configuration.tickInterval
                    if sinceReload >= self.configuration.reloadInterval {
                        sinceReload = .zero
                        await self.reloadIfChanged()
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await drain()
        await persist()
        wakeupContinuation.finish()
    }

    // MARK: Driving (also used by tests)

    /// Evaluates every queued commit.
    package func drain() async {
        let updates = queue.withLock { queue -> [SessionUpdate] in
            defer { queue.updates.removeAll(keepingCapacity: true) }
            return queue.updates
        }
        guard !updates.isEmpty else { return }
        var output: [AlertEvent] = []
        for update in updates {
            output += evaluator.apply(update, at: clock.now(), wall: wallClock.now())
        }
        await publish(output)
    }

    /// One timer round.
    package func tick() async {
        await publish(evaluator.tick(at: clock.now(), wall: wallClock.now()))
    }

    /// Reloads the rules directory when a file changed, was added or was deleted and then stayed
    /// the same for one check interval (debounce: within 2 × ``Configuration/reloadInterval``).
    package func reloadIfChanged() async {
        let signature = Self.signature(of: status.directory)
        guard signature != directorySignature else {
            pendingSignature = nil
            return
        }
        guard signature == pendingSignature else {
            pendingSignature = signature
            return
        }
        pendingSignature = nil
        directorySignature = signature
        await reload()
    }

    /// Reloads the rules directory: files with errors keep their last good version.
    package func reload() async {
        let outcome = loader.load()
        let output = evaluator.load(RuleSet(outcome.rules), at: clock.now(), wall: wallClock.now())
        status = RulesStatus(
            directory: status.directory, rules: outcome.rules, files: outcome.files, diagnostics: outcome.diagnostics, loadedAt: wallClock.now())
        reportLoad(outcome)
        logger.info("rules reloaded", metadata: ["rules": "\(outcome.rules.count)", "errors": "\(outcome.errorCount)"])
        await publish(output)
    }

    // MARK: API

    package func rulesStatus() -> RulesStatus {
        var current = status
        current.unknownEvaluations = evaluator.unknownEvaluations
        current.suppressedNotifications = evaluator.suppressedNotifications
        return current
    }

    /// Active alerts and those resolved in the last 15 minutes.
    package func alerts() -> [AlertSnapshot] { evaluator.alerts() }

    /// Stops reminders of an alert's current episode; false when it is not active.
    package func acknowledge(alertID: String) async -> Bool {
        let done = evaluator.acknowledge(alertID: alertID)
        if done { await persist() }
        return done
    }

    package func silences() -> [Silence] {
        evaluator.silences.values.sorted { $0.endsAt < $1.endsAt }
    }

    package func addSilence(_ silence: Silence) async {
        evaluator.addSilence(silence)
        await save(kind: "silence", upserts: [silence.id: Self.encode(silence)], deletes: [])
    }

    package func removeSilence(id: String) async -> Bool {
        guard evaluator.removeSilence(id: id) else { return false }
        await save(kind: "silence", upserts: [:], deletes: [id])
        return true
    }

    package var now: Date { wallClock.now() }

    // MARK: Private

    private func publish(_ output: [AlertEvent]) async {
        guard !output.isEmpty else { return }
        for event in output {
            metrics.add(to: .init("observatory_alert_notifications_total", [("kind", event.kind.rawValue), ("sent", event.notification == nil ? "false" : "true")]))
        }
        metrics.set(Double(evaluator.alerts().count { $0.state != "resolved" }), for: .init("observatory_alerts_active"))
        for consumer in consumers { await consumer.consume(output) }
        await persist()
    }

    private func restore(sessions: [Session]) async {
        guard let stateStore else { return }
        do {
            let alerts = try await stateStore.loadRuleState(kind: "alert").values.compactMap { Self.decode(PersistedAlert.self, $0) }
            evaluator.restore(alerts, sessions: sessions, at: clock.now(), wall: wallClock.now())
            for silence in try await stateStore.loadRuleState(kind: "silence").values.compactMap({ Self.decode(Silence.self, $0) })
            where silence.endsAt > wallClock.now() {
                evaluator.addSilence(silence)
            }
            savedAlerts = Dictionary(uniqueKeysWithValues: evaluator.persistedAlerts().map { ($0.key, Self.encode($0)) })
            let stale = try await stateStore.loadRuleState(kind: "alert").keys.filter { savedAlerts[$0] == nil }
            await save(kind: "alert", upserts: [:], deletes: Array(stale))
        } catch {
            logger.warning("could not restore alert state", metadata: ["error": "\(error)"])
        }
    }

    /// Writes firing alerts that changed and deletes those that stopped firing.
    private func persist() async {
        guard stateStore != nil else { return }
        var current: [String: String] = [:]
        for alert in evaluator.persistedAlerts() {
            var stable = alert
            stable.savedAt = Date(timeIntervalSince1970: 0)
            current[alert.key] = Self.encode(stable)
        }
        let upserts = current.filter { savedAlerts[$0.key] != $0.value }
        let deletes = savedAlerts.keys.filter { current[$0] == nil }
        guard !upserts.isEmpty || !deletes.isEmpty else { return }
        // Stored with the time of saving, so a restore can discard state older than the outage tolerance.
        var documents: [String: String] = [:]
        for alert in evaluator.persistedAlerts() where upserts[alert.key] != nil { documents[alert.key] = Self.encode(alert) }
        await save(kind: "alert", upserts: documents, deletes: Array(deletes))
        savedAlerts = current
    }

    private func save(kind: String, upserts: [String: String], deletes: [String]) async {
        do {
            try await stateStore?.saveRuleState(kind: kind, upserts: upserts, deletes: deletes)
        } catch {
            logger.warning("could not persist rule state", metadata: ["kind": "\(kind)", "error": "\(error)"])
        }
    }

    private func reportLoad(_ outcome: RuleLoader.Outcome) {
        metrics.set(Double(outcome.rules.count), for: .init("observatory_rules_loaded"))
        metrics.set(Double(outcome.errorCount), for: .init("observatory_rule_load_errors"))
        var current: Set<String> = []
        for diagnostic in outcome.diagnostics {
            current.insert(diagnostic.summary)
            // Logged once per problem, not on every reload.
            if !reportedProblems.contains(diagnostic.summary) {
                logger.warning("rule file problem: \(diagnostic.summary)")
            }
        }
        reportedProblems = current
    }

    /// The content of every rule file (hashed): an edit, a new file or a deleted one changes it,
    /// whatever the file system's timestamp resolution.
    private static func signature(of directory: String) -> [String: String] {
        var signature: [String: String] = [:]
        for path in RuleLoader.ruleFiles(in: directory) {
            var hasher = Hasher()
            hasher.combine(FileManager.default.contents(atPath: path))
            signature[path] = String(hasher.finalize())
        }
        return signature
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()

    private static func encode(_ value: some Encodable) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(type, from: Data(text.utf8))
    }
}

extension RuleEngine: AlertReader {
    /// Pending, firing and recovering alerts (the live view's snapshot).
    package func activeAlerts() async -> [AlertSnapshot] {
        alerts().filter { $0.state != "resolved" }
    }
}
