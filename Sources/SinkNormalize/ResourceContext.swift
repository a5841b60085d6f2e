import SinkCore
import SinkOTLP

/// What a resource says about every record under it.
struct ResourceContext {
    let serviceName: String?
    /// The agent the resource's `service.name` names, if it names one.
    let agentFromService: AgentKind?

    init(_ resource: OTLPResource, maxLength: Int) {
        var attributes = Attributes()
        for pair in resource.attributes {
            if let value = pair.value.flattened(maxLength: maxLength) { attributes.set(pair.key, value) }
        }
        self.init(attributes: attributes)
    }

    init(_ pairs: [OTLPLogBatch.Attribute], maxLength: Int) {
        var attributes = Attributes()
        for pair in pairs {
            if let value = pair.value { attributes.set(pair.key, value.truncated(toUTF8Length: maxLength)) }
        }
        self.init(attributes: attributes)
    }

    /// Reads what records need from the resource's attributes; the attributes are not kept.
    private init(attributes: Attributes) {
        serviceName = attributes.string("service.name")
        agentFromService = serviceName.flatMap(Self.agent(serviceName:))
        agentID = attributes.string("observatory.agent.id")
        sessionName = attributes.string("observatory.agent.name")
        cwd = attributes.string("observatory.agent.cwd", "process.working_directory")
        sessionKey = Self.sessionKeys.lazy.compactMap { attributes.string($0) }.first
        host = attributes.string("host.name", "service.instance.id") ?? "local"
    }

    // Looked up once per resource, not once per record.
    /// `observatory.agent.id`: the wrapper's agent id.
    let agentID: String?
    /// `observatory.agent.name`.
    let sessionName: String?
    /// `observatory.agent.cwd`, else `process.working_directory`.
    let cwd: String?
    /// The first of ``sessionKeys`` the resource has.
    let sessionKey: String?
    /// `host.name`, else `service.instance.id`, else `local`.
    let host: String

    static func agent(serviceName: String) -> AgentKind? {
        let name = serviceName.lowercased()
        if name == "claude-code" || name.hasPrefix("claude-code") || name.hasPrefix("claude_code") { return .claudeCode }
        if name.hasPrefix("codex") { return .codex }
        if name.hasPrefix("gemini-cli") || name.hasPrefix("gemini_cli") { return .geminiCLI }
        return nil
    }

    /// Keys that name a session, most specific first: Claude Code and Gemini CLI `session.id`,
    /// Codex `conversation.id`, GenAI `gen_ai.conversation.id`.
    static let sessionKeys = ["session.id", "conversation.id", "gen_ai.conversation.id", "thread.id"]

    /// The session a record belongs to: the Observatory wrapper's agent id (`observatory.agent.id`,
    /// which `observatory run` puts into the agent's `OTEL_RESOURCE_ATTRIBUTES` and its process
    /// records, so telemetry, hooks and process facts of one wrapped agent are one session — the one
    /// the control API stops and restarts), else a session key on the record, else on the resource,
    /// else one session per service and host (so that telemetry with no session id is still kept
    /// and visible).
    func sessionID(_ record: Attributes, agent: AgentKind) -> String {
        if let id = agentID ?? record.string("observatory.agent.id") { return id }
        for key in Self.sessionKeys {
            if let id = record.string(key) { return id }
        }
        // One session per service and host, for records that name none.
        return sessionKey ?? "\(serviceName ?? agent.rawValue)@\(host)"
    }
}
