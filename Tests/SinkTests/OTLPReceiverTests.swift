import CompressNIO
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SinkCore
import SinkIngest
import SinkNormalize
import SinkOTLP
import SinkTesting
import SwiftProtobuf
import Testing

/// The receiver through a real HTTP server on 127.0.0.1, port 0.
@Suite("OTLP/HTTP receiver")
struct OTLPReceiverTests {
    let consumer = RecordingEventConsumer()

    func withServer(
        maxRequestBytes: Int = 1024 * 1024, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var configuration = OTLPReceiverConfiguration()
        configuration.maxRequestBytes = maxRequestBytes
        let metrics = SinkMetrics()
        let receiver = OTLPReceiver(
            consumer: NormalizeProcessor(next: consumer, clock: ManualWallClock(), metrics: metrics),
            configuration: configuration, metrics: metrics, logger: Logger(label: "test"))
        let router = Router()
        receiver.addRoutes(to: router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(client) }
    }

    static let logsRequest = OTLPBuilders.logsRequest(records: [
        OTLPBuilders.claudeEvent("user_prompt", session: "s1", sequence: 1),
        OTLPBuilders.claudeEvent("api_request", session: "s1", sequence: 2, [("cost_usd", 0.5)]),
    ])

    static func gzip(_ data: Data) throws -> ByteBuffer {
        var buffer = ByteBuffer(bytes: data)
        return try buffer.compress(with: .gzip())
    }

    @Test("protobuf: 200 with an empty protobuf ExportLogsServiceResponse; events reach the consumer")
    func protobuf() async throws {
        let body = try Self.logsRequest.serializedData()
        try await withServer { client in
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/x-protobuf")
                let decoded = try OTLPLogsResponse(serializedBytes: Data(response.body.readableBytesView))
                #expect(!decoded.hasPartialSuccess)
            }
        }
        #expect(consumer.events.map(\.kind) == [.userPrompt, .apiRequest])
    }

    @Test("JSON in, JSON out")
    func json() async throws {
        let body = try Fixture.data("claude-code-logs.json")
        try await withServer { client in
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == "{}")
            }
        }
        #expect(consumer.events.count == 6)
    }

    @Test("gzip content encoding, for each signal")
    func gzipBodies() async throws {
        let logs = try Self.gzip(try Self.logsRequest.serializedData())
        let metrics = try Self.gzip(
            try OTLPBuilders.metricsRequest(metrics: [OTLPBuilders.sumMetric("claude_code.cost.usage", points: [([("session.id", "s")], 1)])])
                .serializedData())
        let traces = try Self.gzip(
            try OTLPBuilders.traceRequest(resource: [("service.name", "x")], spans: [OTLPBuilders.span("chat m", [("gen_ai.operation.name", "chat")])])
                .serializedData())
        try await withServer { client in
            for (path, body) in [("/v1/logs", logs), ("/v1/metrics", metrics), ("/v1/traces", traces)] {
                try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "gzip"], body: body
                ) { response in
                    #expect(response.status == .ok, "\(path)")
                }
            }
        }
        #expect(consumer.events.map(\.source) == [.logs, .logs, .metrics, .traces])
    }

    @Test("undecodable bodies: 400 with a google.rpc.Status in the request's encoding")
    func badRequest() async throws {
        try await withServer { client in
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"],
                body: ByteBuffer(bytes: [0x0A, 0xFF, 0xFF, 0x01])
            ) { response in
                #expect(response.status == .badRequest)
                let status = try RPCStatus(serializedBytes: Data(response.body.readableBytesView))
                #expect(status.code == 3)
                #expect(status.message.contains("protobuf"))
            }
            try await client.execute(
                uri: "/v1/traces", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"resourceSpans\": [}")
            ) { response in
                #expect(response.status == .badRequest)
                let status = try RPCStatus(jsonUTF8Bytes: Data(response.body.readableBytesView))
                #expect(status.message.contains("JSON"))
            }
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"resourceLogs\": [{\"scopeLogs\": [{\"logRecords\": [{\"timeUnixNano\": true}]}]}]}")
            ) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "gzip"],
                body: ByteBuffer(string: "this is not gzip")
            ) { response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(consumer.events.isEmpty)
    }

    @Test("415 for other content types and content encodings")
    func unsupportedMediaType() async throws {
        try await withServer { client in
            try await client.execute(uri: "/v1/logs", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x")) {
                #expect($0.status == .unsupportedMediaType)
            }
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "br"], body: ByteBuffer(string: "x")
            ) {
                #expect($0.status == .unsupportedMediaType)
            }
        }
    }

    @Test("413 for a body over the limit, and for a gzip bomb once decompressed")
    func tooLarge() async throws {
        let big = ByteBuffer(repeating: 0x41, count: 2 * 1024 * 1024)
        // 50 MB of zeros compress to ~50 KB: small on the wire, huge once inflated.
        let bomb = try Self.gzip(Data(count: 50 * 1024 * 1024))
        #expect(bomb.readableBytes < 100 * 1024)
        try await withServer(maxRequestBytes: 1024 * 1024) { client in
            try await client.execute(uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: big) {
                #expect($0.status == .contentTooLarge)
            }
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "gzip"], body: bomb
            ) {
                #expect($0.status == .contentTooLarge)
            }
            // The server is still up and takes the next request.
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"],
                body: ByteBuffer(bytes: try Self.logsRequest.serializedData())
            ) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test("503 with Retry-After when the pipeline is saturated; never 500")
    func overloaded() async throws {
        consumer.fail(with: .overloaded(retryAfterSeconds: 2))
        let body = try Self.logsRequest.serializedData()
        try await withServer { client in
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "2")
            }
            consumer.fail(with: .storeUnavailable("disk full"))
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
            }
        }
    }

    @Test("partial success for rejected records, the rest accepted")
    func partialSuccess() async throws {
        var bad = OTLPBuilders.claudeEvent("user_prompt", session: "s", sequence: 9)
        bad.spanID = Data([1])
        var request = Self.logsRequest
        request.resourceLogs[0].scopeLogs[0].logRecords.append(bad)
        let body = try request.serializedData()
        try await withServer { client in
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .ok)
                let decoded = try OTLPLogsResponse(serializedBytes: Data(response.body.readableBytesView))
                #expect(decoded.partialSuccess.rejectedLogRecords == 1)
                #expect(decoded.partialSuccess.errorMessage.contains("span_id"))
            }
        }
        #expect(consumer.events.count == 2)
    }
}
