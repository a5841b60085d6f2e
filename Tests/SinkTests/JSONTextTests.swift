import Foundation
import Testing

@testable import SinkCore

@Suite("JSONText")
struct JSONTextTests {
    @Test("attribute keys are ordered by their UTF-8 bytes, as the generic comparison orders them")
    func keyOrder() {
        let keys = [
            "", "a", "b", "A", "aa", "ab", "a.b", "a_b", "tool_name", "tool", "tool_parameters", "é", "e\u{301}", "z", "ü",
            "🙂", "日本", "user.account_uuid", "user.account_id", String(repeating: "x", count: 40), "x",
        ]
        for a in keys {
            for b in keys {
                #expect(
                    [String: AttributeValue].utf8Precedes(a, b) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) < \(b)")
            }
        }
        let attributes: [String: AttributeValue] = ["b": .int(2), "a": .string("x\"y"), "é": .bool(true), "Z": .double(1.5)]
        #expect(attributes.jsonText == #"{"Z":1.5,"a":"x\"y","b":2,"é":true}"#)
    }
}
