import Foundation
import SinkCore
import SinkNormalize
import SinkOTLP
import SwiftProtobuf

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

    /// A logs fixture as swift-protobuf's message (OTLP/JSON decoded as `OTLPRequest` does, hex ids
    /// restored), for tests that look at fields the sink's ``OTLPLogBatch`` does not keep.
    static func logsMessage(_ name: String) throws -> OTLPLogsRequest {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        var request = try OTLPLogsRequest(jsonUTF8Bytes: data(name), options: options)
        OTLPHexIDs.restore(in: &request)
        return request
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

/// A seeded PRNG (SplitMix64), for reproducible randomized inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A new empty directory under the system's temporary directory; the caller removes it.
func makeTemporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}
