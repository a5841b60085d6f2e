import SinkCore
import Testing

@testable import SinkNormalize

@Suite("Attributes: stored and repeated parts")
struct AttributesTests {
    @Test("isRepeated agrees with the set of repeated keys, also for keys of the same lengths")
    func isRepeatedMatchesTheSet() {
        for key in Attributes.repeatedKeys {
            #expect(Attributes.isRepeated(key), "\(key)")
        }
        let others = [
            "", "slugs", "slu", "user.ix", "session.ix", "event.namE", "app.versioN", "terminal.typ", "terminal.types",
            "conversation.ix", "user.account_uui", "user.account_uuiD", "tool_name", "success", "duration_ms", "model",
            "cost_usd", "tool_parameters", "prompt_length", "cache_read_tokens", "gen_ai.conversation.id", "Session.id",
        ]
        for key in others {
            #expect(Attributes.isRepeated(key) == Attributes.repeatedKeys.contains(key), "\(key)")
        }
    }

    @Test("repeated keys are looked up but not stored; a key set twice keeps its last value")
    func split() {
        var attributes = Attributes(values: ["session.id": .string("s1"), "tool_name": .string("Bash"), "user.id": .int(7)])
        #expect(attributes.stored == ["tool_name": .string("Bash")])
        #expect(attributes["session.id"] == .string("s1"))
        #expect(attributes["user.id"] == .int(7))
        #expect(attributes["tool_name"] == .string("Bash"))
        #expect(attributes["missing"] == nil)
        attributes.set("session.id", .string("s2"))
        attributes.set("tool_name", .string("Edit"))
        #expect(attributes.string("session.id") == "s2")
        #expect(attributes.values == ["session.id": .string("s2"), "tool_name": .string("Edit"), "user.id": .int(7)])
        #expect(attributes.has(prefix: "user."))
        #expect(!attributes.has(prefix: "gen_ai."))
        #expect(attributes.takeStored() == ["tool_name": .string("Edit")])
        #expect(attributes.stored.isEmpty)
        #expect(attributes.string("session.id") == "s2")
    }
}
