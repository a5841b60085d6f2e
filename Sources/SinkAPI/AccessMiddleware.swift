import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ObservatoryAuth

/// Applies ``AccessPolicy`` to every request of the API port before any route runs:
///
/// 1. a `Host` that is not loopback or in `api.allowed_hosts` → 403 (DNS rebinding);
/// 2. a state-changing request (anything but GET/HEAD/OPTIONS) whose browser `Origin` names
///    another site → 403 (CSRF);
/// 3. remote requests (not from loopback, or through a proxy) to the API, `/ws` and `/metrics` need
///    a device or control token — `Authorization: Bearer …` or the login cookie — else 401, and
///    429 with `Retry-After` after repeated failures. The dashboard's static files, `/healthz`,
///    `/api/auth` and `/api/login` are public (the bundle holds no data). `/control/…` routes
///    check their own, stricter rules (``ControlRoutes``).
package struct AccessMiddleware: RouterMiddleware {
    package typealias Context = ObservatoryRequestContext

    private let policy: AccessPolicy
    private let authenticator: Authenticator

    package init(policy: AccessPolicy, authenticator: Authenticator) {
        self.policy = policy
        self.authenticator = authenticator
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let authority = request.head.authority
        guard policy.hostAllowed(authority) else {
            return Self.problem(
                "the Host \(authority ?? "(none)") is not allowed; add it to api.allowed_hosts if you reach the sink under that name",
                status: .forbidden)
        }
        var access = policy.access(peer: context.remoteAddress, headers: request.headers)
        if ![.get, .head, .options].contains(request.method),
            !AccessPolicy.sameOrigin(origin: request.headers[.origin], authority: authority)
        {
            authenticator.record(access: access, action: "http.\(request.method.rawValue)", target: request.uri.path, result: "cross_origin")
            return Self.problem("cross-origin requests are not allowed", status: .forbidden)
        }
        let path = request.uri.path
        var context = context
        if access.isLocal || Self.isPublic(path) || path.hasPrefix("/control/") {
            context.access = access
            return try await next(request, context)
        }
        let secret = Authenticator.bearer(request.headers) ?? Authenticator.cookie(request.headers)
        switch authenticator.check(secret: secret, scopes: [.device, .control], access: access, action: "auth.read", target: path) {
        case .accepted(let token):
            access.token = token
            context.access = access
            return try await next(request, context)
        case .missing:
            return Self.problem("log in with a device token (observatory token create --device NAME)", status: .unauthorized, bearer: true)
        case .rejected, .wrongScope:
            return Self.problem("this token is not valid (revoked, or mistyped)", status: .unauthorized, bearer: true)
        case .rateLimited(let wait):
            return Self.tooManyAttempts(wait)
        }
    }

    /// Paths anyone may fetch: the dashboard's files, health, and the login endpoints.
    static func isPublic(_ path: String) -> Bool {
        if path == "/healthz" || path == "/api/auth" || path == "/api/login" || path == "/api/logout" { return true }
        return !(path.hasPrefix("/api/") || path == "/api" || path == "/ws" || path.hasPrefix("/ws/") || path == "/metrics")
    }

    static func problem(_ message: String, status: HTTPResponse.Status, bearer: Bool = false) -> Response {
        var response = APIRoutes.json(APIRepresentation.Problem(error: message), status: status)
        if bearer { response.headers[.wwwAuthenticate] = "Bearer realm=\"observatory\"" }
        return response
    }

    static func tooManyAttempts(_ wait: Duration) -> Response {
        var response = problem("too many failed attempts; try again later", status: .tooManyRequests)
        response.headers[.retryAfter] = String(max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0)))
        return response
    }
}
