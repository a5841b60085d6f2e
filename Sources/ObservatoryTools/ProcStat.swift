/// The fields of `/proc/<pid>/stat` the wrapper and the helper use (proc(5)).
package struct ProcStat: Sendable, Equatable {
    package var pid: Int32
    /// The command name (`comm`, at most 15 bytes, may contain spaces and parentheses).
    package var comm: String
    /// Process state letter (`R`, `S`, `Z`…).
    package var state: Character
    package var ppid: Int32
    package var pgrp: Int32
    /// User and system CPU time, clock ticks.
    package var utime: UInt64
    package var stime: UInt64
    /// Start time after boot, clock ticks.
    package var startTime: UInt64
    /// Resident set size, pages.
    package var rssPages: Int64

    package init(
        pid: Int32, comm: String, state: Character, ppid: Int32, pgrp: Int32, utime: UInt64, stime: UInt64,
        startTime: UInt64, rssPages: Int64
    ) {
        self.pid = pid
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.pgrp = pgrp
        self.utime = utime
        self.stime = stime
        self.startTime = startTime
        self.rssPages = rssPages
    }

    /// Parses the content of a stat file; nil if it is not one. The command name is everything
    /// between the first `(` and the last `)`.
    package init?(text: String) {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")), let close = bytes.lastIndex(of: UInt8(ascii: ")")),
            open < close, let pid = Int32(String(decoding: bytes[..<open], as: UTF8.self).trimmingSpaces)
        else { return nil }
        let comm = String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        // Fields after the name, numbered from 3 (state) as in proc(5).
        let rest = String(decoding: bytes[(close + 1)...], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        guard rest.count >= 22, let state = rest[0].first, let ppid = Int32(rest[1]), let pgrp = Int32(rest[2]),
            let utime = UInt64(rest[11]), let stime = UInt64(rest[12]), let start = UInt64(rest[19]),
            let rss = Int64(rest[21])
        else { return nil }
        self.init(pid: pid, comm: comm, state: state, ppid: ppid, pgrp: pgrp, utime: utime, stime: stime, startTime: start, rssPages: rss)
    }

    /// CPU time used, ticks.
    package var cpuTicks: UInt64 { utime &+ stime }
}
