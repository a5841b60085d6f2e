import Foundation

/// A session's state in a compact binary form, for the store: a cold start decodes 10,000 sessions
/// in a few milliseconds, where Foundation's `JSONDecoder` took ~20 µs each (most of a start).
///
/// Layout (little-endian): the format byte ``SessionStateCoding/formatVersion``, then each type's
/// fields in declaration order. Strings and enum raw values are a length (LEB128) and UTF-8
/// bytes; `Double`s their IEEE 754 bit pattern (exact); integers zig-zag LEB128; optionals a
/// presence byte; dictionaries a count and their pairs sorted by key (the same state always
/// gives the same bytes). Enums are stored by raw value, so adding a case never shifts others.
package enum SessionStateCoding {
    /// First byte of every encoded state. JSON (the earlier format) starts with `{`.
    package static let formatVersion: UInt8 = 1

    package struct DecodingError: Error, CustomStringConvertible {
        package var description: String

        package init(description: String) {
            self.description = description
        }
    }

    /// Appends binary state.
    package struct Writer {
        package private(set) var bytes: [UInt8] = []

        package init() {
            bytes.reserveCapacity(192)
        }

        package mutating func byte(_ value: UInt8) { bytes.append(value) }

        package mutating func unsigned(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        package mutating func integer(_ value: Int) {
            let wide = Int64(value)
            unsigned(UInt64(bitPattern: (wide << 1) ^ (wide >> 63)))
        }

        package mutating func double(_ value: Double) {
            var bits = value.bitPattern
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
            }
        }

        package mutating func date(_ value: Date) { double(value.timeIntervalSinceReferenceDate) }

        package mutating func string(_ value: String) {
            var value = value
            value.withUTF8 { utf8 in
                unsigned(UInt64(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }

        package mutating func optional<T>(_ value: T?, _ write: (inout Writer, T) -> Void) {
            guard let value else { return byte(0) }
            byte(1)
            write(&self, value)
        }
    }

    /// Reads binary state; every read checks the bounds and throws on malformed input.
    package struct Reader {
        private let bytes: [UInt8]
        private var offset = 0

        package init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        package var isAtEnd: Bool { offset == bytes.count }

        package mutating func byte() throws(DecodingError) -> UInt8 {
            guard offset < bytes.count else { throw DecodingError(description: "session state truncated at byte \(offset)") }
            defer { offset += 1 }
            return bytes[offset]
        }

        package mutating func unsigned() throws(DecodingError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 64 else { throw DecodingError(description: "session state has an over-long integer") }
                result |= UInt64(next & 0x7F) << shift
                if next < 0x80 { return result }
                shift += 7
            }
        }

        package mutating func integer() throws(DecodingError) -> Int {
            let raw = try unsigned()
            let value = Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
            guard let result = Int(exactly: value) else { throw DecodingError(description: "session state integer out of range") }
            return result
        }

        package mutating func double() throws(DecodingError) -> Double {
            guard bytes.count - offset >= 8 else { throw DecodingError(description: "session state truncated at byte \(offset)") }
            var bits: UInt64 = 0
            for index in (0..<8).reversed() { bits = bits << 8 | UInt64(bytes[offset + index]) }
            offset += 8
            return Double(bitPattern: bits)
        }

        package mutating func date() throws(DecodingError) -> Date {
            Date(timeIntervalSinceReferenceDate: try double())
        }

        package mutating func string() throws(DecodingError) -> String {
            let length = try unsigned()
            guard length <= UInt64(bytes.count - offset) else {
                throw DecodingError(description: "session state string of \(length) bytes runs past the end")
            }
            let end = offset + Int(length)
            guard let value = String(validating: bytes[offset..<end], as: UTF8.self) else {
                throw DecodingError(description: "session state string is not UTF-8")
            }
            offset = end
            return value
        }

        package mutating func count() throws(DecodingError) -> Int {
            let value = try unsigned()
            // Every element takes at least one byte: a larger count is corrupt, not a huge allocation.
            guard value <= UInt64(bytes.count - offset) else { throw DecodingError(description: "session state count \(value) is too large") }
            return Int(value)
        }

        package mutating func rawValue<T: RawRepresentable>(_ type: T.Type) throws(DecodingError) -> T where T.RawValue == String {
            let raw = try string()
            guard let value = T(rawValue: raw) else { throw DecodingError(description: "session state has an unknown \(T.self) '\(raw)'") }
            return value
        }

        package mutating func optional<T>(_ read: (inout Reader) throws(DecodingError) -> T) throws(DecodingError) -> T? {
            switch try byte() {
            case 0: return nil
            case 1: return try read(&self)
            case let other: throw DecodingError(description: "session state has an invalid presence byte \(other)")
            }
        }
    }
}

extension Session {
    /// The session in the binary state format (``SessionStateCoding``).
    package var binaryState: [UInt8] {
        var writer = SessionStateCoding.Writer()
        writer.byte(SessionStateCoding.formatVersion)
        write(to: &writer)
        return writer.bytes
    }

    /// Decodes ``binaryState``.
    package init(binaryState: [UInt8]) throws(SessionStateCoding.DecodingError) {
        var reader = SessionStateCoding.Reader(binaryState)
        let version = try reader.byte()
        guard version == SessionStateCoding.formatVersion else {
            throw SessionStateCoding.DecodingError(description: "unknown session state format \(version)")
        }
        try self.init(reading: &reader)
        guard reader.isAtEnd else { throw SessionStateCoding.DecodingError(description: "session state has trailing bytes") }
    }
}
