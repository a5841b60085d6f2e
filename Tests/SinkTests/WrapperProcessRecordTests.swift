import Foundation
import SinkCore
import SinkNormalize
import SinkOTLP
import SinkTesting
import Testing

/// The `observatory.process` records as `observatory run` sends them (OTLP/JSON, the exact shape
/// of `ProcessRecord.exportRequestBody`) map to process start / exit facts in the agent's session.
@Suite struct WrapperProcessRecordTests {
    static func record(_ event: String, _ extra: String) -> String {
        #"{"timeUnixNano":"1790000000000000000","observedTimeUnixNano":"1790000000000000000","severityNumber":9,"severityText":"INFO","eventName":"observatory.process","body":{"stringValue":"observatory.process"},"attributes":[{"key":"process.event","value":{"stringValue":""#
            + event + #""}},{"key":"process.pid","value":{"intValue":"4242"}}"# + extra
            + #",{"key":"observatory.agent.id","value":{"stringValue":"a1"}},{"key":"observatory.agent.name","value":{"stringValue":"fix bug"}},{"key":"observatory.agent.kind","value":{"stringValue":"claude-code"}}]}"#
    }

    static let body = #"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"observatory"}},{"key":"observatory.agent.id","value":{"stringValue":"a1"}},{"key":"observatory.agent.name","value":{"stringValue":"fix bug"}}]},"scopeLogs":[{"scope":{"name":"observatory"},"logRecords":["#
        + [
            record("start", #",{"key":"process.cwd","value":{"stringValue":"/src/app"}}"#),
            record("sample", #",{"key":"process.cpu_percent","value":{"doubleValue":87.5}},{"key":"process.rss_bytes","value":{"intValue":"123456789"}}"#),
            record("exit", #",{"key":"process.exit_signal","value":{"intValue":"9"}},{"key":"process.stop_reason","value":{"stringValue":"kill"}},{"key":"process.cwd","value":{"stringValue":"/src/app"}}"#),
            record("exit", #",{"key":"process.exit_code","value":{"intValue":"3"}}"#),
        ].joined(separator: ",") + "]}]}]}"

    @Test func mapsStartSampleAndExit() throws {
        let request = try OTLPRequest(signal: .logs, encoding: .json, body: Data(Self.body.utf8))
        let events = Normalizer().normalize(request, receivedAt: .testEpoch).events
        #expect(events.map(\.kind) == [.processStart, .other, .processExit, .processExit])
        #expect(events.allSatisfy { $0.sessionID == "a1" })
        #expect(events.allSatisfy { $0.agent == .claudeCode })
        #expect(events.allSatisfy { $0.name == "observatory.process" })
        #expect(events[0].facts.cwd == "/src/app")
        #expect(events[0].facts.sessionName == "fix bug")
        #expect(events[1].attributes["process.cpu_percent"] != nil)
        #expect(events[2].facts.exitSignal == 9)
        #expect(events[2].facts.exitCode == nil)
        #expect(events[3].facts.exitCode == 3)
    }
}
