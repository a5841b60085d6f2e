/// A minimal JSON writer for the hot path (the store writes a JSON object per event). Foundation's
/// `JSONEncoder` costs several microseconds per small object; this appends UTF-8 bytes to one
/// buffer and makes a `String` once at the end.
package struct JSONText {
    private var bytes: [UInt8] = []
    private var needsComma = false

    package init() {
        bytes.reserveCapacity(256)
    }

    /// The JSON written so far.
    package var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The JSON written so far, as UTF-8 bytes (no `String` made).
    package var utf8: [UInt8] { bytes }

    /// Bytes written so far.
    package var count: Int { bytes.count }

    /// The next value starts a new top-level value, with no comma before it: several JSON
    /// texts written one after another into one buffer.
    package mutating func startNextValue() {
        needsComma = false
    }

    package mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    package mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    package mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    package mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    package mutating func null() {
        separate()
        appendASCII("null")
        needsComma = true
    }

    /// Appends a value that is already JSON text.
    package mutating func raw(_ json: String) {
        separate()
        appendUTF8(json)
        needsComma = true
    }

    /// Appends a value that is already JSON text, as UTF-8 bytes.
    package mutating func raw(utf8 json: ArraySlice<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    package mutating func key(_ key: String) {
        separate()
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    package mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &bytes)
        needsComma = true
    }

    package mutating func number(_ value: Double) {
        separate()
        if value.isFinite {
            if value.rounded() == value, abs(value) < 1e15 {
                appendInteger(Int64(value))
            } else {
                appendUTF8(String(value))
            }
        } else {
            appendASCII("null")
        }
        needsComma = true
    }

    package mutating func integer<I: BinaryInteger>(_ value: I) {
        separate()
        if let small = Int64(exactly: value) {
            appendInteger(small)
        } else {
            appendUTF8(String(value))
        }
        needsComma = true
    }

    package mutating func bool(_ value: Bool) {
        separate()
        appendASCII(value ? "true" : "false")
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
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Decimal digits of `value`, without an intermediate `String`.
    private mutating func appendInteger(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits, filled from the end
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// Bytes RFC 8259 §7 requires escaped in a string: `"`, `\` and the controls below 0x20.
    private static let needsEscape: [Bool] = (0..<256).map { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }

    /// RFC 8259 §7 string escaping, into UTF-8 bytes.
    private static func appendQuoted(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var plainStart = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard Self.needsEscape[Int(byte)] else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart..<index]))
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                    ])
                }
                plainStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A value that writes itself as one JSON object into a ``JSONText``.
package protocol JSONObjectWritable {
    /// Appends the value's JSON object to `writer`.
    func writeJSON(into writer: inout JSONText)
}

extension JSONObjectWritable {
    /// The value's JSON object on its own.
    package var jsonText: String {
        var writer = JSONText()
        writeJSON(into: &writer)
        return writer.text
    }
}
