import ObservatoryControl
import Testing

@Suite struct ControlMessageTests {
    @Test func registerRoundTrips() throws {
        let agent = AgentRegistration(
            id: "a1", name: "fix \"bug\"", pid: 42, pgid: 42, argv: ["claude", "--resume", "$(touch /tmp/x); |"],
            cwd: "/src/app", started: 1_718_000_000.5, restartWith: ["claude", "--continue"], restarts: 2)
        let message = ControlMessage.register(id: "1", agent: agent)
        var line = message.line
        #expect(line.last == 0x0A)
        line.removeLast()
        #expect(!line.contains(0x0A))
        #expect(try ControlMessage.decode(line: line) == message)
    }

    @Test func resultEncodesNullsAndRoundTrips() throws {
        let result = HelperCommandResult(ok: true, pid: 10, newPID: nil, exitCode: nil, exitSignal: 15, escalated: true)
        let message = ControlMessage.result(id: "h7", result: result)
        let text = message.json.compactText
        #expect(text == #"{"id":"h7","type":"result","ok":true,"pid":10,"new_pid":null,"exit_code":null,"exit_signal":15,"escalated":true}"#)
        #expect(try ControlMessage.decode(line: Array(text.utf8)) == message)
    }

    @Test func commandsWithAndWithoutAgent() throws {
        #expect(ControlMessage.kill(id: "h7", agent: nil, grace: 5).json.compactText == #"{"id":"h7","type":"kill","grace":5}"#)
        #expect(
            try ControlMessage.decode(line: Array(#"{"id":"x","type":"restart","agent":"a1","grace":0.5}"#.utf8))
                == .restart(id: "x", agent: "a1", grace: 0.5))
        #expect(try ControlMessage.decode(line: Array(#"{"id":"x","type":"kill","agent":"a1"}"#.utf8)) == .kill(id: "x", agent: "a1", grace: 5))
    }

    @Test func agentsListRoundTrips() throws {
        let list = HelperAgentList(
            agents: [HelperAgent(id: "a", name: "n", pid: 1, pgid: 1, argv: ["x"], cwd: "/", started: 3, restarts: 0)],
            unwrapped: [UnwrappedAgentProcess(pid: 9, kind: "codex", argv: ["codex"], cwd: nil)])
        let message = ControlMessage.agents(id: "l", list: list)
        #expect(try ControlMessage.decode(line: Array(message.json.compactText.utf8)) == message)
    }

    @Test(arguments: [
        (#"not json"#, nil as String?),
        (#"[1]"#, nil),
        (#"{"type":"list"}"#, nil),
        (#"{"id":5,"type":"list"}"#, nil),
        (#"{"id":"q"}"#, "q"),
        (#"{"id":"q","type":"explode"}"#, "q"),
        (#"{"id":"q","type":"kill","agent":"a","grace":-1}"#, "q"),
        (#"{"id":"q","type":"kill","agent":"a","grace":"5"}"#, "q"),
        (#"{"id":"q","type":"kill","agent":7}"#, "q"),
        (#"{"id":"q","type":"register","agent":{"id":"","pid":3}}"#, "q"),
        (#"{"id":"q","type":"register","agent":{"id":"a","pid":0}}"#, "q"),
    ])
    func badLinesAreRejectedWithTheirId(line: String, id: String?) {
        #expect(throws: ControlMessage.DecodingError.self) { try ControlMessage.decode(line: Array(line.utf8)) }
        do {
            _ = try ControlMessage.decode(line: Array(line.utf8))
        } catch {
            #expect(error.id == id)
        }
    }

    @Test func withIDKeepsThePayload() {
        let result = HelperCommandResult(ok: true, pid: 1, newPID: 2)
        #expect(ControlMessage.result(id: "h1", result: result).withID("c9") == .result(id: "c9", result: result))
    }
}
