import ObservatoryControl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall and monotonic time from the C library, without Foundation (the hook path stays small):
/// the hook bridge's names for ``ControlTime``'s readings.
package enum Clock {
    /// Now, in Unix nanoseconds (exact: OTLP timestamps).
    package static func unixNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// A monotonic reading in nanoseconds, for deadlines.
    package static func monotonicNanos() -> UInt64 {
        ControlTime.monotonicNanos()
    }

    /// Milliseconds left until `deadline` (a ``monotonicNanos()`` value), at least 0.
    package static func millisecondsLeft(until deadline: UInt64) -> Int32 {
        ControlTime.millisecondsLeft(until: deadline)
    }
}
