import Foundation
import SinkCore
import Testing

@Suite("EventAttributes")
struct EventAttributesTests {
    /// Keys with shared prefixes, non-ASCII, empty: the order is that of their UTF-8 bytes.
    static let keys = [
        "user.account_uuid", "user.account_id", "tool_parameters", "tool_name", "tool", "", "é", "🙂x", "a\u{0}", "a",
        "zzzzzzzzz", "zzzzzzzz", "Z", "duration_ms", "decision", "source", "success", "tool_result_size_bytes", "b",
    ]

    static func sortedByBytes(_ keys: [String]) -> [String] {
        keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    @Test("built from pairs in any order, short or long: keys sorted by their bytes, the last value of a repeated key kept", arguments: [3, 8, 16, 17, 19])
    func buildFromPairs(count: Int) {
        let keys = Array(Self.keys.prefix(count))
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let shuffled = keys.shuffled(using: &random)
            // Every key twice: first with 0, then with its final value.
            let pairs = shuffled.map { (key: $0, value: AttributeValue.int(0)) }
                + shuffled.map { (key: $0, value: AttributeValue.string("last \($0)")) }
            for attributes in [
                EventAttributes(pairs), EventAttributes(unsortedKeys: pairs.map(\.key), values: pairs.map(\.value)),
            ] {
                #expect(attributes.keys == Self.sortedByBytes(keys))
                #expect(attributes.count == keys.count)
                for key in keys { #expect(attributes[key] == .string("last \(key)")) }
                #expect(attributes["missing"] == nil)
            }
        }
    }

    @Test("setting inserts in order, replaces, and nil removes, short or long", arguments: [5, 19])
    func setAndRemove(count: Int) {
        let keys = Array(Self.keys.prefix(count))
        var attributes: EventAttributes = [:]
        for key in keys.reversed() { attributes[key] = .bool(true) }
        #expect(attributes.keys == Self.sortedByBytes(keys))
        attributes[keys[0]] = .int(7)
        #expect(attributes[keys[0]] == .int(7))
        #expect(attributes.count == keys.count)
        attributes[keys[1]] = nil
        attributes["never there"] = nil
        #expect(attributes[keys[1]] == nil)
        #expect(attributes.keys == Self.sortedByBytes(keys.filter { $0 != keys[1] }))
        #expect(attributes == EventAttributes(attributes.dictionary))
    }

    @Test("equal whatever the order they were built in; JSON in key order; Codable as a JSON object")
    func equalityAndJSON() throws {
        let one: EventAttributes = ["b": .int(2), "a": .string("x"), "c": .double(1.5)]
        let two = EventAttributes(["c": .double(1.5), "b": .int(2), "a": .string("x")] as [String: AttributeValue])
        #expect(one == two)
        #expect(one.hashValue == two.hashValue)
        #expect(one.jsonText == #"{"a":"x","b":2,"c":1.5}"#)
        let decoded = try JSONDecoder().decode(EventAttributes.self, from: Data(one.jsonText.utf8))
        #expect(decoded == one)
        let encoded = try JSONDecoder().decode([String: AttributeValue].self, from: JSONEncoder().encode(one))
        #expect(encoded == one.dictionary)
        #expect(EventAttributes().jsonText == "{}")
    }
}
