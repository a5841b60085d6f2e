import Crypto
import Foundation

/// The optional fallback channel: a notification that no device got (given up after retries,
/// refused, expired, the device gone, or no device subscribed at all) is POSTed as JSON to a
/// webhook, signed with HMAC-SHA256, for bridges to ntfy, Slack, Telegram and the like.
///
/// Body: `{"notification": PushPayload, "reason": "…", "sentAt": "<ISO-8601>"}`.
/// Headers: `X-Observatory-Timestamp: <unix seconds>` and
/// `X-Observatory-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`; a receiver
/// recomputes it and refuses old timestamps (replays).
package struct FallbackWebhook: Sendable, Hashable {
    package var url: URL
    package var secret: String

    package init(url: URL, secret: String) {
        self.url = url
        self.secret = secret
    }

    /// The request for one notification.
    package func request(payload: Data, reason: String, now: Date) -> PushRequest {
        let notification = (try? JSONSerialization.jsonObject(with: payload)) ?? [:]
        let sentAt = ISO8601DateFormatter().string(from: now)
        let document: [String: Any] = ["notification": notification, "reason": reason, "sentAt": sentAt]
        let body = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        let timestamp = String(Int(now.timeIntervalSince1970))
        return PushRequest(
            endpoint: url,
            headers: [
                ("Content-Type", "application/json"),
                ("X-Observatory-Timestamp", timestamp),
                ("X-Observatory-Signature", "sha256=" + Self.signature(secret: secret, timestamp: timestamp, body: body)),
            ],
            body: body)
    }

    package static func signature(secret: String, timestamp: String, body: Data) -> String {
        var signed = Data(timestamp.utf8)
        signed.append(UInt8(ascii: "."))
        signed.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }
}
