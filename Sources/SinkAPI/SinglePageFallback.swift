import Foundation
import HTTPTypes
import Hummingbird

/// Serves the dashboard's `index.html` for page addresses the dashboard routes itself
/// (`/sessions/ID`, `/alerts`), so a deep link or a reload opens the app instead of a 404.
/// Only for a browser asking for a page (`GET`, `Accept: text/html`, no file extension), and
/// never for the API, the live feed, health or metrics, which keep their own 404s.
package struct SinglePageFallback<Context: RequestContext>: RouterMiddleware {
    private static var reservedPrefixes: [String] { ["/api/", "/ws", "/healthz", "/metrics", "/control/", "/v1/", "/assets/"] }

    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            guard response.status == .notFound, Self.isPageRequest(request) else { return response }
        } catch let error as any HTTPResponseError where error.status == .notFound && Self.isPageRequest(request) {
            // fall through to the shell
        }
        var head = request.head
        head.path = "/index.html"
        return try await next(Request(head: head, body: request.body), context)
    }

    static func isPageRequest(_ request: Request) -> Bool {
        let path = request.uri.path
        guard request.method == .get, !reservedPrefixes.contains(where: { path.hasPrefix($0) }) else { return false }
        guard let accept = request.headers[.accept], accept.contains("text/html") else { return false }
        let last = path.split(separator: "/").last ?? ""
        return !last.contains(".")
    }
}
