import Foundation
import Hummingbird
import ObservatoryAuth
import SinkAPI

/// When `ingest.token` is set, every OTLP request must carry it as `Authorization: Bearer …`
/// (the collector's otlphttp exporter: `headers: {Authorization: "Bearer ${env:OBSERVATORY_INGEST_TOKEN}"}`).
/// Compared in constant time; a missing or wrong token is 401 — which the exporter does not retry,
/// so a misconfiguration shows at once in its log instead of looking like an outage.
struct IngestTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let expected: [UInt8]

    init(token: String) {
        expected = Array(AccessToken.digest(of: token).utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let presented = Authenticator.bearer(request.headers).map { Array(AccessToken.digest(of: $0).utf8) } ?? []
        guard TokenVerifier.constantTimeEqual(presented, expected) else {
            return Response(
                status: .unauthorized, headers: [.contentType: "application/json", .wwwAuthenticate: "Bearer realm=\"otlp\""],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"code":16,"message":"ingest.token is set: send Authorization: Bearer <token>"}"#)))
        }
        return try await next(request, context)
    }
}
