import Foundation

/// Web Push settings (YAML `push:`).
package struct PushConfiguration: Sendable, Hashable {
    /// VAPID `sub`: `mailto:you@example.com` or an `https:` URL. YAML `push.contact`, flag
    /// `--push-contact`. Without it pushes go out without `sub`, which Apple refuses, so Apple
    /// subscriptions are then refused.
    package var contact: String?
    /// `TTL` of alert pushes: how long the push service keeps a message for a phone that is offline.
    /// YAML `push.ttl` (default 24h).
    package var ttl: Duration = .seconds(24 * 3600)
    /// Accept `http://127.0.0.1`/`localhost` endpoints (a local fake push service in tests). Off by
    /// default: real push endpoints are https. YAML `push.allow_insecure_localhost`, flag
    /// `--push-allow-insecure-localhost`.
    package var allowInsecureLocalhost = false
    /// Attempts before a message is given up (network errors, 5xx, 429).
    package var maxAttempts = 12
    /// First retry delay; doubled per attempt, with jitter, up to ``maxRetryDelay``.
    package var retryBaseDelay: Duration = .seconds(1)
    package var maxRetryDelay: Duration = .seconds(600)
    /// Per-request timeout.
    package var requestTimeout: Duration = .seconds(15)
    /// Requests in flight at once.
    package var maxConcurrentRequests = 16
    /// Fallback webhook for notifications no device got (off unless a URL is set). YAML
    /// `push.fallback_url` and `push.fallback_secret` (env `OBSERVATORY_PUSH_FALLBACK_SECRET`).
    package var fallbackURL: String?
    package var fallbackSecret: String?

    package init() {}

    /// Every problem, in words for the user.
    package func validate() -> [String] {
        var problems: [String] = []
        if let contact, let problem = VAPIDSigner.contactProblem(contact) { problems.append(problem) }
        if ttl < .zero || ttl > .seconds(2_419_200) { problems.append("push.ttl must be between 0s and 28d (FCM's limit)") }
        if maxAttempts < 1 { problems.append("push.max_attempts must be at least 1") }
        if let fallbackURL {
            if let problem = PushSubscriptionInput.endpointProblem(fallbackURL, configuration: self, what: "push.fallback_url") {
                problems.append(problem)
            }
            if (fallbackSecret ?? "").count < 16 {
                problems.append("push.fallback_secret must be set, at least 16 characters, when push.fallback_url is")
            }
        }
        return problems
    }

    /// The fallback webhook, when configured.
    package var fallback: FallbackWebhook? {
        guard let fallbackURL, let url = URL(string: fallbackURL), let fallbackSecret else { return nil }
        return FallbackWebhook(url: url, secret: fallbackSecret)
    }

    /// The TTL in whole seconds.
    package var ttlSeconds: Int { Int(ttl.components.seconds) }
}
