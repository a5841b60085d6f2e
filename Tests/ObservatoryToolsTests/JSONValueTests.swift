import ObservatoryControl
import ObservatoryTools
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    @Test("keeps key order and number text through parse and print")
    func roundTrip() throws {
        let text = """
            {
              "z": 1.50,
              "a": [true, false, null, -2e3],
              "m": {"k": "v\\n\\"q\\" \\u00e9 \\ud83d\\ude00"},
              "e": {},
              "l": []
            }
            """
        let (value, comments) = try JSONValue.parse(text)
        #expect(!comments)
        #expect(value.objectMembers?.map(\.0) == ["z", "a", "m", "e", "l"])
        #expect(value["z"] == .number("1.50"))
        #expect(value["m"]?["k"] == .string("v\n\"q\" é 😀"))
        let printed = value.prettyText()
        #expect(try JSONValue.parse(printed).value == value)
        #expect(value.compactText == #"{"z":1.50,"a":[true,false,null,-2e3],"m":{"k":"v\n\"q\" é 😀"},"e":{},"l":[]}"#)
    }

    @Test("prints like JSON.stringify(value, null, 2)")
    func prettyLayout() throws {
        let value = try JSONValue.parse(#"{"a":{"b":[1,{"c":"d"}]},"e":[]}"#).value
        #expect(value.prettyText() == "{\n  \"a\": {\n    \"b\": [\n      1,\n      {\n        \"c\": \"d\"\n      }\n    ]\n  },\n  \"e\": []\n}")
    }

    @Test("accepts and reports comments")
    func comments() throws {
        let (value, comments) = try JSONValue.parse("// top\n{ /* inline */ \"a\": 1 // trailing\n}")
        #expect(comments)
        #expect(value["a"] == .number("1"))
    }

    @Test("rejects broken documents", arguments: ["", "{", "{\"a\" 1}", "[1,]x", "{\"a\":tru}", "\"open"])
    func invalid(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(text) }
    }

    @Test("set replaces in place, remove drops")
    func editing() throws {
        var value = try JSONValue.parse(#"{"a":1,"b":2}"#).value
        value.set("a", .string("x"))
        value.set("c", .bool(true))
        value.remove("b")
        #expect(value.compactText == #"{"a":"x","c":true}"#)
    }
}
