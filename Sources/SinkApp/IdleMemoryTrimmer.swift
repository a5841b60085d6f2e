#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import SinkCore

/// Gives the memory a burst of ingest used back to the system once the sink is quiet again.
///
/// glibc's allocator keeps freed memory in its arenas: after a burst of 50,000 records/s the heap
/// stayed at ~90 MB while the sink idled, although almost all of it was free. `malloc_trim(0)`
/// returns it; ``IdleTrimPolicy`` calls for it once per quiet spell, so a busy sink never pays for it.
struct IdleMemoryTrimmer: Service {
    let metrics: SinkMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        metrics.describe("observatory_memory_trims_total", help: "Times freed memory was given back to the system after ingest went quiet.")
        guard let trim = Self.mallocTrim else {
            // Nothing to call on this C library: stay until shutdown, as every service does.
            try await gracefulShutdown()
            return
        }
        var policy = IdleTrimPolicy()
        _ = policy.observe(workDone: workDone)
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            guard policy.observe(workDone: workDone) else { continue }
            _ = trim(0)
            metrics.add(to: .init("observatory_memory_trims_total"))
            logger.debug("gave freed memory back to the system")
        }
    }

    /// glibc's `int malloc_trim(size_t pad)` (in `<malloc.h>`, which Swift's Glibc module does not
    /// export); `nil` on a C library without it, and then the trimmer does nothing.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    private var workDone: Double {
        metrics.value(of: .init("observatory_events_stored_total"))
    }
}
