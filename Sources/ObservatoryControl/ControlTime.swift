#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic and wall time from the C library, for the control path's deadlines. (Named apart
/// from the standard library's `Clock` so that modules importing this one see no ambiguity.)
package enum ControlTime {
    /// A monotonic reading in nanoseconds.
    package static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Now, in Unix seconds (with fractions).
    package static func unixSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The monotonic deadline `seconds` from now (negative or NaN count as 0, capped at a day).
    package static func deadline(after seconds: Double) -> UInt64 {
        let clamped = seconds.isFinite ? min(max(seconds, 0), 86_400) : 0
        return monotonicNanos() + UInt64(clamped * 1e9)
    }

    /// Milliseconds left until `deadline` (a ``monotonicNanos()`` value), rounded up, at least 0.
    package static func millisecondsLeft(until deadline: UInt64) -> Int32 {
        let now = monotonicNanos()
        guard deadline > now else { return 0 }
        return Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }
}
