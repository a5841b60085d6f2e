import Testing

@testable import SinkRules

/// The pure alert state machine: every transition, with explicit instants.
@Suite("Alert state machine")
struct AlertStateMachineTests {
    static let minute = AlertStateMachine.Timing(forDuration: .seconds(60), keepFiringFor: .zero)

    @Test("for: true 0..59s then false → never fires; true 0..60s → fires exactly at 60s")
    func forBoundary() {
        var machine = AlertStateMachine()
        #expect(machine.evaluate(.true, at: .seconds(0), timing: Self.minute) == .pending)
        for second in 1...59 { #expect(machine.evaluate(.true, at: .seconds(second), timing: Self.minute) == .none) }
        #expect(machine.evaluate(.false, at: .seconds(60), timing: Self.minute) == .pendingDropped)
        #expect(machine.state == .inactive)
        #expect(machine.episode == 0)

        var held = AlertStateMachine()
        _ = held.evaluate(.true, at: .seconds(0), timing: Self.minute)
        #expect(held.evaluate(.true, at: .seconds(59), timing: Self.minute) == .none)
        #expect(held.evaluate(.true, at: .seconds(60), timing: Self.minute) == .firing)
        #expect(held.state == .firing)
        #expect(held.episode == 1)
    }

    @Test("pending + unknown resets; firing + unknown does not start resolution (a data gap is not a recovery)")
    func unknown() {
        var machine = AlertStateMachine()
        _ = machine.evaluate(.true, at: .seconds(0), timing: Self.minute)
        #expect(machine.evaluate(.unknown, at: .seconds(30), timing: Self.minute) == .pendingDropped)
        _ = machine.evaluate(.true, at: .seconds(31), timing: Self.minute)
        #expect(machine.evaluate(.true, at: .seconds(91), timing: Self.minute) == .firing)
        #expect(machine.evaluate(.unknown, at: .seconds(100), timing: Self.minute) == .none)
        #expect(machine.state == .firing)
        #expect(machine.evaluate(.false, at: .seconds(101), timing: Self.minute) == .resolved)
        #expect(machine.state == .resolved)
    }

    @Test("keep_firing_for: false for less than the period then true → one episode, no resolution")
    func keepFiringFor() {
        let timing = AlertStateMachine.Timing(forDuration: .zero, keepFiringFor: .seconds(30))
        var machine = AlertStateMachine()
        #expect(machine.evaluate(.true, at: .seconds(0), timing: timing) == .firing)
        #expect(machine.evaluate(.false, at: .seconds(10), timing: timing) == .none)
        #expect(machine.state == .recovering)
        #expect(machine.evaluate(.false, at: .seconds(39), timing: timing) == .none)
        #expect(machine.evaluate(.true, at: .seconds(40), timing: timing) == .none)
        #expect(machine.state == .firing)
        #expect(machine.evaluate(.false, at: .seconds(50), timing: timing) == .none)
        #expect(machine.evaluate(.false, at: .seconds(80), timing: timing) == .resolved)
        #expect(machine.episode == 1)
    }

    @Test("resolve_when hysteresis: oscillating around the threshold fires once")
    func hysteresis() {
        let timing = AlertStateMachine.Timing(forDuration: .zero, keepFiringFor: .zero)
        var machine = AlertStateMachine()
        var firings = 0
        for step in 0..<100 {
            let value = step.isMultiple(of: 2) ? 0.81 : 0.79
            let action = machine.evaluate(value > 0.8 ? .true : .false, resolveAllowed: value < 0.6, at: .seconds(step), timing: timing)
            if action == .firing { firings += 1 }
        }
        #expect(firings == 1)
        #expect(machine.evaluate(.false, resolveAllowed: true, at: .seconds(100), timing: timing) == .resolved)
    }

    @Test("a longer `for` sends a firing instance back to pending silently; it fires again when the new `for` is met")
    func forChanged() {
        var machine = AlertStateMachine()
        let short = AlertStateMachine.Timing(forDuration: .seconds(15), keepFiringFor: .zero)
        let long = AlertStateMachine.Timing(forDuration: .seconds(3600), keepFiringFor: .zero)
        _ = machine.evaluate(.true, at: .seconds(0), timing: short)
        #expect(machine.evaluate(.true, at: .seconds(15), timing: short) == .firing)
        #expect(machine.evaluate(.true, at: .seconds(40), timing: long) == .backToPending)
        #expect(machine.state == .pending)
        #expect(machine.activeSince == .seconds(0))
        #expect(machine.evaluate(.true, at: .seconds(3599), timing: long) == .none)
        #expect(machine.evaluate(.true, at: .seconds(3600), timing: long) == .firing)
        #expect(machine.episode == 2)
    }

    @Test("event rules: matches while firing count up; resolve resolve_after after the last one")
    func edge() {
        var machine = AlertStateMachine()
        #expect(machine.matched(at: .seconds(0)) == .firing)
        for second in 1..<10 { #expect(machine.matched(at: .seconds(second * 6)) == .none) }
        #expect(machine.count == 10)
        #expect(machine.expire(at: .seconds(54 + 599), resolveAfter: .seconds(600)) == .none)
        #expect(machine.expire(at: .seconds(54 + 600), resolveAfter: .seconds(600)) == .resolved)
        #expect(machine.matched(at: .seconds(700)) == .firing)
        #expect(machine.episode == 2)
    }

    @Test("ending: pending is dropped, firing resolves")
    func end() {
        var pending = AlertStateMachine()
        _ = pending.evaluate(.true, at: .zero, timing: Self.minute)
        #expect(pending.end(at: .seconds(1)) == .pendingDropped)
        var firing = AlertStateMachine()
        _ = firing.matched(at: .zero)
        #expect(firing.end(at: .seconds(1)) == .resolved)
        #expect(firing.end(at: .seconds(2)) == .none)
    }
}
