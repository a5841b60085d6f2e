/// A minimal JSON writer for the hot path (the store writes a JSON object per event). Foundation's
/// `JSONEncoder` costs several microseconds per small object; this appends to one `String`.
package struct JSONText {
    package private(set) var text = ""
    private var needsComma = false

    package init() {
        text.reserveCapacity(256)
    }

    package mutating func beginObject() {
        separate()
        text.append("{")
        needsComma = false
    }

    package mutating func endObject() {
        text.append("}")
        needsComma = true
    }

    package mutating func beginArray() {
        separate()
        text.append("[")
        needsComma = false
    }

    package mutating func endArray() {
        text.append("]")
        needsComma = true
    }

    package mutating func null() {
        separate()
        text.append("null")
        needsComma = true
    }

    /// Appends a value that is already JSON text.
    package mutating func raw(_ json: String) {
        separate()
        text.append(json)
        needsComma = true
    }

    package mutating func key(_ key: String) {
        separate()
        Self.appendQuoted(key, to: &text)
        text.append(":")
        needsComma = false
    }

    package mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &text)
        needsComma = true
    }

    package mutating func number(_ value: Double) {
        separate()
        if value.isFinite {
            if value.rounded() == value, abs(value) < 1e15 {
                text.append(String(Int64(value)))
            } else {
                text.append(String(value))
            }
        } else {
            text.append("null")
        }
        needsComma = true
    }

    package mutating func integer<I: BinaryInteger>(_ value: I) {
        separate()
        text.append(String(value))
        needsComma = true
    }

    package mutating func bool(_ value: Bool) {
        separate()
        text.append(value ? "true" : "false")
        needsComma = true
    }

    package mutating func attribute(_ value: AttributeValue) {
        switch value {
        case .string(let string): self.string(string)
        case .int(let int): integer(int)
        case .double(let double): number(double)
        case .bool(let bool): self.bool(bool)
        }
    }

    private mutating func separate() {
        if needsComma { text.append(",") }
    }

    /// RFC 8259 §7 string escaping.
    package static func appendQuoted(_ value: String, to text: inout String) {
        text.append("\"")
        var plainStart = value.utf8.startIndex
        let utf8 = value.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                text.append(contentsOf: value[plainStart..<index])
                switch byte {
                case UInt8(ascii: "\""): text.append("\\\"")
                case UInt8(ascii: "\\"): text.append("\\\\")
                case 0x0A: text.append("\\n")
                case 0x0D: text.append("\\r")
                case 0x09: text.append("\\t")
                default:
                    let hex = String(byte, radix: 16)
                    text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                }
                plainStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        text.append(contentsOf: value[plainStart..<utf8.endIndex])
        text.append("\"")
    }
}

extension Dictionary where Key == String, Value == AttributeValue {
    /// The attributes as one JSON object, keys sorted.
    package var jsonText: String {
        var writer = JSONText()
        writer.beginObject()
        for key in keys.sorted() {
            writer.key(key)
            writer.attribute(self[key]!)
        }
        writer.endObject()
        return writer.text
    }
}
