import Foundation
import CompressNIO
import Hummingbird
import Logging
import NIOCore
import SinkCore
import SinkOTLP
import Synchronization

/// The OTLP/HTTP receiver: `POST /v1/logs`, `/v1/metrics`, `/v1/traces`
/// (OTLP specification 1.x, "OTLP/HTTP").
///
/// | answer | when |
/// |---|---|
/// | 200 + `Export…ServiceResponse` in the request's encoding | stored (with `partial_success` for rejected records) |
/// | 400 + `google.rpc.Status` | the body cannot be decoded (the exporter drops it: retrying cannot help) |
/// | 413 | body over the limit, before or after decompression |
/// | 415 | a content type other than protobuf/JSON, or a content encoding other than gzip |
/// | 503 + `Retry-After` | the pipeline cannot take more now (the exporter retries) |
///
/// 500 is never sent for a transient problem: the collector's otlphttp exporter treats it as
/// permanent and drops the data (perf-anchors.md §6).
package final class OTLPReceiver: Sendable {
    private let consumer: any TelemetryConsumer
    private let configuration: OTLPReceiverConfiguration
    private let metrics: SinkMetrics
    private let logger: Logger
    private let inFlight = Mutex(0)

    package init(
        consumer: any TelemetryConsumer, configuration: OTLPReceiverConfiguration, metrics: SinkMetrics, logger: Logger
    ) {
        self.consumer = consumer
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        metrics.describe("observatory_records_received_total", help: "Records acknowledged with 200, by signal.")
        metrics.describe("observatory_requests_total", help: "OTLP/HTTP requests answered, by signal and status code.")
        metrics.describe("observatory_request_bytes_total", help: "OTLP/HTTP request bytes received on the wire, by signal.")
    }

    /// Adds the three signal routes.
    package func addRoutes(to router: Router<some RequestContext>) {
        for signal in OTLPSignal.allCases {
            router.post(RouterPath(signal.path)) { request, _ in
                await self.handle(signal: signal, request: request)
            }
        }
    }

    /// Answers one export request.
    package func handle(signal: OTLPSignal, request: Request) async -> Response {
        let response = await answer(signal: signal, request: request)
        metrics.add(to: .init("observatory_requests_total", [("signal", signal.rawValue), ("code", String(response.status.code))]))
        return response
    }

    private func answer(signal: OTLPSignal, request: Request) async -> Response {
        guard let contentType = request.headers[.contentType], let encoding = OTLPEncoding(contentType: contentType) else {
            return failure(
                .unsupportedMediaType, code: 3, encoding: .json,
                "unsupported Content-Type \(request.headers[.contentType] ?? "(none)"); use application/x-protobuf or application/json")
        }
        let contentEncoding = request.headers[.contentEncoding]?.trimmingCharacters(in: .whitespaces).lowercased() ?? "identity"
        guard ["identity", "gzip", "x-gzip", ""].contains(contentEncoding) else {
            return failure(.unsupportedMediaType, code: 3, encoding: encoding, "unsupported Content-Encoding \(contentEncoding); use gzip")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxRequestBytes {
            return failure(.contentTooLarge, code: 8, encoding: encoding, "body of \(length) bytes exceeds the limit of \(configuration.maxRequestBytes)")
        }
        guard acquire() else {
            return failure(.serviceUnavailable, code: 14, encoding: encoding, "too many requests in progress", retryAfter: configuration.retryAfterSeconds)
        }
        defer { release() }

        var request = request
        var body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxRequestBytes)
        } catch is NIOTooManyBytesError {
            return failure(.contentTooLarge, code: 8, encoding: encoding, "body exceeds the limit of \(configuration.maxRequestBytes) bytes")
        } catch {
            return failure(.badRequest, code: 3, encoding: encoding, "could not read the body: \(error)")
        }
        metrics.add(Double(body.readableBytes), to: .init("observatory_request_bytes_total", [("signal", signal.rawValue)]))
        if contentEncoding == "gzip" || contentEncoding == "x-gzip" {
            do {
                body = try body.decompress(with: .gzip(), maxSize: configuration.maxRequestBytes)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                return failure(.contentTooLarge, code: 8, encoding: encoding, "decompressed body exceeds the limit of \(configuration.maxRequestBytes) bytes")
            } catch {
                return failure(.badRequest, code: 3, encoding: encoding, "invalid gzip body: \(error)")
            }
        }

        let decoded: OTLPRequest
        do {
            decoded = try OTLPRequest(signal: signal, encoding: encoding, body: Data(body.readableBytesView))
        } catch {
            logger.debug("undecodable request", metadata: ["signal": "\(signal.rawValue)", "error": "\(error)"])
            return failure(.badRequest, code: 3, encoding: encoding, error.description)
        }

        let partialSuccess: OTLPPartialSuccess?
        do {
            partialSuccess = try await consumer.consume(decoded)
        } catch let error as PipelineError {
            switch error {
            case .overloaded(let seconds):
                return failure(.serviceUnavailable, code: 14, encoding: encoding, "the sink is saturated; retry later", retryAfter: seconds)
            case .storeUnavailable(let message):
                return failure(.serviceUnavailable, code: 14, encoding: encoding, "storage is unavailable: \(message)", retryAfter: 5)
            case .shuttingDown:
                return failure(.serviceUnavailable, code: 14, encoding: encoding, "the sink is shutting down", retryAfter: 5)
            }
        } catch {
            logger.warning("consumer failed", metadata: ["signal": "\(signal.rawValue)", "error": "\(error)"])
            return failure(.serviceUnavailable, code: 14, encoding: encoding, "temporary failure: \(error)", retryAfter: 5)
        }

        let accepted = decoded.recordCount - (partialSuccess?.rejected ?? 0)
        metrics.add(Double(accepted), to: .init("observatory_records_received_total", [("signal", signal.rawValue)]))
        let bytes = OTLPResponse.success(signal: signal, encoding: encoding, partialSuccess: partialSuccess)
        return Response(
            status: .ok, headers: [.contentType: encoding.contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func failure(
        _ status: HTTPResponse.Status, code: Int32, encoding: OTLPEncoding, _ message: String, retryAfter: Int? = nil
    ) -> Response {
        var headers: HTTPFields = [.contentType: encoding.contentType]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = OTLPResponse.status(code: code, message: message, encoding: encoding)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func acquire() -> Bool {
        inFlight.withLock { count in
            guard count < configuration.maxConcurrentRequests else { return false }
            count += 1
            return true
        }
    }

    private func release() {
        inFlight.withLock { $0 -= 1 }
    }
}
