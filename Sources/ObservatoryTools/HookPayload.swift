import ObservatoryControl
/// Turns one hook payload into a ``HookRecord``.
///
/// - Claude Code (and Gemini CLI, whose hooks use the same field names) write a JSON object on
///   stdin: `session_id`, `hook_event_name`, `cwd`, `transcript_path`, `permission_mode`, and per
///   event `tool_name`, `notification_type`, `message`, `reason`, `source`, `error`, …
/// - Codex runs its `notify` program with one JSON argument: `type` (`agent-turn-complete`),
///   `thread-id`, `turn-id`, `cwd`, `input-messages`, `last-assistant-message`.
///
/// Every scalar field is kept as an attribute (strings cut to ``HookRecord/maxValueLength``);
/// nested objects such as `tool_input` are left out. Conversation text — the prompt, the last
/// assistant message, Codex's input messages — is never sent: only its length or count.
package enum HookPayload {
    /// Fields whose text is replaced by its length (`<name>_length`).
    static let textFields: Set<String> = ["prompt", "last_assistant_message", "last-assistant-message"]
    /// Fields whose array is replaced by its count (`<name>_count`).
    static let listFields: Set<String> = ["input-messages"]

    /// Maps `payload` to a record at `timeUnixNano`. Never fails: an unreadable payload gives a
    /// record with `hook.event` = `unknown` (the sink keeps it as activity of no session).
    package static func record(payload: JSONValue?, agent: HookAgent, timeUnixNano: UInt64) -> HookRecord {
        var event = "unknown"
        var sessionID: String?
        var rest: [(String, HookRecord.Value)] = []
        for (key, value) in payload?.objectMembers ?? [] {
            switch (agent, key) {
            case (.codex, "type"), (_, "hook_event_name"):
                if let s = value.stringValue, !s.isEmpty { event = cut(s) }
                continue
            // Codex keys its telemetry by `conversation.id`, which is the thread id
            // (agent-telemetry.md §2.2); sending the thread id as `session.id` puts notify
            // records and Codex's own telemetry into the same session.
            case (.codex, "thread-id"), (_, "session_id"):
                if let s = value.stringValue, !s.isEmpty { sessionID = cut(s) }
                continue
            case (.codex, "turn-id"):
                if let s = value.stringValue { rest.append(("turn.id", .string(cut(s)))) }
                continue
            default:
                break
            }
            if textFields.contains(key) {
                if let s = value.stringValue { rest.append(("\(key)_length", .int(Int64(s.utf8.count)))) }
                continue
            }
            if listFields.contains(key) {
                if let items = value.arrayValue { rest.append(("\(key)_count", .int(Int64(items.count)))) }
                continue
            }
            switch value {
            case .string(let s): rest.append((key, .string(cut(s))))
            case .bool(let b): rest.append((key, .bool(b)))
            case .number(let n):
                if let i = Int64(n) {
                    rest.append((key, .int(i)))
                } else if let d = Double(n) {
                    rest.append((key, .double(d)))
                }
            case .null, .array, .object:
                continue
            }
        }
        var attributes: [(String, HookRecord.Value)] = [("hook.event", .string(event)), ("hook.agent", .string(agent.rawValue))]
        if let sessionID { attributes.append(("session.id", .string(sessionID))) }
        attributes += rest
        return HookRecord(timeUnixNano: timeUnixNano, attributes: attributes)
    }

    /// Cuts `s` to at most ``HookRecord/maxValueLength`` UTF-8 bytes on a character boundary.
    static func cut(_ s: String) -> String {
        guard s.utf8.count > HookRecord.maxValueLength else { return s }
        var out = ""
        var used = 0
        for ch in s {
            let n = ch.utf8.count
            if used + n > HookRecord.maxValueLength - 3 { break }
            out.append(ch)
            used += n
        }
        return out + "…"
    }
}
