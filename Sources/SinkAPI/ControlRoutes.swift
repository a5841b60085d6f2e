import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ObservatoryAuth
import SinkCore

/// The control API: stop or restart an agent that runs under `observatory run`.
///
/// - `POST /control/kill`, `POST /control/restart` with `{"session": ID}` or `{"agent": ID}` and an
///   optional `"grace"` in seconds (default 5): SIGTERM to the agent's process group, SIGKILL after
///   the grace period; restart then starts the same command again with the same agent id.
///   → 200 `{"ok": true, "action", "agent", "pid", "newPid", "exitCode", "exitSignal", "escalated"}`
/// - `GET /api/agents` → `{"helper": "running"|"unreachable", "agents": [...], "unwrapped": [...]}`
/// - `GET /api/audit?limit=N` → `{"entries": [AuditEntry]}`, oldest first (at most 1000)
///
/// Rules, in this order: a remote caller is refused (403) unless the sink runs with
/// `--allow-remote-control`; a control token is always required as `Authorization: Bearer` — never
/// a cookie, so no other site can make a browser send it (401 without or with a bad token, 403 for
/// a device token, 429 after repeated failures); a session that was not started through the
/// wrapper is not controllable (409) — nothing is killed by pid. Every attempt is audited.
package struct ControlRoutes: Sendable {
    private let controller: any AgentController
    private let reader: any SessionReader
    private let authenticator: Authenticator
    private let policy: AccessPolicy
    private let defaultGrace: Duration
    /// Largest grace period a caller may ask for.
    package static let maxGrace: Duration = .seconds(300)

    package init(
        controller: any AgentController, reader: any SessionReader, authenticator: Authenticator, policy: AccessPolicy,
        defaultGrace: Duration = .seconds(5)
    ) {
        self.controller = controller
        self.reader = reader
        self.authenticator = authenticator
        self.policy = policy
        self.defaultGrace = defaultGrace
    }

    private enum Action: String {
        case kill, restart
    }

    private struct ControlInput: Decodable {
        var session: String?
        var agent: String?
        var grace: Double?
    }

    private struct ControlBody: Encodable {
        var ok: Bool
        var action: String
        var agent: String
        var session: String?
        var pid: Int?
        var newPid: Int?
        var exitCode: Int?
        var exitSignal: Int?
        var escalated: Bool
    }

    private struct RosterBody: Encodable {
        var helper: String
        var error: String?
        var agents: [ControlledAgent]
        var unwrapped: [UnwrappedAgent]
    }

    package func addRoutes(to router: Router<ObservatoryRequestContext>) {
        router.post("/control/kill") { request, context in
            try await control(.kill, request: request, context: context)
        }
        router.post("/control/restart") { request, context in
            try await control(.restart, request: request, context: context)
        }
        router.get("/api/agents") { _, _ in
            do throws(AgentControlError) {
                let roster = try await controller.roster()
                return APIRoutes.json(RosterBody(helper: "running", agents: roster.agents, unwrapped: roster.unwrapped))
            } catch {
                return APIRoutes.json(RosterBody(helper: "unreachable", error: Self.describe(error), agents: [], unwrapped: []))
            }
        }
        router.get("/api/audit") { request, _ in
            let limitText = request.uri.queryParameters["limit"]
            guard let limit = limitText.map({ Int($0) }) ?? 100, limit > 0 else {
                return APIRoutes.json(APIRepresentation.Problem(error: "limit must be a positive integer"), status: .badRequest)
            }
            return APIRoutes.json(["entries": authenticator.audit.tail(limit: min(limit, 1000))])
        }
    }

    private func control(_ action: Action, request: Request, context: ObservatoryRequestContext) async throws -> Response {
        var access = context.access ?? policy.access(peer: context.remoteAddress, headers: request.headers)
        let auditAction = "control.\(action.rawValue)"
        func refuse(_ message: String, _ status: HTTPResponse.Status, result: String, target: String? = nil) -> Response {
            authenticator.record(access: access, action: auditAction, target: target, result: result, detail: message)
            return AccessMiddleware.problem(message, status: status, bearer: status == .unauthorized)
        }
        guard access.isLocal || policy.allowRemoteControl else {
            return refuse(
                "control from another machine is off; start the sink with --allow-remote-control to allow it",
                .forbidden, result: "remote_refused")
        }
        switch authenticator.check(secret: Authenticator.bearer(request.headers), scopes: [.control], access: access, action: auditAction) {
        case .accepted(let token):
            access.token = token
        case .missing:
            return refuse("a control token is required: Authorization: Bearer <token>", .unauthorized, result: "no_token")
        case .rejected:
            return AccessMiddleware.problem("this token is not valid (revoked, or mistyped)", status: .unauthorized, bearer: true)
        case .wrongScope:
            return AccessMiddleware.problem("this token cannot control agents; use a control token", status: .forbidden)
        case .rateLimited(let wait):
            return AccessMiddleware.tooManyAttempts(wait)
        }

        let input: ControlInput
        do {
            let body = try await request.body.collect(upTo: 16 * 1024)
            input = try JSONDecoder().decode(ControlInput.self, from: Data(body.readableBytesView))
        } catch {
            return refuse("the body must be JSON: {\"session\": ID} or {\"agent\": ID}", .badRequest, result: "bad_request")
        }
        let grace: Duration
        if let seconds = input.grace {
            guard seconds.isFinite, seconds >= 0, Duration.seconds(seconds) <= Self.maxGrace else {
                return refuse("grace must be between 0 and 300 seconds", .badRequest, result: "bad_request")
            }
            grace = .seconds(seconds)
        } else {
            grace = defaultGrace
        }
        let agentID: String
        switch (input.session, input.agent) {
        case (let session?, nil) where !session.isEmpty:
            guard await reader.session(id: session) != nil else {
                return refuse("no session \(session)", .notFound, result: "not_found", target: "session \(session)")
            }
            // A session of a wrapped agent is keyed by the wrapper's agent id.
            agentID = session
        case (nil, let agent?) where !agent.isEmpty:
            agentID = agent
        default:
            return refuse("give exactly one of \"session\" and \"agent\"", .badRequest, result: "bad_request")
        }
        let target = input.session.map { "session \($0)" } ?? "agent \(agentID)"

        do throws(AgentControlError) {
            let outcome = switch action {
            case .kill: try await controller.kill(agent: agentID, grace: grace)
            case .restart: try await controller.restart(agent: agentID, grace: grace)
            }
            var detail = "pid \(outcome.pid.map(String.init) ?? "?")"
            if let newPid = outcome.newPid { detail += " → new pid \(newPid)" }
            if outcome.escalated { detail += ", SIGKILL after \(grace)" }
            authenticator.record(access: access, action: auditAction, target: target, result: "ok", detail: detail)
            return APIRoutes.json(ControlBody(
                ok: true, action: action.rawValue, agent: agentID, session: input.session, pid: outcome.pid, newPid: outcome.newPid,
                exitCode: outcome.exitCode, exitSignal: outcome.exitSignal, escalated: outcome.escalated))
        } catch {
            let (status, result): (HTTPResponse.Status, String) = switch error {
            case .notControllable: (.conflict, "not_controllable")
            case .unavailable: (.serviceUnavailable, "helper_unavailable")
            case .timeout: (.gatewayTimeout, "timeout")
            case .failed: (.badGateway, "error")
            }
            let message = if case .notControllable = error { Self.describe(.notControllable(target)) } else { Self.describe(error) }
            return refuse(message, status, result: result, target: target)
        }
    }

    static func describe(_ error: AgentControlError) -> String {
        switch error {
        case .unavailable(let reason):
            "the control helper is not reachable (\(reason)); start it with `observatory helper`"
        case .notControllable(let agent):
            "\(agent) was not started with `observatory run` (or has ended), so it cannot be controlled from here"
        case .timeout:
            "the helper did not answer in time"
        case .failed(let message):
            "control failed: \(message)"
        }
    }
}
