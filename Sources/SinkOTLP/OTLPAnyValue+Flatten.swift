import Foundation
import SinkCore

extension OTLPAnyValue {
    /// The value as a flat attribute: arrays, maps and bytes become their JSON / hex text.
    /// Text longer than `maxLength` UTF-8 bytes is cut (with a marker) so that one huge attribute
    /// cannot bloat the store.
    package func flattened(maxLength: Int) -> AttributeValue? {
        attributeValue?.truncated(toUTF8Length: maxLength)
    }

    /// The value as a flat attribute, not cut: arrays, maps and bytes as their JSON / hex text.
    /// Its ``AttributeValue/text`` is ``text``.
    package var attributeValue: AttributeValue? {
        switch value {
        case .stringValue(let string): .string(string)
        case .boolValue(let bool): .bool(bool)
        case .intValue(let int): .int(int)
        case .doubleValue(let double): .double(double)
        case .bytesValue(let bytes): .string(bytes.hexString)
        case .arrayValue, .kvlistValue: .string(jsonText)
        case nil: nil
        }
    }

    /// The value as text (strings as they are, anything else as JSON).
    package var text: String? {
        switch value {
        case .stringValue(let string): string
        case .boolValue(let bool): bool ? "true" : "false"
        case .intValue(let int): String(int)
        case .doubleValue(let double): String(double)
        case .bytesValue(let bytes): bytes.hexString
        case .arrayValue, .kvlistValue: jsonText
        case nil: nil
        }
    }

    private var jsonText: String {
        var writer = JSONText()
        write(to: &writer)
        return writer.text
    }

    private func write(to writer: inout JSONText) {
        switch value {
        case .stringValue(let string): writer.string(string)
        case .boolValue(let bool): writer.bool(bool)
        case .intValue(let int): writer.integer(int)
        case .doubleValue(let double): writer.number(double)
        case .bytesValue(let bytes): writer.string(bytes.hexString)
        case .arrayValue(let array):
            writer.beginArray()
            for element in array.values { element.write(to: &writer) }
            writer.endArray()
        case .kvlistValue(let list):
            writer.beginObject()
            for pair in list.values {
                writer.key(pair.key)
                pair.value.write(to: &writer)
            }
            writer.endObject()
        case nil: writer.null()
        }
    }
}

extension AttributeValue {
    /// Text cut to at most `limit` UTF-8 bytes (``Swift/String/truncated(toUTF8Length:)``); other values as they are.
    package func truncated(toUTF8Length limit: Int) -> AttributeValue {
        if case .string(let string) = self, string.utf8.count > limit { return .string(string.truncated(toUTF8Length: limit)) }
        return self
    }
}

extension Data {
    /// Lower-case hex, as OTLP/JSON writes ids.
    package var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// The string cut to at most `limit` UTF-8 bytes on a character boundary, with `…[truncated]`.
    package func truncated(toUTF8Length limit: Int) -> String {
        guard utf8.count > limit else { return self }
        var end = utf8.index(utf8.startIndex, offsetBy: limit)
        while end > utf8.startIndex, !(String.Index(end, within: self) != nil) { end = utf8.index(before: end) }
        return String(self[..<end]) + "…[truncated]"
    }
}
