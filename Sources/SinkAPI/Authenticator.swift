import Foundation
import HTTPTypes
import ObservatoryAuth
import SinkCore
import Synchronization

/// Checks the tokens requests present, counts failures per client (``FailedAttemptLimiter``) and
/// writes failed and refused attempts to the audit log.
package final class Authenticator: Sendable {
    /// What a check found.
    package enum Outcome: Sendable, Equatable {
        case accepted(AccessToken)
        /// No token presented.
        case missing
        /// A token that is not (or no longer) valid.
        case rejected
        /// A valid token that may not do this (a device token on a control route).
        case wrongScope(AccessToken)
        /// Too many failures from this client; try again after this long.
        case rateLimited(Duration)
    }

    /// The cookie the dashboard's login sets (HttpOnly, SameSite=Strict).
    package static let cookieName = "observatory_token"

    private let verifier: TokenVerifier
    package let audit: AuditLog
    private let clock: any MonotonicClock
    private let wallClock: any WallClock
    private let limiter = Mutex(FailedAttemptLimiter())

    package init(verifier: TokenVerifier, audit: AuditLog, clock: any MonotonicClock, wallClock: any WallClock) {
        self.verifier = verifier
        self.audit = audit
        self.clock = clock
        self.wallClock = wallClock
    }

    /// Checks `secret` for one of `scopes`. Failures count against the client and are audited with
    /// `action` and `target`.
    package func check(
        secret: String?, scopes: Set<TokenScope>, access: RequestAccess, action: String, target: String? = nil
    ) -> Outcome {
        let now = clock.now()
        if let wait = limiter.withLock({ $0.retryAfter(client: access.limiterKey, now: now) }) {
            record(access: access, action: action, target: target, result: "rate_limited")
            return .rateLimited(wait)
        }
        guard let secret, !secret.isEmpty else { return .missing }
        guard let token = verifier.verify(secret, scopes: Set(TokenScope.allCases)) else {
            limiter.withLock { _ = $0.recordFailure(client: access.limiterKey, now: now) }
            record(access: access, action: action, target: target, result: "bad_token")
            return .rejected
        }
        limiter.withLock { $0.recordSuccess(client: access.limiterKey) }
        guard scopes.contains(token.scope) else {
            var withToken = access
            withToken.token = token
            record(access: withToken, action: action, target: target, result: "wrong_scope")
            return .wrongScope(token)
        }
        return .accepted(token)
    }

    /// The bearer token of `Authorization`, if any.
    package static func bearer(_ headers: HTTPFields) -> String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// The dashboard's login cookie, if any.
    package static func cookie(_ headers: HTTPFields) -> String? {
        for field in headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(cookieName + "=") { return String(trimmed.dropFirst(cookieName.count + 1)) }
            }
        }
        return nil
    }

    /// Appends an entry for a request to the audit log.
    package func record(access: RequestAccess, action: String, target: String?, result: String, detail: String? = nil) {
        audit.append(AuditEntry(
            time: wallClock.now().timeIntervalSince1970, actor: access.actor, client: access.client, action: action, target: target,
            result: result,
            detail: detail))
    }
}
