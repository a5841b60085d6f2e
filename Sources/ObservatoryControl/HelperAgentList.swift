/// The helper's answer to `list`: wrapped agents (controllable) and unwrapped agent processes
/// (read-only).
package struct HelperAgentList: Sendable, Equatable {
    package var agents: [HelperAgent]
    package var unwrapped: [UnwrappedAgentProcess]

    package init(agents: [HelperAgent], unwrapped: [UnwrappedAgentProcess]) {
        self.agents = agents
        self.unwrapped = unwrapped
    }
}
