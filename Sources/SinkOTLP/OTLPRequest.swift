import Foundation
import SwiftProtobuf

/// One decoded OTLP export request.
package enum OTLPRequest: Sendable {
    case logs(OTLPLogBatch)
    case metrics(OTLPMetricsRequest)
    case traces(OTLPTraceRequest)

    package var signal: OTLPSignal {
        switch self {
        case .logs: .logs
        case .metrics: .metrics
        case .traces: .traces
        }
    }

    /// Log records, metric data points or spans in the request.
    package var recordCount: Int {
        switch self {
        case .logs(let batch):
            batch.recordCount
        case .metrics(let request):
            request.resourceMetrics.reduce(0) { sum, resource in
                sum + resource.scopeMetrics.reduce(0) { $0 + $1.metrics.reduce(0) { $0 + $1.dataPointCount } }
            }
        case .traces(let request):
            request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
        }
    }

    /// Decodes a request body.
    ///
    /// Protobuf logs requests, the bulk of what agents send, are decoded by ``OTLPLogsWireDecoder``
    /// straight into an ``OTLPLogBatch`` (hand-written, same values and errors as swift-protobuf);
    /// metrics and traces, and every OTLP/JSON body, by swift-protobuf (JSON logs are converted).
    ///
    /// OTLP/JSON differs from the canonical protobuf JSON mapping in one way that matters here:
    /// trace and span ids are hex strings, not base64 (OTLP specification, "JSON Protobuf Encoding").
    /// They are decoded as base64 first and then restored; see ``OTLPHexIDs``. Unknown fields are
    /// ignored, as the specification requires of receivers.
    /// - Throws: ``OTLPDecodingError`` when the body is not a valid request.
    package init(signal: OTLPSignal, encoding: OTLPEncoding, body: Data) throws(OTLPDecodingError) {
        do {
            switch (signal, encoding) {
            case (.logs, .protobuf): self = .logs(try OTLPLogsWireDecoder.decodeBatch(body))
            case (.metrics, .protobuf): self = .metrics(try OTLPMetricsRequest(serializedBytes: body))
            case (.traces, .protobuf): self = .traces(try OTLPTraceRequest(serializedBytes: body))
            case (.logs, .json):
                var request = try OTLPLogsRequest(jsonUTF8Bytes: body, options: Self.jsonOptions)
                OTLPHexIDs.restore(in: &request)
                self = .logs(OTLPLogBatch(request))
            case (.metrics, .json):
                self = .metrics(try OTLPMetricsRequest(jsonUTF8Bytes: body, options: Self.jsonOptions))
            case (.traces, .json):
                var request = try OTLPTraceRequest(jsonUTF8Bytes: body, options: Self.jsonOptions)
                OTLPHexIDs.restore(in: &request)
                self = .traces(request)
            }
        } catch {
            throw OTLPDecodingError(signal: signal, encoding: encoding, underlying: error)
        }
    }

    private static let jsonOptions: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return options
    }()
}

extension OTLPMetric {
    /// Data points of whichever kind the metric holds.
    package var dataPointCount: Int {
        switch data {
        case .gauge(let gauge): gauge.dataPoints.count
        case .sum(let sum): sum.dataPoints.count
        case .histogram(let histogram): histogram.dataPoints.count
        case nil: 0
        }
    }
}

/// A request body that is not a valid OTLP export request (answered with 400).
package struct OTLPDecodingError: Error, Sendable, CustomStringConvertible {
    package var signal: OTLPSignal
    package var encoding: OTLPEncoding
    package var underlying: any Error

    package var description: String {
        "cannot decode \(encoding == .json ? "OTLP/JSON" : "OTLP protobuf") \(signal.rawValue) request: \(Self.describe(underlying))"
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as BinaryDecodingError:
            switch error {
            case .truncated: "the message is truncated"
            case .malformedProtobuf: "malformed protobuf"
            case .invalidUTF8: "a string field is not valid UTF-8"
            case .messageDepthLimit: "nested too deeply"
            default: "\(error)"
            }
        case let error as JSONDecodingError: "invalid JSON (\(error))"
        default: "\(error)"
        }
    }
}
