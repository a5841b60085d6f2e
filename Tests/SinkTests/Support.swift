import Foundation
import SinkCore
import SinkNormalize
import SinkOTLP

/// Test fixtures (OTLP/JSON files shaped after each agent's documented telemetry).
enum Fixture {
    static func data(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureError.missing(name)
        }
        return try Data(contentsOf: url)
    }

    static func request(_ name: String, signal: OTLPSignal) throws -> OTLPRequest {
        try OTLPRequest(signal: signal, encoding: .json, body: data(name))
    }

    static func events(_ name: String, signal: OTLPSignal) throws -> [SessionEvent] {
        Normalizer().normalize(try request(name, signal: signal), receivedAt: Date(timeIntervalSince1970: 1_790_000_100)).events
    }
}

enum FixtureError: Error {
    case missing(String)
}

extension Date {
    static let testEpoch = Date(timeIntervalSince1970: 1_790_000_000)
}
