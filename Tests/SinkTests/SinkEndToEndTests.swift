import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SinkApp
import SinkCore
import SinkOTLP
import SinkSessions
import SinkStore
import SinkTesting
import SwiftProtobuf
import Testing

/// The whole sink as built by the composition root: OTLP in over a real socket, sessions out of the API.
@Suite("Sink end to end")
struct SinkEndToEndTests {
    struct Harness {
        let sink: Sink
        let directory: URL
    }

    func withSink(_ body: @escaping @Sendable (Sink, any TestClientProtocol, any TestClientProtocol) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SinkConfiguration()
        configuration.dataDirectory = directory.path
        let sink = try await Sink(configuration: configuration, clock: ManualWallClock(.testEpoch), logger: Logger(label: "test"))
        let ingestApp = Application(
            router: sink.ingestRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: [sink.tracker])
        try await ingestApp.test(.live) { ingest in
            let apiApp = Application(router: sink.apiRouter())
            try await apiApp.test(.live) { api in
                try await body(sink, ingest, api)
            }
        }
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test("OTLP logs and metrics become a session with counters and an event timeline")
    func sessionsThroughTheAPI() async throws {
        let logs = try Fixture.data("claude-code-logs.json")
        let metrics = try OTLPBuilders.metricsRequest(metrics: [
            OTLPBuilders.sumMetric("claude_code.cost.usage", points: [([("session.id", "cc-session-1"), ("model", "claude-sonnet-5")], 0.02)])
        ]).serializedData()
        try await withSink { _, ingest, api in
            try await ingest.execute(uri: "/v1/logs", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: logs)) {
                #expect($0.status == .ok)
            }
            try await ingest.execute(uri: "/v1/metrics", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: metrics)) {
                #expect($0.status == .ok)
            }
            try await api.execute(uri: "/api/sessions", method: .get) { response in
                #expect(response.status == .ok)
                let sessions = try #require(try Self.json(response.body)["sessions"] as? [[String: Any]])
                #expect(sessions.count == 1)
                let session = sessions[0]
                #expect(session["id"] as? String == "cc-session-1")
                #expect(session["agent"] as? String == "claude-code")
                #expect(session["status"] as? String == "working")
                #expect(session["model"] as? String == "claude-sonnet-5")
                let counters = try #require(session["counters"] as? [String: Any])
                #expect(counters["prompts"] as? Int == 1)
                #expect(counters["apiRequests"] as? Int == 1)
                #expect(counters["apiErrors"] as? Int == 1)
                #expect(counters["toolCalls"] as? Int == 2)
                #expect(counters["toolErrors"] as? Int == 1)
                #expect(counters["inputTokens"] as? Int == 1200)
                // The metric (0.02) reports more than the event (0.0125): the larger wins, no double count.
                #expect(counters["costUSD"] as? Double == 0.02)
                #expect(counters["events"] as? Int == 7)
            }
            try await api.execute(uri: "/api/sessions/cc-session-1/events?limit=3", method: .get) { response in
                let page = try Self.json(response.body)
                let events = try #require(page["events"] as? [[String: Any]])
                #expect(events.map { $0["kind"] as? String } == ["user_prompt", "api_request", "tool_result"])
                #expect(events[1]["name"] as? String == "claude_code.api_request")
                let next = try #require(page["nextAfter"] as? Int)
                try await api.execute(uri: "/api/sessions/cc-session-1/events?after=\(next)&limit=100", method: .get) { response in
                    let rest = try #require(try Self.json(response.body)["events"] as? [[String: Any]])
                    #expect(rest.count == 4)
                    #expect(rest.allSatisfy { ($0["seq"] as? Int ?? 0) > next })
                }
            }
        }
    }

    @Test("the same request sent twice (an exporter retry) counts once")
    func retryDoesNotDoubleCount() async throws {
        let body = try OTLPBuilders.logsRequest(records: [
            OTLPBuilders.claudeEvent("api_request", session: "s", sequence: 1, [("cost_usd", 1.5)])
        ]).serializedData()
        try await withSink { sink, ingest, api in
            for _ in 0..<2 {
                try await ingest.execute(uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: body)) {
                    #expect($0.status == .ok)
                }
            }
            #expect(await sink.tracker.session(id: "s")?.counters.costUSD == 1.5)
            #expect(try await sink.store.eventCount() == 1)
            try await api.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("observatory_events_duplicate_total 1"))
                #expect(text.contains("observatory_records_received_total{signal=\"logs\"} 2"))
                #expect(text.contains("observatory_sessions{status=\"working\"} 1"))
            }
        }
    }

    @Test("API errors: unknown session 404, bad paging 400, health")
    func apiErrors() async throws {
        try await withSink { _, _, api in
            try await api.execute(uri: "/api/sessions/nope", method: .get) { #expect($0.status == .notFound) }
            try await api.execute(uri: "/api/sessions/nope/events", method: .get) { #expect($0.status == .notFound) }
            try await api.execute(uri: "/api/sessions/x/events?after=-1", method: .get) { #expect($0.status == .badRequest) }
            try await api.execute(uri: "/api/sessions/x/events?limit=abc", method: .get) { #expect($0.status == .badRequest) }
            try await api.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
        }
    }
}
