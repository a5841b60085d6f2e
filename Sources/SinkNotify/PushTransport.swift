import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One push request: a POST of an encrypted body to a subscription's endpoint.
package struct PushRequest: Sendable {
    package var endpoint: URL
    package var headers: [(String, String)]
    package var body: Data

    package init(endpoint: URL, headers: [(String, String)], body: Data) {
        self.endpoint = endpoint
        self.headers = headers
        self.body = body
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// The push service's answer.
package struct PushResponse: Sendable, Hashable {
    package var status: Int
    /// Header names lower-cased.
    package var headers: [String: String]
    /// Start of the body (error reasons), at most 4 KiB.
    package var body: String

    package init(status: Int, headers: [String: String] = [:], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends push requests. The sink uses ``HTTPClientPushTransport``; tests use a fake.
package protocol PushTransport: Sendable {
    func send(_ request: PushRequest, timeout: Duration) async throws -> PushResponse
    /// Releases connections; called once when the notifier stops.
    func shutdown() async throws
}

/// ``PushTransport`` on AsyncHTTPClient: no redirects, explicit `Content-Length`. The client is made
/// on the first request (a sink that never pushes never opens one) and closed by ``shutdown()``.
package final class HTTPClientPushTransport: PushTransport {
    private let state = Mutex<HTTPClient?>(nil)

    package init() {}

    private func client() -> HTTPClient {
        state.withLock { client in
            if let client { return client }
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .disallow
            configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
            configuration.decompression = .disabled
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            client = made
            return made
        }
    }

    package func send(_ request: PushRequest, timeout: Duration) async throws -> PushResponse {
        var outgoing = HTTPClientRequest(url: request.endpoint.absoluteString)
        outgoing.method = .POST
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let seconds = Int64(timeout.components.seconds) + (timeout.components.attoseconds > 0 ? 1 : 0)
        let response = try await client().execute(outgoing, timeout: .seconds(seconds))
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        let buffer = try await response.body.collect(upTo: 64 * 1024)
        let text = String(buffer: buffer)
        return PushResponse(status: Int(response.status.code), headers: headers, body: String(text.prefix(4096)))
    }

    package func shutdown() async throws {
        let client = state.withLock { client in
            defer { client = nil }
            return client
        }
        try await client?.shutdown()
    }
}
