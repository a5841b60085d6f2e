import Foundation
import SinkApp
import SinkCore
import SinkIngest
import SinkStore
import Testing

@Suite("Sink configuration")
struct SinkConfigurationTests {
    @Test("defaults: loopback, ports 4318 and 4320, data under the home directory")
    func defaults() {
        let configuration = SinkConfiguration(environment: ["HOME": "/home/dev"])
        #expect(configuration.ingestHost == "127.0.0.1")
        #expect(configuration.ingestPort == 4318)
        #expect(configuration.apiPort == 4320)
        #expect(configuration.dataDirectory == "/home/dev/.local/share/observatory")
        #expect(configuration.validate().isEmpty)
        #expect(SinkConfiguration(environment: ["XDG_DATA_HOME": "/x"]).dataDirectory == "/x/observatory")
    }

    @Test("YAML file, then environment")
    func yamlAndEnvironment() throws {
        var configuration = SinkConfiguration(environment: [:])
        try configuration.apply(
            yaml: """
                data_dir: /var/obs
                ingest: { port: 14318, max_request_bytes: 4_000_000 }
                api:
                  port: 14320
                sessions: { idle_after: 90s, end_after: 2h }
                store: { max_events: 50000, max_age: 3d, synchronous: full }
                log_level: debug
                """, file: "sink.yaml")
        #expect(configuration.dataDirectory == "/var/obs")
        #expect(configuration.ingestPort == 14318)
        #expect(configuration.receiver.maxRequestBytes == 4_000_000)
        #expect(configuration.apiPort == 14320)
        #expect(configuration.timeouts.idleAfter == .seconds(90))
        #expect(configuration.timeouts.endAfter == .seconds(7200))
        #expect(configuration.retention.maxAge == .seconds(3 * 86400))
        #expect(configuration.synchronous == .full)
        #expect(configuration.validate().isEmpty)
        try configuration.apply(environment: ["OBSERVATORY_API_PORT": "9999", "OBSERVATORY_DATA_DIR": "/tmp/o"])
        #expect(configuration.apiPort == 9999)
        #expect(configuration.dataDirectory == "/tmp/o")
    }

    @Test("unknown keys and wrong types name the file, line and column", arguments: [
        ("ingest:\n  prot: 1\n", "sink.yaml:2:9: unknown key \"prot\" in ingest"),
        ("api: { port: many }\n", "sink.yaml:1:14: api.port must be a whole number"),
        ("sessions: { idle_after: soon }\n", "idle_after must be a duration"),
        ("retention: 5\n", "unknown key \"retention\" in the top level"),
        ("store: { synchronous: sometimes }\n", "store.synchronous must be normal or full"),
        ("ingest: [1, 2]\n", "ingest must be a mapping"),
        ("{ unclosed\n", "not valid YAML"),
    ])
    func errors(yaml: String, expected: String) {
        var configuration = SinkConfiguration(environment: [:])
        do {
            try configuration.apply(yaml: yaml, file: "sink.yaml")
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("validation lists every problem")
    func validation() {
        var configuration = SinkConfiguration(environment: [:])
        configuration.ingestHost = "0.0.0.0"
        configuration.ingestPort = 70000
        configuration.logLevel = "loud"
        let problems = configuration.validate()
        #expect(problems.count == 3)
        #expect(problems.contains { $0.contains("ingest.host is 0.0.0.0") && $0.contains("ingest.token") })
    }

    @Test("a non-loopback API is allowed (remote requests need tokens); non-loopback ingest needs ingest.token")
    func remoteBinds() throws {
        var configuration = SinkConfiguration(environment: [:])
        configuration.apiHost = "0.0.0.0"
        #expect(configuration.validate().isEmpty)
        configuration.ingestHost = "0.0.0.0"
        try configuration.apply(environment: ["OBSERVATORY_INGEST_TOKEN": "short"])
        #expect(configuration.validate() == ["ingest.token must be at least 16 characters"])
        try configuration.apply(environment: [
            "OBSERVATORY_INGEST_TOKEN": "a-long-enough-shared-secret", "OBSERVATORY_ALLOWED_HOSTS": "obs.example.com, phone.lan",
            "OBSERVATORY_ALLOW_REMOTE_CONTROL": "true", "OBSERVATORY_HELPER_SOCKET": "/run/h.sock",
        ])
        #expect(configuration.validate().isEmpty)
        #expect(configuration.allowedHosts == ["obs.example.com", "phone.lan"])
        #expect(configuration.control.allowRemote)
        #expect(configuration.control.helperSocket == "/run/h.sock")
        try configuration.apply(yaml: "control: { grace: 2s, allow_remote: no }\napi: { allowed_hosts: [a.example] }\n", file: "sink.yaml")
        #expect(configuration.control.grace == .seconds(2))
        #expect(!configuration.control.allowRemote)
        #expect(configuration.allowedHosts == ["a.example"])
    }
}
