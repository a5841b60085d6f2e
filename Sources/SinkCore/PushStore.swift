import Foundation

/// A browser's push subscription (`PushSubscription.toJSON()`), as the sink keeps it, with how
/// delivery to it has gone.
package struct PushSubscription: Sendable, Hashable, Codable {
    /// Derived from the endpoint, so re-posting the same subscription updates it.
    package var id: String
    package var endpoint: String
    /// The user agent's 65-byte uncompressed P-256 public key.
    package var p256dh: Data
    /// The 16-byte authentication secret.
    package var auth: Data
    /// What the user called the device ("iPhone"), if anything.
    package var label: String?
    package var createdAt: Date
    /// `expirationTime` from the browser, when it gave one.
    package var expiresAt: Date?
    package var delivery: PushDeliveryState

    package init(
        id: String, endpoint: String, p256dh: Data, auth: Data, label: String?, createdAt: Date, expiresAt: Date?,
        delivery: PushDeliveryState = PushDeliveryState()
    ) {
        self.id = id
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
        self.label = label
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.delivery = delivery
    }
}

/// Delivery outcome of one subscription.
package struct PushDeliveryState: Sendable, Hashable, Codable {
    package var lastAttemptAt: Date?
    package var lastSuccessAt: Date?
    /// HTTP status of the last answer; `nil` before the first, or when the last attempt got none.
    package var lastStatus: Int?
    /// Why the last attempt failed; `nil` when it succeeded.
    package var lastError: String?
    package var delivered: Int
    package var failed: Int
    package var consecutiveFailures: Int

    package init(
        lastAttemptAt: Date? = nil, lastSuccessAt: Date? = nil, lastStatus: Int? = nil, lastError: String? = nil,
        delivered: Int = 0, failed: Int = 0, consecutiveFailures: Int = 0
    ) {
        self.lastAttemptAt = lastAttemptAt
        self.lastSuccessAt = lastSuccessAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.delivered = delivered
        self.failed = failed
        self.consecutiveFailures = consecutiveFailures
    }
}

/// A notification to put in the outbox, once per subscription.
package struct NewPushMessage: Sendable, Hashable {
    /// The notification (JSON); encrypted only when sent, shortened if a service refuses its size.
    package var payload: Data
    /// `TTL` header, seconds.
    package var ttl: Int
    /// `Urgency` header: `very-low`, `low`, `normal`, `high`.
    package var urgency: String
    /// `Topic` header (`[A-Za-z0-9]{1,32}`): a later message with the same topic replaces this one.
    package var topic: String?
    /// One subscription, or every subscription when `nil`.
    package var subscriptionID: String?

    package init(payload: Data, ttl: Int, urgency: String, topic: String?, subscriptionID: String?) {
        self.payload = payload
        self.ttl = ttl
        self.urgency = urgency
        self.topic = topic
        self.subscriptionID = subscriptionID
    }
}

/// One outbox entry: a notification for one subscription, until it is delivered or given up.
package struct PushMessage: Sendable, Hashable {
    package var id: Int64
    package var subscriptionID: String
    package var payload: Data
    package var ttl: Int
    package var urgency: String
    package var topic: String?
    package var createdAt: Date
    package var notBefore: Date
    package var attempts: Int
    /// Plaintext limit for this message (smaller after a 413).
    package var maxPayloadBytes: Int

    package init(
        id: Int64, subscriptionID: String, payload: Data, ttl: Int, urgency: String, topic: String?, createdAt: Date,
        notBefore: Date, attempts: Int, maxPayloadBytes: Int
    ) {
        self.id = id
        self.subscriptionID = subscriptionID
        self.payload = payload
        self.ttl = ttl
        self.urgency = urgency
        self.topic = topic
        self.createdAt = createdAt
        self.notBefore = notBefore
        self.attempts = attempts
        self.maxPayloadBytes = maxPayloadBytes
    }
}

/// What became of one delivery attempt; the store updates the outbox and the subscription's state.
package enum PushAttemptResult: Sendable, Hashable {
    /// 2xx: the message leaves the outbox.
    case delivered(status: Int)
    /// Try again at `at` (network error, 5xx, 429, 413 with a smaller payload). With
    /// `holdSubscription`, every message of the subscription, queued now or later, waits until then
    /// (429 + Retry-After).
    case retry(at: Date, status: Int?, error: String, maxPayloadBytes: Int, holdSubscription: Bool)
    /// Given up (4xx other than 404/410/413/429, too many attempts, TTL passed): the message leaves.
    case dropped(status: Int?, error: String)
    /// 404/410: the subscription is gone; it and its messages are deleted.
    case subscriptionGone(status: Int)
}

/// Keeps push subscriptions and the push outbox (the SQLite store implements it). A message is put
/// in the outbox before the sink tries to send it and leaves only once an attempt settled it, so
/// notifications survive a restart or a crash.
package protocol PushStore: Sendable {
    /// Inserts or updates (keys, label, expiry; the delivery state is kept) a subscription by id.
    /// Returns `true` when it was new.
    func savePushSubscription(_ subscription: PushSubscription) async throws -> Bool
    /// Deletes a subscription and its outbox messages; `false` if there was none.
    func deletePushSubscription(id: String) async throws -> Bool
    func pushSubscriptions() async throws -> [PushSubscription]
    /// Puts each message in the outbox once per target subscription, in one transaction; returns
    /// the number of outbox entries made.
    func enqueuePush(_ messages: [NewPushMessage], now: Date) async throws -> Int
    /// Messages due at `now`, oldest first.
    func duePushMessages(now: Date, limit: Int) async throws -> [PushMessage]
    /// The earliest `notBefore` in the outbox later than `after`.
    func nextPushDue(after: Date) async throws -> Date?
    func recordPushAttempt(messageID: Int64, subscriptionID: String, result: PushAttemptResult, at: Date) async throws
    func pushOutboxCount() async throws -> Int
}
