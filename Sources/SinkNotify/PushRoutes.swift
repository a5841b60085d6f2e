import Foundation
import Hummingbird
import NIOCore
import SinkCore

/// The push API:
///
/// - `GET /api/push/vapid-public-key` → `{"publicKey": "<base64url>"}` (the `applicationServerKey`)
/// - `POST /api/push/subscriptions` (`PushSubscription.toJSON()` + optional `label`) → 201 new / 200 updated
/// - `GET /api/push/subscriptions` → `{"subscriptions": [...]}` with each device's delivery outcome
/// - `DELETE /api/push/subscriptions/{id}` → 204; `DELETE /api/push/subscriptions` with `{"endpoint": …}` → 204
/// - `POST /api/push/test` (`{"subscriptionId"?, "title"?, "body"?}`) → 202 `{"queued": N}`
package struct PushRoutes: Sendable {
    private let store: any PushStore
    private let notifier: PushNotifier
    private let signer: VAPIDSigner
    private let configuration: PushConfiguration
    private let now: @Sendable () -> Date
    /// Largest request body the push routes read.
    package static let maxBodyBytes = 16 * 1024
    /// Most devices the sink keeps (a browser re-posting its subscription does not count twice).
    package static let maxSubscriptions = 100

    package init(
        store: any PushStore, notifier: PushNotifier, signer: VAPIDSigner, configuration: PushConfiguration,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.notifier = notifier
        self.signer = signer
        self.configuration = configuration
        self.now = now
    }

    /// A subscription as the API shows it (never its keys).
    package struct SubscriptionBody: Codable, Sendable {
        package var id: String
        package var endpoint: String
        package var pushService: String
        package var label: String?
        package var createdAt: Date
        package var expiresAt: Date?
        package var lastAttemptAt: Date?
        package var lastSuccessAt: Date?
        package var lastStatus: Int?
        package var lastError: String?
        package var delivered: Int
        package var failed: Int
        package var consecutiveFailures: Int

        init(_ subscription: PushSubscription) {
            id = subscription.id
            endpoint = subscription.endpoint
            pushService = URL(string: subscription.endpoint).flatMap { VAPIDSigner.audience(of: $0) } ?? ""
            label = subscription.label
            createdAt = subscription.createdAt
            expiresAt = subscription.expiresAt
            lastAttemptAt = subscription.delivery.lastAttemptAt
            lastSuccessAt = subscription.delivery.lastSuccessAt
            lastStatus = subscription.delivery.lastStatus
            lastError = subscription.delivery.lastError
            delivered = subscription.delivery.delivered
            failed = subscription.delivery.failed
            consecutiveFailures = subscription.delivery.consecutiveFailures
        }

        /// Unknown values are `null`, not left out.
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(endpoint, forKey: .endpoint)
            try container.encode(pushService, forKey: .pushService)
            try container.encode(label, forKey: .label)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(lastAttemptAt, forKey: .lastAttemptAt)
            try container.encode(lastSuccessAt, forKey: .lastSuccessAt)
            try container.encode(lastStatus, forKey: .lastStatus)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(delivered, forKey: .delivered)
            try container.encode(failed, forKey: .failed)
            try container.encode(consecutiveFailures, forKey: .consecutiveFailures)
        }
    }

    private struct TestRequest: Decodable {
        var subscriptionId: String?
        var title: String?
        var body: String?
    }

    private struct DeleteRequest: Decodable {
        var endpoint: String?
    }

    package func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/push/vapid-public-key") { _, _ in
            Self.json(["publicKey": signer.publicKeyBase64URL])
        }
        router.get("/api/push/subscriptions") { _, _ in
            let subscriptions = try await store.pushSubscriptions()
            return Self.json(["subscriptions": subscriptions.map(SubscriptionBody.init)])
        }
        router.post("/api/push/subscriptions") { request, _ in
            let input: PushSubscriptionInput
            switch await Self.decode(PushSubscriptionInput.self, from: request) {
            case .success(let value): input = value
            case .failure(let failure): return failure.response
            }
            switch input.validated(configuration: configuration, now: now()) {
            case .failure(let problem):
                return Self.problem(problem.description, status: .badRequest)
            case .success(let subscription):
                let existing = try await store.pushSubscriptions()
                if existing.count >= Self.maxSubscriptions, !existing.contains(where: { $0.id == subscription.id }) {
                    return Self.problem(
                        "already \(existing.count) push subscriptions, the most the sink keeps: delete old devices first", status: .conflict)
                }
                let created = try await store.savePushSubscription(subscription)
                await notifier.subscriptionsChanged()
                let saved = try await store.pushSubscriptions().first { $0.id == subscription.id } ?? subscription
                return Self.json(SubscriptionBody(saved), status: created ? .created : .ok)
            }
        }
        router.delete("/api/push/subscriptions/:id") { _, context in
            let id = try context.parameters.require("id")
            guard try await store.deletePushSubscription(id: id) else {
                return Self.problem("no push subscription \(id)", status: .notFound)
            }
            await notifier.subscriptionsChanged()
            return Response(status: .noContent)
        }
        router.delete("/api/push/subscriptions") { request, _ in
            let input: DeleteRequest
            switch await Self.decode(DeleteRequest.self, from: request) {
            case .success(let value): input = value
            case .failure(let failure): return failure.response
            }
            guard let endpoint = input.endpoint, !endpoint.isEmpty else {
                return Self.problem("endpoint is required (or DELETE /api/push/subscriptions/{id})", status: .badRequest)
            }
            guard try await store.deletePushSubscription(id: PushSubscriptionInput.id(endpoint: endpoint)) else {
                return Self.problem("no push subscription for that endpoint", status: .notFound)
            }
            await notifier.subscriptionsChanged()
            return Response(status: .noContent)
        }
        router.post("/api/push/test") { request, _ in
            let input: TestRequest
            switch await Self.decode(TestRequest.self, from: request, emptyIsObject: true) {
            case .success(let value): input = value
            case .failure(let failure): return failure.response
            }
            if let title = input.title, title.count > 200 { return Self.problem("title is longer than 200 characters", status: .badRequest) }
            if let body = input.body, body.count > 1000 { return Self.problem("body is longer than 1000 characters", status: .badRequest) }
            let subscriptions = try await store.pushSubscriptions()
            if let id = input.subscriptionId {
                guard subscriptions.contains(where: { $0.id == id }) else {
                    return Self.problem("no push subscription \(id)", status: .notFound)
                }
            } else if subscriptions.isEmpty {
                return Self.problem("no push subscriptions yet: enable notifications on a device first", status: .notFound)
            }
            let queued = try await notifier.sendTest(subscriptionID: input.subscriptionId, title: input.title, body: input.body)
            return Self.json(["queued": queued], status: .accepted)
        }
    }

    // MARK: Helpers

    private static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, emptyIsObject: Bool = false
    ) async -> Result<T, ResponseFailure> {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            return .failure(ResponseFailure(problem("request body is larger than \(maxBodyBytes) bytes", status: .contentTooLarge)))
        }
        var data = Data(buffer.readableBytesView)
        if data.isEmpty && emptyIsObject { data = Data("{}".utf8) }
        do {
            return .success(try JSONDecoder().decode(T.self, from: data))
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .failure(ResponseFailure(problem("\(path.isEmpty ? "body" : path) has the wrong type", status: .badRequest)))
        } catch {
            return .failure(ResponseFailure(problem("body must be a JSON object", status: .badRequest)))
        }
    }

    private struct ResponseFailure: Error {
        var response: Response
        init(_ response: Response) { self.response = response }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var container = encoder.singleValueContainer()
            try container.encode(formatter.string(from: date))
        }
        return encoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func problem(_ message: String, status: HTTPResponse.Status) -> Response {
        json(["error": message], status: status)
    }
}
