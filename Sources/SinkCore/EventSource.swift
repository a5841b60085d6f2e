/// Where an event came from. Totals are kept per source, because agents report the same facts
/// several ways (Claude Code's `api_request` event *and* its `cost.usage` metric *and* its
/// `llm_request` span) and adding them up would count the same dollar two or three times.
package enum EventSource: String, Sendable, Hashable, Codable, CaseIterable {
    case logs
    case metrics
    case traces
    /// Agent hooks (Claude Code hooks, Codex `notify`) bridged by `observatory hook`.
    case hooks
    /// The `observatory run` wrapper's process reports.
    case process
}
