import SinkCore

/// The Observatory's own records: hook payloads bridged by `observatory hook` (`observatory.hook`,
/// attribute `hook.event` = the Claude Code hook name or Codex's `agent-turn-complete`) and process
/// reports of the `observatory run` wrapper (`observatory.process`, attribute `process.event`).
/// These are the exact lifecycle signals telemetry lacks (agent-telemetry.md §6).
enum ObservatoryEventAdapter {
    static let hookEventName = "observatory.hook"
    static let processEventName = "observatory.process"

    static func mapHook(attributes a: Attributes) -> EventMapping {
        var facts = EventFacts(cwd: a.string("cwd"))
        facts.toolName = a.string("tool_name")
        switch a.string("hook.event", "hook_event_name") ?? "" {
        case "SessionStart": return EventMapping(.sessionStart, facts)
        case "UserPromptSubmit": return EventMapping(.userPrompt, facts)
        case "PermissionRequest": return EventMapping(.permissionRequest, facts)
        case "Notification":
            switch a.string("notification_type") ?? "" {
            case "permission_prompt", "elicitation_dialog", "agent_needs_input": return EventMapping(.permissionRequest, facts)
            case "idle_prompt": return EventMapping(.turnFinished, facts)
            default: return EventMapping(.other, facts)
            }
        case "PreToolUse", "SubagentStart", "SubagentStop", "PreCompact", "PostCompact":
            return EventMapping(.activity, facts)
        case "PostToolUse":
            facts.success = true
            return EventMapping(.toolResult, facts)
        case "PostToolUseFailure":
            facts.success = false
            facts.error = a.string("error")
            return EventMapping(.toolResult, facts)
        case "Stop", "agent-turn-complete":
            return EventMapping(.turnFinished, facts)
        case "StopFailure":
            // The turn ended because the API failed (rate limit, overload, billing…): the agent is
            // idle and needs the human; the failure counts as an API error.
            facts.error = a.string("error", "reason") ?? "stop failure"
            facts.success = false
            return EventMapping(.turnFinished, facts)
        case "SessionEnd":
            return EventMapping(.sessionEnd, facts)
        default:
            return EventMapping(.other, facts)
        }
    }

    static func mapProcess(attributes a: Attributes) -> EventMapping {
        var facts = EventFacts(cwd: a.string("process.cwd", "cwd"))
        facts.sessionName = a.string("observatory.agent.name")
        switch a.string("process.event") ?? "" {
        case "start":
            return EventMapping(.processStart, facts)
        case "exit":
            facts.exitCode = a.integer("process.exit_code")
            facts.exitSignal = a.integer("process.exit_signal")
            if a.bool("process.stop_requested") == true { facts.stopRequested = true }
            return EventMapping(.processExit, facts)
        default:
            return EventMapping(.other, facts)
        }
    }
}
