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
                    EventAttributes.utf8Precedes(a, b) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) < \(b)")
            }
        }
        let attributes: EventAttributes = ["b": .int(2), "a": .string("x\"y"), "é": .bool(true), "Z": .double(1.5)]
        #expect(attributes.jsonText == #"{"Z":1.5,"a":"x\"y","b":2,"é":true}"#)
    }

    @Test("the stored JSON lists keys in UTF-8 byte order, also keys that share their first 8 bytes")
    func sortedKeys() throws {
        let keys = [
            "user.account_uuid", "user.account_id", "user.acc", "user.ac\u{0}", "user.ac", "tool_parameters", "tool_name",
            "tool", "", "é", "🙂x", "a\u{0}", "a", "zzzzzzzzz", "zzzzzzzz",
        ]
        var attributes: EventAttributes = [:]
        for (index, key) in keys.enumerated() { attributes[key] = .int(Int64(index)) }
        #expect(attributes == EventAttributes(keys.enumerated().map { (key: $0.element, value: AttributeValue.int(Int64($0.offset))) }))
        let decoded = try JSONSerialization.jsonObject(with: Data(attributes.jsonText.utf8)) as? [String: Any]
        #expect(decoded?.count == keys.count)
        let expected = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var written: [String] = []
        var rest = Substring(attributes.jsonText)
        for key in expected {
            var quoted = JSONText()
            quoted.string(key)
            let range = try #require(rest.range(of: quoted.text + ":"))
            written.append(key)
            rest = rest[range.upperBound...]
        }
        #expect(written == expected)
    }
}
