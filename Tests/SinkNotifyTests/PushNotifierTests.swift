import Crypto
import Foundation
import Logging
import SinkCore
import SinkNotify
import SinkStore
import Synchronization
import Testing

/// A push service in memory: answers from a script per endpoint, records every request.
final class FakePushTransport: PushTransport {
    struct State {
        var requests: [PushRequest] = []
        var script: [String: [PushResponse]] = [:]
        var failNetwork: [String: Int] = [:]
    }

    let state = Mutex(State())

    func send(_ request: PushRequest, timeout: Duration) async throws -> PushResponse {
        try state.withLock { state in
            state.requests.append(request)
            let key = request.endpoint.absoluteString
            if let left = state.failNetwork[key], left > 0 {
                state.failNetwork[key] = left - 1
                throw URLError(.networkConnectionLost)
            }
            if var queue = state.script[key], !queue.isEmpty {
                let response = queue.removeFirst()
                state.script[key] = queue
                return response
            }
            return PushResponse(status: 201)
        }
    }

    func shutdown() async throws {}

    func script(_ endpoint: String, _ responses: [PushResponse]) {
        state.withLock { $0.script[endpoint] = responses }
    }

    var requests: [PushRequest] { state.withLock { $0.requests } }
}

/// A browser's side of a subscription.
struct FakeDevice {
    let key = P256.KeyAgreement.PrivateKey()
    let auth = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
    let endpoint: String

    var input: PushSubscriptionInput {
        try! JSONDecoder().decode(
            PushSubscriptionInput.self,
            from: Data(
                """
                {"endpoint": "\(endpoint)", "expirationTime": null,
                 "keys": {"p256dh": "\(Base64URL.encode(key.publicKey.x963Representation))", "auth": "\(Base64URL.encode(auth))"}}
                """.utf8))
    }

    func payload(of request: PushRequest) throws -> PushPayload {
        try JSONDecoder().decode(PushPayload.self, from: WebPushDecryption.decrypt(request.body, userAgent: key, authSecret: auth))
    }
}

/// A notifier on a fresh SQLite database with a fake transport, running while `body` runs.
struct NotifierHarness: Sendable {
    let store: SQLitePushStore
    let transport = FakePushTransport()
    let notifier: PushNotifier
    let metrics = SinkMetrics()
    let signer = VAPIDSigner(privateKey: P256.Signing.PrivateKey(), contact: "mailto:ops@example.com")
    var configuration: PushConfiguration

    init(configure: (inout PushConfiguration) -> Void = { _ in }) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString).sqlite").path
        store = SQLitePushStore(sharing: try SQLiteSessionStore(path: path))
        var configuration = PushConfiguration()
        configuration.allowInsecureLocalhost = true
        configuration.retryBaseDelay = .milliseconds(20)
        configuration.maxRetryDelay = .milliseconds(100)
        configure(&configuration)
        self.configuration = configuration
        notifier = PushNotifier(
            store: store, transport: transport, signer: signer, configuration: configuration, metrics: metrics,
            logger: Logger(label: "test"))
    }

    func add(_ device: FakeDevice) async throws {
        let subscription = try device.input.validated(configuration: configuration, now: Date()).get()
        _ = try await store.savePushSubscription(subscription)
    }

    func running(_ body: () async throws -> Void) async throws {
        let task = Task { try await notifier.run() }
        defer { task.cancel() }
        try await body()
        task.cancel()
        _ = try? await task.value
    }
}

func eventually(_ what: String, timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)")
}

func alert(_ title: String, body: String = "details", severity: String = "critical", key: String = "rule|s1") -> AlertEvent {
    AlertEvent(
        kind: .firing,
        alert: AlertSnapshot(
            id: key, ruleID: "rule", ruleName: "Rule", severity: severity, state: "firing", sessionID: "s1", labels: [:],
            episode: 1, count: 1, activeSince: nil, firingSince: nil, resolvedAt: nil, resolveReason: nil, acknowledged: false,
            silenced: false, inhibited: false, shadow: false, value: nil, title: title, body: body),
        notification: AlertNotification(title: title, body: body, severity: severity, collapseKey: key, suppressedSinceLast: 0),
        suppressedBecause: nil, at: Date())
}

struct PushNotifierTests {
    @Test func alertWithNotificationIsEncryptedSignedAndDelivered() async throws {
        let harness = try NotifierHarness()
        let phone = FakeDevice(endpoint: "http://127.0.0.1:9/push/phone")
        let laptop = FakeDevice(endpoint: "http://127.0.0.1:9/push/laptop")
        try await harness.add(phone)
        try await harness.add(laptop)
        try await harness.running {
            var suppressed = alert("quiet")
            suppressed.notification = nil
            suppressed.suppressedBecause = "cooldown"
            await harness.notifier.consume([alert("Agent waiting", body: "claude-code needs you"), suppressed])
            try await eventually("two deliveries") { harness.transport.requests.count == 2 }
            try await eventually("outbox empty") { try await harness.store.pushOutboxCount() == 0 }
        }
        let requests = harness.transport.requests
        #expect(requests.count == 2)
        let toPhone = try #require(requests.first { $0.endpoint.absoluteString == phone.endpoint })
        let payload = try phone.payload(of: toPhone)
        #expect(payload.title == "Agent waiting")
        #expect(payload.body == "claude-code needs you")
        #expect(payload.alertId == "rule|s1" && payload.sessionId == "s1" && payload.tag == "rule|s1")
        #expect(toPhone.header("Urgency") == "high")
        #expect(toPhone.header("TTL") == "86400")
        #expect(toPhone.header("Content-Encoding") == "aes128gcm")
        #expect(toPhone.header("Topic")?.wholeMatch(of: /[A-Za-z0-9]{32}/) != nil)
        #expect(toPhone.header("Authorization")?.hasPrefix("vapid t=") == true)
        let subscriptions = try await harness.store.pushSubscriptions()
        #expect(subscriptions.allSatisfy { $0.delivery.delivered == 1 && $0.delivery.lastStatus == 201 && $0.delivery.lastSuccessAt != nil })
        #expect(harness.metrics.value(of: .init("observatory_push_attempts_total", [("outcome", "delivered")])) == 2)
        #expect(harness.metrics.value(of: .init("observatory_push_alerts_not_pushed_total")) == 1)
    }

    @Test func goneSubscriptionIsDeleted() async throws {
        let harness = try NotifierHarness()
        let phone = FakeDevice(endpoint: "http://127.0.0.1:9/push/gone")
        try await harness.add(phone)
        harness.transport.script(phone.endpoint, [PushResponse(status: 410)])
        try await harness.running {
            await harness.notifier.consume([alert("a"), alert("b", key: "other")])
            try await eventually("subscription deleted") { try await harness.store.pushSubscriptions().isEmpty }
        }
        #expect(try await harness.store.pushOutboxCount() == 0)
    }

    @Test func serverErrorsAndNetworkErrorsAreRetriedWithBackoff() async throws {
        let harness = try NotifierHarness()
        let phone = FakeDevice(endpoint: "http://127.0.0.1:9/push/flaky")
        try await harness.add(phone)
        harness.transport.script(phone.endpoint, [PushResponse(status: 503), PushResponse(status: 500)])
        harness.transport.state.withLock { $0.failNetwork[phone.endpoint] = 1 }
        try await harness.running {
            await harness.notifier.consume([alert("retry me")])
            try await eventually("delivered after retries") { try await harness.store.pushOutboxCount() == 0 }
        }
        #expect(harness.transport.requests.count == 4)
        let subscription = try #require(try await harness.store.pushSubscriptions().first)
        #expect(subscription.delivery.delivered == 1 && subscription.delivery.failed == 3 && subscription.delivery.consecutiveFailures == 0)
    }

    @Test func retryAfterOn429IsHonoured() async throws {
        let harness = try NotifierHarness()
        let phone = FakeDevice(endpoint: "http://127.0.0.1:9/push/busy")
        try await harness.add(phone)
        harness.transport.script(phone.endpoint, [PushResponse(status: 429, headers: ["retry-after": "1"])])
        let start = ContinuousClock.now
        try await harness.running {
            await harness.notifier.consume([alert("slow down")])
            try await eventually("delivered after Retry-After") { try await harness.store.pushOutboxCount() == 0 }
        }
        #expect(ContinuousClock.now - start >= .seconds(1))
        #expect(harness.transport.requests.count == 2)
    }

    @Test func retryAfterHoldsLaterMessagesOfTheSubscriptionToo() async throws {
        let harness = try NotifierHarness()
        let phone = FakeDevice(endpoint: "http://127.0.0.1:9/push/held")
        try await harness.add(phone)
        harness.transport.script(phone.endpoint, [PushResponse(status: 429, headers: ["retry-after": "1"])])
        let start = ContinuousClock.now
        try await harness.running {
            await harness.notifier.consume([alert("first")])
            try await eventually("the 429") { harness.transport.requests.count == 1 }
            await harness.notifier.consume([alert("second", key: "other")])
            try await Task.sleep(for: .milliseconds(300))
            #expect(harness.transport.requests.count == 1)
            try await eventually("both delivered") { try await harness.store.pushOutboxCount() == 0 }
        }
        #expect(ContinuousClock.now - start >= .seconds(1))
        #expect(harness.transport.requests.count == 3)
    }

    @Test func tooLargeIsRetriedShorterAndOther4xxAreNotRetried() async throws {
        let harness = try NotifierHarness()
        let big = FakeDevice(endpoint: "http://127.0.0.1:9/push/small-limit")
        let wrong = FakeDevice(endpoint: "http://127.0.0.1:9/push/bad-request")
        try await harness.add(big)
        try await harness.add(wrong)
        harness.transport.script(big.endpoint, [PushResponse(status: 413)])
        harness.transport.script(wrong.endpoint, [PushResponse(status: 403, body: "{\"reason\":\"BadJwtToken\"}")])
        try await harness.running {
            await harness.notifier.consume([alert("long", body: String(repeating: "word ", count: 1000))])
            try await eventually("outbox settled") { try await harness.store.pushOutboxCount() == 0 }
        }
        let toBig = harness.transport.requests.filter { $0.endpoint.absoluteString == big.endpoint }
        #expect(toBig.count == 2)
        #expect(toBig[1].body.count < toBig[0].body.count)
        #expect(toBig[0].body.count <= 4096)
        let shortened = try big.payload(of: toBig[1])
        #expect(shortened.body.hasSuffix("…"))
        #expect(harness.transport.requests.filter { $0.endpoint.absoluteString == wrong.endpoint }.count == 1)
        let refused = try #require(try await harness.store.pushSubscriptions().first { $0.endpoint == wrong.endpoint })
        #expect(refused.delivery.lastStatus == 403 && refused.delivery.lastError?.contains("BadJwtToken") == true)
    }

    @Test func messagesOlderThanTheirTTLAreNotSent() async throws {
        let harness = try NotifierHarness()
        try await harness.add(FakeDevice(endpoint: "http://127.0.0.1:9/push/late"))
        // Queued by a sink that then stayed down longer than the TTL.
        _ = try await harness.store.enqueuePush(
            [NewPushMessage(payload: PushPayload(title: "stale", body: "").encoded(), ttl: 60, urgency: "normal", topic: nil, subscriptionID: nil)],
            now: Date().addingTimeInterval(-3600))
        try await harness.running {
            try await eventually("outbox settled") { try await harness.store.pushOutboxCount() == 0 }
        }
        #expect(harness.transport.requests.isEmpty)
        #expect(harness.metrics.value(of: .init("observatory_push_attempts_total", [("outcome", "expired")])) == 1)
    }

    @Test func outboxSurvivesARestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString).sqlite").path
        let phone = FakeDevice(endpoint: "http://127.0.0.1:9/push/restart")
        var configuration = PushConfiguration()
        configuration.allowInsecureLocalhost = true
        do {
            let store = SQLitePushStore(sharing: try SQLiteSessionStore(path: path))
            _ = try await store.savePushSubscription(try phone.input.validated(configuration: configuration, now: Date()).get())
            let notifier = PushNotifier(
                store: store, transport: FakePushTransport(), signer: VAPIDSigner(privateKey: .init(), contact: nil),
                configuration: configuration, metrics: SinkMetrics(), logger: Logger(label: "test"))
            await notifier.consume([alert("kept")])  // never run: the sink "crashed"
        }
        let store = SQLitePushStore(sharing: try SQLiteSessionStore(path: path))
        #expect(try await store.pushOutboxCount() == 1)
        let transport = FakePushTransport()
        let notifier = PushNotifier(
            store: store, transport: transport, signer: VAPIDSigner(privateKey: .init(), contact: nil), configuration: configuration,
            metrics: SinkMetrics(), logger: Logger(label: "test"))
        let task = Task { try await notifier.run() }
        try await eventually("delivered after restart") { try await store.pushOutboxCount() == 0 }
        task.cancel()
        _ = try? await task.value
        #expect(transport.requests.count == 1)
        #expect(try phone.payload(of: transport.requests[0]).title == "kept")
    }

    @Test func retryAfterParsesSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(PushNotifier.retryAfter("7", now: now) == 7)
        #expect(PushNotifier.retryAfter("999999", now: now) == 3600)
        #expect(PushNotifier.retryAfter(nil, now: now) == nil)
        #expect(PushNotifier.retryAfter("soon", now: now) == nil)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(PushNotifier.retryAfter(formatter.string(from: now.addingTimeInterval(30)), now: now) == 30)
    }
}

struct PushPayloadTests {
    @Test func truncatesGracefullyToTheLimit() throws {
        let payload = PushPayload(
            title: String(repeating: "T", count: 300), body: String(repeating: "é🙂 ", count: 2000), tag: "k", url: "/x", alertId: "a",
            sessionId: "s", severity: "warning", kind: "firing")
        for limit in [3993, 1996, 998, 256] {
            let data = payload.encoded(maxBytes: limit)
            #expect(data.count <= limit, "limit \(limit)")
            let decoded = try JSONDecoder().decode(PushPayload.self, from: data)
            #expect(decoded.alertId == "a")
            if limit > 1000 {
                #expect(decoded.body.hasSuffix("…") && decoded.title.count == 300)
            }
        }
        let small = PushPayload(title: "hi", body: "there")
        #expect(small.encoded(maxBytes: 3993) == small.encoded())
    }

    @Test func urgencyAndTopic() {
        #expect(PushPayload.urgency(severity: "critical") == "high")
        #expect(PushPayload.urgency(severity: "warning") == "normal")
        #expect(PushPayload.urgency(severity: "info") == "low")
        let topic = PushPayload.topic(collapseKey: "stalled|session=abc / ✓")
        #expect(topic.count == 32 && topic.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(topic == PushPayload.topic(collapseKey: "stalled|session=abc / ✓"))
    }
}

struct FallbackWebhookTests {
    static let secret = "0123456789abcdef-secret"

    func harness() throws -> NotifierHarness {
        try NotifierHarness {
            $0.fallbackURL = "http://127.0.0.1:9/hook"
            $0.fallbackSecret = Self.secret
        }
    }

    func hookRequests(_ harness: NotifierHarness) -> [PushRequest] {
        harness.transport.requests.filter { $0.endpoint.absoluteString == "http://127.0.0.1:9/hook" }
    }

    @Test func notificationNoDeviceGotGoesToTheSignedWebhookOnce() async throws {
        let harness = try harness()
        let a = FakeDevice(endpoint: "http://127.0.0.1:9/push/a")
        let b = FakeDevice(endpoint: "http://127.0.0.1:9/push/b")
        try await harness.add(a)
        try await harness.add(b)
        harness.transport.script(a.endpoint, [PushResponse(status: 410)])
        harness.transport.script(b.endpoint, [PushResponse(status: 403)])
        try await harness.running {
            await harness.notifier.consume([alert("Nobody got this")])
            try await eventually("the webhook call") { hookRequests(harness).count == 1 }
            try await Task.sleep(for: .milliseconds(200))
        }
        let hooks = hookRequests(harness)
        #expect(hooks.count == 1)  // two failed devices, one webhook call
        let request = try #require(hooks.first)
        let timestamp = try #require(request.header("X-Observatory-Timestamp"))
        #expect(request.header("X-Observatory-Signature") == "sha256=" + FallbackWebhook.signature(secret: Self.secret, timestamp: timestamp, body: request.body))
        let document = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect((document["notification"] as? [String: Any])?["title"] as? String == "Nobody got this")
        #expect(document["reason"] is String)
    }

    @Test func noSubscriptionsGoesStraightToTheWebhookAndDeliveredPushesDoNot() async throws {
        let harness = try harness()
        try await harness.running {
            await harness.notifier.consume([alert("No phone yet")])
            try await eventually("the webhook call") { hookRequests(harness).count == 1 }
            try await harness.add(FakeDevice(endpoint: "http://127.0.0.1:9/push/ok"))
            await harness.notifier.consume([alert("Delivered", key: "other")])
            try await eventually("the push") { harness.transport.requests.count == 2 }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(hookRequests(harness).count == 1)
        #expect(harness.metrics.value(of: .init("observatory_push_fallback_total", [("result", "delivered")])) == 1)
    }

    @Test func configurationNeedsASecretAndASafeURL() {
        var configuration = PushConfiguration()
        configuration.fallbackURL = "https://hooks.example.com/observatory"
        #expect(configuration.validate().contains { $0.contains("push.fallback_secret") })
        configuration.fallbackSecret = Self.secret
        #expect(configuration.validate().isEmpty)
        configuration.fallbackURL = "http://hooks.example.com/observatory"
        #expect(configuration.validate().contains { $0.hasPrefix("push.fallback_url must be an https URL") })
    }
}
