import Foundation

/// 64-bit FNV-1a: a stable hash (unlike `Hasher`, the same in every process) for deduplication
/// keys and metric series keys, which outlive the process in the store.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        value ^= 0xff
        value &*= 0x0000_0100_0000_01b3
    }

    mutating func combine(_ string: String) {
        var copy = string
        copy.withUTF8 { combine($0) }
    }

    mutating func combine(_ number: UInt64) {
        withUnsafeBytes(of: number.littleEndian) { combine($0) }
    }

    mutating func combine(_ data: Data) {
        data.withUnsafeBytes { combine($0) }
    }
}
