/// Splits a byte stream into newline-terminated lines, holding at most ``maxLineBytes`` of an
/// unfinished line. A longer line is an error: the protocol's lines are small, and a peer that
/// sends more is broken or hostile.
package struct LineFramer: Sendable {
    /// The protocol's line limit: 64 KiB, newline excluded.
    package static let defaultMaxLineBytes = 64 * 1024

    package let maxLineBytes: Int
    private var pending: [UInt8] = []

    /// The line being collected exceeded the limit.
    package struct Overflow: Error, Sendable, Equatable {}

    package init(maxLineBytes: Int = LineFramer.defaultMaxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes of an unfinished line held.
    package var bufferedCount: Int { pending.count }

    /// Feeds `bytes`; returns the complete lines in them (without the newline; a trailing `\r`
    /// is dropped too). Throws once an unfinished line grows beyond the limit; the framer is then
    /// unusable (the connection should be closed).
    package mutating func feed(_ bytes: some Collection<UInt8>) throws(Overflow) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == 0x0A {
                if pending.last == 0x0D { pending.removeLast() }
                lines.append(pending)
                pending.removeAll(keepingCapacity: true)
            } else {
                guard pending.count < maxLineBytes else { throw Overflow() }
                pending.append(byte)
            }
        }
        return lines
    }
}
