import Foundation
import Hummingbird
import NIOCore
import SinkCore

/// The REST API: sessions, their events, health and Prometheus metrics.
///
/// - `GET /api/sessions` → `{"sessions": [Session]}`, most recently seen first
/// - `GET /api/sessions/{id}` → `Session`, 404 if unknown
/// - `GET /api/sessions/{id}/events?after=SEQ&limit=N` → `{"events": [Event], "nextAfter": SEQ}`
/// - `GET /healthz` → `{"status": "ok"}`
/// - `GET /metrics` → Prometheus text format
package struct APIRoutes: Sendable {
    private let reader: any SessionReader
    private let metrics: SinkMetrics
    /// Largest page of events one request returns.
    package static let maxEventPage = 1000

    package init(reader: any SessionReader, metrics: SinkMetrics) {
        self.reader = reader
        self.metrics = metrics
    }

    package func addRoutes(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            Self.json(["status": "ok"])
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        router.get("/api/sessions") { _, _ in
            let sessions = await reader.sessions()
            return Self.json(APIRepresentation.SessionList(sessions: sessions.map(APIRepresentation.SessionBody.init)))
        }
        router.get("/api/sessions/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let session = await reader.session(id: id) else {
                return Self.json(APIRepresentation.Problem(error: "no session \(id)"), status: .notFound)
            }
            return Self.json(APIRepresentation.SessionBody(session))
        }
        router.get("/api/sessions/:id/events") { request, context in
            let id = try context.parameters.require("id")
            let query = request.uri.queryParameters
            guard let after = Self.integer(query["after"], default: 0), after >= 0 else {
                return Self.json(APIRepresentation.Problem(error: "after must be a non-negative integer"), status: .badRequest)
            }
            guard let limit = Self.integer(query["limit"], default: 100), limit > 0 else {
                return Self.json(APIRepresentation.Problem(error: "limit must be a positive integer"), status: .badRequest)
            }
            guard await reader.session(id: id) != nil else {
                return Self.json(APIRepresentation.Problem(error: "no session \(id)"), status: .notFound)
            }
            let events = try await reader.events(sessionID: id, after: after, limit: min(Int(limit), Self.maxEventPage))
            return Self.json(
                APIRepresentation.EventList(
                    events: events.map(APIRepresentation.EventBody.init), nextAfter: events.last?.seq ?? after))
        }
    }

    private static func integer(_ text: Substring?, default value: Int64) -> Int64? {
        guard let text else { return value }
        return Int64(text)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? APIRepresentation.encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
