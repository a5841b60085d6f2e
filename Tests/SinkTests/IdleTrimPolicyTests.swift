@testable import SinkApp
import Testing

@Suite("Idle memory trim policy")
struct IdleTrimPolicyTests {
    @Test("trims once per quiet spell after work, never while busy, never for the start")
    func quietSpells() {
        var policy = IdleTrimPolicy()
        // start, then quiet: the start is not work to trim after
        #expect(policy.observe(workDone: 0) == false)
        #expect(policy.observe(workDone: 0) == false)
        // busy for two intervals
        #expect(policy.observe(workDone: 5_000) == false)
        #expect(policy.observe(workDone: 90_000) == false)
        // quiet: trim once
        #expect(policy.observe(workDone: 90_000) == true)
        #expect(policy.observe(workDone: 90_000) == false)
        #expect(policy.observe(workDone: 90_000) == false)
        // a little more work, quiet again: trim again
        #expect(policy.observe(workDone: 90_010) == false)
        #expect(policy.observe(workDone: 90_010) == true)
    }
}
