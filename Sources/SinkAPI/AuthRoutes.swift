import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ObservatoryAuth

/// Logging in from a remote browser (a phone through a tunnel):
///
/// - `GET /api/auth` → `{"local", "authenticated", "loginRequired", "remoteControl", "token": {id, name, scope}?}`
/// - `POST /api/login` `{"token": "obsd_…"}` → 204 and an HttpOnly, SameSite=Strict cookie holding
///   the token (Secure when the page came over HTTPS); 401 for a bad token, 429 after repeated failures
/// - `POST /api/logout` → 204 and the cookie cleared
package struct AuthRoutes: Sendable {
    private let authenticator: Authenticator
    private let policy: AccessPolicy

    package init(authenticator: Authenticator, policy: AccessPolicy) {
        self.authenticator = authenticator
        self.policy = policy
    }

    private struct TokenSummary: Encodable {
        var id: String
        var name: String
        var scope: String
    }

    private struct AuthStatus: Encodable {
        var local: Bool
        var authenticated: Bool
        var loginRequired: Bool
        var remoteControl: Bool
        var token: TokenSummary?
    }

    package func addRoutes(to router: Router<ObservatoryRequestContext>) {
        router.get("/api/auth") { request, context in
            let access = context.access ?? policy.access(peer: context.remoteAddress, headers: request.headers)
            var token: AccessToken?
            if let secret = Authenticator.bearer(request.headers) ?? Authenticator.cookie(request.headers),
                case .accepted(let accepted) = authenticator.check(
                    secret: secret, scopes: [.device, .control], access: access, action: "auth.status")
            {
                token = accepted
            }
            return APIRoutes.json(AuthStatus(
                local: access.isLocal, authenticated: access.isLocal || token != nil,
                loginRequired: !access.isLocal && token == nil, remoteControl: access.isLocal || policy.allowRemoteControl,
                token: token.map { TokenSummary(id: $0.id, name: $0.name, scope: $0.scope.rawValue) }))
        }
        router.post("/api/login") { request, context in
            let access = context.access ?? policy.access(peer: context.remoteAddress, headers: request.headers)
            struct LoginInput: Decodable { var token: String }
            let input: LoginInput
            do {
                let body = try await request.body.collect(upTo: 4096)
                input = try JSONDecoder().decode(LoginInput.self, from: Data(body.readableBytesView))
            } catch {
                return AccessMiddleware.problem("the body must be JSON: {\"token\": \"…\"}", status: .badRequest)
            }
            switch authenticator.check(secret: input.token, scopes: [.device, .control], access: access, action: "auth.login") {
            case .accepted(let token):
                var logged = access
                logged.token = token
                authenticator.record(access: logged, action: "auth.login", target: nil, result: "ok")
                var response = Response(status: .noContent)
                response.headers[.setCookie] = Self.cookie(value: input.token, maxAge: 365 * 24 * 3600, secure: Self.isHTTPS(request))
                return response
            case .missing, .rejected, .wrongScope:
                return AccessMiddleware.problem("this token is not valid (revoked, or mistyped)", status: .unauthorized)
            case .rateLimited(let wait):
                return AccessMiddleware.tooManyAttempts(wait)
            }
        }
        router.post("/api/logout") { request, _ in
            var response = Response(status: .noContent)
            response.headers[.setCookie] = Self.cookie(value: "", maxAge: 0, secure: Self.isHTTPS(request))
            return response
        }
    }

    static func cookie(value: String, maxAge: Int, secure: Bool) -> String {
        "\(Authenticator.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The page came over HTTPS: a TLS-terminating proxy (a tunnel) says so.
    static func isHTTPS(_ request: Request) -> Bool {
        if let proto = request.headers[HTTPField.Name("X-Forwarded-Proto")!], proto.lowercased() == "https" { return true }
        if let forwarded = request.headers[HTTPField.Name("Forwarded")!], forwarded.lowercased().contains("proto=https") { return true }
        return request.headers[HTTPField.Name("CF-Visitor")!]?.contains("https") ?? false
    }
}
