#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftProtobuf

/// A cursor over protobuf wire-format bytes for ``OTLPLogsWireDecoder``: tags, varints, fixed-width
/// numbers, length-delimited bodies, strings and the skipping of fields the decoder does not read.
///
/// Each read mirrors the corresponding private function of swift-protobuf's `BinaryDecoder`
/// (1.39, `Sources/SwiftProtobuf/BinaryDecoder.swift`), including which ``BinaryDecodingError``
/// it throws in which order, so the hand-written decoder accepts and rejects exactly what
/// `Message(serializedBytes:)` does. The caller passes the end of the enclosing message (`end`);
/// reads never move past it, so a nested message's fields cannot run into its parent's.
struct ProtobufWireReader {
    /// The next byte to read.
    var p: UnsafeRawPointer
    /// Messages (and skipped groups) that may still be entered: swift-protobuf's `recursionBudget`,
    /// starting at `BinaryDecodingOptions().messageDepthLimit`.
    var depthBudget: Int
    /// Strings of this request made before, shared when they come again.
    private var recentStrings = RecentStrings()

    init(_ start: UnsafeRawPointer, depthLimit: Int) {
        p = start
        depthBudget = depthLimit
    }

    // MARK: Depth

    /// Entering a message or a skipped group (`incrementRecursionDepth`).
    @inline(__always)
    mutating func enter() throws(BinaryDecodingError) {
        depthBudget &-= 1
        if depthBudget < 0 { throw .messageDepthLimit }
    }

    @inline(__always)
    mutating func leave() {
        depthBudget &+= 1
    }

    // MARK: Tags

    /// The next field's tag, `fieldNumber << 3 | wireType`, as `BinaryDecoder.nextFieldNumber()`
    /// reads it: at most 5 bytes (the fifth ≤ 15), a wire type 0, 1, 2, 3 or 5 and a field
    /// number > 0, or `malformedProtobuf`. An end-group tag is malformed too: the logs request has
    /// no group fields, so one can only end a group that was never started (skipped groups read
    /// their end in ``skipGroup(fieldNumber:end:)``). Call only when `p < end`.
    @inline(__always)
    mutating func readTag(end: UnsafeRawPointer) throws(BinaryDecodingError) -> UInt32 {
        let c0 = p.load(as: UInt8.self)
        if c0 & 0x80 == 0 {
            p += 1
            // Wire types 4 (end group), 6 and 7; field number 0.
            if (0b1101_0000 &>> (c0 & 7)) & 1 != 0 || c0 < 8 { throw .malformedProtobuf }
            return UInt32(c0)
        }
        return try readLongTag(first: c0, end: end)
    }

    @inline(never)
    private mutating func readLongTag(first c0: UInt8, end: UnsafeRawPointer) throws(BinaryDecodingError) -> UInt32 {
        let wireType = c0 & 7
        if wireType == 4 || wireType >= 6 { throw .malformedProtobuf }
        let available = end - p
        var tag = UInt32(c0 & 0x7F)
        var index = 1
        while true {
            if available <= index { throw .malformedProtobuf }
            let c = p.load(fromByteOffset: index, as: UInt8.self)
            if index == 4 {
                if c > 15 { throw .malformedProtobuf }
                tag |= UInt32(c) &<< 28
                index += 1
                break
            }
            tag |= UInt32(c & 0x7F) &<< UInt32(7 * index)
            index += 1
            if c & 0x80 == 0 { break }
        }
        p += index
        if tag < 8 { throw .malformedProtobuf }
        return tag
    }

    // MARK: Scalars

    /// `BinaryDecoder.decodeVarint()`: `truncated` at the end of the input, `malformedProtobuf` for
    /// a varint the input ends in or one longer than 10 bytes (bits past 64 are dropped).
    @inline(__always)
    mutating func readVarint(end: UnsafeRawPointer) throws(BinaryDecodingError) -> UInt64 {
        if p >= end { throw .truncated }
        let c0 = p.load(as: UInt8.self)
        if c0 & 0x80 == 0 {
            p += 1
            return UInt64(c0)
        }
        return try readLongVarint(end: end)
    }

    @inline(never)
    private mutating func readLongVarint(end: UnsafeRawPointer) throws(BinaryDecodingError) -> UInt64 {
        var q = p
        var value = UInt64(q.load(as: UInt8.self) & 0x7F)
        q += 1
        var shift: UInt64 = 7
        while true {
            if q >= end || shift > 63 { throw .malformedProtobuf }
            let c = q.load(as: UInt8.self)
            q += 1
            value |= UInt64(c & 0x7F) &<< shift
            if c & 0x80 == 0 {
                p = q
                return value
            }
            shift &+= 7
        }
    }

    @inline(__always)
    mutating func readFixed64(end: UnsafeRawPointer) throws(BinaryDecodingError) -> UInt64 {
        guard end - p >= 8 else { throw .truncated }
        let value = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        p += 8
        return value
    }

    @inline(__always)
    mutating func readFixed32(end: UnsafeRawPointer) throws(BinaryDecodingError) -> UInt32 {
        guard end - p >= 4 else { throw .truncated }
        let value = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))
        p += 4
        return value
    }

    // MARK: Length-delimited

    /// The body length of a length-delimited field the decoder reads (`getFieldBodyBytes`):
    /// `malformedProtobuf` from 2 GiB − 1 on, `truncated` past `end`. Leaves `p` at the body.
    @inline(__always)
    mutating func readLength(end: UnsafeRawPointer) throws(BinaryDecodingError) -> Int {
        let length = try readVarint(end: end)
        guard length < 0x7FFF_FFFF else { throw .malformedProtobuf }
        guard length <= UInt64(end - p) else { throw .truncated }
        return Int(truncatingIfNeeded: length)
    }

    /// A string field: its bytes must be valid UTF-8 (`invalidUTF8` otherwise). Texts the request
    /// repeats come from ``RecentStrings``.
    ///
    /// `String._tryFromUTF8` is the validating UTF-8 path `String(validating:as: UTF8.self)` ends
    /// in; called directly, it skips that initializer's unspecialized generic `String._validate`
    /// (a generic metadata lookup per string). It is public ABI (the standard library's inlinable
    /// initializers call it).
    @inline(__always)
    mutating func readString(end: UnsafeRawPointer) throws(BinaryDecodingError) -> String {
        let count = try readLength(end: end)
        if count == 0 { return String() }
        if count >= RecentStrings.minimumLength, count <= RecentStrings.maximumLength {
            guard let string = recentStrings.string(at: p, count: count) else { throw .invalidUTF8 }
            p += count
            return string
        }
        let bytes = UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: count)
        guard let string = String._tryFromUTF8(bytes) else { throw .invalidUTF8 }
        p += count
        return string
    }

    @inline(__always)
    mutating func readBytes(end: UnsafeRawPointer) throws(BinaryDecodingError) -> Data {
        let count = try readLength(end: end)
        let data = Data(bytes: p, count: count)
        p += count
        return data
    }

    // MARK: Counting

    /// How many fields with `tag` follow, up to `end`, for reserving an array's capacity. Reads
    /// tags and lengths only and gives up (returning what it counted) at anything unusual: the
    /// decoding loop that follows reports any error.
    @inline(__always)
    func count(tag: UInt32, end: UnsafeRawPointer) -> Int {
        var q = p
        var count = 0
        while end - q >= 2 {
            let t = q.load(as: UInt8.self)
            guard t & 0x80 == 0 else { break }
            q += 1
            switch t & 7 {
            case 0:
                while q < end, q.load(as: UInt8.self) & 0x80 != 0 { q += 1 }
                q += 1
            case 1: q += 8
            case 2:
                var length = Int(q.load(as: UInt8.self))
                q += 1
                if length & 0x80 != 0 {
                    guard q < end else { return count }
                    let c1 = q.load(as: UInt8.self)
                    guard c1 & 0x80 == 0 else { return count }
                    length = length & 0x7F | Int(c1) &<< 7
                    q += 1
                }
                q += length
            case 5: q += 4
            default: return count
            }
            if UInt32(t) == tag { count &+= 1 }
        }
        return count
    }

    // MARK: Skipping

    /// Skips the value of a field the decoder does not read: an unknown field number, or a known
    /// one with another wire type (swift-protobuf keeps both as unknown fields). As
    /// `BinaryDecoder.skipOver(tag:)`: no 2 GiB limit on a skipped length, and a group counts
    /// against the depth limit.
    mutating func skipField(tag: UInt32, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        switch tag & 7 {
        case 0: _ = try readVarint(end: end)
        case 1:
            guard end - p >= 8 else { throw .truncated }
            p += 8
        case 2:
            let length = try readVarint(end: end)
            guard length <= UInt64(end - p) else { throw .truncated }
            p += Int(length)
        case 3: try skipGroup(fieldNumber: tag &>> 3, end: end)
        case 5:
            guard end - p >= 4 else { throw .truncated }
            p += 4
        default: throw .truncated  // end group (4); 6 and 7 never get here (readTag rejects them)
        }
    }

    /// The fields of a group up to its end-group tag. Inside a group swift-protobuf reads tags as
    /// plain varints (`getTagWithoutUpdatingFieldStart`): up to 10 bytes, below `UInt32.max`.
    private mutating func skipGroup(fieldNumber: UInt32, end: UnsafeRawPointer) throws(BinaryDecodingError) {
        try enter()
        while true {
            if p >= end { throw .truncated }
            let raw = try readVarint(end: end)
            guard raw < UInt64(UInt32.max) else { throw .malformedProtobuf }
            let tag = UInt32(truncatingIfNeeded: raw)
            let wireType = tag & 7
            guard tag & ~7 != 0, wireType < 6 else { throw .malformedProtobuf }
            if wireType == 4 {
                guard tag &>> 3 == fieldNumber else { throw .malformedProtobuf }
                leave()
                return
            }
            try skipField(tag: tag, end: end)
        }
    }
}
