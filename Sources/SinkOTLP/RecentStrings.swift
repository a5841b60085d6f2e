#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The strings one request's decoding made last, so a text the request repeats is made once and
/// then shared: attribute keys on every record, a session's id, user and organization on each of
/// its records, the event name in every body. Each such string would otherwise be a new heap
/// allocation to fill, validate as UTF-8 and free again.
///
/// A small direct-mapped cache: a text's length and its first and last 8 bytes pick one of
/// ``slotCount`` slots; a slot holding the same bytes answers, anything else is replaced. Only
/// texts from ``minimumLength`` to ``maximumLength`` bytes go through it: shorter ones fit inside
/// a `String` (no allocation to save), longer ones rarely repeat.
struct RecentStrings {
    /// Swift keeps UTF-8 strings of up to 15 bytes inline.
    static let minimumLength = 16
    static let maximumLength = 128
    static let slotCount = 128

    private var slots: [String]

    init() {
        slots = Array(repeating: "", count: Self.slotCount)
    }

    /// The string of `count` bytes at `start` (`minimumLength...maximumLength`); nil if they are
    /// not valid UTF-8.
    @inline(__always)
    mutating func string(at start: UnsafeRawPointer, count: Int) -> String? {
        let first = start.loadUnaligned(as: UInt64.self)
        let last = (start + (count - 8)).loadUnaligned(as: UInt64.self)
        var hash = (first ^ UInt64(truncatingIfNeeded: count)) &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ last) &* 0x9E37_79B9_7F4A_7C15
        let index = Int(truncatingIfNeeded: hash &>> 57)  // 7 bits: slotCount
        let cached = slots[index]
        if cached.utf8.count == count,
            cached.utf8.withContiguousStorageIfAvailable({ memcmp($0.baseAddress!, start, count) == 0 }) == true
        {
            return cached
        }
        guard let made = String._tryFromUTF8(UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count))
        else { return nil }
        slots[index] = made
        return made
    }
}
