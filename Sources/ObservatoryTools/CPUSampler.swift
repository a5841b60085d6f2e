/// CPU and memory of a set of processes between two /proc snapshots: CPU as a percentage of one
/// core (200 = two cores busy), RSS summed.
package struct CPUSampler: Sendable {
    /// CPU ticks per pid at the last sample.
    private var previousTicks: [Int32: UInt64] = [:]
    private var previousTime: UInt64?
    package let ticksPerSecond: Double
    package let pageSize: Int64

    package init(ticksPerSecond: Double, pageSize: Int64) {
        self.ticksPerSecond = ticksPerSecond
        self.pageSize = pageSize
    }

    /// One reading.
    package struct Reading: Sendable, Equatable {
        package var cpuPercent: Double
        package var rssBytes: Int64
        package var processes: Int
    }

    /// Takes a sample of `processes` at monotonic time `now` (ns). The first call only sets the
    /// baseline (CPU 0). A process that appeared since the last sample counts with all its ticks;
    /// one that went away counts nothing (its last interval is lost, as with `top`).
    package mutating func sample(_ processes: [ProcStat], now: UInt64) -> Reading {
        var deltaTicks: UInt64 = 0
        var rss: Int64 = 0
        var ticks: [Int32: UInt64] = [:]
        for p in processes {
            ticks[p.pid] = p.cpuTicks
            rss += max(0, p.rssPages) * pageSize
            if previousTime != nil {
                let before = previousTicks[p.pid] ?? 0
                if p.cpuTicks > before { deltaTicks += p.cpuTicks - before }
            }
        }
        var cpu = 0.0
        if let previousTime, now > previousTime {
            let seconds = Double(now - previousTime) / 1e9
            cpu = Double(deltaTicks) / ticksPerSecond / seconds * 100
        }
        previousTicks = ticks
        previousTime = now
        return Reading(cpuPercent: cpu, rssBytes: rss, processes: processes.count)
    }
}
