import Foundation
import ObservatoryControl
import SinkCore
import SinkNormalize
import SinkOTLP
import SinkRules
import SwiftProtobuf

/// libFuzzer entry points for the sink's parsers of untrusted input. Built only with
/// `OBSERVATORY_FUZZ=1` and `-sanitize=fuzzer` (see `scripts/fuzz.sh`); `FUZZ_TARGET` picks one:
///
/// | target | input | code under test |
/// |---|---|---|
/// | `otlp-protobuf` | first byte picks logs/metrics/traces, the rest is the body | `OTLPRequest` protobuf decoding, `Normalizer`, each event's stored JSON, session totals and the rules' session view; and, whatever the first byte, `OTLPLogsWireDecoder` (the full request and the receiver's `OTLPLogBatch`) against swift-protobuf on the body (traps when they disagree) |
/// | `otlp-json` | same, OTLP/JSON body | `OTLPRequest` JSON decoding (hex ids), then as `otlp-protobuf` |
/// | `rules` | a rule file (UTF-8) | `RuleFileParser` (YAML, validation, every expression and template in it) |
/// | `expr` | an expression (UTF-8) | `Expression.compile` in every scope, then evaluation against a fixed session and event |
/// | `control` | bytes from a helper-socket peer | `LineFramer` (split at an input-chosen point) and `ControlMessage.decode`; every decoded message must survive encode → decode unchanged |
enum FuzzTarget: String, CaseIterable {
    case otlpProtobuf = "otlp-protobuf"
    case otlpJSON = "otlp-json"
    case rules
    case expr
    case control

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("FUZZ_TARGET must be one of: \(names) (got \"\(name)\")\n".utf8))
            exit(2)
        }
        return target
    }()

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .otlpProtobuf: Self.otlp(bytes, encoding: .protobuf)
        case .otlpJSON: Self.otlp(bytes, encoding: .json)
        case .rules: Self.rules(String(decoding: bytes, as: UTF8.self))
        case .expr: Self.expr(String(decoding: bytes, as: UTF8.self))
        case .control: Self.control(bytes)
        }
    }

    static let normalizer = Normalizer()
    static let receivedAt = Date(timeIntervalSince1970: 1_790_000_000)

    static func otlp(_ bytes: UnsafeRawBufferPointer, encoding: OTLPEncoding) {
        guard let first = bytes.first else { return }
        let signal = OTLPSignal.allCases[Int(first) % OTLPSignal.allCases.count]
        let body = Data(bytes.dropFirst())
        if encoding == .protobuf { logsWireDecoderAgrees(body) }
        guard let request = try? OTLPRequest(signal: signal, encoding: encoding, body: body) else { return }
        _ = request.recordCount
        let batch = normalizer.normalize(request, receivedAt: receivedAt)
        // What the tracker and the rules do with each event: stored JSON, session totals, rule views.
        var sessions: [String: Session] = [:]
        for event in batch.events {
            _ = event.payload
            _ = RuleEvent(event)
            sessions[event.sessionID, default: Session(id: event.sessionID, agent: event.agent, firstSeen: receivedAt)]
                .apply(event, receivedAt: receivedAt)
        }
        for session in sessions.values {
            let view = SessionView(session, now: receivedAt.addingTimeInterval(90))
            for field in SessionField.allCases { _ = view[field] }
        }
    }

    static let discardUnknownFields: BinaryDecodingOptions = {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        return options
    }()

    /// Differential check of the hand-written logs decoder: it and swift-protobuf (unknown fields
    /// discarded, as the wire decoder does not keep them) both throw the same error, or both decode
    /// the same request (the same serialization; `==` too unless a NaN double is in it).
    static func logsWireDecoderAgrees(_ body: Data) {
        let reference = Result { try OTLPLogsRequest(serializedBytes: body, options: discardUnknownFields) }
        expectAgreement("OTLPLogsWireDecoder", Result { () throws(BinaryDecodingError) in try OTLPLogsWireDecoder.decode(body) }, reference) { a, b in
            (try? a.serializedData()) == (try? b.serializedData()) && (a == b || a.textFormatString().contains("nan"))
        }
        // The receiver's path: the batch decoder gives the batch of swift-protobuf's request.
        expectAgreement(
            "OTLPLogsWireDecoder.decodeBatch", Result { () throws(BinaryDecodingError) in try OTLPLogsWireDecoder.decodeBatch(body) },
            reference
        ) { a, b in
            let expected = OTLPLogBatch(b)
            return a == expected || (String(describing: a) == String(describing: expected) && String(describing: a).contains("nan"))
        }
    }

    /// Traps unless `mine` and swift-protobuf's `reference` both threw the same error, or both
    /// decoded and `same` says the values agree.
    static func expectAgreement<Mine, Reference>(
        _ name: String, _ mine: Result<Mine, BinaryDecodingError>, _ reference: Result<Reference, any Error>,
        same: (Mine, Reference) -> Bool
    ) {
        switch (mine, reference) {
        case (.success(let a), .success(let b)):
            if !same(a, b) { fatalError("\(name) decoded \(a), swift-protobuf \(b)") }
        case (.failure(let a), .failure(let b)):
            if (b as? BinaryDecodingError) != a { fatalError("\(name) threw \(a), swift-protobuf \(b)") }
        case (.success(let a), .failure(let b)):
            fatalError("\(name) decoded \(a), swift-protobuf threw \(b)")
        case (.failure(let a), .success(let b)):
            fatalError("\(name) threw \(a), swift-protobuf decoded \(b)")
        }
    }

    static func rules(_ text: String) {
        _ = RuleFileParser.parse(text, file: "fuzz.yaml")
    }

    static let context: ExprContext = {
        var session = Session(id: "s1", agent: .codex, firstSeen: receivedAt)
        session.name = "web"
        session.model = "gpt-5"
        let event = RuleEvent(
            sessionID: "s1", kind: "api_error", name: "codex.api_request", agent: "codex", source: "logs", time: receivedAt,
            attrs: [
                "status_code": .int(529), "error": .string("Overloaded"), "duration_ms": .double(2100.5), "success": .bool(false),
                "tool_name": .string("Bash"),
            ])
        return ExprContext(session: SessionView(session, now: receivedAt.addingTimeInterval(30)), event: event, value: 3)
    }()

    /// The helper's protocol as a peer (a wrapper, the sink, another uid's process) can drive it.
    static func control(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let input = Array(bytes.dropFirst())
        let split = input.isEmpty ? 0 : Int(first) % (input.count + 1)
        var framer = LineFramer()
        var lines: [[UInt8]] = []
        do {
            lines += try framer.feed(input[..<split])
            lines += try framer.feed(input[split...])
        } catch {
            return  // an over-long line: the helper answers bad_request and closes
        }
        for line in lines {
            guard let message = try? ControlMessage.decode(line: line) else { continue }
            let again = try? ControlMessage.decode(line: Array(message.json.compactText.utf8))
            precondition(again == message, "encode → decode changed \(message)")
        }
    }

    static func expr(_ text: String) {
        for scope in [ExprScope.sessionOnly, .withEvent, .withValue, ExprScope(event: true, value: true)] {
            guard let expression = try? Expression.compile(text, scope: scope, expecting: nil) else { continue }
            _ = expression.evaluate(in: context)
            _ = expression.truth(in: context)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let target = FuzzTarget.selected
    target.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// SwiftPM links an executable target with `--defsym main=<Module>_main` (its entry point renamed so
/// tests can link the module). There is no Swift `main` here (`-parse-as-library`); this entry point
/// hands over to libFuzzer's driver, which parses the usual libFuzzer flags.
@_cdecl("ObservatoryFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    _ = FuzzTarget.selected  // a wrong FUZZ_TARGET fails before fuzzing starts
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
