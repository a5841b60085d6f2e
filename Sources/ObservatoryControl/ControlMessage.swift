/// One line of the helper's JSON-lines protocol (UTF-8, one JSON object per line, at most
/// ``LineFramer/defaultMaxLineBytes``). Every request carries a string `id`; its reply echoes it.
///
/// Wrapper → helper: `register`; helper → wrapper: `registered`, then `kill` / `restart` (without
/// `agent`), answered by `result` or `error`. Controller → helper: `list` (→ `agents`), `kill` /
/// `restart` with `agent` (→ the wrapper's `result` under the controller's id, or `error`).
package enum ControlMessage: Sendable, Equatable {
    case register(id: String, agent: AgentRegistration)
    case registered(id: String)
    case list(id: String)
    case agents(id: String, list: HelperAgentList)
    /// `agent` is nil on the helper → wrapper leg (the wrapper owns one agent).
    case kill(id: String, agent: String?, grace: Double)
    case restart(id: String, agent: String?, grace: Double)
    case result(id: String, result: HelperCommandResult)
    case error(id: String, code: String, message: String)

    /// Default grace period between SIGTERM and SIGKILL, seconds.
    package static let defaultGrace = 5.0
    /// Longest grace period accepted, seconds.
    package static let maxGrace = 300.0

    /// The error codes.
    package enum ErrorCode {
        /// No live wrapper owns that agent id.
        package static let notFound = "not_found"
        /// The wrapper did not answer within grace + 5 s.
        package static let timeout = "timeout"
        /// The request could not be read or is missing something.
        package static let badRequest = "bad_request"
        /// A kill or restart of that agent is already under way (or the agent id is taken).
        package static let busy = "busy"
        /// The peer runs as another user.
        package static let forbidden = "forbidden"
        /// The wrapper went away before it answered.
        package static let unavailable = "unavailable"
    }

    /// The request id this message carries or answers.
    package var id: String {
        switch self {
        case .register(let id, _), .registered(let id), .list(let id), .agents(let id, _), .kill(let id, _, _),
            .restart(let id, _, _), .result(let id, _), .error(let id, _, _):
            id
        }
    }

    /// The same message under another request id (the helper relays a wrapper's result to the
    /// controller under the controller's id).
    package func withID(_ newID: String) -> ControlMessage {
        switch self {
        case .register(_, let a): .register(id: newID, agent: a)
        case .registered: .registered(id: newID)
        case .list: .list(id: newID)
        case .agents(_, let l): .agents(id: newID, list: l)
        case .kill(_, let a, let g): .kill(id: newID, agent: a, grace: g)
        case .restart(_, let a, let g): .restart(id: newID, agent: a, grace: g)
        case .result(_, let r): .result(id: newID, result: r)
        case .error(_, let c, let m): .error(id: newID, code: c, message: m)
        }
    }

    // MARK: Encoding

    /// The message as a JSON object.
    package var json: JSONValue {
        switch self {
        case .register(let id, let agent):
            .object([("id", .string(id)), ("type", .string("register")), ("agent", agent.json)])
        case .registered(let id):
            .object([("id", .string(id)), ("type", .string("registered"))])
        case .list(let id):
            .object([("id", .string(id)), ("type", .string("list"))])
        case .agents(let id, let list):
            .object([
                ("id", .string(id)), ("type", .string("agents")), ("agents", .array(list.agents.map(\.json))),
                ("unwrapped", .array(list.unwrapped.map(\.json))),
            ])
        case .kill(let id, let agent, let grace):
            Self.command("kill", id: id, agent: agent, grace: grace)
        case .restart(let id, let agent, let grace):
            Self.command("restart", id: id, agent: agent, grace: grace)
        case .result(let id, let result):
            .object([("id", .string(id)), ("type", .string("result"))] + result.jsonMembers)
        case .error(let id, let code, let message):
            .object([("id", .string(id)), ("type", .string("error")), ("code", .string(code)), ("message", .string(message))])
        }
    }

    private static func command(_ type: String, id: String, agent: String?, grace: Double) -> JSONValue {
        var members: [(String, JSONValue)] = [("id", .string(id)), ("type", .string(type))]
        if let agent { members.append(("agent", .string(agent))) }
        members.append(("grace", .decimal(grace)))
        return .object(members)
    }

    /// The message as one protocol line: compact JSON and a newline.
    package var line: [UInt8] {
        Array((json.compactText + "\n").utf8)
    }

    // MARK: Decoding

    /// A line that is not a valid message; `id` is the request id if one could be read (the
    /// `bad_request` error answers under it).
    package struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        package var id: String?
        package var message: String
        package var description: String { message }
    }

    /// Reads one line (without its newline).
    package static func decode(line: [UInt8]) throws(DecodingError) -> ControlMessage {
        guard line.count <= LineFramer.defaultMaxLineBytes else { throw DecodingError(id: nil, message: "line too long") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: line).value
        } catch {
            throw DecodingError(id: nil, message: "not JSON: \(error)")
        }
        guard value.objectMembers != nil else { throw DecodingError(id: nil, message: "not a JSON object") }
        guard let id = value["id"]?.stringValue else { throw DecodingError(id: nil, message: "missing string id") }
        guard id.utf8.count <= 256 else { throw DecodingError(id: nil, message: "id longer than 256 bytes") }
        func fail(_ message: String) -> DecodingError { DecodingError(id: id, message: message) }
        guard let type = value["type"]?.stringValue else { throw fail("missing type") }
        switch type {
        case "register":
            guard let agentJSON = value["agent"], let agent = AgentRegistration(json: agentJSON) else {
                throw fail("register needs an agent with a non-empty id and a pid")
            }
            return .register(id: id, agent: agent)
        case "registered":
            return .registered(id: id)
        case "list":
            return .list(id: id)
        case "agents":
            let agents = (value["agents"]?.arrayValue ?? []).compactMap(HelperAgent.init(json:))
            let unwrapped = (value["unwrapped"]?.arrayValue ?? []).compactMap(UnwrappedAgentProcess.init(json:))
            return .agents(id: id, list: HelperAgentList(agents: agents, unwrapped: unwrapped))
        case "kill", "restart":
            let agent: String?
            switch value["agent"] {
            case nil, .null?: agent = nil
            case .string(let s)?: agent = s
            default: throw fail("agent must be a string")
            }
            var grace = defaultGrace
            if let g = value["grace"], g != .null {
                guard let seconds = g.doubleValue, seconds >= 0, seconds <= maxGrace else {
                    throw fail("grace must be a number of seconds from 0 to \(Int(maxGrace))")
                }
                grace = seconds
            }
            return type == "kill" ? .kill(id: id, agent: agent, grace: grace) : .restart(id: id, agent: agent, grace: grace)
        case "result":
            guard let result = HelperCommandResult(json: value) else { throw fail("result needs ok and pid") }
            return .result(id: id, result: result)
        case "error":
            return .error(id: id, code: value["code"]?.stringValue ?? "error", message: value["message"]?.stringValue ?? "")
        default:
            throw fail("unknown type \(type)")
        }
    }
}
