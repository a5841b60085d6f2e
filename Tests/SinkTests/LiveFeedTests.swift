import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWebSocket
import Logging
import NIOCore
import SinkAPI
import SinkApp
import SinkCore
import SinkOTLP
import SinkSessions
import SinkTesting
import SwiftProtobuf
import Testing

/// The live feed: `/ws` through real sockets, and the hub's bounded buffers.
@Suite("Live feed")
struct LiveFeedTests {
    /// Runs a sink with its tracker, an ingest server and an API server (both live, port 0).
    func withSink(
        _ body: @escaping @Sendable (Sink, any TestClientProtocol, any TestClientProtocol) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SinkConfiguration()
        configuration.dataDirectory = directory.path
        configuration.dashboardDirectory = nil
        let sink = try await Sink(configuration: configuration, clock: ManualWallClock(.testEpoch), logger: Logger(label: "test"))
        let ingestApp = Application(
            router: sink.ingestRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: [sink.tracker])
        let router = sink.apiRouter()
        let apiApp = Application(
            router: router, server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await ingestApp.test(.live) { ingest in
            try await apiApp.test(.live) { api in
                try await body(sink, ingest, api)
            }
        }
    }

    static func post(_ ingest: any TestClientProtocol, session: String, sequences: ClosedRange<Int>) async throws {
        let body = try OTLPBuilders.logsRequest(
            records: sequences.map { OTLPBuilders.claudeEvent("tool_result", session: session, sequence: $0, [("tool_name", "Bash")]) }
        ).serializedData()
        try await ingest.execute(uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: body)) {
            #expect($0.status == .ok)
        }
    }

    /// Reads `count` messages as JSON objects (the messages of a `batch` frame one by one, as the
    /// dashboard does).
    static func read(_ count: Int, from iterator: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> [[String: Any]] {
        var messages: [[String: Any]] = []
        while messages.count < count, let message = try await iterator.next() {
            guard case .text(let text) = message else { continue }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            if object["type"] as? String == "batch" {
                messages += try #require(object["messages"] as? [[String: Any]])
            } else {
                messages.append(object)
            }
        }
        return messages
    }

    @Test("snapshot first, then events and session changes as they are committed")
    func snapshotThenLive() async throws {
        try await withSink { _, ingest, api in
            try await Self.post(ingest, session: "s1", sequences: 1...2)
            try await api.ws("/ws") { inbound, _, _ in
                var iterator = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
                var messages = try await Self.read(1, from: &iterator)
                let snapshot = messages[0]
                #expect(snapshot["type"] as? String == "snapshot")
                #expect(snapshot["seq"] as? Int == 2)
                #expect((snapshot["sessions"] as? [[String: Any]])?.first?["id"] as? String == "s1")
                try await Self.post(ingest, session: "s1", sequences: 3...4)
                messages = try await Self.read(3, from: &iterator)
                #expect(messages.map { $0["type"] as? String } == ["event", "event", "session"])
                #expect(messages.map { $0["seq"] as? Int } == [3, 4, 4])
                let event = try #require(messages[0]["event"] as? [String: Any])
                #expect(event["kind"] as? String == "tool_result")
                #expect(event["sessionId"] as? String == "s1")
                let session = try #require(messages[2]["session"] as? [String: Any])
                #expect((session["counters"] as? [String: Any])?["toolCalls"] as? Int == 4)
            }
        }
    }

    @Test("?since= replays what a reconnecting client missed, in order, without duplicates")
    func resume() async throws {
        try await withSink { _, ingest, api in
            try await Self.post(ingest, session: "s1", sequences: 1...3)
            // The client saw up to seq 1, then slept while 4 more events arrived.
            try await Self.post(ingest, session: "s2", sequences: 1...2)
            try await api.ws("/ws?since=1") { inbound, _, _ in
                var iterator = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
                let messages = try await Self.read(5, from: &iterator)
                #expect(messages[0]["type"] as? String == "snapshot")
                #expect(messages[0]["replayTruncated"] as? Bool == false)
                #expect(messages.dropFirst().map { $0["seq"] as? Int } == [2, 3, 4, 5])
                #expect(messages.dropFirst().allSatisfy { $0["type"] as? String == "event" })
                try await Self.post(ingest, session: "s2", sequences: 3...3)
                let live = try await Self.read(1, from: &iterator)
                #expect(live[0]["seq"] as? Int == 6)
            }
        }
    }

    @Test("a cross-site page cannot open the feed; a page of this origin and non-browser clients can")
    func origin() {
        func request(origin: String?) -> Request {
            var fields: HTTPFields = [:]
            if let origin { fields[.origin] = origin }
            return Request(
                head: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1:4320", path: "/ws", headerFields: fields),
                body: RequestBody(buffer: ByteBuffer()))
        }
        #expect(LiveRoutes.originAllowed(request(origin: nil)))
        #expect(LiveRoutes.originAllowed(request(origin: "http://127.0.0.1:4320")))
        #expect(!LiveRoutes.originAllowed(request(origin: "https://evil.example")))
        #expect(!LiveRoutes.originAllowed(request(origin: "http://127.0.0.1:9999")))
        #expect(!LiveRoutes.originAllowed(request(origin: "null")))
        #expect(LiveRoutes.originAllowed(request(origin: "ws://127.0.0.1")))
        #expect(!LiveRoutes.originAllowed(request(origin: "ws://evil.example")))
    }

    @Test("frames: one message as itself, several in order as batches bounded in count and bytes")
    func frames() throws {
        let small = (1...3).map { LiveMessage(eventSeq: Int64($0), text: #"{"type":"event","seq":\#($0)}"#) }
        #expect(LiveMessage.frames([]) == [])
        #expect(LiveMessage.frames([small[0]]) == [small[0].text])
        let batch = try #require(LiveMessage.frames(small).first)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(batch.utf8)) as? [String: Any])
        #expect(decoded["type"] as? String == "batch")
        #expect((decoded["messages"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } == [1, 2, 3])
        let many = (1...1200).map { LiveMessage(eventSeq: Int64($0), text: #"{"seq":\#($0)}"#) }
        #expect(LiveMessage.frames(many).count == 3)  // 500 + 500 + 200
        let big = LiveMessage(eventSeq: nil, text: String(repeating: "x", count: LiveMessage.maxBatchBytes))
        #expect(LiveMessage.frames([small[0], big, small[1]]).count == 3)
    }

    @Test("mailbox: everything waiting in one take, waits when empty, ends on finish and on cancellation")
    func mailbox() async throws {
        let mailbox = LiveMailbox(capacity: 10)
        #expect(mailbox.post([LiveMessage(eventSeq: 1, text: "a")]))
        #expect(mailbox.post([LiveMessage(eventSeq: 2, text: "b"), LiveMessage(eventSeq: 3, text: "c")]))
        #expect(await mailbox.take()?.map(\.text) == ["a", "b", "c"])
        let waiting = Task { await mailbox.take()?.map(\.text) }
        mailbox.post([LiveMessage(eventSeq: 4, text: "d")])
        #expect(await waiting.value == ["d"])
        mailbox.post([LiveMessage(eventSeq: 5, text: "e")])
        mailbox.finish()
        #expect(await mailbox.take()?.map(\.text) == ["e"])  // pending messages still go out
        #expect(await mailbox.take() == nil)
        #expect(!mailbox.post([LiveMessage(eventSeq: 6, text: "f")]))

        let idle = LiveMailbox(capacity: 10)
        let cancelled = Task { await idle.take() }
        cancelled.cancel()
        #expect(await cancelled.value == nil)
    }

    @Test("a client that falls behind is cut off and told to resync; others and ingest are unaffected")
    func slowClientResync() async throws {
        let hub = LiveHub(latestSeq: 0, bufferSize: 4, metrics: SinkMetrics())
        let slow = await hub.subscribe()
        func update(_ seqs: ClosedRange<Int64>) -> SessionUpdate {
            SessionUpdate(
                events: seqs.map {
                    StoredEvent(
                        seq: $0, receivedAt: .testEpoch,
                        event: SessionEvent(
                            sessionID: "s", agent: .claudeCode, kind: .other, name: "e", source: .logs, time: .testEpoch,
                            dedupKey: UInt64($0)))
                }, sessions: [])
        }
        await hub.committed(update(1...3))
        let fast = await hub.subscribe()
        await hub.committed(update(4...6))
        #expect(slow.mailbox.overflowed)
        #expect(!fast.mailbox.overflowed)
        // The slow client is cut off: it resyncs from the store (?since=) instead of getting more.
        #expect(await slow.mailbox.take() == nil)
        #expect(slow.mailbox.overflowed)
        // The fast one gets everything waiting in one take.
        #expect(await fast.mailbox.take()?.map(\.eventSeq) == [4, 5, 6])
        #expect(fast.seq == 3)
        await hub.unsubscribe(fast.id)
        await hub.unsubscribe(slow.id)
        #expect(await hub.clientCount == 0)
    }
}

/// The dashboard's files as the API port serves them.
@Suite("Dashboard files")
struct DashboardFilesTests {
    @Test("index.html for deep links, hashed assets cached for a year, CSP on everything, API 404s untouched")
    func dashboard() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
        let dist = directory.appendingPathComponent("dist")
        try FileManager.default.createDirectory(at: dist.appendingPathComponent("assets"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("<html>shell</html>".utf8).write(to: dist.appendingPathComponent("index.html"))
        try Data("console.log(1)".utf8).write(to: dist.appendingPathComponent("assets/main-ABC123.js"))
        var configuration = SinkConfiguration()
        configuration.dataDirectory = directory.appendingPathComponent("data").path
        configuration.dashboardDirectory = dist.path
        let sink = try await Sink(configuration: configuration, clock: ManualWallClock(.testEpoch), logger: Logger(label: "test"))
        let app = Application(router: sink.apiRouter())
        try await app.test(.live) { client in
            try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "<html>shell</html>")
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            }
            try await client.execute(uri: "/sessions/abc", method: .get, headers: [.accept: "text/html,application/xhtml+xml"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "<html>shell</html>")
            }
            try await client.execute(uri: "/assets/main-ABC123.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
            }
            try await client.execute(uri: "/assets/missing.js", method: .get, headers: [.accept: "text/html"]) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/sessions/nope", method: .get, headers: [.accept: "text/html"]) {
                #expect($0.status == .notFound)
            }
        }
    }
}
