import Crypto
import Foundation
import SinkCore

/// What the service worker receives (JSON, before encryption): enough to show the notification and
/// open the right page; the page fetches the details itself.
package struct PushPayload: Sendable, Hashable, Codable {
    package var title: String
    package var body: String
    /// Notification `tag`: the same tag replaces the earlier notification on the device.
    package var tag: String?
    /// Page to open on tap.
    package var url: String?
    package var alertId: String?
    package var sessionId: String?
    package var severity: String?
    /// `firing`, `reminder`, `resolved`, `test`.
    package var kind: String?
    /// Pushes the rule engine held back (cooldown) since the previous one.
    package var suppressed: Int?

    package init(
        title: String, body: String, tag: String? = nil, url: String? = nil, alertId: String? = nil, sessionId: String? = nil,
        severity: String? = nil, kind: String? = nil, suppressed: Int? = nil
    ) {
        self.title = title
        self.body = body
        self.tag = tag
        self.url = url
        self.alertId = alertId
        self.sessionId = sessionId
        self.severity = severity
        self.kind = kind
        self.suppressed = suppressed
    }

    /// The notification for an alert change, or `nil` when the rule engine said not to push it.
    package init?(_ event: AlertEvent) {
        guard let notification = event.notification else { return nil }
        let alert = event.alert
        self.init(
            title: notification.title, body: notification.body, tag: notification.collapseKey,
            url: "/?alert=" + (alert.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
            alertId: alert.id, sessionId: alert.sessionID, severity: notification.severity, kind: event.kind.rawValue,
            suppressed: notification.suppressedSinceLast > 0 ? notification.suppressedSinceLast : nil)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    package func encoded() -> Data {
        (try? Self.encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// The JSON, at most `maxBytes` long: the body is shortened first (ending in "…"), then the
    /// title, then the optional fields go; never cut inside a character.
    package func encoded(maxBytes: Int) -> Data {
        let full = encoded()
        if full.count <= maxBytes { return full }
        var copy = self
        if let fitted = copy.fitting(\.body, maxBytes: maxBytes) { return fitted }
        copy.body = ""
        if let fitted = copy.fitting(\.title, maxBytes: maxBytes) { return fitted }
        copy.title = ""
        copy.url = nil
        copy.sessionId = nil
        copy.suppressed = nil
        copy.kind = nil
        if copy.encoded().count <= maxBytes { return copy.encoded() }
        copy.alertId = nil
        copy.tag = nil
        return copy.encoded()
    }

    /// Longest prefix of the text at `keyPath` (plus "…") that makes the JSON fit, if any does.
    private func fitting(_ keyPath: WritableKeyPath<PushPayload, String>, maxBytes: Int) -> Data? {
        let characters = Array(self[keyPath: keyPath])
        var low = 0
        var high = characters.count - 1
        var best: Data?
        while low <= high {
            let middle = (low + high) / 2
            var copy = self
            copy[keyPath: keyPath] = String(characters[0..<middle]).trimmingCharacters(in: .whitespaces) + "…"
            let data = copy.encoded()
            if data.count <= maxBytes {
                best = data
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return best
    }

    /// `Urgency` for a severity: critical → high, warning → normal, anything else → low.
    package static func urgency(severity: String?) -> String {
        switch severity {
        case "critical": "high"
        case "warning": "normal"
        case nil: "normal"
        default: "low"
        }
    }

    /// `Topic` for a collapse key: 32 hex characters (Apple refuses anything but `[A-Za-z0-9]`).
    package static func topic(collapseKey: String) -> String {
        SHA256.hash(data: Data(collapseKey.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
