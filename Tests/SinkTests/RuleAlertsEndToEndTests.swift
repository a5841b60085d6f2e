import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SinkApp
import SinkCore
import SinkOTLP
import SinkTesting
import SwiftProtobuf
import Testing

/// OTLP in through the receiver → the rule engine (default rule pack) → the alert in `/api/alerts`,
/// acknowledged through the API, silences created and deleted.
@Suite("Rule alerts end to end")
struct RuleAlertsEndToEndTests {
    static let rulesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("rules").path

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    static func processRecord(_ attributes: [(String, Any)]) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        record.body.stringValue = "observatory.process"
        record.timeUnixNano = 1_790_000_000_000_000_000
        record.attributes = OTLPBuilders.attributes(attributes)
        return record
    }

    @Test("a crash reported over OTLP shows up as a firing agent-crashed alert; ack and silences work")
    func crashAlert() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SinkConfiguration()
        configuration.dataDirectory = directory.path
        configuration.rulesDirectory = Self.rulesDirectory
        let sink = try await Sink(configuration: configuration, clock: ManualWallClock(.testEpoch), logger: Logger(label: "test"))
        let request = OTLPBuilders.logsRequest(
            resource: [("service.name", "observatory")], scope: "observatory",
            records: [
                Self.processRecord([("process.event", "start"), ("observatory.agent.id", "run-1"), ("observatory.agent.name", "web")]),
                Self.processRecord([("process.event", "exit"), ("process.exit_code", 2), ("observatory.agent.id", "run-1")]),
            ])
        let body = try request.serializedData()
        let ingestApp = Application(
            router: sink.ingestRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: [sink.tracker, sink.rules])
        try await ingestApp.test(.live) { ingest in
            try await ingest.execute(uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: body)) {
                #expect($0.status == .ok)
            }
            let apiApp = Application(router: sink.apiRouter())
            try await apiApp.test(.live) { api in
                var alerts: [[String: Any]] = []
                for _ in 0..<100 where alerts.isEmpty {
                    try await api.execute(uri: "/api/alerts", method: .get) { response in
                        alerts = try #require(try Self.json(response.body)["alerts"] as? [[String: Any]])
                    }
                    if alerts.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
                }
                let alert = try #require(alerts.first)
                #expect(alert["ruleID"] as? String == "agent-crashed")
                #expect(alert["state"] as? String == "firing")
                #expect(alert["sessionID"] as? String == "run-1")
                #expect(alert["title"] as? String == "💥 web crashed")
                #expect((alert["body"] as? String)?.contains("exited with status 2") == true)

                try await api.execute(uri: "/api/alerts/agent-crashed%7Crun-1/ack", method: .post) { response in
                    #expect(response.status == .ok)
                    let object = try Self.json(response.body)
                    #expect(object["acknowledged"] as? Bool == true)
                }
                try await api.execute(uri: "/api/alerts/nope/ack", method: .post) { #expect($0.status == .notFound) }

                try await api.execute(uri: "/api/rules", method: .get) { response in
                    let rules = try #require(try Self.json(response.body)["rules"] as? [[String: Any]])
                    #expect(rules.count == 9)
                }

                var silenceID = ""
                try await api.execute(
                    uri: "/api/silences", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"rule": "agent-stalled", "for": "1h", "comment": "lunch"}"#)
                ) { response in
                    #expect(response.status == .created)
                    silenceID = try #require(try Self.json(response.body)["id"] as? String)
                }
                try await api.execute(
                    uri: "/api/silences", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"rule": "x"}"#)
                ) { #expect($0.status == .badRequest) }
                try await api.execute(uri: "/api/silences", method: .get) { response in
                    let object = try Self.json(response.body)
                    #expect((object["silences"] as? [[String: Any]])?.count == 1)
                }
                try await api.execute(uri: "/api/silences/\(silenceID)", method: .delete) { #expect($0.status == .noContent) }
                try await api.execute(uri: "/api/silences/\(silenceID)", method: .delete) { #expect($0.status == .notFound) }
            }
        }
    }
}
