import Foundation
import SinkCore
import SinkNormalize
import SinkOTLP
import SinkTesting
import Testing

/// Regression tests for inputs the fuzzers (scripts/fuzz.sh) found to crash the sink.
@Suite("Hostile input")
struct HostileInputTests {
    static func session(from request: OTLPRequest) -> [String: Session] {
        var sessions: [String: Session] = [:]
        for event in Normalizer().normalize(request, receivedAt: .testEpoch).events {
            sessions[event.sessionID, default: Session(id: event.sessionID, agent: event.agent, firstSeen: .testEpoch)]
                .apply(event, receivedAt: .testEpoch)
        }
        return sessions
    }

    @Test("a log record claiming 1e300 tokens saturates the counters instead of trapping")
    func hugeTokensInLogs() throws {
        let records = [
            OTLPBuilders.claudeEvent(
                "api_request", session: "s1", sequence: 1,
                [("model", "m"), ("cost_usd", 1.7e308), ("input_tokens", 1e300), ("output_tokens", 1e300), ("cache_read_tokens", -1e300)]),
            OTLPBuilders.claudeEvent("api_request", session: "s1", sequence: 2, [("model", "m"), ("cost_usd", 1.7e308), ("input_tokens", 1.7e308)]),
        ]
        let sessions = Self.session(from: .logs(OTLPBuilders.logsRequest(records: records)))
        let counters = try #require(sessions["s1"]).counters
        #expect(counters.apiRequests == 2)
        #expect(counters.inputTokens == SessionCounters.maxCount)
        #expect(counters.outputTokens == SessionCounters.maxCount)
        #expect(counters.cacheReadTokens == 0)  // the larger of the log total (-2^53) and the metric total (0)
        #expect(counters.costUSD == .greatestFiniteMagnitude)  // 1.7e308 twice is infinity
    }

    @Test("metric data points of 1e300 tokens saturate too")
    func hugeTokensInMetrics() throws {
        let request = OTLPBuilders.metricsRequest(metrics: [
            OTLPBuilders.sumMetric("claude_code.token.usage", points: [([("session.id", "s2"), ("type", "input")], 1e300)]),
            OTLPBuilders.sumMetric("claude_code.cost.usage", points: [([("session.id", "s2")], 1e300)]),
        ])
        let counters = try #require(Self.session(from: .metrics(request))["s2"]).counters
        #expect(counters.inputTokens == SessionCounters.maxCount)
        #expect(counters.costUSD == 1e300)
    }

    /// The input libFuzzer found (fuzz/corpus/otlp-protobuf/regression-counters-1e300-metric): a
    /// Claude Code metrics request whose token.usage data point holds a value beyond Int.max.
    @Test("the fuzzer's crashing metrics request decodes and totals without trapping")
    func fuzzerInput() throws {
        let bytes = try #require(Data(base64Encoded: "AQrTBgp+Ch0KDHNlcnZpY2UubmFtZRINCgtjbGF1ZGUtY29kZQocCg9zRXJ2aWNlLnZlcnNpb24SCQoHMi4xLjIyMQoSCgdvcy50eXBlEgcKBWxpbnV4ChUKCm9zLnZlcnNpb24SBwoFNi44LjAKFAoJaG9zdC5hcmNoEgcKBWFtZDY0EtAFCiQKGWNvbS5hbnRocm9waWMuY2xhdWRlX2NvZGUSBzEuMS4yMjESiwEKFmNsYXVkZV9jb2RlLnVzdC5zb2NhZ2UaA1VTRDpsCmYRpr9mV3yX6xgZ6EmuV3yX6xghAAAAAAAA4D86EwoKc2Vzc2lvbi5pZBIFCgNzLTE6HAoFbW9kZWwSEwoRY2xhdWRlLXNvbm5ldC00LTU6FgoMcXVlcnlfc291cmNlEgYKBG1haW4QARgBEpkEChdjbGF1ZGVfY29kZS50b2tlbi51c2FnZRoGdG9rZW5zOvUDCncRcqlnV3yX6xgZ6EmuV3yX6xghAAAAAABAj0A6EwoKc2Vzc2lvbi5pZBIFCgNzLTE6HAoFbW9kZWwSEwoRY2xhdWRlLXNvbm5ldC00LTU6FgoMcXVlcnlfc291cmNlEgYKBG1haW46DwoEdHFwZRIHCgVpbnB1dAp4EY0jaFd8l+sYGehJrld8l+sYIQAAAAAAAGlIOhMKCnNlc3Npb24uaWQSBQoDcy0xOhwKBW1vZGVsEhMKEWNsYXVkZS1zb25uZXQtNC01OhYKDHF1ZXJ5X3NvdXJjZRIGCgRtYWluOhAKBHR5cGUSCAoGb3V0cHV0CnsR0YpoV3yX6xgZ6EmuV3yX6xghAAAAAAAAPkA6EwoKc2Vzc2lvbi5pZBIFCgNzLTA6HAoFbW9kZWwSEwoRY2xhdWRlLXNvbm5ldC00LTU6FgoMcXVlcnlfc291cmNlEgYKBG1haW46EwoEdHlwZRILCgkmYWNoZVJlYWQKfxGsWGpXfJfrGBnoSa5XfJfrGCEAAAAAAAAQQDoTCgpzZXNzaS9uLmlkEgUKA3MtMjocCgVtb2RlbBITChFjbGF1ZGUtc29ubmV0LTQtNToWCgxxdWVyeV9zb3VyY2USBgoEbWFpbjoXCgR0eXZlEg8KDWNhY2hlQ3JlYXRpb24QARgB"))
        let signal = OTLPSignal.allCases[Int(bytes[0]) % OTLPSignal.allCases.count]
        let request = try OTLPRequest(signal: signal, encoding: .protobuf, body: bytes.dropFirst())
        let sessions = Self.session(from: request)
        #expect(!sessions.isEmpty)
        for session in sessions.values {
            let counters = session.counters
            #expect(abs(counters.inputTokens) <= SessionCounters.maxCount)
            #expect(abs(counters.outputTokens) <= SessionCounters.maxCount)
        }
    }
}
