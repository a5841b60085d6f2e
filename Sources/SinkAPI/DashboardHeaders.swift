import Foundation
import HTTPTypes
import Hummingbird

/// Headers for the dashboard a PWA needs: content-hashed files under `/assets/` are cached for a
/// year, everything else (the HTML shell, the service worker, the manifest, the API) is revalidated
/// on every load, and every response carries a strict Content-Security-Policy (no inline scripts,
/// connections only to this origin, no framing).
package struct DashboardHeaders<Context: RequestContext>: RouterMiddleware {
    package static var contentSecurityPolicy: String {
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            + "worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    }

    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicyHeader] = "no-referrer"
        if response.headers[.cacheControl] == nil {
            let immutable = request.uri.path.hasPrefix("/assets/") && response.status == .ok
            response.headers[.cacheControl] = immutable ? "public, max-age=31536000, immutable" : "no-cache"
        }
        return response
    }
}

extension HTTPField.Name {
    static var xContentTypeOptions: Self { Self("X-Content-Type-Options")! }
    static var referrerPolicyHeader: Self { Self("Referrer-Policy")! }
}
