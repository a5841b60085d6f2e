import Foundation
import Logging
import ServiceLifecycle
import SinkCore

/// Delivers Web Push notifications: the rule engine's ``AlertConsumer`` on one side (alert changes
/// that carry a notification go into the persistent outbox, once per subscription) and a
/// ``Service`` on the other, which sends what the outbox holds.
///
/// Delivery: a message leaves the outbox only once an attempt settled it, so a crash or restart
/// never loses one (a crash between the push service's 2xx and the commit can send it twice).
/// Network errors and 5xx are retried with jittered exponential backoff; 429 waits `Retry-After`
/// for every message of that subscription; 404/410 delete the subscription; 413 retries with a
/// shortened payload; other 4xx are recorded and not retried.
package actor PushNotifier: AlertConsumer, Service {
    private let store: any PushStore
    private let transport: any PushTransport
    private let signer: VAPIDSigner
    private let configuration: PushConfiguration
    private let metrics: SinkMetrics
    private let logger: Logger
    private let now: @Sendable () -> Date

    private var inFlight: Set<Int64> = []
    private var wakePending = false
    private var waiter: CheckedContinuation<Void, Never>?

    /// Smallest plaintext limit a 413 shrinks a message to before it is given up.
    package static let minPayloadBytes = 256

    package init(
        store: any PushStore, transport: any PushTransport, signer: VAPIDSigner, configuration: PushConfiguration,
        metrics: SinkMetrics, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.transport = transport
        self.signer = signer
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.now = now
        Self.describeMetrics(metrics)
    }

    // MARK: AlertConsumer

    package func consume(_ alerts: [AlertEvent]) async {
        var messages: [NewPushMessage] = []
        for event in alerts {
            guard let payload = PushPayload(event), let notification = event.notification else {
                metrics.add(to: .init("observatory_push_alerts_not_pushed_total"))
                continue
            }
            messages.append(
                NewPushMessage(
                    payload: payload.encoded(), ttl: configuration.ttlSeconds,
                    urgency: PushPayload.urgency(severity: notification.severity),
                    topic: PushPayload.topic(collapseKey: notification.collapseKey), subscriptionID: nil))
        }
        guard !messages.isEmpty else { return }
        do {
            if try await enqueue(messages) == 0 {
                for message in messages { fallBack(message.payload, reason: "no device is subscribed to push notifications") }
            }
        } catch {
            metrics.add(to: .init("observatory_push_enqueue_failures_total"))
            logger.error("push: cannot put notifications in the outbox", metadata: ["error": "\(error)"])
        }
    }

    /// Puts messages in the outbox and wakes the sender; returns the number of outbox entries.
    package func enqueue(_ messages: [NewPushMessage]) async throws -> Int {
        let made = try await store.enqueuePush(messages, now: now())
        metrics.add(Double(made), to: .init("observatory_push_enqueued_total"))
        wake()
        return made
    }

    /// Queues a test notification for one subscription or all; returns how many were queued.
    package func sendTest(subscriptionID: String?, title: String?, body: String?) async throws -> Int {
        let payload = PushPayload(
            title: title ?? "Agent Observatory", body: body ?? "Test notification: push works on this device.",
            tag: "observatory-test", url: "/", kind: "test")
        return try await enqueue([
            NewPushMessage(
                payload: payload.encoded(), ttl: 300, urgency: "normal", topic: nil, subscriptionID: subscriptionID)
        ])
    }

    /// Tells the sender that the subscriptions changed (refreshes the gauge).
    package func subscriptionsChanged() async {
        if let count = try? await store.pushSubscriptions().count {
            metrics.set(Double(count), for: .init("observatory_push_subscriptions"))
        }
    }

    // MARK: Service

    package func run() async throws {
        await subscriptionsChanged()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                while !Task.isCancelled && !isShuttingDown {
                    await startDue()
                    await waitForWork()
                }
            } onCancel: {
                Task { await self.shutdownRequested() }
            }
        } onGracefulShutdown: {
            Task { await self.shutdownRequested() }
        }
        // Let the requests in flight settle, for 5 s at most; cancelled ones stay in the outbox.
        let pending = Array(tasks.values)
        let canceller = Task {
            try? await Task.sleep(for: .seconds(5))
            for task in pending { task.cancel() }
        }
        for task in pending { await task.value }
        canceller.cancel()
        timer?.cancel()
        try? await transport.shutdown()
    }

    private var isShuttingDown = false
    private var tasks: [Int64: Task<Void, Never>] = [:]

    private func shutdownRequested() {
        isShuttingDown = true
        wake()
    }

    /// Starts a task for each due message not already in flight, up to the concurrency limit, and
    /// schedules a wake-up for the next message that is not due yet.
    private func startDue() async {
        guard inFlight.count < configuration.maxConcurrentRequests else { return }
        // Attempts that end while the outbox is read may have been read before they settled:
        // those messages are left to the next round, which reads them afresh.
        settledDuringRead = []
        let start = now()
        let due: [PushMessage]
        let subscriptions: [String: PushSubscription]
        do {
            due = try await store.duePushMessages(now: start, limit: configuration.maxConcurrentRequests * 4)
            subscriptions = Dictionary(try await store.pushSubscriptions().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            metrics.set(Double(try await store.pushOutboxCount()), for: .init("observatory_push_outbox_messages"))
        } catch {
            logger.error("push: cannot read the outbox", metadata: ["error": "\(error)"])
            scheduleWake(after: .seconds(5))
            return
        }
        for message in due where !inFlight.contains(message.id) && !settledDuringRead.contains(message.id) {
            guard inFlight.count < configuration.maxConcurrentRequests, !isShuttingDown else { break }
            inFlight.insert(message.id)
            let subscription = subscriptions[message.subscriptionID]
            tasks[message.id] = Task {
                await self.deliver(message, to: subscription)
                await self.finished(message.id)
            }
        }
        if let next = try? await store.nextPushDue(after: start) {
            let delay = max(0, next.timeIntervalSince(now()))
            scheduleWake(after: .milliseconds(Int64(min(delay, 3600) * 1000) + 1))
        }
    }

    private var settledDuringRead: Set<Int64> = []

    private func finished(_ id: Int64) {
        inFlight.remove(id)
        settledDuringRead.insert(id)
        tasks[id] = nil
        wake()
    }

    // MARK: Waiting

    private func wake() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            wakePending = true
        }
    }

    private var timer: Task<Void, Never>?
    private var timerDeadline: Date?

    /// Wakes the loop after `delay` unless an earlier wake-up is already scheduled.
    private func scheduleWake(after delay: Duration) {
        let deadline = now().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        if let timerDeadline, timerDeadline <= deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = Task { [weak self] in
            guard (try? await Task.sleep(for: delay)) != nil else { return }
            await self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        wake()
    }

    private func waitForWork() async {
        if wakePending {
            wakePending = false
            return
        }
        await withCheckedContinuation { continuation in
            waiter = continuation
        }
    }

    // MARK: One attempt

    private func deliver(_ message: PushMessage, to subscription: PushSubscription?) async {
        guard let subscription else { return }  // deleted meanwhile; its messages went with it
        let started = now()
        if let expiresAt = subscription.expiresAt, expiresAt < started {
            logger.notice("push: subscription expired (the browser's expirationTime), deleting it", metadata: ["subscription": "\(subscription.id)"])
            await record(message, .subscriptionGone(status: 0), outcome: "gone")
            await subscriptionsChanged()
            return
        }
        let age = started.timeIntervalSince(message.createdAt)
        if age > Double(message.ttl) {
            await record(message, .dropped(status: nil, error: "expired: not delivered within its TTL of \(message.ttl)s"), outcome: "expired")
            return
        }
        let plaintext = ((try? JSONDecoder().decode(PushPayload.self, from: message.payload))?.encoded(maxBytes: message.maxPayloadBytes))
            ?? message.payload.prefix(message.maxPayloadBytes)
        let request: PushRequest
        do {
            guard let endpoint = URL(string: subscription.endpoint) else { throw PushInputError("bad endpoint") }
            let body = try WebPushEncryption.encrypt(plaintext: Data(plaintext), userAgentPublicKey: subscription.p256dh, authSecret: subscription.auth)
            var headers: [(String, String)] = [
                ("TTL", String(max(0, message.ttl - Int(age)))),
                ("Content-Encoding", "aes128gcm"),
                ("Content-Type", "application/octet-stream"),
                ("Urgency", message.urgency),
                ("Authorization", try signer.authorization(for: endpoint, now: started)),
            ]
            if let topic = message.topic { headers.append(("Topic", topic)) }
            request = PushRequest(endpoint: endpoint, headers: headers, body: body)
        } catch {
            await record(message, .dropped(status: nil, error: "cannot build the request: \(error)"), outcome: "rejected")
            return
        }
        let response: PushResponse
        do {
            response = try await transport.send(request, timeout: configuration.requestTimeout)
        } catch {
            metrics.add(to: .init("observatory_push_requests_total", [("code", "error")]))
            await retryOrDrop(message, status: nil, error: "network: \(error)", retryAfter: nil)
            return
        }
        metrics.add(to: .init("observatory_push_requests_total", [("code", String(response.status))]))
        let reason = response.body.isEmpty ? "" : ": " + response.body.prefix(300)
        switch response.status {
        case 200..<300:
            let latency = now().timeIntervalSince(message.createdAt)
            metrics.add(latency, to: .init("observatory_push_delivery_seconds_sum"))
            metrics.add(to: .init("observatory_push_delivery_seconds_count"))
            await record(message, .delivered(status: response.status), outcome: "delivered")
        case 404, 410:
            logger.notice("push: subscription gone, deleting it", metadata: ["subscription": "\(subscription.id)", "status": "\(response.status)"])
            await record(message, .subscriptionGone(status: response.status), outcome: "gone")
            await subscriptionsChanged()
        case 413:
            let smaller = message.maxPayloadBytes / 2
            if smaller >= Self.minPayloadBytes && message.attempts + 1 < configuration.maxAttempts {
                await record(
                    message,
                    .retry(at: now(), status: 413, error: "413 payload too large; retrying with at most \(smaller) bytes",
                           maxPayloadBytes: smaller, holdSubscription: false),
                    outcome: "retried")
            } else {
                await record(message, .dropped(status: 413, error: "413 payload too large\(reason)"), outcome: "rejected")
            }
        case 429:
            await retryOrDrop(message, status: 429, error: "429 too many requests\(reason)", retryAfter: Self.retryAfter(response.headers["retry-after"], now: now()), hold: true)
        case 500..<600:
            await retryOrDrop(message, status: response.status, error: "\(response.status) from the push service\(reason)",
                              retryAfter: Self.retryAfter(response.headers["retry-after"], now: now()))
        default:
            await record(message, .dropped(status: response.status, error: "\(response.status)\(reason)"), outcome: "rejected")
        }
    }

    private func retryOrDrop(_ message: PushMessage, status: Int?, error: String, retryAfter: TimeInterval?, hold: Bool = false) async {
        guard message.attempts + 1 < configuration.maxAttempts else {
            await record(message, .dropped(status: status, error: "gave up after \(message.attempts + 1) attempts: \(error)"), outcome: "failed")
            return
        }
        let delay = retryAfter ?? backoff(attempt: message.attempts)
        await record(
            message,
            .retry(at: now().addingTimeInterval(delay), status: status, error: error, maxPayloadBytes: message.maxPayloadBytes, holdSubscription: hold),
            outcome: "retried")
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    private func backoff(attempt: Int) -> TimeInterval {
        let base = Double(configuration.retryBaseDelay.components.seconds) + Double(configuration.retryBaseDelay.components.attoseconds) / 1e18
        let cap = Double(configuration.maxRetryDelay.components.seconds)
        let exponential = min(cap, base * pow(2, Double(min(attempt, 30))))
        return exponential / 2 + Double.random(in: 0...(exponential / 2))
    }

    /// `Retry-After`: delta-seconds or an HTTP-date; capped at an hour.
    package static func retryAfter(_ value: String?, now: Date) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return TimeInterval(min(max(seconds, 0), 3600)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return min(max(date.timeIntervalSince(now), 0), 3600)
    }

    private func record(_ message: PushMessage, _ result: PushAttemptResult, outcome: String) async {
        metrics.add(to: .init("observatory_push_attempts_total", [("outcome", outcome)]))
        switch result {
        case .dropped(_, let error): fallBack(message.payload, reason: "push not delivered: \(error)")
        case .subscriptionGone(let status): fallBack(message.payload, reason: "the device's push subscription is gone (\(status))")
        case .delivered, .retry: break
        }
        do {
            try await store.recordPushAttempt(messageID: message.id, subscriptionID: message.subscriptionID, result: result, at: now())
        } catch {
            logger.error("push: cannot record a delivery attempt", metadata: ["error": "\(error)"])
        }
        switch result {
        case .retry(let at, let status, let error, _, _):
            logger.info(
                "push: not delivered yet, will retry",
                metadata: [
                    "subscription": "\(message.subscriptionID)", "status": "\(status.map(String.init) ?? "none")",
                    "retry_in_s": "\(String(format: "%.1f", max(0, at.timeIntervalSince(now()))))", "error": "\(error)",
                ])
        case .dropped(let status, let error):
            logger.warning(
                "push: message given up",
                metadata: ["subscription": "\(message.subscriptionID)", "status": "\(status.map(String.init) ?? "none")", "error": "\(error)"])
        case .delivered, .subscriptionGone:
            break
        }
        wake()
    }

    // MARK: Fallback webhook

    /// Payloads sent to the fallback recently: one alert that reached no device of several goes
    /// there once.
    private var fallbackSent: [Data: Date] = [:]

    private func fallBack(_ payload: Data, reason: String) {
        guard let fallback = configuration.fallback else { return }
        if (try? JSONDecoder().decode(PushPayload.self, from: payload))?.kind == "test" { return }
        let sentAt = now()
        fallbackSent = fallbackSent.filter { sentAt.timeIntervalSince($0.value) < 600 }
        guard fallbackSent[payload] == nil else { return }
        fallbackSent[payload] = sentAt
        let request = fallback.request(payload: payload, reason: reason, now: sentAt)
        let transport = transport
        let timeout = configuration.requestTimeout
        let metrics = metrics
        let logger = logger
        Task {
            for (attempt, delay) in [0, 1, 4].enumerated() {
                if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
                do {
                    let response = try await transport.send(request, timeout: timeout)
                    if (200..<300).contains(response.status) {
                        metrics.add(to: .init("observatory_push_fallback_total", [("result", "delivered")]))
                        return
                    }
                    logger.warning("push: the fallback webhook answered \(response.status)", metadata: ["attempt": "\(attempt + 1)"])
                    if (400..<500).contains(response.status) && response.status != 429 { break }
                } catch {
                    logger.warning("push: the fallback webhook failed", metadata: ["attempt": "\(attempt + 1)", "error": "\(error)"])
                }
            }
            metrics.add(to: .init("observatory_push_fallback_total", [("result", "failed")]))
        }
    }

    private static func describeMetrics(_ metrics: SinkMetrics) {
        metrics.describe("observatory_push_fallback_total", help: "Notifications sent to the fallback webhook, by result.")
        metrics.describe("observatory_push_enqueued_total", help: "Push messages put in the outbox (one per subscription).")
        metrics.describe("observatory_push_attempts_total", help: "Push delivery attempts by outcome: delivered, retried, gone (subscription deleted), rejected (4xx, not retried), failed (gave up), expired.")
        metrics.describe("observatory_push_requests_total", help: "Requests to push services by HTTP status (error = no answer).")
        metrics.describe("observatory_push_outbox_messages", help: "Push messages waiting in the outbox.")
        metrics.describe("observatory_push_subscriptions", help: "Push subscriptions (devices).")
        metrics.describe("observatory_push_delivery_seconds_sum", help: "Seconds from outbox to the push service's 2xx, summed.")
        metrics.describe("observatory_push_delivery_seconds_count", help: "Pushes the push service accepted.")
        metrics.describe("observatory_push_alerts_not_pushed_total", help: "Alert changes the rule engine marked as not to push (suppressed).")
    }
}
