import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ObservatoryAuth
import SinkAPI
import SinkApp
import SinkCore
import SinkTesting
import Synchronization
import Testing

/// A controller that records calls and answers as told: the helper is tested on its own with real
/// processes (tests/e2e); here the API's rules are what is under test.
final class RecordingAgentController: AgentController {
    let calls = Mutex<[String]>([])
    let answer: Mutex<Result<AgentControlOutcome, AgentControlError>>

    init(answer: Result<AgentControlOutcome, AgentControlError> = .success(AgentControlOutcome(pid: 42, exitSignal: 15, escalated: false))) {
        self.answer = Mutex(answer)
    }

    func roster() async throws(AgentControlError) -> AgentRoster {
        AgentRoster(
            agents: [ControlledAgent(id: "agent-1", name: "claude · repo", pid: 42, argv: ["claude"], cwd: "/src", started: nil, restarts: 0)],
            unwrapped: [])
    }

    func kill(agent: String, grace: Duration) async throws(AgentControlError) -> AgentControlOutcome {
        calls.withLock { $0.append("kill \(agent) \(grace)") }
        return try answer.withLock { $0 }.get()
    }

    func restart(agent: String, grace: Duration) async throws(AgentControlError) -> AgentControlOutcome {
        calls.withLock { $0.append("restart \(agent) \(grace)") }
        var outcome = try answer.withLock { $0 }.get()
        outcome.newPid = 43
        return outcome
    }
}

@Suite("Control API and access rules")
struct ControlAPITests {
    struct Harness {
        let sink: Sink
        let controller: RecordingAgentController
        let controlToken: String
        let tokens: TokenFile
        let directory: URL
    }

    func withSink(
        allowRemoteControl: Bool = false, answer: Result<AgentControlOutcome, AgentControlError>? = nil,
        _ body: @escaping @Sendable (Harness, any TestClientProtocol) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = SinkConfiguration(environment: [:])
        configuration.dataDirectory = directory.path
        configuration.dashboardDirectory = nil
        configuration.control.allowRemote = allowRemoteControl
        let controller = answer.map { RecordingAgentController(answer: $0) } ?? RecordingAgentController()
        let sink = try await Sink(
            configuration: configuration, clock: ManualWallClock(.testEpoch), controller: controller, logger: Logger(label: "test"))
        let secret = try #require(sink.newSecrets.first { $0.token.scope == .control }?.secret)
        let harness = Harness(
            sink: sink, controller: controller, controlToken: secret, tokens: TokenFile(dataDirectory: directory.path), directory: directory)
        let app = Application(router: sink.apiRouter(), services: [sink.tracker])
        try await app.test(.live) { api in try await body(harness, api) }
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    static func kill(_ api: any TestClientProtocol, token: String?, body: String = #"{"agent":"agent-1"}"#, headers: HTTPFields = [:])
        async throws -> (HTTPResponse.Status, [String: Any], HTTPFields)
    {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        headers[.contentType] = "application/json"
        return try await api.execute(uri: "/control/kill", method: .post, headers: headers, body: ByteBuffer(string: body)) {
            ($0.status, (try? Self.json($0.body)) ?? [:], $0.headers)
        }
    }

    @Test("a control token is made on first start, shown once, stored hashed with mode 0600")
    func firstStartToken() async throws {
        try await withSink { harness, _ in
            let path = harness.directory.appendingPathComponent("tokens.json").path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(harness.controlToken.hasPrefix("obsc_"))
            #expect(!text.contains(harness.controlToken))
            #expect(text.contains(AccessToken.digest(of: harness.controlToken)))
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // A second start makes no second control token.
            #expect(try harness.tokens.createInitialControlToken(actor: "test") == nil)
        }
    }

    @Test("kill and restart: no token 401, wrong token 401, device token 403, control token 200; all audited")
    func tokens() async throws {
        try await withSink { harness, api in
            #expect(try await Self.kill(api, token: nil).0 == .unauthorized)
            #expect(try await Self.kill(api, token: "obsc_wrong").0 == .unauthorized)
            let device = try harness.tokens.create(name: "phone", scope: .device, actor: "test")
            #expect(try await Self.kill(api, token: device.secret).0 == .forbidden)
            #expect(harness.controller.calls.withLock { $0 }.isEmpty)

            let (status, body, _) = try await Self.kill(api, token: harness.controlToken, body: #"{"agent":"agent-1","grace":2}"#)
            #expect(status == .ok)
            #expect(body["ok"] as? Bool == true)
            #expect(body["pid"] as? Int == 42)
            #expect(body["exitSignal"] as? Int == 15)
            try await api.execute(
                uri: "/control/restart", method: .post, headers: [.authorization: "Bearer \(harness.controlToken)"],
                body: ByteBuffer(string: #"{"agent":"agent-1"}"#)
            ) { response in
                #expect(response.status == .ok)
                let newPid = try Self.json(response.body)["newPid"] as? Int
                #expect(newPid == 43)
            }
            #expect(harness.controller.calls.withLock { $0 } == ["kill agent-1 2.0 seconds", "restart agent-1 5.0 seconds"])

            let audit = AuditLog(dataDirectory: harness.directory.path).tail(limit: 100).filter { $0.action.hasPrefix("control.") }
            #expect(audit.map(\.result) == ["no_token", "bad_token", "wrong_scope", "ok", "ok"])
            #expect(audit[3].actor.contains("(control)") && audit[3].target == "agent agent-1")
            #expect(audit.allSatisfy { !($0.detail ?? "").contains(harness.controlToken) })
        }
    }

    @Test("repeated wrong tokens are rate-limited with Retry-After, even the right token then waits")
    func rateLimit() async throws {
        try await withSink { harness, api in
            for _ in 0..<FailedAttemptLimiter.freeFailures {
                #expect(try await Self.kill(api, token: "obsc_guess").0 == .unauthorized)
            }
            #expect(try await Self.kill(api, token: "obsc_guess").0 == .unauthorized)  // starts the lockout
            let (status, _, headers) = try await Self.kill(api, token: harness.controlToken)
            #expect(status == .tooManyRequests)
            #expect(Int(headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(harness.controller.calls.withLock { $0 }.isEmpty)
        }
    }

    @Test("remote control is refused unless allowed; revoked tokens stop working at once")
    func remoteAndRevoked() async throws {
        try await withSink { harness, api in
            let forwarded: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]
            let (status, body, _) = try await Self.kill(api, token: harness.controlToken, headers: forwarded)
            #expect(status == .forbidden)
            #expect((body["error"] as? String)?.contains("--allow-remote-control") == true)
        }
        try await withSink(allowRemoteControl: true) { harness, api in
            let forwarded: HTTPFields = [HTTPField.Name("CF-Connecting-IP")!: "203.0.113.9"]
            #expect(try await Self.kill(api, token: harness.controlToken, headers: forwarded).0 == .ok)
            let id = try #require(try harness.tokens.tokens().first { $0.scope == .control }?.id)
            _ = try harness.tokens.revoke(id, actor: "test")
            #expect(try await Self.kill(api, token: harness.controlToken, headers: forwarded).0 == .unauthorized)
        }
    }

    @Test("sessions that are not wrapped are not controllable (409); unknown 404; helper down 503; bad bodies 400")
    func errors() async throws {
        try await withSink(answer: .failure(.notControllable("x"))) { harness, api in
            let (status, body, _) = try await Self.kill(api, token: harness.controlToken)
            #expect(status == .conflict)
            #expect((body["error"] as? String)?.contains("observatory run") == true)
            #expect(try await Self.kill(api, token: harness.controlToken, body: #"{"session":"nope"}"#).0 == .notFound)
            #expect(try await Self.kill(api, token: harness.controlToken, body: #"{"session":"a","agent":"b"}"#).0 == .badRequest)
            #expect(try await Self.kill(api, token: harness.controlToken, body: #"{"agent":"a","grace":-1}"#).0 == .badRequest)
            #expect(try await Self.kill(api, token: harness.controlToken, body: "kill everything").0 == .badRequest)
        }
        try await withSink(answer: .failure(.unavailable("/run/x.sock: no such file"))) { harness, api in
            let (status, body, _) = try await Self.kill(api, token: harness.controlToken)
            #expect(status == .serviceUnavailable)
            #expect((body["error"] as? String)?.contains("observatory helper") == true)
        }
    }

    @Test("cross-site requests and remote reads without a token are refused; login sets an HttpOnly cookie")
    func accessRules() async throws {
        try await withSink { harness, api in
            try await api.execute(
                uri: "/api/silences", method: .post, headers: [.origin: "https://evil.example"], body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .forbidden) }
            try await api.execute(
                uri: "/control/kill", method: .post,
                headers: [.origin: "https://evil.example", .authorization: "Bearer \(harness.controlToken)"],
                body: ByteBuffer(string: #"{"agent":"agent-1"}"#)
            ) { #expect($0.status == .forbidden) }

            let remote: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.7"]
            try await api.execute(uri: "/api/sessions", method: .get, headers: remote) {
                #expect($0.status == .unauthorized)
                #expect($0.headers[.wwwAuthenticate] != nil)
            }
            try await api.execute(uri: "/healthz", method: .get, headers: remote) { #expect($0.status == .ok) }
            try await api.execute(uri: "/api/auth", method: .get, headers: remote) {
                let loginRequired = try Self.json($0.body)["loginRequired"] as? Bool
                #expect(loginRequired == true)
            }
            let device = try harness.tokens.create(name: "phone", scope: .device, actor: "test")
            var loginHeaders = remote
            loginHeaders[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            let cookie = try await api.execute(
                uri: "/api/login", method: .post, headers: loginHeaders, body: ByteBuffer(string: #"{"token":"\#(device.secret)"}"#)
            ) { response in
                #expect(response.status == .noContent)
                let setCookie = try #require(response.headers[.setCookie])
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Secure"))
                return String(setCookie.split(separator: ";")[0])
            }
            var withCookie = remote
            withCookie[.cookie] = cookie
            try await api.execute(uri: "/api/sessions", method: .get, headers: withCookie) { #expect($0.status == .ok) }
            // A cookie never carries control: control needs the bearer header.
            withCookie[.contentType] = "application/json"
            try await api.execute(uri: "/control/kill", method: .post, headers: withCookie, body: ByteBuffer(string: #"{"agent":"agent-1"}"#)) {
                #expect($0.status == .forbidden)
            }
            try await api.execute(uri: "/api/agents", method: .get) { response in
                let body = try Self.json(response.body)
                #expect(body["helper"] as? String == "running")
                #expect((body["agents"] as? [[String: Any]])?.first?["id"] as? String == "agent-1")
            }
        }
    }
}

@Suite("Failed-attempt limiter")
struct FailedAttemptLimiterTests {
    @Test("free failures, then doubling lockouts up to the cap; success clears; old failures are forgotten")
    func policy() {
        var limiter = FailedAttemptLimiter()
        var now = Duration.zero
        for _ in 0..<FailedAttemptLimiter.freeFailures {
            #expect(limiter.recordFailure(client: "a", now: now) == nil)
        }
        #expect(limiter.recordFailure(client: "a", now: now) == .seconds(30))
        #expect(limiter.retryAfter(client: "a", now: now + .seconds(10)) == .seconds(20))
        #expect(limiter.retryAfter(client: "b", now: now) == nil)
        now += .seconds(31)
        #expect(limiter.retryAfter(client: "a", now: now) == nil)
        #expect(limiter.recordFailure(client: "a", now: now) == .seconds(60))
        for _ in 0..<20 { limiter.recordFailure(client: "a", now: now) }
        #expect(limiter.retryAfter(client: "a", now: now) == FailedAttemptLimiter.maxLockout)
        limiter.recordSuccess(client: "a")
        #expect(limiter.retryAfter(client: "a", now: now) == nil)
        for _ in 0..<FailedAttemptLimiter.freeFailures { limiter.recordFailure(client: "c", now: now) }
        #expect(limiter.recordFailure(client: "c", now: now + FailedAttemptLimiter.forgetAfter + .seconds(1)) == nil)
    }

    @Test("the table is bounded")
    func bounded() {
        var limiter = FailedAttemptLimiter()
        for index in 0..<(FailedAttemptLimiter.maxClients + 100) {
            limiter.recordFailure(client: "client-\(index)", now: .seconds(index))
        }
        #expect(limiter.trackedClients == FailedAttemptLimiter.maxClients)
    }
}

@Suite("Access policy")
struct AccessPolicyTests {
    @Test("Host allowlist: loopback names and configured hosts only")
    func hosts() {
        let policy = AccessPolicy(allowedHosts: ["obs.example.com"])
        for allowed in ["localhost:4320", "127.0.0.1:4320", "[::1]:4320", "obs.example.com", "OBS.example.com:443", "app.localhost"] {
            #expect(policy.hostAllowed(allowed), "\(allowed)")
        }
        for refused in ["evil.example:4320", "127.0.0.1.evil.example", "192.168.1.2:4320", "", "[::2]:80"] {
            #expect(!policy.hostAllowed(refused), "\(refused)")
        }
        #expect(!policy.hostAllowed(nil))
    }

    @Test("same origin: scheme-default ports, and nothing else")
    func origins() {
        #expect(AccessPolicy.sameOrigin(origin: nil, authority: "localhost:4320"))
        #expect(AccessPolicy.sameOrigin(origin: "http://localhost:4320", authority: "localhost:4320"))
        #expect(AccessPolicy.sameOrigin(origin: "https://obs.example.com", authority: "obs.example.com"))
        #expect(AccessPolicy.sameOrigin(origin: "https://obs.example.com", authority: "obs.example.com:443"))
        #expect(!AccessPolicy.sameOrigin(origin: "http://localhost:4321", authority: "localhost:4320"))
        #expect(!AccessPolicy.sameOrigin(origin: "null", authority: "localhost:4320"))
        #expect(!AccessPolicy.sameOrigin(origin: "http://evil.example", authority: "localhost:4320"))
    }

    @Test("local means a loopback peer without proxy headers; the limiter keys forwarded clients only behind a local proxy")
    func locality() throws {
        let policy = AccessPolicy()
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        let lan = try SocketAddress(ipAddress: "192.168.1.20", port: 5000)
        #expect(policy.access(peer: loopback, headers: [:]).isLocal)
        #expect(!policy.access(peer: nil, headers: [:]).isLocal)
        #expect(!policy.access(peer: lan, headers: [:]).isLocal)
        let proxied = policy.access(peer: loopback, headers: [HTTPField.Name("CF-Connecting-IP")!: "203.0.113.5"])
        #expect(!proxied.isLocal)
        #expect(proxied.limiterKey == "203.0.113.5")
        let spoofing = policy.access(peer: lan, headers: [HTTPField.Name("X-Forwarded-For")!: "10.9.9.9"])
        #expect(spoofing.limiterKey == "192.168.1.20")
        // Docker's published port forwards from the network's gateway: local when configured so.
        let docker = AccessPolicy(localNetworks: [IPNetwork("172.30.44.1/32")!])
        let gateway = try SocketAddress(ipAddress: "172.30.44.1", port: 5000)
        let container = try SocketAddress(ipAddress: "172.30.44.7", port: 5000)
        #expect(docker.access(peer: gateway, headers: [:]).isLocal)
        #expect(!docker.access(peer: container, headers: [:]).isLocal)
        #expect(!docker.access(peer: gateway, headers: [HTTPField.Name("CF-Connecting-IP")!: "203.0.113.5"]).isLocal)
    }

    @Test("CIDR networks: IPv4, IPv6, v4-mapped, bad input")
    func networks() throws {
        let v4 = try #require(IPNetwork("10.1.0.0/16"))
        #expect(v4.contains("10.1.200.3") && !v4.contains("10.2.0.1") && v4.contains("::ffff:10.1.0.9"))
        let v6 = try #require(IPNetwork("fd00::/8"))
        #expect(v6.contains("fd12::1") && !v6.contains("fe80::1") && !v6.contains("10.1.0.1"))
        #expect(IPNetwork("172.30.44.1")?.contains("172.30.44.1") == true)
        #expect(IPNetwork("0.0.0.0/0")?.contains("8.8.8.8") == true)
        for bad in ["", "10.1.0.0/33", "not-an-ip", "10.1.0.0/x", "::/129"] { #expect(IPNetwork(bad) == nil, "\(bad)") }
        #expect(v4.description == "10.1.0.0/16")
    }
}
