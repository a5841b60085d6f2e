import ObservatoryControl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock times as ISO 8601 text in UTC (`2026-11-26T12:18:24.123Z`), without Foundation.
package enum UTCTime {
    /// Seconds since 1970 now.
    package static func now() -> Double {
        ControlTime.unixSeconds()
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for seconds since 1970.
    package static func iso8601(_ secondsSince1970: Double) -> String {
        let whole = secondsSince1970.rounded(.down)
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = min(999, max(0, Int(((secondsSince1970 - whole) * 1000).rounded(.down))))
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "." + pad(Int32(millis), 3) + "Z"
    }
}
