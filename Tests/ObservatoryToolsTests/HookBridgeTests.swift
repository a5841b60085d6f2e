import Foundation
import ObservatoryControl
import ObservatoryTools
import Testing

@Suite("Hook bridge: arguments, spool, unreachable sink")
struct HookBridgeTests {
    @Test("arguments: Codex payload as the last argument, unknown flags ignored")
    func invocation() {
        let codex = HookBridge.Invocation(arguments: ["--codex", "--future", "{\"type\":\"agent-turn-complete\"}"])
        #expect(codex.agent == .codex)
        #expect(codex.argumentPayload == "{\"type\":\"agent-turn-complete\"}")
        let other = HookBridge.Invocation(arguments: ["--endpoint", "http://127.0.0.1:9", "--agent=gemini", "--spool=/x"])
        #expect(other.endpoint == "http://127.0.0.1:9")
        #expect(other.agent == .geminiCLI)
        #expect(other.spoolPath == "/x")
        #expect(HookBridge.Invocation(arguments: []).agent == nil)
    }

    @Test("endpoints", arguments: [
        ("http://127.0.0.1:4318", "127.0.0.1", 4318, ""), ("localhost:1234/", "localhost", 1234, ""),
        ("http://[::1]:4318/otel/", "::1", 4318, "/otel"), ("http://sink", "sink", 80, ""),
    ])
    func endpoints(_ text: String, _ host: String, _ port: Int, _ base: String) throws {
        let endpoint = try #require(HTTPEndpoint(text))
        #expect(endpoint.host == host && endpoint.port == port && endpoint.basePath == base)
        #expect(endpoint.path("/v1/logs") == base + "/v1/logs")
    }

    @Test("rejected endpoints", arguments: ["https://x:1", "http://:80", "http://h:0", "http://h:port"])
    func badEndpoints(_ text: String) {
        #expect(HTTPEndpoint(text) == nil)
    }

    @Test("sink refusing connections: spooled (0600), then taken out whole")
    func spoolWhenDown() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let spool = HookSpool(path: home.path + "/state/observatory/hook-spool.jsonl")
        let bridge = HookBridge(endpoint: HTTPEndpoint("http://127.0.0.1:1")!, spool: spool)
        let one = HookRecord(timeUnixNano: 1, attributes: [("hook.event", .string("Stop"))])
        let two = HookRecord(timeUnixNano: 2, attributes: [("hook.event", .string("SessionEnd"))])
        guard case .spooled(1, _) = bridge.deliver(one) else { Issue.record("not spooled"); return }
        guard case .spooled(2, _) = bridge.deliver(two) else { Issue.record("not spooled"); return }
        let attributes = try FileManager.default.attributesOfItem(atPath: spool.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let lines = spool.takeAll()
        #expect(lines.compactMap { try? JSONValue.parse($0).value }.compactMap(HookRecord.init(otlpJSON:)) == [one, two])
        #expect(spool.takeAll().isEmpty)
    }

    @Test("the spool is bounded: oldest lines go first; torn lines are dropped")
    func bounded() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let spool = HookSpool(path: home.path + "/spool.jsonl", maxBytes: 1000)
        let lines = (0..<100).map { HookRecord(timeUnixNano: UInt64($0), attributes: []).otlpJSON.compactText }
        for line in lines { spool.append([line]) }
        let kept = spool.peek()
        #expect(kept.reduce(0) { $0 + $1.utf8.count + 1 } <= 1000)
        #expect(kept.last == lines.last)
        #expect(kept.first != lines.first)
        try home.write("spool.jsonl", (home.read("spool.jsonl") ?? "") + "{\"torn\":")
        #expect(spool.takeAll() == kept)
    }
}

@Suite("Hook bridge: batches")
struct HookBridgeBatchTests {
    @Test("a big spool goes out a bounded batch per call; the rest stays spooled")
    func batches() throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        let spool = HookSpool(path: home.path + "/spool.jsonl", maxBytes: 4 << 20)
        let filler = String(repeating: "x", count: 400)
        let lines = (0..<1500).map {
            HookRecord(timeUnixNano: UInt64($0), attributes: [("pad", .string(filler))]).otlpJSON.compactText
        }
        spool.append(lines)
        let total = lines.reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(total > HookBridge.maxBatchBytes * 2)
        // Refused connection: everything goes back, nothing is lost.
        let down = HookBridge(endpoint: HTTPEndpoint("http://127.0.0.1:1")!, spool: spool)
        guard case .spooled(let sent, _) = down.deliver(nil) else { Issue.record("not spooled"); return }
        #expect(sent < lines.count)
        #expect(Set(spool.peek()) == Set(lines))
    }
}
