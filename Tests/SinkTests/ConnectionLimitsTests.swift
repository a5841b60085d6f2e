import Foundation
import Logging
import NIOCore
import NIOEmbedded
import SinkAPI
import SinkCore
import Testing

@testable import SinkApp

/// Slow and greedy clients: the request-head deadline, the live-client cap, their configuration.
/// (End to end against the binary: tests/e2e/test_slow_clients.py.)
@Suite("Connection limits")
struct ConnectionLimitsTests {
    @Test("the request head ends at the first empty line, CRLF or bare LF, however the bytes are split")
    func headScanner() {
        let head = Array("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n".utf8)
        for split in 0...head.count {
            var scanner = RequestHeadScanner()
            let first = scanner.scan(head[..<split])
            let second = scanner.scan(head[split...])
            #expect(first == (split == head.count))
            #expect(second)
        }
        var lf = RequestHeadScanner()
        let lfDone = lf.scan(Array("GET / HTTP/1.1\nHost: x\n\n".utf8))
        #expect(lfDone)
        var partial = RequestHeadScanner()
        let partialDone = partial.scan(Array("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: \r\r\n".utf8))
        #expect(!partialDone)
        // Empty lines before the request line are not the end of a head (RFC 9112 §2.2).
        var leading = RequestHeadScanner()
        let afterEmpty = leading.scan(Array("\r\n\r\n\n".utf8))
        let afterRequestLine = leading.scan(Array("GET / HTTP/1.1\r\n".utf8))
        let afterEnd = leading.scan(Array("\r\n".utf8))
        #expect(!afterEmpty && !afterRequestLine && afterEnd)
    }

    static func channel(timeout: TimeAmount) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RequestHeadTimeoutHandler(timeout: timeout, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("a connection that trickles its request head is closed at the deadline")
    func trickleClosed() throws {
        let channel = try Self.channel(timeout: .seconds(2))
        let loop = channel.embeddedEventLoop
        for byte in "GET /api/sessions HTTP/1.1\r\nX-Pad: aaaa".utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            loop.advanceTime(by: .milliseconds(40))
        }
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(500))
        #expect(!channel.isActive)
        // Bytes before the close were passed on unchanged.
        var passed = ByteBuffer()
        while var part = try channel.readInbound(as: ByteBuffer.self) { passed.writeBuffer(&part) }
        #expect(String(buffer: passed) == "GET /api/sessions HTTP/1.1\r\nX-Pad: aaaa")
    }

    @Test("a connection that sends nothing is closed at the deadline")
    func silentClosed() throws {
        let channel = try Self.channel(timeout: .seconds(2))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test("once the head is complete the handler leaves the pipeline and the deadline no longer applies")
    func completeHeadKeepsConnection() throws {
        let channel = try Self.channel(timeout: .seconds(2))
        try channel.writeInbound(ByteBuffer(string: "GET /ws HTTP/1.1\r\nHost: x\r\n"))
        try channel.writeInbound(ByteBuffer(string: "\r\n\u{81}\u{05}hello"))
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: RequestHeadTimeoutHandler.self) }
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive)
        #expect(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "GET /ws HTTP/1.1\r\nHost: x\r\n")
        #expect(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "\r\n\u{81}\u{05}hello")
        _ = try channel.finish()
    }

    @Test("the live hub takes at most the limit of clients; a slot freed can be taken again")
    func liveClientCap() async throws {
        let hub = LiveHub(latestSeq: 0, metrics: SinkMetrics())
        var subscriptions: [LiveHub.Subscription] = []
        for _ in 0..<3 {
            subscriptions.append(try #require(await hub.subscribe(ifFewerThan: 3)))
        }
        #expect(await hub.subscribe(ifFewerThan: 3) == nil)
        #expect(await hub.clientCount == 3)
        await hub.unsubscribe(subscriptions.removeFirst().id)
        #expect(await hub.subscribe(ifFewerThan: 3) != nil)
        #expect(await hub.subscribe(ifFewerThan: 3) == nil)
    }

    @Test("idle_timeout and max_live_clients from YAML, with defaults and validation")
    func configuration() throws {
        var configuration = SinkConfiguration(environment: [:])
        #expect(configuration.ingestIdleTimeout == .seconds(60))
        #expect(configuration.apiIdleTimeout == .seconds(60))
        #expect(configuration.maxLiveClients == 64)
        try configuration.apply(
            yaml: "ingest: { idle_timeout: 15s }\napi: { idle_timeout: 2m, max_live_clients: 8 }\n", file: "limits.yaml")
        #expect(configuration.ingestIdleTimeout == .seconds(15))
        #expect(configuration.apiIdleTimeout == .seconds(120))
        #expect(configuration.maxLiveClients == 8)
        configuration.dashboardDirectory = nil
        #expect(configuration.validate().isEmpty)
        configuration.maxLiveClients = 0
        configuration.ingestIdleTimeout = .milliseconds(500)
        let problems = configuration.validate()
        #expect(problems.contains("api.max_live_clients must be at least 1"))
        #expect(problems.contains("ingest.idle_timeout must be at least 1s"))
        #expect(throws: ConfigurationError.self) { try configuration.apply(yaml: "api: { idle_timeout: soon }\n", file: "bad.yaml") }
    }
}
