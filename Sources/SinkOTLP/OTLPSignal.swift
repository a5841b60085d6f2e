import Foundation

/// The three OTLP signals and their OTLP/HTTP paths (OTLP specification, "OTLP/HTTP Request").
package enum OTLPSignal: String, Sendable, Hashable, CaseIterable {
    case logs
    case metrics
    case traces

    /// `/v1/logs`, `/v1/metrics`, `/v1/traces`.
    package var path: String { "/v1/\(rawValue)" }

    /// What one record of this signal is called in a partial-success answer.
    package var recordNoun: String {
        switch self {
        case .logs: "log records"
        case .metrics: "data points"
        case .traces: "spans"
        }
    }
}

/// The two OTLP/HTTP payload encodings (OTLP specification, "Binary Protobuf Encoding" and
/// "JSON Protobuf Encoding").
package enum OTLPEncoding: String, Sendable, Hashable {
    case protobuf
    case json

    /// The `Content-Type` of this encoding.
    package var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }

    /// The encoding named by a `Content-Type` header (parameters such as `charset` are ignored), or
    /// `nil` for anything else (answered with 415).
    package init?(contentType: String) {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        switch mediaType {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }
}
