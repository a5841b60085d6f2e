import Foundation
import SinkOTLP
import SinkTesting
import SwiftProtobuf
import Testing

@Suite("OTLP decoding")
struct OTLPDecodingTests {
    @Test("protobuf round trip keeps every record")
    func protobufRoundTrip() throws {
        let request = OTLPBuilders.logsRequest(records: [
            OTLPBuilders.claudeEvent("user_prompt", session: "s1", sequence: 1),
            OTLPBuilders.claudeEvent("api_request", session: "s1", sequence: 2, [("cost_usd", 0.5)]),
        ])
        let decoded = try OTLPRequest(signal: .logs, encoding: .protobuf, body: try request.serializedData())
        #expect(decoded.recordCount == 2)
        guard case .logs(let logs) = decoded else { Issue.record("not logs"); return }
        #expect(logs == OTLPLogBatch(request))
    }

    @Test("OTLP/JSON: hex ids, int64 as strings, enums as numbers, camelCase and snake_case")
    func jsonMapping() throws {
        let request = try Fixture.request("claude-code-logs.json", signal: .logs)
        let logs = try Fixture.logsMessage("claude-code-logs.json")
        guard case .logs(let batch) = request else { Issue.record("not logs"); return }
        #expect(batch == OTLPLogBatch(logs))
        #expect(batch.resources[0].scopes[0].records[2].traceID.hexString == "5b8efff798038103d269b633813fc60c")
        let records = logs.resourceLogs[0].scopeLogs[0].logRecords
        #expect(records.count == 6)
        #expect(records[0].timeUnixNano == 1_790_000_000_000_000_000)
        // snake_case field names and hex ids (restored from the base64 reading).
        #expect(records[2].timeUnixNano == 1_790_000_002_000_000_000)
        #expect(records[2].traceID.hexString == "5b8efff798038103d269b633813fc60c")
        #expect(records[2].spanID.hexString == "eee19b7ec3c1b174")
        #expect(records[4].severityNumber == .error)
    }

    @Test("OTLP/JSON spans: hex trace, span and parent ids; status code as a number")
    func jsonSpans() throws {
        let request = try Fixture.request("genai-traces.json", signal: .traces)
        guard case .traces(let traces) = request else { Issue.record("not traces"); return }
        let spans = traces.resourceSpans[0].scopeSpans[0].spans
        #expect(spans[1].traceID.hexString == "0af7651916cd43dd8448eb211c80319c")
        #expect(spans[1].parentSpanID.hexString == "b7ad6b7169203331")
        #expect(spans[1].status.code == .error)
    }

    @Test("unknown JSON fields are ignored")
    func unknownFields() throws {
        let json = #"{"resourceLogs":[{"futureField":1,"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"},"newThing":{"a":1}}]}]}]}"#
        let request = try OTLPRequest(signal: .logs, encoding: .json, body: Data(json.utf8))
        #expect(request.recordCount == 1)
    }

    @Test("garbage, truncated protobuf and invalid JSON are decoding errors", arguments: [
        (OTLPEncoding.protobuf, Data([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])),
        (OTLPEncoding.protobuf, Data([0x0A, 0x10, 0x01])),
        (OTLPEncoding.json, Data("{\"resourceLogs\": [".utf8)),
        (OTLPEncoding.json, Data("{\"resourceLogs\": 5}".utf8)),
        (OTLPEncoding.json, Data("not json".utf8)),
    ])
    func garbage(encoding: OTLPEncoding, body: Data) {
        #expect(throws: OTLPDecodingError.self) {
            try OTLPRequest(signal: .logs, encoding: encoding, body: body)
        }
    }

    @Test("a non-hex id is left as the sender encoded it")
    func nonHexID() {
        var id = Data(base64Encoded: "AAECAwQFBgcICQoLDA0ODw==")!
        let original = id
        OTLPHexIDs.restore(&id)
        #expect(id == original)
    }

    @Test("partial success answers carry the rejected count in the request's encoding")
    func partialSuccess() throws {
        let body = OTLPResponse.success(
            signal: .logs, encoding: .json, partialSuccess: OTLPPartialSuccess(rejected: 3, message: "bad ids"))
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("\"rejectedLogRecords\":\"3\""))
        let proto = try OTLPLogsResponse(
            serializedBytes: OTLPResponse.success(
                signal: .logs, encoding: .protobuf, partialSuccess: OTLPPartialSuccess(rejected: 3, message: "bad ids")))
        #expect(proto.partialSuccess.rejectedLogRecords == 3)
    }

    @Test("content types")
    func contentTypes() {
        #expect(OTLPEncoding(contentType: "application/x-protobuf") == .protobuf)
        #expect(OTLPEncoding(contentType: "application/json; charset=utf-8") == .json)
        #expect(OTLPEncoding(contentType: "text/plain") == nil)
    }
}
