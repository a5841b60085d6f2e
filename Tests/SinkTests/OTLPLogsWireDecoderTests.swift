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

/// ``OTLPLogsWireDecoder`` against swift-protobuf: for every input both throw the same
/// `BinaryDecodingError`, or both decode the same request. swift-protobuf decodes with
/// `discardUnknownFields`, since the wire decoder does not keep unknown fields (its one
/// documented difference).
@Suite("OTLPLogsWireDecoder")
struct OTLPLogsWireDecoderTests {
    // MARK: The oracle

    static let discardUnknown: BinaryDecodingOptions = {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        return options
    }()

    enum Outcome {
        case decoded(OTLPLogsRequest)
        case failed(BinaryDecodingError)
    }

    static func wire(_ body: Data) -> Outcome {
        do throws(BinaryDecodingError) {
            return .decoded(try OTLPLogsWireDecoder.decode(body))
        } catch {
            return .failed(error)
        }
    }

    static func swiftProtobuf(_ body: Data, options: BinaryDecodingOptions = discardUnknown) -> Outcome {
        do {
            return .decoded(try OTLPLogsRequest(serializedBytes: body, options: options))
        } catch let error as BinaryDecodingError {
            return .failed(error)
        } catch {
            Issue.record("swift-protobuf threw \(error)")
            return .failed(.internalExtensionError)
        }
    }

    /// Equal values, where a NaN double equals a NaN of the same bits: the same serialization
    /// (bytes of strings, bits of doubles, set but empty messages), and `==` unless a NaN is in
    /// the way.
    static func same(_ a: OTLPLogsRequest, _ b: OTLPLogsRequest) -> Bool {
        guard (try? a.serializedData()) == (try? b.serializedData()) else { return false }
        return a == b || a.textFormatString().contains("nan")
    }

    /// Decodes `body` with both decoders and records an issue when they disagree. Returns the
    /// wire decoder's outcome.
    @discardableResult
    static func expectAgreement(
        _ body: Data, _ label: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome {
        let mine = wire(body)
        let theirs = swiftProtobuf(body)
        expectBatchAgreement(body, theirs, label(), sourceLocation: sourceLocation)
        switch (mine, theirs) {
        case (.decoded(let a), .decoded(let b)):
            if !same(a, b) {
                Issue.record(
                    "different values for \(label()) \(body.base64EncodedString()):\nwire: \(a)\nswift-protobuf: \(b)",
                    sourceLocation: sourceLocation)
            }
        case (.failed(let a), .failed(let b)):
            if a != b {
                Issue.record(
                    "different errors for \(label()) \(body.base64EncodedString()): wire \(a), swift-protobuf \(b)",
                    sourceLocation: sourceLocation)
            }
        default:
            Issue.record(
                "disagreement for \(label()) \(body.base64EncodedString()): wire \(mine), swift-protobuf \(theirs)",
                sourceLocation: sourceLocation)
        }
        return mine
    }

    /// The batch decoder (``OTLPLogsWireDecoder/decodeBatch(_:)``, the receiver's path) against
    /// swift-protobuf's outcome: the same error, or the batch of swift-protobuf's request.
    static func expectBatchAgreement(_ body: Data, _ theirs: Outcome, _ label: String, sourceLocation: SourceLocation) {
        let mine: Result<OTLPLogBatch, BinaryDecodingError> = Result { () throws(BinaryDecodingError) in
            try OTLPLogsWireDecoder.decodeBatch(body)
        }
        switch (mine, theirs) {
        case (.success(let a), .decoded(let b)):
            let expected = OTLPLogBatch(b)
            // `==` unless a NaN double is in the way; then their descriptions.
            if a != expected, String(describing: a) != String(describing: expected) || !String(describing: a).contains("nan") {
                Issue.record(
                    "different batches for \(label) \(body.base64EncodedString()):\nbatch: \(a)\nswift-protobuf: \(expected)",
                    sourceLocation: sourceLocation)
            }
        case (.failure(let a), .failed(let b)):
            if a != b {
                Issue.record("different errors for \(label): batch \(a), swift-protobuf \(b)", sourceLocation: sourceLocation)
            }
        default:
            Issue.record("disagreement for \(label) \(body.base64EncodedString()): batch \(mine), swift-protobuf \(theirs)", sourceLocation: sourceLocation)
        }
    }

    /// Agreement on the body itself, each of its prefixes, and single-byte changes at each offset.
    static func expectAgreementTruncatedAndMutated(_ body: Data, _ label: String, stride step: Int = 1) {
        let bytes = [UInt8](body)
        for length in Swift.stride(from: 0, through: bytes.count, by: step) {
            expectAgreement(Data(bytes[..<length]), "\(label) cut at \(length)")
        }
        for offset in Swift.stride(from: 0, to: bytes.count, by: step) {
            let original = bytes[offset]
            var mutations: Set<UInt8> = [0x00, 0xFF, 0x80, 0x7F, 0x0B, 0x0C, 0x0E, original ^ 0x01, original ^ 0x80, original &+ 1, original &- 1]
            mutations.remove(original)
            var mutated = bytes
            for value in mutations {
                mutated[offset] = value
                expectAgreement(Data(mutated), "\(label) with byte \(offset) = \(value)")
            }
        }
    }

    // MARK: Requests from the test builders and fixtures

    static var builderRequests: [OTLPLogsRequest] {
        [
            OTLPLogsRequest(),
            OTLPBuilders.logsRequest(records: []),
            OTLPBuilders.logsRequest(records: [OTLPBuilders.claudeEvent("user_prompt", session: "s1", sequence: 1)]),
            OTLPBuilders.logsRequest(records: [
                OTLPBuilders.claudeEvent("user_prompt", session: "s1", sequence: 1, [("prompt_length", 42), ("prompt", "héllo 🙂")]),
                OTLPBuilders.claudeEvent(
                    "api_request", session: "s1", sequence: 2,
                    [("cost_usd", 0.5), ("input_tokens", 1200), ("success", true), ("model", "claude-sonnet-4-5")]),
                OTLPBuilders.claudeEvent("tool_result", session: "s2", sequence: 3, [("tool_name", "Bash"), ("duration_ms", -1.5e300)]),
            ]),
            OTLPBuilders.logsRequest(resource: [], scope: "", records: [OTLPLogRecord()]),
        ]
    }

    @Test("requests from OTLPBuilders and the JSON fixtures decode as swift-protobuf decodes them")
    func builderAndFixtureRequests() throws {
        var requests = Self.builderRequests
        for name in ["claude-code-logs.json", "codex-logs.json", "gemini-cli-logs.json"] {
            requests.append(try Fixture.logsMessage(name))
        }
        for (index, request) in requests.enumerated() {
            let body = try request.serializedData()
            guard case .decoded(let decoded) = Self.expectAgreement(body, "request \(index)") else { continue }
            #expect(decoded == request)
        }
    }

    @Test("each prefix and single-byte mutation of a builder request")
    func truncationsAndMutations() throws {
        let request = Self.builderRequests[3]
        Self.expectAgreementTruncatedAndMutated(try request.serializedData(), "builder request")
    }

    // MARK: Randomized requests

    @Test("randomized requests: every AnyValue kind, nesting, empty and long strings, many resources and scopes")
    func randomizedRequests() throws {
        var random = SplitMix64(seed: 0x0B5E_47A7)
        for index in 0..<250 {
            let request = RandomLogs.request(&random)
            let body = try request.serializedData()
            guard case .decoded(let decoded) = Self.expectAgreement(body, "random request \(index)") else {
                Issue.record("random request \(index) did not decode")
                continue
            }
            #expect(Self.same(decoded, request), "random request \(index)")
        }
    }

    @Test("prefixes and mutations of randomized requests")
    func randomizedTruncationsAndMutations() throws {
        var random = SplitMix64(seed: 7)
        for index in 0..<6 {
            let body = try RandomLogs.request(&random, small: true).serializedData()
            Self.expectAgreementTruncatedAndMutated(body, "random request \(index)", stride: max(1, body.count / 600))
        }
    }

    @Test("random byte strings")
    func randomBytes() {
        var random = SplitMix64(seed: 99)
        // Bytes biased towards the tags of the logs request, so the soup reaches nested messages.
        let common: [UInt8] = [0x0A, 0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x09, 0x10, 0x18, 0x21, 0x45, 0x4A, 0x52, 0x59, 0x62, 0x0B, 0x0C, 0x80, 0xFF, 0x00, 0x01, 0x02, 0x03]
        for _ in 0..<20_000 {
            let count = Int(random.next() % 48)
            let bytes = (0..<count).map { _ in
                random.next() % 2 == 0 ? common[Int(random.next() % UInt64(common.count))] : UInt8(truncatingIfNeeded: random.next())
            }
            Self.expectAgreement(Data(bytes), "random bytes")
        }
    }

    // MARK: Seed corpus

    @Test("the otlp-protobuf fuzz corpus, its prefixes and mutations")
    func fuzzCorpus() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/otlp-protobuf")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names.sorted() {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            guard let signal = data.first else { continue }
            // Every body is a candidate logs request, whatever signal the first byte names.
            Self.expectAgreement(data, name)
            let body = Data(data.dropFirst())
            let outcome = Self.expectAgreement(body, name)
            if signal % 3 == 0 {
                guard case .decoded(let request) = outcome else {
                    Issue.record("\(name) is a logs request and should decode")
                    continue
                }
                // Corpus bodies made by the OpenTelemetry SDK have no fields the generated code
                // lacks; then even unknown fields agree.
                if case .decoded(let full) = Self.swiftProtobuf(body, options: BinaryDecodingOptions()) {
                    #expect(full == request)
                }
                // About 150 offsets per file keep the debug build's run short.
                Self.expectAgreementTruncatedAndMutated(body, name, stride: max(1, body.count / 150))
            }
        }
    }

    // MARK: Merging

    @Test("a singular message field twice is merged; scalars: the last wins; repeated: appended")
    func merging() throws {
        let first = Wire.logRecord(
            Wire.fixed64(1, 100) + Wire.varintField(2, 9) + Wire.string(3, "INFO")
                + Wire.message(5, Wire.message(5, Wire.message(1, Wire.varintField(3, 1))))  // body: array [1]
                + Wire.message(6, Wire.string(1, "a") + Wire.message(2, Wire.string(1, "x")))
                + Wire.varintField(7, 3) + Wire.fixed32(8, 1) + Wire.bytes(9, [1, 2]))
        let second = Wire.logRecord(
            Wire.fixed64(1, 200)
                + Wire.message(5, Wire.message(5, Wire.message(1, Wire.varintField(3, 2))))  // body: array [2]
                + Wire.message(6, Wire.string(1, "b")) + Wire.fixed32(8, 2))
        let resource1 = Wire.message(1, Wire.message(1, Wire.string(1, "r1")) + Wire.varintField(2, 5))
        let resource2 = Wire.message(1, Wire.message(1, Wire.string(1, "r2")))
        let scope1 = Wire.message(1, Wire.string(1, "scope") + Wire.string(2, "1.0") + Wire.message(3, Wire.string(1, "s1")))
        let scope2 = Wire.message(1, Wire.string(2, "2.0") + Wire.message(3, Wire.string(1, "s2")))
        // The two records as one LogRecord (concatenation is merging), then a second record.
        let scopeLogs = Wire.message(2, scope1 + Wire.message(2, first + second) + scope2 + Wire.message(2, second))
        let body = Data(Wire.message(1, resource1 + scopeLogs + resource2))

        guard case .decoded(let request) = Self.expectAgreement(body, "merged fields") else {
            Issue.record("merged fields did not decode")
            return
        }
        let resourceLogs = try #require(request.resourceLogs.first)
        #expect(resourceLogs.resource.attributes.map(\.key) == ["r1", "r2"])
        #expect(resourceLogs.resource.droppedAttributesCount == 5)
        let scopeLogsValue = try #require(resourceLogs.scopeLogs.first)
        #expect(scopeLogsValue.scope.name == "scope")
        #expect(scopeLogsValue.scope.version == "2.0")
        #expect(scopeLogsValue.scope.attributes.map(\.key) == ["s1", "s2"])
        #expect(scopeLogsValue.logRecords.count == 2)
        let record = try #require(scopeLogsValue.logRecords.first)
        #expect(record.timeUnixNano == 200)
        #expect(record.severityNumber == .info)
        #expect(record.severityText == "INFO")
        #expect(record.body.arrayValue.values.map(\.intValue) == [1, 2])
        #expect(record.attributes.map(\.key) == ["a", "b"])
        #expect(record.attributes[0].value.stringValue == "x")
        #expect(!record.attributes[1].hasValue)
        #expect(record.droppedAttributesCount == 3)
        #expect(record.flags == 2)
        #expect(record.traceID == Data([1, 2]))
    }

    @Test("AnyValue: the last member wins, an array or kvlist after one of its kind merges into it", arguments: [
        // (AnyValue fields in order, expected value)
        (Wire.string(1, "a") + Wire.varintField(3, 7), OTLPAnyValue.OneOf_Value.intValue(7)),
        (Wire.string(1, "a") + Wire.message(5, []), .arrayValue(.init())),
        (Wire.message(5, Wire.message(1, Wire.string(1, "x"))) + Wire.message(6, []), .kvlistValue(.init())),
        (Wire.message(6, Wire.message(1, Wire.string(1, "k1"))) + Wire.message(6, Wire.message(1, Wire.string(1, "k2"))),
         .kvlistValue(OTLPBuilders.kvlist(["k1", "k2"]))),
        (Wire.message(5, Wire.message(1, Wire.string(1, "x"))) + Wire.string(1, "s") + Wire.message(5, []),
         .arrayValue(.init())),
        (Wire.varintField(2, 0x100) + Wire.fixed64(4, 0x3FF0_0000_0000_0000), .doubleValue(1)),
        (Wire.fixed64(4, 0) + Wire.varintField(2, 0x100), .boolValue(true)),
        (Wire.varintField(3, UInt64.max), .intValue(-1)),
        (Wire.bytes(7, []) + Wire.string(1, ""), .stringValue("")),
        (Wire.string(1, "") + Wire.bytes(7, []), .bytesValue(Data())),
        // Another wire type for a member is an unknown field: the value stays.
        (Wire.message(5, Wire.message(1, Wire.varintField(3, 1))) + Wire.varintField(5, 1) + Wire.fixed32(1, 1),
         .arrayValue(OTLPBuilders.array([1]))),
    ] as [([UInt8], OTLPAnyValue.OneOf_Value)])
    func anyValueOneof(fields: [UInt8], expected: OTLPAnyValue.OneOf_Value) throws {
        let body = Data(Wire.logRecordRequest(Wire.message(5, fields)))
        guard case .decoded(let request) = Self.expectAgreement(body) else {
            Issue.record("did not decode")
            return
        }
        #expect(request.resourceLogs[0].scopeLogs[0].logRecords[0].body.value == expected)
    }

    @Test("enums keep unknown numbers, after truncation to 32 bits; uint32 fields are truncated")
    func enumsAndTruncation() throws {
        let cases: [(UInt64, Opentelemetry_Proto_Logs_V1_SeverityNumber)] = [
            (0, .unspecified), (17, .error), (24, .fatal4), (25, .UNRECOGNIZED(25)), (0xFFFF_FFFF, .UNRECOGNIZED(-1)),
            (UInt64(bitPattern: -3), .UNRECOGNIZED(-3)), (0x1_0000_0009, .info), (0x8000_0000, .UNRECOGNIZED(Int(Int32.min))),
        ]
        for (number, expected) in cases {
            let body = Data(Wire.logRecordRequest(Wire.varintField(2, number) + Wire.varintField(7, 0x1_0000_0005)))
            guard case .decoded(let request) = Self.expectAgreement(body, "severity \(number)") else {
                Issue.record("severity \(number) did not decode")
                continue
            }
            let record = request.resourceLogs[0].scopeLogs[0].logRecords[0]
            #expect(record.severityNumber == expected)
            #expect(record.droppedAttributesCount == 5)
        }
    }

    @Test("random concatenations of messages at every level (merging)")
    func randomMerges() throws {
        var random = SplitMix64(seed: 4242)
        for index in 0..<300 {
            let level = Int(random.next() % 8)
            let a = try RandomLogs.message(level: level, &random)
            let b = try RandomLogs.message(level: level, &random)
            let c = random.next() % 3 == 0 ? try RandomLogs.message(level: level, &random) : []
            let body = Data(Wire.wrap(level: level, a + b + c))
            guard case .decoded = Self.expectAgreement(body, "merge \(index) at level \(level)") else {
                Issue.record("merge \(index) did not decode")
                continue
            }
        }
    }

    // MARK: Unknown fields

    /// Fields no generated message has, of every wire type: varints (10 bytes too), fixed64,
    /// length-delimited (invalid UTF-8 is fine there), nested groups, fixed32, the largest field
    /// number (a 5-byte tag).
    static let unknownFields: [UInt8] =
        Wire.varintField(15, 300) + Wire.varintField(16, UInt64.max) + Wire.fixed64(17, 1) + Wire.bytes(18, [0xFF, 0xC0, 0x80])
        + Wire.group(19, Wire.varintField(1, 1) + Wire.group(2, Wire.bytes(3, [1]) + Wire.fixed32(4, 9)) + Wire.fixed64(5, 2))
        + Wire.fixed32(20, 3) + Wire.varintField(536_870_911, 1) + Wire.group(536_870_910, [])

    @Test("unknown fields of every wire type, and known fields with another wire type, are skipped at every level")
    func unknownFieldsEverywhere() throws {
        let u = Self.unknownFields
        let anyValue = u + Wire.string(1, "v") + u
        let keyValue = u + Wire.string(1, "k") + u + Wire.message(2, anyValue) + u
        let wrongWireTypes =
            Wire.varintField(1, 5) + Wire.fixed32(2, 7) + Wire.varintField(3, 1) + Wire.varintField(5, 1)
            + Wire.bytes(7, [1]) + Wire.bytes(8, [1, 2, 3, 4]) + Wire.fixed64(9, 1) + Wire.group(12, Wire.varintField(1, 1))
            + Wire.fixed64(6, 1) + Wire.fixed32(10, 1) + Wire.varintField(11, 1)
        let record =
            u + Wire.fixed64(1, 42) + wrongWireTypes + Wire.message(6, keyValue) + u + Wire.message(5, anyValue)
            + Wire.message(5, Wire.bytes(2, [1]) + Wire.fixed64(3, 1) + Wire.varintField(4, 1) + Wire.varintField(6, 1)) + u
        let scope = u + Wire.string(1, "scope") + Wire.varintField(2, 1) + Wire.message(3, keyValue) + Wire.fixed32(4, 1) + u
        let resource = u + Wire.message(1, keyValue) + Wire.bytes(2, []) + u
        let scopeLogs = u + Wire.message(1, scope) + Wire.message(2, record) + Wire.varintField(3, 1) + u
        let resourceLogs = u + Wire.message(1, resource) + Wire.message(2, scopeLogs) + Wire.fixed64(2, 1) + u
        let body = Data(u + Wire.message(1, resourceLogs) + Wire.varintField(1, 1) + u)

        guard case .decoded(let request) = Self.expectAgreement(body, "unknown fields") else {
            Issue.record("unknown fields did not decode")
            return
        }
        let decoded = request.resourceLogs[0].scopeLogs[0].logRecords[0]
        #expect(decoded.timeUnixNano == 42)
        #expect(decoded.body.stringValue == "v")
        #expect(decoded.attributes[0].key == "k")
        #expect(request.resourceLogs[0].resource.attributes[0].value.stringValue == "v")
        #expect(request.resourceLogs[0].scopeLogs[0].scope.name == "scope")
        // The documented difference: swift-protobuf keeps them as unknown fields.
        guard case .decoded(let full) = Self.swiftProtobuf(body, options: BinaryDecodingOptions()) else {
            Issue.record("swift-protobuf did not decode")
            return
        }
        #expect(!full.unknownFields.data.isEmpty)
        #expect(request.unknownFields.data.isEmpty)
        #expect(full != request)
    }

    // MARK: Malformed input

    @Test("malformed input: the same error as swift-protobuf", arguments: [
        ([0x00], BinaryDecodingError.malformedProtobuf),  // field number 0
        ([0x0E], .malformedProtobuf), ([0x0F], .malformedProtobuf),  // wire types 6, 7
        ([0x0C], .malformedProtobuf),  // end group outside a group
        ([0x0B], .truncated),  // unterminated group
        ([0x0B, 0x14], .malformedProtobuf),  // end of another group
        ([0x0B, 0x0E], .malformedProtobuf), ([0x0B, 0x04], .malformedProtobuf),  // wire type 6, field 0 inside a group
        ([0x0B, 0x80], .malformedProtobuf),  // a tag the group ends in
        ([0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], .malformedProtobuf),  // UInt32.max inside a group
        ([0x0A], .truncated), ([0x0A, 0x05, 0x01], .truncated), ([0x0A, 0x80], .malformedProtobuf),
        ([0x0A] + [UInt8](repeating: 0xFF, count: 10) + [0x01], .malformedProtobuf),  // an 11-byte varint
        ([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07], .malformedProtobuf),  // a known field of 2 GiB − 1
        ([0x0A, 0xFE, 0xFF, 0xFF, 0xFF, 0x07], .truncated),
        ([0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x07], .truncated),  // no 2 GiB limit when skipping
        ([0x80], .malformedProtobuf), ([0x80, 0x80, 0x80, 0x80], .malformedProtobuf),  // truncated tags
        ([0x80, 0x80, 0x80, 0x80, 0x10, 0x00], .malformedProtobuf),  // a fifth tag byte > 15
        ([0x80, 0x80, 0x80, 0x80, 0x80, 0x00], .malformedProtobuf),  // a 6-byte tag
        ([0x80, 0x00], .malformedProtobuf),  // field 0 in 2 bytes
        ([0x09, 0x01, 0x02, 0x03], .truncated), ([0x0D, 0x01], .truncated), ([0x08], .truncated),
        ([0x08, 0x80], .malformedProtobuf),
        ([0x0A, 0x02, 0x0A, 0x05], .truncated),  // a nested length past its parent
        ([0x0A, 0x03, 0x0A, 0x01, 0x0A, 0x00], .truncated),
    ] as [([UInt8], BinaryDecodingError)])
    func malformed(bytes: [UInt8], expected: BinaryDecodingError) {
        let outcome = Self.expectAgreement(Data(bytes))
        guard case .failed(let error) = outcome else {
            Issue.record("\(bytes) decoded")
            return
        }
        #expect(error == expected)
    }

    @Test("well-formed oddities decode", arguments: [
        [0x0B, 0x0C],  // an empty group in place of resource_logs
        [0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 0x00],  // field 2^29 − 1 in a 5-byte tag
        [0x0A, 0x00, 0x0A, 0x00],  // two empty ResourceLogs
        [0x88, 0x80, 0x80, 0x80, 0x00, 0x01],  // a non-minimal tag of field 1, wire type varint: skipped
    ] as [[UInt8]])
    func oddities(bytes: [UInt8]) {
        guard case .decoded = Self.expectAgreement(Data(bytes)) else {
            Issue.record("\(bytes) did not decode")
            return
        }
    }

    // MARK: UTF-8

    static let invalidUTF8: [[UInt8]] = [
        [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xC3, 0x28], [0xC3], [0xE2, 0x82], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
        [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF], [0x61, 0xE2, 0x82, 0x61],
        Array("valid prefix ".utf8) + [0xF0, 0x9F, 0x99],
    ]

    @Test("invalid UTF-8 in any string field is an error; in bytes fields and unknown fields it is not")
    func invalidUTF8InStrings() {
        for bad in Self.invalidUTF8 {
            let placements: [(String, [UInt8])] = [
                ("string value", Wire.logRecordRequest(Wire.message(5, Wire.rawString(1, bad)))),
                ("key", Wire.logRecordRequest(Wire.message(6, Wire.rawString(1, bad)))),
                ("severity text", Wire.logRecordRequest(Wire.rawString(3, bad))),
                ("event name", Wire.logRecordRequest(Wire.rawString(12, bad))),
                ("scope name", Wire.message(1, Wire.message(2, Wire.message(1, Wire.rawString(1, bad))))),
                ("scope version", Wire.message(1, Wire.message(2, Wire.message(1, Wire.rawString(2, bad))))),
                ("scope logs schema", Wire.message(1, Wire.message(2, Wire.rawString(3, bad)))),
                ("resource logs schema", Wire.message(1, Wire.rawString(3, bad))),
                ("nested kvlist key", Wire.logRecordRequest(Wire.message(5, Wire.message(6, Wire.message(1, Wire.rawString(1, bad)))))),
            ]
            for (name, bytes) in placements {
                guard case .failed(let error) = Self.expectAgreement(Data(bytes), "\(bad) in \(name)") else {
                    Issue.record("\(bad) in \(name) decoded")
                    continue
                }
                #expect(error == .invalidUTF8)
            }
            for bytes in [
                Wire.logRecordRequest(Wire.message(5, Wire.rawString(7, bad))), Wire.logRecordRequest(Wire.rawString(9, bad)),
                Wire.logRecordRequest(Wire.rawString(99, bad)),
            ] {
                guard case .decoded = Self.expectAgreement(Data(bytes), "\(bad) in bytes") else {
                    Issue.record("\(bad) in a bytes field did not decode")
                    continue
                }
            }
        }
    }

    @Test("a string that comes again is shared, and one that only looks like it (same length, same ends) is read anew")
    func repeatedStrings() throws {
        let id = Array("16419f82-972a-46c0-8208-17fc07a0ca6e".utf8)
        var lookalike = id
        lookalike[18] = UInt8(ascii: "9")
        var invalid = id
        invalid[18] = 0xFF
        // Three records, each with the attribute `session.identifier` (over 15 bytes, so cached).
        func records(_ values: [[UInt8]]) -> Data {
            let records = values.map { value in
                Wire.message(2, Wire.message(6, Wire.string(1, "session.identifier") + Wire.message(2, Wire.rawString(1, value))))
            }
            return Data(Wire.message(1, Wire.message(2, records.reduce([], +))))
        }
        let body = records([id, id, lookalike, id])
        Self.expectAgreement(body, "repeated strings")
        let batch = try OTLPLogsWireDecoder.decodeBatch(body)
        let values = batch.resources[0].scopes[0].records.map { $0.attributes[0].value }
        #expect(values == [id, id, lookalike, id].map { .string(String(decoding: $0, as: UTF8.self)) })
        #expect(batch.resources[0].scopes[0].records.allSatisfy { $0.attributes[0].key == "session.identifier" })

        let bad = records([id, invalid])
        guard case .failed(let error) = Self.expectAgreement(bad, "an invalid byte inside a repeated string") else {
            Issue.record("an invalid byte inside a repeated string decoded")
            return
        }
        #expect(error == .invalidUTF8)
    }

    @Test("an attribute value of one string field, read directly, merges like any other with a value that follows")
    func stringValueMerging() throws {
        let string = Wire.message(2, Wire.string(1, "first"))
        let cases: [(String, [UInt8], AttributeValue?)] = [
            ("one string", string, .string("first")),
            ("string, then string", string + Wire.message(2, Wire.string(1, "second")), .string("second")),
            ("string, then int", string + Wire.message(2, Wire.varintField(3, 7)), .int(7)),
            ("string, then empty value", string + Wire.message(2, []), .string("first")),
            ("string with a trailing field", Wire.message(2, Wire.string(1, "first") + Wire.varintField(2, 1)), .bool(true)),
            ("string field twice in one value", Wire.message(2, Wire.string(1, "a") + Wire.string(1, "b")), .string("b")),
        ]
        for (name, value, expected) in cases {
            let body = Data(Wire.logRecordRequest(Wire.message(6, Wire.string(1, "k") + value)))
            Self.expectAgreement(body, name)
            let batch = try OTLPLogsWireDecoder.decodeBatch(body)
            #expect(batch.resources.first?.scopes.first?.records.first?.attributes.first?.value == expected, "\(name)")
        }
    }

    @Test("UTF-8 validation agrees for every 1- and 2-byte string and many longer ones")
    func utf8Validation() {
        func check(_ string: [UInt8]) {
            Self.expectAgreement(Data(Wire.message(1, Wire.rawString(3, string))), "string \(string)")
        }
        for a in 0...255 { check([UInt8(a)]) }
        for a in 0x80...0xFF {
            for b in 0...255 { check([UInt8(a), UInt8(b)]) }
        }
        // The edges of the 3- and 4-byte forms.
        let seconds: [UInt8] = [0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0]
        for a in 0xE0...0xF7 {
            for b in seconds {
                for c in seconds {
                    check([UInt8(a), b, c])
                    for d in seconds { check([UInt8(a), b, c, d]) }
                }
            }
        }
        var random = SplitMix64(seed: 1)
        for _ in 0..<20_000 {
            let count = 1 + Int(random.next() % 6)
            check((0..<count).map { _ in UInt8(truncatingIfNeeded: random.next() | 0x80) })
        }
    }

    // MARK: Depth

    @Test("nesting: 100 messages decode, 101 are too deep (arrays, kvlists, skipped groups)")
    func depthLimit() {
        // The request, ResourceLogs, ScopeLogs and LogRecord are 4 levels; the body is the 5th.
        for (depth, expected) in [(100, nil), (101, BinaryDecodingError.messageDepthLimit)] {
            let arrays = Data(Wire.logRecordRequest(Wire.message(5, Wire.nestedArrays(depth - 4 - 1))))
            let kvlists = Data(Wire.logRecordRequest(Wire.message(5, Wire.nestedKVLists(depth - 4 - 1))))
            // A group counts as a level when skipped.
            let groups = Data(Wire.logRecordRequest(Wire.nestedGroups(depth - 4)))
            for (name, body) in [("arrays", arrays), ("kvlists", kvlists), ("groups", groups)] {
                let outcome = Self.expectAgreement(body, "\(depth) \(name)")
                switch (outcome, expected) {
                case (.decoded, nil): break
                case (.failed(let error), let expected?): #expect(error == expected, "\(depth) \(name)")
                default: Issue.record("\(depth) \(name): \(outcome)")
                }
            }
        }
    }

    @Test("very deep input is an error, not a stack overflow")
    func veryDeep() {
        let groups = Data([UInt8](repeating: 0x0B, count: 200_000))
        #expect(throws: BinaryDecodingError.messageDepthLimit) { try OTLPLogsWireDecoder.decode(groups) }
        Self.expectAgreement(groups, "200 000 groups")
        let arrays = Data(Wire.logRecordRequest(Wire.message(5, Wire.nestedArrays(3000))))
        #expect(throws: BinaryDecodingError.messageDepthLimit) { try OTLPLogsWireDecoder.decode(arrays) }
        Self.expectAgreement(arrays, "3000 arrays")
    }

    // MARK: The receiver

    @Test("OTLPRequest decodes protobuf logs with the wire decoder (no unknown fields kept) and wraps its errors")
    func receiverPath() throws {
        let request = Self.builderRequests[3]
        let body = try request.serializedData() + Data(Wire.varintField(99, 1))
        guard case .logs(let decoded) = try OTLPRequest(signal: .logs, encoding: .protobuf, body: body) else {
            Issue.record("not logs")
            return
        }
        #expect(decoded == OTLPLogBatch(request))
        // swift-protobuf would have kept field 99.
        #expect(try OTLPLogsRequest(serializedBytes: body) != request)
        // A slice of a larger buffer, as the receiver's Data may be.
        let padded = Data([0xFF, 0xFF]) + body
        guard case .logs(let fromSlice) = try OTLPRequest(signal: .logs, encoding: .protobuf, body: padded.dropFirst(2)) else {
            Issue.record("not logs")
            return
        }
        #expect(fromSlice == OTLPLogBatch(request))

        for (garbage, message) in [
            (Data([0x0A, 0x10, 0x01]), "the message is truncated"),
            (Data([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), "malformed protobuf"),
            (Data(Wire.logRecordRequest(Wire.rawString(3, [0xC3, 0x28]))), "a string field is not valid UTF-8"),
            (Data(Wire.logRecordRequest(Wire.nestedGroups(200))), "nested too deeply"),
        ] {
            do {
                _ = try OTLPRequest(signal: .logs, encoding: .protobuf, body: garbage)
                Issue.record("\(garbage) decoded")
            } catch {
                #expect(error.description == "cannot decode OTLP protobuf logs request: \(message)")
                #expect(error.underlying is BinaryDecodingError)
            }
        }
    }

    @Test("the HTTP receiver answers 400 for an undecodable protobuf logs body")
    func receiverAnswers400() async throws {
        let consumer = RecordingEventConsumer()
        let metrics = SinkMetrics()
        let receiver = OTLPReceiver(
            consumer: NormalizeProcessor(next: consumer, clock: ManualWallClock(), metrics: metrics),
            configuration: OTLPReceiverConfiguration(), metrics: metrics, logger: Logger(label: "test"))
        let router = Router()
        receiver.addRoutes(to: router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let invalid = Wire.logRecordRequest(Wire.rawString(3, [0xED, 0xA0, 0x80]))
        let valid = try Self.builderRequests[3].serializedData()
        try await app.test(.live) { client in
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: invalid)
            ) { response in
                #expect(response.status == .badRequest)
                let status = try RPCStatus(serializedBytes: Data(response.body.readableBytesView))
                #expect(status.code == 3)
                #expect(status.message == "cannot decode OTLP protobuf logs request: a string field is not valid UTF-8")
            }
            try await client.execute(
                uri: "/v1/logs", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: valid)
            ) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(consumer.events.count == 3)
    }

    // MARK: Speed (prints only)

    /// Set OBSERVATORY_DECODE_BENCH to a logs protobuf body (e.g. bench/gen_bodies.py's
    /// logs_100_uniq.pb) to print the decode time of both decoders. Meaningful in release builds.
    @Test("decode speed (prints; only with OBSERVATORY_DECODE_BENCH)")
    func speed() throws {
        guard let path = ProcessInfo.processInfo.environment["OBSERVATORY_DECODE_BENCH"] else { return }
        let body = try Data(contentsOf: URL(fileURLWithPath: path))
        let iterations = 2000
        func time(_ decode: () throws -> OTLPLogsRequest) rethrows -> Double {
            var best = Double.infinity
            for _ in 0..<5 {
                let start = ContinuousClock.now
                for _ in 0..<iterations { _ = try decode() }
                let elapsed = ContinuousClock.now - start
                best = min(best, Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
            }
            return best / Double(iterations)
        }
        let protobuf = try time { try OTLPLogsRequest(serializedBytes: body) }
        let wire = try time { try OTLPLogsWireDecoder.decode(body) }
        print("decode \(body.count) bytes: swift-protobuf \(protobuf) µs, wire \(wire) µs, ratio \(protobuf / wire)")
    }
}

// MARK: - Helpers

/// Protobuf wire format by hand, for inputs swift-protobuf would not write.
fileprivate enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    static func tag(_ field: UInt64, _ wireType: UInt64) -> [UInt8] { varint(field << 3 | wireType) }
    static func varintField(_ field: UInt64, _ value: UInt64) -> [UInt8] { tag(field, 0) + varint(value) }
    static func fixed64(_ field: UInt64, _ value: UInt64) -> [UInt8] {
        tag(field, 1) + (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
    static func fixed32(_ field: UInt64, _ value: UInt32) -> [UInt8] {
        tag(field, 5) + (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
    static func bytes(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] { tag(field, 2) + varint(UInt64(payload.count)) + payload }
    static func message(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] { bytes(field, payload) }
    static func string(_ field: UInt64, _ value: String) -> [UInt8] { bytes(field, Array(value.utf8)) }
    static func rawString(_ field: UInt64, _ value: [UInt8]) -> [UInt8] { bytes(field, value) }
    static func group(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] { tag(field, 3) + payload + tag(field, 4) }

    /// Fields of one LogRecord, as the only record of a request.
    static func logRecordRequest(_ record: [UInt8]) -> [UInt8] { wrap(level: 5, record) }
    static func logRecord(_ fields: [UInt8]) -> [UInt8] { fields }

    /// The fields of a message at `level` (see ``RandomLogs/message(level:_:)``) inside a request.
    static func wrap(level: Int, _ fields: [UInt8]) -> [UInt8] {
        switch level {
        case 0: fields  // ExportLogsServiceRequest
        case 1: message(1, fields)  // ResourceLogs
        case 2: wrap(level: 1, message(1, fields))  // Resource
        case 3: wrap(level: 1, message(2, fields))  // ScopeLogs
        case 4: wrap(level: 3, message(1, fields))  // InstrumentationScope
        case 5: wrap(level: 3, message(2, fields))  // LogRecord
        case 6: wrap(level: 5, message(6, fields))  // KeyValue
        default: wrap(level: 5, message(5, fields))  // AnyValue
        }
    }

    /// An AnyValue's fields with `levels` more messages inside: ArrayValue, AnyValue, ….
    static func nestedArrays(_ levels: Int) -> [UInt8] {
        var inner: [UInt8] = []
        for level in (0..<levels).reversed() {
            inner = level % 2 == 0 ? message(5, inner) : message(1, inner)
        }
        return inner
    }

    /// An AnyValue's fields with `levels` more messages inside: KeyValueList, KeyValue, AnyValue, ….
    static func nestedKVLists(_ levels: Int) -> [UInt8] {
        var inner: [UInt8] = []
        for level in (0..<levels).reversed() {
            switch level % 3 {
            case 0: inner = message(6, inner)
            case 1: inner = message(1, inner)
            default: inner = string(1, "k") + message(2, inner)
            }
        }
        return inner
    }

    /// `levels` nested groups of unknown field 100.
    static func nestedGroups(_ levels: Int) -> [UInt8] {
        Array(repeating: tag(100, 3), count: levels).flatMap { $0 } + Array(repeating: tag(100, 4), count: levels).flatMap { $0 }
    }
}

fileprivate extension OTLPBuilders {
    static func kvlist(_ keys: [String]) -> Opentelemetry_Proto_Common_V1_KeyValueList {
        var list = Opentelemetry_Proto_Common_V1_KeyValueList()
        list.values = keys.map { key in
            var pair = OTLPKeyValue()
            pair.key = key
            return pair
        }
        return list
    }

    static func array(_ ints: [Int64]) -> Opentelemetry_Proto_Common_V1_ArrayValue {
        var array = Opentelemetry_Proto_Common_V1_ArrayValue()
        array.values = ints.map { int in
            var value = OTLPAnyValue()
            value.intValue = int
            return value
        }
        return array
    }
}

/// Random OTLP logs requests.
fileprivate enum RandomLogs {
    static func pick<T>(_ values: [T], _ random: inout SplitMix64) -> T { values[Int(random.next() % UInt64(values.count))] }
    static func chance(_ percent: UInt64, _ random: inout SplitMix64) -> Bool { random.next() % 100 < percent }

    static let ascii = Array("abcdefghijklmnopqrstuvwxyz0123456789 ._-")
    static let mixed = Array("abcdefghijklmnopqrstuvwxyzéß日🙂")

    static func string(_ random: inout SplitMix64, small: Bool = false) -> String {
        switch random.next() % 8 {
        case 0: return ""
        case 1: return pick(["a", "é", "日本語", "🙂", "\u{0}", "e\u{301}", "session.id", "claude_code.api_request"], &random)
        case 2:
            let count = Int(random.next() % (small ? 40 : 3000))
            return String((0..<count).map { _ in pick(ascii, &random) })
        case 3:
            let count = Int(random.next() % 30)
            return String(
                String.UnicodeScalarView(
                    (0..<count).compactMap { _ in Unicode.Scalar(UInt32(truncatingIfNeeded: random.next() % 0x11_0000)) }))
        default:
            let count = Int(random.next() % 24)
            return String((0..<count).map { _ in pick(mixed, &random) })
        }
    }

    static func data(_ random: inout SplitMix64) -> Data {
        let count = pick([0, 8, 16, Int(random.next() % 40)], &random)
        return Data((0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) })
    }

    static func anyValue(_ random: inout SplitMix64, depth: Int, small: Bool) -> OTLPAnyValue {
        var value = OTLPAnyValue()
        switch random.next() % (depth > 0 ? 9 : 7) {
        case 0: break
        case 1: value.stringValue = string(&random, small: small)
        case 2: value.boolValue = random.next() % 2 == 0
        case 3: value.intValue = pick([0, 1, -1, .max, .min, Int64(bitPattern: random.next()), Int64(random.next() % 1000)], &random)
        case 4:
            value.doubleValue = pick(
                [0, -0.0, 1.5, -2.25e-308, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, Double(random.next() % 10_000) / 7], &random)
        case 5: value.bytesValue = data(&random)
        case 6: value.stringValue = pick(["", "x", "claude_code.user_prompt"], &random)
        case 7:
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = (0..<random.next() % 5).map { _ in anyValue(&random, depth: depth - 1, small: small) }
            value.arrayValue = array
        default:
            var list = Opentelemetry_Proto_Common_V1_KeyValueList()
            list.values = (0..<random.next() % 5).map { _ in keyValue(&random, depth: depth - 1, small: small) }
            value.kvlistValue = list
        }
        return value
    }

    static func keyValue(_ random: inout SplitMix64, depth: Int, small: Bool) -> OTLPKeyValue {
        var pair = OTLPKeyValue()
        pair.key = string(&random, small: small)
        if !chance(10, &random) { pair.value = anyValue(&random, depth: depth, small: small) }
        return pair
    }

    static func attributes(_ random: inout SplitMix64, small: Bool) -> [OTLPKeyValue] {
        (0..<random.next() % (small ? 4 : 10)).map { _ in keyValue(&random, depth: 3, small: small) }
    }

    static func logRecord(_ random: inout SplitMix64, small: Bool) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        if chance(80, &random) { record.timeUnixNano = random.next() }
        if chance(50, &random) { record.observedTimeUnixNano = random.next() }
        record.severityNumber = pick(
            [.unspecified, .info, .error, .fatal4, .UNRECOGNIZED(25), .UNRECOGNIZED(-1), .UNRECOGNIZED(Int(Int32.max)),
             .UNRECOGNIZED(Int(Int32.min))], &random)
        if chance(50, &random) { record.severityText = string(&random, small: small) }
        if chance(80, &random) { record.body = anyValue(&random, depth: 4, small: small) }
        record.attributes = attributes(&random, small: small)
        if chance(20, &random) { record.droppedAttributesCount = UInt32(truncatingIfNeeded: random.next()) }
        if chance(30, &random) { record.flags = UInt32(truncatingIfNeeded: random.next()) }
        if chance(50, &random) { record.traceID = data(&random) }
        if chance(50, &random) { record.spanID = data(&random) }
        if chance(40, &random) { record.eventName = string(&random, small: small) }
        return record
    }

    static func scope(_ random: inout SplitMix64, small: Bool) -> OTLPScope {
        var scope = OTLPScope()
        scope.name = string(&random, small: small)
        if chance(50, &random) { scope.version = string(&random, small: small) }
        scope.attributes = attributes(&random, small: small)
        if chance(20, &random) { scope.droppedAttributesCount = UInt32(truncatingIfNeeded: random.next()) }
        return scope
    }

    static func resource(_ random: inout SplitMix64, small: Bool) -> OTLPResource {
        var resource = OTLPResource()
        resource.attributes = attributes(&random, small: small)
        if chance(20, &random) { resource.droppedAttributesCount = UInt32(truncatingIfNeeded: random.next()) }
        return resource
    }

    static func scopeLogs(_ random: inout SplitMix64, small: Bool) -> Opentelemetry_Proto_Logs_V1_ScopeLogs {
        var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        if chance(80, &random) { scopeLogs.scope = scope(&random, small: small) }
        scopeLogs.logRecords = (0..<random.next() % (small ? 3 : 12)).map { _ in logRecord(&random, small: small) }
        if chance(30, &random) { scopeLogs.schemaURL = string(&random, small: small) }
        return scopeLogs
    }

    static func resourceLogs(_ random: inout SplitMix64, small: Bool) -> OTLPResourceLogs {
        var resourceLogs = OTLPResourceLogs()
        if chance(80, &random) { resourceLogs.resource = resource(&random, small: small) }
        resourceLogs.scopeLogs = (0..<random.next() % (small ? 2 : 4)).map { _ in scopeLogs(&random, small: small) }
        if chance(30, &random) { resourceLogs.schemaURL = string(&random, small: small) }
        return resourceLogs
    }

    static func request(_ random: inout SplitMix64, small: Bool = false) -> OTLPLogsRequest {
        var request = OTLPLogsRequest()
        request.resourceLogs = (0..<(small ? 1 + random.next() % 2 : random.next() % 5)).map { _ in
            resourceLogs(&random, small: small)
        }
        return request
    }

    /// A random message of the type at `level` of ``Wire/wrap(level:_:)``, serialized by swift-protobuf.
    static func message(level: Int, _ random: inout SplitMix64) throws -> [UInt8] {
        let small = true
        let data: Data =
            switch level {
            case 0: try request(&random, small: small).serializedData()
            case 1: try resourceLogs(&random, small: small).serializedData()
            case 2: try resource(&random, small: small).serializedData()
            case 3: try scopeLogs(&random, small: small).serializedData()
            case 4: try scope(&random, small: small).serializedData()
            case 5: try logRecord(&random, small: small).serializedData()
            case 6: try keyValue(&random, depth: 2, small: small).serializedData()
            default: try anyValue(&random, depth: 3, small: small).serializedData()
            }
        return [UInt8](data)
    }
}
