import Foundation
import SwiftProtobuf

/// Records of a request the receiver did not accept (OTLP specification, "Partial Success").
package struct OTLPPartialSuccess: Sendable, Hashable {
    package var rejected: Int
    package var message: String

    package init(rejected: Int, message: String) {
        self.rejected = rejected
        self.message = message
    }
}

/// Builds the bodies OTLP/HTTP answers with.
package enum OTLPResponse {
    /// The `Export…ServiceResponse` of a successful request, in the request's encoding
    /// (OTLP specification, "Success"): empty `partial_success` unless records were rejected.
    package static func success(
        signal: OTLPSignal, encoding: OTLPEncoding, partialSuccess: OTLPPartialSuccess?
    ) -> Data {
        switch signal {
        case .logs:
            var response = OTLPLogsResponse()
            if let partialSuccess {
                response.partialSuccess.rejectedLogRecords = Int64(partialSuccess.rejected)
                response.partialSuccess.errorMessage = partialSuccess.message
            }
            return encode(response, encoding)
        case .metrics:
            var response = OTLPMetricsResponse()
            if let partialSuccess {
                response.partialSuccess.rejectedDataPoints = Int64(partialSuccess.rejected)
                response.partialSuccess.errorMessage = partialSuccess.message
            }
            return encode(response, encoding)
        case .traces:
            var response = OTLPTraceResponse()
            if let partialSuccess {
                response.partialSuccess.rejectedSpans = Int64(partialSuccess.rejected)
                response.partialSuccess.errorMessage = partialSuccess.message
            }
            return encode(response, encoding)
        }
    }

    /// A `google.rpc.Status` error body (OTLP specification, "Failures").
    /// - Parameter code: the gRPC status code that matches the failure (3 invalid argument,
    ///   8 resource exhausted, 14 unavailable).
    package static func status(code: Int32, message: String, encoding: OTLPEncoding) -> Data {
        var status = RPCStatus()
        status.code = code
        status.message = message
        return encode(status, encoding)
    }

    private static func encode(_ message: some SwiftProtobuf.Message, _ encoding: OTLPEncoding) -> Data {
        switch encoding {
        case .protobuf: (try? message.serializedData()) ?? Data()
        case .json: (try? message.jsonUTF8Data()) ?? Data("{}".utf8)
        }
    }
}
